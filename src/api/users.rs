//! `/v1/institutions/{id}/users`: accounts of an institution.

use actix_web::{HttpResponse, get, patch, post, web};

use crate::api::extract::{PageQuery, Valid, encode_cursor};
use crate::api::params::{UserCreate, UserUpdate};
use crate::api::views::{UserPage, UserView};
use crate::domain::account::Staff;
use crate::error::Error;
use crate::service::{self, Guichet};

/// List accounts
///
/// The institution's accounts. Institution admins (their institution) and operators.
#[utoipa::path(
    operation_id = "user_list",
    tag = "users",
    params(
        ("institution_id" = String, Path, description = "Institution slug.", example = "curie"),
        PageQuery
    ),
    responses(
        (status = 200, description = "A page of accounts.", body = UserPage),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 403, response = inline(crate::api::problem::ForbiddenProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[get("/institutions/{institution_id}/users")]
pub async fn user_list(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<UserPage>, Error> {
    let (limit, after) = query.resolve()?;
    let page = service::users::user_list(&g, &actor, &path, after, limit).await?;
    Ok(web::Json(UserPage {
        next_cursor: page.next_after.as_deref().map(encode_cursor),
        items: page.items.into_iter().map(Into::into).collect(),
    }))
}

/// Create an account
///
/// A triager or an institution admin of the institution (operators are created with the
/// `guichet users create` command). Institution admins and operators.
#[utoipa::path(
    operation_id = "user_create",
    tag = "users",
    params(("institution_id" = String, Path, description = "Institution slug.", example = "curie")),
    request_body(content = UserCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Created.", body = UserView,
            headers(("Location" = String, description = "The account's address."))),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 403, response = inline(crate::api::problem::ForbiddenProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 409, response = inline(crate::api::problem::ConflictProblem)),
        (status = 413, response = inline(crate::api::problem::PayloadTooLargeProblem)),
        (status = 415, response = inline(crate::api::problem::UnsupportedMediaTypeProblem)),
        (status = 422, response = inline(crate::api::problem::ValidationProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[post("/institutions/{institution_id}/users")]
pub async fn user_create(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<String>,
    body: Valid<UserCreate>,
) -> Result<HttpResponse, Error> {
    let user = service::users::user_create(&g, &actor, &path, body.0).await?;
    let location = format!("/v1/institutions/{}/users/{}", path.as_str(), user.id);
    Ok(HttpResponse::Created()
        .insert_header(("Location", location))
        .json(UserView::from(user)))
}

/// Read an account
///
/// One account of the institution (where the `Location` of a created account points).
/// Institution admins and operators.
#[utoipa::path(
    operation_id = "user_get",
    tag = "users",
    params(
        ("institution_id" = String, Path, description = "Institution slug.", example = "curie"),
        ("user_id" = String, Path, description = "Account id.")
    ),
    responses(
        (status = 200, description = "The account.", body = UserView),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 403, response = inline(crate::api::problem::ForbiddenProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[get("/institutions/{institution_id}/users/{user_id}")]
pub async fn user_get(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<(String, String)>,
) -> Result<web::Json<UserView>, Error> {
    let (institution_id, user_id) = path.into_inner();
    let user = service::users::user_get(&g, &actor, &institution_id, &user_id).await?;
    Ok(web::Json(user.into()))
}

/// Update an account
///
/// Changes the role or disables the account (its sessions end at once). Nobody may disable
/// or demote themselves. Institution admins and operators.
#[utoipa::path(
    operation_id = "user_update",
    tag = "users",
    params(
        ("institution_id" = String, Path, description = "Institution slug.", example = "curie"),
        ("user_id" = String, Path, description = "Account id.")
    ),
    request_body(content = UserUpdate, content_type = "application/json"),
    responses(
        (status = 200, description = "The updated account.", body = UserView),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 403, response = inline(crate::api::problem::ForbiddenProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 409, response = inline(crate::api::problem::ConflictProblem)),
        (status = 413, response = inline(crate::api::problem::PayloadTooLargeProblem)),
        (status = 415, response = inline(crate::api::problem::UnsupportedMediaTypeProblem)),
        (status = 422, response = inline(crate::api::problem::ValidationProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[patch("/institutions/{institution_id}/users/{user_id}")]
pub async fn user_update(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<(String, String)>,
    body: Valid<UserUpdate>,
) -> Result<web::Json<UserView>, Error> {
    let (institution_id, user_id) = path.into_inner();
    let user = service::users::user_update(&g, &actor, &institution_id, &user_id, body.0).await?;
    Ok(web::Json(user.into()))
}
