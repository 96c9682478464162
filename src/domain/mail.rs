//! E-mail as the product means it: which kinds of message exist, which of them a person may
//! opt out of, when a failed send is tried again, and how dates read in each language.

use chrono::{Datelike, Duration, NaiveDateTime, Timelike, Weekday};

use crate::domain::calendar;
use crate::domain::taxonomy::Locale;

/// Why someone receives a message; only reminders can be turned off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Work that is now the recipient's: a new or reassigned referral, a submitter's reply.
    Assignment,
    /// The SLA clock: a deadline today, a deadline passed. Optional (`List-Unsubscribe`).
    Reminder,
    /// What a submitter is told about their inquiry.
    Submitter,
    /// The recipient's own account: password reset and change, disabled endpoints.
    Account,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Assignment => "assignment",
            Category::Reminder => "reminder",
            Category::Submitter => "submitter",
            Category::Account => "account",
        }
    }

    /// Whether a recipient may turn this category off.
    pub fn optional(self) -> bool {
        matches!(self, Category::Reminder)
    }
}

/// Where a message stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum MailStatus {
    /// Waiting for its first attempt or for a retry.
    Pending,
    /// Accepted by the SMTP server (or written to the folder).
    Sent,
    /// Refused for good (a 5xx reply, an unusable address) or tried for about a day.
    Failed,
}

impl MailStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MailStatus::Pending => "pending",
            MailStatus::Sent => "sent",
            MailStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<MailStatus> {
        [MailStatus::Pending, MailStatus::Sent, MailStatus::Failed]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

/// Every message Guichet sends. The wire value names its templates
/// (`templates/mail/<locale>/<kind>.txt` and `.html`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    ReferralNew,
    ReferralAssigned,
    SubmitterReplied,
    InquiryWithdrawn,
    SlaDueSoon,
    SlaBreached,
    EndpointDisabled,
    PasswordReset,
    PasswordChanged,
    InquiryReceived,
    InquiryRouted,
    MessageReceived,
    StatusChanged,
}

impl Kind {
    pub const ALL: &'static [Kind] = &[
        Kind::ReferralNew,
        Kind::ReferralAssigned,
        Kind::SubmitterReplied,
        Kind::InquiryWithdrawn,
        Kind::SlaDueSoon,
        Kind::SlaBreached,
        Kind::EndpointDisabled,
        Kind::PasswordReset,
        Kind::PasswordChanged,
        Kind::InquiryReceived,
        Kind::InquiryRouted,
        Kind::MessageReceived,
        Kind::StatusChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ReferralNew => "referral_new",
            Kind::ReferralAssigned => "referral_assigned",
            Kind::SubmitterReplied => "submitter_replied",
            Kind::InquiryWithdrawn => "inquiry_withdrawn",
            Kind::SlaDueSoon => "sla_due_soon",
            Kind::SlaBreached => "sla_breached",
            Kind::EndpointDisabled => "endpoint_disabled",
            Kind::PasswordReset => "password_reset",
            Kind::PasswordChanged => "password_changed",
            Kind::InquiryReceived => "inquiry_received",
            Kind::InquiryRouted => "inquiry_routed",
            Kind::MessageReceived => "message_received",
            Kind::StatusChanged => "status_changed",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.as_str() == s)
    }

    pub fn category(self) -> Category {
        match self {
            Kind::ReferralNew
            | Kind::ReferralAssigned
            | Kind::SubmitterReplied
            | Kind::InquiryWithdrawn => Category::Assignment,
            Kind::SlaDueSoon | Kind::SlaBreached => Category::Reminder,
            Kind::EndpointDisabled | Kind::PasswordReset | Kind::PasswordChanged => {
                Category::Account
            }
            Kind::InquiryReceived
            | Kind::InquiryRouted
            | Kind::MessageReceived
            | Kind::StatusChanged => Category::Submitter,
        }
    }

    /// Whether the message carries a secret (a reset link): its stored context is wiped once
    /// it is sent or given up.
    pub fn carries_secret(self) -> bool {
        matches!(self, Kind::PasswordReset)
    }
}

