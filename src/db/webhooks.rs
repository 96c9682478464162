//! Webhook endpoints, deliveries (the outbox proper) and attempts, and the leased claims
//! through which workers on several instances share the deliveries.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use crate::db::DbConn;
use crate::db::schema::{outbox_events, webhook_attempts, webhook_deliveries, webhook_endpoints};
use crate::domain::event::DisabledReason;
use crate::domain::taxonomy::EventType;
use crate::domain::webhook::{Attempt, AttemptOutcome, Delivery, DeliveryStatus, Endpoint};
use crate::error::Error;

type EndpointRow = (
    String,
    Option<String>,
    String,
    String,
    String,
    bool,
    Option<String>,
    Option<NaiveDateTime>,
    i32,
    NaiveDateTime,
    NaiveDateTime,
);

macro_rules! endpoint_columns {
    () => {
        (
            webhook_endpoints::id,
            webhook_endpoints::institution_id,
            webhook_endpoints::url,
            webhook_endpoints::description,
            webhook_endpoints::event_types,
            webhook_endpoints::enabled,
            webhook_endpoints::disabled_reason,
            webhook_endpoints::failing_since,
            webhook_endpoints::version,
            webhook_endpoints::created_at,
            webhook_endpoints::updated_at,
        )
    };
}

fn event_types_of(stored: &str) -> Result<Vec<EventType>, Error> {
    let names: Vec<String> = serde_json::from_str(stored)
        .map_err(|e| Error::internal(format!("stored event types unreadable: {e}")))?;
    names
        .iter()
        .map(|n| {
            n.parse()
                .map_err(|_| Error::internal(format!("stored event type `{n}` unknown")))
        })
        .collect()
}

fn event_types_text(types: &[EventType]) -> Result<String, Error> {
    serde_json::to_string(&types.iter().map(|t| t.as_str()).collect::<Vec<_>>())
        .map_err(Error::internal)
}

fn endpoint_of(row: EndpointRow) -> Result<Endpoint, Error> {
    let (
        id,
        institution_id,
        url,
        description,
        types,
        enabled,
        reason,
        failing_since,
        version,
        created_at,
        updated_at,
    ) = row;
    Ok(Endpoint {
        id,
        institution_id,
        url,
        description,
        event_types: event_types_of(&types)?,
        enabled,
        disabled_reason: reason.as_deref().and_then(DisabledReason::parse),
        failing_since,
        version,
        created_at,
        updated_at,
    })
}

