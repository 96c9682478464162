//! The feed (`outbox_events`): one row per published change, read in commit order.
//!
//! Commit order, not id order: a UUIDv7 (or a sequence value) is taken before its transaction
//! commits, so two transactions can commit in the opposite order of their ids, and a reader that
//! had passed the later id would skip the earlier one for ever.
//! - PostgreSQL: each row carries its writing transaction's id (`pg_current_xact_id()`); the
//!   feed is ordered by `(tx_id, seq)` and reads only rows whose transaction is older than the
//!   oldest one still running (`pg_snapshot_xmin`). Everything below that horizon is final, so a
//!   cursor never passes a row that can still appear.
//! - SQLite: one writer at a time, and `seq` is taken inside the write transaction, so `seq` is
//!   commit order; `tx_id` is 0.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamp};

use crate::db::DbConn;
use crate::db::schema::{outbox_events, webhook_attempts, webhook_deliveries};
use crate::error::Error;

/// A published change, as the recorder writes it.
pub struct NewEvent<'a> {
    pub id: &'a str,
    pub event_type: &'a str,
    pub institution_id: Option<&'a str>,
    pub inquiry_id: Option<&'a str>,
    pub referral_id: Option<&'a str>,
    pub in_feed: bool,
    /// The whole envelope, as JSON.
    pub payload: &'a str,
    pub at: NaiveDateTime,
}

#[derive(QueryableByName)]
struct Inserted {
    #[diesel(sql_type = BigInt)]
    seq: i64,
}

/// Inserts the row and returns its `seq`.
pub fn event_insert(conn: &mut DbConn, e: &NewEvent<'_>) -> Result<i64, Error> {
    const COLUMNS: &str = "tx_id, id, event_type, institution_id, inquiry_id, referral_id, in_feed, payload, created_at";
    let row: Inserted = match conn {
        DbConn::Pg(c) => diesel::sql_query(format!(
            "INSERT INTO outbox_events ({COLUMNS}) VALUES (pg_current_xact_id()::text::bigint, $1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq"
        ))
        .bind::<Text, _>(e.id)
        .bind::<Text, _>(e.event_type)
        .bind::<Nullable<Text>, _>(e.institution_id)
        .bind::<Nullable<Text>, _>(e.inquiry_id)
        .bind::<Nullable<Text>, _>(e.referral_id)
        .bind::<Bool, _>(e.in_feed)
        .bind::<Text, _>(e.payload)
        .bind::<Timestamp, _>(e.at)
        .get_result(c)?,
        DbConn::Sqlite(c) => diesel::sql_query(format!(
            "INSERT INTO outbox_events ({COLUMNS}) VALUES (0, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq"
        ))
        .bind::<Text, _>(e.id)
        .bind::<Text, _>(e.event_type)
        .bind::<Nullable<Text>, _>(e.institution_id)
        .bind::<Nullable<Text>, _>(e.inquiry_id)
        .bind::<Nullable<Text>, _>(e.referral_id)
        .bind::<Bool, _>(e.in_feed)
        .bind::<Text, _>(e.payload)
        .bind::<Timestamp, _>(e.at)
        .get_result(c)?,
    };
    Ok(row.seq)
}

/// A position in the feed: the last row read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    pub tx_id: i64,
    pub seq: i64,
}

/// Who reads the feed: one institution's rows, or every row (operators).
#[derive(Debug, Clone, Copy)]
pub enum FeedScope<'a> {
    Institution(&'a str),
    Everything,
}

/// Up to `limit` rows after `after`, in commit order: their positions and envelopes.
pub fn feed(
    conn: &mut DbConn,
    scope: FeedScope<'_>,
    after: Position,
    types: &[String],
    limit: i64,
) -> Result<Vec<(Position, String)>, Error> {
    let mut query = outbox_events::table
        .filter(outbox_events::in_feed.eq(true))
        .filter(
            outbox_events::tx_id.gt(after.tx_id).or(outbox_events::tx_id
                .eq(after.tx_id)
                .and(outbox_events::seq.gt(after.seq))),
        )
        .select((
            outbox_events::tx_id,
            outbox_events::seq,
            outbox_events::payload,
        ))
        .order((outbox_events::tx_id, outbox_events::seq))
        .limit(limit)
        .into_boxed();
    if let FeedScope::Institution(id) = scope {
        query = query.filter(outbox_events::institution_id.eq(id.to_owned()));
    }
    if !types.is_empty() {
        query = query.filter(outbox_events::event_type.eq_any(types.to_vec()));
    }
    if matches!(conn, DbConn::Pg(_)) {
        // Only what no running transaction can still add to.
        query = query.filter(outbox_events::tx_id.lt(diesel::dsl::sql::<BigInt>(
            "pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
        )));
    }
    let rows: Vec<(i64, i64, String)> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(tx_id, seq, payload)| (Position { tx_id, seq }, payload))
        .collect())
}

/// Forgets events older than `before` whose deliveries are all finished, with those
/// deliveries and their attempts. Returns how many events went.
pub fn purge(conn: &mut DbConn, before: NaiveDateTime, batch: i64) -> Result<usize, Error> {
    let old: Vec<i64> = outbox_events::table
        .filter(outbox_events::created_at.lt(before))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            webhook_deliveries::table
                .filter(webhook_deliveries::event_seq.eq(outbox_events::seq))
                .filter(webhook_deliveries::status.eq("pending")),
        )))
        .select(outbox_events::seq)
        .order(outbox_events::seq)
        .limit(batch)
        .load(conn)?;
    if old.is_empty() {
        return Ok(0);
    }
    let deliveries = webhook_deliveries::table
        .filter(webhook_deliveries::event_seq.eq_any(old.clone()))
        .select(webhook_deliveries::id);
    diesel::delete(
        webhook_attempts::table.filter(webhook_attempts::delivery_id.eq_any(deliveries)),
    )
    .execute(conn)?;
    diesel::delete(
        webhook_deliveries::table.filter(webhook_deliveries::event_seq.eq_any(old.clone())),
    )
    .execute(conn)?;
    Ok(
        diesel::delete(outbox_events::table.filter(outbox_events::seq.eq_any(old)))
            .execute(conn)?,
    )
}
