//! The mail relay and the recipients' choices. The recorder writes messages
//! (`service::notify`); the worker frame claims the due ones under a lease, renders them with
//! what the change knew, and hands them to the transport (SMTP, or `.eml` files). A connection
//! error or a 4xx reply is retried with back-off; a 5xx reply or an unusable address marks the
//! message failed, with the reason kept for operators.
//!
//! Optional notices (SLA reminders) carry a one-click `List-Unsubscribe` link (RFC 8058) whose
//! token is an HMAC of the address: nothing to look up, nothing to guess.

use std::sync::Arc;

use base64::Engine;
use chrono::{Duration, NaiveDateTime};
use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use lettre::message::Mailbox;
use sha2::Sha256;

use crate::db::mail::{self as store, ClaimedMail, MailOutcome};
use crate::domain::account::Actor;
use crate::domain::mail::{Category, Kind, retry_delay, send_after};
use crate::error::Error;
use crate::mail::{Outgoing, SendError, Transport};
use crate::service::record::{Change, record};
use crate::service::{Guichet, new_id};

/// How e-mail is sent (flags of `serve`, see README).
#[derive(Clone)]
pub struct MailSettings {
    pub transport: Transport,
    pub from: Mailbox,
    /// Prefix of every link in a message (the console, the unsubscribe link).
    pub public_url: String,
    /// How long a claim holds a message; longer than the SMTP timeout.
    pub lease: Duration,
    /// Messages in flight at once, per instance.
    pub concurrency: usize,
    /// Signs unsubscribe links.
    pub unsubscribe_key: Arc<[u8; 32]>,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings {
            transport: Transport::Folder("guichet-mail".into()),
            from: Mailbox::new(
                Some("Guichet".into()),
                lettre::Address::new_dangerous("guichet", "localhost"),
            ),
            public_url: "http://localhost:8080".into(),
            lease: Duration::seconds(120),
            concurrency: 4,
            unsubscribe_key: Arc::new([0; 32]),
        }
    }
}

/// What one relay pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MailPass {
    pub claimed: usize,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

/// A message this worker holds a lease on.
#[derive(Debug, Clone)]
pub struct MailClaim {
    token: String,
    mail: ClaimedMail,
}

/// Leases up to `limit` due messages to this worker.
pub async fn claim_due(
    g: &Guichet,
    now: NaiveDateTime,
    limit: i64,
) -> Result<Vec<MailClaim>, Error> {
    if limit <= 0 {
        return Ok(Vec::new());
    }
    let token = new_id();
    let lease_until = now + g.mail.lease;
    let claimed = {
        let token = token.clone();
        g.db.run(move |conn| store::claim(conn, &token, now, lease_until, limit))
            .await?
    };
    Ok(claimed
        .into_iter()
        .map(|mail| MailClaim {
            token: token.clone(),
            mail,
        })
        .collect())
}

/// How an attempt ended, for counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    Sent,
    Retried,
    Failed,
    /// The lease was lost meanwhile: another worker owns the message; nothing recorded.
    LeaseLost,
}

fn link(g: &Guichet, path: &str) -> String {
    format!("{}{path}", g.mail.public_url.trim_end_matches('/'))
}

/// The full context of a message: what the change knew, plus the links of this deployment.
fn full_context(g: &Guichet, m: &ClaimedMail) -> Result<serde_json::Value, String> {
    let mut ctx: serde_json::Value =
        serde_json::from_str(&m.context).map_err(|e| format!("stored context unreadable: {e}"))?;
    let map = ctx
        .as_object_mut()
        .ok_or("stored context is not an object")?;
    map.insert("locale".into(), m.locale.clone().into());
    map.insert("base_url".into(), g.mail.public_url.clone().into());
    if let Some(path) = map
        .get("link_path")
        .and_then(|p| p.as_str())
        .map(str::to_owned)
    {
        map.insert("link".into(), link(g, &path).into());
    }
    if Kind::parse(&m.kind).is_some_and(|k| k.category() == Category::Reminder) {
        map.insert(
            "unsubscribe_url".into(),
            unsubscribe_url(g, &m.recipient).into(),
        );
    }
    Ok(ctx)
}

