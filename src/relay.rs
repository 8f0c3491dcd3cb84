//! One pass of the relay: claim a batch, deliver each message, record the outcomes.
//! `process-once` runs one pass; `run` runs passes in a loop.
//!
//! Outcomes are written in runs, one transaction each, never one commit per message: at the
//! end of the batch, while a pipelining sink works on its next run, and at least every
//! [`RECORD_EVERY`] for sinks that deliver one message at a time. A crash (kill -9, power
//! loss with the relay's own disk) therefore redelivers at most the messages delivered since
//! the last write: never more than two runs of a pipelining sink (two batches at most, when `run`
//! chains claims), nor more than about `RECORD_EVERY` of one-at-a-time deliveries.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::circuit::{Breaker, Change, CircuitSettings, Gate};
use crate::error::StoreError;
use crate::model::Message;
use crate::retry::{Next, RetryPolicy};
use crate::sink::{DeliveryError, Outcomes, Pending, Router};
use crate::store::{ClaimParams, Failure, Queue, RecordParams, Store};
use crate::time::Clock;

/// The longest outcomes wait before they are written, while a batch is still being delivered.
pub const RECORD_EVERY: Duration = Duration::from_millis(100);

#[derive(Debug, Clone)]
pub struct RelaySettings {
    /// Written into claims so operators can see who holds a message.
    pub owner: String,
    pub batch_size: usize,
    pub lease: Duration,
    pub retry: RetryPolicy,
    /// Types whose dead messages are skipped at once, so their ordering key goes on.
    pub skip_dead: std::collections::BTreeSet<String>,
    pub circuit: CircuitSettings,
}

/// The most claims one pass of `run` makes while a pipelining sink keeps busy (see
/// [`Relay::run_once`]); then the runner's loop takes over again (metrics, schedule, stop).
pub const CHAINED_CLAIMS: usize = 8;

/// Claims of a message with no outcome (the relay died or hung while delivering it) that park it.
pub const PARK_AFTER_CRASHES: i64 = 3;

/// What one pass did.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct BatchReport {
    pub claimed: u64,
    pub delivered: u64,
    /// Failed and scheduled for another attempt.
    pub failed: u64,
    /// Failed for the last time (or permanently) and now dead.
    pub dead: u64,
    /// Claimed but given back unattempted because a stop was asked for.
    pub released: u64,
    /// Claimed but given back unattempted because their destination's circuit is open.
    pub deferred: u64,
    pub duration_ms: u64,
    /// Delivered messages that had an ordering key: the next message of each may be due now.
    /// Not printed.
    #[serde(skip)]
    pub keys_moved: u64,
    /// Occurred -> processed time of each delivered message, for the latency histogram.
    /// Not printed, and not summed by `add`.
    #[serde(skip)]
    pub latencies: Vec<Duration>,
}

impl BatchReport {
    /// Whether the batch came back full, so more may be waiting right now.
    pub fn full(&self, batch_size: usize) -> bool {
        self.claimed as usize >= batch_size
    }

    pub fn add(&mut self, other: &BatchReport) {
        self.claimed += other.claimed;
        self.delivered += other.delivered;
        self.failed += other.failed;
        self.dead += other.dead;
        self.released += other.released;
        self.deferred += other.deferred;
        self.keys_moved += other.keys_moved;
        self.duration_ms += other.duration_ms;
    }
}

/// Outcomes not written yet: they go to the store together, in one transaction.
#[derive(Default)]
struct Ledger {
    delivered: Vec<String>,
    /// How many of the delivered had an ordering key.
    keyed: u64,
    /// When each delivered message occurred, for the latency histogram.
    occurred: Vec<Option<DateTime<Utc>>>,
    failed: Vec<Failure>,
    /// Messages to give back unattempted (their destination's circuit is open), due when.
    deferred: Vec<(String, DateTime<Utc>)>,
    /// When the oldest outcome waiting here came in.
    since: Option<Instant>,
}

impl Ledger {
    fn note(&mut self) {
        self.since.get_or_insert_with(Instant::now);
    }

    fn is_empty(&self) -> bool {
        self.delivered.is_empty() && self.failed.is_empty() && self.deferred.is_empty()
    }

    /// Whether the oldest outcome has waited long enough.
    fn due(&self) -> bool {
        self.since.is_some_and(|t| t.elapsed() >= RECORD_EVERY)
    }
}

