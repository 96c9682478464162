//! Response bodies. Each view is built from domain values; nothing else reaches the wire.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::account::User;
use crate::domain::institution::{Contact, Institution};
use crate::domain::routing::Expertise;
use crate::domain::taxonomy::{
    DeclineReason, InquiryType, Locale, Modality, OrganizationType, ReferralStatus, Role, Stage,
    TherapeuticArea, WithdrawalReason,
};

/// Naive UTC (as stored) to RFC 3339 UTC (as served).
pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// The weight from which a profile entry counts as a public strength of an institution.
const STRENGTH_WEIGHT: u8 = 70;

/// An institution as the public sees it: its strengths, never its internal weights.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "curie",
    "name": "Institut Curie",
    "description": "Comprehensive cancer centre combining a research centre and a hospital group...",
    "website": "https://curie.fr",
    "first_response_business_days": 5,
    "decision_business_days": 10,
    "active": true,
    "accepted_inquiry_types": ["licensing", "co_development", "sponsored_research", "clinical_trial"],
    "strong_therapeutic_areas": ["breast", "pediatric", "skin_melanoma"],
    "strong_modalities": ["radiotherapy", "imaging"]
}))]
pub struct InstitutionView {
    /// Slug id, e.g. `gustave-roussy`.
    pub id: String,
    pub name: String,
    pub description: String,
    pub website: String,
    /// First-response target in business days (Europe/Paris, French public holidays excluded).
    pub first_response_business_days: i32,
    /// Decision target in business days from the first response to `accepted`, `declined` or
    /// `forwarded`; the time spent waiting on the submitter (information requested) is not
    /// counted.
    pub decision_business_days: i32,
    /// `false`: the institution takes no new inquiry for now (routing says so); its open
    /// referrals are still answered.
    pub active: bool,
    pub accepted_inquiry_types: Vec<InquiryType>,
    /// Tumour types the institution is strongest in, strongest first.
    pub strong_therapeutic_areas: Vec<TherapeuticArea>,
    /// Modalities the institution is strongest in, strongest first.
    pub strong_modalities: Vec<Modality>,
}

fn strongest<K: Copy + Ord>(weights: &std::collections::BTreeMap<K, u8>) -> Vec<K> {
    let mut strong: Vec<(K, u8)> = weights
        .iter()
        .filter(|(_, w)| **w >= STRENGTH_WEIGHT)
        .map(|(k, w)| (*k, *w))
        .collect();
    strong.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    strong.into_iter().map(|(k, _)| k).collect()
}

impl From<Institution> for InstitutionView {
    fn from(i: Institution) -> Self {
        InstitutionView {
            strong_therapeutic_areas: strongest(&i.profile.therapeutic_area_weights),
            strong_modalities: strongest(&i.profile.modality_weights),
            accepted_inquiry_types: i.profile.accepted_inquiry_types,
            id: i.id,
            name: i.name,
            description: i.description,
            website: i.website,
            first_response_business_days: i.sla_business_days,
            decision_business_days: i.decision_business_days,
            active: i.active,
        }
    }
}

/// A page of institutions.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [{"id": "curie", "name": "Institut Curie", "description": "Comprehensive cancer centre...", "website": "https://curie.fr", "first_response_business_days": 5, "decision_business_days": 10, "active": true, "accepted_inquiry_types": ["licensing", "clinical_trial"], "strong_therapeutic_areas": ["breast", "pediatric"], "strong_modalities": ["radiotherapy"]}], "next_cursor": null}))]
pub struct InstitutionPage {
    pub items: Vec<InstitutionView>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// One value of a vocabulary and its label.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"value": "radiopharmaceutical", "label": "Radiopharmaceutical"}))]
pub struct TaxonomyEntry {
    /// The value to send and to expect in the API.
    pub value: String,
    /// What to show a person.
    pub label: String,
}

/// Every closed vocabulary of the API, with human labels, to build forms from.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"inquiry_types": [{"value": "licensing", "label": "Licensing of an asset or technology"}], "therapeutic_areas": [{"value": "breast", "label": "Breast"}], "modalities": [{"value": "adc", "label": "Antibody-drug conjugate"}], "stages": [{"value": "phase_1", "label": "Phase 1"}], "decline_reasons": [{"value": "out_of_scope", "label": "Out of scope"}], "withdrawal_reasons": [{"value": "found_partner", "label": "Found a partner elsewhere"}], "organization_types": [{"value": "pharma", "label": "Pharmaceutical company"}], "referral_statuses": [{"value": "new", "label": "New"}], "roles": [{"value": "triager", "label": "Triager"}]}))]
pub struct TaxonomyView {
    pub inquiry_types: Vec<TaxonomyEntry>,
    pub therapeutic_areas: Vec<TaxonomyEntry>,
    pub modalities: Vec<TaxonomyEntry>,
    pub stages: Vec<TaxonomyEntry>,
    pub decline_reasons: Vec<TaxonomyEntry>,
    /// Why a submitter withdraws (`reason_code` of `POST /v1/inquiries/{inquiry_id}/withdraw`).
    pub withdrawal_reasons: Vec<TaxonomyEntry>,
    pub organization_types: Vec<TaxonomyEntry>,
    pub referral_statuses: Vec<TaxonomyEntry>,
    pub roles: Vec<TaxonomyEntry>,
}

macro_rules! entries {
    ($t:ty, $locale:expr) => {
        <$t>::ALL
            .iter()
            .map(|v| TaxonomyEntry {
                value: v.as_str().to_owned(),
                label: v.label_in($locale).to_owned(),
            })
            .collect()
    };
}

impl TaxonomyView {
    pub fn new() -> Self {
        Self::in_locale(Locale::En)
    }

    /// Labels in `locale`; the values never change with the language.
    pub fn in_locale(locale: Locale) -> Self {
        TaxonomyView {
            inquiry_types: entries!(InquiryType, locale),
            therapeutic_areas: entries!(TherapeuticArea, locale),
            modalities: entries!(Modality, locale),
            stages: entries!(Stage, locale),
            decline_reasons: entries!(DeclineReason, locale),
            withdrawal_reasons: entries!(WithdrawalReason, locale),
            organization_types: entries!(OrganizationType, locale),
            referral_statuses: entries!(ReferralStatus, locale),
            roles: entries!(Role, locale),
        }
    }
}

impl Default for TaxonomyView {
    fn default() -> Self {
        Self::new()
    }
}

/// Tokens returned by a login or a refresh.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJndWljaGV0In0.c2lnbmF0dXJl",
    "token_type": "Bearer",
    "expires_in": 900,
    "refresh_token": "Zk9kV2l0aFJhbmRvbUJ5dGVzQmFzZTY0VXJsRW5jb2RlZA"
}))]
pub struct TokenResponse {
    /// A JWT to send as `Authorization: Bearer <token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires (at most 900).
    pub expires_in: u64,
    /// Opaque, single-use: exchange it at `/v1/auth/refresh` for a new pair.
    pub refresh_token: String,
}

