//! Operations: `health`, Prometheus metrics, the dashboard (over HTTP and in a real headless
//! browser), SIGTERM handling, and the man page. Real processes on temporary SQLite databases.

// A test that cannot run here (no Chromium, no PID namespaces) says so on stderr.
#![allow(clippy::print_stderr)]

#[path = "cli/common.rs"]
#[allow(dead_code)]
mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{TestEnv, wait_exit, wait_until};
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// A prepared outbox, with the clock pinned so ages are exact.

const T0: &str = "2024-03-01 12:00:00";
/// When the checks look at the outbox: Flaky (oldest waiting) occurred 40 minutes before.
const NOW: &str = "2024-03-01 17:40:00";

const BAD_TYPE: &str = "Bad<script>alert('type')</script>";
const BAD_CONTENT: &str = r#"{"x":"<script>alert('content')</script>"}"#;

/// Good: 3 processed. Bad (a `<script>` type and content): dead after 3 attempts. Flaky: 2
/// failing, waiting for a retry. Later: 1 pending.
fn prepared() -> TestEnv {
    let env = TestEnv::new();
    env.config(&format!(
        r#"
[retry]
max_attempts = 3
backoff = "1h"
max_backoff = "1h"

[sinks.fail]
kind = "exec"
command = ["/bin/sh", "-c", "echo '<img src=x onerror=alert(1)> failed' >&2; exit 1"]

[routes]
Good = "noop"
Later = "noop"
Flaky = "fail"
"{}" = "fail"
"#,
        BAD_TYPE.replace('\\', "\\\\").replace('"', "\\\"")
    ));
    for _ in 0..3 {
        env.emit_at(T0, "Good");
    }
    env.ok_at(T0, &["emit", "event", BAD_TYPE, BAD_CONTENT]);
    env.ok_at(T0, &["process-once"]);
    env.ok_at("2024-03-01 14:00:00", &["process-once"]);
    env.ok_at("2024-03-01 16:00:00", &["process-once"]);
    env.emit_at("2024-03-01 17:00:00", "Flaky");
    env.emit_at("2024-03-01 17:00:00", "Flaky");
    env.ok_at("2024-03-01 17:00:00", &["process-once"]);
    env.emit_at("2024-03-01 17:30:00", "Later");
    let s = env.json_at(NOW, &["stats"]);
    assert_eq!(
        (&s["processed"], &s["dead"], &s["retrying"], &s["pending"]),
        (&Value::from(3), &Value::from(1), &Value::from(2), &Value::from(1)),
        "{s:#}"
    );
    env
}

// ---------------------------------------------------------------------------------------------
// health

/// `health` at NOW; the fixture has due messages no relay took for 40 minutes, so the stall
/// check gets a day unless the test is about it.
fn health(env: &TestEnv, args: &[&str]) -> (i32, String) {
    let mut a = vec!["health"];
    if !args.contains(&"--max-stall") {
        a.extend(["--max-stall", "1d"]);
    }
    a.extend(args);
    let o = env.run_at(NOW, &a);
    assert_eq!(o.stdout.lines().count(), 1, "one status line: {o:#?}");
    (o.code, o.stdout.trim_end().to_owned())
}

#[test]
fn health_ok_line_has_performance_data() {
    let env = prepared();
    // The failing messages' backoff has jitter: at NOW they may be due again or not, so the
    // stall (from the oldest due message) is 10 or 40 minutes. Its exact value is tested below.
    let stall = |line: String| {
        let (head, rest) = line.split_once(" stall=").unwrap();
        let (_, tail) = rest.split_once("s;").unwrap();
        format!("{head} stall=Xs;{tail}")
    };
    let (code, line) = health(&env, &[]);
    assert_eq!(code, 0);
    assert_eq!(
        stall(line),
        "OUTBOX OK - oldest waiting message 40m old, 2 failing, 1 dead \
         | lag=2400s;;;0 failed=2;;;0 dead=1;;;0 stall=Xs;;86400;0 blocked=0;;;0 circuits=0;0;;0 unprocessed=4;;;0"
    );
    let (code, line) = health(
        &env,
        &[
            "--warn-lag",
            "50m",
            "--max-lag",
            "2h",
            "--max-failed",
            "2",
            "--max-dead",
            "1",
        ],
    );
    assert_eq!(code, 0, "values equal to a threshold are not above it: {line}");
    assert!(
        stall(line.clone()).ends_with(
            "| lag=2400s;3000;7200;0 failed=2;;2;0 dead=1;;1;0 stall=Xs;;86400;0 blocked=0;;;0 circuits=0;0;;0 unprocessed=4;;;0"
        ),
        "{line}"
    );
}

#[test]
fn health_each_threshold_crossing_gives_its_exit_code() {
    let env = prepared();
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["--max-lag", "30m"],
            2,
            "OUTBOX CRITICAL - oldest waiting message 40m old (critical > 1800)",
        ),
        (
            &["--warn-lag", "30m", "--max-lag", "1h"],
            1,
            "OUTBOX WARNING - oldest waiting message 40m old (warning > 1800)",
        ),
        (&["--max-lag", "1h"], 0, "OUTBOX OK - "),
        (
            &["--max-failed", "1"],
            2,
            "OUTBOX CRITICAL - oldest waiting message 40m old, 2 failing (critical > 1)",
        ),
        (
            &["--warn-failed", "1", "--max-failed", "5"],
            1,
            "OUTBOX WARNING - oldest waiting message 40m old, 2 failing (warning > 1)",
        ),
        (&["--max-failed", "2"], 0, "OUTBOX OK - "),
        (
            &["--max-dead", "0"],
            2,
            "OUTBOX CRITICAL - oldest waiting message 40m old, 2 failing, 1 dead (critical > 0)",
        ),
        (
            &["--warn-dead", "0"],
            1,
            "OUTBOX WARNING - oldest waiting message 40m old, 2 failing, 1 dead (warning > 0)",
        ),
        (&["--warn-dead", "0", "--max-dead", "1"], 1, "OUTBOX WARNING - "),
        // The worst check decides.
        (
            &["--warn-failed", "0", "--max-dead", "0"],
            2,
            "OUTBOX CRITICAL - oldest waiting message 40m old, 2 failing (warning > 0), 1 dead (critical > 0)",
        ),
    ];
    for (args, code, start) in cases {
        let (got, line) = health(&env, args);
        assert_eq!(got, *code, "health {args:?}: {line}");
        assert!(
            line.starts_with(start),
            "health {args:?}:\n{line}\nshould start with\n{start}"
        );
    }
}

/// Due messages with nothing delivered for longer than `--max-stall` (15 minutes by default)
/// are CRITICAL; messages only waiting for their backoff are not due, so they stall nothing.
#[test]
fn health_is_critical_when_due_messages_are_not_delivered() {
    let env = prepared();
    let later = "2024-03-01 19:00:00";
    let o = env.run_at(later, &["health"]);
    assert_eq!(o.code, 2, "{o:#?}");
    assert!(
        o.stdout.starts_with("OUTBOX CRITICAL - oldest waiting message 2h old, 2 failing, 1 dead, due messages, nothing delivered for 2h (critical > 900)"),
        "{}",
        o.stdout
    );
    let m = env.run_at(later, &["health", "--max-stall", "3h"]);
    assert_eq!(m.code, 0, "{m:#?}");
    let stats = env.json_at(later, &["stats"]);
    assert_eq!(stats["stalled_seconds"], 7200.0, "{stats}");
    assert!(
        env.ok_at(later, &["stats"])
            .stdout
            .contains("stalled: messages due and nothing delivered for 2h")
    );
    // A relay runs: the due message is delivered, the failing ones wait for their backoff.
    env.ok_at(later, &["process-once", "-q"]);
    let stats = env.json_at(later, &["stats"]);
    assert_eq!(stats["stalled_seconds"], Value::Null, "{stats}");
    assert!(stats["retrying"].as_u64().unwrap() > 0, "{stats}");
    assert_eq!(env.run_at(later, &["health"]).code, 0);
}

