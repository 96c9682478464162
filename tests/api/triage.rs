//! Triage: the queue, one referral's lifecycle, threads, assignment, SLA, audit, figures, and
//! the authorization matrix over every operation of the contract.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::http::Method;
use futures_util::future::join_all;
use serde_json::{Value, json};

use guichet::domain::taxonomy::Role;

use crate::support::{Response, TestApp};

pub(crate) fn inquiry(preferred: &[&str], title: &str) -> Value {
    json!({
        "submitter": {"organization": "Helios Therapeutics", "organization_type": "biotech", "name": "Dr Anna Keller", "email": "anna@helios.example", "country": "DE"},
        "inquiry_type": "clinical_trial",
        "title": title,
        "summary": "First-in-human trial of a PSMA radioligand.",
        "therapeutic_areas": ["prostate"],
        "modalities": ["radiopharmaceutical"],
        "stage": "phase_1",
        "preferred_institutions": preferred,
        "non_confidential": true
    })
}

pub(crate) struct Submitted {
    pub id: String,
    pub token: String,
    pub referrals: BTreeMap<String, String>,
}

pub(crate) async fn submit(app: &TestApp, preferred: &[&str], title: &str) -> Submitted {
    let res = app
        .post("/v1/inquiries")
        .json(inquiry(preferred, title))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    Submitted {
        id: res.body["id"].as_str().unwrap().to_owned(),
        token: res.body["tracking_token"].as_str().unwrap().to_owned(),
        referrals: res.body["referrals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["institution"]["id"].as_str().unwrap().to_owned(),
                    r["id"].as_str().unwrap().to_owned(),
                )
            })
            .collect(),
    }
}

pub(crate) async fn transition(
    app: &TestApp,
    token: &str,
    id: &str,
    etag: &str,
    body: Value,
) -> Response {
    app.post(&format!("/v1/referrals/{id}/transitions"))
        .token(token)
        .header("If-Match", etag)
        .json(body)
        .send()
        .await
}

pub(crate) async fn etag(app: &TestApp, token: &str, id: &str) -> String {
    let res = app
        .get(&format!("/v1/referrals/{id}"))
        .token(token)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.header("etag").unwrap()
}

/// new → acknowledged → in_review; returns the ETag after.
pub(crate) async fn start_review(app: &TestApp, token: &str, id: &str) -> String {
    let res = transition(app, token, id, "\"1\"", json!({"to": "acknowledged"})).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let res = transition(app, token, id, "\"2\"", json!({"to": "in_review"})).await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.header("etag").unwrap()
}

