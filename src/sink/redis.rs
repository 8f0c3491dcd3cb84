//! Redis Streams: XADD with the fields `id`, `type` and `content` (optionally `MAXLEN ~`).
//! A run goes out as one pipeline: one round trip for many messages, sent by a thread that
//! owns the connection, so the relay records one run while the next is on its way.
//!
//! Redis does not deduplicate stream entries: a message delivered again (the relay crashed after
//! the XADD, before marking it processed) is added twice. With `dedup = true`, a script adds
//! the entry only when no marker key for the Id exists, and sets the marker (expiring after
//! `dedup_window`) in the same atomic step.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use redis::{Connection, Value};

use super::cloudevents::{self, CloudEventsMode};
use super::settings::{ResolvedRedis, expand};
use super::{DeliveryError, Outcomes, Pending, Sink};
use crate::model::Message;
use crate::redact::{Redactor, redact_url};

/// KEYS: stream, marker. ARGV: marker lifetime in seconds, MAXLEN ('' for none), then the
/// field/value pairs. The marker is checked first and set last, so a failed XADD leaves none
/// behind (a Redis script is atomic, but not rolled back when a command in it fails).
const DEDUP_SCRIPT: &str = r"
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local args = {'XADD', KEYS[1]}
if ARGV[2] ~= '' then
  table.insert(args, 'MAXLEN'); table.insert(args, '~'); table.insert(args, ARGV[2])
end
table.insert(args, '*')
for i = 3, #ARGV do table.insert(args, ARGV[i]) end
redis.call(unpack(args))
redis.call('SET', KEYS[2], '1', 'EX', ARGV[1])
return 1
";

pub struct RedisSink {
    stream: String,
    maxlen: Option<u64>,
    dedup: Option<Duration>,
    max_in_flight: usize,
    cloudevents: Option<CloudEventsMode>,
    source: Option<String>,
    script_hash: String,
    /// What the worker's connection is made from.
    url: String,
    timeout: Duration,
    script: Option<redis::Script>,
    /// Started with the first run.
    worker: Option<Worker>,
}

impl RedisSink {
    pub fn new(s: &ResolvedRedis) -> Self {
        let script = redis::Script::new(DEDUP_SCRIPT);
        RedisSink {
            stream: s.stream.clone(),
            maxlen: s.maxlen,
            dedup: s.dedup,
            max_in_flight: s.max_in_flight,
            cloudevents: s.cloudevents,
            source: s.source.clone(),
            script_hash: script.get_hash().to_owned(),
            url: s.url.0.clone(),
            timeout: s.timeout,
            script: s.dedup.is_some().then_some(script),
            worker: None,
        }
    }

    /// The stream entry's field/value pairs.
    fn fields(&self, m: &Message) -> Result<Vec<(&'static str, Vec<u8>)>, DeliveryError> {
        // Redis has no headers: CloudEvents, in either mode, travel in structured form.
        let content = match self.cloudevents {
            None => {
                serde_json::from_str::<serde_json::Value>(&m.content)
                    .map_err(|e| DeliveryError::malformed(format_args!("not valid JSON ({e})")))?;
                m.content.as_bytes().to_vec()
            }
            Some(_) => {
                cloudevents::encode(m, Some(CloudEventsMode::Structured), self.source.as_deref())?.body
            }
        };
        let mut fields = vec![
            ("id", m.delivery_id().as_bytes().to_vec()),
            ("type", m.event_type.as_bytes().to_vec()),
            ("content", content),
        ];
        if m.delivery_id.is_some() {
            fields.push(("outbox-id", m.id.as_bytes().to_vec()));
        }
        if let Some(key) = &m.key {
            fields.push(("key", key.as_bytes().to_vec()));
        }
        if let Some((parent, state)) = m.trace() {
            fields.push(("traceparent", parent.as_bytes().to_vec()));
            if let Some(state) = state {
                fields.push(("tracestate", state.as_bytes().to_vec()));
            }
        }
        Ok(fields)
    }

    /// One pipeline for the run, and the outcomes of the messages that could not be encoded.
    fn pipeline(&self, messages: &[Message]) -> (redis::Pipeline, Vec<Option<Result<(), DeliveryError>>>) {
        let mut outcomes: Vec<Option<Result<(), DeliveryError>>> = vec![None; messages.len()];
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for (i, m) in messages.iter().enumerate() {
            let fields = match self.fields(m) {
                Ok(f) => f,
                Err(e) => {
                    outcomes[i] = Some(Err(e));
                    continue;
                }
            };
            let stream = expand(&self.stream, &m.event_type);
            let cmd = pipe.cmd(if self.dedup.is_some() { "EVALSHA" } else { "XADD" });
            match self.dedup {
                Some(window) => {
                    cmd.arg(&self.script_hash)
                        .arg(2)
                        .arg(&stream)
                        .arg(format!("{stream}:outbox-dedup:{}", m.delivery_id()))
                        .arg(window.as_secs().max(1))
                        .arg(self.maxlen.map_or(String::new(), |n| n.to_string()));
                }
                None => {
                    cmd.arg(&stream);
                    if let Some(n) = self.maxlen {
                        cmd.arg("MAXLEN").arg("~").arg(n);
                    }
                    cmd.arg("*");
                }
            }
            for (name, value) in fields {
                cmd.arg(name).arg(value);
            }
        }
        (pipe, outcomes)
    }

