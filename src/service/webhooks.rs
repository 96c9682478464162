//! Webhook endpoints and their deliveries: managing them (institution admins for their
//! institution, operators for any or platform-wide), and relaying the outbox (called by the
//! worker frame, never by a handler).

use std::time::Duration as StdDuration;

use chrono::{Duration, NaiveDateTime};
use futures_util::StreamExt;

use crate::db::{self, outbox, webhooks as store};
use crate::domain::account::{Actor, Staff};
use crate::domain::event::DisabledReason;
use crate::domain::taxonomy::EventType;
use crate::domain::webhook::{
    Attempt, AttemptOutcome, DISABLE_AFTER_FAILING_DAYS, Delivery, DeliveryStatus, Endpoint,
    next_attempt_delay,
};
use crate::error::Error;
use crate::service::authz;
use crate::service::record::{Change, record};
use crate::service::{Guichet, Page, known_uuid, new_id};
use crate::webhook::address::{UrlPolicy, check_url, resolve_checked};
use crate::webhook::send::{self, Outcome, Outgoing, SendOptions};
use crate::webhook::sign::{SigningSecret, standard_headers};

/// How long the previous secret keeps signing after a rotation.
pub const ROTATION_GRACE_HOURS: i64 = 24;

/// Delivery settings of a deployment.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    pub policy: UrlPolicy,
    /// Per attempt: connecting, sending, and reading the answer.
    pub timeout: StdDuration,
    /// Attempts in flight at once, per instance.
    pub concurrency: usize,
    /// How long a claim holds a delivery; longer than `timeout`, so a live worker never loses
    /// its claim, and short enough that a killed one's work is taken over soon.
    pub lease: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            policy: UrlPolicy::default(),
            timeout: StdDuration::from_secs(15),
            concurrency: 16,
            lease: Duration::seconds(60),
        }
    }
}

/// A new endpoint, checked.
#[derive(Debug, Clone)]
pub struct EndpointNew {
    /// `Some(None)`: platform-wide; `None`: the caller's institution (operators: platform-wide).
    pub institution_id: Option<Option<String>>,
    pub url: String,
    pub description: String,
    pub event_types: Vec<EventType>,
    pub enabled: bool,
}

/// Fields to change.
#[derive(Debug, Clone, Default)]
pub struct EndpointChange {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<EventType>>,
    pub enabled: Option<bool>,
}

fn refused(e: crate::webhook::address::Refusal) -> Error {
    Error::validation_one("/url", "url_not_allowed", e.to_string())
}

/// Syntax and, by resolving it now, the addresses of `url`.
async fn check_target(g: &Guichet, url: &str) -> Result<String, Error> {
    let parsed = check_url(url, g.webhooks.policy).map_err(refused)?;
    resolve_checked(&parsed, g.webhooks.policy)
        .await
        .map_err(refused)?;
    Ok(parsed.to_string())
}

/// The endpoint `id`, if the actor may manage it (404 otherwise, as if it did not exist).
fn managed_endpoint(conn: &mut db::DbConn, actor: &Staff, id: &str) -> Result<Endpoint, Error> {
    let endpoint = store::endpoint_get(conn, id)?.ok_or(Error::NotFound {
        resource: "webhook endpoint",
    })?;
    authz::webhook_access(actor, endpoint.institution_id.as_deref())?;
    Ok(endpoint)
}

