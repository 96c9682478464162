//! The one error type of Guichet. Every layer returns it; `api` turns it into
//! `application/problem+json` (RFC 9457) in exactly one place (`api::problem`).
//!
//! Each variant carries what the client may read; internal causes travel in
//! `Internal`/`Unavailable` and are logged, never sent.

use std::fmt;

use crate::domain::catalogue::{Msg, Text};
use crate::domain::taxonomy::Locale;

/// One wrong field of a request body or query: where (JSON pointer), what (stable code), why.
/// The message is rendered in the language of the response when it is written.
#[derive(Debug, Clone, PartialEq, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON pointer (RFC 6901) to the field in the request, e.g. `/submitter/email`.
    #[schema(example = "/title")]
    pub pointer: String,
    /// Stable machine-readable code, e.g. `required`, `too_long`, `invalid_enum`.
    #[schema(example = "too_long")]
    pub code: String,
    /// Human explanation, in the language of the response (`Content-Language`).
    #[schema(value_type = String, example = "must be at most 200 characters")]
    pub message: Text,
}

/// Field messages are written in the language of the response being rendered; English text
/// from older call sites reads, in another language, the code's usual message.
impl serde::Serialize for FieldError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let locale = crate::domain::catalogue::current_locale();
        let message = self
            .message
            .render(locale, Msg::for_field_code(&self.code, &self.message));
        let mut st = s.serialize_struct("FieldError", 3)?;
        st.serialize_field("pointer", &self.pointer)?;
        st.serialize_field("code", &self.code)?;
        st.serialize_field("message", &message)?;
        st.end()
    }
}

