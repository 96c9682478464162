//! Institution accounts: login, tokens, sessions, throttling, account administration.

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::json;

use guichet::domain::taxonomy::Role;
use guichet::service::Limits;

use crate::support::{JWT_SECRET, PASSWORD, TestApp};

#[actix_web::test]
async fn login_returns_a_bearer_pair_and_me_shows_the_account() {
    let app = TestApp::new().await;
    app.user("Triage@Curie.fr", Role::Triager, Some("curie"))
        .await;
    let res = app.try_login("triage@curie.fr", PASSWORD).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["token_type"], "Bearer");
    assert_eq!(res.body["expires_in"], 900);
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
    let access = res.body["access_token"].as_str().unwrap();
    assert_eq!(access.split('.').count(), 3, "a JWT");
    assert!(res.body["refresh_token"].as_str().unwrap().len() >= 40);

    let me = app.get("/v1/me").token(access).send().await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["email"], "triage@curie.fr");
    assert_eq!(me.body["role"], "triager");
    assert_eq!(me.body["institution_id"], "curie");
}

#[actix_web::test]
async fn wrong_password_and_unknown_email_get_the_same_401() {
    let app = TestApp::new().await;
    app.user("admin@aphp.fr", Role::InstitutionAdmin, Some("aphp"))
        .await;
    let wrong_password = app.try_login("admin@aphp.fr", "not the password").await;
    let unknown = app.try_login("nobody@aphp.fr", "not the password").await;
    wrong_password.assert_problem(401, "invalid_credentials");
    unknown.assert_problem(401, "invalid_credentials");
    let strip = |mut v: serde_json::Value| {
        v.as_object_mut().map(|o| o.remove("request_id"));
        v
    };
    assert_eq!(strip(wrong_password.body), strip(unknown.body));
}

