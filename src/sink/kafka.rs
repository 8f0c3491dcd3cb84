//! Kafka (rdkafka over a bundled librdkafka, no async runtime). Each message is produced with
//! the ordering key (else the outbox Id) as its record key, so one aggregate's events land in
//! one partition in order, and the outbox Id, type, ordering key and trace context as headers.
//! A message counts as delivered only once the partition leader acknowledged it with every
//! in-sync replica (`acks=all`). The producer is idempotent, so a retry inside the client never
//! writes a record twice and never reorders a partition.
//!
//! A run is handed to librdkafka in one go (`send` only queues) and its delivery reports are
//! awaited together; runs queued one after another reach each partition in that order. A
//! `ThreadedProducer` polls for the reports on a thread of its own and passes each to the run it
//! belongs to. A broker that is down fails the run's messages once `timeout`
//! (`message.timeout.ms`) is up, to be retried by the relay.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rdkafka::ClientContext;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{DeliveryResult, Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer, ProducerContext, ThreadedProducer};

use super::cloudevents;
use super::settings::{KafkaValue, ResolvedKafka, expand, is_topic_char};
use super::{DeliveryError, Pending, Sink};
use crate::model::Message;
use crate::redact::Redactor;

/// The longest topic name Kafka accepts.
const MAX_TOPIC_LEN: usize = 249;

/// How long after `timeout` a run's wait gives up on a delivery report librdkafka owes: it
/// always sends one by then, so this only guards against a bug.
const REPORT_GRACE: Duration = Duration::from_secs(5);

pub struct KafkaSink {
    settings: ResolvedKafka,
    explain: Explain,
    /// Created on first use, replaced after a fatal error.
    producer: Option<ThreadedProducer<Reports>>,
}

/// Turns librdkafka's errors into delivery errors that name the brokers and quote no secret.
#[derive(Clone)]
struct Explain {
    servers: String,
    redactor: Redactor,
}

impl Explain {
    fn text(&self, what: &str, e: &str) -> String {
        self.redactor.scrub(&format!("{what} ({}): {e}", self.servers))
    }

    fn failure(&self, failure: Failure, last_error: Option<String>) -> DeliveryError {
        if permanent(failure.code) {
            return DeliveryError::Permanent(self.text("Kafka refused the message", &failure.reason));
        }
        // A timeout alone does not say why: the client's last error (a refused connection)
        // usually does.
        let reason = match (failure.code, last_error) {
            (Some(RDKafkaErrorCode::MessageTimedOut), Some(last)) => {
                format!("{} (last client error: {last})", failure.reason)
            }
            _ => failure.reason,
        };
        DeliveryError::Retryable(self.text("producing to Kafka", &reason))
    }
}

/// What a message's delivery report says.
type Report = (usize, Result<(), Failure>);

/// Why a message was not acknowledged: librdkafka's error code and its text.
#[derive(Debug, Clone)]
struct Failure {
    code: Option<RDKafkaErrorCode>,
    reason: String,
}

/// Where a delivery report goes: the run's channel, under the message's place in the run.
struct Ticket {
    index: usize,
    tx: Sender<Report>,
}

/// The producer's callbacks: delivery reports to their runs, client errors and log lines to
/// the log (scrubbed), the last client error kept to explain a timeout.
struct Reports {
    redactor: Redactor,
    last_error: Arc<Mutex<Option<String>>>,
    /// Set when the producer's idempotence state may no longer match the broker's: a message
    /// timed out (a broker restarted without it, say), or a run gave up waiting. Such a
    /// producer can stall every later message until it times out too, so the next run gets a
    /// new one.
    stale: Arc<AtomicBool>,
}

impl ClientContext for Reports {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, line: &str) {
        let line = self.redactor.scrub(line);
        // librdkafka's errors reach outboxctl as delivery reports, reported there once.
        match level {
            RDKafkaLogLevel::Emerg | RDKafkaLogLevel::Alert | RDKafkaLogLevel::Critical => {
                tracing::error!(target: "rdkafka", "librdkafka {facility}: {line}")
            }
            RDKafkaLogLevel::Error | RDKafkaLogLevel::Warning => {
                tracing::warn!(target: "rdkafka", "librdkafka {facility}: {line}")
            }
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(target: "rdkafka", "librdkafka {facility}: {line}")
            }
            RDKafkaLogLevel::Debug => tracing::debug!(target: "rdkafka", "librdkafka {facility}: {line}"),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        let reason = self.redactor.scrub(reason);
        tracing::debug!(target: "rdkafka", "librdkafka: {error}: {reason}");
        let mut last = self.last_error.lock().unwrap_or_else(PoisonError::into_inner);
        // "All brokers are down" follows the error that says why (a refused connection).
        let all_down = error.rdkafka_error_code() == Some(RDKafkaErrorCode::AllBrokersDown);
        if !(all_down && last.is_some()) {
            *last = Some(reason);
        }
    }
}

