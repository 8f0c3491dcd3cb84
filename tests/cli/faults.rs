//! Bad input and faults: one clear line, a documented exit code, data left intact, no panic.
//!
//! Not covered: read-only and unreadable database files. The tests run as root, for whom file
//! permissions do not stop reading or writing, so a chmod-based test would prove nothing.

use std::time::Duration;

use crate::common::*;

#[test]
fn unknown_flags_and_values_are_usage_errors() {
    let env = TestEnv::new();
    for args in [
        vec!["--bogus"],
        vec!["stats", "--bogus"],
        vec!["frobnicate"],
        vec!["--format", "xml", "stats"],
        vec!["list", "--limit", "0"],
        vec!["list", "--limit", "many"],
        vec!["process-once", "--batch-size", "0"],
        vec!["process-once", "--batch-size", "-5"],
        vec!["show"],
        vec!["emit", "event", "OnlyAType"],
    ] {
        let o = env.run(&args);
        let line = assert_fails(&o, 2, &format!("{args:?}"));
        assert!(line.contains("--help"), "a usage error points to --help: {line}");
    }
    assert!(!env.db_path().exists(), "a usage error created the database");
}

#[test]
fn bad_durations_are_refused() {
    let env = TestEnv::new();
    let line = env.fails(&["purge", "--older-than", "7x", "--yes"], 2);
    assert!(line.contains("7x"), "{line}");
    env.fails(&["purge", "--older-than", "-7d", "--yes"], 2);
    env.fails(&["run", "--every", "fast"], 2);
    env.config("lease = \"5 parsecs\"\n");
    let line = env.fails(&["stats"], 2);
    assert!(
        line.contains("outboxctl.toml") && line.contains("line 1"),
        "{line}"
    );
}

#[test]
fn a_database_path_that_is_a_directory() {
    let env = TestEnv::new();
    std::fs::create_dir(env.path("dir.db")).unwrap();
    let line = env.fails(&["--database", "dir.db", "stats"], 3);
    assert!(line.contains("dir.db") && line.contains("directory"), "{line}");
    env.fails(&["--database", "dir.db", "emit", "event", "A", "{}"], 3);
    env.fails(&["--database", "no/such/dir/x.db", "stats"], 3);
}

