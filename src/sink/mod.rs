//! Destinations: where a message goes to count as delivered. One implementation per kind, all
//! behind [`Sink`]; the [`Router`] picks the sinks of a message from its type.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::Message;

mod builtin;
pub mod cloudevents;
mod exec;
#[cfg(feature = "http")]
mod http;
#[cfg(feature = "kafka")]
mod kafka;
#[cfg(feature = "mqtt")]
mod mqtt;
#[cfg(feature = "nats")]
mod nats;
#[cfg(feature = "rabbitmq")]
mod rabbitmq;
#[cfg(feature = "redis")]
mod redis;
#[cfg(any(feature = "nats", feature = "rabbitmq", feature = "mqtt"))]
mod runtime;
pub mod settings;
#[cfg(feature = "http")]
mod signing;

pub use builtin::{LogSink, NoopSink};
pub use exec::ExecSink;
pub use settings::{
    HttpSettings, KafkaSettings, MqttSettings, NatsSettings, RabbitmqSettings, RedisSettings,
};

/// Sinks that exist without configuration.
pub const BUILTIN: &[&str] = &["log", "noop"];

/// Why a delivery failed, which decides what becomes of the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Trying again may help (the destination is down, the handler failed): retried with backoff.
    #[error("{0}")]
    Retryable(String),
    /// The destination asked to be called again no sooner than `after` (`Retry-After`).
    #[error("{message}")]
    RetryAfter { message: String, after: Duration },
    /// Trying again cannot help (malformed content, a 4xx answer): the message goes dead now.
    #[error("{0}")]
    Permanent(String),
}

/// How every sink starts the error of content it cannot encode: the message's own fault.
const MALFORMED: &str = "malformed content: ";

impl DeliveryError {
    /// Content the sink cannot encode: a permanent failure of that message alone.
    pub fn malformed(why: impl std::fmt::Display) -> Self {
        DeliveryError::Permanent(format!("{MALFORMED}{why}"))
    }

    /// Whether the failure is the message's own (its content), not the destination's: the
    /// circuit breaker does not count it.
    pub fn is_malformed(&self) -> bool {
        matches!(self, DeliveryError::Permanent(m) if m.starts_with(MALFORMED))
    }

    /// What went wrong, for `Error` and the logs.
    pub fn message(&self) -> &str {
        match self {
            DeliveryError::Retryable(m) | DeliveryError::Permanent(m) => m,
            DeliveryError::RetryAfter { message, .. } => message,
        }
    }
}

/// The outcome of each message of a run, in the run's order.
pub type Outcomes = Vec<Result<(), DeliveryError>>;

/// A run handed to a sink. A sink that delivers while it is called returns its outcomes
/// [`ready`](Pending::ready); one that pipelines returns at once and gives them from
/// [`wait`](Pending::wait), so the relay records the previous run in the meantime.
#[must_use = "a run's outcomes must be waited for and recorded"]
pub struct Pending(Box<dyn FnOnce() -> Outcomes>);

impl Pending {
    pub fn ready(outcomes: Outcomes) -> Self {
        Pending(Box::new(move || outcomes))
    }

    /// Outcomes still on their way; `wait` blocks on them.
    pub fn later(wait: impl FnOnce() -> Outcomes + 'static) -> Self {
        Pending(Box::new(wait))
    }

    /// Every message of a run of `len` failed the same way, e.g. with no connection.
    pub fn failed(len: usize, error: DeliveryError) -> Self {
        Pending::ready(vec![Err(error); len])
    }

    /// Blocks until every message of the run has its outcome.
    pub fn wait(self) -> Outcomes {
        (self.0)()
    }
}

/// A destination.
///
/// `send` hands it a run of messages (a single delivery is a run of one) and returns what waits
/// for their outcomes, one per message in the same order. An Ok outcome means the destination
/// has accepted the message: the relay marks it processed after that and never before.
///
/// A sink may return before the outcomes are in (pipelining, asynchronous acknowledgements).
/// The relay sends the next run before it waits for the previous one, so runs sent one after
/// another must reach the destination in that order. It never has more than two outstanding.
pub trait Sink {
    fn send(&mut self, run: &[Message]) -> Pending;

    /// The most messages one run may hold. 1, the default, suits a sink that delivers one
    /// message at a time: the relay then sends it runs of one.
    fn max_in_flight(&self) -> usize {
        1
    }
}

