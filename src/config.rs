//! CLI flags, environment and the config file merged into one validated [`Config`].
//! This is the only module that reads the environment (clap's `env = …` attributes aside).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::cli::GlobalArgs;
use crate::error::Error;
use crate::output::Format;
use crate::redact::Redactor;
use crate::retry::RetryPolicy;
use crate::sink::{ResolvedSink, SinkConfig};
use crate::store::StoreOptions;

pub const DEFAULT_DATABASE: &str = "outbox.db";
pub const DEFAULT_CONFIG: &str = "outboxctl.toml";
pub const DEFAULT_BATCH_SIZE: usize = 20;
/// How long audit rows are kept unless `[audit] retention` says otherwise.
pub const DEFAULT_AUDIT_RETENTION: Duration = Duration::from_secs(365 * 86_400);

/// The config file as written. Every key is optional; flags override it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database: Option<String>,
    table: Option<String>,
    batch_size: Option<usize>,
    #[serde(default, deserialize_with = "crate::duration::de_option")]
    lease: Option<Duration>,
    #[serde(default, deserialize_with = "crate::duration::de_option")]
    busy_timeout: Option<Duration>,
    #[serde(default, deserialize_with = "crate::duration::de_option")]
    every: Option<Duration>,
    #[serde(default)]
    retry: FileRetry,
    #[serde(default)]
    sinks: BTreeMap<String, SinkConfig>,
    #[serde(default)]
    routes: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    types: BTreeMap<String, FileType>,
    #[serde(default)]
    circuit: FileCircuit,
    #[serde(default)]
    audit: FileAudit,
}

/// `[audit]`: how long the audit trail keeps its rows (`purge` deletes older ones).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAudit {
    /// A duration, or "forever".
    retention: Option<String>,
}

/// `[circuit]`: when a destination that fails everything is left alone for a while.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCircuit {
    failures: Option<u32>,
    #[serde(default, deserialize_with = "crate::duration::de_option")]
    cooldown: Option<Duration>,
}

/// Per-type settings: `[types.OrderPlaced]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileType {
    /// JSON pointer to the ordering key in the content.
    key: Option<String>,
    #[serde(default)]
    on_dead: OnDead,
}

/// What a dead message of a type does to its ordering key.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnDead {
    /// Holds the key until an operator retries or skips it.
    #[default]
    Block,
    /// Is skipped at once: the key goes on.
    Skip,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRetry {
    max_attempts: Option<u32>,
    #[serde(default, deserialize_with = "crate::duration::de_option")]
    backoff: Option<Duration>,
    #[serde(default, deserialize_with = "crate::duration::de_option")]
    max_backoff: Option<Duration>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged, expecting = "expected a sink name or a list of sink names")]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// SQLite takes its busy timeout in milliseconds as a 32-bit number.
const MAX_BUSY_TIMEOUT: Duration = Duration::from_secs(86_400);

/// Everything a command needs to know, validated.
#[derive(Debug, Clone)]
pub struct Config {
    pub database: String,
    pub store: StoreOptions,
    pub batch_size: usize,
    /// How long a claim holds before another relay may take the message over.
    pub lease: Duration,
    /// The poll interval of `run` when no flag gives one.
    pub every: Duration,
    pub retry: RetryPolicy,
    pub sinks: BTreeMap<String, ResolvedSink>,
    pub routes: BTreeMap<String, Vec<String>>,
    /// Ordering keys taken from content, by type (`[types.T] key = "/pointer"`), for `init`.
    pub key_rules: Vec<crate::store::KeyRule>,
    /// Types whose dead messages are skipped at once (`on_dead = "skip"`).
    pub skip_dead: std::collections::BTreeSet<String>,
    pub circuit: crate::circuit::CircuitSettings,
    /// How long audit rows are kept; None: forever.
    pub audit_retention: Option<Duration>,
    /// Who runs this command, for the audit trail: the OS user.
    pub actor: String,
    /// This command line with its secrets redacted, for the audit trail.
    pub command_line: String,
    pub format: Format,
    /// Whether stdout is a terminal that may get colour and box drawing.
    pub stdout_tty: bool,
    pub color: bool,
    /// Progress bars go to stderr only when it is a terminal and output is not JSON.
    pub progress: bool,
    pub stdin_tty: bool,
    /// A pinned clock (`OUTBOX_NOW`), for tests and for replaying a situation.
    pub now: Option<DateTime<Utc>>,
    pub quiet: bool,
}

