//! How each command's data looks to a person.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Render, Style};
use crate::model::{Message, MessageDetail, Stats, one_line};
use crate::relay::BatchReport;

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map(crate::time::format).unwrap_or_default()
}

/// One replay delivery of a message, on one line.
pub fn replay_line(r: &crate::model::ReplayDelivery) -> String {
    let to = r
        .sink
        .as_deref()
        .map_or_else(|| "its routes".to_owned(), |s| format!("sink {s}"));
    let outcome = match r.state.as_str() {
        "delivered" => format!("delivered at {}", when(r.delivered_on)),
        state => format!(
            "{state} after {} attempt(s){}",
            r.attempts,
            r.error
                .as_deref()
                .map(|e| format!(": {}", one_line(e, 200)))
                .unwrap_or_default()
        ),
    };
    let id = r
        .delivery_id
        .as_deref()
        .map(|d| format!(" (delivery id {d})"))
        .unwrap_or_default();
    format!("replay {} to {to}: {outcome}{id}", r.replay)
}

/// What could not be read from a row, on one line.
fn problems(m: &Message) -> String {
    let all: Vec<String> = m.problems.iter().map(ToString::to_string).collect();
    one_line(&all.join("; "), 300)
}

#[derive(Debug, Serialize)]
pub struct InitReport {
    pub backend: &'static str,
    pub database: String,
    pub table: String,
}

impl Render for InitReport {
    fn human(&self, _: &Style) -> String {
        format!(
            "schema ready: {} table {} in {}",
            self.backend, self.table, self.database
        )
    }
}

#[derive(Debug, Serialize)]
pub struct EmittedMessage {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
}

#[derive(Debug, Serialize)]
pub struct EmitReport {
    pub emitted: Vec<EmittedMessage>,
}

impl EmitReport {
    pub fn from_messages(messages: &[crate::model::NewMessage]) -> Self {
        EmitReport {
            emitted: messages
                .iter()
                .map(|m| EmittedMessage {
                    id: m.id.clone(),
                    event_type: m.event_type.clone(),
                })
                .collect(),
        }
    }
}

impl Render for EmitReport {
    fn human(&self, _: &Style) -> String {
        match self.emitted.as_slice() {
            [one] => format!("emitted {} {}", one.event_type, one.id),
            many => format!("emitted {} messages", many.len()),
        }
    }
}

impl Render for BatchReport {
    fn human(&self, _: &Style) -> String {
        if self.claimed == 0 {
            return "nothing due".into();
        }
        let mut s = format!(
            "claimed {}, delivered {}, failed {}, dead {}",
            self.claimed, self.delivered, self.failed, self.dead
        );
        if self.released > 0 {
            s.push_str(&format!(", released {}", self.released));
        }
        if self.deferred > 0 {
            s.push_str(&format!(
                ", deferred {} (their destination's circuit is open)",
                self.deferred
            ));
        }
        s
    }
}

/// `list` output: the messages, with their derived state.
#[derive(Debug, Serialize)]
pub struct MessageList {
    pub messages: Vec<ListedMessage>,
}

#[derive(Debug, Serialize)]
pub struct ListedMessage {
    #[serde(flatten)]
    pub message: Message,
    pub state: crate::model::State,
}