#[actix_web::test]
async fn the_queue_holds_only_the_institutions_own_referrals() {
    let app = TestApp::new().await;
    let curie = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let op = app.operator().await;
    submit(&app, &["curie"], "For Curie").await;
    submit(&app, &["aphp"], "For AP-HP").await;
    let page = app.get("/v1/referrals").token(&curie).send().await;
    assert_eq!(page.status, 200, "{}", page.body);
    let items = page.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["institution"]["id"], "curie");
    assert_eq!(items[0]["title"], "For Curie");
    assert_eq!(items[0]["overdue"], false);
    assert!(items[0]["reference"].as_str().unwrap().starts_with("GU-"));
    let all = app.get("/v1/referrals").token(&op).send().await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 2);
    let only = app
        .get("/v1/referrals?institution=aphp")
        .token(&op)
        .send()
        .await;
    assert_eq!(only.body["items"][0]["title"], "For AP-HP");
    app.get("/v1/referrals?institution=aphp")
        .token(&curie)
        .send()
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn queue_filters_select_what_they_say() {
    let app = TestApp::new().await;
    let curie = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let a = submit(&app, &["curie"], "Lutetium radioligand").await;
    submit(&app, &["curie"], "Another trial").await;
    let titles = |r: &Response| -> Vec<String> {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let r = app
        .get("/v1/referrals?q=LUTETIUM")
        .token(&curie)
        .send()
        .await;
    assert_eq!(titles(&r), vec!["Lutetium radioligand"]);
    let r = app.get("/v1/referrals?q=helios").token(&curie).send().await;
    assert_eq!(titles(&r).len(), 2, "organization is searched");
    let r = app.get("/v1/referrals?q=100%25").token(&curie).send().await;
    assert_eq!(titles(&r).len(), 0, "% matches itself");
    let id = &a.referrals["curie"];
    let tag = etag(&app, &curie, id).await;
    transition(&app, &curie, id, &tag, json!({"to": "acknowledged"})).await;
    let r = app
        .get("/v1/referrals?status=acknowledged")
        .token(&curie)
        .send()
        .await;
    assert_eq!(titles(&r), vec!["Lutetium radioligand"]);
    let r = app
        .get("/v1/referrals?status=new,acknowledged")
        .token(&curie)
        .send()
        .await;
    assert_eq!(titles(&r).len(), 2);
    let r = app
        .get("/v1/referrals?therapeutic_area=breast")
        .token(&curie)
        .send()
        .await;
    assert_eq!(titles(&r).len(), 0);
    let r = app.get("/v1/referrals?therapeutic_area=prostate&modality=radiopharmaceutical&inquiry_type=clinical_trial").token(&curie).send().await;
    assert_eq!(titles(&r).len(), 2);
    let r = app
        .get("/v1/referrals?sort=newest")
        .token(&curie)
        .send()
        .await;
    assert_eq!(titles(&r), vec!["Another trial", "Lutetium radioligand"]);
    let r = app
        .get("/v1/referrals?created_after=2020-01-01T00:00:00Z&created_before=2999-01-01T00:00:00Z")
        .token(&curie)
        .send()
        .await;
    assert_eq!(titles(&r).len(), 2);
    let r = app
        .get("/v1/referrals?created_after=2999-01-01T00:00:00Z")
        .token(&curie)
        .send()
        .await;
    assert_eq!(titles(&r).len(), 0);
    let r = app
        .get("/v1/referrals?created_before=2020-01-01T00:00:00Z")
        .token(&curie)
        .send()
        .await;
    assert_eq!(titles(&r).len(), 0);
    app.get("/v1/referrals?created_after=yesterday")
        .token(&curie)
        .send()
        .await
        .assert_problem(400, "invalid_query");
    app.get("/v1/referrals?status=open")
        .token(&curie)
        .send()
        .await
        .assert_problem(400, "invalid_status");
    app.get("/v1/referrals?sort=random")
        .token(&curie)
        .send()
        .await
        .assert_problem(400, "invalid_query");
    app.get("/v1/referrals?assigned=bob")
        .token(&curie)
        .send()
        .await
        .assert_problem(400, "invalid_assigned");
    app.get("/v1/referrals?cursor=xyz")
        .token(&curie)
        .send()
        .await
        .assert_problem(400, "invalid_cursor");

    // Overdue: move the due date into the past.
    let id = a.referrals["curie"].clone();
    let b_id = app
        .get("/v1/referrals?status=new")
        .token(&curie)
        .send()
        .await
        .body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.g.db.run(move |conn| {
        use diesel::prelude::*;
        diesel::sql_query(format!("UPDATE referrals SET first_response_due_at = '2020-01-01 00:00:00' WHERE id IN ('{id}', '{b_id}')"))
            .execute(conn)?;
        Ok(())
    }).await.unwrap();
    let r = app
        .get("/v1/referrals?overdue=true")
        .token(&curie)
        .send()
        .await;
    assert_eq!(
        titles(&r),
        vec!["Another trial"],
        "the acknowledged one has responded"
    );
    let r = app
        .get("/v1/referrals?overdue=false")
        .token(&curie)
        .send()
        .await;
    assert_eq!(titles(&r), vec!["Lutetium radioligand"]);
    let s = app.get("/v1/referrals/summary").token(&curie).send().await;
    assert_eq!(s.body["overdue"], 1);
    assert_eq!(s.body["counts"]["new"], 1);
    assert_eq!(s.body["counts"]["acknowledged"], 1);
    assert_eq!(s.body["counts"]["declined"], 0);
}

#[actix_web::test]
async fn paging_neither_skips_nor_repeats_while_referrals_arrive() {
    let app = TestApp::new().await;
    let curie = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let mut expected = BTreeSet::new();
    for i in 0..7 {
        let s = submit(&app, &["curie"], &format!("Inquiry {i}")).await;
        expected.insert(s.referrals["curie"].clone());
    }
    for sort in ["due", "newest"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut round = 0;
        loop {
            let path = match &cursor {
                Some(c) => format!("/v1/referrals?limit=3&sort={sort}&cursor={c}"),
                None => format!("/v1/referrals?limit=3&sort={sort}"),
            };
            let page = app.get(&path).token(&curie).send().await;
            assert_eq!(page.status, 200, "{}", page.body);
            seen.extend(
                page.body["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["id"].as_str().unwrap().to_owned()),
            );
            // New referrals arrive between pages.
            submit(&app, &["curie"], &format!("Late {sort} {round}")).await;
            round += 1;
            match page.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        let unique: BTreeSet<String> = seen.iter().cloned().collect();
        assert_eq!(unique.len(), seen.len(), "{sort}: an item was repeated");
        assert!(expected.is_subset(&unique), "{sort}: an item was skipped");
    }
}

#[actix_web::test]
async fn a_cursor_is_refused_with_other_filters_than_those_that_made_it() {
    let app = TestApp::new().await;
    let curie = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    for i in 0..3 {
        submit(&app, &["curie"], &format!("Inquiry {i}")).await;
    }
    let page = app
        .get("/v1/referrals?limit=1&sort=newest&status=new")
        .token(&curie)
        .send()
        .await;
    let cursor = page.body["next_cursor"].as_str().unwrap().to_owned();
    let same = app
        .get(&format!(
            "/v1/referrals?limit=2&sort=newest&status=new&cursor={cursor}"
        ))
        .token(&curie)
        .send()
        .await;
    assert_eq!(
        same.status, 200,
        "a new limit keeps the cursor: {}",
        same.body
    );
    for other in [
        "sort=due&status=new",
        "sort=newest",
        "sort=newest&status=new&q=x",
    ] {
        app.get(&format!("/v1/referrals?limit=1&{other}&cursor={cursor}"))
            .token(&curie)
            .send()
            .await
            .assert_problem(400, "cursor_filters_changed");
    }
}

#[actix_web::test]
async fn a_referral_shows_its_inquiry_routing_and_only_the_names_of_other_institutions() {
    let app = TestApp::new().await;
    let curie = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let s = submit(&app, &["curie", "gustave-roussy"], "Shared").await;
    let gr_admin = app
        .staff("a@gr.fr", Role::InstitutionAdmin, Some("gustave-roussy"))
        .await;
    let gr_id = &s.referrals["gustave-roussy"];
    let tag = etag(&app, &gr_admin, gr_id).await;
    transition(&app, &gr_admin, gr_id, &tag, json!({"to": "acknowledged"})).await;
    app.post(&format!("/v1/referrals/{gr_id}/messages"))
        .token(&gr_admin)
        .json(json!({"body": "GR internal secret", "visibility": "internal"}))
        .send()
        .await;

    let res = app
        .get(&format!("/v1/referrals/{}", s.referrals["curie"]))
        .token(&curie)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(res.body["version"], 1);
    assert_eq!(res.body["status"], "new");
    assert_eq!(
        res.body["inquiry"]["submitter"]["email"],
        "anna@helios.example"
    );
    assert_eq!(res.body["other_institutions"], json!(["Gustave Roussy"]));
    assert_eq!(res.body["routing"]["preferred"], true);
    assert!(res.body["routing"]["profile_version"].as_i64().is_some());
    assert_eq!(res.body["allowed_transitions"], json!(["acknowledged"]));
    let text = res.body.to_string();
    assert!(
        !text.contains("GR internal secret") && !text.contains("acknowledged\",\"institution"),
        "{text}"
    );
    assert_eq!(res.body["sla"]["overdue"], false);
}

#[actix_web::test]
async fn the_lifecycle_is_enforced_with_if_match() {
    let app = TestApp::new().await;
    let curie = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let s = submit(&app, &["curie"], "Lifecycle").await;
    let id = &s.referrals["curie"];
    let res = app
        .post(&format!("/v1/referrals/{id}/transitions"))
        .token(&curie)
        .json(json!({"to": "acknowledged"}))
        .send()
        .await;
    res.assert_problem(428, "if_match_required");
    transition(&app, &curie, id, "\"7\"", json!({"to": "acknowledged"}))
        .await
        .assert_problem(412, "stale_version");
    let res = transition(
        &app,
        &curie,
        id,
        "\"1\"",
        json!({"to": "accepted", "message": "yes"}),
    )
    .await;
    res.assert_problem(409, "transition_not_allowed");
    assert!(
        res.body["detail"]
            .as_str()
            .unwrap()
            .ends_with("allowed: acknowledged.")
    );
    transition(&app, &curie, id, "\"1\"", json!({"to": "lost"}))
        .await
        .assert_problem(422, "validation_failed");
    let ok = transition(&app, &curie, id, "\"1\"", json!({"to": "acknowledged"})).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.header("etag").as_deref(), Some("\"2\""));
    assert!(
        ok.body["sla"]["first_responded_at"].is_string(),
        "leaving new is the first response"
    );
    transition(&app, &curie, id, "\"1\"", json!({"to": "in_review"}))
        .await
        .assert_problem(412, "stale_version");
    // If-Match compares strongly: a weak tag never matches.
    transition(&app, &curie, id, "W/\"2\"", json!({"to": "in_review"}))
        .await
        .assert_problem(412, "stale_version");
    let ok = transition(&app, &curie, id, "\"2\"", json!({"to": "in_review"})).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let res = transition(&app, &curie, id, "\"3\"", json!({"to": "declined"})).await;
    assert_eq!(
        res.field_errors(),
        vec![("/reason_code".into(), "required".into())]
    );
    let res = transition(
        &app,
        &curie,
        id,
        "\"3\"",
        json!({"to": "declined", "reason_code": "other"}),
    )
    .await;
    assert_eq!(
        res.field_errors(),
        vec![("/reason_text".into(), "required".into())]
    );
    let res = transition(
        &app,
        &curie,
        id,
        "\"3\"",
        json!({"to": "declined", "reason_code": "budget"}),
    )
    .await;
    assert_eq!(
        res.field_errors(),
        vec![("/reason_code".into(), "invalid_enum".into())]
    );
    let res = transition(&app, &curie, id, "\"3\"", json!({"to": "declined", "reason_code": "too_early_stage", "message": "Come back with phase 1 data."})).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["decision"]["reason"], "too_early_stage");
    assert_eq!(res.body["allowed_transitions"], json!([]));
    let seen = app
        .get(&format!("/v1/inquiries/{}", s.id))
        .header("X-Tracking-Token", &s.token)
        .send()
        .await;
    assert_eq!(seen.body["referrals"][0]["status"], "declined");
    assert_eq!(
        seen.body["referrals"][0]["messages"][0]["body"],
        "Come back with phase 1 data."
    );
    assert_eq!(seen.body["status"], "closed");
}

#[actix_web::test]
async fn information_requests_go_to_the_submitter_and_a_reply_resumes_the_review() {
    let app = TestApp::new().await;
    let curie = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let s = submit(&app, &["curie"], "Info").await;
    let id = &s.referrals["curie"];
    let tag = start_review(&app, &curie, id).await;
    let res = transition(&app, &curie, id, &tag, json!({"to": "info_requested"})).await;
    assert_eq!(
        res.field_errors(),
        vec![("/message".into(), "required".into())]
    );
    let res = transition(
        &app,
        &curie,
        id,
        &tag,
        json!({"to": "info_requested", "message": "Which dosimetry model?"}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["sla"]["paused"], true);
    let note = app
        .post(&format!("/v1/referrals/{id}/messages"))
        .token(&curie)
        .json(json!({"body": "Internal: check with the radiopharmacy", "visibility": "internal"}))
        .send()
        .await;
    assert_eq!(note.status, 201, "{}", note.body);
    let seen = app
        .get(&format!("/v1/inquiries/{}", s.id))
        .header("X-Tracking-Token", &s.token)
        .send()
        .await;
    assert_eq!(seen.body["status"], "info_requested");
    let text = seen.body.to_string();
    assert!(text.contains("Which dosimetry model?"));
    assert!(
        !text.contains("radiopharmacy"),
        "an internal note reached the submitter: {text}"
    );
    let reply = app
        .post(&format!("/v1/inquiries/{}/referrals/{id}/messages", s.id))
        .header("X-Tracking-Token", &s.token)
        .json(json!({"body": "MIRD, with SPECT/CT at 24 h."}))
        .send()
        .await;
    assert_eq!(reply.status, 201);
    let after = app
        .get(&format!("/v1/referrals/{id}"))
        .token(&curie)
        .send()
        .await;
    assert_eq!(after.body["status"], "in_review");
    assert_eq!(after.body["sla"]["paused"], false);
    let thread = app
        .get(&format!("/v1/referrals/{id}/messages"))
        .token(&curie)
        .send()
        .await;
    let bodies: Vec<&str> = thread.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        vec![
            "Which dosimetry model?",
            "Internal: check with the radiopharmacy",
            "MIRD, with SPECT/CT at 24 h."
        ]
    );
    let res = app
        .post(&format!("/v1/referrals/{id}/messages"))
        .token(&curie)
        .json(json!({"body": "x".repeat(10_001), "visibility": "public"}))
        .send()
        .await;
    assert_eq!(
        res.field_errors(),
        vec![
            ("/body".into(), "too_long".into()),
            ("/visibility".into(), "invalid_enum".into())
        ]
    );
}

#[actix_web::test]
async fn forwarding_creates_a_referral_the_submitter_and_the_target_see() {
    let app = TestApp::new().await;
    let curie = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let pasteur = app
        .staff("t@pasteur.fr", Role::Triager, Some("pasteur"))
        .await;
    let s = submit(&app, &["curie"], "Forward me").await;
    let id = &s.referrals["curie"];
    let tag = start_review(&app, &curie, id).await;
    let res = transition(
        &app,
        &curie,
        id,
        &tag,
        json!({"to": "forwarded", "forward_to": "curie", "reason_text": "x"}),
    )
    .await;
    assert_eq!(
        res.field_errors(),
        vec![("/forward_to".into(), "same_institution".into())]
    );
    let res = transition(
        &app,
        &curie,
        id,
        &tag,
        json!({"to": "forwarded", "forward_to": "mayo", "reason_text": "x"}),
    )
    .await;
    assert_eq!(
        res.field_errors(),
        vec![("/forward_to".into(), "unknown_institution".into())]
    );
    let res = transition(&app, &curie, id, &tag, json!({"to": "forwarded", "forward_to": "pasteur", "reason_text": "Their immunology platform fits better."})).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["decision"]["reason"], "pasteur");
    let queue = app.get("/v1/referrals").token(&pasteur).send().await;
    assert_eq!(queue.body["items"].as_array().unwrap().len(), 1);
    let seen = app
        .get(&format!("/v1/inquiries/{}", s.id))
        .header("X-Tracking-Token", &s.token)
        .send()
        .await;
    let statuses: BTreeMap<String, String> = seen.body["referrals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["institution"]["id"].as_str().unwrap().to_owned(),
                r["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(statuses.get("curie").map(String::as_str), Some("forwarded"));
    assert_eq!(statuses.get("pasteur").map(String::as_str), Some("new"));
    assert!(
        seen.body
            .to_string()
            .contains("Forwarded by Institut Curie")
    );
}

#[actix_web::test]
async fn reassignment_takes_an_active_contact_of_the_same_institution() {
    let app = TestApp::new().await;
    let admin = app
        .staff("a@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let op = app.operator().await;
    let mk = |inst: &'static str, email: &'static str| {
        let app = &app;
        let op = op.clone();
        async move {
            app.post(&format!("/v1/institutions/{inst}/contacts"))
                .token(&op)
                .json(json!({"name": email, "email": email}))
                .send()
                .await
                .body["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let active = mk("curie", "active@curie.fr").await;
    let inactive = mk("curie", "gone@curie.fr").await;
    let elsewhere = mk("aphp", "x@aphp.fr").await;
    app.patch(&format!("/v1/institutions/curie/contacts/{inactive}"))
        .token(&op)
        .json(json!({"active": false}))
        .send()
        .await;
    let s = submit(&app, &["curie"], "Assign").await;
    let id = &s.referrals["curie"];
    let tag = etag(&app, &admin, id).await;
    let assign = |contact: String, tag: String| {
        let app = &app;
        let admin = admin.clone();
        async move {
            app.post(&format!("/v1/referrals/{id}/assignee"))
                .token(&admin)
                .header("If-Match", &tag)
                .json(json!({"contact_id": contact}))
                .send()
                .await
        }
    };
    assert_eq!(
        assign(inactive.clone(), tag.clone()).await.field_errors(),
        vec![("/contact_id".into(), "inactive_contact".into())]
    );
    assert_eq!(
        assign(elsewhere.clone(), tag.clone()).await.field_errors(),
        vec![("/contact_id".into(), "unknown_contact".into())]
    );
    let ok = assign(active.clone(), tag.clone()).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["assigned_contact"]["id"], active.as_str());
    assign(active.clone(), tag)
        .await
        .assert_problem(412, "stale_version");
    let events = app
        .get(&format!("/v1/referrals/{id}/events"))
        .token(&admin)
        .send()
        .await;
    let actions: Vec<&str> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["referral_routed", "assigned"]);
    assert_eq!(events.body["items"][1]["to"], active.as_str());
}

/// The version is checked before anything else: the losers of a race to forward are told
/// their ETag is stale (412), never that the target already has the inquiry (409).
#[actix_web::test]
async fn parallel_forwards_with_one_etag_make_one_change_and_the_rest_are_stale() {
    let app = TestApp::new().await;
    let curie = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let s = submit(&app, &["curie"], "Race to forward").await;
    let id = s.referrals["curie"].clone();
    let tag = start_review(&app, &curie, &id).await;
    let responses = join_all((0..12).map(|_| {
        transition(
            &app,
            &curie,
            &id,
            &tag,
            json!({"to": "forwarded", "forward_to": "pasteur", "reason_text": "Their lab"}),
        )
    }))
    .await;
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for r in &responses {
        *statuses.entry(r.status.as_u16()).or_default() += 1;
    }
    assert_eq!(statuses, BTreeMap::from([(200, 1), (412, 11)]));
    for r in responses.iter().filter(|r| r.status == 412) {
        r.assert_problem(412, "stale_version");
    }
}

#[actix_web::test]
async fn twenty_parallel_transitions_with_one_etag_make_exactly_one_change() {
    let app = TestApp::new().await;
    let curie = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let s = submit(&app, &["curie"], "Race").await;
    let id = s.referrals["curie"].clone();
    let responses = join_all(
        (0..20).map(|_| transition(&app, &curie, &id, "\"1\"", json!({"to": "acknowledged"}))),
    )
    .await;
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for r in &responses {
        *statuses.entry(r.status.as_u16()).or_default() += 1;
    }
    assert_eq!(statuses, BTreeMap::from([(200, 1), (412, 19)]));
    let events = app
        .get(&format!("/v1/referrals/{id}/events"))
        .token(&curie)
        .send()
        .await;
    let changes = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "status_changed")
        .count();
    assert_eq!(changes, 1);
}

/// Every item of every page of `path` (which already has a `?` query), `limit` at a time.
pub(crate) async fn all_pages(app: &TestApp, token: &str, path: &str, limit: u32) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..200 {
        let url = match &cursor {
            Some(c) => format!("{path}&limit={limit}&cursor={c}"),
            None => format!("{path}&limit={limit}"),
        };
        let res = app.get(&url).token(token).send().await;
        assert_eq!(res.status, 200, "{url}: {}", res.body);
        let page = res.body["items"].as_array().unwrap().clone();
        assert!(page.len() <= limit as usize);
        items.extend(page);
        match res.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return items,
        }
    }
    panic!("{path}: more than 200 pages");
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

pub(crate) fn actions(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn a_referrals_audit_trail_pages_without_skipping_or_repeating() {
    let app = TestApp::new().await;
    let curie = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let s = submit(&app, &["curie"], "Paged audit").await;
    let id = &s.referrals["curie"];
    start_review(&app, &curie, id).await;
    for i in 0..4 {
        let res = app
            .post(&format!("/v1/referrals/{id}/messages"))
            .token(&curie)
            .json(json!({"body": format!("Note {i}"), "visibility": "internal"}))
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.body);
    }
    let path = format!("/v1/referrals/{id}/events?");
    let whole = all_pages(&app, &curie, &path, 100).await;
    // Routed, two transitions, four notes.
    assert_eq!(whole.len(), 7, "{whole:?}");
    assert_eq!(actions(&whole)[0], "referral_routed");
    let mut sorted = ids(&whole);
    sorted.sort();
    assert_eq!(sorted, ids(&whole), "oldest first");
    for limit in [1, 2, 3] {
        assert_eq!(
            ids(&all_pages(&app, &curie, &path, limit).await),
            ids(&whole),
            "limit {limit}"
        );
    }
    for e in &whole {
        assert_eq!(e["referral_id"], id.as_str());
        assert_eq!(e["inquiry_id"], s.id.as_str());
        assert_eq!(e["institution_id"], "curie");
    }
    for bad in ["limit=0", "limit=101", "limit=x"] {
        let res = app
            .get(&format!("/v1/referrals/{id}/events?{bad}"))
            .token(&curie)
            .send()
            .await;
        assert_eq!(res.status, 400, "{bad}: {}", res.body);
    }
    app.get(&format!("/v1/referrals/{id}/events?cursor=bm90LWEtdXVpZA"))
        .token(&curie)
        .send()
        .await
        .assert_problem(400, "invalid_cursor");
}

#[actix_web::test]
async fn an_inquirys_audit_trail_shows_staff_only_their_own_referrals() {
    let app = TestApp::new().await;
    let curie = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let gr = app
        .staff("t@gr.fr", Role::Triager, Some("gustave-roussy"))
        .await;
    let aphp = app.staff("t@aphp.fr", Role::Triager, Some("aphp")).await;
    let op = app.operator().await;
    let s = submit(&app, &["curie", "gustave-roussy"], "Shared audit").await;
    let (curie_ref, gr_ref) = (&s.referrals["curie"], &s.referrals["gustave-roussy"]);
    start_review(&app, &curie, curie_ref).await;
    start_review(&app, &gr, gr_ref).await;
    app.post(&format!("/v1/referrals/{gr_ref}/messages"))
        .token(&gr)
        .json(json!({"body": "GR only", "visibility": "internal"}))
        .send()
        .await;

    let path = format!("/v1/inquiries/{}/events?", s.id);
    let everything = all_pages(&app, &op, &path, 100).await;
    let mut sorted = ids(&everything);
    sorted.sort();
    assert_eq!(sorted, ids(&everything), "oldest first");
    let of = |items: &[Value], referral: Option<&str>| -> Vec<String> {
        actions(
            &items
                .iter()
                .filter(|e| e["referral_id"].as_str() == referral)
                .cloned()
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        of(&everything, None),
        vec!["inquiry_submitted", "inquiry_routed"]
    );
    assert_eq!(
        of(&everything, Some(curie_ref)),
        vec!["referral_routed", "status_changed", "status_changed"]
    );
    assert_eq!(
        of(&everything, Some(gr_ref)),
        vec![
            "referral_routed",
            "status_changed",
            "status_changed",
            "message_posted"
        ]
    );
    assert!(everything.iter().all(|e| e["inquiry_id"] == s.id.as_str()));

    // Curie's staff: the inquiry's own records and Curie's referral's, never Gustave Roussy's.
    let seen = all_pages(&app, &curie, &path, 100).await;
    let expected: Vec<Value> = everything
        .iter()
        .filter(|e| e["referral_id"].is_null() || e["referral_id"] == curie_ref.as_str())
        .cloned()
        .collect();
    assert_eq!(seen, expected);
    assert!(!seen.iter().any(|e| e["institution_id"] == "gustave-roussy"));
    assert_eq!(
        ids(&all_pages(&app, &curie, &path, 2).await),
        ids(&expected),
        "pages of two"
    );
    let gr_seen = all_pages(&app, &gr, &path, 1).await;
    assert!(
        gr_seen
            .iter()
            .all(|e| e["referral_id"].is_null() || e["referral_id"] == gr_ref.as_str())
    );
    assert_eq!(gr_seen.len(), 6);

    // Not an institution of the inquiry, a missing inquiry, a malformed id: the same 404.
    for (token, inquiry) in [
        (&aphp, s.id.clone()),
        (&op, "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f".to_owned()),
        (&curie, "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f".to_owned()),
        (&op, "not-an-id".to_owned()),
    ] {
        app.get(&format!("/v1/inquiries/{inquiry}/events"))
            .token(token)
            .send()
            .await
            .assert_problem(404, "not_found");
    }
    let res = app
        .get(&format!("/v1/inquiries/{}/events", s.id))
        .header("X-Tracking-Token", &s.token)
        .send()
        .await;
    res.assert_problem(401, "invalid_token");
    app.get(&format!("/v1/inquiries/{}/events?limit=101", s.id))
        .token(&op)
        .send()
        .await
        .assert_problem(400, "invalid_limit");
}

#[actix_web::test]
async fn operators_read_the_platform_audit_with_filters() {
    let app = TestApp::new().await;
    let curie_id = app.user("t@curie.fr", Role::Triager, Some("curie")).await;
    let curie = app.login("t@curie.fr").await.0;
    let admin = app
        .staff("a@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let op = app.operator().await;
    let a = submit(&app, &["curie", "gustave-roussy"], "Audited A").await;
    let b = submit(&app, &["curie"], "Audited B").await;
    start_review(&app, &curie, &a.referrals["curie"]).await;
    let res = app
        .post(&format!(
            "/v1/inquiries/{}/referrals/{}/messages",
            b.id, b.referrals["curie"]
        ))
        .header("X-Tracking-Token", &b.token)
        .json(json!({"body": "Any news?"}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.body);

    let everything = all_pages(&app, &op, "/v1/audit?", 100).await;
    let position = |e: &Value| {
        (
            chrono::DateTime::parse_from_rfc3339(e["at"].as_str().unwrap()).unwrap(),
            e["id"].as_str().unwrap().to_owned(),
        )
    };
    let mut newest_first = everything.clone();
    newest_first.sort_by_key(|e| std::cmp::Reverse(position(e)));
    assert_eq!(everything, newest_first, "newest first, by time then id");
    assert_eq!(
        ids(&all_pages(&app, &op, "/v1/audit?", 3).await),
        ids(&everything),
        "pages of three neither skip nor repeat"
    );
    let only = |pred: &dyn Fn(&Value) -> bool| -> Vec<String> {
        ids(&everything
            .iter()
            .filter(|e| pred(e))
            .cloned()
            .collect::<Vec<_>>())
    };
    let cases: Vec<(String, Vec<String>)> = vec![
        (
            format!("actor_id={curie_id}"),
            only(&|e| e["actor_id"] == curie_id.as_str()),
        ),
        (
            "actor_kind=submitter".into(),
            only(&|e| e["actor_kind"] == "submitter"),
        ),
        (
            "actor_kind=user&action=status_changed".into(),
            only(&|e| e["actor_kind"] == "user" && e["action"] == "status_changed"),
        ),
        (
            "action=logged_in".into(),
            only(&|e| e["action"] == "logged_in"),
        ),
        (
            format!("object_type=referral&object_id={}", a.referrals["curie"]),
            only(&|e| e["referral_id"] == a.referrals["curie"].as_str()),
        ),
        (
            format!("object_type=inquiry&object_id={}", b.id),
            only(&|e| e["inquiry_id"] == b.id.as_str()),
        ),
        (
            "object_type=institution&object_id=gustave-roussy".into(),
            only(&|e| e["institution_id"] == "gustave-roussy"),
        ),
        (
            "object_type=referral".into(),
            only(&|e| !e["referral_id"].is_null()),
        ),
        (
            format!("object_id={}", a.id),
            only(&|e| e["inquiry_id"] == a.id.as_str()),
        ),
        (
            format!("object_id={}", a.referrals["gustave-roussy"]),
            only(&|e| e["referral_id"] == a.referrals["gustave-roussy"].as_str()),
        ),
        (
            "object_id=curie".into(),
            only(&|e| e["institution_id"] == "curie"),
        ),
    ];
    for (query, expected) in cases {
        assert!(
            !expected.is_empty(),
            "{query} selects nothing: it proves nothing"
        );
        assert!(
            expected.len() < everything.len(),
            "{query} selects everything"
        );
        let got = all_pages(&app, &op, &format!("/v1/audit?{query}"), 2).await;
        assert_eq!(ids(&got), expected, "{query}");
    }
    // Filters combine with AND: an account's records are never the system's.
    for query in [
        format!("actor_id={curie_id}&actor_kind=system"),
        "action=user_created&actor_kind=submitter".to_owned(),
    ] {
        let got = all_pages(&app, &op, &format!("/v1/audit?{query}"), 2).await;
        assert!(got.is_empty(), "{query}: {got:?}");
    }

    // Times: `from` inclusive, `to` exclusive, on the records' own time.
    let middle = everything[everything.len() / 2]["at"]
        .as_str()
        .unwrap()
        .to_owned();
    let at = |e: &Value| chrono::DateTime::parse_from_rfc3339(e["at"].as_str().unwrap()).unwrap();
    let cut = chrono::DateTime::parse_from_rfc3339(&middle).unwrap();
    let from = all_pages(&app, &op, &format!("/v1/audit?from={middle}"), 100).await;
    assert_eq!(ids(&from), only(&|e| at(e) >= cut));
    let to = all_pages(&app, &op, &format!("/v1/audit?to={middle}"), 100).await;
    assert_eq!(ids(&to), only(&|e| at(e) < cut));
    assert_eq!(from.len() + to.len(), everything.len());
    let empty = all_pages(
        &app,
        &op,
        &format!("/v1/audit?from={middle}&to={middle}"),
        100,
    )
    .await;
    assert!(empty.is_empty());

    // Wrong filters are 400 `invalid_query`; other staff may not read it.
    for bad in [
        "action=teleported",
        "actor_kind=robot",
        "object_type=contract",
        "from=yesterday",
        "to=-0001-01-01T00:00:00Z",
        "actor_id=",
        "object_id=",
        "colour=blue",
    ] {
        app.get(&format!("/v1/audit?{bad}"))
            .token(&op)
            .send()
            .await
            .assert_problem(400, "invalid_query");
    }
    let long = "x".repeat(65);
    app.get(&format!("/v1/audit?object_id={long}"))
        .token(&op)
        .send()
        .await
        .assert_problem(400, "invalid_query");
    // Forged cursors: not ours, or a time neither database stores, are a 400, never a 500.
    use base64::Engine;
    let forge = |text: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text);
    for cursor in [
        "garbage".to_owned(),
        forge("12|not-a-uuid"),
        forge(&format!(
            "{}|01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f",
            i64::MAX
        )),
        forge("8000000000000000000|01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f"),
        forge("-8000000000000000000|01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f"),
    ] {
        app.get(&format!("/v1/audit?cursor={cursor}"))
            .token(&op)
            .send()
            .await
            .assert_problem(400, "invalid_cursor");
    }
    for token in [&curie, &admin] {
        app.get("/v1/audit")
            .token(token)
            .send()
            .await
            .assert_problem(403, "forbidden");
    }
    app.get("/v1/audit")
        .send()
        .await
        .assert_problem(401, "invalid_token");
}

#[actix_web::test]
async fn staff_see_the_other_referrals_institution_and_status_and_nothing_else() {
    let app = TestApp::new().await;
    let curie = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let gr = app
        .staff("t@gr.fr", Role::Triager, Some("gustave-roussy"))
        .await;
    let op = app.operator().await;
    let gr_contact = app
        .post("/v1/institutions/gustave-roussy/contacts")
        .token(&op)
        .json(json!({"name": "Dr Hidden Person", "email": "hidden.person@gustaveroussy.fr"}))
        .send()
        .await;
    assert_eq!(gr_contact.status, 201, "{}", gr_contact.body);
    let s = submit(&app, &["curie", "gustave-roussy", "pasteur"], "Coordinate").await;
    let gr_ref = &s.referrals["gustave-roussy"];
    let tag = start_review(&app, &gr, gr_ref).await;
    app.post(&format!("/v1/referrals/{gr_ref}/messages"))
        .token(&gr)
        .json(json!({"body": "GR internal secret", "visibility": "internal"}))
        .send()
        .await;
    let res = transition(
        &app,
        &gr,
        gr_ref,
        &tag,
        json!({"to": "declined", "reason_code": "no_capacity", "reason_text": "GR decline note", "message": "GR external words"}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);

    let res = app
        .get(&format!("/v1/referrals/{}", s.referrals["curie"]))
        .token(&curie)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let others = &res.body["inquiry"]["other_referrals"];
    let mut expected = vec![
        json!({"institution_id": "gustave-roussy", "institution_name": "Gustave Roussy", "status": "declined"}),
    ];
    if s.referrals.contains_key("pasteur") {
        expected.push(
            json!({"institution_id": "pasteur", "institution_name": "Institut Pasteur", "status": "new"}),
        );
    }
    // Exactly these three keys each.
    let mut got: Vec<Value> = others.as_array().unwrap().clone();
    got.sort_by_key(|o| o["institution_id"].as_str().unwrap().to_owned());
    assert_eq!(got, expected);
    let keys: BTreeSet<&str> = res.body["inquiry"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "id",
            "reference",
            "submitter",
            "inquiry_type",
            "title",
            "summary",
            "therapeutic_areas",
            "modalities",
            "stage",
            "keywords",
            "created_at",
            "other_referrals"
        ])
    );
    let text = res.body.to_string();
    for secret in [
        "GR internal secret",
        "GR decline note",
        "GR external words",
        "no_capacity",
        "hidden.person@gustaveroussy.fr",
        "Dr Hidden Person",
        gr_ref.as_str(),
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    // Gustave Roussy sees Curie's referral the same way.
    let res = app
        .get(&format!("/v1/referrals/{gr_ref}"))
        .token(&gr)
        .send()
        .await;
    let names: Vec<&str> = res.body["inquiry"]["other_referrals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["institution_id"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"curie") && !names.contains(&"gustave-roussy"));
}

#[actix_web::test]
async fn no_message_is_posted_to_a_final_referral_by_anyone() {
    let app = TestApp::new().await;
    let curie = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let op = app.operator().await;
    let s = submit(&app, &["curie", "gustave-roussy"], "Closed threads").await;
    let id = &s.referrals["curie"];
    let tag = start_review(&app, &curie, id).await;
    let res = transition(
        &app,
        &curie,
        id,
        &tag,
        json!({"to": "declined", "reason_code": "out_of_scope"}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let thread = format!("/v1/referrals/{id}/messages?limit=100");
    let before = app.get(&thread).token(&curie).send().await.body["items"].clone();
    for (token, visibility) in [
        (&curie, "external"),
        (&curie, "internal"),
        (&op, "internal"),
    ] {
        let res = app
            .post(&format!("/v1/referrals/{id}/messages"))
            .token(token)
            .json(json!({"body": "One more thing", "visibility": visibility}))
            .send()
            .await;
        res.assert_problem(409, "referral_closed");
        assert!(
            res.body["detail"]
                .as_str()
                .unwrap()
                .starts_with("This referral is declined;"),
            "{}",
            res.body
        );
    }
    let res = app
        .post(&format!("/v1/inquiries/{}/referrals/{id}/messages", s.id))
        .header("X-Tracking-Token", &s.token)
        .json(json!({"body": "Are you sure?"}))
        .send()
        .await;
    res.assert_problem(409, "referral_closed");
    assert!(
        res.body["detail"].as_str().unwrap().contains("declined"),
        "{}",
        res.body
    );
    assert_eq!(
        app.get(&thread).token(&curie).send().await.body["items"],
        before,
        "nothing was posted"
    );

    // A referral the submitter withdrew takes no staff message either.
    let gr = app
        .staff("t@gr.fr", Role::Triager, Some("gustave-roussy"))
        .await;
    let gr_ref = &s.referrals["gustave-roussy"];
    let res = app
        .post(&format!("/v1/inquiries/{}/withdraw", s.id))
        .header("X-Tracking-Token", &s.token)
        .json(json!({"institution_id": "gustave-roussy"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let res = app
        .post(&format!("/v1/referrals/{gr_ref}/messages"))
        .token(&gr)
        .json(json!({"body": "Noted", "visibility": "internal"}))
        .send()
        .await;
    res.assert_problem(409, "referral_closed");
    assert!(res.body["detail"].as_str().unwrap().contains("withdrawn"));
}

#[actix_web::test]
async fn figures_count_responses_decisions_and_reasons() {
    let app = TestApp::new().await;
    let curie = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    for (i, decision) in ["accept", "decline", "decline", "none"].iter().enumerate() {
        let s = submit(&app, &["curie"], &format!("Figures {i}")).await;
        let id = &s.referrals["curie"];
        let last = match *decision {
            "accept" => json!({"to": "accepted", "message": "Welcome"}),
            "decline" => json!({"to": "declined", "reason_code": "no_capacity"}),
            _ => continue,
        };
        let tag = start_review(&app, &curie, id).await;
        let res = transition(&app, &curie, id, &tag, last).await;
        assert_eq!(res.status, 200, "{}", res.body);
    }
    let stats = app
        .get("/v1/institutions/curie/stats")
        .token(&curie)
        .send()
        .await;
    assert_eq!(stats.status, 200, "{}", stats.body);
    assert_eq!(stats.body["referrals"], 4);
    assert_eq!(stats.body["per_status"]["declined"], 2);
    assert_eq!(stats.body["acceptance_rate"], 0.33);
    assert_eq!(stats.body["decline_reasons"]["no_capacity"], 2);
    assert_eq!(stats.body["answered_within_sla"], 1.0);
    assert!(
        stats.body["median_hours_to_first_response"]
            .as_f64()
            .is_some()
    );
    let public = app.get("/v1/transparency").send().await;
    assert_eq!(public.status, 200);
    assert_eq!(public.body["items"].as_array().unwrap().len(), 4);
    let text = public.body.to_string();
    assert!(
        !text.contains("Helios") && !text.contains("anna@"),
        "no personal or deal data"
    );
    let curie_row = public.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["institution"]["id"] == "curie")
        .unwrap()
        .clone();
    assert_eq!(curie_row["stats"]["referrals"], 4);
    let aphp = app.staff("t@aphp.fr", Role::Triager, Some("aphp")).await;
    app.get("/v1/institutions/curie/stats")
        .token(&aphp)
        .send()
        .await
        .assert_problem(404, "not_found");
    app.get("/v1/transparency?from=2026-12-01T00:00:00Z&to=2026-01-01T00:00:00Z")
        .send()
        .await
        .assert_problem(422, "validation_failed");
    app.get("/v1/transparency?from=yesterday")
        .send()
        .await
        .assert_problem(400, "invalid_query");
}

/// Submits an inquiry for Curie with this organization and title; returns (reference,
/// referral id at Curie).
async fn submit_from(app: &TestApp, organization: &str, title: &str) -> (String, String) {
    let mut body = inquiry(&["curie"], title);
    body["submitter"]["organization"] = json!(organization);
    let res = app.post("/v1/inquiries").json(body).send().await;
    assert_eq!(res.status, 201, "{}", res.body);
    (
        res.body["reference"].as_str().unwrap().to_owned(),
        res.body["referrals"][0]["id"].as_str().unwrap().to_owned(),
    )
}

fn page_ids(r: &Response) -> Vec<String> {
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn the_queue_finds_a_referral_by_its_reference_or_its_submitters_organization() {
    let app = TestApp::new().await;
    let curie = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let mut made = Vec::new();
    for (i, org) in [
        "Helios Therapeutics",
        "Nordlicht Capital",
        "Helios Therapeutics",
    ]
    .iter()
    .enumerate()
    {
        made.push(submit_from(&app, org, &format!("Trial {i}")).await);
    }
    // Eleven in all: GU-…-000001 must not find GU-…-000010 or GU-…-000011.
    for i in 0..8 {
        submit_from(&app, "Helios Therapeutics", &format!("Filler {i}")).await;
    }
    let (reference, referral) = made[0].clone();
    assert!(
        reference.starts_with("GU-") && reference.ends_with("000001"),
        "{reference}"
    );
    for q in [reference.clone(), reference.to_lowercase()] {
        let found = app
            .get(&format!("/v1/referrals?q={q}"))
            .token(&curie)
            .send()
            .await;
        assert_eq!(page_ids(&found), vec![referral.clone()], "q={q}");
        assert_eq!(found.body["items"][0]["reference"], reference.as_str());
    }
    // A fragment of a reference: the number alone.
    let (second_ref, second) = made[1].clone();
    let number = second_ref.rsplit('-').next().unwrap();
    let found = app
        .get(&format!("/v1/referrals?q={number}"))
        .token(&curie)
        .send()
        .await;
    assert_eq!(page_ids(&found), vec![second.clone()], "q={number}");
    // The submitter's organization, in any case.
    let found = app
        .get("/v1/referrals?q=NORDLICHT")
        .token(&curie)
        .send()
        .await;
    assert_eq!(page_ids(&found), vec![second.clone()]);
    let found = app
        .get("/v1/referrals?q=helios&limit=100")
        .token(&curie)
        .send()
        .await;
    assert_eq!(page_ids(&found).len(), 10);
    // The exact filter, in any case; another institution's triager finds nothing.
    let found = app
        .get(&format!(
            "/v1/referrals?reference={}",
            reference.to_lowercase()
        ))
        .token(&curie)
        .send()
        .await;
    assert_eq!(page_ids(&found), vec![referral.clone()]);
    let aphp = app.staff("t@aphp.fr", Role::Triager, Some("aphp")).await;
    let found = app
        .get(&format!("/v1/referrals?reference={reference}"))
        .token(&aphp)
        .send()
        .await;
    assert_eq!(page_ids(&found), Vec::<String>::new());
    let found = app
        .get(&format!("/v1/referrals?q={reference}"))
        .token(&aphp)
        .send()
        .await;
    assert_eq!(page_ids(&found), Vec::<String>::new());
    for bad in ["GU-2026-1", "000001", "GU-2026-000001x", "%25"] {
        app.get(&format!("/v1/referrals?reference={bad}"))
            .token(&curie)
            .send()
            .await
            .assert_problem(400, "invalid_query");
    }
    app.get(&format!("/v1/referrals?q={}", "x".repeat(201)))
        .token(&curie)
        .send()
        .await
        .assert_problem(400, "invalid_query");
}

#[actix_web::test]
async fn the_unassigned_filter_splits_the_queue_and_refuses_to_contradict_assigned() {
    let app = TestApp::new().await;
    let op = app.operator().await;
    let (_, nobody) = submit_from(&app, "Helios", "Before any contact").await;
    let contact = app
        .post("/v1/institutions/curie/contacts")
        .token(&op)
        .json(json!({"name": "Claire", "email": "claire@curie.fr"}))
        .send()
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let claire_id = app
        .user("claire@curie.fr", Role::Triager, Some("curie"))
        .await;
    let linked = app
        .patch(&format!("/v1/institutions/curie/users/{claire_id}"))
        .token(&op)
        .json(json!({"contact_id": contact}))
        .send()
        .await;
    assert_eq!(linked.status, 200, "{}", linked.body);
    let (claire, _) = app.login("claire@curie.fr").await;
    let (_, hers) = submit_from(&app, "Helios", "After the contact").await;
    let get = |path: String| {
        let app = &app;
        let claire = claire.clone();
        async move { app.get(&path).token(&claire).send().await }
    };
    assert_eq!(
        page_ids(&get("/v1/referrals?unassigned=true".into()).await),
        vec![nobody.clone()]
    );
    assert_eq!(
        page_ids(&get("/v1/referrals?unassigned=false".into()).await),
        vec![hers.clone()]
    );
    assert_eq!(
        page_ids(&get("/v1/referrals?unassigned=false&assigned=me".into()).await),
        vec![hers.clone()]
    );
    let mut all = page_ids(&get("/v1/referrals".into()).await);
    all.sort();
    let mut both = vec![nobody.clone(), hers.clone()];
    both.sort();
    assert_eq!(all, both);
    for path in [
        "/v1/referrals?unassigned=true&assigned=me".to_owned(),
        format!("/v1/referrals?unassigned=true&assigned={contact}"),
        "/v1/referrals/export?unassigned=true&assigned=me".to_owned(),
    ] {
        let res = get(path.clone()).await;
        res.assert_problem(400, "invalid_query");
        let detail = res.body["detail"].as_str().unwrap();
        assert!(
            detail.contains("unassigned") && detail.contains("assigned"),
            "{path}: {detail}"
        );
    }
    get("/v1/referrals?unassigned=maybe".into())
        .await
        .assert_problem(400, "invalid_query");
    // The export takes the filter too.
    let csv = get("/v1/referrals/export?unassigned=true".into()).await;
    let rows = read_csv(&csv);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1][column("referral_id")], nobody);
}

/// An RFC 4180 reader (quoted fields, doubled quotes, CRLF records), independent of the
/// server's writer.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' => {
                assert!(
                    field.is_empty(),
                    "a quote inside an unquoted field: {text:?}"
                );
                quoted = true;
            }
            ',' => record.push(std::mem::take(&mut field)),
            '\r' => {
                assert_eq!(
                    chars.next(),
                    Some('\n'),
                    "a bare CR ends no record: {text:?}"
                );
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            '\n' => panic!("a bare LF outside quotes: {text:?}"),
            c => field.push(c),
        }
    }
    assert!(
        !quoted && field.is_empty() && record.is_empty(),
        "the last record has no CRLF"
    );
    records
}

/// A CSV answer: 200, the right type and file name, every record as wide as the header.
#[track_caller]
fn read_csv(res: &Response) -> Vec<Vec<String>> {
    assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.raw));
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    let disposition = res.header("content-disposition").unwrap_or_default();
    assert!(
        disposition.starts_with("attachment; filename=\"") && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let rows = parse_csv(std::str::from_utf8(&res.raw).unwrap());
    assert!(!rows.is_empty(), "no header row");
    for row in &rows {
        assert_eq!(row.len(), rows[0].len(), "{row:?}");
    }
    rows
}

const QUEUE_COLUMNS: &[&str] = &[
    "reference",
    "referral_id",
    "inquiry_id",
    "institution_id",
    "institution_name",
    "status",
    "inquiry_type",
    "title",
    "organization",
    "assigned_contact_id",
    "assigned_contact_name",
    "first_response_due_at",
    "overdue",
    "decision_due_at",
    "decision_overdue",
    "created_at",
];

fn column(name: &str) -> usize {
    QUEUE_COLUMNS.iter().position(|c| *c == name).unwrap()
}

#[actix_web::test]
async fn the_export_holds_exactly_the_filtered_queue_across_several_pages() {
    // Two rows per database read: seven referrals take four reads.
    let app = TestApp::with_limits(guichet::service::Limits {
        export_page_rows: 2,
        ..guichet::service::Limits::default()
    })
    .await;
    let curie = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let op = app.operator().await;
    let mut curie_ids = Vec::new();
    for i in 0..7 {
        curie_ids.push(submit_from(&app, "Helios", &format!("Export {i}")).await.1);
    }
    submit(&app, &["aphp"], "For AP-HP").await;
    let tag = etag(&app, &curie, &curie_ids[2]).await;
    transition(
        &app,
        &curie,
        &curie_ids[2],
        &tag,
        json!({"to": "acknowledged"}),
    )
    .await;

    for filters in [
        "",
        "status=new",
        "status=new&sort=newest",
        "q=export%203",
        "status=declined",
    ] {
        let json = app
            .get(&format!("/v1/referrals?limit=100&{filters}"))
            .token(&curie)
            .send()
            .await;
        let expected = page_ids(&json);
        let rows = read_csv(
            &app.get(&format!("/v1/referrals/export?{filters}"))
                .token(&curie)
                .send()
                .await,
        );
        assert_eq!(rows[0], QUEUE_COLUMNS, "the header row");
        let got: Vec<String> = rows[1..]
            .iter()
            .map(|r| r[column("referral_id")].clone())
            .collect();
        assert_eq!(got, expected, "{filters}: the same rows in the same order");
        for (row, item) in rows[1..].iter().zip(json.body["items"].as_array().unwrap()) {
            assert_eq!(
                row[column("reference")],
                item["reference"].as_str().unwrap()
            );
            assert_eq!(row[column("status")], item["status"].as_str().unwrap());
            assert_eq!(row[column("title")], item["title"].as_str().unwrap());
            assert_eq!(row[column("institution_id")], "curie");
            assert_eq!(row[column("institution_name")], "Institut Curie");
            assert_eq!(row[column("organization")], "Helios");
            assert_eq!(row[column("inquiry_type")], "clinical_trial");
            assert_eq!(row[column("overdue")], item["overdue"].to_string());
            assert_eq!(
                row[column("first_response_due_at")],
                item["first_response_due_at"].as_str().unwrap()
            );
            assert_eq!(
                row[column("created_at")],
                item["created_at"].as_str().unwrap()
            );
            assert_eq!(
                row[column("decision_due_at")],
                item["decision_due_at"].as_str().unwrap_or("")
            );
        }
    }
    let all = read_csv(
        &app.get("/v1/referrals/export?status=new")
            .token(&curie)
            .send()
            .await,
    );
    assert_eq!(all.len(), 1 + 6);

    // Operators export everything, or one institution; a triager naming another one gets 404.
    let everything = read_csv(&app.get("/v1/referrals/export").token(&op).send().await);
    assert_eq!(everything.len(), 1 + 8);
    let aphp = read_csv(
        &app.get("/v1/referrals/export?institution=aphp")
            .token(&op)
            .send()
            .await,
    );
    assert_eq!(aphp.len(), 2);
    assert_eq!(aphp[1][column("title")], "For AP-HP");
    app.get("/v1/referrals/export?institution=aphp")
        .token(&curie)
        .send()
        .await
        .assert_problem(404, "not_found");
    let other = app.staff("t@aphp.fr", Role::Triager, Some("aphp")).await;
    let theirs = read_csv(&app.get("/v1/referrals/export").token(&other).send().await);
    assert_eq!(theirs.len(), 2, "only their own rows: {theirs:?}");
    assert!(
        !String::from_utf8_lossy(
            &app.get("/v1/referrals/export")
                .token(&other)
                .send()
                .await
                .raw
        )
        .contains("Export 1")
    );
    let res = app.get("/v1/referrals/export").token(&curie).send().await;
    assert!(
        res.header("content-disposition")
            .unwrap()
            .starts_with("attachment; filename=\"referrals-curie-"),
        "{:?}",
        res.header("content-disposition")
    );

    // Bad filters are the queue's 400s; paging parameters do not exist here.
    for (query, code) in [
        ("status=open", "invalid_status"),
        ("sort=random", "invalid_query"),
        ("assigned=bob", "invalid_assigned"),
        ("created_after=yesterday", "invalid_query"),
        ("inquiry_type=loan", "invalid_query"),
        ("reference=GU-1", "invalid_query"),
        ("limit=5", "invalid_query"),
        ("cursor=abc", "invalid_query"),
    ] {
        app.get(&format!("/v1/referrals/export?{query}"))
            .token(&curie)
            .send()
            .await
            .assert_problem(400, code);
    }
    app.get("/v1/referrals/export")
        .send()
        .await
        .assert_problem(401, "invalid_token");
}

#[actix_web::test]
async fn exported_cells_cannot_run_as_formulas_and_read_back_as_written() {
    let app = TestApp::new().await;
    let curie = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let tricky = [
        (
            "=HYPERLINK(\"http://evil.example\",\"click\")",
            "@Evil Corp",
        ),
        ("+33 trial, phase \"1\"", "-minus"),
        ("Two lines:\r\nsecond, with \"quotes\"", "Plain Org"),
        ("Line feed\nonly", "Comma, Inc."),
    ];
    for (title, org) in tricky {
        submit_from(&app, org, title).await;
    }
    let rows = read_csv(
        &app.get("/v1/referrals/export?sort=newest")
            .token(&curie)
            .send()
            .await,
    );
    assert_eq!(rows.len(), 1 + tricky.len());
    let cells: BTreeMap<String, String> = rows[1..]
        .iter()
        .map(|r| {
            (
                r[column("title")].clone(),
                r[column("organization")].clone(),
            )
        })
        .collect();
    let expected: BTreeMap<String, String> = BTreeMap::from([
        (
            "'=HYPERLINK(\"http://evil.example\",\"click\")".to_owned(),
            "'@Evil Corp".to_owned(),
        ),
        ("'+33 trial, phase \"1\"".to_owned(), "'-minus".to_owned()),
        (
            "Two lines:\r\nsecond, with \"quotes\"".to_owned(),
            "Plain Org".to_owned(),
        ),
        ("Line feed\nonly".to_owned(), "Comma, Inc.".to_owned()),
    ]);
    assert_eq!(cells, expected);
    // No cell of the file starts with a formula character.
    for row in &rows {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?}"
            );
        }
    }
}

#[actix_web::test]
async fn the_figures_export_holds_the_figures_of_the_json() {
    let app = TestApp::new().await;
    let curie = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    for (i, last) in [
        Some(json!({"to": "accepted", "message": "Welcome"})),
        Some(json!({"to": "declined", "reason_code": "no_capacity"})),
        None,
    ]
    .into_iter()
    .enumerate()
    {
        let s = submit(&app, &["curie"], &format!("Figures {i}")).await;
        if let Some(last) = last {
            let id = &s.referrals["curie"];
            let tag = start_review(&app, &curie, id).await;
            assert_eq!(transition(&app, &curie, id, &tag, last).await.status, 200);
        }
    }
    let period = "from=2020-01-01T00:00:00Z&to=2999-01-01T00:00:00Z";
    let json = app
        .get(&format!("/v1/institutions/curie/stats?{period}"))
        .token(&curie)
        .send()
        .await;
    assert_eq!(json.status, 200, "{}", json.body);
    let res = app
        .get(&format!("/v1/institutions/curie/stats/export?{period}"))
        .token(&curie)
        .send()
        .await;
    let rows = read_csv(&res);
    assert_eq!(
        res.header("content-disposition").as_deref(),
        Some("attachment; filename=\"stats-curie-20200101T000000Z-29990101T000000Z.csv\"")
    );
    assert_eq!(
        rows[0],
        ["institution_id", "from", "to", "metric", "key", "value"]
    );
    let figures: BTreeMap<(String, String), String> = rows[1..]
        .iter()
        .map(|r| {
            assert_eq!(r[0], "curie");
            assert_eq!(r[1], "2020-01-01T00:00:00Z");
            assert_eq!(r[2], "2999-01-01T00:00:00Z");
            ((r[3].clone(), r[4].clone()), r[5].clone())
        })
        .collect();
    let get = |metric: &str, key: &str| figures.get(&(metric.to_owned(), key.to_owned())).cloned();
    assert_eq!(get("referrals", ""), Some("3".into()));
    for (status, n) in json.body["per_status"].as_object().unwrap() {
        assert_eq!(get("per_status", status), Some(n.to_string()), "{status}");
    }
    assert_eq!(get("acceptance_rate", ""), Some("0.5".into()));
    assert_eq!(json.body["acceptance_rate"], 0.5);
    for metric in [
        "median_hours_to_first_response",
        "p90_hours_to_first_response",
        "answered_within_sla",
        "decided_within_target",
    ] {
        let value = match &json.body[metric] {
            Value::Null => String::new(),
            v => v.as_f64().unwrap().to_string(),
        };
        assert_eq!(get(metric, ""), Some(value), "{metric}");
    }
    assert_eq!(get("decline_reasons", "no_capacity"), Some("1".into()));
    assert_eq!(
        get("decline_reasons", "out_of_scope"),
        Some("0".into()),
        "every reason is listed"
    );

    let aphp = app.staff("t@aphp.fr", Role::Triager, Some("aphp")).await;
    app.get("/v1/institutions/curie/stats/export")
        .token(&aphp)
        .send()
        .await
        .assert_problem(404, "not_found");
    let op = app.operator().await;
    app.get("/v1/institutions/mayo/stats/export")
        .token(&op)
        .send()
        .await
        .assert_problem(404, "not_found");
    app.get(
        "/v1/institutions/curie/stats/export?from=2026-12-01T00:00:00Z&to=2026-01-01T00:00:00Z",
    )
    .token(&curie)
    .send()
    .await
    .assert_problem(422, "validation_failed");
    app.get("/v1/institutions/curie/stats/export?from=yesterday")
        .token(&curie)
        .send()
        .await
        .assert_problem(400, "invalid_query");
}

/// Who may call what. Each operation of the contract must have a row here; the test fails
/// when one is added without its authorization case.
/// Columns: anonymous, tracking token only, triager of another institution, triager of the
/// owning institution (for admin-only actions: 403).
const MATRIX: &[(&str, u16, u16, u16, u16)] = &[
    ("health_live", 200, 200, 200, 200),
    ("metrics_get", 200, 200, 200, 200),
    ("health_ready", 200, 200, 200, 200),
    ("openapi_get", 200, 200, 200, 200),
    ("institution_list", 200, 200, 200, 200),
    ("institution_get", 200, 200, 200, 200),
    ("taxonomy_get", 200, 200, 200, 200),
    ("transparency_get", 200, 200, 200, 200),
    ("routing_preview", 0, 0, 0, 0),
    ("inquiry_create", 0, 0, 0, 0),
    ("auth_login", 0, 0, 0, 0),
    ("auth_refresh", 0, 0, 0, 0),
    ("auth_logout", 401, 401, 0, 0),
    ("me_get", 401, 401, 200, 200),
    ("me_update", 401, 401, 200, 200),
    ("auth_password_change", 401, 401, 0, 0),
    ("auth_password_reset_request", 0, 0, 0, 0),
    ("auth_password_reset_confirm", 0, 0, 0, 0),
    ("mail_unsubscribe_page", 0, 0, 0, 0),
    ("mail_unsubscribe", 0, 0, 0, 0),
    ("mail_settings_get", 401, 401, 404, 403),
    ("mail_settings_replace", 401, 401, 404, 403),
    ("mail_message_list", 401, 401, 403, 403),
    ("inquiry_get", 404, 200, 404, 404),
    ("inquiry_message_create", 404, 0, 404, 404),
    ("inquiry_withdraw", 404, 0, 404, 404),
    ("contact_list", 401, 401, 404, 200),
    ("contact_create", 401, 401, 404, 403),
    ("contact_get", 401, 401, 404, 200),
    ("contact_update", 401, 401, 404, 403),
    ("user_list", 401, 401, 404, 403),
    ("user_create", 401, 401, 404, 403),
    ("user_get", 401, 401, 404, 403),
    ("user_update", 401, 401, 404, 403),
    ("routing_profile_get", 401, 401, 404, 403),
    ("routing_profile_replace", 401, 401, 404, 403),
    ("institution_stats_get", 401, 401, 404, 200),
    ("institution_stats_export", 401, 401, 404, 200),
    ("desk_list", 401, 401, 403, 403),
    ("inquiry_route", 401, 401, 403, 403),
    ("referral_list", 401, 401, 200, 200),
    ("referral_summary", 401, 401, 200, 200),
    ("referral_export", 401, 401, 200, 200),
    ("referral_get", 401, 401, 404, 200),
    ("referral_transition", 401, 401, 404, 0),
    ("referral_assign", 401, 401, 404, 0),
    ("referral_unassign", 401, 401, 404, 0),
    ("institution_create", 401, 401, 403, 403),
    ("institution_update", 401, 401, 403, 403),
    ("contact_reassign", 401, 401, 404, 403),
    ("referral_message_list", 401, 401, 404, 200),
    ("referral_message_create", 401, 401, 404, 0),
    ("referral_message_get", 401, 401, 404, 200),
    ("referral_event_list", 401, 401, 404, 200),
    ("inquiry_event_list", 401, 401, 404, 200),
    ("audit_list", 401, 401, 403, 403),
    ("event_feed", 401, 401, 200, 200),
    ("webhook_endpoint_list", 401, 401, 403, 403),
    ("webhook_endpoint_create", 401, 401, 403, 403),
    ("webhook_endpoint_get", 401, 401, 404, 403),
    ("webhook_endpoint_update", 401, 401, 404, 403),
    ("webhook_endpoint_delete", 401, 401, 404, 403),
    ("webhook_endpoint_secret_rotate", 401, 401, 404, 403),
    ("webhook_endpoint_ping", 401, 401, 404, 403),
    ("webhook_endpoint_replay", 401, 401, 404, 403),
    ("webhook_delivery_list", 401, 401, 404, 403),
    ("webhook_delivery_get", 401, 401, 404, 403),
    ("webhook_delivery_resend", 401, 401, 404, 403),
];

#[actix_web::test]
async fn the_authorization_matrix_covers_every_operation_of_the_contract() {
    let app = TestApp::new().await;
    let doc: Value = serde_json::from_str(&guichet::api::openapi_json()).unwrap();
    let own = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let other = app.staff("t@aphp.fr", Role::Triager, Some("aphp")).await;
    let op = app.operator().await;
    let contact = app
        .post("/v1/institutions/curie/contacts")
        .token(&op)
        .json(json!({"name": "C", "email": "c@curie.fr"}))
        .send()
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let user_id = app.user("u@curie.fr", Role::Triager, Some("curie")).await;
    let s = submit(&app, &["curie"], "Matrix").await;
    let referral = s.referrals["curie"].clone();
    let message = app
        .post(&format!("/v1/referrals/{referral}/messages"))
        .token(&own)
        .json(json!({"body": "A note.", "visibility": "internal"}))
        .send()
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let endpoint = app
        .post("/v1/webhook-endpoints")
        .token(&op)
        .json(json!({"institution_id": "curie", "url": "http://127.0.0.1:9/hooks"}))
        .send()
        .await
        .body["endpoint"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let delivery = app
        .post(&format!("/v1/webhook-endpoints/{endpoint}/ping"))
        .token(&op)
        .send()
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let matrix: BTreeMap<&str, (u16, u16, u16, u16)> = MATRIX
        .iter()
        .map(|(id, a, b, c, d)| (*id, (*a, *b, *c, *d)))
        .collect();
    let mut in_contract = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op_doc) in item.as_object().unwrap() {
            let id = op_doc["operationId"].as_str().unwrap().to_owned();
            in_contract.insert(id.clone());
            let Some(expected) = matrix.get(id.as_str()) else {
                panic!("operation {id} has no authorization case in MATRIX");
            };
            let concrete = path
                .replace("{institution_id}", "curie")
                .replace("{contact_id}", &contact)
                .replace("{user_id}", &user_id)
                .replace("{referral_id}", &referral)
                .replace("{message_id}", &message)
                .replace("{endpoint_id}", &endpoint)
                .replace("{delivery_id}", &delivery)
                .replace("{inquiry_id}", &s.id);
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let callers: [(Option<&str>, Option<&str>, u16); 4] = [
                (None, None, expected.0),
                (None, Some(s.token.as_str()), expected.1),
                (Some(other.as_str()), None, expected.2),
                (Some(own.as_str()), None, expected.3),
            ];
            for (bearer, tracking, want) in callers {
                if want == 0 {
                    continue; // Not an authorization question (public input, or a write we do not replay).
                }
                // A valid body where the body is checked before the caller (tracking token).
                let body = match id.as_str() {
                    "inquiry_message_create" => json!({"body": "m"}),
                    "inquiry_route" => json!({"institutions": ["curie"]}),
                    "referral_assign" => json!({"contact_id": contact}),
                    "referral_transition" => json!({"to": "acknowledged"}),
                    "referral_message_create" => json!({"body": "m", "visibility": "internal"}),
                    "contact_create" => json!({"name": "N", "email": "n@curie.fr"}),
                    "mail_settings_replace" => json!({"team_email": null}),
                    "contact_reassign" => json!({"to_contact_id": null}),
                    "institution_create" => {
                        json!({"id": "matrix", "name": "M", "website": "https://m.example", "routing_profile": {"accepted_inquiry_types": ["licensing"], "therapeutic_area_weights": {}, "modality_weights": {}, "threshold": 50}})
                    }
                    "webhook_endpoint_create" => json!({"url": "http://127.0.0.1:9/hooks"}),
                    "user_create" => {
                        json!({"email": "n@curie.fr", "password": "long enough", "role": "triager"})
                    }
                    "routing_profile_replace" => {
                        json!({"accepted_inquiry_types": ["licensing"], "therapeutic_area_weights": {}, "modality_weights": {}, "threshold": 50})
                    }
                    _ => json!({}),
                };
                let mut req = app.req(method.clone(), &concrete).json(body);
                if let Some(t) = bearer {
                    req = req.token(t);
                }
                if let Some(t) = tracking {
                    req = req.header("X-Tracking-Token", t);
                }
                let res = req.send().await;
                let got = res.status.as_u16();
                let ok = if want == 200 {
                    (200..300).contains(&got) || got == 422
                } else {
                    got == want
                };
                assert!(
                    ok,
                    "{id} {concrete}: expected {want}, got {got}: {}",
                    res.body
                );
            }
        }
    }
    let listed: BTreeSet<String> = matrix.keys().map(|k| k.to_string()).collect();
    assert_eq!(
        listed, in_contract,
        "MATRIX and the contract list different operations"
    );
}

