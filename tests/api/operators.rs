//! Operators run the platform: institutions are data (added, edited, deactivated), accounts are
//! linked to contacts explicitly, and a contact's work can be unassigned or moved in bulk.

use serde_json::{Value, json};

use guichet::domain::taxonomy::Role;

use crate::support::TestApp;
use crate::triage::{etag, inquiry, start_review, submit, transition};

/// new → acknowledged → in_review from the referral's current version; returns the ETag after.
async fn review(app: &TestApp, token: &str, id: &str) -> String {
    let mut tag = etag(app, token, id).await;
    for to in ["acknowledged", "in_review"] {
        let res = transition(app, token, id, &tag, json!({"to": to})).await;
        assert_eq!(res.status, 200, "{}", res.body);
        tag = res.header("etag").unwrap();
    }
    tag
}

fn hegp() -> Value {
    json!({
        "id": "hegp-oncology",
        "name": "HEGP oncology",
        "description": "Thoracic oncology with an early-phase trials unit.",
        "website": "https://www.aphp.fr/hegp",
        "first_response_business_days": 3,
        "decision_business_days": 15,
        "routing_profile": {
            "accepted_inquiry_types": ["clinical_trial"],
            "therapeutic_area_weights": {"prostate": 95},
            "modality_weights": {"radiopharmaceutical": 95},
            "threshold": 40
        }
    })
}

/// The routing fields of [`inquiry`], as the preview takes them.
fn draft(preferred: &[&str]) -> Value {
    let mut v = inquiry(preferred, "Preview");
    let o = v.as_object_mut().unwrap();
    o.retain(|k, _| {
        [
            "inquiry_type",
            "therapeutic_areas",
            "modalities",
            "stage",
            "preferred_institutions",
        ]
        .contains(&k.as_str())
    });
    v
}

/// The platform audit's actions on one institution, oldest first.
async fn institution_actions(app: &TestApp, op: &str, id: &str) -> Vec<(String, Value)> {
    let res = app
        .get(&format!(
            "/v1/audit?object_type=institution&object_id={id}&limit=100"
        ))
        .token(op)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let mut rows: Vec<(String, Value)> = res.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("institution_"))
        .map(|e| (e["action"].as_str().unwrap().to_owned(), e["to"].clone()))
        .collect();
    rows.reverse();
    rows
}

fn ids(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["institution"]["id"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn an_institution_added_by_an_operator_is_routed_to_at_once() {
    let app = TestApp::new().await;
    let op = app.operator().await;
    let res = app
        .post("/v1/institutions")
        .token(&op)
        .json(hegp())
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(
        res.header("location").as_deref(),
        Some("/v1/institutions/hegp-oncology")
    );
    assert_eq!(res.body["active"], true);
    assert_eq!(res.body["first_response_business_days"], 3);
    assert_eq!(res.body["decision_business_days"], 15);
    assert_eq!(res.body["strong_therapeutic_areas"], json!(["prostate"]));

    let list = app.get("/v1/institutions").send().await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 5);
    let preview = app
        .post("/v1/routing/preview")
        .json(draft(&[]))
        .send()
        .await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(ids(&preview.body, "selected").contains(&"hegp-oncology".to_owned()));

    let s = submit(&app, &["hegp-oncology"], "To the newcomer").await;
    assert!(s.referrals.contains_key("hegp-oncology"));
    let report = app.get("/v1/transparency").send().await;
    assert!(
        report.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["institution"]["id"] == "hegp-oncology"),
        "{}",
        report.body
    );
    let admin = app
        .staff(
            "admin@hegp.fr",
            Role::InstitutionAdmin,
            Some("hegp-oncology"),
        )
        .await;
    let stats = app
        .get("/v1/institutions/hegp-oncology/stats")
        .token(&admin)
        .send()
        .await;
    assert_eq!(stats.status, 200, "{}", stats.body);

    assert_eq!(
        institution_actions(&app, &op, "hegp-oncology").await,
        vec![("institution_created".to_owned(), json!("HEGP oncology"))]
    );

    // The slug is taken for good.
    app.post("/v1/institutions")
        .token(&op)
        .json(hegp())
        .send()
        .await
        .assert_problem(409, "institution_exists");
}

