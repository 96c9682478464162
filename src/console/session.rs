//! The console's session: a cookie holding the API's own access token (so that the session is
//! the database session of `POST /v1/auth/token`, ended at once by sign-out or by disabling the
//! account, on every instance), renewed while it is used; a CSRF token per session on every
//! form; and the sign-in form's own double-submit token.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::api::extract::{ClientAddr, TrustForwardedFor};
use crate::auth::constant_time_eq;
use crate::domain::account::{Staff, User};
use crate::domain::taxonomy::Locale;
use crate::error::Error;
use crate::service::{self, Client, Guichet};

pub const SESSION_COOKIE: &str = "guichet_session";
pub const SIGN_IN_COOKIE: &str = "guichet_signin";

/// A fresh access token for the session cookie, set on the response by the console's frame.
#[derive(Debug, Clone)]
pub struct Renewed(pub String);

/// The signed-in person of a console page.
pub struct Console {
    pub staff: Staff,
    pub user: User,
    /// The account's language.
    pub locale: Locale,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
    pub client: Client,
}

/// No session, or one that ended: pages send the browser to the sign-in form.
pub fn signed_out() -> Error {
    Error::Unauthorized {
        code: "signed_out",
        detail: "You are not signed in, or your session ended. Sign in again.",
    }
}

fn forged() -> Error {
    Error::Forbidden {
        detail: "This form is out of date or did not come from the console. Reload the page and try again.".into(),
    }
}

/// The value of cookie `name` (the `Cookie` header read by hand: one small parser instead of
/// actix's cookie feature and its crates).
pub fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"').to_owned())
        .filter(|v| !v.is_empty())
}

/// Whether cookies must be `Secure`: served over TLS, behind a trusted proxy that says the
/// browser used HTTPS, or announced at an `https://` public URL.
pub fn secure(req: &HttpRequest) -> bool {
    let trusted = req
        .app_data::<web::Data<TrustForwardedFor>>()
        .is_some_and(|t| t.0);
    let forwarded_https = trusted
        && req
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    let public_https = req
        .app_data::<web::Data<Guichet>>()
        .is_some_and(|g| g.mail.public_url.starts_with("https://"));
    req.app_config().secure() || forwarded_https || public_https
}

/// A `Set-Cookie` value for the console's path; `None` clears the cookie.
pub fn set_cookie(req: &HttpRequest, name: &str, value: Option<&str>, max_age: u64) -> String {
    let secure = if secure(req) { "; Secure" } else { "" };
    match value {
        Some(v) => format!(
            "{name}={v}; Path=/console; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
        ),
        None => format!("{name}=; Path=/console; Max-Age=0; HttpOnly; SameSite=Strict{secure}"),
    }
}

/// Adds a `Set-Cookie` of [`set_cookie`] to `headers`.
pub fn append_cookie(
    headers: &mut header::HeaderMap,
    req: &HttpRequest,
    name: &str,
    value: Option<&str>,
    max_age: u64,
) {
    if let Ok(v) = header::HeaderValue::from_str(&set_cookie(req, name, value, max_age)) {
        headers.append(header::SET_COOKIE, v);
    }
}

impl Console {
    /// A posted form's fields, refused (403) unless it carries this session's CSRF token.
    pub fn posted(&self, body: &[u8]) -> Result<Vec<(String, String)>, Error> {
        let f: Vec<(String, String)> = form(body)?;
        let token = f
            .iter()
            .find(|(k, _)| k == "csrf")
            .map_or("", |(_, v)| v.as_str());
        self.check_csrf(token)?;
        Ok(f)
    }

    /// Refuses a form whose CSRF token is not this session's (403).
    pub fn check_csrf(&self, presented: &str) -> Result<(), Error> {
        if constant_time_eq(presented.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(forged())
        }
    }
}

/// The sign-in form's token must equal its cookie (double submit): a form posted from another
/// site carries neither.
pub fn check_sign_in_token(req: &HttpRequest, presented: &str) -> Result<(), Error> {
    match cookie(req, SIGN_IN_COOKIE) {
        Some(c)
            if !presented.is_empty() && constant_time_eq(c.as_bytes(), presented.as_bytes()) =>
        {
            Ok(())
        }
        _ => Err(forged()),
    }
}

impl FromRequest for Console {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let g = req.app_data::<web::Data<Guichet>>().cloned();
        let token = cookie(req, SESSION_COOKIE);
        let client = ClientAddr::from_request(req, payload).into_inner();
        let req = req.clone();
        Box::pin(async move {
            let g = g.ok_or_else(|| Error::internal("application state missing"))?;
            let client = client?.0;
            let token = token.ok_or_else(signed_out)?;
            let session = service::auth::session_of(&g, &token)
                .await
                .map_err(|e| match e {
                    Error::Unauthorized { .. } => signed_out(),
                    other => other,
                })?;
            req.extensions_mut()
                .insert(crate::console::PageLocale(session.user.locale));
            if let Some(fresh) = service::auth::session_renew(&g, &session)? {
                req.extensions_mut().insert(Renewed(fresh));
            }
            Ok(Console {
                csrf: service::auth::csrf_token(&g, &session.staff.session_id),
                locale: session.user.locale,
                staff: session.staff,
                user: session.user,
                client,
            })
        })
    }
}

/// A form body (`application/x-www-form-urlencoded`) as `T`; a body that is not one is a 400.
pub fn form<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    serde_urlencoded::from_bytes(body).map_err(|_| Error::BadRequest {
        code: "invalid_form",
        detail: "The form could not be read. Reload the page and try again.".into(),
    })
}

/// A query string with its empty values dropped (a GET form sends every field, filled or
/// not) and repeated keys joined by commas (checkboxes), as `T`.
pub fn query<T: DeserializeOwned>(raw: &str) -> Result<T, Error> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw).map_err(|_| {
        crate::api::extract::bad_request("invalid_query", "The address could not be read.")
    })?;
    let mut joined: Vec<(String, String)> = Vec::new();
    for (k, v) in pairs {
        let v = v.trim().to_owned();
        if v.is_empty() {
            continue;
        }
        match joined.iter_mut().find(|(key, _)| *key == k) {
            Some((_, existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            None => joined.push((k, v)),
        }
    }
    let encoded = serde_urlencoded::to_string(&joined).map_err(Error::internal)?;
    web::Query::<T>::from_query(&encoded)
        .map(web::Query::into_inner)
        .map_err(|e| crate::api::extract::bad_request("invalid_query", &e.to_string()))
}

/// Where to go after signing in: only a console path of this site (never `//host` or a URL).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with("/console")
                && !n.starts_with("//")
                && !n.contains("\\")
                && !n.contains("://")
                && n.chars().all(|c| !c.is_control()) =>
        {
            n.to_owned()
        }
        _ => "/console/queue".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_paths_are_followed_after_sign_in() {
        assert_eq!(
            safe_next(Some("/console/referrals/x?a=1")),
            "/console/referrals/x?a=1"
        );
        for hostile in [
            "//evil.example/console",
            "https://evil.example/console",
            "/console\\..\\x",
            "/v1/referrals",
            "/console/x\r\nSet-Cookie: a=b",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/console/queue", "{hostile}");
        }
        assert_eq!(safe_next(None), "/console/queue");
    }
}
