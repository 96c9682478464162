//! Errors on the wire: every failure is `application/problem+json` (RFC 9457) with a stable
//! `code` and the request id. This file is the only place that maps errors to status codes.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use futures_util::FutureExt;
use serde::Serialize;
use utoipa::{ToResponse, ToSchema};

use crate::domain::catalogue::{self, Msg, Text};
use crate::domain::taxonomy::Locale;
use crate::error::{Error, FieldError};

pub const PROBLEM_JSON: &str = "application/problem+json";
pub const REQUEST_ID_HEADER: &str = "x-request-id";

tokio::task_local! {
    static REQUEST_ID: String;
    static LOCALE: Locale;
}

/// The language of the request being served (from `Accept-Language`; English outside one).
pub fn request_locale() -> Locale {
    LOCALE.try_with(|l| *l).unwrap_or(Locale::En)
}

/// The language a handler answers in (from `Accept-Language`, English by default). Taking it
/// marks the response with `Content-Language` and `Vary: Accept-Language`.
#[derive(Debug, Clone, Copy)]
pub struct Lang(pub Locale);

/// Set on a request whose handler took [`Lang`].
#[derive(Debug, Clone, Copy)]
struct Localized(Locale);

impl actix_web::FromRequest for Lang {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        use actix_web::HttpMessage;
        let locale = request_locale();
        req.extensions_mut().insert(Localized(locale));
        std::future::ready(Ok(Lang(locale)))
    }
}

/// Marks a response as carrying text in the request's language: `Content-Language` and
/// `Vary: Accept-Language`.
pub fn mark_language(headers: &mut actix_web::http::header::HeaderMap, locale: Locale) {
    headers.insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(locale.as_str()),
    );
    let vary = headers
        .get(header::VARY)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match vary {
        Some(v) if v.to_ascii_lowercase().contains("accept-language") => {}
        Some(v) => {
            if let Ok(value) = HeaderValue::from_str(&format!("{v}, Accept-Language")) {
                headers.insert(header::VARY, value);
            }
        }
        None => {
            headers.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:guichet:problem:not_found",
    "title": "Not Found",
    "status": 404,
    "detail": "No contact with this id is visible to you.",
    "code": "not_found",
    "request_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f"
}))]
pub struct Problem {
    /// A URN naming the kind of problem: `urn:guichet:problem:<code>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// The HTTP reason phrase.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong, for a person.
    pub detail: String,
    /// Stable machine-readable code, e.g. `not_found`, `validation_failed`, `invalid_token`.
    pub code: String,
    /// The id of the request (also in the `X-Request-Id` header); quote it to support.
    pub request_id: String,
    /// For `validation_failed`: one entry per wrong field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The language of `title`, `detail` and the field messages.
    #[serde(skip)]
    pub locale: Locale,
}

impl Problem {
    /// A problem in the request's language. `detail` is a catalogue message, or English text
    /// (other languages then read the code's usual sentence).
    pub fn new(status: StatusCode, code: &str, detail: impl Into<Text>) -> Self {
        let locale = request_locale();
        let detail = detail.into().render(locale, Msg::for_problem_code(code));
        Self::rendered(status, code, detail, locale)
    }

    fn rendered(status: StatusCode, code: &str, detail: String, locale: Locale) -> Self {
        Problem {
            problem_type: format!("urn:guichet:problem:{code}"),
            title: Msg::title_for_status(status.as_u16()).render(locale),
            status: status.as_u16(),
            detail,
            code: code.to_owned(),
            request_id: REQUEST_ID
                .try_with(Clone::clone)
                .unwrap_or_else(|_| "none".to_owned()),
            errors: Vec::new(),
            locale,
        }
    }