/// An institution account.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f",
    "email": "triage@curie.fr",
    "role": "triager",
    "institution_id": "curie",
    "disabled": false,
    "locale": "fr",
    "contact_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea0",
    "created_at": "2026-11-28T09:30:00Z",
    "updated_at": "2026-11-28T09:30:00Z"
}))]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub role: Role,
    /// `null` for operators.
    pub institution_id: Option<String>,
    /// A disabled account cannot log in, and its sessions are ended.
    pub disabled: bool,
    /// The language of the account's e-mails.
    pub locale: crate::domain::taxonomy::Locale,
    /// The contact of the institution this account works as (what `assigned=me` lists).
    pub contact_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            id: u.id,
            email: u.email,
            role: u.role,
            institution_id: u.institution_id,
            disabled: u.disabled,
            locale: u.locale,
            contact_id: u.contact_id,
            created_at: utc(u.created_at),
            updated_at: utc(u.updated_at),
        }
    }
}

/// The caller's own account and preferences.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f",
    "email": "triage@curie.fr",
    "role": "triager",
    "institution_id": "curie",
    "disabled": false,
    "locale": "fr",
    "contact_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea0",
    "reminders": true,
    "created_at": "2026-11-28T09:30:00Z",
    "updated_at": "2026-11-28T09:30:00Z"
}))]
pub struct MeView {
    pub id: String,
    pub email: String,
    pub role: Role,
    /// `null` for operators.
    pub institution_id: Option<String>,
    pub disabled: bool,
    /// The language of the account's e-mails.
    pub locale: crate::domain::taxonomy::Locale,
    /// The contact this account works as (`assigned=me`), if linked.
    pub contact_id: Option<String>,
    /// Whether SLA reminders and breach notices are e-mailed to this account's address.
    pub reminders: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl MeView {
    pub fn of(u: User, reminders: bool) -> Self {
        MeView {
            id: u.id,
            email: u.email,
            role: u.role,
            institution_id: u.institution_id,
            disabled: u.disabled,
            locale: u.locale,
            contact_id: u.contact_id,
            reminders,
            created_at: utc(u.created_at),
            updated_at: utc(u.updated_at),
        }
    }
}

/// How an institution's e-mail is addressed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"team_email": "oncology-partnerships@curie.fr"}))]
pub struct MailSettingsView {
    /// Told of new unassigned referrals instead of every triager; `null`: the triagers.
    pub team_email: Option<String>,
}

/// A page of accounts.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [{"id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f", "email": "triage@curie.fr", "role": "triager", "institution_id": "curie", "disabled": false, "locale": "en", "created_at": "2026-11-28T09:30:00Z", "updated_at": "2026-11-28T09:30:00Z"}], "next_cursor": null}))]
pub struct UserPage {
    pub items: Vec<UserView>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A named person of an institution who receives referrals.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f",
    "institution_id": "curie",
    "name": "Dr Claire Martin",
    "title": "Head of industrial partnerships, breast cancer",
    "email": "claire.martin@curie.fr",
    "expertise": {"inquiry_types": ["licensing", "clinical_trial"], "therapeutic_areas": ["breast"], "modalities": ["radiotherapy"]},
    "active": true,
    "open_referrals": 3,
    "created_at": "2026-11-28T09:30:00Z",
    "updated_at": "2026-11-28T09:30:00Z"
}))]
pub struct ContactView {
    pub id: String,
    pub institution_id: String,
    pub name: String,
    pub title: String,
    pub email: String,
    pub expertise: Expertise,
    /// Inactive contacts receive no new referral.
    pub active: bool,
    /// Open referrals assigned to the contact: after a deactivation, what is left to reassign
    /// (`GET /v1/referrals?assigned={id}` lists them;
    /// `POST .../contacts/{id}/reassign` moves them all).
    pub open_referrals: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<(Contact, u32)> for ContactView {
    fn from((c, open_referrals): (Contact, u32)) -> Self {
        ContactView {
            id: c.id,
            institution_id: c.institution_id,
            name: c.name,
            title: c.title,
            email: c.email,
            expertise: c.expertise,
            active: c.active,
            open_referrals,
            created_at: utc(c.created_at),
            updated_at: utc(c.updated_at),
        }
    }
}

/// A page of contacts.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [{"id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f", "institution_id": "curie", "name": "Dr Claire Martin", "title": "Head of industrial partnerships", "email": "claire.martin@curie.fr", "expertise": {"inquiry_types": ["licensing"], "therapeutic_areas": ["breast"], "modalities": ["radiotherapy"]}, "active": true, "open_referrals": 0, "created_at": "2026-11-28T09:30:00Z", "updated_at": "2026-11-28T09:30:00Z"}], "next_cursor": "MDE5MzZmNGUtOGEyYi03YzFkLTllM2YtNGE1YjZjN2Q4ZTlm"}))]
pub struct ContactPage {
    pub items: Vec<ContactView>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Health of the service.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct HealthView {
    /// `ok`, or `unavailable` when the database cannot be reached.
    pub status: String,
}

/// An institution, named.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstitutionRef {
    pub id: String,
    pub name: String,
}

/// A referral as the submitter sees it right after submitting.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmittedReferralView {
    pub id: String,
    pub institution: InstitutionRef,
    pub status: ReferralStatus,
    /// When the institution's first response is due (business days, Europe/Paris).
    pub first_response_due_at: DateTime<Utc>,
    /// Why this institution, in words.
    pub reasons: Vec<String>,
}

/// The answer to a submission. `tracking_token` is shown here only: keep it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f",
    "reference": "GU-2026-000042",
    "status": "submitted",
    "referrals": [{
        "id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea0",
        "institution": {"id": "gustave-roussy", "name": "Gustave Roussy"},
        "status": "new",
        "first_response_due_at": "2026-12-07T17:00:00Z",
        "reasons": ["Gustave Roussy accepts clinical trial placement inquiries.", "Strong expertise in Radiopharmaceutical."]
    }],
    "desk_reason": null,
    "tracking_token": "q0cJ3QmJ0d5qf3v1bS8p3x2l1M9nA7yU4kT6rE2wZ8c"
}))]
pub struct SubmissionView {
    pub id: String,
    /// Human reference, unique and sequential per year.
    pub reference: String,
    pub status: crate::domain::inquiry::InquiryStatus,
    pub referrals: Vec<SubmittedReferralView>,
    /// When no institution qualified: why, and that operators will route it by hand.
    pub desk_reason: Option<String>,
    /// Send as `X-Tracking-Token` to follow the inquiry. Shown only in this response.
    pub tracking_token: String,
}

/// A message the submitter sees.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExternalMessageView {
    pub id: String,
    pub author: crate::domain::inquiry::Author,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// One institution's referral, as the submitter follows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackedReferralView {
    pub id: String,
    pub institution: InstitutionRef,
    pub status: ReferralStatus,
    pub first_response_due_at: DateTime<Utc>,
    pub reasons: Vec<String>,
    /// External messages, oldest first.
    pub messages: Vec<ExternalMessageView>,
}

/// The submitter's details.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmitterView {
    pub organization: String,
    pub organization_type: OrganizationType,
    pub name: String,
    pub email: String,
    pub country: String,
}

impl From<crate::domain::inquiry::Submitter> for SubmitterView {
    fn from(s: crate::domain::inquiry::Submitter) -> Self {
        SubmitterView {
            organization: s.organization,
            organization_type: s.organization_type,
            name: s.name,
            email: s.email,
            country: s.country,
        }
    }
}

