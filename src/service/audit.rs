//! The audit trail, read: an inquiry's (operators, and staff of an institution that holds one
//! of its referrals, who see only their own referrals' records) and the whole platform's
//! (operators). A referral's own trail is `triage::referral_events`.

use crate::db::audit;
pub use crate::db::audit::{AuditCursor, AuditFilter, EventRow};
use crate::db::inquiries as store;
use crate::domain::account::Staff;
use crate::error::Error;
use crate::service::authz::{inquiry_audit_scope, operator_only};
use crate::service::{Guichet, Page, known_uuid};

/// `GET /v1/inquiries/{id}/events`: oldest first.
pub async fn inquiry_event_list(
    g: &Guichet,
    actor: &Staff,
    inquiry_id: &str,
    after: Option<String>,
    limit: i64,
) -> Result<Page<EventRow>, Error> {
    known_uuid(inquiry_id, "inquiry")?;
    let (actor, id) = (actor.clone(), inquiry_id.to_owned());
    g.db.run(move |conn| {
        if store::inquiry_get(conn, &id)?.is_none() {
            return Err(Error::NotFound {
                resource: "inquiry",
            });
        }
        let holders: Vec<String> = store::referrals_of_inquiry(conn, &id)?
            .into_iter()
            .map(|r| r.institution_id)
            .collect();
        let scope = inquiry_audit_scope(&actor, &holders)?;
        let rows = audit::inquiry_page(conn, &id, scope, after.as_deref(), limit + 1)?;
        Ok(Page::from_rows(rows, limit, |e| e.id.clone()))
    })
    .await
}

/// `GET /v1/audit`: every record of the platform, newest first, filtered. Operators only.
pub async fn audit_list(
    g: &Guichet,
    actor: &Staff,
    filter: AuditFilter,
    limit: i64,
) -> Result<Page<EventRow, AuditCursor>, Error> {
    operator_only(actor)?;
    g.db.run(move |conn| {
        let rows = audit::audit_page(conn, &filter, limit + 1)?;
        Ok(Page::from_rows(rows, limit, |e| AuditCursor {
            at: e.created_at,
            id: e.id.clone(),
        }))
    })
    .await
}
