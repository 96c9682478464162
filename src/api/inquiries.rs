//! `/v1/inquiries`, `/v1/routing/preview`, `/v1/desk` and routing profiles.

use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::api::extract::{
    ClientAddr, MaybeValid, Valid, bad_request, decode_cursor, encode_cursor, invalid_cursor,
    page_limit, reference_filter, search_text,
};
use crate::api::params::{
    InquiryCreate, ManualRouting, MessageCreate, RoutingPreviewRequest, WithdrawalRequest,
};
use crate::api::views::{
    DeskItemView, DeskPage, InquiryView, InstitutionRef, MessageView, RoutingPreviewView,
    RoutingProfileView, SubmissionView, SubmittedReferralView, utc,
};
use crate::domain::account::Staff;
use crate::domain::inquiry::{InquiryStatus, overall_status};
use crate::domain::routing::RoutingProfile;
use crate::domain::taxonomy::{InquiryType, Modality, TherapeuticArea};
use crate::error::Error;
use crate::service::inquiries::{DeskFilter, DeskSort};
use crate::service::triage::InquiryFilter;
use crate::service::{self, Guichet};

pub const TRACKING_HEADER: &str = "X-Tracking-Token";

fn tracking_token(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(TRACKING_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, Error> {
    match req.headers().get("Idempotency-Key") {
        None => Ok(None),
        Some(v) => {
            let key = v.to_str().unwrap_or_default().trim();
            if key.is_empty() || key.len() > 200 || !key.chars().all(|c| c.is_ascii_graphic()) {
                return Err(Error::BadRequest {
                    code: "invalid_idempotency_key",
                    detail: "Idempotency-Key must be 1 to 200 visible ASCII characters.".into(),
                });
            }
            Ok(Some(key.to_owned()))
        }
    }
}

/// Submit an inquiry
///
/// One inquiry, routed at once to every institution that fits (or only to the preferred
/// ones), each with the reasons why; when none fits, it waits on the operators' desk. No
/// account needed. Send an `Idempotency-Key` to retry safely: the same key and body replay
/// the first response (same inquiry, same tracking token) for 24 hours; the same key with
/// another body is a 422. The `tracking_token` is shown only in this response.
#[utoipa::path(
    operation_id = "inquiry_create",
    tag = "inquiries",
    params(("Idempotency-Key" = Option<String>, Header, description = "Any unique string (a UUID is a good choice), 1 to 200 visible ASCII characters.")),
    request_body(content = InquiryCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Submitted (or replayed).", body = SubmissionView,
            headers(("Location" = String, description = "The inquiry's address."))),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 413, response = inline(crate::api::problem::PayloadTooLargeProblem)),
        (status = 415, response = inline(crate::api::problem::UnsupportedMediaTypeProblem)),
        (status = 422, response = inline(crate::api::problem::ValidationProblem)),
        (status = 429, response = inline(crate::api::problem::TooManyRequestsProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
)]
#[post("/inquiries")]
pub async fn inquiry_create(
    g: web::Data<Guichet>,
    req: HttpRequest,
    client: ClientAddr,
    body: Valid<InquiryCreate>,
    lang: crate::api::problem::Lang,
) -> Result<HttpResponse, Error> {
    let key = idempotency_key(&req)?;
    let locale = lang.0;
    let (inquiry_type, preferred) = (body.0.inquiry_type, body.0.preferred_institutions.clone());
    let done = service::inquiries::inquiry_submit(&g, body.0, key, &client.0, locale).await?;
    let mut s = done.submission;
    // The routing text is kept in English with the submission (a replay shows it again); it is
    // told in the caller's language from the decision's messages.
    if locale != crate::domain::taxonomy::Locale::En
        && let Some(decision) = service::inquiries::stored_decision(&g, &s.inquiry_id).await?
    {
        decision.localize_text(
            inquiry_type,
            &preferred,
            &mut s.desk_reason,
            s.referrals
                .iter_mut()
                .map(|r| (r.institution_id.as_str(), &mut r.reasons)),
            locale,
        );
    }
    let statuses: Vec<_> = s.referrals.iter().map(|r| r.status).collect();
    let view = SubmissionView {
        status: if s.on_desk {
            InquiryStatus::OnDesk
        } else {
            overall_status(false, &statuses)
        },
        referrals: s
            .referrals
            .into_iter()
            .map(|r| SubmittedReferralView {
                id: r.id,
                institution: InstitutionRef {
                    id: r.institution_id,
                    name: r.institution_name,
                },
                status: r.status,
                first_response_due_at: utc(r.first_response_due_at),
                reasons: r.reasons,
            })
            .collect(),
        desk_reason: s.desk_reason,
        tracking_token: done.tracking_token,
        id: s.inquiry_id.clone(),
        reference: s.reference,
    };
    let mut res = HttpResponse::Created();
    res.insert_header(("Location", format!("/v1/inquiries/{}", s.inquiry_id)))
        .insert_header(("Cache-Control", "no-store"));
    if done.replayed {
        res.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(res.json(view))
}

/// Preview the routing
///
/// Runs the routing of a real submission on an unsaved inquiry: where it would go, to whom
/// (named or not), and why each other institution would not receive it.
#[utoipa::path(
    operation_id = "routing_preview",
    tag = "inquiries",
    request_body(content = RoutingPreviewRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Where the inquiry would go.", body = RoutingPreviewView),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 413, response = inline(crate::api::problem::PayloadTooLargeProblem)),
        (status = 415, response = inline(crate::api::problem::UnsupportedMediaTypeProblem)),
        (status = 422, response = inline(crate::api::problem::ValidationProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
)]
#[post("/routing/preview")]
pub async fn routing_preview(
    g: web::Data<Guichet>,
    body: Valid<RoutingPreviewRequest>,
    lang: crate::api::problem::Lang,
) -> Result<web::Json<RoutingPreviewView>, Error> {
    let (inquiry_type, preferred) = (body.0.inquiry_type, body.0.preferred_institutions.clone());
    let mut outcome = service::inquiries::routing_preview(&g, body.0).await?;
    outcome.localize(inquiry_type, &preferred, lang.0);
    Ok(web::Json(RoutingPreviewView::new(outcome, lang.0)))
}

/// Follow an inquiry
///
/// The inquiry, its overall status and each institution's referral with its due date,
/// reasons and external messages. Requires the tracking token; a wrong or missing token
/// is the same 404 as a missing inquiry.
#[utoipa::path(
    operation_id = "inquiry_get",
    tag = "inquiries",
    params(("inquiry_id" = String, Path, description = "Inquiry id.")),
    responses(
        (status = 200, description = "The inquiry.", body = InquiryView),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 429, response = inline(crate::api::problem::TooManyRequestsProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("tracking_token" = []))
)]
#[get("/inquiries/{inquiry_id}")]
pub async fn inquiry_get(
    g: web::Data<Guichet>,
    req: HttpRequest,
    client: ClientAddr,
    path: web::Path<String>,
    lang: crate::api::problem::Lang,
) -> Result<web::Json<InquiryView>, Error> {
    let detail =
        service::inquiries::inquiry_track(&g, &path, tracking_token(&req), &client.0).await?;
    Ok(web::Json(InquiryView::new(detail, lang.0)))
}

/// Answer an institution
///
/// Posts a message to one referral's thread. An answer to a request for information puts
/// the referral back in review.
#[utoipa::path(
    operation_id = "inquiry_message_create",
    tag = "inquiries",
    params(
        ("inquiry_id" = String, Path, description = "Inquiry id."),
        ("referral_id" = String, Path, description = "Referral id.")
    ),
    request_body(content = MessageCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Posted.", body = MessageView),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 409, response = inline(crate::api::problem::ConflictProblem)),
        (status = 413, response = inline(crate::api::problem::PayloadTooLargeProblem)),
        (status = 415, response = inline(crate::api::problem::UnsupportedMediaTypeProblem)),
        (status = 422, response = inline(crate::api::problem::ValidationProblem)),
        (status = 429, response = inline(crate::api::problem::TooManyRequestsProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("tracking_token" = []))
)]
#[post("/inquiries/{inquiry_id}/referrals/{referral_id}/messages")]
pub async fn inquiry_message_create(
    g: web::Data<Guichet>,
    req: HttpRequest,
    client: ClientAddr,
    path: web::Path<(String, String)>,
    body: Valid<MessageCreate>,
) -> Result<HttpResponse, Error> {
    let (id, referral_id) = path.into_inner();
    let m = service::inquiries::submitter_message(
        &g,
        &id,
        &referral_id,
        tracking_token(&req),
        &client.0,
        body.0,
    )
    .await?;
    // The submitter reads the thread in the inquiry they follow.
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/inquiries/{id}")))
        .json(MessageView {
            id: m.id,
            referral_id: m.referral_id,
            author: m.author,
            visibility: m.visibility,
            body: m.body,
            created_at: utc(m.created_at),
        }))
}

/// Withdraw an inquiry
///
/// Without a body (or without `institution_id`), every open referral becomes `withdrawn` and
/// the inquiry leaves the desk (409 `nothing_to_withdraw` when nothing is open). With
/// `institution_id`, only that institution's referral is withdrawn: the inquiry stays open
/// elsewhere and its status follows the remaining referrals; an institution that has no
/// referral of this inquiry is a 404, one whose referral is already final a 409
/// `referral_closed` naming its status. The `reason_code` (default `not_given`) is recorded in
/// the audit and sent to subscribers; the `reason` reaches the institutions concerned.
#[utoipa::path(
    operation_id = "inquiry_withdraw",
    tag = "inquiries",
    params(("inquiry_id" = String, Path, description = "Inquiry id.")),
    request_body(content = WithdrawalRequest, content_type = "application/json", description = "Optional: one institution only, and why."),
    responses(
        (status = 200, description = "Withdrawn.", body = InquiryView),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 409, response = inline(crate::api::problem::ConflictProblem)),
        (status = 413, response = inline(crate::api::problem::PayloadTooLargeProblem)),
        (status = 415, response = inline(crate::api::problem::UnsupportedMediaTypeProblem)),
        (status = 422, response = inline(crate::api::problem::ValidationProblem)),
        (status = 429, response = inline(crate::api::problem::TooManyRequestsProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("tracking_token" = []))
)]
#[post("/inquiries/{inquiry_id}/withdraw")]
pub async fn inquiry_withdraw(
    g: web::Data<Guichet>,
    req: HttpRequest,
    client: ClientAddr,
    path: web::Path<String>,
    body: MaybeValid<WithdrawalRequest>,
) -> Result<web::Json<InquiryView>, Error> {
    let detail = service::inquiries::inquiry_withdraw(
        &g,
        &path,
        tracking_token(&req),
        &client.0,
        body.0.unwrap_or_default(),
    )
    .await?;
    Ok(web::Json(detail.into()))
}