/// An inquiry as its submitter follows it: one status, each institution's referral.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f", "reference": "GU-2026-000042", "status": "info_requested", "submitter": {"organization": "Helios Therapeutics", "organization_type": "biotech", "name": "Dr Anna Keller", "email": "anna.keller@helios-tx.example", "country": "DE"}, "inquiry_type": "clinical_trial", "title": "Phase 1 trial site for a PSMA-targeted radioligand", "summary": "First-in-human trial of a lutetium-177 PSMA radioligand.", "therapeutic_areas": ["prostate"], "modalities": ["radiopharmaceutical"], "stage": "phase_1", "preferred_institutions": [], "keywords": ["PSMA"], "desk_reason": null, "referrals": [{"id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea0", "institution": {"id": "gustave-roussy", "name": "Gustave Roussy"}, "status": "info_requested", "first_response_due_at": "2026-12-05T17:00:00Z", "reasons": ["Gustave Roussy accepts clinical trial placement inquiries."], "messages": [{"id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea1", "author": "staff", "body": "Could you share the dosimetry data?", "created_at": "2026-11-28T09:30:00Z"}]}], "created_at": "2026-11-28T09:30:00Z"}))]
pub struct InquiryView {
    pub id: String,
    pub reference: String,
    pub status: crate::domain::inquiry::InquiryStatus,
    pub submitter: SubmitterView,
    pub inquiry_type: InquiryType,
    pub title: String,
    pub summary: String,
    pub therapeutic_areas: Vec<TherapeuticArea>,
    pub modalities: Vec<Modality>,
    pub stage: Stage,
    pub preferred_institutions: Vec<String>,
    pub keywords: Vec<String>,
    pub desk_reason: Option<String>,
    pub referrals: Vec<TrackedReferralView>,
    pub created_at: DateTime<Utc>,
}

impl From<crate::service::inquiries::InquiryDetail> for InquiryView {
    fn from(d: crate::service::inquiries::InquiryDetail) -> Self {
        Self::new(d, Locale::En)
    }
}

impl InquiryView {
    /// The inquiry with its routing text in `locale`: the desk reason from its code, each
    /// referral's reasons from the messages kept with the decision (stored text otherwise).
    pub fn new(mut d: crate::service::inquiries::InquiryDetail, locale: Locale) -> Self {
        if let Some(decision) = &d.decision {
            decision.localize_text(
                d.inquiry.draft.inquiry_type,
                &d.inquiry.draft.preferred_institutions,
                &mut d.desk_reason,
                d.referrals
                    .iter_mut()
                    .map(|r| (r.institution_id.as_str(), &mut r.reasons)),
                locale,
            );
        }
        let statuses: Vec<ReferralStatus> = d.referrals.iter().map(|r| r.status).collect();
        let name = |id: &str| InstitutionRef {
            id: id.to_owned(),
            name: d
                .institution_names
                .get(id)
                .cloned()
                .unwrap_or_else(|| id.to_owned()),
        };
        let referrals = d
            .referrals
            .iter()
            .map(|r| TrackedReferralView {
                id: r.id.clone(),
                institution: name(&r.institution_id),
                status: r.status,
                first_response_due_at: utc(r.first_response_due_at),
                reasons: r.reasons.clone(),
                messages: d
                    .messages
                    .iter()
                    .filter(|m| m.referral_id == r.id)
                    .map(|m| ExternalMessageView {
                        id: m.id.clone(),
                        author: m.author,
                        body: m.body.clone(),
                        created_at: utc(m.created_at),
                    })
                    .collect(),
            })
            .collect();
        let i = d.inquiry;
        InquiryView {
            status: crate::domain::inquiry::overall_status(i.on_desk, &statuses),
            id: i.id,
            reference: i.reference,
            submitter: i.draft.submitter.into(),
            inquiry_type: i.draft.inquiry_type,
            title: i.draft.title,
            summary: i.draft.summary,
            therapeutic_areas: i.draft.therapeutic_areas,
            modalities: i.draft.modalities,
            stage: i.draft.stage,
            preferred_institutions: i.draft.preferred_institutions,
            keywords: i.draft.keywords,
            desk_reason: d.desk_reason,
            referrals,
            created_at: utc(i.created_at),
        }
    }
}

/// An institution a preview would refer to.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewSelectionView {
    pub institution: InstitutionRef,
    /// The submitter asked for it.
    pub preferred: bool,
    pub reasons: Vec<String>,
    /// Whether a named contact would receive it, in words (no personal data).
    pub assignment: String,
}

/// An institution a preview would not refer to, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewRejectionView {
    pub institution: InstitutionRef,
    pub reason: crate::domain::routing::NotSelectedReason,
    pub explanation: String,
}

/// Where an inquiry would go, and why: the same routing as a real submission.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"selected": [{"institution": {"id": "gustave-roussy", "name": "Gustave Roussy"}, "preferred": false, "reasons": ["Gustave Roussy accepts clinical trial placement inquiries."], "assignment": "A named contact will receive it."}], "not_selected": [{"institution": {"id": "pasteur", "name": "Institut Pasteur"}, "reason": "inquiry_type_not_accepted", "explanation": "Institut Pasteur does not take clinical trial placement inquiries."}], "to_desk": false, "desk_reason": null}))]
pub struct RoutingPreviewView {
    pub selected: Vec<PreviewSelectionView>,
    pub not_selected: Vec<PreviewRejectionView>,
    /// True when no institution qualifies: the inquiry would go to the operators' desk.
    pub to_desk: bool,
    pub desk_reason: Option<String>,
}

impl From<crate::domain::routing::RoutingOutcome> for RoutingPreviewView {
    fn from(o: crate::domain::routing::RoutingOutcome) -> Self {
        Self::new(o, Locale::En)
    }
}

impl RoutingPreviewView {
    /// The outcome's text in `locale` (render it with [`RoutingOutcome::localize`] first).
    ///
    /// [`RoutingOutcome::localize`]: crate::domain::routing::RoutingOutcome::localize
    pub fn new(o: crate::domain::routing::RoutingOutcome, locale: Locale) -> Self {
        use crate::domain::catalogue::Msg;
        RoutingPreviewView {
            selected: o
                .selected
                .into_iter()
                .map(|s| PreviewSelectionView {
                    institution: InstitutionRef {
                        id: s.institution_id,
                        name: s.institution_name,
                    },
                    preferred: s.preferred,
                    reasons: s.reasons,
                    assignment: if s.contact.is_some() {
                        Msg::AssignmentNamedContact.render(locale)
                    } else {
                        Msg::AssignmentTeam.render(locale)
                    },
                })
                .collect(),
            not_selected: o
                .not_selected
                .into_iter()
                .map(|n| PreviewRejectionView {
                    institution: InstitutionRef {
                        id: n.institution_id,
                        name: n.institution_name,
                    },
                    reason: n.reason,
                    explanation: n.explanation,
                })
                .collect(),
            to_desk: o.to_desk,
            desk_reason: o.desk_reason,
        }
    }
}

/// An inquiry waiting on the operators' desk.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeskItemView {
    pub id: String,
    pub reference: String,
    pub inquiry_type: InquiryType,
    pub title: String,
    pub organization: String,
    pub therapeutic_areas: Vec<TherapeuticArea>,
    pub modalities: Vec<Modality>,
    /// Why routing sent it here.
    pub desk_reason: DeskReasonView,
    pub created_at: DateTime<Utc>,
}

/// Why an inquiry is on the desk: a stable code, and the sentence the submitter was shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeskReasonView {
    pub code: crate::domain::routing::DeskReasonCode,
    pub explanation: String,
}

