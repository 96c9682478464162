//! `/v1/institutions`, their contacts, and `/v1/taxonomy`.

use actix_web::{HttpResponse, get, patch, post, web};

use crate::api::extract::{
    PageQuery, Valid, decode_cursor, encode_cursor, invalid_cursor, page_limit,
};
use crate::api::params::{
    ContactCreate, ContactUpdate, InstitutionCreate, InstitutionUpdate, ReassignRequest,
};
use crate::api::views::{
    ContactPage, ContactView, InstitutionPage, InstitutionView, ReassignView, TaxonomyView,
};
use crate::domain::account::Staff;
use crate::error::Error;
use crate::service::{self, Guichet, Page, known_slug};

/// List institutions
///
/// The institutions reachable through Guichet, with their strengths and first-response target.
#[utoipa::path(
    operation_id = "institution_list",
    tag = "institutions",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of institutions, by id.", body = InstitutionPage),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
)]
#[get("/institutions")]
pub async fn institution_list(
    g: web::Data<Guichet>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<InstitutionPage>, Error> {
    let limit = page_limit(query.limit)?;
    // Institution ids are slugs, so the cursor is the last slug (base64url).
    let after = match &query.cursor {
        None => None,
        Some(c) => Some(decode_cursor(c).and_then(|slug| {
            known_slug(&slug, "institution").map_err(|_| invalid_cursor())?;
            Ok(slug)
        })?),
    };
    let rows: Vec<_> = service::institutions::institution_list(&g)
        .await?
        .into_iter()
        .filter(|i| after.as_deref().is_none_or(|a| i.id.as_str() > a))
        .collect();
    let page = Page::from_rows(rows, limit, |i| i.id.clone());
    Ok(web::Json(InstitutionPage {
        next_cursor: page.next_after.as_deref().map(encode_cursor),
        items: page.items.into_iter().map(Into::into).collect(),
    }))
}

/// Get an institution
#[utoipa::path(
    operation_id = "institution_get",
    tag = "institutions",
    params(("institution_id" = String, Path, description = "Institution slug, e.g. `curie`.", example = "curie")),
    responses(
        (status = 200, description = "The institution.", body = InstitutionView),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
)]
#[get("/institutions/{institution_id}")]
pub async fn institution_get(
    g: web::Data<Guichet>,
    path: web::Path<String>,
) -> Result<web::Json<InstitutionView>, Error> {
    Ok(web::Json(
        service::institutions::institution_get(&g, &path)
            .await?
            .into(),
    ))
}

/// Add an institution
///
/// A new member of the region's oncology network (operators). Its slug is its id for good;
/// routing, the preview, the stats and the transparency report include it at once. Its admins
/// are then created with `POST /v1/institutions/{institution_id}/users`.
#[utoipa::path(
    operation_id = "institution_create",
    tag = "institutions",
    request_body(content = InstitutionCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Created.", body = InstitutionView,
            headers(("Location" = String, description = "The institution's address."))),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 403, response = inline(crate::api::problem::ForbiddenProblem)),
        (status = 409, response = inline(crate::api::problem::ConflictProblem)),
        (status = 413, response = inline(crate::api::problem::PayloadTooLargeProblem)),
        (status = 415, response = inline(crate::api::problem::UnsupportedMediaTypeProblem)),
        (status = 422, response = inline(crate::api::problem::ValidationProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[post("/institutions")]
pub async fn institution_create(
    g: web::Data<Guichet>,
    actor: Staff,
    body: Valid<InstitutionCreate>,
) -> Result<HttpResponse, Error> {
    let inst = service::institutions::institution_create(&g, &actor, body.0).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/institutions/{}", inst.id)))
        .json(InstitutionView::from(inst)))
}

/// Update an institution
///
/// Changes the given fields (operators); the slug never changes. `active: false` deactivates
/// the institution: it receives no new referral (routing explains why, hand routing and
/// forwards are refused with 409), while its open referrals stay workable and its history
/// readable. `active: true` brings it back.
#[utoipa::path(
    operation_id = "institution_update",
    tag = "institutions",
    params(("institution_id" = String, Path, description = "Institution slug.", example = "curie")),
    request_body(content = InstitutionUpdate, content_type = "application/json"),
    responses(
        (status = 200, description = "The institution after the change.", body = InstitutionView),
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
#[patch("/institutions/{institution_id}")]
pub async fn institution_update(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<String>,
    body: Valid<InstitutionUpdate>,
) -> Result<web::Json<InstitutionView>, Error> {
    let inst = service::institutions::institution_update(&g, &actor, &path, body.0).await?;
    Ok(web::Json(inst.into()))
}

/// Get the taxonomy
///
/// Every closed vocabulary of the API (inquiry types, therapeutic areas, modalities, stages,
/// decline reasons...) with human labels, to build forms from.
#[utoipa::path(
    operation_id = "taxonomy_get",
    tag = "institutions",
    responses(
        (status = 200, description = "The taxonomy.", body = TaxonomyView),
    ),
)]
#[get("/taxonomy")]
pub async fn taxonomy_get(lang: crate::api::problem::Lang) -> web::Json<TaxonomyView> {
    web::Json(TaxonomyView::in_locale(lang.0))
}

