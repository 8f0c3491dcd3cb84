//! Redis Streams: XADD with the fields `id`, `type` and `content` (optionally `MAXLEN ~`).
//! A batch goes out as one pipeline: one round trip for many messages.
//!
//! Redis does not deduplicate stream entries: a message delivered again (the relay crashed after
//! the XADD, before marking it processed) is added twice. With `dedup = true`, a script adds
//! the entry only when no marker key for the Id exists, and sets the marker (expiring after
//! `dedup_window`) in the same atomic step.

use std::time::Duration;

use redis::{Connection, Value};

use super::cloudevents::{self, CloudEventsMode};
use super::redact::{Redactor, redact_url};
use super::settings::{RedisSettings, expand};
use super::{DeliveryError, Sink};
use crate::model::Message;

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
    url: String,
    shown_url: String,
    stream: String,
    maxlen: Option<u64>,
    dedup: Option<Duration>,
    timeout: Duration,
    max_in_flight: usize,
    cloudevents: Option<CloudEventsMode>,
    source: Option<String>,
    redactor: Redactor,
    script: redis::Script,
    connection: Option<Connection>,
}

impl RedisSink {
    pub fn new(s: &RedisSettings) -> Self {
        let url = s.resolved_url.0.clone();
        RedisSink {
            shown_url: redact_url(&url),
            redactor: Redactor::for_url(&url),
            url,
            stream: s.stream.clone(),
            maxlen: s.maxlen,
            dedup: s.dedup.then(|| s.dedup_window()),
            timeout: s.timeout(),
            max_in_flight: s.max_in_flight(),
            cloudevents: s.cloudevents,
            source: s.source.clone(),
            script: redis::Script::new(DEDUP_SCRIPT),
            connection: None,
        }
    }

    fn fail(&self, what: &str, e: impl std::fmt::Display) -> DeliveryError {
        DeliveryError::retryable(self.redactor.scrub(&format!("{what} ({}): {e}", self.shown_url)))
    }

    /// Connects on first use and after any connection error, so a Redis that is down fails
    /// deliveries (to be retried) instead of stopping the relay.
    fn connection(&mut self) -> Result<&mut Connection, DeliveryError> {
        if self.connection.is_none() {
            let client = redis::Client::open(self.url.as_str()).map_err(|e| self.fail("bad Redis URL", e))?;
            let con = client
                .get_connection_with_timeout(self.timeout)
                .map_err(|e| self.fail("cannot connect to Redis", e))?;
            con.set_read_timeout(Some(self.timeout))
                .and_then(|()| con.set_write_timeout(Some(self.timeout)))
                .map_err(|e| self.fail("cannot connect to Redis", e))?;
            self.connection = Some(con);
            if self.dedup.is_some() {
                let script = self.script.clone();
                let loaded = script.load(self.connection.as_mut().expect("just set"));
                if let Err(e) = loaded {
                    self.connection = None;
                    return Err(self.fail("cannot load the dedup script into Redis", e));
                }
            }
        }
        Ok(self.connection.as_mut().expect("connected"))
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

    fn add_all(&mut self, messages: &[Message]) -> Vec<Result<(), DeliveryError>> {
        let mut outcomes: Vec<Option<Result<(), DeliveryError>>> = vec![None; messages.len()];
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        let mut sent = Vec::new();
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
                    cmd.arg(self.script.get_hash())
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
            sent.push(i);
        }
        if !sent.is_empty() {
            let answers = match self.connection() {
                Ok(con) => match pipe.query::<Vec<Value>>(con) {
                    Ok(answers) => Ok(answers),
                    Err(e) => {
                        let text = e.to_string();
                        Err(self.fail("Redis did not answer the XADD", text))
                    }
                },
                Err(e) => Err(e),
            };
            match answers {
                Ok(answers) => {
                    for (i, answer) in sent.iter().zip(answers) {
                        outcomes[*i] = Some(match answer {
                            Value::ServerError(e) => {
                                let text = e.to_string();
                                // A flushed script cache: load it again on the next connection.
                                if text.contains("NOSCRIPT") {
                                    self.connection = None;
                                }
                                Err(self.fail("Redis refused the XADD", text))
                            }
                            _ => Ok(()),
                        });
                    }
                }
                Err(e) => {
                    // The connection is in an unknown state: start afresh next time.
                    self.connection = None;
                    for i in &sent {
                        outcomes[*i] = Some(Err(e.clone()));
                    }
                }
            }
        }
        outcomes
            .into_iter()
            .map(|o| o.expect("every message has an outcome"))
            .collect()
    }
}

impl Sink for RedisSink {
    fn deliver(&mut self, m: &Message) -> Result<(), DeliveryError> {
        self.add_all(std::slice::from_ref(m))
            .pop()
            .expect("one outcome per message")
    }

    fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    fn deliver_batch(&mut self, messages: &[Message]) -> Vec<Result<(), DeliveryError>> {
        self.add_all(messages)
    }
}
