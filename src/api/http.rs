//! HTTP as integrators expect it: caching and sniffing headers on every response, and CORS for
//! the browser pages of partners and of the cluster.

use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};

use crate::api::problem::Problem;

/// Whether the server is draining before it stops (see `HttpOptions::draining`).
pub struct Draining(pub Arc<std::sync::atomic::AtomicBool>);

impl Draining {
    pub fn now(req: &actix_web::HttpRequest) -> bool {
        req.app_data::<web::Data<Draining>>()
            .is_some_and(|d| d.0.load(std::sync::atomic::Ordering::Relaxed))
    }
}

/// Which browser origins may call the API. Empty by default: no page of another origin may.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsPolicy {
    any: bool,
    origins: Vec<String>,
}

impl CorsPolicy {
    /// `*` (any origin) or a comma-separated list of origins such as
    /// `https://partners.example.org,https://cluster.example.org`.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut policy = CorsPolicy::default();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if item == "*" {
                policy.any = true;
                continue;
            }
            let origin = item.trim_end_matches('/');
            let valid = ["https://", "http://"].iter().any(|scheme| {
                origin.strip_prefix(scheme).is_some_and(|host| {
                    !host.is_empty()
                        && host.bytes().all(|b| {
                            b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b':'
                        })
                })
            });
            if !valid {
                return Err(format!(
                    "`{item}` is not an origin (scheme://host[:port], no path), nor `*`"
                ));
            }
            policy.origins.push(origin.to_ascii_lowercase());
        }
        Ok(policy)
    }

    fn allows(&self, origin: &str) -> bool {
        self.any || self.origins.iter().any(|o| o.eq_ignore_ascii_case(origin))
    }

    /// The `Access-Control-Allow-Origin` value: `*` for a wildcard policy (so that no browser
    /// sends credentials with it), else the origin itself.
    fn allow_origin(&self, origin: &str) -> Option<HeaderValue> {
        if !self.allows(origin) {
            return None;
        }
        if self.any {
            Some(HeaderValue::from_static("*"))
        } else {
            HeaderValue::from_str(origin).ok()
        }
    }
}

const ALLOWED_METHODS: &str = "GET, POST, PUT, PATCH, DELETE";
const ALLOWED_HEADERS: &str =
    "Authorization, Content-Type, If-Match, Idempotency-Key, X-Tracking-Token, X-Request-Id";
const EXPOSED_HEADERS: &str =
    "ETag, Location, Retry-After, RateLimit, RateLimit-Policy, X-Request-Id, Idempotent-Replayed";
const PREFLIGHT_MAX_AGE: &str = "600";

/// Answers CORS preflights, and sets on every response:
/// - `X-Content-Type-Options: nosniff`;
/// - `Cache-Control: no-store` on every answer to a request that carried credentials (a bearer
///   or a tracking token) and on every answer to a write (logins and submissions return
///   secrets); public reads stay cacheable;
/// - the CORS headers, for an allowed `Origin`.
pub async fn hygiene(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let policy = req
        .app_data::<web::Data<Arc<CorsPolicy>>>()
        .map(|p| p.get_ref().clone())
        .unwrap_or_default();
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let preflight = req.method() == Method::OPTIONS
        && origin.is_some()
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let sensitive = req.headers().contains_key(header::AUTHORIZATION)
        || req.headers().contains_key("x-tracking-token")
        || !(req.method() == Method::GET || req.method() == Method::HEAD);

    let mut res = if has_control_characters(req.query_string()) {
        // PostgreSQL refuses NUL in text and SQLite stores it: refuse control characters for
        // both, before any handler.
        let problem = actix_web::ResponseError::error_response(&crate::error::Error::BadRequest {
            code: "invalid_query",
            detail: crate::domain::catalogue::Msg::QueryControlCharacter.into(),
        });
        req.into_response(problem)
    } else if preflight {
        let origin = origin.as_deref().unwrap_or_default();
        let response = match policy.allow_origin(origin) {
            Some(allow) => {
                let mut r = actix_web::HttpResponse::NoContent().finish();
                let h = r.headers_mut();
                h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static(ALLOWED_METHODS),
                );
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    HeaderValue::from_static(ALLOWED_HEADERS),
                );
                h.insert(
                    header::ACCESS_CONTROL_MAX_AGE,
                    HeaderValue::from_static(PREFLIGHT_MAX_AGE),
                );
                r
            }
            None => Problem::new(
                StatusCode::FORBIDDEN,
                "origin_not_allowed",
                "This origin may not call the API from a browser.",
            )
            .response(),
        };
        req.into_response(response)
    } else {
        next.call(req).await?.map_into_boxed_body()
    };

    rate_limit_headers(&mut res);
    if Draining::now(res.request()) {
        res.response_mut()
            .head_mut()
            .set_connection_type(actix_web::http::ConnectionType::Close);
    }
    let headers = res.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if sensitive {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if let Some(origin) = origin {
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
        if !preflight && let Some(allow) = policy.allow_origin(&origin) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
            headers.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(EXPOSED_HEADERS),
            );
        }
    }
    Ok(res)
}

