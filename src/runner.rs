//! The relay as a service: passes of [`Relay::run_once`] in a loop, as `run` drives them.
//!
//! It drains while batches come back full (or deliver keyed messages, whose successors are then
//! due), then waits for the next tick, waking early on new
//! commits ([`Store::wait_for_work`]) and on the next retry coming due ([`Store::next_due`]);
//! a store error is retried with a growing backoff, since claims expire and nothing is lost.
//! It stops cleanly when `stop` is set: the pass in flight gives back what it did not attempt.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::error::StoreError;
use crate::relay::{BatchReport, Relay, RelaySettings};
use crate::sink::Router;
use crate::store::{Store, sleep_unless_stopped};
use crate::time::Clock;

/// Backoff after a store error: doubled on each error in a row, up to the maximum.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// When the runner looks for work once the outbox is drained.
pub enum Schedule {
    /// Poll at least this often; the store may wake the relay sooner when messages arrive.
    Every(Duration),
    /// Only at the times of a cron expression.
    Cron(Box<croner::Cron>),
}

impl Schedule {
    /// Parses a cron expression (5 or 6 fields). The error says what was wrong with it.
    pub fn cron(expr: &str) -> Result<Self, String> {
        croner::Cron::from_str(expr)
            .map(|c| Schedule::Cron(Box::new(c)))
            .map_err(|e| format!("invalid --cron expression {expr:?}: {e}"))
    }
}

/// What the runner reports while it runs, e.g. to update metrics.
pub enum Event<'e> {
    /// A pass finished.
    Pass(&'e BatchReport),
    /// A pass failed on the store; the runner backs off and tries again.
    Error(&'e StoreError),
}

pub struct Runner<'a> {
    pub store: &'a mut dyn Store,
    pub router: &'a mut Router,
    pub clock: &'a dyn Clock,
    pub settings: &'a RelaySettings,
    pub schedule: &'a Schedule,
}

