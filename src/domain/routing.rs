//! Routing: which institutions receive an inquiry, and which contact within each.
//!
//! [`route`] is a pure function (no I/O, clock or randomness): the same inquiry and the same
//! institutions always give the same [`RoutingOutcome`], whatever the order of the institutions
//! and of their contacts. It serves both real submissions and the dry-run preview.
//!
//! # Gate
//! An institution is a candidate only if its profile lists the inquiry type in
//! `accepted_inquiry_types`. Otherwise it is not selected (`inquiry_type_not_accepted`), even when
//! the submitter asked for it.
//!
//! # Score (0..=100, integers only)
//! Every weight is read clamped to `0..=100`; a key missing from a weight map counts 0.
//! - `A`, area: the best weight among the inquiry's (distinct) therapeutic areas, where an area
//!   counts `max(weight[area], weight[pan_tumor])` (a pan-tumour profile covers every area). An
//!   inquiry area `pan_tumor` counts the profile's best area weight, whatever its key. An inquiry
//!   without any area is read as `pan_tumor`.
//! - `M`, modality: the best weight among the inquiry's modalities. Absent when the inquiry names
//!   no modality (the inquiry is not penalised: the formula is renormalised without it).
//! - `S`, stage: `stage_preferences[stage]`. Absent (neutral) when the profile has no stage
//!   preferences at all; a stage missing from a non-empty preference map counts 0.
//!
//! `score = round_half_up((5·A + 3·M + 2·S) / (5 + 3 + 2))`, where an absent component is dropped
//! from both the numerator and the denominator. With integers:
//! `score = (2·num + den) / (2·den)`.
//!
//! # Selection
//! - No preference (`preferred_institutions` empty): every accepting institution whose score is
//!   at least its profile's `threshold` is selected.
//! - With preferences: exactly the preferred institutions that accept the type are selected,
//!   whatever their score; every other institution is `not_preferred` (or
//!   `inquiry_type_not_accepted`). Preferred ids matching no institution are ignored (the caller
//!   validates them), so a preference list naming only unknown ids sends the inquiry to the desk.
//! - Nothing selected: `to_desk` is true and `desk_reason` says why, for the submitter.
//!
//! `selected` is ordered by score (highest first) then institution id; `not_selected` by
//! institution id. Institution ids are expected to be unique.
//!
//! # Contact
//! Within a selected institution, only active contacts are considered. A contact's expertise
//! matches count one for the inquiry type, one per distinct inquiry area and one per distinct
//! inquiry modality listed in its expertise (exact values). The most matches wins, then the fewest
//! open referrals, then the name, then the id. Without any active contact the referral is left
//! unassigned for the institution's team.
//!
//! # Matched criteria and reasons
//! `matched` lists, for operators, every criterion that contributed: the inquiry type and the
//! preference (weight 100: fully met, not part of the weighted formula), and every area, modality
//! and stage with a non-zero weight (the value is the profile key that supplied the weight).
//! `reasons` are sentences for the submitter, with no numbers: the accepted type, areas and
//! modalities weighted 50 or more ("Strong expertise" from 75), a welcomed stage (50 or more), and
//! the preference.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::catalogue::{Covered, CoveredList, Kind, Msg, Strength, Tie, render_all};
use crate::domain::taxonomy::{InquiryType, Locale, Modality, Stage, TherapeuticArea};

/// The seeds of the four founding institutions' routing profiles, keyed by institution id.
pub const INITIAL_PROFILES_JSON: &str = include_str!("initial_profiles.json");

/// The founding institutions' initial routing profiles, keyed by institution id.
pub fn initial_profiles() -> Result<BTreeMap<String, RoutingProfile>, serde_json::Error> {
    serde_json::from_str(INITIAL_PROFILES_JSON)
}

/// Weights at or above this value are worth a sentence in the submitter's reasons.
const REASON_WEIGHT: u8 = 50;
/// Weights at or above this value are described as strong.
const STRONG_WEIGHT: u8 = 75;
/// Largest valid weight or threshold.
pub const MAX_WEIGHT: u8 = 100;
/// Weight shown for criteria that are met or not (inquiry type, preference).
const FULL_MATCH: u8 = 100;

const AREA_FACTOR: u32 = 5;
const MODALITY_FACTOR: u32 = 3;
const STAGE_FACTOR: u32 = 2;

/// How an institution wants inquiries routed to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"accepted_inquiry_types": ["licensing", "clinical_trial"], "therapeutic_area_weights": {"breast": 95, "pediatric": 90}, "modality_weights": {"radiotherapy": 95}, "stage_preferences": {"phase_1": 70}, "threshold": 45}))]
pub struct RoutingProfile {
    /// Inquiry types the institution takes; others never reach it.
    pub accepted_inquiry_types: Vec<InquiryType>,
    /// Strength in each therapeutic area, 0..=100; a missing area counts 0.
    #[serde(deserialize_with = "whole_weights")]
    pub therapeutic_area_weights: BTreeMap<TherapeuticArea, u8>,
    /// Strength in each modality, 0..=100; a missing modality counts 0.
    #[serde(deserialize_with = "whole_weights")]
    pub modality_weights: BTreeMap<Modality, u8>,
    /// Interest in each development stage, 0..=100; empty means no preference (neutral).
    #[serde(default, deserialize_with = "whole_weights")]
    pub stage_preferences: BTreeMap<Stage, u8>,
    /// Minimum score, 0..=100, for the institution to be selected without a preference.
    #[serde(deserialize_with = "whole_weight")]
    pub threshold: u8,
}

/// A weight as JSON Schema's `integer` means it: `45` and `45.0` alike; out of 0..=255 it is a
/// type error (and 101..=255 an `out_of_range` problem).
struct Whole(u8);

impl<'de> Deserialize<'de> for Whole {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Whole;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a whole number from 0 to 100")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Whole, E> {
                u8::try_from(v)
                    .map(Whole)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(v), &self))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Whole, E> {
                u8::try_from(v)
                    .map(Whole)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(v), &self))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Whole, E> {
                if v.fract() == 0.0 && (0.0..=255.0).contains(&v) {
                    Ok(Whole(v as u8))
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Float(v), &self))
                }
            }
        }
        d.deserialize_any(V)
    }
}

fn whole_weight<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    Whole::deserialize(d).map(|w| w.0)
}

fn whole_weights<'de, D, K>(d: D) -> Result<BTreeMap<K, u8>, D::Error>
where
    D: serde::Deserializer<'de>,
    K: Deserialize<'de> + Ord,
{
    let raw: BTreeMap<K, Whole> = BTreeMap::deserialize(d)?;
    Ok(raw.into_iter().map(|(k, w)| (k, w.0)).collect())
}

impl RoutingProfile {
    /// Every validation problem, as (JSON pointer relative to the profile, code, message).
    pub fn problems(&self) -> Vec<(String, &'static str, String)> {
        let mut problems = Vec::new();
        if self.accepted_inquiry_types.is_empty() {
            problems.push((
                "/accepted_inquiry_types".to_owned(),
                "empty",
                "At least one inquiry type must be accepted.".to_owned(),
            ));
        }
        let mut seen = BTreeSet::new();
        for (index, inquiry_type) in self.accepted_inquiry_types.iter().enumerate() {
            if !seen.insert(*inquiry_type) {
                problems.push((
                    format!("/accepted_inquiry_types/{index}"),
                    "duplicate",
                    format!("`{}` is listed more than once.", inquiry_type.as_str()),
                ));
            }
        }
        out_of_range(
            &mut problems,
            "therapeutic_area_weights",
            &self.therapeutic_area_weights,
            |k| k.as_str(),
        );
        out_of_range(
            &mut problems,
            "modality_weights",
            &self.modality_weights,
            |k| k.as_str(),
        );
        out_of_range(
            &mut problems,
            "stage_preferences",
            &self.stage_preferences,
            |k| k.as_str(),
        );
        if self.threshold > MAX_WEIGHT {
            problems.push((
                "/threshold".to_owned(),
                "out_of_range",
                format!(
                    "The threshold ranges from 0 to {MAX_WEIGHT}; got {}.",
                    self.threshold
                ),
            ));
        }
        problems
    }

    fn accepts(&self, inquiry_type: InquiryType) -> bool {
        self.accepted_inquiry_types.contains(&inquiry_type)
    }

    fn area_weight(&self, area: TherapeuticArea) -> u8 {
        clamp(self.therapeutic_area_weights.get(&area).copied())
    }

    fn modality_weight(&self, modality: Modality) -> u8 {
        clamp(self.modality_weights.get(&modality).copied())
    }
}

