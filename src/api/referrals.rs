//! `/v1/referrals`: the institution's queue and one referral's lifecycle, thread and audit;
//! responsiveness figures.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::api::csv;
use crate::api::extract::{PageQuery, Valid, bad_request, encode_cursor};
use crate::api::params::{AssigneeRequest, StaffMessageCreate, TransitionRequest};
use crate::api::views::{
    EventList, InstitutionRef, InstitutionStatsView, MessageList, QUEUE_CSV_COLUMNS, ReferralCsv,
    ReferralDetailView, ReferralPage, ReferralQueueItem, ReferralSummaryView, StaffMessageView,
    StatsCsv, StatsView, TransparencyView, queue_csv_rows, stats_csv,
};
use crate::domain::account::Staff;
use crate::domain::taxonomy::{InquiryType, Modality, ReferralStatus, TherapeuticArea};
use crate::error::Error;
use crate::service::triage::{
    Assigned, InquiryFilter, QueueCursor, QueueFilter, QueueRequest, QueueSort, ReferralDetail,
};
use crate::service::{self, Guichet};

/// Queue order.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueueSortParam {
    /// First-response due date, soonest first (default).
    Due,
    /// Newest first.
    Newest,
}

/// Filters, order and page of the queue.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// Comma-separated statuses, e.g. `new,acknowledged`.
    #[param(min_length = 1)]
    pub status: Option<String>,
    pub inquiry_type: Option<InquiryType>,
    pub therapeutic_area: Option<TherapeuticArea>,
    pub modality: Option<Modality>,
    /// `me` (the contact linked to the caller's account) or a contact id.
    #[param(min_length = 1)]
    pub assigned: Option<String>,
    /// Only referrals assigned to nobody (`true`), or only assigned ones (`false`).
    /// `unassigned=true` with `assigned` is a 400.
    pub unassigned: Option<bool>,
    /// Only overdue (`true`) or only not overdue (`false`).
    pub overdue: Option<bool>,
    /// Only referrals whose decision is late (`true`: acknowledged or in review past the
    /// decision target), or only the others (`false`).
    pub decision_overdue: Option<bool>,
    /// Free text over title, summary, organization and reference (case-insensitive; a whole
    /// reference such as `GU-2026-000042` or a part of one).
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Exactly this inquiry reference (any case).
    #[param(
        pattern = "^[Gg][Uu]-[0-9]{4}-[0-9]{6,10}$",
        example = "GU-2026-000042"
    )]
    pub reference: Option<String>,
    /// Created at or after this time (RFC 3339, years 0000 to 9999).
    #[serde(default, deserialize_with = "crate::api::extract::rfc3339")]
    #[param(pattern = r"^[0-9]{4}-")]
    pub created_after: Option<DateTime<Utc>>,
    /// Created before this time (RFC 3339, years 0000 to 9999).
    #[serde(default, deserialize_with = "crate::api::extract::rfc3339")]
    #[param(pattern = r"^[0-9]{4}-")]
    pub created_before: Option<DateTime<Utc>>,
    pub sort: Option<QueueSortParam>,
    /// Operators only: one institution's referrals.
    pub institution: Option<String>,
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