impl Runner<'_> {
    /// Runs passes until `stop` is set and returns their sum. Store errors are reported to
    /// `observe` and retried, never returned.
    pub fn run(&mut self, stop: &AtomicBool, observe: &mut dyn FnMut(Event<'_>)) -> BatchReport {
        tracing::info!(owner = %self.settings.owner, backend = self.store.backend(), "relay started");
        let mut total = BatchReport::default();
        let mut backoff = FIRST_BACKOFF;
        let mut breaker = crate::circuit::Breaker::default();
        while !stop.load(Ordering::Relaxed) {
            let pass = Relay {
                store: &mut *self.store,
                router: &mut *self.router,
                clock: self.clock,
                settings: self.settings,
                breaker: &mut breaker,
                queue: crate::store::Queue::Outbox,
            }
            .run_once(stop);
            match pass {
                Ok(report) => {
                    observe(Event::Pass(&report));
                    backoff = FIRST_BACKOFF;
                    total.add(&report);
                    if report.claimed > 0 {
                        tracing::debug!(?report, "batch done");
                    }
                    // More is waiting: a full batch, or keyed messages delivered, whose
                    // successors are due now (a claim takes one message per key).
                    if report.full(self.settings.batch_size) || report.keys_moved > 0 {
                        continue; // drain without waiting for the next tick
                    }
                }
                Err(e) => {
                    observe(Event::Error(&e));
                    // The database went away or is locked: nothing is lost, claims expire.
                    tracing::error!("{e}; trying again in {}", humantime::format_duration(backoff));
                    pause(backoff, stop);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            }
            if let Err(e) = self.wait(stop) {
                tracing::error!("{e}");
                pause(backoff, stop);
            }
        }
        tracing::info!(
            delivered = total.delivered,
            failed = total.failed,
            dead = total.dead,
            "relay stopped"
        );
        total
    }

    /// Waits for the next tick, or less when a retry comes due or new messages arrive first.
    fn wait(&mut self, stop: &AtomicBool) -> Result<(), StoreError> {
        match self.schedule {
            Schedule::Every(every) => {
                let now = self.clock.now();
                let wait = match self.store.next_due(now) {
                    Ok(Some(at)) => (at - now).to_std().unwrap_or_default().min(*every),
                    _ => *every,
                };
                self.store.wait_for_work(wait, stop)
            }
            Schedule::Cron(cron) => {
                // Cron times are wall-clock times, whatever clock the relay's queries use.
                let now = chrono::Utc::now();
                let wait = cron
                    .find_next_occurrence(&now, false)
                    .map(|next| (next - now).to_std().unwrap_or_default())
                    .unwrap_or(Duration::from_secs(60));
                pause(wait, stop);
                Ok(())
            }
        }
    }
}

fn pause(wait: Duration, stop: &AtomicBool) {
    // Cannot fail: nothing but the time and the stop flag is looked at.
    let _ = sleep_unless_stopped(wait, stop, || Ok(false));
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Instant;

    use chrono::Utc;

    use super::*;
    use crate::model::NewMessage;
    use crate::store::{ClaimParams, Failure, RecordParams, StoreOptions};
    use crate::time::SystemClock;

    /// Runs until `want` messages were delivered (then sets stop) or a minute passes.
    fn run_until_delivered(store: &mut dyn Store, batch_size: usize, want: u64) -> (BatchReport, Duration) {
        let routes = BTreeMap::from([("*".to_owned(), vec!["noop".to_owned()])]);
        let mut router = Router::new(&BTreeMap::new(), &routes);
        let settings = RelaySettings {
            owner: "test".into(),
            batch_size,
            lease: Duration::from_secs(60),
            retry: crate::retry::RetryPolicy::default(),
            skip_dead: Default::default(),
            circuit: Default::default(),
        };
        // A tick far beyond the test: only draining, wake-ups and stop can end a wait.
        let schedule = Schedule::Every(Duration::from_secs(3600));
        let stop = AtomicBool::new(false);
        let started = Instant::now();
        let mut delivered = 0;
        let total = std::thread::scope(|scope| {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(60) {
                    std::thread::sleep(Duration::from_millis(20));
                }
                stop.store(true, Ordering::Relaxed);
            });
            let total = Runner {
                store,
                router: &mut router,
                clock: &SystemClock,
                settings: &settings,
                schedule: &schedule,
            }
            .run(&stop, &mut |event| {
                if let Event::Pass(report) = event {
                    delivered += report.delivered;
                    if delivered >= want {
                        stop.store(true, Ordering::Relaxed);
                    }
                }
            });
            stop.store(true, Ordering::Relaxed);
            total
        });
        (total, started.elapsed())
    }

    fn store() -> (tempfile::TempDir, Box<dyn Store>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.db");
        let options = StoreOptions {
            table: crate::store::DEFAULT_TABLE.into(),
            busy_timeout: Duration::from_secs(5),
        };
        let mut store = crate::store::open(path.to_str().unwrap(), &options).unwrap();
        store.init().unwrap();
        (dir, store)
    }

    fn insert(store: &mut dyn Store, n: usize) -> Vec<String> {
        let messages: Vec<NewMessage> = (0..n)
            .map(|i| NewMessage::new("Work", format!(r#"{{"n":{i}}}"#), Utc::now()))
            .collect();
        let mut tx = store.begin().unwrap();
        tx.insert_messages(&messages).unwrap();
        tx.commit().unwrap();
        messages.into_iter().map(|m| m.id).collect()
    }

    #[test]
    fn drains_while_batches_come_back_full() {
        let (_dir, mut store) = store();
        insert(store.as_mut(), 25);
        let (total, took) = run_until_delivered(store.as_mut(), 10, 25);
        assert_eq!((total.claimed, total.delivered), (25, 25));
        assert!(
            took < Duration::from_secs(30),
            "drained without waiting for a tick: {took:?}"
        );
    }

    #[test]
    fn outcomes_of_one_at_a_time_deliveries_are_recorded_in_runs() {
        let (_dir, mut store) = store();
        insert(store.as_mut(), 1000);
        let (total, _) = run_until_delivered(store.as_mut(), 1000, 1000);
        assert_eq!(total.delivered, 1000);
        let processed = store
            .list(&crate::store::ListParams {
                filter: crate::store::ListFilter::Processed,
                event_type: None,
                limit: 1000,
            })
            .unwrap();
        assert_eq!(processed.len(), 1000);
        // `noop` delivers one message at a time; each write stamps its own time. A commit per
        // message would give ~1000 stamps; writes every RECORD_EVERY give a handful.
        let stamps: std::collections::BTreeSet<_> = processed.iter().map(|m| m.processed_on).collect();
        assert!(stamps.len() < 100, "{} writes for 1000 messages", stamps.len());
    }

    #[test]
    fn wakes_up_when_a_retry_comes_due() {
        let (_dir, mut store) = store();
        let id = insert(store.as_mut(), 1).remove(0);
        // A failed attempt with a short backoff, as the relay records it.
        let now = Utc::now();
        let claimed = store
            .claim(&ClaimParams {
                owner: "earlier",
                now,
                lease_until: now + Duration::from_secs(60),
                limit: 1,
            })
            .unwrap();
        assert_eq!(claimed.len(), 1);
        let recorded = store
            .record(&RecordParams {
                owner: "earlier",
                now,
                delivered: &[],
                failed: &[Failure {
                    id: id.clone(),
                    attempt: 1,
                    error: "boom".into(),
                    destination: None,
                    accepted: Vec::new(),
                    failed_on: now,
                    next_attempt: Some(now + Duration::from_millis(300)),
                    skip: false,
                    parked: false,
                }],
            })
            .unwrap();
        assert_eq!(recorded.failed, 1);
        let (total, took) = run_until_delivered(store.as_mut(), 10, 1);
        assert_eq!(total.delivered, 1);
        assert!(
            took < Duration::from_secs(30),
            "woke up at the retry's due time: {took:?}"
        );
        assert!(store.get(&id).unwrap().unwrap().message.processed_on.is_some());
    }
}