impl FieldError {
    pub fn new(pointer: impl Into<String>, code: &str, message: impl Into<Text>) -> Self {
        FieldError {
            pointer: pointer.into(),
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

#[derive(Debug)]
pub enum Error {
    /// 400: the request cannot be read (malformed JSON, bad header, bad cursor).
    BadRequest { code: &'static str, detail: Text },
    /// 401: no valid credentials. The detail never says which part was wrong.
    Unauthorized {
        code: &'static str,
        detail: &'static str,
    },
    /// 403: authenticated, known to be allowed to see the object, not allowed to do this.
    Forbidden { detail: Text },
    /// 404: missing, or not visible to the caller (the two are indistinguishable on purpose).
    NotFound { resource: &'static str },
    /// 409: the request conflicts with the current state.
    Conflict { code: &'static str, detail: Text },
    /// 412: `If-Match` does not match the current version.
    PreconditionFailed,
    /// 428: `If-Match` is required and missing.
    PreconditionRequired,
    /// 408: the request body did not arrive within the deadline.
    RequestTimeout { seconds: u64 },
    /// 413: body over the limit.
    PayloadTooLarge { limit: usize },
    /// 415: body is not JSON.
    UnsupportedMediaType,
    /// 422: the body is JSON but some fields are wrong; one entry per field.
    Validation(Vec<FieldError>),
    /// 429: slow down; `retry_after` in seconds.
    TooManyRequests { retry_after: u64 },
    /// 503: the process is stopping; it finishes what it accepted.
    ShuttingDown,
    /// 503: a dependency (the database) is unreachable. The string is for logs only.
    Unavailable(String),
    /// 500: a bug or an unexpected failure. The string is for logs only.
    Internal(String),
}

impl Error {
    pub fn internal(cause: impl fmt::Display) -> Self {
        Error::Internal(cause.to_string())
    }

    /// The cause on one line: libpq's messages span several.
    pub fn unavailable(cause: impl fmt::Display) -> Self {
        Error::Unavailable(
            cause
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        )
    }

    pub fn validation_one(pointer: &str, code: &str, message: impl Into<Text>) -> Self {
        Error::Validation(vec![FieldError::new(pointer, code, message)])
    }

    /// A conflict; `detail` is a catalogue [`Msg`] (any language) or English text (other
    /// languages then read the code's usual sentence).
    pub fn conflict(code: &'static str, detail: impl Into<Text>) -> Self {
        Error::Conflict {
            code,
            detail: detail.into(),
        }
    }

    /// Wrong, expired or revoked bearer token: one answer for all, so a client learns nothing.
    pub fn invalid_token() -> Self {
        Error::Unauthorized {
            code: "invalid_token",
            detail: "The access token is missing, invalid, expired or revoked.",
        }
    }

    pub fn forbidden(detail: impl Into<Text>) -> Self {
        Error::Forbidden {
            detail: detail.into(),
        }
    }
}

impl Error {
    /// What the client reads as the problem's `detail`, in `locale`.
    pub fn detail(&self, code: &str, locale: Locale) -> String {
        let usual = Msg::for_problem_code(code);
        match self {
            Error::BadRequest { detail, .. }
            | Error::Forbidden { detail }
            | Error::Conflict { detail, .. } => detail.render(locale, usual),
            Error::Unauthorized { detail, .. } => Text::from(*detail).render(locale, usual),
            Error::NotFound { resource } => Msg::NotFoundResource {
                resource: crate::domain::catalogue::Resource((*resource).to_owned()),
            }
            .render(locale),
            Error::PayloadTooLarge { limit } => Msg::PayloadOver { limit: *limit }.render(locale),
            Error::RequestTimeout { seconds } => {
                Msg::BodyTimeoutAfter { seconds: *seconds }.render(locale)
            }
            _ => usual.map(|m| m.render(locale)).unwrap_or_default(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadRequest { code, detail } => write!(f, "bad request ({code}): {detail}"),
            Error::Unauthorized { code, .. } => write!(f, "unauthorized ({code})"),
            Error::Forbidden { detail } => write!(f, "forbidden: {detail}"),
            Error::NotFound { resource } => write!(f, "{resource} not found"),
            Error::Conflict { code, detail } => write!(f, "conflict ({code}): {detail}"),
            Error::PreconditionFailed => f.write_str("precondition failed"),
            Error::PreconditionRequired => f.write_str("precondition required"),
            Error::PayloadTooLarge { limit } => write!(f, "payload over {limit} bytes"),
            Error::RequestTimeout { seconds } => write!(f, "body not received within {seconds}s"),
            Error::UnsupportedMediaType => f.write_str("unsupported media type"),
            Error::Validation(errors) => write!(f, "{} invalid field(s)", errors.len()),
            Error::TooManyRequests { retry_after } => {
                write!(f, "too many requests, retry after {retry_after}s")
            }
            Error::Unavailable(cause) => write!(f, "unavailable: {cause}"),
            Error::ShuttingDown => f.write_str("shutting down"),
            Error::Internal(cause) => write!(f, "internal error: {cause}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error as D};
        match e {
            D::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => Error::Conflict {
                code: "already_exists",
                detail: "A record with the same unique value already exists.".into(),
            },
            D::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                Error::unavailable(info.message())
            }
            // The server is ending this backend (restart, failover, pg_terminate_backend):
            // admin_shutdown, crash_shutdown, cannot_connect_now.
            D::DatabaseError(_, info)
                if info.message().starts_with("terminating connection")
                    || info.message().contains("the database system is") =>
            {
                Error::unavailable(info.message())
            }
            // SQLite: another process holds the write lock past the busy timeout.
            D::DatabaseError(_, info)
                if info.message().contains("database is locked")
                    || info.message().contains("database table is locked") =>
            {
                Error::unavailable(info.message())
            }
            // The connection is gone (socket closed, server restarted) or was left unusable.
            D::BrokenTransactionManager => {
                Error::Unavailable("the connection was left unusable".into())
            }
            D::DatabaseError(DatabaseErrorKind::UnableToSendCommand, info) => {
                Error::unavailable(info.message())
            }
            D::NotFound => Error::Internal("row expected but not found".into()),
            other => Error::Internal(other.to_string()),
        }
    }
}
