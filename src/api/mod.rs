//! HTTP entry points: thin handlers, request params, response views, and the OpenAPI contract.
//! Handlers parse, call one service function, and shape the view; nothing else.

pub mod audit;
pub mod auth;
pub mod contract;
pub mod csv;
pub mod extract;
pub mod health;
pub mod http;
pub mod inquiries;
pub mod institutions;
pub mod mail;
pub mod params;
pub mod problem;
pub mod referrals;
pub mod users;
pub mod views;
pub mod webhooks;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{App, web};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_actix_web::AppExt;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_swagger_ui::SwaggerUi;

use crate::api::extract::TrustForwardedFor;
use crate::api::health::OpenApiJson;
use crate::service::Guichet;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Guichet API",
        description = "Guichet is the single point of contact through which investors and pharma companies reach the oncology teams of the Paris region (AP-HP, Institut Curie, Institut Pasteur, Gustave Roussy). A company submits one inquiry; Guichet routes it, with reasons, to the right contacts at each institution; each institution triages its own referral; the submitter follows one status.\n\nErrors are `application/problem+json` (RFC 9457) with a stable `code` and the `request_id`; validation errors are 422 with one entry per field. Lists use cursor pagination (`limit`, `cursor`; `items`, `next_cursor`).\n\nLanguages: send `Accept-Language: fr` (quality values honoured) for French; English otherwise. Labels, routing reasons and explanations, the transparency report and problem `title`, `detail` and field messages follow it; every answer with such text says its language in `Content-Language` (with `Vary: Accept-Language`). Machine-readable codes and values never change with the language.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
        contact(name = "Guichet platform team", email = "guichet@example.org")
    ),
    servers((url = "http://127.0.0.1:8080", description = "A local Guichet (`cargo run --release -- serve`)")),
    components(schemas(
        problem::Problem,
        crate::error::FieldError,
        referrals::QueueSortParam,
        inquiries::DeskSortParam,
        crate::domain::taxonomy::ActorKind,
        crate::domain::taxonomy::AuditAction,
        crate::domain::taxonomy::AuditObjectType,
        crate::domain::event::Envelope,
        crate::domain::event::InquirySubmittedData,
        crate::domain::event::InquiryWithdrawnData,
        crate::domain::event::InquiryRoutedData,
        crate::domain::event::ReferralCreatedData,
        crate::domain::event::ReferralAssignedData,
        crate::domain::event::ReferralUnassignedData,
        crate::domain::event::ReferralStatusChangedData,
        crate::domain::event::ReferralMessageData,
        crate::domain::event::ReferralSlaData,
        crate::domain::event::RoutingProfileChangedData,
        crate::domain::event::WebhookEndpointDisabledData,
        crate::domain::event::WebhookPingData,
    )),
    modifiers(&SecuritySchemes),
    tags(
        (name = "institutions", description = "The institutions, their strengths, and the taxonomy (public)."),
        (name = "accounts", description = "Logging in and out with an institution account."),
        (name = "contacts", description = "The people of an institution who receive referrals (staff only)."),
        (name = "inquiries", description = "Submitting an inquiry, previewing its routing, and following it with the tracking token."),
        (name = "referrals", description = "An institution's queue: triage, lifecycle, threads, SLA and audit (staff only)."),
        (name = "desk", description = "Inquiries no rule could route, for operators."),
        (name = "audit", description = "The audit trail: who changed what, when (an inquiry's for operators and the institutions holding it; the platform's for operators)."),
        (name = "events", description = "The event feed: every change Guichet publishes, in commit order."),
        (name = "webhooks", description = "Endpoints that Guichet tells of events (Standard Webhooks), their deliveries and attempts."),
        (name = "users", description = "The accounts of an institution (institution admins and operators)."),
        (name = "operations", description = "Health checks and the contract.")
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token from `POST /v1/auth/token`, valid at most 15 minutes.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "metrics_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The `--metrics-token` of the deployment, when it sets one.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "tracking_token",
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Header(
                utoipa::openapi::security::ApiKeyValue::with_description(
                    "X-Tracking-Token",
                    "The tracking token returned once by `POST /v1/inquiries`.",
                ),
            )),
        );
    }
}

/// Every documented route. Registering a handler here is what puts it in the contract.
fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health::health_live)
        .service(health::metrics_get)
        .service(health::health_ready)
        .service(health::openapi_get)
        .service(
            utoipa_actix_web::scope("/v1")
                .service(institutions::institution_list)
                .service(institutions::taxonomy_get)
                .service(institutions::contact_list)
                .service(institutions::contact_create)
                .service(institutions::contact_get)
                .service(institutions::contact_update)
                .service(institutions::institution_get)
                .service(institutions::institution_create)
                .service(institutions::institution_update)
                .service(institutions::contact_reassign)
                .service(users::user_list)
                .service(users::user_create)
                .service(users::user_get)
                .service(users::user_update)
                .service(auth::auth_login)
                .service(auth::auth_refresh)
                .service(auth::auth_logout)
                .service(auth::me_get)
                .service(auth::me_update)
                .service(auth::auth_password_change)
                .service(auth::auth_password_reset_request)
                .service(auth::auth_password_reset_confirm)
                .service(mail::mail_unsubscribe_page)
                .service(mail::mail_unsubscribe)
                .service(mail::mail_settings_get)
                .service(mail::mail_settings_replace)
                .service(mail::mail_message_list)
                .service(inquiries::inquiry_create)
                .service(inquiries::routing_preview)
                .service(inquiries::inquiry_get)
                .service(inquiries::inquiry_message_create)
                .service(inquiries::inquiry_withdraw)
                .service(inquiries::desk_list)
                .service(inquiries::inquiry_route)
                .service(inquiries::routing_profile_get)
                .service(inquiries::routing_profile_replace)
                .service(referrals::referral_list)
                .service(referrals::referral_summary)
                .service(referrals::referral_export)
                .service(referrals::referral_get)
                .service(referrals::referral_transition)
                .service(referrals::referral_assign)
                .service(referrals::referral_unassign)
                .service(referrals::referral_message_list)
                .service(referrals::referral_message_create)
                .service(referrals::referral_message_get)
                .service(referrals::referral_event_list)
                .service(audit::inquiry_event_list)
                .service(audit::audit_list)
                .service(referrals::institution_stats_get)
                .service(referrals::institution_stats_export)
                .service(referrals::transparency_get)
                .service(webhooks::event_feed)
                .service(webhooks::webhook_endpoint_list)
                .service(webhooks::webhook_endpoint_create)
                .service(webhooks::webhook_endpoint_get)
                .service(webhooks::webhook_endpoint_update)
                .service(webhooks::webhook_endpoint_delete)
                .service(webhooks::webhook_endpoint_secret_rotate)
                .service(webhooks::webhook_endpoint_ping)
                .service(webhooks::webhook_endpoint_replay)
                .service(webhooks::webhook_delivery_list)
                .service(webhooks::webhook_delivery_get)
                .service(webhooks::webhook_delivery_resend),
        );
}