/// The wait before attempt `attempts + 1` after a transient failure (connection refused, a 4xx
/// reply), or `None` when the message has been tried enough (about a day) and is marked failed.
pub fn retry_delay(attempts: i32) -> Option<Duration> {
    const SCHEDULE_SECONDS: [i64; 8] = [30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600];
    usize::try_from(attempts - 1)
        .ok()
        .and_then(|i| SCHEDULE_SECONDS.get(i))
        .map(|s| Duration::seconds(*s))
}

/// When a message of `category` written at `at` may first be sent: reminders wait for Paris
/// business hours (see [`calendar::business_hours_at_or_after`]); everything else goes at once.
pub fn send_after(category: Category, at: NaiveDateTime) -> NaiveDateTime {
    match category {
        Category::Reminder => calendar::business_hours_at_or_after(at),
        _ => at,
    }
}

const DAYS_EN: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const DAYS_FR: [&str; 7] = [
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

fn weekday_index(w: Weekday) -> usize {
    w.num_days_from_monday() as usize
}

/// A UTC instant as a person in Paris reads it: "Tuesday 8 December 2026, 18:00 (Paris time)"
/// or "mardi 8 décembre 2026 à 18:00 (heure de Paris)".
pub fn paris_date_time(utc: NaiveDateTime, locale: Locale) -> String {
    let local = calendar::to_paris(utc);
    let day = weekday_index(local.weekday());
    let month = local.month0() as usize;
    let (h, m) = (local.hour(), local.minute());
    match locale {
        Locale::En => format!(
            "{} {} {} {}, {h:02}:{m:02} (Paris time)",
            DAYS_EN[day],
            local.day(),
            MONTHS_EN[month],
            local.year()
        ),
        Locale::Fr => format!(
            "{} {} {} {} à {h:02}:{m:02} (heure de Paris)",
            DAYS_FR[day],
            local.day(),
            MONTHS_FR[month],
            local.year()
        ),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn only_reminders_are_optional() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(*k));
            assert_eq!(
                k.category().optional(),
                matches!(k, Kind::SlaDueSoon | Kind::SlaBreached),
                "{k:?}"
            );
        }
        assert_eq!(Kind::parse("nope"), None);
    }

    #[test]
    fn retries_back_off_and_end_after_about_a_day() {
        assert_eq!(retry_delay(1), Some(Duration::seconds(30)));
        assert_eq!(retry_delay(2), Some(Duration::minutes(2)));
        let total: i64 = (1..=8)
            .filter_map(retry_delay)
            .map(|d| d.num_seconds())
            .sum();
        assert!((20 * 3600..30 * 3600).contains(&total), "{total}");
        assert_eq!(retry_delay(9), None);
        assert_eq!(retry_delay(0), None);
    }

    #[test]
    fn dates_read_in_the_recipients_language_and_paris_time() {
        // 17:00 UTC in winter is 18:00 in Paris; 16:00 UTC in summer too.
        assert_eq!(
            paris_date_time(t("2026-12-08 17:00"), Locale::En),
            "Tuesday 8 December 2026, 18:00 (Paris time)"
        );
        assert_eq!(
            paris_date_time(t("2026-12-08 17:00"), Locale::Fr),
            "mardi 8 décembre 2026 à 18:00 (heure de Paris)"
        );
        assert_eq!(
            paris_date_time(t("2026-08-14 16:00"), Locale::Fr),
            "vendredi 14 août 2026 à 18:00 (heure de Paris)"
        );
    }

    #[test]
    fn only_reminders_wait_for_business_hours() {
        let saturday_night = t("2026-12-05 22:00");
        assert_eq!(
            send_after(Category::Assignment, saturday_night),
            saturday_night
        );
        // Monday 7 December 09:00 Paris = 08:00 UTC.
        assert_eq!(
            send_after(Category::Reminder, saturday_night),
            t("2026-12-07 08:00")
        );
    }
}
