//! The console's pages: sign-in and sign-out here, the work pages in their modules. Each
//! handler reads its input, calls the service layer (which decides who may do what), and
//! renders a template with the API's own views.

mod desk;
mod password;
mod queue;
mod referral;
mod webhooks;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::api::extract::{ClientAddr, parse_and_validate};
use crate::console::render::{self, html, see_other};
use crate::console::session::{
    self, Console, SESSION_COOKIE, SIGN_IN_COOKIE, check_sign_in_token, form, safe_next,
};
use crate::domain::taxonomy::Role;
use crate::error::Error;
use crate::service::{self, Guichet};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("", web::get().to(index))
        .route("/", web::get().to(index))
        .route("/assets/{name}", web::get().to(asset))
        .route("/sign-in", web::get().to(sign_in_form))
        .route("/sign-in", web::post().to(sign_in))
        .route("/sign-out", web::post().to(sign_out))
        .route("/password-reset", web::get().to(password::reset_form))
        .route("/password-reset", web::post().to(password::reset))
        .route("/queue", web::get().to(queue::queue))
        .route("/referrals/{id}", web::get().to(referral::show))
        .route(
            "/referrals/{id}/transition",
            web::post().to(referral::transition),
        )
        .route(
            "/referrals/{id}/messages",
            web::post().to(referral::post_message),
        )
        .route("/referrals/{id}/assignee", web::post().to(referral::assign))
        .route("/desk", web::get().to(desk::show))
        .route("/desk/{id}/routing", web::post().to(desk::route))
        .route("/webhooks", web::get().to(webhooks::list))
        .route("/webhooks/{id}", web::get().to(webhooks::show))
        .route("/webhooks/{id}/enable", web::post().to(webhooks::enable))
        .route(
            "/webhook-deliveries/{id}/resend",
            web::post().to(webhooks::resend),
        );
}

async fn index() -> HttpResponse {
    see_other("/console/queue")
}

/// Unknown console paths: the 404 page.
pub async fn not_found() -> Result<HttpResponse, Error> {
    Err(Error::NotFound { resource: "page" })
}

const CSS: &str = include_str!("../../../templates/console/assets/console.css");
const JS: &str = include_str!("../../../templates/console/assets/console.js");

async fn asset(name: web::Path<String>) -> Result<HttpResponse, Error> {
    let (body, kind) = match name.as_str() {
        "console.css" => (CSS, "text/css; charset=utf-8"),
        "console.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return Err(Error::NotFound { resource: "page" }),
    };
    Ok(HttpResponse::Ok().content_type(kind).body(body))
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
    /// `done`: the password was just reset.
    reset: Option<String>,
}

/// A form of a reader without a session (sign-in, password reset): `template` with `context`,
/// the page's language and a fresh double-submit token, also set as the sign-in cookie.
pub fn unsigned_form_page(
    req: &HttpRequest,
    status: StatusCode,
    template: &str,
    mut context: serde_json::Value,
) -> Result<HttpResponse, Error> {
    let token = crate::auth::random_secret();
    context["locale"] = json!(crate::api::problem::request_locale().as_str());
    context["token"] = json!(token);
    let mut res = html(status, render::render(template, context)?);
    session::append_cookie(res.headers_mut(), req, SIGN_IN_COOKIE, Some(&token), 3600);
    Ok(res)
}

fn sign_in_page(
    req: &HttpRequest,
    status: StatusCode,
    next: &str,
    email: &str,
    error: Option<&str>,
    notice: Option<&str>,
) -> Result<HttpResponse, Error> {
    unsigned_form_page(
        req,
        status,
        "sign_in.html",
        json!({"next": next, "email": email, "error": error, "notice": notice}),
    )
}

async fn sign_in_form(req: HttpRequest) -> Result<HttpResponse, Error> {
    let q = web::Query::<NextQuery>::from_query(req.query_string())
        .ok()
        .map(web::Query::into_inner);
    let (next, reset) = q.map_or((None, None), |q| (q.next, q.reset));
    let notice = (reset.as_deref() == Some("done")).then_some("sign_in.reset_done");
    sign_in_page(
        &req,
        StatusCode::OK,
        &safe_next(next.as_deref()),
        "",
        None,
        notice,
    )
}

#[derive(Debug, Deserialize)]
struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    token: String,
    next: Option<String>,
}

/// Signs in with the staff account: the API's login (same password rules, throttles and
/// session), its access token kept in an `HttpOnly` cookie.
async fn sign_in(
    req: HttpRequest,
    g: web::Data<Guichet>,
    client: ClientAddr,
    body: web::Bytes,
) -> Result<HttpResponse, Error> {
    let f: SignInForm = form(&body)?;
    check_sign_in_token(&req, &f.token)?;
    let next = safe_next(f.next.as_deref());
    let email = f.email.trim().chars().take(320).collect::<String>();
    match service::auth::auth_login(&g, &email, f.password, &client.0).await {
        Ok(pair) => {
            let mut res = see_other(&next);
            session::append_cookie(
                res.headers_mut(),
                &req,
                SESSION_COOKIE,
                Some(&pair.access_token),
                g.tokens.ttl_seconds(),
            );
            session::append_cookie(res.headers_mut(), &req, SIGN_IN_COOKIE, None, 0);
            Ok(res)
        }
        Err(Error::Unauthorized { .. }) => sign_in_page(
            &req,
            StatusCode::UNAUTHORIZED,
            &next,
            &email,
            Some("sign_in.wrong"),
            None,
        ),
        Err(Error::TooManyRequests { retry_after }) => {
            let mut res = sign_in_page(
                &req,
                StatusCode::TOO_MANY_REQUESTS,
                &next,
                &email,
                Some("sign_in.throttled"),
                None,
            )?;
            res.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(retry_after));
            Ok(res)
        }
        Err(other) => Err(other),
    }
}

/// Ends the session on every instance (the API's logout) and clears the cookie.
async fn sign_out(
    req: HttpRequest,
    g: web::Data<Guichet>,
    console: Console,
    body: web::Bytes,
) -> Result<HttpResponse, Error> {
    console.posted(&body)?;
    service::auth::auth_logout(&g, &console.staff, None).await?;
    let mut res = see_other("/console/sign-in");
    session::append_cookie(res.headers_mut(), &req, SESSION_COOKIE, None, 0);
    Ok(res)
}

/// Whether the signed-in person runs the platform (every institution).
pub fn is_operator(console: &Console) -> bool {
    console.staff.role == Role::Operator
}

/// A form's fields as a JSON object for the API's own validation: empty fields are absent.
pub fn fields(form: &[(String, String)], names: &[&str]) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in form {
        if names.contains(&k.as_str()) && !v.trim().is_empty() {
            out.insert(k.clone(), Value::String(v.clone()));
        }
    }
    out
}

pub fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

pub fn validated<T: crate::api::extract::Input>(
    object: &Map<String, Value>,
) -> Result<T::Output, Error> {
    let bytes = serde_json::to_vec(object).map_err(Error::internal)?;
    parse_and_validate::<T>(&bytes)
}
