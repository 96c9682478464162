//! The change recorder: the one way a state change is written down. [`record`] runs inside the
//! change's own transaction and writes, together:
//! - the audit row (`events`, append-only);
//! - the e-mails it causes (`mail_messages`, see `service::notify`);
//! - for a change with a catalogue type, the feed row (`outbox_events`) and one delivery per
//!   subscribed webhook endpoint (`webhook_deliveries`).
//!
//! Nothing is sent from here or from any handler: the worker frame (`crate::worker`) relays the
//! deliveries after commit. A change that rolls back leaves neither audit nor delivery behind.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::db::{self, DbConn};
use crate::domain::account::{Actor, User};
use crate::domain::event::*;
use crate::domain::inquiry::{Inquiry, Message, Referral, Visibility};
use crate::domain::taxonomy::{AuditAction, EventType, ReferralStatus, WithdrawalReason};
use crate::domain::webhook::Endpoint;
use crate::error::Error;

/// Every kind of state change Guichet makes. Adding an operation that changes state means
/// adding (or reusing) a variant here; `tests/api/events.rs` fails for an operation of the
/// contract that writes no audit row.
#[derive(Debug)]
pub enum Change<'a> {
    InquirySubmitted {
        inquiry: &'a Inquiry,
    },
    /// Routing: by the rules at submission, to the desk, or by an operator's hand.
    InquiryRouted {
        inquiry_id: &'a str,
        routed_by: RoutedBy,
        institution_ids: Vec<String>,
        desk_reason: Option<&'a str>,
        reason: Option<&'a str>,
        /// It was waiting on the desk until now.
        left_desk: bool,
    },
    /// The submitter withdrew the whole inquiry (every open referral, or from the desk).
    InquiryWithdrawn {
        inquiry_id: &'a str,
        referral_ids: Vec<String>,
        was_on_desk: bool,
        reason: WithdrawalReason,
    },
    /// Why the submitter withdrew from one referral (audit only; the status change carries it
    /// to subscribers). Written for every referral a withdrawal closes.
    ReferralWithdrawn {
        referral: &'a Referral,
        reason: WithdrawalReason,
    },
    ReferralCreated {
        referral: &'a Referral,
        source: ReferralSource,
        /// The referral it was forwarded from.
        forwarded_from: Option<&'a Referral>,
    },
    ReferralAssigned {
        referral: &'a Referral,
        previous: Option<&'a str>,
    },
    /// `referral` is the referral after the change.
    ReferralStatusChanged {
        referral: &'a Referral,
        from: ReferralStatus,
        reason_code: Option<&'a str>,
        /// The submitter's reason, when the change is a withdrawal.
        withdrawal_reason: Option<WithdrawalReason>,
    },
    /// The decline reason or forward target of a decision (audit only; the status change
    /// carries it to subscribers).
    DecisionRecorded {
        referral: &'a Referral,
        reason: &'a str,
    },
    MessagePosted {
        referral: &'a Referral,
        message: &'a Message,
    },
    /// The SLA clock: a first response due within a business day, or overdue.
    SlaSignal {
        referral: &'a Referral,
        breached: bool,
    },
    RoutingProfileReplaced {
        institution_id: &'a str,
        from_version: i64,
        to_version: i64,
    },
    ContactCreated {
        institution_id: &'a str,
        contact_id: &'a str,
    },
    /// An operator added an institution to the network.
    InstitutionCreated {
        institution: &'a crate::domain::institution::Institution,
    },
    /// An operator edited, deactivated or reactivated an institution.
    InstitutionUpdated {
        before: &'a crate::domain::institution::Institution,
        after: &'a crate::domain::institution::Institution,
    },
    /// A referral lost its assignee (by hand, or because its contact's referrals were moved).
    ReferralUnassigned {
        referral: &'a Referral,
        previous: &'a str,
    },
    ContactUpdated {
        institution_id: &'a str,
        contact_id: &'a str,
        active: bool,
    },
    UserCreated {
        user: &'a User,
    },
    UserUpdated {
        user: &'a User,
    },
    SessionStarted {
        user: &'a User,
    },
    SessionRefreshed {
        user_id: &'a str,
        institution_id: Option<&'a str>,
    },
    SessionEnded {
        user_id: &'a str,
        institution_id: Option<&'a str>,
    },
    WebhookEndpointCreated {
        endpoint: &'a Endpoint,
    },
    WebhookEndpointUpdated {
        endpoint: &'a Endpoint,
    },
    WebhookEndpointDeleted {
        endpoint: &'a Endpoint,
    },
    WebhookSecretRotated {
        endpoint: &'a Endpoint,
    },
    WebhookEndpointDisabled {
        endpoint: &'a Endpoint,
        reason: DisabledReason,
    },
    WebhookEndpointPinged {
        endpoint: &'a Endpoint,
    },
    WebhookDeliveryResent {
        endpoint: &'a Endpoint,
        delivery_id: &'a str,
    },
    WebhookDeliveriesReplayed {
        endpoint: &'a Endpoint,
        count: usize,
    },
    /// A reset link was asked for; `token` is the single-use secret the e-mail carries.
    PasswordResetRequested {
        user: &'a User,
        token: &'a str,
    },
    /// An institution's team address was set or cleared.
    MailSettingsChanged {
        institution_id: &'a str,
        team_email: bool,
    },
    /// An address turned SLA reminders off or on again (its account preference, or the
    /// one-click link of a reminder).
    RemindersChosen {
        institution_id: Option<&'a str>,
        enabled: bool,
    },
    /// The account's password was changed by its owner (`reset`: through a reset link).
    PasswordChanged {
        user: &'a User,
        reset: bool,
    },
}

