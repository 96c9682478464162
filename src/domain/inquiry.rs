//! Inquiries: what a submitter sends once, and how its overall status follows its referrals.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::routing::RoutingInquiry;
use crate::domain::taxonomy::{
    InquiryType, Locale, Modality, OrganizationType, ReferralStatus, Stage, TherapeuticArea,
};

pub const TITLE_MAX: usize = 200;
pub const SUMMARY_MAX: usize = 5_000;
pub const MESSAGE_MAX: usize = 10_000;
pub const KEYWORDS_MAX: usize = 10;
pub const KEYWORD_MAX_CHARS: usize = 50;

/// Who submits: an organization and one person there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submitter {
    pub organization: String,
    pub organization_type: OrganizationType,
    pub name: String,
    pub email: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
}

/// A validated inquiry, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InquiryDraft {
    pub submitter: Submitter,
    pub inquiry_type: InquiryType,
    pub title: String,
    pub summary: String,
    pub therapeutic_areas: Vec<TherapeuticArea>,
    pub modalities: Vec<Modality>,
    pub stage: Stage,
    pub preferred_institutions: Vec<String>,
    pub keywords: Vec<String>,
    /// The language of the submitter's e-mails, as asked in the body (`None`: from the
    /// request's `Accept-Language`, decided at submission). Absent from the idempotency hash
    /// when not asked, so a retry with another header is the same request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<Locale>,
}

impl InquiryDraft {
    /// What routing reads of an inquiry.
    pub fn routing_input(&self) -> RoutingInquiry {
        RoutingInquiry {
            inquiry_type: self.inquiry_type,
            therapeutic_areas: self.therapeutic_areas.clone(),
            modalities: self.modalities.clone(),
            stage: self.stage,
            preferred_institutions: self.preferred_institutions.clone(),
        }
    }
}

/// A stored inquiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inquiry {
    pub id: String,
    pub reference: String,
    pub draft: InquiryDraft,
    /// No institution qualified: the operators route it by hand.
    pub on_desk: bool,
    pub created_at: NaiveDateTime,
}

/// One inquiry as one institution sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    pub id: String,
    pub inquiry_id: String,
    pub institution_id: String,
    pub contact_id: Option<String>,
    pub status: ReferralStatus,
    /// Why this institution, in words for the submitter.
    pub reasons: Vec<String>,
    pub score: i32,
    pub profile_version: i64,
    pub first_response_due_at: NaiveDateTime,
    pub first_responded_at: Option<NaiveDateTime>,
    /// Increases on every change: the ETag of the triage endpoints.
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The decline reason code, or the institution a referral was forwarded to.
    pub decision_reason: Option<String>,
    /// Free text of the decision.
    pub decision_note: Option<String>,
    /// Set while the SLA clock is paused (information requested).
    pub sla_paused_at: Option<NaiveDateTime>,
    /// The decision target: set at the first response, moved by information-request pauses.
    pub decision_due_at: Option<NaiveDateTime>,
    /// When it became `accepted`, `declined` or `forwarded`.
    pub decided_at: Option<NaiveDateTime>,
}

impl Referral {
    /// The first response is late: none yet, the clock running, and the due date passed.
    pub fn is_overdue(&self, now: NaiveDateTime) -> bool {
        self.status.is_open()
            && self.first_responded_at.is_none()
            && self.sla_paused_at.is_none()
            && now > self.first_response_due_at
    }

    /// The decision is late: a first response given, no decision yet, the clock running (not
    /// waiting on the submitter), and the decision target passed.
    pub fn is_decision_overdue(&self, now: NaiveDateTime) -> bool {
        matches!(
            self.status,
            ReferralStatus::Acknowledged | ReferralStatus::InReview
        ) && self.decision_due_at.is_some_and(|due| due < now)
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    Submitter,
    Staff,
}

/// Whether the submitter sees a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    External,
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    pub referral_id: String,
    pub author: Author,
    pub author_user_id: Option<String>,
    pub visibility: Visibility,
    pub body: String,
    pub created_at: NaiveDateTime,
}