impl DeskItemView {
    /// A desk item, its explanation told in `locale` from its code.
    pub fn new(d: crate::service::inquiries::DeskItem, locale: Locale) -> Self {
        let i = d.inquiry;
        let explanation = if locale == Locale::En {
            d.desk_reason
        } else {
            d.desk_reason_code
                .explanation_in(i.draft.inquiry_type, locale)
        };
        DeskItemView {
            id: i.id,
            reference: i.reference,
            inquiry_type: i.draft.inquiry_type,
            title: i.draft.title,
            organization: i.draft.submitter.organization,
            therapeutic_areas: i.draft.therapeutic_areas,
            modalities: i.draft.modalities,
            desk_reason: DeskReasonView {
                code: d.desk_reason_code,
                explanation,
            },
            created_at: utc(i.created_at),
        }
    }
}

/// A page of the desk.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [{"id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f", "reference": "GU-2026-000043", "inquiry_type": "other", "title": "Manufacturing partnership", "organization": "Helios Therapeutics", "therapeutic_areas": ["pan_tumor"], "modalities": [], "desk_reason": {"code": "inquiry_type_not_accepted", "explanation": "No institution takes inquiries of other kinds automatically. Our operators will route it by hand."}, "created_at": "2026-11-28T09:30:00Z"}], "next_cursor": null}))]
pub struct DeskPage {
    pub items: Vec<DeskItemView>,
    /// Pass as `cursor` (with the same filters and sort) to get the next page; `null` on the
    /// last page.
    pub next_cursor: Option<String>,
}

/// A message just posted.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea1", "referral_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea0", "author": "submitter", "visibility": "external", "body": "The dosimetry data are in our data room.", "created_at": "2026-11-28T09:30:00Z"}))]
pub struct MessageView {
    pub id: String,
    pub referral_id: String,
    pub author: crate::domain::inquiry::Author,
    pub visibility: crate::domain::inquiry::Visibility,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// An institution's routing profile and its version (increases on every change).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"institution_id": "curie", "version": 2, "profile": {"accepted_inquiry_types": ["licensing", "clinical_trial"], "therapeutic_area_weights": {"breast": 95, "pediatric": 90}, "modality_weights": {"radiotherapy": 95}, "stage_preferences": {"phase_1": 70}, "threshold": 45}, "updated_at": "2026-11-28T09:30:00Z"}))]
pub struct RoutingProfileView {
    pub institution_id: String,
    pub version: i64,
    pub profile: crate::domain::routing::RoutingProfile,
    pub updated_at: DateTime<Utc>,
}

/// A contact, named.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactRef {
    pub id: String,
    pub name: String,
}

/// One line of the queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralQueueItem {
    pub id: String,
    pub inquiry_id: String,
    pub reference: String,
    pub institution: InstitutionRef,
    pub status: ReferralStatus,
    pub title: String,
    pub assigned_contact: Option<ContactRef>,
    pub first_response_due_at: DateTime<Utc>,
    /// No first response yet and the due date has passed.
    pub overdue: bool,
    /// The decision target (set at the first response, moved by information requests).
    pub decision_due_at: Option<DateTime<Utc>>,
    /// Acknowledged or in review, and the decision target has passed.
    pub decision_overdue: bool,
    pub created_at: DateTime<Utc>,
}

impl ReferralQueueItem {
    /// A queue line, its flags judged at `now`.
    pub fn new(i: crate::service::triage::QueueItem, now: NaiveDateTime) -> Self {
        ReferralQueueItem {
            overdue: i.referral.is_overdue(now),
            decision_overdue: i.referral.is_decision_overdue(now),
            decision_due_at: i.referral.decision_due_at.map(utc),
            assigned_contact: match (i.referral.contact_id.clone(), i.contact_name) {
                (Some(id), Some(name)) => Some(ContactRef { id, name }),
                _ => None,
            },
            id: i.referral.id,
            inquiry_id: i.referral.inquiry_id,
            reference: i.reference,
            institution: InstitutionRef {
                id: i.referral.institution_id,
                name: i.institution_name,
            },
            status: i.referral.status,
            title: i.title,
            first_response_due_at: utc(i.referral.first_response_due_at),
            created_at: utc(i.referral.created_at),
        }
    }
}

