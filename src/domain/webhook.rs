//! Webhook endpoints, their deliveries and attempts, and the retry schedule.

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::event::DisabledReason;
use crate::domain::taxonomy::EventType;

/// Where an institution (or, for operators, the platform) wants events sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub id: String,
    /// `None`: platform-wide, told of every event (operators only).
    pub institution_id: Option<String>,
    pub url: String,
    pub description: String,
    /// Empty: every type.
    pub event_types: Vec<EventType>,
    pub enabled: bool,
    pub disabled_reason: Option<DisabledReason>,
    /// When the current run of failures began (cleared by a success).
    pub failing_since: Option<NaiveDateTime>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Whether an endpoint subscribed to `subscribed` (empty: every type) wants `event_type`.
pub fn wants(subscribed: &[EventType], event_type: EventType) -> bool {
    subscribed.is_empty() || subscribed.contains(&event_type)
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its first or next attempt.
    Pending,
    /// A 2xx answer was received.
    Delivered,
    /// Every attempt of the schedule failed, or its endpoint was disabled: a re-send or a
    /// replay makes it pending again.
    Failed,
}

impl DeliveryStatus {
    pub const ALL: &'static [DeliveryStatus] = &[
        DeliveryStatus::Pending,
        DeliveryStatus::Delivered,
        DeliveryStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == s)
    }
}

/// One event for one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: EventType,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// 2xx.
    Delivered,
    /// Anything else: 3xx (redirects are never followed), 4xx, 5xx, a timeout, a refused
    /// address, a connection error.
    Failed,
    /// `410 Gone`: the endpoint is disabled.
    Gone,
}

impl AttemptOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Delivered => "delivered",
            AttemptOutcome::Failed => "failed",
            AttemptOutcome::Gone => "gone",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "delivered" => Some(AttemptOutcome::Delivered),
            "failed" => Some(AttemptOutcome::Failed),
            "gone" => Some(AttemptOutcome::Gone),
            _ => None,
        }
    }
}

/// One attempt, as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub id: String,
    pub delivery_id: String,
    pub attempted_at: NaiveDateTime,
    pub duration_ms: i64,
    pub status_code: Option<i32>,
    pub outcome: AttemptOutcome,
    pub error: Option<String>,
    pub response_excerpt: String,
}

/// The wait after the n-th failed attempt (n from 1), before jitter: 5 s, 5 min, 30 min, 2 h,
/// 5 h, 10 h, 10 h (Svix's schedule). After the eighth failure there is no next attempt.
pub const RETRY_SCHEDULE_SECONDS: [i64; 7] = [5, 300, 1800, 7200, 18000, 36000, 36000];

/// An endpoint whose every attempt failed for this long is disabled.
pub const DISABLE_AFTER_FAILING_DAYS: i64 = 5;

/// When to try again after `failed_attempts` failures, with `jitter` in `[0, 1)` spreading
/// the wait by ±20 %, at least `retry_after` when the receiver asked for it (capped at a day).
/// `None`: the schedule is exhausted.
pub fn next_attempt_delay(
    failed_attempts: i32,
    jitter: f64,
    retry_after: Option<Duration>,
) -> Option<Duration> {
    let index = usize::try_from(failed_attempts.checked_sub(1)?).ok()?;
    let base = *RETRY_SCHEDULE_SECONDS.get(index)?;
    let spread = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
    let millis = (base as f64 * 1000.0 * spread).round() as i64;
    let scheduled = Duration::milliseconds(millis);
    let asked = retry_after
        .map(|d| d.min(Duration::days(1)))
        .unwrap_or_else(Duration::zero);
    Some(scheduled.max(asked))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_is_svixs_with_bounded_jitter() {
        let mid: Vec<i64> = (1..=7)
            .map(|n| next_attempt_delay(n, 0.5, None).map_or(-1, |d| d.num_seconds()))
            .collect();
        assert_eq!(mid, vec![5, 300, 1800, 7200, 18000, 36000, 36000]);
        assert_eq!(next_attempt_delay(8, 0.5, None), None);
        assert_eq!(next_attempt_delay(0, 0.5, None), None);
        assert_eq!(
            next_attempt_delay(1, 0.0, None),
            Some(Duration::milliseconds(4000))
        );
        assert_eq!(
            next_attempt_delay(1, 1.0, None),
            Some(Duration::milliseconds(6000))
        );
    }

    #[test]
    fn retry_after_is_respected_up_to_a_day() {
        assert_eq!(
            next_attempt_delay(1, 0.5, Some(Duration::seconds(120))),
            Some(Duration::seconds(120))
        );
        assert_eq!(
            next_attempt_delay(1, 0.5, Some(Duration::days(9))),
            Some(Duration::days(1))
        );
        // A shorter Retry-After than the schedule does not hurry the schedule.
        assert_eq!(
            next_attempt_delay(2, 0.5, Some(Duration::seconds(1))),
            Some(Duration::seconds(300))
        );
    }
}
