//! The triage console: server-rendered HTML pages under `/console` for institution staff and
//! operators, a front door beside `api` on the same service layer and authorization
//! (`console → service`, reusing `api`'s query parsing and views). It works without
//! JavaScript; its one script and style sheet are compiled into the binary.

pub mod pages;
pub mod render;
pub mod session;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpMessage, HttpResponse, web};
use serde_json::json;

use crate::domain::taxonomy::Locale;
use session::{Renewed, SESSION_COOKIE};

/// The language of a console page: the signed-in account's, else `Accept-Language`.
#[derive(Debug, Clone, Copy)]
pub struct PageLocale(pub Locale);

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Every console route, under one frame (security headers, error pages, cookie renewal).
pub fn scope() -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<BoxBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::scope("/console")
        .configure(pages::routes)
        .default_service(web::to(pages::not_found))
        .wrap(from_fn(frame))
}

/// Wraps every console response: an error becomes an HTML page in the reader's language (a
/// GET without a session goes to the sign-in form), a renewed session token is set, and the
/// security headers are added.
async fn frame(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let get = req.method() == Method::GET || req.method() == Method::HEAD;
    let asset = req.path().starts_with("/console/assets/");
    let here = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_owned(), |p| p.as_str().to_owned());
    let res = next.call(req).await?.map_into_boxed_body();
    let failed = res.response().error().is_some();
    let mut res = if failed {
        error_page(res, get, &here).await
    } else {
        res
    };
    let renewed = res.request().extensions().get::<Renewed>().cloned();
    if let Some(Renewed(token)) = renewed
        && !failed
    {
        let ttl = res
            .request()
            .app_data::<web::Data<crate::service::Guichet>>()
            .map_or(900, |g| g.tokens.ttl_seconds());
        let req = res.request().clone();
        session::append_cookie(res.headers_mut(), &req, SESSION_COOKIE, Some(&token), ttl);
    }
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_FRAME_OPTIONS,
        header::HeaderValue::from_static("DENY"),
    );
    h.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static(if asset && !failed {
            "public, max-age=3600"
        } else {
            "no-store"
        }),
    );
    Ok(res)
}

/// The HTML page of a failed request, from the problem the service layer gave.
async fn error_page(
    res: ServiceResponse<BoxBody>,
    get: bool,
    here: &str,
) -> ServiceResponse<BoxBody> {
    let status = res.status();
    let locale = res
        .request()
        .extensions()
        .get::<PageLocale>()
        .map_or_else(crate::api::problem::request_locale, |l| l.0);
    if status == StatusCode::UNAUTHORIZED && get {
        let location = format!(
            "/console/sign-in?next={}",
            percent_encoding::utf8_percent_encode(here, percent_encoding::NON_ALPHANUMERIC)
        );
        let (req, _) = res.into_parts();
        return ServiceResponse::new(req, render::see_other(&location));
    }
    let retry_after = res.headers().get(header::RETRY_AFTER).cloned();
    let (req, old) = res.into_parts();
    let body = actix_web::body::to_bytes(old.into_body())
        .await
        .unwrap_or_default();
    let problem: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let signed_out = status == StatusCode::UNAUTHORIZED;
    let context = json!({
        "locale": locale.as_str(),
        "status": status.as_u16(),
        "title": problem["title"],
        "detail": problem["detail"],
        "errors": problem["errors"],
        "request_id": problem["request_id"],
        "signed_out": signed_out,
        "next": here,
    });
    let mut page = match render::render("error.html", context) {
        Ok(body) => render::html(status, body),
        Err(_) => HttpResponse::build(status)
            .content_type("text/plain; charset=utf-8")
            .body(format!("{status}")),
    };
    if let Some(v) = retry_after {
        page.headers_mut().insert(header::RETRY_AFTER, v);
    }
    if signed_out {
        session::append_cookie(page.headers_mut(), &req, SESSION_COOKIE, None, 0);
    }
    ServiceResponse::new(req, page)
}