/// The queue's filters and order, without paging: an export holds every page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueExportQuery {
    /// Comma-separated statuses, e.g. `new,acknowledged`.
    #[param(min_length = 1)]
    pub status: Option<String>,
    pub inquiry_type: Option<InquiryType>,
    pub therapeutic_area: Option<TherapeuticArea>,
    pub modality: Option<Modality>,
    /// `me` (the contact linked to the caller's account) or a contact id.
    #[param(min_length = 1)]
    pub assigned: Option<String>,
    /// Only referrals assigned to nobody (`true`), or only assigned ones (`false`).
    /// `unassigned=true` with `assigned` is a 400.
    pub unassigned: Option<bool>,
    /// Only overdue (`true`) or only not overdue (`false`).
    pub overdue: Option<bool>,
    /// Only referrals whose decision is late (`true`: acknowledged or in review past the
    /// decision target), or only the others (`false`).
    pub decision_overdue: Option<bool>,
    /// Free text over title, summary, organization and reference (case-insensitive; a whole
    /// reference such as `GU-2026-000042` or a part of one).
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Exactly this inquiry reference (any case).
    #[param(
        pattern = "^[Gg][Uu]-[0-9]{4}-[0-9]{6,10}$",
        example = "GU-2026-000042"
    )]
    pub reference: Option<String>,
    /// Created at or after this time (RFC 3339, years 0000 to 9999).
    #[serde(default, deserialize_with = "crate::api::extract::rfc3339")]
    #[param(pattern = r"^[0-9]{4}-")]
    pub created_after: Option<DateTime<Utc>>,
    /// Created before this time (RFC 3339, years 0000 to 9999).
    #[serde(default, deserialize_with = "crate::api::extract::rfc3339")]
    #[param(pattern = r"^[0-9]{4}-")]
    pub created_before: Option<DateTime<Utc>>,
    pub sort: Option<QueueSortParam>,
    /// Operators only: one institution's referrals.
    pub institution: Option<String>,
}

impl From<&QueueExportQuery> for QueueQuery {
    fn from(e: &QueueExportQuery) -> Self {
        QueueQuery {
            status: e.status.clone(),
            inquiry_type: e.inquiry_type,
            therapeutic_area: e.therapeutic_area,
            modality: e.modality,
            assigned: e.assigned.clone(),
            unassigned: e.unassigned,
            overdue: e.overdue,
            decision_overdue: e.decision_overdue,
            q: e.q.clone(),
            reference: e.reference.clone(),
            created_after: e.created_after,
            created_before: e.created_before,
            sort: e.sort,
            institution: e.institution.clone(),
            limit: None,
            cursor: None,
        }
    }
}

/// A cursor names the position *and* the filters that made it (a short digest of them), so
/// that a cursor replayed with other filters is refused instead of skipping or repeating rows.
pub(crate) fn encode_queue_cursor(c: &QueueCursor, filters: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "{}|{}|{filters}",
        c.due.and_utc().timestamp_micros(),
        c.id
    ))
}

fn decode_queue_cursor(s: &str, filters: &str) -> Result<QueueCursor, Error> {
    let invalid = || {
        bad_request(
            "invalid_cursor",
            "`cursor` is not a cursor returned by this list.",
        )
    };
    let text = URL_SAFE_NO_PAD
        .decode(s)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(invalid)?;
    let mut parts = text.splitn(3, '|');
    let (micros, id, made_by) = match (parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(i), Some(f)) => (m, i, f),
        _ => return Err(invalid()),
    };
    if made_by != filters {
        return Err(bad_request(
            "cursor_filters_changed",
            "`cursor` was made by a list with other filters or order: start again without it.",
        ));
    }
    let due = micros
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(invalid)?
        .naive_utc();
    uuid::Uuid::parse_str(id).map_err(|_| invalid())?;
    Ok(QueueCursor {
        due,
        id: id.to_owned(),
    })
}

