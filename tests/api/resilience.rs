//! Faults and attacks: the database going away, a locked SQLite file, bursts of parallel
//! guesses against the throttles.

use std::time::{Duration, Instant};

use diesel::Connection;
use diesel::connection::SimpleConnection;
use futures_util::future::join_all;

use guichet::db::PoolOptions;
use guichet::domain::taxonomy::Role;
use guichet::service::Limits;

use crate::support::{PASSWORD, TestApp, psma_inquiry as submission};

/// The promise of the outage: while the database is gone every answer is 200 or a 503 with
/// `Retry-After` (never a 500), and once it is back the first success comes within 2 seconds,
/// without restarting Guichet.
///
/// On PostgreSQL the server terminates every connection of the pool (as a restart or a
/// failover does); on SQLite another process holds the write lock past the busy timeout.
#[actix_web::test]
async fn a_lost_database_answers_503_then_heals_within_two_seconds() {
    let app = TestApp::with_options(
        Limits::default(),
        PoolOptions {
            sqlite_busy_timeout_ms: 200,
            ..PoolOptions::with_size(4)
        },
    )
    .await;
    let ops = app.operator().await;
    // Fill the pool: four requests at once hold four connections.
    let warm = join_all((0..8).map(|_| app.get("/v1/referrals").token(&ops).send())).await;
    assert!(warm.iter().all(|r| r.status == 200));

    let backend_is_postgres = app.db.url.starts_with("postgres");
    let mut lock_holder = None;
    if backend_is_postgres {
        let (admin, name) = app.db.url.rsplit_once('/').unwrap();
        let mut conn = diesel::PgConnection::establish(&format!("{admin}/postgres")).unwrap();
        conn.batch_execute(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
        .unwrap();
    } else {
        let path = app.db.url.trim_start_matches("sqlite://").to_owned();
        let mut conn = diesel::SqliteConnection::establish(&path).unwrap();
        conn.batch_execute("BEGIN EXCLUSIVE").unwrap();
        lock_holder = Some(conn);
    }

    let cut = Instant::now();
    let mut statuses = Vec::new();
    if let Some(mut conn) = lock_holder.take() {
        // While the file is locked, writes are 503 with Retry-After.
        for _ in 0..3 {
            let res = app.post("/v1/inquiries").json(submission()).send().await;
            res.assert_problem(503, "database_unavailable");
            assert!(res.header("retry-after").is_some());
            statuses.push(res.status.as_u16());
        }
        conn.batch_execute("ROLLBACK").unwrap();
    }
    let back = Instant::now();
    let mut first_success = None;
    while back.elapsed() < Duration::from_secs(5) {
        let res = if statuses.len() % 2 == 0 {
            app.get("/v1/referrals").token(&ops).send().await
        } else {
            app.post("/v1/inquiries").json(submission()).send().await
        };
        let status = res.status.as_u16();
        statuses.push(status);
        match status {
            200 | 201 => {
                first_success.get_or_insert(back.elapsed());
                if statuses
                    .iter()
                    .rev()
                    .take(6)
                    .all(|s| *s == 200 || *s == 201)
                {
                    break;
                }
            }
            503 => {
                res.assert_problem(503, "database_unavailable");
                assert!(res.header("retry-after").is_some());
            }
            other => panic!("answer {other} after the database went away: {}", res.body),
        }
    }
    let first_success = first_success.expect("no success within 5 s of the database's return");
    if backend_is_postgres {
        // A dead connection fails one request at most, and is never handed out again: at
        // most one 503 per pooled connection.
        let unavailable = statuses.iter().filter(|s| **s == 503).count();
        assert!(
            unavailable <= 4,
            "{unavailable} answers 503 from a pool of 4: {statuses:?}"
        );
    }
    assert!(
        first_success <= Duration::from_secs(2),
        "first success {first_success:?} after the database came back (statuses {statuses:?})"
    );
    assert!(
        statuses.iter().all(|s| [200, 201, 503].contains(s)),
        "{statuses:?}"
    );
    // The pool healed: every request after the first success succeeds.
    let after: Vec<u16> = join_all((0..8).map(|_| app.get("/v1/referrals").token(&ops).send()))
        .await
        .iter()
        .map(|r| r.status.as_u16())
        .collect();
    assert_eq!(after, vec![200; 8], "{:?} since the cut", cut.elapsed());
}

fn roomy_pool() -> PoolOptions {
    // A burst of a hundred requests queues for four connections: give it time.
    PoolOptions {
        timeout_ms: 30_000,
        ..PoolOptions::with_size(4)
    }
}

#[actix_web::test]
async fn a_burst_of_parallel_wrong_passwords_gets_at_most_the_limit_of_verifications() {
    let app = TestApp::with_options(
        Limits {
            login_failures_per_account: 10,
            ..Limits::default()
        },
        roomy_pool(),
    )
    .await;
    app.user("claire@curie.fr", Role::Triager, Some("curie"))
        .await;
    let answers = join_all((0..100).map(|_| app.try_login("claire@curie.fr", "wrong guess"))).await;
    let unauthorized = answers.iter().filter(|r| r.status == 401).count();
    let throttled = answers.iter().filter(|r| r.status == 429).count();
    assert_eq!(unauthorized + throttled, 100);
    assert!(
        (1..=10).contains(&unauthorized),
        "{unauthorized} passwords were verified against a limit of 10"
    );
    for r in answers.iter().filter(|r| r.status == 429) {
        r.assert_problem(429, "too_many_requests");
        assert!(r.header("retry-after").is_some());
    }
    // The right password is throttled too until the wait is over.
    app.try_login("claire@curie.fr", PASSWORD)
        .await
        .assert_problem(429, "too_many_requests");
}

#[actix_web::test]
async fn a_burst_from_one_address_against_many_accounts_is_held_to_the_address_limit() {
    let app = TestApp::with_options(
        Limits {
            login_failures_per_address: 10,
            ..Limits::default()
        },
        roomy_pool(),
    )
    .await;
    let app = &app;
    let answers = join_all(
        (0..60).map(|i| async move { app.try_login(&format!("nobody{i}@curie.fr"), "x").await }),
    )
    .await;
    let unauthorized = answers.iter().filter(|r| r.status == 401).count();
    assert!(
        (1..=10).contains(&unauthorized),
        "{unauthorized} attempts from one address went through against a limit of 10"
    );
    assert_eq!(
        answers.iter().filter(|r| r.status == 429).count(),
        60 - unauthorized
    );
}

#[actix_web::test]
async fn a_burst_of_tracking_token_guesses_is_held_to_the_limit() {
    let app = TestApp::with_options(
        Limits {
            tracking_failures_per_address: 10,
            ..Limits::default()
        },
        roomy_pool(),
    )
    .await;
    let res = app.post("/v1/inquiries").json(submission()).send().await;
    let id = res.body["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/inquiries/{id}");
    let answers = join_all((0..60).map(|_| {
        app.get(&path)
            .header("X-Tracking-Token", "a-guess-that-is-wrong")
            .send()
    }))
    .await;
    let not_found = answers.iter().filter(|r| r.status == 404).count();
    assert!(
        (1..=10).contains(&not_found),
        "{not_found} guesses were compared against a limit of 10"
    );
    assert_eq!(
        answers.iter().filter(|r| r.status == 429).count(),
        60 - not_found
    );
}

#[actix_web::test]
async fn throttled_operations_show_their_quota_before_it_bites() {
    let app = TestApp::with_limits(Limits {
        login_failures_per_account: 3,
        submissions_per_minute: 5,
        ..Limits::default()
    })
    .await;
    app.user("claire@curie.fr", Role::Triager, Some("curie"))
        .await;
    let first = app.try_login("claire@curie.fr", "wrong").await;
    assert_eq!(first.status, 401);
    let policy = first.header("ratelimit-policy").unwrap();
    assert!(policy.contains("\"login-account\";q=3;w=900"), "{policy}");
    let state = first.header("ratelimit").unwrap();
    assert!(state.contains("\"login-account\";r=2;"), "{state}");
    let second = app.try_login("claire@curie.fr", "wrong").await;
    assert!(
        second
            .header("ratelimit")
            .unwrap()
            .contains("\"login-account\";r=1;")
    );

    let submitted = app.post("/v1/inquiries").json(submission()).send().await;
    assert_eq!(submitted.status, 201);
    assert!(
        submitted
            .header("ratelimit-policy")
            .unwrap()
            .contains("\"submissions\";q=5;w=60")
    );
    assert!(
        submitted
            .header("ratelimit")
            .unwrap()
            .contains("\"submissions\";r=4;")
    );
    // Operations that are not throttled carry no quota.
    assert!(
        app.get("/v1/institutions")
            .send()
            .await
            .header("ratelimit")
            .is_none()
    );
}

#[actix_web::test]
async fn refreshing_is_throttled_per_address_too() {
    let app = TestApp::with_limits(Limits {
        refreshes_per_minute: 2,
        ..Limits::default()
    })
    .await;
    app.user("claire@curie.fr", Role::Triager, Some("curie"))
        .await;
    let (_, refresh) = app.login("claire@curie.fr").await;
    let refreshed = app
        .post("/v1/auth/refresh")
        .json(serde_json::json!({"refresh_token": refresh}))
        .send()
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert!(
        refreshed
            .header("ratelimit")
            .unwrap()
            .contains("\"refresh\";r=1;")
    );
    let next = refreshed.body["refresh_token"].as_str().unwrap().to_owned();
    app.post("/v1/auth/refresh")
        .json(serde_json::json!({"refresh_token": "a-guess"}))
        .send()
        .await
        .assert_problem(401, "invalid_refresh_token");
    let res = app
        .post("/v1/auth/refresh")
        .json(serde_json::json!({"refresh_token": next}))
        .send()
        .await;
    res.assert_problem(429, "too_many_requests");
    assert!(res.header("retry-after").is_some());
}
