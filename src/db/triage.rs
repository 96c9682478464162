//! The institution queue: filtered, keyset-paginated reads of referrals, and their counts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{contacts, inquiries, institutions, referrals};
use crate::domain::inquiry::Referral;
use crate::domain::taxonomy::{InquiryType, Modality, ReferralStatus, TherapeuticArea};
use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueSort {
    /// By first-response due date, soonest first.
    #[default]
    Due,
    /// Newest first.
    Newest,
}

/// Where a page starts: the sort key of the last item seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueCursor {
    pub due: NaiveDateTime,
    pub id: String,
}

/// Filters on an inquiry's own fields, shared by the queue and the desk so that both read
/// them the same way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InquiryFilter {
    pub inquiry_type: Option<InquiryType>,
    pub therapeutic_area: Option<TherapeuticArea>,
    pub modality: Option<Modality>,
    /// Case-insensitive substring of the title, summary, organization or reference.
    pub text: Option<String>,
    /// Exactly this reference (as stored: `GU-2026-000042`).
    pub reference: Option<String>,
}

/// Applies an [`InquiryFilter`] to a boxed query whose FROM clause has `inquiries`.
macro_rules! filter_inquiries {
    ($q:ident, $f:expr) => {{
        use $crate::db::schema::inquiries;
        let f: &$crate::db::triage::InquiryFilter = $f;
        if let Some(t) = f.inquiry_type {
            $q = $q.filter(inquiries::inquiry_type.eq(t.as_str()));
        }
        // Areas and modalities are stored as JSON arrays of their wire values.
        if let Some(a) = f.therapeutic_area {
            $q = $q.filter(inquiries::therapeutic_areas.like(format!("%\"{}\"%", a.as_str())));
        }
        if let Some(m) = f.modality {
            $q = $q.filter(inquiries::modalities.like(format!("%\"{}\"%", m.as_str())));
        }
        if let Some(text) = &f.text {
            let p = $crate::db::triage::like_pattern(text);
            $q = $q.filter(
                $crate::db::lower(inquiries::title)
                    .like(p.clone())
                    .escape('\\')
                    .or($crate::db::lower(inquiries::summary)
                        .like(p.clone())
                        .escape('\\'))
                    .or($crate::db::lower(inquiries::organization)
                        .like(p.clone())
                        .escape('\\'))
                    .or($crate::db::lower(inquiries::reference).like(p).escape('\\')),
            );
        }
        if let Some(r) = &f.reference {
            $q = $q.filter(inquiries::reference.eq(r.clone()));
        }
    }};
}
pub(crate) use filter_inquiries;

#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// `None`: every institution (operators).
    pub institution_id: Option<String>,
    pub statuses: Vec<ReferralStatus>,
    pub inquiry: InquiryFilter,
    pub contact_id: Option<String>,
    /// Only referrals with no contact (`true`), or only those with one (`false`).
    pub unassigned: Option<bool>,
    pub overdue: Option<bool>,
    pub decision_overdue: Option<bool>,
    pub created_after: Option<NaiveDateTime>,
    pub created_before: Option<NaiveDateTime>,
    pub sort: QueueSort,
    pub after: Option<QueueCursor>,
}

/// One queue line.
#[derive(Debug, Clone)]
pub struct QueueItem {
    pub referral: Referral,
    pub reference: String,
    pub title: String,
    pub organization: String,
    pub inquiry_type: InquiryType,
    pub institution_name: String,
    pub contact_name: Option<String>,
}

fn open_statuses() -> Vec<&'static str> {
    ReferralStatus::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| s.as_str())
        .collect()
}

