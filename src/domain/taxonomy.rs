//! The oncology taxonomy of docs/PRODUCT.md: every closed vocabulary of the API, with the
//! human labels that clients use to build forms (`GET /v1/taxonomy`).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

/// Declares a closed vocabulary: wire value, human label, parsing and listing.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $value:tt : $label:literal),+ $(,)? }) => {
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

            /// What a person reads.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
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
        Licensing = "licensing": "Licensing of an asset or technology",
        CoDevelopment = "co_development": "Co-development partnership",
        SponsoredResearch = "sponsored_research": "Sponsored research",
        ClinicalTrial = "clinical_trial": "Clinical trial placement",
        Investment = "investment": "Investment or spin-off funding",
        DataAccess = "data_access": "Access to data or biobanks",
        PlatformAccess = "platform_access": "Access to a technology platform",
        Other = "other": "Other",
    }
}

vocabulary! {
    /// Tumour types.
    TherapeuticArea {
        Breast = "breast": "Breast",
        Lung = "lung": "Lung",
        Colorectal = "colorectal": "Colorectal",
        Prostate = "prostate": "Prostate",
        Gynecologic = "gynecologic": "Gynecologic",
        Hematologic = "hematologic": "Hematologic malignancies",
        Pediatric = "pediatric": "Pediatric cancers",
        SkinMelanoma = "skin_melanoma": "Skin and melanoma (including uveal)",
        HeadAndNeck = "head_and_neck": "Head and neck",
        BrainCns = "brain_cns": "Brain and central nervous system",
        Sarcoma = "sarcoma": "Sarcoma",
        Digestive = "digestive": "Digestive (pancreas, liver, gastric)",
        Genitourinary = "genitourinary": "Genitourinary",
        ThyroidEndocrine = "thyroid_endocrine": "Thyroid and endocrine",
        RareCancers = "rare_cancers": "Rare cancers",
        PanTumor = "pan_tumor": "Pan-tumour",
    }
}

vocabulary! {
    /// Therapeutic or technological modality.
    Modality {
        SmallMolecule = "small_molecule": "Small molecule",
        BiologicAntibody = "biologic_antibody": "Biologic or antibody",
        Adc = "adc": "Antibody-drug conjugate",
        CellTherapy = "cell_therapy": "Cell therapy",
        GeneTherapy = "gene_therapy": "Gene therapy",
        VaccineImmunotherapy = "vaccine_immunotherapy": "Vaccine or immunotherapy",
        Radiopharmaceutical = "radiopharmaceutical": "Radiopharmaceutical",
        Radiotherapy = "radiotherapy": "Radiotherapy",
        DiagnosticBiomarker = "diagnostic_biomarker": "Diagnostic or biomarker",
        Imaging = "imaging": "Imaging",
        MedicalDevice = "medical_device": "Medical device",
        DigitalAi = "digital_ai": "Digital health or AI",
        DataRwe = "data_rwe": "Data and real-world evidence",
        Microbiome = "microbiome": "Microbiome",
    }
}

vocabulary! {
    /// Development stage of the asset or project.
    Stage {
        Discovery = "discovery": "Discovery",
        Preclinical = "preclinical": "Preclinical",
        Phase1 = "phase_1": "Phase 1",
        Phase2 = "phase_2": "Phase 2",
        Phase3 = "phase_3": "Phase 3",
        Approved = "approved": "Approved",
        NotApplicable = "not_applicable": "Not applicable",
    }
}

vocabulary! {
    /// Why an institution declines a referral.
    DeclineReason {
        OutOfScope = "out_of_scope": "Out of scope",
        TooEarlyStage = "too_early_stage": "Too early stage",
        NoCapacity = "no_capacity": "No capacity",
        IpUnavailable = "ip_unavailable": "Intellectual property unavailable",
        ConflictOfInterest = "conflict_of_interest": "Conflict of interest",
        TermsNotAcceptable = "terms_not_acceptable": "Terms not acceptable",
        InsufficientInformation = "insufficient_information": "Insufficient information",
        Other = "other": "Other (explained in free text)",
    }
}

vocabulary! {
    /// Why the submitter withdraws (from the whole inquiry or from one institution).
    WithdrawalReason {
        NoLongerNeeded = "no_longer_needed": "No longer needed",
        FoundPartner = "found_partner": "Found a partner elsewhere",
        ProjectStopped = "project_stopped": "The project was stopped or changed",
        NoTimelyAnswer = "no_timely_answer": "No answer in time",
        SubmittedInError = "submitted_in_error": "Submitted in error",
        Other = "other": "Other (explained in free text)",
        NotGiven = "not_given": "No reason given",
    }
}

vocabulary! {
    /// What kind of organization submits.
    OrganizationType {
        Investor = "investor": "Investor",
        Pharma = "pharma": "Pharmaceutical company",
        Biotech = "biotech": "Biotech",
        Medtech = "medtech": "Medtech",
        Academic = "academic": "Academic",
        Other = "other": "Other",
    }
}

vocabulary! {
    /// The catalogue of events: what the feed lists and webhooks deliver (docs/EVENTS.md).
    EventType {
        InquirySubmitted = "inquiry.submitted": "An inquiry was submitted",
        InquiryWithdrawn = "inquiry.withdrawn": "The submitter withdrew an inquiry",
        InquiryRouted = "inquiry.routed": "An inquiry was routed (by the rules, to the desk, or by hand)",
        ReferralCreated = "referral.created": "A referral arrived at an institution",
        ReferralAssigned = "referral.assigned": "A referral was assigned to a contact",
        ReferralUnassigned = "referral.unassigned": "A referral was left without an assignee",
        ReferralStatusChanged = "referral.status_changed": "A referral changed status",
        ReferralMessagePosted = "referral.message_posted": "A message the submitter sees was posted on a referral",
        ReferralNotePosted = "referral.note_posted": "An internal note was posted on a referral (never shown to submitters)",
        ReferralSlaDueSoon = "referral.sla_due_soon": "A referral's first response is due today (told at 09:00 Paris time)",
        ReferralSlaBreached = "referral.sla_breached": "A referral's first response is overdue",
        RoutingProfileChanged = "routing_profile.changed": "An institution replaced its routing profile",
        WebhookEndpointDisabled = "webhook_endpoint.disabled": "Guichet disabled a webhook endpoint that kept failing or answered 410",
        WebhookEndpointPing = "webhook_endpoint.ping": "A test delivery asked for by hand (not in the feed)",
    }
}