/// Renders, builds and sends one claimed message, and records how it went.
pub async fn send_claim(g: &Guichet, now: NaiveDateTime, claim: MailClaim) -> Result<Sent, Error> {
    let MailClaim { token, mail: m } = claim;
    let kind = Kind::parse(&m.kind);
    let attempts = m.attempts + 1;
    let result = async {
        let ctx = full_context(g, &m).map_err(SendError::Permanent)?;
        let rendered =
            crate::mail::render(&m.kind, &m.locale, &ctx).map_err(SendError::Permanent)?;
        let unsubscribe = ctx.get("unsubscribe_url").and_then(|u| u.as_str());
        let message = crate::mail::build(&Outgoing {
            from: &g.mail.from,
            to: &m.recipient,
            message_id: &m.message_id,
            rendered: &rendered,
            unsubscribe_url: unsubscribe,
            language: &m.locale,
        })?;
        g.mail.transport.send(message, &m.message_id).await
    }
    .await;
    let category = kind.map_or(Category::Assignment, Kind::category);
    let (outcome, sent) = match result.clone() {
        Ok(()) => (MailOutcome::Sent, Sent::Sent),
        Err(SendError::Permanent(error)) => (MailOutcome::Failed { error }, Sent::Failed),
        Err(SendError::Transient(error)) => match retry_delay(attempts) {
            Some(wait) => (
                MailOutcome::Retry {
                    next: send_after(category, now + wait),
                    error,
                },
                Sent::Retried,
            ),
            None => (MailOutcome::Failed { error }, Sent::Failed),
        },
    };
    let wipe = kind.is_some_and(Kind::carries_secret);
    let (id, tok) = (m.id.clone(), token.clone());
    let kept = g
        .db
        .run(move |conn| store::finish(conn, &id, &tok, attempts, &outcome, wipe, crate::db::now()))
        .await?;
    if !kept {
        tracing::warn!(
            mail.message_id = %m.message_id,
            mail.kind = %m.kind,
            "an e-mail attempt outlived its lease; another worker owns the message now"
        );
        return Ok(Sent::LeaseLost);
    }
    // The message id and kind only: never the recipient, the subject or the body.
    match (&result, &g.mail.transport) {
        (Ok(()), Transport::Folder(dir)) => tracing::info!(
            mail.message_id = %m.message_id,
            mail.kind = %m.kind,
            "e-mail written to {}/{}.eml (no SMTP server configured)",
            dir.display(),
            m.message_id
        ),
        (Ok(()), Transport::Smtp { .. }) => {
            tracing::info!(mail.message_id = %m.message_id, mail.kind = %m.kind, "e-mail sent")
        }
        (Err(e), _) => tracing::warn!(
            mail.message_id = %m.message_id,
            mail.kind = %m.kind,
            mail.attempts = attempts,
            mail.outcome = ?sent,
            error = ?e,
            "e-mail not sent"
        ),
    }
    Ok(sent)
}

/// Claims and sends what is due now, a few at a time (tests, and `Worker::run_due`).
pub async fn relay_pass(g: &Guichet, now: NaiveDateTime, batch: i64) -> Result<MailPass, Error> {
    let claimed = claim_due(g, now, batch).await?;
    let mut pass = MailPass {
        claimed: claimed.len(),
        ..MailPass::default()
    };
    let outcomes = futures_util::stream::iter(claimed)
        .map(|claim| send_claim(g, now, claim))
        .buffer_unordered(g.mail.concurrency.max(1))
        .collect::<Vec<Result<Sent, Error>>>()
        .await;
    for outcome in outcomes {
        match outcome? {
            Sent::Sent => pass.sent += 1,
            Sent::Retried => pass.retried += 1,
            Sent::Failed => pass.failed += 1,
            Sent::LeaseLost => {}
        }
    }
    Ok(pass)
}

/// Deletes sent and failed messages older than `retention`, and expired reset tokens.
pub async fn purge(g: &Guichet, now: NaiveDateTime, retention: Duration) -> Result<usize, Error> {
    g.db.run(move |conn| {
        let n = store::purge(conn, now - retention)?;
        Ok(n + store::resets_purge(conn, now - Duration::days(1))?)
    })
    .await
}

