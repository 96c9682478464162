//! The mail outbox (`mail_messages`), opt-outs, password-reset tokens, and the look-ups that
//! say who is told of a change.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use crate::db::DbConn;
use crate::db::schema::{
    contacts, institutions, mail_messages, mail_opt_outs, password_resets, users,
};
use crate::domain::taxonomy::{Locale, Role};
use crate::error::Error;

/// A message the recorder writes (rendered and sent later by the worker).
pub struct NewMail<'a> {
    pub id: &'a str,
    pub dedupe_key: Option<&'a str>,
    pub kind: &'a str,
    pub category: &'a str,
    pub recipient: &'a str,
    pub locale: &'a str,
    pub message_id: &'a str,
    pub context: &'a str,
    pub institution_id: Option<&'a str>,
    pub inquiry_id: Option<&'a str>,
    pub referral_id: Option<&'a str>,
    pub send_after: NaiveDateTime,
    pub at: NaiveDateTime,
}

/// Writes a message; `false` when one with the same `dedupe_key` exists already.
pub fn insert(conn: &mut DbConn, m: &NewMail<'_>) -> Result<bool, Error> {
    let values = (
        mail_messages::id.eq(m.id),
        mail_messages::dedupe_key.eq(m.dedupe_key),
        mail_messages::kind.eq(m.kind),
        mail_messages::category.eq(m.category),
        mail_messages::recipient.eq(m.recipient),
        mail_messages::locale.eq(m.locale),
        mail_messages::message_id.eq(m.message_id),
        mail_messages::context.eq(m.context),
        mail_messages::institution_id.eq(m.institution_id),
        mail_messages::inquiry_id.eq(m.inquiry_id),
        mail_messages::referral_id.eq(m.referral_id),
        mail_messages::status.eq("pending"),
        mail_messages::attempts.eq(0),
        mail_messages::next_attempt_at.eq(m.send_after),
        mail_messages::created_at.eq(m.at),
        mail_messages::updated_at.eq(m.at),
    );
    let n = match conn {
        DbConn::Pg(c) => diesel::insert_into(mail_messages::table)
            .values(values)
            .on_conflict_do_nothing()
            .execute(c)?,
        DbConn::Sqlite(c) => diesel::insert_into(mail_messages::table)
            .values(values)
            .on_conflict_do_nothing()
            .execute(c)?,
    };
    Ok(n == 1)
}

/// A message leased to one worker.
#[derive(Debug, Clone, Queryable)]
pub struct ClaimedMail {
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub locale: String,
    pub message_id: String,
    pub context: String,
    pub institution_id: Option<String>,
    pub attempts: i32,
}

