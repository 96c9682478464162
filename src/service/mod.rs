//! Use cases. Each public function authorizes the actor (through `authz`), runs its database
//! work in one transaction, and applies the domain rules. Handlers call nothing else.

pub mod audit;
pub mod auth;
pub mod authz;
pub mod events;
pub mod inquiries;
pub mod institutions;
pub mod mail;
pub mod notify;
pub mod record;
pub mod triage;
pub mod users;
pub mod webhooks;

use std::sync::Arc;

use crate::auth::password::Passwords;
use crate::auth::token::TokenKeys;
use crate::db::Db;

/// Limits a deployment may tune (flags and `GUICHET_*` variables, see README).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Failed logins on one account within the lockout window before it is throttled
    /// (a successful login clears the count).
    pub login_failures_per_account: u32,
    /// Failed logins from one client address, per window, before it is throttled.
    pub login_failures_per_address: u32,
    /// How long a throttled account or address waits, and the counting window.
    pub login_lockout_seconds: u64,
    /// How long a session lives after login (refreshing does not extend it).
    pub refresh_token_ttl_seconds: u64,
    /// Anonymous submissions per client address per minute.
    pub submissions_per_minute: u32,
    /// Failed tracking-token look-ups per client address per 10 minutes.
    pub tracking_failures_per_address: u32,
    /// Token refreshes per client address per minute.
    pub refreshes_per_minute: u32,
    /// Rows a CSV export reads from the database at a time.
    pub export_page_rows: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            login_failures_per_account: 10,
            login_failures_per_address: 100,
            login_lockout_seconds: 900,
            refresh_token_ttl_seconds: 30 * 24 * 3600,
            submissions_per_minute: 60,
            tracking_failures_per_address: 30,
            refreshes_per_minute: 60,
            export_page_rows: 500,
        }
    }
}

/// One rate limit as a client may see it (the `RateLimit-Policy` and `RateLimit` headers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quota {
    /// The policy's name, e.g. `login-account`, `submissions`.
    pub policy: &'static str,
    pub limit: u32,
    pub window_seconds: u64,
    pub remaining: u32,
    pub reset_seconds: u64,
}

impl Quota {
    fn of(
        policy: &'static str,
        limit: u32,
        window_seconds: u64,
        attempt: &crate::db::throttles::Attempt,
    ) -> Self {
        Quota {
            policy,
            limit,
            window_seconds,
            remaining: limit.saturating_sub(attempt.hits),
            reset_seconds: attempt.reset_seconds,
        }
    }
}

/// The caller of a throttled operation: its address, and where the quotas it used are left
/// for the HTTP layer to show.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub addr: String,
    pub quotas: Arc<std::sync::Mutex<Vec<Quota>>>,
}

impl Client {
    pub fn new(addr: impl Into<String>) -> Self {
        Client {
            addr: addr.into(),
            quotas: Default::default(),
        }
    }

    fn report(&self, quota: Quota) {
        if let Ok(mut quotas) = self.quotas.lock() {
            quotas.retain(|q| q.policy != quota.policy);
            quotas.push(quota);
        }
    }
}

/// Counts one call of `policy` from the client's address in a one-minute window before the work
/// it guards, reports the quota, and refuses the call (429) over `limit`.
pub(crate) async fn per_minute(
    g: &Guichet,
    client: &Client,
    policy: &'static str,
    limit: u32,
) -> Result<(), crate::error::Error> {
    let key = format!("{policy}:address:{}", client.addr);
    let attempt =
        g.db.run(move |conn| {
            let window = chrono::Duration::seconds(60);
            crate::db::throttles::throttle_attempt(
                conn,
                &key,
                crate::db::now(),
                window,
                limit,
                window,
            )
        })
        .await?;
    client.report(Quota::of(policy, limit, 60, &attempt));
    match attempt.retry_after {
        Some(retry_after) => {
            g.metrics.throttled(policy);
            Err(crate::error::Error::TooManyRequests { retry_after })
        }
        None => Ok(()),
    }
}