/// Why one message's delivery failed.
struct Failed {
    /// The sink (or sinks, comma-separated) that failed, if a sink was reached.
    destination: Option<String>,
    error: DeliveryError,
    /// Of several destinations, those that accepted the message on this attempt.
    accepted: Vec<String>,
}

impl Failed {
    fn new(destination: Option<String>, error: DeliveryError) -> Self {
        Failed {
            destination,
            error,
            accepted: Vec::new(),
        }
    }
}

/// A run of messages a sink is delivering.
struct Started {
    sink: String,
    range: std::ops::Range<usize>,
    outcomes: Pending,
}

pub struct Relay<'a> {
    pub store: &'a mut dyn Store,
    pub router: &'a mut Router,
    pub clock: &'a dyn Clock,
    pub settings: &'a RelaySettings,
    /// The circuits, kept by the caller across passes.
    pub breaker: &'a mut Breaker,
    /// The queue worked: the outbox, or a replay's (`outboxctl replay`).
    pub queue: Queue<'a>,
}

impl Relay<'_> {
    /// Claims one batch and works through it. Stops between messages once `stop` is set,
    /// giving the rest of the batch back. A store error ends the pass: whatever was delivered
    /// but not yet recorded is delivered again after its lease expires, never lost.
    ///
    /// When a full batch has been handed out and a sink is still delivering its last run, the
    /// pass claims the next batch meanwhile (up to [`CHAINED_CLAIMS`] in all), so the sink is not
    /// idle while the database works: a claim never takes a message in flight (its lease is
    /// live) nor the successor of one (it is not processed yet), so this breaks no order.
    pub fn run_once(&mut self, stop: &AtomicBool) -> Result<BatchReport, StoreError> {
        self.pass(stop, self.settings.batch_size, CHAINED_CLAIMS)
    }

    /// What `process-once` does: one batch of up to `batch_size` messages. A claim takes one
    /// message per ordering key, so while a pass delivers keyed messages (whose successors are
    /// then due) and the batch has room, it claims again for the rest.
    pub fn process_once(&mut self, stop: &AtomicBool) -> Result<BatchReport, StoreError> {
        let started = Instant::now();
        let mut total = self.pass(stop, self.settings.batch_size, 1)?;
        let mut last = total.clone();
        while last.keys_moved > 0
            && (total.claimed as usize) < self.settings.batch_size
            && !stop.load(Ordering::Relaxed)
        {
            last = self.pass(stop, self.settings.batch_size - total.claimed as usize, 1)?;
            total.add(&last);
            total.latencies.append(&mut last.latencies);
        }
        total.duration_ms = started.elapsed().as_millis() as u64;
        Ok(total)
    }

    /// Claims up to `limit` messages, fails the unreadable ones, and puts a suspect first.
    /// Returns them, whether the claim came back full, and their lease.
    fn claim(
        &mut self,
        limit: usize,
        ledger: &mut Ledger,
        report: &mut BatchReport,
    ) -> Result<(Vec<Message>, bool, DateTime<Utc>), StoreError> {
        let now = self.clock.now();
        let lease_until = now + self.settings.lease;
        let params = ClaimParams {
            owner: &self.settings.owner,
            now,
            lease_until,
            limit,
        };
        let batch = self.queue.claim(self.store, &params)?;
        let full = batch.len() >= limit;
        report.claimed += batch.len() as u64;
        let mut batch = self.fail_unreadable(batch, ledger);
        if batch.is_empty() {
            return Ok((batch, full, lease_until));
        }
        tracing::debug!(claimed = batch.len(), "claimed a batch");
        if self.settings.circuit.failures > 0 && self.breaker.stale() {
            self.breaker.load(self.store.circuits()?);
        }
        // A suspect (claimed twice with no outcome) goes first, alone, its outcome written at
        // once: if it takes this relay down too, nothing else of the batch was in flight. A
        // claim holds at most one suspect and one message per key, so this breaks no order.
        batch.sort_by_key(|m| m.crashes < 2);
        Ok((batch, full, lease_until))
    }

    /// One pass: up to `claims` claims of `limit` messages, the next one only while a full
    /// batch's last run is still with its sink.
    fn pass(&mut self, stop: &AtomicBool, limit: usize, claims: usize) -> Result<BatchReport, StoreError> {
        let started = Instant::now();
        let mut report = BatchReport::default();
        let mut ledger = Ledger::default();
        let (mut batch, mut full, mut lease_until) = self.claim(limit, &mut ledger, &mut report)?;
        let mut claimed = 1;

        // A run handed to a sink that delivers in the background: the outcomes so far are
        // recorded while the next run is on its way, so the database and the destination work
        // at once.
        let mut in_flight: Option<Started> = None;
        let mut i = 0;
        loop {
            if i == batch.len() {
                if !(full && in_flight.is_some() && claimed < claims) || stop.load(Ordering::Relaxed) {
                    break;
                }
                // Every message is out, the last run still on its way: claim the next batch now.
                let (more, more_full, more_lease) = self.claim(limit, &mut ledger, &mut report)?;
                (full, lease_until) = (more_full, more_lease);
                claimed += 1;
                if more.is_empty() {
                    break;
                }
                batch.extend(more);
            }
            if stop.load(Ordering::Relaxed) {
                self.finish_run(&batch, in_flight.take(), &mut ledger);
                self.flush(&mut ledger, &mut report)?;
                let rest: Vec<String> = batch[i..].iter().map(|m| m.id.clone()).collect();
                report.released = self.release(&rest, None)?;
                tracing::info!(
                    released = report.released,
                    "stopping: gave back the rest of the batch"
                );
                break;
            }
            // Keep the lease ahead of the longest delivery, so nobody takes over a message in flight.
            let now = self.clock.now();
            if now + self.router.longest_timeout() + Duration::from_secs(1) >= lease_until {
                lease_until = now + self.settings.lease;
                let from = in_flight.as_ref().map_or(i, |f| f.range.start);
                let rest: Vec<String> = batch[from..].iter().map(|m| m.id.clone()).collect();
                self.queue
                    .extend(self.store, &rest, &self.settings.owner, lease_until)?;
            }
            let alone = match self.gate(&batch[i])? {
                Gate::Wait(until) => {
                    ledger.deferred.push((batch[i].id.clone(), until));
                    i += 1;
                    continue;
                }
                Gate::Probe(_) => true,
                Gate::Go => batch[i].crashes >= 2,
            };
            if alone {
                self.finish_run(&batch, in_flight.take(), &mut ledger);
                self.handle(&batch[i], &mut ledger);
                i += 1;
                self.flush(&mut ledger, &mut report)?;
            } else if let Some((sink, run)) = self.batchable_run(&batch[i..]) {
                // Consecutive messages bound for one sink that takes many at once go together.
                let outcomes = self.router.send(&sink, &batch[i..i + run]);
                let started = Started {
                    sink,
                    range: i..i + run,
                    outcomes,
                };
                self.finish_run(&batch, in_flight.replace(started), &mut ledger);
                i += run;
                // The sink is busy with the run just sent: a good moment to write.
                self.flush(&mut ledger, &mut report)?;
            } else {
                self.finish_run(&batch, in_flight.take(), &mut ledger);
                self.handle(&batch[i], &mut ledger);
                i += 1;
                if ledger.due() {
                    self.flush(&mut ledger, &mut report)?;
                }
            }
        }
        self.finish_run(&batch, in_flight.take(), &mut ledger);
        self.flush(&mut ledger, &mut report)?;
        report.duration_ms = started.elapsed().as_millis() as u64;
        Ok(report)
    }

    /// Makes each message whose row cannot be read (written by another application) dead at
    /// once, with what was wrong as its error: no sink could deliver it, and no retry can help.
    /// Returns the rest of the batch.
    fn fail_unreadable(&mut self, batch: Vec<Message>, ledger: &mut Ledger) -> Vec<Message> {
        if batch.iter().all(|m| m.problems.is_empty()) {
            return batch;
        }
        let mut rest = Vec::with_capacity(batch.len());
        for m in batch {
            match m.unreadable() {
                Some(error) => self.note(
                    &m,
                    Err(Failed::new(None, DeliveryError::Permanent(error))),
                    ledger,
                ),
                None => rest.push(m),
            }
        }
        rest
    }

    /// The sink and the number of messages from the start of `rest` that go, each to that one
    /// sink only, to a sink taking several at once (at most its `max_in_flight`). None when
    /// fewer than two do: they are delivered one by one.
    fn batchable_run(&self, rest: &[Message]) -> Option<(String, usize)> {
        fn single<'m>(relay: &'m Relay<'_>, max_attempts: i64, m: &'m Message) -> Option<&'m str> {
            match relay.router.routes_of(m) {
                Ok([only]) if m.attempts <= max_attempts && m.crashes < 2 && !relay.breaker.is_open(only) => {
                    Some(only.as_str())
                }
                _ => None,
            }
        }
        let max_attempts = i64::from(self.settings.retry.max_attempts);
        let sink = single(self, max_attempts, rest.first()?)?;
        let limit = self.router.max_in_flight(sink);
        if limit < 2 {
            return None;
        }
        let run = rest
            .iter()
            .take(limit)
            .take_while(|m| single(self, max_attempts, m) == Some(sink))
            .count();
        (run > 1).then(|| (sink.to_owned(), run))
    }

    /// Whether `message` may go now: not while a destination of it has its circuit open.
    fn gate(&mut self, message: &Message) -> Result<Gate, StoreError> {
        if self.settings.circuit.failures == 0 || !self.breaker.any_open() {
            return Ok(Gate::Go);
        }
        let Ok(routes) = self.router.routes_of(message) else {
            return Ok(Gate::Go);
        };
        let routes = routes.to_vec();
        let now = self.clock.now();
        let store = &mut *self.store;
        self.breaker
            .gate(&message.id, &routes, now, &self.settings.circuit, |d, until| {
                store.probe_circuit(d, now, until)
            })
    }

    /// Notes a destination's answer for the circuit breaker. Content the sink could not encode
    /// never reached the destination: it says nothing about it.
    fn observe(&mut self, sink: &str, message: &Message, outcome: Result<(), &DeliveryError>) {
        if outcome.is_err_and(DeliveryError::is_malformed) {
            return;
        }
        if self.settings.circuit.failures > 0 {
            let now = self.clock.now();
            let error = outcome.err().map(DeliveryError::message);
            self.breaker
                .observe(sink, &message.id, error, now, &self.settings.circuit);
        }
    }

    /// Waits for a run sent to a sink and notes each message's outcome.
    fn finish_run(&mut self, batch: &[Message], started: Option<Started>, ledger: &mut Ledger) {
        let Some(Started {
            sink,
            range,
            outcomes,
        }) = started
        else {
            return;
        };
        let run = &batch[range];
        for (message, outcome) in run.iter().zip(wait(outcomes, run.len())) {
            self.observe(&sink, message, outcome.as_ref().map(|_| ()));
            let outcome = outcome.map_err(|e| Failed::new(Some(sink.clone()), e));
            self.note(message, outcome, ledger);
        }
    }

    fn handle(&mut self, message: &Message, ledger: &mut Ledger) {
        let max = i64::from(self.settings.retry.max_attempts);
        let outcome = if message.crashes >= PARK_AFTER_CRASHES {
            // Its deliveries took relays down (or hung them) three times: park it, so it takes
            // no more, and let everything else flow.
            tracing::error!(
                id = %message.id,
                "parked: {} claims of it ended with no outcome (the relay died or hung while delivering it)",
                message.crashes
            );
            Err(Failed::new(
                None,
                DeliveryError::Permanent(format!(
                    "parked after {} deliveries that ended with no outcome: the relay died or hung while \
                     delivering it; `outboxctl retry --id {}` tries it again",
                    message.crashes, message.id
                )),
            ))
        } else if message.attempts > max {
            // Claimed again after its last attempt's lease ran out: the relay died while
            // delivering it, every time. Stop before it takes another relay down.
            Err(Failed::new(
                None,
                DeliveryError::Permanent(format!(
                    "gave up after {} attempts that ended without an outcome (the relay stopped mid-delivery)",
                    message.attempts - 1
                )),
            ))
        } else {
            self.deliver(message)
        };
        self.note(message, outcome, ledger);
    }

    /// Adds one message's outcome to the ledger: delivered, or failed with its next attempt
    /// (or dead).
    fn note(&mut self, message: &Message, outcome: Result<(), Failed>, ledger: &mut Ledger) {
        ledger.note();
        match outcome {
            Ok(()) => {
                if let Some(trace_id) = message.trace_id() {
                    tracing::debug!(id = %message.id, trace_id, "delivered");
                }
                ledger.delivered.push(message.id.clone());
                ledger.keyed += u64::from(message.key.is_some());
                ledger.occurred.push(message.occurred_on);
            }
            Err(Failed {
                destination,
                error: err,
                accepted,
            }) => {
                let now = self.clock.now();
                let next = self.settings.retry.next(message.attempts, fastrand::f64(), &err);
                let mut next_attempt = match next {
                    Next::RetryAfter(d) => Some(now + d),
                    Next::Dead => None,
                };
                // A destination whose circuit is open takes nothing before it may close; and a
                // message that failed there (the probe, say) sits out the next probe too, which
                // goes to another message: one message failing is not its destination failing.
                let reopens = destination
                    .iter()
                    .flat_map(|d| d.split(','))
                    .filter_map(|d| self.breaker.open_until(d))
                    .max();
                if let (Some(at), Some(until)) = (next_attempt, reopens) {
                    let cooldown = chrono::Duration::from_std(self.settings.circuit.cooldown)
                        .unwrap_or(chrono::Duration::MAX);
                    next_attempt = Some(at.max(until.checked_add_signed(cooldown).unwrap_or(until)));
                }
                log_failure(message, &err, next_attempt);
                ledger.failed.push(Failure {
                    id: message.id.clone(),
                    attempt: message.attempts,
                    error: err.message().to_owned(),
                    destination,
                    accepted,
                    failed_on: now,
                    next_attempt,
                    skip: next_attempt.is_none()
                        && message.key.is_some()
                        && self.settings.skip_dead.contains(&message.event_type),
                    parked: message.crashes >= PARK_AFTER_CRASHES,
                });
            }
        }
    }

    /// Writes the outcomes noted so far, in one transaction, and counts them.
    fn flush(&mut self, ledger: &mut Ledger, report: &mut BatchReport) -> Result<(), StoreError> {
        if ledger.is_empty() {
            return Ok(());
        }
        let now = self.clock.now();
        if !ledger.delivered.is_empty() || !ledger.failed.is_empty() {
            let params = RecordParams {
                owner: &self.settings.owner,
                now,
                delivered: &ledger.delivered,
                failed: &ledger.failed,
            };
            self.queue.record(self.store, &params)?;
        }
        // Given back unattempted, due when their circuit may close.
        ledger.deferred.sort_by_key(|(_, until)| *until);
        for run in ledger.deferred.chunk_by(|a, b| a.1 == b.1) {
            let ids: Vec<String> = run.iter().map(|(id, _)| id.clone()).collect();
            report.deferred += self.release(&ids, Some(run[0].1))?;
        }
        ledger.deferred.clear();
        for change in self.breaker.take_changes() {
            match change {
                Change::Open(c) => self.store.open_circuit(&c)?,
                Change::Close(d) => self.store.close_circuit(&d)?,
            }
        }
        report.delivered += ledger.delivered.len() as u64;
        report.keys_moved += ledger.keyed;
        report.latencies.extend(
            ledger
                .occurred
                .drain(..)
                .filter_map(|o| o.and_then(|o| (now - o).to_std().ok())),
        );
        for f in &ledger.failed {
            match f.next_attempt {
                Some(_) => report.failed += 1,
                None => report.dead += 1,
            }
        }
        if !ledger.delivered.is_empty() {
            tracing::debug!(count = ledger.delivered.len(), "delivered");
        }
        ledger.delivered.clear();
        ledger.failed.clear();
        ledger.since = None;
        Ok(())
    }

    /// Delivers to every sink the message is routed to. With several, those that already
    /// accepted it on an earlier attempt are skipped; those that accept it now are recorded with
    /// the failure of the others, in the same write as the rest of the run's outcomes.
    fn deliver(&mut self, message: &Message) -> Result<(), Failed> {
        let sinks = match self.router.routes_of(message) {
            Ok(sinks) => sinks.to_vec(),
            // A route added later delivers an outbox message; a replay goes where routes are now.
            Err(e) if self.queue != Queue::Outbox => {
                return Err(Failed::new(
                    None,
                    DeliveryError::Permanent(format!("{}: nowhere to replay it", e.message())),
                ));
            }
            Err(e) => return Err(Failed::new(None, e)),
        };
        if let [only] = sinks.as_slice() {
            return self
                .send_one(only, message)
                .map_err(|e| Failed::new(Some(only.clone()), e));
        }
        let done = self.queue.deliveries(self.store, &message.id).map_err(|e| {
            Failed::new(
                None,
                DeliveryError::Retryable(format!("reading which destinations accepted it: {e}")),
            )
        })?;
        let mut failures: Vec<(String, DeliveryError)> = Vec::new();
        let mut accepted = Vec::new();
        for name in sinks.iter().filter(|s| !done.contains(s)) {
            match self.send_one(name, message) {
                Ok(()) => accepted.push(name.clone()),
                Err(e) => failures.push((name.clone(), e)),
            }
        }
        if failures.is_empty() {
            return Ok(());
        }
        let names = failures
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(",");
        Err(Failed {
            destination: Some(names),
            error: combine(&failures),
            accepted,
        })
    }

    /// Gives claims back unattempted, due at `due` (None: at once).
    fn release(&mut self, ids: &[String], due: Option<DateTime<Utc>>) -> Result<u64, StoreError> {
        self.queue.release(self.store, ids, &self.settings.owner, due)
    }

    /// Delivers one message to one sink: a run of one.
    fn send_one(&mut self, sink: &str, message: &Message) -> Result<(), DeliveryError> {
        let pending = self.router.send(sink, std::slice::from_ref(message));
        let outcome = wait(pending, 1).remove(0);
        self.observe(sink, message, outcome.as_ref().map(|_| ()));
        outcome
    }
}

