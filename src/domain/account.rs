//! Institution accounts: who may log in, with which role, for which institution.

use chrono::NaiveDateTime;

use crate::domain::taxonomy::Role;

/// An account as the rest of the code sees it (never its password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub institution_id: Option<String>,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The authenticated caller of a staff endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: String,
    pub email: String,
    pub role: Role,
    /// `None` for operators, who see every institution.
    pub institution_id: Option<String>,
    pub session_id: String,
}

/// Emails are compared case-insensitively: stored trimmed and lower-cased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 256;
