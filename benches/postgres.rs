//! PostgreSQL benchmark of the relay's design, by the wall clock. Prints figures, never asserts
//! on timing; ends with one line per target saying `[met]`, `[MISSED]` or `[not run]`.
//!
//! Sections (`BENCH_ONLY` picks some, comma-separated):
//! - `drain`: a backlog of N noop messages drained by outboxctl as `outboxctl run` drives it (the
//!   library `Runner`, one store connection per relay thread, routes `*` -> `noop`), at batch 20
//!   and 1000, with 1 and 4 relays. Wall time from the go signal until every message is recorded.
//! - `keys`: the same backlog over 10,000 ordering keys against none, batch 20 and 1000, 1 relay.
//! - `lean`: the same work with the leanest design written in bare SQL through the same client
//!   library, keeping the guarantees (lease, SKIP LOCKED claim, attempts, one mark per batch,
//!   processed counter), on a table with fillfactor 50 as outboxctl's (room for HOT claims):
//!   the client-side ceiling.
//! - `bound`: the lean claim and mark in a PL/pgSQL procedure, COMMIT per batch, one `CALL`: the
//!   server-side bound with no client round trips at all, on the table the issue names (primary
//!   key, due index, processed index, default fillfactor); once more at fillfactor 50 for
//!   comparison.
//! - `peers`: `scripts/peers/run N` (graphile-worker, pgqueuer) on the same server.
//! - `pickup`: commit of one message to its handler's start while `Runner` waits for work
//!   (LISTEN/NOTIFY), in process; and the same through the `outboxctl run` binary with an exec
//!   handler, for reference.
//! - `scale`: median time of `claim` (20, each followed by `record`) on a table of
//!   `BENCH_BIG_ROWS` rows, almost all processed, against one of 10k rows with the same backlog.
//!
//! Every drain starts equal: a fresh schema, the backlog written by one server-side
//! `INSERT … SELECT generate_series` (random uuid ids, increasing occurrence times), then
//! `VACUUM ANALYZE` and `CHECKPOINT`. Beside every rate: the CPU time of this process (the relay
//! threads; /proc/self/stat) and of PostgreSQL (the scenario's own backends, found by
//! application_name, plus walwriter, checkpointer and background writer; /proc/<pid>/stat, so
//! only when the server runs on this host).
//!
//! `cargo bench --bench postgres --features postgres`
//! Env: OUTBOX_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres),
//! BENCH_MESSAGES (backlog, default 100000), BENCH_ROUNDS (rounds of drain, lean, bound and
//! peers, interleaved; the best of each is judged; default 1),
//! BENCH_ONLY (drain,keys,lean,bound,peers,pickup,scale; default all), BENCH_PEERS=0 (skip peers),
//! BENCH_BATCHES / BENCH_RELAYS (e.g. `1000` and `1`: only those of 20,1000 and 1,4),
//! PEERS_CACHE_DIR (default /tmp/peers_cache), BENCH_PICKUPS (default 200),
//! BENCH_BIG_ROWS (default 10000000), BENCH_CLAIMS (default 200).

#![allow(clippy::print_stdout, clippy::print_stderr)] // a benchmark prints its figures

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use outboxctl::app::UnitOfWork;
use outboxctl::model::{Message, NewMessage};
use outboxctl::relay::RelaySettings;
use outboxctl::retry::RetryPolicy;
use outboxctl::runner::{Event, Runner, Schedule};
use outboxctl::sink::{DeliveryError, Pending, Router, Sink};
use outboxctl::store::{self, ClaimParams, RecordParams, Store, StoreOptions};
use outboxctl::time::SystemClock;
use serde::de::IgnoredAny;

#[path = "common/cpu.rs"]
#[allow(dead_code, reason = "pids_named is for the sinks bench")]
mod cpu;
use cpu::proc_cpu;

const SECTIONS: &[&str] = &["drain", "keys", "lean", "bound", "peers", "pickup", "scale"];
/// Distinct ordering keys of the `keys` section's backlog.
const KEYS: usize = 10_000;
const BATCHES: [usize; 2] = [20, 1000];
const RELAYS: [usize; 2] = [1, 4];

/// `default`, or the sizes listed in `var` (comma-separated) that it holds.
fn picked(var: &str, default: [usize; 2]) -> Vec<usize> {
    match std::env::var(var) {
        Ok(list) => default
            .into_iter()
            .filter(|d| list.split(',').any(|x| x.trim() == d.to_string()))
            .collect(),
        Err(_) => default.to_vec(),
    }
}
/// The backlog of both `scale` tables: claims of 20 take up to 5000 of it, claims of 1000 reuse
/// (release) the next 1000.
const SCALE_PENDING: usize = 6000;
/// The lean client's table keeps room for HOT claims, as outboxctl's does (schema.postgres.sql).
const LEAN_FILLFACTOR: u8 = 50;
const SCALE_SMALL_ROWS: usize = 10_000;

fn env_or(key: &str, default: &str) -> String {
    std::env::var(key)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.into())
}

fn env_num(key: &str, default: usize) -> usize {
    let v = env_or(key, &default.to_string());
    v.parse()
        .unwrap_or_else(|_| panic!("{key}={v:?} is not a number"))
}

struct Config {
    base: String,
    n: usize,
    rounds: usize,
    only: Vec<String>,
    peers: bool,
    pickups: usize,
    big_rows: usize,
    claims: usize,
}

impl Config {
    fn from_env() -> Self {
        let only: Vec<String> = env_or("BENCH_ONLY", &SECTIONS.join(","))
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        for s in &only {
            assert!(
                SECTIONS.contains(&s.as_str()),
                "BENCH_ONLY: unknown section {s:?} (known: {})",
                SECTIONS.join(",")
            );
        }
        Config {
            base: env_or(
                "OUTBOX_TEST_POSTGRES_URL",
                "postgres://postgres@127.0.0.1:5432/postgres",
            ),
            n: env_num("BENCH_MESSAGES", 100_000),
            rounds: env_num("BENCH_ROUNDS", 1).max(1),
            only,
            peers: env_or("BENCH_PEERS", "1") != "0",
            pickups: env_num("BENCH_PICKUPS", 200),
            big_rows: env_num("BENCH_BIG_ROWS", 10_000_000),
            claims: env_num("BENCH_CLAIMS", 200),
        }
    }