/// How a sink is configured under `[sinks.NAME]`, as written. [`SinkConfig::resolve`] checks it
/// and turns it into the [`ResolvedSink`] that builds the sink.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum SinkConfig {
    /// Run a command with the message as JSON on stdin.
    Exec {
        command: Vec<String>,
        #[serde(default, deserialize_with = "crate::duration::de_option", skip_serializing)]
        timeout: Option<Duration>,
        #[serde(default)]
        env: BTreeMap<String, String>,
    },
    /// Log the message (the sample handler: for UserRegistered, the welcome email it would send).
    Log,
    /// Accept and drop the message.
    Noop,
    /// POST to a webhook, signed the Standard Webhooks way (feature `http`).
    Http(HttpSettings),
    /// Publish to NATS JetStream, deduplicated by `Nats-Msg-Id` (feature `nats`).
    Nats(NatsSettings),
    /// XADD to a Redis stream (feature `redis`).
    Redis(RedisSettings),
    /// Publish to a RabbitMQ exchange with publisher confirms (feature `rabbitmq`).
    Rabbitmq(RabbitmqSettings),
    /// Publish to an MQTT 5 broker with QoS 1 or 2 (feature `mqtt`).
    Mqtt(MqttSettings),
    /// Produce to Kafka with acks=all, idempotently (feature `kafka`).
    Kafka(KafkaSettings),
}

impl SinkConfig {
    pub const DEFAULT_EXEC_TIMEOUT: Duration = Duration::from_secs(30);

    /// Checks the settings and completes them from the environment and from files, once, when
    /// the config is loaded (`env` looks a variable up: config.rs passes the one reader of the
    /// environment). Fails with a one-line reason, never quoting a secret; a kind whose feature
    /// is not built in fails here too.
    #[cfg_attr(
        not(any(
            feature = "http",
            feature = "nats",
            feature = "redis",
            feature = "rabbitmq",
            feature = "mqtt",
            feature = "kafka"
        )),
        allow(unused_variables)
    )]
    pub fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<ResolvedSink, String> {
        match self {
            SinkConfig::Exec {
                command,
                timeout,
                env: vars,
            } => {
                let Some((program, args)) = command.split_first() else {
                    return Err("command must name a program".into());
                };
                Ok(ResolvedSink::Exec {
                    program: program.clone(),
                    args: args.to_vec(),
                    timeout: timeout.unwrap_or(Self::DEFAULT_EXEC_TIMEOUT),
                    env: vars.clone(),
                })
            }
            SinkConfig::Log => Ok(ResolvedSink::Log),
            SinkConfig::Noop => Ok(ResolvedSink::Noop),
            #[cfg(feature = "http")]
            SinkConfig::Http(s) => s.resolve(env).map(ResolvedSink::Http),
            #[cfg(feature = "nats")]
            SinkConfig::Nats(s) => s.resolve(env).map(ResolvedSink::Nats),
            #[cfg(feature = "redis")]
            SinkConfig::Redis(s) => s.resolve(env).map(ResolvedSink::Redis),
            #[cfg(feature = "rabbitmq")]
            SinkConfig::Rabbitmq(s) => s.resolve(env).map(ResolvedSink::Rabbitmq),
            #[cfg(feature = "mqtt")]
            SinkConfig::Mqtt(s) => s.resolve(env).map(ResolvedSink::Mqtt),
            #[cfg(feature = "kafka")]
            SinkConfig::Kafka(s) => s.resolve(env).map(ResolvedSink::Kafka),
            #[allow(unreachable_patterns)]
            other => Err(format!(
                "kind = \"{0}\" needs outboxctl built with the `{0}` feature (cargo build --features {0})",
                other.kind()
            )),
        }
    }

    /// The `kind` as written in the config file.
    pub fn kind(&self) -> &'static str {
        match self {
            SinkConfig::Exec { .. } => "exec",
            SinkConfig::Log => "log",
            SinkConfig::Noop => "noop",
            SinkConfig::Http(_) => "http",
            SinkConfig::Nats(_) => "nats",
            SinkConfig::Redis(_) => "redis",
            SinkConfig::Rabbitmq(_) => "rabbitmq",
            SinkConfig::Mqtt(_) => "mqtt",
            SinkConfig::Kafka(_) => "kafka",
        }
    }
}

/// A sink's settings checked and completed by [`SinkConfig::resolve`]: everything building the
/// sink takes, so building cannot fail. Only the kinds built in exist.
#[derive(Debug, Clone)]
pub enum ResolvedSink {
    Exec {
        program: String,
        args: Vec<String>,
        timeout: Duration,
        env: BTreeMap<String, String>,
    },
    Log,
    Noop,
    #[cfg(feature = "http")]
    Http(settings::ResolvedHttp),
    #[cfg(feature = "nats")]
    Nats(settings::ResolvedNats),
    #[cfg(feature = "redis")]
    Redis(settings::ResolvedRedis),
    #[cfg(feature = "rabbitmq")]
    Rabbitmq(settings::ResolvedRabbitmq),
    #[cfg(feature = "mqtt")]
    Mqtt(settings::ResolvedMqtt),
    #[cfg(feature = "kafka")]
    Kafka(settings::ResolvedKafka),
}

