//! The circuit breaker: a destination that fails every message it is sent (down, or rejecting
//! everything) is left alone for a while instead of burning every message's attempts. After
//! `failures` failures in a row the circuit opens: messages for it are given back unattempted,
//! due when it may close. Then one relay probes it with one message: a success closes it, a
//! failure opens it again for twice as long (up to 16 times the cooldown).
//!
//! The open circuits live in the store, so every relay honours them and `stats`, `health`,
//! `/metrics` and the dashboard show them; the failures in a row are counted by each relay. A
//! relay reads them at most once per [`RELOAD_EVERY`]: at batch 20 a read per pass would cost a
//! round trip per 20 messages.

/// How often a relay reads the circuits other relays opened or closed.
pub const RELOAD_EVERY: Duration = Duration::from_secs(1);

/// How long messages wait while another relay probes their destination.
pub const PROBE_WAIT: Duration = Duration::from_secs(2);

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::model::Circuit;
use crate::model::one_line;

/// When a circuit opens and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CircuitSettings {
    /// Failures in a row that open a destination's circuit; 0 turns the breaker off.
    pub failures: u32,
    /// How long it stays open the first time.
    pub cooldown: Duration,
}

impl Default for CircuitSettings {
    fn default() -> Self {
        CircuitSettings {
            failures: 5,
            cooldown: Duration::from_secs(30),
        }
    }
}

/// What to do with a message bound for some destinations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// Deliver it.
    Go,
    /// Deliver it alone, as the probe of this destination's circuit.
    Probe(String),
    /// Give it back unattempted, due at this time.
    Wait(DateTime<Utc>),
}

/// A change to write to the store.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Open(Circuit),
    Close(String),
}

/// One relay's view of the circuits, kept across passes.
#[derive(Debug, Default)]
pub struct Breaker {
    /// The messages that failed in a row per destination, as this relay saw them: one message
    /// failing again and again is its own problem, so each counts once.
    streak: HashMap<String, Vec<String>>,
    /// Destinations whose probe this relay sent and awaits, and the message that is the probe.
    probing: HashMap<String, String>,
    /// The open circuits, as read at the start of the pass and changed since.
    open: HashMap<String, Circuit>,
    /// Changes not written yet.
    changes: Vec<Change>,
    /// When the circuits were last read from the store.
    loaded: Option<Instant>,
}

impl Breaker {
    /// Whether the circuits should be read from the store again.
    pub fn stale(&self) -> bool {
        self.loaded.is_none_or(|t| t.elapsed() >= RELOAD_EVERY)
    }

    /// Takes the circuits the store holds open (changes not written yet stay).
    pub fn load(&mut self, circuits: Vec<Circuit>) {
        self.open = circuits.into_iter().map(|c| (c.destination.clone(), c)).collect();
        for change in &self.changes {
            match change {
                Change::Open(c) => {
                    self.open.insert(c.destination.clone(), c.clone());
                }
                Change::Close(d) => {
                    self.open.remove(d);
                }
            }
        }
        self.loaded = Some(Instant::now());
    }

    /// Whether any circuit is open: if none, nothing needs a look.
    pub fn any_open(&self) -> bool {
        !self.open.is_empty()
    }

    /// Whether `destination`'s circuit is open (or due for its probe).
    pub fn is_open(&self, destination: &str) -> bool {
        self.open.contains_key(destination)
    }

    /// The gate for a message bound for `destinations` at `now`. `probe` asks the store for the
    /// right to probe a circuit whose time is up (one relay gets it) and says whether it did.
    pub fn gate<E>(
        &mut self,
        message: &str,
        destinations: &[String],
        now: DateTime<Utc>,
        settings: &CircuitSettings,
        mut probe: impl FnMut(&str, DateTime<Utc>) -> Result<bool, E>,
    ) -> Result<Gate, E> {
        let mut wait: Option<DateTime<Utc>> = None;
        for d in destinations {
            let Some(c) = self.open.get_mut(d) else { continue };
            if c.open_until > now {
                wait = wait.max(Some(c.open_until));
                continue;
            }
            // Time to probe: whoever gets it holds the circuit open meanwhile. The others look
            // again soon, not after a whole cooldown: the probe may well close it.
            let until = now + settings.cooldown;
            if probe(d, until)? {
                c.open_until = until;
                if wait.is_none() {
                    self.probing.insert(d.clone(), message.to_owned());
                    return Ok(Gate::Probe(d.clone()));
                }
            } else {
                c.open_until = now + PROBE_WAIT.min(settings.cooldown);
            }
            wait = wait.max(Some(c.open_until));
        }
        Ok(wait.map_or(Gate::Go, Gate::Wait))
    }

    /// When `destination`'s circuit may close, while it is open.
    pub fn open_until(&self, destination: &str) -> Option<DateTime<Utc>> {
        self.open.get(destination).map(|c| c.open_until)
    }

