//! The event feed (`GET /v1/events`) and the SLA clock that publishes deadline events.

use chrono::{Duration, NaiveDateTime};

use crate::db::{inquiries as store, outbox};
use crate::domain::account::{Actor, Staff};
use crate::domain::event::Envelope;
use crate::domain::taxonomy::EventType;
use crate::error::Error;
use crate::service::Guichet;
use crate::service::authz;
use crate::service::record::{Change, record};

/// A feed position as clients see it: `<tx>.<seq>`, opaque to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedCursor(pub outbox::Position);

impl FeedCursor {
    pub fn parse(s: &str) -> Option<Self> {
        let (tx, seq) = s.split_once('.')?;
        let digits =
            |p: &str| !p.is_empty() && p.len() <= 19 && p.bytes().all(|b| b.is_ascii_digit());
        if !digits(tx) || !digits(seq) {
            return None;
        }
        Some(FeedCursor(outbox::Position {
            tx_id: tx.parse().ok()?,
            seq: seq.parse().ok()?,
        }))
    }
}

impl std::fmt::Display for FeedCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0.tx_id, self.0.seq)
    }
}

/// A page of the feed. `next` is where to continue, whether or not this page was full: a
/// follower stores it and asks again later.
#[derive(Debug, Clone)]
pub struct FeedPage {
    pub items: Vec<Envelope>,
    pub next: FeedCursor,
}

/// `GET /v1/events`: events after `after` (from the oldest kept when absent), in commit order,
/// of the given types (all when empty), that the actor may read.
pub async fn feed(
    g: &Guichet,
    actor: &Staff,
    after: Option<FeedCursor>,
    types: Vec<EventType>,
    limit: i64,
) -> Result<FeedPage, Error> {
    let actor = actor.clone();
    g.db.run(move |conn| {
        let scope = authz::feed_scope(&actor)?;
        let start = after.map_or(outbox::Position::default(), |c| c.0);
        let names: Vec<String> = types.iter().map(|t| t.as_str().to_owned()).collect();
        let rows = outbox::feed(conn, scope, start, &names, limit)?;
        let next = FeedCursor(rows.last().map_or(start, |(p, _)| *p));
        let items = rows
            .into_iter()
            .map(|(_, payload)| {
                serde_json::from_str::<Envelope>(&payload)
                    .map_err(|e| Error::internal(format!("stored event unreadable: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(FeedPage { items, next })
    })
    .await
}

/// How early `referral.sla_due_soon` is told: at the latest 9 hours before the deadline, i.e.
/// 09:00 Paris time on the day it is due (deadlines fall at 18:00 Paris time on business days,
/// and the clocks never change on a business day); see `calendar::reminder_at`.
pub const DUE_SOON_HOURS: i64 = 9;

/// One pass of the SLA clock: publishes `referral.sla_due_soon` and `referral.sla_breached`
/// once per deadline (a deadline moved by a pause is a new one). Safe on several instances at
/// once: the signal row is the claim. Returns how many events it published.
pub async fn sla_pass(g: &Guichet, now: NaiveDateTime, batch: i64) -> Result<usize, Error> {
    g.db.transaction(move |conn| {
        let mut told = 0;
        for (kind, horizon, breached) in [
            ("breached", now, true),
            ("due_soon", now + Duration::hours(DUE_SOON_HOURS), false),
        ] {
            for r in store::sla_unsignalled(conn, kind, horizon, batch)? {
                let due = r.first_response_due_at;
                if !breached && crate::domain::calendar::reminder_at(due) > now {
                    continue;
                }
                if !store::sla_signal_insert(conn, &r.id, kind, due, now)? {
                    continue;
                }
                if breached {
                    // An overdue deadline is never announced as "due soon" afterwards.
                    store::sla_signal_insert(conn, &r.id, "due_soon", due, now)?;
                } else if due <= now {
                    // Already overdue: the breach is what gets told.
                    continue;
                }
                record(
                    conn,
                    &Actor::System,
                    now,
                    Change::SlaSignal {
                        referral: &r,
                        breached,
                    },
                )?;
                told += 1;
            }
        }
        Ok(told)
    })
    .await
}