/// Waits for a run's outcomes: one per message, even from a sink that broke that promise (a
/// missing outcome is a failure to retry, so no message is left claimed without one).
fn wait(pending: Pending, len: usize) -> Outcomes {
    let mut outcomes = pending.wait();
    outcomes.resize_with(len, || {
        Err(DeliveryError::Retryable("the sink gave no outcome for it".into()))
    });
    outcomes
}

/// One error for a message that several sinks failed: dead only when every failure is
/// permanent (retrying the others can still help), no sooner than the latest `Retry-After`.
fn combine(failures: &[(String, DeliveryError)]) -> DeliveryError {
    let message = failures
        .iter()
        .map(|(name, e)| format!("{name}: {}", e.message()))
        .collect::<Vec<_>>()
        .join("; ");
    let retry_after = failures
        .iter()
        .filter_map(|(_, e)| match e {
            DeliveryError::RetryAfter { after, .. } => Some(*after),
            _ => None,
        })
        .max();
    if failures
        .iter()
        .all(|(_, e)| matches!(e, DeliveryError::Permanent(_)))
    {
        DeliveryError::Permanent(message)
    } else if let Some(after) = retry_after {
        DeliveryError::RetryAfter { message, after }
    } else {
        DeliveryError::Retryable(message)
    }
}

