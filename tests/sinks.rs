//! The network sinks against real servers on this machine: a webhook server started by each
//! test, Redis at 127.0.0.1:6379, NATS with JetStream at 127.0.0.1:4222, RabbitMQ at
//! 127.0.0.1:5672 (guest/guest), Mosquitto (MQTT 5) at 127.0.0.1:1883 and tansu (Kafka) at
//! 127.0.0.1:9092. `.ci/services` starts them. Every test uses its own database, stream, key,
//! queue or topic, so they run in parallel.
#![allow(dead_code, unused_imports)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// The outboxctl binary on a temporary database.

struct Env {
    dir: tempfile::TempDir,
    vars: Vec<(String, String)>,
}

impl Env {
    fn new(config: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("outboxctl.toml"), config).unwrap();
        Env {
            dir,
            vars: Vec::new(),
        }
    }

    fn var(mut self, name: &str, value: &str) -> Self {
        self.vars.push((name.into(), value.into()));
        self
    }

    fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("outboxctl").unwrap();
        c.current_dir(self.dir.path())
            .env_remove("OUTBOX_DATABASE")
            .env_remove("OUTBOX_CONFIG")
            .env_remove("OUTBOX_FORMAT")
            .env_remove("OUTBOX_LOG")
            .env_remove("OUTBOX_NOW")
            .env_remove("OUTBOX_TABLE")
            .env("NO_COLOR", "1")
            .timeout(Duration::from_secs(120));
        for (k, v) in &self.vars {
            c.env(k, v);
        }
        c
    }

    /// Runs a command with `--format json`, checks that it succeeded and parses what it printed.
    fn json(&self, args: &[&str]) -> Value {
        let out = self.cmd().args(["--format", "json"]).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn emit(&self, ty: &str, content: &str) -> String {
        self.json(&["emit", "event", ty, content])["emitted"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// An event emitted with the W3C trace context [`TRACEPARENT`] and `tracestate` `vendor=1`.
    fn emit_traced(&self, ty: &str, content: &str) -> String {
        self.json(&[
            "emit",
            "event",
            ty,
            content,
            "--traceparent",
            TRACEPARENT,
            "--tracestate",
            "vendor=1",
        ])["emitted"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// `emit user-registered --count n`: n UserRegistered messages in one go.
    fn emit_users(&self, n: usize) {
        let out = self
            .cmd()
            .args(["-q", "emit", "user-registered", "--count", &n.to_string()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "emit: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The ids `list` shows with these options (e.g. `--processed`), at most 1000.
    fn list_ids(&self, options: &[&str]) -> Vec<String> {
        let args = [&["list", "--limit", "1000"], options].concat();
        self.json(&args)["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect()
    }

    /// `process-once --format json`: the batch report, and stderr (logs at trace level).
    fn process_logged(&self) -> (Value, String) {
        let out = self
            .cmd()
            .args(["--format", "json", "-vvv", "process-once", "--batch-size", "500"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "process-once: {stderr}");
        (serde_json::from_slice(&out.stdout).unwrap(), stderr)
    }

    fn process(&self) -> Value {
        self.process_logged().0
    }

    fn show(&self, id: &str) -> Value {
        self.json(&["show", id])
    }

    fn show_text(&self, id: &str) -> String {
        let out = self.cmd().args(["show", id]).output().unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs `process-once` until the message is processed (failed attempts wait out a tiny
    /// backoff), at most `tries` times.
    fn process_until_processed(&self, id: &str, tries: usize) -> Value {
        for _ in 0..tries {
            self.process();
            let m = self.show(id);
            if m["state"] == "processed" {
                return m;
            }
            std::thread::sleep(Duration::from_millis(30));
        }
        panic!("{id} not processed: {}", self.show(id));
    }
}

/// A W3C traceparent, as an application would write it.
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn unique(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

/// A port nothing listens on right now, below the kernel's ephemeral range so that no other
/// test's `bind(0)` or outgoing connection takes it before this test starts its server there.
fn free_port() -> u16 {
    loop {
        let port = 20_000 + (uuid::Uuid::new_v4().as_u128() % 12_000) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A child process killed when the test ends, passed or not.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn retry_fast() -> &'static str {
    "[retry]\nmax_attempts = 50\nbackoff = \"1ms\"\nmax_backoff = \"10ms\"\n"
}

/// Settings are checked when the config is loaded: a command naming no program used to send
/// every message dead at its first delivery.
#[test]
fn an_exec_sink_without_a_program_is_a_config_error() {
    let env = Env::new("[sinks.h]\nkind = \"exec\"\ncommand = []\n[routes]\n\"*\" = \"h\"\n");
    let out = env.cmd().arg("process-once").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sinks.h: command must name a program"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// A webhook receiver: records every request, answers from a script (then 200).

#[derive(Debug, Clone)]
struct Request {
    path: String,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
    /// When the request came in and when it was answered, on the receiver's event counter.
    started: usize,
    answered: usize,
}

struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

fn answer(status: u16) -> Answer {
    Answer {
        status,
        headers: Vec::new(),
        body: String::new(),
    }
}

#[derive(Clone, Default)]
struct Receiver {
    port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
    script: Arc<Mutex<Vec<Answer>>>,
    /// Answers for given `webhook-id`s, taken before the script, in order.
    by_id: Arc<Mutex<BTreeMap<String, Vec<Answer>>>>,
    /// How long each request takes to answer.
    delay: Duration,
    /// Requests being answered right now, and the most there ever were at once.
    active: Arc<AtomicUsize>,
    most_active: Arc<AtomicUsize>,
    /// Counts requests coming in and answers going out: their order, without clocks.
    events: Arc<AtomicUsize>,
}

impl Receiver {
    fn start(script: Vec<Answer>) -> Self {
        Self::start_on(TcpListener::bind("127.0.0.1:0").unwrap(), script)
    }

    fn start_on(listener: TcpListener, script: Vec<Answer>) -> Self {
        Self::serve_on(
            listener,
            Receiver {
                script: Arc::new(Mutex::new(script)),
                ..Receiver::default()
            },
        )
    }

    /// A receiver taking `delay` over each request, with answers for some ids (then 200).
    fn slow(delay: Duration, by_id: BTreeMap<String, Vec<Answer>>) -> Self {
        Self::serve_on(
            TcpListener::bind("127.0.0.1:0").unwrap(),
            Receiver {
                delay,
                by_id: Arc::new(Mutex::new(by_id)),
                ..Receiver::default()
            },
        )
    }

    /// Serves each connection on a thread of its own, so requests are answered concurrently.
    fn serve_on(listener: TcpListener, mut r: Receiver) -> Self {
        r.port = listener.local_addr().unwrap().port();
        let me = r.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let me = me.clone();
                std::thread::spawn(move || me.serve(stream));
            }
        });
        r
    }

    fn serve(&self, stream: TcpStream) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
        let mut headers = BTreeMap::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h).unwrap();
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (k, v) = h.split_once(':').unwrap();
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
        let len: usize = headers.get("content-length").map_or(0, |l| l.parse().unwrap());
        let mut body = vec![0; len];
        reader.read_exact(&mut body).unwrap();
        let started = self.events.fetch_add(1, Ordering::SeqCst);
        let now = self.active.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_active.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(self.delay);
        self.active.fetch_sub(1, Ordering::SeqCst);
        let answered = self.events.fetch_add(1, Ordering::SeqCst);
        let id = headers.get("webhook-id").cloned().unwrap_or_default();
        self.requests.lock().unwrap().push(Request {
            path,
            headers,
            body,
            started,
            answered,
        });
        let scripted = self
            .by_id
            .lock()
            .unwrap()
            .get_mut(&id)
            .filter(|answers| !answers.is_empty())
            .map(|answers| answers.remove(0));
        let a = scripted.unwrap_or_else(|| {
            let mut s = self.script.lock().unwrap();
            if s.is_empty() { answer(200) } else { s.remove(0) }
        });
        let mut out = format!(
            "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
            a.status,
            a.body.len()
        );
        for (k, v) in &a.headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str("\r\n");
        out.push_str(&a.body);
        let mut stream = stream;
        let _ = stream.write_all(out.as_bytes());
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }
}

// A test secret in the form Standard Webhooks issues (the one of its specification's examples).
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn http_config(url: &str, extra: &str) -> String {
    format!(
        "{}[sinks.web]\nkind = \"http\"\nurl = \"{url}\"\nsecret_env = \"TEST_WEBHOOK_SECRET\"\ntimeout = \"5s\"\n{extra}\n[routes]\n\"*\" = \"web\"\n",
        retry_fast()
    )
}

#[cfg(feature = "http")]
mod http {
    use super::*;

    fn verify(req: &Request) {
        let mut headers = ::http::HeaderMap::new();
        for (k, v) in &req.headers {
            headers.insert(
                ::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        standardwebhooks::Webhook::new(SECRET)
            .unwrap()
            .verify(&req.body, &headers)
            .expect("the signature verifies with the reference implementation");
    }

    #[test]
    fn webhooks_arrive_signed_with_the_outbox_id() {
        let rx = Receiver::start(vec![]);
        let env = Env::new(&http_config(&rx.url(), "headers = { X-Tenant = \"acme\" }"))
            .var("TEST_WEBHOOK_SECRET", SECRET);
        let a = env.emit_traced("OrderPlaced", r#"{"order":1}"#);
        let b = env.emit("UserRegistered", r#"{"email":"x@y.z"}"#);
        let report = env.process();
        assert_eq!(report["delivered"], 2);

        // One run, its requests concurrent: they may arrive in either order.
        let mut reqs = rx.requests();
        assert_eq!(reqs.len(), 2);
        reqs.sort_by_key(|r| r.headers["webhook-id"] != a);
        for (req, (id, ty)) in reqs.iter().zip([(&a, "OrderPlaced"), (&b, "UserRegistered")]) {
            assert_eq!(req.path, "/hook");
            assert_eq!(req.headers["webhook-id"], *id);
            assert_eq!(req.headers["x-tenant"], "acme");
            assert_eq!(req.headers["content-type"], "application/json");
            let body: Value = serde_json::from_slice(&req.body).unwrap();
            assert_eq!(body["id"], *id);
            assert_eq!(body["type"], ty);
            verify(req);
            // The trace context arrives unchanged; a message without one has none.
            let traced = *id == a;
            assert_eq!(
                req.headers.get("traceparent").map(String::as_str),
                traced.then_some(TRACEPARENT)
            );
            assert_eq!(
                req.headers.get("tracestate").map(String::as_str),
                traced.then_some("vendor=1")
            );
            assert_eq!(body.get("traceparent").is_some(), traced);
        }
        assert_eq!(env.show(&a)["state"], "processed");
    }

    #[test]
    fn a_replay_keeps_the_webhook_id_unless_asked_for_a_new_one_signed_either_way() {
        let rx = Receiver::start(vec![]);
        let env = Env::new(&http_config(&rx.url(), "")).var("TEST_WEBHOOK_SECRET", SECRET);
        let id = env.emit("OrderPlaced", r#"{"order":1}"#);
        assert_eq!(env.process()["delivered"], 1);
        assert_eq!(env.json(&["replay", "--id", &id, "--yes"])["delivered"], 1);
        let fresh = env.json(&["replay", "--id", &id, "--new-delivery-id", "--yes"]);
        assert_eq!(fresh["delivered"], 1);
        let reqs = rx.requests();
        assert_eq!(reqs.len(), 3);
        // The replay keeps the id: a receiver that deduplicates ignores it.
        assert_eq!(reqs[1].headers["webhook-id"], id);
        assert!(!reqs[1].headers.contains_key("outbox-id"));
        // A fresh delivery id, the message id beside it, the body's id unchanged.
        let new = &reqs[2].headers["webhook-id"];
        assert_ne!(new, &id);
        assert_eq!(reqs[2].headers["outbox-id"], id);
        let body: Value = serde_json::from_slice(&reqs[2].body).unwrap();
        assert_eq!(
            (body["id"].as_str(), body["delivery_id"].as_str()),
            (Some(id.as_str()), Some(new.as_str()))
        );
        for r in &reqs {
            verify(r);
        }
    }

    /// How many requests each `webhook-id` got.
    fn per_id(reqs: &[Request]) -> BTreeMap<String, usize> {
        let mut n = BTreeMap::new();
        for r in reqs {
            *n.entry(r.headers["webhook-id"].clone()).or_default() += 1;
        }
        n
    }

    #[test]
    fn webhooks_are_posted_concurrently_up_to_max_in_flight_each_once_runs_in_order() {
        let rx = Receiver::slow(Duration::from_millis(50), BTreeMap::new());
        let env = Env::new(&http_config(&rx.url(), "max_in_flight = 8")).var("TEST_WEBHOOK_SECRET", SECRET);
        env.emit_users(50);
        let report = env.process();
        assert_eq!(report["delivered"], 50, "{report}");
        assert_eq!(report["failed"], 0, "{report}");

        let reqs = rx.requests();
        let got = per_id(&reqs);
        assert_eq!(reqs.len(), 50);
        assert_eq!(got.len(), 50, "each message posted once");
        reqs.iter().for_each(verify);
        let most = rx.most_active.load(Ordering::SeqCst);
        assert!(most > 1, "requests overlapped: at most {most} at once");
        assert!(most <= 8, "{most} requests at once, above max_in_flight = 8");

        let processed = env.list_ids(&["--processed"]);
        assert_eq!(processed.len(), 50);
        assert!(processed.iter().all(|id| got.contains_key(id)));
        assert!(env.list_ids(&["--unprocessed"]).is_empty());

        // The relay sends the batch, in claim order (oldest first), in runs of max_in_flight;
        // runs follow one another: each starts once every request of the one before is answered.
        let mut in_claim_order = reqs.clone();
        in_claim_order.sort_by_cached_key(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            (
                body["occurred_on"].as_str().unwrap().to_owned(),
                r.headers["webhook-id"].clone(),
            )
        });
        let runs: Vec<&[Request]> = in_claim_order.chunks(8).collect();
        for pair in runs.windows(2) {
            let last_answer = pair[0].iter().map(|r| r.answered).max().unwrap();
            let first_start = pair[1].iter().map(|r| r.started).min().unwrap();
            assert!(
                first_start > last_answer,
                "a run started before the one before it was answered"
            );
        }
        // Nothing more arrives.
        env.process();
        assert_eq!(rx.requests().len(), 50);
    }

    #[test]
    fn in_a_concurrent_run_only_the_failed_webhooks_are_retried_each_with_its_outcome() {
        let rx = Receiver::slow(Duration::from_millis(10), BTreeMap::new());
        let env = Env::new(&http_config(&rx.url(), "")).var("TEST_WEBHOOK_SECRET", SECRET);
        env.emit_users(20);
        let ids = env.list_ids(&["--unprocessed"]);
        assert_eq!(ids.len(), 20);
        let (down, gone) = ([&ids[2], &ids[9], &ids[15]], &ids[5]);
        {
            let mut by_id = rx.by_id.lock().unwrap();
            for id in down {
                by_id.insert(
                    id.clone(),
                    vec![Answer {
                        status: 500,
                        headers: vec![],
                        body: format!("cannot take {id} now"),
                    }],
                );
            }
            by_id.insert(gone.clone(), vec![answer(422)]);
        }

        let report = env.process();
        assert_eq!(report["delivered"], 16, "{report}");
        assert_eq!(report["failed"], 3, "{report}");
        assert_eq!(report["dead"], 1, "{report}");
        for id in down {
            let m = env.show(id);
            assert_eq!(m["state"], "retrying", "{m}");
            let error = m["error"].as_str().unwrap();
            assert!(
                error.contains("500") && error.contains(&format!("cannot take {id}")),
                "each failure has its own answer: {error}"
            );
        }
        let m = env.show(gone);
        assert_eq!(m["state"], "dead", "{m}");
        assert!(m["error"].as_str().unwrap().contains("422"), "{m}");
        let processed = env.list_ids(&["--processed"]);
        assert_eq!(processed.len(), 16);
        assert!(processed.iter().all(|id| !down.contains(&id) && id != gone));

        for id in down {
            env.process_until_processed(id, 50);
        }
        let reqs = rx.requests();
        reqs.iter().for_each(verify);
        let got = per_id(&reqs);
        assert_eq!(got.len(), 20);
        for id in &ids {
            let want = if down.contains(&id) { 2 } else { 1 };
            assert_eq!(got[id], want, "requests for {id}");
        }
        assert_eq!(env.list_ids(&["--processed"]).len(), 19);
        assert!(rx.most_active.load(Ordering::SeqCst) <= 16, "the default is 16");
    }

    #[test]
    fn max_in_flight_out_of_range_is_a_config_error() {
        for n in [0, 257] {
            let env = Env::new(&http_config(
                "http://127.0.0.1:9/hook",
                &format!("max_in_flight = {n}"),
            ))
            .var("TEST_WEBHOOK_SECRET", SECRET);
            let out = env.cmd().arg("process-once").output().unwrap();
            assert_eq!(out.status.code(), Some(2));
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("sinks.web: max_in_flight must be 1 to 256"), "{err}");
            assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        }
    }

    #[test]
    fn a_500_is_retried_and_then_delivered_once_with_the_same_webhook_id() {
        let rx = Receiver::start(vec![Answer {
            status: 500,
            headers: vec![],
            body: "database unavailable".into(),
        }]);
        let env = Env::new(&http_config(&rx.url(), "")).var("TEST_WEBHOOK_SECRET", SECRET);
        let id = env.emit("OrderPlaced", r#"{"order":2}"#);
        let report = env.process();
        assert_eq!(report["failed"], 1);
        let m = env.show(&id);
        assert_eq!(m["state"], "retrying");
        assert!(m["error"].as_str().unwrap().contains("500"), "{m}");
        assert!(m["error"].as_str().unwrap().contains("database unavailable"));

        let m = env.process_until_processed(&id, 50);
        assert!(m["error"].is_null());
        let reqs = rx.requests();
        assert_eq!(reqs.len(), 2, "one failed attempt, one delivery");
        assert!(reqs.iter().all(|r| r.headers["webhook-id"] == id));
        reqs.iter().for_each(verify);
        // Nothing more arrives: the message is processed.
        env.process();
        assert_eq!(rx.requests().len(), 2);
    }

    #[test]
    fn a_400_is_dead_at_once_with_the_status_and_a_bounded_excerpt() {
        let rx = Receiver::start(vec![Answer {
            status: 422,
            headers: vec![],
            body: format!("unknown field order{}", "x".repeat(5000)),
        }]);
        let env = Env::new(&http_config(&rx.url(), "")).var("TEST_WEBHOOK_SECRET", SECRET);
        let id = env.emit("OrderPlaced", r#"{"order":3}"#);
        let report = env.process();
        assert_eq!(report["dead"], 1);
        let m = env.show(&id);
        assert_eq!(m["state"], "dead");
        assert_eq!(m["attempts"], 1);
        let error = m["error"].as_str().unwrap();
        assert!(
            error.contains("422") && error.contains("unknown field order"),
            "{error}"
        );
        assert!(
            error.len() < 1200,
            "the body excerpt is bounded: {} bytes",
            error.len()
        );
        env.process();
        assert_eq!(rx.requests().len(), 1, "a dead message is not tried again");
    }

    #[test]
    fn retry_after_is_honoured() {
        let rx = Receiver::start(vec![Answer {
            status: 429,
            headers: vec![("Retry-After", "120".into())],
            body: String::new(),
        }]);
        let config = http_config(&rx.url(), "").replace("max_backoff = \"10ms\"", "max_backoff = \"1h\"");
        let env = Env::new(&config).var("TEST_WEBHOOK_SECRET", SECRET);
        let id = env.emit("OrderPlaced", "{}");
        let before = chrono::Utc::now();
        env.process();
        let m = env.show(&id);
        assert_eq!(m["state"], "retrying");
        let next = chrono::DateTime::parse_from_rfc3339(m["next_attempt_on"].as_str().unwrap()).unwrap();
        let wait = next.with_timezone(&chrono::Utc) - before;
        assert!(
            wait >= chrono::Duration::seconds(119),
            "next attempt in {wait}, not after Retry-After"
        );
        // Not due yet: nothing is sent again.
        env.process();
        assert_eq!(rx.requests().len(), 1);
    }

    #[test]
    fn secrets_and_url_passwords_stay_out_of_errors_logs_and_show() {
        let rx = Receiver::start(vec![Answer {
            status: 503,
            headers: vec![],
            // A careless server echoing what it got.
            body: "denied for hunter2-pw and whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
        }]);
        let url = format!("http://alice:hunter2-pw@127.0.0.1:{}/hook", rx.port);
        let config = format!(
            "{}[sinks.web]\nkind = \"http\"\nurl_env = \"TEST_WEBHOOK_URL\"\nsecret_env = \"TEST_WEBHOOK_SECRET\"\n[routes]\n\"*\" = \"web\"\n",
            retry_fast()
        );
        let env = Env::new(&config)
            .var("TEST_WEBHOOK_SECRET", SECRET)
            .var("TEST_WEBHOOK_URL", &url);
        let id = env.emit("OrderPlaced", "{}");
        let (_, logs) = env.process_logged();
        let shown = env.show_text(&id);
        let json = env.show(&id).to_string();
        for text in [&logs, &shown, &json] {
            assert!(!text.contains("hunter2-pw"), "password leaked: {text}");
            assert!(
                !text.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
                "secret leaked: {text}"
            );
        }
        assert!(shown.contains("alice:***@127.0.0.1"), "{shown}");
        assert_eq!(rx.requests().len(), 1);
    }

    #[test]
    fn a_missing_or_malformed_secret_is_a_config_error_that_never_quotes_it() {
        let env = Env::new(&http_config("http://127.0.0.1:9/hook", ""));
        let out = env.cmd().arg("process-once").output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("TEST_WEBHOOK_SECRET") && err.contains("not set"),
            "{err}"
        );

        let env = env.var("TEST_WEBHOOK_SECRET", "whsec_no#base64-hunter2");
        let out = env.cmd().arg("process-once").output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("whsec_") && !err.contains("hunter2"), "{err}");
    }

    #[test]
    fn a_webhook_that_is_down_gets_everything_once_it_is_up() {
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}/hook");
        // Five failures in a row open the destination's circuit: probed every 1 s (then 2 s, …).
        let config = http_config(&url, "")
            .replace("backoff = \"1ms\"", "backoff = \"100ms\"")
            .replace("max_backoff = \"10ms\"", "max_backoff = \"200ms\"")
            + "\n[circuit]\ncooldown = \"1s\"\n";
        let env = Env::new(&config).var("TEST_WEBHOOK_SECRET", SECRET);
        let ids: Vec<String> = (0..5)
            .map(|i| env.emit("OrderPlaced", &format!("{{\"n\":{i}}}")))
            .collect();

        // The relay loop runs while the receiver is down.
        let mut relay = KillOnDrop(
            std::process::Command::new(assert_cmd::cargo::cargo_bin("outboxctl"))
                .current_dir(env.dir.path())
                .env("TEST_WEBHOOK_SECRET", SECRET)
                .env_remove("OUTBOX_LOG")
                .args(["-q", "run", "--every", "50ms"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
        let failing = Instant::now();
        while env.show(&ids[0])["failures"].as_array().unwrap().len() < 2 {
            assert!(
                failing.elapsed() < Duration::from_secs(60),
                "no failed attempts recorded"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let m = env.show(&ids[0]);
        assert!(m["error"].as_str().unwrap().contains("127.0.0.1"), "{m}");
        std::thread::sleep(Duration::from_millis(600));

        let rx = Receiver::start_on(TcpListener::bind(("127.0.0.1", port)).unwrap(), vec![]);
        let up = Instant::now();
        while !ids.iter().all(|id| env.show(id)["state"] == "processed") {
            assert!(
                up.elapsed() < Duration::from_secs(60),
                "not delivered after the receiver came up"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        sigterm(relay.0.id());
        let status = relay.0.wait().unwrap();
        assert!(status.success(), "run exits cleanly on SIGTERM: {status}");

        let reqs = rx.requests();
        let mut got: Vec<String> = reqs.iter().map(|r| r.headers["webhook-id"].clone()).collect();
        got.sort();
        let mut want = ids.clone();
        want.sort();
        assert_eq!(got, want, "each message delivered exactly once");
        // Backoff, not a spin: a spinning relay would have made hundreds of attempts.
        let attempts = env.show(&ids[0])["attempts"].as_i64().unwrap();
        assert!((2..40).contains(&attempts), "{attempts} attempts");
    }
}

fn sigterm(pid: u32) {
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Delivering a message through a sink directly, as a relay that crashed before marking it did.

fn sink_router(kind_toml: &str) -> outboxctl::sink::Router {
    let cfg: outboxctl::sink::SinkConfig = toml::from_str(kind_toml).unwrap();
    let sinks = BTreeMap::from([("s".to_owned(), cfg.resolve(&|_| None).unwrap())]);
    let routes = BTreeMap::from([("*".to_owned(), vec!["s".to_owned()])]);
    outboxctl::sink::Router::new(&sinks, &routes)
}

/// Sends a run through the sink "s", as a relay does, and expects each message accepted.
fn accepted(router: &mut outboxctl::sink::Router, run: &[outboxctl::model::Message]) {
    let outcomes = router.send("s", run).wait();
    assert_eq!(outcomes.len(), run.len(), "one outcome per message");
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
}

fn message(id: &str, ty: &str, content: &str) -> outboxctl::model::Message {
    outboxctl::model::Message {
        occurred_on: Some(chrono::Utc::now()),
        ..outboxctl::model::Message::new(id, ty, content)
    }
}

// ---------------------------------------------------------------------------------------------

#[cfg(feature = "redis")]
mod redis_streams {
    use super::*;

    fn con(port: u16) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{port}"))
            .unwrap()
            .get_connection()
            .unwrap()
    }

    fn entries(stream: &str) -> Vec<BTreeMap<String, String>> {
        let reply: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
            .arg(stream)
            .arg("-")
            .arg("+")
            .query(&mut con(6379))
            .unwrap();
        reply.into_iter().map(|(_, f)| f.into_iter().collect()).collect()
    }

    fn cleanup(stream: &str) {
        let _: () = redis::cmd("DEL").arg(stream).query(&mut con(6379)).unwrap();
    }

    #[test]
    fn messages_are_added_with_id_type_and_content() {
        let stream = unique("outboxctl-test:");
        let env = Env::new(&format!(
            "[sinks.events]\nkind = \"redis\"\nstream = \"{stream}\"\nmaxlen = 1000\n[routes]\n\"*\" = \"events\"\n"
        ));
        let ids: Vec<String> = (0..3)
            .map(|i| {
                let content = format!("{{\"n\":{i}}}");
                if i == 0 {
                    env.emit_traced("OrderPlaced", &content)
                } else {
                    env.emit("OrderPlaced", &content)
                }
            })
            .collect();
        assert_eq!(env.process()["delivered"], 3);
        let got = entries(&stream);
        assert_eq!(got.len(), 3);
        for (i, (e, id)) in got.iter().zip(&ids).enumerate() {
            assert_eq!(&e["id"], id);
            assert_eq!(e["type"], "OrderPlaced");
            assert_eq!(e["content"], format!("{{\"n\":{i}}}"));
            // Only the first was traced: its context arrives unchanged, the others have none.
            assert_eq!(
                e.get("traceparent").map(String::as_str),
                (i == 0).then_some(TRACEPARENT)
            );
            assert_eq!(
                e.get("tracestate").map(String::as_str),
                (i == 0).then_some("vendor=1")
            );
        }
        cleanup(&stream);
    }

    #[test]
    fn redis_adds_a_redelivery_again_unless_dedup_is_on() {
        let plain = unique("outboxctl-test:");
        let deduped = unique("outboxctl-test:");
        let m = message(&uuid::Uuid::now_v7().to_string(), "OrderPlaced", r#"{"a":1}"#);

        let mut router = sink_router(&format!("kind = \"redis\"\nstream = \"{plain}\"\n"));
        accepted(&mut router, std::slice::from_ref(&m));
        accepted(&mut router, std::slice::from_ref(&m));
        assert_eq!(entries(&plain).len(), 2, "Redis itself does not deduplicate");

        let mut router = sink_router(&format!(
            "kind = \"redis\"\nstream = \"{deduped}\"\ndedup = true\ndedup_window = \"1m\"\n"
        ));
        accepted(&mut router, std::slice::from_ref(&m));
        accepted(&mut router, std::slice::from_ref(&m));
        let batch = [
            m.clone(),
            message(&uuid::Uuid::now_v7().to_string(), "OrderPlaced", "{}"),
        ];
        accepted(&mut router, &batch);
        let got = entries(&deduped);
        assert_eq!(got.len(), 2, "the redelivery is skipped, the new message added");
        assert_eq!(got[0]["id"], m.id);
        cleanup(&plain);
        cleanup(&deduped);
        let _: () = redis::cmd("DEL")
            .arg(format!("{deduped}:outbox-dedup:{}", m.id))
            .arg(format!("{deduped}:outbox-dedup:{}", batch[1].id))
            .query(&mut con(6379))
            .unwrap();
    }

    #[test]
    fn a_replay_is_deduplicated_unless_it_has_a_new_delivery_id() {
        let stream = unique("outboxctl-test:");
        let env = Env::new(&format!(
            "[sinks.events]\nkind = \"redis\"\nstream = \"{stream}\"\ndedup = true\ndedup_window = \"1m\"\n[routes]\n\"*\" = \"events\"\n"
        ));
        let id = env.emit("OrderPlaced", r#"{"a":1}"#);
        assert_eq!(env.process()["delivered"], 1);
        // Inside the dedup window the replay is skipped by the stream, and counts as delivered.
        assert_eq!(env.json(&["replay", "--id", &id, "--yes"])["delivered"], 1);
        assert_eq!(entries(&stream).len(), 1);
        assert_eq!(
            env.json(&["replay", "--id", &id, "--new-delivery-id", "--yes"])["delivered"],
            1
        );
        let got = entries(&stream);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_ne!(got[1]["id"], id);
        assert_eq!(got[1]["outbox-id"], id);
        assert!(!got[0].contains_key("outbox-id"));
        cleanup(&stream);
    }

    /// `run` with a pipelining sink claims its next batch while the last run of a full batch is
    /// still out: across many such batches, every message arrives once, each key in order.
    #[test]
    fn run_chains_claims_without_losing_doubling_or_reordering() {
        let stream = unique("outboxctl-test:");
        let env = Env::new(&format!(
            "batch_size = 20\n[sinks.events]\nkind = \"redis\"\nstream = \"{stream}\"\nmax_in_flight = 10\n[routes]\n\"*\" = \"events\"\n"
        ));
        const N: usize = 300;
        let ids: Vec<String> = (0..N)
            .map(|i| {
                let key = format!("k{}", i % 7);
                let mut args = vec!["emit", "event", "OrderPlaced", "{}"];
                if i % 3 != 0 {
                    args.extend(["--key", key.as_str()]);
                }
                env.json(&args)["emitted"][0]["id"].as_str().unwrap().to_owned()
            })
            .collect();
        let mut relay = KillOnDrop(
            std::process::Command::new(assert_cmd::cargo::cargo_bin("outboxctl"))
                .current_dir(env.dir.path())
                .env_remove("OUTBOX_LOG")
                .args(["-q", "run", "--every", "1h"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
        let started = Instant::now();
        while env.json(&["stats"])["processed"].as_u64() != Some(N as u64) {
            assert!(started.elapsed() < Duration::from_secs(60), "not drained");
            std::thread::sleep(Duration::from_millis(50));
        }
        sigterm(relay.0.id());
        let _ = relay.0.wait();
        let got: Vec<String> = entries(&stream).into_iter().map(|e| e["id"].clone()).collect();
        assert_eq!(got.len(), N, "each once");
        let distinct: std::collections::BTreeSet<&String> = got.iter().collect();
        assert_eq!(distinct.len(), N);
        // Each key's messages arrive in the order they were emitted.
        for k in 0..7 {
            let of_key = |list: &[String]| -> Vec<String> {
                list.iter()
                    .filter(|id| {
                        let i = ids.iter().position(|x| x == *id).unwrap();
                        i % 3 != 0 && i % 7 == k
                    })
                    .cloned()
                    .collect()
            };
            assert_eq!(of_key(&got), of_key(&ids), "key k{k}");
        }
        cleanup(&stream);
    }

    #[test]
    fn a_redis_that_is_down_gets_everything_once_it_is_up() {
        let port = free_port();
        let stream = unique("outboxctl-test:");
        let env = Env::new(&format!(
            "{}[sinks.events]\nkind = \"redis\"\nurl = \"redis://127.0.0.1:{port}\"\nstream = \"{stream}\"\ntimeout = \"2s\"\n[routes]\n\"*\" = \"events\"\n",
            retry_fast()
        ));
        let ids: Vec<String> = (0..4)
            .map(|i| env.emit("OrderPlaced", &format!("{{\"n\":{i}}}")))
            .collect();
        let report = env.process();
        assert_eq!(report["failed"], 4, "{report}");
        let m = env.show(&ids[0]);
        assert_eq!(m["state"], "retrying");
        assert!(
            m["error"].as_str().unwrap().contains("cannot connect to Redis"),
            "{m}"
        );

        let _server = KillOnDrop(
            std::process::Command::new("redis-server")
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("redis-server is installed"),
        );
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        for id in &ids {
            env.process_until_processed(id, 50);
        }
        let got: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
            .arg(&stream)
            .arg("-")
            .arg("+")
            .query(&mut con(port))
            .unwrap();
        let got: Vec<String> = got
            .into_iter()
            .map(|(_, f)| f.into_iter().find(|(k, _)| k == "id").unwrap().1)
            .collect();
        assert_eq!(got, ids, "everything arrives, once, in order");
    }
}

// ---------------------------------------------------------------------------------------------

#[cfg(feature = "nats")]
mod nats_jetstream {
    use super::*;
    use async_nats::jetstream;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// A test-unique stream on `<prefix>.>`, deleted by the returned guard.
    fn stream(prefix: &str) -> (tokio::runtime::Runtime, jetstream::Context, String) {
        let rt = rt();
        let name = prefix.replace('.', "_").to_uppercase();
        let ctx = rt.block_on(async {
            let client = async_nats::connect("nats://127.0.0.1:4222").await.unwrap();
            let ctx = jetstream::new(client);
            ctx.create_stream(jetstream::stream::Config {
                name: name.clone(),
                subjects: vec![format!("{prefix}.>")],
                duplicate_window: Duration::from_secs(600),
                ..Default::default()
            })
            .await
            .unwrap();
            ctx
        });
        (rt, ctx, name)
    }

    fn stored(
        rt: &tokio::runtime::Runtime,
        ctx: &jetstream::Context,
        name: &str,
    ) -> Vec<(String, String, Value)> {
        rt.block_on(async {
            let mut stream = ctx.get_stream(name).await.unwrap();
            let n = stream.info().await.unwrap().state.messages;
            let mut out = Vec::new();
            for seq in 1..=n {
                let m = stream.get_raw_message(seq).await.unwrap();
                let id = m.headers.get("Nats-Msg-Id").unwrap().as_str().to_owned();
                out.push((
                    m.subject.to_string(),
                    id,
                    serde_json::from_slice(&m.payload).unwrap(),
                ));
            }
            out
        })
    }

    fn drop_stream(rt: &tokio::runtime::Runtime, ctx: &jetstream::Context, name: &str) {
        rt.block_on(async { ctx.delete_stream(name).await.unwrap() });
    }

    #[test]
    fn messages_arrive_with_their_ids_and_redeliveries_are_dropped() {
        let prefix = unique("outboxtest");
        let (rt, ctx, name) = stream(&prefix);
        let env = Env::new(&format!(
            "[sinks.bus]\nkind = \"nats\"\nsubject = \"{prefix}.{{type}}\"\n[routes]\n\"*\" = \"bus\"\n"
        ));
        let a = env.emit("OrderPlaced", r#"{"order":1}"#);
        let b = env.emit("UserRegistered", r#"{"email":"q@r.s"}"#);
        // A relay that published `a` and died before marking it processed.
        let mut router = sink_router(&format!("kind = \"nats\"\nsubject = \"{prefix}.{{type}}\"\n"));
        accepted(&mut router, &[message(&a, "OrderPlaced", r#"{"order":1}"#)]);

        assert_eq!(env.process()["delivered"], 2);
        let got = stored(&rt, &ctx, &name);
        assert_eq!(got.len(), 2, "the redelivery of {a} was deduplicated: {got:?}");
        assert_eq!(got[0].0, format!("{prefix}.OrderPlaced"));
        assert_eq!(got[0].1, a);
        assert_eq!(got[1].0, format!("{prefix}.UserRegistered"));
        assert_eq!(got[1].1, b);
        assert_eq!(got[1].2["content"]["email"], "q@r.s");
        drop_stream(&rt, &ctx, &name);
    }

    #[test]
    fn a_replay_inside_the_dedup_window_is_delivered_as_a_duplicate_unless_it_has_a_new_id() {
        let prefix = unique("outboxtest");
        let (rt, ctx, name) = stream(&prefix);
        let env = Env::new(&format!(
            "[sinks.bus]\nkind = \"nats\"\nsubject = \"{prefix}.{{type}}\"\n[routes]\n\"*\" = \"bus\"\n"
        ));
        let a = env.emit("OrderPlaced", r#"{"order":1}"#);
        assert_eq!(env.process()["delivered"], 1);
        // JetStream answers "duplicate": delivered all the same, not a failure.
        let same = env.json(&["replay", "--id", &a, "--yes"]);
        assert_eq!(
            (same["delivered"].as_u64(), same["dead"].as_u64()),
            (Some(1), Some(0))
        );
        assert_eq!(stored(&rt, &ctx, &name).len(), 1, "swallowed by the dedup window");
        let fresh = env.json(&["replay", "--id", &a, "--new-delivery-id", "--yes"]);
        assert_eq!(fresh["delivered"], 1);
        let got = stored(&rt, &ctx, &name);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_ne!(got[1].1, a, "a fresh Nats-Msg-Id");
        assert_eq!(got[1].2["id"], a.as_str());
        assert_eq!(got[1].2["delivery_id"], got[1].1.as_str());
        rt.block_on(async {
            let stream = ctx.get_stream(&name).await.unwrap();
            let m = stream.get_raw_message(2).await.unwrap();
            assert_eq!(m.headers.get("Outbox-Id").unwrap().as_str(), a);
        });
        drop_stream(&rt, &ctx, &name);
    }

    #[test]
    fn cloudevents_binary_mode_uses_headers() {
        let prefix = unique("outboxtest");
        let (rt, ctx, name) = stream(&prefix);
        let mut router = sink_router(&format!(
            "kind = \"nats\"\nsubject = \"{prefix}.x\"\ncloudevents = \"binary\"\nsource = \"/shop\"\n"
        ));
        let mut m = message(&uuid::Uuid::now_v7().to_string(), "OrderPlaced", r#"{"order":9}"#);
        m.trace_parent = Some(TRACEPARENT.into());
        m.trace_state = Some("vendor=1".into());
        accepted(&mut router, std::slice::from_ref(&m));
        rt.block_on(async {
            let stream = ctx.get_stream(&name).await.unwrap();
            let got = stream.get_raw_message(1).await.unwrap();
            let h = &got.headers;
            assert_eq!(h.get("ce-id").unwrap().as_str(), m.id);
            assert_eq!(h.get("ce-type").unwrap().as_str(), "OrderPlaced");
            assert_eq!(h.get("ce-source").unwrap().as_str(), "/shop");
            assert_eq!(h.get("ce-specversion").unwrap().as_str(), "1.0");
            assert!(h.get("ce-time").is_some());
            // The trace context: as the protocol header and as the CloudEvents extension.
            assert_eq!(h.get("traceparent").unwrap().as_str(), TRACEPARENT);
            assert_eq!(h.get("tracestate").unwrap().as_str(), "vendor=1");
            assert_eq!(h.get("ce-traceparent").unwrap().as_str(), TRACEPARENT);
            let body: Value = serde_json::from_slice(&got.payload).unwrap();
            assert_eq!(body, serde_json::json!({"order": 9}));
        });
        drop_stream(&rt, &ctx, &name);
    }

    #[test]
    fn a_subject_without_a_stream_fails_and_is_retried() {
        let prefix = unique("outboxtest-nostream");
        let env = Env::new(&format!(
            "[sinks.bus]\nkind = \"nats\"\nsubject = \"{prefix}.x\"\ntimeout = \"2s\"\n[routes]\n\"*\" = \"bus\"\n"
        ));
        let id = env.emit("OrderPlaced", "{}");
        assert_eq!(env.process()["failed"], 1);
        assert_eq!(env.show(&id)["state"], "retrying");
    }
}

// ---------------------------------------------------------------------------------------------

#[cfg(feature = "rabbitmq")]
mod rabbitmq {
    use super::*;
    use lapin::options::{BasicGetOptions, QueueDeclareOptions, QueueDeleteOptions};
    use lapin::types::FieldTable;
    use lapin::{Connection, ConnectionProperties};

    const URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn messages_reach_a_bound_queue_persistent_with_their_ids() {
        let rt = rt();
        let queue = unique("outboxctl-test-");
        let channel = rt.block_on(async {
            let conn = Connection::connect(URL, ConnectionProperties::default())
                .await
                .unwrap();
            let ch = conn.create_channel().await.unwrap();
            ch.queue_declare(
                queue.as_str().into(),
                QueueDeclareOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
            (conn, ch)
        });
        // Runs of two: the relay sends each run before the one before is confirmed, and the
        // queue still gets them in order.
        let env = Env::new(&format!(
            "[sinks.mq]\nkind = \"rabbitmq\"\nexchange = \"\"\nrouting_key = \"{queue}\"\nmax_in_flight = 2\n[routes]\n\"*\" = \"mq\"\n"
        ));
        let ids: Vec<String> = (0..7)
            .map(|i| {
                let content = format!("{{\"n\":{i}}}");
                if i == 0 {
                    env.emit_traced("OrderPlaced", &content)
                } else {
                    env.emit("OrderPlaced", &content)
                }
            })
            .collect();
        assert_eq!(env.process()["delivered"], 7);
        rt.block_on(async {
            let ch = &channel.1;
            for id in &ids {
                let got = ch
                    .basic_get(queue.as_str().into(), BasicGetOptions { no_ack: true })
                    .await
                    .unwrap()
                    .expect("a message in the queue");
                let p = &got.delivery.properties;
                assert_eq!(p.message_id().as_ref().unwrap().as_str(), id);
                assert_eq!(*p.delivery_mode(), Some(2), "persistent");
                assert_eq!(p.kind().as_ref().unwrap().as_str(), "OrderPlaced");
                let body: Value = serde_json::from_slice(&got.delivery.data).unwrap();
                assert_eq!(body["id"], id.as_str());
                // Only the first was traced.
                let header = |name: &str| {
                    p.headers().as_ref().and_then(|h| {
                        h.inner().get(name).and_then(|v| match v {
                            lapin::types::AMQPValue::LongString(s) => Some(s.to_string()),
                            _ => None,
                        })
                    })
                };
                let first = id == &ids[0];
                assert_eq!(header("traceparent").as_deref(), first.then_some(TRACEPARENT));
                assert_eq!(header("tracestate").as_deref(), first.then_some("vendor=1"));
            }
            ch.queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await
                .unwrap();
        });
    }

    #[test]
    fn a_replay_has_the_message_id_or_a_new_one_with_the_id_beside_it() {
        let rt = rt();
        let queue = unique("outboxctl-test-");
        let channel = rt.block_on(async {
            let conn = Connection::connect(URL, ConnectionProperties::default())
                .await
                .unwrap();
            let ch = conn.create_channel().await.unwrap();
            ch.queue_declare(
                queue.as_str().into(),
                QueueDeclareOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
            (conn, ch)
        });
        let env = Env::new(&format!(
            "[sinks.mq]\nkind = \"rabbitmq\"\nexchange = \"\"\nrouting_key = \"{queue}\"\n[routes]\n\"*\" = \"mq\"\n"
        ));
        let id = env.emit("OrderPlaced", r#"{"n":1}"#);
        assert_eq!(env.process()["delivered"], 1);
        assert_eq!(env.json(&["replay", "--id", &id, "--yes"])["delivered"], 1);
        assert_eq!(
            env.json(&["replay", "--id", &id, "--new-delivery-id", "--yes"])["delivered"],
            1
        );
        rt.block_on(async {
            let ch = &channel.1;
            let mut got = Vec::new();
            for _ in 0..3 {
                let m = ch
                    .basic_get(queue.as_str().into(), BasicGetOptions { no_ack: true })
                    .await
                    .unwrap()
                    .expect("a message in the queue");
                let p = m.delivery.properties.clone();
                let outbox_id = p
                    .headers()
                    .as_ref()
                    .and_then(|h| match h.inner().get("outbox-id") {
                        Some(lapin::types::AMQPValue::LongString(s)) => Some(s.to_string()),
                        _ => None,
                    });
                got.push((p.message_id().as_ref().unwrap().to_string(), outbox_id));
            }
            assert_eq!(got[0], (id.clone(), None));
            assert_eq!(got[1], (id.clone(), None), "a replay keeps the message id");
            assert_ne!(got[2].0, id);
            assert_eq!(got[2].1.as_deref(), Some(id.as_str()));
            ch.queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await
                .unwrap();
        });
    }

    #[test]
    fn an_unroutable_message_fails_and_is_never_processed() {
        let env = Env::new(&format!(
            "[sinks.mq]\nkind = \"rabbitmq\"\nurl = \"{URL}\"\nrouting_key = \"{}\"\n[routes]\n\"*\" = \"mq\"\n",
            unique("no-such-queue-")
        ));
        let id = env.emit("OrderPlaced", "{}");
        let report = env.process();
        assert_eq!(report["failed"], 1, "{report}");
        let m = env.show(&id);
        assert_eq!(m["state"], "retrying");
        assert!(m["processed_on"].is_null());
        assert!(m["error"].as_str().unwrap().contains("unroutable"), "{m}");
    }

    #[test]
    fn a_wrong_password_is_a_retried_failure_and_never_shown() {
        let env = Env::new(
            "[sinks.mq]\nkind = \"rabbitmq\"\nurl_env = \"TEST_AMQP_URL\"\nrouting_key = \"x\"\n[routes]\n\"*\" = \"mq\"\n",
        )
        .var("TEST_AMQP_URL", "amqp://guest:n0t-the-pw@127.0.0.1:5672/%2f");
        let id = env.emit("OrderPlaced", "{}");
        let (report, logs) = env.process_logged();
        assert_eq!(report["failed"], 1, "{report}");
        let shown = env.show_text(&id);
        for text in [&logs, &shown] {
            assert!(!text.contains("n0t-the-pw"), "password leaked: {text}");
        }
        assert!(shown.contains("guest:***@127.0.0.1"), "{shown}");
    }
}

// ---------------------------------------------------------------------------------------------

#[cfg(feature = "mqtt")]
mod mqtt {
    use super::*;
    use rumqttc::v5::mqttbytes::QoS;
    use rumqttc::v5::mqttbytes::v5::Packet;
    use rumqttc::v5::{Client, Event, MqttOptions};
    use std::sync::mpsc;

    /// A message as a subscriber got it.
    #[derive(Debug)]
    struct Got {
        topic: String,
        properties: BTreeMap<String, String>,
        content_type: Option<String>,
        payload: Value,
    }

    impl Got {
        fn id(&self) -> &str {
            &self.properties["outbox-id"]
        }
    }

    /// A subscriber to `filter` (QoS 2), subscribed when this returns.
    struct Subscriber {
        disconnect: Box<dyn Fn()>,
        got: mpsc::Receiver<Got>,
    }

    impl Subscriber {
        fn new(port: u16, filter: &str) -> Self {
            let options = MqttOptions::new(unique("outboxctl-test-"), "127.0.0.1", port);
            let (client, mut connection) = Client::new(options, 100);
            client.subscribe(filter, QoS::ExactlyOnce).unwrap();
            let (tx, got) = mpsc::channel();
            let (ready_tx, ready) = mpsc::channel();
            std::thread::spawn(move || {
                for event in connection.iter() {
                    match event {
                        Ok(Event::Incoming(Packet::SubAck(_))) => {
                            let _ = ready_tx.send(());
                        }
                        Ok(Event::Incoming(Packet::Publish(p))) => {
                            let props = p.properties.unwrap_or_default();
                            let _ = tx.send(Got {
                                topic: String::from_utf8(p.topic.to_vec()).unwrap(),
                                properties: props.user_properties.into_iter().collect(),
                                content_type: props.content_type,
                                payload: serde_json::from_slice(&p.payload).unwrap(),
                            });
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
            });
            ready
                .recv_timeout(Duration::from_secs(20))
                .expect("the test subscriber is subscribed");
            Subscriber {
                disconnect: Box::new(move || drop(client.disconnect())),
                got,
            }
        }

        /// The same with an MQTT 3.1.1 client: its messages have no properties.
        fn v311(port: u16, filter: &str) -> Self {
            use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
            let mut options = MqttOptions::new(unique("outboxctl-test-"), "127.0.0.1", port);
            options.set_max_packet_size(1024 * 1024, 10 * 1024);
            let (client, mut connection) = Client::new(options, 100);
            client.subscribe(filter, QoS::ExactlyOnce).unwrap();
            let (tx, got) = mpsc::channel();
            let (ready_tx, ready) = mpsc::channel();
            std::thread::spawn(move || {
                for event in connection.iter() {
                    match event {
                        Ok(Event::Incoming(Packet::SubAck(_))) => {
                            let _ = ready_tx.send(());
                        }
                        Ok(Event::Incoming(Packet::Publish(p))) => {
                            let _ = tx.send(Got {
                                topic: p.topic,
                                properties: BTreeMap::new(),
                                content_type: None,
                                payload: serde_json::from_slice(&p.payload).unwrap(),
                            });
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
            });
            ready
                .recv_timeout(Duration::from_secs(20))
                .expect("the 3.1.1 test subscriber is subscribed");
            Subscriber {
                disconnect: Box::new(move || drop(client.disconnect())),
                got,
            }
        }

        /// The next `n` messages, then checks that no other arrives soon after.
        fn take(&self, n: usize) -> Vec<Got> {
            let mut out = Vec::with_capacity(n);
            while out.len() < n {
                match self.got.recv_timeout(Duration::from_secs(30)) {
                    Ok(g) => out.push(g),
                    Err(_) => panic!("only {} of {n} messages arrived: {out:?}", out.len()),
                }
            }
            if let Ok(extra) = self.got.recv_timeout(Duration::from_millis(300)) {
                panic!("a message arrived twice or unexpectedly: {extra:?}");
            }
            out
        }
    }

    impl Drop for Subscriber {
        fn drop(&mut self) {
            (self.disconnect)();
        }
    }

    fn config(extra: &str) -> String {
        format!("[sinks.mq]\nkind = \"mqtt\"\n{extra}[routes]\n\"*\" = \"mq\"\n")
    }

    /// A Mosquitto of the test's own on `port`, killed when dropped.
    fn mosquitto(dir: &std::path::Path, port: u16) -> KillOnDrop {
        mosquitto_with(dir, port, "")
    }

    /// The same with more configuration lines.
    fn mosquitto_with(dir: &std::path::Path, port: u16, extra: &str) -> KillOnDrop {
        let conf = dir.join(format!("mosquitto-{port}.conf"));
        std::fs::write(
            &conf,
            format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n{extra}"),
        )
        .unwrap();
        let child = KillOnDrop(
            std::process::Command::new("/usr/sbin/mosquitto")
                .arg("-c")
                .arg(&conf)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("mosquitto is installed"),
        );
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "mosquitto did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        child
    }

    /// rumqttd serving MQTT 3.1.1 only (a `[v4]` server and no `[v5]`) on `port`, killed when
    /// dropped. `.ci/services` installs it.
    fn rumqttd_v311(dir: &std::path::Path, port: u16) -> KillOnDrop {
        let conf = dir.join(format!("rumqttd-{port}.toml"));
        std::fs::write(
            &conf,
            format!(
                "id = 0\n[router]\nmax_connections = 100\nmax_outgoing_packet_count = 200\n\
                 max_segment_size = 104857600\nmax_segment_count = 10\n\
                 [v4.1]\nname = \"v4-1\"\nlisten = \"127.0.0.1:{port}\"\nnext_connection_delay_ms = 1\n\
                 [v4.1.connections]\nconnection_timeout_ms = 60000\nmax_payload_size = 1048576\n\
                 max_inflight_count = 100\ndynamic_filters = true\n"
            ),
        )
        .unwrap();
        let home_bin = std::env::var("HOME").map(|h| PathBuf::from(h).join(".cargo/bin/rumqttd"));
        let bin = match home_bin {
            Ok(b) if b.exists() => b,
            _ => PathBuf::from("rumqttd"),
        };
        let child = KillOnDrop(
            std::process::Command::new(&bin)
                .arg("-c")
                .arg(&conf)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("rumqttd is installed (.ci/services)"),
        );
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "rumqttd did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        child
    }

    #[test]
    fn a_3_1_1_only_broker_gets_a_run_once_with_qos_1_and_2_the_ids_in_the_envelope() {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let broker = rumqttd_v311(dir.path(), port);
        for qos in [1, 2] {
            let prefix = unique("outboxctl-test/");
            let sub = Subscriber::v311(port, &format!("{prefix}/#"));
            let env = Env::new(&config(&format!(
                "url = \"mqtt://127.0.0.1:{port}\"\ntopic = \"{prefix}/{{type}}\"\nqos = {qos}\nprotocol = \"auto\"\n"
            )));
            let traced = env.emit_traced("OrderPlaced", r#"{"order":1}"#);
            let keyed = env.json(&[
                "emit",
                "event",
                "OrderShipped",
                r#"{"order":1}"#,
                "--key",
                "order-1",
            ])["emitted"][0]["id"]
                .as_str()
                .unwrap()
                .to_owned();
            let plain = env.emit("UserRegistered", r#"{"email":"q@r.s"}"#);
            let report = env.process();
            assert_eq!(report["delivered"], 3, "qos {qos}: {report}");
            let got = sub.take(3);
            let by_id: BTreeMap<&str, &Got> = got
                .iter()
                .map(|g| (g.payload["id"].as_str().unwrap(), g))
                .collect();
            assert_eq!(by_id.len(), 3, "qos {qos}: {got:?}");
            for (id, ty) in [
                (&traced, "OrderPlaced"),
                (&keyed, "OrderShipped"),
                (&plain, "UserRegistered"),
            ] {
                let g = by_id[id.as_str()];
                assert_eq!(g.topic, format!("{prefix}/{ty}"));
                assert_eq!(g.payload["type"], ty);
                assert_eq!(
                    g.payload["key"].as_str(),
                    (id == &keyed).then_some("order-1"),
                    "{g:?}"
                );
                assert_eq!(
                    g.payload["traceparent"].as_str(),
                    (id == &traced).then_some(TRACEPARENT),
                    "{g:?}"
                );
                assert_eq!(
                    g.payload["tracestate"].as_str(),
                    (id == &traced).then_some("vendor=1"),
                    "{g:?}"
                );
                assert_eq!(env.show(id)["state"], "processed");
            }
        }

        // One sink, as a running relay has: it keeps to 3.1.1, with runs in flight back to back
        // and a message past rumqttc's 10 KiB default packet limit.
        let prefix = unique("outboxctl-test/");
        let sub = Subscriber::v311(port, &format!("{prefix}/#"));
        let mut router = sink_router(&format!(
            "kind = \"mqtt\"\nurl = \"mqtt://127.0.0.1:{port}\"\ntopic = \"{prefix}/{{type}}\"\nqos = 2\n"
        ));
        let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(64 * 1024));
        let runs: Vec<Vec<outboxctl::model::Message>> = (0..3)
            .map(|r| {
                (0..50)
                    .map(|i| {
                        let content = if r == 1 && i == 7 {
                            big.clone()
                        } else {
                            format!("{{\"n\":{i}}}")
                        };
                        message(&uuid::Uuid::now_v7().to_string(), "T", &content)
                    })
                    .collect()
            })
            .collect();
        let pending: Vec<_> = runs.iter().map(|run| router.send("s", run)).collect();
        for p in pending {
            let outcomes = p.wait();
            assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
        }
        let got: Vec<String> = sub
            .take(150)
            .iter()
            .map(|g| g.payload["id"].as_str().unwrap().to_owned())
            .collect();
        let want: Vec<String> = runs.iter().flatten().map(|m| m.id.clone()).collect();
        assert_eq!(got, want, "everything arrives once, in order");
        drop(sub);

        // Across a broker restart the sink reconnects (remembering 3.1.1).
        drop(broker);
        let run = |n: usize| -> Vec<outboxctl::model::Message> {
            (0..n)
                .map(|_| message(&uuid::Uuid::now_v7().to_string(), "T", "{}"))
                .collect()
        };
        let outcomes = router.send("s", &run(2)).wait();
        assert!(
            outcomes
                .iter()
                .all(|o| matches!(o, Err(outboxctl::sink::DeliveryError::Retryable(_)))),
            "{outcomes:?}"
        );
        let _broker = rumqttd_v311(dir.path(), port);
        let sub = Subscriber::v311(port, &format!("{prefix}/#"));
        let again = run(3);
        accepted(&mut router, &again);
        let got: Vec<String> = sub
            .take(3)
            .iter()
            .map(|g| g.payload["id"].as_str().unwrap().to_owned())
            .collect();
        let want: Vec<String> = again.iter().map(|m| m.id.clone()).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn cloudevents_binary_falls_back_to_structured_on_3_1_1() {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let _broker = rumqttd_v311(dir.path(), port);
        let sub = Subscriber::v311(port, "ce/#");
        let mut router = sink_router(&format!(
            "kind = \"mqtt\"\nurl = \"mqtt://127.0.0.1:{port}\"\ntopic = \"ce/{{type}}\"\ncloudevents = \"binary\"\n"
        ));
        let run = [message(&uuid::Uuid::now_v7().to_string(), "T", r#"{"n":1}"#)];
        accepted(&mut router, &run);
        let got = sub.take(1);
        let event = &got[0].payload;
        assert_eq!(event["specversion"], "1.0", "{event}");
        assert_eq!(event["id"], run[0].id.as_str());
        assert_eq!(event["type"], "T");
        assert_eq!(event["data"]["n"], 1);
    }

    #[test]
    fn protocol_5_against_a_3_1_1_only_broker_fails_retryably_naming_the_protocol() {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let _broker = rumqttd_v311(dir.path(), port);
        let mut router = sink_router(&format!(
            "kind = \"mqtt\"\nurl = \"mqtt://127.0.0.1:{port}\"\ntopic = \"t\"\nprotocol = \"5\"\ntimeout = \"5s\"\n"
        ));
        let run = [message(&uuid::Uuid::now_v7().to_string(), "T", "{}")];
        let started = Instant::now();
        match &router.send("s", &run).wait()[..] {
            [Err(outboxctl::sink::DeliveryError::Retryable(e))] => {
                assert!(e.contains("MQTT 5") && e.contains("protocol = \"5\""), "{e}");
                assert!(e.contains(&format!("127.0.0.1:{port}")), "{e}");
                assert_eq!(e.lines().count(), 1, "{e}");
            }
            other => panic!("expected a retryable failure: {other:?}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "refused at once, not timed out"
        );
    }

    #[test]
    fn protocol_3_1_1_against_mosquitto_publishes_without_user_properties() {
        let prefix = unique("outboxctl-test/");
        let sub = Subscriber::new(1883, &format!("{prefix}/#"));
        let mut router = sink_router(&format!(
            "kind = \"mqtt\"\ntopic = \"{prefix}/{{type}}\"\nprotocol = \"3.1.1\"\n"
        ));
        let run = [message(&uuid::Uuid::now_v7().to_string(), "T", "{}")];
        accepted(&mut router, &run);
        let got = sub.take(1);
        assert!(got[0].properties.is_empty(), "{got:?}");
        assert_eq!(got[0].payload["id"], run[0].id.as_str());
    }

    #[test]
    fn an_unknown_protocol_is_a_config_error() {
        let env = Env::new(&config("topic = \"t\"\nprotocol = \"4\"\n"));
        let out = env.cmd().arg("process-once").output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(
            err.contains(r#"sinks.mq: protocol must be "auto", "5" or "3.1.1", not "4""#),
            "{err}"
        );
    }

    #[test]
    fn a_run_arrives_once_with_qos_1_and_2_with_user_properties_and_the_envelope() {
        for qos in [1, 2] {
            let prefix = unique("outboxctl-test/");
            let sub = Subscriber::new(1883, &format!("{prefix}/#"));
            // `auto` (the default, and said once here) speaks MQTT 5 to Mosquitto.
            let protocol = if qos == 2 { "protocol = \"auto\"\n" } else { "" };
            let env = Env::new(&config(&format!(
                "topic = \"{prefix}/{{type}}\"\nqos = {qos}\n{protocol}"
            )));
            let traced = env.emit_traced("OrderPlaced", r#"{"order":1}"#);
            let keyed = env.json(&[
                "emit",
                "event",
                "OrderShipped",
                r#"{"order":1}"#,
                "--key",
                "order-1",
            ])["emitted"][0]["id"]
                .as_str()
                .unwrap()
                .to_owned();
            let plain = env.emit("UserRegistered", r#"{"email":"q@r.s"}"#);
            let report = env.process();
            assert_eq!(report["delivered"], 3, "qos {qos}: {report}");
            let got = sub.take(3);
            let by_id: BTreeMap<&str, &Got> = got.iter().map(|g| (g.id(), g)).collect();
            assert_eq!(by_id.len(), 3, "qos {qos}: {got:?}");
            for (id, ty) in [
                (&traced, "OrderPlaced"),
                (&keyed, "OrderShipped"),
                (&plain, "UserRegistered"),
            ] {
                let g = by_id[id.as_str()];
                assert_eq!(g.topic, format!("{prefix}/{ty}"));
                assert_eq!(g.properties["outbox-type"], ty);
                assert_eq!(g.content_type.as_deref(), Some("application/json"));
                assert_eq!(g.payload["id"], id.as_str());
                assert_eq!(g.payload["type"], ty);
                assert_eq!(
                    g.properties.get("outbox-ordering-key").map(String::as_str),
                    (id == &keyed).then_some("order-1")
                );
                assert_eq!(
                    g.properties.get("traceparent").map(String::as_str),
                    (id == &traced).then_some(TRACEPARENT)
                );
                assert_eq!(
                    g.properties.get("tracestate").map(String::as_str),
                    (id == &traced).then_some("vendor=1")
                );
            }
            assert_eq!(by_id[plain.as_str()].payload["content"]["email"], "q@r.s");
            assert_eq!(by_id[traced.as_str()].payload["traceparent"], TRACEPARENT);
            for id in [&traced, &keyed, &plain] {
                assert_eq!(env.show(id)["state"], "processed");
            }
        }
    }

    #[test]
    fn a_broker_that_is_down_gets_everything_once_it_is_up() {
        let port = free_port();
        let prefix = unique("outboxctl-test/");
        let sink = config(&format!(
            "url_env = \"TEST_MQTT_URL\"\ntopic = \"{prefix}/{{type}}\"\ntimeout = \"2s\"\n"
        ));
        let env = Env::new(&format!("{}{sink}", retry_fast())).var(
            "TEST_MQTT_URL",
            &format!("mqtt://relay:pw-down-back@127.0.0.1:{port}"),
        );
        let conf_dir = tempfile::tempdir().unwrap();
        let ids: Vec<String> = (0..4)
            .map(|i| env.emit("OrderPlaced", &format!("{{\"n\":{i}}}")))
            .collect();
        let report = env.process();
        assert_eq!(report["failed"], 4, "{report}");
        let m = env.show(&ids[0]);
        assert_eq!(m["state"], "retrying");
        let error = m["error"].as_str().unwrap();
        assert!(error.contains("cannot connect to the MQTT broker"), "{m}");
        assert!(error.contains(&format!("relay:***@127.0.0.1:{port}")), "{m}");
        assert!(!error.contains("pw-down-back"), "{m}");

        let broker = mosquitto(conf_dir.path(), port);
        let sub = Subscriber::new(port, &format!("{prefix}/#"));
        for id in &ids {
            env.process_until_processed(id, 50);
        }
        let got: Vec<String> = sub.take(4).iter().map(|g| g.id().to_owned()).collect();
        assert_eq!(got, ids, "everything arrives, once, in order");
        drop(sub);

        // One sink across an outage, as a running relay has: it reconnects afterwards.
        let mut router = sink_router(&format!(
            "kind = \"mqtt\"\nurl = \"mqtt://127.0.0.1:{port}\"\ntopic = \"{prefix}/r\"\nqos = 2\ntimeout = \"2s\"\n"
        ));
        let run = |n: usize| -> Vec<outboxctl::model::Message> {
            (0..n)
                .map(|_| message(&uuid::Uuid::now_v7().to_string(), "OrderPlaced", "{}"))
                .collect()
        };
        accepted(&mut router, &run(3));
        drop(broker);
        let outcomes = router.send("s", &run(3)).wait();
        assert_eq!(outcomes.len(), 3);
        for o in &outcomes {
            match o {
                Err(outboxctl::sink::DeliveryError::Retryable(e)) => {
                    assert!(e.contains(&format!("127.0.0.1:{port}")), "{e}")
                }
                other => panic!("expected a retryable failure: {other:?}"),
            }
        }
        let _broker = mosquitto(conf_dir.path(), port);
        let sub = Subscriber::new(port, &format!("{prefix}/r"));
        let again = run(5);
        accepted(&mut router, &again);
        let got: Vec<String> = sub.take(5).iter().map(|g| g.id().to_owned()).collect();
        let want: Vec<String> = again.iter().map(|m| m.id.clone()).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_replay_with_a_new_delivery_id_says_so_in_a_user_property() {
        let prefix = unique("outboxctl-test/");
        let sub = Subscriber::new(1883, &format!("{prefix}/#"));
        let env = Env::new(&config(&format!("topic = \"{prefix}/{{type}}\"\n")));
        let id = env.emit("OrderPlaced", r#"{"order":1}"#);
        assert_eq!(env.process()["delivered"], 1);
        assert_eq!(env.json(&["replay", "--id", &id, "--yes"])["delivered"], 1);
        assert_eq!(
            env.json(&["replay", "--id", &id, "--new-delivery-id", "--yes"])["delivered"],
            1
        );
        let got = sub.take(3);
        assert!(got.iter().all(|g| g.id() == id));
        assert!(!got[1].properties.contains_key("outbox-delivery-id"));
        let fresh = &got[2].properties["outbox-delivery-id"];
        assert_ne!(fresh, &id);
        assert_eq!(got[2].payload["delivery_id"], fresh.as_str());
    }

    #[test]
    fn many_messages_in_flight_all_arrive_in_order_per_topic() {
        let prefix = unique("outboxctl-test/");
        let sub = Subscriber::new(1883, &format!("{prefix}/#"));
        // Through the relay: 300 messages, runs of up to 64 in flight.
        let env = Env::new(&config(&format!(
            "topic = \"{prefix}/{{type}}\"\nmax_in_flight = 64\n"
        )));
        env.emit_users(300);
        let report = env.process();
        assert_eq!(report["delivered"], 300, "{report}");
        let got = sub.take(300);
        let mut listed = env.list_ids(&["--processed"]);
        listed.sort();
        assert_eq!(listed.len(), 300);
        let mut got_ids: Vec<String> = got.iter().map(|g| g.id().to_owned()).collect();
        got_ids.sort();
        assert_eq!(got_ids, listed, "each processed message arrived once");

        // Runs sent back to back, as the relay pipelines them, on three topics, QoS 2.
        let mut router = sink_router(&format!(
            "kind = \"mqtt\"\ntopic = \"{prefix}/p/{{type}}\"\nqos = 2\nmax_in_flight = 100\n"
        ));
        let types = ["A", "B", "C"];
        let runs: Vec<Vec<outboxctl::model::Message>> = (0..3)
            .map(|r| {
                (0..100)
                    .map(|i| {
                        message(
                            &uuid::Uuid::now_v7().to_string(),
                            types[i % 3],
                            &format!("{{\"run\":{r},\"n\":{i}}}"),
                        )
                    })
                    .collect()
            })
            .collect();
        let first = router.send("s", &runs[0]);
        let second = router.send("s", &runs[1]);
        assert!(first.wait().iter().all(Result::is_ok));
        let third = router.send("s", &runs[2]);
        assert!(second.wait().iter().all(Result::is_ok));
        assert!(third.wait().iter().all(Result::is_ok));
        let got = sub.take(300);
        for ty in types {
            let want: Vec<&str> = runs
                .iter()
                .flatten()
                .filter(|m| m.event_type == ty)
                .map(|m| m.id.as_str())
                .collect();
            let topic = format!("{prefix}/p/{ty}");
            let arrived: Vec<&str> = got.iter().filter(|g| g.topic == topic).map(Got::id).collect();
            assert_eq!(arrived, want, "topic {topic}");
        }
    }

    #[test]
    fn a_publish_the_broker_refuses_fails_that_message_alone_for_good() {
        let dir = tempfile::tempdir().unwrap();
        let acl = dir.path().join("acl");
        std::fs::write(&acl, "topic readwrite t/Allowed\n").unwrap();
        let port = free_port();
        let _broker = mosquitto_with(dir.path(), port, &format!("acl_file {}\n", acl.display()));
        for qos in [1, 2] {
            let mut router = sink_router(&format!(
                "kind = \"mqtt\"\nurl = \"mqtt://127.0.0.1:{port}\"\ntopic = \"t/{{type}}\"\nqos = {qos}\n"
            ));
            let run: Vec<_> = ["Allowed", "Denied", "Allowed"]
                .iter()
                .map(|ty| message(&uuid::Uuid::now_v7().to_string(), ty, "{}"))
                .collect();
            let outcomes = router.send("s", &run).wait();
            assert!(
                outcomes[0].is_ok() && outcomes[2].is_ok(),
                "qos {qos}: {outcomes:?}"
            );
            match &outcomes[1] {
                Err(outboxctl::sink::DeliveryError::Permanent(e)) => {
                    assert!(e.contains("NotAuthorized"), "qos {qos}: {e}")
                }
                other => panic!("qos {qos}: expected a permanent failure: {other:?}"),
            }
            // The connection stays usable.
            accepted(&mut router, &run[..1]);
        }
    }

    #[test]
    fn a_url_password_stays_out_of_errors_logs_and_show() {
        let port = free_port();
        let env = Env::new(&config(&format!(
            "url = \"mqtt://relay:s3cret-mqtt-pw@127.0.0.1:{port}\"\ntopic = \"t/{{type}}\"\ntimeout = \"2s\"\n"
        )));
        let id = env.emit("OrderPlaced", "{}");
        let (report, logs) = env.process_logged();
        assert_eq!(report["failed"], 1, "{report}");
        let shown = env.show_text(&id);
        let json = env.show(&id).to_string();
        for text in [&logs, &shown, &json] {
            assert!(!text.contains("s3cret-mqtt-pw"), "password leaked: {text}");
        }
        assert!(shown.contains("relay:***@127.0.0.1"), "{shown}");
    }

    #[test]
    fn qos_0_is_a_config_error() {
        let env = Env::new(&config("topic = \"t\"\nqos = 0\n"));
        let out = env.cmd().arg("process-once").output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(
            err.contains("sinks.mq: qos = 0 cannot confirm a delivery"),
            "{err}"
        );
    }
}

// ---------------------------------------------------------------------------------------------

#[cfg(feature = "kafka")]
mod kafka {
    use super::*;
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    use rdkafka::config::ClientConfig;
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::message::{Headers, Message as _};
    use rdkafka::{Offset, TopicPartitionList};

    /// tansu (a Kafka-compatible broker), as `.ci/services` starts it.
    const BROKER: &str = "127.0.0.1:9092";

    /// A record as a consumer got it.
    #[derive(Debug)]
    struct Got {
        topic: String,
        partition: i32,
        key: String,
        headers: BTreeMap<String, String>,
        value: Value,
    }

    impl Got {
        fn id(&self) -> &str {
            &self.headers["outbox-id"]
        }
    }

    /// Polls a future to its end on this thread (rdkafka's admin calls are futures that its own
    /// thread completes; no runtime is needed).
    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        struct Unpark(std::thread::Thread);
        impl std::task::Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = std::task::Context::from_waker(&waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::park_timeout(Duration::from_millis(50));
        }
    }

    /// A topic of the test's own with `partitions` partitions.
    fn topic(prefix: &str, partitions: i32) -> String {
        let name = unique(prefix);
        create(&name, partitions);
        name
    }

    fn create(name: &str, partitions: i32) {
        create_on(BROKER, name, partitions);
    }

    fn create_on(broker: &str, name: &str, partitions: i32) {
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", broker)
            .create()
            .unwrap();
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(20)));
        let results = block_on(admin.create_topics(
            &[NewTopic::new(name, partitions, TopicReplication::Fixed(1))],
            &options,
        ))
        .expect("create the test topic");
        for r in results {
            r.unwrap_or_else(|e| panic!("create topic {name}: {e:?}"));
        }
    }

    /// Every record of these topics from the start, `n` of them, then checks that no other
    /// arrives soon after. Within a partition they come in offset order.
    fn consume(topics: &[&str], n: usize) -> Vec<Got> {
        consume_from(BROKER, topics, n)
    }

    fn consume_from(broker: &str, topics: &[&str], n: usize) -> Vec<Got> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", broker)
            .set("group.id", unique("outboxctl-test-"))
            .set("enable.auto.commit", "false")
            .create()
            .unwrap();
        let mut assignment = TopicPartitionList::new();
        for topic in topics {
            let metadata = consumer
                .fetch_metadata(Some(topic), Duration::from_secs(20))
                .unwrap();
            let partitions = metadata.topics()[0].partitions().len() as i32;
            assert!(partitions > 0, "topic {topic} has no partitions");
            for p in 0..partitions {
                assignment
                    .add_partition_offset(topic, p, Offset::Beginning)
                    .unwrap();
            }
        }
        consumer.assign(&assignment).unwrap();
        let mut out = Vec::with_capacity(n);
        let started = Instant::now();
        let mut quiet_until: Option<Instant> = None;
        loop {
            if out.len() >= n && quiet_until.is_none() {
                quiet_until = Some(Instant::now() + Duration::from_millis(500));
            }
            if quiet_until.is_some_and(|t| Instant::now() > t) {
                return out;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "only {} of {n} records arrived: {out:?}",
                out.len()
            );
            let Some(polled) = consumer.poll(Duration::from_millis(100)) else {
                continue;
            };
            let m = polled.expect("consume");
            let mut headers = BTreeMap::new();
            if let Some(hs) = m.headers() {
                for h in hs.iter() {
                    let value = String::from_utf8(h.value.unwrap_or_default().to_vec()).unwrap();
                    headers.insert(h.key.to_owned(), value);
                }
            }
            out.push(Got {
                topic: m.topic().to_owned(),
                partition: m.partition(),
                key: String::from_utf8(m.key().unwrap_or_default().to_vec()).unwrap(),
                headers,
                value: serde_json::from_slice(m.payload().unwrap_or_default()).unwrap(),
            });
            assert!(out.len() <= n, "a record arrived twice or unexpectedly: {out:?}");
        }
    }

    fn config(extra: &str) -> String {
        format!("[sinks.k]\n{}[routes]\n\"*\" = \"k\"\n", sink(extra))
    }

    /// A kafka sink's settings, on [`BROKER`] unless `extra` says otherwise.
    fn sink(extra: &str) -> String {
        if extra.contains("bootstrap_servers") {
            format!("kind = \"kafka\"\n{extra}")
        } else {
            format!("kind = \"kafka\"\nbootstrap_servers = \"{BROKER}\"\n{extra}")
        }
    }

    fn run(n: usize, ty: &str, key: impl Fn(usize) -> Option<String>) -> Vec<outboxctl::model::Message> {
        (0..n)
            .map(|i| {
                let mut m = message(&uuid::Uuid::now_v7().to_string(), ty, &format!("{{\"n\":{i}}}"));
                m.key = key(i);
                m
            })
            .collect()
    }

    #[test]
    fn a_run_arrives_once_keyed_with_headers_and_the_content() {
        let prefix = unique("outboxctl-test.");
        let types = ["OrderPlaced", "OrderShipped", "UserRegistered"];
        let topics: Vec<String> = types.iter().map(|t| format!("{prefix}.{t}")).collect();
        for t in &topics {
            create(t, 3);
        }
        let env = Env::new(&config(&format!("topic = \"{prefix}.{{type}}\"\n")));
        let traced = env.emit_traced("OrderPlaced", r#"{"order":1}"#);
        let keyed = env.json(&[
            "emit",
            "event",
            "OrderShipped",
            r#"{"order":1}"#,
            "--key",
            "order-1",
        ])["emitted"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let plain = env.emit("UserRegistered", r#"{"email":"q@r.s"}"#);
        let report = env.process();
        assert_eq!(report["delivered"], 3, "{report}");
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        let got = consume(&names, 3);
        let by_id: BTreeMap<&str, &Got> = got.iter().map(|g| (g.id(), g)).collect();
        assert_eq!(by_id.len(), 3, "{got:?}");
        for (id, ty) in [
            (&traced, "OrderPlaced"),
            (&keyed, "OrderShipped"),
            (&plain, "UserRegistered"),
        ] {
            let g = by_id[id.as_str()];
            assert_eq!(g.topic, format!("{prefix}.{ty}"));
            assert_eq!(g.headers["outbox-type"], ty);
            assert_eq!(g.headers["content-type"], "application/json");
            // The value is the event itself; what it is travels in headers.
            assert_eq!(g.headers["outbox-id"], id.as_str());
            assert!(g.value.get("id").is_none(), "{:?}", g.value);
            // The ordering key, else the Id.
            assert_eq!(g.key, if id == &keyed { "order-1" } else { id.as_str() });
            assert_eq!(
                g.headers.get("outbox-ordering-key").map(String::as_str),
                (id == &keyed).then_some("order-1")
            );
            assert_eq!(
                g.headers.get("traceparent").map(String::as_str),
                (id == &traced).then_some(TRACEPARENT)
            );
            assert_eq!(
                g.headers.get("tracestate").map(String::as_str),
                (id == &traced).then_some("vendor=1")
            );
        }
        assert_eq!(by_id[plain.as_str()].value, serde_json::json!({"email": "q@r.s"}));
        assert_eq!(by_id[keyed.as_str()].value, serde_json::json!({"order": 1}));
        for id in [&traced, &keyed, &plain] {
            assert_eq!(env.show(id)["state"], "processed");
        }
    }

    #[test]
    fn value_envelope_sends_the_envelope_and_bad_content_is_dead_either_way() {
        let topic = unique("outboxctl-test.");
        create(&topic, 1);
        let env = Env::new(&config(&format!("topic = \"{topic}\"\nvalue = \"envelope\"\n")));
        let id = env.emit("OrderPlaced", r#"{"order":2}"#);
        assert_eq!(env.process()["delivered"], 1);
        let got = consume(&[topic.as_str()], 1);
        assert_eq!(got[0].value["id"], id.as_str());
        assert_eq!(got[0].value["type"], "OrderPlaced");
        assert_eq!(got[0].value["content"], serde_json::json!({"order": 2}));
        // Content that is not JSON (another application wrote it): dead, with why, by default too.
        let plain = Env::new(&config(&format!("topic = \"{topic}\"\n")));
        plain.emit("OrderPlaced", "{}");
        plain.json(&["process-once"]);
        let db = rusqlite::Connection::open(plain.dir.path().join("outbox.db")).unwrap();
        db.execute(
            "INSERT INTO OutboxMessage (Id, Type, Content, OccuredOnUtc) VALUES ('bad', 'OrderPlaced', 'not json', '2030-01-01 00:00:00')",
            [],
        )
        .unwrap();
        plain.json(&["process-once"]);
        let bad = plain.show("bad");
        assert_eq!(bad["state"], "dead", "{bad}");
        assert!(bad["error"].as_str().unwrap().contains("not valid JSON"), "{bad}");
    }

    #[test]
    fn cloudevents_binary_mode_puts_the_attributes_in_ce_headers() {
        let topic = topic("outboxctl-test-ce-", 1);
        let mut router = sink_router(&sink(&format!(
            "topic = \"{topic}\"\ncloudevents = \"binary\"\nsource = \"/shop\"\n"
        )));
        let mut m = message(&uuid::Uuid::now_v7().to_string(), "OrderPlaced", r#"{"order":7}"#);
        m.trace_parent = Some(TRACEPARENT.into());
        // A replay with a fresh delivery id: the CloudEvents id, the message id beside it.
        m.delivery_id = Some(uuid::Uuid::new_v4().to_string());
        accepted(&mut router, std::slice::from_ref(&m));
        let got = consume(&[&topic], 1);
        let h = &got[0].headers;
        assert_eq!(h["ce_specversion"], "1.0");
        assert_eq!(Some(&h["ce_id"]), m.delivery_id.as_ref());
        assert_eq!(Some(&h["outbox-delivery-id"]), m.delivery_id.as_ref());
        assert_eq!(
            (h["outbox-id"].as_str(), h["ce_outboxid"].as_str()),
            (m.id.as_str(), m.id.as_str())
        );
        assert_eq!(h["ce_type"], "OrderPlaced");
        assert_eq!(h["ce_source"], "/shop");
        assert_eq!(h["ce_traceparent"], TRACEPARENT);
        assert_eq!(h["traceparent"], TRACEPARENT);
        assert_eq!(h["content-type"], "application/json");
        assert_eq!(got[0].value, serde_json::json!({"order": 7}));
    }

    #[test]
    fn one_key_lands_in_one_partition_in_order_across_pipelined_runs() {
        let topic = topic("outboxctl-test-keys-", 3);
        let mut router = sink_router(&sink(&format!("topic = \"{topic}\"\nmax_in_flight = 100\n")));
        let keys = ["order-1", "order-2", "order-3", "order-4", "order-5"];
        let runs: Vec<_> = (0..3)
            .map(|_| run(100, "OrderPlaced", |i| Some(keys[i % keys.len()].to_owned())))
            .collect();
        // As the relay pipelines them: the next run is sent before the previous one is waited for.
        let first = router.send("s", &runs[0]);
        let second = router.send("s", &runs[1]);
        assert!(first.wait().iter().all(Result::is_ok));
        let third = router.send("s", &runs[2]);
        assert!(second.wait().iter().all(Result::is_ok));
        assert!(third.wait().iter().all(Result::is_ok));
        let got = consume(&[&topic], 300);
        let mut partitions_used = std::collections::BTreeSet::new();
        for key in keys {
            let want: Vec<&str> = runs
                .iter()
                .flatten()
                .filter(|m| m.key.as_deref() == Some(key))
                .map(|m| m.id.as_str())
                .collect();
            let of_key: Vec<&Got> = got.iter().filter(|g| g.key == key).collect();
            let partitions: std::collections::BTreeSet<i32> = of_key.iter().map(|g| g.partition).collect();
            assert_eq!(partitions.len(), 1, "key {key} in one partition: {partitions:?}");
            partitions_used.extend(partitions);
            let arrived: Vec<&str> = of_key.iter().map(|g| g.id()).collect();
            assert_eq!(arrived, want, "key {key} in order");
        }
        assert!(partitions_used.len() > 1, "five keys spread over partitions");
    }

    #[test]
    fn a_broker_that_is_down_gets_everything_once_it_is_up() {
        let topic = topic("outboxctl-test-down-", 1);
        let port = free_port();
        let env = Env::new(&format!(
            "{}{}",
            retry_fast(),
            config(&format!(
                "bootstrap_servers_env = \"TEST_KAFKA_SERVERS\"\ntopic = \"{topic}\"\ntimeout = \"2s\"\n"
            ))
        ))
        .var("TEST_KAFKA_SERVERS", &format!("127.0.0.1:{port}"));
        let ids: Vec<String> = (0..4)
            .map(|i| env.emit("OrderPlaced", &format!("{{\"n\":{i}}}")))
            .collect();
        let started = Instant::now();
        let report = env.process();
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "bounded by the timeout"
        );
        assert_eq!(report["failed"], 4, "{report}");
        let m = env.show(&ids[0]);
        assert_eq!(m["state"], "retrying", "{m}");
        assert_eq!(m["attempts"], 1, "{m}");
        let error = m["error"].as_str().unwrap();
        assert!(
            error.contains(&format!("producing to Kafka (127.0.0.1:{port})")),
            "{m}"
        );
        assert!(error.contains("timed out"), "{m}");

        // The broker is back (the same relay config, the servers now pointing at it).
        let env = env.var("TEST_KAFKA_SERVERS", BROKER);
        for id in &ids {
            env.process_until_processed(id, 50);
        }
        let got: Vec<String> = consume(&[&topic], 4).iter().map(|g| g.id().to_owned()).collect();
        assert_eq!(got, ids, "everything arrives, once, in order");
    }

    /// A tansu of the test's own on `port` (in memory: a restart forgets every topic and
    /// producer), killed when dropped.
    fn tansu(port: u16) -> KillOnDrop {
        let home = std::env::var("HOME").unwrap_or_default();
        let bin = [format!("{home}/.cargo/bin/tansu"), "/usr/local/bin/tansu".into()]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .unwrap_or_else(|| "tansu".into());
        let url = format!("tcp://127.0.0.1:{port}");
        let child = KillOnDrop(
            std::process::Command::new(bin)
                .args([
                    "broker",
                    "--storage-engine",
                    "memory://tansu/",
                    "--listener-url",
                    &url,
                ])
                .args(["--advertised-listener-url", &url])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("tansu is installed (.ci/services installs it)"),
        );
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "tansu did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        child
    }

    /// One sink across an outage, as a running relay has it: its producer reconnects, and a
    /// broker that lost the producer's state (a restart in memory) costs retries, not the sink.
    #[test]
    fn one_producer_outlives_a_broker_restart() {
        let port = free_port();
        let broker = format!("127.0.0.1:{port}");
        let topic = unique("outboxctl-test-restart-");
        let server = tansu(port);
        create_on(&broker, &topic, 1);
        let mut router = sink_router(&sink(&format!(
            "bootstrap_servers = \"{broker}\"\ntopic = \"{topic}\"\ntimeout = \"3s\"\n"
        )));
        accepted(&mut router, &run(3, "OrderPlaced", |_| None));
        drop(server);
        let outcomes = router.send("s", &run(3, "OrderPlaced", |_| None)).wait();
        assert_eq!(outcomes.len(), 3);
        for o in &outcomes {
            match o {
                Err(outboxctl::sink::DeliveryError::Retryable(e)) => assert!(e.contains(&broker), "{e}"),
                other => panic!("expected a retryable failure: {other:?}"),
            }
        }
        let _server = tansu(port);
        create_on(&broker, &topic, 1);
        // As the relay does: what failed is sent again, until it is accepted.
        let again = run(5, "OrderPlaced", |_| None);
        let mut pending: Vec<outboxctl::model::Message> = again.clone();
        for _ in 0..5 {
            let outcomes = router.send("s", &pending).wait();
            pending = pending
                .into_iter()
                .zip(outcomes)
                .filter(|(_, o)| o.is_err())
                .map(|(m, _)| m)
                .collect();
            if pending.is_empty() {
                break;
            }
        }
        assert!(pending.is_empty(), "still failing after five tries: {pending:?}");
        let got = consume_from(&broker, &[&topic], 5);
        let ids: std::collections::BTreeSet<&str> = got.iter().map(Got::id).collect();
        let want: std::collections::BTreeSet<&str> = again.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, want);
    }

    /// tansu creates no topic on its own: it answers UNKNOWN_TOPIC_OR_PARTITION, which is final.
    #[test]
    fn an_unknown_topic_is_dead_with_the_broker_reason() {
        let prefix = unique("outboxctl-test-none-");
        let env = Env::new(&config(&format!(
            "topic = \"{prefix}.{{type}}\"\ntimeout = \"4s\"\n"
        )));
        let id = env.emit("OrderPlaced", "{}");
        let report = env.process();
        assert_eq!(report["dead"], 1, "{report}");
        let m = env.show(&id);
        assert_eq!(m["state"], "dead", "{m}");
        let error = m["error"].as_str().unwrap();
        assert!(
            error.contains("Kafka refused the message (127.0.0.1:9092)")
                && error.contains("Unknown topic or partition"),
            "{m}"
        );
    }

    #[test]
    fn a_record_too_large_is_dead_alone_with_the_reason() {
        let topic = topic("outboxctl-test-large-", 1);
        let env = Env::new(&config(&format!(
            "topic = \"{topic}\"\n[sinks.k.options]\n\"message.max.bytes\" = 2000\n"
        )));
        let small = env.emit("OrderPlaced", "{}");
        let big = env.emit("OrderPlaced", &format!("{{\"pad\":\"{}\"}}", "x".repeat(5000)));
        let report = env.process();
        assert_eq!(
            (report["delivered"].as_u64(), report["dead"].as_u64()),
            (Some(1), Some(1)),
            "{report}"
        );
        let m = env.show(&big);
        assert_eq!(m["state"], "dead", "{m}");
        let error = m["error"].as_str().unwrap();
        assert!(error.contains("Kafka refused the message"), "{m}");
        assert!(error.to_lowercase().contains("too large"), "{m}");
        let got = consume(&[&topic], 1);
        assert_eq!(got[0].id(), small);
    }

    #[test]
    fn a_bad_setting_is_a_one_line_config_error() {
        for (setting, want) in [
            (
                "topic = \"t\"\n[sinks.k.options]\nacks = 1\n",
                "sinks.k: options may not set acks",
            ),
            (
                "topic = \"t\"\nbootstrap_servers = \"nohost\"\n",
                "sinks.k: bootstrap_servers must be host:port",
            ),
        ] {
            let env = Env::new(&config(setting));
            let out = env.cmd().arg("process-once").output().unwrap();
            assert_eq!(out.status.code(), Some(2));
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(err.trim().lines().count(), 1, "{err}");
            assert!(err.contains(want), "{err}");
        }
    }
}

// ---------------------------------------------------------------------------------------------

#[cfg(all(feature = "http", feature = "redis"))]
mod several_destinations {
    use super::*;

    #[test]
    fn a_retry_skips_the_destinations_that_already_accepted_and_show_tells_which() {
        let rx = Receiver::start(vec![answer(503)]);
        let stream = unique("outboxctl-test:");
        let env = Env::new(&format!(
            "{}[sinks.web]\nkind = \"http\"\nurl = \"{}\"\n[sinks.events]\nkind = \"redis\"\nstream = \"{stream}\"\n[routes]\nOrderPlaced = [\"events\", \"web\"]\n",
            retry_fast(),
            rx.url()
        ));
        let id = env.emit("OrderPlaced", r#"{"order":7}"#);
        assert_eq!(env.process()["failed"], 1);
        let m = env.show(&id);
        assert_eq!(m["deliveries"][0]["destination"], "events");
        assert_eq!(m["failures"][0]["destination"], "web");
        let text = env.show_text(&id);
        assert!(
            text.contains("Delivered to:") && text.contains("events"),
            "{text}"
        );
        assert!(text.contains("[web]"), "{text}");

        env.process_until_processed(&id, 50);
        let n: usize = redis::cmd("XLEN")
            .arg(&stream)
            .query(
                &mut redis::Client::open("redis://127.0.0.1:6379")
                    .unwrap()
                    .get_connection()
                    .unwrap(),
            )
            .unwrap();
        assert_eq!(n, 1, "the retry did not add to the stream again");
        assert_eq!(rx.requests().len(), 2);
        let _: () = redis::cmd("DEL")
            .arg(&stream)
            .query(
                &mut redis::Client::open("redis://127.0.0.1:6379")
                    .unwrap()
                    .get_connection()
                    .unwrap(),
            )
            .unwrap();
    }
}
