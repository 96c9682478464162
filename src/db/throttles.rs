//! Fixed-window counters shared by every instance through the database. Each statement is
//! atomic on its own, so they run outside of larger transactions.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::throttles;
use crate::error::Error;

/// Seconds until `key` may act again, if it is blocked now.
pub fn throttle_blocked(
    conn: &mut DbConn,
    key: &str,
    now: NaiveDateTime,
) -> Result<Option<u64>, Error> {
    let until: Option<Option<NaiveDateTime>> = throttles::table
        .find(key)
        .select(throttles::blocked_until)
        .first(conn)
        .optional()?;
    Ok(until.flatten().and_then(|until| seconds_until(now, until)))
}

/// Counts one hit for `key` in the current window of `window`; once the window holds `limit`
/// hits, blocks the key for `block`. Returns the seconds to wait when the key is blocked.
pub fn throttle_hit(
    conn: &mut DbConn,
    key: &str,
    now: NaiveDateTime,
    window: Duration,
    limit: u32,
    block: Duration,
) -> Result<Option<u64>, Error> {
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

    let (hits, blocked_until): (i32, Option<NaiveDateTime>) = throttles::table
        .find(key)
        .select((throttles::hits, throttles::blocked_until))
        .first(conn)?;
    if let Some(wait) = blocked_until.and_then(|u| seconds_until(now, u)) {
        return Ok(Some(wait));
    }
    if i64::from(hits) >= i64::from(limit) {
        let until = now + block;
        diesel::update(throttles::table.find(key))
            .set(throttles::blocked_until.eq(Some(until)))
            .execute(conn)?;
        return Ok(seconds_until(now, until));
    }
    Ok(None)
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
