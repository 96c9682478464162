//! Logging in, rotating refresh tokens, logging out, and authenticating bearer tokens.

use chrono::{Duration, Utc};

use crate::auth::{random_secret, secret_hash};
use crate::db::{self, accounts, throttles};
use crate::domain::account::{Actor, Staff, User, normalize_email};
use crate::error::Error;
use crate::service::record::{Change, record};
use crate::service::{Client, Guichet, Quota, new_id};

/// What a successful login or refresh returns.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_token: String,
}

fn invalid_credentials() -> Error {
    Error::Unauthorized {
        code: "invalid_credentials",
        detail: "The e-mail address or the password is wrong.",
    }
}

fn invalid_refresh_token() -> Error {
    Error::Unauthorized {
        code: "invalid_refresh_token",
        detail: "The refresh token is invalid, expired, revoked or already used.",
    }
}

/// `POST /v1/auth/token`. Wrong e-mail and wrong password look the same, in body and in time;
/// repeated failures per account and per client address are throttled (429).
pub async fn auth_login(
    g: &Guichet,
    email: &str,
    password: String,
    client: &Client,
) -> Result<TokenPair, Error> {
    let email = normalize_email(email);
    let account_key = format!("login:account:{email}");
    let address_key = format!("login:address:{}", client.addr);
    let limits = g.limits.clone();
    let window_seconds = limits.login_lockout_seconds;

    // Each attempt is counted before its password is hashed, so a burst of parallel guesses
    // gets at most the limit of verifications; a success gives its counts back.
    let (quotas, wait, account, stored_hash) = {
        let (account_key, address_key, email) =
            (account_key.clone(), address_key.clone(), email.clone());
        g.db.run(move |conn| {
            let now = db::now();
            let window = Duration::seconds(window_seconds as i64);
            let mut quotas = Vec::new();
            let mut wait = None;
            for (policy, key, limit) in [
                (
                    "login-account",
                    &account_key,
                    limits.login_failures_per_account,
                ),
                (
                    "login-address",
                    &address_key,
                    limits.login_failures_per_address,
                ),
            ] {
                let attempt = throttles::throttle_attempt(conn, key, now, window, limit, window)?;
                wait = wait.max(attempt.retry_after);
                quotas.push(Quota::of(policy, limit, window_seconds, &attempt));
            }
            // A refused attempt reads no account.
            let (account, hash) = match wait {
                Some(_) => (None, None),
                None => accounts::user_by_email(conn, &email)?.unzip(),
            };
            Ok((quotas, wait, account, hash))
        })
        .await?
    };
    for q in quotas {
        if wait.is_some() && q.remaining == 0 {
            g.metrics.throttled(q.policy);
        }
        client.report(q);
    }
    if let Some(retry_after) = wait {
        return Err(Error::TooManyRequests { retry_after });
    }

    let password_ok = g.passwords.verify(password, stored_hash).await?;
    let user = match account {
        Some(user) if password_ok && !user.disabled => user,
        _ => {
            g.metrics.login_failed();
            return Err(invalid_credentials());
        }
    };

    let ttl = g.limits.refresh_token_ttl_seconds as i64;
    let refresh_token = random_secret();
    let refresh_hash = secret_hash(&refresh_token);
    let session_id = new_id();
    {
        let (user, session_id) = (user.clone(), session_id.clone());
        g.db.run(move |conn| {
            throttles::throttle_clear(conn, &account_key)?;
            throttles::throttle_refund(conn, &address_key)?;
            db::transaction(conn, |conn| {
                let now = db::now();
                let expires = now + Duration::seconds(ttl);
                accounts::session_insert(conn, &session_id, &user.id, now, expires)?;
                accounts::refresh_insert(
                    conn,
                    &new_id(),
                    &session_id,
                    &refresh_hash,
                    now,
                    expires,
                )?;
                let actor = Actor::Staff(Staff::of(&user, &session_id));
                record(conn, &actor, now, Change::SessionStarted { user: &user })?;
                Ok(())
            })
        })
        .await?;
    }
    tracing::info!(user.id = %user.id, session.id = %session_id, "login");
    Ok(TokenPair {
        access_token: g.tokens.issue(&user.id, &session_id, Utc::now())?,
        expires_in: g.tokens.ttl_seconds(),
        refresh_token,
    })
}

