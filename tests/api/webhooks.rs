//! The change recorder, the event feed and signed webhooks, with a real HTTP receiver on
//! loopback and the worker frame driven by a manual clock.

use std::sync::Arc;

use chrono::Duration;
use diesel::connection::SimpleConnection;
use serde_json::{Value, json};

use guichet::domain::taxonomy::Role;
use guichet::worker::ManualClock;

use crate::support::{Receiver, TestApp, psma_inquiry};

async fn endpoint(app: &TestApp, token: &str, body: Value) -> (String, String) {
    let res = app
        .post("/v1/webhook-endpoints")
        .token(token)
        .json(body)
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(
        res.header("location").unwrap(),
        format!(
            "/v1/webhook-endpoints/{}",
            res.body["endpoint"]["id"].as_str().unwrap()
        )
    );
    (
        res.body["endpoint"]["id"].as_str().unwrap().to_owned(),
        res.body["secret"].as_str().unwrap().to_owned(),
    )
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::default())
}

/// Verifies a Standard Webhooks request the way a receiver would: HMAC-SHA256 of
/// `id.timestamp.body` with the secret, any of the space-separated signatures.
fn verifies(secret: &str, r: &crate::support::Received) -> bool {
    let secret = guichet::webhook::sign::SigningSecret::parse(secret).unwrap();
    let id = r.header("webhook-id").unwrap();
    let ts: i64 = r.header("webhook-timestamp").unwrap().parse().unwrap();
    let expected = guichet::webhook::sign::sign(&secret, id, ts, &r.body);
    r.header("webhook-signature")
        .unwrap()
        .split(' ')
        .any(|s| s == expected)
}

