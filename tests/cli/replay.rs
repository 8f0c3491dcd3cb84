//! `replay`: messages delivered again, to their routes or to one sink, as relay work of their
//! own, tracked apart from the messages, audited, resumable.

use std::time::{Duration, Instant};

use crate::common::*;

/// A handler that logs `TYPE ID DELIVERY_ID` per delivery to `received`; a second exec sink,
/// `backfill`, logs the same to `backfilled` and fails the ids listed in the file `refuse`.
fn setup(env: &TestEnv, extra: &str) {
    env.write(
        "handler.sh",
        "echo \"$OUTBOX_MESSAGE_TYPE $OUTBOX_MESSAGE_ID $OUTBOX_DELIVERY_ID\" >> received\n",
    );
    env.write(
        "backfill.sh",
        r#"if [ -f refuse ] && grep -q "$OUTBOX_MESSAGE_ID" refuse; then echo "refused" >&2; exit 1; fi
body=$(cat)
echo "$OUTBOX_MESSAGE_TYPE $OUTBOX_MESSAGE_ID $OUTBOX_DELIVERY_ID $body" >> backfilled
"#,
    );
    env.config(&format!(
        r#"{extra}
[sinks.h]
kind = "exec"
command = ["/bin/sh", "handler.sh"]

[sinks.backfill]
kind = "exec"
command = ["/bin/sh", "backfill.sh"]

[routes]
"*" = "h"
"#
    ));
}

