//! The leanest outbox we could write in bare rusqlite that keeps outboxctl's guarantees and
//! features, as the yardstick of the drain and emit sections: not a copy of outboxctl's SQL.
//!
//! - A claim is one statement: it leases a batch (owner, lease end in `available`, attempt
//!   counted) oldest first, on a partial index of live rows keyed by occurrence alone, so
//!   leasing a row does not move it in any index.
//! - Delivered rows are marked in one transaction per batch that also adds the batch's
//!   per-type counts to a counter table: `stats` never scans processed rows.
//! - Processed rows sit in a partial index by processing time, for purge and the history; dead
//!   rows in a partial index by type, for stats.
//! - Same pragmas as outboxctl (WAL, synchronous = NORMAL) and SQLite's own checkpoints.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use outboxctl::time;
use rusqlite::{Connection, TransactionBehavior, params};

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS lean (
    id        TEXT    NOT NULL PRIMARY KEY,
    type      TEXT    NOT NULL,
    content   TEXT    NOT NULL,
    occurred  TEXT    NOT NULL,
    processed TEXT,
    dead      TEXT,
    error     TEXT,
    attempts  INTEGER NOT NULL DEFAULT 0,
    -- The next attempt, or the end of the lease while claimed. NULL = due now.
    available TEXT,
    owner     TEXT
);
CREATE INDEX IF NOT EXISTS lean_due ON lean (occurred) WHERE processed IS NULL AND dead IS NULL;
CREATE INDEX IF NOT EXISTS lean_processed ON lean (processed) WHERE processed IS NOT NULL;
CREATE INDEX IF NOT EXISTS lean_dead ON lean (type) WHERE dead IS NOT NULL AND processed IS NULL;
CREATE TABLE IF NOT EXISTS lean_counts (type TEXT PRIMARY KEY, processed INTEGER NOT NULL);
";

pub fn open(path: &Path) -> Connection {
    let conn = Connection::open(path).expect("open");
    conn.busy_timeout(Duration::from_secs(5)).expect("busy timeout");
    conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
        .expect("wal");
    conn.execute_batch("PRAGMA synchronous = NORMAL;")
        .expect("synchronous");
    conn.execute_batch(SCHEMA).expect("schema");
    conn
}

/// A backlog of `n` due messages, as the drain section gives outboxctl.
pub fn generate(path: &Path, n: u64) {
    let conn = Connection::open(path).expect("create database");
    conn.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
        .expect("pragmas");
    conn.execute_batch(SCHEMA).expect("schema");
    let start = Utc::now().timestamp_millis() as f64 / 1000.0 - 3600.0;
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1)
         INSERT INTO lean (id, type, content, occurred)
         SELECT printf('%08x-%04x-7%03x-%04x-%012x', i >> 16, i & 65535, i & 4095, 32768, i),
                CASE i % 3 WHEN 0 THEN 'UserRegistered' WHEN 1 THEN 'OrderPlaced' ELSE 'InvoicePaid' END,
                printf('{\"user_id\":\"u-%d\",\"email\":\"user-%d@example.com\",\"name\":null}', i, i),
                strftime('%Y-%m-%d %H:%M:%f', ?2 + i * 0.001, 'unixepoch') || '000'
         FROM n",
        params![n as i64, start],
    )
    .expect("generate rows");
}

/// Claims, "delivers" (checks the content is JSON, as outboxctl's `noop` sink does) and marks
/// batches until none is left. Returns how many were delivered.
pub fn drain(conn: &mut Connection, batch: usize) -> u64 {
    let claim = "UPDATE lean SET owner = ?1, available = ?2, attempts = attempts + 1
         WHERE rowid IN (SELECT rowid FROM lean
                         WHERE processed IS NULL AND dead IS NULL
                           AND (available IS NULL OR available <= ?3)
                         ORDER BY occurred LIMIT ?4)
         RETURNING id, type, content";
    let mark = "UPDATE lean SET processed = ?2, owner = NULL, available = NULL, error = NULL
         WHERE id IN (SELECT value FROM json_each(?1)) AND processed IS NULL
         RETURNING type";
    let count = "INSERT INTO lean_counts (type, processed) VALUES (?1, ?2)
         ON CONFLICT (type) DO UPDATE SET processed = processed + excluded.processed";
    let mut delivered = 0;
    loop {
        let now = Utc::now();
        let until = time::format(now + Duration::from_secs(300));
        let claimed: Vec<(String, String, String)> = conn
            .prepare_cached(claim)
            .and_then(|mut s| {
                s.query_map(params!["lean", until, time::format(now), batch as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?
                .collect()
            })
            .expect("claim");
        if claimed.is_empty() {
            return delivered;
        }
        let mut ids = Vec::with_capacity(claimed.len());
        for (id, _type, content) in &claimed {
            serde_json::from_str::<serde::de::IgnoredAny>(content).expect("JSON content");
            ids.push(id.as_str());
        }
        let ids = serde_json::to_string(&ids).expect("ids");
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .expect("begin");
        let mut by_type: HashMap<String, i64> = HashMap::new();
        tx.prepare_cached(mark)
            .and_then(|mut s| {
                let rows = s.query_map(params![ids, time::format(Utc::now())], |r| r.get::<_, String>(0))?;
                for t in rows {
                    *by_type.entry(t?).or_default() += 1;
                }
                Ok(())
            })
            .expect("mark");
        for (t, n) in &by_type {
            tx.prepare_cached(count)
                .and_then(|mut s| s.execute(params![t, n]))
                .expect("count");
            delivered += *n as u64;
        }
        tx.commit().expect("commit");
    }
}

/// What an application writing the lean outbox by hand does for one event: its business row
/// and the message in one transaction.
pub fn emit(conn: &mut Connection, i: u64) {
    #[derive(serde::Serialize)]
    struct Registered<'a> {
        user_id: &'a str,
        email: &'a str,
        name: Option<&'a str>,
    }
    let id = uuid::Uuid::now_v7().to_string();
    let email = format!("user-{i}@example.com");
    let now = time::format(Utc::now());
    let content = serde_json::to_string(&Registered {
        user_id: &id,
        email: &email,
        name: None,
    })
    .expect("serialize");
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .expect("begin");
    tx.prepare_cached("INSERT INTO Users (Id, Email, Name, CreatedOnUtc) VALUES (?1, ?2, ?3, ?4)")
        .and_then(|mut s| s.execute(params![id, email, None::<String>, now]))
        .expect("insert user");
    tx.prepare_cached("INSERT INTO lean (id, type, content, occurred) VALUES (?1, ?2, ?3, ?4)")
        .and_then(|mut s| {
            s.execute(params![
                uuid::Uuid::now_v7().to_string(),
                "UserRegistered",
                content,
                now
            ])
        })
        .expect("insert message");
    tx.commit().expect("commit");
}
