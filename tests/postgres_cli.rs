//! The commands a user runs, end to end against PostgreSQL: each test in its own schema.
#![cfg(feature = "postgres")]

mod common;

use std::process::{Child, Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use common::PgSchema;
use serde_json::Value;

/// `outboxctl` against this schema, run from an empty directory (no stray config file).
fn cli(db: &PgSchema, dir: &tempfile::TempDir) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_outboxctl"));
    c.current_dir(dir.path())
        .env_remove("OUTBOX_CONFIG")
        .env_remove("OUTBOX_DATABASE")
        .env_remove("OUTBOX_LOG")
        .env("NO_COLOR", "1")
        .args(["-d", &db.url]);
    c
}

/// `outboxctl -d URL` with an explicit URL (same environment as `cli`).
fn cli_url(url: &str, dir: &tempfile::TempDir) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_outboxctl"));
    c.current_dir(dir.path())
        .env_remove("OUTBOX_CONFIG")
        .env_remove("OUTBOX_DATABASE")
        .env("NO_COLOR", "1")
        .args(["-d", url]);
    c
}

fn json(c: &mut Command) -> Value {
    let out = c
        .arg("--format")
        .arg("json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out)))
}

fn emitted_id(v: &Value) -> String {
    v["emitted"][0]["id"].as_str().unwrap().to_owned()
}

fn setup(tag: &str) -> (PgSchema, tempfile::TempDir) {
    let db = PgSchema::new(tag);
    let dir = tempfile::tempdir().unwrap();
    cli(&db, &dir).arg("init").assert().success();
    (db, dir)
}

#[test]
fn commands_refuse_a_database_without_the_schema_and_create_nothing() {
    let db = PgSchema::new("noschema");
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["stats"],
        vec!["process-once"],
        vec!["list"],
        vec!["emit", "event", "OrderPlaced", "{}"],
    ] {
        let out = cli(&db, &dir)
            .args(&args)
            .assert()
            .code(3)
            .get_output()
            .stderr
            .clone();
        let err = String::from_utf8_lossy(&out);
        assert!(err.contains("run `outboxctl init`"), "{args:?}: {err}");
    }
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = '{}'",
            db.name
        )),
        0,
        "no table was created"
    );
}

#[test]
fn init_is_idempotent_and_never_shows_the_password() {
    let db = PgSchema::new("init");
    let dir = tempfile::tempdir().unwrap();
    // Trust auth ignores the password; it must still never be printed.
    let url = db.url.replacen("postgres@", "postgres:s3cr3t-pw@", 1);
    assert!(
        url.contains("s3cr3t-pw"),
        "the test URL has a user to attach a password to"
    );
    for _ in 0..2 {
        let out = cli_url(&url, &dir)
            .arg("init")
            .assert()
            .success()
            .get_output()
            .clone();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("***") && !text.contains("s3cr3t-pw"), "{text}");
    }
    let bad = url.replacen("127.0.0.1:5432", "127.0.0.1:1", 1);
    let out = cli_url(&bad, &dir)
        .arg("stats")
        .assert()
        .code(3)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot connect") && !err.contains("s3cr3t-pw"),
        "{err}"
    );
    // The original design's monitoring queries run verbatim (unquoted names fold to lower case).
    db.sql(
        "SELECT * FROM OutboxMessage WHERE ProcessedOnUtc IS NULL;
         SELECT * FROM OutboxMessage WHERE Error IS NOT NULL;
         SELECT COUNT(*) as Total, COUNT(ProcessedOnUtc) as Processed, COUNT(Error) as Failed FROM OutboxMessage;",
    );
}