#[test]
fn health_json_reports_status_and_checks() {
    let env = prepared();
    let o = env.run_at(
        NOW,
        &[
            "health",
            "--max-dead",
            "0",
            "--warn-lag",
            "10m",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.code, 2, "{o:#?}");
    let v = o.json();
    assert_eq!(v["status"], "CRITICAL");
    assert_eq!(v["exit_code"], 2);
    assert_eq!(v["unprocessed"], 4);
    let checks: HashMap<&str, &Value> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c))
        .collect();
    assert_eq!(checks["lag"]["value"], 2400.0);
    assert_eq!(checks["lag"]["warning"], 600.0);
    assert_eq!(checks["lag"]["status"], "WARNING");
    assert_eq!(checks["failed"]["value"], 2.0);
    assert_eq!(checks["dead"]["status"], "CRITICAL");
}

#[test]
fn health_is_unknown_when_the_state_cannot_be_known() {
    let env = TestEnv::new();
    // Empty outbox: OK.
    env.ok(&["init"]);
    let (code, line) = health(&env, &["--max-dead", "0"]);
    assert_eq!(
        (code, line.as_str()),
        (
            0,
            "OUTBOX OK - no message waiting, 0 failing, 0 dead | lag=0s;;;0 failed=0;;;0 dead=0;;0;0 stall=0s;;86400;0 blocked=0;;;0 circuits=0;0;;0 unprocessed=0;;;0"
        )
    );

    // A missing database is not created, and not called healthy.
    let (code, line) = health(&env, &["-d", "missing.db"]);
    assert_eq!(code, 3, "{line}");
    assert!(
        line.starts_with("OUTBOX UNKNOWN - database missing.db does not exist"),
        "{line}"
    );
    assert!(!env.path("missing.db").exists());

    // A file that is not a database.
    env.write("garbage.db", &"not a database at all ".repeat(300));
    let (code, line) = health(&env, &["-d", "garbage.db"]);
    assert_eq!(code, 3, "{line}");
    assert!(
        line.starts_with("OUTBOX UNKNOWN - ") && line.contains("not a usable SQLite database"),
        "{line}"
    );

    // Usage errors are UNKNOWN too (not CRITICAL, which is 2).
    for args in [&["--max-lag", "soon"][..], &["--max-dead", "-1"], &["--bogus"]] {
        let (code, line) = health(&env, args);
        assert_eq!(code, 3, "health {args:?}: {line}");
        assert!(line.starts_with("OUTBOX UNKNOWN - "), "{line}");
    }
    // A broken config file as well.
    env.write("bad.toml", "batch_size = \"many\"\n");
    let (code, line) = health(&env, &["-c", "bad.toml"]);
    assert_eq!(code, 3, "{line}");
    assert!(line.contains("bad.toml"), "{line}");
    // Other commands keep exit 2 for usage errors.
    env.fails(&["stats", "--bogus"], 2);
}

// ---------------------------------------------------------------------------------------------
// Prometheus metrics

fn parse_prometheus(text: &str) -> prometheus_parse::Scrape {
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("Prometheus text parses")
}

/// Plain samples by metric name and sorted labels.
type Samples = HashMap<(String, Vec<(String, String)>), f64>;

fn samples(scrape: &prometheus_parse::Scrape) -> Samples {
    use prometheus_parse::Value as V;
    scrape
        .samples
        .iter()
        .filter_map(|s| {
            let v = match s.value {
                V::Counter(v) | V::Gauge(v) | V::Untyped(v) => v,
                _ => return None,
            };
            let mut labels: Vec<(String, String)> =
                s.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            labels.sort();
            Some(((s.metric.clone(), labels), v))
        })
        .collect()
}

fn get(m: &Samples, name: &str, labels: &[(&str, &str)]) -> f64 {
    let mut l: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    l.sort();
    *m.get(&(name.to_owned(), l))
        .unwrap_or_else(|| panic!("no sample {name}{labels:?} in {:?}", m.keys().collect::<Vec<_>>()))
}

#[test]
fn prometheus_output_parses_and_equals_stats() {
    let env = prepared();
    let stats = env.json_at(NOW, &["stats"]);
    let o = env.ok_at(NOW, &["stats", "--format", "prometheus"]);
    let m = samples(&parse_prometheus(&o.stdout));

    let by_type = stats["by_type"].as_array().unwrap();
    assert_eq!(by_type.len(), 4);
    for t in by_type {
        let ty = t["type"].as_str().unwrap();
        for state in ["pending", "in_flight", "retrying", "dead", "processed"] {
            assert_eq!(
                get(&m, "outbox_messages", &[("type", ty), ("state", state)]),
                t[state].as_f64().unwrap(),
                "{ty} {state}"
            );
        }
        assert_eq!(
            get(&m, "outbox_messages_failed", &[("type", ty)]),
            t["failed"].as_f64().unwrap()
        );
    }
    assert_eq!(
        get(&m, "outbox_messages_all", &[]),
        stats["total"].as_f64().unwrap()
    );
    assert_eq!(
        get(&m, "outbox_messages_processed", &[]),
        stats["processed"].as_f64().unwrap()
    );
    assert_eq!(
        get(&m, "outbox_messages_dead", &[]),
        stats["dead"].as_f64().unwrap()
    );
    assert_eq!(
        get(&m, "outbox_messages_unprocessed", &[]),
        stats["total"].as_f64().unwrap() - stats["processed"].as_f64().unwrap()
    );
    assert_eq!(
        get(&m, "outbox_oldest_unprocessed_age_seconds", &[]),
        stats["oldest_unprocessed_age_seconds"].as_f64().unwrap()
    );
    assert_eq!(get(&m, "outbox_oldest_unprocessed_age_seconds", &[]), 2400.0);
    assert_eq!(get(&m, "outbox_store_up", &[]), 1.0);

    // --output writes the same text atomically, leaving no temporary file behind.
    let dir = env.path("textfile");
    std::fs::create_dir(&dir).unwrap();
    let file = dir.join("outbox.prom");
    let o2 = env.ok_at(
        NOW,
        &[
            "stats",
            "--format",
            "prometheus",
            "--output",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(o2.stdout, "");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), o.stdout);
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("outbox.prom")]);
    // ... and JSON too.
    let json_file = env.path("stats.json");
    env.ok_at(
        NOW,
        &["stats", "--format", "json", "-o", json_file.to_str().unwrap()],
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(json_file).unwrap()).unwrap();
    assert_eq!(v, stats);

    // Commands without a Prometheus form say so.
    let line = env.fails(&["list", "--format", "prometheus"], 2);
    assert!(line.contains("only for stats"), "{line}");
    // An unwritable --output fails with one line and leaves nothing.
    env.fails(&["stats", "-o", "no/such/dir/x.prom"], 1);
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 request on its own connection; returns status, headers (lower-case) and body.
fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Resp {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = body.unwrap_or("");
    if method == "POST" {
        req.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8(raw).expect("UTF-8 response");
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {raw:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Resp {
        status,
        headers,
        body: body.to_owned(),
    }
}

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn wait_for_port(port: u16, child: &mut Child) {
    wait_until("the server listens", Duration::from_secs(30), || {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the server exited early: {status}");
        }
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
}

fn sigterm(child: &Child) {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -TERM");
}

#[test]
fn run_serves_metrics_and_healthz_and_exits_0_on_sigterm() {
    let env = TestEnv::new();
    env.config("[routes]\nGood = \"noop\"\n");
    env.emit("Good", 5);
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = env.spawn("run", &["run", "--every", "200ms", "--metrics-listen", &addr]);
    wait_for_port(port, &mut child);
    let mut text = String::new();
    wait_until("the relay delivered all five", Duration::from_secs(30), || {
        text = http(port, "GET", "/metrics", &[], None).body;
        text.contains("outbox_relay_processed_total 5")
    });
    let scrape = parse_prometheus(&text);
    let m = samples(&scrape);
    let stats = env.stats();
    assert_eq!(
        get(&m, "outbox_messages", &[("type", "Good"), ("state", "processed")]),
        5.0
    );
    assert_eq!(stats["processed"], 5);
    assert_eq!(get(&m, "outbox_relay_failed_total", &[]), 0.0);
    assert!(get(&m, "outbox_relay_batches_total", &[]) >= 1.0);
    let histogram = |name: &str| {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == name)
            .map(|s| match &s.value {
                prometheus_parse::Value::Histogram(buckets) => buckets.clone(),
                v => panic!("{name} is not a histogram: {v:?}"),
            })
            .unwrap_or_else(|| panic!("no {name}"))
    };
    let latency = histogram("outbox_delivery_latency_seconds");
    let inf = latency.iter().find(|b| b.less_than.is_infinite()).unwrap();
    assert_eq!(inf.count, 5.0, "one latency per delivered message");
    assert!(latency.windows(2).all(|w| w[0].count <= w[1].count), "cumulative");
    let batches = histogram("outbox_batch_duration_seconds");
    assert_eq!(
        batches.iter().find(|b| b.less_than.is_infinite()).unwrap().count,
        get(&m, "outbox_relay_batches_total", &[])
    );

    let h = http(port, "GET", "/healthz", &[], None);
    assert_eq!((h.status, h.body.as_str()), (200, "ok\n"));
    assert_eq!(http(port, "POST", "/metrics", &[], Some("")).status, 405);
    assert_eq!(http(port, "GET", "/nope", &[], None).status, 404);

    sigterm(&child);
    let status = wait_exit(&mut child, Duration::from_secs(30));
    assert_eq!(
        status.code(),
        Some(0),
        "run exits 0 on SIGTERM: {}",
        env.read("run.err")
    );
    assert!(env.read("run.err").contains("relay stopped"));
}

/// In a container `run` is PID 1, which the kernel shields from signals it has no handler for.
/// `run` installs handlers, so SIGTERM from outside the PID namespace stops it cleanly.
#[test]
fn run_as_pid_1_stops_on_sigterm() {
    let env = TestEnv::new();
    env.ok(&["init"]);
    let mut c = Command::new("unshare");
    c.args([
        "--pid",
        "--fork",
        "--mount-proc",
        common::BIN,
        "run",
        "--every",
        "1s",
    ])
    .current_dir(env.path(""))
    .env_remove("OUTBOX_DATABASE")
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(std::fs::File::create(env.path("pid1.err")).unwrap());
    let mut outer = match c.spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("skipped: cannot run unshare ({e})");
            return;
        }
    };
    let children = format!("/proc/{0}/task/{0}/children", outer.id());
    let mut pid = String::new();
    wait_until("unshare started outboxctl", Duration::from_secs(30), || {
        if let Ok(Some(status)) = outer.try_wait() {
            pid = format!("exited:{status}");
            return true;
        }
        pid = std::fs::read_to_string(&children)
            .unwrap_or_default()
            .trim()
            .to_owned();
        !pid.is_empty() && env.read("pid1.err").contains("relay started")
    });
    if pid.starts_with("exited:") {
        // No permission for PID namespaces here (an unprivileged container).
        eprintln!(
            "skipped: unshare --pid is not allowed here: {}",
            env.read("pid1.err")
        );
        return;
    }
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let nspid = status
        .lines()
        .find(|l| l.starts_with("NSpid:"))
        .unwrap()
        .to_owned();
    assert!(
        nspid.trim_end().ends_with("\t1"),
        "outboxctl is PID 1 inside: {nspid}"
    );
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = wait_exit(&mut outer, Duration::from_secs(30));
    assert_eq!(status.code(), Some(0), "{}", env.read("pid1.err"));
    assert!(env.read("pid1.err").contains("relay stopped"));
}