impl QueueQuery {
    /// A digest of every parameter but `limit` and `cursor`.
    pub(crate) fn filters_digest(&self) -> String {
        use sha2::Digest;
        let canonical = format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
            self.status,
            self.inquiry_type,
            self.therapeutic_area,
            self.modality,
            self.assigned,
            self.overdue,
            self.decision_overdue,
            self.q,
            self.created_after,
            self.created_before,
            self.sort.map(|s| matches!(s, QueueSortParam::Newest)),
            self.institution,
            self.unassigned,
            self.reference,
        );
        URL_SAFE_NO_PAD.encode(&sha2::Sha256::digest(canonical.as_bytes())[..9])
    }

    pub(crate) fn resolve(&self) -> Result<QueueRequest, Error> {
        let limit = crate::api::extract::page_limit(self.limit)?;
        let statuses: Vec<ReferralStatus> = match &self.status {
            None => Vec::new(),
            Some(raw) => crate::api::extract::comma_separated(
                raw,
                "invalid_status",
                "`status` takes comma-separated referral statuses; leave it out for all.",
            )?,
        };
        let assigned = match self.assigned.as_deref() {
            None => None,
            Some("me") => Some(Assigned::Me),
            Some(id) => {
                // Only the hyphenated form the API writes, as the contract says.
                uuid::Uuid::parse_str(id)
                    .ok()
                    .filter(|_| id.len() == 36)
                    .ok_or_else(|| {
                        bad_request("invalid_assigned", "`assigned` is `me` or a contact id.")
                    })?;
                Some(Assigned::Contact(id.to_owned()))
            }
        };
        if self.unassigned == Some(true) && assigned.is_some() {
            return Err(bad_request(
                "invalid_query",
                "`unassigned=true` asks for referrals assigned to nobody, `assigned` for referrals assigned to someone: give one or the other.",
            ));
        }
        Ok(QueueRequest {
            filter: QueueFilter {
                institution_id: None,
                statuses,
                inquiry: InquiryFilter {
                    inquiry_type: self.inquiry_type,
                    therapeutic_area: self.therapeutic_area,
                    modality: self.modality,
                    text: crate::api::extract::search_text(self.q.as_deref())?,
                    reference: crate::api::extract::reference_filter(self.reference.as_deref())?,
                },
                contact_id: None,
                unassigned: self.unassigned,
                overdue: self.overdue,
                decision_overdue: self.decision_overdue,
                created_after: self.created_after.map(|t| t.naive_utc()),
                created_before: self.created_before.map(|t| t.naive_utc()),
                sort: match self.sort {
                    Some(QueueSortParam::Newest) => QueueSort::Newest,
                    _ => QueueSort::Due,
                },
                after: self
                    .cursor
                    .as_deref()
                    .map(|c| decode_queue_cursor(c, &self.filters_digest()))
                    .transpose()?,
            },
            assigned,
            limit,
        })
    }
}

/// Work the queue
///
/// The caller's institution's referrals (operators: all, or one with `institution`), filtered
/// and ordered, with cursor pagination that is stable while new referrals arrive.
#[utoipa::path(
    operation_id = "referral_list",
    tag = "referrals",
    params(QueueQuery),
    responses(
        (status = 200, description = "A page of the queue.", body = ReferralPage),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[get("/referrals")]
pub async fn referral_list(
    g: web::Data<Guichet>,
    actor: Staff,
    query: web::Query<QueueQuery>,
) -> Result<web::Json<ReferralPage>, Error> {
    let request = query.resolve()?;
    let page =
        service::triage::referral_list(&g, &actor, query.institution.clone(), request).await?;
    let now = chrono::Utc::now().naive_utc();
    Ok(web::Json(ReferralPage {
        next_cursor: page
            .next_after
            .as_ref()
            .map(|c| encode_queue_cursor(c, &query.filters_digest())),
        items: page
            .items
            .into_iter()
            .map(|i| ReferralQueueItem::new(i, now))
            .collect(),
    }))
}

/// `20261204T101500Z`, for file names.
fn compact_time(t: chrono::NaiveDateTime) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Export the queue as CSV
///
/// Every referral the queue shows with the same filters, order and scope (operators: all
/// institutions, or one with `institution`), in one CSV file: no paging, no cursor. The rows
/// are read from the database a page at a time while the file is sent, so a large export
/// costs the server little memory. Cells a spreadsheet would run as a formula (starting with
/// `=`, `+`, `-`, `@`, a tab or a CR) are prefixed with `'`.
#[utoipa::path(
    operation_id = "referral_export",
    tag = "referrals",
    params(QueueExportQuery),
    responses(
        (status = 200, description = "The filtered queue as CSV, with a header row.",
            content_type = "text/csv; charset=utf-8", body = ReferralCsv,
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"referrals-<institution or all>-<time>.csv\"`."))),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[get("/referrals/export")]
pub async fn referral_export(
    g: web::Data<Guichet>,
    actor: Staff,
    query: web::Query<QueueExportQuery>,
) -> Result<HttpResponse, Error> {
    let request = QueueQuery::from(&*query).resolve()?;
    let mut export =
        service::triage::referral_export(&g, &actor, query.institution.clone(), request).await?;
    let now = export.now();
    // The first page is read before the answer starts, so that a failure is still a proper
    // error; a failure later can only cut the file short (the client sees an aborted body).
    let mut first = String::new();
    csv::push_record(&mut first, QUEUE_CSV_COLUMNS.iter().copied());
    queue_csv_rows(
        &mut first,
        export.next_page().await?.unwrap_or_default(),
        now,
    );
    let rest = futures_util::stream::unfold(export, move |mut export| async move {
        match export.next_page().await {
            Ok(Some(items)) => {
                let mut chunk = String::new();
                queue_csv_rows(&mut chunk, items, now);
                Some((Ok(web::Bytes::from(chunk)), export))
            }
            Ok(None) => None,
            Err(e) => {
                tracing::error!(error = %e, "queue export cut short");
                Some((Err(e), export))
            }
        }
    });
    let body = futures_util::stream::once(async move { Ok::<_, Error>(web::Bytes::from(first)) })
        .chain(rest);
    let scope = actor
        .institution_id
        .clone()
        .or_else(|| query.institution.clone())
        .unwrap_or_else(|| "all".to_owned());
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            csv::attachment(&format!("referrals-{scope}-{}.csv", compact_time(now))),
        ))
        .streaming(body))
}

