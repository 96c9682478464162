//! Queries on inquiries, referrals, messages, events, idempotency keys and reference counters.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text, Timestamp};

use crate::db::DbConn;
use crate::db::schema::{idempotency_keys, inquiries, messages, reference_counters, referrals};
use crate::domain::inquiry::{Author, Inquiry, InquiryDraft, Message, Referral, Visibility};
use crate::domain::taxonomy::{Locale, ReferralStatus};
use crate::error::Error;

fn json<T: serde::Serialize>(v: &T) -> Result<String, Error> {
    serde_json::to_string(v).map_err(Error::internal)
}

fn parse<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T, Error> {
    serde_json::from_str(s).map_err(|e| Error::internal(format!("stored {what} unreadable: {e}")))
}

fn parse_enum<T: std::str::FromStr>(what: &str, s: &str) -> Result<T, Error> {
    s.parse()
        .map_err(|_| Error::internal(format!("stored {what} `{s}` unknown")))
}

/// The next number of `year`'s references. The counter row is locked until the transaction
/// ends, so concurrent submissions get consecutive numbers and a rolled-back one leaves no gap.
pub fn next_reference_number(conn: &mut DbConn, year: i32) -> Result<i32, Error> {
    match conn {
        DbConn::Pg(c) => diesel::sql_query(
            "INSERT INTO reference_counters (year, last_value) VALUES ($1, 0) ON CONFLICT (year) DO NOTHING",
        )
        .bind::<Integer, _>(year)
        .execute(c)?,
        DbConn::Sqlite(c) => diesel::sql_query(
            "INSERT INTO reference_counters (year, last_value) VALUES (?, 0) ON CONFLICT (year) DO NOTHING",
        )
        .bind::<Integer, _>(year)
        .execute(c)?,
    };
    diesel::update(reference_counters::table.find(year))
        .set(reference_counters::last_value.eq(reference_counters::last_value + 1))
        .execute(conn)?;
    Ok(reference_counters::table
        .find(year)
        .select(reference_counters::last_value)
        .first(conn)?)
}

pub fn inquiry_insert(
    conn: &mut DbConn,
    inquiry: &Inquiry,
    tracking_token_hash: &str,
    routing_decision: &str,
) -> Result<(), Error> {
    let d = &inquiry.draft;
    diesel::insert_into(inquiries::table)
        .values((
            inquiries::id.eq(&inquiry.id),
            inquiries::reference.eq(&inquiry.reference),
            inquiries::organization.eq(&d.submitter.organization),
            inquiries::submitter.eq(json(&d.submitter)?),
            inquiries::inquiry_type.eq(d.inquiry_type.as_str()),
            inquiries::title.eq(&d.title),
            inquiries::summary.eq(&d.summary),
            inquiries::therapeutic_areas.eq(json(&d.therapeutic_areas)?),
            inquiries::modalities.eq(json(&d.modalities)?),
            inquiries::stage.eq(d.stage.as_str()),
            inquiries::preferred_institutions.eq(json(&d.preferred_institutions)?),
            inquiries::keywords.eq(json(&d.keywords)?),
            inquiries::tracking_token_hash.eq(tracking_token_hash),
            inquiries::on_desk.eq(inquiry.on_desk),
            inquiries::routing_decision.eq(routing_decision),
            inquiries::created_at.eq(inquiry.created_at),
            inquiries::locale.eq(d.locale.unwrap_or(Locale::En).as_str()),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = inquiries)]
struct InquiryRow {
    id: String,
    reference: String,
    submitter: String,
    inquiry_type: String,
    title: String,
    summary: String,
    therapeutic_areas: String,
    modalities: String,
    stage: String,
    preferred_institutions: String,
    keywords: String,
    on_desk: bool,
    created_at: NaiveDateTime,
    locale: String,
}

impl TryFrom<InquiryRow> for Inquiry {
    type Error = Error;
    fn try_from(r: InquiryRow) -> Result<Self, Error> {
        Ok(Inquiry {
            draft: InquiryDraft {
                submitter: parse("submitter", &r.submitter)?,
                inquiry_type: parse_enum("inquiry type", &r.inquiry_type)?,
                title: r.title,
                summary: r.summary,
                therapeutic_areas: parse("therapeutic areas", &r.therapeutic_areas)?,
                modalities: parse("modalities", &r.modalities)?,
                stage: parse_enum("stage", &r.stage)?,
                preferred_institutions: parse("preferences", &r.preferred_institutions)?,
                keywords: parse("keywords", &r.keywords)?,
                locale: Some(parse_enum("locale", &r.locale)?),
            },
            id: r.id,
            reference: r.reference,
            on_desk: r.on_desk,
            created_at: r.created_at,
        })
    }
}

/// The inquiry and the hash of its tracking token.
pub fn inquiry_get(conn: &mut DbConn, id: &str) -> Result<Option<(Inquiry, String)>, Error> {
    let row: Option<(InquiryRow, String)> = inquiries::table
        .find(id)
        .select((InquiryRow::as_select(), inquiries::tracking_token_hash))
        .first(conn)
        .optional()?;
    row.map(|(r, h)| Ok((Inquiry::try_from(r)?, h))).transpose()
}

/// The routing decision stored with an inquiry (JSON).
pub fn inquiry_decision(conn: &mut DbConn, id: &str) -> Result<String, Error> {
    Ok(inquiries::table
        .find(id)
        .select(inquiries::routing_decision)
        .first(conn)?)
}

pub fn inquiry_set_on_desk(conn: &mut DbConn, id: &str, on_desk: bool) -> Result<(), Error> {
    diesel::update(inquiries::table.find(id))
        .set(inquiries::on_desk.eq(on_desk))
        .execute(conn)?;
    Ok(())
}

/// Order of the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeskSort {
    /// Oldest first: the longest wait comes first.
    #[default]
    Oldest,
    Newest,
}