    fn worker(&mut self) -> std::io::Result<&Worker> {
        let worker = match self.worker.take() {
            Some(worker) => worker,
            None => Worker::start(Link {
                shown_url: redact_url(&self.url),
                redactor: Redactor::for_url(&self.url),
                url: self.url.clone(),
                timeout: self.timeout,
                script: self.script.clone(),
                connection: None,
            })?,
        };
        Ok(self.worker.insert(worker))
    }
}

impl Sink for RedisSink {
    /// Hands the run's pipeline to the worker, which owns the connection, and returns at once:
    /// the round trip runs while the relay records the previous run.
    fn send(&mut self, run: &[Message]) -> Pending {
        let (pipe, outcomes) = self.pipeline(run);
        let sent = outcomes.iter().filter(|o| o.is_none()).count();
        let finish = move |answers: Outcomes| {
            let mut answers = answers.into_iter();
            outcomes
                .into_iter()
                .map(|o| {
                    o.or_else(|| answers.next()).unwrap_or_else(|| {
                        Err(DeliveryError::Retryable("Redis gave no answer for it".into()))
                    })
                })
                .collect()
        };
        if sent == 0 {
            return Pending::ready(finish(Vec::new()));
        }
        let (reply, answer) = mpsc::channel();
        if let Err(e) = self.worker().and_then(|w| w.send((pipe, sent, reply))) {
            self.worker = None;
            let failure = DeliveryError::Retryable(format!("the Redis client thread: {e}"));
            return Pending::ready(finish(vec![Err(failure); sent]));
        }
        Pending::later(move || {
            let answers = answer.recv().unwrap_or_else(|_| {
                vec![Err(DeliveryError::Retryable("the Redis client thread stopped".into())); sent]
            });
            finish(answers)
        })
    }

    fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }
}

/// A pipeline, how many commands it holds, and where the outcome of each goes.
type Job = (redis::Pipeline, usize, mpsc::Sender<Outcomes>);

/// The thread that owns the connection and sends pipelines in the order they came.
struct Worker {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    fn start(mut link: Link) -> std::io::Result<Worker> {
        let (jobs, received) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("outboxctl-redis".into())
            .spawn(move || {
                for (pipe, sent, reply) in received {
                    let _ = reply.send(link.send(&pipe, sent));
                }
            })?;
        Ok(Worker {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    fn send(&self, job: Job) -> std::io::Result<()> {
        self.jobs
            .as_ref()
            .and_then(|jobs| jobs.send(job).ok())
            .ok_or_else(|| std::io::Error::other("it stopped"))
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing the channel ends the thread after the pipeline in progress.
        self.jobs.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A connection to Redis, opened on first use and again after any error, so a Redis that is
/// down fails deliveries (to be retried) instead of stopping the relay.
struct Link {
    url: String,
    shown_url: String,
    redactor: Redactor,
    timeout: Duration,
    /// The dedup script, loaded into each new connection.
    script: Option<redis::Script>,
    connection: Option<Connection>,
}

impl Link {
    fn fail(&self, what: &str, e: impl std::fmt::Display) -> DeliveryError {
        DeliveryError::Retryable(self.redactor.scrub(&format!("{what} ({}): {e}", self.shown_url)))
    }

    fn connection(&mut self) -> Result<&mut Connection, DeliveryError> {
        let con = match self.connection.take() {
            Some(con) => con,
            None => self.connect()?,
        };
        Ok(self.connection.insert(con))
    }

    fn connect(&self) -> Result<Connection, DeliveryError> {
        let client = redis::Client::open(self.url.as_str()).map_err(|e| self.fail("bad Redis URL", e))?;
        let mut con = client
            .get_connection_with_timeout(self.timeout)
            .map_err(|e| self.fail("cannot connect to Redis", e))?;
        con.set_read_timeout(Some(self.timeout))
            .and_then(|()| con.set_write_timeout(Some(self.timeout)))
            .map_err(|e| self.fail("cannot connect to Redis", e))?;
        if let Some(script) = &self.script
            && let Err(e) = script.load(&mut con)
        {
            return Err(self.fail("cannot load the dedup script into Redis", e));
        }
        Ok(con)
    }

    /// Sends one pipeline of `sent` commands; one outcome per command.
    fn send(&mut self, pipe: &redis::Pipeline, sent: usize) -> Outcomes {
        let answers = match self.connection() {
            Ok(con) => pipe.query::<Vec<Value>>(con).map_err(|e| e.to_string()),
            Err(e) => return vec![Err(e); sent],
        };
        let answers = match answers {
            Ok(answers) => answers,
            Err(text) => {
                // The connection is in an unknown state: start afresh next time.
                self.connection = None;
                return vec![Err(self.fail("Redis did not answer the XADD", text)); sent];
            }
        };
        answers
            .into_iter()
            .map(|answer| match answer {
                Value::ServerError(e) => {
                    let text = e.to_string();
                    // A flushed script cache: load it again on the next connection.
                    if text.contains("NOSCRIPT") {
                        self.connection = None;
                    }
                    Err(self.fail("Redis refused the XADD", text))
                }
                _ => Ok(()),
            })
            .collect()
    }
}