fn emit_keyed(env: &TestEnv, ty: &str, key: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            env.json(&["emit", "event", ty, &format!("{{\"n\":{i}}}"), "--key", key])["emitted"][0]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

fn processed_on(env: &TestEnv) -> Vec<(String, String)> {
    let db = env.db();
    let mut st = db
        .prepare("SELECT Id, ProcessedOnUtc FROM OutboxMessage ORDER BY Id")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_replay_delivers_again_in_order_leaves_the_originals_alone_and_is_audited() {
    let env = TestEnv::new();
    setup(&env, "");
    let orders = emit_keyed(&env, "Order", "o-1", 3);
    env.emit("Other", 1);
    assert_eq!(env.drain(None, &[]), 4);
    let before = processed_on(&env);
    let first = received(&env);

    // A dry run counts exactly, shows the first ones, and changes nothing.
    let dry = env.json(&["replay", "--type", "Order", "--dry-run"]);
    assert_eq!(dry["messages"], 3);
    assert_eq!(dry["dry_run"], true);
    let sample: Vec<&str> = dry["sample"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(sample, orders.iter().map(String::as_str).collect::<Vec<_>>());
    // Without --yes and no terminal to ask on: refused, nothing sent.
    let err = env.fails(&["replay", "--type", "Order"], 2);
    assert!(
        err.contains("would deliver 3 messages again") && err.contains("--yes"),
        "{err}"
    );
    assert_eq!(env.count("SELECT count(*) FROM OutboxMessage_Replayed"), 0);
    assert_eq!(received(&env), first);

    let done = env.json(&["replay", "--type", "Order", "--yes"]);
    assert_eq!(
        (done["messages"].as_u64(), done["delivered"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(done["stopped"], false);
    // Delivered again, in order, with their own ids (receivers that deduplicate ignore them).
    let again: Vec<String> = received(&env)[first.len()..].to_vec();
    let want: Vec<String> = orders.iter().map(|id| format!("Order {id} {id}")).collect();
    assert_eq!(again, want);
    assert_eq!(
        processed_on(&env),
        before,
        "the originals keep their ProcessedOnUtc"
    );
    let stats = env.stats();
    assert_eq!(
        (stats["processed"].as_u64(), stats["total"].as_u64()),
        (Some(4), Some(4))
    );

    // Audited, and shown with the message.
    let audit = env.json(&["audit"]);
    let row = &audit["entries"][0];
    assert_eq!(
        (row["action"].as_str(), row["messages"].as_u64()),
        (Some("replay"), Some(3))
    );
    assert!(
        row["command"]
            .as_str()
            .unwrap()
            .contains("replay --type Order --yes"),
        "{row}"
    );
    let shown = env.show(&orders[0]);
    assert_eq!(shown["replays"][0]["state"], "delivered");
    assert_eq!(shown["replays"][0]["replay"], done["replay"]);
    let why = env.ok(&["explain", &orders[0]]).stdout;
    assert!(why.contains("Replayed: replay"), "{why}");
}

#[test]
fn a_backfill_goes_to_one_sink_with_fresh_delivery_ids() {
    let env = TestEnv::new();
    setup(&env, "");
    let ids = env.emit("Signup", 2);
    assert_eq!(env.drain(None, &[]), 2);
    let first = received(&env);
    let out = env.json(&[
        "replay",
        "--id",
        &ids[0],
        &ids[1],
        "--to",
        "backfill",
        "--new-delivery-id",
        "--yes",
    ]);
    assert_eq!(out["delivered"], 2);
    assert_eq!(received(&env), first, "the routes got nothing");
    let got = lines(&env.path("backfilled"));
    assert_eq!(got.len(), 2);
    for (line, id) in got.iter().zip(&ids) {
        let parts: Vec<&str> = line.splitn(4, ' ').collect();
        assert_eq!(parts[1], id);
        assert_ne!(parts[2], id, "a fresh delivery id: {line}");
        let body: serde_json::Value = serde_json::from_str(parts[3]).unwrap();
        assert_eq!(body["id"], id.as_str(), "the envelope keeps the message id");
        assert_eq!(body["delivery_id"], parts[2]);
    }
    // A second replay gives other delivery ids.
    env.json(&[
        "replay",
        "--id",
        &ids[0],
        "--to",
        "backfill",
        "--new-delivery-id",
        "--yes",
    ]);
    let got = lines(&env.path("backfilled"));
    let delivery = |l: &str| l.split(' ').nth(2).unwrap().to_owned();
    assert_ne!(delivery(&got[2]), delivery(&got[0]));
}

#[test]
fn replay_refuses_what_it_cannot_do_and_writes_nothing() {
    let env = TestEnv::new();
    setup(&env, "");
    let ids = env.emit("Signup", 1);
    env.drain(None, &[]);
    let err = env.fails(&["replay", "--yes"], 2);
    assert!(err.contains("say which messages to replay"), "{err}");
    let err = env.fails(&["replay", "--type", "Signup", "--to", "nowhere", "--yes"], 2);
    assert!(err.contains("--to nowhere: no sink of that name"), "{err}");
    let err = env.fails(&["replay", "--type", "Signup", "--to", "", "--yes"], 2);
    assert!(err.contains("--to needs a sink name"), "{err}");
    let err = env.fails(
        &["replay", "--id", "0190a000-0000-7000-8000-00000000dead", "--yes"],
        4,
    );
    assert!(err.contains("no message with id"), "{err}");
    let err = env.fails(&["replay", "--type", "Signup", "--rate", "fast", "--yes"], 2);
    assert!(err.contains("not a rate"), "{err}");
    let err = env.fails(
        &["replay", "--type", "Signup", "--since", "yesterday", "--yes"],
        2,
    );
    assert!(err.contains("--since \"yesterday\" is neither a time"), "{err}");
    assert_eq!(env.count("SELECT count(*) FROM OutboxMessage_Replayed"), 0);
    assert_eq!(env.count("SELECT count(*) FROM OutboxMessage_Audit"), 0);
    // A type no route takes is dead in the replay at once, not retried for hours.
    env.config(
        "[sinks.h]\nkind = \"exec\"\ncommand = [\"/bin/sh\", \"handler.sh\"]\n[routes]\nSignup = \"h\"\n",
    );
    let other = env.emit("Orphan", 1);
    env.db()
        .execute(
            "UPDATE OutboxMessage SET ProcessedOnUtc = '2024-01-01 00:00:00'",
            [],
        )
        .unwrap();
    let out = env.run(&["--format", "json", "replay", "--id", &other[0], "--yes"]);
    assert_eq!(out.code, 6, "{}", out.stderr);
    assert_eq!(out.json()["dead"], 1);
    let shown = env.show(&other[0]);
    assert!(
        shown["replays"][0]["error"]
            .as_str()
            .unwrap()
            .contains("no handler for type Orphan: nowhere to replay it"),
        "{shown}"
    );
    setup(&env, "");
    // Nothing selected: nothing to do, exit 0.
    let none = env.json(&["replay", "--type", "Nope", "--yes"]);
    assert_eq!(none["messages"], 0);
    // --id alone takes the message whatever its state.
    assert_eq!(env.json(&["replay", "--id", &ids[0], "--dry-run"])["messages"], 1);
}

#[test]
fn a_replay_with_dead_messages_exits_6_and_the_same_command_retries_them() {
    let env = TestEnv::new();
    setup(&env, "[retry]\nmax_attempts = 1\n");
    let ids = env.emit("Signup", 3);
    env.drain(None, &[]);
    env.write("refuse", &ids[1]);
    let replay = ["replay", "--type", "Signup", "--to", "backfill", "--yes"];
    let mut json = vec!["--format", "json"];
    json.extend(replay);
    let out = env.run(&json);
    assert_eq!(out.code, 6, "{}", out.stderr);
    let report = out.json();
    assert_eq!(
        (report["delivered"].as_u64(), report["dead"].as_u64()),
        (Some(2), Some(1))
    );
    let why = env.ok(&["show", &ids[1]]).stdout;
    assert!(
        why.contains("to sink backfill: dead after 1 attempt(s): backfill:") && why.contains("refused"),
        "{why}"
    );

    // Fixed, the same command resumes that replay: only the dead one goes again.
    std::fs::remove_file(env.path("refuse")).unwrap();
    let dry = env.ok(&replay_dry(&replay)).stdout;
    assert!(
        dry.contains("resume replay") && dry.contains("the 1 messages it has left"),
        "{dry}"
    );
    let again = env.json(&replay);
    assert_eq!(again["replay"], report["replay"]);
    assert_eq!(
        (again["delivered"].as_u64(), again["dead"].as_u64()),
        (Some(3), Some(0))
    );
    let got = lines(&env.path("backfilled"));
    assert_eq!(got.len(), 3, "{got:?}");
}

fn replay_dry<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut v: Vec<&str> = args.iter().copied().filter(|a| *a != "--yes").collect();
    v.push("--dry-run");
    v
}

#[test]
fn a_stopped_replay_resumes_where_it_stopped_and_sends_nothing_twice() {
    let env = TestEnv::new();
    setup(&env, "");
    const N: usize = 120;
    let ids = env.emit("Signup", N);
    assert_eq!(env.drain(None, &["--batch-size", "500"]), N as u64);
    // A relative time, as an operator writes it: the same words find the same replay later.
    let args = [
        "replay",
        "--type",
        "Signup",
        "--processed-since",
        "1d",
        "--to",
        "backfill",
        "--rate",
        "40/s",
        "--yes",
    ];
    let mut child = env.spawn("replay", &args);
    wait_until("some of the replay is delivered", Duration::from_secs(30), || {
        lines(&env.path("backfilled")).len() >= 10
    });
    signal(&child, "INT");
    let status = wait_exit(&mut child, Duration::from_secs(30));
    assert_eq!(status.code(), Some(6), "stopped before the end");
    let sent = lines(&env.path("backfilled")).len();
    assert!(sent < N, "{sent}");
    let state = env.count("SELECT count(*) FROM OutboxMessage_Replayed WHERE DeliveredOnUtc IS NOT NULL");
    assert_eq!(
        state as usize, sent,
        "every delivery was recorded before it exited"
    );

    let started = Instant::now();
    let resumed = env.json(&[
        "replay",
        "--type",
        "Signup",
        "--processed-since",
        "1d",
        "--to",
        "backfill",
        "--rate",
        "200/s",
        "--yes",
    ]);
    assert_eq!(resumed["delivered"], N as u64);
    assert_eq!(resumed["attempted"], (N - sent) as u64, "only what was left");
    // Paced: never faster than the rate (a pass of a tenth of a second's worth at a time).
    let floor = Duration::from_secs_f64((N - sent).saturating_sub(20) as f64 / 200.0);
    assert!(started.elapsed() >= floor, "{:?} < {floor:?}", started.elapsed());
    let got: Vec<String> = lines(&env.path("backfilled"))
        .iter()
        .map(|l| l.split(' ').nth(1).unwrap().to_owned())
        .collect();
    assert_eq!(got, ids, "each once, in order: nothing sent twice by the resume");
}

/// On a terminal, `replay` without `--yes` asks first; "n" sends nothing, "y" replays.
#[test]
fn on_a_terminal_replay_asks_first() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let env = TestEnv::new();
    setup(&env, "");
    env.emit("Signup", 2);
    env.drain(None, &[]);
    let sent_before = received(&env).len();
    let ask = |answer: &str| {
        let line = format!("'{BIN}' replay --type Signup");
        let Ok(mut child) = Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .current_dir(env.path("."))
            .env_remove("OUTBOX_DATABASE")
            .env_remove("OUTBOX_CONFIG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        else {
            return None;
        };
        child.stdin.take().unwrap().write_all(answer.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        Some((
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        ))
    };
    // As the other terminal tests: without script(1) there is no terminal to test on.
    let Some((code, out)) = ask("n\n") else {
        return;
    };
    assert!(
        out.contains("deliver 2 messages again to their routes? [y/N]"),
        "{out}"
    );
    assert!(out.contains("replay cancelled; nothing was sent"), "{out}");
    assert_eq!(code, Some(2));
    assert_eq!(received(&env).len(), sent_before);
    let (code, out) = ask("y\n").unwrap();
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("2 of 2 messages delivered"), "{out}");
    assert_eq!(received(&env).len(), sent_before + 2);
}
