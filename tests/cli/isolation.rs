//! Poison isolation: a message whose delivery kills its relay is parked after three crashes while
//! the rest flows; a destination that fails everything has its circuit opened, and the messages
//! for it wait without spending their attempts.

use std::os::unix::process::ExitStatusExt;

use crate::common::*;

#[test]
fn a_message_that_kills_its_relay_is_parked_after_three_crashes_and_the_rest_flows() {
    let env = TestEnv::new();
    // The handler takes its relay down (kill -9 of its parent) whenever it is given a Poison.
    env.exec_handler(
        r#"echo "$OUTBOX_MESSAGE_TYPE $OUTBOX_MESSAGE_ID" >> received
if [ "$OUTBOX_MESSAGE_TYPE" = Poison ]; then kill -9 $PPID; fi
"#,
        &["Ok", "Poison"],
        "",
    );
    let mut ids = Vec::new();
    for (i, ty) in ["Ok", "Ok", "Poison", "Ok", "Ok"].iter().enumerate() {
        let at = format!("2024-01-01 00:00:0{i}");
        ids.push(
            env.json_at(&at, &["emit", "event", ty, "{}"])["emitted"][0]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let poison = ids[2].clone();

    // A cron-style relay, an hour apart each time: every lease (5 minutes) has run out by then.
    let (mut kills, mut runs) = (0, 0);
    for hour in 1..=15 {
        let now = format!("2024-01-01 {hour:02}:00:00");
        let out = env
            .cmd()
            .args(["process-once"])
            .env("OUTBOX_NOW", &now)
            .output()
            .unwrap();
        runs += 1;
        match out.status.signal() {
            Some(9) => kills += 1,
            _ => assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr)),
        }
        let stats = env.json_at(&now, &["stats"]);
        if stats["pending"] == 0 && stats["retrying"] == 0 && stats["in_flight"] == 0 {
            break;
        }
    }
    assert_eq!(kills, 3, "the poison took down three relays, then no more");
    assert!(runs <= 10, "{runs} runs");
    let got = received(&env);
    assert_eq!(
        got.iter().filter(|l| l.ends_with(&poison)).count(),
        3,
        "delivered three times, then parked: {got:?}"
    );
    // Everything else was delivered (some twice, around the kills), and only the poison is dead.
    for id in ids.iter().filter(|id| **id != poison) {
        assert!(!env.show(id)["processed_on"].is_null(), "{id} delivered");
        assert!(got.iter().any(|l| l.ends_with(id.as_str())));
    }
    let p = env.show(&poison);
    assert!(!p["dead_on"].is_null(), "{p}");
    assert_eq!(p["crashes"], 3);
    let error = p["error"].as_str().unwrap();
    assert!(
        error.starts_with("parked after 3 deliveries that ended with no outcome"),
        "{error}"
    );
    assert!(
        error.contains(&format!("outboxctl retry --id {poison}")),
        "{error}"
    );
    let why = env.json(&["explain", &poison]);
    assert_eq!(why["reason"], "parked", "{why}");
    let park = &env.json(&["audit"])["entries"][0];
    assert_eq!(
        (park["action"].as_str(), park["ids"][0].as_str()),
        (Some("park"), Some(poison.as_str()))
    );
    // The relay that parked it, as it names itself in LockedBy: host:pid:random.
    assert_eq!(park["actor"].as_str().unwrap().matches(':').count(), 2, "{park}");
    assert_eq!(why["state"], "dead");
    assert!(why["answer"].as_str().unwrap().contains("died or hung"), "{why}");
    // Parked means dead until an operator acts: no relay touches it again.
    env.ok_at("2024-01-02 00:00:00", &["process-once"]);
    assert_eq!(received(&env).len(), got.len());
    // A retry brings it back with a clean slate (here it kills the relay again, as it would).
    env.ok(&["retry", "--id", &poison]);
    assert!(env.show(&poison)["crashes"].is_null(), "crashes reset to 0");
}