/// `POST /v1/webhook-endpoints`: the endpoint and its signing secret, shown this once.
pub async fn endpoint_create(
    g: &Guichet,
    actor: &Staff,
    new: EndpointNew,
) -> Result<(Endpoint, String), Error> {
    let institution_id = match new.institution_id.clone() {
        Some(chosen) => chosen,
        None => actor.institution_id.clone(),
    };
    authz::webhook_access(actor, institution_id.as_deref())?;
    let url = check_target(g, &new.url).await?;
    let (_, secret) = SigningSecret::generate();
    let who = Actor::from(actor);
    let created_by = actor.user_id.clone();
    g.db.transaction(move |conn| {
        if let Some(inst) = &institution_id
            && !db::institutions::institution_exists(conn, inst)?
        {
            return Err(Error::validation_one(
                "/institution_id",
                "unknown_institution",
                crate::domain::catalogue::Msg::FieldUnknownInstitution { id: inst.clone() },
            ));
        }
        let now = db::now();
        let endpoint = Endpoint {
            id: new_id(),
            institution_id,
            url,
            description: new.description,
            event_types: new.event_types,
            enabled: new.enabled,
            disabled_reason: (!new.enabled).then_some(DisabledReason::ByHand),
            failing_since: None,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        store::endpoint_insert(conn, &endpoint, &secret, Some(&created_by))?;
        record(
            conn,
            &who,
            now,
            Change::WebhookEndpointCreated {
                endpoint: &endpoint,
            },
        )?;
        Ok((endpoint, secret))
    })
    .await
}

/// `GET /v1/webhook-endpoints`: an institution admin's endpoints, or (operators) those of the
/// institution asked for, the platform-wide ones (`platform`), or all.
pub async fn endpoint_list(
    g: &Guichet,
    actor: &Staff,
    institution: Option<String>,
    after: Option<String>,
    limit: i64,
) -> Result<Page<Endpoint>, Error> {
    let scope_inst = match (&institution, &actor.institution_id) {
        (Some(i), _) => Some(i.clone()),
        (None, own) => own.clone(),
    };
    if let Some(inst) = &scope_inst
        && inst != "platform"
    {
        authz::webhook_access(actor, Some(inst))?;
    } else {
        authz::webhook_access(actor, None)?;
    }
    g.db.run(move |conn| {
        let scope = match scope_inst.as_deref() {
            Some("platform") => store::EndpointScope::Platform,
            Some(inst) => store::EndpointScope::Institution(inst),
            None => store::EndpointScope::All,
        };
        let rows = store::endpoint_list(conn, scope, after.as_deref(), limit + 1)?;
        Ok(Page::from_rows(rows, limit, |e| e.id.clone()))
    })
    .await
}

pub async fn endpoint_get(g: &Guichet, actor: &Staff, id: &str) -> Result<Endpoint, Error> {
    known_uuid(id, "webhook endpoint")?;
    let (actor, id) = (actor.clone(), id.to_owned());
    g.db.run(move |conn| managed_endpoint(conn, &actor, &id))
        .await
}

/// `PATCH /v1/webhook-endpoints/{id}`. Enabling again clears the failure run, so a fixed
/// endpoint starts afresh (its failed deliveries wait for a replay).
pub async fn endpoint_update(
    g: &Guichet,
    actor: &Staff,
    id: &str,
    change: EndpointChange,
) -> Result<Endpoint, Error> {
    known_uuid(id, "webhook endpoint")?;
    let (actor, id) = (actor.clone(), id.to_owned());
    // Authorize before resolving anything the caller names.
    {
        let (actor, id) = (actor.clone(), id.clone());
        g.db.run(move |conn| managed_endpoint(conn, &actor, &id).map(|_| ()))
            .await?;
    }
    let url = match &change.url {
        Some(u) => Some(check_target(g, u).await?),
        None => None,
    };
    g.db.transaction(move |conn| {
        let mut e = managed_endpoint(conn, &actor, &id)?;
        let expected = e.version;
        let now = db::now();
        if let Some(u) = url {
            e.url = u;
        }
        if let Some(d) = change.description {
            e.description = d;
        }
        if let Some(t) = change.event_types {
            e.event_types = t;
        }
        if let Some(enabled) = change.enabled
            && enabled != e.enabled
        {
            e.enabled = enabled;
            e.disabled_reason = (!enabled).then_some(DisabledReason::ByHand);
            e.failing_since = None;
            if !enabled {
                store::deliveries_fail_pending(conn, &e.id, "the endpoint was disabled", now)?;
            }
        }
        e.version += 1;
        e.updated_at = now;
        if !store::endpoint_save(conn, &e, expected)? {
            return Err(Error::conflict(
                "concurrent_change",
                "The endpoint changed while this request ran; read it again.",
            ));
        }
        record(
            conn,
            &Actor::Staff(actor.clone()),
            now,
            Change::WebhookEndpointUpdated { endpoint: &e },
        )?;
        Ok(e)
    })
    .await
}

/// `DELETE /v1/webhook-endpoints/{id}`: it receives nothing more; its pending deliveries fail.
pub async fn endpoint_delete(g: &Guichet, actor: &Staff, id: &str) -> Result<(), Error> {
    known_uuid(id, "webhook endpoint")?;
    let (actor, id) = (actor.clone(), id.to_owned());
    g.db.transaction(move |conn| {
        let e = managed_endpoint(conn, &actor, &id)?;
        let now = db::now();
        store::deliveries_fail_pending(conn, &e.id, "the endpoint was deleted", now)?;
        store::endpoint_delete(conn, &e.id, now)?;
        record(
            conn,
            &Actor::Staff(actor.clone()),
            now,
            Change::WebhookEndpointDeleted { endpoint: &e },
        )?;
        Ok(())
    })
    .await
}

/// `POST /v1/webhook-endpoints/{id}/secret`: a new secret, shown once; the old one keeps
/// signing (beside the new) for 24 hours, so receivers can switch without losing a delivery.
pub async fn secret_rotate(
    g: &Guichet,
    actor: &Staff,
    id: &str,
) -> Result<(Endpoint, String, NaiveDateTime), Error> {
    known_uuid(id, "webhook endpoint")?;
    let (actor, id) = (actor.clone(), id.to_owned());
    let (_, secret) = SigningSecret::generate();
    g.db.transaction(move |conn| {
        let e = managed_endpoint(conn, &actor, &id)?;
        let now = db::now();
        let until = now + Duration::hours(ROTATION_GRACE_HOURS);
        store::endpoint_rotate(conn, &e.id, &secret, now, until)?;
        record(
            conn,
            &Actor::Staff(actor.clone()),
            now,
            Change::WebhookSecretRotated { endpoint: &e },
        )?;
        let e = store::endpoint_get(conn, &e.id)?.ok_or(Error::NotFound {
            resource: "webhook endpoint",
        })?;
        Ok((e, secret, until))
    })
    .await
}

/// `POST /v1/webhook-endpoints/{id}/ping`: one `webhook_endpoint.ping` delivery to this
/// endpoint only. Returns the delivery.
pub async fn endpoint_ping(g: &Guichet, actor: &Staff, id: &str) -> Result<Delivery, Error> {
    known_uuid(id, "webhook endpoint")?;
    let (actor, id) = (actor.clone(), id.to_owned());
    g.db.transaction(move |conn| {
        let e = managed_endpoint(conn, &actor, &id)?;
        if !e.enabled {
            return Err(Error::conflict(
                "endpoint_disabled",
                "This endpoint is disabled: enable it before pinging it.",
            ));
        }
        let now = db::now();
        let recorded = record(
            conn,
            &Actor::Staff(actor.clone()),
            now,
            Change::WebhookEndpointPinged { endpoint: &e },
        )?;
        let delivery_id = recorded
            .delivery_ids
            .first()
            .ok_or_else(|| Error::internal("a ping made no delivery"))?;
        store::delivery_get(conn, delivery_id)?.ok_or_else(|| Error::internal("ping vanished"))
    })
    .await
}

/// `POST /v1/webhook-endpoints/{id}/replay`: every failed delivery of the endpoint is pending
/// again, with a fresh schedule. Returns how many.
pub async fn endpoint_replay(g: &Guichet, actor: &Staff, id: &str) -> Result<usize, Error> {
    known_uuid(id, "webhook endpoint")?;
    let (actor, id) = (actor.clone(), id.to_owned());
    g.db.transaction(move |conn| {
        let e = managed_endpoint(conn, &actor, &id)?;
        if !e.enabled {
            return Err(Error::conflict(
                "endpoint_disabled",
                "This endpoint is disabled: enable it once it is fixed, then replay.",
            ));
        }
        let now = db::now();
        let count = store::deliveries_replay(conn, &e.id, now)?;
        record(
            conn,
            &Actor::Staff(actor.clone()),
            now,
            Change::WebhookDeliveriesReplayed {
                endpoint: &e,
                count,
            },
        )?;
        Ok(count)
    })
    .await
}

/// `GET /v1/webhook-endpoints/{id}/deliveries`, newest first.
pub async fn deliveries_list(
    g: &Guichet,
    actor: &Staff,
    id: &str,
    status: Option<DeliveryStatus>,
    before: Option<String>,
    limit: i64,
) -> Result<Page<Delivery>, Error> {
    known_uuid(id, "webhook endpoint")?;
    let (actor, id) = (actor.clone(), id.to_owned());
    g.db.run(move |conn| {
        let e = managed_endpoint(conn, &actor, &id)?;
        let rows = store::deliveries_list(conn, &e.id, status, before.as_deref(), limit + 1)?;
        Ok(Page::from_rows(rows, limit, |d| d.id.clone()))
    })
    .await
}

/// The most attempts a delivery shows (the schedule has eight; re-sends add more).
pub const ATTEMPTS_SHOWN: i64 = 100;

/// `GET /v1/webhook-deliveries/{id}`: the delivery and its attempts.
pub async fn delivery_get(
    g: &Guichet,
    actor: &Staff,
    id: &str,
) -> Result<(Delivery, Vec<Attempt>), Error> {
    known_uuid(id, "webhook delivery")?;
    let (actor, id) = (actor.clone(), id.to_owned());
    g.db.run(move |conn| {
        let d = visible_delivery(conn, &actor, &id)?;
        let attempts = store::attempts_of(conn, &d.id, ATTEMPTS_SHOWN)?;
        Ok((d, attempts))
    })
    .await
}

fn visible_delivery(conn: &mut db::DbConn, actor: &Staff, id: &str) -> Result<Delivery, Error> {
    let not_found = Error::NotFound {
        resource: "webhook delivery",
    };
    let d = store::delivery_get(conn, id)?.ok_or(not_found)?;
    match managed_endpoint(conn, actor, &d.endpoint_id) {
        Ok(_) => Ok(d),
        Err(Error::NotFound { .. }) => Err(Error::NotFound {
            resource: "webhook delivery",
        }),
        Err(e) => Err(e),
    }
}

/// `POST /v1/webhook-deliveries/{id}/resend`: tried again now, with the same `webhook-id`.
pub async fn delivery_resend(g: &Guichet, actor: &Staff, id: &str) -> Result<Delivery, Error> {
    known_uuid(id, "webhook delivery")?;
    let (actor, id) = (actor.clone(), id.to_owned());
    g.db.transaction(move |conn| {
        let d = visible_delivery(conn, &actor, &id)?;
        let e = managed_endpoint(conn, &actor, &d.endpoint_id)?;
        if !e.enabled {
            return Err(Error::conflict(
                "endpoint_disabled",
                "This endpoint is disabled: enable it before re-sending.",
            ));
        }
        let now = db::now();
        store::delivery_resend(conn, &d.id, now)?;
        record(
            conn,
            &Actor::Staff(actor.clone()),
            now,
            Change::WebhookDeliveryResent {
                endpoint: &e,
                delivery_id: &d.id,
            },
        )?;
        store::delivery_get(conn, &d.id)?.ok_or_else(|| Error::internal("delivery vanished"))
    })
    .await
}

/// What one relay pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayPass {
    pub claimed: usize,
    pub delivered: usize,
    pub failed: usize,
}