/// Leases up to `limit` due messages to `token` until `lease_until` (a message whose lease
/// expired, because its worker died, is due again). First attempts go before retries.
pub fn claim(
    conn: &mut DbConn,
    token: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> Result<Vec<ClaimedMail>, Error> {
    const DUE: &str = "m.status = 'pending' AND m.next_attempt_at <= {now} \
        AND (m.lease_expires_at IS NULL OR m.lease_expires_at < {now})";
    match conn {
        DbConn::Pg(c) => {
            let due = DUE.replace("{now}", "$3");
            diesel::sql_query(format!(
                "WITH picked AS MATERIALIZED (SELECT m.id FROM mail_messages AS m WHERE {due} \
                   ORDER BY m.attempts > 0, m.next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED) \
                 UPDATE mail_messages AS m SET lease_token = $1, lease_expires_at = $2 \
                 FROM picked WHERE m.id = picked.id AND {due}"
            ))
            .bind::<Text, _>(token)
            .bind::<Timestamp, _>(lease_until)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(limit)
            .execute(c)?
        }
        DbConn::Sqlite(c) => {
            let due = DUE.replace("{now}", "?3");
            diesel::sql_query(format!(
                "UPDATE mail_messages AS m SET lease_token = ?1, lease_expires_at = ?2 \
                 WHERE m.id IN (SELECT m.id FROM mail_messages AS m WHERE {due} \
                   ORDER BY m.attempts > 0, m.next_attempt_at LIMIT ?4) AND {due}"
            ))
            .bind::<Text, _>(token)
            .bind::<Timestamp, _>(lease_until)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(limit)
            .execute(c)?
        }
    };
    Ok(mail_messages::table
        .filter(mail_messages::lease_token.eq(token))
        .select((
            mail_messages::id,
            mail_messages::kind,
            mail_messages::recipient,
            mail_messages::locale,
            mail_messages::message_id,
            mail_messages::context,
            mail_messages::institution_id,
            mail_messages::attempts,
        ))
        .order(mail_messages::next_attempt_at)
        .load(conn)?)
}

/// How an attempt ended.
pub enum MailOutcome {
    Sent,
    /// Tried again at `next`.
    Retry {
        next: NaiveDateTime,
        error: String,
    },
    Failed {
        error: String,
    },
}

/// Records the end of an attempt and ends the lease, if `token` still holds it (`false`: the
/// lease was lost and another worker owns the message now). `wipe_context` blanks the stored
/// context once the message is final (reset links).
pub fn finish(
    conn: &mut DbConn,
    id: &str,
    token: &str,
    attempts: i32,
    outcome: &MailOutcome,
    wipe_context: bool,
    now: NaiveDateTime,
) -> Result<bool, Error> {
    let (status, next, error, sent_at) = match outcome {
        MailOutcome::Sent => ("sent", now, None, Some(now)),
        MailOutcome::Retry { next, error } => ("pending", *next, Some(error.as_str()), None),
        MailOutcome::Failed { error } => ("failed", now, Some(error.as_str()), None),
    };
    let target = mail_messages::table
        .find(id)
        .filter(mail_messages::lease_token.eq(token));
    let common = (
        mail_messages::status.eq(status),
        mail_messages::attempts.eq(attempts),
        mail_messages::next_attempt_at.eq(next),
        mail_messages::last_error.eq(error),
        mail_messages::sent_at.eq(sent_at),
        mail_messages::lease_token.eq(None::<String>),
        mail_messages::lease_expires_at.eq(None::<NaiveDateTime>),
        mail_messages::updated_at.eq(now),
    );
    let n = if wipe_context && status != "pending" {
        diesel::update(target)
            .set((common, mail_messages::context.eq("{}")))
            .execute(conn)?
    } else {
        diesel::update(target).set(common).execute(conn)?
    };
    Ok(n == 1)
}

/// Deletes messages that are final (sent or failed) and older than `before`.
pub fn purge(conn: &mut DbConn, before: NaiveDateTime) -> Result<usize, Error> {
    Ok(diesel::delete(
        mail_messages::table
            .filter(mail_messages::status.ne("pending"))
            .filter(mail_messages::created_at.lt(before)),
    )
    .execute(conn)?)
}

/// One stored message, as tests and operators inspect it.
#[derive(Debug, Clone, Queryable)]
pub struct MailRow {
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub message_id: String,
    pub context: String,
    pub locale: String,
}

/// The messages about a referral or inquiry (every message when both are `None`), oldest
/// first.
pub fn list_for(
    conn: &mut DbConn,
    inquiry_id: Option<&str>,
    referral_id: Option<&str>,
) -> Result<Vec<MailRow>, Error> {
    let mut q = mail_messages::table.into_boxed();
    if let Some(id) = inquiry_id {
        q = q.filter(mail_messages::inquiry_id.eq(id.to_owned()));
    }
    if let Some(id) = referral_id {
        q = q.filter(mail_messages::referral_id.eq(id.to_owned()));
    }
    Ok(q.select((
        mail_messages::id,
        mail_messages::kind,
        mail_messages::recipient,
        mail_messages::status,
        mail_messages::attempts,
        mail_messages::last_error,
        mail_messages::message_id,
        mail_messages::context,
        mail_messages::locale,
    ))
    .order((mail_messages::created_at, mail_messages::id))
    .load(conn)?)
}

/// Whether `address` turned `category` off.
pub fn opted_out(conn: &mut DbConn, address: &str, category: &str) -> Result<bool, Error> {
    let n: i64 = mail_opt_outs::table
        .filter(mail_opt_outs::address.eq(address.to_lowercase()))
        .filter(mail_opt_outs::category.eq(category))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Turns `category` off (`out`) or on again for `address`.
pub fn opt_out_set(
    conn: &mut DbConn,
    address: &str,
    category: &str,
    out: bool,
    now: NaiveDateTime,
) -> Result<(), Error> {
    let address = address.to_lowercase();
    if out {
        let values = (
            mail_opt_outs::address.eq(&address),
            mail_opt_outs::category.eq(category),
            mail_opt_outs::created_at.eq(now),
        );
        match conn {
            DbConn::Pg(c) => diesel::insert_into(mail_opt_outs::table)
                .values(values)
                .on_conflict_do_nothing()
                .execute(c)?,
            DbConn::Sqlite(c) => diesel::insert_into(mail_opt_outs::table)
                .values(values)
                .on_conflict_do_nothing()
                .execute(c)?,
        };
    } else {
        diesel::delete(
            mail_opt_outs::table
                .filter(mail_opt_outs::address.eq(&address))
                .filter(mail_opt_outs::category.eq(category)),
        )
        .execute(conn)?;
    }
    Ok(())
}

/// Someone to write to, in their language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub address: String,
    pub locale: Locale,
}

fn locale_of(s: &str) -> Locale {
    s.parse().unwrap_or(Locale::En)
}

/// The active staff of an institution with one of `roles`.
pub fn staff_of(
    conn: &mut DbConn,
    institution_id: Option<&str>,
    roles: &[Role],
) -> Result<Vec<Recipient>, Error> {
    let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    let mut q = users::table
        .filter(users::disabled.eq(false))
        .filter(users::role.eq_any(roles))
        .into_boxed();
    q = match institution_id {
        Some(id) => q.filter(users::institution_id.eq(id.to_owned())),
        None => q.filter(users::institution_id.is_null()),
    };
    let rows: Vec<(String, String)> = q
        .select((users::email, users::locale))
        .order(users::id)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(address, locale)| Recipient {
            address,
            locale: locale_of(&locale),
        })
        .collect())
}

