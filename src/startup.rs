//! Building the services from settings, binding the listener, serving until a signal.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::HttpServer;
use base64::Engine;

use crate::api::{self, HttpOptions};
use crate::auth::password::Passwords;
use crate::auth::token::TokenKeys;
use crate::config::ServeArgs;
use crate::db::{DatabaseUrl, Db, PoolOptions, settings};
use crate::service::{Guichet, Limits};

const JWT_SETTING: &str = "jwt_signing_key";
const TRACKING_SETTING: &str = "tracking_token_key";
const UNSUBSCRIBE_SETTING: &str = "mail_unsubscribe_key";
const CONSOLE_SETTING: &str = "console_csrf_key";

/// A 32-byte key generated once and kept in the database (shared by every instance).
async fn generated_key(db: &Db, name: &'static str) -> Result<[u8; 32], String> {
    let stored = db
        .run(move |conn| {
            settings::setting_get_or_create(conn, name, || {
                let mut bytes = [0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
                base64::engine::general_purpose::STANDARD.encode(bytes)
            })
        })
        .await
        .map_err(|e| format!("cannot read the generated key {name}: {e}"))?;
    base64::engine::general_purpose::STANDARD
        .decode(stored)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| format!("the stored key {name} is corrupt"))
}

/// Opens the database named by `url` and applies pending migrations.
pub async fn open_database(url: &str, pool_size: u32) -> Result<Db, String> {
    open_database_with(url, PoolOptions::with_size(pool_size)).await
}

/// [`open_database`] with every pool setting.
pub async fn open_database_with(url: &str, options: PoolOptions) -> Result<Db, String> {
    let url = DatabaseUrl::parse(url)?;
    let db = Db::new(url.clone(), options)?;
    let migrating = db.clone();
    tokio::task::spawn_blocking(move || migrating.migrate())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("cannot open the database ({url}): {e}"))?;
    Ok(db)
}

/// The use-case context for `serve` (and for tests, which pass their own settings).
pub async fn build_guichet(
    db: Db,
    jwt_secret: Option<&str>,
    access_ttl_seconds: u64,
    limits: Limits,
) -> Result<Guichet, String> {
    let secret: Vec<u8> = match jwt_secret {
        Some(s) => s.as_bytes().to_vec(),
        None => {
            let stored = db
                .run(|conn| {
                    settings::setting_get_or_create(conn, JWT_SETTING, || {
                        let mut bytes = [0u8; 48];
                        rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
                        base64::engine::general_purpose::STANDARD.encode(bytes)
                    })
                })
                .await
                .map_err(|e| format!("cannot read the generated JWT secret: {e}"))?;
            base64::engine::general_purpose::STANDARD
                .decode(stored)
                .map_err(|e| format!("the stored JWT secret is corrupt: {e}"))?
        }
    };
    let tokens = TokenKeys::new(&secret, access_ttl_seconds)?;
    // Tracking tokens of idempotent submissions are derived with a key of their own, kept in
    // the database, so that rotating the JWT secret does not change them.
    let tracking_key = generated_key(&db, TRACKING_SETTING).await?;
    let unsubscribe_key = generated_key(&db, UNSUBSCRIBE_SETTING).await?;
    let console_key = generated_key(&db, CONSOLE_SETTING).await?;
    let permits = std::thread::available_parallelism().map_or(2, |n| n.get() * 2);
    let passwords = Passwords::new(permits).map_err(|e| e.to_string())?;
    Ok(Guichet {
        db,
        tokens: Arc::new(tokens),
        passwords,
        limits,
        tracking_key: Arc::new(tracking_key),
        metrics: Arc::default(),
        webhooks: Default::default(),
        mail: crate::service::mail::MailSettings {
            unsubscribe_key: Arc::new(unsubscribe_key),
            ..Default::default()
        },
        console_key: Arc::new(console_key),
    })
}

/// The mail transport, sender and links from the flags; what the start-up line says of them.
fn configure_mail(g: &mut Guichet, args: &ServeArgs) -> Result<String, String> {
    g.mail.from = args.mail_from.clone();
    g.mail.public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", args.bind));
    let timeout = std::time::Duration::from_secs(args.smtp_timeout_seconds);
    g.mail.lease = chrono::Duration::seconds(args.smtp_timeout_seconds as i64 * 2 + 30);
    match &args.smtp_url {
        Some(smtp) => {
            let mut smtp = smtp.clone();
            smtp.timeout = timeout;
            if let Some(user) = &args.smtp_user {
                smtp.user = Some(user.clone());
            }
            if let Some(password) = &args.smtp_password {
                smtp.password = Some(password.clone());
            }
            g.mail.transport = crate::mail::Transport::smtp(&smtp)
                .map_err(|e| format!("cannot set up SMTP: {e}"))?;
            Ok(format!("SMTP {}", smtp.describe()))
        }
        None => {
            let dir =
                args.mail_dir.clone().unwrap_or_else(|| {
                    match crate::db::DatabaseUrl::parse(&args.database.database_url) {
                        Ok(crate::db::DatabaseUrl::Sqlite(path)) if path != ":memory:" => {
                            let path = std::path::Path::new(&path);
                            let stem = path
                                .file_stem()
                                .map(|s| s.to_string_lossy().into_owned())
                                .unwrap_or_else(|| "guichet".into());
                            path.with_file_name(format!("{stem}-mail"))
                        }
                        _ => "guichet-mail".into(),
                    }
                });
            let line = format!(
                "no SMTP server configured, messages are written to {}/",
                dir.display()
            );
            g.mail.transport = crate::mail::Transport::Folder(dir);
            Ok(line)
        }
    }
}