/// `%`, `_` and `\` in user text match themselves.
pub(crate) fn like_pattern(text: &str) -> String {
    let escaped: String = text
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

pub fn queue_page(
    conn: &mut DbConn,
    filter: &QueueFilter,
    now: NaiveDateTime,
    limit: i64,
) -> Result<Vec<QueueItem>, Error> {
    let mut q = referrals::table
        .inner_join(inquiries::table)
        .inner_join(institutions::table)
        .left_join(contacts::table)
        .into_boxed();
    if let Some(inst) = &filter.institution_id {
        q = q.filter(referrals::institution_id.eq(inst.clone()));
    }
    if !filter.statuses.is_empty() {
        let s: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
        q = q.filter(referrals::status.eq_any(s));
    }
    filter_inquiries!(q, &filter.inquiry);
    if let Some(c) = &filter.contact_id {
        q = q.filter(referrals::contact_id.eq(c.clone()));
    }
    match filter.unassigned {
        Some(true) => q = q.filter(referrals::contact_id.is_null()),
        Some(false) => q = q.filter(referrals::contact_id.is_not_null()),
        None => {}
    }
    match filter.overdue {
        Some(true) => {
            q = q
                .filter(referrals::first_responded_at.is_null())
                .filter(referrals::sla_paused_at.is_null())
                .filter(referrals::first_response_due_at.lt(now))
                .filter(referrals::status.eq_any(open_statuses()));
        }
        Some(false) => {
            q = q.filter(
                referrals::first_responded_at
                    .is_not_null()
                    .or(referrals::sla_paused_at.is_not_null())
                    .or(referrals::first_response_due_at.ge(now))
                    .or(referrals::status.ne_all(open_statuses())),
            );
        }
        None => {}
    }
    let deciding = vec![
        ReferralStatus::Acknowledged.as_str(),
        ReferralStatus::InReview.as_str(),
    ];
    match filter.decision_overdue {
        Some(true) => {
            q = q
                .filter(referrals::decision_due_at.lt(now))
                .filter(referrals::status.eq_any(deciding));
        }
        Some(false) => {
            q = q.filter(
                referrals::decision_due_at
                    .is_null()
                    .or(referrals::decision_due_at.ge(now))
                    .or(referrals::status.ne_all(deciding)),
            );
        }
        None => {}
    }
    if let Some(t) = filter.created_after {
        q = q.filter(referrals::created_at.ge(t));
    }
    if let Some(t) = filter.created_before {
        q = q.filter(referrals::created_at.lt(t));
    }
    match filter.sort {
        QueueSort::Due => {
            if let Some(c) = &filter.after {
                q = q.filter(
                    referrals::first_response_due_at
                        .gt(c.due)
                        .or(referrals::first_response_due_at
                            .eq(c.due)
                            .and(referrals::id.gt(c.id.clone()))),
                );
            }
            q = q.order((referrals::first_response_due_at.asc(), referrals::id.asc()));
        }
        QueueSort::Newest => {
            if let Some(c) = &filter.after {
                q = q.filter(referrals::id.lt(c.id.clone()));
            }
            q = q.order(referrals::id.desc());
        }
    }
    type Line = (
        super::inquiries::ReferralRow,
        (String, String, String, String),
        String,
        Option<String>,
    );
    let rows: Vec<Line> = q
        .limit(limit)
        .select((
            super::inquiries::ReferralRow::as_select(),
            (
                inquiries::reference,
                inquiries::title,
                inquiries::organization,
                inquiries::inquiry_type,
            ),
            institutions::name,
            contacts::name.nullable(),
        ))
        .load(conn)?;
    rows.into_iter()
        .map(
            |(
                r,
                (reference, title, organization, inquiry_type),
                institution_name,
                contact_name,
            )| {
                Ok(QueueItem {
                    referral: Referral::try_from(r)?,
                    reference,
                    title,
                    organization,
                    inquiry_type: inquiry_type.parse().map_err(|_| {
                        Error::internal(format!("stored inquiry type `{inquiry_type}`"))
                    })?,
                    institution_name,
                    contact_name,
                })
            },
        )
        .collect()
}

/// What the queue summary counts.
pub type Summary = (Vec<(String, i64)>, i64, i64);

/// Counts per status, the overdue count and the late-decision count, for one institution or
/// all.
pub fn queue_summary(
    conn: &mut DbConn,
    institution_id: Option<&str>,
    now: NaiveDateTime,
) -> Result<Summary, Error> {
    let mut per_status = referrals::table
        .group_by(referrals::status)
        .select((referrals::status, diesel::dsl::count_star()))
        .into_boxed();
    let mut overdue = referrals::table
        .filter(referrals::first_responded_at.is_null())
        .filter(referrals::sla_paused_at.is_null())
        .filter(referrals::first_response_due_at.lt(now))
        .filter(referrals::status.eq_any(open_statuses()))
        .count()
        .into_boxed();
    let mut late_decisions = referrals::table
        .filter(referrals::decision_due_at.lt(now))
        .filter(referrals::status.eq_any([
            ReferralStatus::Acknowledged.as_str(),
            ReferralStatus::InReview.as_str(),
        ]))
        .count()
        .into_boxed();
    if let Some(inst) = institution_id {
        per_status = per_status.filter(referrals::institution_id.eq(inst.to_owned()));
        overdue = overdue.filter(referrals::institution_id.eq(inst.to_owned()));
        late_decisions = late_decisions.filter(referrals::institution_id.eq(inst.to_owned()));
    }
    Ok((
        per_status.load(conn)?,
        overdue.get_result(conn)?,
        late_decisions.get_result(conn)?,
    ))
}

/// The contact record of a staff member: same institution, same e-mail.
/// The open referrals assigned to a contact, oldest first.
pub fn open_referrals_of_contact(
    conn: &mut DbConn,
    contact_id: &str,
) -> Result<Vec<String>, Error> {
    Ok(referrals::table
        .filter(referrals::contact_id.eq(contact_id))
        .filter(referrals::status.eq_any(open_statuses()))
        .order(referrals::id)
        .select(referrals::id)
        .load(conn)?)
}

/// The contact an account is linked to (`assigned=me`), if any.
pub fn contact_of_user(conn: &mut DbConn, user_id: &str) -> Result<Option<String>, Error> {
    Ok(crate::db::schema::users::table
        .find(user_id)
        .select(crate::db::schema::users::contact_id)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

/// One audit record, as read back.
/// Every referral created in `[from, to)`, for one institution or all (responsiveness figures).
pub fn referrals_created_between(
    conn: &mut DbConn,
    institution_id: Option<&str>,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<Referral>, Error> {
    let mut q = referrals::table
        .filter(referrals::created_at.ge(from))
        .filter(referrals::created_at.lt(to))
        .into_boxed();
    if let Some(inst) = institution_id {
        q = q.filter(referrals::institution_id.eq(inst.to_owned()));
    }
    q.select(super::inquiries::ReferralRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Referral::try_from)
        .collect()
}
