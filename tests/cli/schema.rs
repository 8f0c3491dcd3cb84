//! schema.sql as a public contract: the original design's queries, adopting the original table,
//! and applications in other languages writing rows.

use rusqlite::Connection;

use crate::common::*;

/// The three monitoring queries of the original design, verbatim.
const UNPROCESSED: &str = "SELECT * FROM OutboxMessage WHERE ProcessedOnUtc IS NULL;";
const FAILED: &str = "SELECT * FROM OutboxMessage WHERE Error IS NOT NULL;";
const STATISTICS: &str = "SELECT
    COUNT(*) as Total,
    COUNT(ProcessedOnUtc) as Processed,
    COUNT(Error) as Failed
FROM OutboxMessage;";

fn rows(db: &Connection, sql: &str) -> usize {
    let mut st = db.prepare(sql).unwrap();
    let mut rows = st.query([]).unwrap();
    let mut n = 0;
    while rows.next().unwrap().is_some() {
        n += 1;
    }
    n
}

fn original_statistics(db: &Connection) -> (u64, u64, u64) {
    let (t, p, f): (i64, i64, i64) = db
        .query_row(STATISTICS, [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap();
    (t as u64, p as u64, f as u64)
}

/// The original queries and `stats` agree, and say what really happened.
fn assert_queries_match_stats(env: &TestEnv, db: &Connection) {
    let st = env.stats();
    let (total, processed, failed) = original_statistics(db);
    assert_eq!(st["total"], total);
    assert_eq!(st["processed"], processed);
    assert_eq!(st["failed"], failed);
    assert_eq!(rows(db, FAILED) as u64, failed);
    let unprocessed = st["pending"].as_u64().unwrap()
        + st["retrying"].as_u64().unwrap()
        + st["dead"].as_u64().unwrap()
        + st["in_flight"].as_u64().unwrap();
    assert_eq!(rows(db, UNPROCESSED) as u64, unprocessed);
    assert_eq!(total, processed + unprocessed);
}

#[test]
fn the_original_queries_run_verbatim_and_tell_the_truth() {
    let env = TestEnv::new();
    env.config("[retry]\nmax_attempts = 1\n\n[routes]\nOk = \"noop\"\n");
    env.emit("Ok", 4);
    env.emit("Nobody", 2);
    let db = env.db();
    assert_eq!(original_statistics(&db), (6, 0, 0));
    assert_eq!(rows(&db, UNPROCESSED), 6);
    env.ok(&["process-once"]);
    // 4 delivered; the 2 without a handler are dead after their one attempt.
    assert_eq!(original_statistics(&db), (6, 4, 2));
    assert_eq!(rows(&db, UNPROCESSED), 2);
    assert_eq!(rows(&db, FAILED), 2);
    assert_queries_match_stats(&env, &db);
    // Success clears Error: "Failed" means "currently failing".
    env.config("[routes]\nOk = \"noop\"\nNobody = \"noop\"\n");
    env.ok(&["retry", "--dead"]);
    env.ok(&["process-once"]);
    assert_eq!(original_statistics(&db), (6, 6, 0));
    assert_eq!(rows(&db, FAILED), 0);
    assert_queries_match_stats(&env, &db);
    // The sqlite3 shell sees the same (it is the tool the original's queries were written for).
    if let Ok(out) = std::process::Command::new("sqlite3")
        .arg(env.db_path())
        .arg(STATISTICS)
        .output()
        && out.status.success()
    {
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "6|6|0");
    }
}

/// The table as the original .NET app created it, with rows of every kind in it.
fn create_original_table(db: &Connection, table: &str) {
    db.execute_batch(&format!(
        r#"CREATE TABLE "{table}" (
            "Id" TEXT NOT NULL CONSTRAINT "PK_{table}" PRIMARY KEY,
            "Type" TEXT NOT NULL,
            "Content" TEXT NOT NULL,
            "OccuredOnUtc" TEXT NOT NULL,
            "ProcessedOnUtc" TEXT NULL,
            "Error" TEXT NULL
        );
        INSERT INTO "{table}" VALUES
          ('0F8FAD5B-D9CB-469F-A165-70867728950E', 'UserRegistered',
           '{{"user_id":"1","email":"one@example.com"}}', '2024-01-15 10:30:00.1234567', '2024-01-15 10:31:00.7654321', NULL),
          ('7C9E6679-7425-40DE-944B-E07FC1F90AE7', 'UserRegistered',
           '{{"user_id":"2","email":"two@example.com"}}', '2024-01-15 10:32:00.0000001', '2024-01-15 10:33:00.5', NULL),
          ('3F2504E0-4F89-11D3-9A0C-0305E82C3301', 'UserRegistered',
           '{{"user_id":"3","email":"three@example.com"}}', '2024-01-16 08:00:00.2500000', NULL, NULL),
          ('9A0C0305-4F89-11D3-9A0C-3F2504E082C3', 'UserRegistered',
           '{{"user_id":"4","email":"four@example.com"}}', '2024-01-16 09:00:00.5000000', NULL,
           'System.Exception: SMTP server unavailable');
        "#
    ))
    .unwrap();
}

