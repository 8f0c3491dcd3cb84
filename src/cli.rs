//! The command line, as clap definitions only. Doc comments are the help text.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::output::Format;

/// Deliver transactional-outbox events reliably, and watch and repair the flow.
///
/// Applications write events into the outbox table in the same transaction as their data;
/// outboxctl claims them in batches, hands each to its destination, and marks it processed only
/// after the destination accepted it.
#[derive(Debug, Parser)]
#[command(name = "outboxctl", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// SQLite database file (created with the schema if missing), or a postgres:// URL
    #[arg(
        long,
        short = 'd',
        global = true,
        env = "OUTBOX_DATABASE",
        value_name = "PATH|URL"
    )]
    pub database: Option<String>,

    /// Config file [default: ./outboxctl.toml if it exists]
    #[arg(long, short = 'c', global = true, env = "OUTBOX_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Name of the outbox table [default: OutboxMessage]
    #[arg(long, global = true, env = "OUTBOX_TABLE", value_name = "NAME")]
    pub table: Option<String>,

    /// Output format of commands that print data
    #[arg(long, global = true, value_enum, env = "OUTBOX_FORMAT", default_value_t = Format::Table)]
    pub format: Format,

    /// More log output on stderr (-v debug, -vv debug for every crate, -vvv trace)
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Only errors on stderr, and no summary on stdout for process-once
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Init(InitArgs),
    #[command(subcommand)]
    Emit(EmitCommand),
    ProcessOnce(ProcessOnceArgs),
    Run(RunArgs),
    List(ListArgs),
    Show(ShowArgs),
    Explain(ExplainArgs),
    Stats(StatsArgs),
    Retry(RetryArgs),
    Skip(SkipArgs),
    Purge(PurgeArgs),
    Replay(ReplayArgs),
    Audit(AuditArgs),
    Completions(CompletionsArgs),
    Health(HealthArgs),
    Dashboard(DashboardArgs),
}

/// Create or upgrade the outbox schema; adopts a table of the original design. Idempotent.
#[derive(Debug, Args)]
pub struct InitArgs {}

/// Write events into the outbox, each in one transaction with its business rows
#[derive(Debug, Subcommand)]
pub enum EmitCommand {
    UserRegistered(EmitUserArgs),
    Event(EmitEventArgs),
}

/// Register sample users: a Users row and a UserRegistered message, in one transaction each
#[derive(Debug, Args)]
pub struct EmitUserArgs {
    /// Email of the user (unique); generated when omitted
    #[arg(long)]
    pub email: Option<String>,
    /// Display name of the user
    #[arg(long)]
    pub name: Option<String>,
    /// How many users to register (emails are generated)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub count: u64,
}

/// Emit one event of any type with JSON content
#[derive(Debug, Args)]
pub struct EmitEventArgs {
    /// Event type, e.g. OrderPlaced
    #[arg(value_name = "TYPE")]
    pub event_type: String,
    /// JSON content: inline text, @FILE to read a file, or - to read stdin
    pub content: String,
    /// Ordering key (e.g. the aggregate's id): events with the same key are delivered one at a
    /// time, in the order they occurred
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// W3C trace context of the caller (00-TRACEID-SPANID-FLAGS), carried to every destination
    #[arg(long, env = "TRACEPARENT", value_name = "TRACEPARENT")]
    pub traceparent: Option<String>,
    /// W3C tracestate that goes with --traceparent (ignored without one, as W3C says)
    #[arg(long, env = "TRACESTATE", value_name = "TRACESTATE")]
    pub tracestate: Option<String>,
}

/// Claim one batch of due messages, deliver them, record the outcomes, exit (for cron)
#[derive(Debug, Args)]
pub struct ProcessOnceArgs {
    /// Messages to claim [default: 20, or batch_size in the config]
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub batch_size: Option<u64>,
}

/// Process batches in a loop until SIGINT or SIGTERM
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Poll at least this often, e.g. 500ms, 10s, 1m [default: 60s, or every in the config];
    /// new messages and due retries wake the relay sooner
    #[arg(long, value_parser = crate::duration::parse_positive, value_name = "DURATION", conflicts_with = "cron")]
    pub every: Option<Duration>,
    /// Process on a cron schedule instead (UTC), e.g. "* * * * *"
    #[arg(long, value_name = "EXPR")]
    pub cron: Option<String>,
    /// Messages to claim per batch [default: 20, or batch_size in the config]
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub batch_size: Option<u64>,
    /// Serve /metrics (Prometheus) and /healthz on this address, e.g. 127.0.0.1:9187
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,
}