/// RFC 3339 UTC, as the JSON views write times.
fn csv_time(t: NaiveDateTime) -> String {
    utc(t).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// The columns of the queue's CSV export, in order.
pub const QUEUE_CSV_COLUMNS: &[&str] = &[
    "reference",
    "referral_id",
    "inquiry_id",
    "institution_id",
    "institution_name",
    "status",
    "inquiry_type",
    "title",
    "organization",
    "assigned_contact_id",
    "assigned_contact_name",
    "first_response_due_at",
    "overdue",
    "decision_due_at",
    "decision_overdue",
    "created_at",
];

/// The queue as CSV (RFC 4180, UTF-8, CRLF line ends): a header row of the columns in the
/// example, then one row per referral. Cells that a spreadsheet would read as a formula
/// (starting with `=`, `+`, `-`, `@`, a tab or a CR) start with a `'`.
#[derive(ToSchema)]
#[schema(value_type = String, example = "reference,referral_id,inquiry_id,institution_id,institution_name,status,inquiry_type,title,organization,assigned_contact_id,assigned_contact_name,first_response_due_at,overdue,decision_due_at,decision_overdue,created_at\r\nGU-2026-000042,01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea0,01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f,curie,Institut Curie,new,clinical_trial,\"Phase 1 sites, HER2 ADC\",Helios Therapeutics,01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea1,Dr Claire Martin,2026-12-04T17:00:00Z,false,,false,2026-11-28T09:30:00Z\r\n")]
#[allow(dead_code)]
pub struct ReferralCsv(String);

/// Appends the CSV rows of queue lines to `out`, their flags judged at `now`.
pub fn queue_csv_rows(
    out: &mut String,
    items: Vec<crate::service::triage::QueueItem>,
    now: NaiveDateTime,
) {
    for i in items {
        let r = &i.referral;
        let flag = |b: bool| if b { "true" } else { "false" };
        let (contact_id, contact_name) = match (&r.contact_id, &i.contact_name) {
            (Some(id), Some(name)) => (id.as_str(), name.as_str()),
            _ => ("", ""),
        };
        let due = csv_time(r.first_response_due_at);
        let decision_due = r.decision_due_at.map(csv_time).unwrap_or_default();
        let created = csv_time(r.created_at);
        crate::api::csv::push_record(
            out,
            [
                i.reference.as_str(),
                &r.id,
                &r.inquiry_id,
                &r.institution_id,
                &i.institution_name,
                r.status.as_str(),
                i.inquiry_type.as_str(),
                &i.title,
                &i.organization,
                contact_id,
                contact_name,
                &due,
                flag(r.is_overdue(now)),
                &decision_due,
                flag(r.is_decision_overdue(now)),
                &created,
            ],
        );
    }
}

/// The columns of the figures' CSV export, in order.
pub const STATS_CSV_COLUMNS: &[&str] = &["institution_id", "from", "to", "metric", "key", "value"];

/// An institution's figures as CSV (RFC 4180, UTF-8, CRLF line ends), one figure per row:
/// `referrals`; `per_status` and `decline_reasons` with the status or reason as `key` (every
/// one listed, 0 included); the times and shares with an empty `key`, and an empty `value`
/// where the JSON figure is `null`.
#[derive(ToSchema)]
#[schema(value_type = String, example = "institution_id,from,to,metric,key,value\r\ncurie,2026-01-01T00:00:00Z,2027-01-01T00:00:00Z,referrals,,42\r\ncurie,2026-01-01T00:00:00Z,2027-01-01T00:00:00Z,per_status,new,4\r\ncurie,2026-01-01T00:00:00Z,2027-01-01T00:00:00Z,median_hours_to_first_response,,19.5\r\ncurie,2026-01-01T00:00:00Z,2027-01-01T00:00:00Z,acceptance_rate,,\r\ncurie,2026-01-01T00:00:00Z,2027-01-01T00:00:00Z,decline_reasons,no_capacity,6\r\n")]
#[allow(dead_code)]
pub struct StatsCsv(String);

/// The whole CSV of an institution's figures (a few dozen rows).
pub fn stats_csv(
    institution_id: &str,
    s: &crate::service::triage::Stats,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> String {
    let (from, to) = (csv_time(from), csv_time(to));
    let mut out = String::new();
    crate::api::csv::push_record(&mut out, STATS_CSV_COLUMNS.iter().copied());
    let mut row = |metric: &str, key: &str, value: String| {
        crate::api::csv::push_record(
            &mut out,
            [
                institution_id,
                from.as_str(),
                to.as_str(),
                metric,
                key,
                &value,
            ],
        );
    };
    let share = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    row("referrals", "", s.referrals.to_string());
    for status in ReferralStatus::ALL {
        let n = s.per_status.get(status).copied().unwrap_or(0);
        row("per_status", status.as_str(), n.to_string());
    }
    row(
        "median_hours_to_first_response",
        "",
        share(s.median_hours_to_first_response),
    );
    row(
        "p90_hours_to_first_response",
        "",
        share(s.p90_hours_to_first_response),
    );
    row("answered_within_sla", "", share(s.answered_within_sla));
    row("decided_within_target", "", share(s.decided_within_target));
    row("acceptance_rate", "", share(s.acceptance_rate));
    let mut reasons: Vec<(String, i64)> = DeclineReason::ALL
        .iter()
        .map(|r| {
            let key = r.as_str().to_owned();
            let n = s.decline_reasons.get(&key).copied().unwrap_or(0);
            (key, n)
        })
        .collect();
    // A stored reason outside today's vocabulary is still counted.
    for (key, n) in &s.decline_reasons {
        if !reasons.iter().any(|(k, _)| k == key) {
            reasons.push((key.clone(), *n));
        }
    }
    for (key, n) in reasons {
        row("decline_reasons", &key, n.to_string());
    }
    out
}

/// A page of the queue.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [{"id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea0", "inquiry_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f", "reference": "GU-2026-000042", "institution": {"id": "curie", "name": "Institut Curie"}, "status": "new", "title": "Phase 1 trial site for a PSMA-targeted radioligand", "assigned_contact": {"id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea1", "name": "Dr Claire Martin"}, "first_response_due_at": "2026-12-05T17:00:00Z", "overdue": false, "decision_due_at": null, "decision_overdue": false, "created_at": "2026-11-28T09:30:00Z"}], "next_cursor": null}))]
pub struct ReferralPage {
    pub items: Vec<ReferralQueueItem>,
    /// Pass as `cursor` (with the same filters and sort) to get the next page.
    pub next_cursor: Option<String>,
}

/// Counts for the caller's scope.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"counts": {"new": 4, "acknowledged": 2, "in_review": 3, "info_requested": 1, "accepted": 7, "declined": 2, "forwarded": 0, "withdrawn": 1}, "overdue": 1, "decision_overdue": 0}))]
pub struct ReferralSummaryView {
    /// Referrals per status (every status present).
    pub counts: BTreeMap<String, i64>,
    /// First responses late.
    pub overdue: i64,
    /// Decisions late (acknowledged or in review past the decision target).
    pub decision_overdue: i64,
}

/// Another institution's referral of the same inquiry: who has it and where it stands, nothing
/// more (never its thread, contact, score or notes), so institutions can coordinate.
#[derive(Debug, Serialize, ToSchema)]
pub struct OtherReferralView {
    pub institution_id: String,
    pub institution_name: String,
    pub status: ReferralStatus,
}

/// The inquiry behind a referral, as staff see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffInquiryView {
    pub id: String,
    pub reference: String,
    pub submitter: SubmitterView,
    pub inquiry_type: InquiryType,
    pub title: String,
    pub summary: String,
    pub therapeutic_areas: Vec<TherapeuticArea>,
    pub modalities: Vec<Modality>,
    pub stage: Stage,
    pub keywords: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// The other institutions' referrals of this inquiry, in the order they were created.
    pub other_referrals: Vec<OtherReferralView>,
}

/// Why routing chose this institution.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoutingExplanationView {
    pub score: u8,
    pub threshold: u8,
    pub preferred: bool,
    pub matched: Vec<crate::domain::routing::MatchedCriterion>,
    pub contact_explanation: String,
    pub profile_version: i64,
}

/// A contact assigned to a referral.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssignedContactView {
    pub id: String,
    pub name: String,
    pub title: String,
    pub email: String,
    pub active: bool,
}

/// A message of a referral's thread, as staff see it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea1", "author": "staff", "author_user_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f", "visibility": "internal", "body": "Checked with the radiopharmacy: capacity from March.", "created_at": "2026-11-28T09:30:00Z"}))]
pub struct StaffMessageView {
    pub id: String,
    pub author: crate::domain::inquiry::Author,
    /// The staff account that wrote it, if staff.
    pub author_user_id: Option<String>,
    pub visibility: crate::domain::inquiry::Visibility,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

impl From<crate::domain::inquiry::Message> for StaffMessageView {
    fn from(m: crate::domain::inquiry::Message) -> Self {
        StaffMessageView {
            id: m.id,
            author: m.author,
            author_user_id: m.author_user_id,
            visibility: m.visibility,
            body: m.body,
            created_at: utc(m.created_at),
        }
    }
}

/// A referral's thread.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [{"id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea1", "author": "staff", "author_user_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f", "visibility": "internal", "body": "Checked with the radiopharmacy: capacity from March.", "created_at": "2026-11-28T09:30:00Z"}], "next_cursor": null}))]
pub struct MessageList {
    pub items: Vec<StaffMessageView>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// First-response SLA of a referral.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlaView {
    pub first_response_due_at: DateTime<Utc>,
    pub first_responded_at: Option<DateTime<Utc>>,
    pub overdue: bool,
    /// The clock is paused while information is requested from the submitter.
    pub paused: bool,
    /// The decision target: the institution's decision business days from the first
    /// response, moved by the time spent waiting on the submitter; `null` before the first
    /// response.
    pub decision_due_at: Option<DateTime<Utc>>,
    /// Acknowledged or in review, and the decision target has passed.
    pub decision_overdue: bool,
    pub decided_at: Option<DateTime<Utc>>,
}

/// The decision recorded on a closed referral.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionView {
    /// A decline reason code, the institution a referral was forwarded to, or the
    /// submitter's withdrawal reason code (`withdrawn`).
    pub reason: Option<String>,
    pub note: Option<String>,
}

