//! E-mail, end to end: the change recorder writes messages in the change's transaction, the
//! worker frame sends them to a real SMTP server (aiosmtpd on loopback), in the recipient's
//! language, with both parts; reminders follow the Paris business day; password reset works
//! once; nothing a submitter receives holds an internal note or a secret.

use std::sync::Arc;

use chrono::Duration;
use serde_json::{Value, json};

use crate::support::{PASSWORD, SmtpSink, TestApp, mails, psma_inquiry, reset_token};
use guichet::domain::taxonomy::Role;
use guichet::worker::ManualClock;

struct Sent {
    id: String,
    reference: String,
    token: String,
    referral: String,
    /// The first-response deadline of the first referral (UTC).
    due: chrono::NaiveDateTime,
}

async fn submit(app: &TestApp, body: Value, accept_language: Option<&str>) -> Sent {
    let mut req = app.post("/v1/inquiries").json(body);
    if let Some(l) = accept_language {
        req = req.header("Accept-Language", l);
    }
    let res = req.send().await;
    assert_eq!(res.status, 201, "{}", res.body);
    Sent {
        id: res.body["id"].as_str().unwrap().to_owned(),
        reference: res.body["reference"].as_str().unwrap().to_owned(),
        token: res.body["tracking_token"].as_str().unwrap().to_owned(),
        referral: res.body["referrals"][0]["id"].as_str().unwrap().to_owned(),
        due: chrono::DateTime::parse_from_rfc3339(
            res.body["referrals"][0]["first_response_due_at"]
                .as_str()
                .unwrap(),
        )
        .unwrap()
        .naive_utc(),
    }
}

fn to_curie() -> Value {
    let mut body = psma_inquiry();
    body["preferred_institutions"] = json!(["curie"]);
    body
}

async fn transition(app: &TestApp, token: &str, referral: &str, body: Value) {
    let res = app
        .post(&format!("/v1/referrals/{referral}/transitions"))
        .token(token)
        .header("If-Match", "*")
        .json(body)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
}

const ANNA: &str = "anna@helios.example";

#[actix_web::test]
async fn a_new_referral_reaches_the_triagers_and_the_submitter_gets_a_receipt_in_french() {
    let mut app = TestApp::new().await;
    let sink = SmtpSink::start(0, 0);
    app.mail_to(&sink);
    let triager = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let res = app
        .patch("/v1/me")
        .token(&triager)
        .json(json!({"locale": "fr"}))
        .send()
        .await;
    assert_eq!(
        (res.status.as_u16(), &res.body["locale"]),
        (200, &json!("fr"))
    );
    // Another institution's triager hears nothing of it.
    app.user("t@aphp.fr", Role::Triager, Some("aphp")).await;
    let s = submit(&app, to_curie(), Some("fr-FR,fr;q=0.9,en;q=0.5")).await;
    let round = app
        .worker(Arc::new(ManualClock::default()))
        .drain()
        .await
        .unwrap();
    assert_eq!(round.mail.sent, 2, "{round:?}");

    let receipt = &sink.to(ANNA)[0];
    assert!(
        receipt.subject().contains(&s.reference),
        "{}",
        receipt.subject()
    );
    assert_eq!(receipt.header("Content-Language"), "fr");
    assert!(receipt.text.contains("Institut Curie"), "{}", receipt.text);
    assert!(receipt.html.contains("Institut Curie"));
    assert!(
        receipt.text.contains("heure de Paris"),
        "the deadline in French: {}",
        receipt.text
    );
    assert!(receipt.header("Message-ID").ends_with("@guichet.example>"));
    assert!(
        !receipt.everything().contains(&s.token),
        "no tracking token"
    );
    assert!(
        !receipt.everything().contains("t@curie.fr"),
        "no staff address"
    );
    assert_eq!(
        receipt.header("List-Unsubscribe"),
        "",
        "a receipt is not optional"
    );

    let notice = &sink.to("t@curie.fr")[0];
    assert_eq!(notice.header("Content-Language"), "fr");
    assert!(notice.subject().contains(&s.reference));
    let link = format!("https://guichet.example/console/referrals/{}", s.referral);
    assert!(notice.text.contains(&link), "{}", notice.text);
    // minijinja escapes `/` in HTML as `&#x2f;`, which a browser reads back as `/`.
    assert!(notice.html.replace("&#x2f;", "/").contains(&link));
    assert!(sink.to("t@aphp.fr").is_empty());

    // Sent once: another drain sends nothing more.
    let again = app
        .worker(Arc::new(ManualClock::default()))
        .drain()
        .await
        .unwrap();
    assert_eq!(again.mail.claimed, 0);
    assert_eq!(sink.messages().len(), 2);
}