    fn runs(&self, section: &str) -> bool {
        self.only.iter().any(|s| s == section) && (section != "peers" || self.peers)
    }
}

/// The application_name of every connection a scenario times, so its backends can be found.
fn app_name() -> String {
    format!("outboxbench_{}", std::process::id())
}

fn with_params(url: &str, params: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{params}")
}

fn options() -> StoreOptions {
    StoreOptions {
        table: "OutboxMessage".into(),
        busy_timeout: Duration::from_secs(5),
    }
}

// ---------------------------------------------------------------------------------------------
// CPU time

fn self_cpu() -> Duration {
    proc_cpu("self").unwrap_or_default()
}

/// CPU time of the PostgreSQL processes a scenario uses, per pid, taken at the start.
struct ServerCpu(Vec<(i32, Duration)>);

impl ServerCpu {
    fn start(monitor: &mut postgres::Client) -> Self {
        let pids: Vec<i32> = monitor
            .query(
                "SELECT pid FROM pg_stat_activity WHERE application_name = $1
                    OR backend_type IN ('walwriter', 'checkpointer', 'background writer')",
                &[&app_name()],
            )
            .map(|rows| rows.iter().map(|r| r.get(0)).collect())
            .unwrap_or_default();
        ServerCpu(
            pids.into_iter()
                .filter_map(|p| Some((p, proc_cpu(&p.to_string())?)))
                .collect(),
        )
    }

    /// The CPU used since the start; None when the server is not on this host.
    fn since(&self) -> Option<Duration> {
        if self.0.is_empty() {
            return None;
        }
        Some(
            self.0
                .iter()
                .filter_map(|(p, t0)| Some(proc_cpu(&p.to_string())?.saturating_sub(*t0)))
                .sum(),
        )
    }
}

/// One timed drain.
#[derive(Clone, Copy)]
struct Measured {
    n: usize,
    wall: Duration,
    /// This process: the relay (or client) threads.
    cpu: Duration,
    /// PostgreSQL: the scenario's backends and the WAL/checkpoint processes.
    server: Option<Duration>,
    /// Bytes of WAL the server wrote meanwhile (every session's, so only this scenario's on a
    /// quiet server).
    wal: f64,
}

impl Measured {
    fn rate(&self) -> f64 {
        self.n as f64 / self.wall.as_secs_f64()
    }

    fn show(&self) -> String {
        let server = self
            .server
            .map_or_else(|| "n/a".into(), |s| format!("{:.2} s", s.as_secs_f64()));
        format!(
            "{:>7.0}/s  wall {:>6.2} s  cpu: client {:>5.2} s, postgres {server}  WAL {:>4.0} B/msg",
            self.rate(),
            self.wall.as_secs_f64(),
            self.cpu.as_secs_f64(),
            self.wal / self.n as f64
        )
    }
}

/// Keeps the faster of two measurements of one configuration.
fn keep_best<K: Ord>(map: &mut BTreeMap<K, Measured>, key: K, m: Measured) {
    match map.get(&key) {
        Some(kept) if kept.wall <= m.wall => {}
        _ => {
            map.insert(key, m);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Scratch schemas

/// A schema of its own for one scenario, dropped afterwards.
struct Scratch {
    base: String,
    name: String,
    /// outboxctl's store URL: the schema, and the application_name of timed connections.
    url: String,
}

impl Scratch {
    fn new(base: &str, tag: &str) -> Self {
        let name = format!("bench_{tag}_{}", std::process::id());
        let s = Scratch {
            base: base.into(),
            url: with_params(base, &format!("schema={name}&application_name={}", app_name())),
            name,
        };
        s.client()
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS \"{n}\" CASCADE; CREATE SCHEMA \"{n}\"",
                n = s.name
            ))
            .unwrap();
        s
    }

    /// A schema holding outboxctl's tables, as `outboxctl init` makes them.
    fn outboxctl(base: &str, tag: &str) -> Self {
        let s = Scratch::new(base, tag);
        store::open(&s.url, &options()).unwrap().init().unwrap();
        s
    }

    /// A schema holding the lean design's tables.
    fn lean(base: &str, tag: &str, fillfactor: u8) -> Self {
        let s = Scratch::new(base, tag);
        s.client()
            .batch_execute(&lean::ddl(&s.schema(), fillfactor))
            .unwrap();
        s
    }

    /// An untimed connection (setup, checks, the monitor).
    fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.base, postgres::NoTls).expect("PostgreSQL reachable")
    }

    /// A connection whose server CPU counts.
    fn timed_client(&self) -> postgres::Client {
        let url = with_params(&self.base, &format!("application_name={}", app_name()));
        let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("PostgreSQL reachable");
        // The same session settings as outboxctl's relay connection: the relay's own writes do
        // not wait for the WAL flush (a crash means a redelivery, never a loss).
        c.batch_execute("SET synchronous_commit = off; SET lock_timeout = 5000")
            .unwrap();
        c
    }

    fn schema(&self) -> String {
        format!("\"{}\"", self.name)
    }

    fn outbox(&self) -> String {
        format!("\"{}\".\"OutboxMessage\"", self.name)
    }

    /// Every message unprocessed, written by the server in one statement.
    /// `n` messages; with `keys` > 0, spread round robin over that many ordering keys.
    fn fill_outboxctl(&self, n: usize, keys: usize) {
        self.exec(&format!(
            "INSERT INTO {} (\"Id\", \"Type\", \"Content\", \"OccuredOnUtc\", \"OrderingKey\")
             SELECT gen_random_uuid()::text, 'Work', '{{\"n\":' || i || '}}',
                    now() - interval '7 days' + i * interval '1 ms',
                    CASE WHEN {keys} > 0 THEN 'order-' || (i % greatest({keys}, 1)) END
             FROM generate_series(1, {n}) i",
            self.outbox()
        ));
        self.settle(&[self.outbox()]);
    }

    fn fill_lean(&self, n: usize) {
        let t = format!("{}.lean", self.schema());
        self.exec(&format!(
            "INSERT INTO {t} (id, type, content, occurred)
             SELECT gen_random_uuid(), 'Work', '{{\"n\":' || i || '}}',
                    now() - interval '7 days' + i * interval '1 ms'
             FROM generate_series(1, {n}) i"
        ));
        self.settle(&[t]);
    }

    /// Planner statistics and the visibility map as on a steady-state table, and no checkpoint
    /// falling inside the timing.
    fn settle(&self, tables: &[String]) {
        let mut c = self.client();
        for t in tables {
            c.batch_execute(&format!("VACUUM ANALYZE {t}")).unwrap();
        }
        c.batch_execute("CHECKPOINT").unwrap();
    }

    fn exec(&self, sql: &str) {
        self.client().batch_execute(sql).unwrap();
    }

    fn count(&self, sql: &str) -> i64 {
        self.client().query_one(sql, &[]).unwrap().get(0)
    }

    /// Checks a drain: nothing left unprocessed and the processed counter right.
    fn check_outboxctl(&self, n: usize) {
        let left = self.count(&format!(
            "SELECT count(*) FROM {} WHERE \"ProcessedOnUtc\" IS NULL",
            self.outbox()
        ));
        let counted = self.count(&format!(
            "SELECT coalesce(sum(\"Processed\"), 0)::int8 FROM {}.\"OutboxMessage_Processed\"",
            self.schema()
        ));
        assert_eq!((left, counted), (0, n as i64), "unprocessed, counted");
    }

    fn check_lean(&self, n: usize) {
        let s = self.schema();
        let left = self.count(&format!("SELECT count(*) FROM {s}.lean WHERE processed IS NULL"));
        let counted = self.count(&format!(
            "SELECT coalesce(sum(processed), 0)::int8 FROM {s}.lean_count"
        ));
        assert_eq!((left, counted), (0, n as i64), "unprocessed, counted");
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = self
            .client()
            .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name));
    }
}

