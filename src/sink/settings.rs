//! The `[sinks.NAME]` settings of the network sinks. The settings as written are always
//! compiled, so a config file naming a kind whose feature is not built in gets a clear error
//! instead of "unknown variant". `resolve` checks them once, when the config is loaded, and
//! makes the `Resolved*` values the sinks are built from.
//!
//! Secrets and URLs with credentials can come from the environment (`*_env` keys) or a file
//! (`secret_file`); `resolve` reads them. Resolved values are never serialized or printed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::cloudevents::CloudEventsMode;
#[cfg(feature = "http")]
use super::signing::SigningKey;
#[cfg(feature = "http")]
use crate::redact::redact_url;

/// How long one delivery (or one run in flight) may take when the config says nothing.
pub const DEFAULT_NETWORK_TIMEOUT: Duration = Duration::from_secs(10);
/// Messages in flight at once for the sinks that pipeline or acknowledge asynchronously.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 256;
/// Webhook requests in flight at once (each on a connection and a thread of its own).
pub const DEFAULT_HTTP_MAX_IN_FLIGHT: usize = 16;
/// The most webhook requests `max_in_flight` may allow at once.
pub const HTTP_MAX_IN_FLIGHT_LIMIT: usize = 256;

/// A secret that never shows in `Debug` output.
#[derive(Clone, Default)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// `url` or `url_env` (the name of an environment variable holding it), else the default.
#[cfg(any(
    feature = "http",
    feature = "nats",
    feature = "redis",
    feature = "rabbitmq",
    feature = "mqtt",
    feature = "kafka"
))]
fn resolve_url(
    url: &Option<String>,
    url_env: &Option<String>,
    default: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    match (url, url_env) {
        (Some(_), Some(_)) => Err("give either url or url_env, not both".into()),
        (Some(u), None) => Ok(u.clone()),
        (None, Some(var)) => env(var)
            .filter(|v| !v.trim().is_empty())
            .map(|v| v.trim().to_owned())
            .ok_or_else(|| format!("url_env names {var}, which is not set")),
        (None, None) => Ok(default.to_owned()),
    }
}

#[cfg(any(
    feature = "nats",
    feature = "redis",
    feature = "rabbitmq",
    feature = "mqtt",
    feature = "kafka"
))]
fn positive(what: &str, n: usize) -> Result<(), String> {
    between(what, n, 100_000)
}

/// `n` in 1..=`max`.
#[cfg(any(
    feature = "http",
    feature = "nats",
    feature = "redis",
    feature = "rabbitmq",
    feature = "mqtt",
    feature = "kafka"
))]
fn between(what: &str, n: usize, max: usize) -> Result<(), String> {
    if n == 0 || n > max {
        Err(format!("{what} must be 1 to {max}"))
    } else {
        Ok(())
    }
}

/// `[sinks.NAME] kind = "http"`: a webhook.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    pub url: Option<String>,
    /// An environment variable holding the URL (when it carries credentials).
    pub url_env: Option<String>,
    /// An environment variable holding the signing secret (`whsec_…`).
    pub secret_env: Option<String>,
    /// A file holding the signing secret (`whsec_…`), e.g. a mounted secret.
    pub secret_file: Option<PathBuf>,
    #[serde(default, deserialize_with = "crate::duration::de_option", skip_serializing)]
    pub timeout: Option<Duration>,
    /// Extra request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub cloudevents: Option<CloudEventsMode>,
    /// The CloudEvents `source` attribute.
    pub source: Option<String>,
    /// Requests in flight at once (concurrency), 1 to 256: a run of messages is POSTed this
    /// many at a time.
    pub max_in_flight: Option<usize>,
}