/// Reports every weight of `weights` above 100, at `/{field}/{key}`.
fn out_of_range<K: Copy>(
    problems: &mut Vec<(String, &'static str, String)>,
    field: &str,
    weights: &BTreeMap<K, u8>,
    wire: impl Fn(K) -> &'static str,
) {
    for (key, weight) in weights {
        if *weight > MAX_WEIGHT {
            problems.push((
                format!("/{field}/{}", wire(*key)),
                "out_of_range",
                format!("Weights range from 0 to {MAX_WEIGHT}; got {weight}."),
            ));
        }
    }
}

fn clamp(weight: Option<u8>) -> u8 {
    weight.unwrap_or(0).min(MAX_WEIGHT)
}

/// What a contact knows about; used to pick the best contact for a referral.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Expertise {
    #[serde(default)]
    pub inquiry_types: Vec<InquiryType>,
    #[serde(default)]
    pub therapeutic_areas: Vec<TherapeuticArea>,
    #[serde(default)]
    pub modalities: Vec<Modality>,
}

/// The part of an inquiry that routing reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RoutingInquiry {
    pub inquiry_type: InquiryType,
    pub therapeutic_areas: Vec<TherapeuticArea>,
    pub modalities: Vec<Modality>,
    pub stage: Stage,
    /// Institution ids (slugs) the submitter asked for; empty means no preference.
    pub preferred_institutions: Vec<String>,
}

/// A contact of an institution, as routing sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContactCandidate {
    pub id: String,
    pub name: String,
    pub active: bool,
    pub expertise: Expertise,
    pub open_referrals: u32,
}

/// An institution, its current routing profile and its contacts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InstitutionCandidate {
    pub id: String,
    pub name: String,
    pub profile: RoutingProfile,
    pub profile_version: i64,
    /// A deactivated institution is never selected (its reason says so).
    pub active: bool,
    pub contacts: Vec<ContactCandidate>,
}

/// Where an inquiry goes, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RoutingOutcome {
    /// Institutions that receive a referral, by score (highest first) then id.
    pub selected: Vec<Selection>,
    /// Every other institution, by id, with the reason.
    pub not_selected: Vec<NotSelected>,
    /// True exactly when `selected` is empty: the operators' desk routes the inquiry.
    pub to_desk: bool,
    /// Why the inquiry went to the desk, for the submitter.
    pub desk_reason: Option<String>,
}

impl RoutingOutcome {
    /// Why the inquiry went to the desk, as a stable code (`None` when something was
    /// selected). `preferred` is the inquiry's `preferred_institutions`. Derived from the
    /// stored facts, so decisions stored before the code existed have one too; `desk_reason`
    /// is this code's [`DeskReasonCode::explanation`].
    /// The routing text of an inquiry, in `locale`, from this stored decision: the desk reason
    /// from its code (when there is one to show), and each referral's reasons from the messages
    /// kept with its selection. A referral whose reasons are not the selection's own (routed by
    /// hand, forwarded) keeps its stored text.
    pub fn localize_text<'a>(
        &self,
        inquiry_type: InquiryType,
        preferred: &[String],
        desk_reason: &mut Option<String>,
        referrals: impl IntoIterator<Item = (&'a str, &'a mut Vec<String>)>,
        locale: Locale,
    ) {
        if desk_reason.is_some()
            && let Some(code) = self.desk_reason_code(preferred)
        {
            *desk_reason = Some(code.explanation_in(inquiry_type, locale));
        }
        for (institution_id, reasons) in referrals {
            if let Some(s) = self
                .selected
                .iter()
                .find(|s| s.institution_id == institution_id && &s.reasons == reasons)
            {
                *reasons = s.reasons_in(locale);
            }
        }
    }

    pub fn desk_reason_code(&self, preferred: &[String]) -> Option<DeskReasonCode> {
        self.selected
            .is_empty()
            .then(|| desk_classify(&self.not_selected, preferred))
    }
}

/// Why an inquiry waits on the operators' desk, for machines (the submitter reads
/// [`DeskReasonCode::explanation`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeskReasonCode {
    /// No institution is set up to receive inquiries (or every one is deactivated).
    NoInstitution,
    /// The submitter asked only for institutions that do not exist or take no new inquiries
    /// (deactivated).
    PreferredUnknown,
    /// The institutions the submitter asked for do not take this type of inquiry.
    PreferredTypeNotAccepted,
    /// Some institutions take this type, but no profile matched closely enough.
    BelowThreshold,
    /// No institution takes this type of inquiry automatically.
    InquiryTypeNotAccepted,
}

impl DeskReasonCode {
    /// The sentence the submitter reads, in English (stored with the decision as
    /// `desk_reason`).
    pub fn explanation(self, inquiry_type: InquiryType) -> String {
        self.explanation_in(inquiry_type, Locale::En)
    }

    /// The sentence the submitter reads, in `locale`.
    pub fn explanation_in(self, inquiry_type: InquiryType, locale: Locale) -> String {
        self.msg(inquiry_type).render(locale)
    }

    fn msg(self, inquiry_type: InquiryType) -> Msg {
        let kind = Kind(inquiry_type);
        match self {
            DeskReasonCode::NoInstitution => Msg::DeskNoInstitution,
            DeskReasonCode::PreferredTypeNotAccepted => Msg::DeskPreferredTypeNotAccepted { kind },
            DeskReasonCode::PreferredUnknown => Msg::DeskPreferredUnknown,
            DeskReasonCode::BelowThreshold => Msg::DeskBelowThreshold,
            DeskReasonCode::InquiryTypeNotAccepted => Msg::DeskTypeNotAccepted { kind },
        }
    }
}

/// An institution that receives a referral.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Selection {
    pub institution_id: String,
    pub institution_name: String,
    pub profile_version: i64,
    pub score: u8,
    pub threshold: u8,
    /// The submitter asked for this institution.
    pub preferred: bool,
    pub matched: Vec<MatchedCriterion>,
    /// The contact assigned, if the institution has an active one.
    pub contact: Option<ContactChoice>,
    pub contact_explanation: String,
    /// Sentences for the submitter, without weights.
    pub reasons: Vec<String>,
    /// `reasons` as catalogue messages, to render them again in the reader's language
    /// (absent from decisions stored before the catalogue).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "lenient"
    )]
    #[schema(ignore)]
    pub reason_msgs: Vec<Msg>,
    /// `contact_explanation` as a catalogue message.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient"
    )]
    #[schema(ignore)]
    pub contact_msg: Option<Msg>,
}

/// A stored message that no longer reads (a key renamed since) is dropped: the stored text
/// is shown instead.
fn lenient<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned + Default,
{
    let value = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(value).unwrap_or_default())
}

impl Selection {
    /// The reasons in `locale` (as stored, when the decision predates the catalogue).
    pub fn reasons_in(&self, locale: Locale) -> Vec<String> {
        if self.reason_msgs.is_empty() {
            return self.reasons.clone();
        }
        self.reason_msgs.iter().map(|m| m.render(locale)).collect()
    }

    /// The contact explanation in `locale`.
    pub fn contact_explanation_in(&self, locale: Locale) -> String {
        self.contact_msg
            .as_ref()
            .map_or_else(|| self.contact_explanation.clone(), |m| m.render(locale))
    }
}

/// What kind of criterion matched.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    InquiryType,
    TherapeuticArea,
    Modality,
    Stage,
    Preference,
}

/// One criterion that contributed to a selection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MatchedCriterion {
    pub criterion: Criterion,
    /// Taxonomy wire value, or institution slug for a preference.
    pub value: String,
    pub weight: u8,
}

/// The contact chosen within a selected institution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContactChoice {
    pub contact_id: String,
    pub contact_name: String,
    pub expertise_matches: u8,
    pub open_referrals: u32,
}

/// Why an institution does not receive a referral.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum NotSelectedReason {
    /// The institution is not taking new inquiries (an operator deactivated it).
    InstitutionInactive,
    InquiryTypeNotAccepted,
    BelowThreshold,
    NotPreferred,
}

/// An institution that does not receive a referral, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NotSelected {
    pub institution_id: String,
    pub institution_name: String,
    pub profile_version: i64,
    pub reason: NotSelectedReason,
    /// Absent when the institution does not accept the inquiry type.
    pub score: Option<u8>,
    pub threshold: u8,
    pub explanation: String,
    /// `explanation` as catalogue messages (its sentences).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "lenient"
    )]
    #[schema(ignore)]
    pub explanation_msgs: Vec<Msg>,
}

impl RoutingOutcome {
    /// Every sentence rendered again in `locale`, from the messages kept with the decision;
    /// the desk reason from its code. `inquiry_type` and `preferred` are the inquiry's.
    pub fn localize(&mut self, inquiry_type: InquiryType, preferred: &[String], locale: Locale) {
        if let Some(code) = self.desk_reason_code(preferred) {
            self.desk_reason = Some(code.explanation_in(inquiry_type, locale));
        }
        for s in &mut self.selected {
            s.reasons = s.reasons_in(locale);
            s.contact_explanation = s.contact_explanation_in(locale);
        }
        for n in &mut self.not_selected {
            if !n.explanation_msgs.is_empty() {
                n.explanation = render_all(&n.explanation_msgs, locale);
            }
        }
    }
}

