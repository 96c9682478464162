//! Triage: an institution's queue, one referral, its lifecycle, thread, assignee, audit, and
//! the responsiveness figures.

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDateTime};

pub use crate::db::audit::EventRow;
pub use crate::db::triage::{InquiryFilter, QueueCursor, QueueFilter, QueueItem, QueueSort};
use crate::db::{self, DbConn, inquiries as store, institutions, triage as queue};
use crate::domain::account::{Actor, Staff};
use crate::domain::calendar;
use crate::domain::event::ReferralSource;
use crate::domain::inquiry::{Author, Inquiry, Message, Referral, Visibility};
use crate::domain::institution::{Contact, Institution};
use crate::domain::lifecycle::{self, TransitionError, TransitionInput};
use crate::domain::routing::{RoutingOutcome, Selection};
use crate::domain::taxonomy::{ReferralStatus, Role};
use crate::error::{Error, FieldError};
use crate::service::authz::{InstitutionAction, institution_access};
use crate::service::record::{Change, record};
use crate::service::{Guichet, Page, known_uuid, new_id};

/// Who is assigned, in a queue filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assigned {
    /// The contact the caller's account is linked to (`users.contact_id`).
    Me,
    Contact(String),
}

/// A validated queue request.
#[derive(Debug, Clone, Default)]
pub struct QueueRequest {
    pub filter: QueueFilter,
    pub assigned: Option<Assigned>,
    pub limit: i64,
}

/// The scope of a staff member's lists: their institution; operators choose (or see all).
fn scope(actor: &Staff, requested: Option<String>) -> Result<Option<String>, Error> {
    match (actor.role, &actor.institution_id) {
        (Role::Operator, _) => Ok(requested),
        (_, Some(own)) => match requested {
            Some(other) if &other != own => Err(Error::NotFound {
                resource: "institution",
            }),
            _ => Ok(Some(own.clone())),
        },
        (_, None) => Err(Error::invalid_token()),
    }
}

/// Turns `assigned` into the contact id the filter wants.
fn resolve_assigned(
    conn: &mut DbConn,
    actor: &Staff,
    request: &mut QueueRequest,
) -> Result<(), Error> {
    match &request.assigned {
        Some(Assigned::Contact(id)) => request.filter.contact_id = Some(id.clone()),
        Some(Assigned::Me) => {
            let me = queue::contact_of_user(conn, &actor.user_id)?;
            // No linked contact: nothing is assigned to the caller.
            request.filter.contact_id = Some(me.unwrap_or_else(|| "none".into()));
        }
        None => {}
    }
    Ok(())
}

fn queue_cursor(i: &QueueItem) -> QueueCursor {
    QueueCursor {
        due: i.referral.first_response_due_at,
        id: i.referral.id.clone(),
    }
}

/// `GET /v1/referrals`.
pub async fn referral_list(
    g: &Guichet,
    actor: &Staff,
    institution: Option<String>,
    mut request: QueueRequest,
) -> Result<Page<QueueItem, QueueCursor>, Error> {
    request.filter.institution_id = scope(actor, institution)?;
    let actor = actor.clone();
    g.db.run(move |conn| {
        let now = db::now();
        resolve_assigned(conn, &actor, &mut request)?;
        let rows = queue::queue_page(conn, &request.filter, now, request.limit + 1)?;
        Ok(Page::from_rows(rows, request.limit, queue_cursor))
    })
    .await
}

/// `GET /v1/referrals/export`: the whole filtered queue, read a keyset page at a time as the
/// response is written, so that an export never holds its result in memory. Every page uses
/// the clock read at the start (`overdue` means the same on the first line and the last).
pub struct QueueExport {
    g: Guichet,
    filter: QueueFilter,
    page_rows: i64,
    now: NaiveDateTime,
    finished: bool,
}

impl QueueExport {
    /// The time every `overdue` of this export is judged at.
    pub fn now(&self) -> NaiveDateTime {
        self.now
    }

    /// The next page, or `None` once the last one was read (also after an error).
    pub async fn next_page(&mut self) -> Result<Option<Vec<QueueItem>>, Error> {
        if self.finished {
            return Ok(None);
        }
        self.finished = true;
        let (filter, limit, now) = (self.filter.clone(), self.page_rows, self.now);
        let rows = self
            .g
            .db
            .run(move |conn| queue::queue_page(conn, &filter, now, limit + 1))
            .await?;
        let page = Page::from_rows(rows, limit, queue_cursor);
        if let Some(after) = page.next_after {
            self.filter.after = Some(after);
            self.finished = false;
        }
        Ok(Some(page.items))
    }
}

