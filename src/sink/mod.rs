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
#[cfg(feature = "nats")]
mod nats;
#[cfg(feature = "rabbitmq")]
mod rabbitmq;
#[cfg(feature = "redis")]
mod redis;
#[cfg(any(feature = "nats", feature = "rabbitmq"))]
mod runtime;
pub mod settings;

pub use builtin::{LogSink, NoopSink};
pub use exec::ExecSink;
pub use settings::{HttpSettings, NatsSettings, RabbitmqSettings, RedisSettings};

/// Sinks that exist without configuration.
pub const BUILTIN: &[&str] = &["log", "noop"];

/// Why a delivery failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryError {
    pub message: String,
    /// Trying again cannot help (malformed content, a 4xx answer): the message goes dead now.
    pub permanent: bool,
    /// The destination asked to be called back no sooner than this.
    pub retry_after: Option<Duration>,
}

impl DeliveryError {
    pub fn retryable(message: impl Into<String>) -> Self {
        DeliveryError {
            message: message.into(),
            permanent: false,
            retry_after: None,
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        DeliveryError {
            message: message.into(),
            permanent: true,
            retry_after: None,
        }
    }
}

impl std::fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A destination. `deliver` returns Ok only once the destination has accepted the message;
/// the relay marks it processed after that and never before.
pub trait Sink {
    fn deliver(&mut self, message: &Message) -> Result<(), DeliveryError>;

    /// How many messages this sink can usefully have in flight at once (pipelining,
    /// asynchronous acknowledgements). 1, the default, means one by one through `deliver`.
    fn max_in_flight(&self) -> usize {
        1
    }

    /// Delivers several messages, returning one outcome per message in the same order. Each
    /// Ok carries the same promise as `deliver`'s. Only called with at most `max_in_flight`
    /// messages; the default delivers them one by one.
    fn deliver_batch(&mut self, messages: &[Message]) -> Vec<Result<(), DeliveryError>> {
        messages.iter().map(|m| self.deliver(m)).collect()
    }

    /// Starts `deliver_batch` and returns what waits for its outcomes, so the relay can record
    /// the previous batch meanwhile. Batches started one after another must reach the
    /// destination in that order. The default delivers at once.
    fn start_batch(&mut self, messages: &[Message]) -> InFlight {
        let outcomes = self.deliver_batch(messages);
        Box::new(move || outcomes)
    }
}

/// A batch on its way to a sink; calling it waits for one outcome per message.
pub type InFlight = Box<dyn FnOnce() -> Vec<Result<(), DeliveryError>>>;

/// How a sink is configured under `[sinks.NAME]`.
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
}

impl SinkConfig {
    pub const DEFAULT_EXEC_TIMEOUT: Duration = Duration::from_secs(30);

    /// The longest a delivery may take, if bounded.
    pub fn timeout(&self) -> Option<Duration> {
        match self {
            SinkConfig::Exec { timeout, .. } => Some(timeout.unwrap_or(Self::DEFAULT_EXEC_TIMEOUT)),
            SinkConfig::Log | SinkConfig::Noop => None,
            SinkConfig::Http(s) => Some(s.timeout()),
            SinkConfig::Nats(s) => Some(s.timeout()),
            SinkConfig::Redis(s) => Some(s.timeout()),
            SinkConfig::Rabbitmq(s) => Some(s.timeout()),
        }
    }

    /// Checks the settings and fills in what comes from the environment or from files
    /// (`env` looks a variable up; config.rs passes the one reader of the environment). Fails
    /// with a one-line reason, never quoting a secret.
    pub fn resolve(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), String> {
        match self {
            SinkConfig::Exec { .. } | SinkConfig::Log | SinkConfig::Noop => Ok(()),
            SinkConfig::Http(s) => s.resolve(env),
            SinkConfig::Nats(s) => s.resolve(env),
            SinkConfig::Redis(s) => s.resolve(env),
            SinkConfig::Rabbitmq(s) => s.resolve(env),
        }
    }