/// One referral, as its institution works it. Its version is also the `ETag`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea0", "version": 3, "status": "in_review", "allowed_transitions": ["info_requested", "accepted", "declined", "forwarded"], "institution": {"id": "curie", "name": "Institut Curie"}, "inquiry": {"id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f", "reference": "GU-2026-000042", "submitter": {"organization": "Helios Therapeutics", "organization_type": "biotech", "name": "Dr Anna Keller", "email": "anna.keller@helios-tx.example", "country": "DE"}, "inquiry_type": "clinical_trial", "title": "Phase 1 trial site for a PSMA-targeted radioligand", "summary": "First-in-human trial.", "therapeutic_areas": ["prostate"], "modalities": ["radiopharmaceutical"], "stage": "phase_1", "keywords": ["PSMA"], "created_at": "2026-11-28T09:30:00Z", "other_referrals": [{"institution_id": "gustave-roussy", "institution_name": "Gustave Roussy", "status": "acknowledged"}]}, "reasons": ["Institut Curie accepts clinical trial placement inquiries."], "routing": {"score": 61, "threshold": 45, "preferred": false, "matched": [{"criterion": "therapeutic_area", "value": "prostate", "weight": 60}], "contact_explanation": "Dr Claire Martin handles prostate cancer.", "profile_version": 1}, "other_institutions": ["Gustave Roussy"], "assigned_contact": {"id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea1", "name": "Dr Claire Martin", "title": "Head of industrial partnerships", "email": "claire.martin@curie.fr", "active": true}, "messages": [{"id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea1", "author": "staff", "author_user_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f", "visibility": "internal", "body": "Checked with the radiopharmacy: capacity from March.", "created_at": "2026-11-28T09:30:00Z"}], "sla": {"first_response_due_at": "2026-12-05T17:00:00Z", "first_responded_at": "2026-11-28T09:30:00Z", "overdue": false, "paused": false, "decision_due_at": "2026-12-12T17:00:00Z", "decision_overdue": false, "decided_at": null}, "decision": null, "created_at": "2026-11-28T09:30:00Z", "updated_at": "2026-11-28T09:30:00Z"}))]
pub struct ReferralDetailView {
    pub id: String,
    /// Send as `If-Match` (quoted, as in the ETag header) to change the referral.
    pub version: i32,
    pub status: ReferralStatus,
    pub allowed_transitions: Vec<ReferralStatus>,
    pub institution: InstitutionRef,
    pub inquiry: StaffInquiryView,
    /// The reasons shown to the submitter.
    pub reasons: Vec<String>,
    pub routing: Option<RoutingExplanationView>,
    /// Names of the other institutions that received the same inquiry (names only).
    pub other_institutions: Vec<String>,
    pub assigned_contact: Option<AssignedContactView>,
    pub messages: Vec<StaffMessageView>,
    pub sla: SlaView,
    pub decision: Option<DecisionView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<crate::service::triage::ReferralDetail> for ReferralDetailView {
    fn from(d: crate::service::triage::ReferralDetail) -> Self {
        Self::new(d, Locale::En)
    }
}

impl ReferralDetailView {
    /// The referral with its routing text in `locale` where the decision kept its messages.
    pub fn new(mut d: crate::service::triage::ReferralDetail, locale: Locale) -> Self {
        if let Some(s) = &mut d.routing {
            if s.reasons == d.referral.reasons {
                d.referral.reasons = s.reasons_in(locale);
            }
            s.contact_explanation = s.contact_explanation_in(locale);
        }
        let r = d.referral;
        let i = d.inquiry;
        ReferralDetailView {
            sla: SlaView {
                first_response_due_at: utc(r.first_response_due_at),
                first_responded_at: r.first_responded_at.map(utc),
                overdue: r.is_overdue(d.now),
                paused: r.sla_paused_at.is_some(),
                decision_due_at: r.decision_due_at.map(utc),
                decision_overdue: r.is_decision_overdue(d.now),
                decided_at: r.decided_at.map(utc),
            },
            decision: (r.decision_reason.is_some() || r.decision_note.is_some()).then(|| {
                DecisionView {
                    reason: r.decision_reason.clone(),
                    note: r.decision_note.clone(),
                }
            }),
            id: r.id,
            version: r.version,
            status: r.status,
            allowed_transitions: d.allowed_transitions,
            institution: InstitutionRef {
                id: r.institution_id,
                name: d.institution_name,
            },
            inquiry: StaffInquiryView {
                id: i.id,
                reference: i.reference,
                submitter: i.draft.submitter.into(),
                inquiry_type: i.draft.inquiry_type,
                title: i.draft.title,
                summary: i.draft.summary,
                therapeutic_areas: i.draft.therapeutic_areas,
                modalities: i.draft.modalities,
                stage: i.draft.stage,
                keywords: i.draft.keywords,
                created_at: utc(i.created_at),
                other_referrals: d
                    .other_referrals
                    .into_iter()
                    .map(|o| OtherReferralView {
                        institution_id: o.institution_id,
                        institution_name: o.institution_name,
                        status: o.status,
                    })
                    .collect(),
            },
            reasons: r.reasons,
            routing: d.routing.map(|s| RoutingExplanationView {
                score: s.score,
                threshold: s.threshold,
                preferred: s.preferred,
                matched: s.matched,
                contact_explanation: s.contact_explanation,
                profile_version: s.profile_version,
            }),
            other_institutions: d.other_institutions,
            assigned_contact: d.contact.map(|c| AssignedContactView {
                id: c.id,
                name: c.name,
                title: c.title,
                email: c.email,
                active: c.active,
            }),
            messages: d.messages.into_iter().map(Into::into).collect(),
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        }
    }
}

/// One audit record.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub id: String,
    /// The inquiry it concerns (its own records and its referrals').
    pub inquiry_id: Option<String>,
    /// The referral it concerns.
    pub referral_id: Option<String>,
    /// The institution it concerns (a referral's, or an institution's contacts, accounts,
    /// profile and endpoints).
    pub institution_id: Option<String>,
    /// `submitter`, `user` or `system`.
    pub actor_kind: String,
    /// The staff account, for `user` events.
    pub actor_id: Option<String>,
    /// What happened: an `AuditAction` (the `action` filter of `GET /v1/audit`), e.g.
    /// `referral_routed`, `status_changed`, `assigned`, `message_posted`, `referral_withdrawn`;
    /// records written by earlier versions may carry older names.
    pub action: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub at: DateTime<Utc>,
}