/// `POST /v1/auth/refresh`: a refresh token is good once. Presenting a used one again means it
/// leaked: the whole session (its family of tokens) is revoked.
pub async fn auth_refresh(
    g: &Guichet,
    refresh_token: &str,
    client: &Client,
) -> Result<TokenPair, Error> {
    // Refresh tokens are 256-bit random values, so guessing is hopeless; the throttle bounds
    // the database work a client can cause, and is shown like every other.
    crate::service::per_minute(g, client, "refresh", g.limits.refreshes_per_minute).await?;
    let presented = secret_hash(refresh_token);
    let next_token = random_secret();
    let next_hash = secret_hash(&next_token);
    let ttl = g.limits.refresh_token_ttl_seconds as i64;
    let outcome = g
        .db
        .run(move |conn| {
            db::transaction(conn, |conn| {
                let now = db::now();
                let Some(token) = accounts::refresh_by_hash(conn, &presented)? else {
                    return Ok(Err(invalid_refresh_token()));
                };
                if token.used_at.is_some() || !accounts::refresh_claim(conn, &token.id, now)? {
                    if let Some(owner) = accounts::session_user(conn, &token.session_id, now)? {
                        record(
                            conn,
                            &Actor::System,
                            now,
                            Change::SessionEnded {
                                user_id: &owner.id,
                                institution_id: owner.institution_id.as_deref(),
                            },
                        )?;
                    }
                    accounts::session_revoke(conn, &token.session_id, now)?;
                    return Ok(Err(Error::Unauthorized {
                        code: "refresh_token_reused",
                        detail: "This refresh token was already used; its session has been revoked.",
                    }));
                }
                if token.expires_at <= now {
                    return Ok(Err(invalid_refresh_token()));
                }
                let Some(user) = accounts::session_user(conn, &token.session_id, now)? else {
                    return Ok(Err(invalid_refresh_token()));
                };
                let expires = now + Duration::seconds(ttl);
                accounts::refresh_insert(conn, &new_id(), &token.session_id, &next_hash, now, expires)?;
                record(
                    conn,
                    &Actor::Staff(Staff::of(&user, &token.session_id)),
                    now,
                    Change::SessionRefreshed {
                        user_id: &user.id,
                        institution_id: user.institution_id.as_deref(),
                    },
                )?;
                Ok(Ok((user, token.session_id)))
            })
        })
        .await?;
    // The revocation above must be committed even though the client gets a 401.
    let (user, session_id) = outcome?;
    Ok(TokenPair {
        access_token: g.tokens.issue(&user.id, &session_id, Utc::now())?,
        expires_in: g.tokens.ttl_seconds(),
        refresh_token: next_token,
    })
}

/// `POST /v1/auth/logout`: ends the caller's session and, when given, the session of a refresh
/// token of the same account.
pub async fn auth_logout(
    g: &Guichet,
    actor: &Staff,
    refresh_token: Option<String>,
) -> Result<(), Error> {
    let actor = actor.clone();
    g.db.run(move |conn| {
        db::transaction(conn, |conn| {
            let now = db::now();
            accounts::session_revoke(conn, &actor.session_id, now)?;
            record(
                conn,
                &Actor::Staff(actor.clone()),
                now,
                Change::SessionEnded {
                    user_id: &actor.user_id,
                    institution_id: actor.institution_id.as_deref(),
                },
            )?;
            if let Some(token) = refresh_token
                && let Some(t) = accounts::refresh_by_hash(conn, &secret_hash(&token))?
                && let Some(owner) = accounts::session_user(conn, &t.session_id, now)?
                && owner.id == actor.user_id
            {
                accounts::session_revoke(conn, &t.session_id, now)?;
            }
            Ok(())
        })
    })
    .await
}

/// A valid session: its caller, their account, and when the presented token was issued.
#[derive(Debug, Clone)]
pub struct Session {
    pub staff: Staff,
    pub user: User,
    /// Seconds since the epoch at which the presented access token was issued.
    pub issued_at: i64,
}