vocabulary! {
    /// Where a referral stands in its lifecycle.
    ReferralStatus {
        New = "new": "New",
        Acknowledged = "acknowledged": "Acknowledged",
        InReview = "in_review": "In review",
        InfoRequested = "info_requested": "Information requested",
        Accepted = "accepted": "Accepted",
        Declined = "declined": "Declined",
        Forwarded = "forwarded": "Forwarded",
        Withdrawn = "withdrawn": "Withdrawn",
    }
}

vocabulary! {
    /// Who made a change, in the audit trail.
    ActorKind {
        Submitter = "submitter": "The submitter (tracking token)",
        User = "user": "A staff account or an operator",
        System = "system": "Guichet itself (routing rules, the SLA clock, workers, the command line)",
    }
}

vocabulary! {
    /// What an audit record can be about: the objects the audit trail names
    /// (`events.inquiry_id`, `referral_id`, `institution_id`).
    AuditObjectType {
        Inquiry = "inquiry": "An inquiry (its own records and its referrals')",
        Referral = "referral": "A referral",
        Institution = "institution": "An institution (its referrals, contacts, accounts, profile and endpoints)",
    }
}

vocabulary! {
    /// What an audit record says happened (`events.action`). Every audit row is written by
    /// `service::record` with one of these.
    AuditAction {
        InquirySubmitted = "inquiry_submitted": "An inquiry was submitted",
        InquiryRouted = "inquiry_routed": "The rules routed an inquiry",
        SentToDesk = "sent_to_desk": "No rule could route an inquiry: it went to the desk",
        InquiryRoutedByHand = "inquiry_routed_by_hand": "An operator routed an inquiry by hand",
        InquiryWithdrawn = "inquiry_withdrawn": "The submitter withdrew a whole inquiry",
        ReferralRouted = "referral_routed": "A referral was created by routing",
        ReferralForwarded = "referral_forwarded": "A referral was created by a forward",
        ReferralWithdrawn = "referral_withdrawn": "The submitter withdrew from a referral (with the reason code)",
        Assigned = "assigned": "A referral was assigned to a contact",
        Unassigned = "unassigned": "A referral was left without an assignee",
        StatusChanged = "status_changed": "A referral changed status",
        DecisionRecorded = "decision_recorded": "A decision's reason was recorded",
        MessagePosted = "message_posted": "A message or a note was posted",
        SlaDueSoon = "sla_due_soon": "A first response is due today",
        SlaBreached = "sla_breached": "A first response is overdue",
        RoutingProfileReplaced = "routing_profile_replaced": "A routing profile was replaced",
        InstitutionCreated = "institution_created": "An operator added an institution",
        InstitutionUpdated = "institution_updated": "An operator changed an institution",
        InstitutionDeactivated = "institution_deactivated": "An operator deactivated an institution",
        InstitutionReactivated = "institution_reactivated": "An operator reactivated an institution",
        ContactCreated = "contact_created": "A contact was created",
        ContactUpdated = "contact_updated": "A contact was changed",
        ContactDeactivated = "contact_deactivated": "A contact was deactivated",
        UserCreated = "user_created": "An account was created",
        UserUpdated = "user_updated": "An account was changed",
        LoggedIn = "logged_in": "Someone logged in",
        SessionRefreshed = "session_refreshed": "A session was refreshed",
        LoggedOut = "logged_out": "Someone logged out",
        WebhookEndpointCreated = "webhook_endpoint_created": "A webhook endpoint was created",
        WebhookEndpointUpdated = "webhook_endpoint_updated": "A webhook endpoint was changed",
        WebhookEndpointDeleted = "webhook_endpoint_deleted": "A webhook endpoint was deleted",
        WebhookSecretRotated = "webhook_secret_rotated": "A webhook secret was rotated",
        WebhookEndpointDisabled = "webhook_endpoint_disabled": "A webhook endpoint was disabled",
        WebhookEndpointPinged = "webhook_endpoint_pinged": "A test delivery was asked for",
        WebhookDeliveryResent = "webhook_delivery_resent": "A delivery was sent again",
        WebhookDeliveriesReplayed = "webhook_deliveries_replayed": "Failed deliveries were replayed",
        PasswordResetRequested = "password_reset_requested": "A password reset link was asked for",
        MailSettingsChanged = "mail_settings_changed": "An institution's team address was set or cleared",
        RemindersEnabled = "reminders_enabled": "SLA reminders were turned on",
        RemindersDisabled = "reminders_disabled": "SLA reminders were turned off",
        PasswordReset = "password_reset": "A password was reset through a link",
        PasswordChanged = "password_changed": "A password was changed",
    }
}

vocabulary! {
    /// What an institution account may do.
    Role {
        Operator = "operator": "Platform operator (all institutions)",
        InstitutionAdmin = "institution_admin": "Institution administrator",
        Triager = "triager": "Triager",
    }
}

vocabulary! {
    /// The language of the e-mails someone receives.
    Locale {
        En = "en": "English",
        Fr = "fr": "Français",
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
