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
        let concurrency = self.g.webhooks.concurrency.max(1);
        let mail_concurrency = self.g.mail.concurrency.max(1);
        let mut in_flight: tokio::task::JoinSet<()> = tokio::task::JoinSet::new();
        let mut mail_in_flight: tokio::task::JoinSet<()> = tokio::task::JoinSet::new();
        loop {
            while in_flight.try_join_next().is_some() {}
            while mail_in_flight.try_join_next().is_some() {}
            if *stop.borrow() {
                break;
            }
            let free = concurrency.saturating_sub(in_flight.len());
            let mut claimed = 0;
            if free > 0 {
                match service::webhooks::claim_due(&self.g, self.clock.now(), free as i64).await {
                    Ok(claims) => {
                        claimed = claims.len();
                        for claim in claims {
                            let (g, clock) = (self.g.clone(), self.clock.clone());
                            in_flight.spawn(async move {
                                if let Err(e) =
                                    service::webhooks::attempt_claim(&g, clock.now(), claim).await
                                {
                                    tracing::warn!(error = %e, "recording a webhook attempt failed; its lease will expire and it is tried again");
                                }
                            });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "claiming deliveries failed; retrying"),
                }
            }
            if let Err(e) = self.periodic(self.clock.now()).await {
                tracing::warn!(error = %e, "a periodic job failed; retrying");
            }
            let mail_free = mail_concurrency.saturating_sub(mail_in_flight.len());
            let mut mails = 0;
            if mail_free > 0 {
                match service::mail::claim_due(&self.g, self.clock.now(), mail_free as i64).await {
                    Ok(claims) => {
                        mails = claims.len();
                        for claim in claims {
                            let (g, clock) = (self.g.clone(), self.clock.clone());
                            mail_in_flight.spawn(async move {
                                if let Err(e) =
                                    service::mail::send_claim(&g, clock.now(), claim).await
                                {
                                    tracing::warn!(error = %e, "recording an e-mail attempt failed; its lease will expire and it is tried again");
                                }
                            });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "claiming e-mails failed; retrying"),
                }
            }
            if (claimed > 0 && in_flight.len() < concurrency)
                || (mails > 0 && mail_in_flight.len() < mail_concurrency)
            {
                continue; // more may be due right now
            }
            tokio::select! {
                _ = in_flight.join_next(), if !in_flight.is_empty() => {}
                _ = mail_in_flight.join_next(), if !mail_in_flight.is_empty() => {}
                _ = tokio::time::sleep(self.options.poll) => {}
                _ = stop.changed() => {}
            }
        }
        while in_flight.join_next().await.is_some() {}
        while mail_in_flight.join_next().await.is_some() {}
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