/// Authorizes an export of the queue with the same scope and filters as [`referral_list`].
pub async fn referral_export(
    g: &Guichet,
    actor: &Staff,
    institution: Option<String>,
    mut request: QueueRequest,
) -> Result<QueueExport, Error> {
    request.filter.institution_id = scope(actor, institution)?;
    request.filter.after = None;
    let actor = actor.clone();
    let filter =
        g.db.run(move |conn| {
            resolve_assigned(conn, &actor, &mut request)?;
            Ok(request.filter)
        })
        .await?;
    Ok(QueueExport {
        g: g.clone(),
        filter,
        page_rows: g.limits.export_page_rows.max(1),
        now: db::now(),
        finished: false,
    })
}

/// `GET /v1/referrals/summary`: counts per status and overdue.
pub async fn referral_summary(
    g: &Guichet,
    actor: &Staff,
    institution: Option<String>,
) -> Result<(BTreeMap<ReferralStatus, i64>, i64, i64), Error> {
    let inst = scope(actor, institution)?;
    g.db.run(move |conn| {
        let (rows, overdue, decision_overdue) =
            queue::queue_summary(conn, inst.as_deref(), db::now())?;
        let mut counts: BTreeMap<ReferralStatus, i64> =
            ReferralStatus::ALL.iter().map(|s| (*s, 0)).collect();
        for (status, n) in rows {
            if let Ok(s) = status.parse() {
                counts.insert(s, n);
            }
        }
        Ok((counts, overdue, decision_overdue))
    })
    .await
}

/// Everything staff see of one referral.
#[derive(Debug, Clone)]
pub struct ReferralDetail {
    pub referral: Referral,
    pub inquiry: Inquiry,
    pub institution_name: String,
    /// Why routing chose this institution (absent for referrals routed by hand or forwarded).
    pub routing: Option<Selection>,
    /// Names of the other institutions that received the same inquiry. Names only.
    pub other_institutions: Vec<String>,
    /// The other institutions' referrals of the same inquiry: institution and status only.
    pub other_referrals: Vec<OtherReferral>,
    pub contact: Option<Contact>,
    /// External messages and internal notes, oldest first.
    pub messages: Vec<Message>,
    pub allowed_transitions: Vec<ReferralStatus>,
    pub now: NaiveDateTime,
}

/// Another institution's referral of the same inquiry, as a referral's staff may know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherReferral {
    pub institution_id: String,
    pub institution_name: String,
    pub status: ReferralStatus,
}

/// The 409 for a change a referral in a final state no longer takes, naming the state:
/// "This referral is declined; it takes no more messages."
/// What a final referral refuses.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Closed {
    Messages,
    Reassignment,
    Withdrawal,
}

/// The 409 for an action on a referral in a final state; the detail names the state.
pub(crate) fn referral_closed(status: ReferralStatus, refused: Closed) -> Error {
    use crate::domain::catalogue::{Msg, State};
    let status = State(status);
    Error::conflict(
        "referral_closed",
        match refused {
            Closed::Messages => Msg::ReferralTakesNoMessages { status },
            Closed::Reassignment => Msg::ReferralCannotBeReassigned { status },
            Closed::Withdrawal => Msg::ReferralNothingToWithdraw { status },
        },
    )
}

/// Writes `r` as the next version of what was read (`r.version` as read): 412 when someone
/// saved it in between.
fn save_next_version(conn: &mut DbConn, r: &mut Referral, now: NaiveDateTime) -> Result<(), Error> {
    let expected = r.version;
    r.version += 1;
    r.updated_at = now;
    if store::referral_save(conn, r, expected)? {
        Ok(())
    } else {
        Err(Error::PreconditionFailed)
    }
}

/// Loads a referral the actor may see, or the same 404 as a missing one.
/// [`visible_referral`] for a change: the row is locked first, so the version read is the
/// latest committed one and the If-Match check comes before every other.
fn referral_for_change(conn: &mut DbConn, actor: &Staff, id: &str) -> Result<Referral, Error> {
    store::referral_lock(conn, id)?;
    visible_referral(conn, actor, id)
}

fn visible_referral(conn: &mut DbConn, actor: &Staff, id: &str) -> Result<Referral, Error> {
    let referral = store::referral_get(conn, id)?.ok_or(Error::NotFound {
        resource: "referral",
    })?;
    institution_access(
        actor,
        &referral.institution_id,
        InstitutionAction::Read,
        "referral",
    )?;
    Ok(referral)
}