impl ResolvedSink {
    /// Adds every credential these settings hold to `r`: URL passwords and tokens, webhook
    /// signing secrets, secret-looking headers and exec variables.
    pub fn add_secrets(&self, r: &mut crate::redact::Redactor) {
        match self {
            ResolvedSink::Exec { env, .. } => r.add_named_values(env),
            ResolvedSink::Log | ResolvedSink::Noop => {}
            #[cfg(feature = "http")]
            ResolvedSink::Http(s) => {
                r.add_url(&s.url.0);
                if let Some(secret) = &s.secret {
                    r.add_secret(&secret.0);
                    r.add_secret(secret.0.strip_prefix("whsec_").unwrap_or(&secret.0));
                }
                r.add_named_values(&s.headers);
            }
            #[cfg(feature = "nats")]
            ResolvedSink::Nats(s) => r.add_url(&s.url.0),
            #[cfg(feature = "redis")]
            ResolvedSink::Redis(s) => r.add_url(&s.url.0),
            #[cfg(feature = "rabbitmq")]
            ResolvedSink::Rabbitmq(s) => r.add_url(&s.url.0),
            #[cfg(feature = "mqtt")]
            ResolvedSink::Mqtt(s) => {
                r.add_url(&s.url.0);
                if let Some(password) = &s.password {
                    r.add_secret(&password.0);
                }
            }
            #[cfg(feature = "kafka")]
            ResolvedSink::Kafka(s) => {
                if let Some(password) = &s.sasl_password {
                    r.add_secret(&password.0);
                }
                r.add_named_values(&s.options);
            }
        }
    }

    /// The longest a delivery (or a run in flight) may take, if bounded.
    pub fn timeout(&self) -> Option<Duration> {
        match self {
            ResolvedSink::Exec { timeout, .. } => Some(*timeout),
            ResolvedSink::Log | ResolvedSink::Noop => None,
            #[cfg(feature = "http")]
            ResolvedSink::Http(s) => Some(s.timeout),
            #[cfg(feature = "nats")]
            ResolvedSink::Nats(s) => Some(s.timeout),
            #[cfg(feature = "redis")]
            ResolvedSink::Redis(s) => Some(s.timeout),
            #[cfg(feature = "rabbitmq")]
            ResolvedSink::Rabbitmq(s) => Some(s.timeout),
            #[cfg(feature = "mqtt")]
            ResolvedSink::Mqtt(s) => Some(s.timeout),
            #[cfg(feature = "kafka")]
            ResolvedSink::Kafka(s) => Some(s.timeout),
        }
    }

    fn build(&self) -> Box<dyn Sink> {
        match self {
            ResolvedSink::Exec {
                program,
                args,
                timeout,
                env,
            } => Box::new(ExecSink::new(
                program.clone(),
                args.clone(),
                *timeout,
                env.clone(),
            )),
            ResolvedSink::Log => Box::new(LogSink),
            ResolvedSink::Noop => Box::new(NoopSink),
            #[cfg(feature = "http")]
            ResolvedSink::Http(s) => Box::new(http::HttpSink::new(s)),
            #[cfg(feature = "nats")]
            ResolvedSink::Nats(s) => Box::new(nats::NatsSink::new(s)),
            #[cfg(feature = "redis")]
            ResolvedSink::Redis(s) => Box::new(redis::RedisSink::new(s)),
            #[cfg(feature = "rabbitmq")]
            ResolvedSink::Rabbitmq(s) => Box::new(rabbitmq::RabbitmqSink::new(s)),
            #[cfg(feature = "mqtt")]
            ResolvedSink::Mqtt(s) => Box::new(mqtt::MqttSink::new(s)),
            #[cfg(feature = "kafka")]
            ResolvedSink::Kafka(s) => Box::new(kafka::KafkaSink::new(s)),
        }
    }
}

