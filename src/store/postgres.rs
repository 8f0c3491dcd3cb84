//! The PostgreSQL store, for several relays side by side on one database.
//!
//! Claims lock the chosen rows with `FOR UPDATE SKIP LOCKED` inside a MATERIALIZED CTE that is
//! evaluated once, so concurrent relays never wait on each other, never take the same row, and a
//! claim never takes more than its batch size. The lease columns are the same as on SQLite.
//! An insert trigger sends a NOTIFY that `wait_for_work` LISTENs for. A lost connection is
//! reopened by the next call, so `run`'s retry loop resumes by itself after a server restart.

use std::collections::{BTreeMap, HashMap};
use std::error::Error as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, Row, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::{
    Audit, ClaimParams, KeyRule, ListFilter, ListParams, RecordParams, Recorded, ReplayPlan, ReplaySelect,
    ReplayState, RetrySelect, SqlValue, Store, StoreOptions, Transaction,
};
use crate::error::StoreError;
use crate::model::{
    ActivityBucket, AuditEntry, BlockedKey, Circuit, Counts, Delivery, FailedAttempt, Message, MessageDetail,
    NewMessage, Problem, Replay, ReplayDelivery, Stats,
};

/// The schema contract, with `OutboxMessage` standing for the configured table name.
pub const SCHEMA: &str = include_str!("../../schema.postgres.sql");

/// Columns outboxctl adds to a table of the original design (name, declaration).
const ADDED_COLUMNS: &[(&str, &str)] = &[
    ("ProcessedOnUtc", "timestamptz NULL"),
    ("Error", "text NULL"),
    ("Attempts", "integer NOT NULL DEFAULT 0"),
    ("NextAttemptOnUtc", "timestamptz NULL"),
    ("LockedBy", "text NULL"),
    ("LockedUntilUtc", "timestamptz NULL"),
    ("DeadOnUtc", "timestamptz NULL"),
    ("LastAttemptOnUtc", "timestamptz NULL"),
    ("OrderingKey", "text NULL"),
    ("SkippedOnUtc", "timestamptz NULL"),
    ("Crashes", "integer NOT NULL DEFAULT 0"),
    ("TraceParent", "text NULL"),
    ("TraceState", "text NULL"),
];

/// Every column of the outbox table, in the order `message_from_row` reads them.
const COLUMN_NAMES: &[&str] = &[
    "Id",
    "Type",
    "Content",
    "OccuredOnUtc",
    "ProcessedOnUtc",
    "Error",
    "Attempts",
    "NextAttemptOnUtc",
    "LockedBy",
    "LockedUntilUtc",
    "DeadOnUtc",
    "LastAttemptOnUtc",
    "OrderingKey",
    "SkippedOnUtc",
    "Crashes",
    "TraceParent",
    "TraceState",
];

const TIME_COLUMNS: &[&str] = &[
    "OccuredOnUtc",
    "ProcessedOnUtc",
    "NextAttemptOnUtc",
    "LockedUntilUtc",
    "DeadOnUtc",
    "LastAttemptOnUtc",
    "SkippedOnUtc",
];

/// How often `wait_for_work` looks at the stop flag while it waits for a notification.
const WAIT_STEP: Duration = Duration::from_millis(100);

/// A `postgres://` URL taken apart: what the driver gets, and the parts outboxctl handles itself.
struct Target {
    config: postgres::Config,
    /// `?schema=` if given; otherwise the connection's current schema is used.
    schema: Option<String>,
    /// Verify the server certificate (`sslmode=verify-full`/`verify-ca`, or a `sslrootcert`).
    verify: bool,
    root_cert: Option<String>,
    /// The URL with its password masked, for every message a user may see.
    shown: String,
}

fn parse_url(url: &str) -> Result<Target, StoreError> {
    let shown = crate::redact::redact_url(url);
    let bad = |what: String| StoreError::Unavailable(format!("invalid PostgreSQL URL {shown}: {what}"));
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut kept = Vec::new();
    let (mut schema, mut verify, mut root_cert) = (None, false, None);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let value = crate::redact::percent_decode(v);
        match k {
            "schema" => {
                super::validate_table_name(&value)
                    .map_err(|_| bad(format!("schema={value:?} is not a plain identifier")))?;
                schema = Some(value);
            }
            "sslrootcert" => root_cert = Some(value),
            "sslmode" => {
                let mode = match value.as_str() {
                    "disable" => "disable",
                    "allow" | "prefer" => "prefer",
                    "require" => "require",
                    "verify-ca" | "verify-full" => {
                        verify = true;
                        "require"
                    }
                    other => {
                        return Err(bad(format!(
                            "sslmode={other:?}; use disable, prefer, require, verify-ca or verify-full"
                        )));
                    }
                };
                kept.push(format!("sslmode={mode}"));
            }
            _ => kept.push(pair.to_owned()),
        }
    }
    // Like libpq: a root certificate given means the server's certificate is checked against it.
    verify |= root_cert.is_some();
    let rebuilt = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    let mut config: postgres::Config = rebuilt.parse().map_err(|e: postgres::Error| bad(e.to_string()))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    if config.get_application_name().is_none() {
        config.application_name("outboxctl");
    }
    Ok(Target {
        config,
        schema,
        verify,
        root_cert,
        shown,
    })
}

/// TLS through rustls with the ring provider. Like libpq, `prefer` and `require` encrypt without
/// checking the certificate; `verify-ca`/`verify-full` check it against the Mozilla roots plus
/// `sslrootcert`, and the host name.
fn tls(target: &Target) -> Result<MakeRustlsConnect, StoreError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Unavailable(format!("TLS setup failed: {e}")))?;
    let config = if target.verify {
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        if let Some(path) = &target.root_cert {
            use rustls::pki_types::CertificateDer;
            use rustls::pki_types::pem::PemObject;
            let bad = |e: String| StoreError::Unavailable(format!("sslrootcert {path}: {e}"));
            for cert in CertificateDer::pem_file_iter(path).map_err(|e| bad(e.to_string()))? {
                roots
                    .add(cert.map_err(|e| bad(e.to_string()))?)
                    .map_err(|e| bad(e.to_string()))?;
            }
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(EncryptOnly(provider)))
            .with_no_client_auth()
    };
    Ok(MakeRustlsConnect::new(config))
}

