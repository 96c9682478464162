//! Typed settings from flags and `GUICHET_*` environment variables. Secrets are never printed:
//! their environment values are hidden from `--help`, and `Debug` is not derived for them.

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::domain::taxonomy::Role;

#[derive(Debug, Parser)]
#[command(
    name = "guichet",
    version,
    about = "Guichet: one door to the oncology teams of the Paris region."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations, then serve the API.
    Serve(Box<ServeArgs>),
    /// Apply pending migrations and exit.
    Migrate(DatabaseArgs),
    /// Manage institution accounts.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Print the OpenAPI document to standard output.
    Openapi,
}

#[derive(Debug, Args, Clone)]
pub struct DatabaseArgs {
    /// `postgres://user:password@host/db` for PostgreSQL; `sqlite://PATH` (or a bare path) for
    /// SQLite, created on first use.
    #[arg(
        long,
        env = "GUICHET_DATABASE_URL",
        default_value = "sqlite://guichet.db",
        hide_env_values = true
    )]
    pub database_url: String,
    /// Database connections per instance.
    #[arg(long, env = "GUICHET_DB_POOL_SIZE", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=200))]
    pub db_pool_size: u32,
    /// Milliseconds a request waits for a database connection before it is answered 503
    /// (also bounds how soon after a database restart the first request succeeds).
    #[arg(long, env = "GUICHET_DB_TIMEOUT_MS", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(100..=60000))]
    pub db_timeout_ms: u64,
    /// Check every pooled connection with `SELECT 1` before use (one more round trip per
    /// request; see bench/README.md for the measurement).
    #[arg(long, env = "GUICHET_DB_CHECK_ON_CHECKOUT", default_value_t = false)]
    pub db_check_on_checkout: bool,
    /// SQLite: milliseconds a write waits for another writer (or another process holding the
    /// file) before the request is answered 503.
    #[arg(long, env = "GUICHET_SQLITE_BUSY_TIMEOUT_MS", default_value_t = crate::db::DEFAULT_BUSY_TIMEOUT_MS, value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub sqlite_busy_timeout_ms: u64,
}

