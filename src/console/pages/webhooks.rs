//! Webhook endpoints (institution admins: their own; operators: all), and one endpoint with
//! its recent deliveries: a re-send per delivery and re-enabling a disabled endpoint (the
//! endpoint-disabled e-mail's link lands here). The service layer decides who may see what.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use crate::api::views::{WebhookDeliveryView, WebhookEndpointView};
use crate::console::render::{page, page_with, see_other};
use crate::console::session::Console;
use crate::error::Error;
use crate::service::webhooks::EndpointChange;
use crate::service::{self, Guichet};

/// How many endpoints the list shows, and how many recent deliveries an endpoint's page.
const ENDPOINTS_SHOWN: i64 = 100;
const DELIVERIES_SHOWN: i64 = 25;

pub async fn list(g: web::Data<Guichet>, console: Console) -> Result<HttpResponse, Error> {
    let endpoints: Vec<WebhookEndpointView> =
        service::webhooks::endpoint_list(&g, &console.staff, None, None, ENDPOINTS_SHOWN)
            .await?
            .items
            .into_iter()
            .map(Into::into)
            .collect();
    page(
        &console,
        "webhooks.html",
        json!({"nav": "webhooks", "endpoints": endpoints}),
    )
}

#[derive(Debug, Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

async fn render(
    g: &Guichet,
    console: &Console,
    id: &str,
    status: StatusCode,
    notice: Option<&'static str>,
) -> Result<HttpResponse, Error> {
    let endpoint: WebhookEndpointView = service::webhooks::endpoint_get(g, &console.staff, id)
        .await?
        .into();
    let deliveries: Vec<WebhookDeliveryView> =
        service::webhooks::deliveries_list(g, &console.staff, id, None, None, DELIVERIES_SHOWN)
            .await?
            .items
            .into_iter()
            .map(Into::into)
            .collect();
    page_with(
        status,
        console,
        "webhook.html",
        json!({
            "nav": "webhooks",
            "e": endpoint,
            "deliveries": deliveries,
            "notice": notice,
        }),
    )
}

pub async fn show(
    req: HttpRequest,
    g: web::Data<Guichet>,
    console: Console,
    path: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let done = web::Query::<DoneQuery>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.into_inner().done);
    let notice = match done.as_deref() {
        Some("enabled") => Some("webhooks.done_enabled"),
        Some("resent") => Some("webhooks.done_resent"),
        _ => None,
    };
    render(&g, &console, &path, StatusCode::OK, notice).await
}

/// Enables a disabled endpoint again (its failure run starts afresh).
pub async fn enable(
    g: web::Data<Guichet>,
    console: Console,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Error> {
    console.posted(&body)?;
    let change = EndpointChange {
        url: None,
        description: None,
        event_types: None,
        enabled: Some(true),
    };
    match service::webhooks::endpoint_update(&g, &console.staff, &path, change).await {
        Ok(e) => Ok(see_other(&format!(
            "/console/webhooks/{}?done=enabled",
            e.id
        ))),
        Err(Error::Conflict { .. }) => {
            render(
                &g,
                &console,
                &path,
                StatusCode::CONFLICT,
                Some("webhooks.conflict"),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// Tries a delivery again now; back to its endpoint's page.
pub async fn resend(
    g: web::Data<Guichet>,
    console: Console,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Error> {
    console.posted(&body)?;
    match service::webhooks::delivery_resend(&g, &console.staff, &path).await {
        Ok(d) => Ok(see_other(&format!(
            "/console/webhooks/{}?done=resent",
            d.endpoint_id
        ))),
        Err(Error::Conflict { .. }) => {
            // The endpoint is disabled: its page says so, with the button to enable it.
            let (d, _) = service::webhooks::delivery_get(&g, &console.staff, &path).await?;
            render(
                &g,
                &console,
                &d.endpoint_id,
                StatusCode::CONFLICT,
                Some("webhooks.resend_disabled"),
            )
            .await
        }
        Err(e) => Err(e),
    }
}