// ---------------------------------------------------------------------------------------------
// The dashboard over HTTP

const TOKEN: &str = "test-token-0123456789abcdef";

struct Dash {
    env: TestEnv,
    child: Child,
    port: u16,
}

impl Drop for Dash {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Dash {
    fn start(env: TestEnv, extra: &[&str], token: Option<&str>) -> Dash {
        Dash::start_on(env, "127.0.0.1", extra, token)
    }

    fn start_on(env: TestEnv, ip: &str, extra: &[&str], token: Option<&str>) -> Dash {
        let port = free_port();
        let listen = format!("{ip}:{port}");
        let mut c = env.cmd();
        c.args(["dashboard", "--listen", &listen])
            .args(extra)
            .env("OUTBOX_NOW", NOW)
            .stdout(std::fs::File::create(env.path("dash.out")).unwrap())
            .stderr(std::fs::File::create(env.path("dash.err")).unwrap());
        if let Some(t) = token {
            c.env("OUTBOX_DASHBOARD_TOKEN", t);
        }
        let mut child = c.spawn().unwrap();
        wait_for_port(port, &mut child);
        Dash { env, child, port }
    }

    fn get(&self, path: &str) -> Resp {
        http(self.port, "GET", path, &[], None)
    }

    fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        http(self.port, "GET", path, headers, None)
    }

    fn post(&self, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
        http(self.port, "POST", path, headers, Some(body))
    }

    fn bearer(&self, path: &str, body: &str) -> Resp {
        let auth = format!("Bearer {TOKEN}");
        self.post(path, &[("Authorization", &auth)], body)
    }

    fn stats(&self) -> Value {
        self.env.json_at(NOW, &["stats"])
    }

    /// Logs in through the form; returns the cookie header and the page's CSRF field.
    fn login(&self) -> (String, String) {
        self.login_with(&[])
    }