fn load_detail(conn: &mut DbConn, referral: Referral) -> Result<ReferralDetail, Error> {
    let (inquiry, _) = store::inquiry_get(conn, &referral.inquiry_id)?
        .ok_or_else(|| Error::internal("referral without inquiry"))?;
    let decision: RoutingOutcome =
        serde_json::from_str(&store::inquiry_decision(conn, &inquiry.id)?)
            .map_err(Error::internal)?;
    let names: HashMap<String, String> = institutions::institution_list(conn)?
        .into_iter()
        .map(|i| (i.id, i.name))
        .collect();
    let other_referrals: Vec<OtherReferral> = store::referrals_of_inquiry(conn, &inquiry.id)?
        .into_iter()
        .filter(|r| r.institution_id != referral.institution_id)
        .map(|r| OtherReferral {
            institution_name: names
                .get(&r.institution_id)
                .cloned()
                .unwrap_or_else(|| r.institution_id.clone()),
            institution_id: r.institution_id,
            status: r.status,
        })
        .collect();
    let other_institutions = other_referrals
        .iter()
        .map(|o| o.institution_name.clone())
        .collect();
    let contact = match &referral.contact_id {
        Some(c) => institutions::contact_get(conn, &referral.institution_id, c)?,
        None => None,
    };
    let messages = store::messages_of(conn, std::slice::from_ref(&referral.id), false)?;
    Ok(ReferralDetail {
        routing: decision
            .selected
            .into_iter()
            .find(|s| s.institution_id == referral.institution_id && referral.reasons == s.reasons),
        institution_name: names
            .get(&referral.institution_id)
            .cloned()
            .unwrap_or_else(|| referral.institution_id.clone()),
        allowed_transitions: lifecycle::staff_transitions(referral.status).to_vec(),
        referral,
        inquiry,
        other_institutions,
        other_referrals,
        contact,
        messages,
        now: db::now(),
    })
}

/// `GET /v1/referrals/{id}`.
pub async fn referral_get(g: &Guichet, actor: &Staff, id: &str) -> Result<ReferralDetail, Error> {
    known_uuid(id, "referral")?;
    let (actor, id) = (actor.clone(), id.to_owned());
    g.db.run(move |conn| {
        let referral = visible_referral(conn, &actor, &id)?;
        load_detail(conn, referral)
    })
    .await
}

/// Status change bookkeeping shared by staff transitions and submitter replies: the first
/// response, and the SLA clock that pauses while information is requested.
pub fn apply_status(r: &mut Referral, to: ReferralStatus, now: NaiveDateTime) {
    if lifecycle::is_first_response(r.status) && r.first_responded_at.is_none() {
        r.first_responded_at = Some(now);
    }
    // Leaving `info_requested` resumes the clocks (the pause is cleared either way): the
    // first-response clock if it still runs, and the decision target.
    if r.status == ReferralStatus::InfoRequested
        && let Some(paused) = r.sla_paused_at.take()
    {
        if r.first_responded_at.is_none() {
            r.first_response_due_at =
                calendar::extend_for_pause(r.first_response_due_at, paused, now);
        }
        if let Some(due) = r.decision_due_at {
            r.decision_due_at = Some(calendar::extend_for_pause(due, paused, now));
        }
    }
    if matches!(
        to,
        ReferralStatus::Accepted | ReferralStatus::Declined | ReferralStatus::Forwarded
    ) && r.decided_at.is_none()
    {
        r.decided_at = Some(now);
    }
    if to == ReferralStatus::InfoRequested {
        r.sla_paused_at = Some(now);
    }
    r.status = to;
    r.version += 1;
    r.updated_at = now;
}

fn post_message(
    conn: &mut DbConn,
    r: &mut Referral,
    actor: &Staff,
    body: String,
    visibility: Visibility,
    now: NaiveDateTime,
) -> Result<Message, Error> {
    let message = Message {
        id: new_id(),
        referral_id: r.id.clone(),
        author: Author::Staff,
        author_user_id: Some(actor.user_id.clone()),
        visibility,
        body,
        created_at: now,
    };
    store::message_insert(conn, &message)?;
    record(
        conn,
        &Actor::from(actor),
        now,
        Change::MessagePosted {
            referral: &*r,
            message: &message,
        },
    )?;
    if visibility == Visibility::External && r.first_responded_at.is_none() {
        r.first_responded_at = Some(now);
    }
    Ok(message)
}

