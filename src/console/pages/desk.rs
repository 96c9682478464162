//! The operators' desk: inquiries no rule could route, each with a form to route it by hand
//! (the institutions to send it to, and why). Operators only, as the service layer decides.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::api::params::ManualRouting;
use crate::api::views::DeskItemView;
use crate::console::pages::{field, validated};
use crate::console::render::{page_with, see_other};
use crate::console::session::Console;
use crate::error::{Error, FieldError};
use crate::service::inquiries::DeskFilter;
use crate::service::{self, Guichet};

/// How many inquiries the desk shows, oldest first.
const DESK_SHOWN: i64 = 100;

/// A refused routing form: which inquiry's, its errors and what was chosen.
#[derive(Default)]
struct Outcome {
    notice: Option<&'static str>,
    inquiry: Option<String>,
    errors: Vec<FieldError>,
    draft: Map<String, Value>,
}

async fn render(
    g: &Guichet,
    console: &Console,
    status: StatusCode,
    outcome: Outcome,
) -> Result<HttpResponse, Error> {
    let items: Vec<DeskItemView> =
        service::inquiries::desk_list(g, &console.staff, DeskFilter::default(), DESK_SHOWN)
            .await?
            .items
            .into_iter()
            .map(|d| DeskItemView::new(d, console.locale))
            .collect();
    let institutions: Vec<Value> = service::institutions::institution_list(g)
        .await?
        .into_iter()
        .filter(|i| i.active)
        .map(|i| json!({"id": i.id, "name": i.name}))
        .collect();
    page_with(
        status,
        console,
        "desk.html",
        json!({
            "nav": "desk",
            "items": items,
            "institutions": institutions,
            "notice": outcome.notice,
            "error_inquiry": outcome.inquiry,
            "errors": outcome.errors,
            "draft": outcome.draft,
        }),
    )
}

#[derive(Debug, Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

pub async fn show(
    req: HttpRequest,
    g: web::Data<Guichet>,
    console: Console,
) -> Result<HttpResponse, Error> {
    let done = web::Query::<DoneQuery>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.into_inner().done);
    let outcome = Outcome {
        notice: (done.as_deref() == Some("routed")).then_some("desk.done_routed"),
        ..Default::default()
    };
    render(&g, &console, StatusCode::OK, outcome).await
}

/// Routes one inquiry by hand; back to the desk.
pub async fn route(
    g: web::Data<Guichet>,
    console: Console,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Error> {
    let f = console.posted(&body)?;
    let chosen: Vec<Value> = f
        .iter()
        .filter(|(k, v)| k == "institutions" && !v.trim().is_empty())
        .map(|(_, v)| Value::String(v.clone()))
        .collect();
    let mut draft = Map::new();
    draft.insert("institutions".into(), Value::Array(chosen));
    let reason = field(&f, "reason");
    if !reason.trim().is_empty() {
        draft.insert("reason".into(), Value::String(reason.to_owned()));
    }
    let outcome = match validated::<ManualRouting>(&draft) {
        Ok((institutions, reason)) => {
            service::inquiries::inquiry_route_manually(
                &g,
                &console.staff,
                &path,
                institutions,
                reason,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(_) => Ok(see_other("/console/desk?done=routed")),
        Err(Error::Validation(errors)) => {
            let outcome = Outcome {
                inquiry: Some(path.into_inner()),
                errors,
                draft,
                ..Default::default()
            };
            render(&g, &console, StatusCode::UNPROCESSABLE_ENTITY, outcome).await
        }
        Err(Error::Conflict { .. }) => {
            let outcome = Outcome {
                notice: Some("desk.conflict"),
                ..Default::default()
            };
            render(&g, &console, StatusCode::CONFLICT, outcome).await
        }
        Err(e) => Err(e),
    }
}