    fn build(&self) -> Box<dyn Sink> {
        match self {
            SinkConfig::Exec {
                command,
                timeout,
                env,
            } => Box::new(ExecSink::new(
                command.clone(),
                timeout.unwrap_or(Self::DEFAULT_EXEC_TIMEOUT),
                env.clone(),
            )),
            SinkConfig::Log => Box::new(LogSink),
            SinkConfig::Noop => Box::new(NoopSink),
            #[cfg(feature = "http")]
            SinkConfig::Http(s) => Box::new(http::HttpSink::new(s)),
            #[cfg(feature = "nats")]
            SinkConfig::Nats(s) => Box::new(nats::NatsSink::new(s)),
            #[cfg(feature = "redis")]
            SinkConfig::Redis(s) => Box::new(redis::RedisSink::new(s)),
            #[cfg(feature = "rabbitmq")]
            SinkConfig::Rabbitmq(s) => Box::new(rabbitmq::RabbitmqSink::new(s)),
            // `resolve` refuses these kinds when their feature is not built in.
            #[allow(unreachable_patterns)]
            other => Box::new(Unavailable(other.kind())),
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
        }
    }
}

/// Stands in for a sink whose feature is not compiled in, for library users who build a
/// [`Router`] without going through [`SinkConfig::resolve`].
#[allow(dead_code)]
struct Unavailable(&'static str);

impl Sink for Unavailable {
    fn deliver(&mut self, _: &Message) -> Result<(), DeliveryError> {
        Err(DeliveryError::retryable(format!(
            "this outboxctl was built without the {0} feature (cargo install outboxctl --features {0})",
            self.0
        )))
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
    pub content: serde_json::Value,
}

impl<'a> Envelope<'a> {
    /// Fails permanently when the stored content is not JSON: retrying cannot fix it.
    pub fn of(m: &'a Message) -> Result<Self, DeliveryError> {
        let content = serde_json::from_str(&m.content)
            .map_err(|e| DeliveryError::permanent(format!("malformed content: not valid JSON ({e})")))?;
        Ok(Envelope {
            id: &m.id,
            event_type: &m.event_type,
            occurred_on: m
                .occurred_on
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
            attempt: m.attempts,
            content,
        })
    }
}

/// Maps event types to sinks: exact type first, then the `*` catch-all, then the built-in
/// default (UserRegistered goes to the sample `log` handler).
pub struct Router {
    sinks: BTreeMap<String, Box<dyn Sink>>,
    routes: BTreeMap<String, Vec<String>>,
    longest_timeout: Duration,
}

impl Router {
    pub fn new(sinks: &BTreeMap<String, SinkConfig>, routes: &BTreeMap<String, Vec<String>>) -> Self {
        let mut built: BTreeMap<String, Box<dyn Sink>> = BTreeMap::new();
        built.insert("log".into(), Box::new(LogSink));
        built.insert("noop".into(), Box::new(NoopSink));
        for (name, cfg) in sinks {
            built.insert(name.clone(), cfg.build());
        }
        let mut routes = routes.clone();
        if !routes.contains_key("*") {
            routes
                .entry("UserRegistered".into())
                .or_insert_with(|| vec!["log".into()]);
        }
        let longest_timeout = sinks
            .values()
            .filter_map(SinkConfig::timeout)
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
        self.routes
            .get(event_type)
            .or_else(|| self.routes.get("*"))
            .map(Vec::as_slice)
            .ok_or_else(|| DeliveryError::retryable(format!("no handler for type {event_type}")))
    }

    pub fn sink(&mut self, name: &str) -> &mut dyn Sink {
        self.sinks
            .get_mut(name)
            .expect("routes are validated against sinks")
            .as_mut()
    }

    /// Adds (or replaces) a sink under a name, for Rust applications with a destination of
    /// their own. Its deliveries must end well within the lease.
    pub fn insert(&mut self, name: impl Into<String>, sink: Box<dyn Sink>) {
        self.sinks.insert(name.into(), sink);
    }

    /// How many messages the named sink takes at once through `deliver_batch`.
    pub fn max_in_flight(&self, name: &str) -> usize {
        self.sinks.get(name).map_or(1, |s| s.max_in_flight().max(1))
    }

    /// The longest time one delivery may take: the relay keeps its lease at least this far ahead.
    pub fn longest_timeout(&self) -> Duration {
        self.longest_timeout
    }
}