/// `guichet serve`.
pub async fn serve(args: ServeArgs) -> Result<(), String> {
    // Refuse a bad secret before touching the database.
    if let Some(secret) = &args.jwt_secret
        && secret.len() < crate::auth::token::MIN_SECRET_BYTES
    {
        return Err(format!(
            "GUICHET_JWT_SECRET must be at least {} bytes (got {})",
            crate::auth::token::MIN_SECRET_BYTES,
            secret.len()
        ));
    }
    let db = open_database_with(&args.database.database_url, args.database.pool_options()).await?;
    let limits = Limits {
        login_failures_per_account: args.login_max_failures_per_account,
        login_failures_per_address: args.login_max_failures_per_address,
        login_lockout_seconds: args.login_lockout_seconds,
        refresh_token_ttl_seconds: args.refresh_token_ttl_seconds,
        submissions_per_minute: args.submissions_per_minute,
        tracking_failures_per_address: args.tracking_failures_per_address,
        refreshes_per_minute: args.refreshes_per_minute,
        ..Limits::default()
    };
    let database = db.url().to_string();
    let mut g = build_guichet(
        db,
        args.jwt_secret.as_deref(),
        args.access_token_ttl_seconds,
        limits,
    )
    .await?;
    g.webhooks.policy.allow_loopback_http = args.webhooks_allow_loopback_http;
    g.webhooks.timeout = std::time::Duration::from_secs(args.webhook_timeout_seconds);
    if args.webhook_lease_seconds <= args.webhook_timeout_seconds {
        return Err(format!(
            "--webhook-lease-seconds ({}) must be longer than --webhook-timeout-seconds ({}): a claim must outlive its attempt",
            args.webhook_lease_seconds, args.webhook_timeout_seconds
        ));
    }
    g.webhooks.lease = chrono::Duration::seconds(args.webhook_lease_seconds as i64);
    let mail_line = configure_mail(&mut g, &args)?;
    let worker_options = crate::worker::WorkerOptions {
        poll: std::time::Duration::from_millis(args.worker_poll_ms),
        event_retention: chrono::Duration::days(args.event_retention_days as i64),
        ..Default::default()
    };
    let listener = TcpListener::bind(&args.bind)
        .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let options = HttpOptions {
        trust_forwarded_for: args.trust_forwarded_for,
        cors: Arc::new(args.cors_allowed_origins.clone()),
        public_url: args.public_url.clone(),
        metrics_token: args.metrics_token.clone(),
        draining: Arc::default(),
    };
    let draining = options.draining.clone();
    let drain_seconds = args.shutdown_drain_seconds;
    let housekeeping = g.clone();
    let mut server = HttpServer::new(move || api::app(g.clone(), options.clone()))
        .disable_signals()
        .shutdown_timeout(30);
    if let Some(workers) = args.workers {
        server = server.workers(workers.max(1));
    }
    let server = server
        .listen(listener)
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?
        .run();
    tracing::info!(
        "Guichet listening on http://{addr} (database: {database}; API docs: http://{addr}/docs/; e-mail: {mail_line})"
    );
    // The one background frame: outbox relay, SLA clock, purges.
    let worker = crate::worker::WorkerHandle::start(
        housekeeping,
        Arc::new(crate::worker::SystemClock),
        worker_options,
    );
    let handle = server.handle();
    actix_web::rt::spawn(async move {
        shutdown_signal().await;
        tracing::info!(
            drain.seconds = drain_seconds,
            "stopping: readiness is 503 and connections close while load balancers move away"
        );
        draining.store(true, std::sync::atomic::Ordering::Relaxed);
        tokio::time::sleep(std::time::Duration::from_secs(drain_seconds)).await;
        tracing::info!("shutting down: no new connections; finishing requests in flight");
        handle.stop(true).await;
    });
    let served = server.await.map_err(|e| e.to_string());
    tracing::info!("stopping the background worker: attempts in flight finish");
    worker.stop().await;
    served?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