/// The message as destinations receive it: the exec handler's stdin, a webhook's body.
#[derive(Debug, Serialize)]
pub struct Envelope<'a> {
    pub id: &'a str,
    #[serde(rename = "type")]
    pub event_type: &'a str,
    pub occurred_on: Option<String>,
    pub attempt: i64,
    /// The ordering key, when the message has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<&'a str>,
    /// A replay's fresh delivery id (`replay --new-delivery-id`); `id` stays the message's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_id: Option<&'a str>,
    /// The W3C Trace Context the application wrote with it, when valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracestate: Option<&'a str>,
    /// The stored JSON as it is: checked, not parsed into a tree and written out again.
    pub content: &'a serde_json::value::RawValue,
}

impl<'a> Envelope<'a> {
    /// Fails permanently when the stored content is not JSON: retrying cannot fix it.
    pub fn of(m: &'a Message) -> Result<Self, DeliveryError> {
        let content = serde_json::from_str::<&serde_json::value::RawValue>(&m.content)
            .map_err(|e| DeliveryError::malformed(format_args!("not valid JSON ({e})")))?;
        let trace = m.trace();
        Ok(Envelope {
            id: &m.id,
            event_type: &m.event_type,
            occurred_on: m
                .occurred_on
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
            attempt: m.attempts,
            key: m.key.as_deref(),
            delivery_id: m.delivery_id.as_deref(),
            traceparent: trace.map(|(p, _)| p),
            tracestate: trace.and_then(|(_, s)| s),
            content,
        })
    }
}

/// The sinks `routes` sends a type to: its own route, else the `*` catch-all.
pub fn route_of<'r>(routes: &'r BTreeMap<String, Vec<String>>, event_type: &str) -> Option<&'r [String]> {
    routes
        .get(event_type)
        .or_else(|| routes.get("*"))
        .map(Vec::as_slice)
}

/// Maps event types to sinks: exact type first, then the `*` catch-all, then the built-in
/// default (UserRegistered goes to the sample `log` handler).
pub struct Router {
    sinks: BTreeMap<String, Box<dyn Sink>>,
    routes: BTreeMap<String, Vec<String>>,
    longest_timeout: Duration,
}

impl Router {
    pub fn new(sinks: &BTreeMap<String, ResolvedSink>, routes: &BTreeMap<String, Vec<String>>) -> Self {
        let mut built: BTreeMap<String, Box<dyn Sink>> = BTreeMap::new();
        built.insert("log".into(), Box::new(LogSink));
        built.insert("noop".into(), Box::new(NoopSink));
        for (name, resolved) in sinks {
            built.insert(name.clone(), resolved.build());
        }
        let mut routes = routes.clone();
        if !routes.contains_key("*") {
            routes
                .entry("UserRegistered".into())
                .or_insert_with(|| vec!["log".into()]);
        }
        let longest_timeout = sinks
            .values()
            .filter_map(ResolvedSink::timeout)
            .max()
            .unwrap_or(Duration::ZERO);
        Router {
            sinks: built,
            routes,
            longest_timeout,
        }
    }

    /// The sinks a message of this type goes to.
    pub fn route(&self, event_type: &str) -> Result<&[String], DeliveryError> {
        route_of(&self.routes, event_type)
            .ok_or_else(|| DeliveryError::Retryable(format!("no handler for type {event_type}")))
    }

    /// The sinks this message goes to: its replay's one sink (`replay --to`), else its type's.
    pub fn routes_of<'s>(&'s self, m: &'s Message) -> Result<&'s [String], DeliveryError> {
        match &m.sink {
            Some(sink) => Ok(std::slice::from_ref(sink)),
            None => self.route(&m.event_type),
        }
    }

    /// Whether a sink of this name exists (configured or built in).
    pub fn has_sink(&self, name: &str) -> bool {
        self.sinks.contains_key(name)
    }

    /// Hands a run to the named sink (see [`Sink::send`]).
    pub fn send(&mut self, sink: &str, run: &[Message]) -> Pending {
        match self.sinks.get_mut(sink) {
            Some(s) => s.send(run),
            // The config checks routes against sinks; a Router built by hand may not have.
            None => Pending::failed(
                run.len(),
                DeliveryError::Retryable(format!("no sink named {sink}")),
            ),
        }
    }

    /// Adds (or replaces) a sink under a name, for Rust applications with a destination of
    /// their own. Its deliveries must end well within the lease.
    pub fn insert(&mut self, name: impl Into<String>, sink: Box<dyn Sink>) {
        self.sinks.insert(name.into(), sink);
    }

    /// The most messages one run to the named sink may hold.
    pub fn max_in_flight(&self, name: &str) -> usize {
        self.sinks.get(name).map_or(1, |s| s.max_in_flight().max(1))
    }

    /// The longest time one delivery may take: the relay keeps its lease at least this far ahead.
    pub fn longest_timeout(&self) -> Duration {
        self.longest_timeout
    }
}
