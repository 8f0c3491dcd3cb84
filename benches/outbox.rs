//! `cargo bench --bench outbox`: the SQLite figures of the speed issue, by the wall clock with CPU
//! time beside them, printed and judged against their targets, never asserted.
//!
//! Everything runs on temporary databases (under `OUTBOX_BENCH_DIR`, default the system temp
//! dir). `OUTBOX_BENCH_SCALE=small` runs every section on small sizes in about a minute; the
//! default (`full`) runs the sizes of the issue (a 100k backlog, a 10M-row table, 8M rows
//! purged) in several minutes. `OUTBOX_BENCH_ONLY=emit,drain,keys,spawn,memory,scale` picks
//! sections. Sizes can be set one by one, see [`Sizes::from_env`].
//!
//! The yardstick is not a copy of outboxctl's statements but the leanest design we could write
//! in bare rusqlite with the same guarantees and features (`outbox/lean.rs`): leases, processed
//! history, dead messages, purge and stats without full scans. Both run in the same process, one
//! after the other, on equal databases. CPU time is the whole process's (user + system).
#![allow(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use outboxctl::relay::{BatchReport, RelaySettings};
use outboxctl::retry::RetryPolicy;
use outboxctl::runner::{Event, Runner, Schedule};
use outboxctl::sample::{USERS_DDL, User, save_new_user};
use outboxctl::sink::Router;
use outboxctl::store::{self, ClaimParams, Store, StoreOptions};
use outboxctl::time::SystemClock;
use rusqlite::{Connection, named_params};

#[path = "outbox/lean.rs"]
mod lean;

const TABLE: &str = "OutboxMessage";
const BIN: &str = env!("CARGO_BIN_EXE_outboxctl");

/// How much work each section does.
#[derive(Debug, Clone)]
struct Sizes {
    /// Events emitted per round, by each of outboxctl and bare rusqlite.
    emit: u64,
    /// Backlog drained per round at each batch size.
    drain: u64,
    /// Rounds of emit and drain; the best round of each side counts (the machine is shared).
    rounds: u32,
    /// Runs of `process-once` on an empty outbox.
    spawns: u32,
    /// Backlogs drained by `run` while its peak memory is watched.
    memory: [u64; 2],
    /// Rows of the big table of the scale section, and how many of them are purged.
    big_rows: u64,
    purge_rows: u64,
    /// Rows of the small table the big one is compared with.
    small_rows: u64,
    /// Pending rows on top of processed ones in both tables (plus failing and dead ones).
    backlog: u64,
    /// Pause between two emits of the loop that runs beside the purge.
    emit_every: Duration,
}