impl HttpSettings {
    pub fn timeout(&self) -> Duration {
        self.timeout.unwrap_or(DEFAULT_NETWORK_TIMEOUT)
    }

    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.unwrap_or(DEFAULT_HTTP_MAX_IN_FLIGHT)
    }

    #[cfg(feature = "http")]
    pub(super) fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<ResolvedHttp, String> {
        let url = resolve_url(&self.url, &self.url_env, "", env)?;
        if url.is_empty() {
            return Err("an http sink needs url (or url_env)".into());
        }
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "url {} must start with http:// or https://",
                redact_url(&url)
            ));
        }
        let secret = match (&self.secret_env, &self.secret_file) {
            (Some(_), Some(_)) => return Err("give either secret_env or secret_file, not both".into()),
            (Some(var), None) => Some(
                env(var)
                    .filter(|v| !v.trim().is_empty())
                    .ok_or_else(|| format!("secret_env names {var}, which is not set"))?,
            ),
            (None, Some(path)) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read secret_file {}: {e}", path.display()))?,
            ),
            (None, None) => None,
        };
        let secret = secret.map(|s| s.trim().to_owned());
        let key = secret.as_deref().map(SigningKey::from_secret).transpose()?;
        for name in self.headers.keys() {
            let lower = name.to_ascii_lowercase();
            if lower.starts_with("webhook-") || lower == "content-type" {
                return Err(format!("headers may not set {name}: outboxctl sets it"));
            }
        }
        between("max_in_flight", self.max_in_flight(), HTTP_MAX_IN_FLIGHT_LIMIT)?;
        Ok(ResolvedHttp {
            url: Secret(url),
            secret: secret.map(Secret),
            key,
            timeout: self.timeout(),
            headers: self.headers.clone(),
            cloudevents: self.cloudevents,
            source: self.source.clone(),
            max_in_flight: self.max_in_flight(),
        })
    }
}

/// An http sink's settings, checked, with the URL and the signing key in hand.
#[cfg(feature = "http")]
#[derive(Debug, Clone)]
pub struct ResolvedHttp {
    pub(super) url: Secret,
    /// The secret as configured, to scrub it from error texts.
    pub(super) secret: Option<Secret>,
    pub(super) key: Option<SigningKey>,
    pub(super) timeout: Duration,
    pub(super) headers: BTreeMap<String, String>,
    pub(super) cloudevents: Option<CloudEventsMode>,
    pub(super) source: Option<String>,
    pub(super) max_in_flight: usize,
}

/// `[sinks.NAME] kind = "nats"`: JetStream.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NatsSettings {
    pub url: Option<String>,
    pub url_env: Option<String>,
    /// The subject; `{type}` is replaced by the message type.
    pub subject: String,
    #[serde(default, deserialize_with = "crate::duration::de_option", skip_serializing)]
    pub timeout: Option<Duration>,
    pub max_in_flight: Option<usize>,
    pub cloudevents: Option<CloudEventsMode>,
    pub source: Option<String>,
}

impl NatsSettings {
    pub const DEFAULT_URL: &str = "nats://127.0.0.1:4222";

    pub fn timeout(&self) -> Duration {
        self.timeout.unwrap_or(DEFAULT_NETWORK_TIMEOUT)
    }

    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.unwrap_or(DEFAULT_MAX_IN_FLIGHT)
    }

    #[cfg(feature = "nats")]
    pub(super) fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<ResolvedNats, String> {
        let url = resolve_url(&self.url, &self.url_env, Self::DEFAULT_URL, env)?;
        if self.subject.trim().is_empty() {
            return Err("subject must not be empty".into());
        }
        positive("max_in_flight", self.max_in_flight())?;
        Ok(ResolvedNats {
            url: Secret(url),
            subject: self.subject.clone(),
            timeout: self.timeout(),
            max_in_flight: self.max_in_flight(),
            cloudevents: self.cloudevents,
            source: self.source.clone(),
        })
    }
}

/// A nats sink's settings, checked, with the URL in hand.
#[cfg(feature = "nats")]
#[derive(Debug, Clone)]
pub struct ResolvedNats {
    pub(super) url: Secret,
    pub(super) subject: String,
    pub(super) timeout: Duration,
    pub(super) max_in_flight: usize,
    pub(super) cloudevents: Option<CloudEventsMode>,
    pub(super) source: Option<String>,
}