/// Turns a bearer token into the actor behind it: the signature and claims first, then the
/// database, so that logout and disabled accounts take effect on the next request.
pub async fn authenticate(g: &Guichet, bearer: &str) -> Result<Staff, Error> {
    Ok(session_of(g, bearer).await?.staff)
}

/// [`authenticate`], keeping the account (its language) and the token's age (the console
/// renews its cookie from it).
pub async fn session_of(g: &Guichet, bearer: &str) -> Result<Session, Error> {
    let claims = g.tokens.verify(bearer)?;
    let session_id = claims.sid.clone();
    let user: Option<User> =
        g.db.run(move |conn| accounts::session_user(conn, &session_id, db::now()))
            .await?;
    match user {
        Some(user) if user.id == claims.sub => Ok(Session {
            staff: Staff {
                user_id: user.id.clone(),
                email: user.email.clone(),
                role: user.role,
                institution_id: user.institution_id.clone(),
                session_id: claims.sid,
            },
            user,
            issued_at: claims.iat,
        }),
        _ => Err(Error::invalid_token()),
    }
}

/// A fresh access token for a session whose token has lived a third of its life or more (the
/// console's cookie is renewed while it is used); `None` while the token is young.
pub fn session_renew(g: &Guichet, s: &Session) -> Result<Option<String>, Error> {
    let now = Utc::now();
    let age = now.timestamp() - s.issued_at;
    if age * 3 < g.tokens.ttl_seconds() as i64 {
        return Ok(None);
    }
    g.tokens
        .issue(&s.staff.user_id, &s.staff.session_id, now)
        .map(Some)
}

/// The console's CSRF token of a session: a keyed digest of the session id, the same on every
/// instance and for the session's whole life, never stored.
pub fn csrf_token(g: &Guichet, session_id: &str) -> String {
    crate::auth::keyed_hash(&g.console_key[..], &format!("csrf:{session_id}"))
}

/// How long a password-reset link works.
pub const RESET_TTL_MINUTES: i64 = 30;
/// Reset requests per e-mail address, and per client address, per window.
const RESETS_PER_ACCOUNT: u32 = 3;
const RESETS_PER_ADDRESS: u32 = 20;
const RESET_WINDOW_SECONDS: u64 = 3600;

