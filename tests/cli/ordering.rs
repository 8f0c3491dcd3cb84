//! Per-key ordering: messages with the same ordering key are delivered one at a time, in the
//! order they occurred; a failing one holds back only its own key; `skip` lets the key go on.

use std::collections::BTreeMap;

use crate::common::*;

/// Emits a message at `now` with an optional key; returns its id.
fn emit(env: &TestEnv, now: &str, ty: &str, key: Option<&str>) -> String {
    let mut args = vec!["emit", "event", ty, "{}"];
    if let Some(k) = key {
        args.extend(["--key", k]);
    }
    env.json_at(now, &args)["emitted"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_failing_message_holds_back_only_its_own_key_until_retried_or_skipped() {
    let env = TestEnv::new();
    // Ok goes to a handler that notes the id; Broken always fails.
    env.write("handler.sh", "echo \"$OUTBOX_MESSAGE_ID\" >> received\n");
    env.config(
        "[retry]\nmax_attempts = 2\n\n[routes]\nOk = \"h\"\nBroken = \"broken\"\n\n\
         [sinks.h]\nkind = \"exec\"\ncommand = [\"/bin/sh\", \"handler.sh\"]\n\n\
         [sinks.broken]\nkind = \"exec\"\ncommand = [\"false\"]\n",
    );
    let k1 = emit(&env, "2030-01-01T00:00:01Z", "Broken", Some("order-k"));
    let l1 = emit(&env, "2030-01-01T00:00:02Z", "Ok", Some("order-l"));
    let k2 = emit(&env, "2030-01-01T00:00:03Z", "Ok", Some("order-k"));
    let u1 = emit(&env, "2030-01-01T00:00:04Z", "Ok", None);
    let l2 = emit(&env, "2030-01-01T00:00:05Z", "Ok", Some("order-l"));
    let k3 = emit(&env, "2030-01-01T00:00:06Z", "Ok", Some("order-k"));

    // k1 fails and waits for its backoff; key l and the unkeyed message flow past it.
    let t1 = "2030-01-01T00:01:00Z";
    env.drain(Some(t1), &[]);
    assert_eq!(received(&env), [l1.clone(), u1.clone(), l2.clone()]);
    let v = env.json_at(t1, &["explain", &k2]);
    assert_eq!(v["reason"], "waiting_behind", "{v}");
    assert_eq!(
        (v["key"].as_str(), v["blocker"].as_str()),
        (Some("order-k"), Some(k1.as_str()))
    );
    assert_eq!(v["blocker_state"], "retrying");
    assert_eq!(v["action"], format!("outboxctl explain {k1}"));
    let text = env.ok_at(t1, &["explain", &k3]).stdout;
    assert!(
        text.contains(&format!("waiting behind message {k1} of key order-k")),
        "{text}"
    );
    let shown = env.ok_at(t1, &["show", &k3]).stdout;
    assert!(
        shown.contains("OrderingKey:      order-k") && shown.contains(&k1),
        "{shown}"
    );

    // list --blocked: the key, its head, its state and error, how many wait behind it.
    let v = env.json_at(t1, &["list", "--blocked"]);
    let blocked = v["blocked"].as_array().unwrap();
    assert_eq!(blocked.len(), 1, "{v}");
    assert_eq!(
        (blocked[0]["key"].as_str(), blocked[0]["waiting"].as_u64()),
        (Some("order-k"), Some(2))
    );
    assert_eq!(
        (
            blocked[0]["head"]["id"].as_str(),
            blocked[0]["head"]["state"].as_str()
        ),
        (Some(k1.as_str()), Some("retrying"))
    );
    assert!(
        blocked[0]["head"]["error"].as_str().unwrap().contains("exit"),
        "{v}"
    );
    assert_eq!(env.json_at(t1, &["stats"])["blocked_keys"], 1);
    let (code, line) = {
        let o = env.run_at(t1, &["health", "--max-blocked", "0"]);
        (o.code, o.stdout)
    };
    assert_eq!(code, 2, "{line}");
    assert!(
        line.contains("1 blocked keys (critical > 0)") && line.contains("blocked=1;;0;0"),
        "{line}"
    );
    let text = env.ok_at(t1, &["list", "--blocked"]).stdout;
    assert!(
        text.contains("order-k") && text.contains(&k1) && text.contains("outboxctl skip ID"),
        "{text}"
    );

    // Its last attempt fails: dead, and still holding the key.
    let t2 = "2030-01-01T02:00:00Z";
    env.drain(Some(t2), &[]);
    let v = env.json_at(t2, &["list", "--blocked"]);
    assert_eq!(v["blocked"][0]["head"]["state"], "dead", "{v}");
    assert_eq!(
        received(&env).len(),
        3,
        "nothing of key order-k went past its dead head"
    );
    let v = env.json_at(t2, &["explain", &k2]);
    assert_eq!(v["blocker_state"], "dead", "{v}");
    let v = env.json_at(t2, &["explain", &k1]);
    assert_eq!(v["reason"], "dead");
    assert!(
        v["answer"]
            .as_str()
            .unwrap()
            .contains("holds back the later messages of key order-k"),
        "{v}"
    );
    assert!(
        v["action"]
            .as_str()
            .unwrap()
            .contains(&format!("outboxctl skip {k1}")),
        "{v}"
    );

    // Skipped: kept, marked and shown; the rest of the key goes, in order.
    let dry = env.json_at(t2, &["skip", &k1, "--dry-run"]);
    assert_eq!(
        (dry["dry_run"].as_bool(), dry["skipped"].as_u64()),
        (Some(true), Some(1))
    );
    assert_eq!(env.drain(Some(t2), &[]), 0, "a dry run skips nothing");
    assert_eq!(env.ok_at(t2, &["skip", &k1]).stdout.trim(), "skipped 1 messages");
    assert_eq!(env.drain(Some(t2), &[]), 2);
    assert_eq!(received(&env), [l1, u1, l2, k2, k3]);
    assert_eq!(
        env.ok_at(t2, &["list", "--blocked"]).stdout.trim(),
        "no blocked keys"
    );
    let v = env.json_at(t2, &["explain", &k1]);
    assert_eq!(
        (v["state"].as_str(), v["reason"].as_str()),
        (Some("dead"), Some("skipped")),
        "{v}"
    );
    assert!(v["skipped_on"].is_string(), "{v}");
    let dead = env.json_at(t2, &["list", "--dead"]);
    assert_eq!(dead["messages"].as_array().map(Vec::len), Some(1), "{dead}");
    assert_eq!(
        env.json_at(t2, &["show", &k1])["skipped_on"],
        "2030-01-01T02:00:00Z"
    );
    // Skipping it again, or a processed one, changes nothing; an unknown id is an error.
    let again = env.ok_at(t2, &["skip", &k1]).stdout;
    assert!(again.starts_with("skipped 0 messages; left 1 alone"), "{again}");
    let err = env.fails(&["emit", "event", "Ok", "{}", "--key", " "], 2);
    assert!(err.contains("--key is empty"), "{err}");
    let err = env.fails_at(t2, &["skip", "no-such-id"], 4);
    assert!(
        err.contains("no message with id no-such-id; nothing was skipped"),
        "{err}"
    );
}

#[test]
fn a_retried_dead_head_goes_first_and_the_key_follows_in_order() {
    let env = TestEnv::new();
    env.write(
        "handler.sh",
        "[ -e fail ] && exit 1\necho \"$OUTBOX_MESSAGE_ID\" >> received\n",
    );
    env.config(
        "[retry]\nmax_attempts = 1\n\n[routes]\nOk = \"h\"\n\n\
         [sinks.h]\nkind = \"exec\"\ncommand = [\"/bin/sh\", \"handler.sh\"]\n",
    );
    env.write("fail", "");
    let a = emit(&env, "2030-01-01T00:00:01Z", "Ok", Some("k"));
    env.drain(Some("2030-01-01T00:00:10Z"), &[]);
    let b = emit(&env, "2030-01-01T00:00:20Z", "Ok", Some("k"));
    let c = emit(&env, "2030-01-01T00:00:30Z", "Ok", Some("k"));
    std::fs::remove_file(env.path("fail")).unwrap();
    env.drain(Some("2030-01-01T00:01:00Z"), &[]);
    assert_eq!(
        received(&env),
        Vec::<String>::new(),
        "the dead head holds the key"
    );
    env.ok_at("2030-01-01T00:01:00Z", &["retry", "--dead"]);
    assert_eq!(env.drain(Some("2030-01-01T00:01:00Z"), &[]), 3);
    assert_eq!(received(&env), [a, b, c]);
}

/// Three `process-once` runs overlapping on one database, a handler slow enough for them to
/// meet: never two messages of one key in flight at once, each key in its order, none lost.
#[test]
fn overlapping_runs_deliver_each_key_one_at_a_time_in_order() {
    let env = TestEnv::new();
    env.write(
        "handler.sh",
        "echo \"start $OUTBOX_ORDERING_KEY $OUTBOX_MESSAGE_ID\" >> received\nsleep 0.02\n\
         echo \"end $OUTBOX_ORDERING_KEY $OUTBOX_MESSAGE_ID\" >> received\n",
    );
    env.config(
        "batch_size = 4\n\n[routes]\nOk = \"h\"\n\n\
         [sinks.h]\nkind = \"exec\"\ncommand = [\"/bin/sh\", \"handler.sh\"]\n",
    );
    let mut expected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for i in 0..24 {
        let key = format!("k{}", i % 4);
        let at = format!("2030-01-01T00:00:{:02}Z", i);
        expected
            .entry(key.clone())
            .or_default()
            .push(emit(&env, &at, "Ok", Some(&key)));
    }
    let now = "2030-01-01T00:01:00Z";
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let dir = env.path("");
            std::thread::spawn(move || {
                for _ in 0..60 {
                    let out = std::process::Command::new(env!("CARGO_BIN_EXE_outboxctl"))
                        .current_dir(&dir)
                        .env_remove("OUTBOX_CONFIG")
                        .env_remove("OUTBOX_DATABASE")
                        .env("OUTBOX_NOW", now)
                        .args(["process-once", "--format", "json"])
                        .output()
                        .unwrap();
                    assert!(out.status.success(), "{out:?}");
                    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                    if v["claimed"] == 0 {
                        break;
                    }
                }
            })
        })
        .collect();
    for r in runs {
        r.join().unwrap();
    }
    env.drain(Some(now), &[]);
    let mut in_flight: BTreeMap<String, String> = BTreeMap::new();
    let mut order: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in received(&env) {
        let [what, key, id] = line.split(' ').collect::<Vec<_>>()[..] else {
            panic!("{line}")
        };
        if what == "start" {
            if let Some(other) = in_flight.insert(key.to_owned(), id.to_owned()) {
                panic!("{id} started while {other} of key {key} was in flight");
            }
            order.entry(key.to_owned()).or_default().push(id.to_owned());
        } else {
            assert_eq!(in_flight.remove(key).as_deref(), Some(id), "{line}");
        }
    }
    assert_eq!(
        order, expected,
        "each key in the order its messages occurred, each once"
    );
}

