//! Output and flags: global flags anywhere, JSON from every command that prints data, no colour
//! on a pipe, and shell completions kept fresh.

use std::path::PathBuf;

use crate::common::*;

#[test]
fn global_flags_work_before_or_after_the_subcommand() {
    let env = TestEnv::new();
    std::fs::create_dir(env.path("sub")).unwrap();
    env.write("sub/my.toml", "[routes]\nJob = \"noop\"\n");
    env.ok(&["--database", "sub/a.db", "emit", "event", "Job", "{}"]);
    env.ok(&["emit", "event", "Job", "{}", "--database", "sub/a.db"]);
    env.ok(&["-d", "sub/a.db", "emit", "event", "Job", "{}"]);
    assert!(!env.db_path().exists(), "--database was ignored");

    let stats = |args: &[&str]| {
        let mut v = env.ok(args).json();
        let o = v.as_object_mut().unwrap();
        // Ages move between two runs.
        o.remove("oldest_unprocessed_age_seconds");
        o.remove("stalled_seconds");
        v
    };
    let before = stats(&["--format", "json", "--database", "sub/a.db", "stats"]);
    let after = stats(&["stats", "--database", "sub/a.db", "--format", "json"]);
    assert_eq!(before, after);
    assert_eq!(before["total"], 3);

    // --config before and after; -v and -q anywhere.
    let r = env.ok(&[
        "--config",
        "sub/my.toml",
        "-d",
        "sub/a.db",
        "process-once",
        "--batch-size",
        "1",
        "--format",
        "json",
    ]);
    assert_eq!(r.json()["delivered"], 1);
    let r = env.ok(&[
        "-d",
        "sub/a.db",
        "process-once",
        "--config",
        "sub/my.toml",
        "--batch-size",
        "1",
        "-v",
    ]);
    assert!(r.stdout.contains("delivered 1"), "{r:#?}");
    let r = env.ok(&["-q", "-d", "sub/a.db", "process-once", "-c", "sub/my.toml"]);
    assert_eq!(r.stdout, "");
    env.ok(&["-d", "sub/a.db", "stats", "-q"]);
    env.ok(&["-v", "-d", "sub/a.db", "list"]);
    env.fails(&["-v", "-q", "stats"], 2);
    assert_eq!(env.json(&["-d", "sub/a.db", "stats"])["processed"], 3);

    // The same through the environment.
    let mut c = env.cmd();
    c.args(["stats"])
        .env("OUTBOX_DATABASE", "sub/a.db")
        .env("OUTBOX_FORMAT", "json");
    assert_eq!(env.output(c).json()["processed"], 3);
}

#[test]
fn every_command_that_prints_data_speaks_json() {
    let env = TestEnv::new();
    let v = env.json(&["init"]);
    assert_eq!(
        (v["backend"].as_str(), v["table"].as_str()),
        (Some("sqlite"), Some("OutboxMessage"))
    );
    let v = env.json(&["emit", "user-registered"]);
    let id = v["emitted"][0]["id"].as_str().unwrap().to_owned();
    env.json(&["emit", "event", "Job", "{}"]);
    for args in [
        vec!["list"],
        vec!["list", "--processed"],
        vec!["show", id.as_str()],
        vec!["stats"],
        vec!["process-once"],
        vec!["retry", "--failed"],
        vec!["retry", "--dead", "--dry-run"],
        vec!["purge", "--older-than", "1d"],
        vec!["purge", "--older-than", "1d", "--dry-run"],
    ] {
        let o = env.ok(&[args.clone(), vec!["--format", "json"]].concat());
        assert!(o.json().is_object(), "{args:?}: {o:#?}");
    }
}

#[test]
fn no_escape_codes_or_box_drawing_on_a_pipe() {
    let env = TestEnv::new();
    env.ok(&["emit", "user-registered"]);
    env.ok(&["emit", "event", "Nobody", "{}"]);
    // The helpers assert there is no ANSI escape in stdout or stderr of any run.
    let outputs = [
        env.ok(&["process-once", "-vv"]),
        env.ok(&["list", "--failed"]),
        env.ok(&["stats"]),
        env.ok(&["list", "--processed"]),
    ];
    for o in outputs {
        assert!(
            !o.stdout.contains('│') && !o.stdout.contains('─'),
            "box drawing on a pipe: {}",
            o.stdout
        );
    }
    let o = env.run(&["--help"]);
    assert_eq!(o.code, 0);
    assert!(o.stdout.contains("process-once"));
}

const SHELLS: &[(&str, &str)] = &[
    ("bash", "outboxctl.bash"),
    ("zsh", "_outboxctl"),
    ("fish", "outboxctl.fish"),
    ("elvish", "outboxctl.elv"),
    ("powershell", "_outboxctl.ps1"),
];

