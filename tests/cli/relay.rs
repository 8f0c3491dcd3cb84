//! Processing: the exec handler contract, failures and retries, overlapping relays, crashes and
//! the `run` loop.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::Value;

use crate::common::*;

const LATER: &str = "2099-01-01 00:00:00";

#[test]
fn exec_handler_gets_the_message_on_stdin_and_its_env() {
    let env = TestEnv::new();
    std::fs::create_dir(env.path("got")).unwrap();
    env.exec_handler(
        r#"#!/bin/sh
cat > "got/$OUTBOX_MESSAGE_ID.json"
printf '%s\n%s\n%s\n' "$OUTBOX_MESSAGE_ID" "$OUTBOX_MESSAGE_TYPE" "$OUTBOX_ATTEMPT" > "got/$OUTBOX_MESSAGE_ID.env"
echo "some output on stdout"
"#,
        &["OrderPlaced"],
        "",
    );
    let ids = env.emit("OrderPlaced", 3);
    let r = env.json(&["process-once"]);
    assert_eq!(
        (r["claimed"].as_u64(), r["delivered"].as_u64()),
        (Some(3), Some(3))
    );
    for (i, id) in ids.iter().enumerate() {
        let body: Value = serde_json::from_str(&env.read(&format!("got/{id}.json"))).unwrap();
        assert_eq!(body["id"], id.as_str());
        assert_eq!(body["type"], "OrderPlaced");
        assert_eq!(body["attempt"], 1);
        assert_eq!(body["content"], serde_json::json!({ "n": i }));
        assert!(body["occurred_on"].is_string());
        let vars = env.read(&format!("got/{id}.env"));
        assert_eq!(
            vars.lines().collect::<Vec<_>>(),
            [id.as_str(), "OrderPlaced", "1"]
        );
        let m = env.show(id);
        assert_eq!(m["state"], "processed");
        assert!(m["error"].is_null());
    }
}

#[test]
fn failing_handler_stores_a_bounded_tail_of_its_stderr() {
    let env = TestEnv::new();
    env.exec_handler(
        r#"#!/bin/sh
i=0
while [ $i -lt 400 ]; do echo "noise line $i of a chatty handler" >&2; i=$((i+1)); done
echo "the real reason: upstream said no" >&2
exit 3
"#,
        &["OrderPlaced"],
        "",
    );
    let id = env.emit("OrderPlaced", 1).remove(0);
    let r = env.json(&["process-once"]);
    assert_eq!(
        (r["delivered"].as_u64(), r["failed"].as_u64()),
        (Some(0), Some(1))
    );
    let m = env.show(&id);
    let error = m["error"].as_str().unwrap();
    assert!(error.contains("exited with status 3"), "{error}");
    assert!(error.ends_with("the real reason: upstream said no"), "{error}");
    assert!(error.len() < 3000, "Error is not bounded: {} bytes", error.len());
    assert!(
        !error.contains("noise line 0 "),
        "the head of stderr should be cut"
    );
    assert_eq!(m["state"], "retrying");
    assert_eq!(m["attempts"], 1);
    assert!(m["processed_on"].is_null());
    assert_eq!(m["failures"].as_array().unwrap().len(), 1);
    assert_eq!(
        env.count("SELECT count(*) FROM OutboxMessage WHERE ProcessedOnUtc IS NOT NULL"),
        0
    );
}

#[test]
fn handler_timeout_is_a_failure() {
    let env = TestEnv::new();
    env.write("handler.sh", "#!/bin/sh\necho started >&2\nsleep 30\n");
    env.config(
        r#"
[sinks.slow]
kind = "exec"
command = ["/bin/sh", "handler.sh"]
timeout = "300ms"

[routes]
Slow = "slow"
"#,
    );
    let id = env.emit("Slow", 1).remove(0);
    let r = env.json(&["process-once"]);
    assert_eq!(
        (r["delivered"].as_u64(), r["failed"].as_u64()),
        (Some(0), Some(1))
    );
    let m = env.show(&id);
    let error = m["error"].as_str().unwrap();
    assert!(error.contains("timed out"), "{error}");
    assert!(
        error.contains("started"),
        "the stderr tail is kept on a timeout too: {error}"
    );
    assert!(m["processed_on"].is_null());
}