/// Scope of the summary and figures.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SummaryQuery {
    /// Operators only: one institution.
    pub institution: Option<String>,
}

/// Count the queue
///
/// Referrals per status and overdue, for the caller's scope.
#[utoipa::path(
    operation_id = "referral_summary",
    tag = "referrals",
    params(SummaryQuery),
    responses(
        (status = 200, description = "Counts.", body = ReferralSummaryView),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[get("/referrals/summary")]
pub async fn referral_summary(
    g: web::Data<Guichet>,
    actor: Staff,
    query: web::Query<SummaryQuery>,
) -> Result<web::Json<ReferralSummaryView>, Error> {
    let (counts, overdue, decision_overdue) =
        service::triage::referral_summary(&g, &actor, query.institution.clone()).await?;
    Ok(web::Json(ReferralSummaryView {
        counts: counts
            .into_iter()
            .map(|(k, v)| (k.as_str().to_owned(), v))
            .collect(),
        overdue,
        decision_overdue,
    }))
}

fn with_etag(detail: ReferralDetail) -> HttpResponse {
    with_etag_in(detail, crate::domain::taxonomy::Locale::En)
}

fn with_etag_in(detail: ReferralDetail, locale: crate::domain::taxonomy::Locale) -> HttpResponse {
    let version = detail.referral.version;
    HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{version}\"")))
        .json(ReferralDetailView::new(detail, locale))
}

