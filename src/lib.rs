//! Guichet: one door through which investors and pharma companies reach the oncology teams
//! of the Paris region. See README.md and docs/ARCHITECTURE.md.

pub mod db;
pub mod domain;
pub mod error;
pub mod auth;
pub mod service;
