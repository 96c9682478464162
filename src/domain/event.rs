//! The event catalogue: what other systems are told. An event carries ids and the facts that
//! changed, never whole objects (a consumer fetches what it needs, with its own rights).
//!
//! Every event is an [`Envelope`]: the same in the feed (`GET /v1/events`) and in the body of
//! a webhook delivery, whose `webhook-id` header is the envelope's `id`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::inquiry::Author;
use crate::domain::taxonomy::{EventType, InquiryType, ReferralStatus, WithdrawalReason};

/// The version of every payload schema in this catalogue. A change that could break a consumer
/// gets a new version (and, for a while, both are sent); adding a field does not.
pub const PAYLOAD_VERSION: u32 = 1;

impl EventType {
    /// Whether a consumer acting for the submitter (a partner, later) may ever receive this
    /// type. Internal notes and operational signals never reach one.
    pub fn submitter_facing(self) -> bool {
        match self {
            EventType::InquirySubmitted
            | EventType::InquiryWithdrawn
            | EventType::ReferralCreated
            | EventType::ReferralStatusChanged
            | EventType::ReferralMessagePosted => true,
            EventType::InquiryRouted
            | EventType::ReferralAssigned
            | EventType::ReferralUnassigned
            | EventType::ReferralNotePosted
            | EventType::ReferralSlaDueSoon
            | EventType::ReferralSlaBreached
            | EventType::RoutingProfileChanged
            | EventType::WebhookEndpointDisabled
            | EventType::WebhookEndpointPing => false,
        }
    }

    /// Whether the type appears in the feed (a ping is meant for one endpoint only).
    pub fn in_feed(self) -> bool {
        self != EventType::WebhookEndpointPing
    }
}

/// One event, as the feed lists it and as a webhook delivers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f",
    "type": "referral.status_changed",
    "version": 1,
    "timestamp": "2026-11-28T09:30:00Z",
    "data": {"referral_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea1", "inquiry_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea0", "institution_id": "curie", "from": "new", "to": "acknowledged", "reason_code": null, "withdrawal_reason": null}
}))]
pub struct Envelope {
    /// Unique per event; the `webhook-id` of its deliveries (the same on every retry).
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// The payload schema's version.
    pub version: u32,
    /// When the change happened.
    pub timestamp: DateTime<Utc>,
    /// The facts of the change; its schema depends on `type` (see the `webhooks` section).
    pub data: serde_json::Value,
}

/// `inquiry.submitted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InquirySubmittedData {
    pub inquiry_id: String,
    #[schema(example = "GU-2026-000042")]
    pub reference: String,
    pub inquiry_type: InquiryType,
}

/// How an inquiry was routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoutedBy {
    /// The institutions' routing profiles chose.
    Rules,
    /// No rule could: it waits on the operators' desk.
    Desk,
    /// An operator chose the institutions.
    Hand,
}

/// `inquiry.routed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InquiryRoutedData {
    pub inquiry_id: String,
    pub routed_by: RoutedBy,
    /// The institutions that received a referral in this routing (empty when sent to the desk).
    pub institution_ids: Vec<String>,
    /// Why it went to the desk (when `routed_by` is `desk`).
    pub desk_reason: Option<String>,
    /// The operator's reason (when `routed_by` is `hand` and one was given).
    pub reason: Option<String>,
}

/// `inquiry.withdrawn`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InquiryWithdrawnData {
    pub inquiry_id: String,
    /// The referrals that were open and are now `withdrawn`.
    pub referral_ids: Vec<String>,
    /// Whether it was waiting on the desk.
    pub was_on_desk: bool,
    /// Why the submitter withdrew (`not_given` when they did not say).
    pub reason_code: WithdrawalReason,
}

/// Where a new referral came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReferralSource {
    Rules,
    Hand,
    Forward,
}

/// `referral.created`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReferralCreatedData {
    pub referral_id: String,
    pub inquiry_id: String,
    pub institution_id: String,
    pub contact_id: Option<String>,
    pub first_response_due_at: DateTime<Utc>,
    pub source: ReferralSource,
    /// The referral it was forwarded from (when `source` is `forward`).
    pub forwarded_from_referral_id: Option<String>,
}

/// `referral.assigned`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReferralAssignedData {
    pub referral_id: String,
    pub inquiry_id: String,
    pub institution_id: String,
    pub contact_id: String,
    pub previous_contact_id: Option<String>,
}

/// `referral.unassigned`: the referral waits for someone to take it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReferralUnassignedData {
    pub referral_id: String,
    pub inquiry_id: String,
    pub institution_id: String,
    /// The contact it was assigned to.
    pub previous_contact_id: String,
}

/// `referral.status_changed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReferralStatusChangedData {
    pub referral_id: String,
    pub inquiry_id: String,
    pub institution_id: String,
    pub from: ReferralStatus,
    pub to: ReferralStatus,
    /// The decline reason code (`declined`), the target institution (`forwarded`), or
    /// `submitter_withdrew` / `submitter_replied` when the submitter caused the change.
    pub reason_code: Option<String>,
    /// The submitter's reason when `to` is `withdrawn` (from the whole inquiry or from this
    /// institution only); `null` otherwise.
    pub withdrawal_reason: Option<WithdrawalReason>,
}

/// `referral.message_posted` and `referral.note_posted`: which message, never its text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReferralMessageData {
    pub referral_id: String,
    pub inquiry_id: String,
    pub institution_id: String,
    pub message_id: String,
    pub author: Author,
}

/// `referral.sla_due_soon` and `referral.sla_breached`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReferralSlaData {
    pub referral_id: String,
    pub inquiry_id: String,
    pub institution_id: String,
    pub contact_id: Option<String>,
    pub status: ReferralStatus,
    pub first_response_due_at: DateTime<Utc>,
}

/// `routing_profile.changed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RoutingProfileChangedData {
    pub institution_id: String,
    pub profile_version: i64,
}

/// Why Guichet disabled an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DisabledReason {
    /// Someone with the right to manage it.
    ByHand,
    /// It answered `410 Gone`.
    Gone,
    /// Every attempt failed for five days.
    Failing,
}

impl DisabledReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DisabledReason::ByHand => "by_hand",
            DisabledReason::Gone => "gone",
            DisabledReason::Failing => "failing",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "by_hand" => Some(DisabledReason::ByHand),
            "gone" => Some(DisabledReason::Gone),
            "failing" => Some(DisabledReason::Failing),
            _ => None,
        }
    }
}

/// `webhook_endpoint.disabled`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookEndpointDisabledData {
    pub endpoint_id: String,
    pub institution_id: Option<String>,
    pub reason: DisabledReason,
}

/// `webhook_endpoint.ping`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookPingData {
    pub endpoint_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_notes_and_operations_are_never_submitter_facing() {
        assert!(!EventType::ReferralNotePosted.submitter_facing());
        assert!(EventType::ReferralMessagePosted.submitter_facing());
        assert!(!EventType::WebhookEndpointPing.in_feed());
        assert!(EventType::ALL.iter().filter(|t| !t.in_feed()).count() == 1);
    }
}
