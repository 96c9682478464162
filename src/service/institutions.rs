//! Institutions (public) and their contacts (staff only).

use crate::db::{self, institutions as store};
use crate::domain::account::{Actor, Staff};
use crate::domain::institution::{Contact, Institution};
use crate::domain::routing::Expertise;
use crate::error::Error;
use crate::service::authz::{InstitutionAction, institution_access};
use crate::service::record::{Change, record};
use crate::service::{Guichet, Page, known_slug, known_uuid, new_id};

pub async fn institution_list(g: &Guichet) -> Result<Vec<Institution>, Error> {
    g.db.run(store::institution_list).await
}

pub async fn institution_get(g: &Guichet, id: &str) -> Result<Institution, Error> {
    known_slug(id, "institution")?;
    let id = id.to_owned();
    g.db.run(move |conn| store::institution_get(conn, &id))
        .await?
        .ok_or(Error::NotFound {
            resource: "institution",
        })
}

/// A validated new contact.
#[derive(Debug, Clone)]
pub struct ContactNew {
    pub name: String,
    pub title: String,
    pub email: String,
    pub expertise: Expertise,
}

/// A validated partial change of a contact: `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ContactChange {
    pub name: Option<String>,
    pub title: Option<String>,
    pub email: Option<String>,
    pub expertise: Option<Expertise>,
    pub active: Option<bool>,
}

pub async fn contact_list(
    g: &Guichet,
    actor: &Staff,
    institution_id: &str,
    after: Option<String>,
    limit: i64,
) -> Result<Page<Contact>, Error> {
    institution_access(
        actor,
        institution_id,
        InstitutionAction::Read,
        "institution",
    )?;
    let institution_id = institution_id.to_owned();
    g.db.run(move |conn| {
        if !store::institution_exists(conn, &institution_id)? {
            return Err(Error::NotFound {
                resource: "institution",
            });
        }
        let rows = store::contact_list(conn, &institution_id, after.as_deref(), limit + 1)?;
        Ok(Page::from_rows(rows, limit, |c| c.id.clone()))
    })
    .await
}

pub async fn contact_get(
    g: &Guichet,
    actor: &Staff,
    institution_id: &str,
    contact_id: &str,
) -> Result<Contact, Error> {
    institution_access(actor, institution_id, InstitutionAction::Read, "contact")?;
    known_uuid(contact_id, "contact")?;
    let (institution_id, contact_id) = (institution_id.to_owned(), contact_id.to_owned());
    g.db.run(move |conn| store::contact_get(conn, &institution_id, &contact_id))
        .await?
        .ok_or(Error::NotFound {
            resource: "contact",
        })
}

pub async fn contact_create(
    g: &Guichet,
    actor: &Staff,
    institution_id: &str,
    new: ContactNew,
) -> Result<Contact, Error> {
    institution_access(
        actor,
        institution_id,
        InstitutionAction::Administer,
        "institution",
    )?;
    let institution_id = institution_id.to_owned();
    let actor_id = actor.user_id.clone();
    let who = Actor::from(actor);
    g.db.transaction(move |conn| {
        if !store::institution_exists(conn, &institution_id)? {
            return Err(Error::NotFound {
                resource: "institution",
            });
        }
        let now = db::now();
        let contact = Contact {
            id: new_id(),
            institution_id,
            name: new.name,
            title: new.title,
            email: new.email,
            expertise: new.expertise,
            active: true,
            created_at: now,
            updated_at: now,
        };
        store::contact_insert(conn, &contact)?;
        record(
            conn,
            &who,
            now,
            Change::ContactCreated {
                institution_id: &contact.institution_id,
                contact_id: &contact.id,
            },
        )?;
        tracing::info!(contact.id = %contact.id, institution.id = %contact.institution_id, actor.id = %actor_id, "contact created");
        Ok(contact)
    })
    .await
}