#[actix_web::test]
async fn if_match_star_matches_the_current_version() {
    let app = TestApp::new().await;
    let curie = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let s = submit(&app, &["curie"], "Star").await;
    let id = &s.referrals["curie"];
    start_review(&app, &curie, id).await;
    let res = transition(
        &app,
        &curie,
        id,
        "*",
        json!({"to": "info_requested", "message": "More?"}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.header("etag").as_deref(), Some("\"4\""));
    transition(&app, &curie, id, "\"garbage\"", json!({"to": "in_review"}))
        .await
        .assert_problem(412, "stale_version");
}

#[actix_web::test]
async fn the_transparency_report_speaks_french_with_the_same_figures() {
    let app = TestApp::new().await;
    app.curie_referral().await;
    let en = app.get("/v1/transparency").send().await;
    assert_eq!(en.status, 200, "{}", en.body);
    let fr = app
        .get("/v1/transparency")
        .header("Accept-Language", "fr")
        .send()
        .await;
    assert_eq!(fr.status, 200, "{}", fr.body);
    assert_eq!(fr.header("content-language").as_deref(), Some("fr"));
    assert!(
        fr.body["about"]
            .as_str()
            .unwrap()
            .starts_with("Indicateurs par établissement")
    );
    assert!(
        en.body["about"]
            .as_str()
            .unwrap()
            .starts_with("Figures per institution")
    );
    let curie = |b: &Value| -> Value {
        b["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["institution"]["id"] == "curie")
            .cloned()
            .unwrap()
    };
    let (en_curie, fr_curie) = (curie(&en.body), curie(&fr.body));
    for figure in [
        "referrals",
        "per_status",
        "decline_reasons",
        "acceptance_rate",
    ] {
        assert_eq!(
            en_curie["stats"][figure], fr_curie["stats"][figure],
            "figures never change: {figure}"
        );
    }
    let summary = fr_curie["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("Institut Curie a reçu 1 dossier(s) sur la période"),
        "{summary}"
    );
    assert!(
        en_curie["summary"]
            .as_str()
            .unwrap()
            .starts_with("Institut Curie received 1 referral(s) in this period"),
        "{en_curie}"
    );
}

#[actix_web::test]
async fn staff_read_a_referrals_routing_text_in_french() {
    let app = TestApp::new().await;
    let id = app.curie_referral().await;
    let token = app
        .staff("triager@curie.fr", Role::Triager, Some("curie"))
        .await;
    let en = app
        .get(&format!("/v1/referrals/{id}"))
        .token(&token)
        .send()
        .await;
    let fr = app
        .get(&format!("/v1/referrals/{id}"))
        .token(&token)
        .header("Accept-Language", "fr")
        .send()
        .await;
    assert_eq!(fr.status, 200, "{}", fr.body);
    assert_eq!(fr.header("content-language").as_deref(), Some("fr"));
    assert_eq!(fr.header("etag"), en.header("etag"));
    assert_eq!(fr.body["routing"]["matched"], en.body["routing"]["matched"]);
    assert!(
        fr.body["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "Vous avez demandé cet établissement."),
        "{}",
        fr.body
    );
    assert!(
        en.body["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "You asked for this institution."),
        "{}",
        en.body
    );
    assert_ne!(
        fr.body["routing"]["contact_explanation"],
        en.body["routing"]["contact_explanation"]
    );
}
