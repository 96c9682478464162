//! The audit trail (`events`): append-only, enforced by triggers. Written only by the change
//! recorder (`service::record`); read a page at a time by a referral's, an inquiry's and the
//! platform's audit lists.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{events, inquiries, referrals};
use crate::domain::taxonomy::{ActorKind, AuditAction, AuditObjectType};
use crate::error::Error;

/// One audit row.
#[derive(Debug, Clone)]
pub struct AuditRow<'a> {
    pub inquiry_id: Option<&'a str>,
    pub referral_id: Option<&'a str>,
    pub institution_id: Option<&'a str>,
    pub actor_kind: &'a str,
    pub actor_id: Option<&'a str>,
    pub action: &'a str,
    pub from_value: Option<&'a str>,
    pub to_value: Option<&'a str>,
    pub at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, e: &AuditRow<'_>) -> Result<(), Error> {
    diesel::insert_into(events::table)
        .values((
            events::id.eq(crate::domain::new_id()),
            events::inquiry_id.eq(e.inquiry_id),
            events::referral_id.eq(e.referral_id),
            events::institution_id.eq(e.institution_id),
            events::actor_kind.eq(e.actor_kind),
            events::actor_id.eq(e.actor_id),
            events::action.eq(e.action),
            events::from_value.eq(e.from_value),
            events::to_value.eq(e.to_value),
            events::created_at.eq(e.at),
        ))
        .execute(conn)?;
    Ok(())
}

/// How many audit rows there are (tests: did an operation write one).
pub fn count(conn: &mut DbConn) -> Result<i64, Error> {
    Ok(events::table.count().get_result(conn)?)
}

/// One audit row as read back.
#[derive(Debug, Clone, Queryable)]
pub struct EventRow {
    pub id: String,
    pub inquiry_id: Option<String>,
    pub referral_id: Option<String>,
    pub institution_id: Option<String>,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub from_value: Option<String>,
    pub to_value: Option<String>,
    pub created_at: NaiveDateTime,
}

type EventColumns = (
    events::id,
    events::inquiry_id,
    events::referral_id,
    events::institution_id,
    events::actor_kind,
    events::actor_id,
    events::action,
    events::from_value,
    events::to_value,
    events::created_at,
);

const EVENT_COLUMNS: EventColumns = (
    events::id,
    events::inquiry_id,
    events::referral_id,
    events::institution_id,
    events::actor_kind,
    events::actor_id,
    events::action,
    events::from_value,
    events::to_value,
    events::created_at,
);

/// One page of a referral's audit trail, oldest first (ids are UUIDv7: creation order),
/// through the `(referral_id, id)` index.
pub fn referral_page(
    conn: &mut DbConn,
    referral_id: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<EventRow>, Error> {
    let mut query = events::table
        .filter(events::referral_id.eq(referral_id))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(events::id.gt(after.to_owned()));
    }
    Ok(query
        .order(events::id)
        .limit(limit)
        .select(EVENT_COLUMNS)
        .load(conn)?)
}

/// One page of an inquiry's audit trail, oldest first, through the `(inquiry_id, id)` index:
/// its own events and its referrals' events; with `institution`, its own and that
/// institution's referrals' events only.
pub fn inquiry_page(
    conn: &mut DbConn,
    inquiry_id: &str,
    institution: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<EventRow>, Error> {
    let mut query = events::table
        .filter(events::inquiry_id.eq(inquiry_id))
        .into_boxed();
    if let Some(inst) = institution {
        query = query.filter(
            events::referral_id
                .is_null()
                .or(events::institution_id.eq(inst.to_owned())),
        );
    }
    if let Some(after) = after {
        query = query.filter(events::id.gt(after.to_owned()));
    }
    Ok(query
        .order(events::id)
        .limit(limit)
        .select(EVENT_COLUMNS)
        .load(conn)?)
}

/// Where a page of the platform's audit starts: the time and id of the last record seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCursor {
    pub at: NaiveDateTime,
    pub id: String,
}