pub async fn contact_update(
    g: &Guichet,
    actor: &Staff,
    institution_id: &str,
    contact_id: &str,
    change: ContactChange,
) -> Result<Contact, Error> {
    institution_access(
        actor,
        institution_id,
        InstitutionAction::Administer,
        "contact",
    )?;
    known_uuid(contact_id, "contact")?;
    let who = Actor::from(actor);
    let (institution_id, contact_id) = (institution_id.to_owned(), contact_id.to_owned());
    g.db.transaction(move |conn| {
        let mut contact =
            store::contact_get(conn, &institution_id, &contact_id)?.ok_or(Error::NotFound {
                resource: "contact",
            })?;
        if let Some(v) = change.name {
            contact.name = v;
        }
        if let Some(v) = change.title {
            contact.title = v;
        }
        if let Some(v) = change.email {
            contact.email = v;
        }
        if let Some(v) = change.expertise {
            contact.expertise = v;
        }
        if let Some(v) = change.active {
            contact.active = v;
        }
        contact.updated_at = db::now();
        store::contact_update(conn, &contact)?;
        record(
            conn,
            &who,
            contact.updated_at,
            Change::ContactUpdated {
                institution_id: &contact.institution_id,
                contact_id: &contact.id,
                active: contact.active,
            },
        )?;
        Ok(contact)
    })
    .await
}

/// `GET /v1/institutions/{id}/routing-profile`: institution admins (theirs) and operators.
pub async fn profile_get(
    g: &Guichet,
    actor: &Staff,
    institution_id: &str,
) -> Result<Institution, Error> {
    institution_access(
        actor,
        institution_id,
        InstitutionAction::Administer,
        "institution",
    )?;
    institution_get(g, institution_id).await
}

/// `PUT /v1/institutions/{id}/routing-profile`: replaces the profile, bumps its version and
/// records the change. Later routing decisions store the version they used.
pub async fn profile_replace(
    g: &Guichet,
    actor: &Staff,
    institution_id: &str,
    if_match: Option<crate::service::IfMatch>,
    profile: crate::domain::routing::RoutingProfile,
) -> Result<Institution, Error> {
    institution_access(
        actor,
        institution_id,
        InstitutionAction::Administer,
        "institution",
    )?;
    let (institution_id, who) = (institution_id.to_owned(), Actor::from(actor));
    g.db.transaction(move |conn| {
        let before = store::institution_get(conn, &institution_id)?.ok_or(Error::NotFound {
            resource: "institution",
        })?;
        let now = db::now();
        // `If-Match` is optional here (a profile is one admin's document); when given, a stale
        // version is refused instead of overwriting a colleague's change.
        if if_match.is_some_and(|m| !m.matches(before.profile_version))
            || !store::profile_replace(
                conn,
                &institution_id,
                before.profile_version,
                &profile,
                now,
            )?
        {
            return Err(Error::PreconditionFailed);
        }
        record(
            conn,
            &who,
            now,
            Change::RoutingProfileReplaced {
                institution_id: &institution_id,
                from_version: before.profile_version,
                to_version: before.profile_version + 1,
            },
        )?;
        store::institution_get(conn, &institution_id)?.ok_or(Error::NotFound {
            resource: "institution",
        })
    })
    .await
}

/// `GET /v1/institutions/{institution_id}/mail-settings`.
pub async fn mail_settings_get(
    g: &Guichet,
    actor: &Staff,
    institution_id: &str,
) -> Result<Option<String>, Error> {
    known_slug(institution_id, "institution")?;
    institution_access(
        actor,
        institution_id,
        InstitutionAction::Administer,
        "institution",
    )?;
    let id = institution_id.to_owned();
    g.db.run(move |conn| {
        if !store::institution_exists(conn, &id)? {
            return Err(Error::NotFound {
                resource: "institution",
            });
        }
        Ok(db::mail::institution_mail(conn, &id)?.1)
    })
    .await
}

/// `PUT /v1/institutions/{institution_id}/mail-settings`: the team address told of new
/// unassigned referrals (`None`: the triagers).
pub async fn mail_settings_set(
    g: &Guichet,
    actor: &Staff,
    institution_id: &str,
    team_email: Option<String>,
) -> Result<Option<String>, Error> {
    known_slug(institution_id, "institution")?;
    institution_access(
        actor,
        institution_id,
        InstitutionAction::Administer,
        "institution",
    )?;
    let who = Actor::from(actor);
    let id = institution_id.to_owned();
    g.db.transaction(move |conn| {
        if !store::institution_exists(conn, &id)? {
            return Err(Error::NotFound {
                resource: "institution",
            });
        }
        let now = db::now();
        db::mail::team_email_set(conn, &id, team_email.as_deref(), now)?;
        record(
            conn,
            &who,
            now,
            Change::MailSettingsChanged {
                institution_id: &id,
                team_email: team_email.is_some(),
            },
        )?;
        Ok(team_email)
    })
    .await
}
