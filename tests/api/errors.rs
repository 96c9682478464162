//! Every error is problem+json with a stable code and the request id.

use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, test, web};
use serde_json::json;

use guichet::domain::taxonomy::Role;

use crate::support::TestApp;

#[actix_web::test]
async fn unknown_routes_are_problem_json_404() {
    let app = TestApp::new().await;
    for path in [
        "/nope",
        "/v1",
        "/v1/institutions/curie/nothing",
        "/v2/institutions",
    ] {
        app.get(path).send().await.assert_problem(404, "not_found");
    }
}

#[actix_web::test]
async fn wrong_methods_are_405_with_allow() {
    let app = TestApp::new().await;
    let res = app
        .req(actix_web::http::Method::DELETE, "/v1/institutions/curie")
        .send()
        .await;
    res.assert_problem(405, "method_not_allowed");
    assert_eq!(res.header("allow").as_deref(), Some("GET, PATCH"));
    let res = app.put("/v1/institutions/curie/contacts").send().await;
    res.assert_problem(405, "method_not_allowed");
    assert_eq!(res.header("allow").as_deref(), Some("GET, POST"));
}

#[actix_web::test]
async fn malformed_json_is_a_400() {
    let app = TestApp::new().await;
    let res = app
        .post("/v1/auth/token")
        .raw("{\"email\": \"a@b.fr\",", Some("application/json"))
        .send()
        .await;
    res.assert_problem(400, "malformed_json");
}

#[actix_web::test]
async fn a_body_that_is_not_an_object_is_a_422() {
    let app = TestApp::new().await;
    let res = app
        .post("/v1/auth/token")
        .json(json!(["a", "b"]))
        .send()
        .await;
    res.assert_problem(422, "validation_failed");
    assert_eq!(res.field_errors(), vec![("".into(), "invalid_type".into())]);
}

#[actix_web::test]
async fn a_wrong_content_type_is_a_415() {
    let app = TestApp::new().await;
    let res = app
        .post("/v1/auth/token")
        .raw(
            "email=a@b.fr&password=x",
            Some("application/x-www-form-urlencoded"),
        )
        .send()
        .await;
    res.assert_problem(415, "unsupported_media_type");
    let res = app.post("/v1/auth/token").raw("{}", None).send().await;
    res.assert_problem(415, "unsupported_media_type");
}

#[actix_web::test]
async fn a_missing_body_is_a_400() {
    let app = TestApp::new().await;
    app.post("/v1/auth/token")
        .send()
        .await
        .assert_problem(400, "missing_body");
}

#[actix_web::test]
async fn bodies_over_256_kib_are_a_413() {
    let app = TestApp::new().await;
    let big = json!({"email": "a@b.fr", "password": "x".repeat(260 * 1024)}).to_string();
    let res = app
        .post("/v1/auth/token")
        .raw(big, Some("application/json"))
        .send()
        .await;
    res.assert_problem(413, "payload_too_large");
    // Just under the limit is read (and then validated).
    let fits = json!({"email": "a@b.fr", "password": "x".repeat(250 * 1024)}).to_string();
    let res = app
        .post("/v1/auth/token")
        .raw(fits, Some("application/json"))
        .send()
        .await;
    res.assert_problem(422, "validation_failed");
}

#[actix_web::test]
async fn every_response_carries_a_request_id_and_a_sane_caller_id_is_kept() {
    let app = TestApp::new().await;
    let ok = app.get("/health/live").send().await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.header("x-request-id").map(|v| v.len()), Some(36));
    let echoed = app
        .get("/health/live")
        .header("X-Request-Id", "trace-abc.123")
        .send()
        .await;
    assert_eq!(
        echoed.header("x-request-id").as_deref(),
        Some("trace-abc.123")
    );
    let replaced = app
        .get("/nope")
        .header("X-Request-Id", "bad id with spaces <script>")
        .send()
        .await;
    let id = replaced.header("x-request-id").unwrap();
    assert_ne!(id, "bad id with spaces <script>");
    assert_eq!(replaced.body["request_id"], id);
}

#[actix_web::test]
async fn health_checks_answer() {
    let app = TestApp::new().await;
    let live = app.get("/health/live").send().await;
    assert_eq!(live.body, json!({"status": "ok"}));
    let ready = app.get("/health/ready").send().await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.body, json!({"status": "ok"}));
}

