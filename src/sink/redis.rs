//! Redis Streams: XADD with the fields `id`, `type` and `content` (optionally `MAXLEN ~`).
//! A batch goes out as one pipeline: one round trip for many messages, sent by a thread that
//! owns the connection, so the relay records one batch while the next is on its way.
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
use super::settings::{RedisSettings, expand};
use super::{DeliveryError, InFlight, Sink};
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
    /// Started with the first batch.
    worker: Option<Worker>,
}

impl RedisSink {
    pub fn new(s: &RedisSettings) -> Self {
        let url = s.resolved_url.0.clone();
        let script = redis::Script::new(DEDUP_SCRIPT);
        RedisSink {
            stream: s.stream.clone(),
            maxlen: s.maxlen,
            dedup: s.dedup.then(|| s.dedup_window()),
            max_in_flight: s.max_in_flight(),
            cloudevents: s.cloudevents,
            source: s.source.clone(),
            script_hash: script.get_hash().to_owned(),
            url,
            timeout: s.timeout(),
            script: s.dedup.then_some(script),
            worker: None,
        }
    }

    /// The stream entry's field/value pairs.
    fn fields(&self, m: &Message) -> Result<[(&'static str, Vec<u8>); 3], DeliveryError> {
        // Redis has no headers: CloudEvents, in either mode, travel in structured form.
        let content = match self.cloudevents {
            None => {
                serde_json::from_str::<serde_json::Value>(&m.content).map_err(|e| {
                    DeliveryError::permanent(format!("malformed content: not valid JSON ({e})"))
                })?;
                m.content.as_bytes().to_vec()
            }
            Some(_) => {
                cloudevents::encode(m, Some(CloudEventsMode::Structured), self.source.as_deref())?.body
            }
        };
        Ok([
            ("id", m.id.as_bytes().to_vec()),
            ("type", m.event_type.as_bytes().to_vec()),
            ("content", content),
        ])
    }

    /// One pipeline for the batch, and the outcomes of the messages that could not be encoded.
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
                        .arg(format!("{stream}:outbox-dedup:{}", m.id))
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

    /// Hands the batch's pipeline to the worker, which owns the connection, so the round trip
    /// runs while the relay records the previous batch.
    fn start(&mut self, messages: &[Message]) -> InFlight {
        let (pipe, outcomes) = self.pipeline(messages);
        let sent = outcomes.iter().filter(|o| o.is_none()).count();
        let finish = move |answers: Vec<Result<(), DeliveryError>>| {
            let mut answers = answers.into_iter();
            outcomes
                .into_iter()
                .map(|o| {
                    o.or_else(|| answers.next())
                        .unwrap_or_else(|| Err(DeliveryError::retryable("Redis gave no answer for it")))
                })
                .collect()
        };
        if sent == 0 {
            return Box::new(move || finish(Vec::new()));
        }
        let (reply, answer) = mpsc::channel();
        if let Err(e) = self.worker().and_then(|w| w.send((pipe, sent, reply))) {
            self.worker = None;
            let failure = DeliveryError::retryable(format!("the Redis client thread: {e}"));
            return Box::new(move || finish(vec![Err(failure); sent]));
        }
        Box::new(move || {
            let answers = answer.recv().unwrap_or_else(|_| {
                vec![Err(DeliveryError::retryable("the Redis client thread stopped")); sent]
            });
            finish(answers)
        })
    }

    fn worker(&mut self) -> std::io::Result<&Worker> {
        if self.worker.is_none() {
            self.worker = Some(Worker::start(Link {
                shown_url: redact_url(&self.url),
                redactor: Redactor::for_url(&self.url),
                url: self.url.clone(),
                timeout: self.timeout,
                script: self.script.clone(),
                connection: None,
            })?);
        }
        Ok(self.worker.as_ref().expect("started above"))
    }
}

impl Sink for RedisSink {
    fn deliver(&mut self, m: &Message) -> Result<(), DeliveryError> {
        self.start(std::slice::from_ref(m))()
            .pop()
            .expect("one outcome per message")
    }

    fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    fn deliver_batch(&mut self, messages: &[Message]) -> Vec<Result<(), DeliveryError>> {
        self.start(messages)()
    }

    fn start_batch(&mut self, messages: &[Message]) -> InFlight {
        self.start(messages)
    }
}

/// A pipeline, how many commands it holds, and where the outcome of each goes.
type Job = (
    redis::Pipeline,
    usize,
    mpsc::Sender<Vec<Result<(), DeliveryError>>>,
);

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
        DeliveryError::retryable(self.redactor.scrub(&format!("{what} ({}): {e}", self.shown_url)))
    }

    fn connection(&mut self) -> Result<&mut Connection, DeliveryError> {
        if self.connection.is_none() {
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
            self.connection = Some(con);
        }
        Ok(self.connection.as_mut().expect("connected"))
    }

    /// Sends one pipeline of `sent` commands; one outcome per command.
    fn send(&mut self, pipe: &redis::Pipeline, sent: usize) -> Vec<Result<(), DeliveryError>> {
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
