//! HTTP as integrators expect it: caching, sniffing, CORS, Location, the served `servers`,
//! paginated threads and audit trails.

use std::sync::Arc;

use actix_web::http::Method;
use serde_json::json;

use guichet::api::HttpOptions;
use guichet::api::http::CorsPolicy;
use guichet::domain::taxonomy::Role;

use crate::support::{TestApp, psma_inquiry as inquiry};

#[actix_web::test]
async fn answers_with_credentials_or_secrets_are_never_stored_and_nothing_is_sniffed() {
    let app = TestApp::new().await;
    let ops = app.operator().await;
    let submitted = app.post("/v1/inquiries").json(inquiry()).send().await;
    assert_eq!(submitted.status, 201);
    let id = submitted.body["id"].as_str().unwrap().to_owned();
    let token = submitted.body["tracking_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let tracked = app
        .get(&format!("/v1/inquiries/{id}"))
        .header("X-Tracking-Token", &token)
        .send()
        .await;
    let login = app
        .try_login("ops@guichet.example", crate::support::PASSWORD)
        .await;
    let queue = app.get("/v1/referrals").token(&ops).send().await;
    let unauthorized = app.get("/v1/referrals").token("nope").send().await;
    for (what, res) in [
        ("submission", &submitted),
        ("tracking", &tracked),
        ("login", &login),
        ("queue", &queue),
        ("401", &unauthorized),
    ] {
        assert_eq!(
            res.header("cache-control").as_deref(),
            Some("no-store"),
            "{what}"
        );
        assert_eq!(
            res.header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{what}"
        );
    }
    for path in [
        "/v1/institutions",
        "/v1/taxonomy",
        "/nowhere",
        "/openapi.json",
    ] {
        let res = app.get(path).send().await;
        assert_eq!(
            res.header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(res.header("cache-control"), None, "{path} is public");
    }
}

#[actix_web::test]
async fn no_origin_may_call_from_a_browser_unless_configured() {
    let app = TestApp::new().await;
    let res = app
        .req(Method::OPTIONS, "/v1/inquiries")
        .header("Origin", "https://partners.example.org")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await;
    res.assert_problem(403, "origin_not_allowed");
    assert_eq!(res.header("access-control-allow-origin"), None);
    let res = app
        .get("/v1/institutions")
        .header("Origin", "https://partners.example.org")
        .send()
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("access-control-allow-origin"), None);
}

#[actix_web::test]
async fn a_configured_origin_gets_its_preflight_and_its_headers() {
    let app = TestApp::with_http(HttpOptions {
        cors: Arc::new(CorsPolicy::parse("https://partners.example.org").unwrap()),
        ..HttpOptions::default()
    })
    .await;
    let res = app
        .req(Method::OPTIONS, "/v1/inquiries")
        .header("Origin", "https://partners.example.org")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "content-type, idempotency-key",
        )
        .send()
        .await;
    assert_eq!(res.status, 204);
    assert_eq!(
        res.header("access-control-allow-origin").as_deref(),
        Some("https://partners.example.org")
    );
    let allowed = res
        .header("access-control-allow-headers")
        .unwrap()
        .to_lowercase();
    assert!(allowed.contains("idempotency-key") && allowed.contains("content-type"));
    assert!(
        res.header("access-control-allow-methods")
            .unwrap()
            .contains("POST")
    );
    assert!(res.header("vary").unwrap().contains("Origin"));
    assert_eq!(res.header("access-control-allow-credentials"), None);

    let res = app
        .post("/v1/inquiries")
        .header("Origin", "https://partners.example.org")
        .json(inquiry())
        .send()
        .await;
    assert_eq!(res.status, 201);
    assert_eq!(
        res.header("access-control-allow-origin").as_deref(),
        Some("https://partners.example.org")
    );
    assert!(
        res.header("access-control-expose-headers")
            .unwrap()
            .contains("Location")
    );

    let other = app
        .req(Method::OPTIONS, "/v1/inquiries")
        .header("Origin", "https://evil.example.org")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await;
    other.assert_problem(403, "origin_not_allowed");
}