type Row = (String, String, String, String, Option<String>, Option<String>);

fn original_rows(db: &Connection, table: &str) -> Vec<Row> {
    let mut st = db
        .prepare(&format!(
            "SELECT Id, Type, Content, OccuredOnUtc, ProcessedOnUtc, Error FROM \"{table}\" ORDER BY Id"
        ))
        .unwrap();
    st.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

#[test]
fn init_adopts_a_table_of_the_original_design() {
    let env = TestEnv::new();
    let db = env.db();
    create_original_table(&db, "OutboxMessage");
    let before = original_rows(&db, "OutboxMessage");

    let v = env.json(&["init"]);
    assert_eq!(v["table"], "OutboxMessage");
    assert_eq!(original_rows(&db, "OutboxMessage"), before, "init changed a row");
    let st = env.stats();
    assert_eq!(
        (
            st["total"].as_u64(),
            st["processed"].as_u64(),
            st["failed"].as_u64()
        ),
        (Some(4), Some(2), Some(1))
    );
    assert_eq!(st["oldest_unprocessed_on"], "2024-01-16T08:00:00.250Z");
    assert_queries_match_stats(&env, &db);

    // Idempotent.
    env.ok(&["init"]);
    env.ok(&["init"]);
    assert_eq!(original_rows(&db, "OutboxMessage"), before);
    assert_eq!(env.stats()["processed"], 2);

    // Upper-case GUIDs are found however they are typed.
    let m = env.show("3f2504e0-4f89-11d3-9a0c-0305e82c3301");
    assert_eq!(m["id"], "3F2504E0-4F89-11D3-9A0C-0305E82C3301");
    assert_eq!(m["state"], "pending");
    assert_eq!(
        env.show("0F8FAD5B-D9CB-469F-A165-70867728950E")["state"],
        "processed"
    );

    // The unprocessed rows get delivered, the processed ones are left alone.
    let o = env.ok(&["process-once", "--format", "json"]);
    assert_eq!(o.json()["delivered"], 2, "{o:#?}");
    assert!(o.stderr.contains("three@example.com") && o.stderr.contains("four@example.com"));
    assert!(!o.stderr.contains("one@example.com"));
    let after = original_rows(&db, "OutboxMessage");
    let processed_before: Vec<&Row> = before.iter().filter(|r| r.4.is_some()).collect();
    assert_eq!(processed_before.len(), 2);
    for row in processed_before {
        assert!(after.contains(row), "an already processed row changed: {row:?}");
    }
    let st = env.stats();
    assert_eq!(
        (
            st["total"].as_u64(),
            st["processed"].as_u64(),
            st["failed"].as_u64()
        ),
        (Some(4), Some(4), Some(0))
    );
    assert_queries_match_stats(&env, &db);
    // Old processed rows age like any other.
    assert_eq!(
        env.json(&["purge", "--older-than", "30d", "--dry-run"])["deleted"],
        2
    );
}

#[test]
fn a_differently_named_table_is_adopted_with_table_flag_or_config() {
    let env = TestEnv::new();
    let db = env.db();
    create_original_table(&db, "OutboxMessages");
    let before = original_rows(&db, "OutboxMessages");
    let v = env.json(&["init", "--table", "OutboxMessages"]);
    assert_eq!(v["table"], "OutboxMessages");
    assert_eq!(original_rows(&db, "OutboxMessages"), before);
    assert_eq!(env.json(&["--table", "OutboxMessages", "stats"])["total"], 4);
    let no_default: i64 = db
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'OutboxMessage'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        no_default, 0,
        "the default table was created beside the configured one"
    );

    env.config("table = \"OutboxMessages\"\n");
    env.ok(&["emit", "user-registered", "--email", "five@example.com"]);
    assert_eq!(env.json(&["process-once"])["delivered"], 3);
    assert_eq!(env.stats()["processed"], 5);
    assert_eq!(
        env.count("SELECT count(*) FROM OutboxMessages WHERE Content LIKE '%five@example.com%'"),
        1
    );
    env.fails(&["--table", "Outbox Messages; DROP", "stats"], 2);
}

