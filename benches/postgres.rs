//! PostgreSQL benchmark: emit rate, drain rate of a backlog with 1, 2 and 4 relays at two batch
//! sizes, and pickup latency of `outboxctl run` (commit to handler start). Beside each rate, the
//! same work done with bare SQL through the same client library, as a ratio. Prints figures only.
//!
//! `cargo bench --bench postgres --features postgres`
//! Env: OUTBOX_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres),
//! BENCH_MESSAGES (backlog size, default 100000), BENCH_PICKUPS (default 200).

#![allow(clippy::print_stdout)] // a benchmark prints its figures

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::Utc;
use outboxctl::app::UnitOfWork;
use outboxctl::model::NewMessage;
use outboxctl::relay::{Relay, RelaySettings};
use outboxctl::retry::RetryPolicy;
use outboxctl::sink::Router;
use outboxctl::store::{self, StoreOptions};
use outboxctl::time::SystemClock;

fn env_or(key: &str, default: &str) -> String {
    std::env::var(key)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.into())
}

fn options() -> StoreOptions {
    StoreOptions {
        table: "OutboxMessage".into(),
        busy_timeout: Duration::from_secs(5),
    }
}

/// A schema of its own for one scenario, dropped afterwards.
struct Scratch {
    base: String,
    name: String,
    url: String,
}

impl Scratch {
    fn new(base: &str, tag: &str) -> Self {
        let name = format!("bench_{tag}_{}", std::process::id());
        let sep = if base.contains('?') { '&' } else { '?' };
        let s = Scratch {
            base: base.into(),
            url: format!("{base}{sep}schema={name}"),
            name,
        };
        s.client()
            .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", s.name))
            .unwrap();
        store::open(&s.url, &options()).unwrap().init().unwrap();
        s
    }

    fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.base, postgres::NoTls).expect("PostgreSQL reachable")
    }

    fn table(&self) -> String {
        format!("\"{}\".\"OutboxMessage\"", self.name)
    }

    fn fill(&self, n: usize) {
        let mut s = store::open(&self.url, &options()).unwrap();
        let now = Utc::now();
        let mut left = n;
        while left > 0 {
            let k = left.min(5000);
            let batch: Vec<NewMessage> = (0..k)
                .map(|i| NewMessage::new("Work", format!("{{\"n\":{i}}}"), now))
                .collect();
            let mut tx = s.begin().unwrap();
            tx.insert_messages(&batch).unwrap();
            tx.commit().unwrap();
            left -= k;
        }
        self.client()
            .batch_execute(&format!("ANALYZE {}", self.table()))
            .unwrap();
    }

    fn unprocessed(&self) -> i64 {
        self.client()
            .query_one(
                &format!(
                    "SELECT count(*) FROM {} WHERE \"ProcessedOnUtc\" IS NULL",
                    self.table()
                ),
                &[],
            )
            .unwrap()
            .get(0)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = self
            .client()
            .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name));
    }
}

fn rate(n: usize, took: Duration) -> f64 {
    n as f64 / took.as_secs_f64()
}

/// One message per transaction, as an application writes them: outboxctl's unit of work against
/// a bare prepared INSERT, interleaved twice, the better run of each.
fn emit(base: &str, n: usize) {
    let s = Scratch::new(base, "emit");
    let mut store = store::open(&s.url, &options()).unwrap();
    let mut c = s.client();
    let insert = c
        .prepare(&format!(
            "INSERT INTO {} (\"Id\", \"Type\", \"Content\", \"OccuredOnUtc\") VALUES ($1, $2, $3, $4)",
            s.table()
        ))
        .unwrap();
    let (mut ours, mut bare) = (0.0f64, 0.0f64);
    for _ in 0..2 {
        let start = Instant::now();
        for i in 0..n {
            let mut uow = UnitOfWork::begin(store.as_mut()).unwrap();
            uow.add(NewMessage::new("Work", format!("{{\"n\":{i}}}"), Utc::now()));
            uow.commit().unwrap();
        }
        ours = ours.max(rate(n, start.elapsed()));
        let start = Instant::now();
        for i in 0..n {
            let m = NewMessage::new("Work", format!("{{\"n\":{i}}}"), Utc::now());
            let mut tx = c.transaction().unwrap();
            tx.execute(&insert, &[&m.id, &m.event_type, &m.content, &m.occurred_on])
                .unwrap();
            tx.commit().unwrap();
        }
        bare = bare.max(rate(n, start.elapsed()));
    }
    println!(
        "emit, one message per durable transaction ({n}): outboxctl {ours:.0}/s, bare SQL {bare:.0}/s, ratio {:.0}%",
        100.0 * ours / bare
    );
}

fn drain_outboxctl(s: &Scratch, relays: usize, batch: usize) -> Duration {
    let start = Instant::now();
    std::thread::scope(|scope| {
        for r in 0..relays {
            let url = s.url.clone();
            scope.spawn(move || {
                let mut store = store::open(&url, &options()).unwrap();
                let routes = BTreeMap::from([("*".to_string(), vec!["noop".to_string()])]);
                let mut router = Router::new(&BTreeMap::new(), &routes);
                let settings = RelaySettings {
                    owner: format!("bench-{r}"),
                    batch_size: batch,
                    lease: Duration::from_secs(300),
                    retry: RetryPolicy::default(),
                };
                let stop = AtomicBool::new(false);
                loop {
                    let report = Relay {
                        store: store.as_mut(),
                        router: &mut router,
                        clock: &SystemClock,
                        settings: &settings,
                    }
                    .run_once(&stop)
                    .unwrap();
                    if report.claimed == 0 {
                        break;
                    }
                }
            });
        }
    });
    start.elapsed()
}