#[actix_web::test]
async fn a_disabled_account_cannot_log_in() {
    let app = TestApp::new().await;
    let admin = app
        .staff("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let id = app.user("t@curie.fr", Role::Triager, Some("curie")).await;
    let res = app
        .patch(&format!("/v1/institutions/curie/users/{id}"))
        .token(&admin)
        .json(json!({"disabled": true}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let res = app.try_login("t@curie.fr", PASSWORD).await;
    res.assert_problem(401, "invalid_credentials");
}

#[actix_web::test]
async fn repeated_failures_throttle_the_account_even_with_the_right_password() {
    let app = TestApp::with_limits(Limits {
        login_failures_per_account: 3,
        ..Limits::default()
    })
    .await;
    app.user("t@curie.fr", Role::Triager, Some("curie")).await;
    for _ in 0..3 {
        let res = app.try_login("t@curie.fr", "wrong password").await;
        res.assert_problem(401, "invalid_credentials");
    }
    let res = app.try_login("t@curie.fr", PASSWORD).await;
    res.assert_problem(429, "too_many_requests");
    let wait: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!(wait > 0 && wait <= 900, "{wait}");
}

#[actix_web::test]
async fn the_default_limits_throttle_only_after_ten_consecutive_failures() {
    let app = TestApp::new().await;
    app.user("t@curie.fr", Role::Triager, Some("curie")).await;
    for _ in 0..10 {
        let res = app.try_login("t@curie.fr", "wrong password").await;
        res.assert_problem(401, "invalid_credentials");
    }
    let res = app.try_login("t@curie.fr", PASSWORD).await;
    res.assert_problem(429, "too_many_requests");
}

#[actix_web::test]
async fn a_success_clears_the_account_failures() {
    let app = TestApp::with_limits(Limits {
        login_failures_per_account: 3,
        ..Limits::default()
    })
    .await;
    app.user("t@curie.fr", Role::Triager, Some("curie")).await;
    for round in 0..2 {
        for _ in 0..2 {
            let res = app.try_login("t@curie.fr", "wrong password").await;
            res.assert_problem(401, "invalid_credentials");
        }
        let res = app.try_login("t@curie.fr", PASSWORD).await;
        assert_eq!(res.status, 200, "round {round}: {}", res.body);
    }
}

#[actix_web::test]
async fn failures_from_one_address_are_throttled_across_accounts() {
    let app = TestApp::with_limits(Limits {
        login_failures_per_address: 2,
        ..Limits::default()
    })
    .await;
    app.user("t@curie.fr", Role::Triager, Some("curie")).await;
    for email in ["a@x.fr", "b@x.fr"] {
        let res = app
            .post("/v1/auth/token")
            .peer("198.51.100.7:1234")
            .json(json!({"email": email, "password": "guess guess"}))
            .send()
            .await;
        res.assert_problem(401, "invalid_credentials");
    }
    let res = app
        .post("/v1/auth/token")
        .peer("198.51.100.7:1234")
        .json(json!({"email": "t@curie.fr", "password": PASSWORD}))
        .send()
        .await;
    res.assert_problem(429, "too_many_requests");
    // Another address is not affected.
    let res = app
        .post("/v1/auth/token")
        .peer("198.51.100.8:1234")
        .json(json!({"email": "t@curie.fr", "password": PASSWORD}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
}

#[actix_web::test]
async fn an_over_long_password_is_refused_before_hashing() {
    let app = TestApp::new().await;
    let res = app
        .post("/v1/auth/token")
        .json(json!({"email": "t@curie.fr", "password": "p".repeat(257)}))
        .send()
        .await;
    res.assert_problem(422, "validation_failed");
    assert_eq!(
        res.field_errors(),
        vec![("/password".into(), "too_long".into())]
    );
}

#[actix_web::test]
async fn login_reports_every_missing_field() {
    let app = TestApp::new().await;
    let res = app.post("/v1/auth/token").json(json!({})).send().await;
    res.assert_problem(422, "validation_failed");
    assert_eq!(
        res.field_errors(),
        vec![
            ("/email".into(), "required".into()),
            ("/password".into(), "required".into())
        ]
    );
}

#[actix_web::test]
async fn a_refresh_token_rotates_and_works_once() {
    let app = TestApp::new().await;
    app.user("t@curie.fr", Role::Triager, Some("curie")).await;
    let (_, refresh) = app.login("t@curie.fr").await;
    let res = app
        .post("/v1/auth/refresh")
        .json(json!({"refresh_token": refresh}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let next_refresh = res.body["refresh_token"].as_str().unwrap().to_owned();
    let next_access = res.body["access_token"].as_str().unwrap().to_owned();
    assert_ne!(next_refresh, refresh);
    assert_eq!(
        app.get("/v1/me").token(&next_access).send().await.status,
        200
    );

    // Replaying the used token revokes the whole family: the new pair dies too.
    let replay = app
        .post("/v1/auth/refresh")
        .json(json!({"refresh_token": refresh}))
        .send()
        .await;
    replay.assert_problem(401, "refresh_token_reused");
    let res = app
        .post("/v1/auth/refresh")
        .json(json!({"refresh_token": next_refresh}))
        .send()
        .await;
    assert_eq!(res.status, 401);
    app.get("/v1/me")
        .token(&next_access)
        .send()
        .await
        .assert_problem(401, "invalid_token");
}

#[actix_web::test]
async fn an_unknown_refresh_token_is_a_401() {
    let app = TestApp::new().await;
    let res = app
        .post("/v1/auth/refresh")
        .json(json!({"refresh_token": "made-up-token"}))
        .send()
        .await;
    res.assert_problem(401, "invalid_refresh_token");
}

#[actix_web::test]
async fn logout_ends_the_session_on_the_next_request() {
    let app = TestApp::new().await;
    app.user("t@curie.fr", Role::Triager, Some("curie")).await;
    let (access, refresh) = app.login("t@curie.fr").await;
    let (other_access, _) = app.login("t@curie.fr").await;
    let res = app
        .post("/v1/auth/logout")
        .token(&access)
        .json(json!({"refresh_token": refresh}))
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.body);
    app.get("/v1/me")
        .token(&access)
        .send()
        .await
        .assert_problem(401, "invalid_token");
    let res = app
        .post("/v1/auth/refresh")
        .json(json!({"refresh_token": refresh}))
        .send()
        .await;
    assert_eq!(res.status, 401);
    // Another session of the same account goes on.
    assert_eq!(
        app.get("/v1/me").token(&other_access).send().await.status,
        200
    );
}

#[actix_web::test]
async fn logout_accepts_an_empty_body() {
    let app = TestApp::new().await;
    let token = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let res = app.post("/v1/auth/logout").token(&token).send().await;
    assert_eq!(res.status, 204, "{}", res.body);
    app.get("/v1/me")
        .token(&token)
        .send()
        .await
        .assert_problem(401, "invalid_token");
}

#[actix_web::test]
async fn disabling_an_account_takes_effect_on_its_next_request() {
    let app = TestApp::new().await;
    let admin = app
        .staff("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let id = app.user("t@curie.fr", Role::Triager, Some("curie")).await;
    let (token, refresh) = app.login("t@curie.fr").await;
    assert_eq!(app.get("/v1/me").token(&token).send().await.status, 200);
    let res = app
        .patch(&format!("/v1/institutions/curie/users/{id}"))
        .token(&admin)
        .json(json!({"disabled": true}))
        .send()
        .await;
    assert_eq!(res.body["disabled"], true);
    app.get("/v1/me")
        .token(&token)
        .send()
        .await
        .assert_problem(401, "invalid_token");
    let res = app
        .post("/v1/auth/refresh")
        .json(json!({"refresh_token": refresh}))
        .send()
        .await;
    assert_eq!(res.status, 401);
}

fn sign(claims: serde_json::Value, alg: Algorithm, secret: &[u8]) -> String {
    encode(
        &Header::new(alg),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

#[actix_web::test]
async fn forged_expired_and_misdirected_tokens_are_401() {
    let app = TestApp::new().await;
    let user_id = app.user("t@curie.fr", Role::Triager, Some("curie")).await;
    let (good, _) = app.login("t@curie.fr").await;
    let sid = {
        use base64::Engine;
        let payload = good.split('.').nth(1).unwrap();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap();
        let claims: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        claims["sid"].as_str().unwrap().to_owned()
    };
    let now = chrono::Utc::now().timestamp();
    let base = json!({"iss": "guichet", "aud": "guichet-api", "sub": user_id, "exp": now + 600, "iat": now, "typ": "access", "sid": sid});
    // The control: a token we sign ourselves like the server does is accepted.
    let control = sign(base.clone(), Algorithm::HS256, JWT_SECRET.as_bytes());
    assert_eq!(app.get("/v1/me").token(&control).send().await.status, 200);

    let with = |key: &str, value: serde_json::Value| {
        let mut c = base.clone();
        c[key] = value;
        sign(c, Algorithm::HS256, JWT_SECRET.as_bytes())
    };
    let none = {
        use base64::Engine;
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.",
            e.encode(br#"{"alg":"none","typ":"JWT"}"#),
            e.encode(base.to_string())
        )
    };
    let cases = vec![
        (
            "wrong signature",
            sign(
                base.clone(),
                Algorithm::HS256,
                b"another-secret-another-secret-another",
            ),
        ),
        (
            "another algorithm",
            sign(base.clone(), Algorithm::HS384, JWT_SECRET.as_bytes()),
        ),
        ("alg none", none),
        ("expired", with("exp", json!(now - 3600))),
        ("wrong audience", with("aud", json!("other-api"))),
        ("wrong issuer", with("iss", json!("someone"))),
        ("refresh type", with("typ", json!("refresh"))),
        ("another user's session", with("sub", json!("someone-else"))),
        ("garbage", "abc.def.ghi".to_owned()),
    ];
    for (what, token) in cases {
        let res = app.get("/v1/me").token(&token).send().await;
        assert_eq!(res.status, 401, "{what} was accepted");
        res.assert_problem(401, "invalid_token");
        assert_eq!(res.header("www-authenticate").as_deref(), Some("Bearer"));
    }
    app.get("/v1/me")
        .send()
        .await
        .assert_problem(401, "invalid_token");
    app.get("/v1/me")
        .header("Authorization", &format!("Basic {good}"))
        .send()
        .await
        .assert_problem(401, "invalid_token");
}

#[actix_web::test]
async fn an_admin_creates_a_triager_who_can_log_in() {
    let app = TestApp::new().await;
    let admin = app
        .staff("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let res = app
        .post("/v1/institutions/curie/users")
        .token(&admin)
        .json(json!({"email": "New.Triager@curie.fr", "password": "un mot de passe sûr", "role": "triager"}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(res.body["email"], "new.triager@curie.fr");
    assert_eq!(res.body["institution_id"], "curie");
    assert!(
        res.header("location")
            .unwrap()
            .ends_with(res.body["id"].as_str().unwrap())
    );
    let login = app
        .try_login("new.triager@curie.fr", "un mot de passe sûr")
        .await;
    assert_eq!(login.status, 200);
    let list = app
        .get("/v1/institutions/curie/users")
        .token(&admin)
        .send()
        .await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 2);

    let again = app
        .post("/v1/institutions/curie/users")
        .token(&admin)
        .json(json!({"email": "new.triager@curie.fr", "password": "another password", "role": "triager"}))
        .send()
        .await;
    again.assert_problem(409, "email_taken");
}

#[actix_web::test]
async fn account_creation_validates_every_field() {
    let app = TestApp::new().await;
    let admin = app
        .staff("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let res = app
        .post("/v1/institutions/curie/users")
        .token(&admin)
        .json(json!({"email": "not-an-email", "password": "short", "role": "boss"}))
        .send()
        .await;
    res.assert_problem(422, "validation_failed");
    assert_eq!(
        res.field_errors(),
        vec![
            ("/email".into(), "invalid_email".into()),
            ("/password".into(), "too_short".into()),
            ("/role".into(), "invalid_enum".into()),
        ]
    );
    let res = app
        .post("/v1/institutions/curie/users")
        .token(&admin)
        .json(json!({"email": "x@curie.fr", "password": "long enough", "role": "operator"}))
        .send()
        .await;
    res.assert_problem(422, "validation_failed");
    assert_eq!(
        res.field_errors(),
        vec![("/role".into(), "not_allowed".into())]
    );
}

#[actix_web::test]
async fn nobody_disables_or_demotes_themselves() {
    let app = TestApp::new().await;
    let admin_id = app
        .user("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let (admin, _) = app.login("admin@curie.fr").await;
    for change in [json!({"disabled": true}), json!({"role": "triager"})] {
        let res = app
            .patch(&format!("/v1/institutions/curie/users/{admin_id}"))
            .token(&admin)
            .json(change)
            .send()
            .await;
        res.assert_problem(409, "cannot_change_own_account");
    }
}

#[actix_web::test]
async fn accounts_of_another_institution_are_invisible() {
    let app = TestApp::new().await;
    let curie_admin = app
        .staff("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let aphp_user = app.user("t@aphp.fr", Role::Triager, Some("aphp")).await;
    app.get("/v1/institutions/aphp/users")
        .token(&curie_admin)
        .send()
        .await
        .assert_problem(404, "not_found");
    app.patch(&format!("/v1/institutions/aphp/users/{aphp_user}"))
        .token(&curie_admin)
        .json(json!({"disabled": true}))
        .send()
        .await
        .assert_problem(404, "not_found");
    // Through its own institution's path, another institution's account is missing too.
    app.patch(&format!("/v1/institutions/curie/users/{aphp_user}"))
        .token(&curie_admin)
        .json(json!({"disabled": true}))
        .send()
        .await
        .assert_problem(404, "not_found");
    app.post("/v1/institutions/aphp/users")
        .token(&curie_admin)
        .json(json!({"email": "spy@curie.fr", "password": "long enough", "role": "triager"}))
        .send()
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn triagers_cannot_manage_accounts_but_operators_can_anywhere() {
    let app = TestApp::new().await;
    let triager = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    app.get("/v1/institutions/curie/users")
        .token(&triager)
        .send()
        .await
        .assert_problem(403, "forbidden");
    let op = app.operator().await;
    let res = app
        .post("/v1/institutions/pasteur/users")
        .token(&op)
        .json(json!({"email": "admin@pasteur.fr", "password": "long enough", "role": "institution_admin"}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(res.body["institution_id"], "pasteur");
    app.get("/v1/institutions/unknown/users")
        .token(&op)
        .send()
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn a_generated_signing_secret_survives_a_restart() {
    let db = crate::support::TestDb::new();
    let start = || async {
        let database = guichet::startup::open_database(&db.url, 2).await.unwrap();
        guichet::startup::build_guichet(database, None, 900, Limits::default())
            .await
            .unwrap()
    };
    let first = start().await;
    let token = first
        .tokens
        .issue("user", "session", chrono::Utc::now())
        .unwrap();
    let restarted = start().await;
    assert!(
        restarted.tokens.verify(&token).is_ok(),
        "a restart must not log everyone out"
    );
    assert_eq!(first.tracking_key, restarted.tracking_key);
}

#[actix_web::test]
async fn an_unknown_institution_in_the_path_is_a_404_for_accounts_too() {
    let app = TestApp::new().await;
    let ops = app.operator().await;
    app.post("/v1/institutions/nowhere/users")
        .token(&ops)
        .json(json!({"email": "n@nowhere.fr", "password": "long enough passphrase", "role": "triager"}))
        .send()
        .await
        .assert_problem(404, "not_found");
}