#[test]
fn a_corrupt_database_file_is_left_alone() {
    let env = TestEnv::new();
    let garbage: Vec<u8> = (0..16_384u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(env.path("junk.db"), &garbage).unwrap();
    for args in [
        vec!["-d", "junk.db", "stats"],
        vec!["-d", "junk.db", "init"],
        vec!["-d", "junk.db", "process-once"],
        vec!["-d", "junk.db", "emit", "user-registered"],
    ] {
        let line = env.fails(&args, 3);
        assert!(line.contains("junk.db"), "{line}");
    }
    assert_eq!(
        std::fs::read(env.path("junk.db")).unwrap(),
        garbage,
        "the file was changed"
    );
    // A text file is no database either.
    env.write("notes.txt", "just some notes\n");
    env.fails(&["-d", "notes.txt", "list"], 3);
    assert_eq!(env.read("notes.txt"), "just some notes\n");
}

#[test]
fn a_database_locked_by_another_writer() {
    let env = TestEnv::new();
    env.config("busy_timeout = \"200ms\"\n");
    env.ok(&["emit", "user-registered", "--email", "first@example.com"]);
    env.ok(&["process-once"]);
    env.ok(&["emit", "user-registered", "--email", "pending@example.com"]);
    let holder = env.db();
    holder
        .execute_batch("BEGIN IMMEDIATE; CREATE TABLE Hold (x);")
        .unwrap();
    for args in [
        vec!["emit", "user-registered", "--email", "second@example.com"],
        vec!["emit", "event", "A", "{}"],
        vec!["process-once"],
        vec!["retry", "--failed"],
        vec!["purge", "--older-than", "1ms", "--yes"],
    ] {
        let line = env.fails(&args, 3);
        assert!(line.contains("locked"), "{line}");
    }
    // It waited for the busy timeout before giving up (a lower bound only: never flaky).
    let started = std::time::Instant::now();
    env.fails(&["emit", "event", "A", "{}"], 3);
    assert!(started.elapsed() >= Duration::from_millis(200));
    // Readers are not blocked by a writer.
    assert_eq!(env.stats()["pending"], 1);
    holder.execute_batch("ROLLBACK").unwrap();
    assert_eq!(env.count("SELECT count(*) FROM Users"), 2);
    assert_eq!(env.count("SELECT count(*) FROM OutboxMessage"), 2);
    assert_eq!(
        env.count("SELECT count(*) FROM OutboxMessage WHERE ProcessedOnUtc IS NULL"),
        1
    );
    // And once the lock is gone, everything works.
    env.ok(&["emit", "user-registered", "--email", "second@example.com"]);
    assert_eq!(env.json(&["process-once"])["delivered"], 2);
}

#[test]
fn config_file_errors_name_the_line() {
    let env = TestEnv::new();
    let cases = [
        ("batch_size = 10\nlease = \"1m\"\nbusy_timeout = 5\n", "line 3"),
        ("batch_size = 10\n\n[retry]\nmax_attempts = \"ten\"\n", "line 4"),
        ("batch_size = 10\ncolour = true\n", "line 2"),
        (
            "[sinks.a]\nkind = \"exec\"\ncommand = [\"true\"]\ntimout = \"1s\"\n",
            "line 4",
        ),
        ("[sinks.a]\nkind = \"carrier-pigeon\"\n", "line 2"),
        ("this is not toml\n", "line 1"),
        ("lease = \"1m\"\n[routes]\nA = 5\n", "line 3"),
    ];
    for (text, line_no) in cases {
        env.config(text);
        let line = env.fails(&["stats"], 2);
        assert!(
            line.contains("outboxctl.toml") && line.contains(line_no),
            "{text:?}: {line}"
        );
    }
    // Errors found after parsing say which key.
    for (text, key) in [
        ("[routes]\nA = \"nowhere\"\n", "nowhere"),
        ("batch_size = 0\n", "batch_size"),
        ("[retry]\nmax_attempts = 0\n", "max_attempts"),
        ("lease = \"100ms\"\n", "lease"),
        (
            "lease = \"10s\"\n[sinks.a]\nkind = \"exec\"\ncommand = [\"true\"]\ntimeout = \"1m\"\n",
            "timeout",
        ),
    ] {
        env.config(text);
        let line = env.fails(&["stats"], 2);
        assert!(line.contains(key), "{text:?}: {line}");
    }
    std::fs::remove_file(env.path("outboxctl.toml")).unwrap();
    let line = env.fails(&["--config", "missing.toml", "stats"], 2);
    assert!(line.contains("missing.toml"), "{line}");
    assert!(!env.db_path().exists(), "a config error created the database");
}

#[test]
fn a_bad_pinned_clock_is_a_usage_error() {
    let env = TestEnv::new();
    env.fails_at("next tuesday", &["stats"], 2);
}

#[test]
fn run_reports_a_bad_database_at_start() {
    let env = TestEnv::new();
    std::fs::create_dir(env.path("dir.db")).unwrap();
    let mut c = env.cmd();
    c.args(["run", "--every", "1s", "-d", "dir.db"]);
    let mut child = c
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_exit(&mut child, Duration::from_secs(30));
    let out = child.wait_with_output().unwrap();
    let o = Output {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    };
    assert_no_panic(&o);
    assert_fails(&o, 3, "run on a directory");
}

#[test]
fn absurd_durations_are_refused_not_panicked_on() {
    let env = TestEnv::new();
    env.ok(&["emit", "event", "A", "{}"]);
    env.fails(&["purge", "--older-than", "5000y", "--yes"], 2);
    env.fails(&["run", "--every", "100000000y"], 2);
    for text in [
        "lease = \"1000000y\"\n",
        "busy_timeout = \"30d\"\n",
        "[retry]\nbackoff = \"1000000y\"\n",
        "every = \"1000000y\"\n",
    ] {
        env.config(text);
        env.fails(&["process-once"], 2);
    }
    // Long but sane values work.
    env.config("lease = \"30d\"\nbusy_timeout = \"1h\"\n[retry]\nbackoff = \"50y\"\nmax_backoff = \"99y\"\n");
    assert_eq!(env.json(&["process-once"])["failed"], 1);
    assert_eq!(env.stats()["retrying"], 1);
}
