//! Who is told what, by e-mail. The change recorder calls [`write_notices`] for every change,
//! inside the change's transaction: it decides the recipients from the database as the change
//! leaves it, snapshots what each message shows (`context`), and writes one `mail_messages` row
//! per recipient. The worker frame renders and sends them after commit (`service::mail`).
//!
//! Rules (docs/ARCHITECTURE.md, "E-mail"):
//! - a new referral: its assigned contact, or when unassigned the institution's team address,
//!   else its triagers (else its admins);
//! - a reassignment: the new contact; a submitter's reply or withdrawal: the assigned contact
//!   (or, unassigned, as for a new referral);
//! - the submitter: the receipt, every external message, and `info_requested`, `accepted`,
//!   `declined` and `forwarded`; never an internal note, a staff address or the tracking token;
//! - SLA reminders (optional, business hours only): the contact (or triagers) on the morning of
//!   the due day; when the deadline passes, the contact and, escalated, the institution's admins;
//! - a disabled webhook endpoint: the institution's admins (operators for platform endpoints);
//! - password reset and change: the account itself.

use chrono::NaiveDateTime;
use serde_json::{Value, json};

use crate::db::mail::{NewMail, Recipient};
use crate::db::{self, DbConn};
use crate::domain::account::Actor;
use crate::domain::inquiry::{Author, Inquiry, Referral, Visibility};
use crate::domain::mail::{Category, Kind, paris_date_time, send_after};
use crate::domain::taxonomy::{DeclineReason, InquiryType, Locale, ReferralStatus, Role};
use crate::error::Error;
use crate::service::record::Change;

/// One message to write.
struct Notice {
    kind: Kind,
    to: Recipient,
    /// What the template shows, without the recipient-specific parts.
    context: Value,
    /// One message per key (reminders), so a re-run or a second instance writes none.
    dedupe: Option<String>,
    institution_id: Option<String>,
    inquiry_id: Option<String>,
    referral_id: Option<String>,
}

/// The path of a referral's page in the console (the worker prefixes the public URL).
fn referral_path(referral_id: &str) -> String {
    format!("/console/referrals/{referral_id}")
}

fn inquiry_of(conn: &mut DbConn, inquiry_id: &str) -> Result<Inquiry, Error> {
    db::inquiries::inquiry_get(conn, inquiry_id)?
        .map(|(i, _)| i)
        .ok_or_else(|| Error::internal(format!("inquiry {inquiry_id} vanished")))
}

fn institution_name(conn: &mut DbConn, institution_id: &str) -> Result<String, Error> {
    Ok(db::mail::institution_mail(conn, institution_id)?.0)
}

/// The people who handle a referral's institution when nobody is assigned: its team address,
/// else its triagers, else its admins.
fn triagers(conn: &mut DbConn, institution_id: &str) -> Result<Vec<Recipient>, Error> {
    if let (_, Some(team)) = db::mail::institution_mail(conn, institution_id)? {
        return Ok(vec![Recipient {
            address: team,
            locale: Locale::En,
        }]);
    }
    let triagers = db::mail::staff_of(conn, Some(institution_id), &[Role::Triager])?;
    if !triagers.is_empty() {
        return Ok(triagers);
    }
    db::mail::staff_of(conn, Some(institution_id), &[Role::InstitutionAdmin])
}

/// The assigned contact of a referral, or its institution's triagers.
fn handlers(conn: &mut DbConn, r: &Referral) -> Result<(Vec<Recipient>, bool), Error> {
    if let Some(contact) = &r.contact_id
        && let Some(to) = db::mail::contact_recipient(conn, contact)?
    {
        return Ok((vec![to], true));
    }
    Ok((triagers(conn, &r.institution_id)?, false))
}

/// An inquiry type in an e-mail: its label from the catalogue.
pub fn inquiry_type_words(t: InquiryType, locale: Locale) -> &'static str {
    t.label_in(locale)
}

/// A decline reason in an e-mail: its label from the catalogue.
pub fn decline_reason_words(r: DeclineReason, locale: Locale) -> &'static str {
    r.label_in(locale)
}