/// `POST /v1/referrals/{id}/transitions`.
pub async fn referral_transition(
    g: &Guichet,
    actor: &Staff,
    id: &str,
    if_match: Option<crate::service::IfMatch>,
    to: ReferralStatus,
    input: TransitionInput,
) -> Result<ReferralDetail, Error> {
    known_uuid(id, "referral")?;
    let (actor, id) = (actor.clone(), id.to_owned());
    g.db.transaction(move |conn| {
        let mut r = referral_for_change(conn, &actor, &id)?;
        let precondition = if_match.ok_or(Error::PreconditionRequired)?;
        if !precondition.matches(i64::from(r.version)) {
            return Err(Error::PreconditionFailed);
        }
        let expected = r.version;
        lifecycle::check_transition(r.status, to, &input).map_err(|e| match e {
            TransitionError::NotAllowed(allowed) => Error::conflict(
                "transition_not_allowed",
                crate::domain::catalogue::Msg::TransitionRefused {
                    from: crate::domain::catalogue::State(r.status),
                    to: crate::domain::catalogue::State(to),
                    allowed: crate::domain::catalogue::States(allowed),
                },
            ),
            TransitionError::Missing(pointer, why) => {
                Error::validation_one(pointer, "required", why)
            }
        })?;
        let now = db::now();
        let target = match (to, &input.forward_to) {
            (ReferralStatus::Forwarded, Some(target)) => {
                let inst = institutions::institution_get(conn, target)?.ok_or_else(|| {
                    Error::validation_one(
                        "/forward_to",
                        "unknown_institution",
                        crate::domain::catalogue::Msg::FieldUnknownInstitution {
                            id: target.clone(),
                        },
                    )
                })?;
                if inst.id == r.institution_id {
                    return Err(Error::validation_one(
                        "/forward_to",
                        "same_institution",
                        "a referral is forwarded to another institution",
                    ));
                }
                if !inst.active {
                    return Err(crate::service::institutions::inactive(&inst));
                }
                if store::referrals_of_inquiry(conn, &r.inquiry_id)?
                    .iter()
                    .any(|x| x.institution_id == inst.id)
                {
                    return Err(Error::conflict(
                        "already_referred",
                        crate::domain::catalogue::Msg::AlreadyHasInquiry {
                            institution: inst.name.clone(),
                        },
                    ));
                }
                Some(inst)
            }
            _ => None,
        };
        let from = r.status;
        let first = r.first_responded_at.is_none();
        apply_status(&mut r, to, now);
        // The first response starts the decision clock, at the institution's target.
        if first && r.first_responded_at.is_some() && r.decision_due_at.is_none() {
            let days = institutions::institution_get(conn, &r.institution_id)?
                .map_or(10, |i| i.decision_business_days.max(1) as u32);
            r.decision_due_at = Some(calendar::due_at(now, days));
        }
        match to {
            ReferralStatus::Declined => {
                r.decision_reason = input.reason_code.map(|c| c.as_str().to_owned());
                r.decision_note = input.reason_text.clone();
            }
            ReferralStatus::Forwarded => {
                r.decision_reason = target.as_ref().map(|t| t.id.clone());
                r.decision_note = input.reason_text.clone();
            }
            _ => {}
        }
        if let Some(body) = input.message.clone() {
            post_message(conn, &mut r, &actor, body, Visibility::External, now)?;
        }
        if !store::referral_save(conn, &r, expected)? {
            return Err(Error::PreconditionFailed);
        }
        let who = Actor::from(&actor);
        record(
            conn,
            &who,
            now,
            Change::ReferralStatusChanged {
                referral: &r,
                from,
                reason_code: r.decision_reason.as_deref(),
                withdrawal_reason: None,
            },
        )?;
        if let Some(reason) = &r.decision_reason {
            record(
                conn,
                &who,
                now,
                Change::DecisionRecorded {
                    referral: &r,
                    reason,
                },
            )?;
        }
        if let Some(target) = target {
            forward(
                conn,
                &r,
                &actor,
                &target,
                input.reason_text.as_deref().unwrap_or(""),
                now,
            )?;
        }
        load_detail(conn, r)
    })
    .await
}