// ---------------------------------------------------------------------------------------------
// Timing harness

/// Shared by the worker threads of one timed drain.
struct Ctl {
    connected: AtomicUsize,
    go: AtomicBool,
    delivered: AtomicU64,
    stop: AtomicBool,
    finished: AtomicUsize,
}

impl Ctl {
    /// Called by a worker once connected and prepared: waits for the clock to start.
    fn ready(&self) {
        self.connected.fetch_add(1, Ordering::SeqCst);
        while !self.go.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_micros(100));
        }
    }

    fn delivered(&self, k: u64) {
        self.delivered.fetch_add(k, Ordering::SeqCst);
    }

    /// Called by a worker that ran out of work: keeps its connection open until the clock
    /// stops, so its backend's CPU is still there to be read (a closed backend's is gone). Gives
    /// up after 30 s, so a harness waiting for messages nobody delivers fails instead of hanging.
    fn linger(&self) {
        let until = Instant::now() + Duration::from_secs(30);
        while !self.stop.load(Ordering::SeqCst) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Counts a worker out even when it panics, so the harness never waits for a dead thread.
struct Finished<'a>(&'a AtomicUsize);

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Runs `work` on `workers` threads; the clock runs from when all are connected until `n`
/// messages are reported delivered (and recorded), then `stop` is set. The main thread polls
/// an atomic every 2 ms: no query competes with the drain.
fn timed(s: &Scratch, workers: usize, n: usize, work: impl Fn(usize, &Ctl) + Sync) -> Measured {
    let ctl = Ctl {
        connected: AtomicUsize::new(0),
        go: AtomicBool::new(false),
        delivered: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        finished: AtomicUsize::new(0),
    };
    let mut monitor = s.client();
    std::thread::scope(|scope| {
        for w in 0..workers {
            let (ctl, work) = (&ctl, &work);
            scope.spawn(move || {
                let _finished = Finished(&ctl.finished);
                work(w, ctl);
            });
        }
        let alive = |ctl: &Ctl| {
            let gone = ctl.finished.load(Ordering::SeqCst);
            assert!(
                gone < workers,
                "every worker stopped, {} of {n} delivered",
                ctl.delivered.load(Ordering::SeqCst)
            );
        };
        while ctl.connected.load(Ordering::SeqCst) < workers {
            alive(&ctl);
            std::thread::sleep(Duration::from_millis(1));
        }
        let server = ServerCpu::start(&mut monitor);
        let lsn: String = monitor
            .query_one("SELECT pg_current_wal_lsn()::text", &[])
            .unwrap()
            .get(0);
        let cpu0 = self_cpu();
        let t0 = Instant::now();
        ctl.go.store(true, Ordering::SeqCst);
        while ctl.delivered.load(Ordering::SeqCst) < n as u64 {
            alive(&ctl);
            std::thread::sleep(Duration::from_millis(2));
        }
        let m = Measured {
            n,
            wall: t0.elapsed(),
            cpu: self_cpu() - cpu0,
            server: server.since(),
            wal: monitor
                .query_one(
                    "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::text::pg_lsn)::float8",
                    &[&lsn],
                )
                .unwrap()
                .get(0),
        };
        ctl.stop.store(true, Ordering::SeqCst);
        m
    })
}

// ---------------------------------------------------------------------------------------------
// 1. outboxctl

fn noop_router() -> Router {
    let routes = BTreeMap::from([("*".to_string(), vec!["noop".to_string()])]);
    Router::new(&BTreeMap::new(), &routes)
}

fn relay_settings(owner: String, batch_size: usize) -> RelaySettings {
    RelaySettings {
        owner,
        batch_size,
        lease: Duration::from_secs(300),
        retry: RetryPolicy::default(),
        skip_dead: Default::default(),
        circuit: Default::default(),
    }
}

