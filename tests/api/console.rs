//! The triage console, through its HTML: sign-in, the queue, a referral worked from `new` to
//! `accepted`, the submitter's reply, isolation between institutions, CSRF, stale forms,
//! sign-out and disabled accounts. (The same pages in a real browser: `scripts/console_browser.py`.)

use serde_json::json;

use guichet::domain::taxonomy::Role;

use crate::console_support::{Browser, csrf_of, form_fields, html, with};
use crate::support::{PASSWORD, TestApp, psma_inquiry};

/// Submits the PSMA inquiry; returns (inquiry id, tracking token, Curie's referral id).
async fn submitted(app: &TestApp) -> (String, String, String) {
    let res = app.post("/v1/inquiries").json(psma_inquiry()).send().await;
    assert_eq!(res.status, 201, "{}", res.body);
    let curie = res.body["referrals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["institution"]["id"] == "curie")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (
        res.body["id"].as_str().unwrap().to_owned(),
        res.body["tracking_token"].as_str().unwrap().to_owned(),
        curie,
    )
}

fn status_of(page: &str) -> String {
    crate::console_support::attribute_after(page, "id=\"referral-status\"", "data-status").unwrap()
}

#[actix_web::test]
async fn a_triager_signs_in_works_a_referral_to_accepted_and_sees_the_submitters_reply() {
    let app = TestApp::new().await;
    app.user("claire@curie.fr", Role::Triager, Some("curie"))
        .await;
    let (inquiry, token, referral) = submitted(&app).await;
    let mut b = Browser::new(&app);

    // The link of the new-referral e-mail, before signing in: to the sign-in form and back.
    let link = format!("/console/referrals/{referral}");
    let res = b.get(&link).await;
    assert_eq!(res.status, 303);
    let location = res.header("location").unwrap();
    assert!(
        location.starts_with("/console/sign-in?next=%2Fconsole%2Freferrals%2F"),
        "{location}"
    );
    let res = b
        .sign_in_with("claire@curie.fr", PASSWORD, Some(&link))
        .await;
    assert_eq!(res.status, 303, "{}", html(&res));
    assert_eq!(res.header("location").as_deref(), Some(link.as_str()));

    // The queue lists it with its reference.
    let queue = b.get("/console/queue").await;
    assert_eq!(queue.status, 200);
    let page = html(&queue);
    assert!(
        page.contains(&format!("/console/referrals/{referral}")),
        "{page}"
    );
    assert!(page.contains("GU-"), "{page}");

    let mut page = b.get(&link).await;
    assert_eq!(page.status, 200);
    assert_eq!(status_of(&html(&page)), "new");
    assert!(html(&page).contains("Institut Curie"));

    // An internal note, then along the lifecycle to in review.
    let res = b
        .submit(
            &page,
            "post-form",
            &[
                ("body", "Checked with the radiopharmacy."),
                ("visibility", "internal"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", html(&res));
    for to in ["acknowledged", "in_review"] {
        page = b.get(&link).await;
        let form = format!("transition-{to}");
        assert!(
            html(&page).contains(&format!("id=\"{form}\"")),
            "no {form}: {}",
            html(&page)
        );
        let res = b.submit(&page, &form, &[]).await;
        assert_eq!(res.status, 303, "{to}: {}", html(&res));
    }
    // A message to the submitter, who replies: the reply arrives in the thread, marked as theirs.
    page = b.get(&link).await;
    let res = b
        .submit(
            &page,
            "post-form",
            &[
                ("body", "Could you send the dosimetry data?"),
                ("visibility", "external"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", html(&res));
    let res = app
        .post(&format!(
            "/v1/inquiries/{inquiry}/referrals/{referral}/messages"
        ))
        .header("X-Tracking-Token", &token)
        .json(json!({"body": "Thank you, the dosimetry data are in our data room."}))
        .send()
        .await;
    assert!(res.status.is_success(), "{}", res.body);
    page = b.get(&link).await;
    let text = html(&page);
    let at = text
        .find("Thank you, the dosimetry data are in our data room.")
        .expect("the reply is shown");
    let article = text[..at].rfind("<article").unwrap();
    assert!(
        text[article..at].contains("from-submitter"),
        "{}",
        &text[article..at]
    );

    // Accepted, with a message.
    let res = b
        .submit(
            &page,
            "transition-accepted",
            &[("message", "We would be glad to host the trial.")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", html(&res));
    let text = html(&b.get(&link).await);
    assert_eq!(status_of(&text), "accepted");
    assert!(
        text.contains("id=\"no-transitions\""),
        "a final referral offers no transition"
    );
    assert!(text.contains("class=\"note\""), "{text}");
    assert!(text.contains("class=\"message\""), "{text}");

    // What the submitter sees: the messages, never the note.
    let seen = app
        .get(&format!("/v1/inquiries/{inquiry}"))
        .header("X-Tracking-Token", &token)
        .send()
        .await;
    let seen_text = seen.body.to_string();
    assert!(
        seen_text.contains("We would be glad to host the trial."),
        "{seen_text}"
    );
    assert!(seen_text.contains("\"accepted\""), "{seen_text}");
    assert!(!seen_text.contains("radiopharmacy"));

    // The audit trail names each change.
    assert!(text.contains("id=\"audit\""));
    assert!(text.matches("<tr><td>").count() >= 3, "{text}");
}

#[actix_web::test]
async fn a_triager_of_another_institution_gets_the_not_found_page() {
    let app = TestApp::new().await;
    app.user("t@gustave-roussy.fr", Role::Triager, Some("gustave-roussy"))
        .await;
    app.user("t@pasteur.fr", Role::Triager, Some("pasteur"))
        .await;
    let (_, _, referral) = submitted(&app).await;
    let mut b = Browser::new(&app);
    b.sign_in("t@pasteur.fr").await;
    let res = b.get(&format!("/console/referrals/{referral}")).await;
    assert_eq!(res.status, 404);
    assert!(res.header("content-type").unwrap().starts_with("text/html"));
    assert!(html(&res).contains("id=\"error-title\""));
    assert!(
        !html(&res).contains("PSMA"),
        "nothing of the referral leaks"
    );
    // Nor can it be changed by a hand-made form.
    let page = b.get("/console/queue").await;
    let fields = vec![
        ("csrf".to_owned(), csrf_of(&html(&page))),
        ("version".to_owned(), "1".to_owned()),
        ("to".to_owned(), "acknowledged".to_owned()),
    ];
    let res = b
        .post(
            &format!("/console/referrals/{referral}/transition"),
            &fields,
        )
        .await;
    assert_eq!(res.status, 404);
    // Unknown pages and ids that are not ids are the same page.
    assert_eq!(b.get("/console/referrals/not-an-id").await.status, 404);
    assert_eq!(b.get("/console/nowhere").await.status, 404);
}

#[actix_web::test]
async fn a_forged_or_missing_csrf_token_is_refused_and_changes_nothing() {
    let app = TestApp::new().await;
    app.user("t@curie.fr", Role::Triager, Some("curie")).await;
    let (_, _, referral) = submitted(&app).await;
    let mut b = Browser::new(&app);
    b.sign_in("t@curie.fr").await;
    let link = format!("/console/referrals/{referral}");
    let page = b.get(&link).await;
    let action = format!("/console/referrals/{referral}/transition");
    let fields = form_fields(&html(&page), "transition-acknowledged");
    for forged in [
        with(fields.clone(), "csrf", "forged"),
        fields
            .iter()
            .filter(|(k, _)| k != "csrf")
            .cloned()
            .collect(),
    ] {
        let res = b.post(&action, &forged).await;
        assert_eq!(res.status, 403, "{}", html(&res));
        assert!(res.header("content-type").unwrap().starts_with("text/html"));
    }
    // Another session's token is not this one's.
    let mut other = Browser::new(&app);
    other.sign_in("t@curie.fr").await;
    let theirs = csrf_of(&html(&other.get("/console/queue").await));
    assert_ne!(theirs, csrf_of(&html(&page)));
    let res = b
        .post(&action, &with(fields.clone(), "csrf", &theirs))
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(status_of(&html(&b.get(&link).await)), "new");
    // The sign-in form wants its own token and cookie too.
    let mut stranger = Browser::new(&app);
    let res = stranger
        .post(
            "/console/sign-in",
            &[
                ("email".into(), "t@curie.fr".into()),
                ("password".into(), PASSWORD.into()),
                ("token".into(), "x".into()),
            ],
        )
        .await;
    assert_eq!(res.status, 403);
    assert!(!stranger.cookies.contains_key("guichet_session"));
    // The genuine form goes through.
    let res = b.post(&action, &fields).await;
    assert_eq!(res.status, 303);
}

#[actix_web::test]
async fn a_stale_form_says_so_and_shows_the_new_state_instead_of_overwriting_it() {
    let app = TestApp::new().await;
    app.user("a@curie.fr", Role::Triager, Some("curie")).await;
    let other = app.staff("b@curie.fr", Role::Triager, Some("curie")).await;
    let (_, _, referral) = submitted(&app).await;
    let mut b = Browser::new(&app);
    b.sign_in("a@curie.fr").await;
    let link = format!("/console/referrals/{referral}");
    let page = b.get(&link).await;
    // Someone else acknowledges it meanwhile, through the API.
    let res = app
        .post(&format!("/v1/referrals/{referral}/transitions"))
        .token(&other)
        .header("If-Match", "\"1\"")
        .json(json!({"to": "acknowledged"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let res = b.submit(&page, "transition-acknowledged", &[]).await;
    assert_eq!(res.status, 409);
    let text = html(&res);
    assert!(text.contains("id=\"stale-notice\""), "{text}");
    assert_eq!(
        status_of(&text),
        "acknowledged",
        "the page shows the new state"
    );
    assert!(text.contains("id=\"transition-in_review\""));
    // The assignment form is versioned the same way.
    let res = b.submit(&page, "assign-form", &[]).await;
    assert_eq!(res.status, 409);
    assert!(html(&res).contains("id=\"stale-notice\""));
}

#[actix_web::test]
async fn wrong_fields_are_shown_beside_the_form_with_what_was_typed() {
    let app = TestApp::new().await;
    app.user("t@curie.fr", Role::Triager, Some("curie")).await;
    let (_, _, referral) = submitted(&app).await;
    let mut b = Browser::new(&app);
    b.sign_in("t@curie.fr").await;
    let link = format!("/console/referrals/{referral}");
    let page = b.get(&link).await;
    let long = "x".repeat(10_001);
    let res = b
        .submit(
            &page,
            "post-form",
            &[("body", &long), ("visibility", "external")],
        )
        .await;
    assert_eq!(res.status, 422, "{}", html(&res));
    let text = html(&res);
    assert!(text.contains("id=\"form-errors\""), "{text}");
    assert!(text.contains(&long), "the text typed is kept");
    // A kind that is not one, an empty body: 422, nothing posted.
    let res = b
        .submit(
            &page,
            "post-form",
            &[("body", "hello"), ("visibility", "broadcast")],
        )
        .await;
    assert_eq!(res.status, 422);
    let res = b.submit(&page, "post-form", &[("body", "   ")]).await;
    assert_eq!(res.status, 422);
    assert!(html(&b.get(&link).await).contains("id=\"thread-empty\""));
    // A transition that the status does not allow is a conflict page, not a 500.
    let res = b
        .submit(&page, "transition-acknowledged", &[("to", "accepted")])
        .await;
    assert_eq!(res.status, 409);
    assert_eq!(status_of(&html(&res)), "new");
    // A declined without a reason, a forward to nowhere: 422 or 409, never a 500.
    for to in ["declined", "forwarded", "withdrawn", "bogus"] {
        let res = b
            .submit(&page, "transition-acknowledged", &[("to", to)])
            .await;
        assert!(
            [409, 422].contains(&res.status.as_u16()),
            "{to}: {}",
            res.status
        );
    }
    // A body that is not a form at all.
    let res = app
        .post(&format!("/console/referrals/{referral}/messages"))
        .header(
            "Cookie",
            &format!("guichet_session={}", b.cookies["guichet_session"]),
        )
        .raw(
            vec![0xff, 0xfe, b'%', b'z'],
            Some("application/x-www-form-urlencoded"),
        )
        .send()
        .await;
    assert!([400, 403].contains(&res.status.as_u16()), "{}", res.status);
}

#[actix_web::test]
async fn the_queue_takes_the_apis_filters_and_pages_by_keyset() {
    let app = TestApp::new().await;
    app.user("t@curie.fr", Role::Triager, Some("curie")).await;
    for _ in 0..3 {
        submitted(&app).await;
    }
    let mut b = Browser::new(&app);
    b.sign_in("t@curie.fr").await;
    let first = html(&b.get("/console/queue?limit=2").await);
    assert_eq!(first.matches("data-referral=").count(), 2);
    let next = crate::console_support::attribute_after(&first, "id=\"next-page\"", "href").unwrap();
    assert!(
        next.contains("limit=2") && next.contains("cursor="),
        "{next}"
    );
    let second = html(&b.get(&next).await);
    assert_eq!(second.matches("data-referral=").count(), 1);
    assert!(!second.contains("id=\"next-page\""));
    // Counts per status, and a status filter from a checkbox.
    assert!(first.contains("data-status=\"new\">"), "{first}");
    let none = html(&b.get("/console/queue?status=accepted&q=&assigned=").await);
    assert!(none.contains("id=\"queue-empty\""));
    let found = html(
        &b.get("/console/queue?status=new&status=acknowledged&q=PSMA")
            .await,
    );
    assert_eq!(found.matches("data-referral=").count(), 3);
    // Bad filters are a 400 page, never a 500.
    for bad in [
        "status=bogus",
        "limit=0",
        "limit=1000",
        "cursor=garbage",
        "overdue=maybe",
        "created_after=yesterday",
        "unknown=1",
        "assigned=x",
    ] {
        let res = b.get(&format!("/console/queue?{bad}")).await;
        assert_eq!(res.status, 400, "{bad}");
        assert!(
            res.header("content-type").unwrap().starts_with("text/html"),
            "{bad}"
        );
    }
    // A cursor made for other filters is refused.
    let res = b.get(&format!("{next}&sort=newest")).await;
    assert_eq!(res.status, 400);
}

#[actix_web::test]
async fn sign_out_and_disabling_end_the_session_at_once() {
    let app = TestApp::new().await;
    let admin = app
        .staff("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let id = app.user("t@curie.fr", Role::Triager, Some("curie")).await;
    let mut b = Browser::new(&app);
    b.sign_in("t@curie.fr").await;
    let kept = b.cookies.clone();
    let page = b.get("/console/queue").await;
    assert_eq!(page.status, 200);
    let res = b
        .post(
            "/console/sign-out",
            &[("csrf".into(), csrf_of(&html(&page)))],
        )
        .await;
    assert_eq!(res.status, 303);
    assert!(
        !b.cookies.contains_key("guichet_session"),
        "the cookie is cleared"
    );
    // The old cookie, replayed, is worth nothing: the session ended in the database.
    b.cookies = kept;
    let res = b.get("/console/queue").await;
    assert_eq!(res.status, 303);
    assert!(
        res.header("location")
            .unwrap()
            .starts_with("/console/sign-in")
    );

    // A disabled account is signed out on its next page.
    let mut b = Browser::new(&app);
    b.sign_in("t@curie.fr").await;
    let res = app
        .patch(&format!("/v1/institutions/curie/users/{id}"))
        .token(&admin)
        .json(json!({"disabled": true}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let res = b.get("/console/queue").await;
    assert_eq!(res.status, 303);
    // Sign-out without a session is the sign-in page's business, not a 500.
    let res = b
        .post("/console/sign-out", &[("csrf".into(), "x".into())])
        .await;
    assert_eq!(res.status, 401);
}

#[actix_web::test]
async fn sign_in_refuses_wrong_credentials_alike_and_keeps_the_apis_throttle() {
    let app = TestApp::with_limits(guichet::service::Limits {
        login_failures_per_account: 3,
        ..Default::default()
    })
    .await;
    app.user("t@curie.fr", Role::Triager, Some("curie")).await;
    let mut b = Browser::new(&app);
    let wrong = b.sign_in_with("t@curie.fr", "not the password", None).await;
    let unknown = b
        .sign_in_with("nobody@curie.fr", "not the password", None)
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.status, 401);
    assert!(html(&wrong).contains("id=\"sign-in-error\""));
    assert!(!b.cookies.contains_key("guichet_session"));
    // An over-long e-mail or password is just wrong, not a 500.
    let res = b
        .sign_in_with(&"x".repeat(5000), &"y".repeat(5000), None)
        .await;
    assert_eq!(res.status, 401);
    for _ in 0..3 {
        b.sign_in_with("t@curie.fr", "not the password", None).await;
    }
    let res = b.sign_in_with("t@curie.fr", PASSWORD, None).await;
    assert_eq!(res.status, 429);
    assert!(res.header("retry-after").is_some());
    // Only console paths are followed after signing in.
    let mut b = Browser::new(&app);
    app.user("u@curie.fr", Role::Triager, Some("curie")).await;
    let res = b
        .sign_in_with("u@curie.fr", PASSWORD, Some("https://evil.example/"))
        .await;
    assert_eq!(res.header("location").as_deref(), Some("/console/queue"));
}

#[actix_web::test]
async fn pages_carry_a_strict_policy_and_the_cookie_is_locked_down() {
    let app = TestApp::new().await;
    app.user("t@curie.fr", Role::Triager, Some("curie")).await;
    let mut b = Browser::new(&app);
    let form = b.get("/console/sign-in").await;
    let csp = form.header("content-security-policy").unwrap();
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert_eq!(form.header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(form.header("cache-control").as_deref(), Some("no-store"));
    // No inline script or style in any page: everything is in the vendored files.
    let text = html(&form);
    assert!(
        !text.contains("<script>") && !text.contains("style="),
        "{text}"
    );
    let res = b.sign_in_with("t@curie.fr", PASSWORD, None).await;
    let cookie = res
        .headers
        .get_all("set-cookie")
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("guichet_session="))
        .unwrap();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain http on loopback: {cookie}"
    );
    for asset in ["/console/assets/console.css", "/console/assets/console.js"] {
        let res = b.get(asset).await;
        assert_eq!(res.status, 200, "{asset}");
        assert!(res.header("cache-control").unwrap().contains("max-age"));
    }
    assert_eq!(b.get("/console/assets/../../etc/passwd").await.status, 404);
}

#[actix_web::test]
async fn behind_a_trusted_https_proxy_the_cookie_is_secure() {
    let app = TestApp::with_http(guichet::api::HttpOptions {
        trust_forwarded_for: true,
        ..Default::default()
    })
    .await;
    app.user("t@curie.fr", Role::Triager, Some("curie")).await;
    let form = app
        .get("/console/sign-in")
        .header("X-Forwarded-Proto", "https")
        .send()
        .await;
    let cookie = form.header("set-cookie").unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
    // Without the proxy's word, no Secure flag.
    let plain = app.get("/console/sign-in").send().await;
    assert!(!plain.header("set-cookie").unwrap().contains("Secure"));
}

#[actix_web::test]
async fn pages_speak_the_accounts_language_and_the_sign_in_form_the_browsers() {
    let app = TestApp::new().await;
    let token = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let res = app
        .patch("/v1/me")
        .token(&token)
        .json(json!({"locale": "fr"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let mut b = Browser::new(&app);
    b.language = Some("fr-FR,fr;q=0.9".into());
    let form = html(&b.get("/console/sign-in").await);
    assert!(
        form.contains("lang=\"fr\"") && form.contains("Mot de passe"),
        "{form}"
    );
    b.language = Some("en".into());
    b.sign_in("t@curie.fr").await;
    let queue = html(&b.get("/console/queue").await);
    assert!(queue.contains("lang=\"fr\""), "the account's language wins");
    assert!(queue.contains("File des orientations"));
}

#[actix_web::test]
async fn every_link_of_the_navigation_leads_to_a_page() {
    let app = TestApp::new().await;
    app.user("ops@guichet.example", Role::Operator, None).await;
    app.user("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    for who in ["ops@guichet.example", "admin@curie.fr"] {
        let mut b = Browser::new(&app);
        b.sign_in(who).await;
        let page = html(&b.get("/console/queue").await);
        let nav = &page[page.find("<nav").unwrap()..page.find("</nav>").unwrap()];
        let links: Vec<String> = nav
            .split("href=\"")
            .skip(1)
            .map(|rest| rest[..rest.find('"').unwrap()].replace("&#x2f;", "/"))
            .collect();
        assert!(links.len() >= 2, "{who}: {links:?}");
        for link in links {
            let res = b.get(&link).await;
            assert_eq!(res.status, 200, "{who}: {link}");
        }
    }
}