#[test]
fn init_adopts_a_table_of_the_original_design() {
    let db = PgSchema::new("adopt");
    let dir = tempfile::tempdir().unwrap();
    // As EF Core with Npgsql creates it: uuid ids, quoted PascalCase names, rows already there.
    db.sql(&format!(
        "CREATE SCHEMA \"{0}\";
         CREATE TABLE \"{0}\".\"OutboxMessage\" (
             \"Id\" uuid NOT NULL PRIMARY KEY, \"Type\" text NOT NULL, \"Content\" text NOT NULL,
             \"OccuredOnUtc\" timestamp without time zone NOT NULL,
             \"ProcessedOnUtc\" timestamp with time zone NULL, \"Error\" text NULL);
         INSERT INTO \"{0}\".\"OutboxMessage\" VALUES
             ('0190A000-0000-7000-8000-000000000001', 'UserRegistered', '{{\"email\":\"a@example.com\"}}',
              '2024-01-01 10:00:00', '2024-01-01 10:00:05+00', NULL),
             ('0190A000-0000-7000-8000-000000000002', 'UserRegistered', '{{\"email\":\"b@example.com\"}}',
              '2024-01-01 11:00:00', NULL, 'SMTP timeout');",
        db.name
    ));
    cli(&db, &dir).arg("init").assert().success();
    cli(&db, &dir).arg("init").assert().success();
    let stats = json(cli(&db, &dir).arg("stats"));
    assert_eq!(
        (stats["total"].as_u64(), stats["processed"].as_u64()),
        (Some(2), Some(1))
    );
    let shown = json(cli(&db, &dir).args(["show", "0190A000-0000-7000-8000-000000000002"]));
    assert_eq!(
        shown["occurred_on"], "2024-01-01T11:00:00Z",
        "times without a zone are UTC"
    );
    let report = json(cli(&db, &dir).arg("process-once"));
    assert_eq!(report["delivered"], 1);
    let stats = json(cli(&db, &dir).arg("stats"));
    assert_eq!(
        (stats["processed"].as_u64(), stats["failed"].as_u64()),
        (Some(2), Some(0))
    );
    // The application's own inserts keep working: uuid ids, only the original columns.
    db.sql(&format!(
        "INSERT INTO \"{}\".\"OutboxMessage\" (\"Id\", \"Type\", \"Content\", \"OccuredOnUtc\")
         VALUES (gen_random_uuid(), 'UserRegistered', '{{\"email\":\"c@example.com\"}}', now())",
        db.name
    ));
    assert_eq!(json(cli(&db, &dir).arg("process-once"))["delivered"], 1);
}

#[test]
fn init_refuses_a_table_it_cannot_adopt_and_changes_nothing() {
    let db = PgSchema::new("noadopt");
    let dir = tempfile::tempdir().unwrap();
    // Unquoted DDL: PostgreSQL folds the names to lower case.
    db.sql(&format!(
        "CREATE SCHEMA \"{0}\"; CREATE TABLE \"{0}\".OutboxMessage (Id uuid PRIMARY KEY, Type text);",
        db.name
    ));
    let out = cli(&db, &dir).arg("init").assert().code(3).get_output().clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("lower-case"));
    let out = cli(&db, &dir)
        .args(["--table", "outboxmessage", "init"])
        .assert()
        .code(3)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no column \"Id\""));
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = '{}'",
            db.name
        )),
        1,
        "nothing was created"
    );
}

