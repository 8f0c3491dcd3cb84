//! SQLite purge keeps the per-type processed counters right whichever way it deletes: in bulk
//! with triggers off, or row by row when the application has its own trigger on the table.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use outboxctl::store::{self, Store, StoreOptions};
use rusqlite::Connection;

fn setup() -> (tempfile::TempDir, String, Box<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.db").to_str().unwrap().to_owned();
    let store = store::open(
        &path,
        &StoreOptions {
            table: "OutboxMessage".into(),
            busy_timeout: Duration::from_secs(5),
        },
    )
    .unwrap();
    // 3000 processed rows of 3 types (2000 of them old), and one waiting.
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
             INSERT INTO OutboxMessage (Id, Type, Content, OccuredOnUtc, ProcessedOnUtc)
             SELECT printf('m-%05d', i), 'T' || (i % 3), '{}', '2020-01-01 00:00:00',
                    CASE WHEN i <= 2000 THEN '2020-01-01 00:00:01' ELSE '2024-06-01 00:00:00' END
             FROM n;
             INSERT INTO OutboxMessage (Id, Type, Content, OccuredOnUtc) VALUES ('w', 'T1', '{}', '2019-01-01');",
        )
        .unwrap();
    (dir, path, store)
}

fn purge(store: &mut dyn Store) -> u64 {
    let before = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    let audit = outboxctl::store::Audit::new(before, "test", "outboxctl purge");
    let mut deleted = 0;
    loop {
        let n = store.purge_chunk(before, 300, &audit).unwrap();
        deleted += n;
        if n < 300 {
            return deleted;
        }
    }
}

/// Processed messages per type.
type PerType = Vec<(String, i64)>;

/// Counters as stored, and as counted from the rows.
fn counters(path: &str) -> (PerType, PerType) {
    let db = Connection::open(path).unwrap();
    let rows = |sql: &str| -> PerType {
        let mut stmt = db.prepare(sql).unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    (
        rows("SELECT Type, Processed FROM OutboxMessage_Processed WHERE Processed > 0 ORDER BY Type"),
        rows(
            "SELECT Type, count(*) FROM OutboxMessage WHERE ProcessedOnUtc IS NOT NULL
             GROUP BY Type ORDER BY Type",
        ),
    )
}

#[test]
fn bulk_purge_keeps_counters_and_turns_triggers_back_on() {
    let (_dir, path, mut store) = setup();
    assert_eq!(purge(store.as_mut()), 2000);
    let (stored, counted) = counters(&path);
    assert_eq!(stored, counted);
    assert_eq!(counted.iter().map(|(_, n)| n).sum::<i64>(), 1000);
    assert_eq!(store.stats(Utc::now()).unwrap().counts.pending, 1);

    // The same connection counts new processing again: triggers are back on.
    let recorded = store
        .record(&outboxctl::store::RecordParams {
            owner: "relay",
            now: Utc::now(),
            delivered: &["w".to_owned()],
            failed: &[],
        })
        .unwrap();
    assert_eq!(recorded.processed, 1);
    let (stored, counted) = counters(&path);
    assert_eq!(stored, counted);
    assert_eq!(store.stats(Utc::now()).unwrap().counts.processed, 1001);
}

#[test]
fn an_application_trigger_still_fires_for_purged_rows() {
    let (_dir, path, mut store) = setup();
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TABLE Audit (Id TEXT);
             CREATE TRIGGER app_audit AFTER DELETE ON OutboxMessage BEGIN
                 INSERT INTO Audit VALUES (OLD.Id);
             END;",
        )
        .unwrap();
    assert_eq!(purge(store.as_mut()), 2000);
    let db = Connection::open(&path).unwrap();
    let audited: i64 = db
        .query_row("SELECT count(*) FROM Audit", [], |r| r.get(0))
        .unwrap();
    assert_eq!(audited, 2000);
    let (stored, counted) = counters(&path);
    assert_eq!(stored, counted);
}

/// A relay stopped between marking a message processed and dropping its per-destination
/// state leaves that state behind; purge removes it, and keeps the state of a waiting message.
#[test]
fn purge_drops_delivery_state_left_behind_by_processed_messages() {
    let (_dir, path, mut store) = setup();
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "INSERT INTO OutboxMessage_Delivery (MessageId, Destination, DeliveredOnUtc) VALUES
                 ('m-02500', 'hook', '2024-06-01 00:00:00'),
                 ('w', 'hook', '2024-06-01 00:00:00');",
        )
        .unwrap();
    assert_eq!(purge(store.as_mut()), 2000);
    assert!(store.deliveries("m-02500").unwrap().is_empty());
    assert_eq!(store.deliveries("w").unwrap(), vec!["hook".to_string()]);
}