/// The platform-wide audit's filters, all optional and combined with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor_id: Option<String>,
    pub actor_kind: Option<ActorKind>,
    pub action: Option<AuditAction>,
    /// Rows naming an object of this type (with `object_id`: that object).
    pub object_type: Option<AuditObjectType>,
    /// With `object_type`, an object of that type; alone, whatever object has this id.
    pub object_id: Option<String>,
    /// `created_at` at or after.
    pub from: Option<NaiveDateTime>,
    /// `created_at` before.
    pub to: Option<NaiveDateTime>,
    /// Newest first: the page starts below this position.
    pub before: Option<AuditCursor>,
}

/// The type of the object an id names: an inquiry, else a referral, else an institution (ids
/// are UUIDs, unique across tables; institution ids are slugs).
fn object_type_of(conn: &mut DbConn, id: &str) -> Result<AuditObjectType, Error> {
    let inquiry: i64 = inquiries::table
        .filter(inquiries::id.eq(id))
        .count()
        .get_result(conn)?;
    if inquiry > 0 {
        return Ok(AuditObjectType::Inquiry);
    }
    let referral: i64 = referrals::table
        .filter(referrals::id.eq(id))
        .count()
        .get_result(conn)?;
    Ok(if referral > 0 {
        AuditObjectType::Referral
    } else {
        AuditObjectType::Institution
    })
}

/// One page of the whole audit, newest first by `(created_at, id)`, so that a period is one
/// index range. The filters with many rows per value (actor, action, institution) have an
/// index `(column, created_at, id)`, the others (an inquiry's, a referral's records) few rows
/// per value (migration `000020_audit_indexes`): a page reads one index range whatever the
/// table's size. Keyset pagination, never `OFFSET`.
pub fn audit_page(conn: &mut DbConn, f: &AuditFilter, limit: i64) -> Result<Vec<EventRow>, Error> {
    let mut query = events::table.into_boxed();
    if let Some(actor) = &f.actor_id {
        query = query.filter(events::actor_id.eq(actor.clone()));
    }
    if let Some(kind) = f.actor_kind {
        query = query.filter(events::actor_kind.eq(kind.as_str()));
    }
    if let Some(action) = f.action {
        query = query.filter(events::action.eq(action.as_str()));
    }
    // An id alone names one object: find its type first, so the filter is one indexed
    // column (an `OR` over three columns is a scan of the table on SQLite).
    let object_type = match (f.object_type, &f.object_id) {
        (None, Some(id)) => Some(object_type_of(conn, id)?),
        (given, _) => given,
    };
    match (object_type, &f.object_id) {
        (Some(AuditObjectType::Inquiry), Some(id)) => {
            query = query.filter(events::inquiry_id.eq(id.clone()));
        }
        (Some(AuditObjectType::Referral), Some(id)) => {
            query = query.filter(events::referral_id.eq(id.clone()));
        }
        (Some(AuditObjectType::Institution), Some(id)) => {
            query = query.filter(events::institution_id.eq(id.clone()));
        }
        (Some(AuditObjectType::Inquiry), None) => {
            query = query.filter(events::inquiry_id.is_not_null());
        }
        (Some(AuditObjectType::Referral), None) => {
            query = query.filter(events::referral_id.is_not_null());
        }
        (Some(AuditObjectType::Institution), None) => {
            query = query.filter(events::institution_id.is_not_null());
        }
        (None, _) => {}
    }
    if let Some(from) = f.from {
        query = query.filter(events::created_at.ge(from));
    }
    if let Some(to) = f.to {
        query = query.filter(events::created_at.lt(to));
    }
    if let Some(c) = &f.before {
        // `(created_at, id) < (at, id)`, written so that the first condition is an index
        // range (PostgreSQL does not read `a < x OR (a = x AND b < y)` as one).
        query = query
            .filter(events::created_at.le(c.at))
            .filter(events::created_at.lt(c.at).or(events::id.lt(c.id.clone())));
    }
    Ok(query
        .order((events::created_at.desc(), events::id.desc()))
        .limit(limit)
        .select(EVENT_COLUMNS)
        .load(conn)?)
}
