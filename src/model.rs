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
}

impl NewMessage {
    /// A message with a fresh time-ordered id.
    pub fn new(event_type: impl Into<String>, content: String, occurred_on: DateTime<Utc>) -> Self {
        NewMessage {
            id: uuid::Uuid::now_v7().to_string(),
            event_type: event_type.into(),
            content,
            occurred_on,
        }
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
}

impl Message {
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