/// A page of audit records: a referral's and an inquiry's oldest first, the platform's newest
/// first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [{"id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f", "inquiry_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8eb0", "referral_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8eb1", "institution_id": "curie", "actor_kind": "system", "actor_id": null, "action": "referral_routed", "from": null, "to": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea1", "at": "2026-11-28T09:30:00Z"}, {"id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea0", "inquiry_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8eb0", "referral_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8eb1", "institution_id": "curie", "actor_kind": "user", "actor_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f", "action": "status_changed", "from": "new", "to": "acknowledged", "at": "2026-11-28T09:30:00Z"}], "next_cursor": null}))]
pub struct EventList {
    pub items: Vec<EventView>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl From<crate::service::audit::EventRow> for EventView {
    fn from(e: crate::service::audit::EventRow) -> Self {
        EventView {
            id: e.id,
            inquiry_id: e.inquiry_id,
            referral_id: e.referral_id,
            institution_id: e.institution_id,
            actor_kind: e.actor_kind,
            actor_id: e.actor_id,
            action: e.action,
            from: e.from_value,
            to: e.to_value,
            at: utc(e.created_at),
        }
    }
}

/// Responsiveness figures over a period.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"from": "2025-11-28T00:00:00Z", "to": "2026-11-28T00:00:00Z", "referrals": 42, "per_status": {"new": 4, "acknowledged": 2, "in_review": 5, "info_requested": 1, "accepted": 12, "declined": 15, "forwarded": 2, "withdrawn": 1}, "median_hours_to_first_response": 19.5, "p90_hours_to_first_response": 70.25, "answered_within_sla": 0.93, "decided_within_target": 0.88, "acceptance_rate": 0.44, "decline_reasons": {"out_of_scope": 9, "no_capacity": 6}}))]
pub struct StatsView {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Referrals created in the period.
    pub referrals: i64,
    pub per_status: BTreeMap<String, i64>,
    pub median_hours_to_first_response: Option<f64>,
    pub p90_hours_to_first_response: Option<f64>,
    /// Share (0 to 1) of first responses by the due date, among referrals answered or past due.
    pub answered_within_sla: Option<f64>,
    /// Share (0 to 1) of decisions (accepted, declined, forwarded) by the decision target,
    /// among referrals decided or past their target.
    pub decided_within_target: Option<f64>,
    /// Accepted over accepted plus declined (0 to 1).
    pub acceptance_rate: Option<f64>,
    pub decline_reasons: BTreeMap<String, i64>,
}

impl StatsView {
    pub fn new(s: crate::service::triage::Stats, from: NaiveDateTime, to: NaiveDateTime) -> Self {
        StatsView {
            from: utc(from),
            to: utc(to),
            referrals: s.referrals,
            per_status: s
                .per_status
                .into_iter()
                .map(|(k, v)| (k.as_str().to_owned(), v))
                .collect(),
            median_hours_to_first_response: s.median_hours_to_first_response,
            p90_hours_to_first_response: s.p90_hours_to_first_response,
            answered_within_sla: s.answered_within_sla,
            decided_within_target: s.decided_within_target,
            acceptance_rate: s.acceptance_rate,
            decline_reasons: s.decline_reasons,
        }
    }
}

/// One institution's public figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstitutionStatsView {
    pub institution: InstitutionRef,
    pub first_response_business_days: i32,
    /// Decision target, in business days from the first response (information requests
    /// excluded).
    pub decision_business_days: i32,
    pub stats: StatsView,
    /// The figures in one sentence, in the request's language (`Content-Language`).
    pub summary: String,
}

impl InstitutionStatsView {
    pub fn summary(name: &str, days: i32, stats: &StatsView, locale: Locale) -> String {
        use crate::domain::catalogue::{Hours, Msg, Share};
        if stats.referrals == 0 {
            return Msg::TransparencyNoReferral {
                institution: name.to_owned(),
            }
            .render(locale);
        }
        Msg::TransparencySummary {
            institution: name.to_owned(),
            referrals: stats.referrals,
            days: i64::from(days),
            within: Share(stats.answered_within_sla),
            median: Hours(stats.median_hours_to_first_response),
        }
        .render(locale)
    }
}

/// The cluster's responsiveness, per institution: no personal or deal data.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [{"institution": {"id": "curie", "name": "Institut Curie"}, "first_response_business_days": 5, "decision_business_days": 10, "stats": {"from": "2025-11-28T00:00:00Z", "to": "2026-11-28T00:00:00Z", "referrals": 42, "per_status": {"new": 4, "acknowledged": 2, "in_review": 5, "info_requested": 1, "accepted": 12, "declined": 15, "forwarded": 2, "withdrawn": 1}, "median_hours_to_first_response": 19.5, "p90_hours_to_first_response": 70.25, "answered_within_sla": 0.93, "decided_within_target": 0.88, "acceptance_rate": 0.44, "decline_reasons": {"out_of_scope": 9, "no_capacity": 6}}, "summary": "Institut Curie received 42 referral(s) in this period; first responses are due within 5 business days; answered in time: 93%; median time to a first response: 19.5 hours."}], "about": "Figures per institution over the period: referrals received, statuses, time to a first response and to a decision, acceptance rate and decline reasons. No personal or deal data."}))]
pub struct TransparencyView {
    /// What the figures are, in the request's language (`Content-Language`).
    pub about: String,
    pub items: Vec<InstitutionStatsView>,
}

