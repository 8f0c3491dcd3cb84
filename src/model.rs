//! The types every layer shares: messages as stored, what to insert, and reports.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// A message to insert into the outbox.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub id: String,
    pub event_type: String,
    /// JSON text, validated by the caller.
    pub content: String,
    pub occurred_on: DateTime<Utc>,
    /// The ordering key, if the messages of one aggregate must arrive in order.
    pub key: Option<String>,
    /// The W3C Trace Context of the caller (`traceparent`, `tracestate`), carried to every sink.
    pub trace_parent: Option<String>,
    pub trace_state: Option<String>,
}

impl NewMessage {
    /// A message with a fresh time-ordered id.
    pub fn new(event_type: impl Into<String>, content: String, occurred_on: DateTime<Utc>) -> Self {
        NewMessage {
            id: uuid::Uuid::now_v7().to_string(),
            event_type: event_type.into(),
            content,
            occurred_on,
            key: None,
            trace_parent: None,
            trace_state: None,
        }
    }

    /// With the caller's W3C Trace Context, when it has a valid one (see [`valid_traceparent`]).
    pub fn traced(mut self, parent: Option<&str>, state: Option<&str>) -> Self {
        self.set_trace(parent, state);
        self
    }

    /// Sets the caller's W3C Trace Context, when it has a valid one; else leaves it as it was.
    pub fn set_trace(&mut self, parent: Option<&str>, state: Option<&str>) {
        if let Some(p) = parent.filter(|p| valid_traceparent(p)) {
            self.trace_parent = Some(p.to_owned());
            self.trace_state = state.filter(|s| !s.is_empty()).map(str::to_owned);
        }
    }
}

/// Whether `s` is a W3C `traceparent` a receiver can use: `VV-TRACEID-PARENTID-FLAGS` in lower-case
/// hex (2, 32, 16 and 2 digits), version not `ff`, neither id all zeros.
pub fn valid_traceparent(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let hex = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    match parts.as_slice() {
        [v, trace, parent, flags, ..] => {
            hex(v, 2)
                && *v != "ff"
                && (parts.len() == 4 || *v != "00")
                && hex(trace, 32)
                && hex(parent, 16)
                && hex(flags, 2)
                && trace.bytes().any(|b| b != b'0')
                && parent.bytes().any(|b| b != b'0')
        }
        _ => false,
    }
}

/// Where a message stands. Derived from the columns, never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Waiting for its first delivery.
    Pending,
    /// Claimed by a relay whose lease has not expired.
    InFlight,
    /// Failed at least once, will be tried again.
    Retrying,
    /// Out of attempts, or failed permanently. Only `retry --dead` brings it back.
    Dead,
    /// Delivered.
    Processed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::InFlight => "in_flight",
            State::Retrying => "retrying",
            State::Dead => "dead",
            State::Processed => "processed",
        }
    }
}

/// A row of the outbox table.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub content: String,
    pub occurred_on: Option<DateTime<Utc>>,
    pub processed_on: Option<DateTime<Utc>>,
    pub error: Option<String>,
    pub attempts: i64,
    pub next_attempt_on: Option<DateTime<Utc>>,
    pub locked_by: Option<String>,
    pub locked_until: Option<DateTime<Utc>>,
    pub dead_on: Option<DateTime<Utc>>,
    pub last_attempt_on: Option<DateTime<Utc>>,
    /// The ordering key: messages with the same one are delivered one at a time, oldest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// When an operator (or the type's policy) skipped it: undelivered, no longer holding its key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped_on: Option<DateTime<Utc>>,
    /// Claims of it that ended with no outcome (the relay died or hung while delivering it),
    /// since its last recorded failure.
    #[serde(skip_serializing_if = "is_zero")]
    pub crashes: i64,
    /// The W3C Trace Context the application wrote with it, as stored.
    #[serde(rename = "traceparent", skip_serializing_if = "Option::is_none")]
    pub trace_parent: Option<String>,
    #[serde(rename = "tracestate", skip_serializing_if = "Option::is_none")]
    pub trace_state: Option<String>,
    /// A replay's fresh delivery id (`replay --new-delivery-id`): what deduplicating
    /// destinations see as the delivery's id, the message id going beside it. None: the id.
    #[serde(skip)]
    pub delivery_id: Option<String>,
    /// A replay to one sink (`replay --to`): delivered there instead of to the type's routes.
    #[serde(skip)]
    pub sink: Option<String>,
    /// What could not be read from the row as the schema says (another application wrote it).
    /// The fields named hold a lossy reading. Empty, and left out of JSON, for a readable row.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn traceparents_are_checked_as_w3c_says() {
        use super::valid_traceparent as ok;
        assert!(ok("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
        // A later version may add fields; version 00 may not.
        assert!(ok(
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"
        ));
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "not-a-trace",
        ] {
            assert!(!ok(bad), "{bad}");
        }
    }
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// One column of a row that outboxctl could not read as the schema says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The column, as the schema names it.
    pub column: &'static str,
    /// What was wrong with it, e.g. "is not valid UTF-8 (a BLOB of 12 bytes)".
    pub detail: String,
}