/// `outboxctl run`'s loop, one Runner per relay thread on its own store connection.
fn drain_outboxctl(base: &str, n: usize, batch: usize, relays: usize, keys: usize) -> Measured {
    let s = Scratch::outboxctl(base, "drain");
    s.fill_outboxctl(n, keys);
    let m = timed(&s, relays, n, |r, ctl| {
        let mut store = store::open(&s.url, &options()).unwrap();
        let mut router = noop_router();
        let settings = relay_settings(format!("bench-{r}"), batch);
        let schedule = Schedule::Every(Duration::from_secs(60));
        ctl.ready();
        Runner {
            store: store.as_mut(),
            router: &mut router,
            clock: &SystemClock,
            settings: &settings,
            schedule: &schedule,
        }
        .run(&ctl.stop, &mut |event| match event {
            Event::Pass(report) => ctl.delivered(report.delivered),
            Event::Error(e) => eprintln!("relay {r}: {e}"),
        });
    });
    s.check_outboxctl(n);
    m
}

// ---------------------------------------------------------------------------------------------
// 2. and 3. The lean design

mod lean {
    /// The leanest table keeping the relay's features: a lease (`available_at` doubles as the
    /// next attempt), attempts, dead and error, the owner; the due index walks only live
    /// unprocessed rows, the processed index serves purge; a sharded counter serves stats.
    /// `fillfactor` below 100 leaves room on each page for the claim's new row version (a HOT
    /// update, no index write), as outboxctl's table does.
    pub fn ddl(s: &str, fillfactor: u8) -> String {
        format!(
            "CREATE TABLE {s}.lean (
                 id uuid PRIMARY KEY,
                 type text NOT NULL,
                 content text NOT NULL,
                 occurred timestamptz NOT NULL,
                 processed timestamptz,
                 dead timestamptz,
                 error text,
                 attempts integer NOT NULL DEFAULT 0,
                 available_at timestamptz,
                 owner text) WITH (fillfactor = {fillfactor});
             CREATE INDEX lean_due ON {s}.lean (occurred) WHERE processed IS NULL AND dead IS NULL;
             CREATE INDEX lean_processed ON {s}.lean (processed) WHERE processed IS NOT NULL;
             CREATE TABLE {s}.lean_count (
                 type text NOT NULL,
                 shard integer NOT NULL,
                 processed bigint NOT NULL,
                 PRIMARY KEY (type, shard));"
        )
    }

    /// The claim: oldest due rows, skipping those another relay holds, leased for 300 s. The
    /// batch size is a literal, as in outboxctl (a generic plan of `LIMIT $n` sorts the table).
    /// `= ANY(ARRAY(…))` runs the locking subquery once and finds the rows `by` the primary key
    /// (`id`, as the server-side bound does) or where the subquery locked them (`ctid`,
    /// as outboxctl's claim does: no walk down the primary key); `IN (…)` or a join with a CTE
    /// lets the planner hash the whole table for a large batch.
    pub fn claim(s: &str, batch: usize, owner: &str, by: &str, returning: &str) -> String {
        format!(
            "UPDATE {s}.lean SET owner = {owner}, available_at = now() + interval '300 s',
                 attempts = attempts + 1
             WHERE {by} = ANY(ARRAY(SELECT {by} FROM {s}.lean
                                  WHERE processed IS NULL AND dead IS NULL
                                    AND (available_at IS NULL OR available_at <= now())
                                  ORDER BY occurred LIMIT {batch} FOR UPDATE SKIP LOCKED))
             RETURNING {returning}"
        )
    }

    /// The mark: the whole batch processed and counted in one statement. Counter rows are
    /// sharded by backend, as outboxctl's, so relays side by side do not queue on one row.
    pub fn mark(s: &str, ids: &str) -> String {
        format!(
            "WITH done AS (
                 UPDATE {s}.lean SET processed = now(), error = NULL, owner = NULL, available_at = NULL
                 WHERE id = ANY({ids}) AND processed IS NULL RETURNING type)
             INSERT INTO {s}.lean_count AS c (type, shard, processed)
             SELECT type, pg_backend_pid() % 16, count(*) FROM done GROUP BY type
             ON CONFLICT (type, shard) DO UPDATE SET processed = c.processed + excluded.processed"
        )
    }

    /// The server-side loop: claim, mark, COMMIT, until a claim finds nothing.
    pub fn procedure(s: &str, batch: usize) -> String {
        format!(
            "CREATE PROCEDURE {s}.lean_drain() LANGUAGE plpgsql AS $$
             DECLARE
                 ids uuid[];
             BEGIN
                 LOOP
                     WITH claimed AS ({claim})
                     SELECT array_agg(id) INTO ids FROM claimed;
                     EXIT WHEN ids IS NULL;
                     {mark};
                     COMMIT;
                 END LOOP;
             END $$",
            claim = claim(s, batch, "'procedure'", "id", "id"),
            mark = mark(s, "ids"),
        )
    }
}

/// The client-side ceiling: claim, parse each message as the noop sink does, mark the batch;
/// each statement its own transaction, as outboxctl's claim and record are.
fn drain_lean(base: &str, n: usize, batch: usize, clients: usize) -> Measured {
    let s = Scratch::lean(base, "lean", LEAN_FILLFACTOR);
    s.fill_lean(n);
    let schema = s.schema();
    // The `postgres` crate here has no uuid support: ids travel as text.
    let claim = lean::claim(&schema, batch, "$1", "ctid", "id::text, content, occurred");
    let mark = lean::mark(&schema, "$1::text[]::uuid[]");
    let m = timed(&s, clients, n, |r, ctl| {
        let mut c = s.timed_client();
        let claim = c.prepare(&claim).unwrap();
        let mark = c.prepare(&mark).unwrap();
        let owner = format!("lean-{r}");
        ctl.ready();
        while !ctl.stop.load(Ordering::Relaxed) {
            let mut rows = c.query(&claim, &[&owner]).unwrap();
            if rows.is_empty() {
                break;
            }
            // Oldest first, as outboxctl delivers them (RETURNING has no order).
            rows.sort_by_key(|r| r.get::<_, DateTime<Utc>>(2));
            let mut ids: Vec<String> = Vec::with_capacity(rows.len());
            for row in &rows {
                // A malformed one would be made dead; the backlog has none.
                if serde_json::from_str::<IgnoredAny>(row.get(1)).is_ok() {
                    ids.push(row.get(0));
                }
            }
            c.execute(&mark, &[&ids]).unwrap();
            ctl.delivered(ids.len() as u64);
        }
        ctl.linger();
    });
    s.check_lean(n);
    m
}

