//! One story of what a store must do, run through the `Store` trait against every backend, so
//! SQLite and PostgreSQL cannot drift apart.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use outboxctl::model::{NewMessage, State};
use outboxctl::store::{
    self, ClaimParams, Failure, ListFilter, ListParams, RecordParams, RetrySelect, SqlValue, Store,
};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0).unwrap()
}

fn secs(n: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(n)
}

fn msg(id: &str, ty: &str, at: i64) -> NewMessage {
    NewMessage {
        id: id.into(),
        event_type: ty.into(),
        content: format!(r#"{{"id":"{id}"}}"#),
        occurred_on: secs(at),
        key: None,
        trace_parent: None,
        trace_state: None,
    }
}

/// An operator's action, for the audit trail.
fn op() -> store::Audit {
    store::Audit::new(secs(0), "tester", "outboxctl test")
}

fn claim(s: &mut dyn Store, owner: &str, now: i64, lease: i64, limit: usize) -> Vec<String> {
    s.claim(&ClaimParams {
        owner,
        now: secs(now),
        lease_until: secs(now + lease),
        limit,
    })
    .unwrap()
    .into_iter()
    .map(|m| m.id)
    .collect()
}

fn failure(id: &str, now: i64, attempt: i64, retry_at: Option<i64>) -> Failure {
    Failure {
        id: id.into(),
        attempt,
        error: format!("boom {attempt}"),
        destination: Some("hook".into()),
        accepted: Vec::new(),
        failed_on: secs(now),
        next_attempt: retry_at.map(secs),
        skip: false,
        parked: false,
    }
}

fn fail(s: &mut dyn Store, id: &str, owner: &str, now: i64, attempt: i64, retry_at: Option<i64>) -> bool {
    let recorded = s
        .record(&RecordParams {
            owner,
            now: secs(now),
            delivered: &[],
            failed: &[failure(id, now, attempt, retry_at)],
        })
        .unwrap();
    recorded.failed == 1
}

/// Records deliveries alone; returns how many were not processed yet.
fn deliver(s: &mut dyn Store, ids: &[&str], now: i64) -> u64 {
    let ids: Vec<String> = ids.iter().map(|&i| i.to_owned()).collect();
    s.record(&RecordParams {
        owner: "anyone",
        now: secs(now),
        delivered: &ids,
        failed: &[],
    })
    .unwrap()
    .processed
}

fn list(s: &mut dyn Store, filter: ListFilter, ty: Option<&str>) -> Vec<String> {
    s.list(&ListParams {
        filter,
        event_type: ty.map(Into::into),
        limit: 50,
    })
    .unwrap()
    .into_iter()
    .map(|m| m.id)
    .collect()
}

const FILTERS: [ListFilter; 4] = [
    ListFilter::Unprocessed,
    ListFilter::Failed,
    ListFilter::Dead,
    ListFilter::Processed,
];

/// Every filter, with and without a type: pages of two, read with OFFSET, add up to the list.
fn paging_matches_list(s: &mut dyn Store) {
    for filter in FILTERS {
        for ty in [None, Some("Alpha"), Some("Beta")] {
            let whole = list(s, filter, ty);
            let mut paged = Vec::new();
            for offset in (0..whole.len() + 2).step_by(2) {
                let params = ListParams {
                    filter,
                    event_type: ty.map(Into::into),
                    limit: 2,
                };
                let page = s.list_page(&params, offset).unwrap();
                assert!(page.len() <= 2);
                paged.extend(page.into_iter().map(|m| m.id));
            }
            assert_eq!(paged, whole, "{filter:?} {ty:?}");
        }
    }
}

/// `$N` means the N-th value on every store, whatever order the statement names them in.
fn numbered_parameters(s: &mut dyn Store) {
    let mut tx = s.begin().unwrap();
    tx.execute(
        "CREATE TABLE Users (Id integer PRIMARY KEY, Name text NOT NULL)",
        &[],
    )
    .unwrap();
    tx.execute(
        "INSERT INTO Users (Id, Name) VALUES ($1, $2), ($1 + 1, $2)",
        &[1.into(), "a".into()],
    )
    .unwrap();
    // Out of order: `$2` first. Bound by appearance this would look for Id 'b' and change nothing.
    let n = tx
        .execute(
            "UPDATE Users SET Name = $2 WHERE Id = $1",
            &[1.into(), "b".into()],
        )
        .unwrap();
    assert_eq!(n, 1, "$2 before $1 binds by number");
    // Repeated: `$1` twice, and a `$2` inside a string literal that is no parameter.
    let n = tx
        .execute(
            "UPDATE Users SET Name = $2 || '$1' WHERE Id = $1 OR Id = $1 + 1",
            &[1.into(), "c".into()],
        )
        .unwrap();
    assert_eq!(n, 2, "a repeated $1 is the same value");
    tx.commit().unwrap();
    let count = |s: &mut dyn Store, name: &str| {
        let mut tx = s.begin().unwrap();
        let n = tx
            .execute("UPDATE Users SET Name = Name WHERE Name = $1", &[name.into()])
            .unwrap();
        drop(tx);
        n
    };
    assert_eq!(count(s, "c$1"), 2);
    // A parameter without a value is an error, not a NULL.
    let mut tx = s.begin().unwrap();
    let err = tx
        .execute("UPDATE Users SET Name = $1 WHERE Id = $2", &["x".into()])
        .unwrap_err();
    assert!(err.to_string().contains('2'), "{err}");
    drop(tx);
    // Rollback: a transaction dropped without commit leaves nothing.
    let mut tx = s.begin().unwrap();
    tx.execute("UPDATE Users SET Name = $1", &[SqlValue::from("gone")])
        .unwrap();
    drop(tx);
    assert_eq!(count(s, "gone"), 0);
    assert_eq!(count(s, "c$1"), 2);
}

const A: &str = "0190a000-0000-7000-8000-00000000000a";
const B: &str = "0190a000-0000-7000-8000-00000000000b";
const C: &str = "0190a000-0000-7000-8000-00000000000c";
const D: &str = "0190a000-0000-7000-8000-00000000000d";
const E: &str = "0190a000-0000-7000-8000-00000000000e";

fn story(s: &mut dyn Store, other: &mut dyn Store, backend: &str) {
    assert_eq!(s.backend(), backend);
    // Init is idempotent.
    s.init().unwrap();
    // Empty.
    assert_eq!(s.stats(secs(0)).unwrap().counts.total, 0);
    assert!(claim(s, "r1", 0, 60, 10).is_empty());
    assert_eq!(s.next_due(secs(0)).unwrap(), None);
    numbered_parameters(s);

    // Insert through a transaction; a transaction dropped without commit leaves nothing.
    let mut tx = s.begin().unwrap();
    tx.insert_messages(&[msg(A, "Alpha", 0), msg(B, "Beta", 1), msg(C, "Alpha", 2)])
        .unwrap();
    tx.commit().unwrap();
    let mut tx = s.begin().unwrap();
    tx.insert_messages(&[msg(D, "Alpha", 3)]).unwrap();
    drop(tx);
    assert_eq!(s.missing_ids(&[A.into(), D.into()]).unwrap(), vec![D.to_string()]);
    let mut tx = s.begin().unwrap();
    tx.insert_messages(&[msg(E, "Beta", 4)]).unwrap();
    tx.commit().unwrap();

    // A claim takes at most its limit, oldest first, and counts the attempt.
    assert_eq!(claim(s, "r1", 10, 60, 2), vec![A, B]);
    let a = s.get(A).unwrap().unwrap().message;
    assert_eq!(a.attempts, 1);
    assert_eq!(a.locked_by.as_deref(), Some("r1"));
    assert_eq!(a.locked_until, Some(secs(70)));
    assert_eq!(
        a.next_attempt_on,
        Some(secs(70)),
        "a claimed row is not due until its lease ends"
    );
    assert_eq!(a.state(secs(10)), State::InFlight);
    // Another relay gets only what is not claimed.
    assert_eq!(claim(s, "r2", 11, 60, 10), vec![C, E]);
    assert!(claim(s, "r3", 12, 60, 10).is_empty());
    let st = s.stats(secs(12)).unwrap();
    assert_eq!(
        (st.counts.total, st.counts.in_flight, st.counts.pending),
        (4, 4, 0)
    );

    // Success: once.
    assert_eq!(deliver(s, &[A], 20), 1);
    assert_eq!(deliver(s, &[A], 21), 0);

    // Failure by someone who does not hold the claim changes nothing.
    assert!(!fail(s, B, "r2", 20, 1, Some(40)));
    assert!(fail(s, B, "r1", 20, 1, Some(40)));
    let b = s.get(B).unwrap().unwrap();
    assert_eq!(b.message.error.as_deref(), Some("boom 1"));
    assert_eq!(b.message.state(secs(21)), State::Retrying);
    // The next wake-up: B's retry at 40, then the end of C's and E's lease at 71.
    assert_eq!(s.next_due(secs(21)).unwrap(), Some(secs(40)));
    assert_eq!(s.next_due(secs(40)).unwrap(), Some(secs(71)));
    // The history keeps every reported failure, even one from a relay that lost its claim.
    assert_eq!(b.failures.len(), 2);
    assert_eq!(b.failures[1].destination.as_deref(), Some("hook"));
    assert_eq!(list(s, ListFilter::Failed, None), vec![B]);
    // Not due before its next attempt; due after.
    assert!(claim(s, "r1", 30, 60, 10).is_empty());
    assert_eq!(claim(s, "r1", 41, 60, 10), vec![B]);
    assert_eq!(s.get(B).unwrap().unwrap().message.attempts, 2);

    // Out of attempts: dead, no longer competing, listed as dead and failed.
    assert!(fail(s, B, "r1", 42, 2, None));
    assert!(claim(s, "r1", 500, 60, 10).iter().all(|id| id != B));
    assert_eq!(list(s, ListFilter::Dead, None), vec![B]);
    let st = s.stats(secs(43)).unwrap();
    assert_eq!((st.counts.dead, st.counts.failed), (1, 1));
    assert_eq!(list(s, ListFilter::Unprocessed, None), vec![B, C, E]);
    paging_matches_list(s);

    // retry --dead: counted by a dry run, then due again with a fresh set of attempts.
    assert_eq!(s.retry(&RetrySelect::Dead, secs(600), true, &op()).unwrap(), 1);
    assert_eq!(
        list(s, ListFilter::Dead, None),
        vec![B],
        "a dry run changes nothing"
    );
    assert_eq!(s.retry(&RetrySelect::Dead, secs(600), false, &op()).unwrap(), 1);
    let b = s.get(B).unwrap().unwrap().message;
    assert_eq!((b.attempts, b.dead_on, b.next_attempt_on), (0, None, None));

    // Lease expiry: C and E were claimed by r2 at 11 until 71 (and again at 500 by r1 until 560).
    // Past the lease, another relay takes them over and the old owner can no longer fail them.
    // C and E have now lost two leases with no outcome: suspects, which a claim takes one at a
    // time (ahead of the others), counting each crash.
    let taken = claim(s, "r3", 601, 60, 10);
    assert_eq!(taken, vec![B, C]);
    assert_eq!(s.get(C).unwrap().unwrap().message.crashes, 2);
    assert_eq!(s.get(B).unwrap().unwrap().message.crashes, 0);
    assert_eq!(claim(s, "r3", 601, 60, 10), vec![E]);
    assert_eq!(s.get(E).unwrap().unwrap().message.crashes, 2);
    assert!(!fail(s, C, "r1", 602, 1, Some(700)), "r1 lost its claim");
    assert_eq!(s.release(&[C.into()], "r1", None).unwrap(), 0);
    // Extending pushes only the owner's lease.
    assert_eq!(s.extend(&[C.into(), E.into()], "r3", secs(900)).unwrap(), 2);
    assert_eq!(s.extend(&[C.into()], "r1", secs(999)).unwrap(), 0);
    assert_eq!(s.get(C).unwrap().unwrap().message.locked_until, Some(secs(900)));
    // Release gives claims back unattempted.
    let before = s.get(E).unwrap().unwrap().message.attempts;
    assert_eq!(s.release(&[E.into()], "r3", None).unwrap(), 1);
    let e = s.get(E).unwrap().unwrap().message;
    assert_eq!(
        (e.attempts, e.locked_by, e.next_attempt_on),
        (before - 1, None, None)
    );
    assert_eq!(claim(s, "r1", 602, 60, 10), vec![E]);

    // retry --id on a message someone holds does nothing; on a free failing one it works.
    assert_eq!(
        s.retry(&RetrySelect::Ids(vec![C.into()]), secs(603), false, &op())
            .unwrap(),
        0
    );

    // Several destinations: accepted ones are remembered until the message is processed.
    // Remembered with the attempt's failure, even one reported by a relay that lost its claim
    // (the acceptance happened), and once per destination.
    for at in [604, 605] {
        let recorded = s
            .record(&RecordParams {
                owner: "r9",
                now: secs(at),
                delivered: &[],
                failed: &[Failure {
                    accepted: vec!["a".into()],
                    ..failure(C, at, 1, Some(700))
                }],
            })
            .unwrap();
        assert_eq!(recorded.failed, 0);
    }
    assert_eq!(s.deliveries(C).unwrap(), vec!["a".to_string()]);
    assert_eq!(s.get(C).unwrap().unwrap().deliveries.len(), 1);
    // A run a sink accepted together is marked at once; A, already processed, is not counted.
    assert_eq!(deliver(s, &[A, B, C, E], 610), 3);
    assert_eq!(deliver(s, &[B, C], 611), 0);
    assert_eq!(s.get(C).unwrap().unwrap().message.processed_on, Some(secs(610)));
    assert_eq!(s.get(A).unwrap().unwrap().message.processed_on, Some(secs(20)));
    let c = s.get(C).unwrap().unwrap().message;
    assert_eq!((c.locked_by, c.error, c.next_attempt_on), (None, None, None));
    assert!(s.deliveries(C).unwrap().is_empty());
    assert_eq!(s.next_due(secs(611)).unwrap(), None);

    // list: processed newest first, by type; get is case-insensitive.
    assert_eq!(list(s, ListFilter::Processed, Some("Beta")), vec![B, E]);
    assert_eq!(
        list(s, ListFilter::Processed, None).last().map(String::as_str),
        Some(A)
    );
    assert!(list(s, ListFilter::Unprocessed, None).is_empty());
    assert_eq!(s.get(&A.to_uppercase()).unwrap().unwrap().message.id, A);
    assert!(s.get("0190a000-0000-7000-8000-0000000000ff").unwrap().is_none());
    assert!(s.get("not-an-id").unwrap().is_none());
    assert!(s.missing_ids(&[A.to_uppercase()]).unwrap().is_empty());

    // A new message that keeps failing, to check purge spares it.
    let mut tx = s.begin().unwrap();
    tx.insert_messages(&[msg(D, "Alpha", 5)]).unwrap();
    tx.commit().unwrap();
    assert_eq!(claim(s, "r1", 700, 60, 10), vec![D]);
    assert!(fail(s, D, "r1", 700, 1, Some(800)));
    assert_eq!(s.next_due(secs(700)).unwrap(), Some(secs(800)));

    // Stats from counters, per type.
    let st = s.stats(secs(700)).unwrap();
    assert_eq!(
        (
            st.counts.total,
            st.counts.processed,
            st.counts.failed,
            st.counts.retrying
        ),
        (5, 4, 1, 1)
    );
    let alpha = st.by_type.iter().find(|t| t.event_type == "Alpha").unwrap();
    assert_eq!((alpha.counts.total, alpha.counts.processed), (3, 2));
    assert_eq!(st.oldest_unprocessed_on, Some(secs(5)));

    // Activity for the dashboard's chart: processed rows and failed attempts per bucket.
    let minute = std::time::Duration::from_secs(60);
    let buckets = s.activity(t0(), secs(100_000), minute).unwrap();
    let failures: usize = [A, B, C, D, E]
        .iter()
        .map(|id| s.get(id).unwrap().unwrap().failures.len())
        .sum();
    assert_eq!(buckets.iter().map(|b| b.processed).sum::<u64>(), 4);
    assert_eq!(buckets.iter().map(|b| b.failed).sum::<u64>(), failures as u64);
    assert!(buckets.windows(2).all(|w| w[0].start < w[1].start));
    assert!(buckets.iter().all(|b| b.start.timestamp() % 60 == 0));
    let at_610 = buckets.iter().find(|b| b.start == secs(600)).unwrap();
    assert!(at_610.processed >= 3, "{buckets:?}");
    assert!(s.activity(secs(10_000), secs(20_000), minute).unwrap().is_empty());
    // `until` is exclusive: the marks at 610 s are not counted up to 610 s.
    let early = s.activity(t0(), secs(610), minute).unwrap();
    assert_eq!(
        early.iter().map(|b| b.processed).sum::<u64>(),
        4 - at_610.processed
    );
    // Paging: the second page of a list is the first one without its first rows.
    let all = list(s, ListFilter::Processed, None);
    let page = s
        .list_page(
            &ListParams {
                filter: ListFilter::Processed,
                event_type: None,
                limit: 2,
            },
            1,
        )
        .unwrap();
    assert_eq!(
        page.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
        all[1..3].to_vec()
    );

    paging_matches_list(s);

    // retry --id and --failed make a failing message due now, keeping its error and attempts;
    // a dry run only counts.
    assert_eq!(
        s.retry(&RetrySelect::Ids(vec![D.into()]), secs(701), true, &op())
            .unwrap(),
        1
    );
    assert_eq!(s.retry(&RetrySelect::Failed, secs(701), true, &op()).unwrap(), 1);
    assert_eq!(
        s.next_due(secs(701)).unwrap(),
        Some(secs(800)),
        "a dry run changes nothing"
    );
    assert_eq!(s.retry(&RetrySelect::Failed, secs(701), false, &op()).unwrap(), 1);
    assert_eq!(s.next_due(secs(701)).unwrap(), None);
    let d = s.get(D).unwrap().unwrap().message;
    assert_eq!(
        (d.attempts, d.next_attempt_on, d.error.as_deref()),
        (1, None, Some("boom 1"))
    );
    assert_eq!(
        s.retry(&RetrySelect::Ids(vec![D.into()]), secs(701), false, &op())
            .unwrap(),
        1
    );
    assert_eq!(s.retry(&RetrySelect::Dead, secs(701), true, &op()).unwrap(), 0);

    // Purge: processed rows before the cutoff only, in chunks; never unprocessed ones.
    assert_eq!(s.count_purgeable(secs(615)).unwrap(), 4);
    assert_eq!(s.count_purgeable(secs(15)).unwrap(), 0);
    assert_eq!(s.purge_chunk(secs(615), 3, &op()).unwrap(), 3);
    assert_eq!(s.purge_chunk(secs(615), 3, &op()).unwrap(), 1);
    assert_eq!(s.purge_chunk(secs(615), 3, &op()).unwrap(), 0);
    let st = s.stats(secs(701)).unwrap();
    assert_eq!(
        (st.counts.total, st.counts.processed, st.counts.failed),
        (1, 0, 1)
    );
    assert_eq!(s.get(D).unwrap().unwrap().failures.len(), 1);
    assert!(s.get(B).unwrap().is_none());

    mixed_run(s);
    crashes(s);
    circuits(s, other);
    audit_trail(s);
    traces(s);
    waiting(s, other);
}

/// A claim counts the leases that ran out with no outcome; once a message has two, it is a
/// suspect: claimed one at a time, ahead of the rest. A recorded failure clears the count, a
/// dead message keeps it, and `retry` clears it.
fn crashes(s: &mut dyn Store) {
    const P: &str = "0190a000-0000-7000-8000-0000000000b1";
    const Q: &str = "0190a000-0000-7000-8000-0000000000b2";
    const R: &str = "0190a000-0000-7000-8000-0000000000b3";
    // Nothing else in the way (their leases would run out too): only the dead H is left.
    deliver(s, &[D, "0190a000-0000-7000-8000-0000000000a2"], 999);
    assert_eq!(
        list(s, ListFilter::Unprocessed, None),
        vec!["0190a000-0000-7000-8000-0000000000a3"]
    );
    let mut tx = s.begin().unwrap();
    tx.insert_messages(&[
        msg(P, "Crash", 1000),
        msg(Q, "Crash", 1001),
        msg(R, "Crash", 1002),
    ])
    .unwrap();
    tx.commit().unwrap();
    let crashes = |s: &mut dyn Store, id: &str| s.get(id).unwrap().unwrap().message.crashes;
    let mine = |ids: Vec<String>| -> Vec<String> {
        ids.into_iter()
            .filter(|id| [P, Q, R].contains(&id.as_str()))
            .collect()
    };
    // Claimed, then the lease runs out: the next claim counts one crash each, and takes them
    // together.
    assert_eq!(mine(claim(s, "r1", 1010, 10, 100)), vec![P, Q, R]);
    assert_eq!(mine(claim(s, "r2", 1021, 10, 100)), vec![P, Q, R]);
    assert_eq!((crashes(s, P), crashes(s, Q), crashes(s, R)), (1, 1, 1));
    // A stop gives R back unattempted: no crash of it to count.
    assert_eq!(s.release(&[R.into()], "r2", None).unwrap(), 1);
    // The second crash of P and Q makes them suspects: one per claim, ahead of the rest.
    let first = mine(claim(s, "r3", 1032, 10, 100));
    assert_eq!(first, vec![P, R]);
    assert_eq!((crashes(s, P), crashes(s, R)), (2, 1));
    assert_eq!(mine(claim(s, "r4", 1032, 10, 100)), vec![Q]);
    // A limit of one still takes the suspect, never more than the limit.
    assert_eq!(crashes(s, Q), 2);
    // Q's failure is recorded: its count starts again.
    assert!(fail(s, Q, "r4", 1033, 3, Some(1034)));
    assert_eq!(crashes(s, Q), 0);
    // P's third crash is counted by the claim that takes it over; made dead, it keeps the count.
    assert_eq!(mine(claim(s, "r5", 1043, 10, 1)), vec![P]);
    assert_eq!(crashes(s, P), 3);
    // Parked: the failure and its audit row go together.
    let parked = Failure {
        parked: true,
        ..failure(P, 1044, 3, None)
    };
    let recorded = s
        .record(&RecordParams {
            owner: "r5",
            now: secs(1044),
            delivered: &[],
            failed: &[parked],
        })
        .unwrap();
    assert_eq!(recorded.failed, 1);
    assert_eq!(crashes(s, P), 3);
    let park = &s.audit_log(None, 1).unwrap()[0];
    assert_eq!(
        (
            park.actor.as_str(),
            park.action.as_str(),
            park.messages,
            park.ids.clone()
        ),
        ("r5", "park", 1, Some(vec![P.to_owned()]))
    );
    assert_eq!(park.at, Some(secs(1044)));
    assert_eq!(
        s.retry(&RetrySelect::Ids(vec![P.into()]), secs(1045), false, &op())
            .unwrap(),
        1
    );
    assert_eq!(crashes(s, P), 0);
    assert_eq!(deliver(s, &[P, Q, R], 1046), 3);
}

/// The trace context an application writes comes back with the claim and with `get`.
fn traces(s: &mut dyn Store) {
    const T: &str = "0190a000-0000-7000-8000-0000000000e1";
    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let mut m = msg(T, "Traced", 3000);
    m.set_trace(Some(PARENT), Some("vendor=1"));
    let mut tx = s.begin().unwrap();
    tx.insert_messages(&[m]).unwrap();
    tx.commit().unwrap();
    let claimed = s
        .claim(&ClaimParams {
            owner: "r1",
            now: secs(3001),
            lease_until: secs(3060),
            limit: 100,
        })
        .unwrap();
    let c = claimed.iter().find(|c| c.id == T).unwrap();
    assert_eq!(c.trace(), Some((PARENT, Some("vendor=1"))));
    assert_eq!(c.trace_id(), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
    let got = s.get(T).unwrap().unwrap().message;
    assert_eq!(
        (got.trace_parent.as_deref(), got.trace_state.as_deref()),
        (Some(PARENT), Some("vendor=1"))
    );
    let ids: Vec<String> = claimed.into_iter().map(|c| c.id).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    deliver(s, &ids, 3002);
}

/// Every operator action writes one audit row with its effect; a dry run writes none, and the
/// chunks of one purge add up in one row.
fn audit_trail(s: &mut dyn Store) {
    const X: &str = "0190a000-0000-7000-8000-0000000000d1";
    const Y: &str = "0190a000-0000-7000-8000-0000000000d2";
    const Z: &str = "0190a000-0000-7000-8000-0000000000d3";
    let rows = |s: &mut dyn Store| s.audit_log(None, 1000).unwrap();
    let before = rows(s).len();
    let mut tx = s.begin().unwrap();
    tx.insert_messages(&[
        msg(X, "Audit", 2000),
        msg(Y, "Audit", 2001),
        msg(Z, "Audit", 2002),
    ])
    .unwrap();
    tx.commit().unwrap();
    assert_eq!(claim(s, "r1", 2010, 60, 100), vec![X, Y, Z]);
    assert!(fail(s, X, "r1", 2011, 1, None));
    assert!(fail(s, Y, "r1", 2011, 1, None));
    assert_eq!(deliver(s, &[Z], 2011), 1);

    let alice = store::Audit::new(secs(2020), "alice", "outboxctl retry --dead");
    // X, Y and the H of `mixed_run`.
    assert_eq!(s.retry(&RetrySelect::Dead, secs(2020), true, &alice).unwrap(), 3);
    assert_eq!(rows(s).len(), before, "a dry run is not audited");
    assert_eq!(s.retry(&RetrySelect::Dead, secs(2020), false, &alice).unwrap(), 3);
    let bob = store::Audit::new(secs(2030), "bob", "outboxctl skip X");
    assert_eq!(s.skip(&[X.into()], secs(2030), false, &bob).unwrap(), 1);
    let carol = store::Audit::new(secs(2040), "carol", "outboxctl purge --older-than 0s --yes");
    assert_eq!(deliver(s, &[Y], 2035), 1);
    let mut purged = 0;
    loop {
        let n = s.purge_chunk(secs(2040), 1, &carol).unwrap();
        purged += n;
        if n < 1 {
            break;
        }
    }
    assert!(purged >= 2, "{purged}");

    let log = rows(s);
    assert_eq!(log.len(), before + 3, "{log:?}");
    let (purge, skip, retry) = (&log[0], &log[1], &log[2]);
    assert!(purge.seq > skip.seq && skip.seq > retry.seq, "newest first");
    assert_eq!(
        (
            retry.actor.as_str(),
            retry.action.as_str(),
            retry.messages,
            retry.at
        ),
        ("alice", "retry", 3, Some(secs(2020)))
    );
    assert_eq!((retry.ids.clone(), retry.filter.as_deref()), (None, Some("dead")));
    assert_eq!(retry.command, "outboxctl retry --dead");
    assert_eq!((skip.action.as_str(), skip.messages), ("skip", 1));
    assert_eq!(skip.ids, Some(vec![X.to_owned()]));
    assert_eq!((purge.action.as_str(), purge.messages), ("purge", purged));
    assert!(
        purge.filter.as_deref().unwrap().starts_with("processed before"),
        "{purge:?}"
    );
    // Since a time; then the trail's own retention.
    assert_eq!(s.audit_log(Some(secs(2030)), 100).unwrap().len(), 2);
    assert_eq!(s.audit_log(None, 1).unwrap().len(), 1);
    let old = rows(s).len() - 2;
    assert_eq!(s.purge_audit(secs(2030)).unwrap(), old as u64);
    assert_eq!(rows(s).len(), 2);
}

/// Open circuits are shared by every relay; of relays probing at once, one gets the probe.
fn circuits(s: &mut dyn Store, other: &mut dyn Store) {
    use outboxctl::model::Circuit;
    assert!(s.circuits().unwrap().is_empty());
    let open = Circuit {
        destination: "hook".into(),
        failures: 5,
        opened_on: secs(1100),
        open_until: secs(1130),
        last_error: "connection refused".into(),
    };
    s.open_circuit(&open).unwrap();
    assert_eq!(other.circuits().unwrap(), vec![open.clone()]);
    // Not before its time.
    assert!(!other.probe_circuit("hook", secs(1129), secs(1159)).unwrap());
    assert!(other.probe_circuit("hook", secs(1130), secs(1160)).unwrap());
    assert!(
        !s.probe_circuit("hook", secs(1130), secs(1160)).unwrap(),
        "one probe"
    );
    assert_eq!(s.circuits().unwrap()[0].open_until, secs(1160));
    // Opened again after a failed probe: the count and error change, not when it first opened.
    s.open_circuit(&Circuit {
        failures: 6,
        open_until: secs(1200),
        last_error: "503".into(),
        ..open.clone()
    })
    .unwrap();
    let c = &other.circuits().unwrap()[0];
    assert_eq!(
        (c.failures, c.opened_on, c.open_until, c.last_error.as_str()),
        (6, secs(1100), secs(1200), "503")
    );
    other.close_circuit("hook").unwrap();
    assert!(s.circuits().unwrap().is_empty());
    // A message given back for an open circuit waits until it may close, its attempt uncounted.
    const W: &str = "0190a000-0000-7000-8000-0000000000c1";
    let mut tx = s.begin().unwrap();
    tx.insert_messages(&[msg(W, "Wait", 1100)]).unwrap();
    tx.commit().unwrap();
    assert!(claim(s, "r1", 1101, 60, 100).contains(&W.to_owned()));
    assert_eq!(s.release(&[W.into()], "r1", Some(secs(1130))).unwrap(), 1);
    let w = s.get(W).unwrap().unwrap().message;
    assert_eq!(
        (w.attempts, w.next_attempt_on, w.locked_by),
        (0, Some(secs(1130)), None)
    );
    assert!(!claim(s, "r1", 1129, 60, 100).contains(&W.to_owned()));
    assert!(claim(s, "r1", 1130, 60, 100).contains(&W.to_owned()));
    assert_eq!(deliver(s, &[W], 1131), 1);
}

/// A relay records a run's deliveries and failures together, in one call.
fn mixed_run(s: &mut dyn Store) {
    const F: &str = "0190a000-0000-7000-8000-0000000000a1";
    const G: &str = "0190a000-0000-7000-8000-0000000000a2";
    const H: &str = "0190a000-0000-7000-8000-0000000000a3";
    let mut tx = s.begin().unwrap();
    tx.insert_messages(&[msg(F, "Run", 800), msg(G, "Run", 801), msg(H, "Run", 802)])
        .unwrap();
    tx.commit().unwrap();
    assert_eq!(claim(s, "r1", 810, 60, 10), vec![D, F, G, H]);
    let failed = [failure(G, 811, 1, Some(900)), failure(H, 811, 1, None)];
    let recorded = s
        .record(&RecordParams {
            owner: "r1",
            now: secs(812),
            delivered: &[F.to_owned()],
            failed: &failed,
        })
        .unwrap();
    assert_eq!((recorded.processed, recorded.failed), (1, 2));
    let state = |s: &mut dyn Store, id: &str| s.get(id).unwrap().unwrap().message.state(secs(813));
    assert_eq!(state(s, F), State::Processed);
    assert_eq!(state(s, G), State::Retrying);
    assert_eq!(state(s, H), State::Dead);
    let g = s.get(G).unwrap().unwrap();
    assert_eq!(g.message.next_attempt_on, Some(secs(900)));
    assert_eq!(g.failures.len(), 1);
    assert_eq!(s.get(F).unwrap().unwrap().message.processed_on, Some(secs(812)));
    assert_eq!(s.get(H).unwrap().unwrap().message.dead_on, Some(secs(811)));
    // The same run reported by a relay that holds no claim: history only, no state change.
    let recorded = s
        .record(&RecordParams {
            owner: "r2",
            now: secs(814),
            delivered: &[],
            failed: &[failure(D, 814, 2, Some(2000))],
        })
        .unwrap();
    assert_eq!(
        recorded,
        outboxctl::store::Recorded {
            processed: 0,
            failed: 0
        }
    );
    assert_eq!(s.get(D).unwrap().unwrap().failures.len(), 2);
}

/// `wait_for_work` returns when its time is up, when stop is set, and early when another
/// connection commits new messages.
fn waiting(s: &mut dyn Store, other: &mut dyn Store) {
    let no = AtomicBool::new(false);
    // The first wait starts watching (PostgreSQL LISTENs then); it may return at once.
    s.wait_for_work(std::time::Duration::from_millis(100), &no)
        .unwrap();

    let started = Instant::now();
    s.wait_for_work(std::time::Duration::from_millis(300), &no)
        .unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= std::time::Duration::from_millis(250) && waited < std::time::Duration::from_secs(10),
        "waited {waited:?} for a 300 ms timeout"
    );

    let stop = AtomicBool::new(false);
    let started = Instant::now();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(std::time::Duration::from_millis(200));
            stop.store(true, Ordering::Relaxed);
        });
        s.wait_for_work(std::time::Duration::from_secs(60), &stop)
            .unwrap();
    });
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "stop ends the wait"
    );

    // Another writer's commit wakes the waiting relay long before its timeout.
    let mut tx = other.begin().unwrap();
    tx.insert_messages(&[msg("0190a000-0000-7000-8000-0000000000f1", "Gamma", 900)])
        .unwrap();
    tx.commit().unwrap();
    let started = Instant::now();
    s.wait_for_work(std::time::Duration::from_secs(60), &no).unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "a commit wakes the relay"
    );
}