/// `sslmode=require` as libpq does it: the channel is encrypted and the handshake signatures are
/// checked, but the certificate chain is not (use verify-full for that).
#[derive(Debug)]
struct EncryptOnly(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Tells the processed-counter trigger that this session counts its own marks (see `record`).
const COUNTS_ITSELF: &str = "SET outboxctl.counts_itself = on;";

/// Quotes an identifier that was validated as plain (letters, digits, underscores).
fn q(name: &str) -> String {
    format!("\"{name}\"")
}

/// SQL text that depends on the table's names and the id column's type, built once.
struct Sql {
    /// `"schema"."Table"`, and its side tables.
    t: String,
    attempt: String,
    delivery: String,
    processed: String,
    circuit: String,
    audit: String,
    replay: String,
    replayed: String,
    /// Cast turning a text parameter into the id column's type (`` or `::uuid`).
    id_cast: &'static str,
    /// The same for the content column (`` for text, `::jsonb` for a jsonb column, …).
    content_cast: String,
    /// Whether the processed-counter trigger leaves a relay's marks to the relay (a schema of
    /// this release: `outboxctl.counts_itself`). With an older one the trigger counts them.
    counts_itself: bool,
}

impl Sql {
    fn new(schema: &str, table: &str, id_uuid: bool, content_type: &str) -> Self {
        let name = |suffix: &str| format!("{}.{}", q(schema), q(&format!("{table}{suffix}")));
        Sql {
            t: name(""),
            attempt: name("_Attempt"),
            delivery: name("_Delivery"),
            processed: name("_Processed"),
            circuit: name("_Circuit"),
            audit: name("_Audit"),
            replay: name("_Replay"),
            replayed: name("_Replayed"),
            id_cast: if id_uuid { "::uuid" } else { "" },
            content_cast: match content_type {
                "text" | "character varying" | "character" => String::new(),
                other => format!("::{other}"),
            },
            counts_itself: false,
        }
    }

    /// The select list of a message, optionally prefixed with a table alias.
    fn columns(prefix: &str) -> String {
        COLUMN_NAMES
            .iter()
            .map(|c| match *c {
                "Id" | "Content" => format!("{prefix}\"{c}\"::text"),
                "Attempts" | "Crashes" => format!("{prefix}\"{c}\"::int8"),
                _ => format!("{prefix}\"{c}\""),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A text parameter compared with the id column.
    fn id(&self, param: &str) -> String {
        format!("{param}::text{}", self.id_cast)
    }

    /// A text-array parameter compared with the id column.
    fn ids(&self, param: &str) -> String {
        format!(
            "{param}::text[]{}",
            if self.id_cast.is_empty() { "" } else { "::uuid[]" }
        )
    }
}

pub struct PostgresStore {
    target: Target,
    connector: MakeRustlsConnect,
    /// `None` after the connection was lost; the next call reconnects.
    client: Option<Client>,
    /// Prepared statements of the current connection, by SQL text.
    statements: HashMap<String, Statement>,
    schema: String,
    table: String,
    sql: Sql,
    busy_timeout: Duration,
    /// Whether the schema was found; commands other than `init` refuse to work without it.
    ready: bool,
    /// The version of a schema made by an earlier release, which `init` must migrate first.
    outdated: Option<i32>,
    /// Whether this connection LISTENs for the insert notification.
    listening: bool,
}

impl PostgresStore {
    /// Connects and looks for the schema. It never creates anything: that is `init`'s job.
    pub fn open(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        super::validate_table_name(&options.table).map_err(StoreError::Unavailable)?;
        let target = parse_url(url)?;
        let connector = tls(&target)?;
        let mut store = PostgresStore {
            connector,
            client: None,
            statements: HashMap::new(),
            schema: target.schema.clone().unwrap_or_default(),
            table: options.table.clone(),
            sql: Sql::new("public", &options.table, false, "text"),
            busy_timeout: options.busy_timeout,
            ready: false,
            outdated: None,
            listening: false,
            target,
        };
        store.client()?;
        if store.schema.is_empty() {
            let row = store.raw_query_one("SELECT current_schema()::text", &[])?;
            store.schema = row.get::<_, Option<String>>(0).ok_or_else(|| {
                StoreError::Unavailable(format!(
                    "{}: the connection's search_path names no existing schema; add ?schema=NAME to the URL",
                    store.target.shown
                ))
            })?;
            super::validate_table_name(&store.schema).map_err(|_| {
                StoreError::Unavailable(format!(
                    "current schema {:?} is not a plain identifier; add ?schema=NAME to the URL",
                    store.schema
                ))
            })?;
        }
        store.check_schema()?;
        Ok(store)
    }

    /// The schema namespace the outbox lives in.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The NOTIFY channel of this outbox, as the insert trigger computes it.
    fn channel(&self) -> String {
        let mut c = format!("{}.{}", self.schema, self.table);
        c.truncate(63);
        c
    }

    fn connect(&self) -> Result<Client, StoreError> {
        let mut client = self.target.config.connect(self.connector.clone()).map_err(|e| {
            let detail = match e.as_db_error() {
                Some(db) => db.message().to_owned(),
                None => e.source().map_or_else(|| e.to_string(), ToString::to_string),
            };
            let hint = if detail.contains("certificate") || detail.contains("Certificate") {
                "for a server with a private CA, add sslrootcert=/path/to/ca.pem to the URL"
            } else {
                "check that the server runs and the URL is right"
            };
            StoreError::Unavailable(format!(
                "cannot connect to PostgreSQL at {} ({detail}); {hint}",
                self.target.shown
            ))
        })?;
        // Statements that wait for a row lock give up like SQLite's busy timeout; the schema
        // namespace comes first for the application's unqualified names. The relay's own writes
        // (claims, marks) do not wait for the WAL flush: a server crash can lose the last few
        // hundred milliseconds of them, which means a redelivery, never a loss, the same
        // trade as SQLite's synchronous=NORMAL. Application transactions (`begin`) stay durable.
        let setup = format!(
            "SET lock_timeout = {}; SET synchronous_commit = off; {} {}",
            self.busy_timeout.as_millis().max(1),
            match &self.target.schema {
                Some(s) => format!("SET search_path TO {}, public;", q(s)),
                None => String::new(),
            },
            if self.sql.counts_itself { COUNTS_ITSELF } else { "" }
        );
        client
            .batch_execute(&setup)
            .map_err(|e| map_err(&self.target.shown, self.busy_timeout, &e))?;
        Ok(client)
    }

    /// The live connection, reconnecting if it was lost.
    fn client(&mut self) -> Result<&mut Client, StoreError> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            self.client = None;
            self.statements.clear();
            self.listening = false;
            let client = self.connect()?;
            tracing::debug!(database = %self.target.shown, "connected to PostgreSQL");
            self.client = Some(client);
        }
        Ok(self.client.as_mut().expect("connected above"))
    }

    /// Maps a driver error, dropping the connection when it is the connection that failed.
    fn fail(&mut self, e: postgres::Error) -> StoreError {
        let lost = e.is_closed()
            || e.as_db_error().is_none() && e.source().is_some_and(|s| s.is::<std::io::Error>())
            || e.code()
                .is_some_and(|c| c.code().starts_with("57P") || c.code().starts_with("08"));
        if lost {
            self.client = None;
            self.statements.clear();
            self.listening = false;
        }
        map_err(&self.target.shown, self.busy_timeout, &e)
    }

    fn prepare(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let prepared = self.client()?.prepare(sql);
        let stmt = prepared.map_err(|e| self.fail(e))?;
        self.statements.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }

    fn raw_query_one(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row, StoreError> {
        let r = self.client()?.query_one(sql, params);
        r.map_err(|e| self.fail(e))
    }

    fn query(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, StoreError> {
        self.ensure_ready()?;
        let stmt = self.prepare(sql)?;
        let r = self.client()?.query(&stmt, params);
        r.map_err(|e| self.fail(e))
    }

    fn execute(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        self.ensure_ready()?;
        let stmt = self.prepare(sql)?;
        let r = self.client()?.execute(&stmt, params);
        r.map_err(|e| self.fail(e))
    }

    fn count(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        let rows = self.query(sql, params)?;
        Ok(rows.first().map_or(0, |r| r.get::<_, i64>(0)) as u64)
    }

    fn messages(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Message>, StoreError> {
        Ok(self.query(sql, params)?.iter().map(message_from_row).collect())
    }

    /// The claim's statement for batches of `limit`: `$1` owner, `$2` lease end, `$3` now.
    fn claim_sql(&self, limit: usize) -> String {
        // A NextAttemptOnUtc outboxctl cannot read counts as past (the claim overwrites it), and
        // Attempts at the maximum stays there rather than failing the whole claim on `+ 1`: the
        // relay sees it and makes that one message dead.
        // The rows are picked by a sub-select run exactly once (`ARRAY(…)`), so its LIMIT bounds
        // the claim (a join with a CTE let the planner pick a hash join over the whole table at
        // large batches), and then updated where the sub-select found and locked them (`ctid`,
        // a TID scan): no walk down the primary key per row, a fifth of the server's work in a
        // drain (the table is never partitioned, where ctids repeat: `init` cannot set its
        // fillfactor). The row lock holds each row version in place until the claim commits. Rows
        // another relay holds locked are skipped, not waited for; a row another relay changed
        // after this statement's snapshot is locked in its new version, which the snapshot does
        // not see, so it is left for the next claim.
        //
        // First at most one suspect (a message claimed twice with no outcome, counting the lease
        // it is taken over from), then the rest: a suspect is delivered before the rest of its
        // batch and its outcome recorded at once, so its third crash is its own. A row still
        // naming a relay in LockedBy had its lease run out with no outcome: a crash is counted.
        let crashes = "d.\"Crashes\" + (d.\"LockedBy\" IS NOT NULL)::int";
        let filter = due_filter(&self.sql.t, "$3");
        format!(
            "WITH suspect AS (
                 SELECT d.ctid {filter} AND d.\"Crashes\" > 0 AND {crashes} >= 2
                 ORDER BY d.\"OccuredOnUtc\" LIMIT 1 FOR UPDATE OF d SKIP LOCKED),
             due AS (
                 SELECT d.ctid {filter} AND {crashes} < 2
                 ORDER BY d.\"OccuredOnUtc\" LIMIT {limit} FOR UPDATE OF d SKIP LOCKED)
             UPDATE {t} AS m SET \"LockedBy\" = $1, \"LockedUntilUtc\" = $2, \"NextAttemptOnUtc\" = $2,
                 \"Attempts\" = CASE WHEN m.\"Attempts\" < {max} THEN m.\"Attempts\" + 1 ELSE m.\"Attempts\" END,
                 \"LastAttemptOnUtc\" = $3,
                 \"Crashes\" = m.\"Crashes\" + (m.\"LockedBy\" IS NOT NULL)::int
             WHERE m.ctid = ANY(ARRAY(
                 SELECT ctid FROM suspect UNION ALL SELECT ctid FROM due LIMIT {limit}))
               AND m.\"ProcessedOnUtc\" IS NULL AND m.\"DeadOnUtc\" IS NULL
             RETURNING {cols}",
            t = self.sql.t,
            cols = Sql::columns("m."),
            max = i32::MAX,
            // `{limit}` is a literal, not a parameter: the cached generic plan of `LIMIT $n`
            // assumes a tenth of the table and sorts it all; with the number it walks the due
            // index and stops.
        )
    }

    /// Looks up whether the schema is there and the types of the adopted columns.
    fn check_schema(&mut self) -> Result<(), StoreError> {
        let (schema, table) = (self.schema.clone(), self.table.clone());
        let trigger = format!("tr_{table}_notify");
        let counter = format!("tr_{table}_processed_update");
        let row = self.raw_query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_trigger tg
                     JOIN pg_class c ON c.oid = tg.tgrelid
                     JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = $1 AND c.relname = $2 AND tg.tgname = $3),
                    (SELECT data_type::text FROM information_schema.columns
                     WHERE table_schema = $1 AND table_name = $2 AND column_name = 'Id'),
                    (SELECT data_type::text FROM information_schema.columns
                     WHERE table_schema = $1 AND table_name = $2 AND column_name = 'Content'),
                    (SELECT pg_get_triggerdef(tg.oid) LIKE '%outboxctl.counts_itself%' FROM pg_trigger tg
                     JOIN pg_class c ON c.oid = tg.tgrelid
                     JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = $1 AND c.relname = $2 AND tg.tgname = $4),
                    EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                            WHERE n.nspname = $1 AND c.relname = $5 AND c.relkind = 'r')",
            &[&schema, &table, &trigger, &counter, &format!("{table}_Schema")],
        )?;
        self.ready = row.get(0);
        let id_type: Option<String> = row.get(1);
        let content_type: Option<String> = row.get(2);
        let counts_itself: Option<bool> = row.get(3);
        let versioned: bool = row.get(4);
        self.sql = Sql::new(
            &schema,
            &table,
            id_type.as_deref() == Some("uuid"),
            content_type.as_deref().unwrap_or("text"),
        );
        // Only once the trigger is known to leave the relay's marks alone: with a schema of an
        // earlier release the trigger keeps counting them, and so must not the relay.
        self.sql.counts_itself = counts_itself == Some(true);
        self.outdated = None;
        if self.ready {
            let version = if versioned {
                let version = recorded_version(self.client()?, &schema, &table);
                version.map_err(|e| self.fail(e))?
            } else {
                1
            };
            super::check_schema_version(Some(version), &table)?;
            if version < super::SCHEMA_VERSION {
                self.ready = false;
                self.outdated = Some(version);
            }
        }
        if self.sql.counts_itself {
            let r = self.client()?.batch_execute(COUNTS_ITSELF);
            r.map_err(|e| self.fail(e))?;
        }
        Ok(())
    }

    fn ensure_ready(&mut self) -> Result<(), StoreError> {
        if !self.ready {
            // `init` may have run since this store was opened (a relay started first).
            self.check_schema()?;
        }
        if self.ready {
            return Ok(());
        }
        if let Some(version) = self.outdated {
            return Err(StoreError::Unavailable(format!(
                "the outbox schema of table {}.{} is version {version}, made by an earlier outboxctl; \
                 run `outboxctl init` to migrate it to version {} (at a quiet moment: it rebuilds indexes)",
                self.schema,
                self.table,
                super::SCHEMA_VERSION
            )));
        }
        // A table that exists but is no outbox: say so, rather than suggest an `init` that refuses it.
        self.check_adoptable()?;
        Err(StoreError::Unavailable(format!(
            "no outbox schema for table {}.{} in {}; run `outboxctl init` first (with the same --database{})",
            self.schema,
            self.table,
            self.target.shown,
            if self.table == super::DEFAULT_TABLE {
                ""
            } else {
                " and --table"
            }
        )))
    }

    /// Refuses, before changing anything, a table `init` could not adopt: one without the
    /// original columns, or the original design created with unquoted (lower-case) names.
    fn check_adoptable(&mut self) -> Result<(), StoreError> {
        let (schema, table) = (self.schema.clone(), self.table.clone());
        let rows = self
            .client()?
            .query(
                "SELECT c.relname::text, c.relkind::text,
                        coalesce((SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
                                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '{}')
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = $1::text AND c.relname::text IN ($2::text, lower($2::text))",
                &[&schema, &table],
            )
            .map_err(|e| map_err(&self.target.shown, self.busy_timeout, &e))?;
        let found = |name: &str| rows.iter().find(|r| r.get::<_, String>(0) == name);
        if let Some(r) = found(&table) {
            let columns: Vec<String> = r.get(2);
            let missing: Vec<&str> = ["Id", "Type", "Content", "OccuredOnUtc"]
                .into_iter()
                .filter(|c| !columns.iter().any(|have| have == c))
                .collect();
            if !missing.is_empty() {
                return Err(StoreError::Unavailable(format!(
                    "{schema}.\"{table}\" is not an outbox table: it has no column {} (it has {}); choose \
                     another --table (outboxctl adopts only a table of the original design, with its quoted \
                     names \"Id\", \"Type\", \"Content\", \"OccuredOnUtc\")",
                    missing
                        .iter()
                        .map(|c| format!("\"{c}\""))
                        .collect::<Vec<_>>()
                        .join(", "),
                    columns.join(", ")
                )));
            }
        } else if let Some(r) = found(&table.to_lowercase())
            && r.get::<_, String>(1) != "v"
        {
            return Err(StoreError::Unavailable(format!(
                "{schema}.{} exists, created with unquoted (lower-case) names; outboxctl uses \"{table}\" with \
                 quoted names as EF Core creates it: rename the table and its columns (ALTER TABLE … RENAME), \
                 or use another --table",
                table.to_lowercase()
            )));
        }
        Ok(())
    }

    /// Resolves an id as typed by a user to the stored one (any case; EF Core writes upper case).
    fn resolve_id(&mut self, id: &str) -> Result<Option<String>, StoreError> {
        let t = self.sql.t.clone();
        let rows = if self.sql.id_cast.is_empty() {
            self.query(
                &format!("SELECT \"Id\" FROM {t} WHERE \"Id\" IN ($1, upper($1), lower($1)) LIMIT 1"),
                &[&id],
            )?
        } else {
            if uuid::Uuid::parse_str(id).is_err() {
                return Ok(None);
            }
            self.query(
                &format!("SELECT \"Id\"::text FROM {t} WHERE \"Id\" = $1::text::uuid"),
                &[&id],
            )?
        };
        Ok(rows.first().map(|r| r.get(0)))
    }
}

/// The version recorded in `"<table>_Schema"`: 1 for an outboxctl schema of a release before
/// versions (its counter trigger is there), None when there is no outboxctl schema.
fn schema_version(
    c: &mut impl postgres::GenericClient,
    schema: &str,
    table: &str,
) -> Result<Option<i32>, postgres::Error> {
    let row = c.query_one(
        "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind = 'r'),
                EXISTS (SELECT 1 FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
                        JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE n.nspname = $1 AND c.relname = $3 AND tg.tgname = $4)",
        &[
            &schema,
            &format!("{table}_Schema"),
            &table,
            &format!("tr_{table}_processed_update"),
        ],
    )?;
    if !row.get::<_, bool>(0) {
        return Ok(row.get::<_, bool>(1).then_some(1));
    }
    recorded_version(c, schema, table).map(Some)
}

/// The version in `"<table>_Schema"`, which must exist.
fn recorded_version(
    c: &mut impl postgres::GenericClient,
    schema: &str,
    table: &str,
) -> Result<i32, postgres::Error> {
    let sql = format!(
        "SELECT max(\"Version\") FROM {}.{}",
        q(schema),
        q(&format!("{table}_Schema"))
    );
    Ok(c.query_one(&sql, &[])?.get::<_, Option<i32>>(0).unwrap_or(1))
}

/// Creates or upgrades the schema in `schema`, adopting a table of the original design.
fn init_schema(tx: &mut postgres::Transaction<'_>, schema: &str, table: &str) -> Result<(), postgres::Error> {
    // One init at a time per table, whatever else runs.
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext($1))",
        &[&format!("outboxctl.init.{schema}.{table}")],
    )?;
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS {s}; SET LOCAL search_path TO {s};",
        s = q(schema)
    ))?;
    let columns: Vec<(String, String)> = tx
        .query(
            "SELECT column_name::text, data_type::text FROM information_schema.columns
             WHERE table_schema = $1 AND table_name = $2",
            &[&schema, &table],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let had_triggers: bool = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND c.relname = $2 AND tg.tgname = $3)",
            &[&schema, &table, &format!("tr_{table}_processed_update")],
        )?
        .get(0);
    let version = schema_version(tx, schema, table)?;
    if version.is_some_and(|v| v < 2) {
        // Version 2 keeps the lease and backoff out of the due index (the schema file below
        // makes it anew), so a claim writes no index.
        tx.batch_execute(&format!("DROP INDEX IF EXISTS {}", q(&format!("ix_{table}_due"))))?;
    }
    let adopting = !columns.is_empty();
    if adopting {
        // A table of the original design: add what the relay needs, keep every row.
        for (name, decl) in ADDED_COLUMNS {
            if !columns.iter().any(|(c, _)| c == name) {
                tx.batch_execute(&format!("ALTER TABLE {} ADD COLUMN {} {decl}", q(table), q(name)))?;
            }
        }
        // Times without a zone are taken as UTC, which is what the original wrote.
        for (name, ty) in &columns {
            if TIME_COLUMNS.contains(&name.as_str()) && ty == "timestamp without time zone" {
                tx.batch_execute(&format!(
                    "ALTER TABLE {t} ALTER COLUMN {c} TYPE timestamptz USING {c} AT TIME ZONE 'UTC'",
                    t = q(table),
                    c = q(name)
                ))?;
            }
        }
    }
    tx.batch_execute(&SCHEMA.replace("OutboxMessage", table))?;
    if adopting && !had_triggers {
        // Processed counts for rows that were there before the triggers existed.
        tx.batch_execute(&format!(
            "DELETE FROM {p};
             INSERT INTO {p} (\"Type\", \"Shard\", \"Processed\")
             SELECT \"Type\", 0, count(*) FROM {t} WHERE \"ProcessedOnUtc\" IS NOT NULL GROUP BY \"Type\";",
            p = q(&format!("{table}_Processed")),
            t = q(table)
        ))?;
    }
    // The original monitoring queries use unquoted names, which PostgreSQL folds to lower
    // case: a view with the folded names lets them run verbatim in psql.
    let lower = table.to_lowercase();
    if lower != table {
        let kind: Option<String> = tx
            .query_opt(
                "SELECT c.relkind::text FROM pg_class c
                 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
                &[&schema, &lower],
            )?
            .map(|r| r.get(0));
        if kind.is_none_or(|k| k == "v") {
            let cols = COLUMN_NAMES
                .iter()
                .map(|c| format!("\"{c}\" AS {}", c.to_lowercase()))
                .collect::<Vec<_>>()
                .join(", ");
            tx.batch_execute(&format!(
                "CREATE OR REPLACE VIEW {} AS SELECT {cols} FROM {}",
                q(&lower),
                q(table)
            ))?;
        } else {
            tracing::warn!(
                "{schema}.{lower} exists and is not outboxctl's view; the original monitoring queries \
                 need quoted names here"
            );
        }
    }
    Ok(())
}