impl ProducerContext for Reports {
    type DeliveryOpaque = Box<Ticket>;

    fn delivery(&self, result: &DeliveryResult<'_>, ticket: Box<Ticket>) {
        if let Err((e, _)) = result
            && matches!(
                e.rdkafka_error_code(),
                Some(
                    RDKafkaErrorCode::MessageTimedOut
                        | RDKafkaErrorCode::OutOfOrderSequenceNumber
                        | RDKafkaErrorCode::UnknownProducerId
                        | RDKafkaErrorCode::InvalidProducerEpoch
                )
            )
        {
            self.stale.store(true, Ordering::Relaxed);
        }
        let outcome = result.as_ref().map(|_| ()).map_err(|(e, _)| Failure {
            code: e.rdkafka_error_code(),
            reason: e
                .rdkafka_error_code()
                .map_or_else(|| e.to_string(), |c| c.to_string()),
        });
        // The run may have stopped waiting (it timed out): nothing to tell then.
        let _ = ticket.tx.send((ticket.index, outcome));
    }
}

/// Whether trying again cannot help: the topic does not exist, the producer may not write to
/// it, or the record is too large for the broker.
fn permanent(code: Option<RDKafkaErrorCode>) -> bool {
    use RDKafkaErrorCode as C;
    matches!(
        code,
        Some(
            C::UnknownTopicOrPartition
                | C::UnknownTopic
                | C::UnknownPartition
                | C::InvalidTopic
                | C::TopicAuthorizationFailed
                | C::ClusterAuthorizationFailed
                | C::MessageSizeTooLarge
                | C::MessageBatchTooLarge
                | C::InvalidRecord
                | C::PolicyViolation
        )
    )
}

/// A message ready to produce: its topic, key, headers and value.
struct Prepared {
    topic: String,
    key: String,
    headers: OwnedHeaders,
    value: Vec<u8>,
}

impl KafkaSink {
    pub fn new(s: &ResolvedKafka) -> Self {
        let mut redactor = Redactor::default();
        if let Some(password) = &s.sasl_password {
            redactor.add_secret(&password.0);
        }
        redactor.add_named_values(&s.options);
        KafkaSink {
            explain: Explain {
                servers: s.bootstrap_servers.clone(),
                redactor,
            },
            settings: s.clone(),
            producer: None,
        }
    }

    /// The producer, created on first use. Creating it does not connect (librdkafka connects in
    /// the background), so a broker that is down fails deliveries, to be retried, instead of
    /// stopping the relay from starting.
    fn producer(&self) -> Result<ThreadedProducer<Reports>, DeliveryError> {
        let s = &self.settings;
        let mut config = ClientConfig::new();
        // The settings' own first, so a passed-through property can refine the defaults below
        // but never what makes a delivery a delivery (resolve refuses those names).
        config
            .set("client.id", "outboxctl")
            // Java's default partitioner: a key lands where a Java producer would put it too.
            .set("partitioner", "murmur2_random")
            // A run is handed over whole: waiting for more records would only delay it (the
            // relay's throughput doubles against the 5 ms default).
            .set("linger.ms", "0")
            // An unknown topic fails (for good) well before the message times out.
            .set(
                "topic.metadata.propagation.max.ms",
                (s.timeout / 2).as_millis().to_string(),
            );
        for (name, value) in &s.options {
            config.set(name, value);
        }
        config
            .set("bootstrap.servers", &s.bootstrap_servers)
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set("message.timeout.ms", s.timeout.as_millis().to_string())
            // Room for two runs in flight, as the relay pipelines them.
            .set(
                "queue.buffering.max.messages",
                (2 * s.max_in_flight).max(100_000).to_string(),
            );
        if let Some(password) = &s.sasl_password {
            config.set("sasl.password", &password.0);
        }
        let level = if tracing::enabled!(target: "rdkafka", tracing::Level::DEBUG) {
            RDKafkaLogLevel::Debug
        } else if tracing::enabled!(target: "rdkafka", tracing::Level::INFO) {
            RDKafkaLogLevel::Info
        } else {
            RDKafkaLogLevel::Warning
        };
        config.set_log_level(level);
        let context = Reports {
            redactor: self.explain.redactor.clone(),
            last_error: Arc::default(),
            stale: Arc::default(),
        };
        config.create_with_context(context).map_err(|e| {
            let why = match e {
                // Its Display quotes the value, which may be a secret.
                KafkaError::ClientConfig(_, desc, key, _) => format!("{key}: {desc}"),
                other => other.to_string(),
            };
            DeliveryError::Retryable(self.explain.text("cannot create the Kafka producer", &why))
        })
    }