/// Creates the referral at the institution a referral is forwarded to; its contact is chosen
/// by that institution's profile and contacts, as routing does.
fn forward(
    conn: &mut DbConn,
    from: &Referral,
    actor: &Staff,
    target: &Institution,
    reason: &str,
    now: NaiveDateTime,
) -> Result<(), Error> {
    let (inquiry, _) = store::inquiry_get(conn, &from.inquiry_id)?
        .ok_or_else(|| Error::internal("referral without inquiry"))?;
    let candidates = crate::service::inquiries::routing_candidates(
        conn,
        std::slice::from_ref(target),
        Some(inquiry.draft.inquiry_type),
    )?;
    let mut routing_input = inquiry.draft.routing_input();
    routing_input.preferred_institutions = vec![target.id.clone()];
    let outcome = crate::domain::routing::route(&routing_input, &candidates);
    let selection = outcome.selected.first();
    let from_name = institutions::institution_get(conn, &from.institution_id)?
        .map(|i| i.name)
        .unwrap_or_else(|| from.institution_id.clone());
    let referral = Referral {
        id: new_id(),
        inquiry_id: inquiry.id.clone(),
        institution_id: target.id.clone(),
        contact_id: selection.and_then(|s| s.contact.as_ref().map(|c| c.contact_id.clone())),
        status: ReferralStatus::New,
        // The same shape as a routed referral: who sent it here and why, then why its contact.
        reasons: std::iter::once(format!("Forwarded by {from_name}: {reason}"))
            .chain(selection.iter().flat_map(|s| s.reasons.iter().cloned()))
            .collect(),
        score: selection.map_or(0, |s| i32::from(s.score)),
        profile_version: target.profile_version,
        first_response_due_at: calendar::due_at(now, target.sla_business_days.max(1) as u32),
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
    record(
        conn,
        &Actor::from(actor),
        now,
        Change::ReferralCreated {
            referral: &referral,
            source: ReferralSource::Forward,
            forwarded_from: Some(from),
        },
    )?;
    Ok(())
}

/// `POST /v1/referrals/{id}/assignee`: reassign to an active contact of the same institution.
pub async fn referral_assign(
    g: &Guichet,
    actor: &Staff,
    id: &str,
    if_match: Option<crate::service::IfMatch>,
    contact_id: String,
) -> Result<ReferralDetail, Error> {
    known_uuid(id, "referral")?;
    let (actor, id) = (actor.clone(), id.to_owned());
    g.db.transaction(move |conn| {
        let mut r = referral_for_change(conn, &actor, &id)?;
        let precondition = if_match.ok_or(Error::PreconditionRequired)?;
        if !precondition.matches(i64::from(r.version)) {
            return Err(Error::PreconditionFailed);
        }
        if !r.status.is_open() {
            return Err(referral_closed(r.status, Closed::Reassignment));
        }
        let contact = crate::service::institutions::named_contact(
            conn,
            &r.institution_id,
            &contact_id,
            "/contact_id",
        )?;
        if !contact.active {
            return Err(Error::validation_one(
                "/contact_id",
                "inactive_contact",
                "this contact is inactive",
            ));
        }
        let before = r.contact_id.replace(contact_id.clone());
        let now = db::now();
        save_next_version(conn, &mut r, now)?;
        record(
            conn,
            &Actor::from(&actor),
            now,
            Change::ReferralAssigned {
                referral: &r,
                previous: before.as_deref(),
            },
        )?;
        load_detail(conn, r)
    })
    .await
}

/// `DELETE /v1/referrals/{id}/assignee`: the referral goes back to the institution's unassigned
/// work. `If-Match` is required; a referral with no assignee is left as it is.
pub async fn referral_unassign(
    g: &Guichet,
    actor: &Staff,
    id: &str,
    if_match: Option<crate::service::IfMatch>,
) -> Result<ReferralDetail, Error> {
    known_uuid(id, "referral")?;
    let (actor, id) = (actor.clone(), id.to_owned());
    g.db.transaction(move |conn| {
        let mut r = referral_for_change(conn, &actor, &id)?;
        let precondition = if_match.ok_or(Error::PreconditionRequired)?;
        if !precondition.matches(i64::from(r.version)) {
            return Err(Error::PreconditionFailed);
        }
        if !r.status.is_open() {
            return Err(referral_closed(r.status, Closed::Reassignment));
        }
        let Some(previous) = r.contact_id.take() else {
            return load_detail(conn, r);
        };
        let now = db::now();
        save_next_version(conn, &mut r, now)?;
        record(
            conn,
            &Actor::from(&actor),
            now,
            Change::ReferralUnassigned {
                referral: &r,
                previous: &previous,
            },
        )?;
        load_detail(conn, r)
    })
    .await
}

/// What a bulk reassignment moved.
#[derive(Debug, Clone)]
pub struct Reassigned {
    pub referral_ids: Vec<String>,
    pub to_contact_id: Option<String>,
}

/// `POST /v1/institutions/{institution_id}/contacts/{contact_id}/reassign`: every open referral
/// of a contact (typically one just deactivated) goes to another active contact of the same
/// institution, or back to the unassigned work (`to` none). Institution admins and operators.
/// One transaction: each referral's version increases and each move is recorded (and
/// delivered) as a single reassignment would be.
pub async fn contact_reassign(
    g: &Guichet,
    actor: &Staff,
    institution_id: &str,
    contact_id: &str,
    to: Option<String>,
) -> Result<Reassigned, Error> {
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
        if institutions::contact_get(conn, &institution_id, &contact_id)?.is_none() {
            return Err(Error::NotFound {
                resource: "contact",
            });
        }
        if let Some(target) = &to {
            if target == &contact_id {
                return Err(Error::conflict(
                    "same_contact",
                    "The referrals are already assigned to this contact.",
                ));
            }
            let target = crate::service::institutions::named_contact(
                conn,
                &institution_id,
                target,
                "/to_contact_id",
            )?;
            if !target.active {
                return Err(Error::conflict(
                    "inactive_contact",
                    "The target contact is deactivated.",
                ));
            }
        }
        let now = db::now();
        let mut moved = Vec::new();
        for id in queue::open_referrals_of_contact(conn, &contact_id)? {
            store::referral_lock(conn, &id)?;
            let Some(mut r) = store::referral_get(conn, &id)? else {
                continue;
            };
            // Re-read under the lock: it may have been closed or moved meanwhile.
            if !r.status.is_open() || r.contact_id.as_deref() != Some(contact_id.as_str()) {
                continue;
            }
            r.contact_id = to.clone();
            save_next_version(conn, &mut r, now)?;
            let change = match &to {
                Some(_) => Change::ReferralAssigned {
                    referral: &r,
                    previous: Some(&contact_id),
                },
                None => Change::ReferralUnassigned {
                    referral: &r,
                    previous: &contact_id,
                },
            };
            record(conn, &who, now, change)?;
            moved.push(r.id);
        }
        Ok(Reassigned {
            referral_ids: moved,
            to_contact_id: to,
        })
    })
    .await
}

