//! Runs a command per message: argv without a shell, the message as JSON on stdin, its id, type
//! and attempt in environment variables. Exit 0 means delivered.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

use super::{DeliveryError, Envelope, Pending, Sink};
use crate::model::Message;

/// How much of the handler's stderr is kept in `Error`.
const STDERR_TAIL: usize = 2048;

pub struct ExecSink {
    program: String,
    args: Vec<String>,
    timeout: Duration,
    env: BTreeMap<String, String>,
}

impl Sink for ExecSink {
    /// One process per message: the relay sends runs of one.
    fn send(&mut self, run: &[Message]) -> Pending {
        Pending::ready(run.iter().map(|m| self.run(m)).collect())
    }
}

impl ExecSink {
    pub fn new(program: String, args: Vec<String>, timeout: Duration, env: BTreeMap<String, String>) -> Self {
        ExecSink {
            program,
            args,
            timeout,
            env,
        }
    }

    fn run(&self, m: &Message) -> Result<(), DeliveryError> {
        let program = &self.program;
        let body = serde_json::to_vec(&Envelope::of(m)?).expect("an envelope serializes");
        let mut command = Command::new(program);
        // The OpenTelemetry convention for a trace context handed to a process.
        // The relay's own, if it has one, is not the message's.
        command.env_remove("TRACEPARENT").env_remove("TRACESTATE");
        if let Some((parent, state)) = m.trace() {
            command.env("TRACEPARENT", parent);
            if let Some(state) = state {
                command.env("TRACESTATE", state);
            }
        }
        let mut child = command
            .args(&self.args)
            .envs(&self.env)
            .env("OUTBOX_MESSAGE_ID", &m.id)
            .env("OUTBOX_DELIVERY_ID", m.delivery_id())
            .env("OUTBOX_MESSAGE_TYPE", &m.event_type)
            .env("OUTBOX_ATTEMPT", m.attempts.to_string())
            .env("OUTBOX_ORDERING_KEY", m.key.as_deref().unwrap_or(""))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so a timeout kills whatever the handler started too, and a
            // Ctrl-C at the terminal reaches the relay, which lets the message in flight finish.
            .process_group(0)
            .spawn()
            .map_err(|e| DeliveryError::Retryable(format!("cannot run {program}: {e}")))?;

        // Feed stdin and drain both pipes on threads so a chatty handler cannot deadlock us.
        let mut stdin = child.stdin.take().expect("piped");
        let writer = std::thread::spawn(move || {
            // A handler that does not read its stdin is its own business.
            let _ = stdin.write_all(&body);
        });
        let stdout = drain(child.stdout.take().expect("piped"));
        let stderr = drain(child.stderr.take().expect("piped"));

        let status = child
            .wait_timeout(self.timeout)
            .map_err(|e| DeliveryError::Retryable(format!("waiting for {program}: {e}")))?;
        let status = match status {
            Some(s) => s,
            None => {
                // SAFETY: kill(2) with a negative pid signals the group created at spawn.
                #[allow(unsafe_code)]
                unsafe {
                    libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL)
                };
                let _ = child.kill();
                let _ = child.wait();
                let _ = writer.join();
                let err = tail(&stderr.join().unwrap_or_default());
                return Err(DeliveryError::Retryable(format!(
                    "{program} timed out after {}{}",
                    humantime::format_duration(self.timeout),
                    if err.is_empty() {
                        String::new()
                    } else {
                        format!("; stderr: {err}")
                    }
                )));
            }
        };
        let _ = writer.join();
        let out = stdout.join().unwrap_or_default();
        if !out.is_empty() {
            tracing::debug!(id = %m.id, "{program} stdout: {}", String::from_utf8_lossy(&out).trim_end());
        }
        let err = tail(&stderr.join().unwrap_or_default());
        if status.success() {
            return Ok(());
        }
        let how = match status.code() {
            Some(code) => format!("exited with status {code}"),
            None => "was killed by a signal".to_owned(),
        };
        Err(DeliveryError::Retryable(if err.is_empty() {
            format!("{program} {how}")
        } else {
            format!("{program} {how}: {err}")
        }))
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}

/// The last `STDERR_TAIL` bytes, trimmed, on a char boundary.
fn tail(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    let s = s.trim();
    if s.len() <= STDERR_TAIL {
        return s.to_owned();
    }
    let mut start = s.len() - STDERR_TAIL;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &s[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_end_within_bounds() {
        let long = "é".repeat(3000);
        let t = tail(long.as_bytes());
        assert!(t.len() <= STDERR_TAIL + "…".len());
        assert!(t.ends_with('é'));
        assert_eq!(tail(b"  short \n"), "short");
    }
}
