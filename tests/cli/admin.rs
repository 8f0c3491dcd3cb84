//! Operating it: list, show, stats, retry and purge.

use crate::common::*;

const OLD: &str = "2020-01-01 00:00:00";

/// Messages in every state, at pinned times:
/// a1, a2 processed (a2 later); x1 dead; x2 retrying; a3 and b1 pending.
struct Scene {
    env: TestEnv,
    a1: String,
    a2: String,
    x1: String,
    x2: String,
    a3: String,
    b1: String,
}

fn scene() -> Scene {
    let env = TestEnv::new();
    env.config("[retry]\nmax_attempts = 2\nbackoff = \"1h\"\n\n[routes]\nA = \"noop\"\n");
    let a1 = env.emit_at("2024-01-01 00:00:01", "A");
    let a2 = env.emit_at("2024-01-01 00:00:02", "A");
    env.ok_at("2024-01-01 01:00:00", &["process-once", "--batch-size", "1"]);
    env.ok_at("2024-01-01 01:01:00", &["process-once", "--batch-size", "1"]);
    let x1 = env.emit_at("2024-01-01 00:00:03", "X");
    env.ok_at("2024-01-01 02:00:00", &["process-once", "--batch-size", "1"]);
    let x2 = env.emit_at("2024-01-01 00:00:04", "X");
    env.ok_at("2024-01-01 02:01:00", &["process-once", "--batch-size", "1"]);
    // x1's second and last attempt: dead. x2 is due too but outside the batch.
    env.ok_at("2024-01-01 06:00:00", &["process-once", "--batch-size", "1"]);
    let a3 = env.emit_at("2024-01-01 00:00:05", "A");
    let b1 = env.emit_at("2024-01-01 00:00:06", "B");
    Scene {
        env,
        a1,
        a2,
        x1,
        x2,
        a3,
        b1,
    }
}

#[test]
fn list_filters_and_orders() {
    let s = scene();
    let list = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["list"];
        a.extend(args);
        ids(&s.env.json(&a))
    };
    // Unprocessed (the default) includes dead ones, oldest first.
    assert_eq!(
        list(&[]),
        [s.x1.as_str(), s.x2.as_str(), s.a3.as_str(), s.b1.as_str()]
    );
    assert_eq!(list(&["--unprocessed"]), list(&[]));
    assert_eq!(list(&["--failed"]), [s.x1.as_str(), s.x2.as_str()]);
    assert_eq!(list(&["--dead"]), [s.x1.as_str()]);
    // Processed: most recently processed first.
    assert_eq!(list(&["--processed"]), [s.a2.as_str(), s.a1.as_str()]);
    assert_eq!(list(&["--type", "A"]), [s.a3.as_str()]);
    assert_eq!(
        list(&["--processed", "--type", "A", "--limit", "1"]),
        [s.a2.as_str()]
    );
    assert_eq!(list(&["--type", "Nope"]), Vec::<String>::new());
    assert_eq!(list(&["--limit", "2"]), [s.x1.as_str(), s.x2.as_str()]);
    s.env.fails(&["list", "--failed", "--dead"], 2);

    let all = s.env.json(&["list", "--limit", "10"]);
    let states: Vec<&str> = all["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["dead", "retrying", "pending", "pending"]);

    // Human output: one row per message, plain columns on a pipe.
    let o = s.env.ok(&["list"]);
    let rows: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(rows.len(), 5, "{}", o.stdout);
    assert!(rows[0].contains("ID") && rows[0].contains("STATE"));
    assert!(rows[1].contains(&s.x1) && rows[1].contains("dead"));
    assert!(rows[1].contains("no handler for type X"));
}