/// `GET /v1/referrals/{id}/messages`: the thread, internal notes included, a page at a time.
pub async fn referral_messages(
    g: &Guichet,
    actor: &Staff,
    id: &str,
    after: Option<String>,
    limit: i64,
) -> Result<Page<Message>, Error> {
    known_uuid(id, "referral")?;
    let (actor, id) = (actor.clone(), id.to_owned());
    g.db.run(move |conn| {
        let r = visible_referral(conn, &actor, &id)?;
        let rows = store::messages_page(conn, &r.id, after.as_deref(), limit + 1)?;
        Ok(Page::from_rows(rows, limit, |m| m.id.clone()))
    })
    .await
}

/// `GET /v1/referrals/{id}/messages/{message_id}`.
pub async fn referral_message_get(
    g: &Guichet,
    actor: &Staff,
    id: &str,
    message_id: &str,
) -> Result<Message, Error> {
    known_uuid(id, "referral")?;
    known_uuid(message_id, "message")?;
    let (actor, id, message_id) = (actor.clone(), id.to_owned(), message_id.to_owned());
    g.db.run(move |conn| {
        let r = visible_referral(conn, &actor, &id)?;
        store::message_get(conn, &r.id, &message_id)?.ok_or(Error::NotFound {
            resource: "message",
        })
    })
    .await
}

/// `POST /v1/referrals/{id}/messages`. The first external message is the first response.
pub async fn referral_message_create(
    g: &Guichet,
    actor: &Staff,
    id: &str,
    body: String,
    visibility: Visibility,
) -> Result<Message, Error> {
    known_uuid(id, "referral")?;
    let (actor, id) = (actor.clone(), id.to_owned());
    g.db.transaction(move |conn| {
        let mut r = referral_for_change(conn, &actor, &id)?;
        // A closed thread takes nothing more, notes included: the referral's record is final.
        if !r.status.is_open() {
            return Err(referral_closed(r.status, Closed::Messages));
        }
        let now = db::now();
        let expected = r.version;
        let responded = r.first_responded_at;
        let message = post_message(conn, &mut r, &actor, body, visibility, now)?;
        if r.first_responded_at != responded {
            r.version += 1;
            r.updated_at = now;
            if !store::referral_save(conn, &r, expected)? {
                return Err(Error::PreconditionFailed);
            }
        }
        Ok(message)
    })
    .await
}

