//! The test environment: a temporary directory as the working directory, a clean environment,
//! and helpers to run the binary, parse its JSON and look into the database directly.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use serde_json::Value;
use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_outboxctl");

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

pub struct TestEnv {
    dir: TempDir,
}

impl TestEnv {
    pub fn new() -> Self {
        TestEnv {
            dir: tempfile::tempdir().expect("a temp dir"),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The default database of a run in this directory.
    pub fn db_path(&self) -> PathBuf {
        self.path("outbox.db")
    }

    pub fn write(&self, rel: &str, contents: &str) -> PathBuf {
        let p = self.path(rel);
        fs::write(&p, contents).expect("write a test file");
        p
    }

    /// Writes `outboxctl.toml`, which every run in this directory picks up.
    pub fn config(&self, toml: &str) {
        self.write("outboxctl.toml", toml);
    }

    /// A shell-script handler in the temp dir, and a config routing `types` to it.
    pub fn exec_handler(&self, script: &str, types: &[&str], extra: &str) {
        self.write("handler.sh", script);
        let routes: String = types.iter().map(|t| format!("{t} = \"h\"\n")).collect();
        self.config(&format!(
            "{extra}\n[sinks.h]\nkind = \"exec\"\ncommand = [\"/bin/sh\", \"handler.sh\"]\n\n[routes]\n{routes}"
        ));
    }

    /// The binary with the temp dir as cwd and none of the caller's settings leaking in.
    pub fn cmd(&self) -> Command {
        self.clean(Command::new(BIN))
    }

    /// The binary run under `script(1)`, so stdin, stdout and stderr are a terminal. None when
    /// `script` is not installed. Output arrives merged, with CRLF line ends.
    pub fn in_terminal(&self, args: &[&str], vars: &[(&str, &str)]) -> Option<String> {
        let line = std::iter::once(BIN)
            .chain(args.iter().copied())
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(" ");
        let mut c = self.clean(Command::new("script"));
        c.args(["-qec", &line, "/dev/null"]).envs(vars.iter().copied());
        let out = c.output().ok()?;
        assert!(out.status.success(), "outboxctl {args:?} on a terminal: {out:?}");
        Some(String::from_utf8(out.stdout).unwrap().replace("\r\n", "\n"))
    }

    fn clean(&self, mut c: Command) -> Command {
        c.current_dir(self.dir.path());
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("OUTBOX_") {
                c.env_remove(&k);
            }
        }
        for k in [
            "NO_COLOR",
            "RUST_BACKTRACE",
            "RUST_LIB_BACKTRACE",
            "CLICOLOR_FORCE",
            "COLUMNS",
        ] {
            c.env_remove(k);
        }
        // Set on purpose: a failure must still print one line, never a backtrace.
        c.env("RUST_BACKTRACE", "1");
        c.stdin(Stdio::null());
        c
    }

    pub fn output(&self, mut c: Command) -> Output {
        let out = c.output().expect("run outboxctl");
        let o = Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        };
        assert_no_panic(&o);
        o
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let mut c = self.cmd();
        c.args(args);
        self.output(c)
    }

    /// A run with the clock pinned (`OUTBOX_NOW`).
    pub fn run_at(&self, now: &str, args: &[&str]) -> Output {
        let mut c = self.cmd();
        c.args(args).env("OUTBOX_NOW", now);
        self.output(c)
    }