#[test]
fn a_type_without_handler_is_retried_then_dead() {
    let env = TestEnv::new();
    env.config("[retry]\nmax_attempts = 2\nbackoff = \"1m\"\n");
    let id = env.emit("NobodyListens", 1).remove(0);
    let good = env.json(&["emit", "user-registered"])["emitted"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = env.json(&["process-once"]);
    assert_eq!(
        (r["delivered"].as_u64(), r["failed"].as_u64()),
        (Some(1), Some(1))
    );
    let m = env.show(&id);
    assert_eq!(m["error"], "no handler for type NobodyListens");
    assert_eq!(m["state"], "retrying");
    assert_eq!(env.show(&good)["state"], "processed");

    let r = env.json_at(LATER, &["process-once"]);
    assert_eq!(r["dead"], 1);
    let m = env.show(&id);
    assert_eq!(m["state"], "dead");
    assert!(m["dead_on"].is_string());
    assert_eq!(m["failures"].as_array().unwrap().len(), 2);
    // Dead messages no longer compete.
    assert_eq!(env.json_at(LATER, &["process-once"])["claimed"], 0);
}

#[test]
fn malformed_content_fails_that_message_only() {
    let env = TestEnv::new();
    env.ok(&["emit", "user-registered", "--email", "first@example.com"]);
    env.db()
        .execute(
            "INSERT INTO OutboxMessage (Id, Type, Content, OccuredOnUtc)
             VALUES ('bad-1', 'UserRegistered', 'this is not json', '2000-01-01 00:00:00')",
            [],
        )
        .unwrap();
    env.ok(&["emit", "user-registered", "--email", "second@example.com"]);
    let o = env.ok(&["process-once", "--format", "json"]);
    let r = o.json();
    assert_eq!(r["claimed"], 3);
    assert_eq!(r["delivered"], 2, "{o:#?}");
    let m = env.show("bad-1");
    assert!(m["error"].as_str().unwrap().contains("malformed content"), "{m}");
    assert!(m["processed_on"].is_null());
    // Retrying cannot fix malformed content, so it is dead at once.
    assert_eq!(m["state"], "dead");
    assert_eq!(env.stats()["processed"], 2);
}

#[test]
fn failing_handler_reaches_dead_after_max_attempts_with_growing_delays() {
    let env = TestEnv::new();
    env.exec_handler(
        "#!/bin/sh\necho \"attempt $OUTBOX_ATTEMPT failed\" >&2\nexit 1\n",
        &["Flaky"],
        "[retry]\nmax_attempts = 4\nbackoff = \"10s\"\nmax_backoff = \"1h\"\n",
    );
    let id = env.emit_at("2030-01-01 00:00:00", "Flaky");
    let parse = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    // Step the pinned clock to each next attempt time.
    let mut now = chrono::DateTime::parse_from_rfc3339("2030-01-01T00:00:01Z").unwrap();
    let mut delays = Vec::new();
    for attempt in 1..=4 {
        let at = now.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
        let r = env.json_at(&at, &["process-once"]);
        assert_eq!(r["claimed"], 1, "attempt {attempt}");
        // Before the next attempt is due, nothing is claimed.
        let m = env.show(&id);
        assert_eq!(m["attempts"], attempt);
        assert_eq!(parse(&m["last_attempt_on"]), now);
        if attempt < 4 {
            assert_eq!(m["state"], "retrying");
            let next = parse(&m["next_attempt_on"]);
            delays.push((next - now).num_milliseconds());
            let early = (now + (next - now) / 2).format("%Y-%m-%d %H:%M:%S").to_string();
            assert_eq!(env.json_at(&early, &["process-once"])["claimed"], 0);
            now = next;
        } else {
            assert_eq!(m["state"], "dead");
            assert!(m["next_attempt_on"].is_null());
            assert!(m["dead_on"].is_string());
            assert_eq!(r["dead"], 1);
        }
    }
    assert!(
        delays.windows(2).all(|w| w[1] >= w[0]),
        "delays must grow: {delays:?}"
    );
    assert!(
        delays[0] >= 5_000 && delays[0] <= 10_000,
        "first delay within backoff: {delays:?}"
    );
    assert!(
        delays[2] >= 20_000,
        "third delay is at least 4x base/2: {delays:?}"
    );
    // Every failure is kept, not just the last.
    let m = env.show(&id);
    let failures = m["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 4);
    for (i, f) in failures.iter().enumerate() {
        assert_eq!(f["attempt"], i as u64 + 1);
        assert!(
            f["error"]
                .as_str()
                .unwrap()
                .contains(&format!("attempt {} failed", i + 1)),
            "{f}"
        );
    }
    assert!(m["error"].as_str().unwrap().contains("attempt 4 failed"));
}

#[test]
fn overlapping_process_once_runs_never_deliver_twice() {
    let env = TestEnv::new();
    env.exec_handler(RECORDING_HANDLER, &["Job"], "");
    env.ok(&["init"]);
    // Insert directly: quicker than 80 emit processes.
    {
        let mut db = env.db();
        let tx = db.transaction().unwrap();
        for i in 0..80 {
            tx.execute(
                "INSERT INTO OutboxMessage (Id, Type, Content, OccuredOnUtc)
                 VALUES (printf('job-%03d', ?1), 'Job', '{}', strftime('%Y-%m-%d %H:%M:%f', 'now'))",
                [i],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    for _round in 0..20 {
        let mut children: Vec<_> = (0..5)
            .map(|i| env.spawn(&format!("p{i}"), &["process-once", "--batch-size", "7"]))
            .collect();
        for c in &mut children {
            assert!(wait_exit(c, Duration::from_secs(120)).success());
        }
        if env.count("SELECT count(*) FROM OutboxMessage WHERE ProcessedOnUtc IS NULL") == 0 {
            break;
        }
    }
    let delivered = lines(&env.path("deliveries.log"));
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for id in &delivered {
        *seen.entry(id).or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    assert_eq!(seen.len(), 80);
    assert_eq!(
        env.count("SELECT count(*) FROM OutboxMessage WHERE ProcessedOnUtc IS NOT NULL"),
        80
    );
    assert_eq!(env.stats()["processed"], 80);
}

#[test]
fn kill_9_of_run_mid_batch_loses_nothing() {
    let env = TestEnv::new();
    env.write("handler.sh", RECORDING_HANDLER);
    env.config(
        r#"lease = "5s"

[sinks.h]
kind = "exec"
command = ["/bin/sh", "handler.sh"]
timeout = "2s"
env = { HANDLER_SLEEP = "0.2" }

[routes]
Job = "h"
"#,
    );
    let ids: BTreeSet<String> = env.emit("Job", 25).into_iter().collect();
    let mut relay = env.spawn("run", &["run", "--every", "100ms", "--batch-size", "10"]);
    let log = env.path("deliveries.log");
    wait_until("some deliveries happened", Duration::from_secs(60), || {
        lines(&log).len() >= 4
    });
    relay.kill().unwrap(); // SIGKILL
    relay.wait().unwrap();

    // Nothing is marked processed without its delivery.
    let delivered: BTreeSet<String> = lines(&log).into_iter().collect();
    let processed: Vec<String> = {
        let db = env.db();
        let mut st = db
            .prepare("SELECT Id FROM OutboxMessage WHERE ProcessedOnUtc IS NOT NULL")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert!(processed.len() < 25, "the relay was killed mid-batch");
    for id in &processed {
        assert!(delivered.contains(id), "{id} is processed without a delivery");
    }
    // Some claims are left behind; once their lease expired another relay takes them over.
    let now = (chrono::Utc::now() + chrono::Duration::minutes(10))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    env.drain(Some(&now), &[]);
    let delivered: BTreeSet<String> = lines(&log).into_iter().collect();
    assert_eq!(delivered, ids, "every message is delivered at least once");
    assert_eq!(
        env.count("SELECT count(*) FROM OutboxMessage WHERE ProcessedOnUtc IS NULL"),
        0
    );
    assert_eq!(
        env.count("SELECT count(*) FROM OutboxMessage WHERE LockedBy IS NOT NULL"),
        0
    );
}

fn stop_run_with(sig: &str) {
    let env = TestEnv::new();
    env.exec_handler(RECORDING_HANDLER, &["Job"], "");
    env.emit("Job", 12);
    let mut relay = env.cmd();
    relay
        .args(["run", "--every", "1h", "--batch-size", "12"])
        .env("HANDLER_SLEEP", "0.5")
        .stdout(std::fs::File::create(env.path("run.out")).unwrap())
        .stderr(std::fs::File::create(env.path("run.err")).unwrap());
    let mut relay = relay.spawn().unwrap();
    let log = env.path("deliveries.log");
    wait_until("a delivery started", Duration::from_secs(60), || {
        !lines(&log).is_empty()
    });
    // The batch is claimed: stats and list see it in flight, owned by this relay.
    assert!(env.stats()["in_flight"].as_u64().unwrap() >= 1);
    let listed = env.json(&["list"]);
    let owner = listed["messages"][0]["locked_by"].as_str().unwrap().to_owned();
    assert!(
        owner.contains(&relay.id().to_string()),
        "the owner names the relay's pid: {owner}"
    );
    signal(&relay, sig);
    let status = wait_exit(&mut relay, Duration::from_secs(60));
    assert_eq!(status.code(), Some(0), "stderr: {}", env.read("run.err"));
    let stderr = env.read("run.err");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // The message in flight finished and was marked; the rest of the batch was given back.
    let delivered = lines(&log);
    let processed = env.count("SELECT count(*) FROM OutboxMessage WHERE ProcessedOnUtc IS NOT NULL");
    assert!((1..12).contains(&processed), "processed {processed}");
    assert_eq!(
        processed as usize,
        delivered.len(),
        "each delivery is marked, none is half done"
    );
    assert_eq!(
        env.count(
            "SELECT count(*) FROM OutboxMessage WHERE LockedBy IS NOT NULL OR LockedUntilUtc IS NOT NULL"
        ),
        0,
        "no message stays locked by a stopped relay"
    );
    // Released messages are due now, their unstarted attempt not counted.
    assert_eq!(
        env.count(
            "SELECT count(*) FROM OutboxMessage WHERE ProcessedOnUtc IS NULL
             AND NextAttemptOnUtc IS NULL AND Attempts = 0 AND Error IS NULL"
        ),
        12 - processed
    );
    assert_eq!(
        env.json(&["process-once"])["delivered"].as_i64(),
        Some(12 - processed)
    );
}

#[test]
fn sigterm_stops_run_and_releases_the_batch() {
    stop_run_with("TERM");
}

#[test]
fn sigint_stops_run_and_releases_the_batch() {
    stop_run_with("INT");
}

#[test]
fn run_drains_full_batches_without_waiting_for_the_tick() {
    let env = TestEnv::new();
    env.config("[routes]\nJob = \"noop\"\n");
    env.emit("Job", 30);
    let mut relay = env.spawn("run", &["run", "--every", "1h", "--batch-size", "5"]);
    wait_until("all 30 are processed", Duration::from_secs(60), || {
        env.count("SELECT count(*) FROM OutboxMessage WHERE ProcessedOnUtc IS NOT NULL") == 30
    });
    assert!(relay.try_wait().unwrap().is_none(), "run keeps running");
    signal(&relay, "TERM");
    assert_eq!(wait_exit(&mut relay, Duration::from_secs(30)).code(), Some(0));
}

#[test]
fn run_accepts_a_cron_schedule_and_processes_at_start() {
    let env = TestEnv::new();
    env.ok(&["emit", "user-registered"]);
    let mut relay = env.spawn("run", &["run", "--cron", "* * * * *"]);
    wait_until("the message is processed", Duration::from_secs(60), || {
        env.count("SELECT count(*) FROM OutboxMessage WHERE ProcessedOnUtc IS NOT NULL") == 1
    });
    signal(&relay, "TERM");
    assert_eq!(wait_exit(&mut relay, Duration::from_secs(30)).code(), Some(0));
}

#[test]
fn run_refuses_bad_schedules() {
    let env = TestEnv::new();
    let line = env.fails(&["run", "--cron", "every tuesday"], 2);
    assert!(line.contains("cron"), "{line}");
    env.fails(&["run", "--cron", "61 * * * *"], 2);
    env.fails(&["run", "--every", "soon"], 2);
    env.fails(&["run", "--every", "0s"], 2);
    env.fails(&["run", "--every", "1s", "--cron", "* * * * *"], 2);
}

#[test]
fn process_once_on_an_empty_outbox_exits_0() {
    let env = TestEnv::new();
    let o = env.ok(&["process-once"]);
    assert_eq!(o.stdout.trim(), "nothing due");
    let r = env.json(&["process-once"]);
    assert_eq!(r["claimed"], 0);
    // -q: no summary.
    let o = env.ok(&["process-once", "-q"]);
    assert_eq!(o.stdout, "");
}

#[test]
fn an_expired_claim_is_taken_over_and_a_live_one_is_not() {
    let env = TestEnv::new();
    env.config("[routes]\nJob = \"noop\"\n");
    env.ok(&["init"]);
    env.db()
        .execute_batch(
            "INSERT INTO OutboxMessage (Id, Type, Content, OccuredOnUtc, Attempts, LockedBy, LockedUntilUtc, NextAttemptOnUtc)
             VALUES ('expired', 'Job', '{}', '2024-01-01 00:00:00', 1, 'crashed-relay', '2024-01-01 00:05:00', '2024-01-01 00:05:00'),
                    ('live', 'Job', '{}', '2024-01-01 00:00:01', 1, 'busy-relay', '2099-01-01 00:00:00', '2099-01-01 00:00:00');",
        )
        .unwrap();
    let st = env.stats();
    assert_eq!(
        (st["in_flight"].as_u64(), st["pending"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(env.show("live")["state"], "in_flight");
    let r = env.json(&["process-once"]);
    assert_eq!(
        (r["claimed"].as_u64(), r["delivered"].as_u64()),
        (Some(1), Some(1))
    );
    let m = env.show("expired");
    assert_eq!(m["state"], "processed");
    assert_eq!(m["attempts"], 2);
    assert!(m["locked_by"].is_null());
    let m = env.show("live");
    assert_eq!(
        (m["state"].as_str(), m["locked_by"].as_str()),
        (Some("in_flight"), Some("busy-relay"))
    );
}

#[test]
fn a_batch_longer_than_the_lease_keeps_its_claims() {
    let env = TestEnv::new();
    env.write("handler.sh", RECORDING_HANDLER);
    env.config(
        r#"lease = "5s"

[sinks.h]
kind = "exec"
command = ["/bin/sh", "handler.sh"]
timeout = "3s"
env = { HANDLER_SLEEP = "0.5" }

[routes]
Job = "h"
"#,
    );
    let ids: BTreeSet<String> = env.emit("Job", 12).into_iter().collect();
    let mut slow = env.spawn("slow", &["process-once", "--batch-size", "12"]);
    let log = env.path("deliveries.log");
    wait_until("the slow batch started", Duration::from_secs(60), || {
        !lines(&log).is_empty()
    });
    // While the slow relay works through 6+ seconds of batch (longer than its lease), others keep trying to claim.
    while slow.try_wait().unwrap().is_none() {
        let r = env.json(&["process-once"]);
        assert_eq!(r["claimed"], 0, "a claim of a live relay was taken over: {r}");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(slow.wait().unwrap().success());
    let delivered = lines(&log);
    assert_eq!(delivered.len(), 12, "{delivered:?}");
    assert_eq!(delivered.into_iter().collect::<BTreeSet<_>>(), ids);
}

#[test]
fn several_destinations_are_each_delivered_once() {
    let env = TestEnv::new();
    env.write("one.sh", "#!/bin/sh\necho \"$OUTBOX_MESSAGE_ID\" >> one.log\n");
    env.write("two.sh", "#!/bin/sh\n[ -e two.ok ] || { echo 'two is down' >&2; exit 1; }\necho \"$OUTBOX_MESSAGE_ID\" >> two.log\n");
    env.config(
        r#"[retry]
backoff = "1s"

[sinks.one]
kind = "exec"
command = ["/bin/sh", "one.sh"]

[sinks.two]
kind = "exec"
command = ["/bin/sh", "two.sh"]

[routes]
Fanout = ["one", "two"]
"#,
    );
    let id = env.emit("Fanout", 1).remove(0);
    let r = env.json(&["process-once"]);
    assert_eq!(r["failed"], 1);
    let m = env.show(&id);
    assert!(m["error"].as_str().unwrap().contains("two is down"), "{m}");
    assert_eq!(m["deliveries"][0]["destination"], "one");
    assert_eq!(m["failures"][0]["destination"], "two");
    std::fs::write(env.path("two.ok"), "").unwrap();
    assert_eq!(env.json_at(LATER, &["process-once"])["delivered"], 1);
    assert_eq!(
        lines(&env.path("one.log")),
        [id.as_str()],
        "a destination that accepted got it again"
    );
    assert_eq!(lines(&env.path("two.log")), [id.as_str()]);
    let m = env.show(&id);
    assert_eq!(m["state"], "processed");
    assert!(m["error"].is_null());
}

#[test]
fn a_handler_that_cannot_start_is_a_failure() {
    let env = TestEnv::new();
    env.config("[sinks.x]\nkind = \"exec\"\ncommand = [\"/nonexistent/handler\"]\n\n[routes]\nJob = \"x\"\n");
    let id = env.emit("Job", 1).remove(0);
    assert_eq!(env.json(&["process-once"])["failed"], 1);
    let error = env.show(&id)["error"].as_str().unwrap().to_owned();
    assert!(error.contains("/nonexistent/handler"), "{error}");
}

#[test]
fn malformed_content_fails_even_on_the_noop_sink() {
    let env = TestEnv::new();
    env.config("[routes]\n\"*\" = \"noop\"\n");
    env.ok(&["init"]);
    env.db()
        .execute(
            "INSERT INTO OutboxMessage (Id, Type, Content, OccuredOnUtc)
             VALUES ('bad-1', 'Anything', '{\"unterminated\": ', '2000-01-01 00:00:00')",
            [],
        )
        .unwrap();
    env.emit("Anything", 1);
    let r = env.json(&["process-once"]);
    assert_eq!((r["delivered"].as_u64(), r["dead"].as_u64()), (Some(1), Some(1)));
    let m = env.show("bad-1");
    assert_eq!(m["state"], "dead");
    assert!(m["error"].as_str().unwrap().contains("malformed content"), "{m}");
}

#[test]
fn a_slow_handler_never_blocks_the_applications_writes() {
    let env = TestEnv::new();
    env.write("handler.sh", RECORDING_HANDLER);
    env.config(
        "busy_timeout = \"200ms\"\n\n[sinks.h]\nkind = \"exec\"\ncommand = [\"/bin/sh\", \"handler.sh\"]\nenv = { HANDLER_SLEEP = \"5\" }\n\n[routes]\nJob = \"h\"\n",
    );
    env.emit("Job", 1);
    let mut relay = env.spawn("slow", &["process-once"]);
    let log = env.path("deliveries.log");
    wait_until("the handler started", Duration::from_secs(60), || {
        !lines(&log).is_empty()
    });
    // While the handler sleeps, the application writes with a 200ms busy timeout.
    for i in 0..3 {
        env.ok(&["emit", "user-registered", "--email", &format!("u{i}@example.com")]);
    }
    assert!(
        relay.try_wait().unwrap().is_none(),
        "the handler should still be running"
    );
    assert!(wait_exit(&mut relay, Duration::from_secs(60)).success());
    assert_eq!(env.stats()["processed"], 1);
}

#[test]
fn a_second_sigint_exits_at_once_with_130() {
    let env = TestEnv::new();
    env.write("handler.sh", RECORDING_HANDLER);
    env.config(
        "[sinks.h]\nkind = \"exec\"\ncommand = [\"/bin/sh\", \"handler.sh\"]\nenv = { HANDLER_SLEEP = \"5\" }\n\n[routes]\nJob = \"h\"\n",
    );
    env.emit("Job", 2);
    let mut relay = env.spawn("run", &["run", "--every", "1h"]);
    let log = env.path("deliveries.log");
    wait_until("the handler started", Duration::from_secs(60), || {
        !lines(&log).is_empty()
    });
    signal(&relay, "INT");
    std::thread::sleep(Duration::from_millis(200));
    signal(&relay, "INT");
    assert_eq!(wait_exit(&mut relay, Duration::from_secs(15)).code(), Some(130));
    assert_eq!(
        env.count("SELECT count(*) FROM OutboxMessage WHERE ProcessedOnUtc IS NOT NULL"),
        0
    );
}

/// The W3C trace context an application wrote arrives unchanged in the handler's environment
/// (`TRACEPARENT`, `TRACESTATE`, the OpenTelemetry convention) and in the envelope on stdin; a
/// message without one gets none, even when the relay itself runs inside a trace; an invalid
/// `--traceparent` is refused; `show` and `explain` show it.
#[test]
fn the_trace_context_reaches_the_handler_unchanged() {
    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let env = TestEnv::new();
    env.exec_handler(
        "cat > \"in-$OUTBOX_MESSAGE_ID.json\"\necho \"$OUTBOX_MESSAGE_ID [$TRACEPARENT] [$TRACESTATE]\" >> received\n",
        &["Traced"],
        "",
    );
    let traced = env.json(&[
        "emit",
        "event",
        "Traced",
        "{}",
        "--traceparent",
        PARENT,
        "--tracestate",
        "vendor=1,other=2",
    ])["emitted"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let plain = env.json(&["emit", "event", "Traced", "{}"])["emitted"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The relay runs inside a trace of its own: not the messages'.
    let mut c = env.cmd();
    c.args(["process-once"]).env(
        "TRACEPARENT",
        "00-11111111111111111111111111111111-2222222222222222-01",
    );
    assert_eq!(env.output(c).code, 0);
    let got = lines(&env.path("received"));
    assert!(
        got.contains(&format!("{traced} [{PARENT}] [vendor=1,other=2]")),
        "{got:?}"
    );
    assert!(got.contains(&format!("{plain} [] []")), "{got:?}");
    let envelope: serde_json::Value = serde_json::from_str(&env.read(&format!("in-{traced}.json"))).unwrap();
    assert_eq!(envelope["traceparent"], PARENT);
    assert_eq!(envelope["tracestate"], "vendor=1,other=2");
    let envelope: serde_json::Value = serde_json::from_str(&env.read(&format!("in-{plain}.json"))).unwrap();
    assert!(envelope.get("traceparent").is_none(), "{envelope}");

    assert_eq!(env.show(&traced)["traceparent"], PARENT);
    assert!(
        env.run(&["show", &traced])
            .stdout
            .contains(&format!("TraceParent:      {PARENT}"))
    );
    assert_eq!(
        env.json(&["explain", &traced])["trace_id"],
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    // Not a traceparent: refused, nothing written.
    let err = env.fails(
        &["emit", "event", "Traced", "{}", "--traceparent", "not-a-trace"],
        2,
    );
    assert!(err.contains("is not a W3C traceparent"), "{err}");
    assert_eq!(env.count("SELECT count(*) FROM OutboxMessage"), 2);
}