/// Routes an inquiry: see the module documentation for the rules.
pub fn route(inquiry: &RoutingInquiry, institutions: &[InstitutionCandidate]) -> RoutingOutcome {
    let request = Request::new(inquiry);
    let has_preferences = !inquiry.preferred_institutions.is_empty();
    let mut selected = Vec::new();
    let mut not_selected = Vec::new();

    for institution in institutions {
        let profile = &institution.profile;
        let preferred = inquiry.preferred_institutions.contains(&institution.id);
        let not = |reason, score, msgs: Vec<Msg>| NotSelected {
            institution_id: institution.id.clone(),
            institution_name: institution.name.clone(),
            profile_version: institution.profile_version,
            reason,
            score,
            threshold: profile.threshold,
            explanation: render_all(&msgs, Locale::En),
            explanation_msgs: msgs,
        };
        let name = || institution.name.clone();
        if !institution.active {
            let mut msgs = vec![Msg::NotTakingInquiries {
                institution: name(),
            }];
            if preferred {
                msgs.push(Msg::AskedButCannot);
            }
            not_selected.push(not(NotSelectedReason::InstitutionInactive, None, msgs));
            continue;
        }
        if !profile.accepts(inquiry.inquiry_type) {
            let mut msgs = vec![Msg::DoesNotTake {
                institution: name(),
                kind: Kind(inquiry.inquiry_type),
            }];
            if preferred {
                msgs.push(Msg::AskedButCannot);
            }
            not_selected.push(not(NotSelectedReason::InquiryTypeNotAccepted, None, msgs));
            continue;
        }
        let evaluation = evaluate(&request, profile);
        if has_preferences && !preferred {
            not_selected.push(not(
                NotSelectedReason::NotPreferred,
                Some(evaluation.score),
                vec![Msg::NotAmongAsked {
                    institution: name(),
                }],
            ));
        } else if !has_preferences && evaluation.score < profile.threshold {
            not_selected.push(not(
                NotSelectedReason::BelowThreshold,
                Some(evaluation.score),
                vec![Msg::BelowThreshold {
                    institution: name(),
                }],
            ));
        } else {
            selected.push(select(&request, institution, evaluation, preferred));
        }
    }

    selected.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then_with(|| a.institution_id.cmp(&b.institution_id))
            .then_with(|| a.institution_name.cmp(&b.institution_name))
            .then_with(|| a.profile_version.cmp(&b.profile_version))
    });
    not_selected.sort_by(|a, b| {
        a.institution_id
            .cmp(&b.institution_id)
            .then_with(|| a.institution_name.cmp(&b.institution_name))
            .then_with(|| a.profile_version.cmp(&b.profile_version))
    });

    let desk_reason = selected.is_empty().then(|| {
        desk_classify(&not_selected, &inquiry.preferred_institutions)
            .explanation(inquiry.inquiry_type)
    });
    RoutingOutcome {
        to_desk: selected.is_empty(),
        selected,
        not_selected,
        desk_reason,
    }
}

/// The inquiry, deduplicated and in taxonomy order so that routing ignores listing order.
struct Request<'a> {
    inquiry: &'a RoutingInquiry,
    areas: BTreeSet<TherapeuticArea>,
    modalities: BTreeSet<Modality>,
}

impl<'a> Request<'a> {
    fn new(inquiry: &'a RoutingInquiry) -> Self {
        Request {
            inquiry,
            areas: inquiry.therapeutic_areas.iter().copied().collect(),
            modalities: inquiry.modalities.iter().copied().collect(),
        }
    }
}

/// How one inquiry area matched a profile.
struct AreaMatch {
    /// The inquiry's area.
    asked: TherapeuticArea,
    /// The profile key whose weight counted.
    key: TherapeuticArea,
    weight: u8,
}

/// The score of an accepting institution and what made it.
struct Evaluation {
    score: u8,
    areas: Vec<AreaMatch>,
    modalities: Vec<(Modality, u8)>,
    stage: Option<u8>,
}

/// Scores a profile for an inquiry (the inquiry type gate is checked by the caller).
fn evaluate(request: &Request<'_>, profile: &RoutingProfile) -> Evaluation {
    let asked_areas: Vec<TherapeuticArea> = if request.areas.is_empty() {
        vec![TherapeuticArea::PanTumor]
    } else {
        request.areas.iter().copied().collect()
    };
    let areas: Vec<AreaMatch> = asked_areas
        .into_iter()
        .map(|asked| area_match(asked, profile))
        .collect();
    let modalities: Vec<(Modality, u8)> = request
        .modalities
        .iter()
        .map(|m| (*m, profile.modality_weight(*m)))
        .collect();
    let stage = (!profile.stage_preferences.is_empty()).then(|| {
        clamp(
            profile
                .stage_preferences
                .get(&request.inquiry.stage)
                .copied(),
        )
    });

    let area = areas.iter().map(|m| m.weight).max().unwrap_or(0);
    let mut numerator = AREA_FACTOR * u32::from(area);
    let mut denominator = AREA_FACTOR;
    if let Some(modality) = modalities.iter().map(|(_, w)| *w).max() {
        numerator += MODALITY_FACTOR * u32::from(modality);
        denominator += MODALITY_FACTOR;
    }
    if let Some(stage) = stage {
        numerator += STAGE_FACTOR * u32::from(stage);
        denominator += STAGE_FACTOR;
    }
    let rounded = (2 * numerator + denominator) / (2 * denominator);
    Evaluation {
        score: u8::try_from(rounded).unwrap_or(MAX_WEIGHT).min(MAX_WEIGHT),
        areas,
        modalities,
        stage,
    }
}

fn area_match(asked: TherapeuticArea, profile: &RoutingProfile) -> AreaMatch {
    if asked == TherapeuticArea::PanTumor {
        // The profile's best area, the first in taxonomy order on ties.
        let mut best = (TherapeuticArea::PanTumor, 0);
        for area in TherapeuticArea::ALL {
            let weight = profile.area_weight(*area);
            if weight > best.1 {
                best = (*area, weight);
            }
        }
        return AreaMatch {
            asked,
            key: best.0,
            weight: best.1,
        };
    }
    let direct = profile.area_weight(asked);
    let pan = profile.area_weight(TherapeuticArea::PanTumor);
    let (key, weight) = if direct >= pan {
        (asked, direct)
    } else {
        (TherapeuticArea::PanTumor, pan)
    };
    AreaMatch { asked, key, weight }
}

fn select(
    request: &Request<'_>,
    institution: &InstitutionCandidate,
    evaluation: Evaluation,
    preferred: bool,
) -> Selection {
    let inquiry = request.inquiry;
    let mut matched = vec![MatchedCriterion {
        criterion: Criterion::InquiryType,
        value: inquiry.inquiry_type.as_str().to_owned(),
        weight: FULL_MATCH,
    }];
    let mut reasons = vec![Msg::Accepts {
        institution: institution.name.clone(),
        kind: Kind(inquiry.inquiry_type),
    }];

    let mut area_keys = BTreeSet::new();
    for area in &evaluation.areas {
        if area.weight == 0 {
            continue;
        }
        if area_keys.insert(area.key) {
            matched.push(MatchedCriterion {
                criterion: Criterion::TherapeuticArea,
                value: area.key.as_str().to_owned(),
                weight: area.weight,
            });
        }
        if area.weight >= REASON_WEIGHT {
            let strength = strength(area.weight);
            let sentence = match (
                area.asked == TherapeuticArea::PanTumor,
                area.key == TherapeuticArea::PanTumor,
            ) {
                (true, true) => Msg::AcrossTumourTypes { strength },
                (true, false) => Msg::AreaForPanTumour {
                    strength,
                    area: area.key,
                },
                (false, true) => Msg::AcrossTumourTypesIncluding {
                    strength,
                    area: area.asked,
                },
                (false, false) => Msg::InArea {
                    strength,
                    area: area.asked,
                },
            };
            if !reasons.contains(&sentence) {
                reasons.push(sentence);
            }
        }
    }
    for (modality, weight) in &evaluation.modalities {
        if *weight == 0 {
            continue;
        }
        matched.push(MatchedCriterion {
            criterion: Criterion::Modality,
            value: modality.as_str().to_owned(),
            weight: *weight,
        });
        if *weight >= REASON_WEIGHT {
            reasons.push(Msg::InModality {
                strength: strength(*weight),
                modality: *modality,
            });
        }
    }
    if let Some(weight) = evaluation.stage.filter(|w| *w > 0) {
        matched.push(MatchedCriterion {
            criterion: Criterion::Stage,
            value: inquiry.stage.as_str().to_owned(),
            weight,
        });
        if weight >= REASON_WEIGHT {
            reasons.push(match inquiry.stage {
                Stage::NotApplicable => Msg::WelcomesNoStage,
                stage => Msg::WelcomesStage { stage },
            });
        }
    }
    if preferred {
        matched.push(MatchedCriterion {
            criterion: Criterion::Preference,
            value: institution.id.clone(),
            weight: FULL_MATCH,
        });
        reasons.push(Msg::YouAskedForIt);
    }

    let (contact, contact_msg) = choose_contact(request, institution);
    Selection {
        institution_id: institution.id.clone(),
        institution_name: institution.name.clone(),
        profile_version: institution.profile_version,
        score: evaluation.score,
        threshold: institution.profile.threshold,
        preferred,
        matched,
        contact,
        contact_explanation: contact_msg.render(Locale::En),
        reasons: reasons.iter().map(|m| m.render(Locale::En)).collect(),
        reason_msgs: reasons,
        contact_msg: Some(contact_msg),
    }
}