/// An active contact, in the language of the staff account with the same address (English
/// when there is none).
pub fn contact_recipient(conn: &mut DbConn, contact_id: &str) -> Result<Option<Recipient>, Error> {
    let row: Option<(String, Option<String>)> = contacts::table
        .left_join(users::table.on(users::email.eq(contacts::email)))
        .filter(contacts::id.eq(contact_id))
        .filter(contacts::active.eq(true))
        .select((contacts::email, users::locale.nullable()))
        .first(conn)
        .optional()?;
    Ok(row.map(|(address, locale)| Recipient {
        address,
        locale: locale.as_deref().map_or(Locale::En, locale_of),
    }))
}

/// An institution's name and the team address its admins set for new unassigned referrals.
pub fn institution_mail(
    conn: &mut DbConn,
    institution_id: &str,
) -> Result<(String, Option<String>), Error> {
    Ok(institutions::table
        .find(institution_id)
        .select((institutions::name, institutions::team_email))
        .first(conn)?)
}

/// Sets (or clears) an institution's team address.
pub fn team_email_set(
    conn: &mut DbConn,
    institution_id: &str,
    team_email: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), Error> {
    diesel::update(institutions::table.find(institution_id))
        .set((
            institutions::team_email.eq(team_email),
            institutions::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Stores a reset token's hash.
pub fn reset_insert(
    conn: &mut DbConn,
    token_hash: &str,
    user_id: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<(), Error> {
    diesel::insert_into(password_resets::table)
        .values((
            password_resets::token_hash.eq(token_hash),
            password_resets::user_id.eq(user_id),
            password_resets::created_at.eq(now),
            password_resets::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Uses a reset token: the user it was for, if it is unused and unexpired (it is then used).
pub fn reset_take(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
) -> Result<Option<String>, Error> {
    let target = password_resets::table
        .find(token_hash)
        .filter(password_resets::used_at.is_null())
        .filter(password_resets::expires_at.gt(now));
    let user: Option<String> = target
        .select(password_resets::user_id)
        .first(conn)
        .optional()?;
    let Some(user) = user else { return Ok(None) };
    let n = diesel::update(target)
        .set(password_resets::used_at.eq(Some(now)))
        .execute(conn)?;
    Ok((n == 1).then_some(user))
}

/// Ends every unused reset token of a user (after a password change or reset).
pub fn resets_void(conn: &mut DbConn, user_id: &str, now: NaiveDateTime) -> Result<(), Error> {
    diesel::update(
        password_resets::table
            .filter(password_resets::user_id.eq(user_id))
            .filter(password_resets::used_at.is_null()),
    )
    .set(password_resets::used_at.eq(Some(now)))
    .execute(conn)?;
    Ok(())
}

/// Deletes reset tokens that expired before `before`.
pub fn resets_purge(conn: &mut DbConn, before: NaiveDateTime) -> Result<usize, Error> {
    Ok(
        diesel::delete(password_resets::table.filter(password_resets::expires_at.lt(before)))
            .execute(conn)?,
    )
}

/// One message as operators inspect it (never its context: reset links, message texts).
#[derive(Debug, Clone, Queryable)]
pub struct MailSummary {
    pub id: String,
    pub kind: String,
    pub category: String,
    pub recipient: String,
    pub locale: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub institution_id: Option<String>,
    pub inquiry_id: Option<String>,
    pub referral_id: Option<String>,
    pub next_attempt_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

/// A page of messages, newest first, of one institution (or all), optionally of one status.
pub fn page(
    conn: &mut DbConn,
    institution_id: Option<&str>,
    status: Option<&str>,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<MailSummary>, Error> {
    let mut q = mail_messages::table.into_boxed();
    if let Some(i) = institution_id {
        q = q.filter(mail_messages::institution_id.eq(i.to_owned()));
    }
    if let Some(s) = status {
        q = q.filter(mail_messages::status.eq(s.to_owned()));
    }
    if let Some(b) = before {
        q = q.filter(mail_messages::id.lt(b.to_owned()));
    }
    Ok(q.select((
        mail_messages::id,
        mail_messages::kind,
        mail_messages::category,
        mail_messages::recipient,
        mail_messages::locale,
        mail_messages::status,
        mail_messages::attempts,
        mail_messages::last_error,
        mail_messages::institution_id,
        mail_messages::inquiry_id,
        mail_messages::referral_id,
        mail_messages::next_attempt_at,
        mail_messages::created_at,
        mail_messages::sent_at,
    ))
    .order(mail_messages::id.desc())
    .limit(limit)
    .load(conn)?)
}