    /// Fails permanently when the content cannot be encoded or the type makes no topic name.
    fn prepare(&self, m: &Message) -> Result<Prepared, DeliveryError> {
        let s = &self.settings;
        let encoded = match (s.cloudevents, s.value) {
            // The event itself: its id, type, key and trace go in headers.
            (None, KafkaValue::Content) => {
                serde_json::from_str::<&serde_json::value::RawValue>(&m.content)
                    .map_err(|e| DeliveryError::malformed(format_args!("not valid JSON ({e})")))?;
                cloudevents::Encoded {
                    body: m.content.as_bytes().to_vec(),
                    content_type: "application/json",
                    attributes: Vec::new(),
                }
            }
            (mode, _) => cloudevents::encode(m, mode, s.source.as_deref())?,
        };
        let topic = expand(&s.topic, &m.event_type);
        if topic.is_empty()
            || topic.len() > MAX_TOPIC_LEN
            || matches!(topic.as_str(), "." | "..")
            || !topic.chars().all(is_topic_char)
        {
            return Err(DeliveryError::Permanent(format!(
                "type {} makes an invalid Kafka topic name",
                m.event_type
            )));
        }
        let header = |headers: OwnedHeaders, key: &str, value: &str| {
            headers.insert(Header {
                key,
                value: Some(value),
            })
        };
        let mut headers = header(OwnedHeaders::new(), "outbox-id", &m.id);
        headers = header(headers, "outbox-type", &m.event_type);
        // A replay's fresh delivery id (`replay --new-delivery-id`), beside the message id.
        if let Some(id) = &m.delivery_id {
            headers = header(headers, "outbox-delivery-id", id);
        }
        if let Some(key) = &m.key {
            headers = header(headers, "outbox-ordering-key", key);
        }
        if let Some((parent, state)) = m.trace() {
            headers = header(headers, "traceparent", parent);
            if let Some(state) = state {
                headers = header(headers, "tracestate", state);
            }
        }
        // The CloudEvents Kafka binding: `content-type`, and in binary mode `ce_` attributes.
        headers = header(headers, "content-type", encoded.content_type);
        for (name, value) in &encoded.attributes {
            headers = header(headers, &format!("ce_{name}"), value);
        }
        Ok(Prepared {
            topic,
            key: m.key.clone().unwrap_or_else(|| m.id.clone()),
            headers,
            value: encoded.body,
        })
    }

    /// Queues one record; waits for room while librdkafka's queue is full, up to `deadline`.
    fn produce(
        &self,
        producer: &ThreadedProducer<Reports>,
        p: Prepared,
        ticket: Ticket,
        deadline: Instant,
    ) -> Result<(), Failure> {
        let mut record = BaseRecord::with_opaque_to(&p.topic, Box::new(ticket))
            .key(&p.key)
            .payload(&p.value)
            .headers(p.headers);
        loop {
            match producer.send(record) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back))
                    if Instant::now() < deadline =>
                {
                    record = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err((e, _)) => {
                    let code = e.rdkafka_error_code();
                    return Err(Failure {
                        code,
                        reason: code.map_or_else(|| e.to_string(), |c| c.to_string()),
                    });
                }
            }
        }
    }
}

