//! Intake and the submitter's side: submitting (idempotent, rate-limited, one transaction),
//! previewing the routing, following an inquiry with its tracking token, answering, withdrawing;
//! and the operators' desk.

use std::collections::HashMap;

use chrono::{Datelike, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::auth::{random_secret, secret_hash};
use crate::db::{self, DbConn, inquiries as store, institutions, throttles};
use crate::domain::account::{Actor, Staff};
use crate::domain::calendar;
use crate::domain::event::{ReferralSource, RoutedBy};
use crate::domain::inquiry::{Author, Inquiry, InquiryDraft, Message, Referral, Visibility};
use crate::domain::institution::Institution;
use crate::domain::routing::{
    ContactCandidate, DeskReasonCode, InstitutionCandidate, RoutingOutcome, route,
};
use crate::domain::taxonomy::{Locale, ReferralStatus, WithdrawalReason};
use crate::error::Error;
use crate::service::authz::operator_only;
use crate::service::record::{Change, record};
use crate::service::triage::{Closed, referral_closed};
use crate::service::{Client, Quota};
use crate::service::{Guichet, Page, known_uuid, new_id};

/// How long an `Idempotency-Key` is remembered.
pub const IDEMPOTENCY_TTL_HOURS: i64 = 24;

/// What a submission answers (and what a replay answers again).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Submission {
    pub inquiry_id: String,
    pub reference: String,
    pub on_desk: bool,
    pub desk_reason: Option<String>,
    pub referrals: Vec<SubmittedReferral>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubmittedReferral {
    pub id: String,
    pub institution_id: String,
    pub institution_name: String,
    pub status: ReferralStatus,
    pub first_response_due_at: chrono::NaiveDateTime,
    pub reasons: Vec<String>,
}

/// The outcome of `inquiry_submit`.
pub struct Submitted {
    pub submission: Submission,
    /// Shown once; stored only as a hash.
    pub tracking_token: String,
    /// True when this answers a retry of an earlier request with the same key.
    pub replayed: bool,
}

/// The institutions as routing sees them: their profiles and their contacts with their open
/// load, in two queries whatever the number of institutions. With `overriding_type`, every
/// profile accepts that inquiry type whatever it says: a person (an operator routing by hand,
/// a triager forwarding) has decided.
pub(crate) fn routing_candidates(
    conn: &mut DbConn,
    institutions: &[Institution],
    overriding_type: Option<crate::domain::taxonomy::InquiryType>,
) -> Result<Vec<InstitutionCandidate>, Error> {
    let ids: Vec<String> = institutions.iter().map(|i| i.id.clone()).collect();
    let contacts = institutions::contacts_of(conn, &ids)?;
    // Inactive contacts are never chosen: their load does not matter.
    let active: Vec<String> = contacts
        .iter()
        .filter(|c| c.active)
        .map(|c| c.id.clone())
        .collect();
    let loads = store::open_referrals_per_contact(conn, &active)?;
    let mut by_institution: HashMap<String, Vec<ContactCandidate>> = HashMap::new();
    for c in contacts {
        by_institution
            .entry(c.institution_id.clone())
            .or_default()
            .push(ContactCandidate {
                open_referrals: loads.get(&c.id).copied().unwrap_or(0),
                id: c.id,
                name: c.name,
                active: c.active,
                expertise: c.expertise,
            });
    }
    Ok(institutions
        .iter()
        .map(|inst| {
            let mut profile = inst.profile.clone();
            if let Some(t) = overriding_type
                && !profile.accepted_inquiry_types.contains(&t)
            {
                profile.accepted_inquiry_types.push(t);
            }
            InstitutionCandidate {
                id: inst.id.clone(),
                name: inst.name.clone(),
                profile,
                profile_version: inst.profile_version,
                active: inst.active,
                contacts: by_institution.remove(&inst.id).unwrap_or_default(),
            }
        })
        .collect())
}

/// Every institution, as routing candidates and by id.
fn all_candidates(
    conn: &mut DbConn,
) -> Result<(Vec<InstitutionCandidate>, HashMap<String, Institution>), Error> {
    let all = institutions::institution_list(conn)?;
    let candidates = routing_candidates(conn, &all, None)?;
    Ok((
        candidates,
        all.into_iter().map(|i| (i.id.clone(), i)).collect(),
    ))
}

/// Preferred institutions must exist.
fn check_preferences(
    draft: &InquiryDraft,
    known: &HashMap<String, Institution>,
) -> Result<(), Error> {
    let errors: Vec<_> = draft
        .preferred_institutions
        .iter()
        .enumerate()
        .filter(|(_, id)| !known.contains_key(*id))
        .map(|(i, id)| {
            crate::error::FieldError::new(
                format!("/preferred_institutions/{i}"),
                "unknown_institution",
                crate::domain::catalogue::Msg::FieldUnknownInstitution { id: id.clone() },
            )
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(errors))
    }
}

/// The routing decision stored with an inquiry, for its text (`None` if it cannot be read).
pub async fn stored_decision(
    g: &Guichet,
    inquiry_id: &str,
) -> Result<Option<RoutingOutcome>, Error> {
    let id = inquiry_id.to_owned();
    g.db.run(move |conn| {
        Ok(store::inquiry_decision(conn, &id)
            .ok()
            .and_then(|d| serde_json::from_str(&d).ok()))
    })
    .await
}

/// `POST /v1/routing/preview`: the same routing function, on an unsaved inquiry.
pub async fn routing_preview(g: &Guichet, draft: InquiryDraft) -> Result<RoutingOutcome, Error> {
    let (candidates, known) = g.db.run(all_candidates).await?;
    check_preferences(&draft, &known)?;
    Ok(route(&draft.routing_input(), &candidates))
}

/// The tracking token of an inquiry submitted with an idempotency key is derived from it, so
/// that a replay can show it again without it ever being stored.
fn derived_token(g: &Guichet, inquiry_id: &str, key: &str) -> Result<String, Error> {
    use base64::Engine;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(g.tracking_key.as_slice()).map_err(Error::internal)?;
    mac.update(b"tracking-token:");
    mac.update(inquiry_id.as_bytes());
    mac.update(b":");
    mac.update(key.as_bytes());
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

enum TxOutcome {
    Created(Submission),
    Replay(store::IdempotencyRecord),
}

/// `POST /v1/inquiries`.
pub async fn inquiry_submit(
    g: &Guichet,
    mut draft: InquiryDraft,
    idempotency_key: Option<String>,
    client: &Client,
    header_locale: Locale,
) -> Result<Submitted, Error> {
    crate::service::per_minute(g, client, "submissions", g.limits.submissions_per_minute).await?;

    let request_hash = secret_hash(&serde_json::to_string(&draft).map_err(Error::internal)?);
    draft.locale.get_or_insert(header_locale);
    let idem_key = idempotency_key.map(|k| format!("inquiry:{k}"));
    if let Some(k) = &idem_key {
        let k = k.clone();
        let existing =
            g.db.run(move |conn| store::idempotency_get(conn, &k, db::now()))
                .await?;
        if let Some(record) = existing {
            return replay(g, record, &request_hash, idem_key.as_deref());
        }
    }

    let inquiry_id = new_id();
    let tracking_token = match &idem_key {
        Some(k) => derived_token(g, &inquiry_id, k)?,
        None => random_secret(),
    };
    let token_hash = secret_hash(&tracking_token);
    let tx_key = idem_key.clone();
    let tx_hash = request_hash.clone();
    let result =
        g.db.transaction(move |conn| {
            let now = db::now();
            if let Some(k) = &tx_key
                && let Some(record) = store::idempotency_get(conn, k, now)?
            {
                return Ok(TxOutcome::Replay(record));
            }
            let (candidates, known) = all_candidates(conn)?;
            check_preferences(&draft, &known)?;
            let outcome = route(&draft.routing_input(), &candidates);
            let year = Utc::now().year();
            let number = store::next_reference_number(conn, year)?;
            let inquiry = Inquiry {
                id: inquiry_id.clone(),
                reference: crate::domain::inquiry::reference(year, number),
                draft,
                on_desk: outcome.to_desk,
                created_at: now,
            };
            let decision = serde_json::to_string(&outcome).map_err(Error::internal)?;
            store::inquiry_insert(conn, &inquiry, &token_hash, &decision)?;
            let submitter = Actor::Submitter {
                inquiry_id: inquiry.id.clone(),
            };
            record(
                conn,
                &submitter,
                now,
                Change::InquirySubmitted { inquiry: &inquiry },
            )?;
            let referrals = create_referrals(conn, &inquiry, &outcome, &known, now, None)?;
            record(
                conn,
                &Actor::System,
                now,
                Change::InquiryRouted {
                    inquiry_id: &inquiry.id,
                    routed_by: if outcome.to_desk {
                        RoutedBy::Desk
                    } else {
                        RoutedBy::Rules
                    },
                    institution_ids: referrals.iter().map(|r| r.institution_id.clone()).collect(),
                    desk_reason: outcome.desk_reason.as_deref(),
                    reason: None,
                    left_desk: false,
                },
            )?;
            let submission = Submission {
                inquiry_id: inquiry.id.clone(),
                reference: inquiry.reference.clone(),
                on_desk: outcome.to_desk,
                desk_reason: outcome.desk_reason.clone(),
                referrals,
            };
            if let Some(k) = &tx_key {
                let record = store::IdempotencyRecord {
                    request_hash: tx_hash,
                    inquiry_id: inquiry.id.clone(),
                    response_body: serde_json::to_string(&submission).map_err(Error::internal)?,
                };
                let expires = now + Duration::hours(IDEMPOTENCY_TTL_HOURS);
                store::idempotency_insert(conn, k, &record, now, expires).map_err(|e| match e {
                    Error::Conflict { .. } => {
                        Error::conflict("idempotency_race", "concurrent retry")
                    }
                    other => other,
                })?;
            }
            Ok(TxOutcome::Created(submission))
        })
        .await;
    match result {
        Ok(TxOutcome::Created(submission)) => {
            tracing::info!(inquiry.id = %submission.inquiry_id, inquiry.reference = %submission.reference, referrals = submission.referrals.len(), "inquiry submitted");
            Ok(Submitted {
                submission,
                tracking_token,
                replayed: false,
            })
        }
        Ok(TxOutcome::Replay(record)) => replay(g, record, &request_hash, idem_key.as_deref()),
        // Another request with the same key committed first: answer what it answered.
        Err(Error::Conflict {
            code: "idempotency_race",
            ..
        }) => {
            let k = idem_key.clone().unwrap_or_default();
            let record =
                g.db.run(move |conn| store::idempotency_get(conn, &k, db::now()))
                    .await?
                    .ok_or_else(|| Error::internal("idempotency record vanished"))?;
            replay(g, record, &request_hash, idem_key.as_deref())
        }
        Err(e) => Err(e),
    }
}

fn replay(
    g: &Guichet,
    record: store::IdempotencyRecord,
    request_hash: &str,
    key: Option<&str>,
) -> Result<Submitted, Error> {
    if record.request_hash != request_hash {
        return Err(Error::validation_one(
            "",
            "idempotency_key_reused",
            "this Idempotency-Key was used with another body; use a new key for a new inquiry",
        ));
    }
    let submission: Submission =
        serde_json::from_str(&record.response_body).map_err(Error::internal)?;
    Ok(Submitted {
        tracking_token: derived_token(g, &record.inquiry_id, key.unwrap_or_default())?,
        submission,
        replayed: true,
    })
}

/// Creates the referrals of a routing outcome; `routed_by` is the operator routing by hand.
fn create_referrals(
    conn: &mut DbConn,
    inquiry: &Inquiry,
    outcome: &RoutingOutcome,
    known: &HashMap<String, Institution>,
    now: chrono::NaiveDateTime,
    routed_by: Option<(&Actor, &str)>,
) -> Result<Vec<SubmittedReferral>, Error> {
    let mut out = Vec::new();
    for sel in &outcome.selected {
        let sla = known
            .get(&sel.institution_id)
            .map_or(10, |i| i.sla_business_days.max(1) as u32);
        let reasons = match routed_by {
            Some((_, explanation)) => {
                let mut r = vec![explanation.to_owned()];
                r.extend(sel.reasons.iter().cloned());
                r
            }
            None => sel.reasons.clone(),
        };
        let referral = Referral {
            id: new_id(),
            inquiry_id: inquiry.id.clone(),
            institution_id: sel.institution_id.clone(),
            contact_id: sel.contact.as_ref().map(|c| c.contact_id.clone()),
            status: ReferralStatus::New,
            reasons,
            score: i32::from(sel.score),
            profile_version: sel.profile_version,
            first_response_due_at: calendar::due_at(now, sla),
            first_responded_at: None,
            version: 1,
            created_at: now,
            updated_at: now,
            decision_reason: None,
            decision_note: None,
            sla_paused_at: None,
            decision_due_at: None,
            decided_at: None,
        };
        store::referral_insert(conn, &referral)?;
        let (actor, source) = match routed_by {
            Some((operator, _)) => (operator, ReferralSource::Hand),
            None => (&Actor::System, ReferralSource::Rules),
        };
        record(
            conn,
            actor,
            now,
            Change::ReferralCreated {
                referral: &referral,
                source,
                forwarded_from: None,
            },
        )?;
        out.push(SubmittedReferral {
            id: referral.id,
            institution_id: sel.institution_id.clone(),
            institution_name: sel.institution_name.clone(),
            status: referral.status,
            first_response_due_at: referral.first_response_due_at,
            reasons: referral.reasons,
        });
    }
    Ok(out)
}

/// Everything the submitter (or an operator) sees of an inquiry.
#[derive(Debug, Clone)]
pub struct InquiryDetail {
    pub inquiry: Inquiry,
    pub referrals: Vec<Referral>,
    /// External messages only.
    pub messages: Vec<Message>,
    pub institution_names: HashMap<String, String>,
    pub desk_reason: Option<String>,
    /// The stored routing decision, to render its text in the reader's language.
    pub decision: Option<RoutingOutcome>,
}

fn load_detail(conn: &mut DbConn, inquiry: Inquiry) -> Result<InquiryDetail, Error> {
    let referrals = store::referrals_of_inquiry(conn, &inquiry.id)?;
    let ids: Vec<String> = referrals.iter().map(|r| r.id.clone()).collect();
    let messages = store::messages_of(conn, &ids, true)?;
    let institution_names = institutions::institution_list(conn)?
        .into_iter()
        .map(|i| (i.id, i.name))
        .collect();
    let decision: Option<RoutingOutcome> = if inquiry.on_desk {
        Some(
            serde_json::from_str(&store::inquiry_decision(conn, &inquiry.id)?)
                .map_err(Error::internal)?,
        )
    } else {
        // Only for its text: a decision that cannot be read leaves the stored text.
        store::inquiry_decision(conn, &inquiry.id)
            .ok()
            .and_then(|d| serde_json::from_str(&d).ok())
    };
    let desk_reason = if inquiry.on_desk {
        decision.as_ref().and_then(|d| d.desk_reason.clone())
    } else {
        None
    };
    Ok(InquiryDetail {
        inquiry,
        referrals,
        messages,
        institution_names,
        desk_reason,
        decision,
    })
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    crate::auth::constant_time_eq(a.as_bytes(), b.as_bytes())
}

/// Finds the inquiry a tracking token opens. A wrong token, a missing one and a missing
/// inquiry are the same 404; failed look-ups per address are throttled.
fn open_with_token(
    conn: &mut DbConn,
    g: &crate::service::Limits,
    id: &str,
    token: Option<&str>,
    client: &Client,
) -> Result<Inquiry, Error> {
    let key = format!("tracking:address:{}", client.addr);
    let now = db::now();
    let window = Duration::seconds(TRACKING_WINDOW_SECONDS as i64);
    // Counted before the token is compared, so parallel guesses get at most the limit through;
    // a right token gives its count back.
    let attempt = throttles::throttle_attempt(
        conn,
        &key,
        now,
        window,
        g.tracking_failures_per_address,
        window,
    )?;
    let quota = Quota::of(
        "tracking",
        g.tracking_failures_per_address,
        TRACKING_WINDOW_SECONDS,
        &attempt,
    );
    if let Some(retry_after) = attempt.retry_after {
        client.report(quota);
        return Err(Error::TooManyRequests { retry_after });
    }
    let found = match (known_uuid(id, "inquiry"), token) {
        (Ok(()), Some(token)) => store::inquiry_get(conn, id)?
            .filter(|(_, hash)| constant_time_eq(hash, &secret_hash(token)))
            .map(|(inquiry, _)| inquiry),
        _ => None,
    };
    match found {
        Some(inquiry) => {
            throttles::throttle_refund(conn, &key)?;
            client.report(Quota {
                remaining: (quota.remaining + 1).min(quota.limit),
                ..quota
            });
            Ok(inquiry)
        }
        None => {
            client.report(quota);
            Err(Error::NotFound {
                resource: "inquiry",
            })
        }
    }
}

const TRACKING_WINDOW_SECONDS: u64 = 600;

fn count_throttle(g: &Guichet, e: &Error) {
    if matches!(e, Error::TooManyRequests { .. }) {
        g.metrics.throttled("tracking");
    }
}

/// `GET /v1/inquiries/{id}` with `X-Tracking-Token`.
pub async fn inquiry_track(
    g: &Guichet,
    id: &str,
    token: Option<String>,
    client: &Client,
) -> Result<InquiryDetail, Error> {
    let (id, client, limits) = (id.to_owned(), client.clone(), g.limits.clone());
    g.db.run(move |conn| {
        let inquiry = open_with_token(conn, &limits, &id, token.as_deref(), &client)?;
        load_detail(conn, inquiry)
    })
    .await
    .inspect_err(|e| count_throttle(g, e))
}

/// `POST /v1/inquiries/{id}/referrals/{referral_id}/messages`: the submitter answers one
/// institution. An answer to a request for information puts the referral back in review.
pub async fn submitter_message(
    g: &Guichet,
    id: &str,
    referral_id: &str,
    token: Option<String>,
    client: &Client,
    body: String,
) -> Result<Message, Error> {
    let (id, referral_id, client, limits) = (
        id.to_owned(),
        referral_id.to_owned(),
        client.clone(),
        g.limits.clone(),
    );
    // The look-up (and its throttle) commits on its own; the change is one transaction.
    let inquiry = {
        let (id, client) = (id.clone(), client.clone());
        g.db.run(move |conn| open_with_token(conn, &limits, &id, token.as_deref(), &client))
            .await
            .inspect_err(|e| count_throttle(g, e))?
    };
    g.db.transaction(move |conn| {
        let now = db::now();
        let referral = store::referrals_of_inquiry(conn, &inquiry.id)?
            .into_iter()
            .find(|r| r.id == referral_id)
            .ok_or(Error::NotFound {
                resource: "referral",
            })?;
        if !referral.status.is_open() {
            return Err(referral_closed(referral.status, Closed::Messages));
        }
        let message = Message {
            id: new_id(),
            referral_id: referral.id.clone(),
            author: Author::Submitter,
            author_user_id: None,
            visibility: Visibility::External,
            body,
            created_at: now,
        };
        store::message_insert(conn, &message)?;
        let submitter = Actor::Submitter {
            inquiry_id: inquiry.id.clone(),
        };
        record(
            conn,
            &submitter,
            now,
            Change::MessagePosted {
                referral: &referral,
                message: &message,
            },
        )?;
        if referral.status == ReferralStatus::InfoRequested {
            let mut changed = referral.clone();
            crate::service::triage::apply_status(&mut changed, ReferralStatus::InReview, now);
            if !store::referral_save(conn, &changed, referral.version)? {
                return Err(Error::PreconditionFailed);
            }
            record(
                conn,
                &submitter,
                now,
                Change::ReferralStatusChanged {
                    referral: &changed,
                    from: ReferralStatus::InfoRequested,
                    reason_code: Some("submitter_replied"),
                    withdrawal_reason: None,
                },
            )?;
        }
        Ok(message)
    })
    .await
}

/// What the submitter withdraws, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    /// Only this institution's referral; `None`: the whole inquiry.
    pub institution_id: Option<String>,
    pub reason_code: WithdrawalReason,
    /// Free text for the institutions whose referrals it closes.
    pub reason: Option<String>,
}

impl Default for Withdrawal {
    /// A body-less withdrawal: the whole inquiry, no reason given.
    fn default() -> Self {
        Withdrawal {
            institution_id: None,
            reason_code: WithdrawalReason::NotGiven,
            reason: None,
        }
    }
}

/// `POST /v1/inquiries/{id}/withdraw`: every open referral becomes `withdrawn` (and the
/// inquiry leaves the desk), or, with an institution, only that institution's referral: the
/// inquiry stays open elsewhere and its status follows the remaining referrals.
pub async fn inquiry_withdraw(
    g: &Guichet,
    id: &str,
    token: Option<String>,
    client: &Client,
    withdrawal: Withdrawal,
) -> Result<InquiryDetail, Error> {
    let (id, client, limits) = (id.to_owned(), client.clone(), g.limits.clone());
    let inquiry = {
        let id = id.clone();
        g.db.run(move |conn| open_with_token(conn, &limits, &id, token.as_deref(), &client))
            .await
            .inspect_err(|e| count_throttle(g, e))?
    };
    g.db.transaction(move |conn| {
        let now = db::now();
        // Locked first, so a triager's change that commits meanwhile is seen, not a 412.
        for r in store::referrals_of_inquiry(conn, &inquiry.id)? {
            store::referral_lock(conn, &r.id)?;
        }
        let referrals = store::referrals_of_inquiry(conn, &inquiry.id)?;
        let targets: Vec<&Referral> = match &withdrawal.institution_id {
            Some(institution) => {
                let r = referrals
                    .iter()
                    .find(|r| &r.institution_id == institution)
                    .ok_or(Error::NotFound {
                        resource: "referral",
                    })?;
                if !r.status.is_open() {
                    return Err(referral_closed(r.status, Closed::Withdrawal));
                }
                vec![r]
            }
            None => {
                let open: Vec<&Referral> =
                    referrals.iter().filter(|r| r.status.is_open()).collect();
                if open.is_empty() && !inquiry.on_desk {
                    return Err(Error::conflict(
                        "nothing_to_withdraw",
                        "Every referral of this inquiry is already closed.",
                    ));
                }
                open
            }
        };
        let submitter = Actor::Submitter {
            inquiry_id: inquiry.id.clone(),
        };
        let mut withdrawn = Vec::new();
        for r in targets {
            withdraw_referral(conn, &submitter, r, &withdrawal, now)?;
            withdrawn.push(r.id.clone());
        }
        if withdrawal.institution_id.is_none() {
            if inquiry.on_desk {
                store::inquiry_set_on_desk(conn, &inquiry.id, false)?;
            }
            record(
                conn,
                &submitter,
                now,
                Change::InquiryWithdrawn {
                    inquiry_id: &inquiry.id,
                    referral_ids: withdrawn,
                    was_on_desk: inquiry.on_desk,
                    reason: withdrawal.reason_code,
                },
            )?;
        }
        let inquiry = store::inquiry_get(conn, &inquiry.id)?
            .map(|(i, _)| i)
            .ok_or(Error::NotFound {
                resource: "inquiry",
            })?;
        load_detail(conn, inquiry)
    })
    .await
}

/// Closes one open referral for the submitter: the reason code and text become the referral's
/// decision (its staff read them), and the audit gets the status change and the reason.
fn withdraw_referral(
    conn: &mut DbConn,
    submitter: &Actor,
    r: &Referral,
    withdrawal: &Withdrawal,
    now: chrono::NaiveDateTime,
) -> Result<(), Error> {
    let mut changed = r.clone();
    crate::service::triage::apply_status(&mut changed, ReferralStatus::Withdrawn, now);
    // A withdrawal is not the institution's response.
    changed.first_responded_at = r.first_responded_at;
    changed.sla_paused_at = None;
    changed.decision_reason = Some(withdrawal.reason_code.as_str().to_owned());
    changed.decision_note = withdrawal.reason.clone();
    if !store::referral_save(conn, &changed, r.version)? {
        return Err(Error::PreconditionFailed);
    }
    record(
        conn,
        submitter,
        now,
        Change::ReferralStatusChanged {
            referral: &changed,
            from: r.status,
            reason_code: Some("submitter_withdrew"),
            withdrawal_reason: Some(withdrawal.reason_code),
        },
    )?;
    record(
        conn,
        submitter,
        now,
        Change::ReferralWithdrawn {
            referral: &changed,
            reason: withdrawal.reason_code,
        },
    )?;
    Ok(())
}

pub use crate::db::inquiries::{DeskFilter, DeskSort};

/// An inquiry on the desk, with why it is there.
#[derive(Debug, Clone)]
pub struct DeskItem {
    pub inquiry: Inquiry,
    pub desk_reason_code: DeskReasonCode,
    /// The sentence the submitter was shown.
    pub desk_reason: String,
}

/// `GET /v1/desk`: inquiries no rule could route, for operators.
pub async fn desk_list(
    g: &Guichet,
    actor: &Staff,
    filter: DeskFilter,
    limit: i64,
) -> Result<Page<DeskItem>, Error> {
    operator_only(actor)?;
    g.db.run(move |conn| {
        let rows = store::desk_list(conn, &filter, limit + 1)?;
        let page = Page::from_rows(rows, limit, |(i, _)| i.id.clone());
        let items = page
            .items
            .into_iter()
            .map(|(inquiry, decision)| {
                let decision: RoutingOutcome =
                    serde_json::from_str(&decision).map_err(Error::internal)?;
                // On the desk means routing selected nobody (hand routing takes it off).
                let code = decision
                    .desk_reason_code(&inquiry.draft.preferred_institutions)
                    .ok_or_else(|| Error::internal("an inquiry on the desk had a selection"))?;
                Ok(DeskItem {
                    desk_reason: decision
                        .desk_reason
                        .unwrap_or_else(|| code.explanation(inquiry.draft.inquiry_type)),
                    desk_reason_code: code,
                    inquiry,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Page {
            items,
            next_after: page.next_after,
        })
    })
    .await
}

/// `POST /v1/inquiries/{id}/routing`: an operator routes an inquiry by hand to the given
/// institutions (whatever their profiles say); the contact is chosen as usual.
pub async fn inquiry_route_manually(
    g: &Guichet,
    actor: &Staff,
    id: &str,
    institution_ids: Vec<String>,
    reason: Option<String>,
) -> Result<InquiryDetail, Error> {
    operator_only(actor)?;
    known_uuid(id, "inquiry")?;
    let (id, operator) = (id.to_owned(), Actor::from(actor));
    g.db.transaction(move |conn| {
        let now = db::now();
        let inquiry = store::inquiry_get(conn, &id)?
            .map(|(i, _)| i)
            .ok_or(Error::NotFound {
                resource: "inquiry",
            })?;
        let known: HashMap<String, Institution> = institutions::institution_list(conn)?
            .into_iter()
            .map(|i| (i.id.clone(), i))
            .collect();
        let mut draft = inquiry.draft.clone();
        draft.preferred_institutions = institution_ids.clone();
        // The body names them `institutions`: point there.
        check_preferences(&draft, &known).map_err(|e| match e {
            Error::Validation(errors) => Error::Validation(
                errors
                    .into_iter()
                    .map(|mut f| {
                        f.pointer = f
                            .pointer
                            .replace("/preferred_institutions/", "/institutions/");
                        f
                    })
                    .collect(),
            ),
            other => other,
        })?;
        let referrals = store::referrals_of_inquiry(conn, &inquiry.id)?;
        let statuses: Vec<ReferralStatus> = referrals.iter().map(|r| r.status).collect();
        if crate::domain::inquiry::overall_status(inquiry.on_desk, &statuses)
            == crate::domain::inquiry::InquiryStatus::Withdrawn
        {
            return Err(Error::conflict(
                "inquiry_withdrawn",
                "The submitter withdrew this inquiry: it cannot be routed again.",
            ));
        }
        let existing: Vec<String> = referrals.into_iter().map(|r| r.institution_id).collect();
        if let Some(dup) = institution_ids.iter().find(|i| existing.contains(i)) {
            return Err(Error::conflict(
                "already_referred",
                format!("This inquiry already has a referral at `{dup}`."),
            ));
        }
        // The operator's choice overrides the profiles' accepted types and thresholds, not a
        // deactivation.
        let chosen: Vec<Institution> = institution_ids
            .iter()
            .filter_map(|id| known.get(id).cloned())
            .collect();
        if let Some(off) = chosen.iter().find(|i| !i.active) {
            return Err(crate::service::institutions::inactive(off));
        }
        let candidates = routing_candidates(conn, &chosen, Some(draft.inquiry_type))?;
        let outcome = route(&draft.routing_input(), &candidates);
        let explanation = match &reason {
            Some(why) => format!("Routed by hand by the Guichet operators: {why}"),
            None => "Routed by hand by the Guichet operators.".to_owned(),
        };
        let created = create_referrals(
            conn,
            &inquiry,
            &outcome,
            &known,
            now,
            Some((&operator, &explanation)),
        )?;
        store::inquiry_set_on_desk(conn, &inquiry.id, false)?;
        record(
            conn,
            &operator,
            now,
            Change::InquiryRouted {
                inquiry_id: &inquiry.id,
                routed_by: RoutedBy::Hand,
                institution_ids: created.into_iter().map(|r| r.institution_id).collect(),
                desk_reason: None,
                reason: reason.as_deref(),
                left_desk: inquiry.on_desk,
            },
        )?;
        let inquiry = Inquiry {
            on_desk: false,
            ..inquiry
        };
        load_detail(conn, inquiry)
    })
    .await
}