#[actix_web::test]
async fn a_wildcard_origin_never_comes_with_credentials() {
    let app = TestApp::with_http(HttpOptions {
        cors: Arc::new(CorsPolicy::parse("*").unwrap()),
        ..HttpOptions::default()
    })
    .await;
    let res = app
        .get("/v1/institutions")
        .header("Origin", "https://anyone.example")
        .send()
        .await;
    assert_eq!(
        res.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert_eq!(res.header("access-control-allow-credentials"), None);
}

#[actix_web::test]
async fn the_served_contract_names_the_public_url() {
    let app = TestApp::with_http(HttpOptions {
        public_url: Some("https://guichet.example.org".into()),
        ..HttpOptions::default()
    })
    .await;
    let doc = app.get("/openapi.json").send().await;
    assert_eq!(doc.body["servers"][0]["url"], "https://guichet.example.org");
}

#[actix_web::test]
async fn locations_of_created_accounts_and_messages_can_be_read() {
    let app = TestApp::new().await;
    let admin = app
        .staff("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let created = app
        .post("/v1/institutions/curie/users")
        .token(&admin)
        .json(json!({"email": "new@curie.fr", "password": "a long enough passphrase", "role": "triager"}))
        .send()
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let location = created.header("location").unwrap();
    let read = app.get(&location).token(&admin).send().await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body, created.body);
    let pasteur = app
        .staff("admin@pasteur.fr", Role::InstitutionAdmin, Some("pasteur"))
        .await;
    app.get(&location)
        .token(&pasteur)
        .send()
        .await
        .assert_problem(404, "not_found");

    let referral = app.curie_referral().await;
    let posted = app
        .post(&format!("/v1/referrals/{referral}/messages"))
        .token(&admin)
        .json(json!({"body": "Checked with the radiopharmacy.", "visibility": "internal"}))
        .send()
        .await;
    assert_eq!(posted.status, 201, "{}", posted.body);
    let location = posted.header("location").unwrap();
    let read = app.get(&location).token(&admin).send().await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body, posted.body);
    app.get(&location)
        .token(&pasteur)
        .send()
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn threads_and_audit_trails_are_paginated() {
    let app = TestApp::new().await;
    let curie = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let referral = app.curie_referral().await;
    for i in 0..5 {
        let res = app
            .post(&format!("/v1/referrals/{referral}/messages"))
            .token(&curie)
            .json(json!({"body": format!("note {i}"), "visibility": "internal"}))
            .send()
            .await;
        assert_eq!(res.status, 201);
    }
    let mut seen = Vec::new();
    let mut path = format!("/v1/referrals/{referral}/messages?limit=2");
    loop {
        let page = app.get(&path).token(&curie).send().await;
        assert_eq!(page.status, 200, "{}", page.body);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|m| m["body"].as_str().unwrap().to_owned()));
        match page.body["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/referrals/{referral}/messages?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(
        seen,
        (0..5).map(|i| format!("note {i}")).collect::<Vec<_>>()
    );

    let events = app
        .get(&format!("/v1/referrals/{referral}/events?limit=1"))
        .token(&curie)
        .send()
        .await;
    assert_eq!(events.body["items"].as_array().unwrap().len(), 1);
    assert!(events.body["next_cursor"].is_string());
    for (bad, code) in [
        ("limit=0", "invalid_limit"),
        ("limit=101", "invalid_limit"),
        ("cursor=nope", "invalid_cursor"),
    ] {
        app.get(&format!("/v1/referrals/{referral}/events?{bad}"))
            .token(&curie)
            .send()
            .await
            .assert_problem(400, code);
    }
}

#[actix_web::test]
async fn metrics_count_requests_by_route_template_never_by_raw_path() {
    let app = TestApp::new().await;
    let curie = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let referral = app.curie_referral().await;
    app.get(&format!("/v1/referrals/{referral}"))
        .token(&curie)
        .send()
        .await;
    for i in 0..5 {
        app.get(&format!("/wp-admin/{i}.php")).send().await;
    }
    app.try_login("t@curie.fr", "wrong password").await;
    let res = app.get("/metrics").send().await;
    assert_eq!(res.status, 200);
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    let text = String::from_utf8(res.raw).unwrap();
    assert!(
        text.contains(r#"guichet_http_requests_total{method="GET",route="/v1/referrals/{referral_id}",status="200"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/v1/inquiries",status="201"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"guichet_http_requests_total{method="GET",route="unmatched",status="404"} 5"#
        ),
        "{text}"
    );
    assert!(
        !text.contains("wp-admin") && !text.contains(&referral),
        "{text}"
    );
    assert!(
        text.contains("guichet_http_request_duration_seconds_bucket{"),
        "{text}"
    );
    assert!(text.contains("guichet_login_failures_total 1"), "{text}");
    assert!(text.contains("guichet_db_pool_connections_idle "), "{text}");
    assert!(text.contains("guichet_db_pool_connections_max 4"), "{text}");
}

#[actix_web::test]
async fn metrics_can_be_kept_behind_a_token() {
    let app = TestApp::with_http(HttpOptions {
        metrics_token: Some("metrics-secret-0123456789".into()),
        ..HttpOptions::default()
    })
    .await;
    app.get("/metrics")
        .send()
        .await
        .assert_problem(401, "invalid_token");
    app.get("/metrics")
        .token("metrics-secret-wrong-0000")
        .send()
        .await
        .assert_problem(401, "invalid_token");
    let ok = app
        .get("/metrics")
        .token("metrics-secret-0123456789")
        .send()
        .await;
    assert_eq!(ok.status, 200);
}
