//! The console's admin and operator pages, through their HTML: the password-reset link's
//! form, webhook endpoints and their deliveries, the desk, institutions, transparency.

use serde_json::json;

use guichet::domain::taxonomy::Role;

use crate::console_support::{Browser, attribute_after, form_fields, html, with};
use crate::support::{PASSWORD, TestApp, reset_token};

async fn reset_link(app: &TestApp, email: &str) -> String {
    let res = app
        .post("/v1/auth/password-reset")
        .json(json!({"email": email}))
        .send()
        .await;
    assert_eq!(res.status, 202, "{}", res.body);
    reset_token(app, email).await
}

#[actix_web::test]
async fn the_reset_links_form_sets_the_password_once_and_refuses_what_it_must() {
    let app = TestApp::new().await;
    app.user("claire@curie.fr", Role::Triager, Some("curie"))
        .await;
    let token = reset_link(&app, "claire@curie.fr").await;
    let mut b = Browser::new(&app);
    let link = format!("/console/password-reset?token={token}");

    // The form carries the token; no session is needed.
    let form = b.get(&link).await;
    assert_eq!(form.status, 200, "{}", html(&form));
    assert_eq!(
        attribute_after(&html(&form), "name=\"reset_token\"", "value").as_deref(),
        Some(token.as_str())
    );

    // Two different passwords: the form again, nothing changed.
    let res = b
        .submit(
            &form,
            "reset-form",
            &[
                ("new_password", "a brand new passphrase"),
                ("new_password_again", "another passphrase"),
            ],
        )
        .await;
    assert_eq!(res.status, 422, "{}", html(&res));
    assert!(html(&res).contains("id=\"reset-error\""));
    assert!(html(&res).contains("id=\"reset-form\""));

    // A weak password: the API's own rule, beside the form.
    let res = b
        .submit(
            &res,
            "reset-form",
            &[("new_password", "short"), ("new_password_again", "short")],
        )
        .await;
    assert_eq!(res.status, 422, "{}", html(&res));
    assert!(html(&res).contains("id=\"form-errors\""), "{}", html(&res));

    // A forged post (no double-submit cookie): refused, the token still works afterwards.
    let mut stranger = Browser::new(&app);
    let fields = with(
        with(
            form_fields(&html(&res), "reset-form"),
            "new_password",
            "x y z w v u",
        ),
        "new_password_again",
        "x y z w v u",
    );
    let forged = stranger.post("/console/password-reset", &fields).await;
    assert_eq!(forged.status, 403, "{}", html(&forged));

    // The same password twice: set, then the sign-in form says so and the password works.
    let new = "a brand new passphrase";
    let res = b
        .submit(
            &res,
            "reset-form",
            &[("new_password", new), ("new_password_again", new)],
        )
        .await;
    assert_eq!(res.status, 303, "{}", html(&res));
    let location = res.header("location").unwrap();
    assert_eq!(location, "/console/sign-in?reset=done");
    let notice = b.get(&location).await;
    assert!(html(&notice).contains("id=\"sign-in-notice\""));
    let old = b.sign_in_with("claire@curie.fr", PASSWORD, None).await;
    assert_eq!(old.status, 401);
    let res = b.sign_in_with("claire@curie.fr", new, None).await;
    assert_eq!(res.status, 303, "{}", html(&res));

    // The link works once: used again, the form says so (never a 500).
    let mut again = Browser::new(&app);
    let form = again.get(&link).await;
    let res = again
        .submit(
            &form,
            "reset-form",
            &[
                ("new_password", "yet another passphrase"),
                ("new_password_again", "yet another passphrase"),
            ],
        )
        .await;
    assert_eq!(res.status, 401, "{}", html(&res));
    assert!(html(&res).contains("id=\"reset-error\""));

    // No token, or a made-up one: the page says the link is bad.
    let res = again.get("/console/password-reset").await;
    assert_eq!(res.status, 400);
    assert!(html(&res).contains("id=\"reset-error\""));
    assert!(!html(&res).contains("id=\"reset-form\""));
    let form = again.get("/console/password-reset?token=made-up").await;
    let res = again
        .submit(
            &form,
            "reset-form",
            &[
                ("new_password", "yet another passphrase"),
                ("new_password_again", "yet another passphrase"),
            ],
        )
        .await;
    assert_eq!(res.status, 401, "{}", html(&res));
}
