//! `health`: the outbox's state against thresholds, as a Nagios plugin reports it.
//! Everything that keeps the state from being known, config errors included, is UNKNOWN (3).

use std::time::Duration;

use anyhow::Result;

use super::Context;
use crate::cli::{GlobalArgs, HealthArgs};
use crate::config::Config;
use crate::error::Error;
use crate::model::Stats;
use crate::output::Format;
use crate::output::{Check, HealthReport, HealthStatus};

/// Runs the check from the global flags, so a broken config file is UNKNOWN too.
pub fn run(args: &HealthArgs, global: &GlobalArgs) -> Result<()> {
    let json = global.format == Format::Json;
    let report = match Config::load(global) {
        Ok(config) => {
            let ctx = Context::new(config);
            check(args, &ctx).unwrap_or_else(|e| {
                let text = e.chain().map(ToString::to_string).collect::<Vec<_>>().join(": ");
                HealthReport::unknown(text)
            })
        }
        Err(e) => HealthReport::unknown(e.to_string()),
    };
    let text = if json {
        serde_json::to_string_pretty(&report)?
    } else {
        report.line()
    };
    crate::output::write_stdout(&text)?;
    match report.status {
        HealthStatus::Ok => Ok(()),
        status => Err(Error::Exit(status.exit_code()).into()),
    }
}

fn check(args: &HealthArgs, ctx: &Context) -> Result<HealthReport> {
    let database = &ctx.config.database;
    // A monitor pointed at the wrong path must not create an empty, healthy-looking database.
    if !database.contains("://") && !std::path::Path::new(database).exists() {
        return Err(Error::usage(format!("database {database} does not exist")).into());
    }
    let mut store = ctx.open_store()?;
    let stats = store.stats(ctx.now())?;
    Ok(evaluate(args, &stats))
}

/// Compares the stats with the thresholds: above a critical one is CRITICAL, above a warning
/// one WARNING; the worst check decides.
pub fn evaluate(args: &HealthArgs, stats: &Stats) -> HealthReport {
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
    let checks = vec![
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
    ];
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
    }
}