/// List contacts
///
/// The institution's contacts, active and inactive, in creation order. Staff of the
/// institution and operators.
#[utoipa::path(
    operation_id = "contact_list",
    tag = "contacts",
    params(
        ("institution_id" = String, Path, description = "Institution slug.", example = "curie"),
        PageQuery
    ),
    responses(
        (status = 200, description = "A page of contacts.", body = ContactPage),
        (status = 400, response = inline(crate::api::problem::BadRequestProblem)),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[get("/institutions/{institution_id}/contacts")]
pub async fn contact_list(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<ContactPage>, Error> {
    let (limit, after) = query.resolve()?;
    let page = service::institutions::contact_list(&g, &actor, &path, after, limit).await?;
    Ok(web::Json(ContactPage {
        next_cursor: page.next_after.as_deref().map(encode_cursor),
        items: page.items.into_iter().map(Into::into).collect(),
    }))
}

/// Create a contact
///
/// Institution admins (their institution) and operators.
#[utoipa::path(
    operation_id = "contact_create",
    tag = "contacts",
    params(("institution_id" = String, Path, description = "Institution slug.", example = "curie")),
    request_body(content = ContactCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Created.", body = ContactView,
            headers(("Location" = String, description = "The contact's address."))),
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
#[post("/institutions/{institution_id}/contacts")]
pub async fn contact_create(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<String>,
    body: Valid<ContactCreate>,
) -> Result<HttpResponse, Error> {
    let contact = service::institutions::contact_create(&g, &actor, &path, body.0).await?;
    let location = format!(
        "/v1/institutions/{}/contacts/{}",
        contact.0.institution_id, contact.0.id
    );
    Ok(HttpResponse::Created()
        .insert_header(("Location", location))
        .json(ContactView::from(contact)))
}

/// Get a contact
#[utoipa::path(
    operation_id = "contact_get",
    tag = "contacts",
    params(
        ("institution_id" = String, Path, description = "Institution slug.", example = "curie"),
        ("contact_id" = String, Path, description = "Contact id.")
    ),
    responses(
        (status = 200, description = "The contact.", body = ContactView),
        (status = 401, response = inline(crate::api::problem::UnauthorizedProblem)),
        (status = 404, response = inline(crate::api::problem::NotFoundProblem)),
        (status = 500, response = inline(crate::api::problem::InternalProblem)),
        (status = 503, response = inline(crate::api::problem::UnavailableProblem)),
    ),
    security(("bearer" = []))
)]
#[get("/institutions/{institution_id}/contacts/{contact_id}")]
pub async fn contact_get(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<(String, String)>,
) -> Result<web::Json<ContactView>, Error> {
    let (institution_id, contact_id) = path.into_inner();
    let contact =
        service::institutions::contact_get(&g, &actor, &institution_id, &contact_id).await?;
    Ok(web::Json(contact.into()))
}

/// Update a contact
///
/// Changes the given fields; `active: false` deactivates the contact (contacts are never
/// deleted, so past referrals keep their assignee). Institution admins and operators.
#[utoipa::path(
    operation_id = "contact_update",
    tag = "contacts",
    params(
        ("institution_id" = String, Path, description = "Institution slug.", example = "curie"),
        ("contact_id" = String, Path, description = "Contact id.")
    ),
    request_body(content = ContactUpdate, content_type = "application/json"),
    responses(
        (status = 200, description = "The updated contact.", body = ContactView),
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
#[patch("/institutions/{institution_id}/contacts/{contact_id}")]
pub async fn contact_update(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<(String, String)>,
    body: Valid<ContactUpdate>,
) -> Result<web::Json<ContactView>, Error> {
    let (institution_id, contact_id) = path.into_inner();
    let contact =
        service::institutions::contact_update(&g, &actor, &institution_id, &contact_id, body.0)
            .await?;
    Ok(web::Json(contact.into()))
}

/// Reassign a contact's open referrals
///
/// Moves every open referral assigned to the contact (typically one just deactivated, whose
/// `open_referrals` is not 0) to another active contact of the institution, or back to the
/// unassigned work with `"to_contact_id": null`. Each move is recorded and delivered as a
/// single reassignment is (`referral.assigned` or `referral.unassigned`). Institution admins
/// and operators.
#[utoipa::path(
    operation_id = "contact_reassign",
    tag = "contacts",
    params(
        ("institution_id" = String, Path, description = "Institution slug.", example = "curie"),
        ("contact_id" = String, Path, description = "The contact whose referrals move.")
    ),
    request_body(content = ReassignRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "What moved.", body = ReassignView),
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
#[post("/institutions/{institution_id}/contacts/{contact_id}/reassign")]
pub async fn contact_reassign(
    g: web::Data<Guichet>,
    actor: Staff,
    path: web::Path<(String, String)>,
    body: Valid<ReassignRequest>,
) -> Result<web::Json<ReassignView>, Error> {
    let (institution_id, contact_id) = path.into_inner();
    let moved =
        service::triage::contact_reassign(&g, &actor, &institution_id, &contact_id, body.0).await?;
    Ok(web::Json(moved.into()))
}