/// What the desk shows: the queue's filters that apply to an inquiry.
#[derive(Debug, Clone, Default)]
pub struct DeskFilter {
    pub inquiry: super::triage::InquiryFilter,
    pub created_after: Option<NaiveDateTime>,
    pub created_before: Option<NaiveDateTime>,
    pub sort: DeskSort,
    /// The id of the last inquiry of the previous page.
    pub after: Option<String>,
}

/// A page of the operators' desk, each inquiry with its stored routing decision (JSON).
pub fn desk_list(
    conn: &mut DbConn,
    filter: &DeskFilter,
    limit: i64,
) -> Result<Vec<(Inquiry, String)>, Error> {
    let mut query = inquiries::table
        .filter(inquiries::on_desk.eq(true))
        .into_boxed();
    super::triage::filter_inquiries!(query, &filter.inquiry);
    if let Some(t) = filter.created_after {
        query = query.filter(inquiries::created_at.ge(t));
    }
    if let Some(t) = filter.created_before {
        query = query.filter(inquiries::created_at.lt(t));
    }
    // Ids are UUIDv7: id order is creation order.
    query = match (filter.sort, &filter.after) {
        (DeskSort::Oldest, Some(after)) => query.filter(inquiries::id.gt(after.clone())),
        (DeskSort::Newest, Some(after)) => query.filter(inquiries::id.lt(after.clone())),
        (_, None) => query,
    };
    query = match filter.sort {
        DeskSort::Oldest => query.order(inquiries::id.asc()),
        DeskSort::Newest => query.order(inquiries::id.desc()),
    };
    let rows: Vec<(InquiryRow, String)> = query
        .limit(limit)
        .select((InquiryRow::as_select(), inquiries::routing_decision))
        .load(conn)?;
    rows.into_iter()
        .map(|(row, decision)| Ok((Inquiry::try_from(row)?, decision)))
        .collect()
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = referrals)]
pub(crate) struct ReferralRow {
    id: String,
    inquiry_id: String,
    institution_id: String,
    contact_id: Option<String>,
    status: String,
    reasons: String,
    score: i32,
    profile_version: i64,
    first_response_due_at: NaiveDateTime,
    first_responded_at: Option<NaiveDateTime>,
    version: i32,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    decision_reason: Option<String>,
    decision_note: Option<String>,
    sla_paused_at: Option<NaiveDateTime>,
    decision_due_at: Option<NaiveDateTime>,
    decided_at: Option<NaiveDateTime>,
}

