//! Destinations: where a message goes to count as delivered. One implementation per kind, all
//! behind [`Sink`]; the [`Router`] picks the sinks of a message from its type.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::Message;

mod builtin;
mod exec;

pub use builtin::{LogSink, NoopSink};
pub use exec::ExecSink;

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
}

/// How a sink is configured under `[sinks.NAME]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum SinkConfig {
    /// Run a command with the message as JSON on stdin.
    Exec {
        command: Vec<String>,
        #[serde(default, deserialize_with = "crate::config::de_duration", skip_serializing)]
        timeout: Option<Duration>,
        #[serde(default)]
        env: BTreeMap<String, String>,
    },
    /// Log the message (the sample handler: for UserRegistered, the welcome email it would send).
    Log,
    /// Accept and drop the message.
    Noop,
}

impl SinkConfig {
    pub const DEFAULT_EXEC_TIMEOUT: Duration = Duration::from_secs(30);

    /// The longest a delivery may take, if bounded.
    pub fn timeout(&self) -> Option<Duration> {
        match self {
            SinkConfig::Exec { timeout, .. } => Some(timeout.unwrap_or(Self::DEFAULT_EXEC_TIMEOUT)),
            SinkConfig::Log | SinkConfig::Noop => None,
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

    /// The longest time one delivery may take: the relay keeps its lease at least this far ahead.
    pub fn longest_timeout(&self) -> Duration {
        self.longest_timeout
    }
}
