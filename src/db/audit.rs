//! The audit trail (`events`): append-only, enforced by triggers. Written only by the change
//! recorder (`service::record`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::events;
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