    /// A run with `input` on stdin.
    pub fn run_input(&self, args: &[&str], input: &str) -> Output {
        use std::io::Write;
        let mut c = self.cmd();
        c.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("spawn outboxctl");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .expect("write stdin");
        let out = child.wait_with_output().expect("wait for outboxctl");
        let o = Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        };
        assert_no_panic(&o);
        o
    }

    /// Runs and asserts success.
    pub fn ok(&self, args: &[&str]) -> Output {
        let o = self.run(args);
        assert_eq!(o.code, 0, "outboxctl {args:?} failed: {o:#?}");
        o
    }

    pub fn ok_at(&self, now: &str, args: &[&str]) -> Output {
        let o = self.run_at(now, args);
        assert_eq!(o.code, 0, "outboxctl {args:?} at {now} failed: {o:#?}");
        o
    }

    /// Runs with `--format json`, asserts success, parses stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.extend(["--format", "json"]);
        self.ok(&a).json()
    }

    pub fn json_at(&self, now: &str, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.extend(["--format", "json"]);
        self.ok_at(now, &a).json()
    }

    /// Runs, asserts the exit code and a one-line error; returns the error line.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let o = self.run(args);
        assert_fails(&o, code, &format!("{args:?}"))
    }

    pub fn fails_at(&self, now: &str, args: &[&str], code: i32) -> String {
        let o = self.run_at(now, args);
        assert_fails(&o, code, &format!("{args:?} at {now}"))
    }

    /// Starts the binary in the background; stdout and stderr go to files named after `tag`.
    pub fn spawn(&self, tag: &str, args: &[&str]) -> Child {
        let mut c = self.cmd();
        c.args(args)
            .stdout(fs::File::create(self.path(&format!("{tag}.out"))).unwrap())
            .stderr(fs::File::create(self.path(&format!("{tag}.err"))).unwrap());
        c.spawn().expect("spawn outboxctl")
    }

    pub fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel)).unwrap_or_default()
    }

    pub fn db(&self) -> Connection {
        self.db_at(&self.db_path())
    }

    pub fn db_at(&self, p: &Path) -> Connection {
        let c = Connection::open(p).expect("open the test database");
        c.busy_timeout(Duration::from_secs(10)).unwrap();
        c
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.db().query_row(sql, [], |r| r.get(0)).expect(sql)
    }

    /// Emits `n` events of a type with small JSON content; returns their ids.
    pub fn emit(&self, ty: &str, n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                let v = self.json(&["emit", "event", ty, &format!("{{\"n\":{i}}}")]);
                v["emitted"][0]["id"].as_str().unwrap().to_owned()
            })
            .collect()
    }

    pub fn emit_at(&self, now: &str, ty: &str) -> String {
        let v = self.json_at(now, &["emit", "event", ty, "{\"x\":1}"]);
        v["emitted"][0]["id"].as_str().unwrap().to_owned()
    }

    /// Runs `process-once` until nothing is due; returns how many were delivered.
    pub fn drain(&self, now: Option<&str>, extra: &[&str]) -> u64 {
        let mut delivered = 0;
        for _ in 0..200 {
            let mut args = vec!["process-once"];
            args.extend(extra);
            let r = match now {
                Some(t) => self.json_at(t, &args),
                None => self.json(&args),
            };
            delivered += r["delivered"].as_u64().unwrap();
            if r["claimed"].as_u64().unwrap() == 0 {
                return delivered;
            }
        }
        panic!("the outbox never drained");
    }

    pub fn show(&self, id: &str) -> Value {
        self.json(&["show", id])
    }

    pub fn stats(&self) -> Value {
        self.json(&["stats"])
    }
}

pub fn assert_no_panic(o: &Output) {
    for text in [&o.stdout, &o.stderr] {
        let lower = text.to_lowercase();
        assert!(
            !lower.contains("panicked") && !lower.contains("backtrace"),
            "output mentions a panic or backtrace: {o:#?}"
        );
    }
    assert!(
        !o.stdout.contains('\x1b') && !o.stderr.contains('\x1b'),
        "ANSI escape codes in output that is not a terminal: {o:#?}"
    );
}

/// A failure is one line on stderr starting with "error:", and the given exit code.
pub fn assert_fails(o: &Output, code: i32, what: &str) -> String {
    assert_eq!(o.code, code, "outboxctl {what}: expected exit {code}: {o:#?}");
    let lines: Vec<&str> = o.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "outboxctl {what}: expected one stderr line: {o:#?}"
    );
    assert!(lines[0].starts_with("error:"), "outboxctl {what}: {o:#?}");
    assert!(
        lines[0].len() > "error: ".len() + 10,
        "a useless error line: {o:#?}"
    );
    lines[0].to_owned()
}

/// Polls `cond` until it holds or a generous deadline passes.
pub fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits for a child with a generous deadline, killing it if it hangs.
pub fn wait_exit(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("outboxctl did not exit within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends a signal by name to a child (no unsafe code in tests).
pub fn signal(child: &Child, sig: &str) {
    let st = Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(st.success(), "kill -{sig} failed");
}

/// What a test's handler wrote to the file `received`, one line per delivery, in order.
pub fn received(env: &TestEnv) -> Vec<String> {
    fs::read_to_string(env.path("received"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Lines of a file, for the delivery logs handlers write.
pub fn lines(p: &Path) -> Vec<String> {
    fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The ids of a `list --format json` answer, in order.
pub fn ids(list: &Value) -> Vec<String> {
    list["messages"]
        .as_array()
        .expect("a messages array")
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A handler that records each delivery (one O_APPEND line write: atomic) and then waits a bit.
pub const RECORDING_HANDLER: &str = r#"#!/bin/sh
cat > /dev/null
echo "$OUTBOX_MESSAGE_ID" >> deliveries.log
sleep "${HANDLER_SLEEP:-0.05}"
"#;
