//! `/v1/webhook-endpoints`, `/v1/webhook-deliveries` and the event feed `/v1/events`.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::extract::{
    Valid, bad_request, comma_separated, encode_cursor, page_limit, uuid_cursor,
};
use crate::api::params::{WebhookEndpointCreate, WebhookEndpointUpdate};
use crate::api::views::{
    EventFeedPage, WebhookDeliveryDetailView, WebhookDeliveryPage, WebhookDeliveryView,
    WebhookEndpointPage, WebhookEndpointSecretView, WebhookEndpointView, WebhookReplayView, utc,
};
use crate::domain::account::Staff;
use crate::domain::taxonomy::EventType;
use crate::domain::webhook::DeliveryStatus;
use crate::error::Error;
use crate::service::events::FeedCursor;
use crate::service::{self, Guichet};

/// Filters of the endpoint list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EndpointListQuery {
    /// Operators: one institution's endpoints, or `platform` for the platform-wide ones (all
    /// when absent). Institution admins see their institution's.
    #[param(min_length = 2, max_length = 40)]
    pub institution: Option<String>,
    /// How many items to return, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page; absent for the first page.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

/// List webhook endpoints
///
/// Institution admins: their institution's endpoints. Operators: every endpoint, or one
/// institution's, or the platform-wide ones.
#[utoipa::path(
    operation_id = "webhook_endpoint_list",
    tag = "webhooks",
    params(EndpointListQuery),
    responses(
        (status = 200, description = "A page of endpoints, by id.", body = WebhookEndpointPage),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 403, response = inline(crate::api::problem::ForbiddenProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[get("/webhook-endpoints")]
pub async fn webhook_endpoint_list(
    g: web::Data<Guichet>,
    actor: Staff,
    query: web::Query<EndpointListQuery>,
) -> Result<web::Json<WebhookEndpointPage>, Error> {
    let q = query.into_inner();
    let limit = page_limit(q.limit)?;
    let after = uuid_cursor(q.cursor.as_deref())?;
    if let Some(inst) = &q.institution
        && inst != "platform"
    {
        service::known_slug(inst, "institution")?;
    }
    let page = service::webhooks::endpoint_list(&g, &actor, q.institution, after, limit).await?;
    Ok(web::Json(WebhookEndpointPage {
        next_cursor: page.next_after.as_deref().map(encode_cursor),
        items: page.items.into_iter().map(Into::into).collect(),
    }))
}

/// Create a webhook endpoint
///
/// Guichet checks the URL (https, and a host that resolves only to public addresses), then
/// answers with the signing secret, **shown this once**. Every delivery is signed per the
/// Standard Webhooks specification (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
/// Institution admins (their institution) and operators (any, or platform-wide).
#[utoipa::path(
    operation_id = "webhook_endpoint_create",
    tag = "webhooks",
    request_body(content = WebhookEndpointCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "The endpoint and its signing secret.", body = WebhookEndpointSecretView,
            headers(("Location" = String, description = "The endpoint's address."))),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 403, response = inline(crate::api::problem::ForbiddenProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 413, response = inline(crate::api::problem::PayloadTooLargeProblem)),
        (status = 415, response = inline(crate::api::problem::UnsupportedMediaTypeProblem)),
        (status = 422, response = inline(crate::api::problem::ValidationProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[post("/webhook-endpoints")]
pub async fn webhook_endpoint_create(
    g: web::Data<Guichet>,
    actor: Staff,
    body: Valid<WebhookEndpointCreate>,
) -> Result<HttpResponse, Error> {
    let (endpoint, secret) = service::webhooks::endpoint_create(&g, &actor, body.0).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/webhook-endpoints/{}", endpoint.id)))
        .json(WebhookEndpointSecretView {
            endpoint: endpoint.into(),
            secret,
            previous_secret_expires_at: None,
        }))
}

/// Get a webhook endpoint
#[utoipa::path(
    operation_id = "webhook_endpoint_get",
    tag = "webhooks",
    params(("endpoint_id" = String, Path, description = "Endpoint id.")),
    responses(
        (status = 200, description = "The endpoint (never its secret).", body = WebhookEndpointView),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 403, response = inline(crate::api::problem::ForbiddenProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[get("/webhook-endpoints/{endpoint_id}")]
pub async fn webhook_endpoint_get(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<String>,
) -> Result<web::Json<WebhookEndpointView>, Error> {
    Ok(web::Json(
        service::webhooks::endpoint_get(&g, &actor, &path)
            .await?
            .into(),
    ))
}

/// Update a webhook endpoint
///
/// Changes the given fields. `enabled: false` fails its pending deliveries; `enabled: true`
/// starts a disabled endpoint afresh (then replay its failed deliveries).
#[utoipa::path(
    operation_id = "webhook_endpoint_update",
    tag = "webhooks",
    params(("endpoint_id" = String, Path, description = "Endpoint id.")),
    request_body(content = WebhookEndpointUpdate, content_type = "application/json"),
    responses(
        (status = 200, description = "The updated endpoint.", body = WebhookEndpointView),
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
#[patch("/webhook-endpoints/{endpoint_id}")]
pub async fn webhook_endpoint_update(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<String>,
    body: Valid<WebhookEndpointUpdate>,
) -> Result<web::Json<WebhookEndpointView>, Error> {
    Ok(web::Json(
        service::webhooks::endpoint_update(&g, &actor, &path, body.0)
            .await?
            .into(),
    ))
}

/// Delete a webhook endpoint
///
/// It receives nothing more; its pending deliveries fail. Its deliveries stay readable until
/// the feed's retention removes them.
#[utoipa::path(
    operation_id = "webhook_endpoint_delete",
    tag = "webhooks",
    params(("endpoint_id" = String, Path, description = "Endpoint id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 403, response = inline(crate::api::problem::ForbiddenProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[delete("/webhook-endpoints/{endpoint_id}")]
pub async fn webhook_endpoint_delete(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, Error> {
    service::webhooks::endpoint_delete(&g, &actor, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate an endpoint's signing secret
///
/// A new secret, shown this once. For 24 hours every delivery carries two signatures (new and
/// old secret), so the receiver can switch without refusing a delivery.
#[utoipa::path(
    operation_id = "webhook_endpoint_secret_rotate",
    tag = "webhooks",
    params(("endpoint_id" = String, Path, description = "Endpoint id.")),
    responses(
        (status = 200, description = "The new secret.", body = WebhookEndpointSecretView),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 403, response = inline(crate::api::problem::ForbiddenProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[post("/webhook-endpoints/{endpoint_id}/secret")]
pub async fn webhook_endpoint_secret_rotate(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<String>,
) -> Result<web::Json<WebhookEndpointSecretView>, Error> {
    let (endpoint, secret, until) = service::webhooks::secret_rotate(&g, &actor, &path).await?;
    Ok(web::Json(WebhookEndpointSecretView {
        endpoint: endpoint.into(),
        secret,
        previous_secret_expires_at: Some(utc(until)),
    }))
}

/// Send a test event to an endpoint
///
/// A `webhook_endpoint.ping` delivery to this endpoint only (not in the feed); follow it with
/// the delivery's address.
#[utoipa::path(
    operation_id = "webhook_endpoint_ping",
    tag = "webhooks",
    params(("endpoint_id" = String, Path, description = "Endpoint id.")),
    responses(
        (status = 202, description = "The ping's delivery, pending.", body = WebhookDeliveryView,
            headers(("Location" = String, description = "The delivery's address."))),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 403, response = inline(crate::api::problem::ForbiddenProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 409, response = inline(crate::api::problem::ConflictProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[post("/webhook-endpoints/{endpoint_id}/ping")]
pub async fn webhook_endpoint_ping(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let d = service::webhooks::endpoint_ping(&g, &actor, &path).await?;
    Ok(HttpResponse::Accepted()
        .insert_header(("Location", format!("/v1/webhook-deliveries/{}", d.id)))
        .json(WebhookDeliveryView::from(d)))
}

/// Replay an endpoint's failed deliveries
///
/// Every failed delivery of the endpoint is pending again with a fresh retry schedule (for
/// example after it was disabled and fixed). The endpoint must be enabled.
#[utoipa::path(
    operation_id = "webhook_endpoint_replay",
    tag = "webhooks",
    params(("endpoint_id" = String, Path, description = "Endpoint id.")),
    responses(
        (status = 202, description = "How many deliveries are pending again.", body = WebhookReplayView),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 403, response = inline(crate::api::problem::ForbiddenProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 409, response = inline(crate::api::problem::ConflictProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[post("/webhook-endpoints/{endpoint_id}/replay")]
pub async fn webhook_endpoint_replay(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let replayed = service::webhooks::endpoint_replay(&g, &actor, &path).await?;
    Ok(HttpResponse::Accepted().json(WebhookReplayView { replayed }))
}

/// Filters of the delivery list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveryListQuery {
    pub status: Option<DeliveryStatus>,
    /// How many items to return, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page; absent for the first page.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

/// List an endpoint's deliveries
///
/// Newest first, optionally of one status.
#[utoipa::path(
    operation_id = "webhook_delivery_list",
    tag = "webhooks",
    params(("endpoint_id" = String, Path, description = "Endpoint id."), DeliveryListQuery),
    responses(
        (status = 200, description = "A page of deliveries.", body = WebhookDeliveryPage),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 403, response = inline(crate::api::problem::ForbiddenProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[get("/webhook-endpoints/{endpoint_id}/deliveries")]
pub async fn webhook_delivery_list(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<String>,
    query: web::Query<DeliveryListQuery>,
) -> Result<web::Json<WebhookDeliveryPage>, Error> {
    let q = query.into_inner();
    let limit = page_limit(q.limit)?;
    let before = uuid_cursor(q.cursor.as_deref())?;
    let page =
        service::webhooks::deliveries_list(&g, &actor, &path, q.status, before, limit).await?;
    Ok(web::Json(WebhookDeliveryPage {
        next_cursor: page.next_after.as_deref().map(encode_cursor),
        items: page.items.into_iter().map(Into::into).collect(),
    }))
}

/// Get a delivery and its attempts
#[utoipa::path(
    operation_id = "webhook_delivery_get",
    tag = "webhooks",
    params(("delivery_id" = String, Path, description = "Delivery id.")),
    responses(
        (status = 200, description = "The delivery, with each attempt's status code, duration and the start of the answer.", body = WebhookDeliveryDetailView),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 403, response = inline(crate::api::problem::ForbiddenProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[get("/webhook-deliveries/{delivery_id}")]
pub async fn webhook_delivery_get(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<String>,
) -> Result<web::Json<WebhookDeliveryDetailView>, Error> {
    let (d, attempts) = service::webhooks::delivery_get(&g, &actor, &path).await?;
    Ok(web::Json(WebhookDeliveryDetailView {
        delivery: d.into(),
        attempts: attempts.into_iter().map(Into::into).collect(),
    }))
}

/// Re-send a delivery
///
/// Tries it again now, with the same `webhook-id` (receivers dedupe on it), whatever its
/// status.
#[utoipa::path(
    operation_id = "webhook_delivery_resend",
    tag = "webhooks",
    params(("delivery_id" = String, Path, description = "Delivery id.")),
    responses(
        (status = 202, description = "The delivery, pending.", body = WebhookDeliveryView,
            headers(("Location" = String, description = "The delivery's address."))),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 403, response = inline(crate::api::problem::ForbiddenProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 409, response = inline(crate::api::problem::ConflictProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[post("/webhook-deliveries/{delivery_id}/resend")]
pub async fn webhook_delivery_resend(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let d = service::webhooks::delivery_resend(&g, &actor, &path).await?;
    Ok(HttpResponse::Accepted()
        .insert_header(("Location", format!("/v1/webhook-deliveries/{}", d.id)))
        .json(WebhookDeliveryView::from(d)))
}

/// Filters of the event feed.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    /// The `next_cursor` of the previous page; absent to start from the oldest event kept
    /// (events are kept 30 days at least).
    #[param(pattern = r"^[0-9]{1,19}\.[0-9]{1,19}$")]
    pub after: Option<String>,
    /// Comma-separated event types, e.g. `referral.created,referral.status_changed`; all when
    /// absent.
    #[param(min_length = 1)]
    pub types: Option<String>,
    /// How many events to return, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<i64>,
}

/// Read the event feed
///
/// Events in commit order: a reader that stores `next_cursor` and asks again never misses
/// one, even when two changes commit out of the order in which they began. Staff read their
/// institution's events, operators every event. Each item is the same envelope a webhook
/// delivers.
#[utoipa::path(
    operation_id = "event_feed",
    tag = "events",
    params(FeedQuery),
    responses(
        (status = 200, description = "A page of events and where to continue.", body = EventFeedPage),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 403, response = inline(crate::api::problem::ForbiddenProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[get("/events")]
pub async fn event_feed(
    g: web::Data<Guichet>,
    actor: Staff,
    query: web::Query<FeedQuery>,
) -> Result<web::Json<EventFeedPage>, Error> {
    let q = query.into_inner();
    let limit = page_limit(q.limit)?;
    let after = match q.after.as_deref() {
        None => None,
        Some(a) => Some(FeedCursor::parse(a).ok_or_else(|| {
            bad_request(
                "invalid_cursor",
                "`after` is not a `next_cursor` returned by the feed.",
            )
        })?),
    };
    const TYPES: &str =
        "`types` takes comma-separated event types (see the `webhooks` section of the contract).";
    let types: Vec<EventType> = match &q.types {
        None => Vec::new(),
        Some(raw) => comma_separated(raw, "invalid_event_type", TYPES)?,
    };
    if types
        .iter()
        .enumerate()
        .any(|(i, t)| types[..i].contains(t))
    {
        return Err(bad_request(
            "invalid_event_type",
            "`types` names an event type twice.",
        ));
    }
    let page = service::events::feed(&g, &actor, after, types, limit).await?;
    Ok(web::Json(EventFeedPage {
        items: page.items,
        next_cursor: page.next.to_string(),
    }))
}