#[test]
fn sqlite_store_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.db");
    let mut s = store::open(path.to_str().unwrap(), &common::store_options()).unwrap();
    let mut other = store::open(path.to_str().unwrap(), &common::store_options()).unwrap();
    story(s.as_mut(), other.as_mut(), "sqlite");
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_store_keeps_the_contract() {
    let db = common::PgSchema::new("contract");
    let mut s = store::open(&db.url, &common::store_options()).unwrap();
    s.init().unwrap();
    let mut other = store::open(&db.url, &common::store_options()).unwrap();
    story(s.as_mut(), other.as_mut(), "postgres");
}

fn replay_claim(
    s: &mut dyn Store,
    replay: &str,
    owner: &str,
    now: i64,
    limit: usize,
) -> Vec<outboxctl::model::Message> {
    s.replay_claim(
        replay,
        &ClaimParams {
            owner,
            now: secs(now),
            lease_until: secs(now + 60),
            limit,
        },
    )
    .unwrap()
}

fn ids_of(ms: &[outboxctl::model::Message]) -> Vec<&str> {
    ms.iter().map(|m| m.id.as_str()).collect()
}

/// A replay selects messages without changing them, and is a queue of its own: claimed under
/// leases, one per ordering key in occurrence order, retried, dead, resumed by the same plan.
fn replays(s: &mut dyn Store, other: &mut dyn Store) {
    use outboxctl::model::replay_delivery_id;
    use outboxctl::store::{ReplayPlan, ReplaySelect, ReplayState};
    const A: &str = "0190b000-0000-7000-8000-0000000000a1";
    const B: &str = "0190b000-0000-7000-8000-0000000000a2";
    const C: &str = "0190b000-0000-7000-8000-0000000000a3";
    const D: &str = "0190b000-0000-7000-8000-0000000000a4";
    const E: &str = "0190b000-0000-7000-8000-0000000000a5";
    const F: &str = "0190b000-0000-7000-8000-0000000000a6";
    const G: &str = "0190b000-0000-7000-8000-0000000000a7";
    let keyed = |id: &str, at| NewMessage {
        key: Some("order-1".into()),
        ..msg(id, "Order", at)
    };
    let mut tx = s.begin().unwrap();
    tx.insert_messages(&[
        keyed(A, 100),
        keyed(B, 101),
        keyed(C, 102),
        msg(D, "Other", 103),
        msg(E, "Order", 104),
        msg(F, "Free", 105),
        msg(G, "Free", 106),
    ])
    .unwrap();
    tx.commit().unwrap();
    // One claim per message of the key: A, B, C go one after another.
    for _ in 0..3 {
        for id in claim(s, "r1", 110, 60, 100) {
            if id == E {
                assert!(fail(s, E, "r1", 111, 1, None), "E is dead");
            } else {
                assert_eq!(deliver(s, &[&id], 111), 1);
            }
        }
    }
    assert!(claim(s, "r1", 110, 60, 100).is_empty());
    let original = s.get(A).unwrap().unwrap().message;

    // Selection: every condition given must hold, oldest first.
    let preview = |s: &mut dyn Store, select: &ReplaySelect| {
        let (n, sample) = s.replay_preview(select, 2).unwrap();
        (n, sample.into_iter().map(|m| m.id).collect::<Vec<_>>())
    };
    let orders = ReplaySelect {
        types: vec!["Order".into()],
        ..Default::default()
    };
    assert_eq!(preview(s, &orders), (3, vec![A.to_owned(), B.to_owned()]));
    let dead = ReplaySelect {
        state: ReplayState::Dead,
        ..orders.clone()
    };
    assert_eq!(preview(s, &dead), (1, vec![E.to_owned()]));
    let all = ReplaySelect {
        state: ReplayState::All,
        ..orders.clone()
    };
    assert_eq!(preview(s, &all).0, 4);
    for state in [ReplayState::Failed, ReplayState::Unprocessed] {
        let select = ReplaySelect {
            state,
            ..orders.clone()
        };
        assert_eq!(preview(s, &select), (1, vec![E.to_owned()]), "{state:?}");
    }
    let by_id = ReplaySelect {
        ids: vec![B.to_uppercase(), D.into()],
        state: ReplayState::All,
        ..Default::default()
    };
    assert_eq!(preview(s, &by_id), (2, vec![B.to_owned(), D.to_owned()]));
    let by_key = ReplaySelect {
        key: Some("order-1".into()),
        occurred_since: Some(secs(101)),
        occurred_until: Some(secs(103)),
        ..Default::default()
    };
    assert_eq!(preview(s, &by_key), (2, vec![B.to_owned(), C.to_owned()]));
    let by_processing = ReplaySelect {
        processed_since: Some(secs(111)),
        processed_until: Some(secs(112)),
        ..Default::default()
    };
    assert_eq!(preview(s, &by_processing).0, 6);
    let later = ReplaySelect {
        processed_since: Some(secs(112)),
        ..Default::default()
    };
    assert_eq!(preview(s, &later).0, 0);

    // Start: queued in occurrence order, audited, the messages untouched.
    let plan = ReplayPlan {
        select: orders.clone(),
        sink: Some("backfill".into()),
        new_delivery_id: true,
        as_written: None,
    };
    assert_eq!(s.replay_unfinished(&plan.fingerprint()).unwrap(), None);
    let audit = store::Audit::new(secs(200), "dave", "outboxctl replay --type Order");
    let started = s.replay_start(&plan, secs(200), &audit).unwrap();
    let r = started.replay.clone();
    assert_eq!(r, audit.operation);
    assert_eq!(
        (started.messages, started.pending, started.delivered, started.dead),
        (3, 3, 0, 0)
    );
    assert_eq!(started.sink.as_deref(), Some("backfill"));
    let row = &s.audit_log(None, 1).unwrap()[0];
    assert_eq!(
        (row.actor.as_str(), row.action.as_str(), row.messages),
        ("dave", "replay", 3)
    );
    assert_eq!(row.filter.as_deref(), Some(plan.fingerprint().as_str()));
    assert_eq!(
        s.replay_unfinished(&plan.fingerprint())
            .unwrap()
            .map(|r| r.replay),
        Some(r.clone())
    );

    // One message per key: A first; B waits behind it, in both relays.
    let claimed = replay_claim(s, &r, "r1", 210, 10);
    assert_eq!(ids_of(&claimed), vec![A]);
    let a = &claimed[0];
    assert_eq!(a.attempts, 1);
    assert_eq!(a.sink.as_deref(), Some("backfill"));
    assert_eq!(a.delivery_id, Some(replay_delivery_id(&r, A)));
    assert_ne!(a.delivery_id(), A);
    assert_eq!(a.content, original.content);
    assert!(replay_claim(other, &r, "r2", 210, 10).is_empty());

    // A failure with a backoff: remembered destinations, not due before its time.
    let mut failed = failure(A, 211, 1, Some(220));
    failed.accepted = vec!["first".into()];
    let recorded = s
        .replay_record(
            &r,
            &RecordParams {
                owner: "r1",
                now: secs(211),
                delivered: &[],
                failed: &[failed],
            },
        )
        .unwrap();
    assert_eq!(recorded.failed, 1);
    assert_eq!(s.replay_deliveries(&r, A).unwrap(), vec!["first".to_owned()]);
    assert!(replay_claim(s, &r, "r1", 215, 10).is_empty());
    let again = replay_claim(other, &r, "r2", 220, 10);
    assert_eq!(ids_of(&again), vec![A]);
    assert_eq!(again[0].attempts, 2);
    assert_eq!(again[0].error.as_deref(), Some("hook: boom 1"));
    // Leases: only the holder extends or releases; a release gives the attempt back.
    assert_eq!(s.replay_extend(&r, &[A.into()], "r1", secs(400)).unwrap(), 0);
    assert_eq!(other.replay_extend(&r, &[A.into()], "r2", secs(400)).unwrap(), 1);
    assert!(
        replay_claim(s, &r, "r1", 300, 10).is_empty(),
        "the lease was extended"
    );
    assert_eq!(s.replay_release(&r, &[A.into()], "r1", None).unwrap(), 0);
    assert_eq!(other.replay_release(&r, &[A.into()], "r2", None).unwrap(), 1);
    let again = replay_claim(s, &r, "r1", 301, 10);
    assert_eq!((ids_of(&again), again[0].attempts), (vec![A], 2));
    // Delivered: the key moves on. A delivery is recorded even after the lease ran out.
    let delivered = |s: &mut dyn Store, id: &str, now| {
        s.replay_record(
            &r,
            &RecordParams {
                owner: "anyone",
                now: secs(now),
                delivered: &[id.to_owned()],
                failed: &[],
            },
        )
        .unwrap()
        .processed
    };
    assert_eq!(delivered(s, A, 500), 1);
    assert_eq!(ids_of(&replay_claim(s, &r, "r1", 501, 10)), vec![B]);
    assert_eq!(delivered(s, B, 502), 1);
    assert_eq!(ids_of(&replay_claim(s, &r, "r1", 503, 10)), vec![C]);
    assert!(
        s.replay_record(
            &r,
            &RecordParams {
                owner: "r1",
                now: secs(504),
                delivered: &[],
                failed: &[failure(C, 504, 1, None)],
            },
        )
        .unwrap()
        .failed
            == 1
    );
    let state = s.replay_state(&r).unwrap().unwrap();
    assert_eq!((state.delivered, state.dead, state.pending), (2, 1, 0));
    // The originals keep their own delivery.
    let now_a = s.get(A).unwrap().unwrap().message;
    assert_eq!(
        (now_a.processed_on, now_a.attempts, now_a.error),
        (original.processed_on, original.attempts, None)
    );
    assert_eq!(s.get(C).unwrap().unwrap().message.dead_on, None);

    // The same plan resumes it: the dead get a fresh set of attempts, the delivered stay.
    let resumed = s
        .replay_start(
            &plan,
            secs(600),
            &store::Audit::new(secs(600), "dave", "outboxctl replay --type Order"),
        )
        .unwrap();
    assert_eq!(resumed.replay, r);
    assert_eq!((resumed.delivered, resumed.dead, resumed.pending), (2, 0, 1));
    let row = &s.audit_log(None, 1).unwrap()[0];
    assert_eq!((row.action.as_str(), row.messages), ("replay", 1));
    assert_eq!(row.filter, Some(format!("resume {r}")));
    let c = replay_claim(s, &r, "r1", 601, 10);
    assert_eq!((ids_of(&c), c[0].attempts), (vec![C], 1));
    assert_eq!(delivered(s, C, 602), 1);
    assert_eq!(s.replay_unfinished(&plan.fingerprint()).unwrap(), None);
    let history = s.replays_of(A).unwrap();
    assert_eq!(history.len(), 1);
    let h = &history[0];
    assert_eq!(
        (h.replay.as_str(), h.state.as_str(), h.attempts, h.sink.as_deref()),
        (r.as_str(), "delivered", 2, Some("backfill"))
    );
    assert_eq!(h.delivered_on, Some(secs(500)));
    assert_eq!(h.delivery_id, Some(replay_delivery_id(&r, A)));
    assert!(s.replays_of(D).unwrap().is_empty());

    // Done, the same plan is a new replay; without keys two relays share one.
    let free = ReplayPlan {
        select: ReplaySelect {
            types: vec!["Free".into()],
            ..Default::default()
        },
        sink: None,
        new_delivery_id: false,
        as_written: None,
    };
    let shared = s
        .replay_start(&free, secs(700), &store::Audit::new(secs(700), "dave", "replay"))
        .unwrap()
        .replay;
    let first = replay_claim(s, &shared, "r1", 701, 1);
    let second = replay_claim(other, &shared, "r2", 701, 1);
    assert_eq!(ids_of(&first), vec![F]);
    assert_eq!(ids_of(&second), vec![G]);
    assert_eq!(
        (first[0].delivery_id.as_deref(), first[0].sink.as_deref()),
        (None, None)
    );
    assert_eq!(first[0].delivery_id(), F);

    // A message purged before its replay delivered it comes back unreadable: it goes dead,
    // and the replay still ends.
    let lost = s
        .replay_start(
            &ReplayPlan {
                select: ReplaySelect {
                    ids: vec![D.into()],
                    state: ReplayState::All,
                    ..Default::default()
                },
                sink: None,
                new_delivery_id: false,
                as_written: None,
            },
            secs(800),
            &store::Audit::new(secs(800), "dave", "replay --id"),
        )
        .unwrap()
        .replay;
    while s.purge_chunk(secs(100_000), 100, &op()).unwrap() > 0 {}
    let gone = replay_claim(s, &lost, "r1", 801, 10);
    assert_eq!(gone.len(), 1);
    assert!(
        gone[0].unreadable().unwrap().contains("purged"),
        "{:?}",
        gone[0].problems
    );

    // Purged: finished replays started before the cutoff; those with work left stay.
    assert_eq!(s.purge_replays(secs(150)).unwrap(), 0, "started after the cutoff");
    assert_eq!(s.purge_replays(secs(100_000)).unwrap(), 1);
    assert!(s.replay_state(&r).unwrap().is_none());
    assert!(s.replay_state(&shared).unwrap().is_some());
    assert!(s.replay_state(&lost).unwrap().is_some());
}

#[test]
fn sqlite_store_keeps_the_replay_contract() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.db");
    let mut s = store::open(path.to_str().unwrap(), &common::store_options()).unwrap();
    let mut other = store::open(path.to_str().unwrap(), &common::store_options()).unwrap();
    replays(s.as_mut(), other.as_mut());
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_store_keeps_the_replay_contract() {
    let db = common::PgSchema::new("replay");
    let mut s = store::open(&db.url, &common::store_options()).unwrap();
    s.init().unwrap();
    let mut other = store::open(&db.url, &common::store_options()).unwrap();
    replays(s.as_mut(), other.as_mut());
}