/// A delivery this worker holds a lease on, with the secrets that sign it now.
#[derive(Debug, Clone)]
pub struct Claim {
    token: String,
    delivery: store::Claimed,
    secrets: Vec<String>,
}

/// Leases up to `limit` due deliveries (first attempts first) to this worker.
pub async fn claim_due(g: &Guichet, now: NaiveDateTime, limit: i64) -> Result<Vec<Claim>, Error> {
    if limit <= 0 {
        return Ok(Vec::new());
    }
    let token = new_id();
    let lease_until = now + g.webhooks.lease;
    g.db.run(move |conn| {
        let claimed = store::claim(conn, &token, now, lease_until, limit)?;
        let mut out = Vec::with_capacity(claimed.len());
        for delivery in claimed {
            let secrets = store::endpoint_secrets(conn, &delivery.endpoint_id, now)?;
            out.push(Claim {
                token: token.clone(),
                delivery,
                secrets,
            });
        }
        Ok(out)
    })
    .await
}

/// Makes one attempt of a claimed delivery, outside any transaction, and records it.
pub async fn attempt_claim(
    g: &Guichet,
    now: NaiveDateTime,
    claim: Claim,
) -> Result<AttemptOutcome, Error> {
    deliver_one(g, now, &claim.token, claim.delivery, claim.secrets).await
}