/// `[sinks.NAME] kind = "redis"`: Redis Streams.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSettings {
    pub url: Option<String>,
    pub url_env: Option<String>,
    /// The stream key; `{type}` is replaced by the message type.
    pub stream: String,
    /// Trim the stream to about this many entries (`MAXLEN ~`).
    pub maxlen: Option<u64>,
    /// Skip a message whose Id was added within `dedup_window` (a marker key set atomically
    /// with the XADD in a script). Redis itself does not deduplicate.
    #[serde(default)]
    pub dedup: bool,
    #[serde(default, deserialize_with = "crate::duration::de_option", skip_serializing)]
    pub dedup_window: Option<Duration>,
    #[serde(default, deserialize_with = "crate::duration::de_option", skip_serializing)]
    pub timeout: Option<Duration>,
    pub max_in_flight: Option<usize>,
    pub cloudevents: Option<CloudEventsMode>,
    pub source: Option<String>,
}

impl RedisSettings {
    pub const DEFAULT_URL: &str = "redis://127.0.0.1:6379";
    pub const DEFAULT_DEDUP_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);

    pub fn timeout(&self) -> Duration {
        self.timeout.unwrap_or(DEFAULT_NETWORK_TIMEOUT)
    }

    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.unwrap_or(DEFAULT_MAX_IN_FLIGHT)
    }

    pub fn dedup_window(&self) -> Duration {
        self.dedup_window.unwrap_or(Self::DEFAULT_DEDUP_WINDOW)
    }

    #[cfg(feature = "redis")]
    pub(super) fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<ResolvedRedis, String> {
        let url = resolve_url(&self.url, &self.url_env, Self::DEFAULT_URL, env)?;
        if self.stream.trim().is_empty() {
            return Err("stream must not be empty".into());
        }
        if self.dedup_window().as_secs() == 0 {
            return Err("dedup_window must be at least 1s".into());
        }
        positive("max_in_flight", self.max_in_flight())?;
        Ok(ResolvedRedis {
            url: Secret(url),
            stream: self.stream.clone(),
            maxlen: self.maxlen,
            dedup: self.dedup.then(|| self.dedup_window()),
            timeout: self.timeout(),
            max_in_flight: self.max_in_flight(),
            cloudevents: self.cloudevents,
            source: self.source.clone(),
        })
    }
}

/// A redis sink's settings, checked, with the URL in hand.
#[cfg(feature = "redis")]
#[derive(Debug, Clone)]
pub struct ResolvedRedis {
    pub(super) url: Secret,
    pub(super) stream: String,
    pub(super) maxlen: Option<u64>,
    /// How long a marker keeps a redelivery out, when deduplicating.
    pub(super) dedup: Option<Duration>,
    pub(super) timeout: Duration,
    pub(super) max_in_flight: usize,
    pub(super) cloudevents: Option<CloudEventsMode>,
    pub(super) source: Option<String>,
}

/// `[sinks.NAME] kind = "rabbitmq"`: AMQP 0-9-1 with publisher confirms.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RabbitmqSettings {
    pub url: Option<String>,
    pub url_env: Option<String>,
    /// The exchange; empty (the default exchange) routes by queue name.
    #[serde(default)]
    pub exchange: String,
    /// The routing key; `{type}` is replaced by the message type.
    pub routing_key: String,
    #[serde(default, deserialize_with = "crate::duration::de_option", skip_serializing)]
    pub timeout: Option<Duration>,
    pub max_in_flight: Option<usize>,
    pub cloudevents: Option<CloudEventsMode>,
    pub source: Option<String>,
}

impl RabbitmqSettings {
    pub const DEFAULT_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