    pub fn response(self) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body =
            catalogue::with_locale(self.locale, || serde_json::to_vec(&self)).unwrap_or_default();
        let mut response = HttpResponse::build(status)
            .insert_header((header::CONTENT_TYPE, PROBLEM_JSON))
            .body(body);
        mark_language(response.headers_mut(), self.locale);
        response
    }
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        match self {
            Error::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Error::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Error::Forbidden { .. } => StatusCode::FORBIDDEN,
            Error::NotFound { .. } => StatusCode::NOT_FOUND,
            Error::Conflict { .. } => StatusCode::CONFLICT,
            Error::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Error::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            Error::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::RequestTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Error::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::Unavailable(_) | Error::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let code = match self {
            Error::BadRequest { code, .. }
            | Error::Unauthorized { code, .. }
            | Error::Conflict { code, .. } => code,
            Error::Forbidden { .. } => "forbidden",
            Error::NotFound { .. } => "not_found",
            Error::PreconditionFailed => "stale_version",
            Error::PreconditionRequired => "if_match_required",
            Error::PayloadTooLarge { .. } => "payload_too_large",
            Error::RequestTimeout { .. } => "body_timeout",
            Error::UnsupportedMediaType => "unsupported_media_type",
            Error::Validation(_) => "validation_failed",
            Error::TooManyRequests { .. } => "too_many_requests",
            Error::ShuttingDown => "shutting_down",
            Error::Unavailable(cause) => {
                // Expected during an outage: a warning, not an error page for the on-call.
                tracing::warn!(error = %cause, "database unavailable");
                "database_unavailable"
            }
            Error::Internal(cause) => {
                tracing::error!(error = %cause, "internal error");
                "internal_error"
            }
        };
        let locale = request_locale();
        let mut problem = Problem::rendered(status, code, self.detail(code, locale), locale);
        if let Error::Validation(errors) = self {
            problem.errors = errors.clone();
        }
        let mut response = problem.response();
        let headers = response.headers_mut();
        match self {
            Error::TooManyRequests { retry_after } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            Error::Unauthorized { .. } => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Error::Unavailable(_) | Error::ShuttingDown => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        response
    }
}

/// The request id: the caller's `X-Request-Id` when it is a sane token, else a new UUIDv7.
fn request_id_of(req: &ServiceRequest) -> String {
    req.headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
}

/// Wraps every request: assigns the request id, logs one line, turns a panic into a logged 500,
/// and rewrites any error response that is not yet problem+json (actix's own 404/405/413...).
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let request_id = request_id_of(&req);
    let locale = Locale::from_accept_language(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let id = request_id.clone();
    // The request is not cloned before routing (actix needs it unshared), so failures that
    // carry no request are answered through `InternalError::from_response`.
    let metrics = req
        .app_data::<actix_web::web::Data<crate::service::Guichet>>()
        .map(|g| g.metrics.clone());
    let outcome: Result<ServiceResponse<BoxBody>, HttpResponse> = REQUEST_ID
        .scope(
            request_id.clone(),
            LOCALE.scope(locale, async move {
                match AssertUnwindSafe(next.call(req)).catch_unwind().await {
                    Ok(Ok(res)) => Ok(mark_localized(normalize_error(res.map_into_boxed_body()))),
                    Ok(Err(err)) => Err(err.error_response()),
                    Err(_) => {
                        tracing::error!(request.id = %id, "handler panicked");
                        Err(Error::internal("handler panicked").error_response())
                    }
                }
            }),
        )
        .await;
    let request_id_value = HeaderValue::from_str(&request_id).ok();
    let header_name = header::HeaderName::from_static(REQUEST_ID_HEADER);
    let mut route: Option<String> = None;
    let (status, result) = match outcome {
        Ok(mut res) => {
            route = res.request().match_pattern();
            if let Some(v) = request_id_value {
                res.headers_mut().insert(header_name, v);
            }
            (res.status().as_u16(), Ok(res))
        }
        Err(mut response) => {
            if let Some(v) = request_id_value {
                response.headers_mut().insert(header_name, v);
            }
            let status = response.status().as_u16();
            let err = actix_web::error::InternalError::from_response("request failed", response);
            (status, Err(err.into()))
        }
    };
    if let Some(g) = metrics {
        g.observe_request(
            method.as_str(),
            route.as_deref(),
            status,
            started.elapsed().as_secs_f64(),
        );
    }
    tracing::info!(
        request.id = %request_id,
        http.method = %method,
        http.path = %path,
        http.status = status,
        latency_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    result
}

fn mark_localized(mut res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    use actix_web::HttpMessage;
    let localized = res.request().extensions().get::<Localized>().copied();
    if let Some(Localized(locale)) = localized {
        mark_language(res.headers_mut(), locale);
    }
    res
}

fn normalize_error(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = res.status();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    // The console's error pages are HTML by design (see `console::frame`).
    let is_page = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem || is_page {
        return res;
    }
    let (code, detail) = match status {
        StatusCode::NOT_FOUND => ("not_found", Msg::ProblemNotFound),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", Msg::ProblemMethodNotAllowed),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", Msg::ProblemPayloadTooLarge),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported_media_type", Msg::ProblemUnsupportedMediaType)
        }
        StatusCode::BAD_REQUEST => ("bad_request", Msg::ProblemBadRequest),
        s if s.is_server_error() => ("internal_error", Msg::ProblemInternalError),
        _ => ("error", Msg::ProblemError),
    };
    let (req, old) = res.into_parts();
    let mut fresh = Problem::new(status, code, detail).response();
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE
            && name != header::CONTENT_LENGTH
            && name != header::CONTENT_LANGUAGE
            && name != header::VARY
        {
            fresh.headers_mut().insert(name.clone(), value.clone());
        }
    }
    ServiceResponse::new(req, fresh)
}