/// Fails when completions/ is stale; `UPDATE_COMPLETIONS=1 cargo test completions` rewrites it.
#[test]
fn completions_are_generated_and_checked_in() {
    let env = TestEnv::new();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("completions");
    let update = std::env::var_os("UPDATE_COMPLETIONS").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for (shell, file) in SHELLS {
        let o = env.ok(&["completions", shell]);
        assert!(o.stdout.contains("outboxctl"), "{shell}: {o:#?}");
        assert!(
            o.stdout.contains("process-once") && o.stdout.contains("older-than"),
            "{shell}"
        );
        let path = dir.join(file);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &o.stdout).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(o.stdout.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale shell completions: {stale:?}; regenerate with UPDATE_COMPLETIONS=1 cargo test completions"
    );
    env.fails(&["completions", "tcsh"], 2);
    // Completions need no database and no config.
    assert!(!env.db_path().exists());
}

#[test]
fn bash_completion_script_is_valid_bash() {
    let env = TestEnv::new();
    let o = env.ok(&["completions", "bash"]);
    env.write("c.bash", &o.stdout);
    if let Ok(st) = std::process::Command::new("bash")
        .args(["-n"])
        .arg(env.path("c.bash"))
        .status()
    {
        assert!(st.success(), "bash -n rejects the completion script");
    }
}

#[test]
fn log_levels_follow_v_q_and_outbox_log() {
    let env = TestEnv::new();
    env.ok(&["emit", "user-registered", "--count", "3"]);
    env.ok(&["emit", "event", "Nobody", "{}"]);
    let o = env.ok(&["process-once", "--batch-size", "1"]);
    assert!(o.stderr.contains("welcome email"), "info logs by default: {o:#?}");
    assert!(!o.stderr.contains("DEBUG"), "{o:#?}");
    let o = env.ok(&["process-once", "--batch-size", "1", "-v"]);
    assert!(o.stderr.contains("DEBUG"), "-v shows debug logs: {o:#?}");
    let o = env.ok(&["-q", "process-once", "--batch-size", "1"]);
    assert_eq!((o.stdout.as_str(), o.stderr.as_str()), ("", ""));
    let mut c = env.cmd();
    c.args(["process-once"]).env("OUTBOX_LOG", "error");
    let o = env.output(c);
    assert_eq!(o.code, 0);
    assert!(
        !o.stderr.contains("WARN"),
        "OUTBOX_LOG=error hides warnings: {o:#?}"
    );
    assert!(o.stdout.contains("failed 1"), "{o:#?}");
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let env = TestEnv::new();
    env.ok(&["init"]);
    env.db()
        .execute_batch(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
             INSERT INTO OutboxMessage (Id, Type, Content, OccuredOnUtc)
             SELECT printf('m-%05d', i), 'Job', '{\"padding\":\"' || hex(randomblob(40)) || '\"}', '2024-01-01' FROM n;",
        )
        .unwrap();
    let mut c = std::process::Command::new("bash");
    c.current_dir(env.path("."))
        .arg("-c")
        .arg(format!(
            "'{BIN}' list --limit 2000 --format json | head -c 100 >/dev/null; exit ${{PIPESTATUS[0]}}"
        ))
        .env("RUST_BACKTRACE", "1");
    let out = c.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "outboxctl failed on a closed pipe: {stderr}"
    );
    assert!(stderr.is_empty(), "a broken pipe printed: {stderr}");
}

#[test]
fn on_a_terminal_tables_are_drawn_and_progress_shown_but_never_in_json() {
    let env = TestEnv::new();
    let Some(out) = env.in_terminal(&["emit", "user-registered", "--count", "3"], &[]) else {
        return; // no script(1) here
    };
    assert!(
        out.contains("registering users"),
        "a progress bar on a terminal: {out:?}"
    );
    // JSON stays pure on a terminal: no progress bar, no colour.
    let out = env
        .in_terminal(
            &["emit", "user-registered", "--count", "3", "--format", "json"],
            &[],
        )
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    assert_eq!(v["emitted"].as_array().unwrap().len(), 3);
    let out = env.in_terminal(&["stats"], &[]).unwrap();
    assert!(
        out.contains('│') || out.contains('┆'),
        "box drawing on a terminal: {out}"
    );
    // Logs are coloured on a terminal, unless NO_COLOR is set.
    let out = env
        .in_terminal(&["process-once", "--batch-size", "1"], &[])
        .unwrap();
    assert!(out.contains('\x1b'), "{out:?}");
    let out = env
        .in_terminal(&["process-once", "--batch-size", "1"], &[("NO_COLOR", "1")])
        .unwrap();
    assert!(out.contains("welcome email") && !out.contains('\x1b'), "{out:?}");
}