    pub fn timeout(&self) -> Duration {
        self.timeout.unwrap_or(DEFAULT_NETWORK_TIMEOUT)
    }

    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.unwrap_or(DEFAULT_MAX_IN_FLIGHT)
    }

    #[cfg(feature = "rabbitmq")]
    pub(super) fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<ResolvedRabbitmq, String> {
        let url = resolve_url(&self.url, &self.url_env, Self::DEFAULT_URL, env)?;
        if self.routing_key.is_empty() && self.exchange.is_empty() {
            return Err("routing_key must not be empty with the default exchange".into());
        }
        positive("max_in_flight", self.max_in_flight())?;
        Ok(ResolvedRabbitmq {
            url: Secret(url),
            exchange: self.exchange.clone(),
            routing_key: self.routing_key.clone(),
            timeout: self.timeout(),
            max_in_flight: self.max_in_flight(),
            cloudevents: self.cloudevents,
            source: self.source.clone(),
        })
    }
}

/// A rabbitmq sink's settings, checked, with the URL in hand.
#[cfg(feature = "rabbitmq")]
#[derive(Debug, Clone)]
pub struct ResolvedRabbitmq {
    pub(super) url: Secret,
    pub(super) exchange: String,
    pub(super) routing_key: String,
    pub(super) timeout: Duration,
    pub(super) max_in_flight: usize,
    pub(super) cloudevents: Option<CloudEventsMode>,
    pub(super) source: Option<String>,
}

/// `[sinks.NAME] kind = "mqtt"`: MQTT 5 (or 3.1.1) publishes with QoS 1 or 2.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MqttSettings {
    pub url: Option<String>,
    pub url_env: Option<String>,
    /// The topic; `{type}` is replaced by the message type.
    pub topic: String,
    /// 1 (delivered on PUBACK, the default) or 2 (delivered on PUBCOMP). 0 is refused: nothing
    /// would confirm the delivery.
    pub qos: Option<u8>,
    #[serde(default, deserialize_with = "crate::duration::de_option", skip_serializing)]
    pub timeout: Option<Duration>,
    pub max_in_flight: Option<usize>,
    /// The MQTT client identifier; `outboxctl-<random>` when not given.
    pub client_id: Option<String>,
    pub cloudevents: Option<CloudEventsMode>,
    pub source: Option<String>,
    /// `"auto"` (the default: MQTT 5, or 3.1.1 when the broker refuses 5), `"5"` or `"3.1.1"`.
    pub protocol: Option<String>,
}

/// The MQTT protocol version a sink speaks.
#[cfg(feature = "mqtt")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MqttProtocol {
    /// MQTT 5, falling back to 3.1.1 when the broker refuses 5.
    Auto,
    V5,
    V311,
}

impl MqttSettings {
    pub const DEFAULT_URL: &str = "mqtt://127.0.0.1:1883";
    pub const DEFAULT_PORT: u16 = 1883;
    pub const DEFAULT_QOS: u8 = 1;