/// What [`record`] wrote.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    /// The feed event, when the change has a catalogue type.
    pub event_id: Option<String>,
    /// One delivery per subscribed endpoint.
    pub delivery_ids: Vec<String>,
}

/// The audit row of a change.
struct Audit<'a> {
    inquiry_id: Option<&'a str>,
    referral_id: Option<&'a str>,
    institution_id: Option<&'a str>,
    action: AuditAction,
    from: Option<String>,
    to: Option<String>,
}

/// The feed row of a change.
struct Published<'a> {
    event_type: EventType,
    /// The institution whose staff and endpoints see it (`None`: operators and platform-wide
    /// endpoints only).
    institution_id: Option<&'a str>,
    inquiry_id: Option<&'a str>,
    referral_id: Option<&'a str>,
    data: serde_json::Value,
    /// Only this endpoint receives it (pings).
    only_endpoint: Option<&'a str>,
}

fn data(value: impl Serialize) -> Result<serde_json::Value, Error> {
    serde_json::to_value(value).map_err(Error::internal)
}

fn on_referral<'a>(
    r: &'a Referral,
    action: AuditAction,
    from: Option<String>,
    to: Option<String>,
) -> Audit<'a> {
    Audit {
        inquiry_id: Some(&r.inquiry_id),
        referral_id: Some(&r.id),
        institution_id: Some(&r.institution_id),
        action,
        from,
        to,
    }
}

fn on_institution<'a>(
    institution_id: Option<&'a str>,
    action: AuditAction,
    from: Option<String>,
    to: Option<String>,
) -> Audit<'a> {
    Audit {
        inquiry_id: None,
        referral_id: None,
        institution_id,
        action,
        from,
        to,
    }
}

fn on_inquiry<'a>(
    inquiry_id: &'a str,
    action: AuditAction,
    from: Option<String>,
    to: Option<String>,
) -> Audit<'a> {
    Audit {
        inquiry_id: Some(inquiry_id),
        referral_id: None,
        institution_id: None,
        action,
        from,
        to,
    }
}

fn referral_event<'a>(
    r: &'a Referral,
    event_type: EventType,
    data: serde_json::Value,
) -> Published<'a> {
    Published {
        event_type,
        institution_id: Some(&r.institution_id),
        inquiry_id: Some(&r.inquiry_id),
        referral_id: Some(&r.id),
        data,
        only_endpoint: None,
    }
}