/// The server-side bound: the same claim and mark in a procedure, called once.
fn drain_bound(base: &str, n: usize, batch: usize, fillfactor: u8) -> Measured {
    let s = Scratch::lean(base, "bound", fillfactor);
    s.exec(&lean::procedure(&s.schema(), batch));
    s.fill_lean(n);
    let call = format!("CALL {}.lean_drain()", s.schema());
    let m = timed(&s, 1, n, |_, ctl| {
        let mut c = s.timed_client();
        ctl.ready();
        c.batch_execute(&call).unwrap();
        ctl.delivered(n as u64);
        ctl.linger();
    });
    s.check_lean(n);
    m
}

// ---------------------------------------------------------------------------------------------
// 4. Peers

struct Peer {
    name: String,
    rate: f64,
    line: String,
}

/// Runs scripts/peers/run; Err says why it could not.
fn peers(cfg: &Config) -> Result<Vec<Peer>, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/peers/run");
    // The script takes the server URL without a database.
    let pgurl = std::env::var("PGURL").unwrap_or_else(|_| {
        let mut u = url::Url::parse(&cfg.base).expect("a URL");
        u.set_path("");
        u.set_query(None);
        u.to_string()
    });
    let cache = env_or("PEERS_CACHE_DIR", "/tmp/peers_cache");
    let out = Command::new(&script)
        .arg(cfg.n.to_string())
        .env("PEERS_CACHE_DIR", cache)
        .env("PGURL", pgurl)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot start {}: {e}", script.display()))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let why = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
        return Err(format!("{} ({})", why.trim(), out.status));
    }
    let found: Vec<Peer> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let field = |k: &str| {
                line.split_whitespace()
                    .find_map(|t| t.strip_prefix(k)?.strip_prefix('='))
                    .map(str::to_owned)
            };
            Some(Peer {
                name: field("peer")?,
                rate: field("rate")?.parse().ok()?,
                line: line.to_owned(),
            })
        })
        .collect();
    if found.is_empty() {
        return Err("no result line".into());
    }
    Ok(found)
}

// ---------------------------------------------------------------------------------------------
// 5. Pickup latency

/// A noop sink that reports when each delivery starts.
struct Stamp(mpsc::Sender<(String, Instant)>);

impl Sink for Stamp {
    fn send(&mut self, run: &[Message]) -> Pending {
        let started = Instant::now();
        Pending::ready(
            run.iter()
                .map(|m| {
                    let _ = self.0.send((m.id.clone(), started));
                    serde_json::from_str::<IgnoredAny>(&m.content)
                        .map(drop)
                        .map_err(|e| DeliveryError::Permanent(e.to_string()))
                })
                .collect(),
        )
    }
}

struct Latencies {
    samples: usize,
    median: f64,
    p99: f64,
    max: f64,
}

fn latencies(mut ms: Vec<f64>) -> Option<Latencies> {
    ms.sort_by(f64::total_cmp);
    let pct = |p: f64| ms[((ms.len() as f64 - 1.0) * p).round() as usize];
    (!ms.is_empty()).then(|| Latencies {
        samples: ms.len(),
        median: pct(0.5),
        p99: pct(0.99),
        max: ms[ms.len() - 1],
    })
}

/// Milliseconds from `a` to `b`, negative if `b` came first.
fn ms_between(a: Instant, b: Instant) -> f64 {
    match b.checked_duration_since(a) {
        Some(d) => d.as_secs_f64() * 1e3,
        None => -(a - b).as_secs_f64() * 1e3,
    }
}

/// Commit (as returned to the application) to the start of the handler, with a Runner waiting
/// for work as `outboxctl run` does (60 s poll: only the notification wakes it up).
fn pickup(base: &str, samples: usize) -> Option<Latencies> {
    let s = Scratch::outboxctl(base, "pickup");
    let (tx, rx) = mpsc::channel();
    let stop = AtomicBool::new(false);
    let ms = std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut store = store::open(&s.url, &options()).unwrap();
            let routes = BTreeMap::from([("*".to_string(), vec!["stamp".to_string()])]);
            let mut router = Router::new(&BTreeMap::new(), &routes);
            router.insert("stamp", Box::new(Stamp(tx)));
            let settings = relay_settings("pickup".into(), 100);
            Runner {
                store: store.as_mut(),
                router: &mut router,
                clock: &SystemClock,
                settings: &settings,
                schedule: &Schedule::Every(Duration::from_secs(60)),
            }
            .run(&stop, &mut |event| {
                if let Event::Error(e) = event {
                    eprintln!("pickup relay: {e}");
                }
            });
        });
        let mut store = store::open(&s.url, &options()).unwrap();
        let mut emit = |i: usize| {
            let mut uow = UnitOfWork::begin(store.as_mut()).unwrap();
            uow.add(NewMessage::new("Work", format!("{{\"n\":{i}}}"), Utc::now()));
            let written = uow.commit().unwrap();
            (written[0].id.clone(), Instant::now())
        };
        let mut ms = Vec::with_capacity(samples);
        // The first message, not counted, shows that the relay is up and listening.
        for i in 0..=samples {
            let (id, committed) = emit(i);
            match rx.recv_timeout(Duration::from_secs(10)) {
                Ok((got, started)) if got == id => {
                    if i > 0 {
                        ms.push(ms_between(committed, started));
                    }
                }
                other => {
                    eprintln!("pickup: expected {id}, got {other:?}");
                    break;
                }
            }
            // Time for the relay to record it and wait again; irregular, like real traffic.
            std::thread::sleep(Duration::from_millis(20 + fastrand::u64(0..30)));
        }
        stop.store(true, Ordering::Relaxed);
        ms
    });
    latencies(ms)
}

fn now_ns() -> i128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as i128
}

fn lines(p: &Path) -> usize {
    std::fs::read_to_string(p).map_or(0, |t| t.lines().count())
}