/// The contract, as served at `/openapi.json` and checked in as `openapi/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes)
        .split_for_parts();
    // The logout and withdrawal bodies are optional: say so without an anonymous `oneOf` of
    // null.
    for item in doc.paths.paths.values_mut() {
        if let Some(op) = item.post.as_mut()
            && matches!(
                op.operation_id.as_deref(),
                Some("auth_logout" | "inquiry_withdraw")
            )
            && let Some(body) = op.request_body.as_mut()
        {
            body.required = Some(utoipa::openapi::Required::False);
        }
    }
    doc
}

/// The contract as served: the derived document, tightened by [`contract::tighten`].
pub fn openapi_document() -> serde_json::Value {
    tightened(&openapi())
}

fn tightened(derived: &utoipa::openapi::OpenApi) -> serde_json::Value {
    let mut doc = serde_json::to_value(derived).unwrap_or_default();
    contract::tighten(&mut doc);
    doc
}

/// The contract as pretty JSON, exactly as checked in.
pub fn openapi_json() -> String {
    let mut json = serde_json::to_string_pretty(&openapi_document()).unwrap_or_default();
    json.push('\n');
    json
}

/// Which methods each documented path accepts, to answer 405 instead of 404.
pub struct RouteTable {
    routes: Vec<(Vec<String>, Vec<String>)>,
}

impl RouteTable {
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path.split('/').map(str::to_owned).collect();
                let mut methods = Vec::new();
                let ops = [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ];
                for (m, present) in ops {
                    if present {
                        methods.push(m.to_owned());
                    }
                }
                (segments, methods)
            })
            .collect();
        RouteTable { routes }
    }

    /// The methods allowed on `path` (for example `GET, POST`), if it is a documented path.
    pub fn allowed_methods(&self, path: &str) -> Option<String> {
        let wanted: Vec<&str> = path.split('/').collect();
        self.routes.iter().find_map(|(segments, methods)| {
            let matches = segments.len() == wanted.len()
                && segments.iter().zip(&wanted).all(|(s, w)| {
                    (s.starts_with('{') && s.ends_with('}') && !w.is_empty()) || s == w
                });
            matches.then(|| methods.join(", "))
        })
    }
}

/// Deployment choices that shape the HTTP layer.
#[derive(Debug, Clone, Default)]
pub struct HttpOptions {
    pub trust_forwarded_for: bool,
    /// Browser origins allowed to call the API (none by default).
    pub cors: std::sync::Arc<http::CorsPolicy>,
    /// Where clients reach this service (`--public-url`): first in the served `servers`.
    pub public_url: Option<String>,
    /// When set, `GET /metrics` wants `Authorization: Bearer <this>`.
    pub metrics_token: Option<String>,
    /// Set when the process was asked to stop: readiness answers 503 and every answer closes
    /// its connection, so that load balancers and keep-alive clients move away before the
    /// listener closes.
    pub draining: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// The application: used by `serve` and, unchanged, by the integration tests.
pub fn app(
    g: Guichet,
    options: HttpOptions,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let derived = openapi();
    let route_table = RouteTable::from_openapi(&derived);
    let mut served = tightened(&derived);
    if let Some(url) = &options.public_url
        && let Some(servers) = served["servers"].as_array_mut()
    {
        servers.insert(
            0,
            serde_json::json!({"url": url, "description": "This deployment"}),
        );
    }
    let doc_json = serde_json::to_string_pretty(&served).unwrap_or_default();
    let (app, _) = App::new()
        .app_data(web::Data::new(g))
        .app_data(web::Data::new(route_table))
        .app_data(web::Data::new(OpenApiJson(doc_json)))
        .app_data(web::Data::new(TrustForwardedFor(
            options.trust_forwarded_for,
        )))
        .app_data(web::Data::new(options.cors.clone()))
        .app_data(web::Data::new(http::Draining(options.draining.clone())))
        .app_data(web::Data::new(health::MetricsToken(
            options.metrics_token.clone(),
        )))
        .app_data(extract::query_config())
        .app_data(extract::path_config())
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes)
        .split_for_parts();
    app.service(
        SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::from("/openapi.json")),
    )
    .service(web::redirect("/docs", "/docs/"))
    .service(crate::console::scope())
    .default_service(web::to(problem::default_service))
    .wrap(from_fn(http::hygiene))
    .wrap(from_fn(problem::request_context))
}