/// Whether the percent-decoded query string holds a control character (NUL, line breaks...).
fn has_control_characters(query: &str) -> bool {
    let bytes = query.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
                match u8::from_str_radix(hex, 16) {
                    Ok(decoded) => {
                        i += 2;
                        decoded
                    }
                    Err(_) => b'%',
                }
            }
            other => other,
        };
        if b < 0x20 || b == 0x7f {
            return true;
        }
        i += 1;
    }
    false
}

/// The quotas a throttled operation used, as the IETF `RateLimit-Policy` and `RateLimit`
/// fields (draft-ietf-httpapi-ratelimit-headers): `"login-account";q=10;w=900` and
/// `"login-account";r=7;t=840` (remaining, seconds until the window resets).
fn rate_limit_headers(res: &mut ServiceResponse<BoxBody>) {
    let quotas: Vec<crate::service::Quota> = res
        .request()
        .extensions()
        .get::<std::sync::Arc<std::sync::Mutex<Vec<crate::service::Quota>>>>()
        .and_then(|q| q.lock().ok().map(|q| q.clone()))
        .unwrap_or_default();
    if quotas.is_empty() {
        return;
    }
    let policy = quotas
        .iter()
        .map(|q| format!("\"{}\";q={};w={}", q.policy, q.limit, q.window_seconds))
        .collect::<Vec<_>>()
        .join(", ");
    let state = quotas
        .iter()
        .map(|q| format!("\"{}\";r={};t={}", q.policy, q.remaining, q.reset_seconds))
        .collect::<Vec<_>>()
        .join(", ");
    let headers = res.headers_mut();
    if let (Ok(p), Ok(s)) = (
        HeaderValue::from_str(&policy),
        HeaderValue::from_str(&state),
    ) {
        headers.insert(header::HeaderName::from_static("ratelimit-policy"), p);
        headers.insert(header::HeaderName::from_static("ratelimit"), s);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_found_encoded_or_not() {
        assert!(has_control_characters("q=her%002"));
        assert!(has_control_characters("q=a%0Ab"));
        assert!(has_control_characters("q=%7f"));
        assert!(has_control_characters("q=a\u{1}"));
        assert!(!has_control_characters("q=h%C3%A9r%20x&limit=5"));
        assert!(!has_control_characters("q=100%"));
        assert!(!has_control_characters("q=%zz"));
        assert!(!has_control_characters(""));
    }

    #[test]
    fn origins_are_checked_at_start() {
        let p = CorsPolicy::parse("https://partners.example.org, http://localhost:3000/").unwrap();
        assert!(p.allows("https://partners.example.org"));
        assert!(p.allows("http://localhost:3000"));
        assert!(!p.allows("https://evil.example.org"));
        assert!(CorsPolicy::parse("").unwrap() == CorsPolicy::default());
        assert!(CorsPolicy::parse("https://a.example/path").is_err());
        assert!(CorsPolicy::parse("partners.example.org").is_err());
        assert!(
            CorsPolicy::parse("*")
                .unwrap()
                .allows("https://any.example")
        );
    }
}