/// The same through the real `outboxctl run` binary, the handler an exec sink that writes its
/// start time: it includes starting /bin/sh and date, so it is for reference only.
fn pickup_binary(base: &str, samples: usize) -> Option<Latencies> {
    let s = Scratch::outboxctl(base, "pickupbin");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("starts.log");
    let cfg = dir.path().join("outboxctl.toml");
    std::fs::write(
        &cfg,
        format!(
            "[sinks.stamp]\nkind = \"exec\"\ncommand = [\"/bin/sh\", \"-c\", \"echo \\\"$OUTBOX_MESSAGE_ID $(date +%s%N)\\\" >> {}\"]\n[routes]\n\"*\" = \"stamp\"\n",
            log.display()
        ),
    )
    .unwrap();
    let mut relay = Command::new(env!("CARGO_BIN_EXE_outboxctl"))
        .args(["-q", "-d", &s.url, "-c"])
        .arg(&cfg)
        .args(["run", "--every", "60s"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(1));
    let mut store = store::open(&s.url, &options()).unwrap();
    let mut committed: HashMap<String, i128> = HashMap::new();
    for i in 0..samples {
        let mut uow = UnitOfWork::begin(store.as_mut()).unwrap();
        uow.add(NewMessage::new("Work", format!("{{\"n\":{i}}}"), Utc::now()));
        let written = uow.commit().unwrap();
        committed.insert(written[0].id.clone(), now_ns());
        std::thread::sleep(Duration::from_millis(20 + fastrand::u64(0..30)));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while lines(&log) < samples && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(relay.id().to_string())
        .status();
    let _ = relay.wait();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    latencies(
        text.lines()
            .filter_map(|l| l.split_once(' '))
            .filter_map(|(id, ns)| Some((ns.parse::<i128>().ok()? - committed.get(id)?) as f64 / 1e6))
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// 6. Claim time at scale

/// outboxctl's table with `rows` rows, all but the last SCALE_PENDING processed, written by the
/// server in one statement. Ids are time-ordered like outboxctl's own (uuid v7), so the primary
/// key fills in order. The per-row counting triggers are off while it loads (10M trigger calls
/// would take longer than the rest); the counter is set to what they would have counted.
fn scale_table(base: &str, tag: &str, rows: usize) -> Scratch {
    let s = Scratch::outboxctl(base, tag);
    let (t, done) = (s.outbox(), rows - SCALE_PENDING);
    s.exec(&format!(
        "ALTER TABLE {t} DISABLE TRIGGER USER;
         INSERT INTO {t} (\"Id\", \"Type\", \"Content\", \"OccuredOnUtc\", \"ProcessedOnUtc\", \"Attempts\",
                          \"LastAttemptOnUtc\")
         SELECT lpad(to_hex(i), 8, '0') || '-0000-7000-8000-000000000000', 'Work', '{{\"n\":' || i || '}}',
                at, CASE WHEN i <= {done} THEN at + interval '10 ms' END,
                CASE WHEN i <= {done} THEN 1 ELSE 0 END, CASE WHEN i <= {done} THEN at + interval '5 ms' END
         FROM generate_series(1, {rows}) i,
              LATERAL (SELECT now() - interval '30 days' + i * interval '100 us' AS at) x;
         ALTER TABLE {t} ENABLE TRIGGER USER;
         INSERT INTO {s}.\"OutboxMessage_Processed\" VALUES ('Work', 0, {done});",
        s = s.schema()
    ));
    s.settle(&[t]);
    s
}

struct Scale {
    rows: [usize; 2],
    size: [String; 2],
    claim: [f64; 2],
    record: [f64; 2],
    /// Claims of 1000, each given back with `release`: for reference, no target.
    claim_1000: [f64; 2],
}

/// How many timed claims of 20 the backlog allows (1000 stay for the claims of 1000).
fn scale_claims(wanted: usize) -> usize {
    wanted.min((SCALE_PENDING - 1000) / 20 - 10)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Claims of 20, each followed by `record` of what it claimed, on the small and the big table
/// in turn (so outside load hits both alike); the first few warm up the plans and caches.
fn scale(base: &str, big_rows: usize, claims: usize) -> Scale {
    const WARM: usize = 10; // as in scale_claims
    let rows = [SCALE_SMALL_ROWS, big_rows.max(SCALE_SMALL_ROWS)];
    let start = Instant::now();
    let tables = rows.map(|r| scale_table(base, &format!("scale{r}"), r));
    println!(
        "(tables written, vacuumed and analyzed in {:.0} s)",
        start.elapsed().as_secs_f64()
    );
    let claims = scale_claims(claims);
    let mut stores: Vec<Box<dyn Store>> = tables
        .iter()
        .map(|s| store::open(&s.url, &options()).unwrap())
        .collect();
    let (mut claim, mut record) = ([vec![], vec![]], [vec![], vec![]]);
    for i in 0..WARM + claims {
        for (k, store) in stores.iter_mut().enumerate() {
            let (ids, took) = timed_claim(store.as_mut(), 20);
            let t = Instant::now();
            store
                .record(&RecordParams {
                    owner: "scale",
                    now: Utc::now(),
                    delivered: &ids,
                    failed: &[],
                })
                .unwrap();
            if i >= WARM {
                claim[k].push(took.as_secs_f64() * 1e3);
                record[k].push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    // Claims of 1000 given back at once, so the same rows serve each time.
    let mut claim_1000 = [vec![], vec![]];
    for i in 0..6 {
        for (k, store) in stores.iter_mut().enumerate() {
            let (ids, took) = timed_claim(store.as_mut(), 1000);
            assert_eq!(store.release(&ids, "scale", None).unwrap(), 1000);
            if i > 0 {
                claim_1000[k].push(took.as_secs_f64() * 1e3);
            }
        }
    }
    let size = tables.each_ref().map(|s| {
        s.client()
            .query_one(
                "SELECT pg_size_pretty(pg_total_relation_size($1::text::regclass))",
                &[&s.outbox()],
            )
            .unwrap()
            .get::<_, String>(0)
    });
    Scale {
        rows,
        size,
        claim: claim.map(median),
        record: record.map(median),
        claim_1000: claim_1000.map(median),
    }
}

// ---------------------------------------------------------------------------------------------
// Summary

#[derive(Default)]
struct Results {
    /// By (batch, relays).
    drain: BTreeMap<(usize, usize), Measured>,
    lean: BTreeMap<(usize, usize), Measured>,
    /// By (batch, with keys), one relay.
    keys: BTreeMap<(usize, bool), Measured>,
    bound: BTreeMap<usize, Measured>,
    peers: Option<Result<Vec<Peer>, String>>,
    pickup: Option<Latencies>,
    scale: Option<Scale>,
}

fn target(ok: Option<bool>, what: &str, detail: String) {
    let mark = match ok {
        Some(true) => "[met]",
        Some(false) => "[MISSED]",
        None => "[not run]",
    };
    println!("{mark:<9} {what}: {detail}");
}

fn summary(r: &Results) {
    println!("\n== summary (load average now {}) ==", load_average());
    let ours = r.drain.get(&(1000, 1)).map(Measured::rate);
    for (peer, want) in [("graphile-worker", 1.5), ("pgqueuer", 2.0)] {
        let what = format!("outboxctl (batch 1000, 1 relay) vs {peer} >= {want}x");
        let theirs = match &r.peers {
            None => Err("peers not run".to_owned()),
            Some(Err(e)) => Err(format!("peers failed: {e}")),
            Some(Ok(list)) => list
                .iter()
                .find(|p| p.name == peer)
                .map(|p| p.rate)
                .ok_or_else(|| format!("no {peer} result")),
        };
        match (ours, theirs) {
            (Some(o), Ok(t)) => target(
                Some(o >= want * t),
                &what,
                format!("{:.2}x ({o:.0}/s vs {t:.0}/s)", o / t),
            ),
            (None, _) => target(None, &what, "drain not run".into()),
            (_, Err(e)) => target(None, &what, e),
        }
    }
    for batch in BATCHES {
        let what = format!("{KEYS} ordering keys >= 70% of no keys (batch {batch}, 1 relay)");
        match (r.keys.get(&(batch, true)), r.keys.get(&(batch, false))) {
            (Some(keyed), Some(plain)) => target(
                Some(keyed.rate() >= 0.7 * plain.rate()),
                &what,
                format!(
                    "{:.0}% ({:.0}/s vs {:.0}/s)",
                    100.0 * keyed.rate() / plain.rate(),
                    keyed.rate(),
                    plain.rate()
                ),
            ),
            _ => target(None, &what, "keys not run".into()),
        }
    }
    for batch in [1000, 20] {
        let what = format!("4 relays faster than 1 (batch {batch})");
        match (r.drain.get(&(batch, 1)), r.drain.get(&(batch, 4))) {
            (Some(one), Some(four)) => target(
                Some(four.rate() > one.rate()),
                &what,
                format!(
                    "{:.0}/s vs {:.0}/s ({:.2}x)",
                    four.rate(),
                    one.rate(),
                    four.rate() / one.rate()
                ),
            ),
            _ => target(None, &what, "drain not run".into()),
        }
    }
    for batch in BATCHES {
        for relays in RELAYS {
            let what =
                format!("outboxctl >= 50% of the lean client ceiling (batch {batch}, {relays} relay(s))");
            match (r.drain.get(&(batch, relays)), r.lean.get(&(batch, relays))) {
                (Some(o), Some(l)) => target(
                    Some(o.rate() >= 0.5 * l.rate()),
                    &what,
                    format!(
                        "{:.0}% ({:.0}/s vs {:.0}/s)",
                        100.0 * o.rate() / l.rate(),
                        o.rate(),
                        l.rate()
                    ),
                ),
                _ => target(None, &what, "drain or lean not run".into()),
            }
        }
    }
    let what = "outboxctl (batch 1000, 1 relay) >= 80% of the server-side bound (batch 1000)";
    match (r.drain.get(&(1000, 1)), r.bound.get(&1000)) {
        (Some(o), Some(b)) => target(
            Some(o.rate() >= 0.8 * b.rate()),
            what,
            format!(
                "{:.0}% ({:.0}/s vs {:.0}/s; at batch 20: {})",
                100.0 * o.rate() / b.rate(),
                o.rate(),
                b.rate(),
                match (r.drain.get(&(20, 1)), r.bound.get(&20)) {
                    (Some(o), Some(b)) => format!("{:.0}/s vs {:.0}/s", o.rate(), b.rate()),
                    _ => "n/a".into(),
                }
            ),
        ),
        _ => target(None, what, "drain or bound not run".into()),
    }
    match &r.pickup {
        Some(l) => {
            target(
                Some(l.median <= 2.0),
                "pickup median <= 2 ms",
                format!("{:.2} ms", l.median),
            );
            target(
                Some(l.p99 <= 20.0),
                "pickup p99 <= 20 ms",
                format!("{:.2} ms", l.p99),
            );
        }
        None => {
            target(None, "pickup median <= 2 ms", "no samples".into());
            target(None, "pickup p99 <= 20 ms", "no samples".into());
        }
    }
    match &r.scale {
        Some(sc) => target(
            Some(sc.claim[1] <= 2.0 * sc.claim[0]),
            &format!(
                "claim time on {} rows <= 2x that on {} rows",
                sc.rows[1], sc.rows[0]
            ),
            format!(
                "{:.2}x ({:.3} ms vs {:.3} ms)",
                sc.claim[1] / sc.claim[0],
                sc.claim[1],
                sc.claim[0]
            ),
        ),
        None => target(None, "claim time at scale <= 2x", "scale not run".into()),
    }
}

// ---------------------------------------------------------------------------------------------

/// The 1, 5 and 15 minute load averages: other work on the machine skews every figure.
fn load_average() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

fn machine(base: &str) {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mut c = postgres::Client::connect(base, postgres::NoTls).expect("PostgreSQL reachable");
    let mut show = |what: &str| -> String { c.query_one(&format!("SHOW {what}"), &[]).unwrap().get(0) };
    println!("machine: {cores} CPUs, {cpu}; load average {}", load_average());
    println!(
        "server: PostgreSQL {} on this host; fsync={} synchronous_commit={} (relay sessions: off, \
         as outboxctl's) full_page_writes={} shared_buffers={} autovacuum={}",
        show("server_version"),
        show("fsync"),
        show("synchronous_commit"),
        show("full_page_writes"),
        show("shared_buffers"),
        show("autovacuum")
    );
}

/// Claims `limit` messages for the scale section; their ids and how long the claim took.
fn timed_claim(store: &mut dyn Store, limit: usize) -> (Vec<String>, Duration) {
    let now = Utc::now();
    let t = Instant::now();
    let batch = store
        .claim(&ClaimParams {
            owner: "scale",
            now,
            lease_until: now + Duration::from_secs(300),
            limit,
        })
        .unwrap();
    let took = t.elapsed();
    assert_eq!(batch.len(), limit);
    (batch.into_iter().map(|m| m.id).collect(), took)
}

fn main() {
    // `cargo bench` passes --bench; nothing else is understood.
    let cfg = Config::from_env();
    let (base, n) = (cfg.base.as_str(), cfg.n);
    machine(base);
    let mut r = Results::default();
    let rounds = || 0..cfg.rounds;
    // Rounds interleave the designs and the peers, so a slow spell of this shared host costs
    // each of them alike; each keeps its best round.
    let mut bound_ff: Option<Measured> = None;
    for round in rounds() {
        println!("\n== round {} of {} ==", round + 1, cfg.rounds);
        if cfg.runs("drain") {
            for batch in picked("BENCH_BATCHES", BATCHES) {
                for relays in picked("BENCH_RELAYS", RELAYS) {
                    let m = drain_outboxctl(base, n, batch, relays, 0);
                    println!("outboxctl batch {batch:>4}, {relays} relay(s): {}", m.show());
                    keep_best(&mut r.drain, (batch, relays), m);
                }
            }
        }
        if cfg.runs("keys") {
            for batch in picked("BENCH_BATCHES", BATCHES) {
                for keyed in [true, false] {
                    let m = drain_outboxctl(base, n, batch, 1, if keyed { KEYS } else { 0 });
                    let what = if keyed { "10k keys" } else { "no keys " };
                    println!("outboxctl batch {batch:>4}, 1 relay, {what}: {}", m.show());
                    keep_best(&mut r.keys, (batch, keyed), m);
                }
            }
        }
        if cfg.runs("lean") {
            for batch in picked("BENCH_BATCHES", BATCHES) {
                for relays in picked("BENCH_RELAYS", RELAYS) {
                    let m = drain_lean(base, n, batch, relays);
                    println!("lean      batch {batch:>4}, {relays} client(s): {}", m.show());
                    keep_best(&mut r.lean, (batch, relays), m);
                }
            }
        }
        if cfg.runs("bound") {
            for batch in picked("BENCH_BATCHES", BATCHES) {
                let m = drain_bound(base, n, batch, 100);
                println!("procedure batch {batch:>4}, 1 session  : {}", m.show());
                keep_best(&mut r.bound, batch, m);
            }
            // The bound is the table above as it comes; the lean client's table, with
            // room for HOT claims, for comparison.
            let m = drain_bound(base, n, 1000, LEAN_FILLFACTOR);
            println!("procedure batch 1000, fillfactor {LEAN_FILLFACTOR}: {}", m.show());
            if bound_ff.as_ref().is_none_or(|b| m.wall < b.wall) {
                bound_ff = Some(m);
            }
        }
        if cfg.runs("peers") {
            match peers(&cfg) {
                Ok(list) => {
                    list.iter().for_each(|p| println!("{}", p.line));
                    let mut best = match r.peers.take() {
                        Some(Ok(best)) => best,
                        _ => Vec::new(),
                    };
                    for p in list {
                        match best.iter_mut().find(|b| b.name == p.name) {
                            Some(b) if b.rate >= p.rate => {}
                            Some(b) => *b = p,
                            None => best.push(p),
                        }
                    }
                    r.peers = Some(Ok(best));
                }
                Err(e) => {
                    println!("peers not run: {e}");
                    if r.peers.is_none() {
                        r.peers = Some(Err(e));
                    }
                }
            }
        }
    }
    println!("\n== best of {} round(s), {n} messages each ==", cfg.rounds);
    for ((batch, relays), m) in &r.drain {
        println!("outboxctl batch {batch:>4}, {relays} relay(s): {}", m.show());
    }
    for ((batch, relays), m) in &r.lean {
        let vs = r.drain.get(&(*batch, *relays)).map_or(String::new(), |o| {
            format!("  (outboxctl {:.0}%)", 100.0 * o.rate() / m.rate())
        });
        println!("lean      batch {batch:>4}, {relays} client(s): {}{vs}", m.show());
    }
    for (batch, m) in &r.bound {
        println!("procedure batch {batch:>4}, 1 session  : {}", m.show());
    }
    if let Some(m) = &bound_ff {
        println!(
            "procedure batch 1000, fillfactor {LEAN_FILLFACTOR}: {} (for comparison)",
            m.show()
        );
    }
    if let Some(Ok(list)) = &r.peers {
        list.iter().for_each(|p| println!("{}", p.line));
    }
    if cfg.runs("pickup") {
        println!(
            "\n== pickup latency: commit -> handler start, Runner waiting (LISTEN/NOTIFY, poll 60 s) =="
        );
        let show = |l: &Option<Latencies>| {
            l.as_ref().map_or_else(
                || "no samples".into(),
                |l| {
                    format!(
                        "{} samples: median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                        l.samples, l.median, l.p99, l.max
                    )
                },
            )
        };
        r.pickup = pickup(base, cfg.pickups);
        println!("in process, noop handler: {}", show(&r.pickup));
        let bin = pickup_binary(base, cfg.pickups);
        println!("outboxctl run, exec handler (sh + date): {}", show(&bin));
    }
    if cfg.runs("scale") {
        println!(
            "\n== claim time at scale: claim 20 + record, {SCALE_PENDING} pending, medians of {} ==",
            scale_claims(cfg.claims)
        );
        let sc = scale(base, cfg.big_rows, cfg.claims);
        for k in 0..2 {
            println!(
                "{:>9} rows ({}): claim {:.3} ms, record {:.3} ms; claim of 1000 (median of 5) {:.2} ms",
                sc.rows[k], sc.size[k], sc.claim[k], sc.record[k], sc.claim_1000[k]
            );
        }
        r.scale = Some(sc);
    }
    summary(&r);
}