pub fn endpoint_insert(
    conn: &mut DbConn,
    e: &Endpoint,
    secret: &str,
    created_by: Option<&str>,
) -> Result<(), Error> {
    diesel::insert_into(webhook_endpoints::table)
        .values((
            webhook_endpoints::id.eq(&e.id),
            webhook_endpoints::institution_id.eq(&e.institution_id),
            webhook_endpoints::url.eq(&e.url),
            webhook_endpoints::description.eq(&e.description),
            webhook_endpoints::event_types.eq(event_types_text(&e.event_types)?),
            webhook_endpoints::enabled.eq(e.enabled),
            webhook_endpoints::disabled_reason.eq(e.disabled_reason.map(|r| r.as_str())),
            webhook_endpoints::secret.eq(secret),
            webhook_endpoints::version.eq(e.version),
            webhook_endpoints::created_by.eq(created_by),
            webhook_endpoints::created_at.eq(e.created_at),
            webhook_endpoints::updated_at.eq(e.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// An endpoint that was not deleted.
pub fn endpoint_get(conn: &mut DbConn, id: &str) -> Result<Option<Endpoint>, Error> {
    webhook_endpoints::table
        .find(id)
        .filter(webhook_endpoints::deleted_at.is_null())
        .select(endpoint_columns!())
        .first::<EndpointRow>(conn)
        .optional()?
        .map(endpoint_of)
        .transpose()
}

/// Which endpoints a list shows.
#[derive(Debug, Clone, Copy)]
pub enum EndpointScope<'a> {
    /// One institution's.
    Institution(&'a str),
    /// The platform-wide ones.
    Platform,
    /// All of them (operators).
    All,
}

pub fn endpoint_list(
    conn: &mut DbConn,
    scope: EndpointScope<'_>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Endpoint>, Error> {
    let mut query = webhook_endpoints::table
        .filter(webhook_endpoints::deleted_at.is_null())
        .select(endpoint_columns!())
        .order(webhook_endpoints::id)
        .limit(limit)
        .into_boxed();
    match scope {
        EndpointScope::Institution(id) => {
            query = query.filter(webhook_endpoints::institution_id.eq(id.to_owned()))
        }
        EndpointScope::Platform => {
            query = query.filter(webhook_endpoints::institution_id.is_null())
        }
        EndpointScope::All => {}
    }
    if let Some(after) = after {
        query = query.filter(webhook_endpoints::id.gt(after.to_owned()));
    }
    query
        .load::<EndpointRow>(conn)?
        .into_iter()
        .map(endpoint_of)
        .collect()
}

/// Saves the editable fields if the stored version is still `expected`.
pub fn endpoint_save(conn: &mut DbConn, e: &Endpoint, expected: i32) -> Result<bool, Error> {
    let n = diesel::update(
        webhook_endpoints::table
            .find(&e.id)
            .filter(webhook_endpoints::version.eq(expected))
            .filter(webhook_endpoints::deleted_at.is_null()),
    )
    .set((
        webhook_endpoints::url.eq(&e.url),
        webhook_endpoints::description.eq(&e.description),
        webhook_endpoints::event_types.eq(event_types_text(&e.event_types)?),
        webhook_endpoints::enabled.eq(e.enabled),
        webhook_endpoints::disabled_reason.eq(e.disabled_reason.map(|r| r.as_str())),
        webhook_endpoints::failing_since.eq(e.failing_since),
        webhook_endpoints::version.eq(e.version),
        webhook_endpoints::updated_at.eq(e.updated_at),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn endpoint_delete(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> Result<(), Error> {
    diesel::update(webhook_endpoints::table.find(id))
        .set((
            webhook_endpoints::deleted_at.eq(Some(now)),
            webhook_endpoints::enabled.eq(false),
            webhook_endpoints::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The secrets that sign a delivery now: the current one, and the previous one while its
/// grace period lasts.
pub fn endpoint_secrets(
    conn: &mut DbConn,
    id: &str,
    now: NaiveDateTime,
) -> Result<Vec<String>, Error> {
    let (current, previous, until): (String, Option<String>, Option<NaiveDateTime>) =
        webhook_endpoints::table
            .find(id)
            .select((
                webhook_endpoints::secret,
                webhook_endpoints::previous_secret,
                webhook_endpoints::previous_secret_expires_at,
            ))
            .first(conn)?;
    let mut out = vec![current];
    if let (Some(p), Some(until)) = (previous, until)
        && until > now
    {
        out.push(p);
    }
    Ok(out)
}

/// Replaces the secret; the old one keeps signing until `keep_until`.
pub fn endpoint_rotate(
    conn: &mut DbConn,
    id: &str,
    new_secret: &str,
    now: NaiveDateTime,
    keep_until: NaiveDateTime,
) -> Result<(), Error> {
    let current: String = webhook_endpoints::table
        .find(id)
        .select(webhook_endpoints::secret)
        .first(conn)?;
    diesel::update(webhook_endpoints::table.find(id))
        .set((
            webhook_endpoints::secret.eq(new_secret),
            webhook_endpoints::previous_secret.eq(Some(current)),
            webhook_endpoints::previous_secret_expires_at.eq(Some(keep_until)),
            webhook_endpoints::version.eq(webhook_endpoints::version + 1),
            webhook_endpoints::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// After a failed attempt: starts the run of failures if none is running; returns when it began.
pub fn endpoint_failing(
    conn: &mut DbConn,
    id: &str,
    now: NaiveDateTime,
) -> Result<NaiveDateTime, Error> {
    diesel::update(
        webhook_endpoints::table
            .find(id)
            .filter(webhook_endpoints::failing_since.is_null()),
    )
    .set(webhook_endpoints::failing_since.eq(Some(now)))
    .execute(conn)?;
    let since: Option<NaiveDateTime> = webhook_endpoints::table
        .find(id)
        .select(webhook_endpoints::failing_since)
        .first(conn)?;
    Ok(since.unwrap_or(now))
}

/// After a success: the run of failures is over.
pub fn endpoint_succeeded(conn: &mut DbConn, id: &str) -> Result<(), Error> {
    diesel::update(
        webhook_endpoints::table
            .find(id)
            .filter(webhook_endpoints::failing_since.is_not_null()),
    )
    .set(webhook_endpoints::failing_since.eq(None::<NaiveDateTime>))
    .execute(conn)?;
    Ok(())
}

/// The enabled endpoints that want an event of `event_type` about `institution_id`: that
/// institution's, and the platform-wide ones.
pub fn subscribers(
    conn: &mut DbConn,
    institution_id: Option<&str>,
    event_type: EventType,
) -> Result<Vec<String>, Error> {
    let mut query = webhook_endpoints::table
        .filter(webhook_endpoints::enabled.eq(true))
        .filter(webhook_endpoints::deleted_at.is_null())
        .select((webhook_endpoints::id, webhook_endpoints::event_types))
        .order(webhook_endpoints::id)
        .into_boxed();
    query = match institution_id {
        Some(inst) => query.filter(
            webhook_endpoints::institution_id
                .eq(inst.to_owned())
                .or(webhook_endpoints::institution_id.is_null()),
        ),
        None => query.filter(webhook_endpoints::institution_id.is_null()),
    };
    let rows: Vec<(String, String)> = query.load(conn)?;
    let mut out = Vec::new();
    for (id, types) in rows {
        if crate::domain::webhook::wants(&event_types_of(&types)?, event_type) {
            out.push(id);
        }
    }
    Ok(out)
}

pub fn delivery_insert(
    conn: &mut DbConn,
    endpoint_id: &str,
    event_seq: i64,
    now: NaiveDateTime,
) -> Result<String, Error> {
    let id = crate::domain::new_id();
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::id.eq(&id),
            webhook_deliveries::endpoint_id.eq(endpoint_id),
            webhook_deliveries::event_seq.eq(event_seq),
            webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()),
            webhook_deliveries::attempts.eq(0),
            webhook_deliveries::next_attempt_at.eq(now),
            webhook_deliveries::created_at.eq(now),
            webhook_deliveries::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(id)
}

/// A delivery a worker holds a lease on, with what it needs to send it.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub delivery_id: String,
    pub endpoint_id: String,
    pub institution_id: Option<String>,
    pub url: String,
    pub event_id: String,
    pub payload: String,
    pub attempts: i32,
}

type ClaimRow = (String, String, Option<String>, String, String, String, i32);

/// Leases up to `limit` due deliveries of enabled endpoints to `token` until `lease_until`,
/// first attempts before retries (so an endpoint that keeps failing never holds up the first
/// attempts of the others), then the longest waiting.
/// The update re-checks the lease on each row, so two workers never hold the same delivery; on
/// PostgreSQL the candidates are picked with `FOR UPDATE SKIP LOCKED`, so concurrent workers
/// take different rows instead of queueing behind each other.
pub fn claim(
    conn: &mut DbConn,
    token: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> Result<Vec<Claimed>, Error> {
    const DUE: &str = "d.status = 'pending' AND d.next_attempt_at <= {now} \
        AND (d.lease_expires_at IS NULL OR d.lease_expires_at < {now})";
    match conn {
        DbConn::Pg(c) => {
            let due = DUE.replace("{now}", "$3");
            // A materialized CTE: as a plain `IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)`
            // subquery, the planner may run the subquery more than once and lease more than
            // `limit` rows.
            diesel::sql_query(format!(
                "WITH picked AS MATERIALIZED (SELECT d.id FROM webhook_deliveries AS d \
                   JOIN webhook_endpoints AS e ON e.id = d.endpoint_id \
                   WHERE {due} AND e.enabled AND e.deleted_at IS NULL \
                   ORDER BY d.attempts > 0, d.next_attempt_at LIMIT $4 FOR UPDATE OF d SKIP LOCKED) \
                 UPDATE webhook_deliveries AS d SET lease_token = $1, lease_expires_at = $2 \
                 FROM picked WHERE d.id = picked.id AND {due}"
            ))
            .bind::<Text, _>(token)
            .bind::<Timestamp, _>(lease_until)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(limit)
            .execute(c)?
        }
        DbConn::Sqlite(c) => {
            let due = DUE.replace("{now}", "?3");
            diesel::sql_query(format!(
                "UPDATE webhook_deliveries AS d SET lease_token = ?1, lease_expires_at = ?2 \
                 WHERE d.id IN (SELECT d.id FROM webhook_deliveries AS d \
                   JOIN webhook_endpoints AS e ON e.id = d.endpoint_id \
                   WHERE {due} AND e.enabled AND e.deleted_at IS NULL \
                   ORDER BY d.attempts > 0, d.next_attempt_at LIMIT ?4) \
                 AND {due}"
            ))
            .bind::<Text, _>(token)
            .bind::<Timestamp, _>(lease_until)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(limit)
            .execute(c)?
        }
    };
    let rows: Vec<ClaimRow> = webhook_deliveries::table
        .inner_join(webhook_endpoints::table)
        .inner_join(outbox_events::table)
        .filter(webhook_deliveries::lease_token.eq(token))
        .select((
            webhook_deliveries::id,
            webhook_deliveries::endpoint_id,
            webhook_endpoints::institution_id,
            webhook_endpoints::url,
            outbox_events::id,
            outbox_events::payload,
            webhook_deliveries::attempts,
        ))
        .order(webhook_deliveries::next_attempt_at)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(delivery_id, endpoint_id, institution_id, url, event_id, payload, attempts)| {
                Claimed {
                    delivery_id,
                    endpoint_id,
                    institution_id,
                    url,
                    event_id,
                    payload,
                    attempts,
                }
            },
        )
        .collect())
}

pub fn attempt_insert(conn: &mut DbConn, a: &Attempt) -> Result<(), Error> {
    diesel::insert_into(webhook_attempts::table)
        .values((
            webhook_attempts::id.eq(&a.id),
            webhook_attempts::delivery_id.eq(&a.delivery_id),
            webhook_attempts::attempted_at.eq(a.attempted_at),
            webhook_attempts::duration_ms.eq(a.duration_ms),
            webhook_attempts::status_code.eq(a.status_code),
            webhook_attempts::outcome.eq(a.outcome.as_str()),
            webhook_attempts::error.eq(&a.error),
            webhook_attempts::response_excerpt.eq(&a.response_excerpt),
        ))
        .execute(conn)?;
    Ok(())
}

/// What an attempt leaves on its delivery.
pub struct Finish<'a> {
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub status_code: Option<i32>,
    pub error: Option<&'a str>,
    pub now: NaiveDateTime,
}

/// Records the end of an attempt and ends the lease, if `token` still holds it. `false`: the
/// lease was lost (expired and taken over); the caller's result is dropped.
pub fn delivery_finish(
    conn: &mut DbConn,
    delivery_id: &str,
    token: &str,
    f: &Finish<'_>,
) -> Result<bool, Error> {
    let n = diesel::update(
        webhook_deliveries::table
            .find(delivery_id)
            .filter(webhook_deliveries::lease_token.eq(token)),
    )
    .set((
        webhook_deliveries::status.eq(f.status.as_str()),
        webhook_deliveries::attempts.eq(f.attempts),
        webhook_deliveries::next_attempt_at.eq(f.next_attempt_at),
        webhook_deliveries::last_status_code.eq(f.status_code),
        webhook_deliveries::last_error.eq(f.error),
        webhook_deliveries::lease_token.eq(None::<String>),
        webhook_deliveries::lease_expires_at.eq(None::<NaiveDateTime>),
        webhook_deliveries::updated_at.eq(f.now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Fails every pending delivery of a disabled or deleted endpoint.
pub fn deliveries_fail_pending(
    conn: &mut DbConn,
    endpoint_id: &str,
    why: &str,
    now: NaiveDateTime,
) -> Result<usize, Error> {
    Ok(diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
            .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str())),
    )
    .set((
        webhook_deliveries::status.eq(DeliveryStatus::Failed.as_str()),
        webhook_deliveries::last_error.eq(Some(why)),
        webhook_deliveries::updated_at.eq(now),
    ))
    .execute(conn)?)
}

/// Makes the failed deliveries of an endpoint pending again, with a fresh schedule.
pub fn deliveries_replay(
    conn: &mut DbConn,
    endpoint_id: &str,
    now: NaiveDateTime,
) -> Result<usize, Error> {
    Ok(diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
            .filter(webhook_deliveries::status.eq(DeliveryStatus::Failed.as_str())),
    )
    .set((
        webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()),
        webhook_deliveries::attempts.eq(0),
        webhook_deliveries::next_attempt_at.eq(now),
        webhook_deliveries::updated_at.eq(now),
    ))
    .execute(conn)?)
}

/// Makes one delivery pending again now (whatever its status), keeping its attempts' count.
pub fn delivery_resend(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> Result<(), Error> {
    diesel::update(webhook_deliveries::table.find(id))
        .set((
            webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()),
            webhook_deliveries::next_attempt_at.eq(now),
            webhook_deliveries::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

type DeliveryRow = (
    String,
    String,
    String,
    String,
    String,
    i32,
    NaiveDateTime,
    Option<i32>,
    Option<String>,
    NaiveDateTime,
    NaiveDateTime,
);

macro_rules! delivery_columns {
    () => {
        (
            webhook_deliveries::id,
            webhook_deliveries::endpoint_id,
            outbox_events::id,
            outbox_events::event_type,
            webhook_deliveries::status,
            webhook_deliveries::attempts,
            webhook_deliveries::next_attempt_at,
            webhook_deliveries::last_status_code,
            webhook_deliveries::last_error,
            webhook_deliveries::created_at,
            webhook_deliveries::updated_at,
        )
    };
}

fn delivery_of(row: DeliveryRow) -> Result<Delivery, Error> {
    let (
        id,
        endpoint_id,
        event_id,
        event_type,
        status,
        attempts,
        next_attempt_at,
        last_status_code,
        last_error,
        created_at,
        updated_at,
    ) = row;
    Ok(Delivery {
        id,
        endpoint_id,
        event_id,
        event_type: event_type
            .parse()
            .map_err(|_| Error::internal(format!("stored event type `{event_type}` unknown")))?,
        status: DeliveryStatus::parse(&status)
            .ok_or_else(|| Error::internal(format!("stored delivery status `{status}` unknown")))?,
        attempts,
        next_attempt_at,
        last_status_code,
        last_error,
        created_at,
        updated_at,
    })
}

pub fn delivery_get(conn: &mut DbConn, id: &str) -> Result<Option<Delivery>, Error> {
    webhook_deliveries::table
        .inner_join(outbox_events::table)
        .filter(webhook_deliveries::id.eq(id))
        .select(delivery_columns!())
        .first::<DeliveryRow>(conn)
        .optional()?
        .map(delivery_of)
        .transpose()
}

/// An endpoint's deliveries, newest first.
pub fn deliveries_list(
    conn: &mut DbConn,
    endpoint_id: &str,
    status: Option<DeliveryStatus>,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<Delivery>, Error> {
    let mut query = webhook_deliveries::table
        .inner_join(outbox_events::table)
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id.to_owned()))
        .select(delivery_columns!())
        .order(webhook_deliveries::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(s) = status {
        query = query.filter(webhook_deliveries::status.eq(s.as_str()));
    }
    if let Some(before) = before {
        query = query.filter(webhook_deliveries::id.lt(before.to_owned()));
    }
    query
        .load::<DeliveryRow>(conn)?
        .into_iter()
        .map(delivery_of)
        .collect()
}

type AttemptRow = (
    String,
    String,
    NaiveDateTime,
    i64,
    Option<i32>,
    String,
    Option<String>,
    String,
);

/// The attempts of a delivery, oldest first (at most the schedule's length plus re-sends).
pub fn attempts_of(
    conn: &mut DbConn,
    delivery_id: &str,
    limit: i64,
) -> Result<Vec<Attempt>, Error> {
    let rows: Vec<AttemptRow> = webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq(delivery_id))
        .select((
            webhook_attempts::id,
            webhook_attempts::delivery_id,
            webhook_attempts::attempted_at,
            webhook_attempts::duration_ms,
            webhook_attempts::status_code,
            webhook_attempts::outcome,
            webhook_attempts::error,
            webhook_attempts::response_excerpt,
        ))
        .order((webhook_attempts::attempted_at, webhook_attempts::id))
        .limit(limit)
        .load(conn)?;
    rows.into_iter()
        .map(
            |(id, delivery_id, attempted_at, duration_ms, status_code, outcome, error, excerpt)| {
                Ok(Attempt {
                    id,
                    delivery_id,
                    attempted_at,
                    duration_ms,
                    status_code,
                    outcome: AttemptOutcome::parse(&outcome).ok_or_else(|| {
                        Error::internal(format!("stored attempt outcome `{outcome}` unknown"))
                    })?,
                    error,
                    response_excerpt: excerpt,
                })
            },
        )
        .collect()
}