#[actix_web::test]
async fn the_body_locale_wins_and_english_is_the_default() {
    let mut app = TestApp::new().await;
    let sink = SmtpSink::start(0, 0);
    app.mail_to(&sink);
    let mut body = to_curie();
    body["locale"] = json!("en");
    submit(&app, body, Some("fr")).await;
    let mut body = to_curie();
    body["submitter"]["email"] = json!("bob@helios.example");
    submit(&app, body, Some("de-DE")).await;
    app.worker(Arc::new(ManualClock::default()))
        .drain()
        .await
        .unwrap();
    assert_eq!(sink.to(ANNA)[0].header("Content-Language"), "en");
    assert_eq!(
        sink.to("bob@helios.example")[0].header("Content-Language"),
        "en"
    );
    let mut bad = to_curie();
    bad["locale"] = json!("de");
    app.post("/v1/inquiries")
        .json(bad)
        .send()
        .await
        .assert_problem(422, "validation_failed");
}

#[actix_web::test]
async fn the_submitter_hears_of_messages_and_decisions_but_never_of_internal_notes() {
    let mut app = TestApp::new().await;
    let sink = SmtpSink::start(0, 0);
    app.mail_to(&sink);
    let triager = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let s = submit(&app, to_curie(), None).await;
    let secret_note = "INTERNAL-7f3a: budget is tight";
    let res = app
        .post(&format!("/v1/referrals/{}/messages", s.referral))
        .token(&triager)
        .json(json!({"body": secret_note, "visibility": "internal"}))
        .send()
        .await;
    assert_eq!(res.status, 201);
    transition(&app, &triager, &s.referral, json!({"to": "acknowledged"})).await;
    transition(&app, &triager, &s.referral, json!({"to": "in_review"})).await;
    transition(
        &app,
        &triager,
        &s.referral,
        json!({"to": "info_requested", "message": "Could you share the dosimetry data?"}),
    )
    .await;
    // The submitter answers: the triagers (nobody is assigned) are told, with the text.
    let res = app
        .post(&format!(
            "/v1/inquiries/{}/referrals/{}/messages",
            s.id, s.referral
        ))
        .header("X-Tracking-Token", &s.token)
        .json(json!({"body": "Attached to our data room."}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    transition(
        &app,
        &triager,
        &s.referral,
        json!({"to": "declined", "reason_code": "no_capacity"}),
    )
    .await;
    app.worker(Arc::new(ManualClock::default()))
        .drain()
        .await
        .unwrap();

    let to_anna = sink.to(ANNA);
    let everything: String = to_anna.iter().map(|m| m.everything()).collect();
    assert!(
        !everything.contains("INTERNAL-7f3a"),
        "an internal note reached the submitter"
    );
    assert!(
        !everything.contains(&s.token),
        "the tracking token reached the submitter"
    );
    assert!(!everything.contains("t@curie.fr"));
    assert!(everything.contains("Could you share the dosimetry data?"));
    assert!(
        everything.contains("No capacity"),
        "the decline reason in words"
    );
    // Receipt, the message, info requested, declined: acknowledged and in review are silent.
    assert_eq!(
        to_anna.len(),
        4,
        "{:?}",
        to_anna.iter().map(|m| m.subject()).collect::<Vec<_>>()
    );
    let to_triager: String = sink
        .to("t@curie.fr")
        .iter()
        .map(|m| m.everything())
        .collect();
    assert!(to_triager.contains("Attached to our data room."));
    // Nothing anywhere carries the internal note.
    assert!(
        !sink
            .messages()
            .iter()
            .any(|m| m.everything().contains("INTERNAL-7f3a")),
        "internal notes are never e-mailed"
    );
}

#[actix_web::test]
async fn a_refusal_is_retried_with_back_off_and_a_permanent_one_is_marked_failed() {
    let mut app = TestApp::new().await;
    let sink = SmtpSink::start(1, 451);
    app.mail_to(&sink);
    let s = submit(&app, to_curie(), None).await;
    let clock = Arc::new(ManualClock::default());
    let worker = app.worker(clock.clone());
    let first = worker.run_due().await.unwrap();
    assert_eq!(
        (first.mail.claimed, first.mail.retried),
        (1, 1),
        "{first:?}"
    );
    assert!(sink.messages().is_empty());
    // Not before its back-off...
    assert_eq!(worker.run_due().await.unwrap().mail.claimed, 0);
    clock.advance(Duration::seconds(31));
    let second = worker.run_due().await.unwrap();
    assert_eq!(second.mail.sent, 1, "{second:?}");
    assert_eq!(sink.to(ANNA).len(), 1);
    let row = &mails(&app).await[0];
    assert_eq!((row.status.as_str(), row.attempts), ("sent", 2));

    let permanent = SmtpSink::start(1, 550);
    app.mail_to(&permanent);
    let mut body = to_curie();
    body["submitter"]["email"] = json!("bob@helios.example");
    submit(&app, body, None).await;
    let round = app.worker(clock.clone()).drain().await.unwrap();
    assert_eq!(round.mail.failed, 1, "{round:?}");
    let failed = mails(&app)
        .await
        .into_iter()
        .find(|m| m.recipient == "bob@helios.example")
        .unwrap();
    assert_eq!(failed.status, "failed");
    assert!(failed.last_error.unwrap_or_default().contains("550"));
    let _ = s;
}

#[actix_web::test]
async fn without_smtp_each_message_is_an_eml_file() {
    let mut app = TestApp::new().await;
    let dir = std::env::temp_dir().join(format!("guichet-eml-{}", uuid::Uuid::now_v7()));
    app.g.mail.transport = guichet::mail::Transport::Folder(dir.clone());
    let s = submit(&app, to_curie(), None).await;
    app.worker(Arc::new(ManualClock::default()))
        .drain()
        .await
        .unwrap();
    let row = &mails(&app).await[0];
    let file = std::fs::read_to_string(dir.join(format!("{}.eml", row.message_id))).unwrap();
    assert!(file.contains(&s.reference));
    assert!(file.contains("multipart/alternative"));
    let _ = std::fs::remove_dir_all(dir);
}

/// The `ManualClock` offset that brings the clock to `at` (UTC).
fn offset_to(at: chrono::NaiveDateTime) -> Duration {
    at - guichet::db::now()
}

#[actix_web::test]
async fn two_workers_send_one_reminder_on_the_morning_it_is_due_and_a_breach_escalates() {
    let mut app = TestApp::new().await;
    let sink = SmtpSink::start(0, 0);
    app.mail_to(&sink);
    let triager = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    app.user("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let s = submit(&app, to_curie(), None).await;
    let due = s.due;
    let clock = Arc::new(ManualClock::default());
    let (a, b) = (app.worker(clock.clone()), app.worker(clock.clone()));
    a.drain().await.unwrap(); // the receipt and the new-referral notice
    let before = sink.to("t@curie.fr").len();

    // 08:59 Paris on the due day: nothing yet.
    let morning = guichet::domain::calendar::reminder_at(due);
    clock.advance(offset_to(morning - Duration::minutes(1)));
    a.run_due().await.unwrap();
    assert_eq!(sink.to("t@curie.fr").len(), before);
    // 09:01 Paris: two instances at once send one reminder.
    clock.advance(Duration::minutes(2));
    let (ra, rb) = tokio::join!(a.run_due(), b.run_due());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.sla_events + rb.sla_events, 1, "{ra:?} {rb:?}");
    a.drain().await.unwrap();
    b.drain().await.unwrap();
    let reminders: Vec<_> = sink.to("t@curie.fr").into_iter().skip(before).collect();
    assert_eq!(reminders.len(), 1, "one reminder, not two");
    let reminder = &reminders[0];
    let unsubscribe = reminder.header("List-Unsubscribe").to_owned();
    assert!(unsubscribe.starts_with("<https://guichet.example/v1/mail/unsubscribe?token="));
    assert_eq!(
        reminder.header("List-Unsubscribe-Post"),
        "List-Unsubscribe=One-Click"
    );
    // The admins hear of it only when the deadline passes (escalation).
    assert!(sink.to("admin@curie.fr").is_empty());
    clock
        .advance(offset_to(due + Duration::minutes(1)) - offset_to(morning + Duration::minutes(1)));
    let round = a.run_due().await.unwrap();
    assert_eq!(round.sla_events, 1);
    // The deadline falls at 18:00 Paris time: the breach notice waits for the next business
    // morning, never the evening.
    a.drain().await.unwrap();
    assert!(
        sink.to("admin@curie.fr").is_empty(),
        "no e-mail after 18:00"
    );
    let next_morning = guichet::domain::calendar::business_hours_at_or_after(due);
    clock.advance(
        offset_to(next_morning + Duration::minutes(1)) - offset_to(due + Duration::minutes(1)),
    );
    a.drain().await.unwrap();
    let escalation = sink.to("admin@curie.fr");
    assert_eq!(escalation.len(), 1);
    assert_eq!(
        sink.to("t@curie.fr").len(),
        before + 2,
        "reminder and breach notice"
    );

    // One click: no more reminders to that address, and it shows on the account.
    let token = unsubscribe
        .trim_matches(['<', '>'])
        .split("token=")
        .nth(1)
        .unwrap()
        .to_owned();
    let page = app
        .get(&format!("/v1/mail/unsubscribe?token={token}"))
        .send()
        .await;
    assert_eq!(page.status, 200);
    let res = app
        .post(&format!("/v1/mail/unsubscribe?token={token}"))
        .raw(
            "List-Unsubscribe=One-Click",
            Some("application/x-www-form-urlencoded"),
        )
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.body);
    let me = app.get("/v1/me").token(&triager).send().await;
    assert_eq!(me.body["reminders"], false);
    let forged = format!("{}x", &token[..token.len() - 1]);
    app.post(&format!("/v1/mail/unsubscribe?token={forged}"))
        .send()
        .await
        .assert_problem(404, "not_found");
    app.post("/v1/mail/unsubscribe?token=nodot")
        .send()
        .await
        .assert_problem(404, "not_found");
    app.post("/v1/mail/unsubscribe")
        .send()
        .await
        .assert_problem(400, "invalid_query");
}

#[actix_web::test]
async fn opted_out_staff_get_assignments_but_no_reminders() {
    let mut app = TestApp::new().await;
    let sink = SmtpSink::start(0, 0);
    app.mail_to(&sink);
    let triager = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let res = app
        .patch("/v1/me")
        .token(&triager)
        .json(json!({"reminders": false}))
        .send()
        .await;
    assert_eq!(res.body["reminders"], false);
    let s = submit(&app, to_curie(), None).await;
    let due = s.due;
    let clock = Arc::new(ManualClock::default());
    let worker = app.worker(clock.clone());
    worker.drain().await.unwrap();
    assert_eq!(
        sink.to("t@curie.fr").len(),
        1,
        "the new referral is always told"
    );
    clock.advance(offset_to(
        guichet::domain::calendar::reminder_at(due) + Duration::minutes(1),
    ));
    let round = worker.drain().await.unwrap();
    assert_eq!(round.sla_events, 1, "the webhook event still happens");
    assert_eq!(sink.to("t@curie.fr").len(), 1, "but no reminder e-mail");
    for bad in [
        json!({"locale": "de"}),
        json!({"reminders": "no"}),
        json!({"locale": null}),
        json!({"theme": "dark"}),
    ] {
        app.patch("/v1/me")
            .token(&triager)
            .json(bad)
            .send()
            .await
            .assert_problem(422, "validation_failed");
    }
}

#[actix_web::test]
async fn a_team_address_replaces_the_triagers_for_unassigned_referrals() {
    let mut app = TestApp::new().await;
    let sink = SmtpSink::start(0, 0);
    app.mail_to(&sink);
    app.user("t@curie.fr", Role::Triager, Some("curie")).await;
    let admin = app
        .staff("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let res = app
        .put("/v1/institutions/curie/mail-settings")
        .token(&admin)
        .json(json!({"team_email": "Partnerships@Curie.fr"}))
        .send()
        .await;
    assert_eq!(res.body["team_email"], "partnerships@curie.fr");
    let got = app
        .get("/v1/institutions/curie/mail-settings")
        .token(&admin)
        .send()
        .await;
    assert_eq!(got.body["team_email"], "partnerships@curie.fr");
    submit(&app, to_curie(), None).await;
    app.worker(Arc::new(ManualClock::default()))
        .drain()
        .await
        .unwrap();
    assert_eq!(sink.to("partnerships@curie.fr").len(), 1);
    assert!(sink.to("t@curie.fr").is_empty());
    for bad in [
        json!({"team_email": "not an address"}),
        json!({}),
        json!({"team_email": 3}),
    ] {
        app.put("/v1/institutions/curie/mail-settings")
            .token(&admin)
            .json(bad)
            .send()
            .await
            .assert_problem(422, "validation_failed");
    }
    let other = app
        .staff("admin@aphp.fr", Role::InstitutionAdmin, Some("aphp"))
        .await;
    app.get("/v1/institutions/curie/mail-settings")
        .token(&other)
        .send()
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn a_reset_link_works_once_within_30_minutes_and_ends_every_session() {
    let mut app = TestApp::new().await;
    let sink = SmtpSink::start(0, 0);
    app.mail_to(&sink);
    let old = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    // Known or not, the same answer; only the account gets a message.
    for email in ["t@curie.fr", "nobody@curie.fr"] {
        let res = app
            .post("/v1/auth/password-reset")
            .json(json!({"email": email}))
            .send()
            .await;
        assert_eq!(res.status, 202, "{}", res.body);
        assert_eq!(res.body, Value::Null);
    }
    app.worker(Arc::new(ManualClock::default()))
        .drain()
        .await
        .unwrap();
    assert!(sink.to("nobody@curie.fr").is_empty());
    let mail = &sink.to("t@curie.fr")[0];
    let prefix = "https://guichet.example/console/password-reset?token=";
    let token: String = mail.text[mail.text.find(prefix).expect("a reset link") + prefix.len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    assert!(token.len() >= 32, "{token}");
    // Once sent, the outbox no longer holds the link.
    assert!(!mails(&app).await.iter().any(|m| m.context.contains(&token)));

    let res = app
        .post("/v1/auth/password-reset/confirm")
        .json(json!({"token": token, "new_password": "short"}))
        .send()
        .await;
    res.assert_problem(422, "validation_failed");
    let res = app
        .post("/v1/auth/password-reset/confirm")
        .json(json!({"token": token, "new_password": "a brand new passphrase"}))
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.body);
    app.get("/v1/me")
        .token(&old)
        .send()
        .await
        .assert_problem(401, "invalid_token");
    app.post("/v1/auth/password-reset/confirm")
        .json(json!({"token": token, "new_password": "yet another passphrase"}))
        .send()
        .await
        .assert_problem(401, "invalid_reset_token");
    let res = app
        .post("/v1/auth/token")
        .json(json!({"email": "t@curie.fr", "password": "a brand new passphrase"}))
        .send()
        .await;
    assert_eq!(res.status, 200);
    let res = app
        .post("/v1/auth/token")
        .json(json!({"email": "t@curie.fr", "password": PASSWORD}))
        .send()
        .await;
    res.assert_problem(401, "invalid_credentials");
    app.post("/v1/auth/password-reset/confirm")
        .json(json!({"token": "made-up", "new_password": "yet another passphrase"}))
        .send()
        .await
        .assert_problem(401, "invalid_reset_token");
    let password_changed = sink.to("t@curie.fr");
    assert_eq!(
        password_changed.len(),
        1,
        "the change notice is written, not sent yet"
    );

    // An expired link (31 minutes later) does not work.
    app.post("/v1/auth/password-reset")
        .json(json!({"email": "t@curie.fr"}))
        .send()
        .await;
    let late = reset_token(&app, "t@curie.fr").await;
    app.g
        .db
        .run(|conn| {
            use diesel::RunQueryDsl;
            diesel::sql_query("UPDATE password_resets SET expires_at = created_at")
                .execute(conn)
                .map_err(guichet::error::Error::from)
        })
        .await
        .unwrap();
    app.post("/v1/auth/password-reset/confirm")
        .json(json!({"token": late, "new_password": "yet another passphrase"}))
        .send()
        .await
        .assert_problem(401, "invalid_reset_token");
    // Throttled per address asked for: the 4th request within the hour is 429, known or not.
    for email in ["t@curie.fr", "nobody@curie.fr"] {
        let mut last = 0;
        for _ in 0..3 {
            last = app
                .post("/v1/auth/password-reset")
                .json(json!({"email": email}))
                .send()
                .await
                .status
                .as_u16();
        }
        assert_eq!(last, 429, "{email}");
    }
    for bad in [
        json!({}),
        json!({"email": "x"}),
        json!({"email": "a@b.fr", "extra": 1}),
    ] {
        app.post("/v1/auth/password-reset")
            .json(bad)
            .send()
            .await
            .assert_problem(422, "validation_failed");
    }
}

#[actix_web::test]
async fn changing_a_password_needs_the_current_one_and_ends_the_other_sessions() {
    let mut app = TestApp::new().await;
    let sink = SmtpSink::start(0, 0);
    app.mail_to(&sink);
    let here = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let (elsewhere, _) = app.login("t@curie.fr").await;
    app.post("/v1/auth/password")
        .token(&here)
        .json(
            json!({"current_password": "wrong password", "new_password": "a brand new passphrase"}),
        )
        .send()
        .await
        .assert_problem(403, "forbidden");
    app.post("/v1/auth/password")
        .token(&here)
        .json(json!({"current_password": PASSWORD, "new_password": "short"}))
        .send()
        .await
        .assert_problem(422, "validation_failed");
    app.post("/v1/auth/password")
        .json(json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}))
        .send()
        .await
        .assert_problem(401, "invalid_token");
    let res = app
        .post("/v1/auth/password")
        .token(&here)
        .json(json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}))
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.body);
    assert_eq!(app.get("/v1/me").token(&here).send().await.status, 200);
    app.get("/v1/me")
        .token(&elsewhere)
        .send()
        .await
        .assert_problem(401, "invalid_token");
    app.worker(Arc::new(ManualClock::default()))
        .drain()
        .await
        .unwrap();
    let notice = &sink.to("t@curie.fr")[0];
    assert!(!notice.everything().contains("a brand new passphrase"));
}