/// What every staff message about a referral shows.
fn referral_context(r: &Referral, inquiry: &Inquiry, institution: &str, locale: Locale) -> Value {
    json!({
        "reference": inquiry.reference,
        "title": inquiry.draft.title,
        "organization": inquiry.draft.submitter.organization,
        "inquiry_type": inquiry_type_words(inquiry.draft.inquiry_type, locale),
        "institution_name": institution,
        "due_at": paris_date_time(r.first_response_due_at, locale),
        "link_path": referral_path(&r.id),
    })
}

fn merge(mut base: Value, extra: Value) -> Value {
    if let (Value::Object(b), Value::Object(e)) = (&mut base, extra) {
        b.extend(e);
    }
    base
}

/// Notices to the people handling a referral, each in their language.
fn to_handlers(
    conn: &mut DbConn,
    kind: Kind,
    r: &Referral,
    recipients: Vec<Recipient>,
    extra: impl Fn(&Recipient) -> Value,
    dedupe: impl Fn(&Recipient) -> Option<String>,
) -> Result<Vec<Notice>, Error> {
    if recipients.is_empty() {
        return Ok(Vec::new());
    }
    // Read once, whatever the number of recipients.
    let inquiry = inquiry_of(conn, &r.inquiry_id)?;
    let institution = institution_name(conn, &r.institution_id)?;
    let mut out = Vec::with_capacity(recipients.len());
    for to in recipients {
        let context = merge(
            referral_context(r, &inquiry, &institution, to.locale),
            extra(&to),
        );
        out.push(Notice {
            kind,
            dedupe: dedupe(&to),
            context,
            to,
            institution_id: Some(r.institution_id.clone()),
            inquiry_id: Some(r.inquiry_id.clone()),
            referral_id: Some(r.id.clone()),
        });
    }
    Ok(out)
}

/// A notice to an inquiry's submitter, in the language they chose.
fn to_submitter(
    inquiry: &Inquiry,
    kind: Kind,
    referral: Option<&Referral>,
    context: impl FnOnce(Locale) -> Result<Value, Error>,
) -> Result<Notice, Error> {
    let locale = inquiry.draft.locale.unwrap_or(Locale::En);
    let base = json!({
        "name": inquiry.draft.submitter.name,
        "reference": inquiry.reference,
        "title": inquiry.draft.title,
    });
    Ok(Notice {
        kind,
        to: Recipient {
            address: inquiry.draft.submitter.email.clone(),
            locale,
        },
        context: merge(base, context(locale)?),
        dedupe: None,
        institution_id: referral.map(|r| r.institution_id.clone()),
        inquiry_id: Some(inquiry.id.clone()),
        referral_id: referral.map(|r| r.id.clone()),
    })
}

/// The institutions an inquiry went to, with their first-response deadlines.
fn referral_list(
    conn: &mut DbConn,
    inquiry_id: &str,
    only: &[String],
    locale: Locale,
) -> Result<Value, Error> {
    let mut out = Vec::new();
    for r in db::inquiries::referrals_of_inquiry(conn, inquiry_id)? {
        if !only.contains(&r.institution_id) {
            continue;
        }
        out.push(json!({
            "institution_name": institution_name(conn, &r.institution_id)?,
            "due_at": paris_date_time(r.first_response_due_at, locale),
        }));
    }
    Ok(Value::Array(out))
}