/// One pass of the relay (`Worker::run_due`, which tests drive): claims up to `batch` due
/// deliveries and attempts them, up to `concurrency` at once. The running frame does not wait
/// for whole passes: it keeps `concurrency` attempts in flight (`crate::worker`).
pub async fn relay_pass(g: &Guichet, now: NaiveDateTime, batch: i64) -> Result<RelayPass, Error> {
    let claimed = claim_due(g, now, batch).await?;
    let mut pass = RelayPass {
        claimed: claimed.len(),
        ..RelayPass::default()
    };
    let outcomes = futures_util::stream::iter(claimed)
        .map(|claim| attempt_claim(g, now, claim))
        .buffer_unordered(g.webhooks.concurrency.max(1))
        .collect::<Vec<Result<AttemptOutcome, Error>>>()
        .await;
    for outcome in outcomes {
        match outcome? {
            AttemptOutcome::Delivered => pass.delivered += 1,
            _ => pass.failed += 1,
        }
    }
    Ok(pass)
}

async fn deliver_one(
    g: &Guichet,
    now: NaiveDateTime,
    token: &str,
    c: store::Claimed,
    secrets: Vec<String>,
) -> Result<AttemptOutcome, Error> {
    let parsed: Vec<SigningSecret> = secrets
        .iter()
        .filter_map(|s| SigningSecret::parse(s).ok())
        .collect();
    let refs: Vec<&SigningSecret> = parsed.iter().collect();
    let body = c.payload.clone().into_bytes();
    let timestamp = now.and_utc().timestamp();
    let sent = match url::Url::parse(&c.url) {
        Ok(url) => {
            let out = Outgoing {
                url,
                headers: standard_headers(&refs, &c.event_id, timestamp, &body),
                body,
            };
            let opts = SendOptions {
                timeout: g.webhooks.timeout,
                policy: g.webhooks.policy,
                ..SendOptions::default()
            };
            send::attempt(&out, &opts).await
        }
        Err(e) => send::Attempt {
            outcome: Outcome::Failed { retry_after: None },
            status: None,
            duration_ms: 0,
            response_excerpt: String::new(),
            error: Some(format!("the stored URL cannot be parsed: {e}")),
        },
    };
    let outcome = match sent.outcome {
        Outcome::Delivered => AttemptOutcome::Delivered,
        Outcome::Gone => AttemptOutcome::Gone,
        Outcome::Failed { .. } => AttemptOutcome::Failed,
    };
    let retry_after = match sent.outcome {
        Outcome::Failed { retry_after } => retry_after.and_then(|d| Duration::from_std(d).ok()),
        _ => None,
    };
    let jitter: f64 = rand::random();
    let token = token.to_owned();
    g.db.transaction(move |conn| {
        let attempts = c.attempts + 1;
        let status_code = sent.status.map(i32::from);
        store::attempt_insert(
            conn,
            &Attempt {
                id: new_id(),
                delivery_id: c.delivery_id.clone(),
                attempted_at: now,
                duration_ms: i64::try_from(sent.duration_ms).unwrap_or(i64::MAX),
                status_code,
                outcome,
                error: sent.error.clone(),
                response_excerpt: sent.response_excerpt.clone(),
            },
        )?;
        let (status, next) = match outcome {
            AttemptOutcome::Delivered => (DeliveryStatus::Delivered, now),
            AttemptOutcome::Gone => (DeliveryStatus::Failed, now),
            AttemptOutcome::Failed => match next_attempt_delay(attempts, jitter, retry_after) {
                Some(wait) => (DeliveryStatus::Pending, now + wait),
                None => (DeliveryStatus::Failed, now),
            },
        };
        let kept = store::delivery_finish(
            conn,
            &c.delivery_id,
            &token,
            &store::Finish {
                status,
                attempts,
                next_attempt_at: next,
                status_code,
                error: sent.error.as_deref(),
                now,
            },
        )?;
        if !kept {
            tracing::warn!(delivery.id = %c.delivery_id, "a delivery's lease expired during its attempt; another worker owns it");
            return Ok(outcome);
        }
        match outcome {
            AttemptOutcome::Delivered => store::endpoint_succeeded(conn, &c.endpoint_id)?,
            AttemptOutcome::Gone => disable(conn, &c.endpoint_id, DisabledReason::Gone, now)?,
            AttemptOutcome::Failed => {
                let since = store::endpoint_failing(conn, &c.endpoint_id, now)?;
                if now - since >= Duration::days(DISABLE_AFTER_FAILING_DAYS) {
                    disable(conn, &c.endpoint_id, DisabledReason::Failing, now)?;
                }
            }
        }
        tracing::info!(
            delivery.id = %c.delivery_id,
            endpoint.id = %c.endpoint_id,
            attempt = attempts,
            outcome = outcome.as_str(),
            status = ?sent.status,
            duration_ms = sent.duration_ms,
            "webhook attempt"
        );
        Ok(outcome)
    })
    .await
}