#[test]
fn emit_process_list_show_retry_stats_purge() {
    let (db, dir) = setup("cli");
    let user = json(cli(&db, &dir).args(["emit", "user-registered", "--email", "ada@example.com"]));
    let user_id = emitted_id(&user);
    // A duplicate email: exit 5, and neither the user nor the message is written.
    let out = cli(&db, &dir)
        .args(["emit", "user-registered", "--email", "ada@example.com"])
        .assert()
        .code(5)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    assert_eq!(db.count("SELECT count(*) FROM users"), 1);
    assert_eq!(db.count("SELECT count(*) FROM \"OutboxMessage\""), 1);

    let order = emitted_id(&json(cli(&db, &dir).args([
        "emit",
        "event",
        "OrderPlaced",
        r#"{"order":7}"#,
    ])));
    cli(&db, &dir)
        .args(["emit", "event", "OrderPlaced", "{nope"])
        .assert()
        .code(2);

    // UserRegistered has the built-in handler; OrderPlaced has none and fails.
    let report = json(cli(&db, &dir).arg("process-once"));
    assert_eq!(
        (report["claimed"].as_u64(), report["delivered"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(report["failed"], 1);

    let failed = json(cli(&db, &dir).args(["list", "--failed"]));
    assert_eq!(failed["messages"][0]["id"], order.as_str());
    assert_eq!(failed["messages"][0]["state"], "retrying");
    let processed = json(cli(&db, &dir).args(["list", "--processed", "--type", "UserRegistered"]));
    assert_eq!(processed["messages"][0]["id"], user_id.as_str());

    let shown = json(cli(&db, &dir).args(["show", &order.to_uppercase()]));
    assert_eq!(shown["content"], r#"{"order":7}"#);
    assert!(
        shown["failures"][0]["error"]
            .as_str()
            .unwrap()
            .contains("no handler for type OrderPlaced")
    );
    cli(&db, &dir)
        .args(["show", "0190a000-0000-7000-8000-0000000000ff"])
        .assert()
        .code(4);

    let stats = json(cli(&db, &dir).arg("stats"));
    assert_eq!(
        (
            stats["total"].as_u64(),
            stats["processed"].as_u64(),
            stats["failed"].as_u64()
        ),
        (Some(2), Some(1), Some(1))
    );

    assert_eq!(
        json(cli(&db, &dir).args(["retry", "--failed", "--dry-run"]))["retried"],
        1
    );
    assert_eq!(json(cli(&db, &dir).args(["retry", "--id", &order]))["retried"], 1);
    let shown = json(cli(&db, &dir).args(["show", &order]));
    assert!(shown["next_attempt_on"].is_null(), "due now");
    cli(&db, &dir)
        .args(["retry", "--id", "0190a000-0000-7000-8000-0000000000ff"])
        .assert()
        .code(4);

    // Purge: processed rows older than the cutoff only.
    let later = (chrono::Utc::now() + chrono::Duration::days(8))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    let purge = |extra: &[&str]| {
        let mut c = cli(&db, &dir);
        c.env("OUTBOX_NOW", &later)
            .args(["purge", "--older-than", "7d"])
            .args(extra);
        json(&mut c)
    };
    assert_eq!(purge(&["--dry-run"])["deleted"], 1);
    cli(&db, &dir)
        .args(["purge", "--older-than", "7d"])
        .env("OUTBOX_NOW", &later)
        .assert()
        .code(2);
    assert_eq!(purge(&["--yes"])["deleted"], 1);
    let stats = json(cli(&db, &dir).arg("stats"));
    assert_eq!(
        (stats["total"].as_u64(), stats["processed"].as_u64()),
        (Some(1), Some(0))
    );
    assert!(json(cli(&db, &dir).args(["show", &order]))["processed_on"].is_null());
}

fn run_relay(db: &PgSchema, url: &str, dir: &tempfile::TempDir, every: &str) -> Child {
    StdCommand::new(env!("CARGO_BIN_EXE_outboxctl"))
        .current_dir(dir.path())
        .args(["-q", "-d", url, "run", "--every", every])
        .env_remove("OUTBOX_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", db.name))
}

fn stop(mut child: Child) {
    let _ = StdCommand::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
}

#[test]
fn run_wakes_up_on_notify_and_survives_a_lost_connection() {
    let (db, dir) = setup("run");
    let app = format!("outboxctl_{}", db.name);
    let url = format!("{}&application_name={app}", db.url);
    // A poll interval far longer than the test waits: only the notification can wake the relay.
    let relay = run_relay(&db, &url, &dir, "10m");
    std::thread::sleep(Duration::from_millis(500));
    cli(&db, &dir)
        .args(["emit", "event", "OrderPlaced", "{}"])
        .assert()
        .success();
    // No handler: the message fails, which also counts as picked up.
    let picked = |db: &PgSchema| {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            if db.count("SELECT count(*) FROM \"OutboxMessage\" WHERE \"Attempts\" = 0") == 0 {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    };
    assert!(picked(&db), "the insert's notification woke the relay");

    // The server drops the relay's connection (as on a restart); it reconnects by itself.
    db.sql(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{app}'"
    ));
    std::thread::sleep(Duration::from_millis(300));
    cli(&db, &dir)
        .args(["emit", "user-registered"])
        .assert()
        .success();
    assert!(
        wait_processed_type(&db, "UserRegistered"),
        "the relay reconnected and delivered the message emitted after the connection loss"
    );
    stop(relay);
}

fn wait_processed_type(db: &PgSchema, ty: &str) -> bool {
    let sql = format!(
        "SELECT count(*) FROM \"OutboxMessage\" WHERE \"Type\" = '{ty}' AND \"ProcessedOnUtc\" IS NULL"
    );
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if db.count(&sql) == 0 {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn sslmode_require_encrypts_and_verify_full_checks_the_certificate() {
    let (db, dir) = setup("tls");
    let mut c = db.client();
    let ssl: String = c.query_one("SHOW ssl", &[]).unwrap().get(0);
    let app = format!("outboxctl_{}", db.name);
    let url =
        format!("{}&sslmode=require&application_name={app}", db.url).replacen("postgres@", "postgres:pw@", 1);
    if ssl != "on" {
        // A server without TLS: require must refuse to fall back to plain text.
        cli_url(&url, &dir).arg("stats").assert().code(3);
        return;
    }
    let relay = run_relay(&db, &url, &dir, "10m");
    let start = Instant::now();
    let mut encrypted = None;
    while start.elapsed() < Duration::from_secs(30) && encrypted.is_none() {
        encrypted = c
            .query_opt(
                "SELECT s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s ON s.pid = a.pid
                 WHERE a.application_name = $1",
                &[&app],
            )
            .unwrap()
            .map(|r| r.get::<_, bool>(0));
        std::thread::sleep(Duration::from_millis(100));
    }
    stop(relay);
    assert_eq!(encrypted, Some(true), "the relay's connection uses TLS");
    // The local server's certificate is self-signed: verify-full refuses it, in one line, no password.
    let strict = url.replace("sslmode=require", "sslmode=verify-full");
    let out = cli_url(&strict, &dir)
        .arg("stats")
        .assert()
        .code(3)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("certificate") && err.contains("sslrootcert") && !err.contains(":pw@"),
        "{err}"
    );
}

/// A failed message is retried when its backoff ends, not at the next `--every` tick: the relay
/// wakes up at the store's next due time.
#[test]
fn run_retries_a_failed_message_after_its_backoff_not_the_next_tick() {
    let (db, dir) = setup("nextdue");
    let marker = dir.path().join("failed-once");
    // The handler fails the first time (leaving a marker) and succeeds after.
    let config = dir.path().join("retry.toml");
    std::fs::write(
        &config,
        format!(
            r#"[retry]
backoff = "1s"
max_backoff = "1s"
[sinks.flaky]
kind = "exec"
command = ["/bin/sh", "-c", "test -e '{m}' || {{ touch '{m}'; exit 1; }}"]
timeout = "5s"
[routes]
"*" = "flaky"
"#,
            m = marker.display()
        ),
    )
    .unwrap();
    let relay = StdCommand::new(env!("CARGO_BIN_EXE_outboxctl"))
        .current_dir(dir.path())
        .env_remove("OUTBOX_CONFIG")
        .arg("-q")
        .args(["-d", &db.url, "-c"])
        .arg(&config)
        .args(["run", "--every", "60s"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let emitted = Instant::now();
    cli(&db, &dir)
        .args(["emit", "event", "OrderPlaced", "{}"])
        .assert()
        .success();
    // Well under the 60 s tick: a relay waiting for its tick would not make it.
    let deadline = Duration::from_secs(30);
    let delivered = loop {
        if db.count("SELECT count(*) FROM \"OutboxMessage\" WHERE \"ProcessedOnUtc\" IS NOT NULL") == 1 {
            break true;
        }
        if emitted.elapsed() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    stop(relay);
    assert!(delivered, "not redelivered within {deadline:?} of a 1 s backoff");
    assert!(marker.exists(), "the first attempt failed");
    assert_eq!(db.count("SELECT \"Attempts\"::int8 FROM \"OutboxMessage\""), 2);
    assert_eq!(db.count("SELECT count(*) FROM \"OutboxMessage_Attempt\""), 1);
}

/// A database made by an earlier release's schema: applications keep inserting into it, this
/// release's commands refuse it in one line that says to run `init` (and change nothing), `init`
/// brings it to this version, and processed counts stay right throughout.
fn migrates(tag: &str, fixture: &str) {
    let db = PgSchema::new(tag);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("outboxctl.toml"),
        "[routes]\nUserRegistered = \"noop\"\nOrderPlaced = \"noop\"\n",
    )
    .unwrap();
    db.sql(&format!(
        "CREATE SCHEMA \"{0}\"; SET search_path TO \"{0}\"; {fixture}",
        db.name
    ));
    let processed = |db: &PgSchema| {
        let stats = json(cli(db, &dir).arg("stats"));
        let counted =
            db.count("SELECT coalesce(sum(\"Processed\"), 0)::int8 FROM \"OutboxMessage_Processed\"");
        let real = db.count("SELECT count(*) FROM \"OutboxMessage\" WHERE \"ProcessedOnUtc\" IS NOT NULL");
        assert_eq!(stats["processed"].as_i64(), Some(counted));
        real
    };
    let emit = |email: &str| {
        cli(&db, &dir)
            .args(["emit", "user-registered", "--email", email])
            .assert()
            .success();
    };
    // The application's own inserts, as the schema contract has them; one already processed
    // the old way (by the old release's trigger counting it).
    db.sql(
        "INSERT INTO \"OutboxMessage\" (\"Id\", \"Type\", \"Content\", \"OccuredOnUtc\")
         VALUES ('old-1', 'OrderPlaced', '{}', now()), ('old-2', 'OrderPlaced', '{}', now()),
                ('old-done', 'OrderPlaced', '{}', now());
         UPDATE \"OutboxMessage\" SET \"ProcessedOnUtc\" = now() WHERE \"Id\" = 'old-done';",
    );
    // Every column of the schema, to see that a refused relay changed nothing.
    let shape = |db: &PgSchema| {
        db.count("SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema()")
    };
    let before = shape(&db);
    for args in [&["process-once"][..], &["stats"], &["list"]] {
        let out = cli(&db, &dir).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {err}");
        assert!(
            err.contains("made by an earlier outboxctl") && err.contains("run `outboxctl init`"),
            "{err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    }
    assert_eq!(
        db.count("SELECT count(*) FROM \"OutboxMessage\" WHERE \"ProcessedOnUtc\" IS NULL"),
        2,
        "a refused relay delivered nothing"
    );
    assert_eq!(shape(&db), before, "a relay changed the schema");

    // init brings the schema up to date; the relay then counts its own marks, once.
    cli(&db, &dir).arg("init").assert().success();
    let trigger = db.count(
        "WITH tg AS MATERIALIZED (
             SELECT oid FROM pg_trigger
             WHERE tgrelid = '\"OutboxMessage\"'::regclass AND tgname = 'tr_OutboxMessage_processed_update')
         SELECT count(*) FROM tg WHERE pg_get_triggerdef(tg.oid) LIKE '%outboxctl.counts_itself%'",
    );
    assert_eq!(trigger, 1, "the counter trigger was replaced");
    assert_eq!(
        db.count("SELECT \"Version\"::int8 FROM \"OutboxMessage_Schema\""),
        i64::from(outboxctl::store::SCHEMA_VERSION)
    );
    // Version 5: the replay tables.
    assert_eq!(db.count("SELECT count(*) FROM \"OutboxMessage_Replayed\""), 0);
    // Version 2: the due index holds no lease column, and pages keep room for HOT claims.
    assert_eq!(
        db.count(
            // Only this schema's index is described (a MATERIALIZED CTE picks it first): a
            // definition read from the whole catalog fails on another test's index dropped meanwhile.
            "WITH ix AS MATERIALIZED (
                 SELECT i.oid FROM pg_class i JOIN pg_namespace n ON n.oid = i.relnamespace
                 WHERE n.nspname = current_schema() AND i.relname = 'ix_OutboxMessage_due')
             SELECT count(*) FROM ix WHERE pg_get_indexdef(ix.oid) NOT LIKE '%NextAttemptOnUtc%'"
        ),
        1,
        "the due index was made anew"
    );
    assert_eq!(
        db.count(
            "SELECT count(*) FROM pg_class WHERE oid = '\"OutboxMessage\"'::regclass
               AND reloptions @> ARRAY['fillfactor=50']"
        ),
        1
    );
    assert_eq!(json(cli(&db, &dir).arg("process-once"))["delivered"], 2);
    assert_eq!(processed(&db), 3);
    emit("c@example.com");
    emit("d@example.com");
    cli(&db, &dir)
        .args(["emit", "event", "OrderPlaced", "{}", "--key", "order-1"])
        .assert()
        .success();
    assert_eq!(json(cli(&db, &dir).arg("process-once"))["delivered"], 3);
    assert_eq!(processed(&db), 6);
    assert_eq!(
        db.count("SELECT count(*) FROM \"OutboxMessage\" WHERE \"OrderingKey\" = 'order-1'"),
        1
    );
    // An application marking a row itself is still counted by the trigger.
    db.sql(
        "INSERT INTO \"OutboxMessage\" (\"Id\", \"Type\", \"Content\", \"OccuredOnUtc\")
         VALUES ('by-hand', 'Manual', '{}', now());
         UPDATE \"OutboxMessage\" SET \"ProcessedOnUtc\" = now() WHERE \"Id\" = 'by-hand';",
    );
    assert_eq!(processed(&db), 7);
    // Idempotent: one version row however often init runs.
    cli(&db, &dir).arg("init").assert().success();
    assert_eq!(db.count("SELECT count(*) FROM \"OutboxMessage_Schema\""), 1);
}

#[test]
fn init_migrates_the_schema_of_the_last_release_before_versions() {
    migrates("migrate", include_str!("fixtures/schema.postgres.v1.sql"));
}

#[test]
fn init_migrates_the_schema_of_a_release_before_ordering_keys() {
    migrates("migrate_v2", include_str!("fixtures/schema.postgres.v2.sql"));
}

#[test]
fn init_migrates_the_schema_of_a_release_before_crash_counts() {
    migrates("migrate_v3", include_str!("fixtures/schema.postgres.v3.sql"));
}

#[test]
fn init_migrates_the_schema_of_the_previous_release() {
    migrates("migrate_v4", include_str!("fixtures/schema.postgres.v4.sql"));
}

#[test]
fn init_migrates_an_earlier_schema_whose_trigger_counted_every_mark() {
    migrates(
        "migrate_early",
        include_str!("fixtures/schema.postgres.v1-early.sql"),
    );
}

#[test]
fn a_schema_of_a_newer_release_is_refused_and_left_alone() {
    let db = PgSchema::new("newer");
    let dir = tempfile::tempdir().unwrap();
    cli(&db, &dir).arg("init").assert().success();
    db.sql("UPDATE \"OutboxMessage_Schema\" SET \"Version\" = \"Version\" + 1");
    for args in [&["init"][..], &["stats"], &["process-once"]] {
        let out = cli(&db, &dir).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {err}");
        assert!(err.contains("made by a newer outboxctl"), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    }
    assert_eq!(
        db.count("SELECT \"Version\"::int8 FROM \"OutboxMessage_Schema\""),
        i64::from(outboxctl::store::SCHEMA_VERSION) + 1
    );
}

#[test]
fn explain_answers_on_postgres_as_on_sqlite() {
    let (db, dir) = setup("explain");
    std::fs::write(
        dir.path().join("outboxctl.toml"),
        "[retry]\nmax_attempts = 3\n\n[routes]\nOk = \"noop\"\nBroken = \"broken\"\n\n\
         [sinks.broken]\nkind = \"exec\"\ncommand = [\"false\"]\n",
    )
    .unwrap();
    let emit = |ty: &str| {
        json(cli(&db, &dir).args(["emit", "event", ty, "{}"]))["emitted"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (ok, broken, nobody) = (emit("Ok"), emit("Broken"), emit("Nobody"));
    assert_eq!(json(cli(&db, &dir).args(["explain", &ok]))["reason"], "due");
    json(cli(&db, &dir).arg("process-once"));
    let explain = |id: &str| json(cli(&db, &dir).args(["explain", id]));
    assert_eq!(explain(&ok)["reason"], "processed");
    let v = explain(&broken);
    assert_eq!(
        (v["reason"].as_str(), v["attempt"].as_i64()),
        (Some("backoff"), Some(1)),
        "{v}"
    );
    assert_eq!(v["action"], format!("outboxctl retry --id {broken}"));
    assert_eq!(explain(&nobody)["reason"], "no_route");
    cli(&db, &dir).args(["explain", "no-such-id"]).assert().code(4);
}

#[test]
fn a_dead_message_holds_its_key_until_skipped_on_postgres() {
    let (db, dir) = setup("keyed");
    std::fs::write(
        dir.path().join("outboxctl.toml"),
        "[retry]\nmax_attempts = 1\n\n[routes]\nOk = \"noop\"\nBroken = \"broken\"\n\n\
         [sinks.broken]\nkind = \"exec\"\ncommand = [\"false\"]\n",
    )
    .unwrap();
    let emit = |ty: &str, key: &str| {
        json(cli(&db, &dir).args(["emit", "event", ty, "{}", "--key", key]))["emitted"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let head = emit("Broken", "k");
    let next = emit("Ok", "k");
    let other = emit("Ok", "other");
    let v = json(cli(&db, &dir).arg("process-once"));
    assert_eq!(
        (v["delivered"].as_u64(), v["dead"].as_u64()),
        (Some(1), Some(1)),
        "{v}"
    );
    assert_eq!(
        json(cli(&db, &dir).arg("process-once"))["claimed"],
        0,
        "the dead head holds its key"
    );
    let v = json(cli(&db, &dir).args(["explain", &next]));
    assert_eq!(
        (v["reason"].as_str(), v["blocker"].as_str()),
        (Some("waiting_behind"), Some(head.as_str())),
        "{v}"
    );
    let v = json(cli(&db, &dir).args(["list", "--blocked"]));
    assert_eq!(v["blocked"][0]["key"], "k", "{v}");
    assert_eq!(v["blocked"][0]["waiting"], 1, "{v}");
    assert_eq!(json(cli(&db, &dir).arg("stats"))["blocked_keys"], 1);
    assert_eq!(json(cli(&db, &dir).args(["skip", &head]))["skipped"], 1);
    assert_eq!(json(cli(&db, &dir).arg("process-once"))["delivered"], 1);
    assert_eq!(json(cli(&db, &dir).args(["explain", &head]))["reason"], "skipped");
    assert_eq!(
        json(cli(&db, &dir).args(["explain", &other]))["reason"],
        "processed"
    );
    assert_eq!(
        json(cli(&db, &dir).args(["list", "--blocked"]))["blocked"],
        serde_json::json!([])
    );
}

#[test]
fn keys_taken_from_content_on_postgres() {
    let (db, dir) = setup("keyrules");
    db.sql(
        "INSERT INTO \"OutboxMessage\" (\"Id\", \"Type\", \"Content\", \"OccuredOnUtc\")
         VALUES ('waiting', 'OrderPlaced', '{\"order\":{\"id\":\"o-0\"}}', now())",
    );
    std::fs::write(
        dir.path().join("outboxctl.toml"),
        "[retry]\nmax_attempts = 1\n\n[types.OrderPlaced]\nkey = \"/order/id\"\n\n\
         [types.OrderFailed]\nkey = \"/order/id\"\non_dead = \"skip\"\n\n\
         [routes]\nOrderPlaced = \"noop\"\nOrderFailed = \"broken\"\n\n\
         [sinks.broken]\nkind = \"exec\"\ncommand = [\"false\"]\n",
    )
    .unwrap();
    cli(&db, &dir).arg("init").assert().success();
    let key = |id: &str| json(cli(&db, &dir).args(["show", id])).get("key").cloned();
    assert_eq!(key("waiting"), Some("o-0".into()), "init keyed a waiting row");
    // The application's own INSERT, as the contract has it: the database fills the key.
    db.sql(
        "INSERT INTO \"OutboxMessage\" (\"Id\", \"Type\", \"Content\", \"OccuredOnUtc\") VALUES
             ('a', 'OrderPlaced', '{\"order\":{\"id\":\"o-1\"}}', now()),
             ('b', 'OrderPlaced', '{\"order\":{\"id\":42}}', now()),
             ('c', 'OrderPlaced', '{\"order\":{}}', now()),
             ('bad', 'OrderPlaced', 'not json', now()),
             ('other', 'Unkeyed', '{\"order\":{\"id\":\"o-1\"}}', now())",
    );
    assert_eq!(key("a"), Some("o-1".into()));
    assert_eq!(key("b"), Some("42".into()));
    assert_eq!(key("c"), None);
    assert_eq!(
        key("bad"),
        None,
        "content that is not JSON is inserted, without a key"
    );
    assert_eq!(key("other"), None);
    db.sql(
        "INSERT INTO \"OutboxMessage\" (\"Id\", \"Type\", \"Content\", \"OccuredOnUtc\") VALUES
             ('failed', 'OrderFailed', '{\"order\":{\"id\":\"o-9\"}}', now() + interval '1 ms'),
             ('after', 'OrderPlaced', '{\"order\":{\"id\":\"o-9\"}}', now() + interval '2 ms')",
    );
    for _ in 0..5 {
        cli(&db, &dir).args(["process-once", "-q"]).assert().success();
    }
    assert_eq!(
        json(cli(&db, &dir).args(["explain", "failed"]))["reason"],
        "skipped"
    );
    assert_eq!(
        json(cli(&db, &dir).args(["explain", "after"]))["reason"],
        "processed"
    );
}

/// Operator actions on PostgreSQL are audited too, and the command line kept there never holds
/// the database password.
#[test]
fn operator_actions_are_audited_without_the_password() {
    let db = PgSchema::new("audit");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("outboxctl.toml"),
        "[retry]\nmax_attempts = 1\n[routes]\n",
    )
    .unwrap();
    cli(&db, &dir).arg("init").assert().success();
    cli(&db, &dir)
        .args(["emit", "event", "Nowhere", "{}"])
        .assert()
        .success();
    // No route: the one attempt fails and the message is dead.
    cli(&db, &dir).arg("process-once").assert().success();
    // trust auth ignores the password, so the URL works; it must not reach the trail.
    let with_password = db
        .url
        .replacen("postgres://postgres@", "postgres://postgres:hunter2-secret@", 1);
    assert_ne!(with_password, db.url, "the test URL has the expected form");
    let out = json(
        cli_url(&with_password, &dir)
            .env("USER", "bob")
            .args(["retry", "--dead"]),
    );
    assert_eq!(out["retried"], 1);
    let log = json(cli(&db, &dir).arg("audit"));
    let e = &log["entries"][0];
    assert_eq!(
        (e["actor"].as_str(), e["action"].as_str(), e["messages"].as_u64()),
        (Some("bob"), Some("retry"), Some(1))
    );
    let command = e["command"].as_str().unwrap();
    assert!(
        command.contains("retry --dead") && !command.contains("hunter2"),
        "{command}"
    );
    assert_eq!(
        db.count("SELECT count(*) FROM \"OutboxMessage_Audit\" WHERE \"Command\" LIKE '%hunter2%'"),
        0
    );
}