/// Order of the desk.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeskSortParam {
    /// Oldest first: the longest wait first (default).
    Oldest,
    /// Newest first.
    Newest,
}

/// Filters, order and page of the desk: the queue's filters that apply to an inquiry, with
/// the same meaning and checks.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeskQuery {
    pub inquiry_type: Option<InquiryType>,
    pub therapeutic_area: Option<TherapeuticArea>,
    pub modality: Option<Modality>,
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
    /// Submitted at or after this time (RFC 3339, years 0000 to 9999).
    #[serde(default, deserialize_with = "crate::api::extract::rfc3339")]
    #[param(pattern = r"^[0-9]{4}-")]
    pub created_after: Option<DateTime<Utc>>,
    /// Submitted before this time (RFC 3339, years 0000 to 9999).
    #[serde(default, deserialize_with = "crate::api::extract::rfc3339")]
    #[param(pattern = r"^[0-9]{4}-")]
    pub created_before: Option<DateTime<Utc>>,
    pub sort: Option<DeskSortParam>,
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

impl DeskQuery {
    /// A digest of every parameter but `limit` and `cursor`: a cursor replayed with other
    /// filters is refused rather than skipping or repeating inquiries.
    fn filters_digest(&self) -> String {
        use base64::Engine;
        use sha2::Digest;
        let canonical = format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
            self.inquiry_type,
            self.therapeutic_area,
            self.modality,
            self.q,
            self.reference,
            self.created_after,
            self.created_before,
            self.sort.map(|s| matches!(s, DeskSortParam::Newest)),
        );
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(&sha2::Sha256::digest(canonical.as_bytes())[..9])
    }

    fn cursor_for(&self, id: &str) -> String {
        encode_cursor(&format!("{id}|{}", self.filters_digest()))
    }

    fn resolve(&self) -> Result<(DeskFilter, i64), Error> {
        let limit = page_limit(self.limit)?;
        let after = match self.cursor.as_deref() {
            None => None,
            Some(c) => {
                let text = decode_cursor(c)?;
                let (id, made_by) = text.split_once('|').ok_or_else(invalid_cursor)?;
                uuid::Uuid::parse_str(id).map_err(|_| invalid_cursor())?;
                if made_by != self.filters_digest() {
                    return Err(bad_request(
                        "cursor_filters_changed",
                        "`cursor` was made by a list with other filters or order: start again without it.",
                    ));
                }
                Some(id.to_owned())
            }
        };
        let filter = DeskFilter {
            inquiry: InquiryFilter {
                inquiry_type: self.inquiry_type,
                therapeutic_area: self.therapeutic_area,
                modality: self.modality,
                text: search_text(self.q.as_deref())?,
                reference: reference_filter(self.reference.as_deref())?,
            },
            created_after: self.created_after.map(|t| t.naive_utc()),
            created_before: self.created_before.map(|t| t.naive_utc()),
            sort: match self.sort {
                Some(DeskSortParam::Newest) => DeskSort::Newest,
                _ => DeskSort::Oldest,
            },
            after,
        };
        Ok((filter, limit))
    }
}

