//! Queries on institutions and their contacts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{contacts, institutions};
use crate::domain::institution::{Contact, Institution};
use crate::error::Error;

#[derive(Queryable, Selectable)]
#[diesel(table_name = institutions)]
struct InstitutionRow {
    id: String,
    name: String,
    description: String,
    website: String,
    sla_business_days: i32,
    routing_profile: String,
    profile_version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    decision_business_days: i32,
    active: bool,
}

impl TryFrom<InstitutionRow> for Institution {
    type Error = Error;
    fn try_from(r: InstitutionRow) -> Result<Self, Error> {
        let profile = serde_json::from_str(&r.routing_profile)
            .map_err(|e| Error::internal(format!("routing profile of {}: {e}", r.id)))?;
        Ok(Institution {
            id: r.id,
            name: r.name,
            description: r.description,
            website: r.website,
            sla_business_days: r.sla_business_days,
            decision_business_days: r.decision_business_days,
            profile,
            profile_version: r.profile_version,
            active: r.active,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

pub fn institution_list(conn: &mut DbConn) -> Result<Vec<Institution>, Error> {
    institutions::table
        .order(institutions::id)
        .select(InstitutionRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Institution::try_from)
        .collect()
}

pub fn institution_get(conn: &mut DbConn, id: &str) -> Result<Option<Institution>, Error> {
    institutions::table
        .find(id)
        .select(InstitutionRow::as_select())
        .first(conn)
        .optional()?
        .map(Institution::try_from)
        .transpose()
}

#[derive(Insertable)]
#[diesel(table_name = institutions)]
struct InstitutionWrite<'a> {
    id: &'a str,
    name: &'a str,
    description: &'a str,
    website: &'a str,
    sla_business_days: i32,
    decision_business_days: i32,
    routing_profile: String,
    profile_version: i64,
    active: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

fn institution_write(i: &Institution) -> Result<InstitutionWrite<'_>, Error> {
    Ok(InstitutionWrite {
        id: &i.id,
        name: &i.name,
        description: &i.description,
        website: &i.website,
        sla_business_days: i.sla_business_days,
        decision_business_days: i.decision_business_days,
        routing_profile: serde_json::to_string(&i.profile).map_err(Error::internal)?,
        profile_version: i.profile_version,
        active: i.active,
        created_at: i.created_at,
        updated_at: i.updated_at,
    })
}

/// Adds an institution; a slug already taken is a conflict.
pub fn institution_insert(conn: &mut DbConn, i: &Institution) -> Result<(), Error> {
    diesel::insert_into(institutions::table)
        .values(institution_write(i)?)
        .execute(conn)
        .map_err(|e| match Error::from(e) {
            Error::Conflict { .. } => Error::conflict(
                "institution_exists",
                crate::domain::catalogue::Msg::InstitutionIdTaken { id: i.id.clone() },
            ),
            other => other,
        })?;
    Ok(())
}

/// Writes an institution's descriptive fields, targets and activity (not its profile: see
/// [`profile_replace`], which versions it).
pub fn institution_update(conn: &mut DbConn, i: &Institution) -> Result<(), Error> {
    diesel::update(institutions::table.find(&i.id))
        .set((
            institutions::name.eq(&i.name),
            institutions::description.eq(&i.description),
            institutions::website.eq(&i.website),
            institutions::sla_business_days.eq(i.sla_business_days),
            institutions::decision_business_days.eq(i.decision_business_days),
            institutions::active.eq(i.active),
            institutions::updated_at.eq(i.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Locks an institution's row until the end of the transaction (a no-op write, as
/// `referral_lock` does), so that two edits of one institution apply one after the other.
pub fn institution_lock(conn: &mut DbConn, id: &str) -> Result<bool, Error> {
    let n = diesel::update(institutions::table.find(id))
        .set(institutions::profile_version.eq(institutions::profile_version))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn institution_exists(conn: &mut DbConn, id: &str) -> Result<bool, Error> {
    let n: i64 = institutions::table
        .filter(institutions::id.eq(id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = contacts)]
struct ContactRow {
    id: String,
    institution_id: String,
    name: String,
    title: String,
    email: String,
    expertise: String,
    active: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<ContactRow> for Contact {
    type Error = Error;
    fn try_from(r: ContactRow) -> Result<Self, Error> {
        let expertise = serde_json::from_str(&r.expertise)
            .map_err(|e| Error::internal(format!("expertise of contact {}: {e}", r.id)))?;
        Ok(Contact {
            id: r.id,
            institution_id: r.institution_id,
            name: r.name,
            title: r.title,
            email: r.email,
            expertise,
            active: r.active,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = contacts)]
struct ContactWrite<'a> {
    id: &'a str,
    institution_id: &'a str,
    name: &'a str,
    title: &'a str,
    email: &'a str,
    expertise: String,
    active: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

fn contact_write(c: &Contact) -> Result<ContactWrite<'_>, Error> {
    Ok(ContactWrite {
        id: &c.id,
        institution_id: &c.institution_id,
        name: &c.name,
        title: &c.title,
        email: &c.email,
        expertise: serde_json::to_string(&c.expertise).map_err(Error::internal)?,
        active: c.active,
        created_at: c.created_at,
        updated_at: c.updated_at,
    })
}

/// Inserts a contact; a second contact with the same e-mail at the same institution is a conflict.
pub fn contact_insert(conn: &mut DbConn, contact: &Contact) -> Result<(), Error> {
    diesel::insert_into(contacts::table)
        .values(contact_write(contact)?)
        .execute(conn)
        .map_err(contact_conflict)?;
    Ok(())
}

/// Writes every field of an existing contact.
pub fn contact_update(conn: &mut DbConn, contact: &Contact) -> Result<(), Error> {
    diesel::update(contacts::table.find(&contact.id))
        .set(contact_write(contact)?)
        .execute(conn)
        .map_err(contact_conflict)?;
    Ok(())
}

fn contact_conflict(e: diesel::result::Error) -> Error {
    match Error::from(e) {
        Error::Conflict { .. } => Error::conflict(
            "contact_email_taken",
            "Another contact of this institution already uses this e-mail address.",
        ),
        other => other,
    }
}

pub fn contact_get(
    conn: &mut DbConn,
    institution_id: &str,
    contact_id: &str,
) -> Result<Option<Contact>, Error> {
    contacts::table
        .filter(contacts::institution_id.eq(institution_id))
        .filter(contacts::id.eq(contact_id))
        .select(ContactRow::as_select())
        .first(conn)
        .optional()?
        .map(Contact::try_from)
        .transpose()
}

/// A page of an institution's contacts in creation order (ids are UUIDv7), after `after`.
pub fn contact_list(
    conn: &mut DbConn,
    institution_id: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Contact>, Error> {
    let mut query = contacts::table
        .filter(contacts::institution_id.eq(institution_id))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(contacts::id.gt(after.to_owned()));
    }
    query
        .order(contacts::id)
        .limit(limit)
        .select(ContactRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Contact::try_from)
        .collect()
}

/// Replaces a routing profile if its version is still `expected`; the version increases by
/// one. `false` when someone replaced it since.
pub fn profile_replace(
    conn: &mut DbConn,
    id: &str,
    expected: i64,
    profile: &crate::domain::routing::RoutingProfile,
    now: NaiveDateTime,
) -> Result<bool, Error> {
    let n = diesel::update(
        institutions::table
            .find(id)
            .filter(institutions::profile_version.eq(expected)),
    )
    .set((
        institutions::routing_profile.eq(serde_json::to_string(profile).map_err(Error::internal)?),
        institutions::profile_version.eq(institutions::profile_version + 1),
        institutions::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Every contact of the given institutions, by institution then creation order.
pub fn contacts_of(conn: &mut DbConn, institution_ids: &[String]) -> Result<Vec<Contact>, Error> {
    contacts::table
        .filter(contacts::institution_id.eq_any(institution_ids))
        .order((contacts::institution_id, contacts::id))
        .select(ContactRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Contact::try_from)
        .collect()
}