impl Change<'_> {
    /// The audit row and, for catalogue changes, the feed row.
    fn describe(&self) -> Result<(Audit<'_>, Option<Published<'_>>), Error> {
        use Change::*;
        Ok(match self {
            InquirySubmitted { inquiry } => (
                on_inquiry(
                    &inquiry.id,
                    AuditAction::InquirySubmitted,
                    None,
                    Some(inquiry.reference.clone()),
                ),
                Some(Published {
                    event_type: EventType::InquirySubmitted,
                    institution_id: None,
                    inquiry_id: Some(&inquiry.id),
                    referral_id: None,
                    data: data(InquirySubmittedData {
                        inquiry_id: inquiry.id.clone(),
                        reference: inquiry.reference.clone(),
                        inquiry_type: inquiry.draft.inquiry_type,
                    })?,
                    only_endpoint: None,
                }),
            ),
            InquiryRouted {
                inquiry_id,
                routed_by,
                institution_ids,
                desk_reason,
                reason,
                left_desk,
            } => (
                match routed_by {
                    RoutedBy::Rules => on_inquiry(
                        inquiry_id,
                        AuditAction::InquiryRouted,
                        None,
                        Some(institution_ids.join(",")),
                    ),
                    RoutedBy::Desk => on_inquiry(
                        inquiry_id,
                        AuditAction::SentToDesk,
                        None,
                        desk_reason.map(str::to_owned),
                    ),
                    RoutedBy::Hand => on_inquiry(
                        inquiry_id,
                        AuditAction::InquiryRoutedByHand,
                        left_desk.then(|| "desk".to_owned()),
                        Some(institution_ids.join(",")),
                    ),
                },
                Some(Published {
                    event_type: EventType::InquiryRouted,
                    institution_id: None,
                    inquiry_id: Some(inquiry_id),
                    referral_id: None,
                    data: data(InquiryRoutedData {
                        inquiry_id: (*inquiry_id).to_owned(),
                        routed_by: *routed_by,
                        institution_ids: institution_ids.clone(),
                        desk_reason: desk_reason.map(str::to_owned),
                        reason: reason.map(str::to_owned),
                    })?,
                    only_endpoint: None,
                }),
            ),
            InquiryWithdrawn {
                inquiry_id,
                referral_ids,
                was_on_desk,
                reason,
            } => (
                on_inquiry(
                    inquiry_id,
                    AuditAction::InquiryWithdrawn,
                    was_on_desk.then(|| "desk".to_owned()),
                    Some(reason.as_str().to_owned()),
                ),
                Some(Published {
                    event_type: EventType::InquiryWithdrawn,
                    institution_id: None,
                    inquiry_id: Some(inquiry_id),
                    referral_id: None,
                    data: data(InquiryWithdrawnData {
                        inquiry_id: (*inquiry_id).to_owned(),
                        referral_ids: referral_ids.clone(),
                        was_on_desk: *was_on_desk,
                        reason_code: *reason,
                    })?,
                    only_endpoint: None,
                }),
            ),
            ReferralWithdrawn { referral, reason } => (
                on_referral(
                    referral,
                    AuditAction::ReferralWithdrawn,
                    None,
                    Some(reason.as_str().to_owned()),
                ),
                None,
            ),
            ReferralCreated {
                referral,
                source,
                forwarded_from,
            } => (
                match forwarded_from {
                    Some(from) => on_referral(
                        referral,
                        AuditAction::ReferralForwarded,
                        Some(from.institution_id.clone()),
                        Some(referral.institution_id.clone()),
                    ),
                    None => on_referral(
                        referral,
                        AuditAction::ReferralRouted,
                        None,
                        referral.contact_id.clone(),
                    ),
                },
                Some(referral_event(
                    referral,
                    EventType::ReferralCreated,
                    data(ReferralCreatedData {
                        referral_id: referral.id.clone(),
                        inquiry_id: referral.inquiry_id.clone(),
                        institution_id: referral.institution_id.clone(),
                        contact_id: referral.contact_id.clone(),
                        first_response_due_at: referral.first_response_due_at.and_utc(),
                        source: *source,
                        forwarded_from_referral_id: forwarded_from.map(|f| f.id.clone()),
                    })?,
                )),
            ),
            ReferralAssigned { referral, previous } => (
                on_referral(
                    referral,
                    AuditAction::Assigned,
                    previous.map(str::to_owned),
                    referral.contact_id.clone(),
                ),
                Some(referral_event(
                    referral,
                    EventType::ReferralAssigned,
                    data(ReferralAssignedData {
                        referral_id: referral.id.clone(),
                        inquiry_id: referral.inquiry_id.clone(),
                        institution_id: referral.institution_id.clone(),
                        contact_id: referral.contact_id.clone().unwrap_or_default(),
                        previous_contact_id: previous.map(str::to_owned),
                    })?,
                )),
            ),
            ReferralStatusChanged {
                referral,
                from,
                reason_code,
                withdrawal_reason,
            } => (
                on_referral(
                    referral,
                    AuditAction::StatusChanged,
                    Some(from.as_str().to_owned()),
                    Some(referral.status.as_str().to_owned()),
                ),
                Some(referral_event(
                    referral,
                    EventType::ReferralStatusChanged,
                    data(ReferralStatusChangedData {
                        referral_id: referral.id.clone(),
                        inquiry_id: referral.inquiry_id.clone(),
                        institution_id: referral.institution_id.clone(),
                        from: *from,
                        to: referral.status,
                        reason_code: reason_code.map(str::to_owned),
                        withdrawal_reason: *withdrawal_reason,
                    })?,
                )),
            ),
            DecisionRecorded { referral, reason } => (
                on_referral(
                    referral,
                    AuditAction::DecisionRecorded,
                    None,
                    Some((*reason).to_owned()),
                ),
                None,
            ),
            MessagePosted { referral, message } => {
                let (visibility, event_type) = match message.visibility {
                    Visibility::External => ("external", EventType::ReferralMessagePosted),
                    Visibility::Internal => ("internal", EventType::ReferralNotePosted),
                };
                (
                    on_referral(
                        referral,
                        AuditAction::MessagePosted,
                        None,
                        Some(visibility.to_owned()),
                    ),
                    Some(referral_event(
                        referral,
                        event_type,
                        data(ReferralMessageData {
                            referral_id: referral.id.clone(),
                            inquiry_id: referral.inquiry_id.clone(),
                            institution_id: referral.institution_id.clone(),
                            message_id: message.id.clone(),
                            author: message.author,
                        })?,
                    )),
                )
            }
            SlaSignal { referral, breached } => {
                let (action, event_type) = if *breached {
                    (AuditAction::SlaBreached, EventType::ReferralSlaBreached)
                } else {
                    (AuditAction::SlaDueSoon, EventType::ReferralSlaDueSoon)
                };
                (
                    on_referral(
                        referral,
                        action,
                        None,
                        Some(
                            referral
                                .first_response_due_at
                                .and_utc()
                                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        ),
                    ),
                    Some(referral_event(
                        referral,
                        event_type,
                        data(ReferralSlaData {
                            referral_id: referral.id.clone(),
                            inquiry_id: referral.inquiry_id.clone(),
                            institution_id: referral.institution_id.clone(),
                            contact_id: referral.contact_id.clone(),
                            status: referral.status,
                            first_response_due_at: referral.first_response_due_at.and_utc(),
                        })?,
                    )),
                )
            }
            RoutingProfileReplaced {
                institution_id,
                from_version,
                to_version,
            } => (
                on_institution(
                    Some(institution_id),
                    AuditAction::RoutingProfileReplaced,
                    Some(from_version.to_string()),
                    Some(to_version.to_string()),
                ),
                Some(Published {
                    event_type: EventType::RoutingProfileChanged,
                    institution_id: Some(institution_id),
                    inquiry_id: None,
                    referral_id: None,
                    data: data(RoutingProfileChangedData {
                        institution_id: (*institution_id).to_owned(),
                        profile_version: *to_version,
                    })?,
                    only_endpoint: None,
                }),
            ),
            InstitutionCreated { institution } => (
                on_institution(
                    Some(&institution.id),
                    AuditAction::InstitutionCreated,
                    None,
                    Some(institution.name.clone()),
                ),
                None,
            ),
            InstitutionUpdated { before, after } => {
                let changed: Vec<&str> = [
                    ("name", before.name != after.name),
                    ("description", before.description != after.description),
                    ("website", before.website != after.website),
                    (
                        "first_response_business_days",
                        before.sla_business_days != after.sla_business_days,
                    ),
                    (
                        "decision_business_days",
                        before.decision_business_days != after.decision_business_days,
                    ),
                    ("active", before.active != after.active),
                ]
                .into_iter()
                .filter_map(|(field, differs)| differs.then_some(field))
                .collect();
                let action = match (before.active, after.active) {
                    (true, false) => AuditAction::InstitutionDeactivated,
                    (false, true) => AuditAction::InstitutionReactivated,
                    _ => AuditAction::InstitutionUpdated,
                };
                (
                    on_institution(Some(&after.id), action, None, Some(changed.join(","))),
                    None,
                )
            }
            ReferralUnassigned { referral, previous } => (
                on_referral(
                    referral,
                    AuditAction::Unassigned,
                    Some((*previous).to_owned()),
                    None,
                ),
                Some(referral_event(
                    referral,
                    EventType::ReferralUnassigned,
                    data(ReferralUnassignedData {
                        referral_id: referral.id.clone(),
                        inquiry_id: referral.inquiry_id.clone(),
                        institution_id: referral.institution_id.clone(),
                        previous_contact_id: (*previous).to_owned(),
                    })?,
                )),
            ),
            ContactCreated {
                institution_id,
                contact_id,
            } => (
                on_institution(
                    Some(institution_id),
                    AuditAction::ContactCreated,
                    None,
                    Some((*contact_id).to_owned()),
                ),
                None,
            ),
            ContactUpdated {
                institution_id,
                contact_id,
                active,
            } => (
                on_institution(
                    Some(institution_id),
                    if *active {
                        AuditAction::ContactUpdated
                    } else {
                        AuditAction::ContactDeactivated
                    },
                    None,
                    Some((*contact_id).to_owned()),
                ),
                None,
            ),
            UserCreated { user } => (
                on_institution(
                    user.institution_id.as_deref(),
                    AuditAction::UserCreated,
                    None,
                    Some(user.id.clone()),
                ),
                None,
            ),
            UserUpdated { user } => (
                on_institution(
                    user.institution_id.as_deref(),
                    AuditAction::UserUpdated,
                    Some(user.id.clone()),
                    Some(format!(
                        "role={};disabled={}",
                        user.role.as_str(),
                        user.disabled
                    )),
                ),
                None,
            ),
            SessionStarted { user } => (
                on_institution(
                    user.institution_id.as_deref(),
                    AuditAction::LoggedIn,
                    None,
                    Some(user.id.clone()),
                ),
                None,
            ),
            SessionRefreshed {
                user_id,
                institution_id,
            } => (
                on_institution(
                    *institution_id,
                    AuditAction::SessionRefreshed,
                    None,
                    Some((*user_id).to_owned()),
                ),
                None,
            ),
            SessionEnded {
                user_id,
                institution_id,
            } => (
                on_institution(
                    *institution_id,
                    AuditAction::LoggedOut,
                    None,
                    Some((*user_id).to_owned()),
                ),
                None,
            ),
            WebhookEndpointCreated { endpoint } => (
                endpoint_audit(endpoint, AuditAction::WebhookEndpointCreated, None),
                None,
            ),
            WebhookEndpointUpdated { endpoint } => (
                endpoint_audit(
                    endpoint,
                    AuditAction::WebhookEndpointUpdated,
                    Some(format!("enabled={}", endpoint.enabled)),
                ),
                None,
            ),
            WebhookEndpointDeleted { endpoint } => (
                endpoint_audit(endpoint, AuditAction::WebhookEndpointDeleted, None),
                None,
            ),
            WebhookSecretRotated { endpoint } => (
                endpoint_audit(endpoint, AuditAction::WebhookSecretRotated, None),
                None,
            ),
            WebhookEndpointDisabled { endpoint, reason } => (
                endpoint_audit(
                    endpoint,
                    AuditAction::WebhookEndpointDisabled,
                    Some(reason.as_str().to_owned()),
                ),
                Some(Published {
                    event_type: EventType::WebhookEndpointDisabled,
                    institution_id: endpoint.institution_id.as_deref(),
                    inquiry_id: None,
                    referral_id: None,
                    data: data(WebhookEndpointDisabledData {
                        endpoint_id: endpoint.id.clone(),
                        institution_id: endpoint.institution_id.clone(),
                        reason: *reason,
                    })?,
                    only_endpoint: None,
                }),
            ),
            WebhookEndpointPinged { endpoint } => (
                endpoint_audit(endpoint, AuditAction::WebhookEndpointPinged, None),
                Some(Published {
                    event_type: EventType::WebhookEndpointPing,
                    institution_id: endpoint.institution_id.as_deref(),
                    inquiry_id: None,
                    referral_id: None,
                    data: data(WebhookPingData {
                        endpoint_id: endpoint.id.clone(),
                    })?,
                    only_endpoint: Some(&endpoint.id),
                }),
            ),
            WebhookDeliveryResent {
                endpoint,
                delivery_id,
            } => (
                endpoint_audit(
                    endpoint,
                    AuditAction::WebhookDeliveryResent,
                    Some((*delivery_id).to_owned()),
                ),
                None,
            ),
            WebhookDeliveriesReplayed { endpoint, count } => (
                endpoint_audit(
                    endpoint,
                    AuditAction::WebhookDeliveriesReplayed,
                    Some(count.to_string()),
                ),
                None,
            ),
            PasswordResetRequested { user, .. } => (
                on_institution(
                    user.institution_id.as_deref(),
                    AuditAction::PasswordResetRequested,
                    None,
                    Some(user.id.clone()),
                ),
                None,
            ),
            MailSettingsChanged {
                institution_id,
                team_email,
            } => (
                on_institution(
                    Some(institution_id),
                    AuditAction::MailSettingsChanged,
                    None,
                    Some(
                        if *team_email {
                            "team_email"
                        } else {
                            "triagers"
                        }
                        .to_owned(),
                    ),
                ),
                None,
            ),
            RemindersChosen {
                institution_id,
                enabled,
            } => (
                on_institution(
                    *institution_id,
                    if *enabled {
                        AuditAction::RemindersEnabled
                    } else {
                        AuditAction::RemindersDisabled
                    },
                    None,
                    None,
                ),
                None,
            ),
            PasswordChanged { user, reset } => (
                on_institution(
                    user.institution_id.as_deref(),
                    if *reset {
                        AuditAction::PasswordReset
                    } else {
                        AuditAction::PasswordChanged
                    },
                    None,
                    Some(user.id.clone()),
                ),
                None,
            ),
        })
    }
}

