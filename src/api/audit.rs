//! The audit trail: an inquiry's (`/v1/inquiries/{inquiry_id}/events`) and the platform's
//! (`/v1/audit`). A referral's is in `referrals.rs`.

use actix_web::{get, web};
use chrono::{DateTime, Datelike, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::api::extract::{PageQuery, encode_cursor, invalid_cursor, page_limit};
use crate::api::views::EventList;
use crate::domain::account::Staff;
use crate::domain::taxonomy::{ActorKind, AuditAction, AuditObjectType};
use crate::error::Error;
use crate::service::audit::{AuditCursor, AuditFilter};
use crate::service::{self, Guichet};

/// The longest `actor_id` or `object_id` (ids are UUIDs or institution slugs).
const ID_MAX: usize = 64;

/// Read an inquiry's audit trail
///
/// Every record of the inquiry, oldest first: its own (submitted, routed, withdrawn) and its
/// referrals'. Operators read all of it; staff of an institution that holds one of its
/// referrals read the inquiry's own records and their institution's referrals' records, never
/// another institution's; anyone else gets a 404.
#[utoipa::path(
    operation_id = "inquiry_event_list",
    tag = "audit",
    params(("inquiry_id" = String, Path, description = "Inquiry id."), PageQuery),
    responses(
        (status = 200, description = "A page of the inquiry's audit trail.", body = EventList),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[get("/inquiries/{inquiry_id}/events")]
pub async fn inquiry_event_list(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<EventList>, Error> {
    let (limit, after) = query.resolve()?;
    let page = service::audit::inquiry_event_list(&g, &actor, &path, after, limit).await?;
    Ok(web::Json(EventList {
        next_cursor: page.next_after.as_deref().map(encode_cursor),
        items: page.items.into_iter().map(Into::into).collect(),
    }))
}

/// Filters and page of the platform's audit.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Records made by this staff account (`actor_id` of the records).
    #[param(min_length = 1, max_length = 64)]
    pub actor_id: Option<String>,
    /// Records made by this kind of actor.
    pub actor_kind: Option<ActorKind>,
    /// Records of this action.
    pub action: Option<AuditAction>,
    /// Records about an object of this type: `inquiry` (its own records and its referrals'),
    /// `referral` or `institution` (its referrals', contacts', accounts', profile's and
    /// endpoints' records). With `object_id`, about that object.
    pub object_type: Option<AuditObjectType>,
    /// Records about this object: with `object_type`, of that type; alone, of any type.
    #[param(min_length = 1, max_length = 64)]
    pub object_id: Option<String>,
    /// Made at or after this time (RFC 3339, years 0000 to 9999).
    #[serde(default, deserialize_with = "crate::api::extract::rfc3339")]
    #[param(pattern = r"^[0-9]{4}-")]
    pub from: Option<DateTime<Utc>>,
    /// Made before this time (RFC 3339, years 0000 to 9999).
    #[serde(default, deserialize_with = "crate::api::extract::rfc3339")]
    #[param(pattern = r"^[0-9]{4}-")]
    pub to: Option<DateTime<Utc>>,
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

fn id_filter(name: &str, value: &Option<String>) -> Result<Option<String>, Error> {
    match value {
        None => Ok(None),
        Some(v) if v.is_empty() || v.chars().count() > ID_MAX => Err(Error::BadRequest {
            code: "invalid_query",
            detail: format!("`{name}` is 1 to {ID_MAX} characters.").into(),
        }),
        Some(v) => Ok(Some(v.clone())),
    }
}

/// The platform audit's cursor: base64url of `<microseconds>|<id>` of the last record seen.
fn encode_audit_cursor(c: &AuditCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{}", c.at.and_utc().timestamp_micros(), c.id))
}

fn decode_audit_cursor(s: &str) -> Result<AuditCursor, Error> {
    let text = URL_SAFE_NO_PAD
        .decode(s)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(invalid_cursor)?;
    let (micros, id) = text.split_once('|').ok_or_else(invalid_cursor)?;
    // Only times both databases store (PostgreSQL refuses years past 294276 that chrono makes).
    let at = micros
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .filter(|t| (0..=9999).contains(&t.year()))
        .ok_or_else(invalid_cursor)?
        .naive_utc();
    uuid::Uuid::parse_str(id).map_err(|_| invalid_cursor())?;
    Ok(AuditCursor {
        at,
        id: id.to_owned(),
    })
}

impl AuditQuery {
    fn resolve(&self) -> Result<(AuditFilter, i64), Error> {
        let limit = page_limit(self.limit)?;
        let before = self
            .cursor
            .as_deref()
            .map(decode_audit_cursor)
            .transpose()?;
        let filter = AuditFilter {
            actor_id: id_filter("actor_id", &self.actor_id)?,
            actor_kind: self.actor_kind,
            action: self.action,
            object_type: self.object_type,
            object_id: id_filter("object_id", &self.object_id)?,
            from: self.from.map(|t| t.naive_utc()),
            to: self.to.map(|t| t.naive_utc()),
            before,
        };
        Ok((filter, limit))
    }
}

/// Read the platform's audit trail
///
/// Every record of every change, newest first (by time, then id), for operators (403 for other staff): who
/// (`actor_kind`, `actor_id`), what (`action`), about what (`object_type`, `object_id`), when
/// (`from`, `to`). Filters combine with AND; an unknown `action` is a 400 `invalid_query`.
/// Pass `next_cursor` back with the same filters for the next page.
#[utoipa::path(
    operation_id = "audit_list",
    tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of the audit trail, newest first.", body = EventList),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 403, response = inline(crate::api::problem::ForbiddenProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[get("/audit")]
pub async fn audit_list(
    g: web::Data<Guichet>,
    actor: Staff,
    query: web::Query<AuditQuery>,
) -> Result<web::Json<EventList>, Error> {
    let (filter, limit) = query.resolve()?;
    let page = service::audit::audit_list(&g, &actor, filter, limit).await?;
    Ok(web::Json(EventList {
        next_cursor: page.next_after.as_ref().map(encode_audit_cursor),
        items: page.items.into_iter().map(Into::into).collect(),
    }))
}
