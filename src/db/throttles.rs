//! Fixed-window counters shared by every instance through the database. Each statement is
//! atomic on its own, so they run outside of larger transactions.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::throttles;
use crate::error::Error;

/// What one counted attempt found: how many attempts the window holds now (this one
/// included), when the window ends, and how long the key must wait if it is over its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    pub hits: u32,
    pub reset_seconds: u64,
    pub retry_after: Option<u64>,
}

/// Counts one attempt for `key` **before** the work it guards, so that a burst of parallel
/// attempts gets at most `limit` through: every attempt increments the counter atomically and
/// then reads it; the attempts that read more than `limit` are refused, and the key is blocked
/// for `block`. A key blocked earlier stays blocked until then.
pub fn throttle_attempt(
    conn: &mut DbConn,
    key: &str,
    now: NaiveDateTime,
    window: Duration,
    limit: u32,
    block: Duration,
) -> Result<Attempt, Error> {
    // A window that has expired (and is not blocking) starts over.
    diesel::update(
        throttles::table
            .find(key)
            .filter(throttles::window_started_at.le(now - window))
            .filter(
                throttles::blocked_until
                    .is_null()
                    .or(throttles::blocked_until.le(now)),
            ),
    )
    .set((
        throttles::hits.eq(0),
        throttles::window_started_at.eq(now),
        throttles::blocked_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;

    let mut updated = increment(conn, key)?;
    if updated == 0 {
        let inserted = diesel::insert_into(throttles::table)
            .values((
                throttles::key.eq(key),
                throttles::hits.eq(1),
                throttles::window_started_at.eq(now),
            ))
            .execute(conn);
        match inserted.map_err(Error::from) {
            Ok(n) => updated = n,
            // Another instance inserted the row first: count on it.
            Err(Error::Conflict { .. }) => updated = increment(conn, key)?,
            Err(e) => return Err(e),
        }
    }
    if updated == 0 {
        return Err(Error::internal("throttle row could not be written"));
    }

    let (hits, started, blocked_until): (i32, NaiveDateTime, Option<NaiveDateTime>) =
        throttles::table
            .find(key)
            .select((
                throttles::hits,
                throttles::window_started_at,
                throttles::blocked_until,
            ))
            .first(conn)?;
    let hits = u32::try_from(hits.max(0)).unwrap_or(u32::MAX);
    let reset_seconds = seconds_until(now, started + window).unwrap_or(0);
    if let Some(wait) = blocked_until.and_then(|u| seconds_until(now, u)) {
        return Ok(Attempt {
            hits,
            reset_seconds: reset_seconds.max(wait),
            retry_after: Some(wait),
        });
    }
    if hits > limit {
        let until = now + block;
        diesel::update(throttles::table.find(key))
            .set(throttles::blocked_until.eq(Some(until)))
            .execute(conn)?;
        let wait = seconds_until(now, until).unwrap_or(1);
        return Ok(Attempt {
            hits,
            reset_seconds: reset_seconds.max(wait),
            retry_after: Some(wait),
        });
    }
    Ok(Attempt {
        hits,
        reset_seconds,
        retry_after: None,
    })
}

/// Gives back one counted attempt that turned out fine (a right tracking token, a successful
/// login from an address), so that the counter keeps counting failures only.
pub fn throttle_refund(conn: &mut DbConn, key: &str) -> Result<(), Error> {
    diesel::update(throttles::table.find(key).filter(throttles::hits.gt(0)))
        .set(throttles::hits.eq(throttles::hits - 1))
        .execute(conn)?;
    Ok(())
}

fn increment(conn: &mut DbConn, key: &str) -> Result<usize, Error> {
    Ok(diesel::update(throttles::table.find(key))
        .set(throttles::hits.eq(throttles::hits + 1))
        .execute(conn)?)
}

/// Forgets `key` (a successful login clears its account's failures).
pub fn throttle_clear(conn: &mut DbConn, key: &str) -> Result<(), Error> {
    diesel::delete(throttles::table.find(key)).execute(conn)?;
    Ok(())
}

/// Whole seconds from `now` to `until`, rounded up; `None` when `until` has passed.
fn seconds_until(now: NaiveDateTime, until: NaiveDateTime) -> Option<u64> {
    let ms = (until - now).num_milliseconds();
    (ms > 0).then(|| (ms as u64).div_ceil(1000))
}

/// Forgets counters whose window ended long ago and that block nobody.
pub fn throttles_purge(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize, Error> {
    Ok(diesel::delete(
        throttles::table
            .filter(throttles::window_started_at.le(now - Duration::days(1)))
            .filter(
                throttles::blocked_until
                    .is_null()
                    .or(throttles::blocked_until.le(now)),
            ),
    )
    .execute(conn)?)
}