/// The status a submitter follows, derived from the referrals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InquiryStatus {
    /// No institution qualified yet: Guichet's operators route it by hand.
    OnDesk,
    /// Sent; no institution has responded yet.
    Submitted,
    /// At least one institution is working on it.
    InProgress,
    /// An institution asks the submitter for information.
    InfoRequested,
    /// At least one institution accepted.
    Accepted,
    /// Every institution answered and none accepted.
    Closed,
    /// The submitter withdrew it.
    Withdrawn,
}

/// Derives the overall status: the most hopeful state wins, then the state that needs the
/// submitter, then work in progress.
pub fn overall_status(on_desk: bool, statuses: &[ReferralStatus]) -> InquiryStatus {
    use ReferralStatus as S;
    if statuses.is_empty() {
        // An inquiry leaves the desk without referrals only when its submitter withdraws it.
        return if on_desk {
            InquiryStatus::OnDesk
        } else {
            InquiryStatus::Withdrawn
        };
    }
    if statuses.contains(&S::Accepted) {
        return InquiryStatus::Accepted;
    }
    if statuses.contains(&S::InfoRequested) {
        return InquiryStatus::InfoRequested;
    }
    if statuses.iter().all(|s| *s == S::Withdrawn) {
        return InquiryStatus::Withdrawn;
    }
    if statuses.iter().any(|s| s.is_open() && *s != S::New) {
        return InquiryStatus::InProgress;
    }
    if statuses.contains(&S::New) {
        return InquiryStatus::Submitted;
    }
    InquiryStatus::Closed
}

/// `GU-2026-000042`.
pub fn reference(year: i32, sequence: i32) -> String {
    format!("GU-{year}-{sequence:06}")
}

/// ISO 3166-1 alpha-2 codes.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// Every code [`is_country_code`] takes (for the contract's enum).
pub fn country_codes() -> impl Iterator<Item = &'static str> {
    COUNTRIES.split(' ')
}

pub fn is_country_code(code: &str) -> bool {
    code.len() == 2 && COUNTRIES.split(' ').any(|c| c == code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReferralStatus as S;

    #[test]
    fn references_are_zero_padded_per_year() {
        assert_eq!(reference(2026, 42), "GU-2026-000042");
        assert_eq!(reference(2027, 1), "GU-2027-000001");
    }

    #[test]
    fn overall_status_follows_the_referrals() {
        let cases: &[(bool, &[ReferralStatus], InquiryStatus)] = &[
            (true, &[], InquiryStatus::OnDesk),
            (false, &[], InquiryStatus::Withdrawn),
            (false, &[S::New, S::New], InquiryStatus::Submitted),
            (false, &[S::New, S::Acknowledged], InquiryStatus::InProgress),
            (
                false,
                &[S::Declined, S::InReview],
                InquiryStatus::InProgress,
            ),
            (
                false,
                &[S::InfoRequested, S::InReview],
                InquiryStatus::InfoRequested,
            ),
            (
                false,
                &[S::Declined, S::Accepted, S::InfoRequested],
                InquiryStatus::Accepted,
            ),
            (false, &[S::Declined, S::Forwarded], InquiryStatus::Closed),
            (
                false,
                &[S::Withdrawn, S::Withdrawn],
                InquiryStatus::Withdrawn,
            ),
            (false, &[S::Declined, S::Withdrawn], InquiryStatus::Closed),
            (false, &[S::Declined, S::New], InquiryStatus::Submitted),
        ];
        for (desk, statuses, expected) in cases {
            assert_eq!(overall_status(*desk, statuses), *expected, "{statuses:?}");
        }
    }

    #[test]
    fn country_codes_are_checked_against_iso_3166() {
        for ok in ["FR", "US", "CH", "JP"] {
            assert!(is_country_code(ok), "{ok}");
        }
        for bad in ["fr", "XX", "FRA", "", "UK"] {
            assert!(!is_country_code(bad), "{bad}");
        }
    }
}
