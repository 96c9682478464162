//! The oncology taxonomy of docs/PRODUCT.md: every closed vocabulary of the API, with the
//! wire values that clients send; their labels are in [`super::catalogue`] (`GET /v1/taxonomy`).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

/// Declares a closed vocabulary: wire value, parsing and listing (its labels, in every
/// language, are in [`super::catalogue`]).
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $value:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        pub enum $name {
            $(#[serde(rename = $value)] $variant),+
        }

        impl $name {
            /// Every value, in the order the product lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value on the wire and in the database.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $value),+ }
            }

        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($value => Ok($name::$variant),)+
                    _ => Err(UnknownValue { vocabulary: stringify!($name), value: s.to_owned() }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A string that is not a value of the named vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a {vocabulary}")]
pub struct UnknownValue {
    pub vocabulary: &'static str,
    pub value: String,
}

vocabulary! {
    /// What the submitter wants from the institutions.
    InquiryType {
        Licensing = "licensing",
        CoDevelopment = "co_development",
        SponsoredResearch = "sponsored_research",
        ClinicalTrial = "clinical_trial",
        Investment = "investment",
        DataAccess = "data_access",
        PlatformAccess = "platform_access",
        Other = "other",
    }
}

vocabulary! {
    /// Tumour types.
    TherapeuticArea {
        Breast = "breast",
        Lung = "lung",
        Colorectal = "colorectal",
        Prostate = "prostate",
        Gynecologic = "gynecologic",
        Hematologic = "hematologic",
        Pediatric = "pediatric",
        SkinMelanoma = "skin_melanoma",
        HeadAndNeck = "head_and_neck",
        BrainCns = "brain_cns",
        Sarcoma = "sarcoma",
        Digestive = "digestive",
        Genitourinary = "genitourinary",
        ThyroidEndocrine = "thyroid_endocrine",
        RareCancers = "rare_cancers",
        PanTumor = "pan_tumor",
    }
}

vocabulary! {
    /// Therapeutic or technological modality.
    Modality {
        SmallMolecule = "small_molecule",
        BiologicAntibody = "biologic_antibody",
        Adc = "adc",
        CellTherapy = "cell_therapy",
        GeneTherapy = "gene_therapy",
        VaccineImmunotherapy = "vaccine_immunotherapy",
        Radiopharmaceutical = "radiopharmaceutical",
        Radiotherapy = "radiotherapy",
        DiagnosticBiomarker = "diagnostic_biomarker",
        Imaging = "imaging",
        MedicalDevice = "medical_device",
        DigitalAi = "digital_ai",
        DataRwe = "data_rwe",
        Microbiome = "microbiome",
    }
}

vocabulary! {
    /// Development stage of the asset or project.
    Stage {
        Discovery = "discovery",
        Preclinical = "preclinical",
        Phase1 = "phase_1",
        Phase2 = "phase_2",
        Phase3 = "phase_3",
        Approved = "approved",
        NotApplicable = "not_applicable",
    }
}

vocabulary! {
    /// Why an institution declines a referral.
    DeclineReason {
        OutOfScope = "out_of_scope",
        TooEarlyStage = "too_early_stage",
        NoCapacity = "no_capacity",
        IpUnavailable = "ip_unavailable",
        ConflictOfInterest = "conflict_of_interest",
        TermsNotAcceptable = "terms_not_acceptable",
        InsufficientInformation = "insufficient_information",
        Other = "other",
    }
}

vocabulary! {
    /// Why the submitter withdraws (from the whole inquiry or from one institution).
    WithdrawalReason {
        NoLongerNeeded = "no_longer_needed",
        FoundPartner = "found_partner",
        ProjectStopped = "project_stopped",
        NoTimelyAnswer = "no_timely_answer",
        SubmittedInError = "submitted_in_error",
        Other = "other",
        NotGiven = "not_given",
    }
}

vocabulary! {
    /// What kind of organization submits.
    OrganizationType {
        Investor = "investor",
        Pharma = "pharma",
        Biotech = "biotech",
        Medtech = "medtech",
        Academic = "academic",
        Other = "other",
    }
}

vocabulary! {
    /// The catalogue of events: what the feed lists and webhooks deliver (docs/EVENTS.md).
    EventType {
        InquirySubmitted = "inquiry.submitted",
        InquiryWithdrawn = "inquiry.withdrawn",
        InquiryRouted = "inquiry.routed",
        ReferralCreated = "referral.created",
        ReferralAssigned = "referral.assigned",
        ReferralUnassigned = "referral.unassigned",
        ReferralStatusChanged = "referral.status_changed",
        ReferralMessagePosted = "referral.message_posted",
        ReferralNotePosted = "referral.note_posted",
        ReferralSlaDueSoon = "referral.sla_due_soon",
        ReferralSlaBreached = "referral.sla_breached",
        RoutingProfileChanged = "routing_profile.changed",
        WebhookEndpointDisabled = "webhook_endpoint.disabled",
        WebhookEndpointPing = "webhook_endpoint.ping",
    }
}

vocabulary! {
    /// Where a referral stands in its lifecycle.
    ReferralStatus {
        New = "new",
        Acknowledged = "acknowledged",
        InReview = "in_review",
        InfoRequested = "info_requested",
        Accepted = "accepted",
        Declined = "declined",
        Forwarded = "forwarded",
        Withdrawn = "withdrawn",
    }
}

vocabulary! {
    /// Who made a change, in the audit trail.
    ActorKind {
        Submitter = "submitter",
        User = "user",
        System = "system",
    }
}

vocabulary! {
    /// What an audit record can be about: the objects the audit trail names
    /// (`events.inquiry_id`, `referral_id`, `institution_id`).
    AuditObjectType {
        Inquiry = "inquiry",
        Referral = "referral",
        Institution = "institution",
    }
}

vocabulary! {
    /// What an audit record says happened (`events.action`). Every audit row is written by
    /// `service::record` with one of these.
    AuditAction {
        InquirySubmitted = "inquiry_submitted",
        InquiryRouted = "inquiry_routed",
        SentToDesk = "sent_to_desk",
        InquiryRoutedByHand = "inquiry_routed_by_hand",
        InquiryWithdrawn = "inquiry_withdrawn",
        ReferralRouted = "referral_routed",
        ReferralForwarded = "referral_forwarded",
        ReferralWithdrawn = "referral_withdrawn",
        Assigned = "assigned",
        Unassigned = "unassigned",
        StatusChanged = "status_changed",
        DecisionRecorded = "decision_recorded",
        MessagePosted = "message_posted",
        SlaDueSoon = "sla_due_soon",
        SlaBreached = "sla_breached",
        RoutingProfileReplaced = "routing_profile_replaced",
        InstitutionCreated = "institution_created",
        InstitutionUpdated = "institution_updated",
        InstitutionDeactivated = "institution_deactivated",
        InstitutionReactivated = "institution_reactivated",
        ContactCreated = "contact_created",
        ContactUpdated = "contact_updated",
        ContactDeactivated = "contact_deactivated",
        UserCreated = "user_created",
        UserUpdated = "user_updated",
        LoggedIn = "logged_in",
        SessionRefreshed = "session_refreshed",
        LoggedOut = "logged_out",
        WebhookEndpointCreated = "webhook_endpoint_created",
        WebhookEndpointUpdated = "webhook_endpoint_updated",
        WebhookEndpointDeleted = "webhook_endpoint_deleted",
        WebhookSecretRotated = "webhook_secret_rotated",
        WebhookEndpointDisabled = "webhook_endpoint_disabled",
        WebhookEndpointPinged = "webhook_endpoint_pinged",
        WebhookDeliveryResent = "webhook_delivery_resent",
        WebhookDeliveriesReplayed = "webhook_deliveries_replayed",
        PasswordResetRequested = "password_reset_requested",
        MailSettingsChanged = "mail_settings_changed",
        RemindersEnabled = "reminders_enabled",
        RemindersDisabled = "reminders_disabled",
        PasswordReset = "password_reset",
        PasswordChanged = "password_changed",
    }
}

vocabulary! {
    /// What an institution account may do.
    Role {
        Operator = "operator",
        InstitutionAdmin = "institution_admin",
        Triager = "triager",
    }
}

vocabulary! {
    /// The language of the e-mails someone receives.
    Locale {
        En = "en",
        Fr = "fr",
    }
}

impl Locale {
    /// The first supported language of an `Accept-Language` header, by quality then order;
    /// English when none is supported (or the header is absent or unreadable).
    pub fn from_accept_language(header: Option<&str>) -> Locale {
        let Some(header) = header else {
            return Locale::En;
        };
        let mut best: Option<(u16, usize, Locale)> = None;
        for (i, part) in header.split(',').enumerate().take(32) {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let primary = tag.split('-').next().unwrap_or("");
            let locale = match primary {
                "fr" => Locale::Fr,
                "en" => Locale::En,
                _ => continue,
            };
            let mut q = 1000u16;
            for p in pieces {
                if let Some(v) = p.trim().strip_prefix("q=") {
                    q = v
                        .trim()
                        .parse::<f32>()
                        .ok()
                        .filter(|q| (0.0..=1.0).contains(q))
                        .map_or(0, |q| (q * 1000.0).round() as u16);
                }
            }
            if q == 0 {
                continue;
            }
            if best.is_none_or(|(bq, bi, _)| q > bq || (q == bq && i < bi)) {
                best = Some((q, i, locale));
            }
        }
        best.map_or(Locale::En, |(_, _, l)| l)
    }
}

impl ReferralStatus {
    /// A referral in one of these states can still change.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            ReferralStatus::Accepted
                | ReferralStatus::Declined
                | ReferralStatus::Forwarded
                | ReferralStatus::Withdrawn
        )
    }
}