/// Get a referral
///
/// The inquiry, the routing explanation for this institution, the names of the other
/// institutions that received it, the assignee, the thread (external and internal), the SLA
/// and the allowed transitions. The `ETag` header carries the version for `If-Match`.
#[utoipa::path(
    operation_id = "referral_get",
    tag = "referrals",
    params(("referral_id" = String, Path, description = "Referral id.")),
    responses(
        (status = 200, description = "The referral.", body = ReferralDetailView,
            headers(("ETag" = String, description = "The referral's version, quoted."))),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[get("/referrals/{referral_id}")]
pub async fn referral_get(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<String>,
    lang: crate::api::problem::Lang,
) -> Result<HttpResponse, Error> {
    Ok(with_etag_in(
        service::triage::referral_get(&g, &actor, &path).await?,
        lang.0,
    ))
}

/// Change a referral's status
///
/// Moves the referral along its lifecycle. `If-Match` is required (428 without it, 412 when
/// stale): two triagers never overwrite each other. A transition outside the lifecycle is a
/// 409 naming the allowed ones. `declined` needs a `reason_code`; `info_requested` and
/// `accepted` carry a `message` to the submitter; `forwarded` needs `forward_to` and a
/// `reason_text`, and creates a referral at that institution.
#[utoipa::path(
    operation_id = "referral_transition",
    tag = "referrals",
    params(
        ("referral_id" = String, Path, description = "Referral id."),
        ("If-Match" = String, Header, description = "The ETag of the referral as read, e.g. `\"3\"`.")
    ),
    request_body(content = TransitionRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The referral after the change.", body = ReferralDetailView,
            headers(("ETag" = String, description = "The new version, quoted."))),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 409, response = inline(crate::api::problem::ConflictProblem)),
        (status = 412, response = inline(crate::api::problem::PreconditionFailedProblem)),
        (status = 413, response = inline(crate::api::problem::PayloadTooLargeProblem)),
        (status = 415, response = inline(crate::api::problem::UnsupportedMediaTypeProblem)),
        (status = 422, response = inline(crate::api::problem::ValidationProblem)),
        (status = 428, response = inline(crate::api::problem::PreconditionRequiredProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[post("/referrals/{referral_id}/transitions")]
pub async fn referral_transition(
    g: web::Data<Guichet>,
    actor: Staff,
    req: HttpRequest,
    path: web::Path<String>,
    body: Valid<TransitionRequest>,
) -> Result<HttpResponse, Error> {
    let (to, input) = body.0;
    let detail = service::triage::referral_transition(
        &g,
        &actor,
        &path,
        crate::api::extract::if_match(&req),
        to,
        input,
    )
    .await?;
    Ok(with_etag(detail))
}

/// Reassign a referral
///
/// To an active contact of the same institution. `If-Match` is required.
#[utoipa::path(
    operation_id = "referral_assign",
    tag = "referrals",
    params(
        ("referral_id" = String, Path, description = "Referral id."),
        ("If-Match" = String, Header, description = "The ETag of the referral as read.")
    ),
    request_body(content = AssigneeRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The referral after the change.", body = ReferralDetailView,
            headers(("ETag" = String, description = "The new version, quoted."))),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 409, response = inline(crate::api::problem::ConflictProblem)),
        (status = 412, response = inline(crate::api::problem::PreconditionFailedProblem)),
        (status = 413, response = inline(crate::api::problem::PayloadTooLargeProblem)),
        (status = 415, response = inline(crate::api::problem::UnsupportedMediaTypeProblem)),
        (status = 422, response = inline(crate::api::problem::ValidationProblem)),
        (status = 428, response = inline(crate::api::problem::PreconditionRequiredProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[post("/referrals/{referral_id}/assignee")]
pub async fn referral_assign(
    g: web::Data<Guichet>,
    actor: Staff,
    req: HttpRequest,
    path: web::Path<String>,
    body: Valid<AssigneeRequest>,
) -> Result<HttpResponse, Error> {
    let detail = service::triage::referral_assign(
        &g,
        &actor,
        &path,
        crate::api::extract::if_match(&req),
        body.0,
    )
    .await?;
    Ok(with_etag(detail))
}

/// Unassign a referral
///
/// The referral goes back to the institution's unassigned work (`unassigned=true` in the
/// queue); unassigning a referral nobody holds changes nothing. `If-Match` is required.
#[utoipa::path(
    operation_id = "referral_unassign",
    tag = "referrals",
    params(
        ("referral_id" = String, Path, description = "Referral id."),
        ("If-Match" = String, Header, description = "The ETag of the referral as read.")
    ),
    responses(
        (status = 200, description = "The referral after the change.", body = ReferralDetailView,
            headers(("ETag" = String, description = "The new version, quoted."))),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 409, response = inline(crate::api::problem::ConflictProblem)),
        (status = 412, response = inline(crate::api::problem::PreconditionFailedProblem)),
        (status = 428, response = inline(crate::api::problem::PreconditionRequiredProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[delete("/referrals/{referral_id}/assignee")]
pub async fn referral_unassign(
    g: web::Data<Guichet>,
    actor: Staff,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let detail =
        service::triage::referral_unassign(&g, &actor, &path, crate::api::extract::if_match(&req))
            .await?;
    Ok(with_etag(detail))
}

/// Read a referral's thread
///
/// External messages and internal notes, oldest first.
#[utoipa::path(
    operation_id = "referral_message_list",
    tag = "referrals",
    params(("referral_id" = String, Path, description = "Referral id."), PageQuery),
    responses(
        (status = 200, description = "The thread.", body = MessageList),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[get("/referrals/{referral_id}/messages")]
pub async fn referral_message_list(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<MessageList>, Error> {
    let (limit, after) = query.resolve()?;
    let page = service::triage::referral_messages(&g, &actor, &path, after, limit).await?;
    Ok(web::Json(MessageList {
        next_cursor: page.next_after.as_deref().map(encode_cursor),
        items: page.items.into_iter().map(Into::into).collect(),
    }))
}

/// Read one message of a referral's thread
///
/// Where the `Location` of a posted message points.
#[utoipa::path(
    operation_id = "referral_message_get",
    tag = "referrals",
    params(
        ("referral_id" = String, Path, description = "Referral id."),
        ("message_id" = String, Path, description = "Message id.")
    ),
    responses(
        (status = 200, description = "The message.", body = StaffMessageView),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[get("/referrals/{referral_id}/messages/{message_id}")]
pub async fn referral_message_get(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<(String, String)>,
) -> Result<web::Json<StaffMessageView>, Error> {
    let (id, message_id) = path.into_inner();
    let m = service::triage::referral_message_get(&g, &actor, &id, &message_id).await?;
    Ok(web::Json(m.into()))
}

/// Post to a referral's thread
///
/// `external` messages reach the submitter (the first one is the first response);
/// `internal` notes never do.
#[utoipa::path(
    operation_id = "referral_message_create",
    tag = "referrals",
    params(("referral_id" = String, Path, description = "Referral id.")),
    request_body(content = StaffMessageCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Posted.", body = StaffMessageView,
            headers(("Location" = String, description = "The message: `/v1/referrals/{referral_id}/messages/{message_id}`."))),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 409, response = inline(crate::api::problem::ConflictProblem)),
        (status = 413, response = inline(crate::api::problem::PayloadTooLargeProblem)),
        (status = 415, response = inline(crate::api::problem::UnsupportedMediaTypeProblem)),
        (status = 422, response = inline(crate::api::problem::ValidationProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[post("/referrals/{referral_id}/messages")]
pub async fn referral_message_create(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<String>,
    body: Valid<StaffMessageCreate>,
) -> Result<HttpResponse, Error> {
    let (text, visibility) = body.0;
    let m = service::triage::referral_message_create(&g, &actor, &path, text, visibility).await?;
    let location = format!("/v1/referrals/{}/messages/{}", m.referral_id, m.id);
    Ok(HttpResponse::Created()
        .insert_header(("Location", location))
        .json(StaffMessageView::from(m)))
}

/// Read a referral's audit trail
///
/// Every change, oldest first: who, what, from, to, when.
#[utoipa::path(
    operation_id = "referral_event_list",
    tag = "referrals",
    params(("referral_id" = String, Path, description = "Referral id."), PageQuery),
    responses(
        (status = 200, description = "The events.", body = EventList),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[get("/referrals/{referral_id}/events")]
pub async fn referral_event_list(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<EventList>, Error> {
    let (limit, after) = query.resolve()?;
    let page = service::triage::referral_events(&g, &actor, &path, after, limit).await?;
    Ok(web::Json(EventList {
        next_cursor: page.next_after.as_deref().map(encode_cursor),
        items: page.items.into_iter().map(Into::into).collect(),
    }))
}

/// A period of referral creation dates.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PeriodQuery {
    /// Start (inclusive; RFC 3339, years 0000 to 9999); default: a year before `to`.
    #[serde(default, deserialize_with = "crate::api::extract::rfc3339")]
    #[param(pattern = r"^[0-9]{4}-")]
    pub from: Option<DateTime<Utc>>,
    /// End (exclusive; RFC 3339, years 0000 to 9999); default: now.
    #[serde(default, deserialize_with = "crate::api::extract::rfc3339")]
    #[param(pattern = r"^[0-9]{4}-")]
    pub to: Option<DateTime<Utc>>,
}

/// Get an institution's figures
///
/// Counts per status, median and 90th percentile time to first response, share answered
/// within SLA, acceptance rate, decline reasons. Its staff and operators.
#[utoipa::path(
    operation_id = "institution_stats_get",
    tag = "institutions",
    params(("institution_id" = String, Path, description = "Institution slug.", example = "curie"), PeriodQuery),
    responses(
        (status = 200, description = "The figures.", body = StatsView),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 422, response = inline(crate::api::problem::ValidationProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[get("/institutions/{institution_id}/stats")]
pub async fn institution_stats_get(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<String>,
    query: web::Query<PeriodQuery>,
) -> Result<web::Json<StatsView>, Error> {
    let (from, to) = service::triage::period(
        query.from.map(|t| t.naive_utc()),
        query.to.map(|t| t.naive_utc()),
    )?;
    let stats = service::triage::institution_stats(&g, &actor, &path, from, to).await?;
    Ok(web::Json(StatsView::new(stats, from, to)))
}

/// Export an institution's figures as CSV
///
/// The figures of `institution_stats_get`, for the same period, one per row
/// (`institution_id,from,to,metric,key,value`): counts per status and per decline reason
/// (every one, 0 included), times to first response, shares. A figure that is `null` in JSON
/// has an empty `value`. Its staff and operators.
#[utoipa::path(
    operation_id = "institution_stats_export",
    tag = "institutions",
    params(("institution_id" = String, Path, description = "Institution slug.", example = "curie"), PeriodQuery),
    responses(
        (status = 200, description = "The figures as CSV, with a header row.",
            content_type = "text/csv; charset=utf-8", body = StatsCsv,
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"stats-<institution>-<from>-<to>.csv\"`."))),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 422, response = inline(crate::api::problem::ValidationProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[get("/institutions/{institution_id}/stats/export")]
pub async fn institution_stats_export(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<String>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, Error> {
    let (from, to) = service::triage::period(
        query.from.map(|t| t.naive_utc()),
        query.to.map(|t| t.naive_utc()),
    )?;
    let stats = service::triage::institution_stats(&g, &actor, &path, from, to).await?;
    // A few dozen rows computed together: nothing to page, so one body.
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            csv::attachment(&format!(
                "stats-{}-{}-{}.csv",
                path.as_str(),
                compact_time(from),
                compact_time(to)
            )),
        ))
        .body(stats_csv(&path, &stats, from, to)))
}

/// Get the cluster's responsiveness
///
/// The same figures for every institution, public: no personal or deal data.
#[utoipa::path(
    operation_id = "transparency_get",
    tag = "institutions",
    params(PeriodQuery),
    responses(
        (status = 200, description = "Figures per institution.", body = TransparencyView),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 422, response = inline(crate::api::problem::ValidationProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
)]
#[get("/transparency")]
pub async fn transparency_get(
    g: web::Data<Guichet>,
    query: web::Query<PeriodQuery>,
    lang: crate::api::problem::Lang,
) -> Result<web::Json<TransparencyView>, Error> {
    let locale = lang.0;
    let (from, to) = service::triage::period(
        query.from.map(|t| t.naive_utc()),
        query.to.map(|t| t.naive_utc()),
    )?;
    let rows = service::triage::transparency(&g, from, to).await?;
    Ok(web::Json(TransparencyView {
        about: crate::domain::catalogue::Msg::TransparencyAbout.render(locale),
        items: rows
            .into_iter()
            .map(|(i, s)| {
                let stats = StatsView::new(s, from, to);
                InstitutionStatsView {
                    summary: InstitutionStatsView::summary(
                        &i.name,
                        i.sla_business_days,
                        &stats,
                        locale,
                    ),
                    first_response_business_days: i.sla_business_days,
                    decision_business_days: i.decision_business_days,
                    institution: InstitutionRef {
                        id: i.id,
                        name: i.name,
                    },
                    stats,
                }
            })
            .collect(),
    }))
}