/// A webhook endpoint (its secret is shown only when made or rotated).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f", "institution_id": "curie", "url": "https://crm.curie.fr/hooks/guichet", "description": "Our CRM", "event_types": ["referral.created"], "enabled": true, "disabled_reason": null, "failing_since": null, "version": 1, "created_at": "2026-11-28T09:30:00Z", "updated_at": "2026-11-28T09:30:00Z"}))]
pub struct WebhookEndpointView {
    pub id: String,
    /// `null`: platform-wide (every event).
    pub institution_id: Option<String>,
    pub url: String,
    pub description: String,
    /// Empty: every type.
    pub event_types: Vec<crate::domain::taxonomy::EventType>,
    pub enabled: bool,
    /// Why it is disabled: `by_hand`, `gone` (it answered 410) or `failing` (five days of
    /// failed attempts).
    pub disabled_reason: Option<crate::domain::event::DisabledReason>,
    /// When its current run of failed attempts began.
    pub failing_since: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<crate::domain::webhook::Endpoint> for WebhookEndpointView {
    fn from(e: crate::domain::webhook::Endpoint) -> Self {
        WebhookEndpointView {
            id: e.id,
            institution_id: e.institution_id,
            url: e.url,
            description: e.description,
            event_types: e.event_types,
            enabled: e.enabled,
            disabled_reason: e.disabled_reason,
            failing_since: e.failing_since.map(utc),
            version: e.version,
            created_at: utc(e.created_at),
            updated_at: utc(e.updated_at),
        }
    }
}

/// A new endpoint, or one whose secret was rotated: the signing secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"endpoint": {"id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f", "institution_id": "curie", "url": "https://crm.curie.fr/hooks/guichet", "description": "Our CRM", "event_types": [], "enabled": true, "disabled_reason": null, "failing_since": null, "version": 1, "created_at": "2026-11-28T09:30:00Z", "updated_at": "2026-11-28T09:30:00Z"}, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo=", "previous_secret_expires_at": null}))]
pub struct WebhookEndpointSecretView {
    pub endpoint: WebhookEndpointView,
    /// `whsec_` and the base64 key: verify `webhook-signature` with it (Standard Webhooks).
    #[schema(pattern = "^whsec_[A-Za-z0-9+/]+={0,2}$")]
    pub secret: String,
    /// After a rotation: until when the previous secret also signs each delivery.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
}

/// A page of webhook endpoints.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [], "next_cursor": null}))]
pub struct WebhookEndpointPage {
    pub items: Vec<WebhookEndpointView>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// One event for one endpoint.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea3", "endpoint_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f", "event_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea2", "event_type": "referral.created", "status": "pending", "attempts": 1, "next_attempt_at": "2026-11-28T09:30:05Z", "last_status_code": 503, "last_error": null, "created_at": "2026-11-28T09:30:00Z", "updated_at": "2026-11-28T09:30:00Z"}))]
pub struct WebhookDeliveryView {
    pub id: String,
    pub endpoint_id: String,
    /// The event's id: the `webhook-id` header of every attempt.
    pub event_id: String,
    pub event_type: crate::domain::taxonomy::EventType,
    pub status: crate::domain::webhook::DeliveryStatus,
    pub attempts: i32,
    /// When a pending delivery is tried next.
    pub next_attempt_at: DateTime<Utc>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<crate::domain::webhook::Delivery> for WebhookDeliveryView {
    fn from(d: crate::domain::webhook::Delivery) -> Self {
        WebhookDeliveryView {
            id: d.id,
            endpoint_id: d.endpoint_id,
            event_id: d.event_id,
            event_type: d.event_type,
            status: d.status,
            attempts: d.attempts,
            next_attempt_at: utc(d.next_attempt_at),
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            created_at: utc(d.created_at),
            updated_at: utc(d.updated_at),
        }
    }
}

/// A page of deliveries, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [], "next_cursor": null}))]
pub struct WebhookDeliveryPage {
    pub items: Vec<WebhookDeliveryView>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// One attempt of a delivery.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea4", "attempted_at": "2026-11-28T09:30:00Z", "duration_ms": 41, "status_code": 503, "outcome": "failed", "error": null, "response_excerpt": "Service Unavailable"}))]
pub struct WebhookAttemptView {
    pub id: String,
    pub attempted_at: DateTime<Utc>,
    pub duration_ms: i64,
    /// The receiver's status code; `null` when no answer came (timeout, refused address).
    pub status_code: Option<i32>,
    pub outcome: crate::domain::webhook::AttemptOutcome,
    pub error: Option<String>,
    /// The start of the answer's body (at most 1 KiB).
    pub response_excerpt: String,
}

impl From<crate::domain::webhook::Attempt> for WebhookAttemptView {
    fn from(a: crate::domain::webhook::Attempt) -> Self {
        WebhookAttemptView {
            id: a.id,
            attempted_at: utc(a.attempted_at),
            duration_ms: a.duration_ms,
            status_code: a.status_code,
            outcome: a.outcome,
            error: a.error,
            response_excerpt: a.response_excerpt,
        }
    }
}

/// A delivery with every attempt, oldest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"delivery": {"id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea3", "endpoint_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f", "event_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea2", "event_type": "referral.created", "status": "delivered", "attempts": 1, "next_attempt_at": "2026-11-28T09:30:00Z", "last_status_code": 200, "last_error": null, "created_at": "2026-11-28T09:30:00Z", "updated_at": "2026-11-28T09:30:00Z"}, "attempts": [{"id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea4", "attempted_at": "2026-11-28T09:30:00Z", "duration_ms": 41, "status_code": 200, "outcome": "delivered", "error": null, "response_excerpt": "ok"}]}))]
pub struct WebhookDeliveryDetailView {
    pub delivery: WebhookDeliveryView,
    pub attempts: Vec<WebhookAttemptView>,
}

/// How many failed deliveries were made pending again.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"replayed": 3}))]
pub struct WebhookReplayView {
    pub replayed: usize,
}

/// A page of the event feed, in commit order.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [{"id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f", "type": "referral.created", "version": 1, "timestamp": "2026-11-28T09:30:00Z", "data": {"referral_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea1", "inquiry_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea0", "institution_id": "curie", "contact_id": null, "first_response_due_at": "2026-12-12T17:00:00Z", "source": "rules", "forwarded_from_referral_id": null}}], "next_cursor": "0.42"}))]
pub struct EventFeedPage {
    pub items: Vec<crate::domain::event::Envelope>,
    /// Where to continue: pass it as `after` next time, whether or not this page was full (an
    /// empty page returns the `after` it was given).
    #[schema(pattern = "^[0-9]{1,19}\\.[0-9]{1,19}$")]
    pub next_cursor: String,
}

/// One e-mail as operators and institution admins inspect it (never its text).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea7", "kind": "referral_new", "category": "assignment", "recipient": "claire.martin@curie.fr", "locale": "fr", "status": "failed", "attempts": 1, "last_error": "permanent error (550): 5.1.1 mailbox unknown", "institution_id": "curie", "inquiry_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f", "referral_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea0", "next_attempt_at": "2026-11-28T09:30:00Z", "created_at": "2026-11-28T09:30:00Z", "sent_at": null}))]
pub struct MailMessageView {
    pub id: String,
    /// The template: `referral_new`, `referral_assigned`, `submitter_replied`,
    /// `inquiry_withdrawn`, `sla_due_soon`, `sla_breached`, `endpoint_disabled`,
    /// `password_reset`, `password_changed`, `inquiry_received`, `inquiry_routed`,
    /// `message_received` or `status_changed`.
    pub kind: String,
    /// `assignment`, `reminder` (the only optional one), `submitter` or `account`.
    pub category: String,
    pub recipient: String,
    pub locale: crate::domain::taxonomy::Locale,
    pub status: crate::domain::mail::MailStatus,
    pub attempts: i32,
    /// The SMTP server's last answer, or why the message could not be sent.
    pub last_error: Option<String>,
    pub institution_id: Option<String>,
    pub inquiry_id: Option<String>,
    pub referral_id: Option<String>,
    /// When a pending message is tried next.
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<crate::db::mail::MailSummary> for MailMessageView {
    fn from(m: crate::db::mail::MailSummary) -> Self {
        MailMessageView {
            locale: m
                .locale
                .parse()
                .unwrap_or(crate::domain::taxonomy::Locale::En),
            status: crate::domain::mail::MailStatus::parse(&m.status)
                .unwrap_or(crate::domain::mail::MailStatus::Pending),
            id: m.id,
            kind: m.kind,
            category: m.category,
            recipient: m.recipient,
            attempts: m.attempts,
            last_error: m.last_error,
            institution_id: m.institution_id,
            inquiry_id: m.inquiry_id,
            referral_id: m.referral_id,
            next_attempt_at: utc(m.next_attempt_at),
            created_at: utc(m.created_at),
            sent_at: m.sent_at.map(utc),
        }
    }
}

/// A page of e-mails, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [{"id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea7", "kind": "referral_new", "category": "assignment", "recipient": "claire.martin@curie.fr", "locale": "fr", "status": "sent", "attempts": 1, "last_error": null, "institution_id": "curie", "inquiry_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f", "referral_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea0", "next_attempt_at": "2026-11-28T09:30:00Z", "created_at": "2026-11-28T09:30:00Z", "sent_at": "2026-11-28T09:30:01Z"}], "next_cursor": null}))]
pub struct MailMessagePage {
    pub items: Vec<MailMessageView>,
    /// Pass as `cursor` to get the next (older) page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// What a bulk reassignment moved.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"moved": 2, "referral_ids": ["01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea1", "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea2"], "to_contact_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea0"}))]
pub struct ReassignView {
    /// How many open referrals changed hands.
    pub moved: usize,
    pub referral_ids: Vec<String>,
    /// `null`: they are now unassigned.
    pub to_contact_id: Option<String>,
}

impl From<crate::service::triage::Reassigned> for ReassignView {
    fn from(r: crate::service::triage::Reassigned) -> Self {
        ReassignView {
            moved: r.referral_ids.len(),
            referral_ids: r.referral_ids,
            to_contact_id: r.to_contact_id,
        }
    }
}
