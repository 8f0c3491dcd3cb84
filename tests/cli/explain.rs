//! `outboxctl explain ID`: one plain answer for each state a message can be in.

use serde_json::Value;

use crate::common::*;

const T0: &str = "2030-01-01T00:00:00Z";

fn explain_at(env: &TestEnv, now: &str, id: &str) -> Value {
    env.json_at(now, &["explain", id])
}

#[test]
fn every_state_gets_its_own_answer_and_what_to_do() {
    let env = TestEnv::new();
    env.config(
        "[retry]\nmax_attempts = 2\n\n[routes]\nOk = \"noop\"\nBoth = [\"noop\", \"log\"]\n\
         Broken = \"broken\"\n\n[sinks.broken]\nkind = \"exec\"\ncommand = [\"false\"]\n",
    );
    let unrouted = env.emit_at(T0, "Nobody");
    let due = env.emit_at(T0, "Ok");
    let failing = env.emit_at(T0, "Broken");

    // Before any relay ran.
    let v = explain_at(&env, T0, &unrouted);
    assert_eq!(
        (v["state"].as_str(), v["reason"].as_str()),
        (Some("pending"), Some("no_route"))
    );
    assert!(
        v["answer"].as_str().unwrap().contains("add `Nobody = \"SINK\"`"),
        "{v}"
    );
    assert_eq!(v["routes"], serde_json::json!([]));
    let v = explain_at(&env, T0, &due);
    assert_eq!(v["reason"], "due", "{v}");
    assert_eq!(v["since"], "2030-01-01T00:00:00Z");
    assert!(v["answer"].as_str().unwrap().contains("outboxctl run"), "{v}");
    assert_eq!(v["action"], Value::Null);

    // One pass: Ok is delivered, Broken fails and waits for its backoff.
    env.ok_at(T0, &["process-once", "-q"]);
    let v = explain_at(&env, T0, &due);
    assert_eq!(
        (v["state"].as_str(), v["reason"].as_str()),
        (Some("processed"), Some("processed"))
    );
    assert_eq!(v["routes"], serde_json::json!(["noop"]));
    let v = explain_at(&env, T0, &failing);
    assert_eq!(
        (v["state"].as_str(), v["reason"].as_str()),
        (Some("retrying"), Some("backoff")),
        "{v}"
    );
    assert_eq!(
        (v["attempt"].as_i64(), v["max_attempts"].as_i64()),
        (Some(1), Some(2))
    );
    assert!(v["error"].as_str().unwrap().contains("exit"), "{v}");
    assert_eq!(v["action"], format!("outboxctl retry --id {failing}"));
    let text = env.ok_at(T0, &["explain", &failing]).stdout;
    assert!(
        text.contains("not due until") && text.contains("attempt 1 of 2"),
        "{text}"
    );
    assert!(
        text.contains(&format!("To act: outboxctl retry --id {failing}")),
        "{text}"
    );

    // Past the backoff it is due again; the second failure is its last.
    let later = "2030-01-01T01:00:00Z";
    assert_eq!(explain_at(&env, later, &failing)["reason"], "due");
    env.ok_at(later, &["process-once", "-q"]);
    let v = explain_at(&env, later, &failing);
    assert_eq!(
        (v["state"].as_str(), v["reason"].as_str()),
        (Some("dead"), Some("dead")),
        "{v}"
    );
    assert_eq!(v["attempts"], 2);
    assert_eq!(v["action"], format!("outboxctl retry --id {failing}"));
}

#[test]
fn a_claimed_a_partly_delivered_and_an_unreadable_message_are_told_apart() {
    let env = TestEnv::new();
    env.config("[routes]\nBoth = [\"noop\", \"log\"]\n");
    let claimed = env.emit_at(T0, "Both");
    let partly = env.emit_at(T0, "Both");
    let unreadable = env.emit_at(T0, "Both");
    let db = env.db();
    db.execute(
        "UPDATE OutboxMessage SET LockedBy = 'relay-7', LockedUntilUtc = '2030-01-01 00:05:00',
             NextAttemptOnUtc = '2030-01-01 00:05:00', Attempts = 1 WHERE Id = ?1",
        [&claimed],
    )
    .unwrap();
    db.execute(
        "INSERT INTO OutboxMessage_Delivery (MessageId, Destination, DeliveredOnUtc)
         VALUES (?1, 'noop', '2030-01-01 00:00:00')",
        [&partly],
    )
    .unwrap();
    db.execute(
        "UPDATE OutboxMessage SET Content = CAST(X'FF00' AS BLOB) WHERE Id = ?1",
        [&unreadable],
    )
    .unwrap();

    let v = explain_at(&env, T0, &claimed);
    assert_eq!(
        (v["state"].as_str(), v["reason"].as_str()),
        (Some("in_flight"), Some("claimed")),
        "{v}"
    );
    assert_eq!(v["by"], "relay-7");
    assert_eq!(v["until"], "2030-01-01T00:05:00Z");
    // Once the lease ran out, nobody holds it.
    assert_eq!(
        explain_at(&env, "2030-01-01T00:06:00Z", &claimed)["reason"],
        "due"
    );

    let v = explain_at(&env, T0, &partly);
    assert_eq!(v["reason"], "due", "{v}");
    assert_eq!(v["accepted_by"], serde_json::json!(["noop"]));
    assert!(
        v["answer"]
            .as_str()
            .unwrap()
            .ends_with("already accepted by noop, still to go: log"),
        "{v}"
    );

    let v = explain_at(&env, T0, &unreadable);
    assert_eq!(v["reason"], "unreadable", "{v}");
    assert!(v["problems"][0].as_str().unwrap().starts_with("Content "), "{v}");

    // An unknown id: exit 4, one line.
    let err = env.fails(&["explain", "no-such-id"], 4);
    assert!(err.contains("no message with id no-such-id"), "{err}");
}