    pub fn timeout(&self) -> Duration {
        self.timeout.unwrap_or(DEFAULT_NETWORK_TIMEOUT)
    }

    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.unwrap_or(DEFAULT_MAX_IN_FLIGHT)
    }

    pub fn qos(&self) -> u8 {
        self.qos.unwrap_or(Self::DEFAULT_QOS)
    }

    #[cfg(feature = "mqtt")]
    pub(super) fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<ResolvedMqtt, String> {
        use crate::redact::{percent_decode, redact_url};

        let url = resolve_url(&self.url, &self.url_env, Self::DEFAULT_URL, env)?;
        let parsed =
            url::Url::parse(&url).map_err(|e| format!("url {} is not a URL: {e}", redact_url(&url)))?;
        match parsed.scheme() {
            "mqtt" | "tcp" => {}
            "mqtts" | "ssl" => {
                return Err(format!(
                    "url {}: TLS (mqtts://) is not supported yet, use mqtt://",
                    redact_url(&url)
                ));
            }
            _ => return Err(format!("url {} must start with mqtt://", redact_url(&url))),
        }
        let host = match parsed.host_str() {
            Some(h) if !h.is_empty() => h.trim_start_matches('[').trim_end_matches(']').to_owned(),
            _ => return Err(format!("url {} names no host", redact_url(&url))),
        };
        if !matches!(parsed.path(), "" | "/") || parsed.query().is_some() {
            return Err(format!(
                "url {} may not have a path or query: give the topic in `topic`",
                redact_url(&url)
            ));
        }
        let username = percent_decode(parsed.username());
        let password = parsed.password().map(percent_decode);
        match self.qos() {
            1 | 2 => {}
            0 => return Err("qos = 0 cannot confirm a delivery: use 1 (PUBACK) or 2 (PUBCOMP)".into()),
            n => return Err(format!("qos must be 1 or 2, not {n}")),
        }
        if self.topic.is_empty() {
            return Err("topic must not be empty".into());
        }
        if self.topic.contains(['+', '#', '\0']) {
            return Err("topic may not contain the wildcards + and #".into());
        }
        if let Some(id) = &self.client_id
            && (id.is_empty() || id.len() > 65535)
        {
            return Err("client_id must not be empty".into());
        }
        positive("max_in_flight", self.max_in_flight())?;
        let protocol = match self.protocol.as_deref() {
            None | Some("auto") => MqttProtocol::Auto,
            Some("5") => MqttProtocol::V5,
            Some("3.1.1") => MqttProtocol::V311,
            Some(other) => {
                return Err(format!(
                    "protocol must be \"auto\", \"5\" or \"3.1.1\", not \"{}\"",
                    crate::model::one_line(other, 40)
                ));
            }
        };
        if protocol == MqttProtocol::V311 && self.cloudevents == Some(CloudEventsMode::Binary) {
            return Err(
                "cloudevents = \"binary\" needs MQTT 5 user properties: use \"structured\" with protocol = \"3.1.1\""
                    .into(),
            );
        }
        Ok(ResolvedMqtt {
            url: Secret(url),
            host,
            port: parsed.port().unwrap_or(Self::DEFAULT_PORT),
            username: (!username.is_empty()).then_some(username),
            password: password.map(Secret),
            topic: self.topic.clone(),
            qos: self.qos(),
            timeout: self.timeout(),
            max_in_flight: self.max_in_flight(),
            client_id: self.client_id.clone(),
            cloudevents: self.cloudevents,
            source: self.source.clone(),
            protocol,
        })
    }
}

/// An mqtt sink's settings, checked, with the URL taken apart.
#[cfg(feature = "mqtt")]
#[derive(Debug, Clone)]
pub struct ResolvedMqtt {
    pub(super) url: Secret,
    pub(super) host: String,
    pub(super) port: u16,
    pub(super) username: Option<String>,
    pub(super) password: Option<Secret>,
    pub(super) topic: String,
    pub(super) qos: u8,
    pub(super) timeout: Duration,
    pub(super) max_in_flight: usize,
    pub(super) client_id: Option<String>,
    pub(super) cloudevents: Option<CloudEventsMode>,
    pub(super) source: Option<String>,
    pub(super) protocol: MqttProtocol,
}

/// A librdkafka property's value as written: TOML strings, integers and booleans alike.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum KafkaOption {
    Text(String),
    Integer(i64),
    Flag(bool),
}

impl std::fmt::Display for KafkaOption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KafkaOption::Text(s) => f.write_str(s),
            KafkaOption::Integer(n) => write!(f, "{n}"),
            KafkaOption::Flag(b) => write!(f, "{b}"),
        }
    }
}

/// `[sinks.NAME] kind = "kafka"`: Kafka with acks=all and the idempotent producer.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaSettings {
    /// `host:port` of one or more brokers, comma-separated.
    pub bootstrap_servers: Option<String>,
    /// An environment variable holding them.
    pub bootstrap_servers_env: Option<String>,
    /// The topic; `{type}` is replaced by the message type.
    pub topic: String,
    /// How long a message may take to be acknowledged, retries inside the client included
    /// (librdkafka's `message.timeout.ms`).
    #[serde(default, deserialize_with = "crate::duration::de_option", skip_serializing)]
    pub timeout: Option<Duration>,
    pub max_in_flight: Option<usize>,
    /// What a record's value is without `cloudevents`: the content (default) or the envelope.
    #[serde(default)]
    pub value: KafkaValue,
    pub cloudevents: Option<CloudEventsMode>,
    pub source: Option<String>,
    /// librdkafka properties passed through (`security.protocol`, `sasl.mechanism`, `ssl.*`, …).
    #[serde(default)]
    pub options: BTreeMap<String, KafkaOption>,
    /// An environment variable holding `sasl.password`.
    pub sasl_password_env: Option<String>,
    /// A file holding `sasl.password`, e.g. a mounted secret.
    pub sasl_password_file: Option<PathBuf>,
}

