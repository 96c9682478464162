//! Institutions and their contacts.

use chrono::NaiveDateTime;

use crate::domain::routing::{Expertise, RoutingProfile};

/// An institution's id: 2 to 40 lower-case ASCII letters, digits and inner dashes.
pub fn is_slug(id: &str) -> bool {
    let b = id.as_bytes();
    (2..=40).contains(&b.len())
        && b.iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && b.first() != Some(&b'-')
        && b.last() != Some(&b'-')
}

#[derive(Debug, Clone, PartialEq)]
pub struct Institution {
    /// Slug, e.g. `gustave-roussy`.
    pub id: String,
    pub name: String,
    pub description: String,
    pub website: String,
    /// First-response target, in business days (Europe/Paris).
    pub sla_business_days: i32,
    /// Decision target, in business days from the first response (pauses excluded).
    pub decision_business_days: i32,
    pub profile: RoutingProfile,
    pub profile_version: i64,
    /// A deactivated institution receives no new referral (routing says why); its open
    /// referrals stay workable and its history stays readable.
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub id: String,
    pub institution_id: String,
    pub name: String,
    pub title: String,
    pub email: String,
    pub expertise: Expertise,
    /// Contacts are deactivated, never deleted, so past referrals keep their assignee.
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}