    /// Logs in with these headers too (Host, Origin), and reads the CSRF field with the same Host.
    fn login_with(&self, headers: &[(&str, &str)]) -> (String, String) {
        let r = self.post("/login", headers, &format!("token={TOKEN}&next=%2F"));
        assert_eq!(r.status, 303, "{r:?}");
        assert_eq!(r.header("location"), Some("/"));
        let cookie = r.header("set-cookie").unwrap();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        let cookie = cookie.split(';').next().unwrap().to_owned();
        let mut page_headers: Vec<(&str, &str)> = headers
            .iter()
            .copied()
            .filter(|(k, _)| k.eq_ignore_ascii_case("host"))
            .collect();
        page_headers.push(("Cookie", &cookie));
        let page = self.get_with("/", &page_headers);
        let csrf = page
            .body
            .split(r#"name="csrf" value=""#)
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("a CSRF field on the page of a logged-in user")
            .to_owned();
        (cookie, csrf)
    }
}

fn dead_id(env: &TestEnv) -> String {
    let v = env.json_at(NOW, &["list", "--dead"]);
    v["messages"][0]["id"].as_str().unwrap().to_owned()
}

fn assert_escaped(r: &Resp) {
    assert!(
        !r.body.contains("<script>alert"),
        "unescaped script in:\n{}",
        r.body
    );
    assert!(!r.body.contains("<img src=x"), "unescaped error in:\n{}", r.body);
}

/// An open circuit is on the overview: counted, with its destination, until when and why.
#[test]
fn dashboard_shows_open_circuits() {
    let env = prepared();
    env.db()
        .execute_batch(
            "INSERT INTO OutboxMessage_Circuit (Destination, Failures, OpenedOnUtc, OpenUntilUtc, LastError)
             VALUES ('fail', 7, '2024-01-15 17:30:00', '2024-01-15 17:45:00',
                     '<img src=x onerror=alert(1)> refused');",
        )
        .unwrap();
    let dash = Dash::start(env, &[], Some(TOKEN));
    let r = dash.get("/");
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.contains(r#"id="stat-circuits">1<"#), "{}", r.body);
    assert_eq!(r.body.matches(r#"<tr class="circuit">"#).count(), 1);
    assert!(r.body.contains("2024-01-15 17:45:00"));
    assert!(r.body.contains("&lt;img src=x onerror=alert(1)&gt; refused"));
    assert_escaped(&r);
}

/// A message's page lists its replays: where to, how it went, escaped.
#[test]
fn dashboard_message_page_lists_replays() {
    let env = prepared();
    let id = env.json_at(NOW, &["list", "--processed"])["messages"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    env.json_at(NOW, &["replay", "--id", &id, "--to", "noop", "--yes"]);
    let dash = Dash::start(env, &[], Some(TOKEN));
    let r = dash.get(&format!("/messages/{id}"));
    assert_eq!(r.status, 200, "{r:?}");
    let table = r
        .body
        .split(r#"<table id="replays">"#)
        .nth(1)
        .expect("a replays table");
    assert!(table.contains("<td>noop</td><td>delivered</td>"), "{table}");
    assert_escaped(&r);
}

#[test]
fn dashboard_pages_show_the_numbers_and_escape_everything() {
    let dash = Dash::start(prepared(), &[], Some(TOKEN));
    let r = dash.get("/");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    let csp = r.header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    for (id, n) in [
        ("pending", 1),
        ("retrying", 2),
        ("dead", 1),
        ("processed", 3),
        ("total", 7),
    ] {
        assert!(
            r.body.contains(&format!(r#"id="stat-{id}">{n}<"#)),
            "stat {id} = {n}"
        );
    }
    assert!(r.body.contains(r#"id="stat-lag">40m<"#));
    assert!(r.body.contains(r#"id="stat-blocked">0<"#), "no keyed messages");
    assert!(r.body.contains(r#"id="stat-circuits">0<"#), "no open circuit");
    assert!(!r.body.contains(r#"<table id="circuits">"#));
    // The chart counts the last hour: Flaky failed twice at 17:00 (pinned clock 17:40).
    assert!(r.body.contains(r#"id="chart-failed">2<"#), "chart");
    let day = dash.get("/?range=24h");
    assert!(
        day.body.contains(r#"id="chart-processed">3<"#),
        "3 processed at 12:00 in the last day"
    );
    assert!(
        day.body.contains(r#"id="chart-failed">5<"#),
        "3 Bad + 2 Flaky attempts"
    );
    assert!(r.body.contains("Bad&lt;script&gt;alert('type')&lt;/script&gt;"));
    assert_escaped(&r);

    // Every list, with its count, filters and escaping.
    for (state, n) in [("unprocessed", 4), ("failed", 3), ("dead", 1), ("processed", 3)] {
        let r = dash.get(&format!("/messages?state={state}"));
        assert_eq!(r.status, 200);
        assert!(
            r.body
                .contains(&format!(r#"<span id="count">{n} messages</span>"#)),
            "{state}"
        );
        assert_eq!(r.body.matches(r#"<tr class="message">"#).count(), n, "{state}");
        assert_escaped(&r);
    }
    let r = dash.get("/messages?state=unprocessed&type=Flaky");
    assert_eq!(r.body.matches(r#"<tr class="message">"#).count(), 2);
    assert!(r.body.contains(r#"<option value="Flaky" selected>"#));
    let r = dash.get("/messages?state=dead");
    assert!(r.body.contains("Bad&lt;script&gt;"));
    assert!(r.body.contains("&lt;img src=x onerror=alert(1)&gt; failed"));

    // The detail page: content, error and the attempt history, escaped.
    let id = dead_id(&dash.env);
    let r = dash.get(&format!("/messages/{id}"));
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("&lt;script&gt;alert('content')&lt;/script&gt;"),
        "content"
    );
    assert_eq!(
        r.body.matches("onerror=alert(1)&gt; failed").count(),
        4,
        "last error + 3 attempts"
    );
    assert_escaped(&r);
    // Ids typed by a user are matched case-insensitively, unknown ones are 404.
    assert_eq!(dash.get(&format!("/messages/{}", id.to_uppercase())).status, 200);
    assert_eq!(
        dash.get("/messages/0190a000-0000-7000-8000-0000000000ff").status,
        404
    );
    assert_eq!(dash.get("/messages/%3Cscript%3E").status, 404);
    assert_escaped(&dash.get("/messages/%3Cscript%3Ealert(1)"));
    assert_eq!(dash.get("/nowhere").status, 404);
    assert_eq!(dash.get("/login").status, 200);
    let r = dash.get("/blocked");
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains(r#"<span id="count">0 blocked keys</span>"#)
            && r.body.contains(r#"id="empty""#)
            && r.body.contains("No key is blocked."),
        "{}",
        r.body
    );
    let r = http(dash.port, "PUT", "/", &[], None);
    assert_eq!((r.status, r.header("allow")), (405, Some("GET")));
}

/// Rows an application (or a lossy read of an unreadable row) wrote with markup, quotes, control
/// characters and U+FFFD in every text column: shown as text, never as markup, on every page.
#[test]
fn dashboard_pages_escape_markup_and_quotes_from_the_database() {
    let env = TestEnv::new();
    env.config("[routes]\nGood = \"noop\"\n");
    env.ok(&["init"]);
    let id = r#"id"><script>alert("id")</script>"#;
    let event_type = "Evil\"><script>alert(\"type\")</script>'\u{7}\u{FFFD}";
    let content = "</pre><script>alert(\"content\")</script>\" onmouseover=\"x\u{1}\u{FFFD}";
    let error = "<img src=x onerror=alert(\"error\")>";
    env.db()
        .execute(
            "INSERT INTO OutboxMessage (Id, Type, Content, OccuredOnUtc, Error, Attempts) \
             VALUES (?1, ?2, ?3, '2024-03-01 17:00:00', ?4, 1)",
            rusqlite::params![id, event_type, content, error],
        )
        .unwrap();
    let dash = Dash::start(env, &[], None);
    // Only the page's own script tag, and no attribute written by the data.
    let only_text = |r: &Resp, page: &str| {
        assert_eq!(r.status, 200, "{page}: {r:?}");
        assert_eq!(r.body.matches("<script").count(), 1, "{page}:\n{}", r.body);
        for raw in ["<img", "\" onmouseover"] {
            assert!(!r.body.contains(raw), "{page} has {raw:?}:\n{}", r.body);
        }
    };

    let overview = dash.get("/");
    only_text(&overview, "overview");
    assert!(
        overview
            .body
            .contains("Evil&quot;&gt;&lt;script&gt;alert(&quot;type&quot;)&lt;/script&gt;'")
    );
    let list = dash.get("/messages?state=failed");
    only_text(&list, "list");
    assert_eq!(list.body.matches(r#"<tr class="message">"#).count(), 1);
    assert!(
        list.body
            .contains("Evil&quot;&gt;&lt;script&gt;alert(&quot;type&quot;)&lt;/script&gt;' \u{FFFD}")
    );
    assert!(
        list.body
            .contains("&lt;img src=x onerror=alert(&quot;error&quot;)&gt;")
    );
    // The type filter lists it as an option value, and it selects the row.
    let filtered = dash.get(
        "/messages?state=failed&type=Evil%22%3E%3Cscript%3Ealert(%22type%22)%3C%2Fscript%3E%27%07%EF%BF%BD",
    );
    only_text(&filtered, "filtered list");
    assert_eq!(filtered.body.matches(r#"<tr class="message">"#).count(), 1);
    assert!(filtered.body.contains("selected>"), "the filter shows its type");
    // The row's link leads to its page.
    let href = list
        .body
        .split(r#"<a href="/messages/"#)
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap();
    let message = dash.get(&format!("/messages/{href}"));
    only_text(&message, "message");
    assert!(
        message
            .body
            .contains("id&quot;&gt;&lt;script&gt;alert(&quot;id&quot;)&lt;/script&gt;")
    );
    assert!(message.body.contains("&lt;/pre&gt;&lt;script&gt;alert(&quot;content&quot;)&lt;/script&gt;&quot; onmouseover=&quot;x\u{1}\u{FFFD}"));
    assert!(
        message
            .body
            .contains("&lt;img src=x onerror=alert(&quot;error&quot;)&gt;")
    );
}

#[test]
fn dashboard_pages_page_through_long_lists() {
    let env = TestEnv::new();
    env.config("[routes]\nGood = \"noop\"\n");
    env.ok(&["init"]);
    let db = env.db();
    for i in 0..120 {
        db.execute(
            "INSERT INTO OutboxMessage (Id, Type, Content, OccuredOnUtc) VALUES (?1, 'Good', '{}', ?2)",
            rusqlite::params![
                format!("id-{i:03}"),
                format!("2024-03-01 17:{:02}:{:02}", i / 60, i % 60)
            ],
        )
        .unwrap();
    }
    let dash = Dash::start(env, &[], None);
    let p1 = dash.get("/messages?state=unprocessed");
    assert!(p1.body.contains("page 1 of 3") && p1.body.contains("id-000") && !p1.body.contains("id-050"));
    assert!(p1.body.contains("page=2"));
    let p3 = dash.get("/messages?state=unprocessed&page=3");
    assert_eq!(p3.body.matches(r#"<tr class="message">"#).count(), 20);
    assert!(p3.body.contains("id-119") && !p3.body.contains("id-099"));
    assert!(p3.body.contains("page=2") && !p3.body.contains("page=4"));
    // A page far past the end is empty, not page 1 again and not a crash.
    for far in ["1000", &usize::MAX.to_string()] {
        let r = dash.get(&format!("/messages?state=unprocessed&page={far}"));
        assert_eq!(r.status, 200, "{far}");
        assert_eq!(r.body.matches(r#"<tr class="message">"#).count(), 0, "{far}");
    }
}

/// A key with markup in it, to show that keys are escaped like every other value.
const BAD_KEY: &str = r#"<script>alert("key")</script>"#;

/// Emits a message with an ordering key at `now`; returns its id.
fn emit_keyed(env: &TestEnv, now: &str, ty: &str, key: &str) -> String {
    env.json_at(now, &["emit", "event", ty, "{}", "--key", key])["emitted"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Two blocked keys at NOW: BAD_KEY held by a dead Broken message (2 waiting behind it), and
/// "order-2" by a retrying one (1 waiting). Ok messages go to a handler that notes their ids in
/// `received`. Returns the ids: (BAD_KEY's [head, 2nd, 3rd], order-2's [head, 2nd]).
fn blocked_fixture() -> (TestEnv, Vec<String>, Vec<String>) {
    let env = TestEnv::new();
    env.write("handler.sh", "echo \"$OUTBOX_MESSAGE_ID\" >> received\n");
    env.config(
        r#"
[retry]
max_attempts = 2
backoff = "1h"
max_backoff = "1h"

[routes]
Ok = "h"
Broken = "broken"

[sinks.h]
kind = "exec"
command = ["/bin/sh", "handler.sh"]

[sinks.broken]
kind = "exec"
command = ["/bin/sh", "-c", "echo '<img src=x onerror=alert(1)> refused' >&2; exit 1"]
"#,
    );
    // Backoffs are 30 to 60 minutes (jitter): two hours apart, the second attempt is due.
    let a = vec![
        emit_keyed(&env, "2024-03-01 13:00:01", "Broken", BAD_KEY),
        emit_keyed(&env, "2024-03-01 13:00:02", "Ok", BAD_KEY),
        emit_keyed(&env, "2024-03-01 13:00:03", "Ok", BAD_KEY),
    ];
    env.drain(Some("2024-03-01 13:00:10"), &[]);
    env.drain(Some("2024-03-01 15:00:10"), &[]);
    let b = vec![
        emit_keyed(&env, "2024-03-01 17:00:01", "Broken", "order-2"),
        emit_keyed(&env, "2024-03-01 17:00:02", "Ok", "order-2"),
    ];
    let unkeyed = env.emit_at("2024-03-01 17:00:03", "Ok");
    assert_eq!(env.drain(Some("2024-03-01 17:00:10"), &[]), 1);
    assert_eq!(env.read("received").lines().collect::<Vec<_>>(), [unkeyed]);
    let v = env.json_at(NOW, &["list", "--blocked"]);
    let heads: Vec<(&str, &str)> = v["blocked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["head"]["id"].as_str().unwrap(),
                k["head"]["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        heads,
        [(a[0].as_str(), "dead"), (b[0].as_str(), "retrying")],
        "{v:#}"
    );
    (env, a, b)
}

/// The rows of the blocked-keys table, in order.
fn blocked_rows(body: &str) -> Vec<&str> {
    body.split(r#"<tr class="blocked">"#)
        .skip(1)
        .map(|row| row.split("</tr>").next().unwrap())
        .collect()
}

#[test]
fn dashboard_lists_blocked_keys_and_shows_what_a_message_waits_behind() {
    let (env, a, b) = blocked_fixture();
    let dash = Dash::start(env, &[], Some(TOKEN));
    let escaped_key = "&lt;script&gt;alert(&quot;key&quot;)&lt;/script&gt;";
    // Only the page's own script tag: the key is text.
    let only_text = |r: &Resp, page: &str| {
        assert_eq!(r.status, 200, "{page}: {r:?}");
        assert_eq!(r.body.matches("<script").count(), 1, "{page}:\n{}", r.body);
        assert_escaped(r);
    };

    // The overview counts them and links to the page; so does the navigation.
    let r = dash.get("/");
    assert!(
        r.body.contains(r#"<a class="card warn" href="/blocked">"#)
            && r.body.contains(r#"id="stat-blocked">2<"#),
        "{}",
        r.body
    );
    assert!(r.body.contains(r#"<a href="/blocked">Blocked keys</a>"#));

    let r = dash.get("/blocked");
    only_text(&r, "blocked");
    assert!(r.body.contains(r#"<span id="count">2 blocked keys</span>"#));
    assert!(r.body.contains("page 1 of 1"));
    let rows = blocked_rows(&r.body);
    assert_eq!(rows.len(), 2, "{}", r.body);
    // Oldest head first: the dead one, 2 waiting, its error escaped.
    for (row, key, waiting, head, state) in [
        (rows[0], escaped_key, 2, &a[0], "dead"),
        (rows[1], "order-2", 1, &b[0], "retrying"),
    ] {
        assert!(row.contains(&format!("<code>{key}</code>")), "{row}");
        assert!(
            row.contains(&format!(r#"<td class="num waiting">{waiting}</td>"#)),
            "{row}"
        );
        assert!(
            row.contains(&format!(r#"<a href="/messages/{head}"><code>{head}</code></a>"#)),
            "{row}"
        );
        assert!(
            row.contains(&format!(r#"<span class="state {state}">{state}</span>"#)),
            "{row}"
        );
        assert!(
            row.contains("&lt;img src=x onerror=alert(1)&gt; refused"),
            "{row}"
        );
        assert!(!row.contains("/actions/"), "no forms without a login: {row}");
    }
    assert!(rows[0].contains(r#"<td class="num">2</td>"#), "2 attempts");
    assert!(r.body.contains("with the token to retry or skip"));
    // Waiting messages are not heads.
    assert!(!r.body.contains(&a[1]) && !r.body.contains(&b[1]));

    // Logged in, each row has a retry and a skip form for its head, coming back here.
    let (cookie, csrf) = dash.login();
    let r = dash.get_with("/blocked", &[("Cookie", &cookie)]);
    let rows = blocked_rows(&r.body);
    for (row, head) in [(rows[0], &a[0]), (rows[1], &b[0])] {
        for action in ["retry", "skip"] {
            let form = row
                .split(&format!(r#"<form method="post" action="/actions/{action}">"#))
                .nth(1)
                .unwrap_or_else(|| panic!("a {action} form in {row}"));
            let form = form.split("</form>").next().unwrap();
            assert!(
                form.contains(&format!(r#"name="csrf" value="{csrf}""#))
                    && form.contains(&format!(r#"name="id" value="{head}""#))
                    && form.contains(r#"name="back" value="/blocked""#),
                "{form}"
            );
        }
    }

    // A waiting message's page: its key, and the message it waits behind, linked.
    let r = dash.get_with(&format!("/messages/{}", a[2]), &[("Cookie", &cookie)]);
    only_text(&r, "waiting message");
    assert!(
        r.body
            .contains(&format!(r#"<code id="ordering-key">{escaped_key}</code>"#)),
        "{}",
        r.body
    );
    assert!(
        r.body.contains(&format!(
            r#"<a id="blocked-by" href="/messages/{0}"><code>{0}</code></a> <span class="state dead">dead</span>"#,
            a[0]
        )),
        "{}",
        r.body
    );
    // It is pending: retry, but no skip.
    assert!(r.body.contains(r#"id="retry""#) && !r.body.contains("/actions/skip"));
    // The head's page: its key, nothing it waits behind, and both actions.
    for head in [&a[0], &b[0]] {
        let r = dash.get_with(&format!("/messages/{head}"), &[("Cookie", &cookie)]);
        assert!(r.body.contains(r#"id="ordering-key""#), "{}", r.body);
        assert!(!r.body.contains("blocked-by"), "{}", r.body);
        assert!(
            r.body.contains(r#"<form method="post" action="/actions/skip">"#)
                && r.body.contains(r#"id="skip""#),
            "{}",
            r.body
        );
    }
    // An unkeyed message has no key row.
    let processed = dash.env.json_at(NOW, &["list", "--processed"]);
    let unkeyed = processed["messages"][0]["id"].as_str().unwrap();
    let r = dash.get(&format!("/messages/{unkeyed}"));
    assert!(r.status == 200 && !r.body.contains("Ordering key"), "{}", r.body);
}

#[test]
fn dashboard_skips_a_blocked_head_with_the_token_and_the_key_moves_on() {
    let (env, a, b) = blocked_fixture();
    let dash = Dash::start(env, &[], Some(TOKEN));
    let port = dash.port.to_string();
    let not_skipped = |why: &str| {
        assert!(dash.env.show(&a[0])["skipped_on"].is_null(), "{why}");
        assert_eq!(dash.stats()["blocked_keys"], 2, "{why}");
    };
    let body = format!("id={}&confirm=yes&back=%2Fblocked", a[0]);

    // Refused: GET, no token, a wrong token, a forged cookie, no or a wrong CSRF field, cross-site.
    let r = dash.get("/actions/skip");
    assert_eq!((r.status, r.header("allow")), (405, Some("POST")));
    assert_eq!(dash.post("/actions/skip", &[], &body).status, 401);
    let r = dash.post(
        "/actions/skip",
        &[("Authorization", "Bearer wrong-token-0123456789")],
        &body,
    );
    assert_eq!(r.status, 401);
    let forged = format!("outboxctl_session_{port}=0123");
    assert_eq!(
        dash.post("/actions/skip", &[("Cookie", &forged)], &body).status,
        401
    );
    let (cookie, csrf) = dash.login();
    let r = dash.post("/actions/skip", &[("Cookie", &cookie)], &body);
    assert!(r.status == 403 && r.body.contains("CSRF"), "{r:?}");
    let r = dash.post(
        "/actions/skip",
        &[("Cookie", &cookie)],
        &format!("{body}&csrf=0000"),
    );
    assert_eq!(r.status, 403);
    let r = dash.post(
        "/actions/skip",
        &[("Cookie", &cookie), ("Origin", "http://evil.example")],
        &format!("{body}&csrf={csrf}"),
    );
    assert_eq!(r.status, 403);
    let auth = format!("Bearer {TOKEN}");
    let r = dash.post(
        "/actions/skip",
        &[("Authorization", &auth), ("Sec-Fetch-Site", "cross-site")],
        &body,
    );
    assert_eq!(r.status, 403);
    assert_eq!(dash.bearer("/actions/skip", "confirm=yes").status, 400, "no id");
    not_skipped("every refused post left it alone");
    assert_eq!(dash.env.drain(Some(NOW), &[]), 0, "the key is still held");

    // With the session: a confirmation counted by a dry run, which changes nothing...
    let origin = format!("http://127.0.0.1:{port}");
    let headers = [("Cookie", cookie.as_str()), ("Origin", origin.as_str())];
    let r = dash.post(
        "/actions/skip",
        &headers,
        &format!("csrf={csrf}&id={}&back=%2Fblocked", a[0]),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert!(
        r.body.contains(&format!("Skip message {} now?", a[0])),
        "{}",
        r.body
    );
    assert!(r.body.contains(r#"name="confirm" value="yes""#) && r.body.contains(r#"id="confirm""#));
    assert!(r.body.contains(&format!(r#"name="id" value="{}""#, a[0])));
    not_skipped("a confirmation page changes nothing");

    // ... then the skip, and back to the blocked keys with a notice.
    let r = dash.post("/actions/skip", &headers, &format!("{body}&csrf={csrf}"));
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/blocked?notice=skipped-1")),
        "{r:?}"
    );
    let shown = dash.env.show(&a[0]);
    assert_eq!(shown["skipped_on"], "2024-03-01T17:40:00Z", "{shown:#}");
    assert_eq!(dash.stats()["blocked_keys"], 1);
    let r = dash.get_with("/blocked?notice=skipped-1", &[("Cookie", &cookie)]);
    assert!(
        r.body
            .contains("Skipped 1 message: the later messages of its key go on."),
        "{}",
        r.body
    );
    let rows = blocked_rows(&r.body);
    assert_eq!(rows.len(), 1, "{}", r.body);
    assert!(rows[0].contains(&b[0]) && !r.body.contains(&a[0]), "{}", r.body);

    // The skipped head's page says so and offers no second skip.
    let r = dash.get_with(&format!("/messages/{}", a[0]), &[("Cookie", &cookie)]);
    assert!(r.body.contains("Skipped (UTC)") && r.body.contains("2024-03-01 17:40:00"));
    assert!(!r.body.contains("/actions/skip"), "{}", r.body);
    // Skipping it again: nothing to do.
    let r = dash.bearer("/actions/skip", &format!("id={}", a[0]));
    assert!(r.body.contains("Nothing to do.") && !r.body.contains(r#"id="confirm""#));

    // The key moves on: its next two messages are delivered, in order.
    dash.env.drain(Some(NOW), &[]);
    let received = dash.env.read("received");
    let received: Vec<&str> = received.lines().collect();
    assert_eq!(&received[1..], [a[1].as_str(), a[2].as_str()], "{received:?}");
    assert!(!received.contains(&b[1].as_str()), "order-2 is still held");
}

#[test]
fn dashboard_pages_through_many_blocked_keys() {
    let env = TestEnv::new();
    env.config("[routes]\nGood = \"noop\"\n");
    env.ok(&["init"]);
    let db = env.db();
    // 55 keys, each held by a failing message.
    for i in 0..55 {
        db.execute(
            "INSERT INTO OutboxMessage (Id, Type, Content, OccuredOnUtc, Error, Attempts, OrderingKey) \
             VALUES (?1, 'Good', '{}', ?2, 'boom', 1, ?3)",
            rusqlite::params![
                format!("id-{i:03}"),
                format!("2024-03-01 17:{:02}:{:02}", i / 60, i % 60),
                format!("key-{i:03}")
            ],
        )
        .unwrap();
    }
    let dash = Dash::start(env, &[], None);
    let p1 = dash.get("/blocked");
    assert_eq!(blocked_rows(&p1.body).len(), 50);
    assert!(p1.body.contains("55 blocked keys") && p1.body.contains("page 1 of 2"));
    assert!(p1.body.contains("key-000") && !p1.body.contains("key-050"));
    assert!(p1.body.contains(r#"href="/blocked?page=2""#));
    let p2 = dash.get("/blocked?page=2");
    assert_eq!(blocked_rows(&p2.body).len(), 5);
    assert!(p2.body.contains("key-054") && !p2.body.contains("key-049"));
    assert!(p2.body.contains(r#"href="/blocked?page=1""#) && !p2.body.contains("page=3"));
    // A page past the end, or one too large to count rows for, shows the last page.
    for page in ["9", "18446744073709551615"] {
        let r = dash.get(&format!("/blocked?page={page}"));
        assert_eq!(r.status, 200, "{page}");
        assert!(r.body.contains("page 2 of 2"), "{page}");
    }
}

#[test]
fn dashboard_refuses_foreign_hosts_and_unauthenticated_or_cross_site_actions() {
    let dash = Dash::start(prepared(), &["--allow-host", "outbox.internal"], Some(TOKEN));
    let port = dash.port.to_string();

    // DNS rebinding: a page of evil.example resolved to 127.0.0.1 sends Host: evil.example.
    for host in [
        "evil.example",
        &format!("evil.example:{port}"),
        "127.0.0.1.evil.example",
    ] {
        assert_eq!(dash.get_with("/", &[("Host", host)]).status, 403, "{host}");
    }
    for host in [
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        "outbox.internal".into(),
    ] {
        assert_eq!(dash.get_with("/", &[("Host", &host)]).status, 200, "{host}");
    }

    // Actions: GET is 405, no token 401, a wrong token 401.
    for action in ["retry", "retry-failed", "retry-dead", "purge", "skip"] {
        let r = dash.get(&format!("/actions/{action}"));
        assert_eq!((r.status, r.header("allow")), (405, Some("POST")), "{action}");
        let r = dash.post(
            &format!("/actions/{action}"),
            &[],
            "confirm=yes&older_than=1s&id=x",
        );
        assert_eq!(r.status, 401, "{action}");
    }
    let r = dash.post(
        "/actions/retry-dead",
        &[("Authorization", "Bearer wrong-token-0123456789")],
        "confirm=yes",
    );
    assert_eq!(r.status, 401);
    assert_eq!(dash.bearer("/actions/nope", "").status, 404);

    // Cross-site: a foreign Origin, or Sec-Fetch-Site: cross-site, even with the token.
    let auth = format!("Bearer {TOKEN}");
    let r = dash.post(
        "/actions/retry-dead",
        &[("Authorization", &auth), ("Origin", "http://evil.example")],
        "confirm=yes",
    );
    assert_eq!(r.status, 403);
    let r = dash.post(
        "/actions/retry-dead",
        &[("Authorization", &auth), ("Sec-Fetch-Site", "cross-site")],
        "confirm=yes",
    );
    assert_eq!(r.status, 403);

    // A session without the CSRF field, or with a wrong one, is refused.
    let (cookie, csrf) = dash.login();
    let r = dash.post("/actions/retry-dead", &[("Cookie", &cookie)], "confirm=yes");
    assert_eq!(r.status, 403, "{r:?}");
    assert!(r.body.contains("CSRF"));
    let r = dash.post(
        "/actions/retry-dead",
        &[("Cookie", &cookie)],
        "confirm=yes&csrf=0000",
    );
    assert_eq!(r.status, 403);
    assert_eq!(dash.stats()["dead"], 1, "nothing happened");

    // A wrong login token is 401; a forged cookie is no session.
    assert_eq!(dash.post("/login", &[], "token=guess&next=%2F").status, 401);
    let forged = format!("outboxctl_session_{port}=0123");
    assert_eq!(
        dash.post("/actions/retry-dead", &[("Cookie", &forged)], "confirm=yes")
            .status,
        401
    );

    // With the session and its CSRF field, from the same origin: a confirmation first...
    let origin = format!("http://127.0.0.1:{port}");
    let headers = [("Cookie", cookie.as_str()), ("Origin", origin.as_str())];
    let r = dash.post("/actions/retry-dead", &headers, &format!("csrf={csrf}&back=%2F"));
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Retry all 1 dead messages now"), "{}", r.body);
    assert!(r.body.contains(r#"name="confirm" value="yes""#));
    assert_eq!(dash.stats()["dead"], 1, "a confirmation page changes nothing");
    // ... then the action, and back where the user came from.
    let r = dash.post(
        "/actions/retry-dead",
        &headers,
        &format!("csrf={csrf}&back=%2F&confirm=yes"),
    );
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/?notice=retried-1"))
    );
    assert_eq!(dash.stats()["dead"], 0);
    let r = dash.get_with("/?notice=retried-1", &[("Cookie", &cookie)]);
    assert!(r.body.contains("Retried 1 message: due now."));
    // A notice is a fixed text, never reflected input.
    assert!(!dash.get("/?notice=%3Cscript%3E-1").body.contains("id=\"notice\""));

    // Open redirects are not followed.
    // (the message just brought back from dead still has its error: it is failing now.)
    let r = dash.bearer("/actions/retry-failed", "confirm=yes&back=%2F%2Fevil.example%2F");
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/?notice=retried-3"))
    );

    // Logout ends the session.
    let r = dash.post("/logout", &[("Cookie", &cookie)], &format!("csrf={csrf}"));
    assert_eq!(r.status, 303);
    assert_eq!(
        dash.post(
            "/actions/retry-dead",
            &[("Cookie", &cookie)],
            &format!("csrf={csrf}&confirm=yes")
        )
        .status,
        401
    );
}

/// Behind a TLS reverse proxy the browser sends `Origin: https://NAME` while the proxy forwards
/// `Host: NAME` over plain HTTP: logging in and acting work with either scheme; a foreign origin
/// is still refused.
#[test]
fn dashboard_accepts_its_own_origin_over_http_and_https() {
    let name = "outbox.example.internal";
    let dash = Dash::start(prepared(), &["--allow-host", name], Some(TOKEN));
    // Foreign origins, whatever the scheme, with a valid session and CSRF field.
    let (cookie, csrf) = dash.login_with(&[("Host", name)]);
    for origin in [
        "https://evil.example",
        "http://evil.example",
        &format!("https://{name}.evil.example"),
        &format!("https://{name}:8443"),
        &format!("ftp://{name}"),
        "null",
    ] {
        let headers = [("Host", name), ("Origin", origin), ("Cookie", cookie.as_str())];
        let r = dash.post("/login", &headers, &format!("token={TOKEN}&next=%2F"));
        assert_eq!(r.status, 403, "login from {origin}");
        let r = dash.post(
            "/actions/retry-dead",
            &headers,
            &format!("csrf={csrf}&confirm=yes"),
        );
        assert_eq!(r.status, 403, "action from {origin}");
    }
    assert_eq!(dash.stats()["dead"], 1, "the foreign posts retried nothing");

    // Its own name, over https (the proxy) and http (direct): log in, retry, log out.
    let id = dead_id(&dash.env);
    for scheme in ["https", "http"] {
        let origin = format!("{scheme}://{name}");
        let headers = [
            ("Host", name),
            ("Origin", origin.as_str()),
            ("Sec-Fetch-Site", "same-origin"),
        ];
        let (cookie, csrf) = dash.login_with(&headers);
        let with_cookie = [headers[0], headers[1], headers[2], ("Cookie", cookie.as_str())];
        let r = dash.post(
            "/actions/retry",
            &with_cookie,
            &format!("csrf={csrf}&id={id}&confirm=yes&back=%2F"),
        );
        assert_eq!(
            (r.status, r.header("location")),
            (303, Some("/?notice=retried-1")),
            "{scheme}: {r:?}"
        );
        let r = dash.post("/logout", &with_cookie, &format!("csrf={csrf}"));
        assert_eq!(r.status, 303, "{scheme}: {r:?}");
    }
    assert_eq!(dash.stats()["dead"], 0);
}

#[test]
fn dashboard_actions_retry_one_and_purge_with_the_token() {
    let dash = Dash::start(prepared(), &[], Some(TOKEN));
    let id = dead_id(&dash.env);
    let r = dash.bearer("/actions/retry", &format!("id={id}"));
    assert_eq!(r.status, 200);
    assert!(r.body.contains(&format!("Retry message {id} now?")));
    let r = dash.bearer(
        "/actions/retry",
        &format!("id={id}&confirm=yes&back=%2Fmessages%2F{id}"),
    );
    assert_eq!(r.status, 303);
    assert_eq!(
        r.header("location"),
        Some(format!("/messages/{id}?notice=retried-1").as_str())
    );
    let shown = dash.env.json_at(NOW, &["show", &id]);
    assert!(shown["dead_on"].is_null(), "{shown:#}");
    assert_eq!(dash.bearer("/actions/retry", "confirm=yes").status, 400, "no id");

    // Purge: processed at 12:00, now 17:40. Older than 6h: none; older than 1h: all three.
    let r = dash.bearer("/actions/purge", "older_than=6h&confirm=yes");
    assert_eq!(r.header("location"), Some("/?notice=purged-0"));
    let r = dash.bearer("/actions/purge", "older_than=1h");
    assert!(
        r.body
            .contains("Delete 3 processed messages processed more than 1h ago?"),
        "{}",
        r.body
    );
    assert_eq!(dash.stats()["processed"], 3);
    let r = dash.bearer("/actions/purge", "older_than=1h&confirm=yes");
    assert_eq!(r.header("location"), Some("/?notice=purged-3"));
    let s = dash.stats();
    assert_eq!(
        (&s["processed"], &s["total"]),
        (&Value::from(0), &Value::from(4)),
        "unprocessed rows stay"
    );
    assert_eq!(
        dash.bearer("/actions/purge", "older_than=soon&confirm=yes")
            .status,
        400
    );

    // Each action that changed something (confirmations and refusals did not) is in the audit
    // trail, as the dashboard's, on its page and for `outboxctl audit`.
    let trail = dash.env.json(&["audit"]);
    let actions: Vec<(&str, &str, u64)> = trail["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
                e["messages"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            ("dashboard", "purge", 3),
            ("dashboard", "purge", 0),
            ("dashboard", "retry", 1)
        ],
        "{trail}"
    );
    assert_eq!(trail["entries"][2]["command"], format!("dashboard retry {id}"));
    assert_eq!(trail["entries"][0]["command"], "dashboard purge older than 1h");
    let page = dash.get("/audit");
    assert_eq!(page.status, 200);
    assert_eq!(page.body.matches(r#"<tr class="audit">"#).count(), 3);
    assert!(page.body.contains(&format!(r#"href="/messages/{id}""#)));
    assert_escaped(&page);
}

#[test]
fn dashboard_read_only_and_tokenless_modes_refuse_actions() {
    let dash = Dash::start(prepared(), &["--read-only"], Some(TOKEN));
    let page = dash.get("/");
    assert!(
        page.body.contains("read-only") && !page.body.contains("/actions/"),
        "no action forms"
    );
    let r = dash.bearer("/actions/retry-dead", "confirm=yes");
    assert_eq!(r.status, 403);
    assert!(r.body.contains("read-only"));
    assert_eq!(dash.stats()["dead"], 1);
    let id = dead_id(&dash.env);
    for page in ["/blocked".to_owned(), format!("/messages/{id}")] {
        let r = dash.get_with(&page, &[("Authorization", &format!("Bearer {TOKEN}"))]);
        assert!(
            r.status == 200 && !r.body.contains("/actions/"),
            "no action forms on {page}"
        );
    }
    let r = dash.bearer("/actions/skip", &format!("id={id}&confirm=yes"));
    assert_eq!(r.status, 403);
    assert!(r.body.contains("read-only"));
    assert!(dash.env.show(&id)["skipped_on"].is_null(), "not skipped");
    drop(dash);

    // On loopback without a token the pages work and the actions are off.
    let dash = Dash::start(prepared(), &[], None);
    assert_eq!(dash.get("/").status, 200);
    assert_eq!(dash.post("/actions/retry-dead", &[], "confirm=yes").status, 403);
    let id = dead_id(&dash.env);
    let r = dash.post("/actions/skip", &[], &format!("id={id}&confirm=yes"));
    assert!(r.status == 403 && r.body.contains("actions are off"), "{r:?}");
    assert!(dash.env.show(&id)["skipped_on"].is_null(), "not skipped");
    assert_eq!(dash.post("/login", &[], "token=x").status, 403);
}

#[test]
fn dashboard_off_loopback_needs_a_token_for_every_page() {
    let env = prepared();
    let port = free_port();
    let listen = format!("0.0.0.0:{port}");
    let line = env.fails(&["dashboard", "--listen", &listen], 2);
    assert!(line.contains("needs a token"), "{line}");
    env.write("short", "abc\n");
    let line = env.fails(&["dashboard", "--token-file", "short"], 2);
    assert!(line.contains("at least 16"), "{line}");

    env.write("token", &format!("{TOKEN}\n"));
    let dash = Dash::start_on(env, "0.0.0.0", &["--token-file", "token"], None);
    let r = dash.get("/messages?state=dead");
    assert_eq!(r.status, 303);
    assert_eq!(
        r.header("location"),
        Some("/login?next=%2Fmessages%3Fstate%3Ddead")
    );
    assert_eq!(dash.get("/login").status, 200);
    let (cookie, _) = dash.login();
    assert_eq!(
        dash.get_with("/messages?state=dead", &[("Cookie", &cookie)])
            .status,
        200
    );
    let auth = format!("Bearer {TOKEN}");
    assert_eq!(dash.get_with("/", &[("Authorization", &auth)]).status, 200);
}

// ---------------------------------------------------------------------------------------------
// The dashboard in a real browser

#[test]
fn dashboard_end_to_end_in_headless_chromium() {
    use headless_chrome::{Browser, LaunchOptions};
    let chromium = PathBuf::from("/usr/bin/chromium");
    if !chromium.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have Chromium (.ci/run installs it)"
        );
        eprintln!("skipped: /usr/bin/chromium is missing (apt-get install chromium chromium-driver)");
        return;
    }
    let dash = Dash::start(prepared(), &[], Some(TOKEN));
    let base = format!("http://127.0.0.1:{}", dash.port);
    let profile = tempfile::tempdir().unwrap();
    let args: Vec<&std::ffi::OsStr> = [
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    .iter()
    .map(std::ffi::OsStr::new)
    .collect();
    let browser = Browser::new(
        LaunchOptions::default_builder()
            .path(Some(chromium))
            .headless(true)
            .sandbox(false)
            .user_data_dir(Some(profile.path().to_path_buf()))
            .window_size(Some((1280, 1000)))
            .args(args)
            .idle_browser_timeout(Duration::from_secs(120))
            .build()
            .unwrap(),
    )
    .expect("start Chromium");
    let tab = browser.new_tab().unwrap();
    let text = |sel: &str| tab.wait_for_element(sel).unwrap().get_inner_text().unwrap();

    // The overview shows the numbers.
    tab.navigate_to(&format!("{base}/"))
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    assert_eq!(text("#stat-dead"), "1");
    assert_eq!(text("#stat-retrying"), "2");
    assert_eq!(text("#stat-processed"), "3");
    assert_eq!(text("#chart-failed"), "2");

    // Log in with the token, open the dead list and the message.
    tab.navigate_to(&format!("{base}/login?next=%2Fmessages%3Fstate%3Ddead"))
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    tab.wait_for_element("#token").unwrap().click().unwrap();
    tab.type_str(TOKEN).unwrap();
    tab.wait_for_element("#login").unwrap().click().unwrap();
    tab.wait_until_navigated().unwrap();
    assert_eq!(text("#count"), "1 messages");
    assert!(
        text("#messages").contains("Bad<script>alert('type')</script>"),
        "shown as text"
    );
    tab.wait_for_element("tr.message a").unwrap().click().unwrap();
    tab.wait_until_navigated().unwrap();
    assert!(
        text("#content").contains("<script>alert('content')</script>"),
        "content as text"
    );

    // Retry it: a confirmation, then the list changes.
    tab.wait_for_element("#retry").unwrap().click().unwrap();
    tab.wait_until_navigated().unwrap();
    assert!(text("#question").starts_with("Retry message"));
    tab.wait_for_element("#confirm").unwrap().click().unwrap();
    tab.wait_until_navigated().unwrap();
    assert_eq!(text("#notice"), "Retried 1 message: due now.");
    tab.navigate_to(&format!("{base}/messages?state=dead"))
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    assert_eq!(text("#count"), "0 messages");
    assert!(tab.find_element("#empty").is_ok());
    assert_eq!(dash.stats()["dead"], 0);

    // The overview, for a person to look at.
    tab.navigate_to(&format!("{base}/?range=24h"))
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    assert_eq!(text("#stat-dead"), "0");
    // It refreshes by itself: a message emitted meanwhile shows up without a reload.
    assert_eq!(text("#stat-pending"), "1");
    dash.env.emit_at(NOW, "Later");
    wait_until("the overview refreshed itself", Duration::from_secs(60), || {
        text("#stat-pending") == "2"
    });
    let png = tab
        .capture_screenshot(
            headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption::Png,
            None,
            None,
            true,
        )
        .unwrap();
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("..")
        .join("dashboard-e2e.png");
    std::fs::write(&out, png).unwrap();
    eprintln!("screenshot: {}", out.display());
}

// ---------------------------------------------------------------------------------------------
// The man page

/// Fails when man/ is stale; `UPDATE_MAN=1 cargo test --test ops man_page` rewrites it.
#[test]
fn man_page_is_generated_and_checked_in() {
    use clap::CommandFactory;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("man");
    let cmd = outboxctl::cli::Cli::command();
    let mut pages = vec![("outboxctl.1".to_owned(), render_man(cmd.clone()))];
    for sub in cmd.get_subcommands() {
        // clap takes 'static names; a few bytes leaked in a test are fine.
        let name: &'static str = Box::leak(format!("outboxctl-{}", sub.get_name()).into_boxed_str());
        pages.push((format!("{name}.1"), render_man(sub.clone().name(name))));
    }
    if std::env::var_os("UPDATE_MAN").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for (file, text) in &pages {
            std::fs::write(dir.join(file), text).unwrap();
        }
    }
    for (file, text) in &pages {
        let have = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
        assert!(
            have == *text,
            "man/{file} is stale: run `UPDATE_MAN=1 cargo test --test ops man_page` and commit man/"
        );
    }
    let top = &pages[0].1;
    for sub in ["health", "dashboard", "stats"] {
        assert!(top.contains(sub), "the top page lists {sub}");
    }
}

fn render_man(cmd: clap::Command) -> String {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}