impl MessageList {
    pub fn new(messages: Vec<Message>, now: DateTime<Utc>) -> Self {
        MessageList {
            messages: messages
                .into_iter()
                .map(|m| ListedMessage {
                    state: m.state(now),
                    message: m,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct BlockedList {
    pub blocked: Vec<BlockedEntry>,
}

#[derive(Debug, Serialize)]
pub struct BlockedEntry {
    pub key: String,
    pub waiting: u64,
    pub head: ListedMessage,
}

impl BlockedList {
    pub fn new(keys: Vec<crate::model::BlockedKey>, now: DateTime<Utc>) -> Self {
        BlockedList {
            blocked: keys
                .into_iter()
                .map(|k| BlockedEntry {
                    key: k.key,
                    waiting: k.waiting,
                    head: ListedMessage {
                        state: k.head.state(now),
                        message: k.head,
                    },
                })
                .collect(),
        }
    }
}

impl Render for BlockedList {
    fn human(&self, style: &Style) -> String {
        if self.blocked.is_empty() {
            return "no blocked keys".into();
        }
        let mut t = style.table(&[
            "KEY",
            "WAITING",
            "HEAD",
            "TYPE",
            "STATE",
            "ATTEMPTS",
            "NEXT ATTEMPT",
            "ERROR",
        ]);
        for b in &self.blocked {
            let m = &b.head.message;
            let next = match b.head.state {
                crate::model::State::Retrying => when(m.next_attempt_on),
                _ => String::new(),
            };
            t.add_row(vec![
                one_line(&b.key, 40),
                b.waiting.to_string(),
                m.id.clone(),
                one_line(&m.event_type, 40),
                b.head.state.as_str().to_owned(),
                m.attempts.to_string(),
                next,
                one_line(m.error.as_deref().unwrap_or(""), 60),
            ]);
        }
        let mut out = t.trim_fmt();
        out.push_str("\nact on a head: outboxctl retry --id ID (deliver it again) or outboxctl skip ID (let its key go on)");
        out
    }
}

impl Render for MessageList {
    fn human(&self, style: &Style) -> String {
        if self.messages.is_empty() {
            return "no messages".into();
        }
        let mut t = style.table(&[
            "ID",
            "TYPE",
            "STATE",
            "OCCURRED",
            "ATTEMPTS",
            "NEXT ATTEMPT",
            "ERROR",
        ]);
        for l in &self.messages {
            let m = &l.message;
            let next = match l.state {
                crate::model::State::Retrying | crate::model::State::InFlight => when(m.next_attempt_on),
                _ => String::new(),
            };
            // A row that cannot be fully read is marked, and explained under the table.
            let mark = if m.problems.is_empty() { "" } else { "!" };
            t.add_row(vec![
                m.id.clone(),
                one_line(&m.event_type, 40),
                format!("{}{mark}", l.state.as_str()),
                when(m.occurred_on),
                m.attempts.to_string(),
                next,
                one_line(m.error.as_deref().unwrap_or(""), 60),
            ]);
        }
        let mut out = t.trim_fmt();
        let unreadable: Vec<&Message> = self
            .messages
            .iter()
            .map(|l| &l.message)
            .filter(|m| !m.problems.is_empty())
            .collect();
        if !unreadable.is_empty() {
            out.push_str("\n! not readable as the schema says (shown lossily):");
            for m in unreadable {
                out.push_str(&format!("\n  {}: {}", m.id, problems(m)));
            }
        }
        out
    }
}

/// `show` output.
#[derive(Debug, Serialize)]
pub struct MessageView {
    #[serde(flatten)]
    pub detail: MessageDetail,
    pub state: crate::model::State,
}

impl Render for MessageView {
    fn human(&self, _: &Style) -> String {
        let m = &self.detail.message;
        let mut lines = vec![
            format!("Id:               {}", m.id),
            format!("Type:             {}", m.event_type),
            format!("State:            {}", self.state.as_str()),
            format!("OccuredOnUtc:     {}", when(m.occurred_on)),
            format!("ProcessedOnUtc:   {}", when(m.processed_on)),
            format!("Attempts:         {}", m.attempts),
            format!("LastAttemptOnUtc: {}", when(m.last_attempt_on)),
            format!("NextAttemptOnUtc: {}", when(m.next_attempt_on)),
            format!("LockedBy:         {}", m.locked_by.as_deref().unwrap_or("")),
            format!("LockedUntilUtc:   {}", when(m.locked_until)),
            format!("DeadOnUtc:        {}", when(m.dead_on)),
            format!("Error:            {}", m.error.as_deref().unwrap_or("")),
        ];
        if let Some(key) = &m.key {
            lines.push(format!("OrderingKey:      {key}"));
        }
        if m.skipped_on.is_some() {
            lines.push(format!("SkippedOnUtc:     {}", when(m.skipped_on)));
        }
        if let Some(parent) = &m.trace_parent {
            let valid = if crate::model::valid_traceparent(parent) {
                ""
            } else {
                " (not a W3C traceparent: sinks leave it out)"
            };
            lines.push(format!("TraceParent:      {}{valid}", one_line(parent, 80)));
        }
        if let Some(state) = &m.trace_state {
            lines.push(format!("TraceState:       {}", one_line(state, 200)));
        }
        if m.crashes > 0 {
            lines.push(format!(
                "Crashes:          {} (claims that ended with no outcome; parked at {})",
                m.crashes,
                crate::relay::PARK_AFTER_CRASHES
            ));
        }
        if let Some(b) = &self.detail.blocked_by {
            lines.push(format!(
                "Waiting behind:   {} (occurred {}; `outboxctl explain {}` says why)",
                b.id,
                when(b.occurred_on),
                b.id
            ));
        }
        if !m.problems.is_empty() {
            lines.push(format!("Unreadable:       {} (shown lossily)", problems(m)));
        }
        lines.push("Content:".to_owned());
        let content = serde_json::from_str::<serde_json::Value>(&m.content)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_else(|| m.content.clone());
        lines.extend(content.lines().map(|l| format!("  {l}")));
        if !self.detail.deliveries.is_empty() {
            lines.push("Delivered to:".to_owned());
            for d in &self.detail.deliveries {
                lines.push(format!("  {} at {}", d.destination, when(d.delivered_on)));
            }
        }
        if !self.detail.replays.is_empty() {
            lines.push("Replays:".to_owned());
            for r in &self.detail.replays {
                lines.push(format!("  {}", replay_line(r)));
            }
        }
        if !self.detail.failures.is_empty() {
            lines.push("Failures:".to_owned());
            for f in &self.detail.failures {
                let dest = f
                    .destination
                    .as_deref()
                    .map(|d| format!(" [{d}]"))
                    .unwrap_or_default();
                lines.push(format!(
                    "  #{} {}{dest}: {}",
                    f.attempt,
                    when(f.failed_on),
                    f.error
                ));
            }
        }
        lines.join("\n")
    }
}

impl Render for Stats {
    fn human(&self, style: &Style) -> String {
        let c = &self.counts;
        let mut t = style.table(&[
            "TYPE",
            "TOTAL",
            "PROCESSED",
            "FAILED",
            "PENDING",
            "IN FLIGHT",
            "RETRYING",
            "DEAD",
        ]);
        let row = |name: &str, c: &crate::model::Counts| {
            vec![
                name.to_owned(),
                c.total.to_string(),
                c.processed.to_string(),
                c.failed.to_string(),
                c.pending.to_string(),
                c.in_flight.to_string(),
                c.retrying.to_string(),
                c.dead.to_string(),
            ]
        };
        for ty in &self.by_type {
            t.add_row(row(&one_line(&ty.event_type, 40), &ty.counts));
        }
        t.add_row(row("(all)", c));
        let age = match self.oldest_unprocessed_age_seconds {
            Some(s) => format!(
                "oldest unprocessed: {} ago ({})",
                humantime::format_duration(std::time::Duration::from_secs(s as u64)),
                when(self.oldest_unprocessed_on)
            ),
            None => "oldest unprocessed: none".to_owned(),
        };
        let mut out = format!("{}\n{age}", t.trim_fmt());
        if self.blocked_keys > 0 {
            out.push_str(&format!(
                "\nblocked keys: {} (outboxctl list --blocked)",
                self.blocked_keys
            ));
        }
        for c in &self.open_circuits {
            out.push_str(&format!(
                "\ncircuit open: {} until {} after {} failures in a row (last: {})",
                one_line(&c.destination, 60),
                when(Some(c.open_until)),
                c.failures,
                one_line(&c.last_error, 120)
            ));
        }
        if let Some(s) = self.stalled_seconds.filter(|s| *s >= 60.0) {
            out.push_str(&format!(
                "\nstalled: messages due and nothing delivered for {} (is a relay running?)",
                humantime::format_duration(std::time::Duration::from_secs(s as u64))
            ));
        }
        out
    }
}

#[derive(Debug, Serialize)]
pub struct RetryReport {
    pub dry_run: bool,
    pub retried: u64,
}

impl Render for RetryReport {
    fn human(&self, _: &Style) -> String {
        if self.dry_run {
            format!("would retry {} messages", self.retried)
        } else {
            format!("retried {} messages", self.retried)
        }
    }
}

#[derive(Debug, Serialize)]
pub struct SkipReport {
    pub dry_run: bool,
    pub skipped: u64,
    /// Of the ids given, those already processed or skipped, or in flight.
    pub left_alone: u64,
}

impl Render for SkipReport {
    fn human(&self, _: &Style) -> String {
        let verb = if self.dry_run { "would skip" } else { "skipped" };
        let mut line = format!("{verb} {} messages", self.skipped);
        if self.left_alone > 0 {
            line.push_str(&format!(
                "; left {} alone (processed, skipped already, or in flight: see `outboxctl explain ID`)",
                self.left_alone
            ));
        }
        line
    }
}

/// `audit` output: the audit trail, newest first.
#[derive(Debug, Serialize)]
pub struct AuditLog {
    pub entries: Vec<crate::model::AuditEntry>,
}

impl Render for AuditLog {
    fn human(&self, style: &Style) -> String {
        if self.entries.is_empty() {
            return "no audited actions".into();
        }
        let mut t = style.table(&["AT", "ACTOR", "ACTION", "MESSAGES", "WHICH", "COMMAND"]);
        for e in &self.entries {
            let which = match (&e.ids, &e.filter) {
                (Some(ids), _) => ids.join(" "),
                (None, Some(f)) => f.clone(),
                (None, None) => String::new(),
            };
            t.add_row(vec![
                when(e.at),
                one_line(&e.actor, 30),
                e.action.clone(),
                e.messages.to_string(),
                one_line(&which, 60),
                one_line(&e.command, 80),
            ]);
        }
        t.trim_fmt()
    }
}

#[derive(Debug, Serialize)]
pub struct PurgeReport {
    pub dry_run: bool,
    pub deleted: u64,
    pub processed_before: String,
}

impl Render for PurgeReport {
    fn human(&self, _: &Style) -> String {
        let verb = if self.dry_run { "would delete" } else { "deleted" };
        format!(
            "{verb} {} processed messages processed before {}",
            self.deleted, self.processed_before
        )
    }
}

impl Render for crate::explain::Explanation {
    fn human(&self, _: &Style) -> String {
        let mut lines = vec![
            format!("{} ({}): {}", self.id, self.event_type, self.state.as_str()),
            self.answer.clone(),
        ];
        if let Some(action) = &self.action {
            lines.push(format!("To act: {action}"));
        }
        if let Some(trace) = &self.trace_id {
            lines.push(format!("Trace: {trace}"));
        }
        // The latest replay says whether the message went out again, and how it went.
        if let Some(last) = self.replays.last() {
            let earlier = match self.replays.len() - 1 {
                0 => String::new(),
                n => format!(" ({n} earlier)"),
            };
            lines.push(format!("Replayed: {}{earlier}", replay_line(last)));
        }
        lines.join("\n")
    }
}

/// One message a dry run of `replay` would send.
#[derive(Debug, Serialize)]
pub struct SampleMessage {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub occurred_on: Option<DateTime<Utc>>,
    pub processed_on: Option<DateTime<Utc>>,
}

/// What `replay` is about to do (or, with `--dry-run`, would do).
#[derive(Debug, Serialize)]
pub struct ReplayPreview {
    pub dry_run: bool,
    /// The unfinished replay of the same selection it resumes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumes: Option<String>,
    /// Messages to send: all selected, or those a resumed replay has left.
    pub messages: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    pub new_delivery_id: bool,
    /// The first few, in replay order (a new replay only).
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "sample")]
    pub sample: Vec<Message>,
}

fn sample<S: serde::Serializer>(messages: &[Message], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(messages.iter().map(|m| SampleMessage {
        id: m.id.clone(),
        event_type: m.event_type.clone(),
        occurred_on: m.occurred_on,
        processed_on: m.processed_on,
    }))
}

impl ReplayPreview {
    /// "deliver 12 messages again to their routes", for prompts and the dry run.
    pub fn summary(&self) -> String {
        let to = match &self.to {
            Some(sink) => format!("to sink {sink}"),
            None => "to their routes".into(),
        };
        let ids = if self.new_delivery_id {
            " with new delivery ids"
        } else {
            ""
        };
        match &self.resumes {
            Some(r) => format!(
                "resume replay {r}: deliver the {} messages it has left {to}{ids}",
                self.messages
            ),
            None => format!("deliver {} messages again {to}{ids}", self.messages),
        }
    }
}

impl Render for ReplayPreview {
    fn human(&self, style: &Style) -> String {
        if self.messages == 0 {
            return "no messages match: nothing to replay".into();
        }
        let head = if self.dry_run {
            format!("would {}", self.summary())
        } else {
            self.summary()
        };
        if self.sample.is_empty() {
            return head;
        }
        let mut t = style.table(&["ID", "TYPE", "OCCURRED", "PROCESSED"]);
        for m in &self.sample {
            t.add_row(vec![
                m.id.clone(),
                one_line(&m.event_type, 40),
                when(m.occurred_on),
                when(m.processed_on),
            ]);
        }
        let more = self.messages.saturating_sub(self.sample.len() as u64);
        let tail = if more > 0 {
            format!("\n… and {more} more")
        } else {
            String::new()
        };
        format!("{head}; the first of them:\n{t}{tail}")
    }
}

/// How a replay run ended.
#[derive(Debug, Serialize)]
pub struct ReplayReport {
    pub replay: String,
    /// Stopped on request (Ctrl-C) with messages left: the same command resumes it.
    pub stopped: bool,
    pub messages: u64,
    pub delivered: u64,
    pub dead: u64,
    pub pending: u64,
    /// Deliveries this run attempted.
    pub attempted: u64,
    pub duration_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    pub new_delivery_id: bool,
}

impl From<crate::replay::Finished> for ReplayReport {
    fn from(f: crate::replay::Finished) -> Self {
        ReplayReport {
            replay: f.replay.replay,
            stopped: f.stopped,
            messages: f.replay.messages,
            delivered: f.replay.delivered,
            dead: f.replay.dead,
            pending: f.replay.pending,
            attempted: f.attempted,
            duration_ms: f.duration.as_millis() as u64,
            to: f.replay.sink,
            new_delivery_id: f.replay.new_delivery_id,
        }
    }
}

impl Render for ReplayReport {
    fn human(&self, _: &Style) -> String {
        let mut line = format!(
            "replay {}: {} of {} messages delivered",
            self.replay, self.delivered, self.messages
        );
        if self.dead > 0 {
            line.push_str(&format!(
                ", {} dead (`outboxctl show ID` says why; the same command tries them again)",
                self.dead
            ));
        }
        if self.stopped {
            line.push_str(&format!(
                "; stopped with {} left: the same command resumes it",
                self.pending
            ));
        }
        line
    }
}
