//! Replays: messages delivered again, to their routes or to one sink, as relay work of their
//! own. `outboxctl replay` queues them in the store ([`Store::replay_start`]) and drives them
//! here with the same [`Relay`] core as the outbox: leases, retries with backoff, dead, one
//! message per ordering key at a time. Several processes driving one replay share it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::circuit::Breaker;
use crate::error::StoreError;
use crate::model::Replay;
use crate::relay::{Relay, RelaySettings};
use crate::sink::Router;
use crate::store::{Queue, Store};
use crate::time::Clock;

/// How long to wait before looking again when nothing of the replay is due (retries waiting
/// for their backoff, messages claimed by another process).
const IDLE: Duration = Duration::from_millis(200);

/// The most messages a pass claims under `--rate`: a tenth of a second's worth, so the pace is
/// even rather than a burst per batch.
fn paced_batch(batch_size: usize, rate: Option<f64>) -> usize {
    match rate {
        Some(r) => batch_size.min(((r / 10.0).floor() as usize).max(1)),
        None => batch_size,
    }
}

pub struct Replayer<'a> {
    pub store: &'a mut dyn Store,
    pub router: &'a mut Router,
    pub clock: &'a dyn Clock,
    pub settings: &'a RelaySettings,
    /// Messages per second at most, over the whole run.
    pub rate: Option<f64>,
}

/// How a replay run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    pub replay: Replay,
    /// Whether it stopped on request before every message was delivered or dead.
    pub stopped: bool,
    /// Deliveries attempted by this process.
    pub attempted: u64,
    pub duration: Duration,
}

impl Replayer<'_> {
    /// Works the replay until none of its messages is left to deliver (each delivered or dead)
    /// or `stop` is set; `progress` hears how many are done (delivered or dead) after each pass.
    /// The store is asked for the replay's state only when a pass finds nothing to claim (and at
    /// the start): counting a large replay after every pass would cost more than the pass.
    pub fn run(
        &mut self,
        replay: &str,
        stop: &AtomicBool,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Finished, StoreError> {
        let started = Instant::now();
        let settings = RelaySettings {
            batch_size: paced_batch(self.settings.batch_size, self.rate),
            ..self.settings.clone()
        };
        let mut breaker = Breaker::default();
        let mut attempted = 0u64;
        let mut state = self.state(replay)?;
        let mut done = state.delivered + state.dead;
        loop {
            let report = Relay {
                store: &mut *self.store,
                router: &mut *self.router,
                clock: self.clock,
                settings: &settings,
                breaker: &mut breaker,
                queue: Queue::Replay(replay),
            }
            .run_once(stop)?;
            attempted += report.claimed - report.released - report.deferred;
            done += report.delivered + report.dead;
            let stopped = stop.load(Ordering::Relaxed);
            if report.claimed == 0 || stopped {
                // Nothing due: finished, or waiting for retries and other processes' claims.
                state = self.state(replay)?;
                done = state.delivered + state.dead;
            }
            progress(done);
            if (report.claimed == 0 && state.pending == 0) || stopped {
                return Ok(Finished {
                    stopped: stopped && state.pending > 0,
                    replay: state,
                    attempted,
                    duration: started.elapsed(),
                });
            }
            // Keep to the rate over the whole run: wait until the deliveries so far are due.
            if let Some(rate) = self.rate {
                let due = Duration::from_secs_f64(attempted as f64 / rate);
                sleep(due.saturating_sub(started.elapsed()), stop);
            }
            if report.claimed == 0 {
                sleep(IDLE, stop);
            }
        }
    }

    fn state(&mut self, replay: &str) -> Result<Replay, StoreError> {
        self.store
            .replay_state(replay)?
            .ok_or_else(|| StoreError::Other(format!("replay {replay} is gone")))
    }
}

/// Sleeps in short steps, waking early when `stop` is set.
fn sleep(d: Duration, stop: &AtomicBool) {
    let until = Instant::now() + d;
    while !stop.load(Ordering::Relaxed) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_makes_passes_of_a_tenth_of_a_second() {
        assert_eq!(paced_batch(500, None), 500);
        assert_eq!(paced_batch(500, Some(2000.0)), 200);
        assert_eq!(paced_batch(100, Some(2000.0)), 100);
        assert_eq!(paced_batch(500, Some(3.0)), 1);
    }
}