impl Sink for KafkaSink {
    /// Queues the run in librdkafka and returns at once; the outcomes come with the delivery
    /// reports.
    fn send(&mut self, run: &[Message]) -> Pending {
        // A producer with a fatal error produces nothing more, and one whose idempotence state
        // may be out of step with the broker's can stall: either is replaced (what it still
        // holds fails, to be retried).
        if let Some(p) = &self.producer {
            if let Some((code, reason)) = p.client().fatal_error() {
                let why = format!("{code}: {reason}");
                tracing::warn!("{}", self.explain.text("the Kafka producer failed", &why));
                self.producer = None;
            } else if p.context().stale.load(Ordering::Relaxed) {
                tracing::debug!(
                    "{}",
                    self.explain.text("a new Kafka producer", "messages timed out")
                );
                self.producer = None;
            }
        }
        let producer = match self.producer.take().map_or_else(|| self.producer(), Ok) {
            Ok(p) => self.producer.insert(p),
            Err(e) => return Pending::failed(run.len(), e),
        };
        let last_error = Arc::clone(&producer.context().last_error);
        let stale = Arc::clone(&producer.context().stale);
        let deadline = Instant::now() + self.settings.timeout;
        let (tx, rx): (Sender<Report>, Receiver<Report>) = mpsc::channel();
        let mut outcomes: Vec<Option<Result<(), DeliveryError>>> = vec![None; run.len()];
        let mut queued = 0;
        let mut stopped: Option<DeliveryError> = None;
        let producer = self.producer.as_ref().expect("just inserted");
        for (index, m) in run.iter().enumerate() {
            // After a record that could not be queued, the rest of the run is not queued
            // either: a later message of the same key must not overtake it.
            if let Some(e) = &stopped {
                outcomes[index] = Some(Err(e.clone()));
                continue;
            }
            let prepared = match self.prepare(m) {
                Ok(p) => p,
                Err(e) => {
                    outcomes[index] = Some(Err(e));
                    continue;
                }
            };
            let ticket = Ticket {
                index,
                tx: tx.clone(),
            };
            match self.produce(producer, prepared, ticket, deadline) {
                Ok(()) => queued += 1,
                Err(failure) if permanent(failure.code) => {
                    // Refused before it was queued (too large): that message alone.
                    outcomes[index] = Some(Err(self.explain.failure(failure, None)));
                }
                Err(failure) => {
                    let e = self.explain.failure(failure, None);
                    outcomes[index] = Some(Err(e.clone()));
                    stopped = Some(e);
                }
            }
        }
        drop(tx);
        let explain = self.explain.clone();
        Pending::later(move || {
            let give_up = deadline + REPORT_GRACE;
            for _ in 0..queued {
                let left = give_up.saturating_duration_since(Instant::now());
                match rx.recv_timeout(left) {
                    Ok((index, outcome)) => {
                        let last = || last_error.lock().unwrap_or_else(PoisonError::into_inner).clone();
                        outcomes[index] = Some(outcome.map_err(|f| explain.failure(f, last())));
                    }
                    Err(_) => {
                        stale.store(true, Ordering::Relaxed);
                        break;
                    }
                }
            }
            outcomes
                .into_iter()
                .map(|o| {
                    o.unwrap_or_else(|| {
                        Err(DeliveryError::Retryable(explain.text(
                            "producing to Kafka",
                            "no delivery report within the timeout",
                        )))
                    })
                })
                .collect()
        })
    }

    fn max_in_flight(&self) -> usize {
        self.settings.max_in_flight
    }
}