/// Everything a use case needs; cheap to clone, shared by every worker.
#[derive(Clone)]
pub struct Guichet {
    pub db: Db,
    pub tokens: Arc<TokenKeys>,
    pub passwords: Passwords,
    pub limits: Limits,
    /// Derives tracking tokens of idempotent submissions (see `service::inquiries`).
    pub tracking_key: Arc<[u8; 32]>,
    /// Counters for `GET /metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// How webhooks are delivered (address policy, timeout, concurrency, lease).
    pub webhooks: crate::service::webhooks::WebhookSettings,
    /// How e-mail is sent (transport, sender, links).
    pub mail: crate::service::mail::MailSettings,
    /// Derives the console's CSRF tokens (see `service::auth::csrf_token`).
    pub console_key: Arc<[u8; 32]>,
}

/// A page of a list: the items and where the next page starts (by default the last id).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T, C = String> {
    pub items: Vec<T>,
    /// The sort key of the last item of this page when there may be more.
    pub next_after: Option<C>,
}

impl<T, C> Page<T, C> {
    /// Builds a page from `limit + 1` rows fetched: the extra row only says there is more.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, id: impl Fn(&T) -> C) -> Self {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit.max(0) as usize);
        let next_after = if more { rows.last().map(&id) } else { None };
        Page {
            items: rows,
            next_after,
        }
    }
}

pub use crate::domain::new_id;

/// An id from a path that cannot name anything (not a UUID) is simply not found, before it
/// reaches the database (PostgreSQL refuses some bytes that SQLite stores).
pub fn known_uuid(id: &str, resource: &'static str) -> Result<(), crate::error::Error> {
    uuid::Uuid::parse_str(id)
        .map(|_| ())
        .map_err(|_| crate::error::Error::NotFound { resource })
}

/// Institution ids are slugs (`domain::institution::is_slug`).
pub fn known_slug(id: &str, resource: &'static str) -> Result<(), crate::error::Error> {
    if crate::domain::institution::is_slug(id) {
        Ok(())
    } else {
        Err(crate::error::Error::NotFound { resource })
    }
}

/// `GET /metrics`: the exposition text, if the caller presents the configured token (when
/// one is configured).
pub fn metrics_scrape(
    g: &Guichet,
    expected: Option<&str>,
    presented: Option<&str>,
) -> Result<String, crate::error::Error> {
    if let Some(expected) = expected
        && !presented
            .is_some_and(|p| crate::auth::constant_time_eq(p.as_bytes(), expected.as_bytes()))
    {
        return Err(crate::error::Error::invalid_token());
    }
    Ok(g.metrics.render(g.db.pool_state()))
}

/// Readiness: one round trip to the database; 503 when it cannot be reached.
pub async fn ready(g: &Guichet) -> Result<(), crate::error::Error> {
    use crate::error::Error;
    g.db.run(|conn| crate::db::ping(conn).map_err(Error::unavailable))
        .await
        .map_err(|e| match e {
            Error::Unavailable(c) | Error::Internal(c) => Error::Unavailable(c),
            other => other,
        })
}

/// An `If-Match` precondition: `*` (any current version) or one version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfMatch {
    Any,
    Version(i64),
}

impl IfMatch {
    pub fn matches(self, current: i64) -> bool {
        match self {
            IfMatch::Any => true,
            IfMatch::Version(v) => v == current,
        }
    }
}

/// Housekeeping: expired idempotency keys and stale throttle counters. Returns how many rows
/// of each went. Safe to run on every instance at once.
pub async fn purge_expired(g: &Guichet) -> Result<(usize, usize), crate::error::Error> {
    g.db.run(|conn| {
        let now = crate::db::now();
        Ok((
            crate::db::inquiries::idempotency_purge(conn, now)?,
            crate::db::throttles::throttles_purge(conn, now)?,
        ))
    })
    .await
}