#[actix_web::test]
async fn a_new_institution_is_checked_field_by_field_and_only_operators_add_one() {
    let app = TestApp::new().await;
    let op = app.operator().await;
    let admin = app
        .staff("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let with = |patch: Value| {
        let mut body = hegp();
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    let cases = [
        (json!({"id": "-bad"}), "/id", "invalid_slug"),
        (json!({"id": "Curie2"}), "/id", "invalid_slug"),
        (json!({"id": "x"}), "/id", "invalid_slug"),
        (json!({"id": "a".repeat(41)}), "/id", "invalid_slug"),
        (json!({"id": null}), "/id", "required"),
        (json!({"name": null}), "/name", "required"),
        (json!({"name": "n".repeat(201)}), "/name", "too_long"),
        (
            json!({"description": "d".repeat(2001)}),
            "/description",
            "too_long",
        ),
        (json!({"website": null}), "/website", "required"),
        (
            json!({"website": "ftp://example.org"}),
            "/website",
            "invalid_url",
        ),
        (json!({"website": "not a url"}), "/website", "invalid_url"),
        (
            json!({"first_response_business_days": 0}),
            "/first_response_business_days",
            "out_of_range",
        ),
        (
            json!({"decision_business_days": 121}),
            "/decision_business_days",
            "out_of_range",
        ),
        (
            json!({"routing_profile": null}),
            "/routing_profile",
            "required",
        ),
        (
            json!({"routing_profile": {"accepted_inquiry_types": [], "therapeutic_area_weights": {}, "modality_weights": {}, "threshold": 40}}),
            "/routing_profile/accepted_inquiry_types",
            "empty",
        ),
    ];
    for (patch, pointer, code) in cases {
        let res = app
            .post("/v1/institutions")
            .token(&op)
            .json(with(patch.clone()))
            .send()
            .await;
        assert_eq!(res.status, 422, "{patch}: {}", res.body);
        assert!(
            res.field_errors()
                .contains(&(pointer.to_owned(), code.to_owned())),
            "{patch}: {:?}",
            res.field_errors()
        );
    }
    app.post("/v1/institutions")
        .token(&op)
        .json(with(json!({"inquiry_types": ["x"]})))
        .send()
        .await
        .assert_problem(422, "validation_failed");
    app.post("/v1/institutions")
        .token(&admin)
        .json(hegp())
        .send()
        .await
        .assert_problem(403, "forbidden");
    app.post("/v1/institutions")
        .json(hegp())
        .send()
        .await
        .assert_problem(401, "invalid_token");
    assert_eq!(
        app.get("/v1/institutions").send().await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
}

#[actix_web::test]
async fn a_deactivated_institution_gets_nothing_new_and_still_answers_what_it_has() {
    let app = TestApp::new().await;
    let op = app.operator().await;
    let curie = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let aphp = app.staff("t@aphp.fr", Role::Triager, Some("aphp")).await;
    let open = submit(&app, &["curie"], "Before").await;
    let elsewhere = submit(&app, &["aphp"], "At AP-HP").await;

    let res = app
        .patch("/v1/institutions/curie")
        .token(&op)
        .json(json!({"active": false, "description": "Pausing new partnerships until March."}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["active"], false);
    assert_eq!(
        res.body["description"],
        "Pausing new partnerships until March."
    );
    assert_eq!(
        app.get("/v1/institutions/curie").send().await.body["active"],
        false
    );

    // Routing says why, and a submission that asked only for it goes to the desk.
    let preview = app
        .post("/v1/routing/preview")
        .json(draft(&["curie"]))
        .send()
        .await;
    assert_eq!(preview.body["to_desk"], true, "{}", preview.body);
    let curie_line = preview.body["not_selected"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["institution"]["id"] == "curie")
        .unwrap()
        .clone();
    assert_eq!(curie_line["reason"], "institution_inactive");
    assert!(
        curie_line["explanation"]
            .as_str()
            .unwrap()
            .contains("not taking new inquiries"),
        "{curie_line}"
    );
    let after = submit(&app, &[], "After, anywhere").await;
    assert!(!after.referrals.contains_key("curie"));

    // Its open referral is still worked.
    let id = &open.referrals["curie"];
    start_review(&app, &curie, id).await;

    // Nothing new by hand or by forward either.
    let desk = app.get("/v1/desk").token(&op).send().await;
    let on_desk = desk.body["items"][0]["id"].as_str().map(str::to_owned);
    if let Some(inquiry_id) = on_desk {
        app.post(&format!("/v1/inquiries/{inquiry_id}/route"))
            .token(&op)
            .json(json!({"institutions": ["curie"]}))
            .send()
            .await
            .assert_problem(409, "institution_inactive");
    }
    let forwarded = &elsewhere.referrals["aphp"];
    let tag = start_review(&app, &aphp, forwarded).await;
    transition(
        &app,
        &aphp,
        forwarded,
        &tag,
        json!({"to": "forwarded", "forward_to": "curie", "reason_text": "Their field."}),
    )
    .await
    .assert_problem(409, "institution_inactive");

    // Back in service: routed to again.
    let res = app
        .patch("/v1/institutions/curie")
        .token(&op)
        .json(json!({"active": true}))
        .send()
        .await;
    assert_eq!(res.body["active"], true);
    let back = submit(&app, &["curie"], "Back").await;
    assert!(back.referrals.contains_key("curie"));
    assert_eq!(
        institution_actions(&app, &op, "curie").await,
        vec![
            (
                "institution_deactivated".to_owned(),
                json!("description,active")
            ),
            ("institution_reactivated".to_owned(), json!("active")),
        ]
    );
}

#[actix_web::test]
async fn an_institution_edit_is_checked_and_the_slug_never_changes() {
    let app = TestApp::new().await;
    let op = app.operator().await;
    let admin = app
        .staff("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let res = app
        .patch("/v1/institutions/curie")
        .token(&op)
        .json(json!({"name": "Institut Curie (Paris)", "first_response_business_days": 4.0, "website": "https://curie.fr/en"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["id"], "curie");
    assert_eq!(res.body["name"], "Institut Curie (Paris)");
    assert_eq!(res.body["first_response_business_days"], 4);
    // A new referral takes the new target; the profile version did not move.
    let profile = app
        .get("/v1/institutions/curie/routing-profile")
        .token(&op)
        .send()
        .await;
    assert_eq!(profile.header("etag").as_deref(), Some("\"1\""));

    for (body, pointer, code) in [
        (json!({"id": "institut-curie"}), "/id", "unknown_field"),
        (json!({"name": " "}), "/name", "required"),
        (json!({"name": null}), "/name", "invalid_type"),
        (
            json!({"website": "mailto:x@curie.fr"}),
            "/website",
            "invalid_url",
        ),
        (
            json!({"decision_business_days": 0}),
            "/decision_business_days",
            "out_of_range",
        ),
        (json!({"active": "no"}), "/active", "invalid_type"),
        (
            json!({"first_response_business_days": 3.5}),
            "/first_response_business_days",
            "invalid_type",
        ),
        (
            json!({"first_response_business_days": null}),
            "/first_response_business_days",
            "invalid_type",
        ),
        (
            json!({"decision_business_days": "5"}),
            "/decision_business_days",
            "invalid_type",
        ),
    ] {
        let res = app
            .patch("/v1/institutions/curie")
            .token(&op)
            .json(body.clone())
            .send()
            .await;
        assert_eq!(res.status, 422, "{body}: {}", res.body);
        let errors = res.field_errors();
        assert!(
            errors
                .iter()
                .any(|(p, c)| p == pointer && (c == code || code == "unknown_field")),
            "{body}: {errors:?}"
        );
    }
    app.patch("/v1/institutions/curie")
        .token(&admin)
        .json(json!({"active": false}))
        .send()
        .await
        .assert_problem(403, "forbidden");
    app.patch("/v1/institutions/nowhere")
        .token(&op)
        .json(json!({"active": false}))
        .send()
        .await
        .assert_problem(404, "not_found");
    assert_eq!(
        app.get("/v1/institutions/curie").send().await.body["active"],
        true
    );
}

/// Assigns a referral to a contact with its current ETag; the answer.
async fn assign(app: &TestApp, token: &str, id: &str, contact: &str) -> crate::support::Response {
    let tag = etag(app, token, id).await;
    let res = app
        .post(&format!("/v1/referrals/{id}/assignee"))
        .token(token)
        .header("If-Match", &tag)
        .json(json!({"contact_id": contact}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    res
}

async fn contact(app: &TestApp, token: &str, institution: &str, email: &str) -> String {
    let res = app
        .post(&format!("/v1/institutions/{institution}/contacts"))
        .token(token)
        .json(json!({"name": email, "email": email}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    res.body["id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn assigned_to_me_follows_the_explicit_link_not_a_matching_e_mail() {
    let app = TestApp::new().await;
    let op = app.operator().await;
    let claire_contact = contact(&app, &op, "curie", "claire@curie.fr").await;
    let aphp_contact = contact(&app, &op, "aphp", "x@aphp.fr").await;
    let claire_id = app
        .user("claire@curie.fr", Role::Triager, Some("curie"))
        .await;
    let (claire, _) = app.login("claire@curie.fr").await;
    let other_id = app
        .user("other@curie.fr", Role::Triager, Some("curie"))
        .await;

    let s = submit(&app, &["curie"], "Mine").await;
    let id = &s.referrals["curie"];
    assign(&app, &op, id, &claire_contact).await;

    let mine = |token: String| {
        let app = &app;
        async move {
            app.get("/v1/referrals?assigned=me")
                .token(&token)
                .send()
                .await
                .body["items"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    // Same e-mail, no link: nothing is "mine".
    assert_eq!(mine(claire.clone()).await, 0);
    let user = |uid: &str| format!("/v1/institutions/curie/users/{uid}");
    let res = app
        .patch(&user(&claire_id))
        .token(&op)
        .json(json!({"contact_id": claire_contact}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["contact_id"], claire_contact.as_str());
    assert_eq!(mine(claire.clone()).await, 1);

    // One account per contact; only an active contact of the same institution.
    app.patch(&user(&other_id))
        .token(&op)
        .json(json!({"contact_id": claire_contact}))
        .send()
        .await
        .assert_problem(409, "contact_linked");
    app.patch(&user(&other_id))
        .token(&op)
        .json(json!({"contact_id": aphp_contact}))
        .send()
        .await
        .assert_problem(422, "validation_failed");
    let res = app
        .patch(&user(&other_id))
        .token(&op)
        .json(json!({"contact_id": "not-a-uuid\u{1}"}))
        .send()
        .await;
    assert_eq!(
        res.field_errors(),
        vec![("/contact_id".into(), "unknown_contact".into())]
    );
    app.patch(&user(&other_id))
        .token(&op)
        .json(json!({"contact_id": ""}))
        .send()
        .await
        .assert_problem(422, "validation_failed");
    let idle = contact(&app, &op, "curie", "idle@curie.fr").await;
    app.patch(&format!("/v1/institutions/curie/contacts/{idle}"))
        .token(&op)
        .json(json!({"active": false}))
        .send()
        .await;
    app.patch(&user(&other_id))
        .token(&op)
        .json(json!({"contact_id": idle}))
        .send()
        .await
        .assert_problem(409, "inactive_contact");

    // An account may be created linked, and `null` unlinks.
    let new_contact = contact(&app, &op, "curie", "new@curie.fr").await;
    let res = app
        .post("/v1/institutions/curie/users")
        .token(&op)
        .json(json!({"email": "new@curie.fr", "password": "long enough pass", "role": "triager", "contact_id": new_contact}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(res.body["contact_id"], new_contact.as_str());
    app.post("/v1/institutions/curie/users")
        .token(&op)
        .json(json!({"email": "dup@curie.fr", "password": "long enough pass", "role": "triager", "contact_id": new_contact}))
        .send()
        .await
        .assert_problem(409, "contact_linked");
    let res = app
        .patch(&user(&claire_id))
        .token(&op)
        .json(json!({"contact_id": null}))
        .send()
        .await;
    assert_eq!(res.body["contact_id"], Value::Null);
    assert_eq!(mine(claire).await, 0);
}

#[actix_web::test]
async fn a_referral_is_unassigned_with_if_match_and_the_change_is_published() {
    let app = TestApp::new().await;
    let op = app.operator().await;
    let curie = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let aphp = app.staff("t@aphp.fr", Role::Triager, Some("aphp")).await;
    let c = contact(&app, &op, "curie", "c@curie.fr").await;
    let s = submit(&app, &["curie"], "Unassign").await;
    let id = &s.referrals["curie"];
    let res = assign(&app, &curie, id, &c).await;
    let tag = res.header("etag").unwrap();

    let path = format!("/v1/referrals/{id}/assignee");
    app.delete(&path)
        .token(&curie)
        .send()
        .await
        .assert_problem(428, "if_match_required");
    app.delete(&path)
        .token(&curie)
        .header("If-Match", "\"1\"")
        .send()
        .await
        .assert_problem(412, "stale_version");
    app.delete(&path)
        .token(&aphp)
        .header("If-Match", &tag)
        .send()
        .await
        .assert_problem(404, "not_found");
    let res = app
        .delete(&path)
        .token(&curie)
        .header("If-Match", &tag)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["assigned_contact"], Value::Null);
    assert_ne!(res.header("etag"), Some(tag.clone()));
    let unassigned_tag = res.header("etag").unwrap();
    // Nobody holds it: nothing changes, the version stays.
    let again = app
        .delete(&path)
        .token(&curie)
        .header("If-Match", &unassigned_tag)
        .send()
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.header("etag"), Some(unassigned_tag));

    let events = app
        .get(&format!("/v1/referrals/{id}/events"))
        .token(&curie)
        .send()
        .await;
    let actions: Vec<&str> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "unassigned").count(),
        1,
        "{actions:?}"
    );
    let feed = crate::webhooks::feed(&app, &curie, "?types=referral.unassigned").await;
    let items = feed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{feed}");
    assert_eq!(items[0]["data"]["previous_contact_id"], c.as_str());
    assert_eq!(items[0]["data"]["referral_id"], id.as_str());
}

#[actix_web::test]
async fn a_deactivated_contacts_open_referrals_are_listed_and_moved_in_one_call() {
    let app = TestApp::new().await;
    let op = app.operator().await;
    let admin = app
        .staff("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let triager = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let leaving = contact(&app, &op, "curie", "leaving@curie.fr").await;
    let taking = contact(&app, &op, "curie", "taking@curie.fr").await;
    let elsewhere = contact(&app, &op, "aphp", "x@aphp.fr").await;
    let mut moved = Vec::new();
    for n in 0..3 {
        let s = submit(&app, &["curie"], &format!("Open {n}")).await;
        let id = s.referrals["curie"].clone();
        assign(&app, &admin, &id, &leaving).await;
        moved.push(id);
    }
    // A closed one stays where it was.
    let closed = moved.pop().unwrap();
    let tag = review(&app, &admin, &closed).await;
    let res = transition(
        &app,
        &admin,
        &closed,
        &tag,
        json!({"to": "accepted", "message": "Yes."}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);

    let contact_path = format!("/v1/institutions/curie/contacts/{leaving}");
    let res = app
        .patch(&contact_path)
        .token(&admin)
        .json(json!({"active": false}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["active"], false);
    assert_eq!(res.body["open_referrals"], 2);
    let listed = app
        .get(&format!("/v1/referrals?assigned={leaving}&status=new"))
        .token(&admin)
        .send()
        .await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2);

    let reassign = format!("{contact_path}/reassign");
    for (body, status, code) in [
        (json!({"to_contact_id": leaving}), 409, "same_contact"),
        (
            json!({"to_contact_id": elsewhere}),
            422,
            "validation_failed",
        ),
        (
            json!({"to_contact_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f"}),
            422,
            "validation_failed",
        ),
        (json!({}), 422, "validation_failed"),
        (json!({"to_contact_id": 7}), 422, "validation_failed"),
    ] {
        app.post(&reassign)
            .token(&admin)
            .json(body)
            .send()
            .await
            .assert_problem(status, code);
    }
    app.post(&reassign)
        .token(&triager)
        .json(json!({"to_contact_id": taking}))
        .send()
        .await
        .assert_problem(403, "forbidden");
    app.post(&format!(
        "/v1/institutions/aphp/contacts/{leaving}/reassign"
    ))
    .token(&admin)
    .json(json!({"to_contact_id": taking}))
    .send()
    .await
    .assert_problem(404, "not_found");

    let res = app
        .post(&reassign)
        .token(&admin)
        .json(json!({"to_contact_id": taking}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["moved"], 2);
    let mut got: Vec<String> = res.body["referral_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    got.sort();
    moved.sort();
    assert_eq!(got, moved);
    let left = app.get(&contact_path).token(&admin).send().await;
    assert_eq!(left.body["open_referrals"], 0);
    let taken = app
        .get(&format!("/v1/institutions/curie/contacts/{taking}"))
        .token(&admin)
        .send()
        .await;
    assert_eq!(taken.body["open_referrals"], 2);
    // Each move is a reassignment like any other: versioned and in the audit trail.
    for id in &moved {
        let r = app
            .get(&format!("/v1/referrals/{id}"))
            .token(&admin)
            .send()
            .await;
        assert_eq!(r.body["assigned_contact"]["id"], taking.as_str());
        assert_eq!(r.header("etag").as_deref(), Some("\"3\""));
    }
    let closed_now = app
        .get(&format!("/v1/referrals/{closed}"))
        .token(&admin)
        .send()
        .await;
    assert_eq!(closed_now.body["assigned_contact"]["id"], leaving.as_str());

    // Moving to nobody leaves them unassigned; the target may not be deactivated.
    app.post(&format!(
        "/v1/institutions/curie/contacts/{taking}/reassign"
    ))
    .token(&admin)
    .json(json!({"to_contact_id": leaving}))
    .send()
    .await
    .assert_problem(409, "inactive_contact");
    let res = app
        .post(&format!(
            "/v1/institutions/curie/contacts/{taking}/reassign"
        ))
        .token(&admin)
        .json(json!({"to_contact_id": null}))
        .send()
        .await;
    assert_eq!(res.body["moved"], 2, "{}", res.body);
    assert_eq!(res.body["to_contact_id"], Value::Null);
    for id in &moved {
        let r = app
            .get(&format!("/v1/referrals/{id}"))
            .token(&admin)
            .send()
            .await;
        assert_eq!(r.body["assigned_contact"], Value::Null);
    }
}
