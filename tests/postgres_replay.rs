//! Replays on what only PostgreSQL has (the store contract covers the rest): an adopted table
//! with uuid ids, and commands starting the same replay at once.
#![cfg(feature = "postgres")]

mod common;

use chrono::{TimeZone, Utc};
use outboxctl::model::NewMessage;
use outboxctl::store::{self, ClaimParams, RecordParams, ReplayPlan, ReplaySelect, ReplayState};

#[test]
fn a_replay_of_a_uuid_outbox_started_by_four_commands_at_once_is_one_replay() {
    let db = common::PgSchema::new("adhoc");
    db.sql(&format!(
        "CREATE SCHEMA \"{0}\"; CREATE TABLE \"{0}\".\"OutboxMessage\" (
             \"Id\" uuid NOT NULL PRIMARY KEY, \"Type\" text NOT NULL, \"Content\" jsonb NOT NULL,
             \"OccuredOnUtc\" timestamp NOT NULL);",
        db.name
    ));
    let mut s = store::open(&db.url, &common::store_options()).unwrap();
    s.init().unwrap();
    let t = |n| Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::seconds(n);
    let ids = [
        "0190b000-0000-7000-8000-0000000000a1",
        "0190b000-0000-7000-8000-0000000000a2",
    ];
    let mut tx = s.begin().unwrap();
    tx.insert_messages(
        &ids.iter()
            .enumerate()
            .map(|(i, id)| NewMessage {
                id: id.to_string(),
                event_type: "T".into(),
                content: "{}".into(),
                occurred_on: t(i as i64),
                key: None,
                trace_parent: None,
                trace_state: None,
            })
            .collect::<Vec<_>>(),
    )
    .unwrap();
    tx.commit().unwrap();
    let select = ReplaySelect {
        ids: vec![ids[0].to_uppercase(), ids[1].into()],
        state: ReplayState::All,
        ..Default::default()
    };
    let (n, sample) = s.replay_preview(&select, 10).unwrap();
    assert_eq!((n, sample.len()), (2, 2));
    let plan = ReplayPlan {
        select,
        sink: None,
        new_delivery_id: true,
        as_written: None,
    };
    // Concurrent starts of one plan: one replay.
    let url = db.url.clone();
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let (url, plan) = (url.clone(), plan.clone());
            std::thread::spawn(move || {
                let mut s = store::open(&url, &common::store_options()).unwrap();
                s.replay_start(
                    &plan,
                    t(100),
                    &store::Audit::new(t(100), format!("u{i}"), "replay"),
                )
                .unwrap()
                .replay
            })
        })
        .collect();
    let replays: std::collections::BTreeSet<String> =
        handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(replays.len(), 1, "{replays:?}");
    let r = replays.into_iter().next().unwrap();
    assert_eq!(db.count("SELECT count(*) FROM \"OutboxMessage_Replayed\""), 2);
    assert_eq!(
        db.count("SELECT count(*) FROM \"OutboxMessage_Audit\" WHERE \"Action\" = 'replay'"),
        4
    );
    let p = ClaimParams {
        owner: "r1",
        now: t(101),
        lease_until: t(200),
        limit: 10,
    };
    let claimed = s.replay_claim(&r, &p).unwrap();
    assert_eq!(claimed.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ids);
    assert!(claimed[0].problems.is_empty(), "{:?}", claimed[0].problems);
    assert_eq!(claimed[0].content, "{}");
    // Purged under the replay: comes back unreadable, with its id.
    db.sql(&format!(
        "DELETE FROM \"OutboxMessage\" WHERE \"Id\" = '{}'",
        ids[1]
    ));
    s.replay_release(&r, &[ids[1].into()], "r1", None).unwrap();
    let again = s
        .replay_claim(
            &r,
            &ClaimParams {
                owner: "r1",
                now: t(102),
                lease_until: t(200),
                limit: 10,
            },
        )
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, ids[1]);
    assert!(again[0].unreadable().unwrap().contains("purged"));
    let rec = s
        .replay_record(
            &r,
            &RecordParams {
                owner: "r1",
                now: t(103),
                delivered: &[ids[0].into()],
                failed: &[],
            },
        )
        .unwrap();
    assert_eq!(rec.processed, 1);
    let h = s.replays_of(&ids[0].to_uppercase()).unwrap();
    assert_eq!(h[0].state, "delivered");
    assert_eq!(
        h[0].delivery_id,
        Some(outboxctl::model::replay_delivery_id(&r, ids[0]))
    );
}

/// Three `replay` commands with the same arguments on one PostgreSQL: one replay, shared by
/// their claims; every message delivered once, and in order within its key.
#[test]
fn replay_commands_started_together_share_one_replay() {
    use std::process::{Command, Stdio};
    let db = common::PgSchema::new("replay_share");
    let dir = tempfile::tempdir().unwrap();
    let cli = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_outboxctl"));
        c.current_dir(dir.path())
            .env_remove("OUTBOX_CONFIG")
            .env_remove("OUTBOX_DATABASE")
            .env_remove("OUTBOX_LOG")
            .args(["-d", &db.url]);
        c
    };
    assert!(cli().arg("init").status().unwrap().success());
    std::fs::write(
        dir.path().join("handler.sh"),
        "echo \"$OUTBOX_MESSAGE_ID $OUTBOX_ORDERING_KEY $PPID\" >> received\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("outboxctl.toml"),
        "[sinks.h]\nkind = \"exec\"\ncommand = [\"/bin/sh\", \"handler.sh\"]\n[routes]\n\"*\" = \"h\"\n",
    )
    .unwrap();
    const N: usize = 600;
    db.sql(&format!(
        "INSERT INTO \"{0}\".\"OutboxMessage\" (\"Id\", \"Type\", \"Content\", \"OccuredOnUtc\", \"ProcessedOnUtc\", \"OrderingKey\")
         SELECT gen_random_uuid(), 'T', '{{}}', timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second',
                now(), 'k' || (i % 10)
         FROM generate_series(1, {N}) AS i",
        db.name
    ));
    let args = ["replay", "--type", "T", "--rate", "100/s", "--yes"];
    let children: Vec<_> = (0..3)
        .map(|_| {
            cli()
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let lines: Vec<Vec<String>> = std::fs::read_to_string(dir.path().join("received"))
        .unwrap()
        .lines()
        .map(|l| l.split(' ').map(str::to_owned).collect())
        .collect();
    assert_eq!(lines.len(), N, "each message once");
    let distinct: std::collections::BTreeSet<&str> = lines.iter().map(|l| l[0].as_str()).collect();
    assert_eq!(distinct.len(), N);
    let relays: std::collections::BTreeSet<&str> = lines.iter().map(|l| l[2].as_str()).collect();
    assert!(relays.len() >= 2, "the commands shared the replay: {relays:?}");
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM \"{}\".\"OutboxMessage_Replay\"",
            db.name
        )),
        1,
        "one replay"
    );
    // Within each key, in occurrence order.
    let mut client = db.client();
    for key in 0..10 {
        let key = format!("k{key}");
        let want: Vec<String> = client
            .query(
                &format!(
                    "SELECT \"Id\"::text FROM \"{}\".\"OutboxMessage\" WHERE \"OrderingKey\" = $1
                     ORDER BY \"OccuredOnUtc\", \"Id\"",
                    db.name
                ),
                &[&key],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        let got: Vec<String> = lines
            .iter()
            .filter(|l| l[1] == key)
            .map(|l| l[0].clone())
            .collect();
        assert_eq!(got, want, "key {key}");
    }
}
