//! The storage contract. One implementation per backend; the relay and the commands only see
//! this trait. Every method that compares times takes `now` from the caller, so tests can pin it
//! and relays on several machines agree on what their own clock says.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::model::{
    ActivityBucket, AuditEntry, BlockedKey, Circuit, Message, MessageDetail, NewMessage, Replay,
    ReplayDelivery, Stats,
};

#[cfg(feature = "postgres")]
pub mod postgres;
pub mod sqlite;
mod wal;

/// A value bound to an application statement inside a [`Transaction`].
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl From<&str> for SqlValue {
    fn from(s: &str) -> Self {
        SqlValue::Text(s.to_owned())
    }
}
impl From<String> for SqlValue {
    fn from(s: String) -> Self {
        SqlValue::Text(s)
    }
}
impl From<i64> for SqlValue {
    fn from(v: i64) -> Self {
        SqlValue::Int(v)
    }
}
impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(SqlValue::Null, Into::into)
    }
}

/// An open write transaction in which an application writes its business rows and its outbox
/// messages together. Dropping it without `commit` rolls everything back.
pub trait Transaction {
    /// Runs an application statement. Parameters are written `$1, $2, …` on every backend and
    /// bound by number: `$N` is `params[N - 1]` wherever and however often it appears. A `$N`
    /// without a value is an error.
    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64, StoreError>;
    /// Inserts outbox messages as part of this transaction.
    fn insert_messages(&mut self, messages: &[NewMessage]) -> Result<(), StoreError>;
    fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

pub struct ClaimParams<'a> {
    /// The relay instance taking the claim.
    pub owner: &'a str,
    pub now: DateTime<Utc>,
    /// Until when the claim holds; past it another relay may take the message over.
    pub lease_until: DateTime<Utc>,
    pub limit: usize,
}

/// A failed attempt, to be recorded with [`Store::record`].
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub id: String,
    /// The attempt that failed (the message's `Attempts` when it was claimed).
    pub attempt: i64,
    pub error: String,
    pub destination: Option<String>,
    /// Of several destinations, those that accepted the message on this attempt: remembered,
    /// so the next attempt skips them (see [`Store::deliveries`]).
    pub accepted: Vec<String>,
    pub failed_on: DateTime<Utc>,
    /// When to try again; `None` makes the message dead.
    pub next_attempt: Option<DateTime<Utc>>,
    /// Dead and skipped at once (its type's `on_dead = "skip"`): its ordering key goes on.
    pub skip: bool,
    /// Parked by the relay after crashes: the audit trail gets a row for it, with the failure.
    pub parked: bool,
}

impl Failure {
    /// The error with the destination that gave it, as a replay keeps its last error.
    pub fn described(&self) -> String {
        match &self.destination {
            Some(d) => format!("{d}: {}", self.error),
            None => self.error.clone(),
        }
    }
}

/// What became of a run of claimed messages: written in one transaction.
pub struct RecordParams<'a> {
    /// The relay that claimed them: failures are recorded only on claims it still holds.
    pub owner: &'a str,
    /// When the delivered ones count as processed.
    pub now: DateTime<Utc>,
    pub delivered: &'a [String],
    pub failed: &'a [Failure],
}

/// What [`Store::record`] changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    /// Delivered messages that were not processed yet.
    pub processed: u64,
    /// Failures recorded on a claim the owner still held (the others are left alone).
    pub failed: u64,
}

/// Which rows `list` shows. Mirrors the original design's monitoring queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFilter {
    /// `ProcessedOnUtc IS NULL` (dead ones included), oldest first.
    Unprocessed,
    /// `Error IS NOT NULL` (retrying and dead), oldest first.
    Failed,
    /// Out of attempts or permanently failed, oldest first.
    Dead,
    /// Delivered, most recently processed first.
    Processed,
}

pub struct ListParams {
    pub filter: ListFilter,
    pub event_type: Option<String>,
    pub limit: usize,
}

#[derive(Debug, Clone)]
pub enum RetrySelect {
    /// Failing messages that are not dead and not claimed.
    Failed,
    /// Dead messages; they get a fresh set of attempts.
    Dead,
    /// These messages, whatever unprocessed state they are in.
    Ids(Vec<String>),
}

/// Which messages a replay takes, in its own words: every condition given must hold. Serialized,
/// it is the replay's fingerprint (with the [`ReplayPlan`]'s options), by which the same command
/// finds a replay it started before and resumes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReplaySelect {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Occurred at or after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occurred_since: Option<DateTime<Utc>>,
    /// Occurred before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occurred_until: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processed_since: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processed_until: Option<DateTime<Utc>>,
    pub state: ReplayState,
}

