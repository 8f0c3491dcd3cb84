//! The outbox's health against thresholds, as a Nagios plugin judges it: `health` prints it and
//! exits with its status.

use std::time::Duration;

use crate::model::Stats;
use crate::output::{Check, HealthReport, HealthStatus};

/// Above a critical threshold is CRITICAL, above a warning one WARNING; `None` checks nothing.
#[derive(Debug, Clone, Default)]
pub struct Thresholds {
    pub warn_lag: Option<Duration>,
    pub max_lag: Option<Duration>,
    pub warn_failed: Option<u64>,
    pub max_failed: Option<u64>,
    pub warn_dead: Option<u64>,
    pub max_dead: Option<u64>,
    /// Messages due and nothing delivered for longer than this.
    pub max_stall: Option<Duration>,
    pub warn_blocked: Option<u64>,
    pub max_blocked: Option<u64>,
    pub warn_circuits: Option<u64>,
    pub max_circuits: Option<u64>,
}

/// Compares the stats with the thresholds: above a critical one is CRITICAL, above a warning
/// one WARNING; the worst check decides.
pub fn evaluate(args: &Thresholds, stats: &Stats) -> HealthReport {
    let lag = stats.oldest_unprocessed_age_seconds.unwrap_or(0.0);
    let c = &stats.counts;
    let failing = c.failed.saturating_sub(c.dead);
    let secs = |d: Option<Duration>| d.map(|d| d.as_secs_f64());
    let count = |n: Option<u64>| n.map(|n| n as f64);
    let lag_text = match stats.oldest_unprocessed_age_seconds {
        Some(_) => format!(
            "oldest waiting message {} old",
            humantime::format_duration(Duration::from_secs(lag as u64))
        ),
        None => "no message waiting".to_owned(),
    };
    let mut checks = vec![
        measure("lag", "s", lag, lag_text, secs(args.warn_lag), secs(args.max_lag)),
        measure(
            "failed",
            "",
            failing as f64,
            format!("{failing} failing"),
            count(args.warn_failed),
            count(args.max_failed),
        ),
        measure(
            "dead",
            "",
            c.dead as f64,
            format!("{} dead", c.dead),
            count(args.warn_dead),
            count(args.max_dead),
        ),
        measure(
            "stall",
            "s",
            stats.stalled_seconds.unwrap_or(0.0),
            match stats.stalled_seconds {
                Some(s) => format!(
                    "due messages, nothing delivered for {}",
                    humantime::format_duration(Duration::from_secs(s as u64))
                ),
                None => "nothing due".to_owned(),
            },
            None,
            secs(args.max_stall),
        ),
        measure(
            "blocked",
            "",
            stats.blocked_keys as f64,
            format!("{} blocked keys", stats.blocked_keys),
            count(args.warn_blocked),
            count(args.max_blocked),
        ),
        measure(
            "circuits",
            "",
            stats.open_circuits.len() as f64,
            match stats.open_circuits.as_slice() {
                [] => "no open circuit".to_owned(),
                open => format!(
                    "circuit open for {}",
                    open.iter()
                        .map(|c| format!(
                            "{} until {}",
                            crate::model::one_line(&c.destination, 60),
                            crate::time::format(c.open_until)
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
            count(args.warn_circuits),
            count(args.max_circuits),
        ),
    ];
    for c in checks
        .iter_mut()
        .filter(|c| c.name == "stall" || (matches!(c.name, "blocked" | "circuits") && c.value == 0.0))
    {
        c.quiet_when_ok = true;
    }
    let status = checks.iter().map(|c| c.status).max().unwrap_or(HealthStatus::Ok);
    HealthReport {
        status,
        exit_code: status.exit_code(),
        error: None,
        checks,
        unprocessed: Some(c.total - c.processed),
    }
}

fn measure(
    name: &'static str,
    unit: &'static str,
    value: f64,
    text: String,
    warning: Option<f64>,
    critical: Option<f64>,
) -> Check {
    let status = if critical.is_some_and(|t| value > t) {
        HealthStatus::Critical
    } else if warning.is_some_and(|t| value > t) {
        HealthStatus::Warning
    } else {
        HealthStatus::Ok
    };
    Check {
        name,
        value,
        warning,
        critical,
        status,
        text,
        unit,
        quiet_when_ok: false,
    }
}