/// Counts one call against each `(policy, key, limit)` and refuses it (429) when one is over.
async fn throttled(
    g: &Guichet,
    client: &Client,
    window_seconds: u64,
    counters: Vec<(&'static str, String, u32)>,
) -> Result<(), Error> {
    let attempts =
        g.db.run(move |conn| {
            let now = db::now();
            let window = Duration::seconds(window_seconds as i64);
            let mut out = Vec::new();
            for (policy, key, limit) in counters {
                let a = throttles::throttle_attempt(conn, &key, now, window, limit, window)?;
                out.push((policy, limit, a));
            }
            Ok(out)
        })
        .await?;
    let mut wait = None;
    for (policy, limit, a) in &attempts {
        wait = wait.max(a.retry_after);
        if a.retry_after.is_some() {
            g.metrics.throttled(policy);
        }
        client.report(Quota::of(policy, *limit, window_seconds, a));
    }
    match wait {
        Some(retry_after) => Err(Error::TooManyRequests { retry_after }),
        None => Ok(()),
    }
}

/// `POST /v1/auth/password`: the signed-in account changes its password. The current one is
/// required (wrong guesses count as failed logins of the account); every other session ends.
pub async fn password_change(
    g: &Guichet,
    actor: &Staff,
    current: String,
    new_password: String,
    client: &Client,
) -> Result<(), Error> {
    let limits = g.limits.clone();
    let account_key = format!("login:account:{}", normalize_email(&actor.email));
    throttled(
        g,
        client,
        limits.login_lockout_seconds,
        vec![(
            "login-account",
            account_key.clone(),
            limits.login_failures_per_account,
        )],
    )
    .await?;
    let user_id = actor.user_id.clone();
    let stored =
        g.db.run(move |conn| accounts::password_hash_of(conn, &user_id))
            .await?;
    if !g.passwords.verify(current, stored).await? {
        g.metrics.login_failed();
        return Err(Error::forbidden(
            crate::domain::catalogue::Msg::WrongCurrentPassword,
        ));
    }
    let hash = g.passwords.hash(new_password).await?;
    let actor = actor.clone();
    g.db.transaction(move |conn| {
        let now = db::now();
        throttles::throttle_clear(conn, &account_key)?;
        let user = accounts::user_get(conn, &actor.user_id)?.ok_or_else(Error::invalid_token)?;
        accounts::password_set(conn, &user.id, &hash, now)?;
        accounts::sessions_revoke_others(conn, &user.id, &actor.session_id, now)?;
        db::mail::resets_void(conn, &user.id, now)?;
        record(
            conn,
            &Actor::Staff(actor.clone()),
            now,
            Change::PasswordChanged {
                user: &user,
                reset: false,
            },
        )?;
        Ok(())
    })
    .await
}

/// `POST /v1/auth/password-reset`: e-mails a single-use reset link to the account with this
/// address, if there is one that is not disabled. The answer is the same either way; requests
/// are throttled per address asked for and per client.
pub async fn password_reset_request(
    g: &Guichet,
    email: &str,
    client: &Client,
) -> Result<(), Error> {
    let email = normalize_email(email);
    throttled(
        g,
        client,
        RESET_WINDOW_SECONDS,
        vec![
            (
                "password-reset-account",
                format!("password-reset:account:{email}"),
                RESETS_PER_ACCOUNT,
            ),
            (
                "password-reset-address",
                format!("password-reset:address:{}", client.addr),
                RESETS_PER_ADDRESS,
            ),
        ],
    )
    .await?;
    let token = random_secret();
    let token_hash = secret_hash(&token);
    g.db.transaction(move |conn| {
        let Some((user, _)) = accounts::user_by_email(conn, &email)? else {
            return Ok(());
        };
        if user.disabled {
            return Ok(());
        }
        let now = db::now();
        db::mail::reset_insert(
            conn,
            &token_hash,
            &user.id,
            now,
            now + Duration::minutes(RESET_TTL_MINUTES),
        )?;
        record(
            conn,
            &Actor::System,
            now,
            Change::PasswordResetRequested {
                user: &user,
                token: &token,
            },
        )?;
        Ok(())
    })
    .await
}

fn invalid_reset_token() -> Error {
    Error::Unauthorized {
        code: "invalid_reset_token",
        detail: "The reset token is invalid, expired or already used: ask for a new link.",
    }
}

/// `POST /v1/auth/password-reset/confirm`: sets a new password with a reset token (once, within
/// 30 minutes), and ends every session of the account.
pub async fn password_reset_confirm(
    g: &Guichet,
    token: &str,
    new_password: String,
    client: &Client,
) -> Result<(), Error> {
    throttled(
        g,
        client,
        RESET_WINDOW_SECONDS,
        vec![(
            "password-reset-address",
            format!("password-reset:address:{}", client.addr),
            RESETS_PER_ADDRESS,
        )],
    )
    .await?;
    let hash = g.passwords.hash(new_password).await?;
    let token_hash = secret_hash(token);
    g.db.transaction(move |conn| {
        let now = db::now();
        let user_id =
            db::mail::reset_take(conn, &token_hash, now)?.ok_or_else(invalid_reset_token)?;
        let user = accounts::user_get(conn, &user_id)?
            .filter(|u| !u.disabled)
            .ok_or_else(invalid_reset_token)?;
        accounts::password_set(conn, &user.id, &hash, now)?;
        accounts::sessions_revoke_for_user(conn, &user.id, now)?;
        db::mail::resets_void(conn, &user.id, now)?;
        throttles::throttle_clear(conn, &format!("login:account:{}", user.email))?;
        record(
            conn,
            &Actor::System,
            now,
            Change::PasswordChanged {
                user: &user,
                reset: true,
            },
        )?;
        Ok(())
    })
    .await
}