/// Guichet disables an endpoint (410, or five days of failures): its pending deliveries fail
/// (a replay brings them back once it is fixed) and the change is recorded, which tells the
/// institution's other endpoints (and, later, its admins by e-mail).
fn disable(
    conn: &mut db::DbConn,
    endpoint_id: &str,
    reason: DisabledReason,
    now: NaiveDateTime,
) -> Result<(), Error> {
    let Some(mut e) = store::endpoint_get(conn, endpoint_id)? else {
        return Ok(());
    };
    if !e.enabled {
        return Ok(());
    }
    let expected = e.version;
    e.enabled = false;
    e.disabled_reason = Some(reason);
    e.version += 1;
    e.updated_at = now;
    if !store::endpoint_save(conn, &e, expected)? {
        return Ok(());
    }
    store::deliveries_fail_pending(
        conn,
        &e.id,
        match reason {
            DisabledReason::Gone => "the endpoint answered 410 Gone and was disabled",
            _ => "the endpoint kept failing and was disabled",
        },
        now,
    )?;
    tracing::warn!(endpoint.id = %e.id, reason = reason.as_str(), "webhook endpoint disabled");
    record(
        conn,
        &Actor::System,
        now,
        Change::WebhookEndpointDisabled {
            endpoint: &e,
            reason,
        },
    )?;
    Ok(())
}

/// Housekeeping of the feed: events past `retention` whose deliveries are all finished.
pub async fn purge_events(
    g: &Guichet,
    now: NaiveDateTime,
    retention: Duration,
) -> Result<usize, Error> {
    let before = now - retention;
    g.db.run(move |conn| outbox::purge(conn, before, 1000))
        .await
}
