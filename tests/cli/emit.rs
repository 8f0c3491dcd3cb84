//! The application side: `emit user-registered` and `emit event`.

use crate::common::*;

#[test]
fn first_run_emits_processes_and_reports() {
    let env = TestEnv::new();
    let emitted = env.json(&[
        "emit",
        "user-registered",
        "--email",
        "ada@example.com",
        "--name",
        "Ada",
    ]);
    let id = emitted["emitted"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(emitted["emitted"][0]["type"], "UserRegistered");
    assert!(
        env.db_path().is_file(),
        "the default database outbox.db is created in the cwd"
    );

    let o = env.ok(&["process-once", "--format", "json"]);
    let report = o.json();
    assert_eq!(report["claimed"], 1);
    assert_eq!(report["delivered"], 1);
    assert_eq!(report["failed"], 0);
    // The sample handler logs the welcome email it would send, on stderr.
    assert!(o.stderr.contains("welcome email to ada@example.com"), "{o:#?}");

    let stats = env.stats();
    assert_eq!(stats["total"], 1);
    assert_eq!(stats["processed"], 1);
    assert_eq!(stats["failed"], 0);
    assert_eq!(stats["pending"], 0);
    assert_eq!(stats["by_type"][0]["type"], "UserRegistered");
    assert_eq!(stats["by_type"][0]["processed"], 1);
    let shown = env.show(&id);
    assert_eq!(shown["state"], "processed");
    assert!(shown["processed_on"].is_string());
    let content: serde_json::Value = serde_json::from_str(shown["content"].as_str().unwrap()).unwrap();
    assert_eq!(content["email"], "ada@example.com");
    assert_eq!(content["name"], "Ada");
}

#[test]
fn new_database_file_is_private_and_in_wal_mode() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    env.ok(&["init"]);
    let mode = std::fs::metadata(env.db_path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let journal: String = env
        .db()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(journal.to_lowercase(), "wal");
}

#[test]
fn duplicate_email_writes_neither_row() {
    let env = TestEnv::new();
    env.ok(&["emit", "user-registered", "--email", "dup@example.com"]);
    let users = || env.count("SELECT count(*) FROM Users");
    let messages = || env.count("SELECT count(*) FROM OutboxMessage");
    assert_eq!((users(), messages()), (1, 1));

    let line = env.fails(&["emit", "user-registered", "--email", "dup@example.com"], 5);
    assert!(
        line.contains("dup@example.com") && line.contains("already exists"),
        "{line}"
    );
    assert_eq!((users(), messages()), (1, 1), "a failed emit left a row behind");
}

#[test]
fn count_writes_one_user_and_one_message_each() {
    let env = TestEnv::new();
    let v = env.json(&["emit", "user-registered", "--count", "7"]);
    assert_eq!(v["emitted"].as_array().unwrap().len(), 7);
    assert_eq!(env.count("SELECT count(*) FROM Users"), 7);
    assert_eq!(env.count("SELECT count(DISTINCT Email) FROM Users"), 7);
    assert_eq!(
        env.count("SELECT count(*) FROM OutboxMessage WHERE Type = 'UserRegistered'"),
        7
    );
    // Each message names its own user.
    assert_eq!(
        env.count(
            "SELECT count(*) FROM OutboxMessage m JOIN Users u
             ON json_extract(m.Content, '$.user_id') = u.Id AND json_extract(m.Content, '$.email') = u.Email"
        ),
        7
    );
    // Table output on a pipe: a plain summary line, no progress bar.
    let o = env.ok(&["emit", "user-registered", "--count", "3"]);
    assert_eq!(o.stdout.trim(), "emitted 3 messages");
    assert!(
        o.stderr.is_empty(),
        "no progress bar when stderr is not a terminal: {o:#?}"
    );
}

#[test]
fn emit_user_rejects_bad_input_without_writing() {
    let env = TestEnv::new();
    env.ok(&["init"]);
    env.fails(&["emit", "user-registered", "--email", "not-an-email"], 2);
    env.fails(
        &["emit", "user-registered", "--email", "a@b.c", "--count", "2"],
        2,
    );
    env.fails(&["emit", "user-registered", "--count", "0"], 2);
    assert_eq!(env.count("SELECT count(*) FROM OutboxMessage"), 0);
}

#[test]
fn emit_event_takes_content_inline_from_a_file_and_from_stdin() {
    let env = TestEnv::new();
    let inline = env.json(&["emit", "event", "OrderPlaced", r#"{"order":1}"#]);
    env.write("order.json", "{\"order\": 2,\n \"lines\": [1, 2]}\n");
    let file = env.json(&["emit", "event", "OrderPlaced", "@order.json"]);
    let o = env.run_input(
        &["emit", "event", "OrderShipped", "-", "--format", "json"],
        r#"{"order": 3}"#,
    );
    assert_eq!(o.code, 0, "{o:#?}");
    let stdin = o.json();

    let content = |v: &serde_json::Value| -> (String, serde_json::Value) {
        let id = v["emitted"][0]["id"].as_str().unwrap();
        let (ty, c): (String, String) = env
            .db()
            .query_row(
                "SELECT Type, Content FROM OutboxMessage WHERE Id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        (ty, serde_json::from_str(&c).unwrap())
    };
    assert_eq!(
        content(&inline),
        ("OrderPlaced".into(), serde_json::json!({"order": 1}))
    );
    assert_eq!(
        content(&file),
        (
            "OrderPlaced".into(),
            serde_json::json!({"order": 2, "lines": [1, 2]})
        )
    );
    assert_eq!(
        content(&stdin),
        ("OrderShipped".into(), serde_json::json!({"order": 3}))
    );
    assert_eq!(env.count("SELECT count(*) FROM OutboxMessage"), 3);
}

#[test]
fn invalid_json_is_refused_and_nothing_is_written() {
    let env = TestEnv::new();
    env.ok(&["init"]);
    let line = env.fails(&["emit", "event", "OrderPlaced", "{not json"], 2);
    assert!(line.contains("not valid JSON"), "{line}");
    env.write("bad.json", "{\"a\": ");
    env.fails(&["emit", "event", "OrderPlaced", "@bad.json"], 2);
    let o = env.run_input(&["emit", "event", "OrderPlaced", "-"], "<xml/>");
    assert_fails(&o, 2, "emit from stdin");
    // Empty stdin is not JSON either.
    env.fails(&["emit", "event", "OrderPlaced", "-"], 2);
    let line = env.fails(&["emit", "event", "OrderPlaced", "@missing.json"], 2);
    assert!(line.contains("missing.json"), "{line}");
    env.fails(&["emit", "event", " Spaced", "{}"], 2);
    assert_eq!(env.count("SELECT count(*) FROM OutboxMessage"), 0);
}