/// List messages (default: unprocessed, oldest first)
#[derive(Debug, Args)]
// A struct-level #[group] would take in every field (--type, --limit too); name the members instead.
#[command(group(clap::ArgGroup::new("which").multiple(false)))]
pub struct ListArgs {
    /// Not processed yet, dead ones included (ProcessedOnUtc IS NULL), oldest first
    #[arg(long, group = "which")]
    pub unprocessed: bool,
    /// Currently failing, retrying or dead (Error IS NOT NULL), oldest first
    #[arg(long, group = "which")]
    pub failed: bool,
    /// Out of attempts or permanently failed, oldest first
    #[arg(long, group = "which")]
    pub dead: bool,
    /// Delivered, most recently processed first
    #[arg(long, group = "which")]
    pub processed: bool,
    /// Ordering keys held back by a failing or dead message: that message, its error, and how
    /// many wait behind it
    #[arg(long, group = "which", conflicts_with = "event_type")]
    pub blocked: bool,
    /// Only this event type
    #[arg(long = "type", value_name = "TYPE")]
    pub event_type: Option<String>,
    /// At most this many rows
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: u64,
}

/// Show every field of one message, its full content and its error history
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Message id
    pub id: String,
}

/// Say in one sentence why a message is (not yet) delivered, and what to do about it
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Message id
    pub id: String,
}

/// Print counts by state and type, and the age of the oldest unprocessed message
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Write to this file instead of stdout, atomically (a temporary file renamed into place),
    /// e.g. for node_exporter's textfile collector with --format prometheus
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Make failed or dead messages due now
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("select").required(true).multiple(false)))]
pub struct RetryArgs {
    /// Every failing message that is not dead
    #[arg(long, group = "select")]
    pub failed: bool,
    /// Every dead message (they get a fresh set of attempts)
    #[arg(long, group = "select")]
    pub dead: bool,
    /// These messages
    #[arg(long, group = "select", num_args = 1.., value_name = "ID")]
    pub id: Vec<String>,
    /// Only count what would be retried
    #[arg(long)]
    pub dry_run: bool,
}

/// Give up on messages so the later messages of their ordering key go on (they stay, marked skipped)
#[derive(Debug, Args)]
pub struct SkipArgs {
    /// The messages to skip (a message in flight is left alone)
    #[arg(required = true, num_args = 1.., value_name = "ID")]
    pub id: Vec<String>,
    /// Only count what would be skipped
    #[arg(long)]
    pub dry_run: bool,
}

/// Deliver messages again: to their routes, or to one sink (a backfill)
///
/// Selects messages by id, type, ordering key, time or state (every condition given must hold),
/// asks first (or --yes), and delivers them as relay work: leases, retries with backoff, dead,
/// one message per ordering key at a time, in occurrence order. A replay is tracked apart from
/// each message's own delivery, whose ProcessedOnUtc does not change. Stopped (Ctrl-C), the same
/// command resumes it; run on several machines (PostgreSQL), they share it. Exit 6 when it
/// stopped, or ended with dead messages, before every message was delivered.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// These messages
    #[arg(long, num_args = 1.., value_name = "ID")]
    pub id: Vec<String>,
    /// Only messages of these event types
    #[arg(long = "type", num_args = 1.., value_name = "TYPE")]
    pub event_type: Vec<String>,
    /// Only messages of this ordering key
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// Occurred at or after this time (e.g. "2024-01-15 10:30:00") or this long ago (e.g. 7d)
    #[arg(long, value_name = "TIME|DURATION")]
    pub since: Option<String>,
    /// Occurred before this time, or this long ago
    #[arg(long, value_name = "TIME|DURATION")]
    pub until: Option<String>,
    /// Processed at or after this time, or this long ago
    #[arg(long, value_name = "TIME|DURATION")]
    pub processed_since: Option<String>,
    /// Processed before this time, or this long ago
    #[arg(long, value_name = "TIME|DURATION")]
    pub processed_until: Option<String>,
    /// Which messages: processed, dead, or all [default: processed; all with --id]
    #[arg(long, value_enum)]
    pub state: Option<ReplayStateArg>,
    /// Deliver only to this sink (e.g. a destination added today), not to the types' routes
    #[arg(long, value_name = "SINK")]
    pub to: Option<String>,
    /// Send a fresh delivery id (webhook-id, Nats-Msg-Id, AMQP message_id, the Redis id field),
    /// the message id beside it, so a destination's dedup window does not swallow the replay
    #[arg(long)]
    pub new_delivery_id: bool,
    /// At most this many messages per second, e.g. 2000/s
    #[arg(long, value_parser = crate::duration::parse_rate, value_name = "N/s")]
    pub rate: Option<f64>,
    /// Messages to claim per pass [default: 20, or batch_size in the config]
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub batch_size: Option<u64>,
    /// Only count what would be replayed, and show the first few
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation (needed when stdin is not a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// The states of message `replay` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReplayStateArg {
    Processed,
    Dead,
    All,
}