impl Config {
    pub fn load(global: &GlobalArgs) -> Result<Self, Error> {
        let (file, path) = read_file_config(global.config.as_deref())?;
        let in_file = |what: &str| match &path {
            Some(p) => format!("{what} in {}", p.display()),
            None => what.to_owned(),
        };

        let table = global
            .table
            .clone()
            .or(file.table)
            .unwrap_or_else(|| crate::store::DEFAULT_TABLE.into());
        crate::store::validate_table_name(&table).map_err(Error::Usage)?;
        let batch_size = file.batch_size.unwrap_or(DEFAULT_BATCH_SIZE);
        if !(1..=100_000).contains(&batch_size) {
            return Err(Error::usage(format!(
                "{}: batch_size must be 1 to 100000",
                in_file("batch_size")
            )));
        }
        let defaults = RetryPolicy::default();
        let retry = RetryPolicy {
            max_attempts: file.retry.max_attempts.unwrap_or(defaults.max_attempts),
            base: file.retry.backoff.unwrap_or(defaults.base),
            cap: file.retry.max_backoff.unwrap_or(defaults.cap),
        };
        if retry.max_attempts == 0 {
            return Err(Error::usage(format!(
                "{}: must be at least 1",
                in_file("retry.max_attempts")
            )));
        }
        let busy_timeout = file.busy_timeout.unwrap_or(Duration::from_secs(5));
        if busy_timeout > MAX_BUSY_TIMEOUT {
            return Err(Error::usage(format!(
                "{}: must be at most 24h",
                in_file("busy_timeout")
            )));
        }
        let lease = file.lease.unwrap_or(Duration::from_secs(300));
        if lease < Duration::from_secs(1) {
            return Err(Error::usage(format!("{}: must be at least 1s", in_file("lease"))));
        }
        let routes: BTreeMap<String, Vec<String>> = file
            .routes
            .into_iter()
            .map(|(ty, r)| match r {
                OneOrMany::One(s) => (ty, vec![s]),
                OneOrMany::Many(v) => (ty, v),
            })
            .collect();
        for (ty, names) in &routes {
            if names.is_empty() {
                return Err(Error::usage(format!(
                    "{}: routes.{ty} names no sink",
                    in_file("routes")
                )));
            }
            for name in names {
                if !file.sinks.contains_key(name) && !crate::sink::BUILTIN.contains(&name.as_str()) {
                    return Err(Error::usage(format!(
                        "{}: routes.{ty} names sink {name:?}, which is not defined under [sinks]",
                        in_file("routes")
                    )));
                }
            }
        }
        let mut key_rules = Vec::new();
        let mut skip_dead = std::collections::BTreeSet::new();
        for (ty, settings) in file.types {
            if let Some(pointer) = settings.key {
                crate::store::KeyRule::tokens(&pointer)
                    .map_err(|e| Error::usage(format!("{}: types.{ty}.key: {e}", in_file("types"))))?;
                key_rules.push(crate::store::KeyRule {
                    event_type: ty.clone(),
                    pointer,
                });
            }
            if settings.on_dead == OnDead::Skip {
                skip_dead.insert(ty);
            }
        }
        let circuit_defaults = crate::circuit::CircuitSettings::default();
        let circuit = crate::circuit::CircuitSettings {
            failures: file.circuit.failures.unwrap_or(circuit_defaults.failures),
            cooldown: file.circuit.cooldown.unwrap_or(circuit_defaults.cooldown),
        };
        if circuit.cooldown < Duration::from_secs(1) || circuit.cooldown > Duration::from_secs(86_400) {
            return Err(Error::usage(format!(
                "{}: must be 1s to 24h",
                in_file("circuit.cooldown")
            )));
        }
        let audit_retention = match file.audit.retention.as_deref() {
            None => Some(DEFAULT_AUDIT_RETENTION),
            Some("forever") => None,
            Some(text) => Some(crate::duration::parse_positive(text).map_err(|e| {
                Error::usage(format!("{}: {e} (or \"forever\")", in_file("audit.retention")))
            })?),
        };
        let mut sinks = BTreeMap::new();
        for (name, sink) in file.sinks {
            // Secrets and URLs named by `*_env` keys are read here, the one reader of the environment.
            let resolved = sink
                .resolve(&|var| std::env::var(var).ok())
                .map_err(|e| Error::usage(format!("{}: sinks.{name}: {e}", in_file("sinks"))))?;
            sinks.insert(name, resolved);
        }
        for (name, sink) in &sinks {
            if let Some(timeout) = sink.timeout()
                && timeout >= lease
            {
                return Err(Error::usage(format!(
                    "{}: sink {name:?} timeout {} must be shorter than the lease {}",
                    in_file("sinks"),
                    humantime::format_duration(timeout),
                    humantime::format_duration(lease)
                )));
            }
        }

        let stdout_tty = std::io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let now = match std::env::var("OUTBOX_NOW") {
            Ok(s) if !s.is_empty() => Some(crate::time::parse(&s).ok_or_else(|| {
                Error::usage(format!("OUTBOX_NOW={s:?} is not a time like 2024-01-15 10:30:00"))
            })?),
            _ => None,
        };
        let config = Config {
            database: global
                .database
                .clone()
                .or(file.database)
                .unwrap_or_else(|| DEFAULT_DATABASE.into()),
            store: StoreOptions { table, busy_timeout },
            batch_size,
            lease,
            every: file.every.unwrap_or(Duration::from_secs(60)),
            retry,
            sinks,
            routes,
            key_rules,
            skip_dead,
            circuit,
            audit_retention,
            actor: os_user(),
            command_line: String::new(),
            format: global.format,
            stdout_tty,
            color: stdout_tty && !no_color,
            progress: std::io::stderr().is_terminal() && global.format != Format::Json && !global.quiet,
            stdin_tty: std::io::stdin().is_terminal(),
            now,
            quiet: global.quiet,
        };
        crate::redact::hide_in_logs(&config.secrets());
        let secrets = config.secrets();
        let command_line = std::env::args().collect::<Vec<_>>().join(" ");
        Ok(Config {
            command_line: secrets.scrub(&crate::redact::scrub_log(&command_line)),
            ..config
        })
    }

