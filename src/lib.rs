//! Guichet: one door through which investors and pharma companies reach the oncology teams
//! of the Paris region. See README.md and docs/ARCHITECTURE.md.

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod console;
pub mod db;
pub mod domain;
pub mod error;
pub mod mail;
pub mod metrics;
pub mod service;
pub mod startup;
pub mod webhook;
pub mod worker;