/// What a contact's expertise covers of the inquiry; its length is the match count.
fn expertise_matches(request: &Request<'_>, expertise: &Expertise) -> Vec<Covered> {
    let mut labels = Vec::new();
    if expertise
        .inquiry_types
        .contains(&request.inquiry.inquiry_type)
    {
        labels.push(Covered::InquiryType);
    }
    for area in &request.areas {
        if expertise.therapeutic_areas.contains(area) {
            labels.push(Covered::Area(*area));
        }
    }
    for modality in &request.modalities {
        if expertise.modalities.contains(modality) {
            labels.push(Covered::Modality(*modality));
        }
    }
    labels
}

fn choose_contact(
    request: &Request<'_>,
    institution: &InstitutionCandidate,
) -> (Option<ContactChoice>, Msg) {
    let mut candidates: Vec<(usize, &ContactCandidate, Vec<Covered>)> = institution
        .contacts
        .iter()
        .filter(|c| c.active)
        .map(|c| {
            let labels = expertise_matches(request, &c.expertise);
            (labels.len(), c, labels)
        })
        .collect();
    // Best first: most matches, fewest open referrals, then name and id for a stable order.
    candidates.sort_by(|(ma, a, _), (mb, b, _)| {
        (Reverse(*ma), a.open_referrals, &a.name, &a.id).cmp(&(
            Reverse(*mb),
            b.open_referrals,
            &b.name,
            &b.id,
        ))
    });

    let Some((matches, chosen, labels)) = candidates.first() else {
        let institution_name = institution.name.clone();
        let situation = if institution.contacts.is_empty() {
            Msg::NoContactRegistered {
                institution: institution_name,
            }
        } else {
            Msg::NoActiveContact {
                institution: institution_name,
            }
        };
        return (None, situation);
    };

    let others = &candidates[1..];
    let equally_matched: Vec<&ContactCandidate> = others
        .iter()
        .filter(|(m, _, _)| m == matches)
        .map(|(_, c, _)| *c)
        .collect();
    let tie = if others.is_empty() {
        Tie::OnlyContact
    } else if equally_matched.is_empty() {
        Tie::BestMatch
    } else if equally_matched
        .iter()
        .all(|c| c.open_referrals > chosen.open_referrals)
    {
        Tie::FewestOpen
    } else {
        Tie::Alphabetical
    };
    let explanation = if labels.is_empty() {
        Msg::ContactWithoutMatch {
            contact: chosen.name.clone(),
            tie,
        }
    } else {
        Msg::ContactCovers {
            contact: chosen.name.clone(),
            covers: CoveredList(labels.clone()),
            tie,
        }
    };

    let choice = ContactChoice {
        contact_id: chosen.id.clone(),
        contact_name: chosen.name.clone(),
        expertise_matches: u8::try_from(*matches).unwrap_or(u8::MAX),
        open_referrals: chosen.open_referrals,
    };
    (Some(choice), explanation)
}

/// Why nothing was selected, read from the institutions that were not (when nothing is
/// selected, every institution is among them): the same classification for a routing being
/// made and for a decision stored long ago.
fn desk_classify(not_selected: &[NotSelected], preferred: &[String]) -> DeskReasonCode {
    // A deactivated institution is not available, whatever its profile says.
    let not_selected: Vec<&NotSelected> = not_selected
        .iter()
        .filter(|n| n.reason != NotSelectedReason::InstitutionInactive)
        .collect();
    if not_selected.is_empty() {
        DeskReasonCode::NoInstitution
    } else if !preferred.is_empty() {
        if not_selected
            .iter()
            .any(|n| preferred.contains(&n.institution_id))
        {
            DeskReasonCode::PreferredTypeNotAccepted
        } else {
            DeskReasonCode::PreferredUnknown
        }
    } else if not_selected
        .iter()
        .any(|n| n.reason != NotSelectedReason::InquiryTypeNotAccepted)
    {
        DeskReasonCode::BelowThreshold
    } else {
        DeskReasonCode::InquiryTypeNotAccepted
    }
}