/// Unknown routes: 405 (with `Allow`) when the path exists with other methods, else 404.
pub async fn default_service(req: HttpRequest) -> HttpResponse {
    let routes = req.app_data::<actix_web::web::Data<crate::api::RouteTable>>();
    match routes.and_then(|r| r.allowed_methods(req.path())) {
        Some(allowed) => {
            let mut res = Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                Msg::MethodNotAllowedHere {
                    method: req.method().to_string(),
                    allowed: allowed.clone(),
                },
            )
            .response();
            if let Ok(v) = HeaderValue::from_str(&allowed) {
                res.headers_mut().insert(header::ALLOW, v);
            }
            res
        }
        None => Problem::new(StatusCode::NOT_FOUND, "not_found", Msg::ProblemNotFound).response(),
    }
}

// Reusable documented error responses (inlined in each operation of the contract).

#[derive(ToResponse)]
#[response(
    description = "The request cannot be read: malformed JSON, a wrong query parameter or header.",
    content_type = "application/problem+json",
    example = json!({"type": "urn:guichet:problem:malformed_json", "title": "Bad Request", "status": 400, "detail": "The body is not valid JSON: expected `,` or `}` at line 1 column 18.", "code": "malformed_json", "request_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f"})
)]
pub struct BadRequestProblem(#[allow(dead_code)] Problem);

#[derive(ToResponse)]
#[response(
    description = "Missing, invalid, expired or revoked credentials.",
    content_type = "application/problem+json",
    example = json!({"type": "urn:guichet:problem:invalid_token", "title": "Unauthorized", "status": 401, "detail": "The access token is missing, invalid, expired or revoked.", "code": "invalid_token", "request_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f"})
)]
pub struct UnauthorizedProblem(#[allow(dead_code)] Problem);

#[derive(ToResponse)]
#[response(
    description = "Authenticated, but this role may not do this.",
    content_type = "application/problem+json",
    example = json!({"type": "urn:guichet:problem:forbidden", "title": "Forbidden", "status": 403, "detail": "Only an institution administrator or an operator may do this.", "code": "forbidden", "request_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f"})
)]
pub struct ForbiddenProblem(#[allow(dead_code)] Problem);

#[derive(ToResponse)]
#[response(
    description = "Missing, or not visible to the caller (another institution's objects look missing).",
    content_type = "application/problem+json",
    example = json!({"type": "urn:guichet:problem:not_found", "title": "Not Found", "status": 404, "detail": "No contact with this id is visible to you.", "code": "not_found", "request_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f"})
)]
pub struct NotFoundProblem(#[allow(dead_code)] Problem);

#[derive(ToResponse)]
#[response(
    description = "Conflicts with the current state (for example an e-mail address already in use).",
    content_type = "application/problem+json",
    example = json!({"type": "urn:guichet:problem:email_taken", "title": "Conflict", "status": 409, "detail": "An account with this e-mail address already exists.", "code": "email_taken", "request_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f"})
)]
pub struct ConflictProblem(#[allow(dead_code)] Problem);

#[derive(ToResponse)]
#[response(
    description = "The body is larger than 256 KiB.",
    content_type = "application/problem+json",
    example = json!({"type": "urn:guichet:problem:payload_too_large", "title": "Payload Too Large", "status": 413, "detail": "The request body is larger than 262144 bytes.", "code": "payload_too_large", "request_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f"})
)]
pub struct PayloadTooLargeProblem(#[allow(dead_code)] Problem);

#[derive(ToResponse)]
#[response(
    description = "The body is not `application/json`.",
    content_type = "application/problem+json",
    example = json!({"type": "urn:guichet:problem:unsupported_media_type", "title": "Unsupported Media Type", "status": 415, "detail": "The request body must be JSON (Content-Type: application/json).", "code": "unsupported_media_type", "request_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f"})
)]
pub struct UnsupportedMediaTypeProblem(#[allow(dead_code)] Problem);

#[derive(ToResponse)]
#[response(
    description = "Some fields are wrong: one entry per field in `errors`, with its JSON pointer.",
    content_type = "application/problem+json",
    example = json!({"type": "urn:guichet:problem:validation_failed", "title": "Unprocessable Entity", "status": 422, "detail": "Some fields are wrong: see `errors`.", "code": "validation_failed", "request_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f", "errors": [{"pointer": "/email", "code": "invalid_email", "message": "must be an e-mail address such as name@example.org"}, {"pointer": "/name", "code": "required", "message": "is required"}]})
)]
pub struct ValidationProblem(#[allow(dead_code)] Problem);

#[derive(ToResponse)]
#[response(
    description = "Too many requests; retry after the number of seconds in `Retry-After`.",
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds to wait before retrying.")),
    example = json!({"type": "urn:guichet:problem:too_many_requests", "title": "Too Many Requests", "status": 429, "detail": "Too many requests: wait for the number of seconds in Retry-After.", "code": "too_many_requests", "request_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f"})
)]
pub struct TooManyRequestsProblem(#[allow(dead_code)] Problem);

#[derive(ToResponse)]
#[response(
    description = "An unexpected error; nothing internal is disclosed. Quote the request id to support.",
    content_type = "application/problem+json",
    example = json!({"type": "urn:guichet:problem:internal_error", "title": "Internal Server Error", "status": 500, "detail": "An unexpected error occurred.", "code": "internal_error", "request_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f"})
)]
pub struct InternalProblem(#[allow(dead_code)] Problem);

#[derive(ToResponse)]
#[response(
    description = "The database is unreachable; retry after `Retry-After` seconds.",
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds to wait before retrying.")),
    example = json!({"type": "urn:guichet:problem:database_unavailable", "title": "Service Unavailable", "status": 503, "detail": "The database is unreachable for the moment; retry after the seconds in Retry-After.", "code": "database_unavailable", "request_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f"})
)]
pub struct UnavailableProblem(#[allow(dead_code)] Problem);

#[derive(ToResponse)]
#[response(
    description = "The referral changed since it was read: fetch it again and retry with its new ETag.",
    content_type = "application/problem+json",
    example = json!({"type": "urn:guichet:problem:stale_version", "title": "Precondition Failed", "status": 412, "detail": "The object changed since you read it: fetch it again and retry with its new ETag.", "code": "stale_version", "request_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f"})
)]
pub struct PreconditionFailedProblem(#[allow(dead_code)] Problem);

#[derive(ToResponse)]
#[response(
    description = "This change needs an If-Match header with the ETag read.",
    content_type = "application/problem+json",
    example = json!({"type": "urn:guichet:problem:if_match_required", "title": "Precondition Required", "status": 428, "detail": "This change requires an If-Match header with the ETag you read.", "code": "if_match_required", "request_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f"})
)]
pub struct PreconditionRequiredProblem(#[allow(dead_code)] Problem);