impl Sizes {
    fn from_env() -> Self {
        let small = std::env::var("OUTBOX_BENCH_SCALE").is_ok_and(|s| s == "small");
        let mut s = if small {
            Sizes {
                emit: 2_000,
                drain: 10_000,
                rounds: 1,
                spawns: 30,
                // A backlog of at least 10k fills SQLite's page cache, as a large one does.
                memory: [10_000, 100_000],
                big_rows: 300_000,
                purge_rows: 240_000,
                small_rows: 10_000,
                backlog: 5_000,
                emit_every: Duration::from_millis(5),
            }
        } else {
            Sizes {
                emit: 20_000,
                drain: 100_000,
                rounds: 2,
                spawns: 200,
                memory: [10_000, 1_000_000],
                big_rows: 10_000_000,
                purge_rows: 8_000_000,
                small_rows: 10_000,
                backlog: 5_000,
                emit_every: Duration::from_millis(5),
            }
        };
        let num = |name: &str, v: &mut u64| {
            if let Some(n) = std::env::var(name)
                .ok()
                .and_then(|x| x.replace('_', "").parse().ok())
            {
                *v = n;
            }
        };
        num("OUTBOX_BENCH_EMIT", &mut s.emit);
        num("OUTBOX_BENCH_DRAIN", &mut s.drain);
        num("OUTBOX_BENCH_MEMORY_SMALL", &mut s.memory[0]);
        num("OUTBOX_BENCH_MEMORY_LARGE", &mut s.memory[1]);
        num("OUTBOX_BENCH_BIG_ROWS", &mut s.big_rows);
        num("OUTBOX_BENCH_PURGE_ROWS", &mut s.purge_rows);
        let mut rounds = u64::from(s.rounds);
        num("OUTBOX_BENCH_ROUNDS", &mut rounds);
        s.rounds = rounds.max(1) as u32;
        let mut spawns = u64::from(s.spawns);
        num("OUTBOX_BENCH_SPAWNS", &mut spawns);
        s.spawns = spawns.max(1) as u32;
        let mut every = s.emit_every.as_millis() as u64;
        num("OUTBOX_BENCH_EMIT_EVERY_MS", &mut every);
        s.emit_every = Duration::from_millis(every);
        s.purge_rows = s.purge_rows.min(s.big_rows.saturating_sub(s.backlog + 2_000));
        s
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported, sections are picked by env.
    let sizes = Sizes::from_env();
    let only = std::env::var("OUTBOX_BENCH_ONLY").unwrap_or_default();
    let wanted = |s: &str| only.is_empty() || only.split(',').any(|o| o.trim() == s);
    let base = std::env::var_os("OUTBOX_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let dir = tempfile::Builder::new()
        .prefix("outbox-bench-")
        .tempdir_in(base)
        .expect("create a temporary directory");
    println!("outboxctl benchmark, {}", machine());
    println!("sizes: {sizes:?}");
    println!("databases under {}", dir.path().display());
    let started = Instant::now();
    let mut summary = Vec::new();
    let mut lean_emit = None;
    if wanted("emit") {
        let (lines, rate) = bench_emit(dir.path(), &sizes);
        summary.extend(lines);
        lean_emit = Some(rate);
    }
    if wanted("drain") {
        summary.extend(bench_drain(dir.path(), &sizes));
    }
    if wanted("keys") {
        summary.extend(bench_keys(dir.path(), &sizes));
    }
    if wanted("spawn") {
        summary.extend(bench_spawn(dir.path(), &sizes));
    }
    if wanted("memory") {
        summary.extend(bench_memory(dir.path(), &sizes));
    }
    if wanted("scale") {
        summary.extend(bench_scale(dir.path(), &sizes, lean_emit));
    }
    println!("\n== summary ({:.0} s)", started.elapsed().as_secs_f64());
    for line in summary {
        println!("{line}");
    }
}

// ---------------------------------------------------------------------------------------------
// emit

/// Emit alone against the lean design, then beside `outboxctl run`. Returns the summary lines
/// and the lean emit rate (the purge target is twice it).
fn bench_emit(dir: &Path, sizes: &Sizes) -> (Vec<String>, f64) {
    println!("\n== emit: one transaction per event (Users row + UserRegistered message)");
    let n = sizes.emit;
    let mut cmp = Comparison::default();
    let mut beside = Rates::default();
    for round in 0..sizes.rounds {
        let path = dir.join(format!("emit-lib-{round}.db"));
        let lib = emit_with_library(&path, n);
        remove_db(&path);

        let path = dir.join(format!("emit-lean-{round}.db"));
        let mut conn = lean::open(&path);
        conn.execute_batch(USERS_DDL).expect("create Users");
        let m = Meter::start();
        for i in 0..n {
            lean::emit(&mut conn, i);
        }
        let bare = m.rates(n);
        drop(conn);
        remove_db(&path);
        cmp.add(&format!("round {round}"), "events/s", lib, bare);

        // The same emits while `outboxctl run` drains them as they come.
        let path = dir.join(format!("emit-run-{round}.db"));
        drop(open_store(&path));
        let config = dir.join("noop.toml");
        std::fs::write(&config, "[routes]\n\"*\" = \"noop\"\n").expect("write config");
        let mut relay = outboxctl(dir)
            .arg("--database")
            .arg(&path)
            .arg("--config")
            .arg(&config)
            .args(["-q", "run", "--every", "1h"])
            .spawn()
            .expect("spawn outboxctl run");
        std::thread::sleep(Duration::from_millis(300)); // started and waiting for work
        let with_run = emit_with_library(&path, n);
        let processed = processed_count(&path);
        relay.kill().expect("stop run");
        relay.wait().expect("reap run");
        remove_db(&path);
        println!(
            "round {round}: with `outboxctl run` beside it: {:.0} events/s ({:.0} per CPU-second of the emitting process), {:.0}% of alone; the relay had delivered {processed} of {n} by the end",
            with_run.wall,
            with_run.cpu,
            100.0 * with_run.wall / lib.wall
        );
        if with_run.wall > beside.wall {
            beside = with_run;
        }
    }
    let share = 100.0 * beside.wall / cmp.lib.wall;
    let lines = vec![
        cmp.summary("emit", "events/s", 80.0),
        format!(
            "emit with `run` draining beside it: {:.0} events/s = {share:.0}% of alone by wall time (target >= 80%) {}",
            beside.wall,
            verdict(share >= 80.0)
        ),
    ];
    (lines, cmp.bare.wall)
}

/// `n` events saved through the library, as an application does; their rates.
fn emit_with_library(path: &Path, n: u64) -> Rates {
    let mut store = open_store(path);
    let m = Meter::start();
    for i in 0..n {
        let mut user = User::register(format!("user-{i}@example.com"), None).expect("valid email");
        save_new_user(store.as_mut(), &mut user).expect("emit");
    }
    m.rates(n)
}

fn processed_count(path: &Path) -> i64 {
    Connection::open(path)
        .and_then(|c| {
            c.query_row(
                &format!("SELECT coalesce(sum(Processed), 0) FROM \"{TABLE}_Processed\""),
                [],
                |r| r.get(0),
            )
        })
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// drain

fn bench_drain(dir: &Path, sizes: &Sizes) -> Vec<String> {
    let n = sizes.drain;
    println!(
        "\n== drain: a backlog of {n} messages, noop sink routed with \"*\", as `outboxctl run` does it"
    );
    let mut summary = Vec::new();
    let mut best = Vec::new();
    for batch in [20usize, 1000] {
        let mut cmp = Comparison::default();
        for round in 0..sizes.rounds {
            let path = dir.join(format!("drain-lib-{batch}-{round}.db"));
            generate(&path, &Layout::backlog(n));
            let mut store = open_store(&path);
            let m = Meter::start();
            let drained = relay_drain(store.as_mut(), batch);
            let lib = m.rates(drained);
            assert_eq!(drained, n, "the relay drained the whole backlog");
            drop(store);
            remove_db(&path);

            let path = dir.join(format!("drain-lean-{batch}-{round}.db"));
            lean::generate(&path, n);
            let mut conn = lean::open(&path);
            let m = Meter::start();
            let drained = lean::drain(&mut conn, batch);
            let bare = m.rates(drained);
            assert_eq!(drained, n, "the lean loop drained the whole backlog");
            drop(conn);
            remove_db(&path);
            cmp.add(&format!("batch {batch}, round {round}"), "msg/s", lib, bare);
        }
        summary.push(cmp.summary(&format!("drain batch {batch}"), "msg/s", 50.0));
        best.push(cmp.lib.wall);
    }
    summary.push(format!(
        "drain batch 1000 vs batch 20: {:.0} vs {:.0} msg/s (target: at least as fast) {}",
        best[1],
        best[0],
        verdict(best[1] >= best[0])
    ));
    summary
}

/// The same backlog with and without 10,000 ordering keys, drained by `run`'s loop, rounds
/// interleaved; the best round of each counts.
fn bench_keys(dir: &Path, sizes: &Sizes) -> Vec<String> {
    const KEYS: u64 = 10_000;
    let n = sizes.drain;
    println!("\n== keys: a backlog of {n} messages over {KEYS} ordering keys against the same without keys");
    let mut summary = Vec::new();
    for batch in [20usize, 1000] {
        let (mut keyed, mut plain) = (Rates::default(), Rates::default());
        for round in 0..sizes.rounds {
            let drain = |keys: u64| {
                let path = dir.join(format!("keys-{keys}-{batch}-{round}.db"));
                generate(
                    &path,
                    &Layout {
                        keys,
                        ..Layout::backlog(n)
                    },
                );
                let mut store = open_store(&path);
                let m = Meter::start();
                let drained = relay_drain(store.as_mut(), batch);
                let rates = m.rates(drained);
                assert_eq!(drained, n, "the relay drained the whole backlog");
                drop(store);
                remove_db(&path);
                rates
            };
            let k = drain(KEYS);
            let p = drain(0);
            println!(
                "batch {batch}, round {round}: with keys {:.0} msg/s ({:.0} per CPU-second), without {:.0} msg/s ({:.0} per CPU-second): {:.0}% by wall time",
                k.wall,
                k.cpu,
                p.wall,
                p.cpu,
                100.0 * k.wall / p.wall
            );
            keyed.wall = keyed.wall.max(k.wall);
            keyed.cpu = keyed.cpu.max(k.cpu);
            plain.wall = plain.wall.max(p.wall);
            plain.cpu = plain.cpu.max(p.cpu);
        }
        let pct = 100.0 * keyed.wall / plain.wall;
        summary.push(format!(
            "keys batch {batch}: {KEYS} keys {:.0} msg/s vs no keys {:.0} msg/s = {pct:.0}% by wall time ({:.0}% by CPU time) (target >= 70%) {}",
            keyed.wall,
            plain.wall,
            100.0 * keyed.cpu / plain.cpu,
            verdict(pct >= 70.0)
        ));
    }
    summary
}

fn noop_router() -> Router {
    let routes = BTreeMap::from([("*".to_owned(), vec!["noop".to_owned()])]);
    Router::new(&BTreeMap::new(), &routes)
}

/// The library's `Runner`, as `outboxctl run` drives it, until a pass comes back short.
fn relay_drain(store: &mut dyn Store, batch: usize) -> u64 {
    let mut router = noop_router();
    let settings = RelaySettings {
        owner: "bench".into(),
        batch_size: batch,
        lease: Duration::from_secs(300),
        retry: RetryPolicy::default(),
        skip_dead: Default::default(),
        circuit: Default::default(),
    };
    let stop = AtomicBool::new(false);
    let mut total = BatchReport::default();
    Runner {
        store,
        router: &mut router,
        clock: &SystemClock,
        settings: &settings,
        schedule: &Schedule::Every(Duration::from_secs(3600)),
    }
    .run(&stop, &mut |event| match event {
        Event::Pass(report) => {
            total.add(report);
            // Not "a short pass": with ordering keys a pass takes one message per key.
            if report.claimed == 0 {
                stop.store(true, Ordering::Relaxed);
            }
        }
        Event::Error(e) => panic!("relay pass: {e}"),
    });
    total.delivered
}

// ---------------------------------------------------------------------------------------------
// process-once on an empty outbox, as cron runs it

fn bench_spawn(dir: &Path, sizes: &Sizes) -> Vec<String> {
    println!(
        "\n== process-once on an empty outbox, whole process, {} runs",
        sizes.spawns
    );
    let path = dir.join("empty.db");
    let once = || {
        let t = Instant::now();
        let status = outboxctl(dir)
            .arg("--database")
            .arg(&path)
            .arg("process-once")
            .stdout(Stdio::null())
            .status()
            .expect("spawn outboxctl");
        assert!(status.success(), "process-once failed: {status}");
        t.elapsed()
    };
    once(); // creates the database, and warms the page cache
    let m = Meter::start();
    let mut times: Vec<Duration> = (0..sizes.spawns).map(|_| once()).collect();
    let cpu_each = m.children_cpu() / sizes.spawns;
    times.sort();
    let (median, p95) = (pct(&times, 0.5), pct(&times, 0.95));
    println!(
        "min {}, median {}, p95 {}, max {}; {} of CPU per run",
        ms(times[0]),
        ms(median),
        ms(p95),
        ms(*times.last().expect("runs")),
        ms(cpu_each)
    );
    vec![format!(
        "process-once, empty outbox: median {} p95 {} (target <= 10 ms) {}",
        ms(median),
        ms(p95),
        verdict(median <= Duration::from_millis(10))
    )]
}

// ---------------------------------------------------------------------------------------------
// peak memory while draining

fn bench_memory(dir: &Path, sizes: &Sizes) -> Vec<String> {
    println!("\n== peak memory of `run --batch-size 1000` draining a backlog (VmHWM)");
    let config = dir.join("noop.toml");
    std::fs::write(&config, "[routes]\n\"*\" = \"noop\"\n").expect("write config");
    let mut peaks = Vec::new();
    for n in sizes.memory {
        let path = dir.join(format!("memory-{n}.db"));
        generate(&path, &Layout::backlog(n));
        let watcher = Connection::open(&path).expect("open");
        let t = Instant::now();
        let mut child = outboxctl(dir)
            .arg("--database")
            .arg(&path)
            .arg("--config")
            .arg(&config)
            .args(["-q", "run", "--every", "1h", "--batch-size", "1000"])
            .spawn()
            .expect("spawn outboxctl run");
        let mut peak_kb = 0;
        loop {
            std::thread::sleep(Duration::from_millis(50));
            peak_kb = vm_hwm_kb(child.id()).unwrap_or(peak_kb);
            let processed: i64 = watcher
                .query_row(
                    &format!("SELECT coalesce(sum(Processed), 0) FROM \"{TABLE}_Processed\""),
                    [],
                    |r| r.get(0),
                )
                .unwrap_or(0);
            if processed as u64 >= n {
                break;
            }
            if let Some(status) = child.try_wait().expect("wait") {
                panic!("run exited early: {status}");
            }
        }
        let took = t.elapsed();
        peak_kb = vm_hwm_kb(child.id()).unwrap_or(peak_kb);
        child.kill().expect("stop run");
        child.wait().expect("reap run");
        println!(
            "backlog {n}: peak RSS {:.1} MiB, drained in {:.1} s ({:.0} msg/s, including start-up)",
            peak_kb as f64 / 1024.0,
            took.as_secs_f64(),
            rate(n, took)
        );
        peaks.push((n, peak_kb));
        drop(watcher);
        remove_db(&path);
    }
    let [(n0, a), (n1, b)] = [peaks[0], peaks[1]];
    let growth = 100.0 * (b as f64 - a as f64) / a as f64;
    vec![format!(
        "peak memory draining: {:.1} MiB for {n0}, {:.1} MiB for {n1} ({growth:+.0}%) (target: the same) {}",
        a as f64 / 1024.0,
        b as f64 / 1024.0,
        verdict(growth.abs() <= 10.0)
    )]
}

/// Peak resident set size of a live process, in KiB.
fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

// ---------------------------------------------------------------------------------------------
// scale: a big, mostly processed table

fn bench_scale(dir: &Path, sizes: &Sizes, lean_emit: Option<f64>) -> Vec<String> {
    let mut summary = Vec::new();
    let big_layout = Layout::mostly_processed(sizes.big_rows, sizes.purge_rows, sizes.backlog);
    let small_layout = Layout::mostly_processed(sizes.small_rows, 0, sizes.backlog);
    println!(
        "\n== scale: {} rows ({} processed) vs {} rows",
        big_layout.total(),
        big_layout.old + big_layout.recent,
        small_layout.total()
    );
    let big = dir.join("big.db");
    let small = dir.join("small.db");
    let t = Instant::now();
    generate(&big, &big_layout);
    let gen_secs = t.elapsed().as_secs_f64();
    println!(
        "generated {} rows in {gen_secs:.1} s ({:.0} rows/s), file {:.0} MiB",
        big_layout.total(),
        big_layout.total() as f64 / gen_secs,
        std::fs::metadata(&big).map_or(0, |m| m.len()) as f64 / 1048576.0
    );
    generate(&small, &small_layout);

    // Query plans of the hot paths (copies of the store's SQL): none may scan the table.
    let conn = Connection::open(&big).expect("open");
    for (what, sql) in hot_queries() {
        println!("plan of {what}: {}", plan(&conn, &sql));
    }
    drop(conn);

    // Fetching the next batch.
    let claims = 100;
    let mut medians = Vec::new();
    for (name, path) in [("small", &small), ("big", &big)] {
        let mut store = open_store(path);
        let mut times = Vec::with_capacity(claims);
        for _ in 0..claims {
            let now = Utc::now();
            let t = Instant::now();
            let batch = store
                .claim(&ClaimParams {
                    owner: "bench",
                    now,
                    lease_until: now + Duration::from_secs(300),
                    limit: 20,
                })
                .expect("claim");
            times.push(t.elapsed());
            let ids: Vec<String> = batch.into_iter().map(|m| m.id).collect();
            store
                .record(&outboxctl::store::RecordParams {
                    owner: "bench",
                    now: Utc::now(),
                    delivered: &ids,
                    failed: &[],
                })
                .expect("mark");
        }
        times.sort();
        println!(
            "claim of 20 on the {name} table: median {}, p95 {}",
            us(pct(&times, 0.5)),
            us(pct(&times, 0.95))
        );
        medians.push(pct(&times, 0.5));
    }
    let slower = medians[1].as_secs_f64() / medians[0].as_secs_f64();
    summary.push(format!(
        "claim next batch of 20: {} on {} rows vs {} on {} rows (x{slower:.2}) (target: as fast) {}",
        us(medians[1]),
        big_layout.total(),
        us(medians[0]),
        small_layout.total(),
        verdict(slower <= 1.5)
    ));

    // stats, in the library and as a whole process.
    let mut lib_stats = Vec::new();
    for path in [&small, &big] {
        let mut store = open_store(path);
        let mut times: Vec<Duration> = (0..20)
            .map(|_| {
                let t = Instant::now();
                store.stats(Utc::now()).expect("stats");
                t.elapsed()
            })
            .collect();
        times.sort();
        lib_stats.push(pct(&times, 0.5));
    }
    let mut cli_stats: Vec<Duration> = (0..10)
        .map(|_| {
            let t = Instant::now();
            let out = outboxctl(dir)
                .arg("--database")
                .arg(&big)
                .args(["stats", "--format", "json"])
                .output()
                .expect("spawn stats");
            assert!(out.status.success(), "stats failed");
            t.elapsed()
        })
        .collect();
    cli_stats.sort();
    println!(
        "stats: library {} on the small table, {} on the big one; `outboxctl stats` process {} (median)",
        ms(lib_stats[0]),
        ms(lib_stats[1]),
        ms(pct(&cli_stats, 0.5))
    );
    summary.push(format!(
        "stats on {} rows: {} in the library, {} as a process (target <= 100 ms) {}",
        big_layout.total(),
        ms(lib_stats[1]),
        ms(pct(&cli_stats, 0.5)),
        verdict(pct(&cli_stats, 0.5) <= Duration::from_millis(100))
    ));

    // purge of the old processed rows while an application emits beside it.
    summary.extend(purge_beside_emits(
        dir,
        &big,
        big_layout.old,
        sizes.emit_every,
        lean_emit,
    ));
    remove_db(&big);
    remove_db(&small);
    summary
}

/// Purge with an application emitting beside it. The target is twice the rate at which the
/// lean design emits (`lean_emit`, from the emit section): purge keeps well ahead of inserts.
fn purge_beside_emits(
    dir: &Path,
    db: &Path,
    expected: u64,
    every: Duration,
    lean_emit: Option<f64>,
) -> Vec<String> {
    println!("\n== purge of {expected} processed rows, one emit every {every:?} beside it");
    let done = Arc::new(AtomicBool::new(false));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let emitter = {
        let (done, latencies, db) = (Arc::clone(&done), Arc::clone(&latencies), db.to_path_buf());
        std::thread::spawn(move || {
            let mut store = open_store(&db);
            let mut i = 0u64;
            while !done.load(Ordering::Relaxed) {
                let mut user = User::register(format!("beside-{i}@example.com"), None).expect("valid email");
                let t = Instant::now();
                save_new_user(store.as_mut(), &mut user).expect("emit beside the purge");
                latencies.lock().expect("lock").push(t.elapsed());
                i += 1;
                std::thread::sleep(every);
            }
        })
    };
    std::thread::sleep(Duration::from_millis(500)); // the emitter is up and warm
    latencies.lock().expect("lock").clear();
    let m = Meter::start();
    let out = outboxctl(dir)
        .arg("--database")
        .arg(db)
        .args(["purge", "--older-than", "7d", "--yes", "--format", "json"])
        .output()
        .expect("spawn purge");
    let took = m.wall();
    let cpu = m.children_cpu();
    done.store(true, Ordering::Relaxed);
    emitter.join().expect("emitter thread");
    assert!(
        out.status.success(),
        "purge failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("purge JSON");
    let deleted = report["deleted"].as_u64().unwrap_or(0);
    let purge_rate = rate(deleted, took);
    let mut lat = latencies.lock().expect("lock").clone();
    lat.sort();
    let max = lat.last().copied().unwrap_or_default();
    let over = lat.iter().filter(|d| **d > Duration::from_millis(100)).count();
    println!(
        "purged {deleted} rows in {:.1} s ({purge_rate:.0} rows/s; {:.1} s of CPU, {:.0} rows per CPU-second); {} emits beside it: median {}, p99 {}, max {}, {over} over 100 ms",
        took.as_secs_f64(),
        cpu.as_secs_f64(),
        rate(deleted, cpu),
        lat.len(),
        ms(pct(&lat, 0.5)),
        ms(pct(&lat, 0.99)),
        ms(max)
    );
    vec![
        format!(
            "purge: {deleted} rows at {purge_rate:.0} rows/s, {:.0} rows per CPU-second (target >= 2 x lean emit = {}) {}",
            rate(deleted, cpu),
            lean_emit.map_or("not measured: run the emit section".into(), |r| format!(
                "{:.0} rows/s",
                2.0 * r
            )),
            match lean_emit {
                Some(r) => verdict(purge_rate >= 2.0 * r && deleted == expected),
                None => "[not judged]",
            }
        ),
        format!(
            "emit beside the purge: max {} over {} emits, {over} over 100 ms (target: none) {}",
            ms(max),
            lat.len(),
            verdict(over == 0)
        ),
    ]
}

/// The store's hot queries, as written in src/store/sqlite.rs, to show their plans.
fn hot_queries() -> Vec<(&'static str, String)> {
    let t = TABLE;
    vec![
        (
            "claim",
            format!(
                "SELECT rowid FROM \"{t}\" WHERE ProcessedOnUtc IS NULL AND DeadOnUtc IS NULL
                   AND (NextAttemptOnUtc IS NULL OR NextAttemptOnUtc <= ?3)
                 ORDER BY OccuredOnUtc LIMIT ?4"
            ),
        ),
        (
            "stats: processed",
            format!("SELECT Type, Processed FROM \"{t}_Processed\" WHERE Processed > 0"),
        ),
        (
            "stats: unprocessed",
            format!(
                "SELECT Type, count(*), count(DeadOnUtc), count(Error),
                        count(CASE WHEN DeadOnUtc IS NULL AND LockedUntilUtc > ?1 THEN 1 END),
                        count(CASE WHEN DeadOnUtc IS NULL AND Error IS NOT NULL
                                    AND NOT coalesce(LockedUntilUtc > ?1, 0) THEN 1 END)
                 FROM \"{t}\" WHERE ProcessedOnUtc IS NULL GROUP BY Type"
            ),
        ),
        (
            "stats: oldest",
            format!(
                "SELECT min(OccuredOnUtc) FROM \"{t}\" WHERE ProcessedOnUtc IS NULL AND DeadOnUtc IS NULL"
            ),
        ),
        (
            "purge chunk",
            format!(
                "SELECT rowid FROM \"{t}\" WHERE ProcessedOnUtc IS NOT NULL AND ProcessedOnUtc < ?1
                 ORDER BY ProcessedOnUtc LIMIT ?2"
            ),
        ),
    ]
}

fn plan(conn: &Connection, sql: &str) -> String {
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .expect("explain");
    let nulls = vec![rusqlite::types::Null; stmt.parameter_count()];
    let rows: Vec<String> = stmt
        .query_map(rusqlite::params_from_iter(nulls), |r| r.get::<_, String>(3))
        .and_then(|rows| rows.collect())
        .expect("plan rows");
    rows.join("; ")
}

// ---------------------------------------------------------------------------------------------
// data generation: one INSERT … SELECT from a recursive CTE, in the schema's formats

/// Rows in time order: processed long ago (purgeable), processed recently, then failing, dead
/// and pending ones (the unprocessed tail, occurred in the last hour).
#[derive(Debug, Clone, Copy)]
struct Layout {
    old: u64,
    recent: u64,
    failing: u64,
    dead: u64,
    pending: u64,
    /// Distinct ordering keys over the rows, round robin (0: no keys).
    keys: u64,
}

impl Layout {
    fn backlog(n: u64) -> Self {
        Layout {
            old: 0,
            recent: 0,
            failing: 0,
            dead: 0,
            pending: n,
            keys: 0,
        }
    }

    /// `total` rows, `old` of them processed over a week ago, `pending` waiting, 1000 failing and
    /// 1000 dead; the rest processed within the last day.
    fn mostly_processed(total: u64, old: u64, pending: u64) -> Self {
        let (failing, dead) = (1_000, 1_000);
        Layout {
            old,
            recent: total.saturating_sub(old + failing + dead + pending),
            failing,
            dead,
            pending,
            keys: 0,
        }
    }

    fn total(&self) -> u64 {
        self.old + self.recent + self.failing + self.dead + self.pending
    }
}

/// Creates a database with the schema and the rows of `layout`. Indexes and triggers are made
/// after the rows (as `init` does when it adopts a filled table), which is much faster.
fn generate(path: &Path, layout: &Layout) {
    let conn = Connection::open(path).expect("create database");
    // Journal off while generating: the library switches the file to WAL when it opens it.
    conn.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;")
        .expect("pragmas");
    let schema = store::sqlite::SCHEMA.replace("OutboxMessage", TABLE);
    let start = schema
        .find(&format!("CREATE TABLE IF NOT EXISTS \"{TABLE}\" ("))
        .expect("the schema creates the table");
    let end = start + schema[start..].find("\n);").expect("the table ends") + 3;
    conn.execute_batch(&schema[start..end]).expect("create table");
    let now = Utc::now().timestamp_millis() as f64 / 1000.0;
    let day = 86_400.0;
    conn.execute(
        &format!(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :total),
             r AS (SELECT i,
                     CASE WHEN i < :old THEN :t_old + i * 0.001
                          WHEN i < :old + :recent THEN :t_recent + (i - :old) * 0.001
                          ELSE :t_tail + (i - :old - :recent) * 0.001 END AS occ,
                     CASE WHEN i < :old + :recent THEN 0
                          WHEN i < :old + :recent + :failing THEN 1
                          WHEN i < :old + :recent + :failing + :dead THEN 2
                          ELSE 3 END AS kind,
                     :id_ms + i / 4096 AS ms
                   FROM n)
             INSERT INTO \"{TABLE}\" (Id, Type, Content, OccuredOnUtc, ProcessedOnUtc, Error, Attempts,
                                      NextAttemptOnUtc, DeadOnUtc, LastAttemptOnUtc, OrderingKey)
             SELECT printf('%08x-%04x-7%03x-%04x-%012x', ms >> 16, ms & 65535, i & 4095,
                           32768 | ((i >> 48) & 16383), i & 281474976710655),
                    CASE i % 3 WHEN 0 THEN 'UserRegistered' WHEN 1 THEN 'OrderPlaced' ELSE 'InvoicePaid' END,
                    printf('{{\"user_id\":\"u-%d\",\"email\":\"user-%d@example.com\",\"name\":null}}', i, i),
                    strftime('%Y-%m-%d %H:%M:%f', occ, 'unixepoch') || '000',
                    CASE kind WHEN 0 THEN strftime('%Y-%m-%d %H:%M:%f', occ + 1, 'unixepoch') || '000' END,
                    CASE kind WHEN 1 THEN 'connection refused' WHEN 2 THEN 'gave up after 10 attempts' END,
                    CASE kind WHEN 0 THEN 1 WHEN 1 THEN 3 WHEN 2 THEN 10 ELSE 0 END,
                    CASE kind WHEN 1 THEN strftime('%Y-%m-%d %H:%M:%f', :now + 3600, 'unixepoch') || '000' END,
                    CASE kind WHEN 2 THEN strftime('%Y-%m-%d %H:%M:%f', :now - 60, 'unixepoch') || '000' END,
                    CASE WHEN kind < 3 THEN strftime('%Y-%m-%d %H:%M:%f', occ + 1, 'unixepoch') || '000' END,
                    CASE WHEN :keys > 0 THEN 'order-' || (i % :keys) END
             FROM r"
        ),
        named_params! {
            ":total": layout.total() as i64,
            ":old": layout.old as i64,
            ":recent": layout.recent as i64,
            ":failing": layout.failing as i64,
            ":dead": layout.dead as i64,
            ":t_old": now - 20.0 * day,
            ":t_recent": now - day,
            ":t_tail": now - 3600.0,
            ":now": now,
            ":id_ms": (now - 30.0 * day) as i64 * 1000,
            ":keys": layout.keys as i64,
        },
    )
    .expect("generate rows");
    // The rest of the schema (indexes, triggers, counters) as `init` does it for a filled table.
    conn.execute_batch(&schema).expect("apply schema");
    conn.execute_batch(&format!(
        "DELETE FROM \"{TABLE}_Processed\";
         INSERT INTO \"{TABLE}_Processed\" (Type, Processed)
         SELECT Type, count(*) FROM \"{TABLE}\" WHERE ProcessedOnUtc IS NOT NULL GROUP BY Type;
         INSERT INTO \"{TABLE}_Attempt\" (MessageId, Attempt, Destination, FailedOnUtc, Error)
         SELECT Id, Attempts, NULL, LastAttemptOnUtc, Error FROM \"{TABLE}\" WHERE Error IS NOT NULL;"
    ))
    .expect("counters");
}

// ---------------------------------------------------------------------------------------------
// helpers

fn open_store(path: &Path) -> Box<dyn Store> {
    store::open(
        path.to_str().expect("utf-8 path"),
        &StoreOptions {
            table: TABLE.into(),
            busy_timeout: Duration::from_secs(5),
        },
    )
    .expect("open store")
}

/// The release binary, isolated from the caller's config and environment.
fn outboxctl(cwd: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(cwd);
    for var in [
        "OUTBOX_DATABASE",
        "OUTBOX_CONFIG",
        "OUTBOX_TABLE",
        "OUTBOX_FORMAT",
        "OUTBOX_LOG",
        "OUTBOX_NOW",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

/// Wall time and CPU time of this process (and of the child processes waited for).
struct Meter {
    wall: Instant,
    cpu: Duration,
    children: Duration,
}

impl Meter {
    fn start() -> Self {
        Meter {
            wall: Instant::now(),
            cpu: cpu_time("/proc/self/stat", 11),
            children: cpu_time("/proc/self/stat", 13),
        }
    }

    fn wall(&self) -> Duration {
        self.wall.elapsed()
    }

    /// CPU time of this process (every thread) since the start.
    fn cpu(&self) -> Duration {
        cpu_time("/proc/self/stat", 11).saturating_sub(self.cpu)
    }

    /// CPU time of the child processes waited for since the start.
    fn children_cpu(&self) -> Duration {
        cpu_time("/proc/self/stat", 13).saturating_sub(self.children)
    }

    /// Items per second of wall time and per second of this process's CPU time.
    fn rates(&self, n: u64) -> Rates {
        Rates {
            wall: rate(n, self.wall()),
            cpu: rate(n, self.cpu()),
        }
    }
}

/// user + system time from a `stat` file of /proc: fields `at` and `at + 1` after the command
/// name (utime, stime; or cutime, cstime), in clock ticks of 10 ms.
fn cpu_time(file: &str, at: usize) -> Duration {
    let stat = std::fs::read_to_string(file).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after
        .split_whitespace()
        .skip(at)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    Duration::from_millis(fields.iter().sum::<u64>() * 10)
}

#[derive(Debug, Clone, Copy, Default)]
struct Rates {
    wall: f64,
    cpu: f64,
}

/// outboxctl against the lean design over rounds; the best round of each side counts, and the
/// target is on wall time.
#[derive(Default)]
struct Comparison {
    lib: Rates,
    bare: Rates,
}

impl Comparison {
    fn add(&mut self, label: &str, unit: &str, lib: Rates, bare: Rates) {
        println!(
            "{label}: outboxctl {:.0} {unit} ({:.0} per CPU-second), lean design {:.0} {unit} ({:.0} per CPU-second): {:.0}% by wall time, {:.0}% by CPU time",
            lib.wall,
            lib.cpu,
            bare.wall,
            bare.cpu,
            100.0 * lib.wall / bare.wall,
            100.0 * lib.cpu / bare.cpu
        );
        self.lib.wall = self.lib.wall.max(lib.wall);
        self.lib.cpu = self.lib.cpu.max(lib.cpu);
        self.bare.wall = self.bare.wall.max(bare.wall);
        self.bare.cpu = self.bare.cpu.max(bare.cpu);
    }

    fn summary(&self, what: &str, unit: &str, target: f64) -> String {
        let by_wall = 100.0 * self.lib.wall / self.bare.wall;
        let by_cpu = 100.0 * self.lib.cpu / self.bare.cpu;
        format!(
            "{what}: {:.0} {unit} vs lean {:.0} {unit} = {by_wall:.0}% by wall time ({by_cpu:.0}% by CPU time: {:.0} vs {:.0} per CPU-second) (target >= {target}% by wall time) {}",
            self.lib.wall,
            self.bare.wall,
            self.lib.cpu,
            self.bare.cpu,
            verdict(by_wall >= target)
        )
    }
}

fn rate(n: u64, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn verdict(met: bool) -> &'static str {
    if met { "[met]" } else { "[MISSED]" }
}

/// CPUs, CPU model and the disk the databases are on.
fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpus} CPUs, {model}")
}