#[test]
fn an_app_in_another_language_inserting_four_columns_gets_delivered() {
    let env = TestEnv::new();
    env.ok(&["init"]);
    let db = env.db();
    db.execute_batch(
        r#"BEGIN;
        INSERT INTO OutboxMessage (Id, Type, Content, OccuredOnUtc)
        VALUES ('6f1c3e5a-0000-4000-8000-000000000001', 'UserRegistered',
                '{"email":"py@example.com"}', strftime('%Y-%m-%d %H:%M:%f', 'now'));
        INSERT INTO OutboxMessage (Id, Type, Content, OccuredOnUtc)
        VALUES ('6f1c3e5a-0000-4000-8000-000000000002', 'UserRegistered',
                '{"email":"go@example.com"}', '2024-03-01T12:00:00Z');
        COMMIT;"#,
    )
    .unwrap();
    assert_eq!(env.stats()["pending"], 2);
    let o = env.ok(&["process-once", "--format", "json"]);
    assert_eq!(o.json()["delivered"], 2, "{o:#?}");
    assert!(o.stderr.contains("py@example.com") && o.stderr.contains("go@example.com"));
    assert_eq!(env.stats()["processed"], 2);
    assert_queries_match_stats(&env, &db);
}

/// `--table` naming an existing table that is no outbox: one line saying so and what it lacks,
/// the database exit code, and nothing changed.
#[test]
fn a_table_that_is_not_an_outbox_is_refused_in_one_line() {
    let env = TestEnv::new();
    env.db()
        .execute_batch(
            "CREATE TABLE Users (Id TEXT PRIMARY KEY, Name TEXT, Email TEXT);
             INSERT INTO Users VALUES ('u1', 'Ann', 'ann@example.com');",
        )
        .unwrap();
    for command in ["init", "list", "process-once", "stats"] {
        let line = env.fails(&["--table", "Users", command], 3);
        assert_eq!(
            line,
            "error: table Users in outbox.db is not an outbox table: it has no column Type, Content, \
             OccuredOnUtc (it has Id, Name, Email); choose another --table",
            "{command}"
        );
    }
    assert_eq!(
        env.count("SELECT count(*) FROM sqlite_master"),
        2,
        "only Users and its key"
    );
    assert_eq!(env.count("SELECT count(*) FROM pragma_table_info('Users')"), 3);
}