impl ReplaySelect {
    /// The time conditions as (column, SQL operator, bound): since is inclusive, until exclusive.
    pub fn time_bounds(&self) -> [(&'static str, &'static str, Option<DateTime<Utc>>); 4] {
        [
            ("OccuredOnUtc", ">=", self.occurred_since),
            ("OccuredOnUtc", "<", self.occurred_until),
            ("ProcessedOnUtc", ">=", self.processed_since),
            ("ProcessedOnUtc", "<", self.processed_until),
        ]
    }
}

/// The states of message a replay takes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplayState {
    /// Delivered (ProcessedOnUtc set).
    #[default]
    Processed,
    /// Dead and not processed.
    Dead,
    /// Failing, retrying or dead (`Error IS NOT NULL`), as `list --failed`.
    Failed,
    /// Not processed, as `list --unprocessed`.
    Unprocessed,
    /// Any state.
    All,
}

/// A replay to start (or resume).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReplayPlan {
    pub select: ReplaySelect,
    /// Only to this sink (`--to`); None: each message's current routes.
    pub sink: Option<String>,
    /// A fresh delivery id per message (see [`crate::model::replay_delivery_id`]).
    pub new_delivery_id: bool,
    /// The selection as the command wrote it (`--since 1h`, not the time it meant then), when
    /// it differs from `select`: the same command later must find the same replay.
    #[serde(skip)]
    pub as_written: Option<String>,
}

impl ReplayPlan {
    /// What makes two replay commands the same replay.
    pub fn fingerprint(&self) -> String {
        self.as_written
            .clone()
            .unwrap_or_else(|| serde_json::to_string(self).expect("a replay plan serializes"))
    }
}

/// The queue a relay works: the outbox itself, or a replay's (see [`Store::replay_claim`]).
/// Claims, outcomes, leases and per-destination state go to the one it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue<'a> {
    Outbox,
    Replay(&'a str),
}

impl Queue<'_> {
    pub fn claim(self, store: &mut dyn Store, params: &ClaimParams) -> Result<Vec<Message>, StoreError> {
        match self {
            Queue::Outbox => store.claim(params),
            Queue::Replay(replay) => store.replay_claim(replay, params),
        }
    }

    pub fn record(self, store: &mut dyn Store, params: &RecordParams) -> Result<Recorded, StoreError> {
        match self {
            Queue::Outbox => store.record(params),
            Queue::Replay(replay) => store.replay_record(replay, params),
        }
    }

    pub fn extend(
        self,
        store: &mut dyn Store,
        ids: &[String],
        owner: &str,
        until: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        match self {
            Queue::Outbox => store.extend(ids, owner, until),
            Queue::Replay(replay) => store.replay_extend(replay, ids, owner, until),
        }
    }

    pub fn release(
        self,
        store: &mut dyn Store,
        ids: &[String],
        owner: &str,
        due: Option<DateTime<Utc>>,
    ) -> Result<u64, StoreError> {
        match self {
            Queue::Outbox => store.release(ids, owner, due),
            Queue::Replay(replay) => store.replay_release(replay, ids, owner, due),
        }
    }

    pub fn deliveries(self, store: &mut dyn Store, id: &str) -> Result<Vec<String>, StoreError> {
        match self {
            Queue::Outbox => store.deliveries(id),
            Queue::Replay(replay) => store.replay_deliveries(replay, id),
        }
    }
}

/// The storage backend of the relay.
///
/// Claims are leases: `claim` marks rows as owned until `lease_until` and counts the attempt;
/// `record` (for failures), `extend` and `release` act only on what the caller still owns (a
/// delivery that happened is recorded even if the lease ran out meanwhile). Each method is its own short transaction; none stays open while a handler runs.
pub trait Store {
    /// A short name for logs: `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Creates or upgrades the schema, adopting a table of the original design. Idempotent.
    fn init(&mut self) -> Result<(), StoreError>;

    /// Makes the database fill the ordering key of each new message of the rules' types from its
    /// content (when the inserting application left it NULL), replacing the rules installed
    /// before; unprocessed messages of those types without a key get theirs now. A content that
    /// is not JSON, or has nothing at the pointer, leaves the key NULL. With `audit` (the rules
    /// changed), an audit row `key-rules` is written in the same transaction: the rules as JSON,
    /// and how many unprocessed messages got a key from them.
    fn apply_key_rules(&mut self, rules: &[KeyRule], audit: Option<&Audit>) -> Result<(), StoreError>;