/// Turns the driver's errors into the kinds the CLI explains. Never includes a password: the
/// driver's messages don't carry it, and `shown` is redacted.
fn map_err(shown: &str, busy: Duration, e: &postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error() {
        let msg = match db.detail() {
            Some(d) => format!("{} ({d})", db.message()),
            None => db.message().to_owned(),
        };
        let code = db.code().code();
        return match code {
            "23505" => StoreError::Conflict(msg),
            "55P03" | "40P01" | "40001" => StoreError::Busy { waited: busy },
            "42P01" | "3F000" | "42703" => StoreError::Unavailable(format!(
                "{msg} in {shown}; run `outboxctl init` to create or upgrade the schema"
            )),
            "28P01" | "28000" => StoreError::Unavailable(format!(
                "PostgreSQL refused the login for {shown}: {msg}; check the user and password"
            )),
            "3D000" => StoreError::Unavailable(format!("{msg} ({shown}); create it or fix the URL")),
            "42501" => StoreError::Unavailable(format!(
                "{msg} ({shown}); grant the user the rights on the outbox schema"
            )),
            "25006" => {
                StoreError::Unavailable(format!("PostgreSQL at {shown} is read-only (a standby?): {msg}"))
            }
            c if c.starts_with("57P") || c.starts_with("08") || c.starts_with("53") => {
                StoreError::Unavailable(format!("PostgreSQL at {shown} is unavailable ({msg}); try again"))
            }
            _ => StoreError::Other(format!("PostgreSQL at {shown}: {msg}")),
        };
    }
    if e.is_closed() || e.source().is_some_and(|s| s.is::<std::io::Error>()) {
        return StoreError::Unavailable(format!(
            "lost the connection to PostgreSQL at {shown} ({e}); try again"
        ));
    }
    StoreError::Other(format!("PostgreSQL at {shown}: {e}"))
}

/// From here on, a time does not fit chrono (nor does `infinity`).
const UNREADABLE_TIME: &str = "'262143-01-01 00:00:00+00'::timestamptz";
/// SQL true when a lease holds at `$1`: an end outboxctl cannot read (`infinity`) is over, as on
/// SQLite, so a dead relay's garbage cannot pin a row in `stats` or keep `retry` away from it.
/// What a claim may take at `now` (a parameter), oldest first, as `d`: neither processed nor
/// dead, not waiting for a backoff or a live lease, not held back by an earlier message of its key.
/// A NextAttemptOnUtc outboxctl cannot read counts as past.
fn due_rows(t: &str, now: &str) -> String {
    format!("{} ORDER BY d.\"OccuredOnUtc\"", due_filter(t, now))
}

