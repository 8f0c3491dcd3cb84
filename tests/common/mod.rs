//! Helpers shared by the integration tests. Each test file includes this module and uses what it
//! needs.
#![allow(dead_code)]

use std::time::Duration;

use outboxctl::store::StoreOptions;

pub fn store_options() -> StoreOptions {
    StoreOptions {
        table: "OutboxMessage".into(),
        busy_timeout: Duration::from_secs(5),
    }
}

/// A PostgreSQL schema namespace of its own for one test, dropped (with everything in it) when
/// the test ends, so tests run in parallel and leave nothing behind.
#[cfg(feature = "postgres")]
pub struct PgSchema {
    pub name: String,
    /// A URL that puts the outbox (and the sample's Users table) into this schema.
    pub url: String,
    base: String,
}

#[cfg(feature = "postgres")]
impl PgSchema {
    /// The server to test against: `OUTBOX_TEST_POSTGRES_URL`, or the local one with trust auth.
    pub fn base_url() -> String {
        std::env::var("OUTBOX_TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into())
    }

    pub fn new(tag: &str) -> Self {
        let base = Self::base_url();
        let name = format!(
            "t_{tag}_{}_{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}schema={name}");
        let schema = PgSchema { name, url, base };
        schema.sql(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", schema.name));
        schema
    }

    /// Runs SQL on the server outside any outbox store (setup and checks), with this schema first
    /// on the search_path.
    pub fn sql(&self, sql: &str) {
        let mut c = self.client();
        c.batch_execute(&format!("SET search_path TO \"{}\", public; {sql}", self.name))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.base, postgres::NoTls).unwrap_or_else(|e| {
            panic!("cannot reach the test PostgreSQL ({e}); set OUTBOX_TEST_POSTGRES_URL")
        })
    }

    /// One value from a query, as i64.
    pub fn count(&self, sql: &str) -> i64 {
        let mut c = self.client();
        c.batch_execute(&format!("SET search_path TO \"{}\", public", self.name))
            .unwrap();
        c.query_one(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .get(0)
    }
}

#[cfg(feature = "postgres")]
impl Drop for PgSchema {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.base, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name));
        }
    }
}