/// `GET /v1/referrals/{id}/events`.
pub async fn referral_events(
    g: &Guichet,
    actor: &Staff,
    id: &str,
    after: Option<String>,
    limit: i64,
) -> Result<Page<EventRow>, Error> {
    known_uuid(id, "referral")?;
    let (actor, id) = (actor.clone(), id.to_owned());
    g.db.run(move |conn| {
        let r = visible_referral(conn, &actor, &id)?;
        let rows = db::audit::referral_page(conn, &r.id, after.as_deref(), limit + 1)?;
        Ok(Page::from_rows(rows, limit, |e| e.id.clone()))
    })
    .await
}

/// Responsiveness of one institution (or all) over referrals created in a period.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    pub referrals: i64,
    pub per_status: BTreeMap<ReferralStatus, i64>,
    pub median_hours_to_first_response: Option<f64>,
    pub p90_hours_to_first_response: Option<f64>,
    /// Share of referrals whose first response came by the due date, among those answered or
    /// past due.
    pub answered_within_sla: Option<f64>,
    pub decided_within_target: Option<f64>,
    /// Accepted over accepted and declined.
    pub acceptance_rate: Option<f64>,
    pub decline_reasons: BTreeMap<String, i64>,
}

fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

pub fn compute_stats(referrals: &[Referral], now: NaiveDateTime) -> Stats {
    let mut per_status: BTreeMap<ReferralStatus, i64> =
        ReferralStatus::ALL.iter().map(|s| (*s, 0)).collect();
    let mut hours = Vec::new();
    let (mut on_time, mut judged) = (0i64, 0i64);
    let (mut decided_on_time, mut decisions_judged) = (0i64, 0i64);
    let mut decline_reasons = BTreeMap::new();
    for r in referrals {
        *per_status.entry(r.status).or_default() += 1;
        match r.first_responded_at {
            Some(at) => {
                hours.push((at - r.created_at).num_seconds() as f64 / 3600.0);
                judged += 1;
                if at <= r.first_response_due_at {
                    on_time += 1;
                }
            }
            None if r.is_overdue(now) => judged += 1,
            None => {}
        }
        match (r.decided_at, r.decision_due_at) {
            (Some(at), Some(due)) => {
                decisions_judged += 1;
                if at <= due {
                    decided_on_time += 1;
                }
            }
            (None, Some(_)) if r.is_decision_overdue(now) => decisions_judged += 1,
            _ => {}
        }
        if r.status == ReferralStatus::Declined {
            *decline_reasons
                .entry(r.decision_reason.clone().unwrap_or_else(|| "other".into()))
                .or_default() += 1;
        }
    }
    hours.sort_by(|a, b| a.total_cmp(b));
    let accepted = per_status[&ReferralStatus::Accepted];
    let declined = per_status[&ReferralStatus::Declined];
    let round = |x: f64| (x * 100.0).round() / 100.0;
    Stats {
        referrals: referrals.len() as i64,
        per_status,
        median_hours_to_first_response: percentile(&hours, 0.5).map(round),
        p90_hours_to_first_response: percentile(&hours, 0.9).map(round),
        answered_within_sla: (judged > 0).then(|| round(on_time as f64 / judged as f64)),
        decided_within_target: (decisions_judged > 0)
            .then(|| round(decided_on_time as f64 / decisions_judged as f64)),
        acceptance_rate: (accepted + declined > 0)
            .then(|| round(accepted as f64 / (accepted + declined) as f64)),
        decline_reasons,
    }
}

