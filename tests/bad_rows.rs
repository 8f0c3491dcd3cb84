//! Rows that another application wrote wrong: a BLOB or text that is not UTF-8 where text
//! belongs, an attempt count at the integer maximum or of the wrong type, times that are not
//! times. Each such message fails on its own (dead, with an error naming the column) while the
//! rest of its batch is delivered, and every command and dashboard page still shows it.

#[path = "cli/common.rs"]
#[allow(dead_code)]
mod common;

#[cfg(feature = "postgres")]
#[path = "common/mod.rs"]
mod pg;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Child;
use std::time::Duration;

use common::{TestEnv, wait_until};
use serde_json::Value;

const T0: &str = "2024-03-01 10:30:00";
const NOW: &str = "2024-03-01 12:00:00";
/// Long after every lease of a claim at NOW has run out.
const LATER: &str = "2024-03-09 12:00:00";

// ---------------------------------------------------------------------------------------------
// Over HTTP, as tests/ops.rs does it.

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// GET on its own connection; returns the status and the body.
fn get(port: u16, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8(raw).expect("a UTF-8 response");
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, body.to_owned())
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

struct Dashboard(Child, u16);

impl Drop for Dashboard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn dashboard(env: &TestEnv, database: Option<&str>) -> Dashboard {
    let port = free_port();
    let mut c = env.cmd();
    if let Some(d) = database {
        c.args(["-d", d]);
    }
    c.args(["dashboard", "--listen", &format!("127.0.0.1:{port}")])
        .env("OUTBOX_NOW", NOW)
        .stdout(std::fs::File::create(env.path("dash.out")).unwrap())
        .stderr(std::fs::File::create(env.path("dash.err")).unwrap());
    let mut child = c.spawn().unwrap();
    wait_until("the dashboard listens", Duration::from_secs(30), || {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the dashboard exited early: {status}");
        }
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    Dashboard(child, port)
}

/// Every page, and the page of each message in `ids`, answers 200 and shows each id; a page
/// of a message that could not be read says what was wrong.
fn assert_pages_show(dash: &Dashboard, unreadable: &[String], readable: &[String]) {
    for path in [
        "/",
        "/messages?state=unprocessed",
        "/messages?state=failed",
        "/messages?state=dead",
        "/messages?state=processed",
    ] {
        let (status, body) = get(dash.1, path);
        assert_eq!(status, 200, "{path}: {body}");
    }
    let (_, dead_page) = get(dash.1, "/messages?state=dead");
    for id in unreadable.iter().chain(readable) {
        let (status, body) = get(dash.1, &format!("/messages/{}", percent_encode(id)));
        assert_eq!(status, 200, "the page of {id}: {body}");
        if unreadable.contains(id) {
            assert!(
                body.contains(r#"id="problems""#),
                "no problems on the page of {id}: {body}"
            );
            let escaped = id.replace('\'', "&#39;");
            assert!(
                dead_page.contains(&escaped) || dead_page.contains(id.as_str()),
                "{id} not on the dead page"
            );
        }
    }
}

fn list_ids(v: &Value) -> Vec<String> {
    v["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// SQLite: whatever a foreign writer can put into a column.

/// One row a foreign application inserts: SQL expressions for the columns it gets wrong, and
/// what the error of the dead message must say.
struct Bad {
    id: Option<&'static str>,
    ty: &'static str,
    content: &'static str,
    occurred: Option<&'static str>,
    attempts: &'static str,
    error: &'static str,
    expect: &'static [&'static str],
}

const fn bad(expect: &'static [&'static str]) -> Bad {
    Bad {
        id: None,
        ty: "'Good'",
        content: "'{}'",
        occurred: None,
        attempts: "0",
        error: "NULL",
        expect,
    }
}

fn bad_rows() -> Vec<Bad> {
    vec![
        Bad {
            id: Some("x'00ff10'"),
            ..bad(&["Id is not valid UTF-8 (a BLOB of 3 bytes)"])
        },
        Bad {
            id: Some("CAST('blob-id' AS BLOB)"),
            ..bad(&["Id is a BLOB of 7 bytes, not text"])
        },
        Bad {
            id: Some("CAST(x'41ff42' AS TEXT)"),
            ..bad(&["Id is not valid UTF-8 (text of 3 bytes)"])
        },
        Bad {
            ty: "x'ff00'",
            ..bad(&["Type is not valid UTF-8 (a BLOB of 2 bytes)"])
        },
        Bad {
            ty: "CAST('Good' AS BLOB)",
            ..bad(&["Type is a BLOB of 4 bytes, not text"])
        },
        Bad {
            ty: "CAST(x'476f6fff' AS TEXT)",
            ..bad(&["Type is not valid UTF-8 (text of 4 bytes)"])
        },
        Bad {
            content: "x'7b22ff227d00000000000000'",
            ..bad(&["Content is not valid UTF-8 (a BLOB of 12 bytes)"])
        },
        Bad {
            content: "CAST('{\"a\":1}' AS BLOB)",
            ..bad(&["Content is a BLOB of 7 bytes, not text"])
        },
        Bad {
            content: "CAST(x'7b2261223a22ff227d' AS TEXT)",
            ..bad(&["Content is not valid UTF-8 (text of 9 bytes)"])
        },
        Bad {
            occurred: Some("x'3230'"),
            ..bad(&["OccuredOnUtc is not a time (a BLOB of 2 bytes)"])
        },
        Bad {
            occurred: Some("CAST(x'32303234ff' AS TEXT)"),
            ..bad(&["OccuredOnUtc is not a time (text of 5 bytes that is not valid UTF-8)"])
        },
        Bad {
            occurred: Some("'yesterday'"),
            ..bad(&["OccuredOnUtc is not a time (\"yesterday\")"])
        },
        Bad {
            occurred: Some("1700000000"),
            ..bad(&["OccuredOnUtc is not a time (\"1700000000\")"])
        },
        Bad {
            attempts: "9223372036854775807",
            ..bad(&["Attempts is at the integer maximum (9223372036854775807)"])
        },
        // The claim's `+ 1` reaches the maximum.
        Bad {
            attempts: "9223372036854775806",
            ..bad(&["Attempts is at the integer maximum (9223372036854775807)"])
        },
        Bad {
            attempts: "2.5",
            ..bad(&["Attempts is not an integer (the REAL 2.5)"])
        },
        Bad {
            attempts: "1e300",
            ..bad(&["Attempts is not an integer (the REAL 1e300)"])
        },
        Bad {
            attempts: "'three'",
            ..bad(&["Attempts is not an integer (\"three\")"])
        },
        Bad {
            attempts: "x'01'",
            ..bad(&["Attempts is not an integer (a BLOB of 1 bytes)"])
        },
        Bad {
            attempts: "CAST(x'ff' AS TEXT)",
            ..bad(&["Attempts is not an integer (text of 1 bytes that is not valid UTF-8)"])
        },
        Bad {
            id: Some("x'ab'"),
            content: "x'ff'",
            ..bad(&[
                "Id is not valid UTF-8 (a BLOB of 1 bytes)",
                "Content is not valid UTF-8 (a BLOB of 1 bytes)",
            ])
        },
        // A last error that cannot be read is not what makes it dead.
        Bad {
            ty: "CAST(x'ff' AS TEXT)",
            error: "x'ff'",
            ..bad(&["Type is not valid UTF-8 (text of 1 bytes)"])
        },
    ]
}

/// Rows whose scheduling columns hold garbage: nothing the message says is unknown, so they
/// are delivered, and never held back by a time that cannot be read.
const SCHEDULE_GARBAGE: &[(&str, &str)] = &[
    ("NextAttemptOnUtc, Error", "'soon', 'boom'"),
    ("NextAttemptOnUtc", "x'00'"),
    ("NextAttemptOnUtc", "'9999-99-99 99:99:99'"),
    ("LockedBy, LockedUntilUtc", "'a-relay-long-gone', 'later'"),
    ("LastAttemptOnUtc, Error, Attempts", "'whenever', x'ff', 1"),
];

#[test]
fn unreadable_rows_go_dead_alone_and_every_command_and_page_shows_them() {
    let env = TestEnv::new();
    env.config("[retry]\nmax_attempts = 3\n\n[routes]\nGood = \"noop\"\n");
    let good: Vec<String> = (0..5).map(|_| env.emit_at(T0, "Good")).collect();
    let db = env.db();
    let rows = bad_rows();
    assert!(rows.len() >= 20);
    let mut bad_rowids = Vec::new();
    for (i, b) in rows.iter().enumerate() {
        // Interleaved with the good rows, so they share a batch.
        let occurred = format!("'2024-03-01 10:{:02}:00'", 10 + 2 * i);
        let id = format!("'bad-{i}'");
        db.execute_batch(&format!(
            "INSERT INTO OutboxMessage (Id, Type, Content, OccuredOnUtc, Attempts, Error)
             VALUES ({}, {}, {}, {}, {}, {})",
            b.id.unwrap_or(&id),
            b.ty,
            b.content,
            b.occurred.unwrap_or(&occurred),
            b.attempts,
            b.error
        ))
        .unwrap();
        bad_rowids.push(db.last_insert_rowid());
    }
    let mut garbage_ids = Vec::new();
    for (i, (columns, values)) in SCHEDULE_GARBAGE.iter().enumerate() {
        let id = format!("garbage-time-{i}");
        db.execute_batch(&format!(
            "INSERT INTO OutboxMessage (Id, Type, Content, OccuredOnUtc, {columns})
             VALUES ('{id}', 'Good', '{{}}', '2024-03-01 10:{:02}:30', {values})",
            11 + 2 * i
        ))
        .unwrap();
        garbage_ids.push(id);
    }
    let total = good.len() + rows.len() + garbage_ids.len();

    // Before the relay: the monitoring commands work, and a garbage lease end is no live claim.
    let st = env.json_at(NOW, &["stats"]);
    assert_eq!(st["total"], total as u64, "{st:#}");
    assert_eq!(
        st["in_flight"], 0,
        "a lease whose end is not a time is over: {st:#}"
    );
    let listed = env.json_at(NOW, &["list", "--limit", "100"]);
    assert_eq!(list_ids(&listed).len(), total);
    let soon = listed["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "garbage-time-0")
        .unwrap();
    assert_eq!(
        soon["problems"][0], "NextAttemptOnUtc is not a time (\"soon\")",
        "{soon:#}"
    );

    let out = env.ok_at(NOW, &["process-once", "--batch-size", "100", "--format", "json"]);
    let report = out.json();
    assert_eq!(report["claimed"], total as u64, "{report:#}");
    assert_eq!(
        report["delivered"],
        (good.len() + garbage_ids.len()) as u64,
        "{report:#}\n{}",
        out.stderr
    );
    assert_eq!(report["dead"], rows.len() as u64, "{report:#}");
    assert_eq!(report["failed"], 0, "{report:#}");

    for (b, rowid) in rows.iter().zip(&bad_rowids) {
        let (error, dead, locked, history): (String, Option<String>, Option<String>, i64) = db
            .query_row(
                "SELECT Error, DeadOnUtc, LockedBy,
                        (SELECT count(*) FROM OutboxMessage_Attempt a WHERE a.MessageId = m.Id)
                 FROM OutboxMessage m WHERE rowid = ?1",
                [rowid],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert!(
            dead.is_some() && locked.is_none(),
            "row {rowid} is not dead: {error}"
        );
        assert!(error.starts_with("unreadable row: "), "{error}");
        for e in b.expect {
            assert!(error.contains(e), "row {rowid}: {error:?} does not say {e:?}");
        }
        assert!(
            !error.contains("Error "),
            "only what makes it undeliverable: {error}"
        );
        assert_eq!(history, 1, "row {rowid}: its failure is in the history");
    }
    let processed = env.count(
        "SELECT count(*) FROM OutboxMessage WHERE ProcessedOnUtc IS NOT NULL AND Error IS NULL AND LockedBy IS NULL",
    );
    assert_eq!(processed as usize, good.len() + garbage_ids.len());

    // Dead for good: not claimed again, not even once every lease has run out.
    for at in [NOW, LATER] {
        let r = env.json_at(at, &["process-once", "--batch-size", "100"]);
        assert_eq!(r["claimed"], 0, "at {at}: {r:#}");
    }

    // list, table and JSON.
    let dead = env.json_at(NOW, &["list", "--dead", "--limit", "100"]);
    let dead_ids = list_ids(&dead);
    assert_eq!(dead_ids.len(), rows.len(), "{dead:#}");
    for m in dead["messages"].as_array().unwrap() {
        assert!(!m["problems"].as_array().unwrap().is_empty(), "{m:#}");
        assert!(
            m["error"].as_str().unwrap().starts_with("unreadable row: "),
            "{m:#}"
        );
        assert_eq!(m["state"], "dead");
    }
    for handle in ["x'00ff10'", "x'626c6f622d6964'", "x'41ff42'", "x'ab'"] {
        assert!(
            dead_ids.iter().any(|id| id == handle),
            "{handle} not in {dead_ids:?}"
        );
    }
    let table = env.ok_at(NOW, &["list", "--limit", "100"]).stdout;
    assert!(table.contains("dead!"), "{table}");
    assert!(table.contains("! not readable as the schema says"), "{table}");
    assert!(
        table.contains("x'00ff10': Id is not valid UTF-8 (a BLOB of 3 bytes)"),
        "{table}"
    );
    let processed_list = env.json_at(NOW, &["list", "--processed", "--limit", "100"]);
    assert_eq!(list_ids(&processed_list).len(), good.len() + garbage_ids.len());

    // show, by the id `list` gave, in JSON and as text.
    for id in &dead_ids {
        let v = env.json_at(NOW, &["show", id]);
        assert_eq!(&v["id"], id.as_str());
        assert!(!v["problems"].as_array().unwrap().is_empty(), "{v:#}");
        assert_eq!(v["failures"].as_array().unwrap().len(), 1, "{v:#}");
        let text = env.ok_at(NOW, &["show", id]).stdout;
        assert!(text.contains("Unreadable:"), "{text}");
    }

    // stats and health.
    let st = env.json_at(NOW, &["stats"]);
    assert_eq!(
        (&st["total"], &st["dead"], &st["processed"], &st["in_flight"]),
        (
            &Value::from(total),
            &Value::from(rows.len()),
            &Value::from(good.len() + garbage_ids.len()),
            &Value::from(0)
        ),
        "{st:#}"
    );
    env.ok_at(NOW, &["stats"]);
    let h = env.run_at(NOW, &["health"]);
    assert!(
        h.stdout.starts_with("OUTBOX OK - ") && h.stdout.contains(&format!("{} dead", rows.len())),
        "{h:#?}"
    );

    // The dashboard.
    let dash = dashboard(&env, None);
    assert_pages_show(&dash, &dead_ids, &good);

    // `retry --dead` gives each one a fresh set of attempts; those whose only fault was the
    // count are delivered then, the others are dead again at once.
    env.ok_at(LATER, &["retry", "--dead"]);
    let r = env.json_at(LATER, &["process-once", "--batch-size", "100"]);
    let count_only = rows
        .iter()
        .filter(|b| b.expect.iter().all(|e| e.starts_with("Attempts")))
        .count();
    assert_eq!(r["delivered"], count_only as u64, "{r:#}");
    assert_eq!(r["dead"], (rows.len() - count_only) as u64, "{r:#}");
}

#[test]
fn a_garbage_time_is_shown_and_does_not_hold_a_message_back() {
    let env = TestEnv::new();
    env.config("[routes]\nGood = \"noop\"\n");
    env.emit_at(T0, "Good");
    env.db()
        .execute_batch(
            "INSERT INTO OutboxMessage (Id, Type, Content, OccuredOnUtc, NextAttemptOnUtc, Error, Attempts)
             VALUES ('later', 'Good', '{}', '2024-03-01 10:00:00', 'soon', 'an earlier failure', 1)",
        )
        .unwrap();
    // Shown as failing, with what is wrong.
    let v = env.json_at(NOW, &["show", "later"]);
    assert_eq!(v["state"], "retrying");
    assert_eq!(v["problems"][0], "NextAttemptOnUtc is not a time (\"soon\")");
    assert_eq!(env.json_at(NOW, &["stats"])["retrying"], 1);
    // Due now: delivered by the next pass.
    let r = env.json_at(NOW, &["process-once"]);
    assert_eq!(
        (&r["claimed"], &r["delivered"]),
        (&Value::from(2), &Value::from(2)),
        "{r:#}"
    );
    let v = env.json_at(NOW, &["show", "later"]);
    assert_eq!(v["state"], "processed");
    assert!(v.get("problems").is_none(), "the claim rewrote the time: {v:#}");
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: its columns are typed, so less can go wrong; what can, must not block a batch.

#[cfg(feature = "postgres")]
#[test]
fn postgres_unreadable_rows_go_dead_alone_and_every_command_and_page_shows_them() {
    let schema = pg::PgSchema::new("badrows");
    let env = TestEnv::new();
    env.config("[retry]\nmax_attempts = 3\n\n[routes]\nGood = \"noop\"\n");
    let url = schema.url.as_str();
    let run = |now: &str, args: &[&str]| {
        let mut a = vec!["-d", url];
        a.extend(args);
        env.ok_at(now, &a)
    };
    let json = |now: &str, args: &[&str]| {
        let mut a = args.to_vec();
        a.extend(["--format", "json"]);
        run(now, &a).json()
    };
    run(T0, &["init"]);
    let good: Vec<String> = (0..3)
        .map(|_| {
            json(T0, &["emit", "event", "Good", "{}"])["emitted"][0]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    // (id, columns, values, what its error must say)
    let bad: &[(&str, &str, &str, &str)] = &[
        (
            "max-attempts",
            "\"Attempts\"",
            "2147483647",
            "Attempts is at the integer maximum (2147483647)",
        ),
        (
            "occurred-infinity",
            "",
            "",
            "OccuredOnUtc is not a time outboxctl can read",
        ),
        (
            "occurred-minus-infinity",
            "",
            "",
            "OccuredOnUtc is not a time outboxctl can read",
        ),
        (
            "occurred-far-future",
            "",
            "",
            "OccuredOnUtc is not a time outboxctl can read",
        ),
        ("not-json", "", "", "malformed content: not valid JSON"),
    ];
    let insert = |id: &str, occurred: &str, content: &str, columns: &str, values: &str| {
        let (c, v) = if columns.is_empty() {
            (String::new(), String::new())
        } else {
            (format!(", {columns}"), format!(", {values}"))
        };
        schema.sql(&format!(
            "INSERT INTO \"OutboxMessage\" (\"Id\", \"Type\", \"Content\", \"OccuredOnUtc\"{c})
             VALUES ('{id}', 'Good', '{content}', '{occurred}'{v})"
        ));
    };
    insert("max-attempts", "2024-03-01 10:10:00+00", "{}", bad[0].1, bad[0].2);
    insert("occurred-infinity", "infinity", "{}", "", "");
    insert("occurred-minus-infinity", "-infinity", "{}", "", "");
    insert("occurred-far-future", "294000-01-01 00:00:00+00", "{}", "", "");
    insert("not-json", "2024-03-01 10:20:00+00", "not json", "", "");
    // Scheduling columns PostgreSQL holds but outboxctl cannot read: delivered all the same.
    let delivered_anyway = [
        (
            "next-infinity",
            "\"NextAttemptOnUtc\", \"Error\"",
            "'infinity', 'boom'",
        ),
        (
            "locked-infinity",
            "\"LockedBy\", \"LockedUntilUtc\"",
            "'a-relay-long-gone', 'infinity'",
        ),
        ("last-infinity", "\"LastAttemptOnUtc\"", "'infinity'"),
    ];
    for (id, columns, values) in delivered_anyway {
        insert(id, "2024-03-01 10:15:00+00", "{}", columns, values);
    }
    // Already processed, and already dead, with a time outboxctl cannot read.
    insert(
        "processed-infinity",
        "2024-03-01 09:00:00+00",
        "{}",
        "\"ProcessedOnUtc\"",
        "'infinity'",
    );
    insert(
        "dead-infinity",
        "2024-03-01 09:00:00+00",
        "{}",
        "\"DeadOnUtc\", \"Error\"",
        "'infinity', 'old'",
    );

    let st = json(NOW, &["stats"]);
    assert_eq!(st["total"], 13, "{st:#}");
    // A lease ending at `infinity` is over, as the claim and `list` see it.
    assert_eq!(st["in_flight"], 0, "{st:#}");
    let listed = json(NOW, &["list", "--limit", "100"]);
    assert_eq!(list_ids(&listed).len(), 12, "{listed:#}");

    let r = json(NOW, &["process-once", "--batch-size", "100"]);
    assert_eq!(
        r["delivered"],
        (good.len() + delivered_anyway.len()) as u64,
        "{r:#}"
    );
    assert_eq!(r["dead"], bad.len() as u64, "{r:#}");
    for &(id, _, _, expect) in bad {
        let v = json(NOW, &["show", id]);
        assert_eq!(v["state"], "dead", "{v:#}");
        assert!(v["error"].as_str().unwrap().contains(expect), "{id}: {v:#}");
    }
    for at in [NOW, LATER] {
        assert_eq!(json(at, &["process-once"])["claimed"], 0, "at {at}");
    }
    let dead = json(NOW, &["list", "--dead", "--limit", "100"]);
    assert_eq!(list_ids(&dead).len(), bad.len() + 1, "{dead:#}");
    let table = run(NOW, &["list", "--dead"]).stdout;
    assert!(
        table.contains("dead!") && table.contains("occurred-infinity: OccuredOnUtc"),
        "{table}"
    );
    let processed = json(NOW, &["list", "--processed", "--limit", "100"]);
    let p = processed["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "processed-infinity")
        .unwrap();
    assert!(
        p["problems"][0].as_str().unwrap().starts_with("ProcessedOnUtc"),
        "{p:#}"
    );
    let st = json(NOW, &["stats"]);
    assert_eq!(
        (&st["total"], &st["dead"]),
        (&Value::from(13), &Value::from(bad.len() + 1)),
        "{st:#}"
    );
    let h = env.run_at(NOW, &["-d", url, "health"]);
    assert!(h.stdout.starts_with("OUTBOX "), "{h:#?}");
    assert_ne!(h.code, 3, "{h:#?}");

    let dash = dashboard(&env, Some(url));
    let unreadable: Vec<String> = [
        "max-attempts",
        "occurred-infinity",
        "occurred-minus-infinity",
        "occurred-far-future",
    ]
    .map(String::from)
    .to_vec();
    assert_pages_show(&dash, &unreadable, &good);
}