/// [`due_rows`] without its order, for claims to add conditions to.
fn due_filter(t: &str, now: &str) -> String {
    format!(
        "FROM {t} AS d
         WHERE d.\"ProcessedOnUtc\" IS NULL AND d.\"DeadOnUtc\" IS NULL
           AND (d.\"NextAttemptOnUtc\" IS NULL OR d.\"NextAttemptOnUtc\" <= {now}
                OR d.\"NextAttemptOnUtc\" >= {UNREADABLE_TIME})
           AND (d.\"OrderingKey\" IS NULL OR NOT EXISTS ({}))",
        earlier_of_key(t, "d")
    )
}

/// `h` is a message holding back its key: the first undelivered one of the key, failing or dead.
fn blocked_head(t: &str) -> String {
    format!(
        "h.\"OrderingKey\" IS NOT NULL AND h.\"ProcessedOnUtc\" IS NULL AND h.\"SkippedOnUtc\" IS NULL
         AND (h.\"Error\" IS NOT NULL OR h.\"DeadOnUtc\" IS NOT NULL) AND NOT EXISTS ({})",
        earlier_of_key(t, "h")
    )
}

/// The messages of `m`'s key before it that still hold the key back: neither processed nor
/// skipped (a dead one holds it until an operator retries or skips it). A claim that runs while
/// another relay marks the earlier one sees it unprocessed and waits: never two of a key at once.
fn earlier_of_key(t: &str, m: &str) -> String {
    format!(
        "SELECT 1 FROM {t} AS e
         WHERE e.\"OrderingKey\" = {m}.\"OrderingKey\" AND e.\"ProcessedOnUtc\" IS NULL
           AND e.\"SkippedOnUtc\" IS NULL
           AND (e.\"OccuredOnUtc\", e.\"Id\") < ({m}.\"OccuredOnUtc\", {m}.\"Id\")"
    )
}

fn live_lease() -> String {
    format!("(\"LockedUntilUtc\" > $1 AND \"LockedUntilUtc\" < {UNREADABLE_TIME})")
}

/// Reads a row leniently, noting what does not fit: columns are typed, but another
/// application can still write a NULL into an adopted table, a time outside what outboxctl
/// reads (`infinity`), or an attempt count the claim cannot raise.
fn message_from_row(row: &Row) -> Message {
    let mut problems = Vec::new();
    let mut text = |idx: usize, column: &'static str, required: bool| -> Option<String> {
        match row.try_get::<_, Option<String>>(idx) {
            Ok(None) if required => {
                problems.push(Problem::new(column, "is NULL"));
                None
            }
            Ok(v) => v,
            Err(e) => {
                problems.push(Problem::new(column, format!("cannot be read ({e})")));
                None
            }
        }
    };
    let id = text(0, "Id", true).unwrap_or_default();
    let event_type = text(1, "Type", true).unwrap_or_default();
    let content = text(2, "Content", true).unwrap_or_default();
    let error = text(5, "Error", false);
    let locked_by = text(8, "LockedBy", false);
    let key = text(12, "OrderingKey", false);
    let trace_parent = text(15, "TraceParent", false);
    let trace_state = text(16, "TraceState", false);
    let mut time = |idx: usize, column: &'static str, required: bool| -> Option<DateTime<Utc>> {
        match row.try_get::<_, Option<DateTime<Utc>>>(idx) {
            Ok(None) if required => {
                problems.push(Problem::new(column, "is NULL"));
                None
            }
            Ok(v) => v,
            Err(_) => {
                problems.push(Problem::new(
                    column,
                    "is not a time outboxctl can read (infinity, or out of range)",
                ));
                None
            }
        }
    };
    let occurred_on = time(3, "OccuredOnUtc", true);
    let processed_on = time(4, "ProcessedOnUtc", false);
    let next_attempt_on = time(7, "NextAttemptOnUtc", false);
    let locked_until = time(9, "LockedUntilUtc", false);
    let dead_on = time(10, "DeadOnUtc", false);
    let last_attempt_on = time(11, "LastAttemptOnUtc", false);
    let skipped_on = time(13, "SkippedOnUtc", false);
    let attempts = match row.try_get::<_, Option<i64>>(6) {
        Ok(Some(n)) if n >= i64::from(i32::MAX) => {
            problems.push(Problem::new(
                "Attempts",
                format!("is at the integer maximum ({n}): no further attempt can be counted"),
            ));
            n
        }
        Ok(Some(n)) => n,
        Ok(None) => {
            problems.push(Problem::new("Attempts", "is NULL"));
            0
        }
        Err(e) => {
            problems.push(Problem::new("Attempts", format!("cannot be read ({e})")));
            0
        }
    };
    Message {
        id,
        event_type,
        content,
        occurred_on,
        processed_on,
        error,
        attempts,
        next_attempt_on,
        locked_by,
        locked_until,
        dead_on,
        last_attempt_on,
        key,
        skipped_on,
        crashes: row.try_get::<_, Option<i64>>(14).ok().flatten().unwrap_or(0),
        trace_parent,
        trace_state,
        delivery_id: None,
        sink: None,
        problems,
    }
}

/// Application parameters bind to whatever the column is: text forms convert to the column's
/// type (uuid, timestamps, json) so `$1` works the same as on SQLite.
impl ToSql for SqlValue {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            SqlValue::Null => Ok(IsNull::Yes),
            SqlValue::Int(v) => match *ty {
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::FLOAT8 => (*v as f64).to_sql(ty, out),
                Type::BOOL => (*v != 0).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => v.to_string().to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            SqlValue::Real(v) => match *ty {
                Type::FLOAT4 => (*v as f32).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => v.to_string().to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            SqlValue::Text(s) => match *ty {
                Type::UUID => {
                    out.extend_from_slice(uuid::Uuid::parse_str(s)?.as_bytes());
                    Ok(IsNull::No)
                }
                Type::TIMESTAMPTZ | Type::TIMESTAMP => {
                    let t = crate::time::parse(s).ok_or_else(|| format!("{s:?} is not a time"))?;
                    if *ty == Type::TIMESTAMP {
                        t.naive_utc().to_sql(ty, out)
                    } else {
                        t.to_sql(ty, out)
                    }
                }
                Type::JSONB => {
                    out.extend_from_slice(&[1]);
                    out.extend_from_slice(s.as_bytes());
                    Ok(IsNull::No)
                }
                Type::JSON => {
                    out.extend_from_slice(s.as_bytes());
                    Ok(IsNull::No)
                }
                _ => s.as_str().to_sql(ty, out),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

struct PgTransaction<'c> {
    tx: postgres::Transaction<'c>,
    insert: Statement,
    shown: &'c str,
    busy: Duration,
}

impl Transaction for PgTransaction<'_> {
    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64, StoreError> {
        let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        self.tx
            .execute(sql, &params)
            .map_err(|e| map_err(self.shown, self.busy, &e))
    }

    fn insert_messages(&mut self, messages: &[NewMessage]) -> Result<(), StoreError> {
        if messages.is_empty() {
            return Ok(());
        }
        let ids: Vec<&str> = messages.iter().map(|m| m.id.as_str()).collect();
        let types: Vec<&str> = messages.iter().map(|m| m.event_type.as_str()).collect();
        let contents: Vec<&str> = messages.iter().map(|m| m.content.as_str()).collect();
        let times: Vec<DateTime<Utc>> = messages.iter().map(|m| m.occurred_on).collect();
        let keys: Vec<Option<&str>> = messages.iter().map(|m| m.key.as_deref()).collect();
        let parents: Vec<Option<&str>> = messages.iter().map(|m| m.trace_parent.as_deref()).collect();
        let states: Vec<Option<&str>> = messages.iter().map(|m| m.trace_state.as_deref()).collect();
        self.tx
            .execute(
                &self.insert,
                &[&ids, &types, &contents, &times, &keys, &parents, &states],
            )
            .map(drop)
            .map_err(|e| map_err(self.shown, self.busy, &e))
    }

    fn commit(self: Box<Self>) -> Result<(), StoreError> {
        let (shown, busy) = (self.shown, self.busy);
        self.tx.commit().map_err(|e| map_err(shown, busy, &e))
    }
}

impl PostgresStore {
    /// A CTE `audited` adding `count` (an SQL expression) messages to the audit row of an
    /// operation (made on its first use); its parameters are `$first` to `$first + 5`, in the
    /// order of [`AuditParams::after`].
    fn audit_cte(&self, action: &str, count: &str, first: usize) -> String {
        let p = |i: usize| format!("${}", first + i);
        format!(
            "audited AS (
                 INSERT INTO {au} AS a (\"Operation\", \"AtUtc\", \"Actor\", \"Action\", \"Command\",
                                        \"Messages\", \"Ids\", \"Filter\")
                 SELECT {}::text, {}::timestamptz, {}::text, '{action}', {}::text, {count}, {}::text, {}::text
                 ON CONFLICT (\"Operation\") DO UPDATE SET \"Messages\" = a.\"Messages\" + EXCLUDED.\"Messages\")",
            p(0),
            p(1),
            p(2),
            p(3),
            p(4),
            p(5),
            au = self.sql.audit
        )
    }
}

/// The parameters of [`PostgresStore::audit_cte`].
struct AuditParams<'a> {
    audit: &'a Audit,
    ids: Option<String>,
    selection: Option<String>,
}

impl<'a> AuditParams<'a> {
    fn new(audit: &'a Audit, ids: Option<String>, selection: Option<&str>) -> Self {
        AuditParams {
            audit,
            ids,
            selection: selection.map(str::to_owned),
        }
    }

    /// `before`, then the audit row's parameters.
    fn after<'p>(&'p self, before: &[&'p (dyn ToSql + Sync)]) -> Vec<&'p (dyn ToSql + Sync)> {
        let mut all = before.to_vec();
        all.extend_from_slice(&[
            &self.audit.operation,
            &self.audit.at,
            &self.audit.actor,
            &self.audit.command,
            &self.ids,
            &self.selection,
        ]);
        all
    }
}

/// A value bound to a statement built at run time (a replay's selection).
type Param = Box<dyn ToSql + Sync>;

/// Replays: a second queue beside the outbox, claimed and recorded the way the outbox is.
impl PostgresStore {
    /// The WHERE clause over `m` (the outbox) that a replay selection makes, with its values
    /// bound from `$first` on. Ids match as `retry` matches them (any case).
    fn replay_filter(
        &mut self,
        select: &ReplaySelect,
        first: usize,
    ) -> Result<(String, Vec<Param>), StoreError> {
        let mut resolved = Vec::with_capacity(select.ids.len());
        for id in &select.ids {
            resolved.extend(self.resolve_id(id)?);
        }
        let mut clauses = vec![
            match select.state {
                ReplayState::Processed => "m.\"ProcessedOnUtc\" IS NOT NULL",
                ReplayState::Dead => "m.\"ProcessedOnUtc\" IS NULL AND m.\"DeadOnUtc\" IS NOT NULL",
                ReplayState::Failed => "m.\"ProcessedOnUtc\" IS NULL AND m.\"Error\" IS NOT NULL",
                ReplayState::Unprocessed => "m.\"ProcessedOnUtc\" IS NULL",
                ReplayState::All => "true",
            }
            .to_owned(),
        ];
        let mut values: Vec<Param> = Vec::new();
        let mut bind = |value: Param| {
            values.push(value);
            format!("${}", first + values.len() - 1)
        };
        if !select.ids.is_empty() {
            let p = bind(Box::new(resolved));
            clauses.push(format!("m.\"Id\" = ANY({})", self.sql.ids(&p)));
        }
        if !select.types.is_empty() {
            let p = bind(Box::new(select.types.clone()));
            clauses.push(format!("m.\"Type\" = ANY({p}::text[])"));
        }
        if let Some(key) = &select.key {
            let p = bind(Box::new(key.clone()));
            clauses.push(format!("m.\"OrderingKey\" = {p}::text"));
        }
        for (column, op, at) in select.time_bounds() {
            if let Some(at) = at {
                let p = bind(Box::new(at));
                clauses.push(format!("m.\"{column}\" {op} {p}::timestamptz"));
            }
        }
        Ok((clauses.join(" AND "), values))
    }

    /// The replay `p` that `sql_where` (with `$1`) picks, with its progress.
    fn read_replay(&mut self, sql_where: &str, arg: &str) -> Result<Option<Replay>, StoreError> {
        let sql = format!(
            "SELECT p.\"Replay\", p.\"CreatedOnUtc\", p.\"Sink\", p.\"NewDeliveryId\", p.\"Messages\",
                    c.delivered, c.dead
             FROM {} p CROSS JOIN LATERAL (
                 SELECT count(r.\"DeliveredOnUtc\") AS delivered, count(r.\"DeadOnUtc\") AS dead
                 FROM {} r WHERE r.\"Replay\" = p.\"Replay\") c
             WHERE {sql_where}",
            self.sql.replay, self.sql.replayed
        );
        Ok(self.query(&sql, &[&arg])?.first().map(|r| {
            let messages = r.get::<_, i64>(4).max(0) as u64;
            let delivered = r.get::<_, i64>(5) as u64;
            let dead = r.get::<_, i64>(6) as u64;
            Replay {
                replay: r.get(0),
                created_on: r.try_get(1).ok().flatten(),
                sink: r.get(2),
                new_delivery_id: r.get(3),
                messages,
                delivered,
                dead,
                pending: messages.saturating_sub(delivered + dead),
            }
        }))
    }

    /// The advisory lock of a replay plan, less its fingerprint: held by whoever starts, resumes
    /// or purges a replay of the plan.
    fn replay_lock(&self) -> String {
        format!("outboxctl.replay.{}.{}.", self.schema, self.table)
    }

    /// The unfinished replay `p` with the fingerprint `$1`, the latest first.
    fn unfinished_replay(&self) -> String {
        format!(
            "p.\"Fingerprint\" = $1 AND EXISTS (SELECT 1 FROM {} r WHERE r.\"Replay\" = p.\"Replay\"
               AND r.\"DeliveredOnUtc\" IS NULL)
             ORDER BY p.\"CreatedOnUtc\" DESC LIMIT 1",
            self.sql.replayed
        )
    }
}

impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn init(&mut self) -> Result<(), StoreError> {
        let (schema, table) = (self.schema.clone(), self.table.clone());
        self.check_adoptable()?;
        let version = schema_version(self.client()?, &schema, &table);
        super::check_schema_version(version.map_err(|e| self.fail(e))?, &table)?;
        let client = self.client()?;
        let done = client
            .transaction()
            .and_then(|mut tx| init_schema(&mut tx, &schema, &table).and_then(|()| tx.commit()));
        if let Err(e) = done {
            return Err(self.fail(e));
        }
        // The table may have changed shape: plans prepared before are stale.
        self.statements.clear();
        self.check_schema()?;
        self.ensure_ready()
    }

    fn key_rules(&mut self) -> Result<Vec<KeyRule>, StoreError> {
        self.ensure_ready()?;
        let rule_table = format!("{}.{}", q(&self.schema), q(&format!("{}_KeyRule", self.table)));
        let exists = self.raw_query_one("SELECT to_regclass($1) IS NOT NULL", &[&rule_table])?;
        if !exists.get::<_, bool>(0) {
            return Ok(Vec::new());
        }
        let sql = format!("SELECT \"Type\", \"Pointer\" FROM {rule_table} ORDER BY \"Type\"");
        Ok(self
            .query(&sql, &[])?
            .iter()
            .map(|r| KeyRule {
                event_type: r.get(0),
                pointer: r.get(1),
            })
            .collect())
    }

    fn apply_key_rules(&mut self, rules: &[KeyRule], audit: Option<&Audit>) -> Result<(), StoreError> {
        self.ensure_ready()?;
        // Counted before and after: how many unprocessed messages the rules gave a key.
        let keyless = format!(
            "SELECT count(*) FROM {t} WHERE \"ProcessedOnUtc\" IS NULL AND \"OrderingKey\" IS NULL",
            t = self.sql.t
        );
        let audit_sql = format!("WITH {} SELECT 1", self.audit_cte("key-rules", "$7::int8", 1));
        let (schema, table) = (self.schema.clone(), self.table.clone());
        let n = |suffix: &str| format!("{}.{}", q(&schema), q(&format!("{table}{suffix}")));
        let (t, rule_table, function, trigger) =
            (n(""), n("_KeyRule"), n("_key"), q(&format!("tr_{table}_key")));
        let client = self.client()?;
        let done = client.transaction().and_then(|mut tx| {
            let before: i64 = tx.query_one(&keyless, &[])?.get(0);
            tx.batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {rule_table} (
                     \"Type\" text NOT NULL PRIMARY KEY, \"Pointer\" text NOT NULL, \"Path\" text[] NOT NULL);
                 DELETE FROM {rule_table};
                 DROP TRIGGER IF EXISTS {trigger} ON {t};"
            ))?;
            for rule in rules {
                let path = KeyRule::tokens(&rule.pointer).unwrap_or_default();
                tx.execute(
                    &format!(
                        "INSERT INTO {rule_table} (\"Type\", \"Pointer\", \"Path\") VALUES ($1, $2, $3)"
                    ),
                    &[&rule.event_type, &rule.pointer, &path],
                )?;
            }
            if !rules.is_empty() {
                // Only while rules exist. Content that is not JSON leaves the key NULL (the
                // relay then makes the message dead with a readable error, as without a rule).
                tx.batch_execute(&format!(
                    "CREATE OR REPLACE FUNCTION {function}() RETURNS trigger
                     LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
                     DECLARE
                         p text[];
                     BEGIN
                         SELECT \"Path\" INTO p FROM {rule_table} WHERE \"Type\" = NEW.\"Type\";
                         IF p IS NOT NULL THEN
                             BEGIN
                                 NEW.\"OrderingKey\" := NEW.\"Content\"::text::jsonb #>> p;
                             EXCEPTION WHEN others THEN
                                 NEW.\"OrderingKey\" := NULL;
                             END;
                         END IF;
                         RETURN NEW;
                     END $$;
                     CREATE TRIGGER {trigger} BEFORE INSERT ON {t} FOR EACH ROW
                         WHEN (NEW.\"OrderingKey\" IS NULL) EXECUTE FUNCTION {function}();
                     DO $$
                     DECLARE
                         m record;
                     BEGIN
                         FOR m IN SELECT x.\"Id\", x.\"Content\"::text AS c, r.\"Path\" AS p
                                  FROM {t} AS x JOIN {rule_table} AS r ON r.\"Type\" = x.\"Type\"
                                  WHERE x.\"ProcessedOnUtc\" IS NULL AND x.\"OrderingKey\" IS NULL
                         LOOP
                             BEGIN
                                 UPDATE {t} SET \"OrderingKey\" = m.c::jsonb #>> m.p WHERE \"Id\" = m.\"Id\";
                             EXCEPTION WHEN others THEN NULL;
                             END;
                         END LOOP;
                     END $$;"
                ))?;
            }
            if let Some(audit) = audit {
                let after: i64 = tx.query_one(&keyless, &[])?.get(0);
                let filled = before - after;
                let rules = super::key_rules_json(rules);
                let params = AuditParams::new(audit, None, Some(&rules));
                let mut values = params.after(&[]);
                values.push(&filled);
                tx.execute(&audit_sql, &values)?;
            }
            tx.commit()
        });
        done.map_err(|e| self.fail(e))
    }

    fn begin(&mut self) -> Result<Box<dyn Transaction + '_>, StoreError> {
        self.ensure_ready()?;
        let insert = self.prepare(&format!(
            "INSERT INTO {} (\"Id\", \"Type\", \"Content\", \"OccuredOnUtc\", \"OrderingKey\",
                             \"TraceParent\", \"TraceState\")
             SELECT i{}, ty, c{}, o, k, tp, ts
             FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[],
                         $7::text[]) AS u(i, ty, c, o, k, tp, ts)",
            self.sql.t,
            if self.sql.id_cast.is_empty() { "" } else { "::uuid" },
            self.sql.content_cast,
        ))?;
        let (shown, busy) = (self.target.shown.as_str(), self.busy_timeout);
        let client = self.client.as_mut().expect("connected by prepare");
        let mut tx = client.transaction().map_err(|e| map_err(shown, busy, &e))?;
        // The application's own statements are counted by the trigger, whatever they change.
        tx.batch_execute("SET LOCAL synchronous_commit = on; SET LOCAL outboxctl.counts_itself = off")
            .map_err(|e| map_err(shown, busy, &e))?;
        Ok(Box::new(PgTransaction {
            tx,
            insert,
            shown,
            busy,
        }))
    }

    fn claim(&mut self, p: &ClaimParams) -> Result<Vec<Message>, StoreError> {
        let sql = self.claim_sql(p.limit);
        let mut rows = self.messages(&sql, &[&p.owner, &p.lease_until, &p.now])?;
        // RETURNING gives no order; deliver oldest first.
        rows.sort_by(|a, b| a.occurred_on.cmp(&b.occurred_on).then_with(|| a.id.cmp(&b.id)));
        Ok(rows)
    }

    fn extend(&mut self, ids: &[String], owner: &str, until: DateTime<Utc>) -> Result<u64, StoreError> {
        let sql = format!(
            "UPDATE {} SET \"LockedUntilUtc\" = $1, \"NextAttemptOnUtc\" = $1
             WHERE \"Id\" = ANY({}) AND \"LockedBy\" = $3 AND \"ProcessedOnUtc\" IS NULL",
            self.sql.t,
            self.sql.ids("$2")
        );
        self.execute(&sql, &[&until, &ids, &owner])
    }

    fn record(&mut self, p: &RecordParams) -> Result<Recorded, StoreError> {
        if p.delivered.is_empty() && p.failed.is_empty() {
            return Ok(Recorded::default());
        }
        let mut ids = Vec::with_capacity(p.failed.len());
        let mut attempts = Vec::with_capacity(p.failed.len());
        let mut destinations = Vec::with_capacity(p.failed.len());
        let mut errors = Vec::with_capacity(p.failed.len());
        let mut next = Vec::with_capacity(p.failed.len());
        let mut dead = Vec::with_capacity(p.failed.len());
        let mut skipped = Vec::with_capacity(p.failed.len());
        let mut parked = Vec::with_capacity(p.failed.len());
        let mut failed_on = Vec::with_capacity(p.failed.len());
        let (mut accepted_ids, mut accepted) = (Vec::new(), Vec::new());
        for f in p.failed {
            for destination in &f.accepted {
                accepted_ids.push(f.id.as_str());
                accepted.push(destination.as_str());
            }
            ids.push(f.id.as_str());
            attempts.push(i32::try_from(f.attempt).unwrap_or(i32::MAX));
            destinations.push(f.destination.as_deref());
            errors.push(f.error.as_str());
            next.push(f.next_attempt);
            dead.push(f.next_attempt.is_none().then_some(f.failed_on));
            skipped.push((f.next_attempt.is_none() && f.skip).then_some(f.failed_on));
            parked.push(f.parked);
            failed_on.push(f.failed_on);
        }
        // The whole run in one statement: one round trip and one commit. Per-destination state is
        // dropped only when there is some (a one-time check, most outboxes never have any, so
        // the probe per id is skipped). The relay never lists
        // a message both as delivered and as failed, so no row is updated twice.
        let sql = format!(
            "WITH done AS (
                 UPDATE {t} SET \"ProcessedOnUtc\" = $2, \"Error\" = NULL, \"LockedBy\" = NULL,
                     \"LockedUntilUtc\" = NULL, \"NextAttemptOnUtc\" = NULL
                 WHERE \"Id\" = ANY({delivered}) AND \"ProcessedOnUtc\" IS NULL RETURNING \"Type\"),
             {counted}
             gone AS (DELETE FROM {d} WHERE EXISTS (SELECT 1 FROM {d}) AND \"MessageId\" = ANY($1::text[])),
             f AS (SELECT * FROM unnest($4::text[], $5::int4[], $6::text[], $7::text[],
                                        $8::timestamptz[], $9::timestamptz[], $10::timestamptz[],
                                        $13::timestamptz[], $14::bool[])
                       AS f(id, attempt, destination, error, next_at, dead_on, failed_on, skipped_on,
                            parked)),
             failed AS (
                 UPDATE {t} AS m SET \"Error\" = f.error, \"NextAttemptOnUtc\" = f.next_at,
                     \"DeadOnUtc\" = f.dead_on, \"SkippedOnUtc\" = f.skipped_on,
                     \"LockedBy\" = NULL, \"LockedUntilUtc\" = NULL,
                     \"Crashes\" = CASE WHEN f.dead_on IS NULL THEN 0 ELSE m.\"Crashes\" END
                 FROM f WHERE m.\"Id\" = {fid} AND m.\"LockedBy\" = $3
                   AND m.\"ProcessedOnUtc\" IS NULL RETURNING f.id),
             parked AS (
                 INSERT INTO {au} (\"Operation\", \"AtUtc\", \"Actor\", \"Action\", \"Command\",
                                  \"Messages\", \"Ids\")
                 SELECT gen_random_uuid()::text, f.failed_on, $3, 'park',
                        'relay ' || $3 || ': parked after crashes', 1, json_build_array(f.id)::text
                 FROM f WHERE f.parked AND f.id IN (SELECT id FROM failed)),
             history AS (
                 INSERT INTO {a} (\"MessageId\", \"Attempt\", \"Destination\", \"FailedOnUtc\", \"Error\")
                 SELECT id, attempt, destination, failed_on, error FROM f),
             accepted AS (
                 INSERT INTO {d} (\"MessageId\", \"Destination\", \"DeliveredOnUtc\")
                 SELECT id, destination, $2 FROM unnest($11::text[], $12::text[]) AS a(id, destination)
                 ON CONFLICT DO NOTHING)
             SELECT (SELECT count(*) FROM done), (SELECT count(*) FROM failed)",
            t = self.sql.t,
            d = self.sql.delivery,
            a = self.sql.attempt,
            au = self.sql.audit,
            delivered = self.sql.ids("$1"),
            fid = self.sql.id("f.id"),
            counted = if self.sql.counts_itself {
                format!(
                    "counted AS (
                         INSERT INTO {} AS p (\"Type\", \"Shard\", \"Processed\")
                         SELECT \"Type\", pg_backend_pid() % 16, count(*) FROM done GROUP BY \"Type\"
                         ON CONFLICT (\"Type\", \"Shard\") DO UPDATE SET \"Processed\" = p.\"Processed\" + EXCLUDED.\"Processed\"),",
                    self.sql.processed
                )
            } else {
                String::new()
            },
        );
        let rows = self.query(
            &sql,
            &[
                &p.delivered,
                &p.now,
                &p.owner,
                &ids,
                &attempts,
                &destinations,
                &errors,
                &next,
                &dead,
                &failed_on,
                &accepted_ids,
                &accepted,
                &skipped,
                &parked,
            ],
        )?;
        let count = |i: usize| rows.first().map_or(0, |r| r.get::<_, i64>(i)) as u64;
        Ok(Recorded {
            processed: count(0),
            failed: count(1),
        })
    }

    fn deliveries(&mut self, id: &str) -> Result<Vec<String>, StoreError> {
        let sql = format!(
            "SELECT \"Destination\" FROM {} WHERE \"MessageId\" = $1",
            self.sql.delivery
        );
        Ok(self.query(&sql, &[&id])?.iter().map(|r| r.get(0)).collect())
    }

    fn release(
        &mut self,
        ids: &[String],
        owner: &str,
        due: Option<DateTime<Utc>>,
    ) -> Result<u64, StoreError> {
        let sql = format!(
            "UPDATE {} SET \"LockedBy\" = NULL, \"LockedUntilUtc\" = NULL, \"NextAttemptOnUtc\" = $3,
                 \"Attempts\" = greatest(\"Attempts\" - 1, 0)
             WHERE \"Id\" = ANY({}) AND \"LockedBy\" = $2 AND \"ProcessedOnUtc\" IS NULL",
            self.sql.t,
            self.sql.ids("$1")
        );
        self.execute(&sql, &[&ids, &owner, &due])
    }

    fn circuits(&mut self) -> Result<Vec<Circuit>, StoreError> {
        let sql = format!(
            "SELECT \"Destination\", \"Failures\", \"OpenedOnUtc\", \"OpenUntilUtc\", \"LastError\"
             FROM {} ORDER BY \"Destination\"",
            self.sql.circuit
        );
        Ok(self
            .query(&sql, &[])?
            .iter()
            .map(|r| Circuit {
                destination: r.get(0),
                failures: u32::try_from(r.get::<_, i32>(1)).unwrap_or(0),
                opened_on: r.get(2),
                open_until: r.get(3),
                last_error: r.get(4),
            })
            .collect())
    }

    fn open_circuit(&mut self, c: &Circuit) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO {} (\"Destination\", \"Failures\", \"OpenedOnUtc\", \"OpenUntilUtc\", \"LastError\")
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (\"Destination\") DO UPDATE SET \"Failures\" = EXCLUDED.\"Failures\",
                 \"OpenUntilUtc\" = EXCLUDED.\"OpenUntilUtc\", \"LastError\" = EXCLUDED.\"LastError\"",
            self.sql.circuit
        );
        let failures = i32::try_from(c.failures).unwrap_or(i32::MAX);
        self.execute(
            &sql,
            &[
                &c.destination,
                &failures,
                &c.opened_on,
                &c.open_until,
                &c.last_error,
            ],
        )?;
        Ok(())
    }

    fn probe_circuit(
        &mut self,
        destination: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE {} SET \"OpenUntilUtc\" = $3 WHERE \"Destination\" = $1 AND \"OpenUntilUtc\" <= $2",
            self.sql.circuit
        );
        Ok(self.execute(&sql, &[&destination, &now, &until])? == 1)
    }

    fn close_circuit(&mut self, destination: &str) -> Result<(), StoreError> {
        let sql = format!("DELETE FROM {} WHERE \"Destination\" = $1", self.sql.circuit);
        self.execute(&sql, &[&destination])?;
        Ok(())
    }

    fn list(&mut self, p: &ListParams) -> Result<Vec<Message>, StoreError> {
        self.list_page(p, 0)
    }

    fn list_page(&mut self, p: &ListParams, offset: usize) -> Result<Vec<Message>, StoreError> {
        let (filter, order) = match p.filter {
            ListFilter::Unprocessed => ("\"ProcessedOnUtc\" IS NULL", "\"OccuredOnUtc\", \"Id\""),
            ListFilter::Failed => ("\"Error\" IS NOT NULL", "\"OccuredOnUtc\", \"Id\""),
            ListFilter::Dead => (
                "\"ProcessedOnUtc\" IS NULL AND \"DeadOnUtc\" IS NOT NULL",
                "\"OccuredOnUtc\", \"Id\"",
            ),
            ListFilter::Processed => (
                "\"ProcessedOnUtc\" IS NOT NULL",
                "\"ProcessedOnUtc\" DESC, \"Id\"",
            ),
        };
        let sql = format!(
            "SELECT {cols} FROM {t} WHERE {filter} AND ($1::text IS NULL OR \"Type\" = $1)
             ORDER BY {order} LIMIT $2 OFFSET $3",
            cols = Sql::columns(""),
            t = self.sql.t
        );
        let (limit, offset) = (p.limit as i64, i64::try_from(offset).unwrap_or(i64::MAX));
        self.messages(&sql, &[&p.event_type, &limit, &offset])
    }

    fn blocked_keys(&mut self, limit: usize, offset: usize) -> Result<Vec<BlockedKey>, StoreError> {
        let t = self.sql.t.clone();
        let sql = format!(
            "SELECT {},
                 (SELECT count(*) FROM {t} AS w
                  WHERE w.\"OrderingKey\" = h.\"OrderingKey\" AND w.\"ProcessedOnUtc\" IS NULL
                    AND w.\"SkippedOnUtc\" IS NULL AND w.\"Id\" <> h.\"Id\")::int8
             FROM {t} AS h WHERE {}
             ORDER BY h.\"OccuredOnUtc\", h.\"Id\" LIMIT {limit} OFFSET {offset}",
            Sql::columns("h."),
            blocked_head(&t)
        );
        let rows = self.query(&sql, &[])?;
        Ok(rows
            .iter()
            .map(|r| {
                let head = message_from_row(r);
                BlockedKey {
                    key: head.key.clone().unwrap_or_default(),
                    waiting: r.get::<_, i64>(17) as u64,
                    head,
                }
            })
            .collect())
    }

    fn get(&mut self, id: &str) -> Result<Option<MessageDetail>, StoreError> {
        let Some(id) = self.resolve_id(id)? else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT {} FROM {} WHERE \"Id\" = {}",
            Sql::columns(""),
            self.sql.t,
            self.sql.id("$1")
        );
        let Some(message) = self.messages(&sql, &[&id])?.pop() else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT \"Attempt\"::int8, \"Destination\", \"FailedOnUtc\", \"Error\" FROM {}
             WHERE \"MessageId\" = $1 ORDER BY \"Seq\"",
            self.sql.attempt
        );
        let failures = self
            .query(&sql, &[&id])?
            .iter()
            .map(|r| FailedAttempt {
                attempt: r.get(0),
                destination: r.get(1),
                failed_on: r.get(2),
                error: r.get(3),
            })
            .collect();
        let sql = format!(
            "SELECT \"Destination\", \"DeliveredOnUtc\" FROM {} WHERE \"MessageId\" = $1 ORDER BY \"Destination\"",
            self.sql.delivery
        );
        let deliveries = self
            .query(&sql, &[&id])?
            .iter()
            .map(|r| Delivery {
                destination: r.get(0),
                delivered_on: r.get(1),
            })
            .collect();
        let blocked_by =
            if message.key.is_some() && message.processed_on.is_none() && message.skipped_on.is_none() {
                let sql = format!(
                    "SELECT {} FROM {t} AS e JOIN {t} AS m ON m.\"Id\" = {}
                 WHERE e.\"OrderingKey\" = m.\"OrderingKey\" AND e.\"ProcessedOnUtc\" IS NULL
                   AND e.\"SkippedOnUtc\" IS NULL
                   AND (e.\"OccuredOnUtc\", e.\"Id\") < (m.\"OccuredOnUtc\", m.\"Id\")
                 ORDER BY e.\"OccuredOnUtc\", e.\"Id\" LIMIT 1",
                    Sql::columns("e."),
                    self.sql.id("$1"),
                    t = self.sql.t
                );
                self.messages(&sql, &[&id])?.pop().map(Box::new)
            } else {
                None
            };
        let replays = self.replays_of(&id)?;
        Ok(Some(MessageDetail {
            message,
            failures,
            deliveries,
            blocked_by,
            replays,
        }))
    }

    fn stats(&mut self, now: DateTime<Utc>) -> Result<Stats, StoreError> {
        let mut by_type: BTreeMap<String, Counts> = BTreeMap::new();
        // Processed rows are counted by triggers, never scanned.
        let sql = format!(
            "SELECT \"Type\", sum(\"Processed\")::int8 FROM {} GROUP BY \"Type\" HAVING sum(\"Processed\") > 0",
            self.sql.processed
        );
        for r in self.query(&sql, &[])? {
            by_type.entry(r.get(0)).or_default().processed = r.get::<_, i64>(1) as u64;
        }
        // Unprocessed rows only, through the partial index.
        let sql = format!(
            "SELECT \"Type\",
                    count(*),
                    count(\"DeadOnUtc\"),
                    count(\"Error\"),
                    count(*) FILTER (WHERE \"DeadOnUtc\" IS NULL AND {live}),
                    count(*) FILTER (WHERE \"DeadOnUtc\" IS NULL AND \"Error\" IS NOT NULL
                                     AND NOT coalesce({live}, false)),
                    min(\"OccuredOnUtc\") FILTER (WHERE \"DeadOnUtc\" IS NULL)
             FROM {} WHERE \"ProcessedOnUtc\" IS NULL GROUP BY \"Type\"",
            self.sql.t,
            live = live_lease()
        );
        let mut oldest: Option<DateTime<Utc>> = None;
        for r in self.query(&sql, &[&now])? {
            let [count, dead, failed, in_flight, retrying]: [i64; 5] =
                [r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)];
            let c = by_type.entry(r.get(0)).or_default();
            c.dead = dead as u64;
            c.failed = failed as u64;
            c.in_flight = in_flight as u64;
            c.retrying = retrying as u64;
            c.pending = (count - dead - in_flight - retrying) as u64;
            c.total = count as u64;
            // `-infinity` (or a year chrono cannot hold) is no age to report.
            let first: Option<DateTime<Utc>> = r.try_get(6).ok().flatten();
            oldest = match (oldest, first) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        // The claim's own selection, for its first row: what a relay would take now.
        let sql = format!(
            "SELECT d.\"OccuredOnUtc\" {} LIMIT 1",
            due_rows(&self.sql.t, "$1")
        );
        let oldest_due = self.query(&sql, &[&now])?.first().and_then(|r| r.try_get(0).ok());
        let sql = format!(
            "SELECT max(\"ProcessedOnUtc\") FROM {} WHERE \"ProcessedOnUtc\" IS NOT NULL",
            self.sql.t
        );
        let last_processed = self
            .query(&sql, &[])?
            .first()
            .and_then(|r| r.try_get(0).ok().flatten());
        let sql = format!(
            "SELECT count(*) FROM {t} AS h WHERE {}",
            blocked_head(&self.sql.t),
            t = self.sql.t
        );
        let blocked_keys = self.count(&sql, &[])?;
        Ok(super::assemble_stats(
            by_type,
            super::StatsExtra {
                oldest_unprocessed_on: oldest,
                oldest_due_on: oldest_due,
                last_processed_on: last_processed,
                blocked_keys,
                open_circuits: self.circuits()?,
            },
            now,
        ))
    }

    fn missing_ids(&mut self, ids: &[String]) -> Result<Vec<String>, StoreError> {
        let mut missing = Vec::new();
        for id in ids {
            if self.resolve_id(id)?.is_none() {
                missing.push(id.clone());
            }
        }
        Ok(missing)
    }

    fn retry(
        &mut self,
        select: &RetrySelect,
        now: DateTime<Utc>,
        dry_run: bool,
        audit: &Audit,
    ) -> Result<u64, StoreError> {
        let not_claimed = &format!("NOT coalesce({}, false)", live_lease());
        let mut resolved = Vec::new();
        let filter = match select {
            RetrySelect::Failed => format!(
                "\"ProcessedOnUtc\" IS NULL AND \"DeadOnUtc\" IS NULL AND \"Error\" IS NOT NULL AND {not_claimed}"
            ),
            RetrySelect::Dead => {
                format!("\"ProcessedOnUtc\" IS NULL AND \"DeadOnUtc\" IS NOT NULL AND {not_claimed}")
            }
            RetrySelect::Ids(ids) => {
                for id in ids {
                    resolved.extend(self.resolve_id(id)?);
                }
                format!(
                    "\"ProcessedOnUtc\" IS NULL AND {not_claimed} AND \"Id\" = ANY({})",
                    self.sql.ids("$2")
                )
            }
        };
        let t = self.sql.t.clone();
        let with_ids = matches!(select, RetrySelect::Ids(_));
        if dry_run {
            let sql = format!("SELECT count(*) FROM {t} WHERE {filter}");
            return if with_ids {
                self.count(&sql, &[&now, &resolved])
            } else {
                self.count(&sql, &[&now])
            };
        }
        // A dead message comes back with a fresh set of attempts; a failing one keeps its count.
        // The notification wakes waiting relays, as an insert does.
        // The audit row in the same statement: its parameters follow the others.
        let first = if with_ids { 3 } else { 2 };
        let sql = format!(
            "WITH again AS (
                 UPDATE {t} SET \"NextAttemptOnUtc\" = NULL, \"LockedBy\" = NULL, \"LockedUntilUtc\" = NULL,
                     \"Attempts\" = CASE WHEN \"DeadOnUtc\" IS NOT NULL THEN 0 ELSE \"Attempts\" END,
                     \"DeadOnUtc\" = NULL, \"SkippedOnUtc\" = NULL, \"Crashes\" = 0
                 WHERE {filter} RETURNING 1),
             {audited}
             SELECT count(*), pg_notify('{}', '')::text FROM again",
            self.channel(),
            audited = self.audit_cte("retry", "(SELECT count(*) FROM again)", first)
        );
        let (named, selection) = super::audit_target(select);
        let a = AuditParams::new(audit, named, selection);
        if with_ids {
            self.count(&sql, &a.after(&[&now, &resolved]))
        } else {
            self.count(&sql, &a.after(&[&now]))
        }
    }

    fn skip(
        &mut self,
        ids: &[String],
        now: DateTime<Utc>,
        dry_run: bool,
        audit: &Audit,
    ) -> Result<u64, StoreError> {
        let mut resolved = Vec::new();
        for id in ids {
            resolved.extend(self.resolve_id(id)?);
        }
        let filter = format!(
            "\"ProcessedOnUtc\" IS NULL AND \"SkippedOnUtc\" IS NULL AND NOT coalesce({}, false)
             AND \"Id\" = ANY({})",
            live_lease(),
            self.sql.ids("$2")
        );
        let t = self.sql.t.clone();
        if dry_run {
            let sql = format!("SELECT count(*) FROM {t} WHERE {filter}");
            return self.count(&sql, &[&now, &resolved]);
        }
        // Skipped is dead for good: it keeps its error and history, and no relay claims it.
        // The notification wakes relays: the next message of the key is due.
        let sql = format!(
            "WITH skipped AS (
                 UPDATE {t} SET \"SkippedOnUtc\" = $1, \"DeadOnUtc\" = coalesce(\"DeadOnUtc\", $1),
                     \"NextAttemptOnUtc\" = NULL, \"LockedBy\" = NULL, \"LockedUntilUtc\" = NULL
                 WHERE {filter} RETURNING 1),
             {audited}
             SELECT count(*), pg_notify('{}', '')::text FROM skipped",
            self.channel(),
            audited = self.audit_cte("skip", "(SELECT count(*) FROM skipped)", 3)
        );
        let a = AuditParams::new(audit, Some(super::ids_json(ids)), None);
        self.count(&sql, &a.after(&[&now, &resolved]))
    }

    fn audit_log(
        &mut self,
        since: Option<DateTime<Utc>>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let sql = format!(
            "SELECT \"Seq\", \"AtUtc\", \"Actor\", \"Action\", \"Command\", \"Messages\", \"Ids\", \"Filter\"
             FROM {} WHERE $1::timestamptz IS NULL OR \"AtUtc\" >= $1
             ORDER BY \"Seq\" DESC LIMIT {limit}",
            self.sql.audit
        );
        Ok(self
            .query(&sql, &[&since])?
            .iter()
            .map(|r| AuditEntry {
                seq: r.get(0),
                at: r.try_get(1).ok(),
                actor: r.get(2),
                action: r.get(3),
                command: r.get(4),
                messages: r.get::<_, i64>(5).max(0) as u64,
                ids: r
                    .get::<_, Option<String>>(6)
                    .and_then(|j| serde_json::from_str(&j).ok()),
                filter: r.get(7),
            })
            .collect())
    }

    fn purge_audit(&mut self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let sql = format!("DELETE FROM {} WHERE \"AtUtc\" < $1", self.sql.audit);
        self.execute(&sql, &[&before])
    }

    fn purge_replays(&mut self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.ensure_ready()?;
        let finished = format!(
            "p.\"CreatedOnUtc\" < $1 AND NOT EXISTS (
                 SELECT 1 FROM {} r WHERE r.\"Replay\" = p.\"Replay\"
                   AND r.\"DeliveredOnUtc\" IS NULL AND r.\"DeadOnUtc\" IS NULL)",
            self.sql.replayed
        );
        // A finished replay whose dead a `replay_start` is reviving right now must stay: take
        // the plans' locks first (in one order, so two purges cannot deadlock), then look again.
        let lock = format!(
            "SELECT pg_advisory_xact_lock(hashtext($2 || f.\"Fingerprint\")) FROM (
                 SELECT DISTINCT p.\"Fingerprint\" FROM {} p WHERE {finished} ORDER BY 1) f",
            self.sql.replay
        );
        let delete = format!(
            "WITH done AS (DELETE FROM {} p WHERE {finished} RETURNING p.\"Replay\"),
             rows AS (DELETE FROM {} WHERE \"Replay\" IN (SELECT \"Replay\" FROM done))
             SELECT count(*) FROM done",
            self.sql.replay, self.sql.replayed
        );
        let prefix = self.replay_lock();
        let client = self.client()?;
        let done = client.transaction().and_then(|mut tx| {
            tx.query(&lock, &[&before, &prefix])?;
            let n: i64 = tx.query_one(&delete, &[&before])?.get(0);
            tx.commit().map(|()| n as u64)
        });
        done.map_err(|e| self.fail(e))
    }

    fn count_purgeable(&mut self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let sql = format!(
            "SELECT count(*) FROM {} WHERE \"ProcessedOnUtc\" IS NOT NULL AND \"ProcessedOnUtc\" < $1",
            self.sql.t
        );
        self.count(&sql, &[&before])
    }

    fn purge_chunk(&mut self, before: DateTime<Utc>, limit: usize, audit: &Audit) -> Result<u64, StoreError> {
        // One statement: the chunk's rows and their failure history go together.
        let sql = format!(
            "WITH chunk AS MATERIALIZED (
                 SELECT \"Id\" FROM {t} WHERE \"ProcessedOnUtc\" IS NOT NULL AND \"ProcessedOnUtc\" < $1
                 ORDER BY \"ProcessedOnUtc\" LIMIT {limit} FOR UPDATE SKIP LOCKED),
             gone AS (DELETE FROM {t} m USING chunk WHERE m.\"Id\" = chunk.\"Id\"
                      AND m.\"ProcessedOnUtc\" IS NOT NULL RETURNING m.\"Id\"::text AS id),
             history AS (DELETE FROM {a} WHERE \"MessageId\" IN (SELECT id FROM gone)),
             {audited}
             SELECT count(*) FROM gone",
            t = self.sql.t,
            a = self.sql.attempt,
            audited = self.audit_cte("purge", "(SELECT count(*) FROM gone)", 2)
        );
        let selection = format!("processed before {}", crate::time::format(before));
        let a = AuditParams::new(audit, None, Some(&selection));
        self.count(&sql, &a.after(&[&before]))
    }

    fn next_due(&mut self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, StoreError> {
        // Read from the partial due index, like the claim.
        let sql = format!(
            "SELECT min(\"NextAttemptOnUtc\") FROM {}
             WHERE \"ProcessedOnUtc\" IS NULL AND \"DeadOnUtc\" IS NULL AND \"NextAttemptOnUtc\" > $1",
            self.sql.t
        );
        let rows = self.query(&sql, &[&now])?;
        // `infinity` (or a year chrono cannot hold) is no time to wake up at.
        Ok(rows
            .first()
            .and_then(|r| r.try_get::<_, Option<DateTime<Utc>>>(0).ok().flatten()))
    }

    fn activity(
        &mut self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        bucket: Duration,
    ) -> Result<Vec<ActivityBucket>, StoreError> {
        let secs = bucket.as_secs().max(1) as i64;
        let sql = format!(
            "SELECT b, sum(p)::int8, sum(f)::int8 FROM (
                 SELECT floor(extract(epoch FROM \"ProcessedOnUtc\")::float8 / $2::float8)::int8 AS b,
                        1 AS p, 0 AS f
                 FROM {t} WHERE \"ProcessedOnUtc\" >= $1 AND \"ProcessedOnUtc\" < $3
                 UNION ALL
                 SELECT floor(extract(epoch FROM \"FailedOnUtc\")::float8 / $2::float8)::int8, 0, 1
                 FROM {a} WHERE \"FailedOnUtc\" >= $1 AND \"FailedOnUtc\" < $3) x
             GROUP BY b ORDER BY b",
            t = self.sql.t,
            a = self.sql.attempt
        );
        let rows = self.query(&sql, &[&since, &(secs as f64), &until])?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                let (b, processed, failed): (i64, i64, i64) = (r.get(0), r.get(1), r.get(2));
                Some(ActivityBucket {
                    start: DateTime::from_timestamp(b * secs, 0)?,
                    processed: processed as u64,
                    failed: failed as u64,
                })
            })
            .collect())
    }

    fn replay_preview(
        &mut self,
        select: &ReplaySelect,
        sample: usize,
    ) -> Result<(u64, Vec<Message>), StoreError> {
        let (filter, values) = self.replay_filter(select, 1)?;
        let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v.as_ref() as _).collect();
        let t = self.sql.t.clone();
        let count = self.count(&format!("SELECT count(*) FROM {t} AS m WHERE {filter}"), &params)?;
        let sql = format!(
            "SELECT {} FROM {t} AS m WHERE {filter} ORDER BY m.\"OccuredOnUtc\", m.\"Id\" LIMIT {sample}",
            Sql::columns("m.")
        );
        Ok((count, self.messages(&sql, &params)?))
    }

    fn replay_unfinished(&mut self, fingerprint: &str) -> Result<Option<Replay>, StoreError> {
        self.read_replay(&self.unfinished_replay(), fingerprint)
    }

    fn replay_start(
        &mut self,
        plan: &ReplayPlan,
        now: DateTime<Utc>,
        audit: &Audit,
    ) -> Result<Replay, StoreError> {
        self.ensure_ready()?;
        let fingerprint = plan.fingerprint();
        // $1–$5 the replay, $6–$11 the audit row, then the selection's values.
        let (filter, values) = self.replay_filter(&plan.select, 12)?;
        let named = (!plan.select.ids.is_empty()).then(|| super::ids_json(&plan.select.ids));
        let (t, replay_t, replayed) = (&self.sql.t, &self.sql.replay, &self.sql.replayed);
        let unfinished = format!(
            "SELECT p.\"Replay\" FROM {replay_t} p WHERE {}",
            self.unfinished_replay()
        );
        // Dead ones get a fresh set of attempts; what was delivered stays delivered.
        let resume = format!(
            "WITH revived AS (
                 UPDATE {replayed} SET \"DeadOnUtc\" = NULL, \"Attempts\" = 0, \"NextAttemptOnUtc\" = NULL,
                     \"LockedBy\" = NULL, \"LockedUntilUtc\" = NULL
                 WHERE \"Replay\" = $1 AND \"DeadOnUtc\" IS NOT NULL RETURNING 1),
             {audited}
             SELECT count(*) FROM revived",
            audited = self.audit_cte("replay", "(SELECT count(*) FROM revived)", 2)
        );
        let create = format!(
            "WITH queued AS (
                 INSERT INTO {replayed} (\"Replay\", \"Seq\", \"MessageId\", \"OrderingKey\")
                 SELECT $1::text, row_number() OVER (ORDER BY m.\"OccuredOnUtc\", m.\"Id\"), m.\"Id\"::text,
                        m.\"OrderingKey\"
                 FROM {t} AS m WHERE {filter} RETURNING 1),
             header AS (
                 INSERT INTO {replay_t} (\"Replay\", \"Fingerprint\", \"CreatedOnUtc\", \"Sink\", \"NewDeliveryId\",
                                         \"Messages\")
                 SELECT $1::text, $2::text, $3::timestamptz, $4::text, $5::bool, (SELECT count(*) FROM queued)),
             {audited}
             SELECT count(*) FROM queued",
            audited = self.audit_cte("replay", "(SELECT count(*) FROM queued)", 6)
        );
        // Two starts of the same plan at once: the second waits, then resumes the first's replay.
        let lock = format!("{}{fingerprint}", self.replay_lock());
        let client = self.client()?;
        let done = client.transaction().and_then(|mut tx| {
            tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&lock])?;
            let found: Option<String> = tx.query_opt(&unfinished, &[&fingerprint])?.map(|r| r.get(0));
            let replay = if let Some(replay) = found {
                let selection = format!("resume {replay}");
                let a = AuditParams::new(audit, named.clone(), Some(&selection));
                tx.query(&resume, &a.after(&[&replay]))?;
                replay
            } else {
                let a = AuditParams::new(audit, named.clone(), Some(&fingerprint));
                let mut params = a.after(&[
                    &audit.operation,
                    &fingerprint,
                    &now,
                    &plan.sink,
                    &plan.new_delivery_id,
                ]);
                params.extend(values.iter().map(|v| v.as_ref() as &(dyn ToSql + Sync)));
                tx.query(&create, &params)?;
                audit.operation.clone()
            };
            tx.commit().map(|()| replay)
        });
        let replay = done.map_err(|e| self.fail(e))?;
        Ok(self.replay_state(&replay)?.expect("the replay was just written"))
    }

    fn replay_state(&mut self, replay: &str) -> Result<Option<Replay>, StoreError> {
        self.read_replay("p.\"Replay\" = $1", replay)
    }

    fn replays_of(&mut self, id: &str) -> Result<Vec<ReplayDelivery>, StoreError> {
        let sql = format!(
            "SELECT p.\"Replay\", p.\"CreatedOnUtc\", p.\"Sink\", r.\"DeliveredOnUtc\", r.\"DeadOnUtc\" IS NOT NULL,
                    r.\"Attempts\"::int8, r.\"Error\", p.\"NewDeliveryId\", r.\"MessageId\"
             FROM {} r JOIN {} p ON p.\"Replay\" = r.\"Replay\"
             WHERE r.\"MessageId\" IN ($1, upper($1), lower($1))
             ORDER BY p.\"CreatedOnUtc\", p.\"Replay\"",
            self.sql.replayed, self.sql.replay
        );
        Ok(self
            .query(&sql, &[&id])?
            .iter()
            .map(|r| {
                let replay: String = r.get(0);
                let delivered_on: Option<DateTime<Utc>> = r.get(3);
                let state = if delivered_on.is_some() {
                    "delivered"
                } else if r.get::<_, bool>(4) {
                    "dead"
                } else {
                    "pending"
                };
                let delivery_id = r
                    .get::<_, bool>(7)
                    .then(|| crate::model::replay_delivery_id(&replay, r.get(8)));
                ReplayDelivery {
                    created_on: r.try_get(1).ok().flatten(),
                    sink: r.get(2),
                    state: state.to_owned(),
                    attempts: r.get(5),
                    delivered_on,
                    error: r.get(6),
                    delivery_id,
                    replay,
                }
            })
            .collect())
    }

    fn replay_claim(&mut self, replay: &str, p: &ClaimParams) -> Result<Vec<Message>, StoreError> {
        // As `claim`: the due rows are picked once (`ARRAY(…)`), those another relay holds locked
        // skipped, and one claimed meanwhile re-checked and dropped, so relays share a replay.
        // Due: not delivered, not dead, not waiting for a backoff or a live lease, and no earlier
        // message of its key in this replay still to go. The outbox row comes in the same trip.
        let sql = format!(
            "WITH due AS (
                 SELECT d.\"Seq\" FROM {r} AS d
                 WHERE d.\"Replay\" = $1 AND d.\"DeliveredOnUtc\" IS NULL AND d.\"DeadOnUtc\" IS NULL
                   AND (d.\"NextAttemptOnUtc\" IS NULL OR d.\"NextAttemptOnUtc\" <= $4)
                   AND (d.\"OrderingKey\" IS NULL OR NOT EXISTS (
                        SELECT 1 FROM {r} AS e
                        WHERE e.\"Replay\" = d.\"Replay\" AND e.\"OrderingKey\" = d.\"OrderingKey\"
                          AND e.\"Seq\" < d.\"Seq\" AND e.\"DeliveredOnUtc\" IS NULL AND e.\"DeadOnUtc\" IS NULL))
                 ORDER BY d.\"Seq\" LIMIT {limit} FOR UPDATE OF d SKIP LOCKED),
             claimed AS (
                 UPDATE {r} AS c SET \"LockedBy\" = $2, \"LockedUntilUtc\" = $3, \"NextAttemptOnUtc\" = $3,
                     \"Attempts\" = c.\"Attempts\" + 1
                 WHERE c.\"Replay\" = $1 AND c.\"Seq\" = ANY(ARRAY(SELECT \"Seq\" FROM due))
                   AND c.\"DeliveredOnUtc\" IS NULL AND c.\"DeadOnUtc\" IS NULL
                 RETURNING c.\"Seq\", c.\"Attempts\", c.\"Error\", c.\"MessageId\")
             SELECT {cols}, c.\"Seq\", c.\"Attempts\"::int8, c.\"Error\", c.\"MessageId\", m.\"Id\" IS NULL,
                    p.\"Sink\", p.\"NewDeliveryId\"
             FROM claimed c JOIN {replay_t} p ON p.\"Replay\" = $1
             LEFT JOIN {t} AS m ON m.\"Id\" = {id}
             ORDER BY c.\"Seq\"",
            r = self.sql.replayed,
            replay_t = self.sql.replay,
            t = self.sql.t,
            cols = Sql::columns("m."),
            id = self.sql.id("c.\"MessageId\""),
            // A literal, as in `claim`.
            limit = p.limit
        );
        let rows = self.query(&sql, &[&replay, &p.owner, &p.lease_until, &p.now])?;
        Ok(rows
            .iter()
            .map(|row| {
                let mut m = message_from_row(row);
                m.id = row.get(20);
                if row.get::<_, bool>(21) {
                    // Purged while the replay waited: there is nothing left to send.
                    m.problems = vec![Problem::new(
                        "Content",
                        "is gone: the message was purged before the replay delivered it",
                    )];
                }
                m.attempts = row.get(18);
                m.error = row.get(19);
                m.crashes = 0;
                m.locked_by = Some(p.owner.to_owned());
                m.locked_until = Some(p.lease_until);
                m.sink = row.get(22);
                m.delivery_id = row
                    .get::<_, bool>(23)
                    .then(|| crate::model::replay_delivery_id(replay, &m.id));
                m
            })
            .collect())
    }

    fn replay_record(&mut self, replay: &str, p: &RecordParams) -> Result<Recorded, StoreError> {
        if p.delivered.is_empty() && p.failed.is_empty() {
            return Ok(Recorded::default());
        }
        let mut ids = Vec::with_capacity(p.failed.len());
        let mut errors = Vec::with_capacity(p.failed.len());
        let mut next = Vec::with_capacity(p.failed.len());
        let mut dead = Vec::with_capacity(p.failed.len());
        let (mut accepted_ids, mut accepted) = (Vec::new(), Vec::new());
        for f in p.failed {
            for destination in &f.accepted {
                accepted_ids.push(f.id.as_str());
                accepted.push(destination.as_str());
            }
            ids.push(f.id.as_str());
            errors.push(f.described());
            next.push(f.next_attempt);
            dead.push(f.next_attempt.is_none().then_some(f.failed_on));
        }
        // The whole run in one statement, as `record`. A delivery counts even if the lease ran
        // out; a failure only on a claim the owner still holds.
        let sql = format!(
            "WITH done AS (
                 UPDATE {r} SET \"DeliveredOnUtc\" = $2, \"Error\" = NULL, \"LockedBy\" = NULL,
                     \"LockedUntilUtc\" = NULL, \"NextAttemptOnUtc\" = NULL, \"DeadOnUtc\" = NULL
                 WHERE \"Replay\" = $1 AND \"MessageId\" = ANY($3::text[]) AND \"DeliveredOnUtc\" IS NULL
                 RETURNING 1),
             acc AS (SELECT id, array_agg(destination) AS destinations
                     FROM unnest($9::text[], $10::text[]) AS a(id, destination) GROUP BY id),
             f AS (SELECT u.id, u.error, u.next_at, u.dead_on, acc.destinations
                   FROM unnest($5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[])
                        AS u(id, error, next_at, dead_on)
                   LEFT JOIN acc ON acc.id = u.id),
             failed AS (
                 UPDATE {r} AS x SET \"Error\" = f.error, \"NextAttemptOnUtc\" = f.next_at,
                     \"DeadOnUtc\" = f.dead_on, \"LockedBy\" = NULL, \"LockedUntilUtc\" = NULL,
                     \"Accepted\" = CASE WHEN f.destinations IS NULL THEN x.\"Accepted\" ELSE
                         ARRAY(SELECT DISTINCT a FROM unnest(coalesce(x.\"Accepted\", '{{}}') || f.destinations) AS a
                               ORDER BY a) END
                 FROM f WHERE x.\"Replay\" = $1 AND x.\"MessageId\" = f.id AND x.\"LockedBy\" = $4
                   AND x.\"DeliveredOnUtc\" IS NULL RETURNING 1)
             SELECT (SELECT count(*) FROM done), (SELECT count(*) FROM failed)",
            r = self.sql.replayed
        );
        let rows = self.query(
            &sql,
            &[
                &replay,
                &p.now,
                &p.delivered,
                &p.owner,
                &ids,
                &errors,
                &next,
                &dead,
                &accepted_ids,
                &accepted,
            ],
        )?;
        let count = |i: usize| rows.first().map_or(0, |r| r.get::<_, i64>(i)) as u64;
        Ok(Recorded {
            processed: count(0),
            failed: count(1),
        })
    }

    fn replay_release(
        &mut self,
        replay: &str,
        ids: &[String],
        owner: &str,
        due: Option<DateTime<Utc>>,
    ) -> Result<u64, StoreError> {
        let sql = format!(
            "UPDATE {} SET \"LockedBy\" = NULL, \"LockedUntilUtc\" = NULL, \"NextAttemptOnUtc\" = $4,
                 \"Attempts\" = greatest(\"Attempts\" - 1, 0)
             WHERE \"Replay\" = $1 AND \"MessageId\" = ANY($2::text[]) AND \"LockedBy\" = $3
               AND \"DeliveredOnUtc\" IS NULL",
            self.sql.replayed
        );
        self.execute(&sql, &[&replay, &ids, &owner, &due])
    }

    fn replay_extend(
        &mut self,
        replay: &str,
        ids: &[String],
        owner: &str,
        until: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let sql = format!(
            "UPDATE {} SET \"LockedUntilUtc\" = $4, \"NextAttemptOnUtc\" = $4
             WHERE \"Replay\" = $1 AND \"MessageId\" = ANY($2::text[]) AND \"LockedBy\" = $3
               AND \"DeliveredOnUtc\" IS NULL",
            self.sql.replayed
        );
        self.execute(&sql, &[&replay, &ids, &owner, &until])
    }

    fn replay_deliveries(&mut self, replay: &str, id: &str) -> Result<Vec<String>, StoreError> {
        let sql = format!(
            "SELECT \"Accepted\" FROM {} WHERE \"Replay\" = $1 AND \"MessageId\" = $2",
            self.sql.replayed
        );
        Ok(self
            .query(&sql, &[&replay, &id])?
            .first()
            .and_then(|r| r.get::<_, Option<Vec<String>>>(0))
            .unwrap_or_default())
    }

    fn wait_for_work(&mut self, timeout: Duration, stop: &AtomicBool) -> Result<(), StoreError> {
        self.ensure_ready()?;
        if !self.listening {
            let listen = format!("LISTEN {}", q(&self.channel()));
            let r = self.client()?.batch_execute(&listen);
            r.map_err(|e| self.fail(e))?;
            self.listening = true;
            // Messages may have arrived before we listened: look once more at once.
            return Ok(());
        }
        let deadline = Instant::now() + timeout;
        while !stop.load(Ordering::Relaxed) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let client = self.client()?;
            let got = {
                let mut notifications = client.notifications();
                let first = notifications.timeout_iter(left.min(WAIT_STEP)).next();
                // Several inserts may have notified; one more pass sees them all.
                first.and_then(|n| notifications.iter().count().map(|_| n.is_some()))
            };
            match got {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(e) => return Err(self.fail(e)),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_parts_outboxctl_handles_are_taken_out() {
        let t = parse_url(
            "postgres://u:secret@db.example.com:6432/app?schema=outbox&sslmode=verify-full&connect_timeout=3",
        )
        .unwrap();
        assert_eq!(t.schema.as_deref(), Some("outbox"));
        assert!(t.verify);
        assert_eq!(t.config.get_connect_timeout(), Some(&Duration::from_secs(3)));
        assert_eq!(t.config.get_ssl_mode(), postgres::config::SslMode::Require);
        assert!(!t.shown.contains("secret"));
    }

    #[test]
    fn bad_url_errors_do_not_show_the_password() {
        let e = parse_url("postgres://u:secret@host/db?sslmode=maybe")
            .err()
            .unwrap();
        assert!(e.to_string().contains("sslmode"), "{e}");
        assert!(!e.to_string().contains("secret"), "{e}");
        let e = parse_url("postgres://u:secret@host/db?schema=a-b").err().unwrap();
        assert!(!e.to_string().contains("secret"), "{e}");
    }
    /// The claim updates the rows where its sub-select locked them: a TID scan, not a walk down
    /// the primary key per row (a fifth of the server's work in a drain). Needs the test
    /// PostgreSQL (`OUTBOX_TEST_POSTGRES_URL`, or the local one).
    #[test]
    fn the_claim_updates_its_rows_where_it_locked_them() {
        let base = std::env::var("OUTBOX_TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let schema = format!("t_claimplan_{}", std::process::id());
        let sep = if base.contains('?') { '&' } else { '?' };
        let options = StoreOptions {
            table: "OutboxMessage".into(),
            busy_timeout: Duration::from_secs(5),
        };
        let mut store = PostgresStore::open(&format!("{base}{sep}schema={schema}"), &options).unwrap();
        store.init().unwrap();
        let mut c = Client::connect(&base, postgres::NoTls).unwrap();
        // A backlog as the planner sees one after autovacuum's ANALYZE (on a table of a few
        // rows any plan is as good).
        c.batch_execute(&format!(
            "INSERT INTO \"{schema}\".\"OutboxMessage\" (\"Id\", \"Type\", \"Content\", \"OccuredOnUtc\")
             SELECT gen_random_uuid()::text, 'T', '{{}}', now() - interval '1 day' + i * interval '1 ms'
             FROM generate_series(1, 20000) i;
             ANALYZE \"{schema}\".\"OutboxMessage\";"
        ))
        .unwrap();
        let now = Utc::now();
        let sql = format!("EXPLAIN {}", store.claim_sql(100));
        let plan = store.query(&sql, &[&"plan", &now, &now]).map(|rows| {
            rows.iter()
                .map(|r| r.get::<_, String>(0))
                .collect::<Vec<_>>()
                .join("\n")
        });
        let mut c = Client::connect(&base, postgres::NoTls).unwrap();
        c.batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
            .unwrap();
        let plan = plan.unwrap();
        assert!(plan.contains("Tid Scan on \"OutboxMessage\" m"), "{plan}");
        assert!(!plan.contains("_pkey"), "{plan}");
    }
}
