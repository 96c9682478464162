//! The console's admin and operator pages, through their HTML: the password-reset link's
//! form, webhook endpoints and their deliveries, the desk, institutions, transparency.

use serde_json::json;

use guichet::domain::taxonomy::Role;

use crate::console_support::{Browser, attribute_after, csrf_of, form_fields, html, with};
use crate::support::{PASSWORD, Receiver, TestApp, psma_inquiry, reset_token};

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

/// Curie's endpoint (made by its admin through the API) with one pending delivery (a ping):
/// (endpoint id, delivery id).
async fn curie_endpoint(app: &TestApp, receiver: &Receiver) -> (String, String) {
    let admin = app.login("admin@curie.fr").await.0;
    let res = app
        .post("/v1/webhook-endpoints")
        .token(&admin)
        .json(json!({"url": receiver.url(), "description": "Our CRM"}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let id = res.body["endpoint"]["id"].as_str().unwrap().to_owned();
    let res = app
        .post(&format!("/v1/webhook-endpoints/{id}/ping"))
        .token(&admin)
        .send()
        .await;
    assert_eq!(res.status, 202, "{}", res.body);
    (id, res.body["id"].as_str().unwrap().to_owned())
}

fn data(page: &str, marker: &str, attr: &str) -> String {
    attribute_after(page, marker, attr).unwrap_or_else(|| panic!("no {marker} in the page"))
}

#[actix_web::test]
async fn an_admin_sees_the_endpoint_and_its_deliveries_re_enables_it_and_re_sends() {
    let app = TestApp::new().await;
    let receiver = Receiver::start().await;
    app.user("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let (id, delivery) = curie_endpoint(&app, &receiver).await;
    let mut b = Browser::new(&app);
    b.sign_in("admin@curie.fr").await;

    let list = b.get("/console/webhooks").await;
    assert_eq!(list.status, 200, "{}", html(&list));
    assert!(html(&list).contains(&format!("href=\"/console/webhooks/{id}\"")));

    // The endpoint-disabled e-mail's link, after the endpoint was disabled.
    let admin = app.login("admin@curie.fr").await.0;
    let res = app
        .patch(&format!("/v1/webhook-endpoints/{id}"))
        .token(&admin)
        .json(json!({"enabled": false}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let link = format!("/console/webhooks/{id}");
    let page = b.get(&link).await;
    assert_eq!(page.status, 200, "{}", html(&page));
    let p = html(&page);
    assert_eq!(data(&p, "id=\"endpoint\"", "data-enabled"), "false");
    let row = format!("id=\"delivery-{delivery}\"");
    assert_eq!(data(&p, &row, "data-status"), "failed");
    assert_eq!(data(&p, &row, "data-attempts"), "0");

    // Re-sending to a disabled endpoint says why, and changes nothing.
    let res = b.submit(&page, &format!("resend-{delivery}"), &[]).await;
    assert_eq!(res.status, 409, "{}", html(&res));
    assert_eq!(
        data(&html(&res), "id=\"notice\"", "data-notice"),
        "webhooks.resend_disabled"
    );
    assert!(html(&res).contains("id=\"enable-form\""));

    // Enabled again, then the delivery re-sent: pending once more.
    let res = b.submit(&page, "enable-form", &[]).await;
    assert_eq!(res.status, 303, "{}", html(&res));
    assert_eq!(
        res.header("location").unwrap(),
        format!("{link}?done=enabled")
    );
    let page = b.get(&format!("{link}?done=enabled")).await;
    let p = html(&page);
    assert_eq!(data(&p, "id=\"endpoint\"", "data-enabled"), "true");
    assert!(!p.contains("id=\"enable-form\""));
    let res = b.submit(&page, &format!("resend-{delivery}"), &[]).await;
    assert_eq!(res.status, 303, "{}", html(&res));
    assert_eq!(
        res.header("location").unwrap(),
        format!("{link}?done=resent")
    );
    let page = b.get(&format!("{link}?done=resent")).await;
    assert_eq!(data(&html(&page), &row, "data-status"), "pending");

    // Operators see every institution's endpoints.
    app.user("ops@guichet.example", Role::Operator, None).await;
    let mut op = Browser::new(&app);
    op.sign_in("ops@guichet.example").await;
    let list = op.get("/console/webhooks").await;
    assert!(html(&list).contains(&format!("href=\"/console/webhooks/{id}\"")));
    assert_eq!(op.get(&link).await.status, 200);
}

#[actix_web::test]
async fn webhook_pages_stay_within_their_institution_and_refuse_forged_forms() {
    let app = TestApp::new().await;
    let receiver = Receiver::start().await;
    app.user("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    app.user("admin@aphp.fr", Role::InstitutionAdmin, Some("aphp"))
        .await;
    app.user("t@curie.fr", Role::Triager, Some("curie")).await;
    let (id, delivery) = curie_endpoint(&app, &receiver).await;
    let link = format!("/console/webhooks/{id}");

    let admin = app.login("admin@curie.fr").await.0;
    let res = app
        .patch(&format!("/v1/webhook-endpoints/{id}"))
        .token(&admin)
        .json(json!({"enabled": false}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let mut curie = Browser::new(&app);
    curie.sign_in("admin@curie.fr").await;
    let page = curie.get(&link).await;
    assert_eq!(page.status, 200);

    // A forged CSRF token: refused, and the endpoint stays disabled.
    let res = curie
        .submit(&page, "enable-form", &[("csrf", "forged")])
        .await;
    assert_eq!(res.status, 403, "{}", html(&res));
    let e = app
        .get(&format!("/v1/webhook-endpoints/{id}"))
        .token(&admin)
        .send()
        .await;
    assert_eq!(e.body["enabled"], json!(false), "{}", e.body);
    let res = curie
        .submit(&page, &format!("resend-{delivery}"), &[("csrf", "")])
        .await;
    assert_eq!(res.status, 403, "{}", html(&res));

    // Another institution's admin: the not-found page, for the page and its forms.
    let mut aphp = Browser::new(&app);
    aphp.sign_in("admin@aphp.fr").await;
    assert_eq!(aphp.get(&link).await.status, 404);
    let list = aphp.get("/console/webhooks").await;
    assert_eq!(list.status, 200);
    assert!(html(&list).contains("id=\"endpoints-empty\""));
    let own = aphp.get("/console/queue").await;
    let fields = with(
        form_fields(&html(&own), "queue-filters"),
        "csrf",
        &csrf_of(&html(&own)),
    );
    let res = aphp
        .post(
            &format!("/console/webhook-deliveries/{delivery}/resend"),
            &fields,
        )
        .await;
    assert_eq!(res.status, 404, "{}", html(&res));
    let res = aphp.post(&format!("{link}/enable"), &fields).await;
    assert_eq!(res.status, 404, "{}", html(&res));

    // A triager: the forbidden page.
    let mut t = Browser::new(&app);
    t.sign_in("t@curie.fr").await;
    assert_eq!(t.get("/console/webhooks").await.status, 403);
    assert_eq!(t.get(&link).await.status, 403);

    // Ids that are not ids: the not-found page, never a 500.
    assert_eq!(curie.get("/console/webhooks/not-an-id").await.status, 404);
    let res = curie
        .post(
            "/console/webhook-deliveries/not-an-id/resend",
            &fields_of(&page),
        )
        .await;
    assert_eq!(res.status, 404, "{}", html(&res));
}

fn fields_of(page: &crate::support::Response) -> Vec<(String, String)> {
    vec![("csrf".into(), csrf_of(&html(page)))]
}

/// An inquiry no institution takes (type `other`): its id.
async fn on_desk(app: &TestApp) -> String {
    let mut body = psma_inquiry();
    body["inquiry_type"] = json!("other");
    let res = app.post("/v1/inquiries").json(body).send().await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(res.body["status"], "on_desk", "{}", res.body);
    res.body["id"].as_str().unwrap().to_owned()
}

fn routing_form(page: &str, choices: &[&str], reason: &str) -> Vec<(String, String)> {
    let mut fields = vec![("csrf".to_owned(), csrf_of(page))];
    for c in choices {
        fields.push(("institutions".into(), (*c).to_owned()));
    }
    fields.push(("reason".into(), reason.to_owned()));
    fields
}

#[actix_web::test]
async fn an_operator_routes_a_desk_inquiry_by_hand_and_others_may_not() {
    let app = TestApp::new().await;
    let id = on_desk(&app).await;
    app.user("ops@guichet.example", Role::Operator, None).await;
    app.user("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let mut op = Browser::new(&app);
    op.sign_in("ops@guichet.example").await;

    let desk = op.get("/console/desk").await;
    assert_eq!(desk.status, 200, "{}", html(&desk));
    let p = html(&desk);
    assert!(p.contains(&format!("id=\"route-{id}\"")), "{p}");
    let action = format!("/console/desk/{id}/routing");

    // A forged token: refused, still on the desk.
    let res = op
        .post(
            &action,
            &with(routing_form(&p, &["curie"], ""), "csrf", "forged"),
        )
        .await;
    assert_eq!(res.status, 403, "{}", html(&res));

    // No institution, or one that does not exist: the API's errors beside this form.
    let res = op.post(&action, &routing_form(&p, &[], "")).await;
    assert_eq!(res.status, 422, "{}", html(&res));
    assert!(html(&res).contains("id=\"form-errors\""));
    let res = op
        .post(&action, &routing_form(&p, &["nowhere"], "Asked by phone"))
        .await;
    assert_eq!(res.status, 422, "{}", html(&res));
    assert!(html(&res).contains("value=\"Asked by phone\""));

    // Routed by hand to Curie, with a reason: off the desk, in Curie's queue.
    let res = op
        .post(
            &action,
            &routing_form(&p, &["curie"], "Their imaging platform fits"),
        )
        .await;
    assert_eq!(res.status, 303, "{}", html(&res));
    assert_eq!(
        res.header("location").as_deref(),
        Some("/console/desk?done=routed")
    );
    let desk = op.get("/console/desk?done=routed").await;
    assert!(html(&desk).contains("id=\"desk-empty\""));
    assert!(html(&desk).contains("data-notice=\"desk.done_routed\""));
    let admin = app.login("admin@curie.fr").await.0;
    let queue = app.get("/v1/referrals").token(&admin).send().await;
    assert_eq!(
        queue.body["items"][0]["inquiry_id"],
        id.as_str(),
        "{}",
        queue.body
    );

    // Routed again (a stale desk): 409 with the desk as it is now.
    let res = op.post(&action, &routing_form(&p, &["curie"], "")).await;
    assert_eq!(res.status, 409, "{}", html(&res));
    assert!(html(&res).contains("data-notice=\"desk.conflict\""));

    // An unknown inquiry: the not-found page; an institution admin: the forbidden page.
    let res = op
        .post(
            "/console/desk/not-an-id/routing",
            &routing_form(&p, &["curie"], ""),
        )
        .await;
    assert_eq!(res.status, 404, "{}", html(&res));
    let mut curie = Browser::new(&app);
    curie.sign_in("admin@curie.fr").await;
    assert_eq!(curie.get("/console/desk").await.status, 403);
    let own = curie.get("/console/queue").await;
    let res = curie
        .post(&action, &routing_form(&html(&own), &["curie"], ""))
        .await;
    assert_eq!(res.status, 403, "{}", html(&res));
}