impl Drop for KafkaSink {
    /// Waits briefly for what is still queued, so a relay that stops does not throw away
    /// records it may already have been told were delivered.
    fn drop(&mut self) {
        if let Some(p) = &self.producer {
            let _ = p.flush(Duration::from_secs(2));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::settings::KafkaSettings;
    use super::*;

    fn resolve(toml_text: &str) -> Result<ResolvedKafka, String> {
        let s: KafkaSettings = toml::from_str(toml_text).unwrap();
        s.resolve(&|var| match var {
            "KAFKA_SERVERS" => Some(" k1:9092, k2:9093 ".into()),
            "KAFKA_PASSWORD" => Some("s3cret-pw\n".into()),
            _ => None,
        })
    }

    #[test]
    fn servers_come_from_the_settings_or_the_environment_and_the_password_from_either() {
        let r = resolve("topic = \"events.{type}\"").unwrap();
        assert_eq!(r.bootstrap_servers, "127.0.0.1:9092");
        assert_eq!((r.timeout, r.max_in_flight), (Duration::from_secs(10), 1000));
        let r = resolve(
            "topic = \"t\"\nbootstrap_servers_env = \"KAFKA_SERVERS\"\nsasl_password_env = \"KAFKA_PASSWORD\"\n\
             [options]\n\"security.protocol\" = \"sasl_plaintext\"\n\"sasl.mechanism\" = \"PLAIN\"\n\
             \"sasl.username\" = \"relay\"\n\"linger.ms\" = 1\n\"socket.keepalive.enable\" = true",
        )
        .unwrap();
        assert_eq!(r.bootstrap_servers, "k1:9092,k2:9093");
        assert_eq!(r.sasl_password.as_ref().map(|p| p.0.as_str()), Some("s3cret-pw"));
        assert_eq!(r.options["linger.ms"], "1");
        assert_eq!(r.options["socket.keepalive.enable"], "true");
        assert!(!format!("{r:?}").contains("s3cret-pw"));
        let r = resolve("topic = \"t\"\n[options]\n\"sasl.password\" = \"inline-pw\"").unwrap();
        assert_eq!(r.sasl_password.as_ref().map(|p| p.0.as_str()), Some("inline-pw"));
        assert!(!r.options.contains_key("sasl.password"));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "from-file\n").unwrap();
        let r = resolve(&format!(
            "topic = \"t\"\nsasl_password_file = \"{}\"",
            file.display()
        ))
        .unwrap();
        assert_eq!(r.sasl_password.as_ref().map(|p| p.0.as_str()), Some("from-file"));
    }

    #[test]
    fn bad_settings_are_one_line_errors_that_never_quote_the_password() {
        let err = |t: &str| {
            let e = resolve(t).unwrap_err();
            assert!(!e.contains('\n') && !e.contains("s3cret-pw"), "{e}");
            e
        };
        assert_eq!(err("topic = \"\""), "topic must not be empty");
        assert!(err("topic = \"a/{type}\"").contains("topic may only contain"));
        assert!(err("topic = \"t\"\nbootstrap_servers = \"k1\"").contains("host:port"));
        assert!(err("topic = \"t\"\nbootstrap_servers = \"k1:9092,\"").contains("host:port"));
        assert!(err("topic = \"t\"\nbootstrap_servers_env = \"NOPE\"").contains("NOPE, which is not set"));
        assert!(
            err("topic = \"t\"\nbootstrap_servers = \"k:1\"\nbootstrap_servers_env = \"KAFKA_SERVERS\"")
                .contains("not both")
        );
        assert_eq!(
            err("topic = \"t\"\nmax_in_flight = 0"),
            "max_in_flight must be 1 to 100000"
        );
        assert_eq!(
            err("topic = \"t\"\ntimeout = \"10ms\""),
            "timeout must be 1s to 1h"
        );
        assert!(err("topic = \"t\"\n[options]\nacks = \"1\"").contains("options may not set acks"));
        assert!(err("topic = \"t\"\n[options]\n\"enable.idempotence\" = false").contains("always on"));
        assert!(err("topic = \"t\"\n[options]\n\"message.timeout.ms\" = 5").contains("use timeout"));
        assert!(err("topic = \"t\"\n[options]\n\"sasl.mechanism\" = \"GSSAPI\"").contains("not supported"));
        assert!(err("topic = \"t\"\n[options]\n\"linger.mss\" = 5").contains("linger.mss"));
        assert!(err("topic = \"t\"\n[options]\n\"linger.ms\" = \"soon\"").starts_with("options: "));
        assert!(err("topic = \"t\"\n[options]\n\"max.in.flight\" = 6").contains("1 to 5"));
        assert!(
            err(
                "topic = \"t\"\nsasl_password_env = \"KAFKA_PASSWORD\"\n[options]\n\"sasl.password\" = \"x\""
            )
            .contains("not both")
        );
        assert!(err("topic = \"t\"\nsasl_password_env = \"NOPE\"").contains("NOPE, which is not set"));
        assert!(err("topic = \"t\"\nsasl_password_file = \"/nonexistent/pw\"").contains("cannot read"));
    }

    #[test]
    fn what_retrying_cannot_fix_is_permanent() {
        assert!(permanent(Some(RDKafkaErrorCode::UnknownTopicOrPartition)));
        assert!(permanent(Some(RDKafkaErrorCode::TopicAuthorizationFailed)));
        assert!(permanent(Some(RDKafkaErrorCode::MessageSizeTooLarge)));
        assert!(!permanent(Some(RDKafkaErrorCode::MessageTimedOut)));
        assert!(!permanent(Some(RDKafkaErrorCode::NotEnoughReplicas)));
        assert!(!permanent(None));
    }

    #[test]
    fn a_type_that_makes_no_topic_name_fails_that_message_for_good() {
        let sink = KafkaSink::new(&resolve("topic = \"events.{type}\"").unwrap());
        let mut m = Message::new("0190-abc", "Order Placed", "{}");
        assert!(matches!(sink.prepare(&m), Err(DeliveryError::Permanent(_))));
        m.event_type = "OrderPlaced".into();
        let p = sink.prepare(&m).unwrap();
        assert_eq!(
            (p.topic.as_str(), p.key.as_str()),
            ("events.OrderPlaced", m.id.as_str())
        );
    }
}