#[test]
fn a_destination_that_fails_everything_is_left_alone_and_its_messages_keep_their_attempts() {
    let env = TestEnv::new();
    // The handler fails until the file `up` exists.
    env.write(
        "handler.sh",
        r#"if [ -e up ]; then echo "$OUTBOX_MESSAGE_ID" >> received; else echo "connection refused" >&2; exit 1; fi
"#,
    );
    env.config(
        r#"[circuit]
failures = 3
cooldown = "1m"

[sinks.h]
kind = "exec"
command = ["/bin/sh", "handler.sh"]

[routes]
Down = "h"
Fine = "noop"
"#,
    );
    for i in 0..10 {
        env.ok_at(
            &format!("2024-01-01 00:00:{i:02}"),
            &["emit", "event", "Down", "{}"],
        );
    }
    for i in 0..3 {
        env.ok_at(
            &format!("2024-01-01 00:00:{:02}", 20 + i),
            &["emit", "event", "Fine", "{}"],
        );
    }
    let t1 = "2024-01-01 00:01:00";
    let report = env.json_at(t1, &["process-once"]);
    // Three failures in a row opened the circuit: the other seven went back unattempted, and
    // the other destination's messages went through.
    assert_eq!(
        (&report["delivered"], &report["failed"], &report["deferred"]),
        (&3.into(), &3.into(), &7.into()),
        "{report}"
    );
    let stats = env.json_at(t1, &["stats"]);
    let circuits = stats["open_circuits"].as_array().unwrap();
    assert_eq!(circuits.len(), 1, "{stats}");
    assert_eq!(circuits[0]["destination"], "h");
    assert_eq!(circuits[0]["failures"], 3);
    assert!(
        circuits[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("connection refused")
    );
    let waiting = env.json_at(t1, &["list", "--type", "Down", "--limit", "100"]);
    let waiting = waiting["messages"].as_array().unwrap();
    let unattempted: Vec<&serde_json::Value> = waiting.iter().filter(|m| m["attempts"] == 0).collect();
    assert_eq!(unattempted.len(), 7, "{waiting:?}");
    let id = unattempted[0]["id"].as_str().unwrap();
    let why = env.json_at(t1, &["explain", id]);
    assert_eq!(why["reason"], "circuit_open", "{why}");
    assert_eq!(why["destination"], "h");
    assert!(
        why["answer"]
            .as_str()
            .unwrap()
            .contains("open until 2024-01-01 00:02:00"),
        "{why}"
    );
    // health warns (exit 1) and names the destination; human stats show it.
    let out = env.run_at(t1, &["health"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("circuit open for h until 2024-01-01 00:02:00"),
        "{}",
        out.stdout
    );
    let metrics = env.run_at(t1, &["stats", "--format", "prometheus"]).stdout;
    assert!(metrics.contains("\noutbox_open_circuits 1\n"), "{metrics}");
    assert!(
        metrics.contains("\noutbox_circuit_open{destination=\"h\"} 1\n"),
        "{metrics}"
    );
    let out = env.run_at(t1, &["stats", "--format", "table"]);
    assert!(out.stdout.contains("circuit open: h until"), "{}", out.stdout);

    // Before its time nothing is sent, and no attempt is spent.
    let report = env.json_at("2024-01-01 00:01:30", &["process-once"]);
    assert_eq!(report["delivered"], 0, "{report}");
    assert!(received(&env).is_empty());

    // The destination is back: one probe closes the circuit and everything goes.
    env.write("up", "");
    let t2 = "2024-01-01 00:05:00";
    let report = env.json_at(t2, &["process-once"]);
    assert_eq!(report["delivered"], 10, "{report}");
    assert_eq!(received(&env).len(), 10);
    assert_eq!(
        env.json_at(t2, &["stats"])["open_circuits"],
        serde_json::json!([])
    );
    assert_eq!(env.run_at(t2, &["health"]).code, 0);
    let metrics = env.run_at(t2, &["stats", "--format", "prometheus"]).stdout;
    assert!(
        metrics.contains("\noutbox_open_circuits 0\n") && !metrics.contains("outbox_circuit_open{"),
        "{metrics}"
    );
}

/// Content a sink cannot encode is the message's own failure: however many such rows come in a
/// row, the destination's circuit stays closed and the good messages go through.
#[test]
fn malformed_rows_do_not_open_the_circuit() {
    let env = TestEnv::new();
    env.exec_handler(
        "cat > /dev/null\necho \"$OUTBOX_MESSAGE_ID\" >> received\n",
        &["T"],
        "[circuit]\nfailures = 2\n",
    );
    env.ok(&["init"]);
    let db = env.db();
    for i in 0..5 {
        db.execute(
            "INSERT INTO OutboxMessage (Id, Type, Content, OccuredOnUtc) VALUES (?1, 'T', '{not json', ?2)",
            rusqlite::params![format!("bad-{i}"), format!("2024-01-01 00:00:0{i}")],
        )
        .unwrap();
    }
    let good = env.emit_at("2024-01-01 00:00:09", "T");
    let report = env.json_at("2024-01-01 00:01:00", &["process-once"]);
    assert_eq!(
        (&report["dead"], &report["delivered"]),
        (&5.into(), &1.into()),
        "{report}"
    );
    assert_eq!(
        env.json_at("2024-01-01 00:01:00", &["stats"])["open_circuits"],
        serde_json::json!([])
    );
    assert_eq!(received(&env), vec![good]);
}
