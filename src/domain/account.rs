//! Institution accounts: who may log in, with which role, for which institution.

use chrono::NaiveDateTime;

use crate::domain::taxonomy::{ActorKind, Locale, Role};

/// An account as the rest of the code sees it (never its password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub institution_id: Option<String>,
    pub disabled: bool,
    /// The language of the account's e-mails.
    pub locale: Locale,
    /// The contact of the institution this account works as (`assigned=me`), if linked.
    pub contact_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Who causes a change or asks for something: one closed type, so that every authorization
/// decision (in `service::authz`) and every audit row names its caller the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in institution account or operator.
    Staff(Staff),
    /// Whoever holds the tracking token of this inquiry.
    Submitter { inquiry_id: String },
    /// Guichet itself: routing rules, the SLA clock, the delivery worker, the command line.
    System,
}

impl Actor {
    /// The audit row's `actor_kind`.
    pub fn kind(&self) -> ActorKind {
        match self {
            Actor::Staff(_) => ActorKind::User,
            Actor::Submitter { .. } => ActorKind::Submitter,
            Actor::System => ActorKind::System,
        }
    }

    /// The audit row's `actor_id`: the user, or none.
    pub fn id(&self) -> Option<&str> {
        match self {
            Actor::Staff(s) => Some(&s.user_id),
            Actor::Submitter { .. } | Actor::System => None,
        }
    }
}

impl From<&Staff> for Actor {
    fn from(staff: &Staff) -> Self {
        Actor::Staff(staff.clone())
    }
}

/// The authenticated caller of a staff endpoint (the `Actor::Staff` variant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    pub user_id: String,
    pub email: String,
    pub role: Role,
    /// `None` for operators, who see every institution.
    pub institution_id: Option<String>,
    pub session_id: String,
}

impl Staff {
    /// The caller signed in as `user` in `session_id`.
    pub fn of(user: &User, session_id: &str) -> Self {
        Staff {
            user_id: user.id.clone(),
            email: user.email.clone(),
            role: user.role,
            institution_id: user.institution_id.clone(),
            session_id: session_id.to_owned(),
        }
    }
}

/// Emails are compared case-insensitively: stored trimmed and lower-cased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 256;