impl Role {
    /// Operators belong to no institution; the other roles to exactly one.
    pub fn needs_institution(self) -> bool {
        !matches!(self, Role::Operator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_through_its_wire_form() {
        for v in TherapeuticArea::ALL {
            assert_eq!(v.as_str().parse::<TherapeuticArea>(), Ok(*v));
            assert_eq!(
                serde_json::to_string(v).ok(),
                Some(format!("\"{}\"", v.as_str()))
            );
        }
        for v in Modality::ALL {
            assert_eq!(v.as_str().parse::<Modality>(), Ok(*v));
        }
        for v in InquiryType::ALL {
            assert_eq!(v.as_str().parse::<InquiryType>(), Ok(*v));
        }
    }

    #[test]
    fn unknown_values_are_refused_with_their_vocabulary() {
        let err = "lungs".parse::<TherapeuticArea>().err();
        assert_eq!(
            err.map(|e| e.to_string()),
            Some("`lungs` is not a TherapeuticArea".into())
        );
    }

    #[test]
    fn product_vocabularies_have_the_documented_sizes() {
        assert_eq!(InquiryType::ALL.len(), 8);
        assert_eq!(TherapeuticArea::ALL.len(), 16);
        assert_eq!(Modality::ALL.len(), 14);
        assert_eq!(Stage::ALL.len(), 7);
        assert_eq!(DeclineReason::ALL.len(), 8);
    }

    #[test]
    fn audit_actions_and_withdrawal_reasons_round_trip() {
        for v in AuditAction::ALL {
            assert_eq!(v.as_str().parse::<AuditAction>(), Ok(*v));
        }
        for v in WithdrawalReason::ALL {
            assert_eq!(v.as_str().parse::<WithdrawalReason>(), Ok(*v));
        }
        for v in ActorKind::ALL {
            assert_eq!(v.as_str().parse::<ActorKind>(), Ok(*v));
        }
    }

    #[test]
    fn accept_language_picks_the_best_supported_language() {
        let table = [
            (None, Locale::En),
            (Some(""), Locale::En),
            (Some("fr-FR,fr;q=0.9,en;q=0.8"), Locale::Fr),
            (Some("de-DE, en;q=0.5, fr;q=0.7"), Locale::Fr),
            (Some("en-GB,fr"), Locale::En),
            (Some("FR"), Locale::Fr),
            (Some("de, es"), Locale::En),
            (Some("fr;q=0, en;q=0.1"), Locale::En),
            (Some("fr;q=banana"), Locale::En),
            (Some("*"), Locale::En),
        ];
        for (header, expected) in table {
            assert_eq!(Locale::from_accept_language(header), expected, "{header:?}");
        }
    }
}