fn log_failure(m: &Message, err: &DeliveryError, next: Option<DateTime<Utc>>) {
    // The trace id joins the log line to the request that caused the event.
    let trace_id = m.trace_id();
    match next {
        Some(at) => tracing::warn!(
            id = %m.id, r#type = %m.event_type, attempt = m.attempts, trace_id,
            "delivery failed, retrying at {}: {}", crate::time::format(at), err.message()
        ),
        None => tracing::error!(
            id = %m.id, r#type = %m.event_type, attempt = m.attempts, trace_id,
            "delivery failed, message is dead: {}", err.message()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failures(errors: &[DeliveryError]) -> Vec<(String, DeliveryError)> {
        errors
            .iter()
            .enumerate()
            .map(|(i, e)| (format!("s{i}"), e.clone()))
            .collect()
    }

    #[test]
    fn several_failures_are_dead_only_when_all_are_permanent() {
        let gone = DeliveryError::Permanent("410".into());
        let down = DeliveryError::Retryable("503".into());
        let later = |secs| DeliveryError::RetryAfter {
            message: "429".into(),
            after: Duration::from_secs(secs),
        };
        assert_eq!(
            combine(&failures(&[gone.clone(), gone.clone()])),
            DeliveryError::Permanent("s0: 410; s1: 410".into())
        );
        assert_eq!(
            combine(&failures(&[gone.clone(), down])),
            DeliveryError::Retryable("s0: 410; s1: 503".into())
        );
        assert_eq!(
            combine(&failures(&[later(5), gone, later(30)])),
            DeliveryError::RetryAfter {
                message: "s0: 429; s1: 410; s2: 429".into(),
                after: Duration::from_secs(30)
            }
        );
    }
}