fn endpoint_audit<'a>(
    endpoint: &'a Endpoint,
    action: AuditAction,
    detail: Option<String>,
) -> Audit<'a> {
    on_institution(
        endpoint.institution_id.as_deref(),
        action,
        Some(endpoint.id.clone()),
        detail,
    )
}

/// Writes `change` as done by `actor` at `at`: the audit row, the e-mails it causes
/// (`service::notify`), and for catalogue changes the feed row and its deliveries. Call it
/// inside the change's transaction.
pub fn record(
    conn: &mut DbConn,
    actor: &Actor,
    at: NaiveDateTime,
    change: Change<'_>,
) -> Result<Recorded, Error> {
    crate::service::notify::write_notices(conn, actor, at, &change)?;
    let (audit, published) = change.describe()?;
    db::audit::insert(
        conn,
        &db::audit::AuditRow {
            inquiry_id: audit.inquiry_id,
            referral_id: audit.referral_id,
            institution_id: audit.institution_id,
            actor_kind: actor.kind().as_str(),
            actor_id: actor.id(),
            action: audit.action.as_str(),
            from_value: audit.from.as_deref(),
            to_value: audit.to.as_deref(),
            at,
        },
    )?;
    let Some(p) = published else {
        return Ok(Recorded::default());
    };
    let event_id = crate::domain::new_id();
    let envelope = Envelope {
        id: event_id.clone(),
        event_type: p.event_type,
        version: PAYLOAD_VERSION,
        timestamp: at.and_utc(),
        data: p.data,
    };
    let payload = serde_json::to_string(&envelope).map_err(Error::internal)?;
    let seq = db::outbox::event_insert(
        conn,
        &db::outbox::NewEvent {
            id: &event_id,
            event_type: p.event_type.as_str(),
            institution_id: p.institution_id,
            inquiry_id: p.inquiry_id,
            referral_id: p.referral_id,
            in_feed: p.event_type.in_feed(),
            payload: &payload,
            at,
        },
    )?;
    let endpoints = match p.only_endpoint {
        Some(id) => vec![id.to_owned()],
        None => db::webhooks::subscribers(conn, p.institution_id, p.event_type)?,
    };
    let mut delivery_ids = Vec::with_capacity(endpoints.len());
    for endpoint_id in endpoints {
        delivery_ids.push(db::webhooks::delivery_insert(conn, &endpoint_id, seq, at)?);
    }
    Ok(Recorded {
        event_id: Some(event_id),
        delivery_ids,
    })
}
