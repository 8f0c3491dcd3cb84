//! Prometheus metrics: the store's counts as gauges (any process can export them, e.g. `stats
//! --format prometheus` from cron), and the relay's own counters and histograms, which only a
//! long-running `run` has.

use std::fmt::Write;
use std::time::Duration;

use crate::model::{Counts, Stats};
use crate::relay::BatchReport;

/// Upper bounds (seconds) of the occurred -> processed latency histogram.
const LATENCY_BUCKETS: &[f64] = &[
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 21600.0,
];
/// Upper bounds (seconds) of the batch duration histogram.
const BATCH_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

/// A cumulative Prometheus histogram.
#[derive(Debug, Clone)]
pub struct Histogram {
    bounds: &'static [f64],
    /// Observations per bucket (not cumulative); the last one is +Inf.
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
            count: 0,
        }
    }

    pub fn observe(&mut self, seconds: f64) {
        let i = self
            .bounds
            .iter()
            .position(|b| seconds <= *b)
            .unwrap_or(self.bounds.len());
        self.counts[i] += 1;
        self.sum += seconds;
        self.count += 1;
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    fn write(&self, out: &mut String, name: &str, help: &str) {
        header(out, name, help, "histogram");
        let mut cumulative = 0;
        for (bound, n) in self.bounds.iter().zip(&self.counts) {
            cumulative += n;
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum {}", self.sum);
        let _ = writeln!(out, "{name}_count {}", self.count);
    }
}

/// What a running relay counts since it started.
#[derive(Debug, Clone)]
pub struct RelayMetrics {
    pub batches: u64,
    pub delivered: u64,
    pub failed: u64,
    pub dead: u64,
    /// Passes that ended in a store error (database locked or gone).
    pub errors: u64,
    pub latency: Histogram,
    pub batch_duration: Histogram,
    /// The error of the last pass, if it failed; `/healthz` reports it.
    pub last_error: Option<String>,
}

impl Default for RelayMetrics {
    fn default() -> Self {
        RelayMetrics {
            batches: 0,
            delivered: 0,
            failed: 0,
            dead: 0,
            errors: 0,
            latency: Histogram::new(LATENCY_BUCKETS),
            batch_duration: Histogram::new(BATCH_BUCKETS),
            last_error: None,
        }
    }
}

impl RelayMetrics {
    /// Counts one pass. Empty passes are not batches: they would drown the duration histogram.
    pub fn observe(&mut self, report: &BatchReport) {
        self.last_error = None;
        if report.claimed == 0 {
            return;
        }
        self.batches += 1;
        self.delivered += report.delivered;
        self.failed += report.failed;
        self.dead += report.dead;
        self.batch_duration
            .observe(Duration::from_millis(report.duration_ms).as_secs_f64());
        for latency in &report.latencies {
            self.latency.observe(latency.as_secs_f64());
        }
    }
}

impl RelayMetrics {
    pub fn observe_error(&mut self, error: &impl std::fmt::Display) {
        self.errors += 1;
        self.last_error = Some(error.to_string());
    }
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Label values may hold anything an application wrote as a type.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A state's name in the `state` label, and how to read its count.
type StateCount = (&'static str, fn(&Counts) -> u64);

const STATES: &[StateCount] = &[
    ("pending", |c| c.pending),
    ("in_flight", |c| c.in_flight),
    ("retrying", |c| c.retrying),
    ("dead", |c| c.dead),
    ("processed", |c| c.processed),
];

/// The Prometheus text format of the store's counts, plus the relay's own metrics if given.
/// Without stats (the database could not be read) only `outbox_store_up 0` and the relay's
/// metrics are written, so a scrape still shows the relay's counters during an outage.
pub fn render(stats: Option<&Stats>, relay: Option<&RelayMetrics>) -> String {
    let mut out = String::new();
    header(
        &mut out,
        "outbox_store_up",
        "Whether the outbox database could be read.",
        "gauge",
    );
    let _ = writeln!(out, "outbox_store_up {}", u8::from(stats.is_some()));
    if let Some(stats) = stats {
        write_stats(&mut out, stats);
    }
    if let Some(r) = relay {
        write_relay(&mut out, r);
    }
    out
}

fn write_stats(out: &mut String, stats: &Stats) {
    header(
        out,
        "outbox_messages",
        "Messages in the outbox by event type and state (processed: until purged).",
        "gauge",
    );
    for t in &stats.by_type {
        for (state, get) in STATES {
            let _ = writeln!(
                out,
                "outbox_messages{{type=\"{}\",state=\"{state}\"}} {}",
                label(&t.event_type),
                get(&t.counts)
            );
        }
    }
    header(
        out,
        "outbox_messages_failed",
        "Messages whose last attempt failed (Error IS NOT NULL: retrying and dead), by event type.",
        "gauge",
    );
    for t in &stats.by_type {
        let _ = writeln!(
            out,
            "outbox_messages_failed{{type=\"{}\"}} {}",
            label(&t.event_type),
            t.counts.failed
        );
    }
    let counts = &stats.counts;
    for (name, help, value) in [
        (
            "outbox_messages_all",
            "Messages in the outbox, every state.",
            counts.total,
        ),
        (
            "outbox_messages_processed",
            "Processed messages still in the outbox.",
            counts.processed,
        ),
        (
            "outbox_messages_unprocessed",
            "Messages not processed yet, dead ones included.",
            counts.total - counts.processed,
        ),
        (
            "outbox_messages_dead",
            "Dead messages: out of attempts or failed permanently.",
            counts.dead,
        ),
    ] {
        header(out, name, help, "gauge");
        let _ = writeln!(out, "{name} {value}");
    }
    header(
        out,
        "outbox_oldest_unprocessed_age_seconds",
        "Age of the oldest message neither processed nor dead; 0 when there is none.",
        "gauge",
    );
    let _ = writeln!(
        out,
        "outbox_oldest_unprocessed_age_seconds {}",
        stats.oldest_unprocessed_age_seconds.unwrap_or(0.0)
    );
    header(
        out,
        "outbox_stalled_seconds",
        "How long messages have been due with nothing delivered (not counting backoffs or keys held back); 0 when nothing is due.",
        "gauge",
    );
    let _ = writeln!(
        out,
        "outbox_stalled_seconds {}",
        stats.stalled_seconds.unwrap_or(0.0)
    );
    header(
        out,
        "outbox_blocked_keys",
        "Ordering keys held back by a failing or dead message.",
        "gauge",
    );
    let _ = writeln!(out, "outbox_blocked_keys {}", stats.blocked_keys);
    header(
        out,
        "outbox_open_circuits",
        "Destinations whose circuit is open: the relays send them nothing until it may close.",
        "gauge",
    );
    let _ = writeln!(out, "outbox_open_circuits {}", stats.open_circuits.len());
    header(
        out,
        "outbox_circuit_open",
        "1 for each destination whose circuit is open.",
        "gauge",
    );
    for c in &stats.open_circuits {
        let _ = writeln!(
            out,
            "outbox_circuit_open{{destination=\"{}\"}} 1",
            label(&c.destination)
        );
    }
}

fn write_relay(out: &mut String, r: &RelayMetrics) {
    {
        for (name, help, value) in [
            (
                "outbox_relay_batches_total",
                "Non-empty batches this relay processed.",
                r.batches,
            ),
            (
                "outbox_relay_processed_total",
                "Messages this relay delivered and marked processed.",
                r.delivered,
            ),
            (
                "outbox_relay_failed_total",
                "Failed deliveries this relay scheduled for a retry.",
                r.failed,
            ),
            (
                "outbox_relay_dead_total",
                "Failed deliveries after which the message became dead.",
                r.dead,
            ),
            (
                "outbox_relay_errors_total",
                "Passes that ended in a database error.",
                r.errors,
            ),
        ] {
            header(out, name, help, "counter");
            let _ = writeln!(out, "{name} {value}");
        }
        r.latency.write(
            out,
            "outbox_delivery_latency_seconds",
            "Time from a message's occurrence to its processing, for messages this relay delivered.",
        );
        r.batch_duration.write(
            out,
            "outbox_batch_duration_seconds",
            "Wall time of one non-empty batch: claim, deliveries and marks.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative() {
        let mut h = Histogram::new(&[1.0, 10.0]);
        for s in [0.5, 2.0, 20.0, 1.0] {
            h.observe(s);
        }
        let mut out = String::new();
        h.write(&mut out, "x", "help");
        assert!(out.contains("x_bucket{le=\"1\"} 2\n"));
        assert!(out.contains("x_bucket{le=\"10\"} 3\n"));
        assert!(out.contains("x_bucket{le=\"+Inf\"} 4\n"));
        assert!(out.contains("x_count 4\n"));
    }

    #[test]
    fn labels_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