#[actix_web::test]
async fn readiness_is_503_when_the_database_is_unreachable() {
    let app = TestApp::new().await;
    let broken = guichet::db::Db::new(
        guichet::db::DatabaseUrl::parse("sqlite:///nonexistent-dir/for/guichet.db").unwrap(),
        guichet::db::PoolOptions::with_size(1),
    )
    .unwrap();
    let g = guichet::service::Guichet {
        db: broken,
        ..app.g.clone()
    };
    let service = test::init_service(guichet::api::app(g, Default::default())).await;
    let res = test::call_service(
        &service,
        test::TestRequest::get().uri("/health/ready").to_request(),
    )
    .await;
    assert_eq!(res.status(), 503);
    assert_eq!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    let body: serde_json::Value = test::read_body_json(res).await;
    assert_eq!(body["code"], "database_unavailable");
    let text = body.to_string().to_lowercase();
    for leak in ["sqlite", "nonexistent", "diesel", "unable to open"] {
        assert!(!text.contains(leak), "internal detail leaked: {text}");
    }
}

#[actix_web::test]
async fn a_panicking_handler_is_a_500_and_the_server_keeps_serving() {
    let service = test::init_service(
        App::new()
            .wrap(from_fn(guichet::api::problem::request_context))
            .route(
                "/boom",
                web::get().to(|| async {
                    let v: Vec<u8> = Vec::new();
                    let _ = v[1];
                    HttpResponse::Ok().finish()
                }),
            )
            .route(
                "/fine",
                web::get().to(|| async { HttpResponse::Ok().finish() }),
            ),
    )
    .await;
    // The server answers a middleware error with its response, as the dispatcher does.
    let res =
        match test::try_call_service(&service, test::TestRequest::get().uri("/boom").to_request())
            .await
        {
            Ok(res) => res.into_parts().1,
            Err(e) => e.error_response(),
        };
    assert_eq!(res.status(), 500);
    assert!(res.headers().contains_key("x-request-id"));
    let bytes = actix_web::body::to_bytes(res.into_body()).await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["code"], "internal_error");
    assert!(!body.to_string().contains("index out of bounds"));
    let res =
        test::call_service(&service, test::TestRequest::get().uri("/fine").to_request()).await;
    assert_eq!(res.status(), 200);
}

