//! The relay as a service: passes of [`Relay::run_once`] in a loop, as `run` drives them.
//!
//! It drains while batches come back full, then waits for the next tick, waking early on new
//! commits ([`Store::wait_for_work`]) and on the next retry coming due ([`Store::next_due`]);
//! a store error is retried with a growing backoff, since claims expire and nothing is lost.
//! It stops cleanly when `stop` is set: the pass in flight gives back what it did not attempt.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::config::Config;
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

/// The relay's settings from the loaded config; `batch_size` overrides the config's.
pub fn relay_settings(config: &Config, batch_size: Option<u64>) -> RelaySettings {
    RelaySettings {
        owner: crate::config::relay_identity(),
        batch_size: batch_size.map_or(config.batch_size, |b| b as usize),
        lease: config.lease,
        retry: config.retry.clone(),
    }
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
        let mut total = BatchReport::default();
        let mut backoff = FIRST_BACKOFF;
        while !stop.load(Ordering::Relaxed) {
            let pass = Relay {
                store: &mut *self.store,
                router: &mut *self.router,
                clock: self.clock,
                settings: self.settings,
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
                    if report.full(self.settings.batch_size) {
                        continue; // more is waiting: drain without waiting for the next tick
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