async fn detail(app: &TestApp, token: &str, referral: &str) -> Value {
    app.get(&format!("/v1/referrals/{referral}"))
        .token(token)
        .send()
        .await
        .body
}

async fn sql(app: &TestApp, statement: String) {
    app.g
        .db
        .run(move |conn| {
            use diesel::RunQueryDsl;
            diesel::sql_query(statement)
                .execute(conn)
                .map_err(guichet::error::Error::from)
        })
        .await
        .unwrap();
}

fn at(v: &Value) -> chrono::NaiveDateTime {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a time: {v}")))
        .unwrap()
        .naive_utc()
}

#[actix_web::test]
async fn the_decision_target_starts_at_the_first_response_and_pauses_while_waiting_on_the_submitter()
 {
    use guichet::domain::calendar;
    let app = TestApp::new().await;
    let triager = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let s = submit(&app, to_curie(), None).await;
    assert_eq!(
        detail(&app, &triager, &s.referral).await["sla"]["decision_due_at"],
        Value::Null
    );
    transition(&app, &triager, &s.referral, json!({"to": "acknowledged"})).await;
    let d = detail(&app, &triager, &s.referral).await;
    let responded = at(&d["sla"]["first_responded_at"]);
    let due = at(&d["sla"]["decision_due_at"]);
    let curie = app.get("/v1/institutions/curie").send().await.body;
    let days = curie["decision_business_days"].as_i64().unwrap();
    assert_eq!(days, 10);
    assert_eq!(due, calendar::due_at(responded, days as u32));
    transition(&app, &triager, &s.referral, json!({"to": "in_review"})).await;
    transition(
        &app,
        &triager,
        &s.referral,
        json!({"to": "info_requested", "message": "Which dose levels?"}),
    )
    .await;
    // The submitter takes a week to answer: the pause began 7 days ago.
    let paused = guichet::db::now() - Duration::days(7);
    sql(
        &app,
        format!(
            "UPDATE referrals SET sla_paused_at = '{}' WHERE id = '{}'",
            paused.format("%Y-%m-%d %H:%M:%S"),
            s.referral
        ),
    )
    .await;
    let res = app
        .post(&format!(
            "/v1/inquiries/{}/referrals/{}/messages",
            s.id, s.referral
        ))
        .header("X-Tracking-Token", &s.token)
        .json(json!({"body": "Three."}))
        .send()
        .await;
    assert_eq!(res.status, 201);
    let d = detail(&app, &triager, &s.referral).await;
    assert_eq!(d["status"], "in_review");
    let paused_days = calendar::business_days_between(paused, guichet::db::now());
    assert!(paused_days >= 4, "{paused_days}");
    assert_eq!(
        at(&d["sla"]["decision_due_at"]),
        calendar::extend_for_pause(due, paused, guichet::db::now()),
        "the week waiting on the submitter is not counted"
    );
    assert!(at(&d["sla"]["decision_due_at"]) > due);
    assert_eq!(d["sla"]["decision_overdue"], false);

    // Past its target: shown, filtered and counted as a late decision.
    sql(
        &app,
        format!(
            "UPDATE referrals SET decision_due_at = '2026-01-05 17:00:00' WHERE id = '{}'",
            s.referral
        ),
    )
    .await;
    assert_eq!(
        detail(&app, &triager, &s.referral).await["sla"]["decision_overdue"],
        true
    );
    let late = app
        .get("/v1/referrals?decision_overdue=true")
        .token(&triager)
        .send()
        .await;
    assert_eq!(late.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(late.body["items"][0]["decision_overdue"], true);
    let on_time = app
        .get("/v1/referrals?decision_overdue=false")
        .token(&triager)
        .send()
        .await;
    assert_eq!(on_time.body["items"], json!([]));
    let summary = app
        .get("/v1/referrals/summary")
        .token(&triager)
        .send()
        .await;
    assert_eq!(summary.body["decision_overdue"], 1);
    app.get("/v1/referrals?decision_overdue=maybe")
        .token(&triager)
        .send()
        .await
        .assert_problem(400, "invalid_query");

    // Decided late: the stats and the transparency report count it.
    transition(
        &app,
        &triager,
        &s.referral,
        json!({"to": "declined", "reason_code": "no_capacity"}),
    )
    .await;
    let d = detail(&app, &triager, &s.referral).await;
    assert!(d["sla"]["decided_at"].is_string());
    assert_eq!(
        d["sla"]["decision_overdue"], false,
        "a decided referral is not late"
    );
    let stats = app
        .get("/v1/institutions/curie/stats")
        .token(&triager)
        .send()
        .await;
    assert_eq!(stats.body["decided_within_target"], 0.0, "{}", stats.body);
    let report = app.get("/v1/transparency").send().await;
    let curie_row = report.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["institution"]["id"] == "curie")
        .unwrap()
        .clone();
    assert_eq!(curie_row["decision_business_days"], 10);
    assert_eq!(curie_row["stats"]["decided_within_target"], 0.0);
}

