//! Integration tests of the `outboxctl` binary: each test runs it on its own temporary database.

mod admin;
mod common;
mod emit;
mod explain;
mod faults;
mod isolation;
mod ordering;
mod output;
mod relay;
mod replay;
mod schema;
