//! `/v1/auth/*` and `/v1/me`.

use actix_web::{HttpResponse, get, patch, post, web};

use crate::api::extract::{ClientAddr, MaybeValid, Valid};
use crate::api::params::{
    LoginRequest, LogoutRequest, MeUpdate, PasswordChangeRequest, PasswordResetConfirm,
    PasswordResetRequest, RefreshRequest,
};
use crate::api::views::{MeView, TokenResponse};
use crate::domain::account::Staff;
use crate::error::Error;
use crate::service::{self, Guichet};

fn tokens(pair: service::auth::TokenPair) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(TokenResponse {
            access_token: pair.access_token,
            token_type: "Bearer".into(),
            expires_in: pair.expires_in,
            refresh_token: pair.refresh_token,
        })
}

/// Log in
///
/// Exchanges an institution account's e-mail and password for a short-lived access token
/// (a JWT, at most 15 minutes) and a single-use refresh token. A wrong e-mail and a wrong
/// password get the same 401. After repeated failures on one account or from one address,
/// the answer is 429 with `Retry-After`, even with the right password.
#[utoipa::path(
    operation_id = "auth_login",
    tag = "accounts",
    request_body(content = LoginRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Logged in.", body = TokenResponse),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 413, response = inline(crate::api::problem::PayloadTooLargeProblem)),
        (status = 415, response = inline(crate::api::problem::UnsupportedMediaTypeProblem)),
        (status = 422, response = inline(crate::api::problem::ValidationProblem)),
        (status = 429, response = inline(crate::api::problem::TooManyRequestsProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
)]
#[post("/auth/token")]
pub async fn auth_login(
    g: web::Data<Guichet>,
    client: ClientAddr,
    body: Valid<LoginRequest>,
) -> Result<HttpResponse, Error> {
    let (email, password) = body.0;
    let pair = service::auth::auth_login(&g, &email, password, &client.0).await?;
    Ok(tokens(pair))
}

/// Refresh tokens
///
/// Exchanges a refresh token for a new access token and a new refresh token. Each refresh
/// token works once: presenting a used one again revokes the whole session.
#[utoipa::path(
    operation_id = "auth_refresh",
    tag = "accounts",
    request_body(content = RefreshRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "New tokens; the presented refresh token is now used.", body = TokenResponse),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 413, response = inline(crate::api::problem::PayloadTooLargeProblem)),
        (status = 415, response = inline(crate::api::problem::UnsupportedMediaTypeProblem)),
        (status = 422, response = inline(crate::api::problem::ValidationProblem)),
        (status = 429, response = inline(crate::api::problem::TooManyRequestsProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
)]
#[post("/auth/refresh")]
pub async fn auth_refresh(
    g: web::Data<Guichet>,
    client: ClientAddr,
    body: Valid<RefreshRequest>,
) -> Result<HttpResponse, Error> {
    Ok(tokens(
        service::auth::auth_refresh(&g, &body.0, &client.0).await?,
    ))
}