impl Problem {
    pub fn new(column: &'static str, detail: impl Into<String>) -> Self {
        Problem {
            column,
            detail: detail.into(),
        }
    }

    /// Whether the message cannot be delivered as stored: what it says (id, type, content, when
    /// it occurred) or how often it was tried is unknown. The other columns are the relay's own
    /// bookkeeping, which the next claim or outcome overwrites.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self.column,
            "Id" | "Type" | "Content" | "OccuredOnUtc" | "Attempts"
        )
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.column, self.detail)
    }
}

impl Serialize for Problem {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Message {
    /// A message as a sink is handed it, unclaimed, first attempt: for applications driving a
    /// sink themselves, tests and benchmarks. The other fields are public to set.
    pub fn new(id: impl Into<String>, event_type: impl Into<String>, content: impl Into<String>) -> Self {
        Message {
            id: id.into(),
            event_type: event_type.into(),
            content: content.into(),
            occurred_on: None,
            processed_on: None,
            error: None,
            attempts: 1,
            next_attempt_on: None,
            locked_by: None,
            locked_until: None,
            dead_on: None,
            last_attempt_on: None,
            key: None,
            skipped_on: None,
            crashes: 0,
            trace_parent: None,
            trace_state: None,
            delivery_id: None,
            sink: None,
            problems: Vec::new(),
        }
    }

    /// The trace context sinks carry on: the stored `traceparent` when it is valid W3C (a
    /// garbage one is left out rather than failing the message), with its `tracestate`.
    pub fn trace(&self) -> Option<(&str, Option<&str>)> {
        let parent = self.trace_parent.as_deref().filter(|p| valid_traceparent(p))?;
        Some((parent, self.trace_state.as_deref().filter(|s| !s.is_empty())))
    }

    /// The id destinations deduplicate on: the message id, or a replay's fresh delivery id.
    pub fn delivery_id(&self) -> &str {
        self.delivery_id.as_deref().unwrap_or(&self.id)
    }

    /// The trace id of [`Message::trace`], for logs.
    pub fn trace_id(&self) -> Option<&str> {
        self.trace().map(|(p, _)| &p[3..35])
    }

    /// Why the message can never be delivered as stored, if so: its permanent failure.
    pub fn unreadable(&self) -> Option<String> {
        let fatal: Vec<String> = self
            .problems
            .iter()
            .filter(|p| p.is_fatal())
            .map(ToString::to_string)
            .collect();
        (!fatal.is_empty()).then(|| format!("unreadable row: {}", fatal.join("; ")))
    }

    pub fn state(&self, now: DateTime<Utc>) -> State {
        if self.processed_on.is_some() {
            State::Processed
        } else if self.dead_on.is_some() {
            State::Dead
        } else if self.locked_by.is_some() && self.locked_until.is_some_and(|t| t > now) {
            State::InFlight
        } else if self.error.is_some() {
            State::Retrying
        } else {
            State::Pending
        }
    }
}

/// One failed attempt, kept for `show`.
#[derive(Debug, Clone, Serialize)]
pub struct FailedAttempt {
    pub attempt: i64,
    pub destination: Option<String>,
    pub failed_on: Option<DateTime<Utc>>,
    pub error: String,
}

/// A destination that accepted a message routed to several.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub destination: String,
    pub delivered_on: Option<DateTime<Utc>>,
}

