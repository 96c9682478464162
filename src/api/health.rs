//! Operations: liveness, readiness, and the contract itself.

use actix_web::{HttpResponse, get, web};

use crate::api::views::HealthView;
use crate::error::Error;
use crate::service::Guichet;

/// The OpenAPI document, serialized once at start.
pub struct OpenApiJson(pub String);

/// An OpenAPI 3.1 document (see <https://spec.openapis.org/oas/v3.1.0>); only its main keys
/// are described here.
#[derive(utoipa::ToSchema)]
#[schema(example = json!({"openapi": "3.1.0", "info": {"title": "Guichet API", "version": "0.1.0"}, "paths": {}}))]
#[allow(dead_code)]
pub struct OpenApiDocument {
    /// The OpenAPI version, `3.1.0`.
    openapi: String,
    #[schema(value_type = Object)]
    info: serde_json::Value,
    #[schema(value_type = Object)]
    paths: serde_json::Value,
}

/// The Prometheus text exposition format (version 0.0.4).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, example = "# TYPE guichet_login_failures_total counter\nguichet_login_failures_total 3\n")]
#[allow(dead_code)]
pub struct MetricsText(String);

/// The `--metrics-token`, if any.
pub struct MetricsToken(pub Option<String>);

/// Metrics
///
/// Prometheus text format: requests by method, route template and status, their durations, the
/// database pool, failed logins and throttled calls. When the server was started with
/// `--metrics-token`, it wants that token as a bearer; without one, the metrics are open (and
/// the token is then ignored).
#[utoipa::path(
    operation_id = "metrics_get",
    tag = "operations",
    responses(
        (status = 200, description = "The metrics.", content_type = "text/plain; version=0.0.4", body = MetricsText),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
    ),
    security(("metrics_token" = []))
)]
#[get("/metrics")]
pub async fn metrics_get(
    g: web::Data<Guichet>,
    token: web::Data<MetricsToken>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, Error> {
    let presented = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let text = crate::service::metrics_scrape(&g, token.0.as_deref(), presented)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(text))
}

/// Liveness
///
/// The process is up. Does not touch the database.
#[utoipa::path(
    operation_id = "health_live",
    tag = "operations",
    responses((status = 200, description = "Alive.", body = HealthView)),
)]
#[get("/health/live")]
pub async fn health_live() -> web::Json<HealthView> {
    web::Json(HealthView {
        status: "ok".into(),
    })
}

/// Readiness
///
/// The service can reach its database and is not stopping; 503 when it cannot reach it
/// (`database_unavailable`) or has been asked to stop (`shutting_down`: take it out of the
/// load balancer).
#[utoipa::path(
    operation_id = "health_ready",
    tag = "operations",
    responses(
        (status = 200, description = "Ready to serve.", body = HealthView),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
)]
#[get("/health/ready")]
pub async fn health_ready(
    g: web::Data<Guichet>,
    req: actix_web::HttpRequest,
) -> Result<web::Json<HealthView>, Error> {
    if crate::api::http::Draining::now(&req) {
        return Err(Error::ShuttingDown);
    }
    crate::service::ready(&g).await?;
    Ok(web::Json(HealthView {
        status: "ok".into(),
    }))
}

/// The OpenAPI document
///
/// This contract, as JSON (OpenAPI 3.1). The same document is checked in as
/// `openapi/openapi.json`.
#[utoipa::path(
    operation_id = "openapi_get",
    tag = "operations",
    responses((status = 200, description = "The OpenAPI document.", content_type = "application/json", body = OpenApiDocument)),
)]
#[get("/openapi.json")]
pub async fn openapi_get(doc: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(doc.0.clone())
}
