//! `/v1/mail/*` (the one-click unsubscribe link of reminders) and an institution's mail
//! settings.

use actix_web::{HttpResponse, get, post, put, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::extract::Valid;
use crate::api::extract::{encode_cursor, page_limit, uuid_cursor};
use crate::api::params::MailSettingsUpdate;
use crate::api::views::{MailMessagePage, MailMessageView, MailSettingsView};
use crate::domain::account::Staff;
use crate::error::Error;
use crate::service::{self, Guichet};

/// The token of an unsubscribe link.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UnsubscribeQuery {
    /// The `token` of the link in a reminder's `List-Unsubscribe` header or footer.
    #[param(
        min_length = 1,
        max_length = 600,
        pattern = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"
    )]
    pub token: String,
}

/// An HTML page for a person, not a program.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, example = "<!DOCTYPE html>\n<html lang=\"en\">…</html>")]
#[allow(dead_code)]
pub struct HtmlPage(String);

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Confirm stopping reminders
///
/// The page a person reaches by following the unsubscribe link of a reminder: one button that
/// stops them (`POST` to the same address). Following the link changes nothing, so that mail
/// scanners that open links do not unsubscribe anyone.
#[utoipa::path(
    operation_id = "mail_unsubscribe_page",
    tag = "accounts",
    params(UnsubscribeQuery),
    responses(
        (status = 200, description = "A confirmation page.", content_type = "text/html; charset=utf-8", body = HtmlPage),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
    ),
)]
#[get("/mail/unsubscribe")]
pub async fn mail_unsubscribe_page(
    g: web::Data<Guichet>,
    query: web::Query<UnsubscribeQuery>,
) -> Result<HttpResponse, Error> {
    service::mail::unsubscribe_check(&g, &query.token)?;
    let token = escape_html(&query.token);
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Guichet: stop reminders</title></head>\
         <body><main><h1>Stop SLA reminders</h1>\
         <p>You will still be told of new and reassigned referrals. / Vous serez toujours informé·e des nouvelles demandes qui vous sont confiées.</p>\
         <form method=\"post\" action=\"?token={token}\"><button type=\"submit\">Stop reminders / Ne plus recevoir de rappels</button></form>\
         </main></body></html>\n"
    );
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(page))
}

/// Stop reminders
///
/// One-click unsubscribe (RFC 8058): the address of the token receives no more SLA reminders
/// or breach notices; a token Guichet did not make is 404. Mail clients send `List-Unsubscribe=One-Click` as a form body, which is
/// accepted and ignored, like any other body. Idempotent. Turn reminders on again with
/// `PATCH /v1/me`.
#[utoipa::path(
    operation_id = "mail_unsubscribe",
    tag = "accounts",
    params(UnsubscribeQuery),
    responses(
        (status = 204, description = "No more reminders to this address."),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
)]
#[post("/mail/unsubscribe")]
pub async fn mail_unsubscribe(
    g: web::Data<Guichet>,
    query: web::Query<UnsubscribeQuery>,
) -> Result<HttpResponse, Error> {
    service::mail::unsubscribe(&g, &query.token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Read the mail settings
///
/// Where the institution's new unassigned referrals are announced: its team address, or
/// (`null`) every triager. Institution admins and operators.
#[utoipa::path(
    operation_id = "mail_settings_get",
    tag = "institutions",
    params(("institution_id" = String, Path, description = "Institution slug, e.g. `curie`.", example = "curie")),
    responses(
        (status = 200, description = "The institution's mail settings.", body = MailSettingsView),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 403, response = inline(crate::api::problem::ForbiddenProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[get("/institutions/{institution_id}/mail-settings")]
pub async fn mail_settings_get(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<String>,
) -> Result<web::Json<MailSettingsView>, Error> {
    let team_email = service::institutions::mail_settings_get(&g, &actor, &path).await?;
    Ok(web::Json(MailSettingsView { team_email }))
}

/// Set the mail settings
///
/// A team address told of new unassigned referrals instead of every triager, or `null` to tell
/// the triagers again. Institution admins and operators.
#[utoipa::path(
    operation_id = "mail_settings_replace",
    tag = "institutions",
    params(("institution_id" = String, Path, description = "Institution slug, e.g. `curie`.", example = "curie")),
    request_body(content = MailSettingsUpdate, content_type = "application/json"),
    responses(
        (status = 200, description = "The institution's mail settings, changed.", body = MailSettingsView),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 403, response = inline(crate::api::problem::ForbiddenProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 413, response = inline(crate::api::problem::PayloadTooLargeProblem)),
        (status = 415, response = inline(crate::api::problem::UnsupportedMediaTypeProblem)),
        (status = 422, response = inline(crate::api::problem::ValidationProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[put("/institutions/{institution_id}/mail-settings")]
pub async fn mail_settings_replace(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<String>,
    body: Valid<MailSettingsUpdate>,
) -> Result<web::Json<MailSettingsView>, Error> {
    let team_email = service::institutions::mail_settings_set(&g, &actor, &path, body.0).await?;
    Ok(web::Json(MailSettingsView { team_email }))
}

/// Filters of the e-mail list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MailListQuery {
    /// Operators: one institution's messages (all, platform ones included, when absent).
    /// Institution admins: their own institution (the default).
    pub institution: Option<String>,
    /// Only messages in this state.
    pub status: Option<crate::domain::mail::MailStatus>,
    /// How many messages to return, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page; absent for the newest messages.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

/// List e-mails
///
/// What Guichet sent, what waits for a retry and what failed, with the SMTP server's answer:
/// institution admins see their institution's, operators everyone's. Newest first. The text
/// of a message is never shown (it may hold a reset link).
#[utoipa::path(
    operation_id = "mail_message_list",
    tag = "institutions",
    params(MailListQuery),
    responses(
        (status = 200, description = "A page of e-mails.", body = MailMessagePage),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 403, response = inline(crate::api::problem::ForbiddenProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[get("/mail-messages")]
pub async fn mail_message_list(
    g: web::Data<Guichet>,
    actor: Staff,
    query: web::Query<MailListQuery>,
) -> Result<web::Json<MailMessagePage>, Error> {
    let q = query.into_inner();
    let limit = page_limit(q.limit)?;
    let cursor = uuid_cursor(q.cursor.as_deref())?;
    let page = service::mail::message_list(
        &g,
        &actor,
        q.institution,
        q.status.map(|s| s.as_str()),
        cursor,
        limit,
    )
    .await?;
    Ok(web::Json(MailMessagePage {
        next_cursor: page.next_after.as_deref().map(encode_cursor),
        items: page.items.into_iter().map(MailMessageView::from).collect(),
    }))
}