/// A Kafka record's value (without `cloudevents`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KafkaValue {
    /// The content as stored: the event itself, its id, type, key and trace in headers (the
    /// outbox event router's shape).
    #[default]
    Content,
    /// The JSON envelope every other sink sends (id, type, occurred time, attempt, content).
    Envelope,
}

/// Properties outboxctl sets itself: what makes a delivery a delivery, and the settings above.
#[cfg(feature = "kafka")]
const KAFKA_OWN_OPTIONS: &[(&str, &str)] = &[
    ("bootstrap.servers", "bootstrap_servers"),
    ("metadata.broker.list", "bootstrap_servers"),
    ("acks", "nothing: it is always all"),
    ("request.required.acks", "nothing: it is always all"),
    ("enable.idempotence", "nothing: it is always on"),
    ("message.timeout.ms", "timeout"),
    ("delivery.timeout.ms", "timeout"),
    ("transactional.id", "nothing: transactions are not used"),
    ("enable.gapless.guarantee", "nothing"),
];

/// The SASL mechanisms this build of librdkafka has (no GSSAPI: no Cyrus SASL is linked).
#[cfg(feature = "kafka")]
const KAFKA_SASL_MECHANISMS: &[&str] = &["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"];

impl KafkaSettings {
    pub const DEFAULT_BOOTSTRAP_SERVERS: &str = "127.0.0.1:9092";
    /// Runs as large as a claim: Kafka batches a run's records per partition, and the relay
    /// claims the next batch while the last run is out (256 left it at 76-79% of the plain
    /// producer's rate, 1000 at 81-83%).
    pub const DEFAULT_MAX_IN_FLIGHT: usize = 1000;