/// `GET /v1/institutions/{id}/stats`: its staff and operators.
pub async fn institution_stats(
    g: &Guichet,
    actor: &Staff,
    institution_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Stats, Error> {
    institution_access(
        actor,
        institution_id,
        InstitutionAction::Read,
        "institution",
    )?;
    let inst = institution_id.to_owned();
    g.db.run(move |conn| {
        if !institutions::institution_exists(conn, &inst)? {
            return Err(Error::NotFound {
                resource: "institution",
            });
        }
        let rows = queue::referrals_created_between(conn, Some(&inst), from, to)?;
        Ok(compute_stats(&rows, db::now()))
    })
    .await
}

/// `GET /v1/transparency`: the same figures for every institution, public.
pub async fn transparency(
    g: &Guichet,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<(Institution, Stats)>, Error> {
    g.db.run(move |conn| {
        let now = db::now();
        let rows = queue::referrals_created_between(conn, None, from, to)?;
        let mut by_inst: HashMap<String, Vec<Referral>> = HashMap::new();
        for r in rows {
            by_inst.entry(r.institution_id.clone()).or_default().push(r);
        }
        Ok(institutions::institution_list(conn)?
            .into_iter()
            .map(|i| {
                let stats =
                    compute_stats(by_inst.get(&i.id).map_or(&[][..], |v| v.as_slice()), now);
                (i, stats)
            })
            .collect())
    })
    .await
}

/// A period given by the client: both bounds optional, `from` before `to`.
pub fn period(
    from: Option<NaiveDateTime>,
    to: Option<NaiveDateTime>,
) -> Result<(NaiveDateTime, NaiveDateTime), Error> {
    let to = to.unwrap_or_else(|| db::now() + Duration::seconds(1));
    let from = from.unwrap_or_else(|| to - Duration::days(365));
    if from >= to {
        return Err(Error::Validation(vec![FieldError::new(
            "/from",
            "invalid_period",
            "`from` must be before `to`",
        )]));
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_790_000_000 + h * 3600, 0)
            .map(|d| d.naive_utc())
            .unwrap_or_default()
    }

    fn referral(status: ReferralStatus, responded_after_h: Option<i64>, due_h: i64) -> Referral {
        Referral {
            id: new_id(),
            inquiry_id: "i".into(),
            institution_id: "curie".into(),
            contact_id: None,
            status,
            reasons: vec![],
            score: 50,
            profile_version: 1,
            first_response_due_at: at(due_h),
            first_responded_at: responded_after_h.map(at),
            version: 1,
            created_at: at(0),
            updated_at: at(0),
            decision_reason: (status == ReferralStatus::Declined).then(|| "no_capacity".into()),
            decision_note: None,
            sla_paused_at: None,
            decision_due_at: None,
            decided_at: None,
        }
    }

    #[test]
    fn figures_follow_the_referrals() {
        use ReferralStatus as S;
        let rows = vec![
            referral(S::Accepted, Some(2), 48),
            referral(S::Declined, Some(10), 48),
            referral(S::Declined, Some(100), 48),
            referral(S::InReview, Some(4), 48),
            referral(S::New, None, 48),
        ];
        let s = compute_stats(&rows, at(72));
        assert_eq!(s.referrals, 5);
        assert_eq!(s.per_status[&S::Declined], 2);
        assert_eq!(s.median_hours_to_first_response, Some(4.0));
        assert_eq!(s.p90_hours_to_first_response, Some(100.0));
        // 3 on time out of 5 judged (4 answered, 1 overdue).
        assert_eq!(s.answered_within_sla, Some(0.6));
        assert_eq!(s.acceptance_rate, Some(0.33));
        assert_eq!(s.decline_reasons.get("no_capacity"), Some(&2));
        assert_eq!(
            compute_stats(&[], at(0)).median_hours_to_first_response,
            None
        );
    }

    #[test]
    fn the_sla_clock_pauses_while_information_is_requested() {
        use ReferralStatus as S;
        // Received Monday 2026-11-30 09:00 UTC, due in 5 business days.
        let received = chrono::NaiveDate::from_ymd_opt(2026, 11, 30)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .unwrap_or_default();
        let mut r = referral(S::InReview, None, 0);
        r.first_response_due_at = calendar::due_at(received, 5);
        let due = r.first_response_due_at;
        apply_status(&mut r, S::InfoRequested, received);
        assert_eq!(r.sla_paused_at, Some(received));
        assert!(
            !r.is_overdue(due + Duration::days(30)),
            "no overdue while paused"
        );
        // Three business days later (Thursday) the submitter answers.
        apply_status(&mut r, S::InReview, received + Duration::days(3));
        assert_eq!(r.sla_paused_at, None);
        assert_eq!(r.first_response_due_at, calendar::due_at(due, 3));
        assert_eq!(r.version, 3);
    }

    #[test]
    fn leaving_new_is_the_first_response() {
        let mut r = referral(ReferralStatus::New, None, 48);
        apply_status(&mut r, ReferralStatus::Acknowledged, at(5));
        assert_eq!(r.first_responded_at, Some(at(5)));
        apply_status(&mut r, ReferralStatus::InReview, at(9));
        assert_eq!(r.first_responded_at, Some(at(5)));
    }
}
