//! What an operator graphs: requests by route template and status, their durations, the
//! database pool, failed logins and throttled calls, in the Prometheus text format.
//!
//! Series are keyed by the *route template* (`/v1/referrals/{referral_id}`), never the raw
//! path, so a scanner walking random URLs adds at most one series (`unmatched`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds of the duration histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Default, Clone)]
struct Series {
    count: u64,
    sum_seconds: f64,
    /// Cumulative counts per bucket of [`BUCKETS`].
    buckets: [u64; BUCKETS.len()],
}

/// The process's counters; shared by every worker.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), Series>>,
    login_failures: AtomicU64,
    throttled: Mutex<BTreeMap<&'static str, u64>>,
}

/// The pool's state at the time of a scrape.
#[derive(Debug, Clone, Copy)]
pub struct PoolState {
    pub connections: u32,
    pub idle: u32,
    pub max_size: u32,
}

impl Metrics {
    /// One answered request. `route` is the matched template, or `None` when nothing matched.
    pub fn observe_request(&self, method: &str, route: Option<&str>, status: u16, seconds: f64) {
        let route = route.unwrap_or("unmatched").to_owned();
        let Ok(mut requests) = self.requests.lock() else {
            return;
        };
        let series = requests
            .entry((method.to_owned(), route, status))
            .or_default();
        series.count += 1;
        series.sum_seconds += seconds;
        for (bucket, bound) in series.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
    }

    pub fn login_failed(&self) {
        self.login_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// A call refused with 429 by the named throttle policy.
    pub fn throttled(&self, policy: &'static str) {
        if let Ok(mut t) = self.throttled.lock() {
            *t.entry(policy).or_default() += 1;
        }
    }

    /// The exposition text (format 0.0.4).
    pub fn render(&self, pool: PoolState) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP guichet_http_requests_total Requests answered, by method, route template and status."
        );
        let _ = writeln!(out, "# TYPE guichet_http_requests_total counter");
        let requests = self.requests.lock().map(|r| r.clone()).unwrap_or_default();
        for ((method, route, status), s) in &requests {
            let _ = writeln!(
                out,
                "guichet_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {}",
                escape(route),
                s.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP guichet_http_request_duration_seconds Time from the request's arrival to its answer."
        );
        let _ = writeln!(
            out,
            "# TYPE guichet_http_request_duration_seconds histogram"
        );
        for ((method, route, status), s) in &requests {
            let labels = format!(
                "method=\"{method}\",route=\"{}\",status=\"{status}\"",
                escape(route)
            );
            for (bound, n) in BUCKETS.iter().zip(s.buckets) {
                let _ = writeln!(
                    out,
                    "guichet_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "guichet_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "guichet_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum_seconds
            );
            let _ = writeln!(
                out,
                "guichet_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        let in_use = pool.connections.saturating_sub(pool.idle);
        for (name, help, value) in [
            (
                "guichet_db_pool_connections_in_use",
                "Database connections lent to a request now.",
                in_use,
            ),
            (
                "guichet_db_pool_connections_idle",
                "Open database connections waiting in the pool.",
                pool.idle,
            ),
            (
                "guichet_db_pool_connections_max",
                "The pool's size (--db-pool-size).",
                pool.max_size,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} gauge");
            let _ = writeln!(out, "{name} {value}");
        }
        let _ = writeln!(
            out,
            "# HELP guichet_login_failures_total Logins refused for a wrong e-mail address or password."
        );
        let _ = writeln!(out, "# TYPE guichet_login_failures_total counter");
        let _ = writeln!(
            out,
            "guichet_login_failures_total {}",
            self.login_failures.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP guichet_throttled_total Calls refused with 429, by throttle policy."
        );
        let _ = writeln!(out, "# TYPE guichet_throttled_total counter");
        let throttled = self.throttled.lock().map(|t| t.clone()).unwrap_or_default();
        for policy in [
            "login-account",
            "login-address",
            "submissions",
            "tracking",
            "refresh",
        ] {
            let _ = writeln!(
                out,
                "guichet_throttled_total{{policy=\"{policy}\"}} {}",
                throttled.get(policy).copied().unwrap_or(0)
            );
        }
        out
    }
}

/// Label values are route templates (ours), but escape them as the format requires anyway.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_series_follow_templates() {
        let m = Metrics::default();
        m.observe_request("GET", Some("/v1/referrals/{referral_id}"), 200, 0.003);
        m.observe_request("GET", Some("/v1/referrals/{referral_id}"), 200, 0.2);
        m.observe_request("GET", None, 404, 0.0001);
        m.login_failed();
        m.throttled("tracking");
        let text = m.render(PoolState {
            connections: 3,
            idle: 1,
            max_size: 10,
        });
        assert!(text.contains("guichet_http_requests_total{method=\"GET\",route=\"/v1/referrals/{referral_id}\",status=\"200\"} 2"), "{text}");
        assert!(
            text.contains("route=\"/v1/referrals/{referral_id}\",status=\"200\",le=\"0.005\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("route=\"/v1/referrals/{referral_id}\",status=\"200\",le=\"0.25\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("route=\"unmatched\",status=\"404\""),
            "{text}"
        );
        assert!(
            text.contains("guichet_db_pool_connections_in_use 2"),
            "{text}"
        );
        assert!(
            text.contains("guichet_db_pool_connections_idle 1"),
            "{text}"
        );
        assert!(text.contains("guichet_login_failures_total 1"), "{text}");
        assert!(
            text.contains("guichet_throttled_total{policy=\"tracking\"} 1"),
            "{text}"
        );
    }
}