/// A claim takes one message per key; the relay goes on at once with the next of each key
/// rather than waiting for its next tick, and `process-once` fills its batch the same way.
#[test]
fn one_key_s_messages_go_out_back_to_back_not_one_per_tick() {
    let env = TestEnv::new();
    env.config("batch_size = 5\n\n[routes]\nOk = \"noop\"\n");
    for i in 0..7 {
        emit(&env, &format!("2030-01-01T00:00:0{i}Z"), "Ok", Some("k"));
    }
    let now = "2030-01-01T00:01:00Z";
    let v = env.json_at(now, &["process-once"]);
    assert_eq!(
        (v["claimed"].as_u64(), v["delivered"].as_u64()),
        (Some(5), Some(5)),
        "{v}"
    );
    let mut relay = env.spawn("run", &["run", "--every", "60s"]);
    let started = std::time::Instant::now();
    while env.count("SELECT count(*) FROM OutboxMessage WHERE ProcessedOnUtc IS NULL") > 0 {
        assert!(
            started.elapsed().as_secs() < 20,
            "run waited for its tick between messages of a key"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    relay.kill().unwrap();
    relay.wait().unwrap();
}

/// For applications that cannot write the key column: `[types.T] key = "/pointer"` makes the
/// database take the key from the content as rows are inserted (and for waiting rows, at
/// `init`); `on_dead = "skip"` lets a key go on past a dead message by itself.
#[test]
fn keys_taken_from_content_and_dead_messages_skipped_by_policy() {
    let env = TestEnv::new();
    let now = "2030-01-01T00:01:00Z";
    env.ok(&["init"]);
    let early = emit(&env, "2030-01-01T00:00:00Z", "OrderPlaced", None);
    let db = env.db();
    db.execute(
        "UPDATE OutboxMessage SET Content = '{\"order\":{\"id\":\"o-0\"}}' WHERE Id = ?1",
        [&early],
    )
    .unwrap();
    env.config(
        "[retry]\nmax_attempts = 1\n\n[types.OrderPlaced]\nkey = \"/order/id\"\n\n\
         [types.OrderFailed]\nkey = \"/order/id\"\non_dead = \"skip\"\n\n\
         [routes]\nOrderPlaced = \"noop\"\nOrderFailed = \"broken\"\n\n\
         [sinks.broken]\nkind = \"exec\"\ncommand = [\"false\"]\n",
    );
    env.ok(&["init"]);
    assert_eq!(
        env.json_at(now, &["show", &early])["key"],
        "o-0",
        "init keyed a waiting row"
    );
    // New rules are an operator action: audited once, with the rules and the rows they keyed.
    env.ok(&["init"]);
    let audit = env.json(&["audit"]);
    let rows = audit["entries"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{audit}");
    assert_eq!(
        (rows[0]["action"].as_str(), rows[0]["messages"].as_u64()),
        (Some("key-rules"), Some(1))
    );
    assert_eq!(
        rows[0]["filter"],
        r#"{"OrderFailed":"/order/id","OrderPlaced":"/order/id"}"#
    );
    let keyed = |content: &str, ty: &str| {
        env.json_at(now, &["emit", "event", ty, content])["emitted"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let a = keyed(r#"{"order":{"id":"o-1"}}"#, "OrderPlaced");
    let b = keyed(r#"{"order":{"id":42}}"#, "OrderPlaced");
    let c = keyed(r#"{"order":{}}"#, "OrderPlaced");
    let own = env.json_at(
        now,
        &[
            "emit",
            "event",
            "OrderPlaced",
            r#"{"order":{"id":"o-1"}}"#,
            "--key",
            "mine",
        ],
    );
    let show = |id: &str| env.json_at(now, &["show", id]);
    assert_eq!(show(&a)["key"], "o-1");
    assert_eq!(show(&b)["key"], "42");
    assert_eq!(show(&c).get("key"), None, "nothing at the pointer: no key");
    assert_eq!(
        show(own["emitted"][0]["id"].as_str().unwrap())["key"],
        "mine",
        "the application's key wins"
    );
    // A row another application wrote with content that is not JSON is inserted, without a key.
    db.execute(
        "INSERT INTO OutboxMessage (Id, Type, Content, OccuredOnUtc) VALUES ('bad', 'OrderPlaced', 'not json', '2030-01-01 00:00:30')",
        [],
    )
    .unwrap();
    assert_eq!(show("bad").get("key"), None);

    // on_dead = "skip": the dead message is skipped at once and its key goes on.
    let failed = keyed(r#"{"order":{"id":"o-9"}}"#, "OrderFailed");
    let after = keyed(r#"{"order":{"id":"o-9"}}"#, "OrderPlaced");
    env.drain(Some(now), &[]);
    let v = env.json_at(now, &["explain", &failed]);
    assert_eq!(v["reason"], "skipped", "{v}");
    assert_eq!(env.json_at(now, &["explain", &after])["reason"], "processed");

    // Rules gone from the config: init removes them.
    env.config("[routes]\nOrderPlaced = \"noop\"\n");
    env.ok(&["init"]);
    assert_eq!(
        show(&keyed(r#"{"order":{"id":"o-1"}}"#, "OrderPlaced")).get("key"),
        None
    );
    // A relay says when the config's rules are not the installed ones.
    env.config("[types.OrderPlaced]\nkey = \"/order/id\"\n\n[routes]\nOrderPlaced = \"noop\"\n");
    let before = env.run_at(now, &["process-once"]);
    assert!(
        before.stderr.contains("run `outboxctl init` to install them"),
        "{before:#?}"
    );
    env.ok(&["init"]);
    let after = env.run_at(now, &["process-once"]);
    assert!(!after.stderr.contains("outboxctl init"), "{after:#?}");
    let err = {
        env.config("[types.OrderPlaced]\nkey = \"order.id\"\n");
        env.fails(&["init"], 2)
    };
    assert!(
        err.contains("types.OrderPlaced.key") && err.contains("JSON pointer"),
        "{err}"
    );
}

/// The randomized test on SQLite (its PostgreSQL twin, with four relays, is in
/// tests/postgres_relays.rs): three overlapping `process-once` loops, a handler failing at
/// random (decided by a seeded hash of id and attempt) and runs killed at random (a seeded
/// generator picks which and when). Each key's deliveries come in the order its messages occurred
/// (a message may come twice in a row around a kill, never after a later one), never two of a key
/// in flight at once, and nothing is lost.
#[test]
fn randomized_overlapping_runs_with_failures_and_kills_keep_every_key_in_order() {
    let round = sqlite_round(20261201, 40);
    assert!(round.kills > 0 && round.failures > 0, "{round:?}");
}

/// The same, for as long as one likes: `OUTBOX_SOAK_ROUNDS` rounds of `OUTBOX_SOAK_MESSAGES`
/// messages (default 40), each with its own seed. `scripts/soak` runs it.
#[test]
#[ignore = "a soak: run by scripts/soak"]
#[allow(clippy::print_stdout)] // the soak's report
fn soak_overlapping_runs_with_failures_and_kills() {
    let rounds: u64 = std::env::var("OUTBOX_SOAK_ROUNDS").map_or(10, |v| v.parse().unwrap());
    let messages: usize = std::env::var("OUTBOX_SOAK_MESSAGES").map_or(40, |v| v.parse().unwrap());
    let started = std::time::Instant::now();
    let mut total = Round::default();
    for seed in 1..=rounds {
        let r = sqlite_round(seed, messages);
        println!(
            "sqlite round {seed}/{rounds}: {messages} messages, {} kills, {} failed attempts, {} duplicates, {} retried after parking, {:.1}s",
            r.kills,
            r.failures,
            r.duplicates,
            r.parked,
            r.elapsed.as_secs_f64()
        );
        total.kills += r.kills;
        total.failures += r.failures;
        total.duplicates += r.duplicates;
        total.parked += r.parked;
    }
    println!(
        "sqlite soak: {rounds} rounds of {messages} messages in {:.0}s: 0 inversions, 0 lost; {} kills, {} failed attempts, {} duplicates, {} retried after parking",
        started.elapsed().as_secs_f64(),
        total.kills,
        total.failures,
        total.duplicates,
        total.parked
    );
}

/// What one randomized round saw.
#[derive(Debug, Default)]
struct Round {
    kills: u32,
    failures: usize,
    duplicates: usize,
    parked: u64,
    elapsed: std::time::Duration,
}

/// One round: `messages` keyed messages over 6 keys, three overlapping `process-once` loops, one
/// attempt in four failing (by a hash of id, attempt and seed), up to eight runs killed at seeded
/// moments. Panics on any inversion, overlap or loss.
fn sqlite_round(seed: u64, messages: usize) -> Round {
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    let started = Instant::now();
    let env = TestEnv::new();
    // Fails one attempt in four, by a hash of the id, the attempt and the seed.
    env.write(
        "handler.sh",
        &format!(
            "echo \"start $OUTBOX_ORDERING_KEY $OUTBOX_MESSAGE_ID\" >> received\n\
             h=$((0x$(echo \"$OUTBOX_MESSAGE_ID $OUTBOX_ATTEMPT {seed}\" | md5sum | cut -c1-8)))\n\
             sleep 0.01\n\
             if [ $((h % 4)) -eq 0 ]; then echo \"fail $OUTBOX_ORDERING_KEY $OUTBOX_MESSAGE_ID\" >> received; exit 1; fi\n\
             echo \"end $OUTBOX_ORDERING_KEY $OUTBOX_MESSAGE_ID\" >> received\n"
        ),
    );
    env.config(
        "batch_size = 5\nlease = \"2s\"\n\n[retry]\nmax_attempts = 100\nbackoff = \"20ms\"\nmax_backoff = \"100ms\"\n\n\
         [circuit]\ncooldown = \"1s\"\n\n[routes]\nOk = \"h\"\n\n\
         [sinks.h]\nkind = \"exec\"\ncommand = [\"/bin/sh\", \"handler.sh\"]\ntimeout = \"1s\"\n",
    );
    let mut expected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for i in 0..messages {
        let key = format!("k{}", i % 6);
        let at = format!("2024-01-01T00:{:02}:{:02}Z", i / 60, i % 60);
        expected
            .entry(key.clone())
            .or_default()
            .push(emit(&env, &at, "Ok", Some(&key)));
    }

    let done = Arc::new(AtomicBool::new(false));
    let running: Arc<Mutex<[Option<u32>; 3]>> = Arc::new(Mutex::new([None; 3]));
    let kills = Arc::new(AtomicU32::new(0));
    let deadline = Instant::now() + Duration::from_secs(120);
    let db = env.db_path();
    let unprocessed = move || {
        rusqlite::Connection::open(&db)
            .and_then(|c| {
                c.busy_timeout(Duration::from_secs(5))?;
                c.query_row(
                    "SELECT count(*) FROM OutboxMessage WHERE ProcessedOnUtc IS NULL",
                    [],
                    |r| r.get::<_, i64>(0),
                )
            })
            .unwrap_or(1)
    };
    let runs: Vec<_> = (0..3)
        .map(|slot| {
            let (dir, done, running) = (env.path(""), done.clone(), running.clone());
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) && Instant::now() < deadline {
                    let child = std::process::Command::new(env!("CARGO_BIN_EXE_outboxctl"))
                        .current_dir(&dir)
                        .env_remove("OUTBOX_CONFIG")
                        .env_remove("OUTBOX_DATABASE")
                        .env_remove("OUTBOX_NOW")
                        .args(["process-once", "--format", "json", "-q"])
                        .stdout(std::process::Stdio::null())
                        .stderr(std::process::Stdio::piped())
                        .spawn()
                        .unwrap();
                    running.lock().unwrap()[slot] = Some(child.id());
                    let out = child.wait_with_output().unwrap();
                    running.lock().unwrap()[slot] = None;
                    use std::os::unix::process::ExitStatusExt;
                    assert!(
                        out.status.success() || out.status.signal() == Some(9),
                        "{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    std::thread::sleep(Duration::from_millis(10));
                }
            })
        })
        .collect();
    let killer = {
        let (done, running, kills) = (done.clone(), running.clone(), kills.clone());
        std::thread::spawn(move || {
            let mut rng = fastrand::Rng::with_seed(seed);
            while !done.load(Ordering::Relaxed) && kills.load(Ordering::Relaxed) < 8 {
                std::thread::sleep(Duration::from_millis(rng.u64(100..400)));
                // One of the runs going at this moment (a slot between two runs has none): a
                // round as short as a second still gets its kills.
                let live: Vec<u32> = running.lock().unwrap().iter().flatten().copied().collect();
                let pid = (!live.is_empty()).then(|| live[rng.usize(0..live.len())]);
                if let Some(pid) = pid {
                    let killed = std::process::Command::new("kill")
                        .args(["-9", &pid.to_string()])
                        .status()
                        .is_ok_and(|s| s.success());
                    kills.fetch_add(u32::from(killed), Ordering::Relaxed);
                }
            }
        })
    };
    // A message whose delivery was killed three times is parked (dead): the operator's retry
    // brings it back, as in production.
    let mut retried = 0;
    while unprocessed() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        if env.count("SELECT count(*) FROM OutboxMessage WHERE DeadOnUtc IS NOT NULL") > 0 {
            retried += env.json(&["retry", "--dead"])["retried"].as_u64().unwrap();
        }
    }
    done.store(true, Ordering::Relaxed);
    killer.join().unwrap();
    for r in runs {
        r.join().unwrap();
    }
    assert_eq!(
        unprocessed(),
        0,
        "every message delivered within the time ({retried} parked and retried)"
    );

    let mut in_flight: BTreeMap<String, String> = BTreeMap::new();
    let mut order: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let (mut failures, mut oks) = (0, 0);
    for line in received(&env) {
        let [what, key, id] = line.split(' ').collect::<Vec<_>>()[..] else {
            panic!("{line}")
        };
        match what {
            "start" => {
                if let Some(other) = in_flight.insert(key.to_owned(), id.to_owned()) {
                    panic!("{id} started while {other} of key {key} was in flight");
                }
            }
            _ => {
                assert_eq!(in_flight.remove(key).as_deref(), Some(id), "{line}");
                if what == "fail" {
                    failures += 1;
                    continue;
                }
                oks += 1;
                let delivered = order.entry(key.to_owned()).or_default();
                // A redelivery (around a kill) comes right after itself, never after a later one.
                if delivered.last().map(String::as_str) != Some(id) {
                    delivered.push(id.to_owned());
                }
            }
        }
    }
    assert_eq!(
        order, expected,
        "each key in the order its messages occurred, each delivered, no inversion"
    );
    Round {
        kills: kills.load(Ordering::Relaxed),
        failures,
        duplicates: oks - messages,
        parked: retried,
        elapsed: started.elapsed(),
    }
}