fn strength(weight: u8) -> Strength {
    if weight >= STRONG_WEIGHT {
        Strength::Strong
    } else {
        Strength::Some
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use proptest::prelude::*;
    use proptest::sample::{select, subsequence};

    use InquiryType as T;
    use Modality as M;
    use NotSelectedReason as R;
    use Stage as S;
    use TherapeuticArea as A;

    const DESK: &str = "Our operators will route it by hand.";

    fn seeds() -> BTreeMap<String, RoutingProfile> {
        initial_profiles().expect("initial_profiles.json is a map of valid profiles")
    }

    fn contact(
        id: &str,
        name: &str,
        active: bool,
        expertise: Expertise,
        open: u32,
    ) -> ContactCandidate {
        ContactCandidate {
            id: id.to_owned(),
            name: name.to_owned(),
            active,
            expertise,
            open_referrals: open,
        }
    }

    fn generalist(id: &str) -> ContactCandidate {
        contact(id, "Desk Officer", true, Expertise::default(), 0)
    }

    /// The four founding institutions with their seeded profiles and one active contact each.
    fn founders() -> Vec<InstitutionCandidate> {
        let names = [
            ("aphp", "AP-HP"),
            ("curie", "Institut Curie"),
            ("pasteur", "Institut Pasteur"),
            ("gustave-roussy", "Gustave Roussy"),
        ];
        let mut seeds = seeds();
        names
            .iter()
            .map(|(id, name)| InstitutionCandidate {
                id: (*id).to_owned(),
                name: (*name).to_owned(),
                profile: seeds
                    .remove(*id)
                    .expect("every founder has a seeded profile"),
                profile_version: 1,
                active: true,
                contacts: vec![generalist(&format!("{id}-bd"))],
            })
            .collect()
    }

    fn inquiry(t: InquiryType, areas: &[A], modalities: &[M], stage: Stage) -> RoutingInquiry {
        RoutingInquiry {
            inquiry_type: t,
            therapeutic_areas: areas.to_vec(),
            modalities: modalities.to_vec(),
            stage,
            preferred_institutions: Vec::new(),
        }
    }

    fn preferring(mut inquiry: RoutingInquiry, ids: &[&str]) -> RoutingInquiry {
        inquiry.preferred_institutions = ids.iter().map(|id| (*id).to_owned()).collect();
        inquiry
    }

    fn selected_ids(outcome: &RoutingOutcome) -> Vec<&str> {
        outcome
            .selected
            .iter()
            .map(|s| s.institution_id.as_str())
            .collect()
    }

    fn selection<'a>(outcome: &'a RoutingOutcome, id: &str) -> &'a Selection {
        outcome
            .selected
            .iter()
            .find(|s| s.institution_id == id)
            .unwrap_or_else(|| panic!("{id} should be selected: {outcome:#?}"))
    }

    // ---------------------------------------------------------------- seeds

    #[test]
    fn seeded_profiles_cover_the_four_founders_and_are_valid() {
        let seeds = seeds();
        let ids: Vec<&str> = seeds.keys().map(String::as_str).collect();
        assert_eq!(ids, ["aphp", "curie", "gustave-roussy", "pasteur"]);
        for (id, profile) in &seeds {
            assert_eq!(profile.problems(), Vec::new(), "{id}");
            assert!((40..=55).contains(&profile.threshold), "{id}");
            assert!(!profile.accepts(T::Other), "{id}: `other` goes to the desk");
        }
        assert!(!seeds["pasteur"].accepts(T::ClinicalTrial));
        assert!(seeds["aphp"].accepts(T::ClinicalTrial));
    }

    #[test]
    fn a_profile_with_an_unknown_field_is_refused() {
        let json = r#"{"accepted_inquiry_types":["licensing"],"therapeutic_area_weights":{},
            "modality_weights":{},"threshold":50,"thresold":40}"#;
        assert!(serde_json::from_str::<RoutingProfile>(json).is_err());
    }

    #[test]
    fn stage_preferences_are_optional_in_a_profile() {
        let json = r#"{"accepted_inquiry_types":["licensing"],
            "therapeutic_area_weights":{"breast":80},"modality_weights":{"adc":70},"threshold":50}"#;
        let profile: RoutingProfile = serde_json::from_str(json).unwrap();
        assert!(profile.stage_preferences.is_empty());
        assert_eq!(profile.therapeutic_area_weights[&A::Breast], 80);
    }

    // ---------------------------------------------------------------- problems()

    fn valid_profile() -> RoutingProfile {
        RoutingProfile {
            accepted_inquiry_types: vec![T::Licensing],
            therapeutic_area_weights: BTreeMap::from([(A::Breast, 100)]),
            modality_weights: BTreeMap::from([(M::Adc, 0)]),
            stage_preferences: BTreeMap::new(),
            threshold: 100,
        }
    }

    fn codes(profile: &RoutingProfile) -> Vec<(String, &'static str)> {
        profile
            .problems()
            .into_iter()
            .map(|(pointer, code, message)| {
                assert!(!message.is_empty());
                (pointer, code)
            })
            .collect()
    }

    #[test]
    fn a_valid_profile_has_no_problem() {
        assert_eq!(valid_profile().problems(), Vec::new());
    }

    #[test]
    fn problems_catch_out_of_range_weights_and_threshold() {
        let mut profile = valid_profile();
        profile.therapeutic_area_weights.insert(A::Lung, 101);
        profile.modality_weights.insert(M::Adc, 200);
        profile.stage_preferences.insert(S::Phase1, 255);
        profile.threshold = 101;
        assert_eq!(
            codes(&profile),
            [
                ("/therapeutic_area_weights/lung".to_owned(), "out_of_range"),
                ("/modality_weights/adc".to_owned(), "out_of_range"),
                ("/stage_preferences/phase_1".to_owned(), "out_of_range"),
                ("/threshold".to_owned(), "out_of_range"),
            ]
        );
    }

    #[test]
    fn problems_catch_empty_accepted_types() {
        let mut profile = valid_profile();
        profile.accepted_inquiry_types.clear();
        assert_eq!(
            codes(&profile),
            [("/accepted_inquiry_types".to_owned(), "empty")]
        );
    }

    #[test]
    fn problems_catch_duplicate_accepted_types() {
        let mut profile = valid_profile();
        profile.accepted_inquiry_types =
            vec![T::Licensing, T::DataAccess, T::Licensing, T::Licensing];
        assert_eq!(
            codes(&profile),
            [
                ("/accepted_inquiry_types/2".to_owned(), "duplicate"),
                ("/accepted_inquiry_types/3".to_owned(), "duplicate"),
            ]
        );
    }

    // ---------------------------------------------------------------- score formula

    fn profile(areas: &[(A, u8)], modalities: &[(M, u8)], stages: &[(S, u8)]) -> RoutingProfile {
        RoutingProfile {
            accepted_inquiry_types: T::ALL.to_vec(),
            therapeutic_area_weights: areas.iter().copied().collect(),
            modality_weights: modalities.iter().copied().collect(),
            stage_preferences: stages.iter().copied().collect(),
            threshold: 0,
        }
    }

    fn score(inquiry: &RoutingInquiry, profile: &RoutingProfile) -> u8 {
        evaluate(&Request::new(inquiry), profile).score
    }

    #[test]
    fn score_is_the_rounded_weighted_mean_of_area_modality_and_stage() {
        let p = profile(&[(A::Breast, 80)], &[(M::Adc, 60)], &[(S::Phase1, 90)]);
        // (5*80 + 3*60 + 2*90) / 10 = 76
        assert_eq!(
            score(
                &inquiry(T::Licensing, &[A::Breast], &[M::Adc], S::Phase1),
                &p
            ),
            76
        );
        // Best area and best modality count: (5*80 + 3*60 + 2*0) / 10 = 58
        let i = inquiry(
            T::Licensing,
            &[A::Lung, A::Breast],
            &[M::Imaging, M::Adc],
            S::Phase2,
        );
        assert_eq!(score(&i, &p), 58);
        // Half rounds up: (5*81 + 3*0 + 2*0) / 10 = 40.5 -> 41
        let p = profile(&[(A::Breast, 81)], &[], &[(S::Phase1, 0)]);
        assert_eq!(
            score(
                &inquiry(T::Licensing, &[A::Breast], &[M::Adc], S::Phase1),
                &p
            ),
            41
        );
    }

    #[test]
    fn an_inquiry_without_modality_is_not_penalised() {
        let p = profile(&[(A::Breast, 80)], &[], &[(S::Phase1, 94)]);
        // (5*80 + 2*94) / 7 = 84
        assert_eq!(
            score(&inquiry(T::Licensing, &[A::Breast], &[], S::Phase1), &p),
            84
        );
    }

    #[test]
    fn a_profile_without_stage_preferences_is_neutral_on_stage() {
        let p = profile(&[(A::Breast, 80)], &[(M::Adc, 40)], &[]);
        // (5*80 + 3*40) / 8 = 65
        for stage in S::ALL {
            assert_eq!(
                score(&inquiry(T::Licensing, &[A::Breast], &[M::Adc], *stage), &p),
                65
            );
        }
        // Nothing but the area: the area weight itself.
        assert_eq!(
            score(&inquiry(T::Licensing, &[A::Breast], &[], S::Discovery), &p),
            80
        );
    }

    #[test]
    fn a_pan_tumour_profile_covers_every_area() {
        let p = profile(&[(A::PanTumor, 70), (A::Lung, 90)], &[], &[]);
        assert_eq!(
            score(&inquiry(T::Licensing, &[A::Sarcoma], &[], S::Discovery), &p),
            70
        );
        assert_eq!(
            score(&inquiry(T::Licensing, &[A::Lung], &[], S::Discovery), &p),
            90
        );
    }

    #[test]
    fn a_pan_tumour_inquiry_counts_the_profiles_best_area() {
        let p = profile(&[(A::Breast, 95), (A::PanTumor, 40)], &[], &[]);
        let i = inquiry(T::Licensing, &[A::PanTumor], &[], S::Discovery);
        assert_eq!(score(&i, &p), 95);
        // No area at all reads as pan-tumour.
        assert_eq!(
            score(&inquiry(T::Licensing, &[], &[], S::Discovery), &p),
            95
        );
        let empty = profile(&[], &[], &[]);
        assert_eq!(score(&i, &empty), 0);
    }

    #[test]
    fn weights_above_100_are_clamped() {
        let p = profile(&[(A::Breast, 255)], &[(M::Adc, 200)], &[(S::Phase1, 101)]);
        assert_eq!(
            score(
                &inquiry(T::Licensing, &[A::Breast], &[M::Adc], S::Phase1),
                &p
            ),
            100
        );
    }

    // ---------------------------------------------------------------- table of realistic inquiries

    struct Case {
        name: &'static str,
        inquiry: RoutingInquiry,
        first: Option<&'static str>,
        selected: &'static [&'static str],
        not_selected: &'static [(&'static str, NotSelectedReason)],
        reasons: &'static [(&'static str, &'static str)],
        desk: Option<&'static str>,
    }

    fn cases() -> Vec<Case> {
        vec![
            Case {
                name: "radiopharmaceutical phase 1 trial in prostate",
                inquiry: inquiry(
                    T::ClinicalTrial,
                    &[A::Prostate],
                    &[M::Radiopharmaceutical],
                    S::Phase1,
                ),
                first: Some("gustave-roussy"),
                selected: &["gustave-roussy"],
                not_selected: &[("pasteur", R::InquiryTypeNotAccepted)],
                reasons: &[
                    (
                        "gustave-roussy",
                        "Gustave Roussy accepts inquiries for clinical trial placement.",
                    ),
                    ("gustave-roussy", "Strong expertise in Radiopharmaceutical."),
                    ("gustave-roussy", "Welcomes projects at the Phase 1 stage."),
                ],
                desk: None,
            },
            Case {
                name: "pediatric cell therapy licensing",
                inquiry: inquiry(
                    T::Licensing,
                    &[A::Pediatric],
                    &[M::CellTherapy],
                    S::Preclinical,
                ),
                first: None,
                selected: &["curie", "aphp"],
                not_selected: &[("pasteur", R::BelowThreshold)],
                reasons: &[
                    (
                        "curie",
                        "Institut Curie accepts inquiries for licensing of an asset or technology.",
                    ),
                    ("curie", "Strong expertise in Pediatric cancers."),
                    ("aphp", "Strong expertise in Pediatric cancers."),
                    ("aphp", "Strong expertise in Cell therapy."),
                ],
                desk: None,
            },
            Case {
                name: "microbiome data access in colorectal",
                inquiry: inquiry(
                    T::DataAccess,
                    &[A::Colorectal],
                    &[M::Microbiome, M::DataRwe],
                    S::NotApplicable,
                ),
                first: None,
                selected: &["pasteur", "aphp"],
                not_selected: &[("curie", R::BelowThreshold)],
                reasons: &[
                    (
                        "pasteur",
                        "Institut Pasteur accepts inquiries for access to data or biobanks.",
                    ),
                    ("pasteur", "Strong expertise in Microbiome."),
                    ("aphp", "Strong expertise in Data and real-world evidence."),
                ],
                desk: None,
            },
            Case {
                name: "breast radiotherapy sponsored research",
                inquiry: inquiry(
                    T::SponsoredResearch,
                    &[A::Breast],
                    &[M::Radiotherapy],
                    S::Preclinical,
                ),
                first: Some("curie"),
                selected: &["curie"],
                not_selected: &[("pasteur", R::BelowThreshold)],
                reasons: &[
                    (
                        "curie",
                        "Institut Curie accepts inquiries for sponsored research.",
                    ),
                    ("curie", "Strong expertise in Breast."),
                    ("curie", "Strong expertise in Radiotherapy."),
                ],
                desk: None,
            },
            Case {
                name: "infection-linked liver cancer vaccine at discovery",
                inquiry: inquiry(
                    T::CoDevelopment,
                    &[A::Digestive],
                    &[M::VaccineImmunotherapy],
                    S::Discovery,
                ),
                first: Some("pasteur"),
                selected: &["pasteur"],
                not_selected: &[],
                reasons: &[("pasteur", "Strong expertise in Vaccine or immunotherapy.")],
                desk: None,
            },
            Case {
                name: "pan-tumour early-phase trial",
                inquiry: inquiry(T::ClinicalTrial, &[A::PanTumor], &[], S::Phase1),
                first: Some("gustave-roussy"),
                selected: &["gustave-roussy"],
                not_selected: &[("pasteur", R::InquiryTypeNotAccepted)],
                reasons: &[(
                    "gustave-roussy",
                    "Strong expertise in Lung, relevant to a pan-tumour inquiry.",
                )],
                desk: None,
            },
            Case {
                name: "an inquiry type nobody accepts",
                inquiry: inquiry(T::Other, &[A::Breast], &[], S::NotApplicable),
                first: None,
                selected: &[],
                not_selected: &[
                    ("aphp", R::InquiryTypeNotAccepted),
                    ("curie", R::InquiryTypeNotAccepted),
                    ("gustave-roussy", R::InquiryTypeNotAccepted),
                    ("pasteur", R::InquiryTypeNotAccepted),
                ],
                reasons: &[],
                desk: Some("No institution takes inquiries of other kinds automatically."),
            },
            Case {
                name: "a combination below every threshold",
                inquiry: inquiry(
                    T::Investment,
                    &[A::ThyroidEndocrine],
                    &[M::MedicalDevice],
                    S::Discovery,
                ),
                first: None,
                selected: &[],
                not_selected: &[
                    ("aphp", R::BelowThreshold),
                    ("curie", R::BelowThreshold),
                    ("gustave-roussy", R::BelowThreshold),
                    ("pasteur", R::BelowThreshold),
                ],
                reasons: &[],
                desk: Some("No institution's profile matches this inquiry closely enough"),
            },
            Case {
                name: "preferences restrict to one institution",
                inquiry: preferring(
                    inquiry(
                        T::Licensing,
                        &[A::Pediatric],
                        &[M::CellTherapy],
                        S::Preclinical,
                    ),
                    &["curie"],
                ),
                first: Some("curie"),
                selected: &["curie"],
                not_selected: &[
                    ("aphp", R::NotPreferred),
                    ("gustave-roussy", R::NotPreferred),
                    ("pasteur", R::NotPreferred),
                ],
                reasons: &[("curie", "You asked for this institution.")],
                desk: None,
            },
            Case {
                name: "a preferred institution is selected whatever its score",
                inquiry: preferring(
                    inquiry(
                        T::Investment,
                        &[A::ThyroidEndocrine],
                        &[M::MedicalDevice],
                        S::Discovery,
                    ),
                    &["pasteur"],
                ),
                first: Some("pasteur"),
                selected: &["pasteur"],
                not_selected: &[("aphp", R::NotPreferred), ("curie", R::NotPreferred)],
                reasons: &[
                    (
                        "pasteur",
                        "Institut Pasteur accepts inquiries for investment or spin-off funding.",
                    ),
                    ("pasteur", "You asked for this institution."),
                ],
                desk: None,
            },
            Case {
                name: "a preferred institution that refuses the type is explained",
                inquiry: preferring(
                    inquiry(
                        T::ClinicalTrial,
                        &[A::Digestive],
                        &[M::VaccineImmunotherapy],
                        S::Phase1,
                    ),
                    &["pasteur", "gustave-roussy"],
                ),
                first: Some("gustave-roussy"),
                selected: &["gustave-roussy"],
                not_selected: &[
                    ("aphp", R::NotPreferred),
                    ("curie", R::NotPreferred),
                    ("pasteur", R::InquiryTypeNotAccepted),
                ],
                reasons: &[("gustave-roussy", "You asked for this institution.")],
                desk: None,
            },
            Case {
                name: "no preferred institution accepts the type",
                inquiry: preferring(
                    inquiry(T::ClinicalTrial, &[A::Digestive], &[], S::Phase1),
                    &["pasteur"],
                ),
                first: None,
                selected: &[],
                not_selected: &[
                    ("pasteur", R::InquiryTypeNotAccepted),
                    ("aphp", R::NotPreferred),
                ],
                reasons: &[],
                desk: Some(
                    "None of the institutions you asked for takes inquiries for clinical trial placement.",
                ),
            },
        ]
    }

    #[test]
    fn realistic_inquiries_are_routed_as_the_institutions_would_expect() {
        let institutions = founders();
        for case in cases() {
            let outcome = route(&case.inquiry, &institutions);
            let name = case.name;
            let ids = selected_ids(&outcome);
            if let Some(first) = case.first {
                assert_eq!(ids.first(), Some(&first), "{name}: {outcome:#?}");
            }
            for id in case.selected {
                assert!(ids.contains(id), "{name}: {id} not selected: {outcome:#?}");
            }
            for (id, reason) in case.not_selected {
                let found = outcome
                    .not_selected
                    .iter()
                    .find(|n| n.institution_id == *id);
                let found = found.unwrap_or_else(|| panic!("{name}: {id} selected: {outcome:#?}"));
                assert_eq!(found.reason, *reason, "{name}: {id}");
                assert!(!found.explanation.is_empty(), "{name}: {id}");
                assert_eq!(
                    found.score.is_none(),
                    *reason == R::InquiryTypeNotAccepted,
                    "{name}"
                );
            }
            for (id, sentence) in case.reasons {
                let reasons = &selection(&outcome, id).reasons;
                assert!(
                    reasons.iter().any(|r| r == sentence),
                    "{name}: {id}: {reasons:#?}"
                );
            }
            match case.desk {
                Some(expected) => {
                    assert!(outcome.to_desk && ids.is_empty(), "{name}: {outcome:#?}");
                    let reason = outcome.desk_reason.clone().unwrap_or_default();
                    assert!(reason.contains(expected), "{name}: {reason}");
                    assert!(reason.ends_with(DESK), "{name}: {reason}");
                }
                None => assert!(!outcome.to_desk && outcome.desk_reason.is_none(), "{name}"),
            }
            let preferences = &case.inquiry.preferred_institutions;
            for selected in &outcome.selected {
                assert_eq!(
                    selected.preferred,
                    preferences.contains(&selected.institution_id)
                );
                assert!(
                    selected.contact.is_some(),
                    "{name}: every founder has an active contact"
                );
                assert!(
                    selected
                        .reasons
                        .iter()
                        .all(|r| !r.contains(&selected.score.to_string())),
                    "{name}: reasons show no score"
                );
            }
        }
    }

    #[test]
    fn a_preferred_institution_refusing_the_type_says_so() {
        let i = preferring(
            inquiry(T::ClinicalTrial, &[A::Digestive], &[], S::Phase1),
            &["pasteur"],
        );
        let outcome = route(&i, &founders());
        let pasteur = outcome
            .not_selected
            .iter()
            .find(|n| n.institution_id == "pasteur")
            .unwrap();
        assert_eq!(
            pasteur.explanation,
            "Institut Pasteur does not take inquiries for clinical trial placement. \
             You asked for it, but it cannot receive this inquiry."
        );
    }

    #[test]
    fn preferences_naming_no_known_institution_go_to_the_desk() {
        let i = preferring(
            inquiry(T::Licensing, &[A::Breast], &[], S::Phase1),
            &["elsewhere"],
        );
        let outcome = route(&i, &founders());
        assert!(outcome.to_desk);
        assert_eq!(
            outcome.desk_reason.as_deref(),
            Some(
                "None of the institutions you asked for is available. Our operators will route it by hand."
            )
        );
        assert!(
            outcome
                .not_selected
                .iter()
                .all(|n| n.reason == R::NotPreferred)
        );
    }

    #[test]
    fn a_preferred_institution_below_its_threshold_is_still_selected() {
        let i = preferring(
            inquiry(
                T::Investment,
                &[A::ThyroidEndocrine],
                &[M::MedicalDevice],
                S::Discovery,
            ),
            &["pasteur"],
        );
        let outcome = route(&i, &founders());
        let pasteur = selection(&outcome, "pasteur");
        assert!(pasteur.preferred && pasteur.score < pasteur.threshold);
        assert!(pasteur.matched.contains(&MatchedCriterion {
            criterion: Criterion::Preference,
            value: "pasteur".into(),
            weight: 100,
        }));
    }

    #[test]
    fn each_way_to_the_desk_has_its_code() {
        use DeskReasonCode as D;
        let table = [
            (
                inquiry(T::Licensing, &[A::Breast], &[], S::Phase1),
                vec![],
                Some(D::NoInstitution),
            ),
            (
                preferring(
                    inquiry(T::Licensing, &[A::Breast], &[], S::Phase1),
                    &["elsewhere"],
                ),
                founders(),
                Some(D::PreferredUnknown),
            ),
            (
                preferring(
                    inquiry(T::ClinicalTrial, &[A::Digestive], &[], S::Phase1),
                    &["pasteur"],
                ),
                founders(),
                Some(D::PreferredTypeNotAccepted),
            ),
            (
                inquiry(
                    T::Investment,
                    &[A::ThyroidEndocrine],
                    &[M::MedicalDevice],
                    S::Discovery,
                ),
                founders(),
                Some(D::BelowThreshold),
            ),
            (
                inquiry(T::Other, &[A::Breast], &[], S::NotApplicable),
                founders(),
                Some(D::InquiryTypeNotAccepted),
            ),
            (
                inquiry(T::ClinicalTrial, &[A::Prostate], &[], S::Phase1),
                founders(),
                None,
            ),
        ];
        for (i, institutions, code) in table {
            let outcome = route(&i, &institutions);
            assert_eq!(
                outcome.desk_reason_code(&i.preferred_institutions),
                code,
                "{i:?}"
            );
            assert_eq!(
                code.map(|c| c.explanation(i.inquiry_type)),
                outcome.desk_reason,
                "{i:?}"
            );
        }
    }

    #[test]
    fn no_institution_at_all_goes_to_the_desk() {
        let outcome = route(&inquiry(T::Licensing, &[A::Breast], &[], S::Phase1), &[]);
        assert!(outcome.to_desk && outcome.selected.is_empty() && outcome.not_selected.is_empty());
        assert!(outcome.desk_reason.unwrap().ends_with(DESK));
    }

    #[test]
    fn selected_are_ordered_by_score_then_id_and_not_selected_by_id() {
        let base = profile(&[(A::Breast, 80)], &[], &[]);
        let low = profile(&[(A::Breast, 60)], &[], &[]);
        let institution = |id: &str, profile: &RoutingProfile| InstitutionCandidate {
            id: id.to_owned(),
            name: "Institution".to_owned(),
            profile: profile.clone(),
            profile_version: 3,
            active: true,
            contacts: Vec::new(),
        };
        let mut refusing = base.clone();
        refusing.accepted_inquiry_types = vec![T::DataAccess];
        let institutions = [
            institution("zeta", &low),
            institution("beta", &base),
            institution("alpha", &base),
            institution("yak", &refusing),
            institution("xi", &refusing),
        ];
        let outcome = route(
            &inquiry(T::Licensing, &[A::Breast], &[], S::Phase1),
            &institutions,
        );
        assert_eq!(selected_ids(&outcome), ["alpha", "beta", "zeta"]);
        let not: Vec<&str> = outcome
            .not_selected
            .iter()
            .map(|n| n.institution_id.as_str())
            .collect();
        assert_eq!(not, ["xi", "yak"]);
        let alpha = &outcome.selected[0];
        assert_eq!(
            (alpha.score, alpha.threshold, alpha.profile_version),
            (80, 0, 3)
        );
        assert_eq!(
            alpha.matched,
            [
                MatchedCriterion {
                    criterion: Criterion::InquiryType,
                    value: "licensing".into(),
                    weight: 100
                },
                MatchedCriterion {
                    criterion: Criterion::TherapeuticArea,
                    value: "breast".into(),
                    weight: 80
                },
            ]
        );
    }

    #[test]
    fn outcome_serializes_with_snake_case_enums_and_round_trips() {
        let i = preferring(
            inquiry(T::ClinicalTrial, &[A::Lung], &[M::Adc], S::Phase1),
            &["gustave-roussy", "pasteur"],
        );
        let outcome = route(&i, &founders());
        let json = serde_json::to_value(&outcome).unwrap();
        assert_eq!(
            json["selected"][0]["matched"][0]["criterion"],
            "inquiry_type"
        );
        let reasons: Vec<&str> = json["not_selected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["reason"].as_str().unwrap())
            .collect();
        assert_eq!(
            reasons,
            [
                "not_preferred",
                "not_preferred",
                "inquiry_type_not_accepted"
            ]
        );
        let back: RoutingOutcome = serde_json::from_value(json).unwrap();
        assert_eq!(back, outcome);
    }

    // ---------------------------------------------------------------- contact choice

    fn expertise(types: &[T], areas: &[A], modalities: &[M]) -> Expertise {
        Expertise {
            inquiry_types: types.to_vec(),
            therapeutic_areas: areas.to_vec(),
            modalities: modalities.to_vec(),
        }
    }

    fn route_to_contacts(contacts: Vec<ContactCandidate>) -> Selection {
        let institution = InstitutionCandidate {
            id: "curie".into(),
            name: "Institut Curie".into(),
            profile: profile(&[(A::Breast, 90)], &[], &[]),
            profile_version: 1,
            active: true,
            contacts,
        };
        let i = inquiry(
            T::Licensing,
            &[A::Breast, A::SkinMelanoma],
            &[M::Adc],
            S::Phase1,
        );
        let outcome = route(&i, &[institution]);
        outcome
            .selected
            .into_iter()
            .next()
            .expect("the institution is selected")
    }

    #[test]
    fn the_best_expertise_match_wins() {
        let chosen = route_to_contacts(vec![
            contact("c1", "Ana", true, expertise(&[T::Licensing], &[], &[]), 0),
            contact(
                "c2",
                "Ben",
                true,
                expertise(&[T::Licensing], &[A::Breast], &[M::Adc]),
                9,
            ),
            contact("c3", "Cleo", true, expertise(&[], &[A::Lung], &[]), 0),
        ]);
        let choice = chosen.contact.unwrap();
        assert_eq!(
            (
                choice.contact_id.as_str(),
                choice.expertise_matches,
                choice.open_referrals
            ),
            ("c2", 3, 9)
        );
        assert_eq!(
            chosen.contact_explanation,
            "Ben was chosen because their expertise covers this type of inquiry, Breast and \
             Antibody-drug conjugate, the best match among the institution's active contacts."
        );
    }

    #[test]
    fn equal_matches_go_to_the_contact_with_fewer_open_referrals() {
        let e = expertise(&[], &[A::Breast], &[]);
        let chosen = route_to_contacts(vec![
            contact("c1", "Ana", true, e.clone(), 4),
            contact("c2", "Ben", true, e.clone(), 1),
            contact("c3", "Cleo", true, e, 2),
        ]);
        assert_eq!(chosen.contact.unwrap().contact_id, "c2");
        assert!(
            chosen
                .contact_explanation
                .ends_with("they have the fewest open referrals.")
        );
    }

    #[test]
    fn equal_matches_and_load_go_by_name_then_id() {
        let e = expertise(&[T::Licensing], &[], &[]);
        let chosen = route_to_contacts(vec![
            contact("c9", "Ben", true, e.clone(), 1),
            contact("c7", "Ana", true, e.clone(), 1),
            contact("c5", "Ana", true, e.clone(), 1),
        ]);
        assert_eq!(chosen.contact.unwrap().contact_id, "c5");
        assert!(
            chosen
                .contact_explanation
                .ends_with("they come first in alphabetical order.")
        );
        let chosen = route_to_contacts(vec![
            contact("c9", "Ben", true, e.clone(), 1),
            contact("c7", "Ana", true, e, 1),
        ]);
        assert_eq!(chosen.contact.unwrap().contact_id, "c7");
    }

    #[test]
    fn an_inactive_contact_is_never_chosen_even_as_best_match() {
        let chosen = route_to_contacts(vec![
            contact(
                "c1",
                "Ana",
                false,
                expertise(&[T::Licensing], &[A::Breast], &[M::Adc]),
                0,
            ),
            contact("c2", "Ben", true, Expertise::default(), 12),
        ]);
        let choice = chosen.contact.unwrap();
        assert_eq!(
            (choice.contact_id.as_str(), choice.expertise_matches),
            ("c2", 0)
        );
        assert_eq!(
            chosen.contact_explanation,
            "Ben was chosen although no active contact's expertise matches this inquiry \
             specifically, and they are the institution's only active contact."
        );
    }

    #[test]
    fn without_an_active_contact_the_referral_is_unassigned() {
        let chosen = route_to_contacts(vec![contact(
            "c1",
            "Ana",
            false,
            expertise(&[T::Licensing], &[A::Breast], &[]),
            0,
        )]);
        assert_eq!(chosen.contact, None);
        assert_eq!(
            chosen.contact_explanation,
            "Institut Curie has no active contact at the moment: the referral is unassigned and \
             the institution's team will assign it."
        );
        let chosen = route_to_contacts(Vec::new());
        assert_eq!(chosen.contact, None);
        assert!(
            chosen
                .contact_explanation
                .contains("the referral is unassigned")
        );
    }

    // ---------------------------------------------------------------- properties

    const NAMES: [&str; 3] = ["Ana", "Ben", "Cleo"];

    fn arb_profile() -> impl Strategy<Value = RoutingProfile> {
        (
            subsequence(T::ALL.to_vec(), 0..=T::ALL.len()),
            prop::collection::btree_map(select(A::ALL), any::<u8>(), 0..8),
            prop::collection::btree_map(select(M::ALL), any::<u8>(), 0..8),
            prop::collection::btree_map(select(S::ALL), 0..=100u8, 0..4),
            0..=110u8,
        )
            .prop_map(
                |(types, areas, modalities, stages, threshold)| RoutingProfile {
                    accepted_inquiry_types: types,
                    therapeutic_area_weights: areas,
                    modality_weights: modalities,
                    stage_preferences: stages,
                    threshold,
                },
            )
    }

    fn arb_expertise() -> impl Strategy<Value = Expertise> {
        (
            subsequence(T::ALL.to_vec(), 0..=2),
            subsequence(A::ALL.to_vec(), 0..=3),
            subsequence(M::ALL.to_vec(), 0..=3),
        )
            .prop_map(|(inquiry_types, therapeutic_areas, modalities)| Expertise {
                inquiry_types,
                therapeutic_areas,
                modalities,
            })
    }

    fn arb_contacts() -> impl Strategy<Value = Vec<ContactCandidate>> {
        prop::collection::vec(
            (select(&NAMES[..]), any::<bool>(), arb_expertise(), 0..3u32),
            0..5,
        )
        .prop_map(|contacts| {
            contacts
                .into_iter()
                .enumerate()
                .map(|(n, (name, active, expertise, open))| {
                    contact(&format!("c{n}"), name, active, expertise, open)
                })
                .collect()
        })
    }

    fn arb_institutions() -> impl Strategy<Value = Vec<InstitutionCandidate>> {
        prop::collection::vec((arb_profile(), arb_contacts(), 1..5i64), 0..6).prop_map(|list| {
            list.into_iter()
                .enumerate()
                .map(
                    |(n, (profile, contacts, profile_version))| InstitutionCandidate {
                        id: format!("inst-{n}"),
                        name: format!("Institution {}", NAMES[n % NAMES.len()]),
                        profile,
                        profile_version,
                        active: true,
                        contacts,
                    },
                )
                .collect()
        })
    }

    fn arb_inquiry(ids: Vec<String>) -> impl Strategy<Value = RoutingInquiry> {
        let mut pool = ids;
        pool.push("unknown".to_owned());
        let size = pool.len();
        (
            select(T::ALL),
            prop::collection::vec(select(A::ALL), 0..4),
            prop::collection::vec(select(M::ALL), 0..4),
            select(S::ALL),
            prop_oneof![Just(Vec::new()), subsequence(pool, 0..=size)],
        )
            .prop_map(
                |(inquiry_type, therapeutic_areas, modalities, stage, preferred_institutions)| {
                    RoutingInquiry {
                        inquiry_type,
                        therapeutic_areas,
                        modalities,
                        stage,
                        preferred_institutions,
                    }
                },
            )
    }

    /// An inquiry, institutions, and the same institutions shuffled with their contacts rotated.
    fn arb_case() -> impl Strategy<
        Value = (
            RoutingInquiry,
            Vec<InstitutionCandidate>,
            Vec<InstitutionCandidate>,
        ),
    > {
        arb_institutions().prop_flat_map(|institutions| {
            let ids = institutions.iter().map(|i| i.id.clone()).collect();
            (
                arb_inquiry(ids),
                Just(institutions.clone()),
                Just(institutions).prop_shuffle(),
                any::<usize>(),
            )
                .prop_map(|(inquiry, institutions, mut shuffled, turn)| {
                    for institution in &mut shuffled {
                        institution.contacts.reverse();
                        let len = institution.contacts.len().max(1);
                        institution.contacts.rotate_left(turn % len);
                    }
                    (inquiry, institutions, shuffled)
                })
        })
    }

    proptest! {
        #[test]
        fn every_institution_appears_exactly_once((inquiry, institutions, _) in arb_case()) {
            let outcome = route(&inquiry, &institutions);
            let mut seen: Vec<&str> = outcome
                .selected
                .iter()
                .map(|s| s.institution_id.as_str())
                .chain(outcome.not_selected.iter().map(|n| n.institution_id.as_str()))
                .collect();
            seen.sort_unstable();
            let mut expected: Vec<&str> = institutions.iter().map(|i| i.id.as_str()).collect();
            expected.sort_unstable();
            prop_assert_eq!(seen, expected);
        }

        #[test]
        fn either_something_is_selected_or_the_desk_routes_it((inquiry, institutions, _) in arb_case()) {
            let outcome = route(&inquiry, &institutions);
            prop_assert_eq!(outcome.to_desk, outcome.selected.is_empty());
            prop_assert_eq!(outcome.desk_reason.is_some(), outcome.to_desk);
            if let Some(reason) = &outcome.desk_reason {
                prop_assert!(reason.ends_with(DESK));
            }
            // The code read back from the stored facts explains the sentence stored with them.
            let code = outcome.desk_reason_code(&inquiry.preferred_institutions);
            prop_assert_eq!(
                code.map(|c| c.explanation(inquiry.inquiry_type)),
                outcome.desk_reason.clone()
            );
        }

        #[test]
        fn routing_is_deterministic_and_ignores_input_order((inquiry, institutions, shuffled) in arb_case()) {
            let outcome = route(&inquiry, &institutions);
            prop_assert_eq!(&outcome, &route(&inquiry, &institutions));
            prop_assert_eq!(&outcome, &route(&inquiry, &shuffled));
            let mut reordered = inquiry.clone();
            reordered.therapeutic_areas.reverse();
            reordered.modalities.reverse();
            reordered.preferred_institutions.reverse();
            prop_assert_eq!(&outcome, &route(&reordered, &shuffled));
        }

        #[test]
        fn selection_follows_acceptance_preferences_and_thresholds((inquiry, institutions, _) in arb_case()) {
            let outcome = route(&inquiry, &institutions);
            let preferences = &inquiry.preferred_institutions;
            for selected in &outcome.selected {
                let institution = institutions.iter().find(|i| i.id == selected.institution_id).unwrap();
                prop_assert!(institution.profile.accepts(inquiry.inquiry_type));
                prop_assert!(selected.score <= 100);
                prop_assert!(!selected.reasons.is_empty());
                if preferences.is_empty() {
                    prop_assert!(!selected.preferred);
                    prop_assert!(selected.score >= selected.threshold);
                } else {
                    prop_assert!(selected.preferred);
                    prop_assert!(preferences.contains(&selected.institution_id));
                }
            }
            for not in &outcome.not_selected {
                prop_assert!(not.score.is_none_or(|s| s <= 100));
                prop_assert!(!not.explanation.is_empty());
                let institution = institutions.iter().find(|i| i.id == not.institution_id).unwrap();
                let accepts = institution.profile.accepts(inquiry.inquiry_type);
                prop_assert_eq!(not.reason == R::InquiryTypeNotAccepted, !accepts);
            }
            let scores: Vec<u8> = outcome.selected.iter().map(|s| s.score).collect();
            prop_assert!(scores.windows(2).all(|w| w[0] >= w[1]));
        }

        #[test]
        fn no_inactive_contact_is_ever_chosen((inquiry, institutions, _) in arb_case()) {
            let outcome = route(&inquiry, &institutions);
            for selected in &outcome.selected {
                let institution = institutions.iter().find(|i| i.id == selected.institution_id).unwrap();
                let active: Vec<&ContactCandidate> = institution.contacts.iter().filter(|c| c.active).collect();
                match &selected.contact {
                    Some(choice) => {
                        let chosen = active.iter().find(|c| c.id == choice.contact_id);
                        prop_assert!(chosen.is_some(), "chose an inactive or unknown contact");
                        let best = active
                            .iter()
                            .map(|c| expertise_matches(&Request::new(&inquiry), &c.expertise).len())
                            .max()
                            .unwrap_or(0);
                        prop_assert_eq!(usize::from(choice.expertise_matches), best);
                    }
                    None => {
                        prop_assert!(active.is_empty());
                        prop_assert!(selected.contact_explanation.contains("unassigned"));
                    }
                }
            }
        }
    }
}