fn notices(
    conn: &mut DbConn,
    at: NaiveDateTime,
    change: &Change<'_>,
) -> Result<Vec<Notice>, Error> {
    use Change::*;
    Ok(match change {
        ReferralCreated { referral, .. } => {
            let (to, assigned) = handlers(conn, referral)?;
            to_handlers(
                conn,
                Kind::ReferralNew,
                referral,
                to,
                |_| json!({ "assigned": assigned }),
                |_| None,
            )?
        }
        ReferralAssigned { referral, previous } => {
            let Some(contact) = &referral.contact_id else {
                return Ok(Vec::new());
            };
            if previous.is_some_and(|p| p == contact) {
                return Ok(Vec::new());
            }
            let to: Vec<Recipient> = db::mail::contact_recipient(conn, contact)?
                .into_iter()
                .collect();
            to_handlers(
                conn,
                Kind::ReferralAssigned,
                referral,
                to,
                |_| json!({}),
                |_| None,
            )?
        }
        MessagePosted { referral, message } => match (message.author, message.visibility) {
            (Author::Submitter, _) => {
                let (to, _) = handlers(conn, referral)?;
                let body = message.body.clone();
                to_handlers(
                    conn,
                    Kind::SubmitterReplied,
                    referral,
                    to,
                    |_| json!({ "body": body }),
                    |_| None,
                )?
            }
            (_, Visibility::External) => {
                let inquiry = inquiry_of(conn, &referral.inquiry_id)?;
                let name = institution_name(conn, &referral.institution_id)?;
                vec![to_submitter(
                    &inquiry,
                    Kind::MessageReceived,
                    Some(referral),
                    |_| Ok(json!({ "institution_name": name, "body": message.body })),
                )?]
            }
            (_, Visibility::Internal) => Vec::new(),
        },
        ReferralStatusChanged { referral, .. } => match referral.status {
            ReferralStatus::Withdrawn => {
                let (to, _) = handlers(conn, referral)?;
                to_handlers(
                    conn,
                    Kind::InquiryWithdrawn,
                    referral,
                    to,
                    |_| json!({}),
                    |_| None,
                )?
            }
            ReferralStatus::InfoRequested
            | ReferralStatus::Accepted
            | ReferralStatus::Declined
            | ReferralStatus::Forwarded => {
                let inquiry = inquiry_of(conn, &referral.inquiry_id)?;
                let name = institution_name(conn, &referral.institution_id)?;
                let forwarded_to = match (referral.status, &referral.decision_reason) {
                    (ReferralStatus::Forwarded, Some(target)) => {
                        Some(institution_name(conn, target)?)
                    }
                    _ => None,
                };
                let decline: Option<DeclineReason> = match referral.status {
                    ReferralStatus::Declined => referral
                        .decision_reason
                        .as_deref()
                        .and_then(|c| c.parse().ok()),
                    _ => None,
                };
                vec![to_submitter(
                    &inquiry,
                    Kind::StatusChanged,
                    Some(referral),
                    |locale| {
                        Ok(json!({
                            "institution_name": name,
                            "status": referral.status.as_str(),
                            "decline_reason": decline.map(|d| decline_reason_words(d, locale)),
                            "forwarded_to": forwarded_to,
                        }))
                    },
                )?]
            }
            _ => Vec::new(),
        },
        InquiryRouted {
            inquiry_id,
            routed_by,
            institution_ids,
            ..
        } => {
            let inquiry = inquiry_of(conn, inquiry_id)?;
            let kind = match routed_by {
                crate::domain::event::RoutedBy::Hand => Kind::InquiryRouted,
                _ => Kind::InquiryReceived,
            };
            let on_desk = matches!(routed_by, crate::domain::event::RoutedBy::Desk);
            let locale = inquiry.draft.locale.unwrap_or(Locale::En);
            let list = referral_list(conn, inquiry_id, institution_ids, locale)?;
            vec![to_submitter(&inquiry, kind, None, |_| {
                Ok(json!({ "on_desk": on_desk, "referrals": list }))
            })?]
        }
        SlaSignal { referral, breached } => {
            let due = referral.first_response_due_at;
            let (kind, tag) = if *breached {
                (Kind::SlaBreached, "breached")
            } else {
                (Kind::SlaDueSoon, "due_soon")
            };
            let (to, _) = handlers(conn, referral)?;
            let to = without_opted_out(conn, to)?;
            let key = |r: &Recipient, role: &str| {
                Some(format!(
                    "sla:{tag}:{}:{}:{role}:{}",
                    referral.id,
                    due.and_utc().timestamp(),
                    r.address.to_lowercase()
                ))
            };
            let mut out = to_handlers(
                conn,
                kind,
                referral,
                to,
                |_| json!({ "escalation": false }),
                |r| key(r, "handler"),
            )?;
            if *breached {
                let admins = db::mail::staff_of(
                    conn,
                    Some(&referral.institution_id),
                    &[Role::InstitutionAdmin],
                )?;
                let admins = without_opted_out(conn, admins)?;
                out.extend(to_handlers(
                    conn,
                    kind,
                    referral,
                    admins,
                    |_| json!({ "escalation": true }),
                    |r| key(r, "admin"),
                )?);
            }
            out
        }
        WebhookEndpointDisabled { endpoint, reason } => {
            let (to, institution_name) = match &endpoint.institution_id {
                Some(id) => (
                    db::mail::staff_of(conn, Some(id), &[Role::InstitutionAdmin])?,
                    Some(institution_name(conn, id)?),
                ),
                None => (db::mail::staff_of(conn, None, &[Role::Operator])?, None),
            };
            to.into_iter()
                .map(|to| Notice {
                    kind: Kind::EndpointDisabled,
                    to,
                    context: json!({
                        "endpoint_url": endpoint.url,
                        "reason": reason.as_str(),
                        "institution_name": institution_name,
                        "link_path": format!("/console/webhooks/{}", endpoint.id),
                    }),
                    dedupe: None,
                    institution_id: endpoint.institution_id.clone(),
                    inquiry_id: None,
                    referral_id: None,
                })
                .collect()
        }
        PasswordResetRequested { user, token } => vec![Notice {
            kind: Kind::PasswordReset,
            to: Recipient {
                address: user.email.clone(),
                locale: user.locale,
            },
            context: json!({
                "link_path": format!("/console/password-reset?token={token}"),
                "expires_minutes": crate::service::auth::RESET_TTL_MINUTES,
            }),
            dedupe: None,
            institution_id: user.institution_id.clone(),
            inquiry_id: None,
            referral_id: None,
        }],
        PasswordChanged { user, .. } => vec![Notice {
            kind: Kind::PasswordChanged,
            to: Recipient {
                address: user.email.clone(),
                locale: user.locale,
            },
            context: json!({ "changed_at": paris_date_time(at, user.locale) }),
            dedupe: None,
            institution_id: user.institution_id.clone(),
            inquiry_id: None,
            referral_id: None,
        }],
        _ => Vec::new(),
    })
}