#[actix_web::test]
async fn contacts_hear_of_reassignments_and_withdrawals_and_admins_of_a_disabled_endpoint() {
    let mut app = TestApp::new().await;
    let sink = SmtpSink::start(0, 0);
    app.mail_to(&sink);
    let admin = app
        .staff("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let contact = app
        .post("/v1/institutions/curie/contacts")
        .token(&admin)
        .json(json!({"name": "Claire", "email": "claire@curie.fr"}))
        .send()
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let s = submit(&app, to_curie(), None).await;
    let res = app
        .post(&format!("/v1/referrals/{}/assignee", s.referral))
        .token(&admin)
        .header("If-Match", "*")
        .json(json!({"contact_id": contact}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let res = app
        .post(&format!("/v1/inquiries/{}/withdraw", s.id))
        .header("X-Tracking-Token", &s.token)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    // A receiver that answers 410 Gone: the endpoint is disabled, and its admins are told.
    let receiver = crate::support::Receiver::start().await;
    receiver.answer("410 Gone", "");
    let res = app
        .post("/v1/webhook-endpoints")
        .token(&admin)
        .json(json!({"url": receiver.url()}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let endpoint = res.body["endpoint"]["id"].as_str().unwrap().to_owned();
    app.post(&format!("/v1/webhook-endpoints/{endpoint}/ping"))
        .token(&admin)
        .send()
        .await;
    app.worker(Arc::new(ManualClock::default()))
        .drain()
        .await
        .unwrap();

    let claire: Vec<String> = sink
        .to("claire@curie.fr")
        .iter()
        .map(|m| m.subject().to_owned())
        .collect();
    assert_eq!(claire.len(), 2, "assigned, then withdrawn: {claire:?}");
    assert!(claire.iter().all(|subject| subject.contains(&s.reference)));
    // Sent in parallel: in any order.
    assert!(
        sink.to("claire@curie.fr")
            .iter()
            .any(|m| m.text.to_lowercase().contains("withdr")),
        "a withdrawal notice"
    );
    let to_admin: Vec<_> = sink.to("admin@curie.fr");
    let disabled = to_admin
        .iter()
        .find(|m| m.text.contains(&receiver.url()))
        .unwrap_or_else(|| {
            panic!(
                "no endpoint-disabled notice: {:?}",
                to_admin.iter().map(|m| m.subject()).collect::<Vec<_>>()
            )
        });
    assert!(
        disabled
            .text
            .contains(&format!("/console/webhooks/{endpoint}"))
    );
}

#[actix_web::test]
async fn a_stalled_smtp_server_costs_one_timeout_not_a_lost_lease() {
    let mut app = TestApp::new().await;
    let sink = SmtpSink::start(0, 0);
    app.mail_to(&sink);
    app.g.mail.transport = sink.transport_with_timeout(std::time::Duration::from_secs(1));
    sink.hold();
    submit(&app, to_curie(), None).await;
    let clock = Arc::new(ManualClock::default());
    let worker = app.worker(clock.clone());
    let first = worker.run_due().await.unwrap();
    assert_eq!(
        (first.mail.claimed, first.mail.retried),
        (1, 1),
        "{first:?}"
    );
    let row = &mails(&app).await[0];
    assert_eq!((row.status.as_str(), row.attempts), ("pending", 1));
    assert!(
        row.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("took more than 1 s"),
        "{:?}",
        row.last_error
    );
    sink.release();
    clock.advance(Duration::seconds(31));
    let second = worker.run_due().await.unwrap();
    assert_eq!(second.mail.sent, 1, "{second:?}");
    assert!(!sink.to(ANNA).is_empty());
    assert_eq!(mails(&app).await[0].status, "sent");
}

#[actix_web::test]
async fn operators_and_admins_see_what_failed_and_why() {
    let mut app = TestApp::new().await;
    let sink = SmtpSink::start(2, 550);
    app.mail_to(&sink);
    let op = app.operator().await;
    let admin = app
        .staff("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let triager = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let other = app
        .staff("admin@aphp.fr", Role::InstitutionAdmin, Some("aphp"))
        .await;
    submit(&app, to_curie(), None).await;
    app.worker(Arc::new(ManualClock::default()))
        .drain()
        .await
        .unwrap();
    // Every message (the receipt, the notice to the triager) was refused with a 550.
    let all = app
        .get("/v1/mail-messages?status=failed")
        .token(&op)
        .send()
        .await;
    assert_eq!(all.status, 200, "{}", all.body);
    let items = all.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", all.body);
    assert!(
        items
            .iter()
            .all(|m| m["last_error"].as_str().unwrap().contains("550"))
    );
    assert!(
        items
            .iter()
            .all(|m| m.get("context").is_none() && m.get("text").is_none())
    );
    // The admin sees the institution's (the notice), not the submitter's receipt.
    let own = app.get("/v1/mail-messages").token(&admin).send().await;
    let own = own.body["items"].as_array().unwrap().clone();
    assert_eq!(own.len(), 1);
    assert_eq!(own[0]["kind"], "referral_new");
    assert_eq!(own[0]["recipient"], "t@curie.fr");
    let paged = app.get("/v1/mail-messages?limit=1").token(&op).send().await;
    let cursor = paged.body["next_cursor"].as_str().unwrap().to_owned();
    let next = app
        .get(&format!("/v1/mail-messages?limit=1&cursor={cursor}"))
        .token(&op)
        .send()
        .await;
    assert_eq!(
        next.body["items"]
            .as_array()
            .unwrap_or_else(|| panic!("{}", next.body))
            .len(),
        1
    );
    assert_ne!(next.body["items"][0]["id"], paged.body["items"][0]["id"]);
    assert_eq!(
        app.get("/v1/mail-messages?status=sent")
            .token(&op)
            .send()
            .await
            .body["items"],
        json!([])
    );
    app.get("/v1/mail-messages")
        .token(&triager)
        .send()
        .await
        .assert_problem(403, "forbidden");
    app.get("/v1/mail-messages?institution=curie")
        .token(&other)
        .send()
        .await
        .assert_problem(404, "not_found");
    app.get("/v1/mail-messages?institution=nowhere")
        .token(&op)
        .send()
        .await
        .assert_problem(404, "not_found");
    app.get("/v1/mail-messages?status=lost")
        .token(&op)
        .send()
        .await
        .assert_problem(400, "invalid_query");
    app.get("/v1/mail-messages?cursor=zzz")
        .token(&op)
        .send()
        .await
        .assert_problem(400, "invalid_cursor");
    app.get("/v1/mail-messages")
        .send()
        .await
        .assert_problem(401, "invalid_token");
}