/// Waits until every feed row written so far is below PostgreSQL's transaction horizon (the
/// test server is shared, so another test's open transaction can hold it back for a moment),
/// then reads the feed.
pub(crate) async fn feed(app: &TestApp, token: &str, query: &str) -> Value {
    for _ in 0..200 {
        let settled = app
            .g
            .db
            .run(|conn| {
                use diesel::RunQueryDsl;
                #[derive(diesel::QueryableByName)]
                struct Settled {
                    #[diesel(sql_type = diesel::sql_types::Bool)]
                    settled: bool,
                }
                match conn {
                    guichet::db::DbConn::Pg(c) => Ok(diesel::sql_query(
                        "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint > \
                         (SELECT COALESCE(MAX(tx_id), 0) FROM outbox_events) AS settled",
                    )
                    .get_result::<Settled>(c)?
                    .settled),
                    guichet::db::DbConn::Sqlite(_) => Ok(true),
                }
            })
            .await
            .unwrap();
        if settled {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    feed_now(app, token, query).await
}

/// Reads the feed as it is now.
async fn feed_now(app: &TestApp, token: &str, query: &str) -> Value {
    let res = app
        .get(&format!("/v1/events{query}"))
        .token(token)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.body
}

fn types(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn a_new_referral_reaches_the_institutions_endpoint_signed_and_once() {
    let app = TestApp::new().await;
    let receiver = Receiver::start().await;
    let admin = app
        .staff("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let (_, secret) = endpoint(
        &app,
        &admin,
        json!({"url": receiver.url(), "event_types": ["referral.created", "referral.note_posted"]}),
    )
    .await;
    assert!(secret.starts_with("whsec_"));
    let referral = app.curie_referral().await;
    // Nothing is sent from the request: the worker relays after commit.
    assert_eq!(receiver.connection_count(), 0);
    let worker = app.worker(clock());
    let round = worker.drain().await.unwrap();
    assert_eq!(round.relay.delivered, 1, "{round:?}");
    let got = receiver.requests();
    assert_eq!(got.len(), 1);
    let body = got[0].json();
    assert_eq!(body["type"], "referral.created");
    assert_eq!(body["data"]["referral_id"], referral.as_str());
    assert_eq!(body["data"]["institution_id"], "curie");
    assert_eq!(
        got[0].header("webhook-id").unwrap(),
        body["id"].as_str().unwrap()
    );
    assert!(verifies(&secret, &got[0]));
    // A one-byte tamper fails the signature.
    let mut tampered = got[0].clone();
    tampered.body[10] ^= 1;
    assert!(!verifies(&secret, &tampered));
    // Delivered once: another round sends nothing.
    assert_eq!(worker.drain().await.unwrap().relay.claimed, 0);
    assert_eq!(receiver.requests().len(), 1);

    // An internal note is its own event type, and its payload never carries the text.
    let triager = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let res = app
        .post(&format!("/v1/referrals/{referral}/messages"))
        .token(&triager)
        .json(json!({"body": "Secret internal opinion", "visibility": "internal"}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    worker.drain().await.unwrap();
    let got = receiver.requests();
    assert_eq!(got.len(), 2);
    let note = got[1].json();
    assert_eq!(note["type"], "referral.note_posted");
    assert!(!String::from_utf8_lossy(&got[1].body).contains("Secret internal opinion"));
    assert!(!guichet::domain::taxonomy::EventType::ReferralNotePosted.submitter_facing());
}

#[actix_web::test]
async fn the_reference_standardwebhooks_verifier_accepts_our_deliveries() {
    let app = TestApp::new().await;
    let receiver = Receiver::start().await;
    let op = app.operator().await;
    let (id, first_secret) = endpoint(&app, &op, json!({"url": receiver.url()})).await;
    // After a rotation, deliveries carry both signatures for 24 hours.
    let res = app
        .post(&format!("/v1/webhook-endpoints/{id}/secret"))
        .token(&op)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let second_secret = res.body["secret"].as_str().unwrap().to_owned();
    assert_ne!(first_secret, second_secret);
    app.curie_referral().await;
    app.worker(clock()).drain().await.unwrap();
    let got = receiver.requests();
    assert!(!got.is_empty());
    let r = got.last().unwrap();
    assert_eq!(r.header("webhook-signature").unwrap().split(' ').count(), 2);
    let python = std::env::var("GUICHET_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = r#"
import json, sys
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
case = json.load(sys.stdin)
headers = case["headers"]
body = case["body"].encode()
for secret in case["secrets"]:
    Webhook(secret).verify(body, headers)
tampered = body[:-2] + bytes([body[-2] ^ 1]) + body[-1:]
try:
    Webhook(case["secrets"][0]).verify(tampered, headers)
    print("tamper accepted")
    sys.exit(1)
except WebhookVerificationError:
    print("verified")
"#;
    let case = json!({
        "headers": {
            "webhook-id": r.header("webhook-id").unwrap(),
            "webhook-timestamp": r.header("webhook-timestamp").unwrap(),
            "webhook-signature": r.header("webhook-signature").unwrap(),
        },
        "body": String::from_utf8(r.body.clone()).unwrap(),
        "secrets": [first_secret, second_secret],
    });
    let mut child = std::process::Command::new(&python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {python} (set GUICHET_TEST_PYTHON): {e}"));
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(case.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("verified"),
        "the reference verifier refused: {}{} (needs `pip install standardwebhooks`)",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[actix_web::test]
async fn failed_attempts_follow_the_schedule_keep_their_id_and_410_disables_until_replayed() {
    let app = TestApp::new().await;
    let receiver = Receiver::start().await;
    let admin = app
        .staff("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let (id, _) = endpoint(
        &app,
        &admin,
        json!({"url": receiver.url(), "event_types": ["referral.created"]}),
    )
    .await;
    receiver.answer("503 Service Unavailable", "");
    receiver.answer(
        "302 Found",
        &format!("location: http://{}/elsewhere\r\n", receiver.addr),
    );
    receiver.answer("429 Too Many Requests", "retry-after: 600\r\n");
    app.curie_referral().await;
    let clock = clock();
    let worker = app.worker(clock.clone());

    worker.drain().await.unwrap();
    assert_eq!(receiver.requests().len(), 1);
    // Not before the first retry (5 s, jitter ±20 %).
    clock.advance(Duration::seconds(3));
    worker.drain().await.unwrap();
    assert_eq!(receiver.requests().len(), 1);
    clock.advance(Duration::seconds(4));
    worker.drain().await.unwrap();
    assert_eq!(
        receiver.requests().len(),
        2,
        "the redirect is the second attempt"
    );
    // The redirect is a failure and is not followed.
    assert!(receiver.requests().iter().all(|r| r.path == "/hooks"));
    clock.advance(Duration::minutes(7));
    worker.drain().await.unwrap();
    assert_eq!(receiver.requests().len(), 3, "the 429 is the third attempt");
    // Retry-After: 600 outweighs the 30-minute step? No: the schedule's 30 min is longer.
    clock.advance(Duration::minutes(20));
    worker.drain().await.unwrap();
    assert_eq!(receiver.requests().len(), 3);
    clock.advance(Duration::minutes(20));
    worker.drain().await.unwrap();
    let got = receiver.requests();
    assert_eq!(got.len(), 4);
    let ids: std::collections::BTreeSet<&str> = got
        .iter()
        .map(|r| r.header("webhook-id").unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "every retry keeps the event's webhook-id");

    // The delivery and its attempts are readable.
    let list = app
        .get(&format!("/v1/webhook-endpoints/{id}/deliveries"))
        .token(&admin)
        .send()
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    let delivery = list.body["items"][0].clone();
    assert_eq!(delivery["status"], "delivered");
    assert_eq!(delivery["attempts"], 4);
    let detail = app
        .get(&format!(
            "/v1/webhook-deliveries/{}",
            delivery["id"].as_str().unwrap()
        ))
        .token(&admin)
        .send()
        .await;
    assert_eq!(detail.status, 200, "{}", detail.body);
    let codes: Vec<i64> = detail.body["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, vec![503, 302, 429, 200]);

    // 410 disables the endpoint; what was pending fails, and a replay after re-enabling
    // delivers it.
    receiver.answer("410 Gone", "");
    app.curie_referral().await;
    worker.drain().await.unwrap();
    let e = app
        .get(&format!("/v1/webhook-endpoints/{id}"))
        .token(&admin)
        .send()
        .await;
    assert_eq!(e.body["enabled"], false, "{}", e.body);
    assert_eq!(e.body["disabled_reason"], "gone");
    let op = app.operator().await;
    assert!(
        types(&feed(&app, &op, "?types=webhook_endpoint.disabled").await)
            .contains(&"webhook_endpoint.disabled".to_owned())
    );
    app.curie_referral().await; // not for a disabled endpoint
    let res = app
        .post(&format!("/v1/webhook-endpoints/{id}/replay"))
        .token(&admin)
        .send()
        .await;
    res.assert_problem(409, "endpoint_disabled");
    let res = app
        .patch(&format!("/v1/webhook-endpoints/{id}"))
        .token(&admin)
        .json(json!({"enabled": true}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let res = app
        .post(&format!("/v1/webhook-endpoints/{id}/replay"))
        .token(&admin)
        .send()
        .await;
    assert_eq!(res.status, 202, "{}", res.body);
    assert_eq!(res.body["replayed"], 1);
    let before = receiver.requests().len();
    worker.drain().await.unwrap();
    assert_eq!(receiver.requests().len(), before + 1);
}

#[actix_web::test]
async fn an_endpoint_failing_for_five_days_is_disabled_and_its_admins_are_told() {
    let app = TestApp::new().await;
    let receiver = Receiver::start().await;
    let op = app.operator().await;
    let (failing, _) = endpoint(
        &app,
        &op,
        json!({"institution_id": "curie", "url": receiver.url(), "event_types": ["referral.created"]}),
    )
    .await;
    let watcher = Receiver::start().await;
    endpoint(
        &app,
        &op,
        json!({"institution_id": "curie", "url": watcher.url(), "event_types": ["webhook_endpoint.disabled"]}),
    )
    .await;
    for _ in 0..20 {
        receiver.answer("500 Internal Server Error", "");
    }
    app.curie_referral().await;
    let clock = clock();
    let worker = app.worker(clock.clone());
    worker.drain().await.unwrap();
    clock.advance(Duration::days(5));
    app.curie_referral().await;
    worker.drain().await.unwrap();
    let e = app
        .get(&format!("/v1/webhook-endpoints/{failing}"))
        .token(&op)
        .send()
        .await;
    assert_eq!(e.body["disabled_reason"], "failing", "{}", e.body);
    worker.drain().await.unwrap();
    let told = watcher.requests();
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].json()["data"]["endpoint_id"], failing.as_str());
    assert_eq!(told[0].json()["data"]["reason"], "failing");
}

#[actix_web::test]
async fn hostile_urls_are_refused_at_registration_and_at_send_time() {
    let app = TestApp::with_strict_webhooks().await;
    let receiver = Receiver::start().await;
    let port = receiver.addr.port();
    let op = app.operator().await;
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("https://127.0.0.1:{port}/"),
        format!("https://[::1]:{port}/"),
        format!("https://0x7f000001:{port}/"),
        format!("https://2130706433:{port}/"),
        "https://169.254.169.254/latest/meta-data".to_owned(),
        format!("https://[::ffff:127.0.0.1]:{port}/"),
        format!("https://localhost:{port}/"),
        "https://10.0.0.1/".to_owned(),
        "https://100.64.0.1/".to_owned(),
        "https://[fd00::1]/".to_owned(),
        "https://224.0.0.1/".to_owned(),
        "https://user:pass@example.org/".to_owned(),
        "ftp://example.org/".to_owned(),
    ] {
        let res = app
            .post("/v1/webhook-endpoints")
            .token(&op)
            .json(json!({"url": url}))
            .send()
            .await;
        assert_eq!(res.status, 422, "{url}: {}", res.body);
        assert_eq!(
            res.field_errors(),
            vec![("/url".to_owned(), "url_not_allowed".to_owned())],
            "{url}"
        );
    }
    // At send time too: an endpoint that was stored pointing at loopback (say, the DNS
    // answer changed) is refused before any connection.
    let id = guichet::domain::new_id();
    let url = receiver.url();
    let stored = id.clone();
    app.g
        .db
        .run(move |conn| {
            let now = guichet::db::now();
            guichet::db::webhooks::endpoint_insert(
                conn,
                &guichet::domain::webhook::Endpoint {
                    id: stored,
                    institution_id: None,
                    url,
                    description: String::new(),
                    event_types: vec![],
                    enabled: true,
                    disabled_reason: None,
                    failing_since: None,
                    version: 1,
                    created_at: now,
                    updated_at: now,
                },
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                None,
            )
        })
        .await
        .unwrap();
    let res = app
        .post(&format!("/v1/webhook-endpoints/{id}/ping"))
        .token(&op)
        .send()
        .await;
    assert_eq!(res.status, 202, "{}", res.body);
    let delivery = res.body["id"].as_str().unwrap().to_owned();
    app.worker(clock()).drain().await.unwrap();
    let detail = app
        .get(&format!("/v1/webhook-deliveries/{delivery}"))
        .token(&op)
        .send()
        .await;
    let attempt = &detail.body["attempts"][0];
    assert_eq!(attempt["outcome"], "failed", "{}", detail.body);
    assert!(
        attempt["error"].as_str().unwrap().contains("127.0.0.1"),
        "{}",
        detail.body
    );
    assert_eq!(
        receiver.connection_count(),
        0,
        "no connection was ever made"
    );
}

#[actix_web::test]
async fn endpoints_deliveries_and_the_feed_stay_within_their_institution() {
    let app = TestApp::new().await;
    let receiver = Receiver::start().await;
    let curie = app
        .staff("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let aphp = app
        .staff("admin@aphp.fr", Role::InstitutionAdmin, Some("aphp"))
        .await;
    let curie_triager = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let (id, _) = endpoint(&app, &curie, json!({"url": receiver.url()})).await;
    let res = app
        .post(&format!("/v1/webhook-endpoints/{id}/ping"))
        .token(&curie)
        .send()
        .await;
    assert_eq!(res.status, 202);
    let delivery = res.body["id"].as_str().unwrap().to_owned();
    for path in [
        format!("/v1/webhook-endpoints/{id}"),
        format!("/v1/webhook-endpoints/{id}/deliveries"),
        format!("/v1/webhook-deliveries/{delivery}"),
    ] {
        app.get(&path)
            .token(&aphp)
            .send()
            .await
            .assert_problem(404, "not_found");
        app.get(&path)
            .token(&curie_triager)
            .send()
            .await
            .assert_problem(403, "forbidden");
    }
    app.get("/v1/webhook-endpoints?institution=curie")
        .token(&aphp)
        .send()
        .await
        .assert_problem(404, "not_found");
    let list = app.get("/v1/webhook-endpoints").token(&aphp).send().await;
    assert_eq!(list.body["items"], json!([]));
    // Platform-wide endpoints are for operators only; another institution's too.
    app.post("/v1/webhook-endpoints")
        .token(&curie)
        .json(json!({"institution_id": null, "url": receiver.url()}))
        .send()
        .await
        .assert_problem(403, "forbidden");
    app.post("/v1/webhook-endpoints")
        .token(&curie)
        .json(json!({"institution_id": "aphp", "url": receiver.url()}))
        .send()
        .await
        .assert_problem(404, "not_found");

    // The feed: Curie's staff see Curie's referral, AP-HP's do not; operators see the
    // platform-level events as well.
    app.curie_referral().await;
    let op = app.operator().await;
    assert!(types(&feed(&app, &curie_triager, "").await).contains(&"referral.created".into()));
    assert!(types(&feed(&app, &aphp, "").await).is_empty());
    let all = types(&feed(&app, &op, "?limit=100").await);
    assert!(all.contains(&"inquiry.submitted".into()), "{all:?}");
    assert!(all.contains(&"inquiry.routed".into()));
    assert!(
        !all.contains(&"webhook_endpoint.ping".into()),
        "pings are not in the feed"
    );
}

#[actix_web::test]
async fn bad_endpoint_and_feed_input_is_refused_with_clear_errors() {
    let app = TestApp::new().await;
    let op = app.operator().await;
    for (body, pointer, code) in [
        (json!({}), "/url", "required"),
        (json!({"url": "x".repeat(2049)}), "/url", "too_long"),
        (
            json!({"url": "http://127.0.0.1:9/", "event_types": ["nope"]}),
            "/event_types/0",
            "invalid_enum",
        ),
        (
            json!({"url": "http://127.0.0.1:9/", "event_types": ["referral.created", "referral.created"]}),
            "/event_types/1",
            "duplicate",
        ),
        (
            json!({"url": "http://127.0.0.1:9/", "description": "d".repeat(501)}),
            "/description",
            "too_long",
        ),
        (
            json!({"url": "http://127.0.0.1:9/", "institution_id": "nowhere"}),
            "/institution_id",
            "unknown_institution",
        ),
    ] {
        let res = app
            .post("/v1/webhook-endpoints")
            .token(&op)
            .json(body.clone())
            .send()
            .await;
        assert_eq!(res.status, 422, "{body}: {}", res.body);
        assert!(
            res.field_errors()
                .contains(&(pointer.to_owned(), code.to_owned())),
            "{body}: {:?}",
            res.field_errors()
        );
    }
    app.post("/v1/webhook-endpoints")
        .json(json!({"url": "http://127.0.0.1:9/"}))
        .send()
        .await
        .assert_problem(401, "invalid_token");
    app.get("/v1/webhook-endpoints/not-a-uuid")
        .token(&op)
        .send()
        .await
        .assert_problem(404, "not_found");
    app.get("/v1/events?after=abc")
        .token(&op)
        .send()
        .await
        .assert_problem(400, "invalid_cursor");
    app.get("/v1/events?types=referral.created,nope")
        .token(&op)
        .send()
        .await
        .assert_problem(400, "invalid_event_type");
    app.get("/v1/events?types=referral.created,referral.created")
        .token(&op)
        .send()
        .await
        .assert_problem(400, "invalid_event_type");
    app.get("/v1/events?limit=0")
        .token(&op)
        .send()
        .await
        .assert_problem(400, "invalid_limit");
    app.get("/v1/events")
        .send()
        .await
        .assert_problem(401, "invalid_token");
}

/// A reader that follows the cursor never misses an event, even when a transaction that
/// began (and wrote) first commits after a later one. On PostgreSQL the two transactions are
/// truly concurrent; SQLite has one writer at a time, so there the later id is made first and
/// committed last.
#[actix_web::test]
async fn the_feed_never_skips_an_event_committed_after_a_later_one() {
    let app = TestApp::new().await;
    let op = app.operator().await;
    let head = feed(&app, &op, "?limit=100").await["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = app.db.url.clone();
    let record = |conn: &mut guichet::db::DbConn, version: i64| {
        guichet::service::record::record(
            conn,
            &guichet::domain::account::Actor::System,
            guichet::db::now(),
            guichet::service::record::Change::RoutingProfileReplaced {
                institution_id: "curie",
                from_version: version - 1,
                to_version: version,
            },
        )
        .unwrap()
    };
    let mut slow = guichet::db::establish(&guichet::db::DatabaseUrl::parse(&url).unwrap()).unwrap();
    let is_pg = matches!(slow, guichet::db::DbConn::Pg(_));
    if is_pg {
        // The earlier transaction writes first and stays open.
        slow.batch_execute("BEGIN").unwrap();
        record(&mut slow, 100);
    }
    let mut fast = guichet::db::establish(&guichet::db::DatabaseUrl::parse(&url).unwrap()).unwrap();
    fast.batch_execute("BEGIN").unwrap();
    record(&mut fast, 200);
    fast.batch_execute("COMMIT").unwrap();
    // A reader passes by now.
    let page = feed_now(
        &app,
        &op,
        &format!("?after={head}&types=routing_profile.changed"),
    )
    .await;
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let seen_first: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["data"]["profile_version"].as_i64().unwrap())
        .collect();
    if !is_pg {
        slow.batch_execute("BEGIN").unwrap();
        record(&mut slow, 100);
    }
    slow.batch_execute("COMMIT").unwrap();
    // On PostgreSQL the horizon is the oldest transaction of the whole server: other tests'
    // transactions may hold it back for a moment, so the reader polls as a follower would.
    let mut seen_then: Vec<i64> = Vec::new();
    for _ in 0..100 {
        let query = format!("?after={cursor}&types=routing_profile.changed");
        let page = feed_now(&app, &op, &query).await;
        seen_then = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["data"]["profile_version"].as_i64().unwrap())
            .collect();
        if seen_first.len() + seen_then.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mut all = seen_first.clone();
    all.extend(&seen_then);
    all.sort();
    assert_eq!(
        all,
        vec![100, 200],
        "first {seen_first:?}, then {seen_then:?}"
    );
    if is_pg {
        assert!(
            seen_first.is_empty(),
            "nothing is shown past a running transaction"
        );
    }
}

#[actix_web::test]
async fn the_sla_clock_tells_each_deadline_once() {
    let app = TestApp::new().await;
    let op = app.operator().await;
    app.curie_referral().await;
    let clock = clock();
    let worker = app.worker(clock.clone());
    worker.drain().await.unwrap();
    assert!(
        types(
            &feed(
                &app,
                &op,
                "?types=referral.sla_due_soon,referral.sla_breached"
            )
            .await
        )
        .is_empty()
    );
    clock.advance(Duration::days(30));
    let round = worker.run_due().await.unwrap();
    assert_eq!(
        round.sla_events, 1,
        "overdue: one breach, no late 'due soon'"
    );
    clock.advance(Duration::minutes(5));
    assert_eq!(worker.run_due().await.unwrap().sla_events, 0);
    assert_eq!(
        types(
            &feed(
                &app,
                &op,
                "?types=referral.sla_due_soon,referral.sla_breached"
            )
            .await
        ),
        vec!["referral.sla_breached".to_owned()]
    );
}

/// Every operation of the contract that changes state writes an audit row (through the one
/// recorder). The list of such operations is read from the contract: a new one without a
/// case here fails the test.
#[actix_web::test]
async fn every_mutating_operation_of_the_contract_writes_an_audit_event() {
    let app = TestApp::new().await;
    let receiver = Receiver::start().await;
    let op = app.operator().await;
    let admin = app
        .staff("admin@curie.fr", Role::InstitutionAdmin, Some("curie"))
        .await;
    let (refresh, refresh_token) = {
        let (access, refresh) = app.login("admin@curie.fr").await;
        (access, refresh)
    };
    let _ = refresh;
    let audit = || async { app.g.db.run(guichet::db::audit::count).await.unwrap() };
    let doc: Value = serde_json::from_str(&guichet::api::openapi_json()).unwrap();
    let mut mutating = std::collections::BTreeSet::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for (method, o) in item.as_object().unwrap() {
            if method != "get" {
                mutating.insert(o["operationId"].as_str().unwrap().to_owned());
            }
        }
    }
    // Reads that use POST.
    let exempt = ["routing_preview"];
    let mut covered = std::collections::BTreeSet::new();
    let mut check = |id: &str, before: i64, after: i64, status: u16| {
        assert!((200..300).contains(&status), "{id} answered {status}");
        assert!(after > before, "{id} wrote no audit event");
        covered.insert(id.to_owned());
    };

    let n = audit().await;
    let res = app.post("/v1/inquiries").json(psma_inquiry()).send().await;
    check("inquiry_create", n, audit().await, res.status.as_u16());
    let inquiry = res.body["id"].as_str().unwrap().to_owned();
    let token = res.body["tracking_token"].as_str().unwrap().to_owned();
    let referral = res.body["referrals"][0]["id"].as_str().unwrap().to_owned();

    let n = audit().await;
    let res = app
        .post(&format!(
            "/v1/inquiries/{inquiry}/referrals/{referral}/messages"
        ))
        .header("X-Tracking-Token", &token)
        .json(json!({"body": "Hello"}))
        .send()
        .await;
    check(
        "inquiry_message_create",
        n,
        audit().await,
        res.status.as_u16(),
    );

    let n = audit().await;
    let res = app
        .post(&format!("/v1/referrals/{referral}/messages"))
        .token(&admin)
        .json(json!({"body": "Note", "visibility": "internal"}))
        .send()
        .await;
    check(
        "referral_message_create",
        n,
        audit().await,
        res.status.as_u16(),
    );

    let n = audit().await;
    let res = app
        .post("/v1/institutions/curie/contacts")
        .token(&admin)
        .json(json!({"name": "C", "email": "c@curie.fr"}))
        .send()
        .await;
    check("contact_create", n, audit().await, res.status.as_u16());
    let contact = res.body["id"].as_str().unwrap().to_owned();

    let n = audit().await;
    let res = app
        .patch(&format!("/v1/institutions/curie/contacts/{contact}"))
        .token(&admin)
        .json(json!({"title": "T"}))
        .send()
        .await;
    check("contact_update", n, audit().await, res.status.as_u16());

    let n = audit().await;
    let res = app
        .post(&format!("/v1/referrals/{referral}/assignee"))
        .token(&admin)
        .header("If-Match", "*")
        .json(json!({"contact_id": contact}))
        .send()
        .await;
    check("referral_assign", n, audit().await, res.status.as_u16());

    let n = audit().await;
    let res = app
        .delete(&format!("/v1/referrals/{referral}/assignee"))
        .token(&admin)
        .header("If-Match", "*")
        .send()
        .await;
    check("referral_unassign", n, audit().await, res.status.as_u16());

    let n = audit().await;
    let res = app
        .post(&format!("/v1/referrals/{referral}/assignee"))
        .token(&admin)
        .header("If-Match", "*")
        .json(json!({"contact_id": contact}))
        .send()
        .await;
    assert_eq!(res.status, 200);
    let res = app
        .post(&format!(
            "/v1/institutions/curie/contacts/{contact}/reassign"
        ))
        .token(&admin)
        .json(json!({"to_contact_id": null}))
        .send()
        .await;
    check(
        "contact_reassign",
        n + 1,
        audit().await,
        res.status.as_u16(),
    );

    let n = audit().await;
    let res = app
        .post("/v1/institutions")
        .token(&op)
        .json(json!({"id": "newcomer", "name": "Newcomer", "website": "https://newcomer.example", "routing_profile": {"accepted_inquiry_types": ["licensing"], "therapeutic_area_weights": {}, "modality_weights": {}, "threshold": 50}}))
        .send()
        .await;
    check("institution_create", n, audit().await, res.status.as_u16());

    let n = audit().await;
    let res = app
        .patch("/v1/institutions/newcomer")
        .token(&op)
        .json(json!({"active": false}))
        .send()
        .await;
    check("institution_update", n, audit().await, res.status.as_u16());

    let n = audit().await;
    let res = app
        .post(&format!("/v1/referrals/{referral}/transitions"))
        .token(&admin)
        .header("If-Match", "*")
        .json(json!({"to": "acknowledged"}))
        .send()
        .await;
    check("referral_transition", n, audit().await, res.status.as_u16());

    let n = audit().await;
    let res = app
        .post("/v1/institutions/curie/users")
        .token(&admin)
        .json(json!({"email": "new@curie.fr", "password": "long enough pass", "role": "triager"}))
        .send()
        .await;
    check("user_create", n, audit().await, res.status.as_u16());
    let user = res.body["id"].as_str().unwrap().to_owned();

    let n = audit().await;
    let res = app
        .patch(&format!("/v1/institutions/curie/users/{user}"))
        .token(&admin)
        .json(json!({"disabled": true}))
        .send()
        .await;
    check("user_update", n, audit().await, res.status.as_u16());

    let n = audit().await;
    let body = json!({"accepted_inquiry_types": ["licensing", "clinical_trial"], "therapeutic_area_weights": {"prostate": 90}, "modality_weights": {}, "threshold": 40});
    let res = app
        .put("/v1/institutions/curie/routing-profile")
        .token(&admin)
        .header("If-Match", "*")
        .json(body)
        .send()
        .await;
    check(
        "routing_profile_replace",
        n,
        audit().await,
        res.status.as_u16(),
    );

    let n = audit().await;
    let res = app
        .post("/v1/auth/token")
        .json(json!({"email": "admin@curie.fr", "password": crate::support::PASSWORD}))
        .send()
        .await;
    check("auth_login", n, audit().await, res.status.as_u16());

    let n = audit().await;
    let res = app
        .post("/v1/auth/refresh")
        .json(json!({"refresh_token": refresh_token}))
        .send()
        .await;
    check("auth_refresh", n, audit().await, res.status.as_u16());

    let n = audit().await;
    let (id, _) = endpoint(&app, &admin, json!({"url": receiver.url()})).await;
    check("webhook_endpoint_create", n, audit().await, 201);

    for (op_id, method, path, body) in [
        (
            "webhook_endpoint_update",
            "PATCH",
            format!("/v1/webhook-endpoints/{id}"),
            Some(json!({"description": "CRM"})),
        ),
        (
            "webhook_endpoint_secret_rotate",
            "POST",
            format!("/v1/webhook-endpoints/{id}/secret"),
            None,
        ),
        (
            "webhook_endpoint_ping",
            "POST",
            format!("/v1/webhook-endpoints/{id}/ping"),
            None,
        ),
        (
            "webhook_endpoint_replay",
            "POST",
            format!("/v1/webhook-endpoints/{id}/replay"),
            None,
        ),
    ] {
        let n = audit().await;
        let mut req = app.req(method.parse().unwrap(), &path).token(&admin);
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await;
        check(op_id, n, audit().await, res.status.as_u16());
        if op_id == "webhook_endpoint_ping" {
            let delivery = res.body["id"].as_str().unwrap().to_owned();
            let n = audit().await;
            let res = app
                .post(&format!("/v1/webhook-deliveries/{delivery}/resend"))
                .token(&admin)
                .send()
                .await;
            check(
                "webhook_delivery_resend",
                n,
                audit().await,
                res.status.as_u16(),
            );
        }
    }
    let n = audit().await;
    let res = app
        .delete(&format!("/v1/webhook-endpoints/{id}"))
        .token(&admin)
        .send()
        .await;
    check(
        "webhook_endpoint_delete",
        n,
        audit().await,
        res.status.as_u16(),
    );

    // Hand routing of a desk inquiry (it leaves the desk).
    let mut desk = psma_inquiry();
    desk["inquiry_type"] = json!("other");
    desk["preferred_institutions"] = json!([]);
    let res = app.post("/v1/inquiries").json(desk).send().await;
    let desk_id = res.body["id"].as_str().unwrap().to_owned();
    let n = audit().await;
    let res = app
        .post(&format!("/v1/inquiries/{desk_id}/routing"))
        .token(&op)
        .json(json!({"institutions": ["aphp"]}))
        .send()
        .await;
    check("inquiry_route", n, audit().await, res.status.as_u16());

    let n = audit().await;
    let res = app
        .post(&format!("/v1/inquiries/{inquiry}/withdraw"))
        .header("X-Tracking-Token", &token)
        .send()
        .await;
    check("inquiry_withdraw", n, audit().await, res.status.as_u16());

    let n = audit().await;
    let res = app
        .patch("/v1/me")
        .token(&admin)
        .json(json!({"locale": "fr", "reminders": false}))
        .send()
        .await;
    check("me_update", n, audit().await, res.status.as_u16());

    let n = audit().await;
    let res = app
        .put("/v1/institutions/curie/mail-settings")
        .token(&admin)
        .json(json!({"team_email": "team@curie.fr"}))
        .send()
        .await;
    check(
        "mail_settings_replace",
        n,
        audit().await,
        res.status.as_u16(),
    );

    let n = audit().await;
    let unsubscribe = guichet::service::mail::unsubscribe_token(&app.g, "c@curie.fr");
    let res = app
        .post(&format!("/v1/mail/unsubscribe?token={unsubscribe}"))
        .send()
        .await;
    check("mail_unsubscribe", n, audit().await, res.status.as_u16());

    let n = audit().await;
    let res = app
        .post("/v1/auth/password")
        .token(&admin)
        .json(json!({"current_password": crate::support::PASSWORD, "new_password": "another long passphrase"}))
        .send()
        .await;
    check(
        "auth_password_change",
        n,
        audit().await,
        res.status.as_u16(),
    );

    let n = audit().await;
    let res = app
        .post("/v1/auth/password-reset")
        .json(json!({"email": "admin@curie.fr"}))
        .send()
        .await;
    check(
        "auth_password_reset_request",
        n,
        audit().await,
        res.status.as_u16(),
    );

    let n = audit().await;
    let res = app.post("/v1/auth/logout").token(&admin).send().await;
    check("auth_logout", n, audit().await, res.status.as_u16());

    let reset = crate::support::reset_token(&app, "admin@curie.fr").await;
    let n = audit().await;
    let res = app
        .post("/v1/auth/password-reset/confirm")
        .json(json!({"token": reset, "new_password": "a third long passphrase"}))
        .send()
        .await;
    check(
        "auth_password_reset_confirm",
        n,
        audit().await,
        res.status.as_u16(),
    );

    let missing: Vec<&String> = mutating
        .iter()
        .filter(|m| !covered.contains(*m) && !exempt.contains(&m.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "mutating operations without an audit case: {missing:?}"
    );
}

#[actix_web::test]
async fn retries_never_hold_up_first_attempts() {
    let app = TestApp::new().await;
    let op = app.operator().await;
    let failing = Receiver::start().await;
    failing.answer("503 Service Unavailable", "");
    endpoint(
        &app,
        &op,
        json!({"institution_id": "curie", "url": failing.url(), "event_types": ["referral.created"]}),
    )
    .await;
    app.curie_referral().await;
    let clock = clock();
    let worker = app.worker(clock.clone());
    worker.drain().await.unwrap();
    assert_eq!(failing.requests().len(), 1);
    let healthy = Receiver::start().await;
    endpoint(
        &app,
        &op,
        json!({"institution_id": "curie", "url": healthy.url(), "event_types": ["referral.created"]}),
    )
    .await;
    clock.advance(Duration::seconds(10)); // the retry is due
    app.curie_referral().await; // two first attempts are due too
    let one_pass = guichet::worker::Worker::new(
        app.g.clone(),
        clock.clone(),
        guichet::worker::WorkerOptions {
            relay_batch: 2,
            ..Default::default()
        },
    );
    let round = one_pass.run_due().await.unwrap();
    assert_eq!(round.relay.claimed, 2);
    assert_eq!(
        healthy.requests().len(),
        1,
        "the healthy endpoint's first attempt went first"
    );
    let first_event = failing.requests()[0]
        .header("webhook-id")
        .unwrap()
        .to_owned();
    let got = failing.requests();
    assert_eq!(got.len(), 2);
    assert_ne!(
        got[1].header("webhook-id").unwrap(),
        first_event,
        "the retry waited"
    );
    assert_eq!(
        one_pass.run_due().await.unwrap().relay.claimed,
        1,
        "then the retry"
    );
}

/// A withdrawal's reason code reaches subscribers: the institution's endpoint in the status
/// change of its referral (one institution, or the whole inquiry), the platform in
/// `inquiry.withdrawn` (the whole inquiry only).
#[actix_web::test]
async fn a_withdrawal_tells_subscribers_its_reason_code() {
    let app = TestApp::new().await;
    let receiver = Receiver::start().await;
    let admin = app
        .staff(
            "admin@gr.fr",
            Role::InstitutionAdmin,
            Some("gustave-roussy"),
        )
        .await;
    let op = app.operator().await;
    endpoint(
        &app,
        &admin,
        json!({"url": receiver.url(), "event_types": ["referral.status_changed"]}),
    )
    .await;
    let mut body = psma_inquiry();
    body["preferred_institutions"] = json!(["curie", "gustave-roussy"]);
    let res = app.post("/v1/inquiries").json(body).send().await;
    assert_eq!(res.status, 201, "{}", res.body);
    let inquiry = res.body["id"].as_str().unwrap().to_owned();
    let token = res.body["tracking_token"].as_str().unwrap().to_owned();
    let withdraw = |b: Option<Value>| {
        let (app, inquiry, token) = (&app, inquiry.clone(), token.clone());
        async move {
            let req = app
                .post(&format!("/v1/inquiries/{inquiry}/withdraw"))
                .header("X-Tracking-Token", &token);
            let res = match b {
                Some(b) => req.json(b).send().await,
                None => req.send().await,
            };
            assert_eq!(res.status, 200, "{}", res.body);
        }
    };
    withdraw(Some(json!({"institution_id": "gustave-roussy", "reason_code": "found_partner", "reason": "Thanks."}))).await;
    app.worker(clock()).drain().await.unwrap();
    let got = receiver.requests();
    assert_eq!(got.len(), 1);
    let data = got[0].json()["data"].clone();
    assert_eq!(data["to"], "withdrawn");
    assert_eq!(data["reason_code"], "submitter_withdrew");
    assert_eq!(data["withdrawal_reason"], "found_partner");
    assert!(
        !String::from_utf8_lossy(&got[0].body).contains("Thanks."),
        "ids and codes, never text"
    );
    // One institution only: no inquiry-level event.
    assert!(!types(&feed(&app, &op, "?limit=100").await).contains(&"inquiry.withdrawn".to_owned()));

    // A triager's change meanwhile carries no withdrawal reason.
    let curie_triager = app.staff("t@curie.fr", Role::Triager, Some("curie")).await;
    let referral = res.body["referrals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["institution"]["id"] == "curie")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .post(&format!("/v1/referrals/{referral}/transitions"))
        .token(&curie_triager)
        .header("If-Match", "\"1\"")
        .json(json!({"to": "acknowledged"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    withdraw(None).await;
    let page = feed(
        &app,
        &op,
        "?types=inquiry.withdrawn,referral.status_changed&limit=100",
    )
    .await;
    let items = page["items"].as_array().unwrap();
    let withdrawn: Vec<&Value> = items
        .iter()
        .filter(|e| e["type"] == "inquiry.withdrawn")
        .collect();
    assert_eq!(withdrawn.len(), 1);
    assert_eq!(withdrawn[0]["data"]["reason_code"], "not_given");
    assert_eq!(withdrawn[0]["data"]["was_on_desk"], false);
    assert_eq!(
        withdrawn[0]["data"]["referral_ids"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let curie: Vec<&Value> = items
        .iter()
        .filter(|e| {
            e["type"] == "referral.status_changed"
                && e["data"]["institution_id"] == "curie"
                && e["data"]["to"] == "withdrawn"
        })
        .collect();
    assert_eq!(curie.len(), 1);
    assert_eq!(curie[0]["data"]["withdrawal_reason"], "not_given");
    let changes = feed(&app, &op, "?types=referral.status_changed&limit=100").await;
    let changes = changes["items"].as_array().unwrap();
    assert_eq!(changes.len(), 3, "{changes:?}");
    for e in changes {
        assert_eq!(
            e["data"]["to"] == "withdrawn",
            !e["data"]["withdrawal_reason"].is_null(),
            "{e}"
        );
    }
}