    pub fn timeout(&self) -> Duration {
        self.timeout.unwrap_or(DEFAULT_NETWORK_TIMEOUT)
    }

    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.unwrap_or(Self::DEFAULT_MAX_IN_FLIGHT)
    }

    #[cfg(feature = "kafka")]
    pub(super) fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<ResolvedKafka, String> {
        let servers = match (&self.bootstrap_servers, &self.bootstrap_servers_env) {
            (Some(_), Some(_)) => {
                return Err("give either bootstrap_servers or bootstrap_servers_env, not both".into());
            }
            (servers, var) => resolve_url(servers, var, Self::DEFAULT_BOOTSTRAP_SERVERS, env)
                .map_err(|e| e.replace("url_env", "bootstrap_servers_env"))?,
        };
        let servers: Vec<&str> = servers.split(',').map(str::trim).collect();
        if let Some(bad) = servers.iter().find(|s| !is_host_port(s)) {
            return Err(format!(
                "bootstrap_servers must be host:port[,host:port…], not \"{bad}\""
            ));
        }
        let servers = servers.join(",");
        if self.topic.is_empty() {
            return Err("topic must not be empty".into());
        }
        // What the template itself contributes must be legal; the type is checked per message.
        let fixed = self.topic.replace("{type}", "");
        if let Some(c) = fixed.chars().find(|c| !is_topic_char(*c)) {
            return Err(format!(
                "topic may only contain ASCII letters, digits, '.', '_' and '-' (and {{type}}), not {c:?}"
            ));
        }
        let timeout = self.timeout();
        if timeout < Duration::from_secs(1) || timeout > Duration::from_secs(3600) {
            return Err("timeout must be 1s to 1h".into());
        }
        positive("max_in_flight", self.max_in_flight())?;
        let mut options = BTreeMap::new();
        for (name, value) in &self.options {
            if let Some((_, instead)) = KAFKA_OWN_OPTIONS.iter().find(|(own, _)| own == name) {
                return Err(format!(
                    "options may not set {name}: outboxctl sets it (use {instead})"
                ));
            }
            options.insert(name.clone(), value.to_string());
        }
        for name in ["sasl.mechanism", "sasl.mechanisms"] {
            if let Some(m) = options.get(name)
                && !KAFKA_SASL_MECHANISMS.contains(&m.as_str())
            {
                return Err(format!(
                    "options: {name} = \"{m}\" is not supported, use one of {}",
                    KAFKA_SASL_MECHANISMS.join(", ")
                ));
            }
        }
        for name in ["max.in.flight.requests.per.connection", "max.in.flight"] {
            if options
                .get(name)
                .is_some_and(|n| n.parse::<u32>().map_or(true, |n| n > 5))
            {
                return Err(format!(
                    "options: {name} must be 1 to 5 (the idempotent producer keeps order up to 5)"
                ));
            }
        }
        // librdkafka checks each name and value now, so a typo is a config error, not a
        // delivery that fails for ever.
        let mut check = rdkafka::config::ClientConfig::new();
        for (name, value) in &options {
            check.set(name, value);
        }
        if let Err(e) = check.create_native_config() {
            let why = match e {
                rdkafka::error::KafkaError::ClientConfig(_, desc, _, _) => desc,
                other => other.to_string(),
            };
            let mut secrets = crate::redact::Redactor::default();
            secrets.add_named_values(&options);
            return Err(format!("options: {}", secrets.scrub(&why).replace('\n', " ")));
        }
        let from_env_or_file = match (&self.sasl_password_env, &self.sasl_password_file) {
            (Some(_), Some(_)) => {
                return Err("give either sasl_password_env or sasl_password_file, not both".into());
            }
            (Some(var), None) => Some(
                env(var)
                    .filter(|v| !v.trim().is_empty())
                    .ok_or_else(|| format!("sasl_password_env names {var}, which is not set"))?,
            ),
            (None, Some(path)) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read sasl_password_file {}: {e}", path.display()))?,
            ),
            (None, None) => None,
        };
        let password = match (from_env_or_file, options.remove("sasl.password")) {
            (Some(_), Some(_)) => {
                return Err(
                    "give sasl.password in options or sasl_password_env/sasl_password_file, not both".into(),
                );
            }
            (Some(p), None) => Some(p.trim().to_owned()),
            (None, inline) => inline,
        };
        Ok(ResolvedKafka {
            bootstrap_servers: servers,
            topic: self.topic.clone(),
            timeout,
            max_in_flight: self.max_in_flight(),
            value: self.value,
            cloudevents: self.cloudevents,
            source: self.source.clone(),
            options,
            sasl_password: password.map(Secret),
        })
    }
}

/// `host:port` with a port.
#[cfg(feature = "kafka")]
fn is_host_port(s: &str) -> bool {
    s.rsplit_once(':').is_some_and(|(host, port)| {
        !host.is_empty() && !host.contains(['/', '@', ' ']) && port.parse::<u16>().is_ok_and(|p| p > 0)
    })
}

/// The characters Kafka allows in a topic name.
pub fn is_topic_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// A kafka sink's settings, checked, with the SASL password in hand.
#[cfg(feature = "kafka")]
#[derive(Debug, Clone)]
pub struct ResolvedKafka {
    pub(super) bootstrap_servers: String,
    pub(super) topic: String,
    pub(super) timeout: Duration,
    pub(super) max_in_flight: usize,
    pub(super) value: KafkaValue,
    pub(super) cloudevents: Option<CloudEventsMode>,
    pub(super) source: Option<String>,
    /// The librdkafka properties passed through, `sasl.password` taken out.
    pub(super) options: BTreeMap<String, String>,
    pub(super) sasl_password: Option<Secret>,
}

/// Replaces `{type}` in a subject, stream or routing key.
pub fn expand(template: &str, event_type: &str) -> String {
    template.replace("{type}", event_type)
}