#[test]
fn stats_counts_every_state_and_type() {
    let s = scene();
    let st = s.env.stats();
    assert_eq!(st["total"], 6);
    assert_eq!(st["processed"], 2);
    assert_eq!(st["failed"], 2);
    assert_eq!(st["dead"], 1);
    assert_eq!(st["retrying"], 1);
    assert_eq!(st["pending"], 2);
    assert_eq!(st["in_flight"], 0);
    // The oldest unprocessed message that is not dead is x2.
    assert_eq!(st["oldest_unprocessed_on"], "2024-01-01T00:00:04Z");
    assert!(st["oldest_unprocessed_age_seconds"].as_f64().unwrap() > 86_400.0);
    let by: std::collections::BTreeMap<&str, &serde_json::Value> = st["by_type"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["type"].as_str().unwrap(), t))
        .collect();
    assert_eq!(by.keys().copied().collect::<Vec<_>>(), ["A", "B", "X"]);
    assert_eq!(
        (by["A"]["total"].as_u64(), by["A"]["processed"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(by["A"]["pending"], 1);
    assert_eq!(
        (by["X"]["dead"].as_u64(), by["X"]["retrying"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(by["B"]["pending"], 1);

    let o = s.env.ok(&["stats"]);
    assert!(
        o.stdout.contains("(all)") && o.stdout.contains("oldest unprocessed"),
        "{}",
        o.stdout
    );
}

#[test]
fn show_prints_every_field_content_and_error_history() {
    let s = scene();
    let m = s.env.show(&s.x1);
    for field in [
        "id",
        "type",
        "content",
        "occurred_on",
        "processed_on",
        "error",
        "attempts",
        "next_attempt_on",
        "locked_by",
        "locked_until",
        "dead_on",
        "last_attempt_on",
        "state",
        "failures",
    ] {
        assert!(m.get(field).is_some(), "show lacks {field}: {m}");
    }
    assert_eq!(m["type"], "X");
    assert_eq!(m["attempts"], 2);
    assert_eq!(m["occurred_on"], "2024-01-01T00:00:03Z");
    assert_eq!(m["last_attempt_on"], "2024-01-01T06:00:00Z");
    assert_eq!(m["dead_on"], "2024-01-01T06:00:00Z");
    let failures = m["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 2);
    assert_eq!(failures[0]["failed_on"], "2024-01-01T02:00:00Z");
    assert_eq!(failures[1]["attempt"], 2);

    // Full content, however long, and the full error in the human view.
    let long = format!("{{\"text\":\"{}END\"}}", "x".repeat(5000));
    let id = s.env.json(&["emit", "event", "Long", &long])["emitted"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(s.env.show(&id)["content"], long.as_str());
    let o = s.env.ok(&["show", &id]);
    assert!(o.stdout.contains(&format!("{}END", "x".repeat(5000))));
    let o = s.env.ok(&["show", &s.x1]);
    for label in [
        "Id:",
        "Type:",
        "State:",
        "OccuredOnUtc:",
        "ProcessedOnUtc:",
        "Attempts:",
        "Error:",
        "Failures:",
    ] {
        assert!(o.stdout.contains(label), "show lacks {label}:\n{}", o.stdout);
    }
    assert!(o.stdout.contains("no handler for type X"));

    // Ids are matched whatever their case.
    assert_eq!(s.env.show(&s.x1.to_uppercase())["id"], s.x1.as_str());
    let line = s.env.fails(&["show", "00000000-0000-0000-0000-000000000000"], 4);
    assert!(line.contains("00000000-0000-0000-0000-000000000000"), "{line}");
}

#[test]
fn retry_selects_failed_dead_or_ids() {
    let s = scene();
    let env = &s.env;
    let now = "2024-01-01 06:30:00";
    let snapshot = || -> Vec<(String, Option<String>, i64, Option<String>)> {
        let db = env.db();
        let mut st = db
            .prepare("SELECT Id, NextAttemptOnUtc, Attempts, DeadOnUtc FROM OutboxMessage ORDER BY Id")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let before = snapshot();
    assert_eq!(
        env.json_at(now, &["retry", "--failed", "--dry-run"]),
        serde_json::json!({"dry_run": true, "retried": 1})
    );
    assert_eq!(env.json_at(now, &["retry", "--dead", "--dry-run"])["retried"], 1);
    assert_eq!(
        env.json_at(now, &["retry", "--id", &s.x1, &s.x2, "--dry-run"])["retried"],
        2
    );
    assert_eq!(snapshot(), before, "--dry-run changed something");

    // An unknown id: exit 4, nothing changed, even for the known ids beside it.
    let line = env.fails_at(now, &["retry", "--id", &s.x2, "no-such-id"], 4);
    assert!(line.contains("no-such-id"), "{line}");
    assert_eq!(snapshot(), before);
    env.fails(&["retry"], 2);
    env.fails(&["retry", "--failed", "--dead"], 2);

    // --failed makes x2 due now, keeping its attempt count.
    assert_eq!(env.json_at(now, &["retry", "--failed"])["retried"], 1);
    let m = env.show(&s.x2);
    assert!(m["next_attempt_on"].is_null());
    assert_eq!(
        (m["attempts"].as_u64(), m["state"].as_str()),
        (Some(1), Some("retrying"))
    );
    // --dead brings x1 back with a fresh set of attempts.
    assert_eq!(env.json_at(now, &["retry", "--dead"])["retried"], 1);
    let m = env.show(&s.x1);
    assert!(m["dead_on"].is_null() && m["next_attempt_on"].is_null());
    assert_eq!(m["attempts"], 0);
    assert_eq!(env.json_at(now, &["retry", "--dead"])["retried"], 0);
    // --id works on any unprocessed message, and the human output says how many.
    let o = env.run_at(now, &["retry", "--id", &s.x1, &s.a3]);
    assert_eq!(o.code, 0, "{o:#?}");
    assert_eq!(o.stdout.trim(), "retried 2 messages");
    // Processed messages are not retried.
    assert_eq!(env.json_at(now, &["retry", "--id", &s.a1])["retried"], 0);
    assert_eq!(env.show(&s.a1)["state"], "processed");
}

#[test]
fn purge_deletes_only_old_processed_messages() {
    let env = TestEnv::new();
    env.write("fail.sh", "#!/bin/sh\nexit 1\n");
    env.config(
        "[retry]\nbackoff = \"1m\"\n\n[sinks.fail]\nkind = \"exec\"\ncommand = [\"/bin/sh\", \"fail.sh\"]\n\n[routes]\nGood = \"noop\"\nFail = \"fail\"\nBroken = \"log\"\n",
    );
    let old: Vec<String> = (0..3).map(|_| env.emit_at(OLD, "Good")).collect();
    let failing = env.emit_at(OLD, "Fail");
    env.db()
        .execute(
            "INSERT INTO OutboxMessage (Id, Type, Content, OccuredOnUtc) VALUES ('dead-1', 'Broken', 'oops', ?1)",
            [OLD],
        )
        .unwrap();
    env.ok_at(OLD, &["process-once"]);
    assert_eq!(env.show("dead-1")["state"], "dead");
    let recent = env.emit("Good", 2);
    env.ok(&["process-once"]); // the failing one fails again, now
    let pending = env.emit_at(OLD, "Good");
    assert_eq!(env.show(&failing)["state"], "retrying");
    let count = || env.count("SELECT count(*) FROM OutboxMessage");
    assert_eq!(count(), 8);

    let dry = env.json(&["purge", "--older-than", "7d", "--dry-run"]);
    assert_eq!(
        (dry["dry_run"].as_bool(), dry["deleted"].as_u64()),
        (Some(true), Some(3))
    );
    assert_eq!(count(), 8);

    // No --yes and stdin is not a terminal: refuse, delete nothing.
    let line = env.fails(&["purge", "--older-than", "7d"], 2);
    assert!(line.contains("--yes"), "{line}");
    assert_eq!(count(), 8);

    let done = env.json(&["purge", "--older-than", "7d", "--yes"]);
    assert_eq!(
        (done["dry_run"].as_bool(), done["deleted"].as_u64()),
        (Some(false), Some(3))
    );
    for id in &old {
        env.fails(&["show", id], 4);
    }
    for id in recent.iter().chain([&failing, &pending, &"dead-1".to_owned()]) {
        env.show(id);
    }
    assert_eq!(env.show(&failing)["failures"].as_array().unwrap().len(), 2);
    let st = env.stats();
    assert_eq!(
        (st["total"].as_u64(), st["processed"].as_u64()),
        (Some(5), Some(2))
    );
    assert_eq!(
        (
            st["dead"].as_u64(),
            st["retrying"].as_u64(),
            st["pending"].as_u64()
        ),
        (Some(1), Some(1), Some(1))
    );

    // Everything older than 1ms: still only processed rows go.
    let o = env.ok(&["purge", "--older-than", "1ms", "-y"]);
    assert!(
        o.stdout.starts_with("deleted 2 processed messages"),
        "{}",
        o.stdout
    );
    assert_eq!(count(), 3);
    assert_eq!(env.json(&["purge", "--older-than", "1ms"])["deleted"], 0);
    env.fails(&["purge", "--older-than", "seven days", "--yes"], 2);
    env.fails(&["purge", "--yes"], 2);
}

#[test]
fn purge_works_in_chunks_and_keeps_counts_right() {
    let env = TestEnv::new();
    env.ok(&["init"]);
    env.db()
        .execute_batch(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12000)
             INSERT INTO OutboxMessage (Id, Type, Content, OccuredOnUtc, ProcessedOnUtc)
             SELECT printf('old-%05d', i), 'Old', '{}', '2020-01-01 00:00:00', '2020-01-01 00:00:01' FROM n;
             INSERT INTO OutboxMessage (Id, Type, Content, OccuredOnUtc)
             VALUES ('waiting', 'Old', '{}', '2019-01-01 00:00:00');",
        )
        .unwrap();
    let st = env.stats();
    assert_eq!(
        (st["total"].as_u64(), st["processed"].as_u64()),
        (Some(12_001), Some(12_000))
    );
    assert_eq!(
        env.json(&["purge", "--older-than", "1d", "--yes"])["deleted"],
        12_000
    );
    let st = env.stats();
    assert_eq!(
        (
            st["total"].as_u64(),
            st["processed"].as_u64(),
            st["pending"].as_u64()
        ),
        (Some(1), Some(0), Some(1))
    );
    assert_eq!(env.show("waiting")["state"], "pending");
}

/// Every operator action is in the audit trail, with who ran it and its command line; dry runs
/// and reads are not. `purge` keeps audit rows for their own retention.
#[test]
fn operator_actions_are_audited_with_who_and_what() {
    let s = scene();
    let env = &s.env;
    let as_alice = |now: &str, args: &[&str]| {
        let mut c = env.cmd();
        c.args(args).env("OUTBOX_NOW", now).env("USER", "alice");
        let o = env.output(c);
        assert_eq!(o.code, 0, "{o:#?}");
        o
    };
    let now = "2024-01-01 06:30:00";
    as_alice(now, &["retry", "--dead", "--dry-run"]);
    as_alice(now, &["stats"]);
    assert_eq!(
        env.json(&["audit"])["entries"],
        serde_json::json!([]),
        "reads and dry runs"
    );
    as_alice(now, &["retry", "--dead"]);
    as_alice("2024-01-01 06:31:00", &["skip", &s.x2]);
    as_alice(
        "2024-01-01 06:32:00",
        &["retry", "--id", &s.x1, "--format", "json"],
    );
    as_alice("2024-01-02 00:00:00", &["purge", "--older-than", "1h", "--yes"]);

    let log = env.json(&["audit"]);
    let entries = log["entries"].as_array().unwrap();
    let brief: Vec<(String, String, u64)> = entries
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap().to_owned(),
                e["action"].as_str().unwrap().to_owned(),
                e["messages"].as_u64().unwrap(),
            )
        })
        .collect();
    let row = |a: &str, b: &str, n: u64| (a.to_owned(), b.to_owned(), n);
    assert_eq!(
        brief,
        vec![
            row("alice", "purge", 2),
            row("alice", "retry", 1),
            row("alice", "skip", 1),
            row("alice", "retry", 1),
        ],
        "{log}"
    );
    assert_eq!(entries[3]["filter"], "dead");
    assert_eq!(entries[3]["at"], "2024-01-01T06:30:00Z");
    assert_eq!(entries[2]["ids"], serde_json::json!([s.x2]));
    assert!(
        entries[1]["command"]
            .as_str()
            .unwrap()
            .ends_with(&format!("retry --id {} --format json", s.x1))
    );
    assert!(
        entries[0]["filter"]
            .as_str()
            .unwrap()
            .starts_with("processed before 2024-01-01 23:00:00")
    );
    // --since a time or a duration ago; the table for people.
    assert_eq!(
        env.json_at(
            "2024-01-02 00:00:00",
            &["audit", "--since", "2024-01-01 06:31:00"]
        )["entries"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        env.json_at("2024-01-02 00:00:00", &["audit", "--since", "1h"])["entries"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let table = env.run(&["audit"]).stdout;
    assert!(
        table.contains("alice") && table.contains("skip") && table.contains(&s.x2),
        "{table}"
    );
    let err = env.fails(&["audit", "--since", "yesterday-ish"], 2);
    assert!(err.contains("neither a time"), "{err}");

    // The audit trail's own retention: a purge a year later drops what is older than 30 days.
    env.config(
        "[retry]\nmax_attempts = 2\nbackoff = \"1h\"\n\n[routes]\nA = \"noop\"\n\n[audit]\nretention = \"30d\"\n",
    );
    as_alice("2025-01-02 00:00:00", &["purge", "--older-than", "1h", "--yes"]);
    let left = env.json(&["audit"]);
    assert_eq!(left["entries"].as_array().unwrap().len(), 1, "{left}");
    assert_eq!(left["entries"][0]["at"], "2025-01-02T00:00:00Z");
}