type HmacSha256 = Hmac<Sha256>;

const UNSUBSCRIBE_PREFIX: &str = "reminder:";

fn unsubscribe_mac(key: &[u8; 32], payload: &[u8]) -> Result<HmacSha256, Error> {
    let mut mac = HmacSha256::new_from_slice(key).map_err(Error::internal)?;
    mac.update(b"unsubscribe:");
    mac.update(payload);
    Ok(mac)
}

/// The one-click unsubscribe token of `address`: the address and an HMAC of it.
pub fn unsubscribe_token(g: &Guichet, address: &str) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload = format!("{UNSUBSCRIBE_PREFIX}{}", address.to_lowercase());
    let sig = unsubscribe_mac(&g.mail.unsubscribe_key, payload.as_bytes())
        .map(|m| m.finalize().into_bytes().to_vec())
        .unwrap_or_default();
    format!(
        "{}.{}",
        b64.encode(payload),
        b64.encode(&sig[..sig.len().min(16)])
    )
}

fn unsubscribe_url(g: &Guichet, address: &str) -> String {
    link(
        g,
        &format!(
            "/v1/mail/unsubscribe?token={}",
            unsubscribe_token(g, address)
        ),
    )
}

/// The address a token was made for, if the token is genuine.
fn unsubscribe_address(g: &Guichet, token: &str) -> Option<String> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (payload, sig) = token.split_once('.')?;
    let payload = b64.decode(payload).ok()?;
    let sig = b64.decode(sig).ok()?;
    if sig.len() != 16 {
        return None;
    }
    unsubscribe_mac(&g.mail.unsubscribe_key, &payload)
        .ok()?
        .verify_truncated_left(&sig)
        .ok()?;
    let payload = String::from_utf8(payload).ok()?;
    payload.strip_prefix(UNSUBSCRIBE_PREFIX).map(str::to_owned)
}

/// A token that is not ours: the link names nothing (404, like an unknown id).
fn bad_token() -> Error {
    Error::NotFound {
        resource: "unsubscribe link",
    }
}

/// `POST /v1/mail/unsubscribe?token=…` (one-click, RFC 8058): no more SLA reminders to the
/// token's address. Idempotent.
pub async fn unsubscribe(g: &Guichet, token: &str) -> Result<(), Error> {
    let address = unsubscribe_address(g, token).ok_or_else(bad_token)?;
    g.db.transaction(move |conn| {
        let now = crate::db::now();
        store::opt_out_set(conn, &address, Category::Reminder.as_str(), true, now)?;
        record(
            conn,
            &Actor::System,
            now,
            Change::RemindersChosen {
                institution_id: None,
                enabled: false,
            },
        )?;
        Ok(())
    })
    .await
}

/// Checks an unsubscribe token without using it (`GET`, the confirmation page).
pub fn unsubscribe_check(g: &Guichet, token: &str) -> Result<(), Error> {
    unsubscribe_address(g, token)
        .map(|_| ())
        .ok_or_else(bad_token)
}

/// `GET /v1/mail-messages`: the e-mails of the caller's scope (see `authz::mail_scope`), newest
/// first, to see what was sent, what waits for a retry and what failed, and why.
pub async fn message_list(
    g: &Guichet,
    actor: &crate::domain::account::Staff,
    institution: Option<String>,
    status: Option<&'static str>,
    before: Option<String>,
    limit: i64,
) -> Result<crate::service::Page<store::MailSummary>, Error> {
    let scope = crate::service::authz::mail_scope(actor, institution.as_deref())?;
    g.db.run(move |conn| {
        if let Some(i) = &scope
            && !crate::db::institutions::institution_exists(conn, i)?
        {
            return Err(Error::NotFound {
                resource: "institution",
            });
        }
        let rows = store::page(conn, scope.as_deref(), status, before.as_deref(), limit + 1)?;
        Ok(crate::service::Page::from_rows(rows, limit, |m| {
            m.id.clone()
        }))
    })
    .await
}