    /// Every secret this config holds, for keeping them out of logs: the credentials of the
    /// database URL and of every sink.
    pub fn secrets(&self) -> Redactor {
        let mut r = Redactor::for_url(&self.database);
        for sink in self.sinks.values() {
            sink.add_secrets(&mut r);
        }
        r
    }
}

fn read_file_config(explicit: Option<&Path>) -> Result<(FileConfig, Option<PathBuf>), Error> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None if Path::new(DEFAULT_CONFIG).is_file() => PathBuf::from(DEFAULT_CONFIG),
        None => return Ok((FileConfig::default(), None)),
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::usage(format!("cannot read config file {}: {e}", path.display())))?;
    let parsed = toml::from_str::<FileConfig>(&text).map_err(|e| {
        let line = e
            .span()
            .map(|s| {
                let start = text[..s.start.min(text.len())].lines().count().max(1);
                unknown_key_line(&text, e.message(), start).unwrap_or(start)
            })
            .map_or(String::new(), |l| format!(", line {l}"));
        let msg = e.message().trim().replace('\n', " ");
        Error::usage(format!("config file {}{line}: {msg}", path.display()))
    })?;
    Ok((parsed, Some(path)))
}

/// toml points an unknown key at the table holding it; find the key's own line from there.
fn unknown_key_line(text: &str, message: &str, from: usize) -> Option<usize> {
    let key = message.strip_prefix("unknown field `")?.split('`').next()?;
    text.lines()
        .enumerate()
        .skip(from.saturating_sub(1))
        .find(|(_, l)| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(['=', '.']))
        })
        .map(|(i, _)| i + 1)
}

/// The client libraries behind the store and the sinks, as log target prefixes.
const CLIENT_LIBRARIES: &[&str] = &[
    "amq_protocol",
    "async_nats",
    "lapin",
    "postgres",
    "rdkafka",
    "redis",
    "rumqttc",
    "rustls",
    "tokio_postgres",
    "ureq",
];

/// The log filter: `OUTBOX_LOG` (tracing's env-filter syntax) wins over -v and -q.
pub fn log_filter(verbose: u8, quiet: bool) -> String {
    if let Ok(f) = std::env::var("OUTBOX_LOG")
        && !f.trim().is_empty()
    {
        return f;
    }
    // Client libraries return their errors to outboxctl, which reports each in a line of its own;
    // their log lines would only repeat it (lapin logs a refused login three times), so they show
    // from -vv on.
    let clients_off: String = CLIENT_LIBRARIES.iter().map(|c| format!(",{c}=off")).collect();
    match (quiet, verbose) {
        (true, _) => format!("error{clients_off}"),
        (false, 0) => format!("outboxctl=info,warn{clients_off}"),
        (false, 1) => format!("outboxctl=debug,info{clients_off}"),
        (false, 2) => "debug".into(),
        _ => "trace".into(),
    }
}