impl DatabaseArgs {
    pub fn pool_options(&self) -> crate::db::PoolOptions {
        crate::db::PoolOptions {
            max_size: self.db_pool_size,
            timeout_ms: self.db_timeout_ms,
            check_on_checkout: self.db_check_on_checkout,
            sqlite_busy_timeout_ms: self.sqlite_busy_timeout_ms,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Args, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Address and port to listen on: HOST:PORT, HOST an IPv4 address, an IPv6 address in
    /// brackets or a host name.
    #[arg(long, env = "GUICHET_BIND", default_value = "127.0.0.1:8080", value_parser = parse_bind)]
    pub bind: String,
    /// Log lines as text (for people) or JSON (for collectors).
    #[arg(long, env = "GUICHET_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// HS256 signing secret for access tokens, at least 32 bytes. When absent, one is generated
    /// on first start and kept in the database.
    #[arg(long, env = "GUICHET_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Access token lifetime in seconds (at most 900).
    #[arg(long, env = "GUICHET_ACCESS_TOKEN_TTL_SECONDS", default_value_t = 900, value_parser = clap::value_parser!(u64).range(1..=900))]
    pub access_token_ttl_seconds: u64,
    /// Session lifetime in seconds from login (refresh tokens rotate within it), at most a year.
    #[arg(long, env = "GUICHET_REFRESH_TOKEN_TTL_SECONDS", default_value_t = 30 * 24 * 3600, value_parser = clap::value_parser!(u64).range(60..=31_536_000))]
    pub refresh_token_ttl_seconds: u64,
    /// Failed logins on one account within the lockout window before it must wait (a success
    /// clears the count).
    #[arg(long, env = "GUICHET_LOGIN_MAX_FAILURES_PER_ACCOUNT", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub login_max_failures_per_account: u32,
    /// Failed logins from one client address, per window, before it must wait.
    #[arg(long, env = "GUICHET_LOGIN_MAX_FAILURES_PER_ADDRESS", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub login_max_failures_per_address: u32,
    /// Counting window and waiting time after too many failed logins, in seconds.
    #[arg(long, env = "GUICHET_LOGIN_LOCKOUT_SECONDS", default_value_t = 900, value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub login_lockout_seconds: u64,
    /// Anonymous inquiry submissions accepted per client address per minute.
    #[arg(long, env = "GUICHET_SUBMISSIONS_PER_MINUTE", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub submissions_per_minute: u32,
    /// Failed tracking-token look-ups per client address per 10 minutes before it must wait.
    #[arg(long, env = "GUICHET_TRACKING_FAILURES_PER_ADDRESS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub tracking_failures_per_address: u32,
    /// Token refreshes accepted per client address per minute.
    #[arg(long, env = "GUICHET_REFRESHES_PER_MINUTE", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub refreshes_per_minute: u32,
    /// Read the client address from `X-Forwarded-For` (only behind a proxy you trust).
    #[arg(long, env = "GUICHET_TRUST_FORWARDED_FOR", default_value_t = false)]
    pub trust_forwarded_for: bool,
    /// Browser origins allowed to call the API (CORS), comma-separated, e.g.
    /// `https://partners.example.org`; `*` for any (never with credentials). None by default.
    #[arg(long, env = "GUICHET_CORS_ALLOWED_ORIGINS", default_value = "", value_parser = parse_cors)]
    pub cors_allowed_origins: crate::api::http::CorsPolicy,
    /// Where clients reach this service, e.g. `https://guichet.example.org`: listed first in
    /// the served OpenAPI `servers`, and used in links.
    #[arg(long, env = "GUICHET_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,
    /// A secret that `GET /metrics` then requires as `Authorization: Bearer <token>` (at least
    /// 16 characters). Without it the metrics are open: keep them off the public network.
    #[arg(long, env = "GUICHET_METRICS_TOKEN", hide_env_values = true, value_parser = parse_metrics_token)]
    pub metrics_token: Option<String>,
    /// Seconds between SIGTERM and closing the listener: readiness answers 503 and every
    /// answer closes its connection meanwhile, so that load balancers and keep-alive clients
    /// move away; then requests in flight finish (up to 30 s) and the process exits.
    #[arg(long, env = "GUICHET_SHUTDOWN_DRAIN_SECONDS", default_value_t = 3, value_parser = clap::value_parser!(u64).range(0..=300))]
    pub shutdown_drain_seconds: u64,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "GUICHET_WORKERS")]
    pub workers: Option<usize>,
    /// Development only: also accept `http://` webhook URLs and loopback addresses
    /// (127.0.0.0/8, ::1). Private, link-local and other internal ranges stay refused.
    #[arg(long, env = "GUICHET_WEBHOOKS_ALLOW_LOOPBACK_HTTP")]
    pub webhooks_allow_loopback_http: bool,
    /// Seconds one webhook attempt may take (connecting, sending, reading the answer).
    #[arg(long, env = "GUICHET_WEBHOOK_TIMEOUT_SECONDS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=30))]
    pub webhook_timeout_seconds: u64,
    /// Seconds a worker's claim on a delivery lasts: longer than the timeout, so a live worker
    /// keeps it; a killed instance's deliveries are taken over once it expires.
    #[arg(long, env = "GUICHET_WEBHOOK_LEASE_SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(2..=3600))]
    pub webhook_lease_seconds: u64,
    /// Days the event feed keeps events (and their deliveries): 30 at least.
    #[arg(long, env = "GUICHET_EVENT_RETENTION_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(30..=3650))]
    pub event_retention_days: u64,
    /// Milliseconds the background worker waits between looks for due deliveries when idle.
    #[arg(long, env = "GUICHET_WORKER_POLL_MS", default_value_t = 500, value_parser = clap::value_parser!(u64).range(10..=60000))]
    pub worker_poll_ms: u64,
    /// The SMTP server: `smtp://host[:port]` (STARTTLS required, port 587), `smtps://host`
    /// (TLS, port 465), `?tls=opportunistic` or `?tls=none` (a relay on this host, a test
    /// server). User and password may be in the URL or below. Without it, every e-mail is
    /// written as an `.eml` file into `--mail-dir`.
    #[arg(long, env = "GUICHET_SMTP_URL", hide_env_values = true, value_parser = parse_smtp_url)]
    pub smtp_url: Option<crate::mail::SmtpSettings>,
    /// SMTP user (overrides the one in the URL).
    #[arg(long, env = "GUICHET_SMTP_USER")]
    pub smtp_user: Option<String>,
    /// SMTP password (overrides the one in the URL); never logged.
    #[arg(long, env = "GUICHET_SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<String>,
    /// Seconds one SMTP exchange may take.
    #[arg(long, env = "GUICHET_SMTP_TIMEOUT_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub smtp_timeout_seconds: u64,
    /// The sender of every e-mail, e.g. `Guichet <guichet@example.org>`; its domain ends every
    /// `Message-ID`.
    #[arg(long, env = "GUICHET_MAIL_FROM", default_value = "Guichet <guichet@localhost>", value_parser = parse_mailbox)]
    pub mail_from: lettre::message::Mailbox,
    /// Where e-mails are written when no SMTP server is configured (default: a `-mail` folder
    /// beside the SQLite database, or `./guichet-mail`).
    #[arg(long, env = "GUICHET_MAIL_DIR")]
    pub mail_dir: Option<std::path::PathBuf>,
}