/// List the desk
///
/// Inquiries that no institution's rules accepted, waiting for an operator (oldest first by
/// default), each with why routing sent it here. The queue's filters that apply to an
/// inquiry work here the same way. Operators only.
#[utoipa::path(
    operation_id = "desk_list",
    tag = "desk",
    params(DeskQuery),
    responses(
        (status = 200, description = "A page of the desk.", body = DeskPage),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 403, response = inline(crate::api::problem::ForbiddenProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[get("/desk")]
pub async fn desk_list(
    g: web::Data<Guichet>,
    actor: Staff,
    query: web::Query<DeskQuery>,
    lang: crate::api::problem::Lang,
) -> Result<web::Json<DeskPage>, Error> {
    let (filter, limit) = query.resolve()?;
    let page = service::inquiries::desk_list(&g, &actor, filter, limit).await?;
    Ok(web::Json(DeskPage {
        next_cursor: page.next_after.as_deref().map(|id| query.cursor_for(id)),
        items: page
            .items
            .into_iter()
            .map(|d| DeskItemView::new(d, lang.0))
            .collect(),
    }))
}

/// Route an inquiry by hand
///
/// An operator sends an inquiry (typically from the desk) to the given institutions,
/// whatever their profiles say; each one's contact is chosen as usual. Operators only.
#[utoipa::path(
    operation_id = "inquiry_route",
    tag = "desk",
    params(("inquiry_id" = String, Path, description = "Inquiry id.")),
    request_body(content = ManualRouting, content_type = "application/json"),
    responses(
        (status = 200, description = "Routed.", body = InquiryView),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 403, response = inline(crate::api::problem::ForbiddenProblem)),
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
#[post("/inquiries/{inquiry_id}/routing")]
pub async fn inquiry_route(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<String>,
    body: Valid<ManualRouting>,
) -> Result<web::Json<InquiryView>, Error> {
    let (institutions, reason) = body.0;
    let detail =
        service::inquiries::inquiry_route_manually(&g, &actor, &path, institutions, reason).await?;
    Ok(web::Json(detail.into()))
}

fn profile_response(i: crate::domain::institution::Institution) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            actix_web::http::header::ETAG,
            format!("\"{}\"", i.profile_version),
        ))
        .json(RoutingProfileView {
            institution_id: i.id,
            version: i.profile_version,
            profile: i.profile,
            updated_at: utc(i.updated_at),
        })
}

