//! The worker frame: the one place background work runs. `serve` starts it beside the HTTP
//! server; it relays the outbox (webhook deliveries and e-mail), runs the SLA clock and purges
//! what has expired. Every job is a *pass* over leased or idempotent claims in the database, so several
//! instances can run the frame against one PostgreSQL without doing anything twice at once, and
//! a killed instance's claims are taken over when their lease expires.
//!
//! Time comes from a [`Clock`]: tests drive the frame with a [`ManualClock`] and call
//! [`Worker::run_due`] themselves, so they never sleep.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{Duration, NaiveDateTime};
use tokio::sync::{Mutex, watch};

use crate::error::Error;
use crate::service::{self, Guichet};

/// Where the frame reads the time.
pub trait Clock: Send + Sync {
    fn now(&self) -> NaiveDateTime;
}

/// The machine's clock (at the database's precision).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> NaiveDateTime {
        crate::db::now()
    }
}

/// The machine's clock moved forward by hand (tests): changes made during the test are
/// stamped with the real time, and the frame sees them as due at once; `advance` jumps over
/// waits (retry back-offs, SLA deadlines) without sleeping.
#[derive(Debug, Default)]
pub struct ManualClock(std::sync::Mutex<Duration>);

impl ManualClock {
    pub fn advance(&self, by: Duration) {
        if let Ok(mut offset) = self.0.lock() {
            *offset += by;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> NaiveDateTime {
        let offset = self.0.lock().map_or_else(|p| *p.into_inner(), |o| *o);
        crate::db::now() + offset
    }
}

/// Settings of the frame (flags of `serve`, see README).
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// How often the relay looks for due deliveries when idle.
    pub poll: StdDuration,
    /// Deliveries claimed per relay pass.
    pub relay_batch: i64,
    /// How often the SLA clock runs.
    pub sla_every: Duration,
    /// How often expired rows are purged.
    pub purge_every: Duration,
    /// How long feed events are kept (at least 30 days).
    pub event_retention: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            poll: StdDuration::from_millis(500),
            relay_batch: 50,
            sla_every: Duration::seconds(60),
            purge_every: Duration::hours(1),
            event_retention: Duration::days(30),
        }
    }
}

/// What one round of [`Worker::run_due`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub relay: service::webhooks::RelayPass,
    pub mail: service::mail::MailPass,
    pub sla_events: usize,
    pub purged_events: usize,
}

/// The frame's jobs and their schedule.
pub struct Worker {
    g: Guichet,
    clock: Arc<dyn Clock>,
    options: WorkerOptions,
    /// When each periodic job last ran (by the frame's clock).
    last: Mutex<(Option<NaiveDateTime>, Option<NaiveDateTime>)>,
}

impl Worker {
    pub fn new(g: Guichet, clock: Arc<dyn Clock>, options: WorkerOptions) -> Self {
        Worker {
            g,
            clock,
            options,
            last: Mutex::new((None, None)),
        }
    }

    /// Runs every job that is due now: one relay pass, and the SLA clock and purge when their
    /// interval has passed.
    pub async fn run_due(&self) -> Result<Round, Error> {
        let now = self.clock.now();
        let relay = service::webhooks::relay_pass(&self.g, now, self.options.relay_batch).await?;
        let (sla_events, purged_events) = self.periodic(now).await?;
        // After the SLA clock, so that the reminders it wrote go in the same round.
        let mail = service::mail::relay_pass(&self.g, now, self.options.relay_batch).await?;
        Ok(Round {
            relay,
            mail,
            sla_events,
            purged_events,
        })
    }

    /// The SLA clock and the purge, each when its interval has passed.
    async fn periodic(&self, now: NaiveDateTime) -> Result<(usize, usize), Error> {
        let mut last = self.last.lock().await;
        let mut out = (0, 0);
        if last.0.is_none_or(|t| now - t >= self.options.sla_every) {
            out.0 = service::events::sla_pass(&self.g, now, 500).await?;
            last.0 = Some(now);
        }
        if last.1.is_none_or(|t| now - t >= self.options.purge_every) {
            out.1 =
                service::webhooks::purge_events(&self.g, now, self.options.event_retention).await?;
            let mails = service::mail::purge(&self.g, now, self.options.event_retention).await?;
            let (keys, counters) = service::purge_expired(&self.g).await?;
            if keys + counters + out.1 + mails > 0 {
                tracing::info!(
                    purged.idempotency_keys = keys,
                    purged.throttles = counters,
                    purged.events = out.1,
                    purged.mails = mails,
                    "housekeeping"
                );
            }
            last.1 = Some(now);
        }
        Ok(out)
    }