/// The audit trail: who retried, skipped or purged what, and when (newest first)
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only actions since this time (e.g. 2024-01-15 or "2024-01-15 10:30:00") or this long
    /// ago (e.g. 7d)
    #[arg(long, value_name = "TIME|DURATION")]
    pub since: Option<String>,
    /// At most this many rows
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: u64,
}

/// Delete processed messages older than a duration (never unprocessed, failing or dead ones)
#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// Age of processing past which a processed message is deleted, e.g. 7d, 12h
    #[arg(long, value_parser = crate::duration::parse_positive, value_name = "DURATION")]
    pub older_than: Duration,
    /// Only count what would be deleted
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation (needed when stdin is not a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// Print a shell completion script
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    pub shell: clap_complete::Shell,
}

/// Check the outbox for monitors: exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN
///
/// Prints one Nagios-style status line with performance data (or JSON with --format json).
/// A value above a --max-* threshold is CRITICAL, above a --warn-* threshold WARNING. A database
/// that cannot be read, and a usage error, give UNKNOWN (3).
#[derive(Debug, Args)]
pub struct HealthArgs {
    /// CRITICAL when the oldest unprocessed (not dead) message is older than this, e.g. 5m
    #[arg(long, value_parser = crate::duration::parse_positive, value_name = "DURATION")]
    pub max_lag: Option<Duration>,
    /// WARNING when the oldest unprocessed (not dead) message is older than this, e.g. 1m
    #[arg(long, value_parser = crate::duration::parse_positive, value_name = "DURATION")]
    pub warn_lag: Option<Duration>,
    /// CRITICAL when more than N messages are failing and waiting for a retry (dead ones excluded)
    #[arg(long, value_name = "N")]
    pub max_failed: Option<u64>,
    /// WARNING when more than N messages are failing and waiting for a retry
    #[arg(long, value_name = "N")]
    pub warn_failed: Option<u64>,
    /// CRITICAL when more than N messages are dead (0: any dead message is critical)
    #[arg(long, value_name = "N")]
    pub max_dead: Option<u64>,
    /// WARNING when more than N messages are dead
    #[arg(long, value_name = "N")]
    pub warn_dead: Option<u64>,
    /// CRITICAL when messages are due and nothing was delivered for longer than this (messages
    /// waiting for a backoff or behind their key are not due)
    #[arg(long, value_parser = crate::duration::parse_positive, value_name = "DURATION", default_value = "15m")]
    pub max_stall: Duration,
    /// CRITICAL when more than N ordering keys are held back by a failing or dead message
    #[arg(long, value_name = "N")]
    pub max_blocked: Option<u64>,
    /// WARNING when more than N ordering keys are held back
    #[arg(long, value_name = "N")]
    pub warn_blocked: Option<u64>,
    /// WARNING when more than N destinations have their circuit open (nothing is sent to them)
    #[arg(long, value_name = "N", default_value = "0")]
    pub warn_circuits: u64,
    /// CRITICAL when more than N destinations have their circuit open
    #[arg(long, value_name = "N")]
    pub max_circuits: Option<u64>,
}

/// Serve the web dashboard: statistics, a throughput chart, message lists, details and actions
///
/// Listens on loopback by default. Actions (retry, purge) always need the token; on any other
/// address every page needs it. The token comes from OUTBOX_DASHBOARD_TOKEN or --token-file;
/// on loopback without one, a random token is made and printed on stderr.
#[derive(Debug, Args)]
pub struct DashboardArgs {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:7700", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
    /// File holding the access token (at least 16 characters) [default: env OUTBOX_DASHBOARD_TOKEN]
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Show everything, allow no action
    #[arg(long)]
    pub read_only: bool,
    /// Also accept requests whose Host header names this host (e.g. a name behind a reverse proxy);
    /// IP addresses and localhost are always accepted
    #[arg(long = "allow-host", value_name = "NAME")]
    pub allow_host: Vec<String>,
}