#[actix_web::test]
async fn a_malformed_path_id_is_a_404_not_a_500() {
    let app = TestApp::new().await;
    let admin = app
        .staff("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    app.get("/v1/institutions/curie/contacts/not-a-uuid%00")
        .token(&admin)
        .send()
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn migrations_go_down_and_up_again() {
    let app = TestApp::new().await;
    let applied = app
        .g
        .db
        .run(|conn| {
            guichet::db::migrations_round_trip(conn).map_err(guichet::error::Error::internal)
        })
        .await
        .unwrap();
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .unwrap()
        .count();
    assert_eq!(applied, migrations);
    let res = app.get("/v1/institutions").send().await;
    assert_eq!(
        res.body["items"].as_array().unwrap().len(),
        4,
        "seeds are back"
    );
}

#[actix_web::test]
async fn the_audit_trail_cannot_be_rewritten() {
    let app = TestApp::new().await;
    let body = json!({
        "submitter": {"organization": "O", "organization_type": "pharma", "name": "N", "email": "n@o.example", "country": "FR"},
        "inquiry_type": "licensing", "title": "T", "summary": "S", "therapeutic_areas": ["breast"],
        "stage": "preclinical", "non_confidential": true
    });
    assert_eq!(
        app.post("/v1/inquiries").json(body).send().await.status,
        201
    );
    for statement in ["UPDATE events SET action = 'nothing'", "DELETE FROM events"] {
        let refused = app
            .g
            .db
            .run(move |conn| {
                use diesel::RunQueryDsl;
                diesel::sql_query(statement)
                    .execute(conn)
                    .map_err(guichet::error::Error::from)
            })
            .await;
        assert!(refused.is_err(), "{statement} was accepted");
    }
}

/// PostgreSQL refuses years outside its range and NUL bytes that SQLite stores: both backends
/// answer the same 400 before the query is made.
#[actix_web::test]
async fn out_of_range_times_and_control_characters_in_queries_are_400_on_both_backends() {
    let app = TestApp::new().await;
    let ops = app.operator().await;
    for path in [
        "/v1/transparency?from=-9999-01-01T00:00:00Z",
        "/v1/transparency?to=%2B10000-01-01T00:00:00Z",
        "/v1/transparency?from=99999-01-01T00:00:00Z",
        "/v1/transparency?from=2026-13-01T00:00:00Z",
        "/v1/referrals?created_after=-9999-01-01T00:00:00Z",
        "/v1/referrals?created_before=%2B275760-09-13T00:00:00Z",
        "/v1/institutions/curie/stats?from=-0001-01-01T00:00:00Z",
    ] {
        let res = app.get(path).token(&ops).send().await;
        res.assert_problem(400, "invalid_query");
        assert!(
            res.body["detail"].as_str().unwrap().contains("RFC 3339"),
            "{path}: {}",
            res.body
        );
    }
    for path in [
        "/v1/referrals?q=her%002",
        "/v1/referrals?q=line%0Abreak",
        "/v1/transparency?from=2026-01-01T00:00:00Z%00",
        "/v1/institutions?x=%7F",
    ] {
        app.get(path)
            .token(&ops)
            .send()
            .await
            .assert_problem(400, "invalid_query");
    }
    // The edges of the range work on both.
    let res = app
        .get("/v1/transparency?from=0000-01-01T00:00:00Z&to=9999-12-31T23:59:59Z")
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let res = app
        .get("/v1/referrals?created_after=0001-01-01T00:00:00Z&q=h%C3%A9lios")
        .token(&ops)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
}

#[actix_web::test]
async fn a_key_given_twice_in_a_body_is_refused() {
    let app = TestApp::new().await;
    let res = app
        .post("/v1/auth/token")
        .raw(
            r#"{"email": "a@curie.fr", "password": "x", "password": "y"}"#,
            Some("application/json"),
        )
        .send()
        .await;
    res.assert_problem(400, "duplicate_key");
    assert!(res.body["detail"].as_str().unwrap().contains("`password`"));
}

/// Findings of the schema fuzzer, each where the server and the document disagreed.
#[actix_web::test]
async fn the_server_refuses_what_the_document_refuses() {
    let app = TestApp::new().await;
    let ops = app.operator().await;
    // A refused query string carries the headers of every answer.
    let res = app.get("/v1/referrals?q=a%00").token(&ops).send().await;
    res.assert_problem(400, "invalid_query");
    assert_eq!(
        res.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
    // An empty status filter is not "every status".
    app.get("/v1/referrals?status=")
        .token(&ops)
        .send()
        .await
        .assert_problem(400, "invalid_status");
    // Contact ids in the hyphenated form only, as documented.
    app.get("/v1/referrals?assigned=0193ad6e8a2b7c1d9e3f4a5b6c7d8e9f")
        .token(&ops)
        .send()
        .await
        .assert_problem(400, "invalid_assigned");
    // The maximum counts what was sent, before trimming.
    let admin = app
        .staff("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let padded = format!("Dr C{}", " ".repeat(200));
    let res = app
        .post("/v1/institutions/curie/contacts")
        .token(&admin)
        .json(json!({"name": padded, "email": "c@curie.fr"}))
        .send()
        .await;
    assert_eq!(
        res.field_errors(),
        vec![("/name".into(), "too_long".into())]
    );
    // `null` is not "leave it as it is" (nor "clear it"): leave the field out.
    let contact = app
        .post("/v1/institutions/curie/contacts")
        .token(&admin)
        .json(json!({"name": "Dr C", "email": "c@curie.fr"}))
        .send()
        .await;
    let contact = contact.body["id"].as_str().unwrap().to_owned();
    let res = app
        .patch(&format!("/v1/institutions/curie/contacts/{contact}"))
        .token(&admin)
        .json(json!({"name": null, "title": null}))
        .send()
        .await;
    assert_eq!(
        res.field_errors(),
        vec![
            ("/name".into(), "invalid_type".into()),
            ("/title".into(), "invalid_type".into())
        ]
    );
    // A nested object written as an array (fields by position) is not that object.
    let res = app
        .patch(&format!("/v1/institutions/curie/contacts/{contact}"))
        .token(&admin)
        .json(json!({"expertise": [["licensing"], ["breast"], ["adc"]]}))
        .send()
        .await;
    assert_eq!(
        res.field_errors(),
        vec![("/expertise".into(), "invalid_type".into())]
    );
    let mut body = crate::support::psma_inquiry();
    body["submitter"] = json!(["H", "biotech", "A", "a@b.example", "DE"]);
    let res = app.post("/v1/inquiries").json(body).send().await;
    assert_eq!(
        res.field_errors(),
        vec![("/submitter".into(), "invalid_type".into())]
    );
    // Hand routing names its own field in errors.
    let mut body = crate::support::psma_inquiry();
    body["inquiry_type"] = json!("other");
    body["preferred_institutions"] = json!([]);
    let submitted = app.post("/v1/inquiries").json(body).send().await;
    let id = submitted.body["id"].as_str().unwrap().to_owned();
    let res = app
        .post(&format!("/v1/inquiries/{id}/routing"))
        .token(&ops)
        .json(json!({"institutions": ["nowhere"]}))
        .send()
        .await;
    assert_eq!(
        res.field_errors(),
        vec![("/institutions/0".into(), "unknown_institution".into())]
    );
}

#[actix_web::test]
async fn a_404_speaks_french_with_the_same_code() {
    let app = TestApp::new().await;
    let token = app
        .staff("triager@curie.fr", Role::Triager, Some("curie"))
        .await;
    let path = "/v1/referrals/01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f";
    let en = app.get(path).token(&token).send().await;
    en.assert_problem(404, "not_found");
    assert_eq!(en.body["title"], "Not Found");
    assert_eq!(
        en.body["detail"],
        "No referral with this id is visible to you."
    );
    assert_eq!(en.header("content-language").as_deref(), Some("en"));
    let fr = app
        .get(path)
        .token(&token)
        .header("Accept-Language", "fr-FR,fr;q=0.9,en;q=0.8")
        .send()
        .await;
    fr.assert_problem(404, "not_found");
    assert_eq!(fr.body["type"], en.body["type"]);
    assert_eq!(fr.body["title"], "Introuvable");
    assert_eq!(
        fr.body["detail"],
        "Aucun dossier portant cet identifiant ne vous est visible."
    );
    assert_eq!(fr.header("content-language").as_deref(), Some("fr"));
    assert!(
        fr.header("vary")
            .is_some_and(|v| v.contains("Accept-Language"))
    );
    // A path no route knows is a problem in French too.
    let unknown = app
        .get("/v1/nowhere")
        .header("Accept-Language", "fr")
        .send()
        .await;
    unknown.assert_problem(404, "not_found");
    assert_eq!(unknown.body["detail"], "Aucune ressource à cette adresse.");
}

#[actix_web::test]
async fn a_422_speaks_french_field_by_field_with_the_same_codes() {
    let app = TestApp::new().await;
    let token = app.operator().await;
    let body = json!({"name": "", "email": "not-an-email", "title": "x".repeat(201)});
    let en = app
        .post("/v1/institutions/curie/contacts")
        .token(&token)
        .json(body.clone())
        .send()
        .await;
    en.assert_problem(422, "validation_failed");
    let fr = app
        .post("/v1/institutions/curie/contacts")
        .token(&token)
        .header("Accept-Language", "fr")
        .json(body)
        .send()
        .await;
    fr.assert_problem(422, "validation_failed");
    assert_eq!(fr.field_errors(), en.field_errors());
    assert_eq!(fr.body["title"], "Requête non traitable");
    assert_eq!(
        fr.body["detail"],
        "Certains champs sont incorrects : voir `errors`."
    );
    let message = |b: &serde_json::Value, pointer: &str| -> String {
        b["errors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["pointer"] == pointer)
            .map(|e| e["message"].as_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    assert_eq!(
        message(&fr.body, "/email"),
        "doit être une adresse e-mail telle que nom@example.org"
    );
    assert_eq!(
        message(&en.body, "/email"),
        "must be an e-mail address such as name@example.org"
    );
    assert_eq!(message(&fr.body, "/name"), "ne doit pas être vide");
    assert!(
        message(&fr.body, "/title").contains("au plus"),
        "{}",
        fr.body
    );
}

#[actix_web::test]
async fn a_conflict_keeps_its_data_in_french() {
    let app = TestApp::new().await;
    let referral = app.curie_referral().await;
    let token = app
        .staff("triager@curie.fr", Role::Triager, Some("curie"))
        .await;
    let res = app
        .post(&format!("/v1/referrals/{referral}/transitions"))
        .token(&token)
        .header("If-Match", "\"1\"")
        .header("Accept-Language", "fr")
        .json(json!({"to": "accepted", "message": "Bienvenue"}))
        .send()
        .await;
    res.assert_problem(409, "transition_not_allowed");
    assert_eq!(
        res.body["detail"],
        "Un dossier au statut « nouveau » ne peut pas passer au statut « accepté » ; statuts possibles : « réception confirmée ».",
        "{}",
        res.body
    );
}
