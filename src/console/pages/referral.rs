//! A referral's page: the inquiry, why it came here, the SLA, the thread (internal notes apart
//! from messages to the submitter), the transitions its status allows with the fields each
//! needs, the assignment and the audit trail. Forms carry the version they were read at: a
//! form made stale by someone else's change shows the new state instead of overwriting it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde_json::{Map, Value, json};

use crate::api::params::{StaffMessageCreate, TransitionRequest};
use crate::api::views::{ContactView, EventView, ReferralDetailView};
use crate::console::pages::{field, fields, validated};
use crate::console::render::{page_with, see_other};
use crate::console::session::Console;
use crate::domain::taxonomy::DeclineReason;
use crate::error::{Error, FieldError};
use crate::service::{self, Guichet, IfMatch};

/// What the page shows besides the referral: a notice (stale form, done) and a form's errors.
#[derive(Default)]
struct Outcome {
    notice: Option<&'static str>,
    errors: Vec<FieldError>,
    form: Option<&'static str>,
    draft: Map<String, Value>,
}

async fn render(
    g: &Guichet,
    console: &Console,
    id: &str,
    status: StatusCode,
    outcome: Outcome,
) -> Result<HttpResponse, Error> {
    let detail = service::triage::referral_get(g, &console.staff, id).await?;
    let institution_id = detail.referral.institution_id.clone();
    let view = ReferralDetailView::new(detail, console.locale);
    let contacts: Vec<ContactView> =
        service::institutions::contact_list(g, &console.staff, &institution_id, None, 100)
            .await?
            .items
            .into_iter()
            .map(Into::into)
            .collect();
    let events: Vec<EventView> = service::triage::referral_events(g, &console.staff, id, None, 100)
        .await?
        .items
        .into_iter()
        .map(Into::into)
        .collect();
    let targets: Vec<Value> = service::institutions::institution_list(g)
        .await?
        .into_iter()
        .filter(|i| i.id != institution_id && i.active)
        .map(|i| json!({"id": i.id, "name": i.name}))
        .collect();
    page_with(
        status,
        console,
        "referral.html",
        json!({
            "nav": "queue",
            "r": view,
            "contacts": contacts,
            "events": events,
            "targets": targets,
            "decline_reasons": DeclineReason::ALL,
            "notice": outcome.notice,
            "errors": outcome.errors,
            "error_form": outcome.form,
            "draft": outcome.draft,
        }),
    )
}

pub async fn show(
    g: web::Data<Guichet>,
    console: Console,
    path: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let notice = None;
    render(
        &g,
        &console,
        &path,
        StatusCode::OK,
        Outcome {
            notice,
            ..Default::default()
        },
    )
    .await
}

/// What a refused form becomes: a stale version shows the new state (409), field errors
/// are shown beside the form with what was typed (422); anything else is the error page.
async fn refused(
    g: &Guichet,
    console: &Console,
    id: &str,
    form_name: &'static str,
    draft: Map<String, Value>,
    e: Error,
) -> Result<HttpResponse, Error> {
    match e {
        Error::PreconditionFailed => {
            let outcome = Outcome {
                notice: Some("referral.stale"),
                ..Default::default()
            };
            render(g, console, id, StatusCode::CONFLICT, outcome).await
        }
        Error::Validation(errors) => {
            let outcome = Outcome {
                errors,
                form: Some(form_name),
                draft,
                ..Default::default()
            };
            render(g, console, id, StatusCode::UNPROCESSABLE_ENTITY, outcome).await
        }
        Error::Conflict { .. } => {
            let outcome = Outcome {
                notice: Some("referral.conflict"),
                ..Default::default()
            };
            render(g, console, id, StatusCode::CONFLICT, outcome).await
        }
        other => Err(other),
    }
}

/// The version a form was read at (`-1`, never current, when it is missing or not a number).
fn version(form: &[(String, String)]) -> IfMatch {
    IfMatch::Version(field(form, "version").trim().parse().unwrap_or(-1))
}

fn back(id: &str, anchor: &str) -> HttpResponse {
    see_other(&format!("/console/referrals/{id}#{anchor}"))
}

pub async fn transition(
    g: web::Data<Guichet>,
    console: Console,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Error> {
    let f = console.posted(&body)?;
    let draft = fields(
        &f,
        &["to", "reason_code", "reason_text", "message", "forward_to"],
    );
    let outcome = match validated::<TransitionRequest>(&draft) {
        Ok((to, input)) => {
            service::triage::referral_transition(
                &g,
                &console.staff,
                &path,
                Some(version(&f)),
                to,
                input,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(_) => Ok(back(&path, "referral-status")),
        Err(e) => {
            let name = match draft.get("to").and_then(Value::as_str) {
                Some("declined") => "transition-declined",
                Some("forwarded") => "transition-forwarded",
                Some("accepted") => "transition-accepted",
                Some("info_requested") => "transition-info_requested",
                _ => "transition",
            };
            refused(&g, &console, &path, name, draft, e).await
        }
    }
}

pub async fn post_message(
    g: web::Data<Guichet>,
    console: Console,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Error> {
    let f = console.posted(&body)?;
    let draft = fields(&f, &["body", "visibility"]);
    let outcome = match validated::<StaffMessageCreate>(&draft) {
        Ok((text, visibility)) => {
            service::triage::referral_message_create(&g, &console.staff, &path, text, visibility)
                .await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(_) => Ok(back(&path, "thread")),
        Err(e) => refused(&g, &console, &path, "post", draft, e).await,
    }
}

/// Assigns the chosen contact, or unassigns when none is chosen.
pub async fn assign(
    g: web::Data<Guichet>,
    console: Console,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Error> {
    let f = console.posted(&body)?;
    let contact = field(&f, "contact_id").trim().to_owned();
    let outcome = if contact.is_empty() {
        service::triage::referral_unassign(&g, &console.staff, &path, Some(version(&f))).await
    } else {
        service::triage::referral_assign(&g, &console.staff, &path, Some(version(&f)), contact)
            .await
    };
    match outcome {
        Ok(_) => Ok(back(&path, "assignment")),
        Err(e) => refused(&g, &console, &path, "assign", Map::new(), e).await,
    }
}