fn without_opted_out(conn: &mut DbConn, to: Vec<Recipient>) -> Result<Vec<Recipient>, Error> {
    let mut kept = Vec::with_capacity(to.len());
    for r in to {
        if !db::mail::opted_out(conn, &r.address, Category::Reminder.as_str())? {
            kept.push(r);
        }
    }
    Ok(kept)
}

/// Writes the e-mails `change` causes. Called by the recorder inside the change's transaction;
/// the actor is not needed: who is told depends on what changed, never on who changed it.
pub(crate) fn write_notices(
    conn: &mut DbConn,
    _actor: &Actor,
    at: NaiveDateTime,
    change: &Change<'_>,
) -> Result<usize, Error> {
    let mut written = 0;
    let mut seen: Vec<(Kind, String)> = Vec::new();
    for n in notices(conn, at, change)? {
        // One message per kind and address, however the recipient was found.
        let address = n.to.address.to_lowercase();
        if seen.iter().any(|(k, a)| *k == n.kind && *a == address) {
            continue;
        }
        seen.push((n.kind, address));
        let id = crate::domain::new_id();
        // The left part of the Message-ID; the worker adds the sender's domain.
        let message_id = id.clone();
        let context = serde_json::to_string(&n.context).map_err(Error::internal)?;
        let category = n.kind.category();
        let inserted = db::mail::insert(
            conn,
            &NewMail {
                id: &id,
                dedupe_key: n.dedupe.as_deref(),
                kind: n.kind.as_str(),
                category: category.as_str(),
                recipient: &n.to.address,
                locale: n.to.locale.as_str(),
                message_id: &message_id,
                context: &context,
                institution_id: n.institution_id.as_deref(),
                inquiry_id: n.inquiry_id.as_deref(),
                referral_id: n.referral_id.as_deref(),
                send_after: send_after(category, at),
                at,
            },
        )?;
        written += usize::from(inserted);
    }
    Ok(written)
}