/// Get a routing profile
///
/// The weights, accepted types and threshold routing uses. Institution admins (theirs) and
/// operators.
#[utoipa::path(
    operation_id = "routing_profile_get",
    tag = "institutions",
    params(("institution_id" = String, Path, description = "Institution slug.", example = "curie")),
    responses(
        (status = 200, description = "The profile.", body = RoutingProfileView,
            headers(("ETag" = String, description = "The profile's version, quoted."))),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 403, response = inline(crate::api::problem::ForbiddenProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[get("/institutions/{institution_id}/routing-profile")]
pub async fn routing_profile_get(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let inst = service::institutions::profile_get(&g, &actor, &path).await?;
    Ok(profile_response(inst))
}

/// Replace a routing profile
///
/// Replaces the whole profile; its version increases by one and the change is recorded.
/// With `If-Match`, a profile replaced since it was read is refused (412). Institution
/// admins (theirs) and operators.
#[utoipa::path(
    operation_id = "routing_profile_replace",
    tag = "institutions",
    params(
        ("institution_id" = String, Path, description = "Institution slug.", example = "curie"),
        ("If-Match" = Option<String>, Header, description = "The ETag of the profile as read.")
    ),
    request_body(content = RoutingProfile, content_type = "application/json"),
    responses(
        (status = 200, description = "The new profile.", body = RoutingProfileView,
            headers(("ETag" = String, description = "The new version, quoted."))),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 403, response = inline(crate::api::problem::ForbiddenProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 412, response = inline(crate::api::problem::PreconditionFailedProblem)),
        (status = 413, response = inline(crate::api::problem::PayloadTooLargeProblem)),
        (status = 415, response = inline(crate::api::problem::UnsupportedMediaTypeProblem)),
        (status = 422, response = inline(crate::api::problem::ValidationProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[put("/institutions/{institution_id}/routing-profile")]
pub async fn routing_profile_replace(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<String>,
    req: HttpRequest,
    body: Valid<RoutingProfile>,
) -> Result<HttpResponse, Error> {
    let if_match = crate::api::extract::if_match(&req);
    let inst = service::institutions::profile_replace(&g, &actor, &path, if_match, body.0).await?;
    Ok(profile_response(inst))
}
