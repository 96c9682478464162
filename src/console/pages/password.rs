//! The password-reset e-mail's link: a form for the new password (typed twice), without a
//! session. Like the sign-in form it carries a double-submit token against forged posts; the
//! reset itself is the API's (`password_reset_confirm`: single use, 30 minutes, every session
//! ended, the same throttle).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use crate::api::extract::ClientAddr;
use crate::api::params::PasswordResetConfirm;
use crate::console::pages::{field, validated};
use crate::console::render::see_other;
use crate::console::session::{self, SIGN_IN_COOKIE, check_sign_in_token, form};
use crate::error::{Error, FieldError};
use crate::service::{self, Guichet};

/// The longest reset token the form keeps (the API's own limit).
const TOKEN_MAX: usize = 200;

/// What the form shows besides its fields: one sentence of `messages.json`, or the API's
/// field errors.
struct Refusal {
    sentence: Option<&'static str>,
    errors: Vec<FieldError>,
}

fn reset_page(
    req: &HttpRequest,
    status: StatusCode,
    reset_token: &str,
    refusal: Refusal,
) -> Result<HttpResponse, Error> {
    crate::console::pages::unsigned_form_page(
        req,
        status,
        "password_reset.html",
        json!({
            "reset_token": reset_token,
            "error": refusal.sentence,
            "errors": refusal.errors,
        }),
    )
}

#[derive(Debug, Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

pub async fn reset_form(req: HttpRequest) -> Result<HttpResponse, Error> {
    let token = web::Query::<TokenQuery>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.into_inner().token)
        .unwrap_or_default();
    if token.is_empty() || token.chars().count() > TOKEN_MAX {
        let refusal = Refusal {
            sentence: Some("password_reset.invalid"),
            errors: Vec::new(),
        };
        return reset_page(&req, StatusCode::BAD_REQUEST, "", refusal);
    }
    let refusal = Refusal {
        sentence: None,
        errors: Vec::new(),
    };
    reset_page(&req, StatusCode::OK, &token, refusal)
}

/// Sets the new password; success goes to the sign-in form with a notice, any refusal back
/// to this form with its reason.
pub async fn reset(
    req: HttpRequest,
    g: web::Data<Guichet>,
    client: ClientAddr,
    body: web::Bytes,
) -> Result<HttpResponse, Error> {
    let f: Vec<(String, String)> = form(&body)?;
    check_sign_in_token(&req, field(&f, "token"))?;
    let reset_token: String = field(&f, "reset_token").chars().take(TOKEN_MAX).collect();
    let again = |status, sentence, errors| {
        reset_page(&req, status, &reset_token, Refusal { sentence, errors })
    };
    let new_password = field(&f, "new_password");
    if new_password != field(&f, "new_password_again") {
        return again(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("password_reset.mismatch"),
            Vec::new(),
        );
    }
    let mut object = serde_json::Map::new();
    object.insert("token".into(), reset_token.clone().into());
    object.insert("new_password".into(), new_password.into());
    let (token, new_password) = match validated::<PasswordResetConfirm>(&object) {
        Ok(v) => v,
        Err(Error::Validation(errors)) if errors.iter().any(|e| e.pointer == "/token") => {
            return again(
                StatusCode::UNAUTHORIZED,
                Some("password_reset.invalid"),
                Vec::new(),
            );
        }
        Err(Error::Validation(errors)) => {
            return again(StatusCode::UNPROCESSABLE_ENTITY, None, errors);
        }
        Err(other) => return Err(other),
    };
    match service::auth::password_reset_confirm(&g, &token, new_password, &client.0).await {
        Ok(()) => {
            let mut res = see_other("/console/sign-in?reset=done");
            session::append_cookie(res.headers_mut(), &req, SIGN_IN_COOKIE, None, 0);
            Ok(res)
        }
        Err(Error::Unauthorized { .. }) => again(
            StatusCode::UNAUTHORIZED,
            Some("password_reset.invalid"),
            Vec::new(),
        ),
        Err(Error::TooManyRequests { retry_after }) => {
            let mut res = again(
                StatusCode::TOO_MANY_REQUESTS,
                Some("password_reset.throttled"),
                Vec::new(),
            )?;
            res.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(retry_after));
            Ok(res)
        }
        Err(other) => Err(other),
    }
}