/// `jwt_secret` stays out of debug output.
impl std::fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeArgs")
            .field("bind", &self.bind)
            .field("log_format", &self.log_format)
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "<configured>"),
            )
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create an account. The password is read from standard input with `--password-stdin`,
    /// else asked for at a prompt.
    Create {
        #[command(flatten)]
        database: DatabaseArgs,
        #[arg(long)]
        email: String,
        /// triager | institution_admin | operator
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Institution slug (required for triagers and institution admins, refused for operators).
        #[arg(long)]
        institution: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List every account.
    List {
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// `--bind` is checked for its form here, so that a malformed value is a usage error (exit 2)
/// like any bad flag. A well-formed address that cannot be listened on (in use, not an address
/// of this machine, a host name that does not resolve) fails at start instead (exit 1).
fn parse_bind(s: &str) -> Result<String, String> {
    const EXPECTED: &str =
        "expected HOST:PORT, such as 127.0.0.1:8080, 0.0.0.0:8080, [::1]:8080 or localhost:8080";
    if s.parse::<std::net::SocketAddr>().is_ok() {
        return Ok(s.to_owned());
    }
    let Some((host, port)) = s.rsplit_once(':') else {
        return Err(EXPECTED.into());
    };
    let port_ok =
        !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok();
    let labels_ok = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    // Only digits and dots is an IPv4 address, and that one did not parse.
    let looks_numeric = host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if port_ok && labels_ok && !looks_numeric {
        Ok(s.to_owned())
    } else {
        Err(EXPECTED.into())
    }
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse::<Role>()
        .map_err(|_| "expected triager, institution_admin or operator".to_owned())
}

fn parse_metrics_token(s: &str) -> Result<String, String> {
    if s.len() < 16 || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("must be at least 16 visible ASCII characters".into());
    }
    Ok(s.to_owned())
}

fn parse_cors(s: &str) -> Result<crate::api::http::CorsPolicy, String> {
    crate::api::http::CorsPolicy::parse(s)
}

fn parse_smtp_url(s: &str) -> Result<crate::mail::SmtpSettings, String> {
    crate::mail::SmtpSettings::parse(s.trim())
}

fn parse_mailbox(s: &str) -> Result<lettre::message::Mailbox, String> {
    s.trim()
        .parse()
        .map_err(|e| format!("must be an address such as `Guichet <guichet@example.org>`: {e}"))
}

/// `http(s)://host[:port][/path]`, no query or fragment; kept without a trailing slash.
fn parse_public_url(s: &str) -> Result<String, String> {
    let url = s.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("must start with https:// or http://")?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty()
        || url.contains(['?', '#', ' '])
        || !host.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || b == b'.'
                || b == b'-'
                || b == b':'
                || b == b'['
                || b == b']'
        })
    {
        return Err("must be an absolute URL such as https://guichet.example.org".into());
    }
    Ok(url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::parse_bind;

    #[test]
    fn bind_takes_host_port_and_refuses_anything_else() {
        for good in [
            "127.0.0.1:8080",
            "0.0.0.0:0",
            "[::1]:8080",
            "[::]:65535",
            "localhost:8080",
            "guichet-1.internal:80",
            "192.0.2.1:8080",
        ] {
            assert_eq!(parse_bind(good).as_deref(), Ok(good), "{good}");
        }
        for bad in [
            "",
            "8080",
            ":8080",
            "localhost",
            "localhost:",
            "localhost:http",
            "localhost:+80",
            "127.0.0.1:65536",
            "999.0.0.1:8080",
            "::1:8080",
            "[::1]",
            "exa mple:80",
            "http://127.0.0.1:8080",
            "127.0.0.1:8080/",
        ] {
            assert!(parse_bind(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