    /// Runs rounds until the relay finds nothing due (tests, and catching up after a pause).
    pub async fn drain(&self) -> Result<Round, Error> {
        let mut total = Round::default();
        for _ in 0..1000 {
            let round = self.run_due().await?;
            total.relay.claimed += round.relay.claimed;
            total.relay.delivered += round.relay.delivered;
            total.relay.failed += round.relay.failed;
            total.mail.claimed += round.mail.claimed;
            total.mail.sent += round.mail.sent;
            total.mail.retried += round.mail.retried;
            total.mail.failed += round.mail.failed;
            total.sla_events += round.sla_events;
            total.purged_events += round.purged_events;
            if round.relay.claimed == 0 && round.mail.claimed == 0 {
                break;
            }
        }
        Ok(total)
    }

    /// Runs until `stop` says so, keeping up to `concurrency` attempts in flight: whenever one
    /// ends, more due deliveries are claimed, so a slow receiver (up to the timeout) holds one
    /// slot, never the others. On stop, no new claims; the attempts in flight finish.
    async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let mut deliveries = Lane::new("webhook delivery", self.g.webhooks.concurrency);
        let mut mails = Lane::new("e-mail", self.g.mail.concurrency);
        loop {
            deliveries.reap();
            mails.reap();
            if *stop.borrow() {
                break;
            }
            let mut more = false;
            if let Some(free) = deliveries.free() {
                let claims = service::webhooks::claim_due(&self.g, self.clock.now(), free).await;
                more |= deliveries.spawn_all(claims, |claim| {
                    let (g, clock) = (self.g.clone(), self.clock.clone());
                    async move { service::webhooks::attempt_claim(&g, clock.now(), claim).await }
                });
            }
            if let Err(e) = self.periodic(self.clock.now()).await {
                tracing::warn!(error = %e, "a periodic job failed; retrying");
            }
            if let Some(free) = mails.free() {
                let claims = service::mail::claim_due(&self.g, self.clock.now(), free).await;
                more |= mails.spawn_all(claims, |claim| {
                    let (g, clock) = (self.g.clone(), self.clock.clone());
                    async move { service::mail::send_claim(&g, clock.now(), claim).await }
                });
            }
            if more {
                continue; // more may be due right now
            }
            tokio::select! {
                _ = deliveries.in_flight.join_next(), if !deliveries.in_flight.is_empty() => {}
                _ = mails.in_flight.join_next(), if !mails.in_flight.is_empty() => {}
                _ = tokio::time::sleep(self.options.poll) => {}
                _ = stop.changed() => {}
            }
        }
        deliveries.finish().await;
        mails.finish().await;
    }
}

/// One kind of leased work of the running frame: up to `capacity` attempts in flight, topped up
/// whenever one ends.
struct Lane {
    what: &'static str,
    capacity: usize,
    in_flight: tokio::task::JoinSet<()>,
}

impl Lane {
    fn new(what: &'static str, capacity: usize) -> Self {
        Lane {
            what,
            capacity: capacity.max(1),
            in_flight: tokio::task::JoinSet::new(),
        }
    }

    /// Forgets the attempts that ended.
    fn reap(&mut self) {
        while self.in_flight.try_join_next().is_some() {}
    }

    /// How many more claims it takes now, if any.
    fn free(&self) -> Option<i64> {
        let free = self.capacity.saturating_sub(self.in_flight.len());
        (free > 0).then_some(free as i64)
    }

    /// Starts one attempt per claim. `true` when it claimed something and still has room, so
    /// more may be due right now.
    fn spawn_all<C, T, F, Fut>(&mut self, claims: Result<Vec<C>, Error>, attempt: F) -> bool
    where
        F: Fn(C) -> Fut,
        Fut: std::future::Future<Output = Result<T, Error>> + Send + 'static,
    {
        let claims = match claims {
            Ok(claims) => claims,
            Err(e) => {
                tracing::warn!(error = %e, "claiming work ({}) failed; retrying", self.what);
                return false;
            }
        };
        let claimed = !claims.is_empty();
        for claim in claims {
            let (what, attempt) = (self.what, attempt(claim));
            self.in_flight.spawn(async move {
                if let Err(e) = attempt.await {
                    tracing::warn!(error = %e, "recording an attempt ({what}) failed; its lease will expire and it is tried again");
                }
            });
        }
        claimed && self.in_flight.len() < self.capacity
    }

    /// Waits for the attempts in flight (on stop: no new claims, these finish).
    async fn finish(&mut self) {
        while self.in_flight.join_next().await.is_some() {}
    }
}

/// A running frame.
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl WorkerHandle {
    /// Starts the frame on the current runtime.
    pub fn start(g: Guichet, clock: Arc<dyn Clock>, options: WorkerOptions) -> Self {
        let (stop, rx) = watch::channel(false);
        let worker = Arc::new(Worker::new(g, clock, options));
        let task = tokio::spawn(worker.run(rx));
        WorkerHandle { stop, task }
    }

    /// Stops the frame: no new claims, and the attempts in flight finish (each is bounded by
    /// the webhook timeout). Every claim is attempted as soon as it is made, so none is left
    /// untried.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::warn!(error = %e, "the worker task ended abnormally");
        }
    }
}
