//! Institution accounts, managed by institution admins (their institution) and operators.

use crate::db::{self, accounts, institutions};
use crate::domain::account::{Actor, Staff, User, normalize_email};
use crate::domain::mail::Category;
use crate::domain::taxonomy::{Locale, Role};
use crate::error::Error;
use crate::service::authz::{InstitutionAction, institution_access};
use crate::service::record::{Change, record};
use crate::service::{Guichet, Page, known_uuid, new_id};

/// A validated new account.
#[derive(Debug, Clone)]
pub struct UserNew {
    pub email: String,
    pub password: String,
    pub role: Role,
    pub institution_id: Option<String>,
    /// The language of the account's e-mails (English when not given).
    pub locale: Option<Locale>,
    /// The contact of the institution the account works as (`assigned=me`).
    pub contact_id: Option<String>,
}

/// A validated change of an account.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub locale: Option<Locale>,
    /// `Some(None)` unlinks the account from its contact.
    pub contact_id: Option<Option<String>>,
}

/// A contact an account of `institution_id` may be linked to: one of the institution's, active.
/// The unique index on `users.contact_id` refuses a contact already linked to another account.
fn check_linkable(
    conn: &mut db::DbConn,
    institution_id: &str,
    contact_id: &str,
) -> Result<(), Error> {
    let contact = crate::service::institutions::named_contact(
        conn,
        institution_id,
        contact_id,
        "/contact_id",
    )?;
    if contact.active {
        Ok(())
    } else {
        Err(Error::conflict(
            "inactive_contact",
            "This contact is deactivated: reactivate it before linking an account to it.",
        ))
    }
}

/// Creates an account without an actor: the command line (`guichet users create`), which is how
/// the first operator and the first institution admins come to exist.
pub async fn user_create_unchecked(g: &Guichet, new: UserNew) -> Result<User, Error> {
    user_insert(g, new, None).await
}

/// Creates an account; `created_by` is the admin or operator who did (for the audit trail).
async fn user_insert(g: &Guichet, new: UserNew, created_by: Option<Staff>) -> Result<User, Error> {
    if new.role.needs_institution() != new.institution_id.is_some() {
        return Err(Error::validation_one(
            "/institution",
            if new.role.needs_institution() {
                "required"
            } else {
                "not_allowed"
            },
            if new.role.needs_institution() {
                "triagers and institution admins belong to an institution"
            } else {
                "operators belong to no institution"
            },
        ));
    }
    let hash = g.passwords.hash(new.password).await?;
    let email = normalize_email(&new.email);
    g.db.transaction(move |conn| {
        if let Some(inst) = &new.institution_id
            && !institutions::institution_exists(conn, inst)?
        {
            return Err(Error::validation_one(
                "/institution",
                "unknown_institution",
                crate::domain::catalogue::Msg::FieldUnknownInstitution { id: inst.clone() },
            ));
        }
        if let (Some(inst), Some(contact)) = (&new.institution_id, &new.contact_id) {
            check_linkable(conn, inst, contact)?;
        }
        let now = db::now();
        let user = User {
            id: new_id(),
            email,
            role: new.role,
            institution_id: new.institution_id,
            disabled: false,
            locale: new.locale.unwrap_or(Locale::En),
            contact_id: new.contact_id,
            created_at: now,
            updated_at: now,
        };
        accounts::user_insert(conn, &user, &hash)?;
        let actor = match &created_by {
            Some(who) => Actor::Staff(who.clone()),
            None => Actor::System,
        };
        record(conn, &actor, now, Change::UserCreated { user: &user })?;
        Ok(user)
    })
    .await
}

pub async fn user_list_all(g: &Guichet) -> Result<Vec<User>, Error> {
    g.db.run(|conn| accounts::user_list(conn, None, None, i64::MAX))
        .await
}

pub async fn user_list(
    g: &Guichet,
    actor: &Staff,
    institution_id: &str,
    after: Option<String>,
    limit: i64,
) -> Result<Page<User>, Error> {
    institution_access(
        actor,
        institution_id,
        InstitutionAction::Administer,
        "institution",
    )?;
    let institution_id = institution_id.to_owned();
    g.db.run(move |conn| {
        if !institutions::institution_exists(conn, &institution_id)? {
            return Err(Error::NotFound {
                resource: "institution",
            });
        }
        let rows = accounts::user_list(conn, Some(&institution_id), after.as_deref(), limit + 1)?;
        Ok(Page::from_rows(rows, limit, |u| u.id.clone()))
    })
    .await
}

/// Creates a triager or an institution admin of `institution_id` (operators are created on the
/// command line only).
pub async fn user_create(
    g: &Guichet,
    actor: &Staff,
    institution_id: &str,
    new: UserNew,
) -> Result<User, Error> {
    institution_access(
        actor,
        institution_id,
        InstitutionAction::Administer,
        "institution",
    )?;
    if new.role == Role::Operator {
        return Err(Error::validation_one(
            "/role",
            "not_allowed",
            "operators are created with `guichet users create`, not through the API",
        ));
    }
    // An institution in the path that does not exist is a 404, as on every other operation.
    let institution = institution_id.to_owned();
    if !g
        .db
        .run(move |conn| institutions::institution_exists(conn, &institution))
        .await?
    {
        return Err(Error::NotFound {
            resource: "institution",
        });
    }
    user_insert(
        g,
        UserNew {
            institution_id: Some(institution_id.to_owned()),
            ..new
        },
        Some(actor.clone()),
    )
    .await
}

