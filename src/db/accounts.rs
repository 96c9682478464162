//! Queries on users, sessions and refresh tokens.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{refresh_tokens, sessions, users};
use crate::domain::account::User;
use crate::error::Error;

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
struct UserRow {
    id: String,
    email: String,
    role: String,
    institution_id: Option<String>,
    disabled: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    locale: String,
    contact_id: Option<String>,
}

impl TryFrom<UserRow> for User {
    type Error = Error;
    fn try_from(r: UserRow) -> Result<Self, Error> {
        Ok(User {
            role: r.role.parse().map_err(Error::internal)?,
            id: r.id,
            email: r.email,
            institution_id: r.institution_id,
            disabled: r.disabled,
            locale: r.locale.parse().map_err(Error::internal)?,
            contact_id: r.contact_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct UserInsert<'a> {
    id: &'a str,
    email: &'a str,
    password_hash: &'a str,
    role: &'a str,
    institution_id: Option<&'a str>,
    disabled: bool,
    locale: &'a str,
    contact_id: Option<&'a str>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// Inserts an account; an e-mail already in use (at any institution) is a conflict.
pub fn user_insert(conn: &mut DbConn, user: &User, password_hash: &str) -> Result<(), Error> {
    diesel::insert_into(users::table)
        .values(UserInsert {
            id: &user.id,
            email: &user.email,
            password_hash,
            role: user.role.as_str(),
            institution_id: user.institution_id.as_deref(),
            disabled: user.disabled,
            locale: user.locale.as_str(),
            contact_id: user.contact_id.as_deref(),
            created_at: user.created_at,
            updated_at: user.updated_at,
        })
        .execute(conn)
        .map_err(|e| account_conflict(e, "An account with this e-mail address already exists."))?;
    Ok(())
}

/// A unique index refused the write: the e-mail address (on insert) or the contact link is
/// another account's.
fn account_conflict(e: diesel::result::Error, email_taken: &str) -> Error {
    let on_contact = matches!(
        &e,
        diesel::result::Error::DatabaseError(_, info)
            if info.constraint_name() == Some("users_contact")
                || info.message().contains("contact_id")
    );
    match Error::from(e) {
        Error::Conflict { .. } if on_contact => Error::conflict(
            "contact_linked",
            "This contact is already linked to another account.",
        ),
        Error::Conflict { .. } => Error::conflict("email_taken", email_taken),
        other => other,
    }
}

/// The account and its password hash, for logging in.
pub fn user_by_email(conn: &mut DbConn, email: &str) -> Result<Option<(User, String)>, Error> {
    let row: Option<(UserRow, String)> = users::table
        .filter(users::email.eq(email))
        .select((UserRow::as_select(), users::password_hash))
        .first(conn)
        .optional()?;
    row.map(|(u, h)| Ok((User::try_from(u)?, h))).transpose()
}

pub fn user_get(conn: &mut DbConn, id: &str) -> Result<Option<User>, Error> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .map(User::try_from)
        .transpose()
}

/// A page of accounts: one institution's, or every account when `institution_id` is `None`.
pub fn user_list(
    conn: &mut DbConn,
    institution_id: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<User>, Error> {
    let mut query = users::table.into_boxed();
    if let Some(institution_id) = institution_id {
        query = query.filter(users::institution_id.eq(institution_id.to_owned()));
    }
    if let Some(after) = after {
        query = query.filter(users::id.gt(after.to_owned()));
    }
    query
        .order(users::id)
        .limit(limit)
        .select(UserRow::as_select())
        .load(conn)?
        .into_iter()
        .map(User::try_from)
        .collect()
}

/// Writes the role, the disabled flag, the locale and the contact link of an account.
pub fn user_update(conn: &mut DbConn, user: &User) -> Result<(), Error> {
    diesel::update(users::table.find(&user.id))
        .set((
            users::role.eq(user.role.as_str()),
            users::disabled.eq(user.disabled),
            users::locale.eq(user.locale.as_str()),
            users::contact_id.eq(user.contact_id.as_deref()),
            users::updated_at.eq(user.updated_at),
        ))
        .execute(conn)
        .map_err(|e| account_conflict(e, "An account with this e-mail address already exists."))?;
    Ok(())
}

/// The account linked to a contact, if any.
pub fn user_of_contact(conn: &mut DbConn, contact_id: &str) -> Result<Option<String>, Error> {
    Ok(users::table
        .filter(users::contact_id.eq(contact_id))
        .select(users::id)
        .first(conn)
        .optional()?)
}

pub fn session_insert(
    conn: &mut DbConn,
    id: &str,
    user_id: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<(), Error> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(id),
            sessions::user_id.eq(user_id),
            sessions::created_at.eq(now),
            sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Ends one session (logout, or a replayed refresh token revoking its family).
pub fn session_revoke(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> Result<(), Error> {
    diesel::update(
        sessions::table
            .find(id)
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// Replaces an account's password hash.
pub fn password_set(
    conn: &mut DbConn,
    user_id: &str,
    password_hash: &str,
    now: NaiveDateTime,
) -> Result<(), Error> {
    diesel::update(users::table.find(user_id))
        .set((
            users::password_hash.eq(password_hash),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The stored password hash of an account.
pub fn password_hash_of(conn: &mut DbConn, user_id: &str) -> Result<Option<String>, Error> {
    Ok(users::table
        .find(user_id)
        .select(users::password_hash)
        .first(conn)
        .optional()?)
}

/// Ends every session of an account but `keep` (a password change keeps the caller's).
pub fn sessions_revoke_others(
    conn: &mut DbConn,
    user_id: &str,
    keep: &str,
    now: NaiveDateTime,
) -> Result<(), Error> {
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::id.ne(keep))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// Ends every session of an account (disabled accounts).
pub fn sessions_revoke_for_user(
    conn: &mut DbConn,
    user_id: &str,
    now: NaiveDateTime,
) -> Result<(), Error> {
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// The account behind a live session, checked on every authenticated request so that logout
/// and disabling take effect at once, on every instance.
pub fn session_user(
    conn: &mut DbConn,
    session_id: &str,
    now: NaiveDateTime,
) -> Result<Option<User>, Error> {
    sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(session_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .filter(users::disabled.eq(false))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .map(User::try_from)
        .transpose()
}

pub fn refresh_insert(
    conn: &mut DbConn,
    id: &str,
    session_id: &str,
    token_hash: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<(), Error> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(id),
            refresh_tokens::session_id.eq(session_id),
            refresh_tokens::token_hash.eq(token_hash),
            refresh_tokens::created_at.eq(now),
            refresh_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// A refresh token found by its hash.
pub struct RefreshToken {
    pub id: String,
    pub session_id: String,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

pub fn refresh_by_hash(conn: &mut DbConn, token_hash: &str) -> Result<Option<RefreshToken>, Error> {
    let row: Option<(String, String, NaiveDateTime, Option<NaiveDateTime>)> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select((
            refresh_tokens::id,
            refresh_tokens::session_id,
            refresh_tokens::expires_at,
            refresh_tokens::used_at,
        ))
        .first(conn)
        .optional()?;
    Ok(
        row.map(|(id, session_id, expires_at, used_at)| RefreshToken {
            id,
            session_id,
            expires_at,
            used_at,
        }),
    )
}

/// Marks a refresh token used. Returns `false` when it already was: whoever loses that race
/// presented a used token.
pub fn refresh_claim(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> Result<bool, Error> {
    let n = diesel::update(
        refresh_tokens::table
            .find(id)
            .filter(refresh_tokens::used_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}