impl TryFrom<ReferralRow> for Referral {
    type Error = Error;
    fn try_from(r: ReferralRow) -> Result<Self, Error> {
        Ok(Referral {
            status: parse_enum("referral status", &r.status)?,
            reasons: parse("reasons", &r.reasons)?,
            id: r.id,
            inquiry_id: r.inquiry_id,
            institution_id: r.institution_id,
            contact_id: r.contact_id,
            score: r.score,
            profile_version: r.profile_version,
            first_response_due_at: r.first_response_due_at,
            first_responded_at: r.first_responded_at,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
            decision_reason: r.decision_reason,
            decision_note: r.decision_note,
            sla_paused_at: r.sla_paused_at,
            decision_due_at: r.decision_due_at,
            decided_at: r.decided_at,
        })
    }
}

pub fn referral_insert(conn: &mut DbConn, r: &Referral) -> Result<(), Error> {
    diesel::insert_into(referrals::table)
        .values((
            referrals::id.eq(&r.id),
            referrals::inquiry_id.eq(&r.inquiry_id),
            referrals::institution_id.eq(&r.institution_id),
            referrals::contact_id.eq(&r.contact_id),
            referrals::status.eq(r.status.as_str()),
            referrals::reasons.eq(json(&r.reasons)?),
            referrals::score.eq(r.score),
            referrals::profile_version.eq(r.profile_version),
            referrals::first_response_due_at.eq(r.first_response_due_at),
            referrals::first_responded_at.eq(r.first_responded_at),
            referrals::version.eq(r.version),
            referrals::created_at.eq(r.created_at),
            referrals::updated_at.eq(r.updated_at),
            referrals::decision_reason.eq(&r.decision_reason),
            referrals::decision_note.eq(&r.decision_note),
            referrals::sla_paused_at.eq(r.sla_paused_at),
            referrals::decision_due_at.eq(r.decision_due_at),
            referrals::decided_at.eq(r.decided_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// One referral by id.
pub fn referral_get(conn: &mut DbConn, id: &str) -> Result<Option<Referral>, Error> {
    referrals::table
        .find(id)
        .select(ReferralRow::as_select())
        .first(conn)
        .optional()?
        .map(Referral::try_from)
        .transpose()
}

/// Takes the referral's row lock for the rest of the transaction (a no-op write, portable to
/// both backends), so that a change reads the version a concurrent change committed instead of
/// racing it: the loser then fails the version check (412), not a later check on stale data.
pub fn referral_lock(conn: &mut DbConn, id: &str) -> Result<(), Error> {
    diesel::update(referrals::table.find(id))
        .set(referrals::version.eq(referrals::version))
        .execute(conn)?;
    Ok(())
}

/// Writes every mutable field of a referral if its version is still `expected_version`;
/// `false` when someone changed it since (the caller answers 412).
pub fn referral_save(
    conn: &mut DbConn,
    r: &Referral,
    expected_version: i32,
) -> Result<bool, Error> {
    let n = diesel::update(
        referrals::table
            .find(&r.id)
            .filter(referrals::version.eq(expected_version)),
    )
    .set((
        referrals::status.eq(r.status.as_str()),
        referrals::contact_id.eq(&r.contact_id),
        referrals::first_response_due_at.eq(r.first_response_due_at),
        referrals::first_responded_at.eq(r.first_responded_at),
        referrals::version.eq(r.version),
        referrals::updated_at.eq(r.updated_at),
        referrals::decision_reason.eq(&r.decision_reason),
        referrals::decision_note.eq(&r.decision_note),
        referrals::sla_paused_at.eq(r.sla_paused_at),
        referrals::decision_due_at.eq(r.decision_due_at),
        referrals::decided_at.eq(r.decided_at),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// The referrals of an inquiry, in creation order.
pub fn referrals_of_inquiry(conn: &mut DbConn, inquiry_id: &str) -> Result<Vec<Referral>, Error> {
    referrals::table
        .filter(referrals::inquiry_id.eq(inquiry_id))
        .order(referrals::id)
        .select(ReferralRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Referral::try_from)
        .collect()
}

/// Open referrals per contact: the load routing balances.
/// Open referrals of the given contacts: the load routing balances. Read through the
/// `(contact_id, status)` index, so its cost follows those contacts' open work, not the table.
pub fn open_referrals_per_contact(
    conn: &mut DbConn,
    contact_ids: &[String],
) -> Result<HashMap<String, u32>, Error> {
    if contact_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let open: Vec<&str> = ReferralStatus::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| s.as_str())
        .collect();
    let rows: Vec<(Option<String>, i64)> = referrals::table
        .filter(referrals::contact_id.eq_any(contact_ids))
        .filter(referrals::status.eq_any(open))
        .group_by(referrals::contact_id)
        .select((referrals::contact_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(c, n)| c.map(|c| (c, n.clamp(0, i64::from(u32::MAX)) as u32)))
        .collect())
}

pub fn message_insert(conn: &mut DbConn, m: &Message) -> Result<(), Error> {
    diesel::insert_into(messages::table)
        .values((
            messages::id.eq(&m.id),
            messages::referral_id.eq(&m.referral_id),
            messages::author.eq(match m.author {
                Author::Submitter => "submitter",
                Author::Staff => "staff",
            }),
            messages::author_user_id.eq(&m.author_user_id),
            messages::visibility.eq(match m.visibility {
                Visibility::External => "external",
                Visibility::Internal => "internal",
            }),
            messages::body.eq(&m.body),
            messages::created_at.eq(m.created_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// id, referral, author, author account, visibility, body, time.
type MessageRow = (
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    NaiveDateTime,
);

/// Messages of the given referrals, oldest first; only external ones when `external_only`.
pub fn messages_of(
    conn: &mut DbConn,
    referral_ids: &[String],
    external_only: bool,
) -> Result<Vec<Message>, Error> {
    let mut query = messages::table
        .filter(messages::referral_id.eq_any(referral_ids))
        .into_boxed();
    if external_only {
        query = query.filter(messages::visibility.eq("external"));
    }
    let rows: Vec<MessageRow> = query
        .order((messages::created_at, messages::id))
        .select(MESSAGE_COLUMNS)
        .load(conn)?;
    Ok(rows.into_iter().map(message_of_row).collect())
}

/// One page of a referral's thread in id order (UUIDv7: creation order): the messages after
/// `after`, at most `limit`.
pub fn messages_page(
    conn: &mut DbConn,
    referral_id: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Message>, Error> {
    let mut query = messages::table
        .filter(messages::referral_id.eq(referral_id))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(messages::id.gt(after.to_owned()));
    }
    let rows: Vec<MessageRow> = query
        .order(messages::id)
        .limit(limit)
        .select(MESSAGE_COLUMNS)
        .load(conn)?;
    Ok(rows.into_iter().map(message_of_row).collect())
}

/// One message of a referral's thread.
pub fn message_get(
    conn: &mut DbConn,
    referral_id: &str,
    message_id: &str,
) -> Result<Option<Message>, Error> {
    let row: Option<MessageRow> = messages::table
        .filter(messages::referral_id.eq(referral_id))
        .filter(messages::id.eq(message_id))
        .select(MESSAGE_COLUMNS)
        .first(conn)
        .optional()?;
    Ok(row.map(message_of_row))
}

const MESSAGE_COLUMNS: (
    messages::id,
    messages::referral_id,
    messages::author,
    messages::author_user_id,
    messages::visibility,
    messages::body,
    messages::created_at,
) = (
    messages::id,
    messages::referral_id,
    messages::author,
    messages::author_user_id,
    messages::visibility,
    messages::body,
    messages::created_at,
);

fn message_of_row(
    (id, referral_id, author, author_user_id, visibility, body, created_at): MessageRow,
) -> Message {
    Message {
        id,
        referral_id,
        author: if author == "submitter" {
            Author::Submitter
        } else {
            Author::Staff
        },
        author_user_id,
        visibility: if visibility == "external" {
            Visibility::External
        } else {
            Visibility::Internal
        },
        body,
        created_at,
    }
}

pub struct IdempotencyRecord {
    pub request_hash: String,
    pub inquiry_id: String,
    pub response_body: String,
}

pub fn idempotency_get(
    conn: &mut DbConn,
    key: &str,
    now: NaiveDateTime,
) -> Result<Option<IdempotencyRecord>, Error> {
    let row: Option<(String, String, String)> = idempotency_keys::table
        .find(key)
        .filter(idempotency_keys::expires_at.gt(now))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::inquiry_id,
            idempotency_keys::response_body,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(
        |(request_hash, inquiry_id, response_body)| IdempotencyRecord {
            request_hash,
            inquiry_id,
            response_body,
        },
    ))
}

/// Stores a key; an expired record under the same key is replaced.
pub fn idempotency_insert(
    conn: &mut DbConn,
    key: &str,
    record: &IdempotencyRecord,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<(), Error> {
    diesel::delete(
        idempotency_keys::table
            .find(key)
            .filter(idempotency_keys::expires_at.le(now)),
    )
    .execute(conn)?;
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(&record.request_hash),
            idempotency_keys::inquiry_id.eq(&record.inquiry_id),
            idempotency_keys::response_body.eq(&record.response_body),
            idempotency_keys::created_at.eq(now),
            idempotency_keys::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Forgets idempotency keys past their 24 hours.
pub fn idempotency_purge(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize, Error> {
    Ok(
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::expires_at.le(now)))
            .execute(conn)?,
    )
}

/// Open referrals still waiting for a first response (clock running) whose deadline is before
/// `horizon` and that have no `kind` signal for that deadline yet: what the SLA clock tells.
pub fn sla_unsignalled(
    conn: &mut DbConn,
    kind: &str,
    horizon: NaiveDateTime,
    limit: i64,
) -> Result<Vec<Referral>, Error> {
    use crate::db::schema::sla_signals;
    let open: Vec<&str> = crate::domain::taxonomy::ReferralStatus::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| s.as_str())
        .collect();
    referrals::table
        .filter(referrals::status.eq_any(open))
        .filter(referrals::first_responded_at.is_null())
        .filter(referrals::sla_paused_at.is_null())
        .filter(referrals::first_response_due_at.lt(horizon))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            sla_signals::table
                .filter(sla_signals::referral_id.eq(referrals::id))
                .filter(sla_signals::kind.eq(kind.to_owned()))
                .filter(sla_signals::due_at.eq(referrals::first_response_due_at)),
        )))
        .order(referrals::first_response_due_at)
        .limit(limit)
        .select(ReferralRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Referral::try_from)
        .collect()
}

/// Marks a signal as told; `false` if another worker told it first.
pub fn sla_signal_insert(
    conn: &mut DbConn,
    referral_id: &str,
    kind: &str,
    due_at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<bool, Error> {
    const SQL: &str = "INSERT INTO sla_signals (referral_id, kind, due_at, created_at) VALUES ({}) ON CONFLICT DO NOTHING";
    let n = match conn {
        DbConn::Pg(c) => diesel::sql_query(SQL.replace("{}", "$1, $2, $3, $4"))
            .bind::<Text, _>(referral_id)
            .bind::<Text, _>(kind)
            .bind::<Timestamp, _>(due_at)
            .bind::<Timestamp, _>(now)
            .execute(c)?,
        DbConn::Sqlite(c) => diesel::sql_query(SQL.replace("{}", "?, ?, ?, ?"))
            .bind::<Text, _>(referral_id)
            .bind::<Text, _>(kind)
            .bind::<Timestamp, _>(due_at)
            .bind::<Timestamp, _>(now)
            .execute(c)?,
    };
    Ok(n == 1)
}
