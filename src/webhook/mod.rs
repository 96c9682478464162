//! Sending webhooks safely: Standard Webhooks signatures ([`sign`]), the defence against
//! server-side request forgery ([`address`]) and one delivery attempt ([`send`]).
//!
//! A leaf layer like `crate::auth`: it knows nothing of endpoints, subscriptions, the outbox or
//! the database. The service layer decides what to send and when to retry; this module only
//! makes one attempt correctly and says what happened, in types of its own.

pub mod address;
pub mod send;
pub mod sign;
