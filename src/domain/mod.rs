//! Pure types and rules. No actix, no diesel: what Guichet means, not how it is served or stored.

pub mod account;
pub mod calendar;
pub mod catalogue;
pub mod event;
pub mod inquiry;
pub mod institution;
pub mod lifecycle;
pub mod mail;
pub mod routing;
pub mod taxonomy;
pub mod validation;
pub mod webhook;

/// A new id: UUIDv7, so ids sort by creation time and make stable cursors.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