/// Changes the role or the disabled flag of an account of `institution_id`. Disabling ends its
/// sessions at once. Nobody may disable or demote themselves (no accidental lock-out).
/// `GET /v1/institutions/{institution_id}/users/{user_id}`: one account of the institution.
pub async fn user_get(
    g: &Guichet,
    actor: &Staff,
    institution_id: &str,
    user_id: &str,
) -> Result<User, Error> {
    institution_access(actor, institution_id, InstitutionAction::Administer, "user")?;
    known_uuid(user_id, "user")?;
    let (institution_id, user_id) = (institution_id.to_owned(), user_id.to_owned());
    g.db.run(move |conn| {
        accounts::user_get(conn, &user_id)?
            .filter(|u| u.institution_id.as_deref() == Some(institution_id.as_str()))
            .ok_or(Error::NotFound { resource: "user" })
    })
    .await
}

pub async fn user_update(
    g: &Guichet,
    actor: &Staff,
    institution_id: &str,
    user_id: &str,
    change: UserChange,
) -> Result<User, Error> {
    institution_access(actor, institution_id, InstitutionAction::Administer, "user")?;
    known_uuid(user_id, "user")?;
    if change.role == Some(Role::Operator) {
        return Err(Error::validation_one(
            "/role",
            "not_allowed",
            "an institution account cannot become an operator",
        ));
    }
    if user_id == actor.user_id
        && (change.disabled == Some(true) || change.role.is_some_and(|r| r != actor.role))
    {
        return Err(Error::conflict(
            "cannot_change_own_account",
            "You cannot disable your own account or change your own role.",
        ));
    }
    let who = Actor::from(actor);
    let (institution_id, user_id) = (institution_id.to_owned(), user_id.to_owned());
    g.db.transaction(move |conn| {
        let mut user = accounts::user_get(conn, &user_id)?
            .filter(|u| u.institution_id.as_deref() == Some(institution_id.as_str()))
            .ok_or(Error::NotFound { resource: "user" })?;
        let now = db::now();
        if let Some(role) = change.role {
            user.role = role;
        }
        if let Some(locale) = change.locale {
            user.locale = locale;
        }
        if let Some(contact) = change.contact_id {
            if let Some(c) = &contact
                && user.contact_id.as_ref() != Some(c)
            {
                check_linkable(conn, &institution_id, c)?;
            }
            user.contact_id = contact;
        }
        if let Some(disabled) = change.disabled {
            if disabled && !user.disabled {
                accounts::sessions_revoke_for_user(conn, &user.id, now)?;
            }
            user.disabled = disabled;
        }
        user.updated_at = now;
        accounts::user_update(conn, &user)?;
        record(conn, &who, now, Change::UserUpdated { user: &user })?;
        Ok(user)
    })
    .await
}

/// `GET /v1/me`: the caller's account, and whether it receives SLA reminders.
pub async fn me_get(g: &Guichet, actor: &Staff) -> Result<(User, bool), Error> {
    let id = actor.user_id.clone();
    g.db.run(move |conn| {
        let user = accounts::user_get(conn, &id)?.ok_or_else(Error::invalid_token)?;
        let out = db::mail::opted_out(conn, &user.email, Category::Reminder.as_str())?;
        Ok((user, !out))
    })
    .await
}

/// `PATCH /v1/me`: the caller's language and whether it receives SLA reminders (new and
/// reassigned referrals are always sent).
pub async fn me_update(
    g: &Guichet,
    actor: &Staff,
    locale: Option<Locale>,
    reminders: Option<bool>,
) -> Result<(User, bool), Error> {
    let who = Actor::from(actor);
    let id = actor.user_id.clone();
    g.db.transaction(move |conn| {
        let now = db::now();
        let mut user = accounts::user_get(conn, &id)?.ok_or_else(Error::invalid_token)?;
        if let Some(locale) = locale
            && locale != user.locale
        {
            user.locale = locale;
            user.updated_at = now;
            accounts::user_update(conn, &user)?;
            record(conn, &who, now, Change::UserUpdated { user: &user })?;
        }
        let category = Category::Reminder.as_str();
        let was_out = db::mail::opted_out(conn, &user.email, category)?;
        if let Some(enabled) = reminders
            && enabled == was_out
        {
            db::mail::opt_out_set(conn, &user.email, category, !enabled, now)?;
            record(
                conn,
                &who,
                now,
                Change::RemindersChosen {
                    institution_id: user.institution_id.as_deref(),
                    enabled,
                },
            )?;
        }
        let out = db::mail::opted_out(conn, &user.email, category)?;
        Ok((user, !out))
    })
    .await
}