#[cfg(feature = "postgres")]
#[test]
fn a_postgres_table_that_is_not_an_outbox_is_refused_in_one_line() {
    let base = std::env::var("OUTBOX_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let schema = format!("t_users_{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let mut pg = postgres::Client::connect(&base, postgres::NoTls).expect("the test PostgreSQL");
    pg.batch_execute(&format!(
        "CREATE SCHEMA {schema};
         CREATE TABLE {schema}.\"Users\" (\"Id\" text PRIMARY KEY, \"Name\" text);"
    ))
    .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}schema={schema}");
    let env = TestEnv::new();
    let lines: Vec<String> = ["init", "list", "process-once"]
        .iter()
        .map(|command| env.fails(&["-d", &url, "--table", "Users", command], 3))
        .collect();
    let tables: i64 = pg
        .query_one(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1",
            &[&schema],
        )
        .unwrap()
        .get(0);
    pg.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
    for line in lines {
        assert!(
            line.starts_with(&format!(
                "error: {schema}.\"Users\" is not an outbox table: it has no column \"Type\", \"Content\", \
                 \"OccuredOnUtc\" (it has Id, Name); choose another --table"
            )),
            "{line}"
        );
    }
    assert_eq!(tables, 2, "only Users and its key");
}

/// SQLite is embedded: the first command of a new release migrates the file itself, keeping
/// every row and what each row's state is.
fn migrates_by_itself(fixture: &str) {
    let env = TestEnv::new();
    let db = env.db();
    db.execute_batch(fixture).unwrap();
    db.execute_batch(
        "INSERT INTO OutboxMessage (Id, Type, Content, OccuredOnUtc, ProcessedOnUtc)
         VALUES ('old-done', 'Ok', '{}', '2024-01-01 00:00:00', '2024-01-01 00:00:01'),
                ('old-due', 'Ok', '{}', '2024-01-01 00:00:02', NULL);",
    )
    .unwrap();
    env.config("[routes]\nOk = \"noop\"\n");
    env.emit("Ok", 2);
    assert_eq!(env.drain(None, &[]), 3);
    assert_eq!(
        env.count("SELECT Version FROM OutboxMessage_Schema"),
        i64::from(outboxctl::store::SCHEMA_VERSION)
    );
    // The ordering columns are there and work.
    env.ok(&["emit", "event", "Ok", "{}", "--key", "order-1"]);
    assert_eq!(env.drain(None, &[]), 1);
    assert_eq!(
        env.count("SELECT count(*) FROM OutboxMessage WHERE OrderingKey = 'order-1'"),
        1
    );
    assert_eq!(env.stats()["processed"], 5);
    // Crash counts and circuit state (version 4) are there.
    assert_eq!(
        env.count("SELECT count(*) FROM OutboxMessage WHERE Crashes = 0"),
        5
    );
    assert_eq!(env.count("SELECT count(*) FROM OutboxMessage_Circuit"), 0);
    // Replays (version 5) are there.
    assert_eq!(env.count("SELECT count(*) FROM OutboxMessage_Replayed"), 0);
    assert_queries_match_stats(&env, &db);
    // Idempotent: one version row however often init runs.
    env.ok(&["init"]);
    env.ok(&["init"]);
    assert_eq!(env.count("SELECT count(*) FROM OutboxMessage_Schema"), 1);
}

#[test]
fn the_first_command_migrates_a_database_of_the_last_release_before_schema_versions() {
    migrates_by_itself(include_str!("../fixtures/schema.sqlite.v1.sql"));
}

#[test]
fn the_first_command_migrates_a_database_of_a_release_before_ordering_keys() {
    migrates_by_itself(include_str!("../fixtures/schema.sqlite.v2.sql"));
}

#[test]
fn the_first_command_migrates_a_database_of_a_release_before_crash_counts() {
    migrates_by_itself(include_str!("../fixtures/schema.sqlite.v3.sql"));
}

#[test]
fn the_first_command_migrates_a_database_of_the_previous_release() {
    migrates_by_itself(include_str!("../fixtures/schema.sqlite.v4.sql"));
}

#[test]
fn a_schema_of_a_newer_release_is_refused_and_left_alone() {
    let env = TestEnv::new();
    env.ok(&["init"]);
    env.emit("Ok", 1);
    let db = env.db();
    db.execute("UPDATE OutboxMessage_Schema SET Version = Version + 1", [])
        .unwrap();
    for args in [&["init"][..], &["stats"], &["process-once"]] {
        let err = env.fails(args, 3);
        assert!(
            err.contains("made by a newer outboxctl") && err.contains("upgrade outboxctl"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(
        env.count("SELECT Version FROM OutboxMessage_Schema"),
        i64::from(outboxctl::store::SCHEMA_VERSION) + 1
    );
    assert_eq!(
        env.count("SELECT count(*) FROM OutboxMessage WHERE ProcessedOnUtc IS NULL"),
        1
    );
}
