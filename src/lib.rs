//! outboxctl: a transactional-outbox relay.
//!
//! Applications write domain events into an outbox table in the same transaction as their
//! business data ([`app`]); the relay ([`relay`]) claims due messages under a lease, delivers each
//! to its destinations ([`sink`]) and marks it processed only after they accepted it. The loops
//! around it are library code too: [`runner`] (what `outboxctl run` does) and [`maintenance`]
//! (purge, retry). Storage backends implement [`store::Store`].

pub mod app;
pub mod circuit;
pub mod cli;
pub mod commands;
pub mod config;
pub mod duration;
pub mod error;
pub mod explain;
pub mod health;
pub mod maintenance;
pub mod metrics;
pub mod model;
pub mod output;
pub mod redact;
pub mod relay;
pub mod replay;
pub mod retry;
pub mod runner;
pub mod sample;
pub mod sink;
pub mod store;
pub mod time;
#[cfg(feature = "web")]
pub mod web;
