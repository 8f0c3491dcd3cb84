//! `health`: the outbox's state against thresholds, as a Nagios plugin reports it.
//! Everything that keeps the state from being known, config errors included, is UNKNOWN (3).

use anyhow::Result;

use super::Context;
use crate::cli::{GlobalArgs, HealthArgs};
use crate::config::Config;
use crate::error::Error;
use crate::health::{Thresholds, evaluate};
use crate::output::Format;
use crate::output::{HealthReport, HealthStatus};

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
    let thresholds = Thresholds {
        warn_lag: args.warn_lag,
        max_lag: args.max_lag,
        warn_failed: args.warn_failed,
        max_failed: args.max_failed,
        warn_dead: args.warn_dead,
        max_dead: args.max_dead,
        max_stall: Some(args.max_stall),
        warn_blocked: args.warn_blocked,
        max_blocked: args.max_blocked,
        warn_circuits: Some(args.warn_circuits),
        max_circuits: args.max_circuits,
    };
    Ok(evaluate(&thresholds, &stats))
}
