//! Intake, routing, tracking, idempotency, the desk and routing profiles.

use std::collections::BTreeSet;

use futures_util::future::join_all;
use serde_json::{Value, json};

use guichet::domain::taxonomy::Role;
use guichet::service::Limits;

use crate::support::{Response, TestApp, psma_inquiry};
use crate::triage::{actions, all_pages, start_review, submit, transition};

fn radioligand_trial() -> Value {
    json!({
        "submitter": {"organization": "Helios Therapeutics", "organization_type": "biotech", "name": "Dr Anna Keller", "email": "anna.keller@helios-tx.example", "country": "DE"},
        "inquiry_type": "clinical_trial",
        "title": "Phase 1 trial site for a PSMA-targeted radioligand",
        "summary": "First-in-human trial of a lutetium-177 PSMA radioligand in metastatic castration-resistant prostate cancer.",
        "therapeutic_areas": ["prostate"],
        "modalities": ["radiopharmaceutical"],
        "stage": "phase_1",
        "keywords": ["PSMA"],
        "non_confidential": true
    })
}

fn institutions_of(body: &Value) -> BTreeSet<String> {
    body["referrals"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| r["institution"]["id"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[actix_web::test]
async fn a_submission_fans_out_into_explained_referrals() {
    let app = TestApp::new().await;
    let res = app
        .post("/v1/inquiries")
        .json(radioligand_trial())
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let id = res.body["id"].as_str().unwrap();
    assert_eq!(res.header("location"), Some(format!("/v1/inquiries/{id}")));
    let year = chrono::Utc::now().format("%Y").to_string();
    assert_eq!(res.body["reference"], format!("GU-{year}-000001"));
    assert_eq!(res.body["status"], "submitted");
    let institutions = institutions_of(&res.body);
    assert!(institutions.contains("gustave-roussy"), "{institutions:?}");
    assert!(
        !institutions.contains("pasteur"),
        "Pasteur does not place clinical trials"
    );
    for r in res.body["referrals"].as_array().unwrap() {
        assert_eq!(r["status"], "new");
        assert!(!r["reasons"].as_array().unwrap().is_empty());
        assert!(r["first_response_due_at"].as_str().unwrap().ends_with('Z'));
    }
    assert!(res.body["tracking_token"].as_str().unwrap().len() >= 40);
    let second = app
        .post("/v1/inquiries")
        .json(radioligand_trial())
        .send()
        .await;
    assert_eq!(second.body["reference"], format!("GU-{year}-000002"));
}

#[actix_web::test]
async fn the_submitter_follows_with_the_token_and_a_guess_looks_missing() {
    let app = TestApp::new().await;
    let res = app
        .post("/v1/inquiries")
        .json(radioligand_trial())
        .send()
        .await;
    let id = res.body["id"].as_str().unwrap().to_owned();
    let token = res.body["tracking_token"].as_str().unwrap().to_owned();
    let got = app
        .get(&format!("/v1/inquiries/{id}"))
        .header("X-Tracking-Token", &token)
        .send()
        .await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.body["reference"], res.body["reference"]);
    assert_eq!(
        got.body["submitter"]["email"],
        "anna.keller@helios-tx.example"
    );
    assert_eq!(institutions_of(&got.body), institutions_of(&res.body));
    let text = got.body.to_string();
    assert!(
        !text.contains("contact_id") && !text.contains("score"),
        "no staff data: {text}"
    );

    let wrong = app
        .get(&format!("/v1/inquiries/{id}"))
        .header("X-Tracking-Token", "guessed-token")
        .send()
        .await;
    let missing_token = app.get(&format!("/v1/inquiries/{id}")).send().await;
    let missing_inquiry = app
        .get("/v1/inquiries/01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f")
        .header("X-Tracking-Token", &token)
        .send()
        .await;
    for r in [&wrong, &missing_token, &missing_inquiry] {
        r.assert_problem(404, "not_found");
        assert_eq!(r.body["detail"], wrong.body["detail"]);
    }
}

#[actix_web::test]
async fn guessing_tokens_is_throttled() {
    let app = TestApp::with_limits(Limits {
        tracking_failures_per_address: 3,
        ..Limits::default()
    })
    .await;
    let res = app
        .post("/v1/inquiries")
        .json(radioligand_trial())
        .send()
        .await;
    let id = res.body["id"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        app.get(&format!("/v1/inquiries/{id}"))
            .header("X-Tracking-Token", "guess")
            .send()
            .await
            .assert_problem(404, "not_found");
    }
    let res = app
        .get(&format!("/v1/inquiries/{id}"))
        .header("X-Tracking-Token", "guess")
        .send()
        .await;
    res.assert_problem(429, "too_many_requests");
    assert!(res.header("retry-after").is_some());
}

#[actix_web::test]
async fn every_wrong_field_of_a_submission_is_reported() {
    let app = TestApp::new().await;
    let res = app
        .post("/v1/inquiries")
        .json(json!({
            "submitter": {"organization": "", "organization_type": "bank", "name": "A", "email": "nope", "country": "France"},
            "inquiry_type": "partnership",
            "title": "t".repeat(201),
            "summary": "s".repeat(5001),
            "therapeutic_areas": [],
            "modalities": ["adc", "adc"],
            "keywords": ["a","b","c","d","e","f","g","h","i","j","k"],
            "non_confidential": false,
            "budget": 10
        }))
        .send()
        .await;
    res.assert_problem(422, "validation_failed");
    let errors = res.field_errors();
    for expected in [
        ("/budget", "unknown_field"),
        ("/inquiry_type", "invalid_enum"),
        ("/keywords", "too_many"),
        ("/modalities/1", "duplicate"),
        ("/non_confidential", "must_be_true"),
        ("/stage", "required"),
        ("/submitter/country", "too_long"),
        ("/submitter/email", "invalid_email"),
        ("/submitter/organization", "required"),
        ("/submitter/organization_type", "invalid_enum"),
        ("/summary", "too_long"),
        ("/therapeutic_areas", "required"),
        ("/title", "too_long"),
    ] {
        assert!(
            errors.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} missing from {errors:?}"
        );
    }
    let res = app.post("/v1/inquiries").json(json!({})).send().await;
    let pointers: BTreeSet<String> = res.field_errors().into_iter().map(|(p, _)| p).collect();
    for p in [
        "/submitter",
        "/inquiry_type",
        "/title",
        "/summary",
        "/therapeutic_areas",
        "/stage",
        "/non_confidential",
    ] {
        assert!(pointers.contains(p), "{p} not reported: {pointers:?}");
    }
    let mut body = radioligand_trial();
    body["submitter"]["country"] = json!("XX");
    body["preferred_institutions"] = json!(["mayo"]);
    body["therapeutic_areas"] = json!([
        "breast",
        "lung",
        "prostate",
        "sarcoma",
        "thyroid_endocrine",
        "pediatric"
    ]);
    let res = app.post("/v1/inquiries").json(body).send().await;
    assert_eq!(
        res.field_errors(),
        vec![
            ("/submitter/country".into(), "invalid_country".into()),
            ("/therapeutic_areas".into(), "too_many".into()),
        ]
    );
    let mut body = radioligand_trial();
    body["preferred_institutions"] = json!(["curie", "mayo"]);
    let res = app.post("/v1/inquiries").json(body).send().await;
    assert_eq!(
        res.field_errors(),
        vec![(
            "/preferred_institutions/1".into(),
            "unknown_institution".into()
        )]
    );
}

#[actix_web::test]
async fn a_retry_with_the_same_key_replays_the_first_response() {
    let app = TestApp::new().await;
    let first = app
        .post("/v1/inquiries")
        .header("Idempotency-Key", "retry-1")
        .json(radioligand_trial())
        .send()
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    let again = app
        .post("/v1/inquiries")
        .header("Idempotency-Key", "retry-1")
        .json(radioligand_trial())
        .send()
        .await;
    assert_eq!(again.status, 201);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(
        again.body, first.body,
        "same id, reference, referrals and token"
    );
    let token = first.body["tracking_token"].as_str().unwrap();
    let id = first.body["id"].as_str().unwrap();
    let got = app
        .get(&format!("/v1/inquiries/{id}"))
        .header("X-Tracking-Token", token)
        .send()
        .await;
    assert_eq!(got.status, 200);

    let mut other = radioligand_trial();
    other["title"] = json!("Another trial");
    let res = app
        .post("/v1/inquiries")
        .header("Idempotency-Key", "retry-1")
        .json(other)
        .send()
        .await;
    res.assert_problem(422, "validation_failed");
    assert_eq!(
        res.field_errors(),
        vec![("".into(), "idempotency_key_reused".into())]
    );
}

#[actix_web::test]
async fn twenty_concurrent_identical_submissions_make_one_inquiry() {
    let app = TestApp::new().await;
    let requests = (0..20).map(|_| {
        app.post("/v1/inquiries")
            .header("Idempotency-Key", "burst-7")
            .json(radioligand_trial())
            .send()
    });
    let responses = join_all(requests).await;
    let ids: BTreeSet<String> = responses
        .iter()
        .map(|r| {
            assert_eq!(r.status, 201, "{}", r.body);
            r.body["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let tokens: BTreeSet<&str> = responses
        .iter()
        .map(|r| r.body["tracking_token"].as_str().unwrap())
        .collect();
    assert_eq!(tokens.len(), 1);
    // No reference number was consumed by the losers.
    let next = app
        .post("/v1/inquiries")
        .json(radioligand_trial())
        .send()
        .await;
    assert!(
        next.body["reference"]
            .as_str()
            .unwrap()
            .ends_with("-000002"),
        "{}",
        next.body
    );
}

#[actix_web::test]
async fn concurrent_submissions_get_distinct_sequential_references() {
    let app = TestApp::new().await;
    let responses =
        join_all((0..10).map(|_| app.post("/v1/inquiries").json(radioligand_trial()).send())).await;
    let mut numbers: Vec<u32> = responses
        .iter()
        .map(|r| {
            assert_eq!(r.status, 201, "{}", r.body);
            r.body["reference"]
                .as_str()
                .unwrap()
                .rsplit('-')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    numbers.sort();
    assert_eq!(numbers, (1..=10).collect::<Vec<u32>>());
}

#[actix_web::test]
async fn anonymous_submissions_are_rate_limited_per_address() {
    let app = TestApp::with_limits(Limits {
        submissions_per_minute: 2,
        ..Limits::default()
    })
    .await;
    for _ in 0..2 {
        let res = app
            .post("/v1/inquiries")
            .peer("203.0.113.9:555")
            .json(radioligand_trial())
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.body);
    }
    let res = app
        .post("/v1/inquiries")
        .peer("203.0.113.9:555")
        .json(radioligand_trial())
        .send()
        .await;
    res.assert_problem(429, "too_many_requests");
    let wait: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait));
    let other = app
        .post("/v1/inquiries")
        .peer("203.0.113.10:555")
        .json(radioligand_trial())
        .send()
        .await;
    assert_eq!(other.status, 201);
}

#[actix_web::test]
async fn the_preview_matches_the_real_routing() {
    let app = TestApp::new().await;
    for (inquiry_type, areas, modalities, stage) in [
        (
            "clinical_trial",
            json!(["prostate"]),
            json!(["radiopharmaceutical"]),
            "phase_1",
        ),
        (
            "licensing",
            json!(["pediatric"]),
            json!(["cell_therapy"]),
            "preclinical",
        ),
        (
            "data_access",
            json!(["colorectal"]),
            json!(["microbiome"]),
            "not_applicable",
        ),
    ] {
        let preview = app
            .post("/v1/routing/preview")
            .json(json!({"inquiry_type": inquiry_type, "therapeutic_areas": areas, "modalities": modalities, "stage": stage}))
            .send()
            .await;
        assert_eq!(preview.status, 200, "{}", preview.body);
        let mut body = radioligand_trial();
        body["inquiry_type"] = json!(inquiry_type);
        body["therapeutic_areas"] = areas.clone();
        body["modalities"] = modalities.clone();
        body["stage"] = json!(stage);
        let real = app.post("/v1/inquiries").json(body).send().await;
        let previewed: Vec<(Value, Value)> = preview.body["selected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["institution"]["id"].clone(), s["reasons"].clone()))
            .collect();
        let routed: Vec<(Value, Value)> = real.body["referrals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["institution"]["id"].clone(), r["reasons"].clone()))
            .collect();
        assert_eq!(previewed, routed, "{inquiry_type}");
        let all = preview.body["selected"].as_array().unwrap().len()
            + preview.body["not_selected"].as_array().unwrap().len();
        assert_eq!(all, 4, "every institution is explained");
    }
}

#[actix_web::test]
async fn the_desk_takes_the_queues_filters_and_says_why_each_inquiry_waits() {
    let app = TestApp::new().await;
    let op = app.operator().await;
    let desk_inquiry = |org: &str,
                        kind: &str,
                        title: &str,
                        areas: Value,
                        modalities: Value,
                        stage: &str,
                        preferred: Value| {
        let mut body = radioligand_trial();
        body["submitter"]["organization"] = json!(org);
        body["inquiry_type"] = json!(kind);
        body["title"] = json!(title);
        body["therapeutic_areas"] = areas;
        body["modalities"] = modalities;
        body["stage"] = json!(stage);
        body["preferred_institutions"] = preferred;
        body
    };
    let bodies = [
        // No institution takes `other`.
        desk_inquiry(
            "Nordlicht Capital",
            "other",
            "Seed fund for spin-offs",
            json!(["pan_tumor"]),
            json!([]),
            "not_applicable",
            json!([]),
        ),
        // The only institution asked for does not take clinical trials.
        desk_inquiry(
            "Helios Therapeutics",
            "clinical_trial",
            "Digestive trial sites",
            json!(["digestive"]),
            json!([]),
            "phase_1",
            json!(["pasteur"]),
        ),
        // Everyone takes investments, but no profile is close enough.
        desk_inquiry(
            "Helios Therapeutics",
            "investment",
            "Thyroid device at discovery",
            json!(["thyroid_endocrine"]),
            json!(["medical_device"]),
            "discovery",
            json!([]),
        ),
    ];
    let mut made = Vec::new();
    for body in bodies {
        let res = app.post("/v1/inquiries").json(body).send().await;
        assert_eq!(res.status, 201, "{}", res.body);
        assert_eq!(res.body["status"], "on_desk", "{}", res.body);
        made.push(res.body);
    }
    // Routed by the rules: never on the desk.
    let routed = app
        .post("/v1/inquiries")
        .json(radioligand_trial())
        .send()
        .await;
    assert_eq!(routed.body["status"], "submitted");
    let id = |i: usize| made[i]["id"].as_str().unwrap().to_owned();
    let reference = |i: usize| made[i]["reference"].as_str().unwrap().to_owned();
    let list = |query: String| {
        let app = &app;
        let op = op.clone();
        async move {
            let res = app
                .get(&format!("/v1/desk?{query}"))
                .token(&op)
                .send()
                .await;
            assert_eq!(res.status, 200, "{query}: {}", res.body);
            res
        }
    };
    let ids_of = |res: &crate::support::Response| -> Vec<String> {
        res.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect()
    };

    let all = list(String::new()).await;
    assert_eq!(ids_of(&all), vec![id(0), id(1), id(2)], "oldest first");
    let codes: Vec<&str> = all.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["desk_reason"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        vec![
            "inquiry_type_not_accepted",
            "preferred_type_not_accepted",
            "below_threshold"
        ]
    );
    for (i, item) in all.body["items"].as_array().unwrap().iter().enumerate() {
        assert_eq!(
            item["desk_reason"]["explanation"], made[i]["desk_reason"],
            "the sentence the submitter was shown"
        );
    }
    assert_eq!(
        all.body["items"][2]["modalities"],
        json!(["medical_device"])
    );

    let cases: Vec<(String, Vec<String>)> = vec![
        ("sort=newest".into(), vec![id(2), id(1), id(0)]),
        ("sort=oldest".into(), vec![id(0), id(1), id(2)]),
        ("inquiry_type=other".into(), vec![id(0)]),
        ("therapeutic_area=digestive".into(), vec![id(1)]),
        ("modality=medical_device".into(), vec![id(2)]),
        ("q=NORDLICHT".into(), vec![id(0)]),
        ("q=helios&sort=newest".into(), vec![id(2), id(1)]),
        ("q=thyroid".into(), vec![id(2)]),
        (format!("q={}", reference(2).to_lowercase()), vec![id(2)]),
        (
            format!("q={}", reference(1).rsplit('-').next().unwrap()),
            vec![id(1)],
        ),
        (
            format!("reference={}", reference(1).to_lowercase()),
            vec![id(1)],
        ),
        (
            format!("reference={}", routed.body["reference"].as_str().unwrap()),
            vec![],
        ),
        ("created_after=2999-01-01T00:00:00Z".into(), vec![]),
        (
            "created_after=2020-01-01T00:00:00Z&created_before=2999-01-01T00:00:00Z".into(),
            vec![id(0), id(1), id(2)],
        ),
        ("created_before=2020-01-01T00:00:00Z".into(), vec![]),
    ];
    for (query, expected) in cases {
        assert_eq!(ids_of(&list(query.clone()).await), expected, "{query}");
    }

    // Pages, with the filters that made the cursor.
    let mut seen = Vec::new();
    let mut query = "limit=1&sort=newest".to_owned();
    loop {
        let page = list(query.clone()).await;
        seen.extend(ids_of(&page));
        match page.body["next_cursor"].as_str() {
            Some(c) => query = format!("limit=1&sort=newest&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, vec![id(2), id(1), id(0)]);
    let first = list("limit=1".into()).await;
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    assert_eq!(
        ids_of(&list(format!("limit=2&cursor={cursor}")).await),
        vec![id(1), id(2)]
    );
    for other in ["sort=newest", "q=helios", "inquiry_type=other"] {
        app.get(&format!("/v1/desk?limit=1&{other}&cursor={cursor}"))
            .token(&op)
            .send()
            .await
            .assert_problem(400, "cursor_filters_changed");
    }

    for (query, code) in [
        ("cursor=xyz".to_owned(), "invalid_cursor"),
        ("inquiry_type=loan".to_owned(), "invalid_query"),
        ("therapeutic_area=lungs".to_owned(), "invalid_query"),
        ("reference=GU-2026".to_owned(), "invalid_query"),
        (format!("q={}", "x".repeat(201)), "invalid_query"),
        ("sort=due".to_owned(), "invalid_query"),
        ("created_after=yesterday".to_owned(), "invalid_query"),
        ("status=new".to_owned(), "invalid_query"),
        ("limit=0".to_owned(), "invalid_limit"),
    ] {
        app.get(&format!("/v1/desk?{query}"))
            .token(&op)
            .send()
            .await
            .assert_problem(400, code);
    }
}

#[actix_web::test]
async fn an_inquiry_nobody_takes_waits_on_the_desk_until_an_operator_routes_it() {
    let app = TestApp::new().await;
    let mut body = radioligand_trial();
    body["inquiry_type"] = json!("other");
    let res = app.post("/v1/inquiries").json(body).send().await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(res.body["status"], "on_desk");
    assert!(
        res.body["desk_reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );
    assert_eq!(res.body["referrals"], json!([]));
    let id = res.body["id"].as_str().unwrap().to_owned();
    let token = res.body["tracking_token"].as_str().unwrap().to_owned();

    let op = app.operator().await;
    let desk = app.get("/v1/desk").token(&op).send().await;
    assert_eq!(desk.status, 200, "{}", desk.body);
    assert_eq!(desk.body["items"][0]["id"], id.as_str());
    let triager = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    app.get("/v1/desk")
        .token(&triager)
        .send()
        .await
        .assert_problem(403, "forbidden");

    let routed = app
        .post(&format!("/v1/inquiries/{id}/routing"))
        .token(&op)
        .json(json!({"institutions": ["curie"]}))
        .send()
        .await;
    assert_eq!(routed.status, 200, "{}", routed.body);
    assert_eq!(
        institutions_of(&routed.body),
        BTreeSet::from(["curie".to_owned()])
    );
    let again = app
        .post(&format!("/v1/inquiries/{id}/routing"))
        .token(&op)
        .json(json!({"institutions": ["curie"]}))
        .send()
        .await;
    again.assert_problem(409, "already_referred");
    let desk = app.get("/v1/desk").token(&op).send().await;
    assert_eq!(desk.body["items"], json!([]));
    let seen = app
        .get(&format!("/v1/inquiries/{id}"))
        .header("X-Tracking-Token", &token)
        .send()
        .await;
    assert_eq!(seen.body["status"], "submitted");
    assert_eq!(
        seen.body["referrals"][0]["institution"]["name"],
        "Institut Curie"
    );
}

#[actix_web::test]
async fn the_submitter_answers_and_withdraws() {
    let app = TestApp::new().await;
    let res = app
        .post("/v1/inquiries")
        .json(radioligand_trial())
        .send()
        .await;
    let id = res.body["id"].as_str().unwrap().to_owned();
    let token = res.body["tracking_token"].as_str().unwrap().to_owned();
    let referral = res.body["referrals"][0]["id"].as_str().unwrap().to_owned();
    let msg = app
        .post(&format!("/v1/inquiries/{id}/referrals/{referral}/messages"))
        .header("X-Tracking-Token", &token)
        .json(json!({"body": "Our dosimetry data are ready to share."}))
        .send()
        .await;
    assert_eq!(msg.status, 201, "{}", msg.body);
    assert_eq!(msg.body["author"], "submitter");
    let got = app
        .get(&format!("/v1/inquiries/{id}"))
        .header("X-Tracking-Token", &token)
        .send()
        .await;
    let thread = got.body["referrals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == referral.as_str())
        .unwrap()["messages"]
        .clone();
    assert_eq!(thread[0]["body"], "Our dosimetry data are ready to share.");
    app.post(&format!("/v1/inquiries/{id}/referrals/{referral}/messages"))
        .header("X-Tracking-Token", "wrong")
        .json(json!({"body": "hello"}))
        .send()
        .await
        .assert_problem(404, "not_found");
    app.post(&format!(
        "/v1/inquiries/{id}/referrals/01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f/messages"
    ))
    .header("X-Tracking-Token", &token)
    .json(json!({"body": "hello"}))
    .send()
    .await
    .assert_problem(404, "not_found");
    let res = app
        .post(&format!("/v1/inquiries/{id}/referrals/{referral}/messages"))
        .header("X-Tracking-Token", &token)
        .json(json!({"body": "x".repeat(10_001)}))
        .send()
        .await;
    assert_eq!(
        res.field_errors(),
        vec![("/body".into(), "too_long".into())]
    );

    let withdrawn = app
        .post(&format!("/v1/inquiries/{id}/withdraw"))
        .header("X-Tracking-Token", &token)
        .send()
        .await;
    assert_eq!(withdrawn.status, 200, "{}", withdrawn.body);
    assert_eq!(withdrawn.body["status"], "withdrawn");
    for r in withdrawn.body["referrals"].as_array().unwrap() {
        assert_eq!(r["status"], "withdrawn");
    }
    app.post(&format!("/v1/inquiries/{id}/withdraw"))
        .header("X-Tracking-Token", &token)
        .send()
        .await
        .assert_problem(409, "nothing_to_withdraw");
    app.post(&format!("/v1/inquiries/{id}/referrals/{referral}/messages"))
        .header("X-Tracking-Token", &token)
        .json(json!({"body": "still there?"}))
        .send()
        .await
        .assert_problem(409, "referral_closed");
}

async fn withdraw(app: &TestApp, id: &str, token: &str, body: Option<Value>) -> Response {
    let req = app
        .post(&format!("/v1/inquiries/{id}/withdraw"))
        .header("X-Tracking-Token", token);
    match body {
        Some(b) => req.json(b).send().await,
        None => req.send().await,
    }
}

fn status_of(view: &Value, institution: &str) -> String {
    view["referrals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["institution"]["id"] == institution)
        .unwrap_or_else(|| panic!("no referral at {institution}: {view}"))["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[actix_web::test]
async fn the_submitter_withdraws_from_one_institution_and_the_inquiry_stays_open_elsewhere() {
    let app = TestApp::new().await;
    let op = app.operator().await;
    let gr = app
        .staff("t@gr.fr", Role::Triager, Some("gustave-roussy"))
        .await;
    let s = submit(&app, &["curie", "gustave-roussy"], "Two doors").await;
    let gr_ref = s.referrals["gustave-roussy"].clone();

    let res = withdraw(
        &app,
        &s.id,
        &s.token,
        Some(json!({"institution_id": "gustave-roussy", "reason_code": "found_partner", "reason": "Curie will host the trial."})),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(status_of(&res.body, "gustave-roussy"), "withdrawn");
    assert_eq!(status_of(&res.body, "curie"), "new");
    assert_eq!(res.body["status"], "submitted", "still open at Curie");

    // Gustave Roussy's staff read why, on the referral and in its audit trail.
    let detail = app
        .get(&format!("/v1/referrals/{gr_ref}"))
        .token(&gr)
        .send()
        .await;
    assert_eq!(detail.body["status"], "withdrawn");
    assert_eq!(
        detail.body["decision"],
        json!({"reason": "found_partner", "note": "Curie will host the trial."})
    );
    assert_eq!(detail.body["allowed_transitions"], json!([]));
    let trail = all_pages(&app, &gr, &format!("/v1/referrals/{gr_ref}/events?"), 100).await;
    let last: Vec<(Value, Value, Value, Value)> = trail
        .iter()
        .rev()
        .take(2)
        .rev()
        .map(|e| {
            (
                e["actor_kind"].clone(),
                e["action"].clone(),
                e["from"].clone(),
                e["to"].clone(),
            )
        })
        .collect();
    assert_eq!(
        last,
        vec![
            (
                json!("submitter"),
                json!("status_changed"),
                json!("new"),
                json!("withdrawn")
            ),
            (
                json!("submitter"),
                json!("referral_withdrawn"),
                Value::Null,
                json!("found_partner")
            ),
        ]
    );
    // Not a withdrawal of the inquiry.
    let whole = all_pages(&app, &op, &format!("/v1/inquiries/{}/events?", s.id), 100).await;
    assert!(!actions(&whole).contains(&"inquiry_withdrawn".to_owned()));

    // Again from the same institution: its referral is final, and the error names its state.
    let again = withdraw(
        &app,
        &s.id,
        &s.token,
        Some(json!({"institution_id": "gustave-roussy"})),
    )
    .await;
    again.assert_problem(409, "referral_closed");
    assert!(
        again.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("This referral is withdrawn;"),
        "{}",
        again.body
    );
    // An institution this inquiry never reached, or none at all: 404.
    for other in ["aphp", "pasteur-lab", "NOT A SLUG"] {
        withdraw(
            &app,
            &s.id,
            &s.token,
            Some(json!({"institution_id": other})),
        )
        .await
        .assert_problem(404, "not_found");
    }
    // The right institution with a wrong token is still the same 404 as a missing inquiry.
    withdraw(
        &app,
        &s.id,
        "wrong",
        Some(json!({"institution_id": "curie"})),
    )
    .await
    .assert_problem(404, "not_found");

    // A body-less withdrawal keeps working: the whole inquiry, reason `not_given`.
    let res = withdraw(&app, &s.id, &s.token, None).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["status"], "withdrawn");
    assert_eq!(status_of(&res.body, "curie"), "withdrawn");
    let whole = all_pages(&app, &op, &format!("/v1/inquiries/{}/events?", s.id), 100).await;
    let inquiry_level: Vec<(Value, Value)> = whole
        .iter()
        .filter(|e| e["action"] == "inquiry_withdrawn")
        .map(|e| (e["from"].clone(), e["to"].clone()))
        .collect();
    assert_eq!(inquiry_level, vec![(Value::Null, json!("not_given"))]);
    let reasons: Vec<Value> = whole
        .iter()
        .filter(|e| e["action"] == "referral_withdrawn")
        .map(|e| json!([e["institution_id"], e["to"]]))
        .collect();
    assert_eq!(
        reasons,
        vec![
            json!(["gustave-roussy", "found_partner"]),
            json!(["curie", "not_given"])
        ]
    );
    withdraw(&app, &s.id, &s.token, None)
        .await
        .assert_problem(409, "nothing_to_withdraw");
}

#[actix_web::test]
async fn after_a_partial_withdrawal_the_inquiry_status_follows_the_remaining_referrals() {
    let app = TestApp::new().await;
    let curie = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let s = submit(&app, &["curie", "gustave-roussy"], "Follow the rest").await;
    let id = &s.referrals["curie"];
    let tag = start_review(&app, &curie, id).await;
    let res = transition(
        &app,
        &curie,
        id,
        &tag,
        json!({"to": "declined", "reason_code": "no_capacity"}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    // Curie declined, Gustave Roussy withdrawn: every institution answered, none accepted.
    let res = withdraw(
        &app,
        &s.id,
        &s.token,
        Some(json!({"institution_id": "gustave-roussy", "reason_code": "no_longer_needed"})),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["status"], "closed");
    // Withdrawing from Curie, which declined, is refused with its state; nothing else is open.
    let res = withdraw(
        &app,
        &s.id,
        &s.token,
        Some(json!({"institution_id": "curie"})),
    )
    .await;
    res.assert_problem(409, "referral_closed");
    assert!(res.body["detail"].as_str().unwrap().contains("declined"));
    withdraw(&app, &s.id, &s.token, Some(json!({})))
        .await
        .assert_problem(409, "nothing_to_withdraw");

    // The only referral, withdrawn by institution: the inquiry is withdrawn.
    let t = submit(&app, &["curie"], "Only one").await;
    let res = withdraw(
        &app,
        &t.id,
        &t.token,
        Some(json!({"institution_id": "curie", "reason_code": "submitted_in_error"})),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["status"], "withdrawn");
}

#[actix_web::test]
async fn a_withdrawal_body_is_checked_field_by_field() {
    let app = TestApp::new().await;
    let s = submit(&app, &["curie"], "Checked withdrawal").await;
    // No body is the default; a body that is only white space is not JSON.
    for blank in [" ", "\r\n\t"] {
        app.post(&format!("/v1/inquiries/{}/withdraw", s.id))
            .header("X-Tracking-Token", &s.token)
            .raw(blank, Some("application/json"))
            .send()
            .await
            .assert_problem(400, "malformed_json");
    }
    let cases = [
        (
            json!({"reason_code": "bored"}),
            vec![("/reason_code", "invalid_enum")],
        ),
        (
            json!({"reason_code": null}),
            vec![("/reason_code", "invalid_type")],
        ),
        (json!({"reason": ""}), vec![("/reason", "required")]),
        (
            json!({"reason": "x".repeat(2001)}),
            vec![("/reason", "too_long")],
        ),
        (
            json!({"reason": "bad\u{0007}bell"}),
            vec![("/reason", "invalid_characters")],
        ),
        (
            json!({"institution_id": "c".repeat(41)}),
            vec![("/institution_id", "too_long")],
        ),
        (
            json!({"institution_id": 7, "why": "x"}),
            vec![
                ("/institution_id", "invalid_type"),
                ("/why", "unknown_field"),
            ],
        ),
    ];
    for (body, expected) in cases {
        let res = withdraw(&app, &s.id, &s.token, Some(body.clone())).await;
        assert_eq!(res.status, 422, "{body}: {}", res.body);
        let expected: Vec<(String, String)> = expected
            .into_iter()
            .map(|(p, c)| (p.to_owned(), c.to_owned()))
            .collect();
        assert_eq!(res.field_errors(), expected, "{body}");
    }
    let res = app
        .post(&format!("/v1/inquiries/{}/withdraw", s.id))
        .header("X-Tracking-Token", &s.token)
        .raw("{\"reason\": ", Some("application/json"))
        .send()
        .await;
    res.assert_problem(400, "malformed_json");
    let res = app
        .post(&format!("/v1/inquiries/{}/withdraw", s.id))
        .header("X-Tracking-Token", &s.token)
        .raw("reason=bored", Some("text/plain"))
        .send()
        .await;
    res.assert_problem(415, "unsupported_media_type");
    // Nothing was withdrawn by the refused requests.
    let seen = app
        .get(&format!("/v1/inquiries/{}", s.id))
        .header("X-Tracking-Token", &s.token)
        .send()
        .await;
    assert_eq!(seen.body["status"], "submitted");
    // Every reason of the taxonomy is taken.
    let taxonomy = app.get("/v1/taxonomy").send().await;
    let reasons: Vec<String> = taxonomy.body["withdrawal_reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        reasons,
        guichet::domain::taxonomy::WithdrawalReason::ALL
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect::<Vec<_>>()
    );
    assert!(
        reasons.contains(&"not_given".to_owned()) && reasons.contains(&"found_partner".to_owned())
    );
    let res = withdraw(
        &app,
        &s.id,
        &s.token,
        Some(json!({"reason_code": "other", "reason": "Budget moved to another programme."})),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
}

#[actix_web::test]
async fn withdrawing_from_the_desk_records_the_reason_and_names_no_institution() {
    let app = TestApp::new().await;
    let op = app.operator().await;
    let mut body = radioligand_trial();
    body["inquiry_type"] = json!("other");
    let res = app.post("/v1/inquiries").json(body).send().await;
    assert_eq!(res.body["status"], "on_desk");
    let id = res.body["id"].as_str().unwrap().to_owned();
    let token = res.body["tracking_token"].as_str().unwrap().to_owned();
    // No institution holds it yet.
    withdraw(&app, &id, &token, Some(json!({"institution_id": "curie"})))
        .await
        .assert_problem(404, "not_found");
    let res = withdraw(
        &app,
        &id,
        &token,
        Some(json!({"reason_code": "project_stopped"})),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["status"], "withdrawn");
    let trail = all_pages(&app, &op, &format!("/v1/inquiries/{id}/events?"), 100).await;
    let last = trail.last().unwrap();
    assert_eq!(
        (
            &last["action"],
            &last["actor_kind"],
            &last["from"],
            &last["to"]
        ),
        (
            &json!("inquiry_withdrawn"),
            &json!("submitter"),
            &json!("desk"),
            &json!("project_stopped")
        )
    );
}

#[actix_web::test]
async fn admins_replace_their_routing_profile_and_its_version_increases() {
    let app = TestApp::new().await;
    let admin = app
        .staff("admin@pasteur.fr", Role::InstitutionAdmin, Some("pasteur"))
        .await;
    let got = app
        .get("/v1/institutions/pasteur/routing-profile")
        .token(&admin)
        .send()
        .await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.body["version"], 1);
    let mut profile = got.body["profile"].clone();
    profile["accepted_inquiry_types"] = json!(["clinical_trial"]);
    profile["threshold"] = json!(0);
    let put = app
        .put("/v1/institutions/pasteur/routing-profile")
        .token(&admin)
        .json(profile.clone())
        .send()
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.body["version"], 2);
    assert_eq!(put.header("etag").as_deref(), Some("\"2\""));
    // A colleague who read version 1 cannot overwrite version 2.
    app.put("/v1/institutions/pasteur/routing-profile")
        .token(&admin)
        .header("If-Match", "\"1\"")
        .json(profile.clone())
        .send()
        .await
        .assert_problem(412, "stale_version");
    // Routing uses the new profile at once.
    let res = app
        .post("/v1/inquiries")
        .json(radioligand_trial())
        .send()
        .await;
    assert!(
        institutions_of(&res.body).contains("pasteur"),
        "{}",
        res.body
    );

    let mut bad = profile.clone();
    bad["threshold"] = json!(101);
    bad["accepted_inquiry_types"] = json!([]);
    let res = app
        .put("/v1/institutions/pasteur/routing-profile")
        .token(&admin)
        .json(bad)
        .send()
        .await;
    res.assert_problem(422, "validation_failed");
    assert_eq!(res.field_errors().len(), 2, "{:?}", res.field_errors());

    let triager = app
        .staff("t@pasteur.fr", Role::Triager, Some("pasteur"))
        .await;
    app.get("/v1/institutions/pasteur/routing-profile")
        .token(&triager)
        .send()
        .await
        .assert_problem(403, "forbidden");
    let other = app
        .staff("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    app.put("/v1/institutions/pasteur/routing-profile")
        .token(&other)
        .json(profile)
        .send()
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn the_best_matching_active_contact_receives_the_referral() {
    let app = TestApp::new().await;
    let op = app.operator().await;
    let mut ids = Vec::new();
    for (name, areas, active) in [
        ("Generalist", json!([]), true),
        ("Prostate lead", json!(["prostate"]), false),
        ("Radioligands", json!(["prostate"]), true),
    ] {
        let res = app
            .post("/v1/institutions/gustave-roussy/contacts")
            .token(&op)
            .json(json!({"name": name, "email": format!("{}@gr.fr", name.len()), "expertise": {"therapeutic_areas": areas, "modalities": ["radiopharmaceutical"]}}))
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.body);
        ids.push(res.body["id"].as_str().unwrap().to_owned());
        if !active {
            app.patch(&format!(
                "/v1/institutions/gustave-roussy/contacts/{}",
                ids[ids.len() - 1]
            ))
            .token(&op)
            .json(json!({"active": false}))
            .send()
            .await;
        }
    }
    let res = app
        .post("/v1/inquiries")
        .json(radioligand_trial())
        .send()
        .await;
    let inquiry = res.body["id"].as_str().unwrap().to_owned();
    let referrals = {
        let g = app.g.clone();
        g.db.run(move |conn| guichet::db::inquiries::referrals_of_inquiry(conn, &inquiry))
            .await
            .unwrap()
    };
    let gr = referrals
        .iter()
        .find(|r| r.institution_id == "gustave-roussy")
        .unwrap();
    assert_eq!(
        gr.contact_id.as_deref(),
        Some(ids[2].as_str()),
        "the active prostate expert"
    );
    let curie = referrals.iter().find(|r| r.institution_id == "curie");
    if let Some(curie) = curie {
        assert_eq!(curie.contact_id, None, "no contact at Curie: unassigned");
    }
}

#[actix_web::test]
async fn housekeeping_forgets_expired_keys_and_stale_counters_only() {
    let app = TestApp::new().await;
    let first = app
        .post("/v1/inquiries")
        .header("Idempotency-Key", "old-key")
        .json(radioligand_trial())
        .send()
        .await;
    app.post("/v1/inquiries")
        .header("Idempotency-Key", "fresh-key")
        .json(radioligand_trial())
        .send()
        .await;
    app.g
        .db
        .run(|conn| {
            use diesel::prelude::*;
            diesel::sql_query("UPDATE idempotency_keys SET expires_at = '2020-01-01 00:00:00' WHERE key = 'inquiry:old-key'").execute(conn)?;
            diesel::sql_query("UPDATE throttles SET window_started_at = '2020-01-01 00:00:00'").execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    let (keys, counters) = guichet::service::purge_expired(&app.g).await.unwrap();
    assert_eq!((keys, counters), (1, 1));
    let again = app
        .post("/v1/inquiries")
        .header("Idempotency-Key", "old-key")
        .json(radioligand_trial())
        .send()
        .await;
    assert_eq!(again.status, 201);
    assert_ne!(
        again.body["id"], first.body["id"],
        "an expired key starts a new inquiry"
    );
    let replay = app
        .post("/v1/inquiries")
        .header("Idempotency-Key", "fresh-key")
        .json(radioligand_trial())
        .send()
        .await;
    assert_eq!(
        replay.header("idempotent-replayed").as_deref(),
        Some("true")
    );
}

#[actix_web::test]
async fn a_withdrawn_inquiry_cannot_be_routed_by_hand() {
    let app = TestApp::new().await;
    let mut body = radioligand_trial();
    body["inquiry_type"] = json!("other");
    let res = app.post("/v1/inquiries").json(body).send().await;
    assert_eq!(res.body["status"], "on_desk");
    let id = res.body["id"].as_str().unwrap().to_owned();
    let token = res.body["tracking_token"].as_str().unwrap().to_owned();
    let withdrawn = app
        .post(&format!("/v1/inquiries/{id}/withdraw"))
        .header("X-Tracking-Token", &token)
        .send()
        .await;
    assert_eq!(withdrawn.status, 200, "{}", withdrawn.body);
    let op = app.operator().await;
    app.post(&format!("/v1/inquiries/{id}/routing"))
        .token(&op)
        .json(json!({"institutions": ["curie"]}))
        .send()
        .await
        .assert_problem(409, "inquiry_withdrawn");
    let seen = app
        .get(&format!("/v1/inquiries/{id}"))
        .header("X-Tracking-Token", &token)
        .send()
        .await;
    assert_eq!(seen.body["status"], "withdrawn");
    assert_eq!(seen.body["referrals"], json!([]));
}

#[actix_web::test]
async fn routing_by_hand_is_explained_and_audited() {
    use diesel::prelude::*;
    let app = TestApp::new().await;
    let mut body = radioligand_trial();
    body["inquiry_type"] = json!("other");
    let res = app.post("/v1/inquiries").json(body).send().await;
    let id = res.body["id"].as_str().unwrap().to_owned();
    let op = app.operator().await;
    let routed = app
        .post(&format!("/v1/inquiries/{id}/routing"))
        .token(&op)
        .json(json!({"institutions": ["curie"], "reason": "Curie runs the PSMA programme."}))
        .send()
        .await;
    assert_eq!(routed.status, 200, "{}", routed.body);
    let reasons = routed.body["referrals"][0]["reasons"].as_array().unwrap();
    assert_eq!(
        reasons[0],
        "Routed by hand by the Guichet operators: Curie runs the PSMA programme."
    );
    let long = "x".repeat(501);
    let res = app
        .post(&format!("/v1/inquiries/{id}/routing"))
        .token(&op)
        .json(json!({"institutions": ["aphp"], "reason": long}))
        .send()
        .await;
    assert_eq!(
        res.field_errors(),
        vec![("/reason".into(), "too_long".into())]
    );

    let inquiry_id = id.clone();
    let actions: Vec<(String, Option<String>, Option<String>)> = app
        .g
        .db
        .run(move |conn| {
            use guichet::db::schema::events::dsl as e;
            Ok(e::events
                .filter(e::inquiry_id.eq(&inquiry_id))
                .filter(e::referral_id.is_null())
                .select((e::action, e::from_value, e::to_value))
                .load(conn)?)
        })
        .await
        .unwrap();
    assert!(
        actions.contains(&(
            "inquiry_routed_by_hand".into(),
            Some("desk".into()),
            Some("curie".into())
        )),
        "{actions:?}"
    );
}

// Languages: one catalogue, `Accept-Language` picks French or English, codes never change.

#[actix_web::test]
async fn the_taxonomy_answers_in_french_with_the_same_codes() {
    let app = TestApp::new().await;
    let en = app.get("/v1/taxonomy").send().await;
    let fr = app
        .get("/v1/taxonomy")
        .header("Accept-Language", "fr-FR")
        .send()
        .await;
    assert_eq!(fr.status, 200);
    assert_eq!(fr.header("content-language").as_deref(), Some("fr"));
    assert!(
        fr.header("vary")
            .is_some_and(|v| v.contains("Accept-Language"))
    );
    let values = |b: &Value, list: &str| -> Vec<Value> {
        b[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["value"].clone())
            .collect()
    };
    for list in [
        "inquiry_types",
        "therapeutic_areas",
        "modalities",
        "stages",
        "decline_reasons",
        "organization_types",
        "referral_statuses",
        "roles",
    ] {
        assert_eq!(values(&en.body, list), values(&fr.body, list), "{list}");
    }
    let label = |b: &Value, list: &str, value: &str| -> String {
        b[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["value"] == value)
            .map(|e| e["label"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert_eq!(
        label(&fr.body, "inquiry_types", "clinical_trial"),
        "Placement d'un essai clinique"
    );
    assert_eq!(label(&fr.body, "therapeutic_areas", "lung"), "Poumon");
    assert_eq!(label(&fr.body, "referral_statuses", "declined"), "Refusé");
    assert_eq!(
        label(&en.body, "inquiry_types", "clinical_trial"),
        "Clinical trial placement"
    );
}

#[actix_web::test]
async fn english_is_the_answer_without_french_in_accept_language() {
    let app = TestApp::new().await;
    for header in [
        None,
        Some("en"),
        Some("de"),
        Some("ça;;q=@@, ~~"),
        Some("fr;q=0"),
    ] {
        let mut req = app.get("/v1/taxonomy");
        if let Some(h) = header {
            req = req.header("Accept-Language", h);
        }
        let res = req.send().await;
        assert_eq!(res.status, 200, "{header:?}");
        assert_eq!(
            res.header("content-language").as_deref(),
            Some("en"),
            "{header:?}"
        );
        assert_eq!(
            res.body["therapeutic_areas"][1]["label"], "Lung",
            "{header:?}"
        );
    }
}

#[actix_web::test]
async fn the_best_quality_value_wins() {
    let app = TestApp::new().await;
    let fr = app
        .get("/v1/taxonomy")
        .header("Accept-Language", "en;q=0.5, fr;q=0.9")
        .send()
        .await;
    assert_eq!(fr.header("content-language").as_deref(), Some("fr"));
    assert_eq!(fr.body["therapeutic_areas"][1]["label"], "Poumon");
    let en = app
        .get("/v1/taxonomy")
        .header("Accept-Language", "fr;q=0.4, en;q=0.8")
        .send()
        .await;
    assert_eq!(en.header("content-language").as_deref(), Some("en"));
}

#[actix_web::test]
async fn the_routing_preview_explains_in_french() {
    let app = TestApp::new().await;
    let body = json!({"inquiry_type": "clinical_trial", "therapeutic_areas": ["prostate"], "modalities": ["radiopharmaceutical"], "stage": "phase_1"});
    let en = app
        .post("/v1/routing/preview")
        .json(body.clone())
        .send()
        .await;
    let fr = app
        .post("/v1/routing/preview")
        .header("Accept-Language", "fr")
        .json(body)
        .send()
        .await;
    assert_eq!(fr.status, 200, "{}", fr.body);
    assert_eq!(fr.header("content-language").as_deref(), Some("fr"));
    let ids = |b: &Value| -> Vec<Value> {
        b["selected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["institution"]["id"].clone())
            .collect()
    };
    assert_eq!(ids(&en.body), ids(&fr.body), "routing ignores the language");
    let first = &fr.body["selected"][0];
    let name = first["institution"]["name"].as_str().unwrap();
    assert_eq!(
        first["reasons"][0],
        format!("{name} accepte les demandes de type « Placement d'un essai clinique ».")
    );
    assert_eq!(
        en.body["selected"][0]["reasons"][0],
        format!("{name} accepts inquiries for clinical trial placement.")
    );
    assert!(
        fr.body["not_selected"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["explanation"].as_str().unwrap().contains("demande")
                && !n["explanation"].as_str().unwrap().contains("inquir")),
        "{}",
        fr.body
    );
    let reasons_codes = |b: &Value| -> Vec<Value> {
        b["not_selected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["reason"].clone())
            .collect()
    };
    assert_eq!(reasons_codes(&en.body), reasons_codes(&fr.body));
}

#[actix_web::test]
async fn the_submitter_reads_the_stored_reasons_in_french() {
    let app = TestApp::new().await;
    let res = app.post("/v1/inquiries").json(psma_inquiry()).send().await;
    assert_eq!(res.status, 201, "{}", res.body);
    let id = res.body["id"].as_str().unwrap().to_owned();
    let token = res.body["tracking_token"].as_str().unwrap().to_owned();
    let english = res.body["referrals"][0]["reasons"].clone();
    let fr = app
        .get(&format!("/v1/inquiries/{id}"))
        .header("X-Tracking-Token", &token)
        .header("Accept-Language", "fr")
        .send()
        .await;
    assert_eq!(fr.status, 200, "{}", fr.body);
    assert_eq!(fr.header("content-language").as_deref(), Some("fr"));
    let reasons = fr.body["referrals"][0]["reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), english.as_array().unwrap().len());
    assert!(
        reasons
            .iter()
            .any(|r| r == "Vous avez demandé cet établissement."),
        "{reasons:?}"
    );
    let en = app
        .get(&format!("/v1/inquiries/{id}"))
        .header("X-Tracking-Token", &token)
        .send()
        .await;
    assert_eq!(en.body["referrals"][0]["reasons"], english);
}

#[actix_web::test]
async fn a_desk_reason_is_rendered_in_the_readers_language() {
    let app = TestApp::new().await;
    let mut body = psma_inquiry();
    body["inquiry_type"] = json!("other");
    body["preferred_institutions"] = json!([]);
    let res = app.post("/v1/inquiries").json(body).send().await;
    assert_eq!(res.status, 201, "{}", res.body);
    let id = res.body["id"].as_str().unwrap().to_owned();
    let token = res.body["tracking_token"].as_str().unwrap().to_owned();
    let fr = app
        .get(&format!("/v1/inquiries/{id}"))
        .header("X-Tracking-Token", &token)
        .header("Accept-Language", "fr-CA, en;q=0.1")
        .send()
        .await;
    assert_eq!(fr.status, 200, "{}", fr.body);
    let reason = fr.body["desk_reason"].as_str().unwrap_or_default();
    assert!(
        reason.ends_with("Nos opérateurs l'orienteront à la main."),
        "{}",
        fr.body
    );
    // The operators' desk tells it in their language too, with the same code.
    let op = app.operator().await;
    let desk = app
        .get("/v1/desk")
        .token(&op)
        .header("Accept-Language", "fr")
        .send()
        .await;
    assert_eq!(desk.header("content-language").as_deref(), Some("fr"));
    assert_eq!(
        desk.body["items"][0]["desk_reason"]["code"],
        "inquiry_type_not_accepted"
    );
    assert_eq!(desk.body["items"][0]["desk_reason"]["explanation"], reason);
    let en = app.get("/v1/desk").token(&op).send().await;
    assert!(
        en.body["items"][0]["desk_reason"]["explanation"]
            .as_str()
            .unwrap()
            .ends_with("Our operators will route it by hand."),
        "{}",
        en.body
    );
}

#[actix_web::test]
async fn a_submission_answers_in_the_submitters_language_and_a_replay_too() {
    let app = TestApp::new().await;
    let submit = |key: &'static str, lang: &'static str, body: Value| {
        let app = &app;
        async move {
            app.post("/v1/inquiries")
                .header("Idempotency-Key", key)
                .header("Accept-Language", lang)
                .json(body)
                .send()
                .await
        }
    };
    let fr = submit("fr-routed", "fr", psma_inquiry()).await;
    assert_eq!(fr.status, 201, "{}", fr.body);
    assert_eq!(fr.header("content-language").as_deref(), Some("fr"));
    let reasons = fr.body["referrals"][0]["reasons"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        reasons
            .iter()
            .any(|r| r == "Vous avez demandé cet établissement."),
        "{reasons:?}"
    );
    // The same key in English replays the same submission, in English.
    let en = submit("fr-routed", "en", psma_inquiry()).await;
    assert_eq!(en.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(en.body["id"], fr.body["id"]);
    assert_eq!(en.header("content-language").as_deref(), Some("en"));
    let en_reasons = en.body["referrals"][0]["reasons"].as_array().unwrap();
    assert_eq!(en_reasons.len(), reasons.len());
    assert!(
        en_reasons
            .iter()
            .any(|r| r == "You asked for this institution."),
        "{en_reasons:?}"
    );

    let mut desk = psma_inquiry();
    desk["inquiry_type"] = json!("other");
    desk["preferred_institutions"] = json!([]);
    let res = submit("fr-desk", "fr", desk).await;
    assert_eq!(res.body["status"], "on_desk", "{}", res.body);
    let reason = res.body["desk_reason"].as_str().unwrap_or_default();
    assert!(
        reason.ends_with("Nos opérateurs l'orienteront à la main."),
        "{}",
        res.body
    );
}
