//! The integration suite: one binary, the real application, a fresh database per test.
//! Runs on SQLite, and on PostgreSQL when GUICHET_TEST_POSTGRES_URL is set.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod cli;
mod console;
mod console_admin;
mod console_support;
mod contract;
mod errors;
mod http;
mod inquiries;
mod institutions;
mod mail;
mod operators;
mod resilience;
mod support;
mod triage;
mod webhooks;