impl Config {
    /// The relay's settings under a fresh identity; `batch_size` overrides the configured one.
    pub fn relay_settings(&self, batch_size: Option<u64>) -> crate::relay::RelaySettings {
        crate::relay::RelaySettings {
            owner: relay_identity(),
            batch_size: batch_size.map_or(self.batch_size, |b| b as usize),
            lease: self.lease,
            retry: self.retry.clone(),
            skip_dead: self.skip_dead.clone(),
            circuit: self.circuit.clone(),
        }
    }
}

/// Who runs this command, for the audit trail: `USER` or `LOGNAME`, else the name of the
/// process's user id in /etc/passwd (cron and containers often set neither), else `uid N`.
fn os_user() -> String {
    for var in ["USER", "LOGNAME"] {
        if let Ok(name) = std::env::var(var)
            && !name.trim().is_empty()
        {
            return name;
        }
    }
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| uid_of_status(&s));
    match uid {
        Some(uid) => std::fs::read_to_string("/etc/passwd")
            .ok()
            .and_then(|p| user_of_uid(&p, uid))
            .unwrap_or_else(|| format!("uid {uid}")),
        None => "unknown".to_owned(),
    }
}

/// The real user id in the text of /proc/self/status.
fn uid_of_status(status: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|uid| uid.parse().ok())
}

/// The name /etc/passwd gives user id `uid`.
fn user_of_uid(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|l| {
        let fields: Vec<&str> = l.split(':').collect();
        (fields.len() > 2 && fields[2].parse() == Ok(uid)).then(|| fields[0].to_owned())
    })
}

/// An identity for this relay process, stored as the claim owner: host, pid and a random part.
pub fn relay_identity() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}:{}:{}", std::process::id(), &random[..8])
}

/// Colour in log lines only on a terminal, and never with NO_COLOR set.
pub fn log_color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The dashboard's access token from `OUTBOX_DASHBOARD_TOKEN` (an env var rather than a flag, so
/// it never shows in `ps`).
pub fn dashboard_token_env() -> Option<String> {
    let token = std::env::var("OUTBOX_DASHBOARD_TOKEN")
        .ok()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())?;
    let mut secrets = Redactor::default();
    secrets.add_secret(&token);
    crate::redact::hide_in_logs(&secrets);
    Some(token)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{Config, uid_of_status, user_of_uid};

    #[test]
    fn the_os_user_is_found_without_user_or_logname() {
        let status = "Name:\tx\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\n";
        assert_eq!(uid_of_status(status), Some(1000));
        let passwd = "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n";
        assert_eq!(user_of_uid(passwd, 1000).as_deref(), Some("alice"));
        assert_eq!(user_of_uid(passwd, 0).as_deref(), Some("root"));
        assert_eq!(user_of_uid(passwd, 7), None);
    }

    fn load(toml: &str, database: &str) -> Config {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outboxctl.toml");
        std::fs::write(&path, toml).unwrap();
        let cli = crate::cli::Cli::try_parse_from([
            "outboxctl",
            "--config",
            path.to_str().unwrap(),
            "--database",
            database,
            "list",
        ])
        .unwrap();
        Config::load(&cli.global).unwrap()
    }

    #[test]
    fn secrets_are_collected_from_the_database_url_and_exec_variables() {
        let config = load(
            r#"
[sinks.job]
kind = "exec"
command = ["true"]
env = { API_TOKEN = "exec-tok3n", LANG = "C.UTF-8" }
"#,
            "postgres://app:db%40pw@db/shop",
        );
        let text = "exec-tok3n C.UTF-8 db@pw db%40pw app";
        assert_eq!(config.secrets().scrub(text), "*** C.UTF-8 *** *** app");
    }

    #[cfg(all(feature = "http", feature = "nats", feature = "rabbitmq"))]
    #[test]
    fn sink_urls_and_secret_looking_headers_are_secrets() {
        let config = load(
            r#"
[sinks.web]
kind = "http"
url = "https://hook-tok3n@hooks.example.com/in"
headers = { Authorization = "Bearer h3ader-secret", X-Team = "payments" }
[sinks.bus]
kind = "nats"
url = "nats://alice:n4ts-pw@127.0.0.1:4222"
subject = "x"
[sinks.mq]
kind = "rabbitmq"
url = "amqp://app:amqp-pw@127.0.0.1:5672/%2f"
routing_key = "x"
"#,
            "outbox.db",
        );
        let text = "hook-tok3n Bearer h3ader-secret payments (h3ader-secret) n4ts-pw alice amqp-pw";
        assert_eq!(
            config.secrets().scrub(text),
            "*** *** payments (***) *** alice ***"
        );
    }
}