    /// The rules installed by the last [`Store::apply_key_rules`], by type; none before any.
    fn key_rules(&mut self) -> Result<Vec<KeyRule>, StoreError>;

    /// Opens a write transaction for an application's business rows and outbox messages.
    fn begin(&mut self) -> Result<Box<dyn Transaction + '_>, StoreError>;

    /// Claims up to `limit` due messages, oldest first, that are neither processed, dead nor
    /// claimed under a live lease. Never returns more than `limit` rows. A row another
    /// application wrote wrong is no error: it comes back with [`Message::problems`] set, its
    /// id usable with `record`, and the relay decides its fate.
    fn claim(&mut self, params: &ClaimParams) -> Result<Vec<Message>, StoreError>;

    /// Pushes the lease of messages the owner still holds.
    fn extend(&mut self, ids: &[String], owner: &str, until: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Records the outcomes of a run in one transaction (one commit for the whole run, never one
    /// per message): delivered messages become processed, their error and claim cleared, even if
    /// the lease ran out meanwhile (the delivery happened); each failure is added to the history
    /// and schedules the next attempt, or makes the message dead, if its owner still holds the
    /// claim (otherwise its state is left alone); the destinations that accepted a failed message
    /// are remembered in any case.
    fn record(&mut self, params: &RecordParams) -> Result<Recorded, StoreError>;

    /// Destinations that already accepted the message.
    fn deliveries(&mut self, id: &str) -> Result<Vec<String>, StoreError>;

    /// Gives back claims that were not attempted (shutdown, an open circuit): due again at
    /// `due` (None: at once), attempt uncounted.
    fn release(&mut self, ids: &[String], owner: &str, due: Option<DateTime<Utc>>)
    -> Result<u64, StoreError>;

    /// The destinations whose circuit is open, with their state.
    fn circuits(&mut self) -> Result<Vec<Circuit>, StoreError>;

    /// Opens (or opens again) a destination's circuit.
    fn open_circuit(&mut self, circuit: &Circuit) -> Result<(), StoreError>;

    /// Takes the right to probe a circuit whose time is up (its end at or before `now`): moves
    /// its end to `until`, so the others keep waiting, and says whether this caller got it. Of
    /// relays asking at once, one does.
    fn probe_circuit(
        &mut self,
        destination: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Closes a destination's circuit.
    fn close_circuit(&mut self, destination: &str) -> Result<(), StoreError>;

    fn list(&mut self, params: &ListParams) -> Result<Vec<Message>, StoreError>;

    /// Ordering keys whose first undelivered message (neither processed nor skipped) has
    /// failed: retrying or dead. Oldest head first, at most `limit`, skipping `offset` of them.
    fn blocked_keys(&mut self, limit: usize, offset: usize) -> Result<Vec<BlockedKey>, StoreError>;

    /// One message with its failure history. Ids are matched case-insensitively.
    fn get(&mut self, id: &str) -> Result<Option<MessageDetail>, StoreError>;

    fn stats(&mut self, now: DateTime<Utc>) -> Result<Stats, StoreError>;

    /// Ids among `ids` that do not exist.
    fn missing_ids(&mut self, ids: &[String]) -> Result<Vec<String>, StoreError>;

    /// Makes the selected messages due now, writing `audit` in the same transaction. With
    /// `dry_run`, only counts them (and writes nothing).
    fn retry(
        &mut self,
        select: &RetrySelect,
        now: DateTime<Utc>,
        dry_run: bool,
        audit: &Audit,
    ) -> Result<u64, StoreError>;

    /// Skips the given messages that are neither processed, skipped nor claimed under a live
    /// lease: they become dead and skipped, and stop holding back the later messages of their
    /// ordering key; `audit` is written in the same transaction. With `dry_run`, only counts them.
    fn skip(
        &mut self,
        ids: &[String],
        now: DateTime<Utc>,
        dry_run: bool,
        audit: &Audit,
    ) -> Result<u64, StoreError>;

    /// Counts processed messages processed before `before`.
    fn count_purgeable(&mut self, before: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Deletes at most `limit` processed messages processed before `before`, in one short
    /// transaction, adding the count to `audit`'s row in it. Never touches unprocessed rows.
    /// Returns how many were deleted.
    fn purge_chunk(&mut self, before: DateTime<Utc>, limit: usize, audit: &Audit) -> Result<u64, StoreError>;

    /// The audit trail, newest first: at most `limit` rows, since `since` if given.
    fn audit_log(
        &mut self,
        since: Option<DateTime<Utc>>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError>;

    /// Deletes the audit rows older than `before` (their own retention). Returns how many.
    fn purge_audit(&mut self, before: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Deletes the replays started before `before` that have nothing left in flight or to
    /// deliver (every message delivered or dead), with their messages' replay rows. Returns
    /// how many replays.
    fn purge_replays(&mut self, before: DateTime<Utc>) -> Result<u64, StoreError>;

    /// When the next message that is waiting (on a retry backoff or a lease) becomes due, if
    /// any: `run` wakes up then rather than at its next tick. Without it a failed message would
    /// wait for the next `--every` tick instead of its backoff.
    fn next_due(&mut self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, StoreError>;

    /// Processed messages and failed attempts per `bucket` in `[since, until)`, oldest first.
    /// Buckets start at multiples of `bucket` since the Unix epoch; empty ones may be left out.
    fn activity(
        &mut self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        bucket: Duration,
    ) -> Result<Vec<ActivityBucket>, StoreError>;

    /// One page of `list`: the same order, skipping `offset` rows in the database.
    fn list_page(&mut self, params: &ListParams, offset: usize) -> Result<Vec<Message>, StoreError>;

    /// How many messages `select` takes, and the first `sample` of them in replay order.
    fn replay_preview(
        &mut self,
        select: &ReplaySelect,
        sample: usize,
    ) -> Result<(u64, Vec<Message>), StoreError>;

    /// The latest replay with this fingerprint that has messages not delivered (pending or dead), if any.
    fn replay_unfinished(&mut self, fingerprint: &str) -> Result<Option<Replay>, StoreError>;

    /// Starts a replay, or resumes the unfinished one made by the same plan, in one transaction
    /// with `audit`. A new replay queues every message the plan selects now, oldest first, each
    /// once; a resumed one makes its dead messages due again (a fresh set of attempts) and keeps
    /// what it delivered. Nothing of the messages themselves changes. `audit.operation` names a
    /// new replay.
    fn replay_start(
        &mut self,
        plan: &ReplayPlan,
        now: DateTime<Utc>,
        audit: &Audit,
    ) -> Result<Replay, StoreError>;

    /// A replay's progress.
    fn replay_state(&mut self, replay: &str) -> Result<Option<Replay>, StoreError>;

    /// The replay deliveries of one message, oldest replay first.
    fn replays_of(&mut self, id: &str) -> Result<Vec<ReplayDelivery>, StoreError>;

    /// [`Store::claim`] on a replay's queue: due messages not delivered yet in this replay, one
    /// per ordering key (an earlier one of the key in this replay, neither delivered nor dead,
    /// holds the later back), in replay order. Each comes with its attempts in this replay, the
    /// replay's sink and delivery id; one whose row is gone (purged) comes back unreadable.
    fn replay_claim(&mut self, replay: &str, params: &ClaimParams) -> Result<Vec<Message>, StoreError>;

    /// [`Store::record`] on a replay's queue: the messages themselves are left as they are.
    fn replay_record(&mut self, replay: &str, params: &RecordParams) -> Result<Recorded, StoreError>;

    /// [`Store::release`] on a replay's queue.
    fn replay_release(
        &mut self,
        replay: &str,
        ids: &[String],
        owner: &str,
        due: Option<DateTime<Utc>>,
    ) -> Result<u64, StoreError>;

    /// [`Store::extend`] on a replay's queue.
    fn replay_extend(
        &mut self,
        replay: &str,
        ids: &[String],
        owner: &str,
        until: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// [`Store::deliveries`] on a replay's queue.
    fn replay_deliveries(&mut self, replay: &str, id: &str) -> Result<Vec<String>, StoreError>;

    /// Waits until new messages may have arrived, `timeout` passes or `stop` is set, returning
    /// early on the backend's change signal (a NOTIFY, SQLite's data_version).
    fn wait_for_work(&mut self, timeout: Duration, stop: &AtomicBool) -> Result<(), StoreError>;
}

/// Sleeps in short steps until `timeout`, `stop`, or `changed` says there is new work.
pub fn sleep_unless_stopped(
    timeout: Duration,
    stop: &AtomicBool,
    mut changed: impl FnMut() -> Result<bool, StoreError>,
) -> Result<(), StoreError> {
    const STEP: Duration = Duration::from_millis(50);
    let deadline = Instant::now() + timeout;
    while !stop.load(Ordering::Relaxed) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || changed()? {
            break;
        }
        std::thread::sleep(left.min(STEP));
    }
    Ok(())
}

/// Where the ordering key of a type's messages is found in their content, for applications that
/// cannot write the `OrderingKey` column themselves: `init` installs it, and the database fills
/// the key as each row is inserted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRule {
    pub event_type: String,
    /// A JSON pointer (RFC 6901) into the content, e.g. `/order/id`.
    pub pointer: String,
}

impl KeyRule {
    /// The pointer's reference tokens, unescaped. Checked when the config is read.
    pub fn tokens(pointer: &str) -> Result<Vec<String>, String> {
        let Some(rest) = pointer.strip_prefix('/') else {
            return Err(format!(
                "key pointer {pointer:?} is not a JSON pointer: write it like \"/order_id\" or \"/order/id\""
            ));
        };
        rest.split('/')
            .map(|t| {
                if t.is_empty() || t.contains('"') {
                    Err(format!(
                        "key pointer {pointer:?}: each part must be a non-empty name without '\"'"
                    ))
                } else {
                    Ok(t.replace("~1", "/").replace("~0", "~"))
                }
            })
            .collect()
    }

    /// The pointer as an SQLite JSON path: names quoted, all-digit parts index arrays.
    pub fn sqlite_path(&self) -> String {
        let tokens = Self::tokens(&self.pointer).unwrap_or_default();
        let mut path = "$".to_owned();
        for t in tokens {
            if t.bytes().all(|b| b.is_ascii_digit()) {
                path.push_str(&format!("[{t}]"));
            } else {
                path.push_str(&format!(".\"{t}\""));
            }
        }
        path
    }
}

/// Who asked for a change, and how: the store writes it to the audit trail in the same
/// transaction as the change, with what was changed.
#[derive(Debug, Clone)]
pub struct Audit {
    /// One operation, one row: the chunks of a purge add their counts to it.
    pub operation: String,
    pub at: DateTime<Utc>,
    /// The OS user, `dashboard`, or a relay.
    pub actor: String,
    /// The command line, secrets redacted, or the dashboard action.
    pub command: String,
}

impl Audit {
    pub fn new(at: DateTime<Utc>, actor: impl Into<String>, command: impl Into<String>) -> Self {
        Audit {
            operation: uuid::Uuid::now_v7().to_string(),
            at,
            actor: actor.into(),
            command: command.into(),
        }
    }
}

/// What an audit row says was acted on: the ids named, or the selection.
pub fn audit_target(select: &RetrySelect) -> (Option<String>, Option<&'static str>) {
    match select {
        RetrySelect::Failed => (None, Some("failed")),
        RetrySelect::Dead => (None, Some("dead")),
        RetrySelect::Ids(ids) => (Some(ids_json(ids)), None),
    }
}

/// Key rules as the audit trail keeps them: `{"Type": "/pointer", …}`.
pub fn key_rules_json(rules: &[KeyRule]) -> String {
    let map: std::collections::BTreeMap<&str, &str> = rules
        .iter()
        .map(|r| (r.event_type.as_str(), r.pointer.as_str()))
        .collect();
    serde_json::to_string(&map).expect("a map of strings serializes")
}

/// Ids as the JSON array the audit trail keeps.
pub fn ids_json(ids: &[String]) -> String {
    serde_json::to_string(ids).expect("a list of strings serializes")
}

/// Options every backend understands.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Name of the outbox table.
    pub table: String,
    /// How long to wait for another writer's lock before giving up.
    pub busy_timeout: Duration,
}

/// Opens the store a database argument names: a path (SQLite) or a `postgres://` URL.
pub fn open(database: &str, options: &StoreOptions) -> Result<Box<dyn Store>, StoreError> {
    if is_postgres_url(database) {
        #[cfg(feature = "postgres")]
        return Ok(Box::new(postgres::PostgresStore::open(database, options)?));
        #[cfg(not(feature = "postgres"))]
        return Err(StoreError::Unavailable(format!(
            "{} is a PostgreSQL URL, but this outboxctl was built without PostgreSQL support; \
             rebuild it with `cargo build --release --features postgres`",
            crate::redact::redact_url(database)
        )));
    }
    Ok(Box::new(sqlite::SqliteStore::open(database, options)?))
}

/// Whether a database argument names a PostgreSQL server rather than a SQLite file.
pub fn is_postgres_url(database: &str) -> bool {
    database.starts_with("postgres://") || database.starts_with("postgresql://")
}

/// The original design's table name, used when none is given.
pub const DEFAULT_TABLE: &str = "OutboxMessage";

/// The version of the schema this release creates, kept in `"<table>_Schema"`. An outboxctl
/// schema without that table is version 1; `init` migrates older versions and refuses newer ones.
pub const SCHEMA_VERSION: i32 = 5;

/// Refuses a schema made by a newer release, whose meaning this one cannot know.
pub fn check_schema_version(version: Option<i32>, table: &str) -> Result<(), StoreError> {
    match version {
        Some(v) if v > SCHEMA_VERSION => Err(StoreError::Unavailable(format!(
            "the outbox schema of table {table} is version {v}, made by a newer outboxctl (this one \
             knows up to version {SCHEMA_VERSION}); upgrade outboxctl"
        ))),
        _ => Ok(()),
    }
}

/// Table names go into SQL text, so they are limited to plain identifiers.
pub fn validate_table_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 63;
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid table name {name:?}: use letters, digits and underscores, starting with a letter"
        ))
    }
}

/// What a backend reads besides the per-type counts, for [`assemble_stats`].
#[derive(Debug, Default)]
pub struct StatsExtra {
    pub oldest_unprocessed_on: Option<DateTime<Utc>>,
    pub oldest_due_on: Option<DateTime<Utc>>,
    pub last_processed_on: Option<DateTime<Utc>>,
    pub blocked_keys: u64,
    pub open_circuits: Vec<Circuit>,
}

/// Totals and ages from per-type counts; shared by every backend so they cannot disagree.
pub fn assemble_stats(
    by_type: std::collections::BTreeMap<String, crate::model::Counts>,
    extra: StatsExtra,
    now: DateTime<Utc>,
) -> Stats {
    use crate::model::{Counts, TypeCounts};
    let mut total = Counts::default();
    let by_type: Vec<TypeCounts> = by_type
        .into_iter()
        .map(|(event_type, mut c)| {
            c.total += c.processed;
            total.total += c.total;
            total.processed += c.processed;
            total.failed += c.failed;
            total.pending += c.pending;
            total.retrying += c.retrying;
            total.dead += c.dead;
            total.in_flight += c.in_flight;
            TypeCounts {
                event_type,
                counts: c,
            }
        })
        .filter(|t| t.counts.total > 0)
        .collect();
    let age = |t: DateTime<Utc>| ((now - t).num_milliseconds() as f64 / 1000.0).max(0.0);
    // Stalled since the later of "work became due" and "something was delivered".
    let stalled_since = extra
        .oldest_due_on
        .map(|due| extra.last_processed_on.map_or(due, |last| last.max(due)));
    Stats {
        counts: total,
        oldest_unprocessed_on: extra.oldest_unprocessed_on,
        oldest_unprocessed_age_seconds: extra.oldest_unprocessed_on.map(age),
        oldest_due_on: extra.oldest_due_on,
        last_processed_on: extra.last_processed_on,
        stalled_seconds: stalled_since.map(age),
        blocked_keys: extra.blocked_keys,
        open_circuits: extra.open_circuits,
        by_type,
    }
}

#[cfg(test)]
mod tests {
    /// The schema files record the version the code knows.
    #[test]
    fn the_schema_files_write_this_release_s_version() {
        let sqlite = format!(
            "INSERT INTO \"OutboxMessage_Schema\" (Version) VALUES ({});",
            super::SCHEMA_VERSION
        );
        assert!(super::sqlite::SCHEMA.contains(&sqlite));
        #[cfg(feature = "postgres")]
        {
            let pg = format!(
                "INSERT INTO \"OutboxMessage_Schema\" (\"Version\") VALUES ({});",
                super::SCHEMA_VERSION
            );
            assert!(super::postgres::SCHEMA.contains(&pg));
        }
    }

    #[cfg(not(feature = "postgres"))]
    #[test]
    fn a_postgres_url_without_the_feature_says_how_to_build() {
        let options = super::StoreOptions {
            table: "OutboxMessage".into(),
            busy_timeout: std::time::Duration::from_secs(1),
        };
        let err = super::open("postgres://app:pw@db/shop", &options).err().unwrap();
        assert!(err.to_string().contains("--features postgres"), "{err}");
        assert!(!err.to_string().contains(":pw@"), "{err}");
        assert_eq!(err.exit_code(), crate::error::exit::DATABASE);
    }
}