/// Log out
///
/// Ends the session of the access token at once (on every instance). When a refresh token
/// of the same account is given, its session ends too. The body is optional.
#[utoipa::path(
    operation_id = "auth_logout",
    tag = "accounts",
    request_body(content = LogoutRequest, content_type = "application/json", description = "Optional: the refresh token of a session to end as well."),
    responses(
        (status = 204, description = "Logged out."),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 413, response = inline(crate::api::problem::PayloadTooLargeProblem)),
        (status = 415, response = inline(crate::api::problem::UnsupportedMediaTypeProblem)),
        (status = 422, response = inline(crate::api::problem::ValidationProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[post("/auth/logout")]
pub async fn auth_logout(
    g: web::Data<Guichet>,
    actor: Staff,
    body: MaybeValid<LogoutRequest>,
) -> Result<HttpResponse, Error> {
    service::auth::auth_logout(&g, &actor, body.0.flatten()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Who am I
///
/// The account of the access token: e-mail, role, institution, language and whether it
/// receives SLA reminders.
#[utoipa::path(
    operation_id = "me_get",
    tag = "accounts",
    responses(
        (status = 200, description = "The caller's account.", body = MeView),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[get("/me")]
pub async fn me_get(g: web::Data<Guichet>, actor: Staff) -> Result<web::Json<MeView>, Error> {
    let (user, reminders) = service::users::me_get(&g, &actor).await?;
    Ok(web::Json(MeView::of(user, reminders)))
}

/// Change my preferences
///
/// The language of the caller's e-mails, and whether SLA reminders and breach notices are
/// sent to its address (new and reassigned referrals always are). Absent fields stay.
#[utoipa::path(
    operation_id = "me_update",
    tag = "accounts",
    request_body(content = MeUpdate, content_type = "application/json"),
    responses(
        (status = 200, description = "The caller's account, changed.", body = MeView),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 413, response = inline(crate::api::problem::PayloadTooLargeProblem)),
        (status = 415, response = inline(crate::api::problem::UnsupportedMediaTypeProblem)),
        (status = 422, response = inline(crate::api::problem::ValidationProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[patch("/me")]
pub async fn me_update(
    g: web::Data<Guichet>,
    actor: Staff,
    body: Valid<MeUpdate>,
) -> Result<web::Json<MeView>, Error> {
    let (locale, reminders) = body.0;
    let (user, reminders) = service::users::me_update(&g, &actor, locale, reminders).await?;
    Ok(web::Json(MeView::of(user, reminders)))
}

/// Change my password
///
/// The current password is required: a wrong one is 403 and counts as a failed login of the
/// account (repeated failures are 429). Every other session of the account ends; this one stays. The
/// account is told by e-mail.
#[utoipa::path(
    operation_id = "auth_password_change",
    tag = "accounts",
    request_body(content = PasswordChangeRequest, content_type = "application/json"),
    responses(
        (status = 204, description = "Changed; the other sessions are ended."),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 403, response = inline(crate::api::problem::ForbiddenProblem)),
        (status = 413, response = inline(crate::api::problem::PayloadTooLargeProblem)),
        (status = 415, response = inline(crate::api::problem::UnsupportedMediaTypeProblem)),
        (status = 422, response = inline(crate::api::problem::ValidationProblem)),
        (status = 429, response = inline(crate::api::problem::TooManyRequestsProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[post("/auth/password")]
pub async fn auth_password_change(
    g: web::Data<Guichet>,
    actor: Staff,
    client: ClientAddr,
    body: Valid<PasswordChangeRequest>,
) -> Result<HttpResponse, Error> {
    let (current, new) = body.0;
    service::auth::password_change(&g, &actor, current, new, &client.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Ask for a password reset
///
/// E-mails a single-use link (valid 30 minutes) to the account with this address. The answer
/// is 202 whether or not such an account exists; requests are throttled per address asked for
/// (3 an hour) and per client (20 an hour).
#[utoipa::path(
    operation_id = "auth_password_reset_request",
    tag = "accounts",
    request_body(content = PasswordResetRequest, content_type = "application/json"),
    responses(
        (status = 202, description = "If an account has this address, a reset link is on its way."),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 413, response = inline(crate::api::problem::PayloadTooLargeProblem)),
        (status = 415, response = inline(crate::api::problem::UnsupportedMediaTypeProblem)),
        (status = 422, response = inline(crate::api::problem::ValidationProblem)),
        (status = 429, response = inline(crate::api::problem::TooManyRequestsProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
)]
#[post("/auth/password-reset")]
pub async fn auth_password_reset_request(
    g: web::Data<Guichet>,
    client: ClientAddr,
    body: Valid<PasswordResetRequest>,
) -> Result<HttpResponse, Error> {
    service::auth::password_reset_request(&g, &body.0, &client.0).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Reset a password
///
/// Sets a new password with the token of a reset e-mail: once, within 30 minutes. Every
/// session of the account ends. An unknown, used or expired token is 401.
#[utoipa::path(
    operation_id = "auth_password_reset_confirm",
    tag = "accounts",
    request_body(content = PasswordResetConfirm, content_type = "application/json"),
    responses(
        (status = 204, description = "The password is set; every session of the account is ended."),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 413, response = inline(crate::api::problem::PayloadTooLargeProblem)),
        (status = 415, response = inline(crate::api::problem::UnsupportedMediaTypeProblem)),
        (status = 422, response = inline(crate::api::problem::ValidationProblem)),
        (status = 429, response = inline(crate::api::problem::TooManyRequestsProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
)]
#[post("/auth/password-reset/confirm")]
pub async fn auth_password_reset_confirm(
    g: web::Data<Guichet>,
    client: ClientAddr,
    body: Valid<PasswordResetConfirm>,
) -> Result<HttpResponse, Error> {
    let (token, new) = body.0;
    service::auth::password_reset_confirm(&g, &token, new, &client.0).await?;
    Ok(HttpResponse::NoContent().finish())
}