/// The same claim and per-message mark, as plain prepared statements.
fn drain_bare(s: &Scratch, relays: usize, batch: usize) -> Duration {
    let t = s.table();
    let claim = format!(
        "WITH due AS MATERIALIZED (
             SELECT \"Id\" FROM {t}
             WHERE \"ProcessedOnUtc\" IS NULL AND \"DeadOnUtc\" IS NULL
               AND (\"NextAttemptOnUtc\" IS NULL OR \"NextAttemptOnUtc\" <= now())
             ORDER BY \"OccuredOnUtc\" LIMIT {batch} FOR UPDATE SKIP LOCKED)
         UPDATE {t} AS m SET \"LockedBy\" = $1, \"LockedUntilUtc\" = now() + interval '300 s',
             \"NextAttemptOnUtc\" = now() + interval '300 s', \"Attempts\" = m.\"Attempts\" + 1
         FROM due WHERE m.\"Id\" = due.\"Id\"
         RETURNING m.\"Id\", m.\"Type\", m.\"Content\""
    );
    let mark = format!(
        "UPDATE {t} SET \"ProcessedOnUtc\" = now(), \"LockedBy\" = NULL, \"LockedUntilUtc\" = NULL,
             \"NextAttemptOnUtc\" = NULL
         WHERE \"Id\" = $1 AND \"ProcessedOnUtc\" IS NULL"
    );
    let start = Instant::now();
    std::thread::scope(|scope| {
        for r in 0..relays {
            let (claim, mark) = (&claim, &mark);
            scope.spawn(move || {
                let mut c = s.client();
                // The same session setting as outboxctl's relay connection.
                c.batch_execute("SET synchronous_commit = off").unwrap();
                let claim = c.prepare(claim).unwrap();
                let mark = c.prepare(mark).unwrap();
                let owner = format!("bare-{r}");
                loop {
                    let rows = c.query(&claim, &[&owner]).unwrap();
                    if rows.is_empty() {
                        break;
                    }
                    for row in rows {
                        let id: String = row.get(0);
                        c.execute(&mark, &[&id]).unwrap();
                    }
                }
            });
        }
    });
    start.elapsed()
}

/// Each side runs twice, interleaved (outboxctl, bare, outboxctl, bare), and the better run of
/// each counts: on a shared machine that keeps a burst of outside load from deciding the ratio.
fn drain(base: &str, n: usize) {
    for batch in [20, 1000] {
        for relays in [1, 2, 4] {
            let (mut ours, mut bare) = (0.0f64, 0.0f64);
            for _ in 0..2 {
                let s = Scratch::new(base, "drain");
                s.fill(n);
                ours = ours.max(rate(n, drain_outboxctl(&s, relays, batch)));
                assert_eq!(s.unprocessed(), 0);
                drop(s);
                let s = Scratch::new(base, "bare");
                s.fill(n);
                bare = bare.max(rate(n, drain_bare(&s, relays, batch)));
                assert_eq!(s.unprocessed(), 0);
            }
            println!(
                "drain {n} backlog, noop sink, batch {batch:>4}, {relays} relay(s): outboxctl {ours:>6.0}/s, \
                 bare SQL {bare:>6.0}/s, ratio {:.0}%",
                100.0 * ours / bare
            );
        }
    }
}

fn now_ns() -> i128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as i128
}

/// Commit to handler start in a real `outboxctl run` (LISTEN/NOTIFY wake-up, 60 s poll): the
/// exec handler writes its start time; the emitter notes the time its commit returned.
fn pickup(base: &str, samples: usize) {
    let s = Scratch::new(base, "pickup");
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
    let mut ms: Vec<f64> = text
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter_map(|(id, ns)| Some((ns.parse::<i128>().ok()? - committed.get(id)?) as f64 / 1e6))
        .collect();
    ms.sort_by(f64::total_cmp);
    if ms.is_empty() {
        println!("pickup latency: no samples");
        return;
    }
    let pct = |p: f64| ms[((ms.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "pickup latency in run (commit -> exec handler start, {} samples, poll 60s): median {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms.len(),
        pct(0.5),
        pct(0.99),
        ms[ms.len() - 1]
    );
}

fn lines(p: &Path) -> usize {
    std::fs::read_to_string(p).map_or(0, |t| t.lines().count())
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
    let version: String = c.query_one("SHOW server_version", &[]).unwrap().get(0);
    let sync: String = c.query_one("SHOW synchronous_commit", &[]).unwrap().get(0);
    println!(
        "machine: {cores} cores, {cpu}; PostgreSQL {version} on the same host (server synchronous_commit={sync}; \
         relay sessions, outboxctl's and bare, use off; application commits stay durable)"
    );
}

fn main() {
    // `cargo bench` passes --bench; nothing else is understood.
    let base = env_or(
        "OUTBOX_TEST_POSTGRES_URL",
        "postgres://postgres@127.0.0.1:5432/postgres",
    );
    let n: usize = env_or("BENCH_MESSAGES", "100000")
        .parse()
        .expect("BENCH_MESSAGES is a number");
    let pickups: usize = env_or("BENCH_PICKUPS", "200")
        .parse()
        .expect("BENCH_PICKUPS is a number");
    machine(&base);
    emit(&base, 5000.min(n));
    pickup(&base, pickups);
    drain(&base, n);
}