    /// Notes the outcome of delivering `message` to `destination`.
    pub fn observe(
        &mut self,
        destination: &str,
        message: &str,
        error: Option<&str>,
        now: DateTime<Utc>,
        settings: &CircuitSettings,
    ) {
        let Some(error) = error else {
            // The common case, once per delivered message: nothing to forget.
            if self.streak.is_empty() && self.probing.is_empty() && self.open.is_empty() {
                return;
            }
            self.streak.remove(destination);
            self.probing.remove(destination);
            if self.open.remove(destination).is_some() {
                tracing::info!(destination, "circuit closed: a delivery went through");
                self.changes.push(Change::Close(destination.to_owned()));
            }
            return;
        };
        let circuit = match self.open.get(destination) {
            // A failed probe: open again, for longer.
            Some(c) if self.probing.get(destination).is_some_and(|p| p == message) => {
                self.probing.remove(destination);
                let failed_probes = c.failures.saturating_sub(settings.failures).min(3);
                Circuit {
                    failures: c.failures + 1,
                    open_until: now + settings.cooldown * 2u32.pow(failed_probes + 1),
                    last_error: error.to_owned(),
                    ..c.clone()
                }
            }
            // Sent before the circuit opened: already known.
            Some(_) => return,
            None => {
                let streak = self.streak.entry(destination.to_owned()).or_default();
                if !streak.iter().any(|id| id == message) {
                    streak.push(message.to_owned());
                }
                if streak.len() < settings.failures as usize {
                    return;
                }
                let failures = streak.len() as u32;
                self.streak.remove(destination);
                Circuit {
                    destination: destination.to_owned(),
                    failures,
                    opened_on: now,
                    open_until: now + settings.cooldown,
                    last_error: error.to_owned(),
                }
            }
        };
        tracing::warn!(
            destination,
            failures = circuit.failures,
            until = %crate::time::format(circuit.open_until),
            "circuit open: nothing is sent there until then ({})",
            one_line(error, 200)
        );
        self.open.insert(destination.to_owned(), circuit.clone());
        self.changes.push(Change::Open(circuit));
    }

    /// The changes since the last call, to write to the store.
    pub fn take_changes(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
    }

    fn settings() -> CircuitSettings {
        CircuitSettings {
            failures: 3,
            cooldown: Duration::from_secs(10),
        }
    }

    fn gate(b: &mut Breaker, now: i64, win: bool) -> Gate {
        b.gate::<()>("p1", &["d".to_owned()], at(now), &settings(), |_, _| Ok(win))
            .unwrap()
    }

    #[test]
    fn opens_after_failures_in_a_row_and_a_success_resets_the_count() {
        let s = settings();
        let mut b = Breaker::default();
        b.observe("d", "m1", Some("down"), at(0), &s);
        b.observe("d", "m2", Some("down"), at(0), &s);
        b.observe("d", "m3", None, at(0), &s);
        b.observe("d", "m4", Some("down"), at(0), &s);
        // One message failing again is its own problem: it counts once.
        b.observe("d", "m4", Some("down"), at(0), &s);
        b.observe("d", "m5", Some("down"), at(0), &s);
        assert_eq!(gate(&mut b, 1, true), Gate::Go);
        assert!(b.take_changes().is_empty());
        b.observe("d", "m6", Some("refused"), at(1), &s);
        assert_eq!(gate(&mut b, 2, true), Gate::Wait(at(11)));
        let changes = b.take_changes();
        assert!(matches!(&changes[..], [Change::Open(c)] if c.failures == 3 && c.last_error == "refused"));
    }

    #[test]
    fn one_probe_then_closed_or_open_for_longer() {
        let s = settings();
        let mut b = Breaker::default();
        for m in ["m1", "m2", "m3"] {
            b.observe("d", m, Some("down"), at(0), &s);
        }
        b.take_changes();
        // Another relay holds the probe: look again shortly, it may close the circuit.
        assert_eq!(gate(&mut b, 10, false), Gate::Wait(at(12)));
        assert_eq!(gate(&mut b, 12, true), Gate::Probe("d".into()));
        // While the probe is out, the others wait.
        assert_eq!(gate(&mut b, 21, true), Gate::Wait(at(22)));
        // A failure of a message sent before the circuit opened changes nothing.
        b.observe("d", "m2", Some("late"), at(21), &s);
        assert_eq!(b.open_until("d"), Some(at(22)));
        b.observe("d", "p1", Some("still down"), at(21), &s);
        assert_eq!(gate(&mut b, 22, true), Gate::Wait(at(41)));
        assert_eq!(gate(&mut b, 41, true), Gate::Probe("d".into()));
        b.observe("d", "p1", None, at(41), &s);
        assert_eq!(gate(&mut b, 41, true), Gate::Go);
        let changes = b.take_changes();
        assert!(
            matches!(changes.last(), Some(Change::Close(d)) if d == "d"),
            "{changes:?}"
        );
    }
}