/// Everything known about one message.
#[derive(Debug, Clone, Serialize)]
pub struct MessageDetail {
    #[serde(flatten)]
    pub message: Message,
    pub failures: Vec<FailedAttempt>,
    pub deliveries: Vec<Delivery>,
    /// Its deliveries by `outboxctl replay`, oldest replay first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replays: Vec<ReplayDelivery>,
    /// For an undelivered keyed message, the first message of its key still holding it back
    /// (neither processed nor skipped), if that is not this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<Box<Message>>,
}

/// An ordering key held back by its first undelivered message, which is failing or dead.
#[derive(Debug, Clone, Serialize)]
pub struct BlockedKey {
    pub key: String,
    /// The message holding the key: retrying, dead, or claimed again after failing.
    pub head: Message,
    /// Messages of the key waiting behind it.
    pub waiting: u64,
}

/// Counts for one event type (or all of them).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub total: u64,
    pub processed: u64,
    /// `Error IS NOT NULL`: retrying plus dead, as the original query counts it.
    pub failed: u64,
    pub pending: u64,
    pub retrying: u64,
    pub dead: u64,
    pub in_flight: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TypeCounts {
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    #[serde(flatten)]
    pub counts: Counts,
    /// When the oldest message that is neither processed nor dead occurred.
    pub oldest_unprocessed_on: Option<DateTime<Utc>>,
    pub oldest_unprocessed_age_seconds: Option<f64>,
    /// When the oldest message a relay could claim right now occurred: due (not waiting for a
    /// backoff or a lease), not dead, not held back by an earlier message of its key.
    pub oldest_due_on: Option<DateTime<Utc>>,
    /// When the last message still in the table was processed.
    pub last_processed_on: Option<DateTime<Utc>>,
    /// How long due messages have waited with nothing delivered: from the later of the oldest due
    /// message and the last delivery until now. None when nothing is due.
    pub stalled_seconds: Option<f64>,
    /// Ordering keys held back by a failing or dead message.
    pub blocked_keys: u64,
    /// Destinations whose circuit is open: nothing is sent there until it may close.
    pub open_circuits: Vec<Circuit>,
    pub by_type: Vec<TypeCounts>,
}

/// Work done in one time bucket, for the dashboard's throughput chart.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ActivityBucket {
    pub start: DateTime<Utc>,
    /// Messages whose ProcessedOnUtc falls in the bucket (purged ones are gone).
    pub processed: u64,
    /// Failed delivery attempts recorded in the bucket.
    pub failed: u64,
}

/// Text shown on one line: control characters (newlines, tabs, escapes) become spaces, and
/// anything past `max` characters is cut with an ellipsis.
pub fn one_line(s: &str, max: usize) -> String {
    let flat: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// A destination whose circuit is open: the relays send it nothing until `open_until`, then one
/// of them probes it with one message.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Circuit {
    pub destination: String,
    /// Failures in a row, the failed probes included.
    pub failures: u32,
    pub opened_on: DateTime<Utc>,
    pub open_until: DateTime<Utc>,
    pub last_error: String,
}

/// One row of the audit trail: an operator's action (or a message the relay parked).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: Option<DateTime<Utc>>,
    pub actor: String,
    pub action: String,
    pub command: String,
    pub messages: u64,
    /// The ids the action named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<String>>,
    /// The selection it acted on, when it named no ids (e.g. "dead").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
}

/// A replay (`outboxctl replay`): messages delivered again, each at most once per replay,
/// tracked apart from the message's own delivery.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Replay {
    pub replay: String,
    pub created_on: Option<DateTime<Utc>>,
    /// The one sink it goes to (`--to`); None: each message's routes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sink: Option<String>,
    pub new_delivery_id: bool,
    pub messages: u64,
    pub delivered: u64,
    pub dead: u64,
    /// Neither delivered nor dead yet.
    pub pending: u64,
}

/// One replay delivery of a message, for `show` and `explain`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReplayDelivery {
    pub replay: String,
    pub created_on: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sink: Option<String>,
    /// `delivered`, `dead` or `pending`.
    pub state: String,
    pub attempts: i64,
    pub delivered_on: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_id: Option<String>,
}

/// The delivery id a replay with `--new-delivery-id` gives a message: the same on every attempt
/// of that replay (so retries within it still deduplicate), new to every other replay.
pub fn replay_delivery_id(replay: &str, id: &str) -> String {
    let namespace = uuid::Uuid::parse_str(replay).unwrap_or(uuid::Uuid::NAMESPACE_OID);
    uuid::Uuid::new_v5(&namespace, id.as_bytes()).to_string()
}
