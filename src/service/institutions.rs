//! Institutions (public) and their contacts (staff only).

use crate::db::{self, institutions as store};
use crate::domain::account::{Actor, Staff};
use crate::domain::institution::{Contact, Institution};
use crate::domain::routing::Expertise;
use crate::error::Error;
use crate::service::authz::{InstitutionAction, institution_access, operator_only};
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

/// A validated new institution.
#[derive(Debug, Clone)]
pub struct InstitutionNew {
    pub id: String,
    pub name: String,
    pub description: String,
    pub website: String,
    pub sla_business_days: i32,
    pub decision_business_days: i32,
    pub profile: crate::domain::routing::RoutingProfile,
}

/// A validated partial change of an institution: `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct InstitutionChange {
    pub name: Option<String>,
    pub description: Option<String>,
    pub website: Option<String>,
    pub sla_business_days: Option<i32>,
    pub decision_business_days: Option<i32>,
    pub active: Option<bool>,
}

/// A contact a body names (at `pointer`): of this institution, active or not. An id that names
/// no contact of the institution (or is no id at all) is a 422 `unknown_contact` at the field;
/// what an inactive one means is the caller's to say.
pub(crate) fn named_contact(
    conn: &mut db::DbConn,
    institution_id: &str,
    contact_id: &str,
    pointer: &str,
) -> Result<Contact, Error> {
    let found = match known_uuid(contact_id, "contact") {
        Ok(()) => store::contact_get(conn, institution_id, contact_id)?,
        Err(_) => None,
    };
    found.ok_or_else(|| {
        Error::validation_one(
            pointer,
            "unknown_contact",
            "no contact of this institution has this id",
        )
    })
}

/// The refusal to send new work to a deactivated institution.
pub fn inactive(institution: &Institution) -> Error {
    Error::conflict(
        "institution_inactive",
        crate::domain::catalogue::Msg::InstitutionNotTaking {
            institution: institution.name.clone(),
        },
    )
}

/// `POST /v1/institutions`: a new member of the network (operators). Routing, the preview,
/// the stats and the transparency report include it from the next request on.
pub async fn institution_create(
    g: &Guichet,
    actor: &Staff,
    new: InstitutionNew,
) -> Result<Institution, Error> {
    operator_only(actor)?;
    let who = Actor::from(actor);
    g.db.transaction(move |conn| {
        let now = db::now();
        let institution = Institution {
            id: new.id,
            name: new.name,
            description: new.description,
            website: new.website,
            sla_business_days: new.sla_business_days,
            decision_business_days: new.decision_business_days,
            profile: new.profile,
            profile_version: 1,
            active: true,
            created_at: now,
            updated_at: now,
        };
        store::institution_insert(conn, &institution)?;
        record(
            conn,
            &who,
            now,
            Change::InstitutionCreated {
                institution: &institution,
            },
        )?;
        tracing::info!(institution.id = %institution.id, "institution created");
        Ok(institution)
    })
    .await
}

/// `PATCH /v1/institutions/{id}` (operators). Deactivating keeps every open referral
/// workable; only routing (rules, desk, forwards) stops sending new ones.
pub async fn institution_update(
    g: &Guichet,
    actor: &Staff,
    institution_id: &str,
    change: InstitutionChange,
) -> Result<Institution, Error> {
    operator_only(actor)?;
    known_slug(institution_id, "institution")?;
    let (id, who) = (institution_id.to_owned(), Actor::from(actor));
    g.db.transaction(move |conn| {
        if !store::institution_lock(conn, &id)? {
            return Err(Error::NotFound {
                resource: "institution",
            });
        }
        let before = store::institution_get(conn, &id)?.ok_or(Error::NotFound {
            resource: "institution",
        })?;
        let mut after = before.clone();
        if let Some(v) = change.name {
            after.name = v;
        }
        if let Some(v) = change.description {
            after.description = v;
        }
        if let Some(v) = change.website {
            after.website = v;
        }
        if let Some(v) = change.sla_business_days {
            after.sla_business_days = v;
        }
        if let Some(v) = change.decision_business_days {
            after.decision_business_days = v;
        }
        if let Some(v) = change.active {
            after.active = v;
        }
        if after == before {
            return Ok(before);
        }
        after.updated_at = db::now();
        store::institution_update(conn, &after)?;
        record(
            conn,
            &who,
            after.updated_at,
            Change::InstitutionUpdated {
                before: &before,
                after: &after,
            },
        )?;
        Ok(after)
    })
    .await
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

/// A contact and the number of open referrals assigned to it (what a deactivation leaves to
/// reassign).
pub type ContactLoad = (Contact, u32);

fn with_load(conn: &mut db::DbConn, contacts: Vec<Contact>) -> Result<Vec<ContactLoad>, Error> {
    let ids: Vec<String> = contacts.iter().map(|c| c.id.clone()).collect();
    let open = db::inquiries::open_referrals_per_contact(conn, &ids)?;
    Ok(contacts
        .into_iter()
        .map(|c| {
            let n = open.get(&c.id).copied().unwrap_or(0);
            (c, n)
        })
        .collect())
}

fn one_with_load(conn: &mut db::DbConn, contact: Contact) -> Result<ContactLoad, Error> {
    with_load(conn, vec![contact])?
        .pop()
        .ok_or_else(|| Error::internal("contact lost"))
}

pub async fn contact_list(
    g: &Guichet,
    actor: &Staff,
    institution_id: &str,
    after: Option<String>,
    limit: i64,
) -> Result<Page<ContactLoad>, Error> {
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
        let rows = with_load(conn, rows)?;
        Ok(Page::from_rows(rows, limit, |(c, _)| c.id.clone()))
    })
    .await
}

pub async fn contact_get(
    g: &Guichet,
    actor: &Staff,
    institution_id: &str,
    contact_id: &str,
) -> Result<ContactLoad, Error> {
    institution_access(actor, institution_id, InstitutionAction::Read, "contact")?;
    known_uuid(contact_id, "contact")?;
    let (institution_id, contact_id) = (institution_id.to_owned(), contact_id.to_owned());
    g.db.run(move |conn| {
        let contact =
            store::contact_get(conn, &institution_id, &contact_id)?.ok_or(Error::NotFound {
                resource: "contact",
            })?;
        one_with_load(conn, contact)
    })
    .await
}

pub async fn contact_create(
    g: &Guichet,
    actor: &Staff,
    institution_id: &str,
    new: ContactNew,
) -> Result<ContactLoad, Error> {
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
        Ok((contact, 0))
    })
    .await
}

pub async fn contact_update(
    g: &Guichet,
    actor: &Staff,
    institution_id: &str,
    contact_id: &str,
    change: ContactChange,
) -> Result<ContactLoad, Error> {
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
        one_with_load(conn, contact)
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
