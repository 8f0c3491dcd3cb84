use std::time::{Duration, Instant};

use anyhow::Result;

use super::Context;
use crate::cli::PurgeArgs;
use crate::error::Error;
use crate::output::PurgeReport;

/// Each chunk is one transaction that the application's writers wait for: its size follows
/// how fast rows go, so it holds the write lock about this long.
const CHUNK_TIME: Duration = Duration::from_millis(20);
/// Rows in the first chunk, and the bounds of later ones.
const FIRST_CHUNK: usize = 2_000;
const CHUNK_RANGE: (usize, usize) = (200, 100_000);
/// Between chunks the lock stays free this long, so writers waiting for it get in.
const PAUSE: Duration = Duration::from_millis(2);

pub fn run(args: &PurgeArgs, ctx: &Context) -> Result<()> {
    let cutoff = ctx.now()
        - chrono::Duration::from_std(args.older_than)
            .map_err(|_| Error::usage("--older-than is too long"))?;
    let mut store = ctx.open_store()?;
    let report = |deleted, dry_run| PurgeReport {
        dry_run,
        deleted,
        processed_before: crate::time::format(cutoff),
    };
    // Counting walks every purgeable row: only done when someone will see the number first.
    let bar = if args.dry_run || !args.yes || ctx.config.progress {
        let candidates = store.count_purgeable(cutoff)?;
        if args.dry_run || candidates == 0 {
            ctx.printer.print(&report(candidates, args.dry_run))?;
            return Ok(());
        }
        if !args.yes && !confirm(ctx, candidates)? {
            return Err(Error::usage("purge cancelled; nothing was deleted").into());
        }
        super::progress(ctx, candidates, "purging")
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut deleted = 0;
    let mut chunk = FIRST_CHUNK;
    loop {
        let started = Instant::now();
        let n = store.purge_chunk(cutoff, chunk)?;
        deleted += n;
        bar.inc(n);
        if n < chunk as u64 {
            break;
        }
        let scale = CHUNK_TIME.as_secs_f64() / started.elapsed().as_secs_f64().max(1e-6);
        chunk = ((chunk as f64 * scale.min(2.0)) as usize).clamp(CHUNK_RANGE.0, CHUNK_RANGE.1);
        std::thread::sleep(PAUSE);
    }
    bar.finish_and_clear();
    ctx.printer.print(&report(deleted, false))?;
    Ok(())
}

fn confirm(ctx: &Context, n: u64) -> Result<bool> {
    if !ctx.config.stdin_tty {
        return Err(Error::usage(format!(
            "purge would delete {n} processed messages; pass --yes to confirm, or --dry-run to only count"
        ))
        .into());
    }
    Ok(crate::output::confirm(&format!(
        "delete {n} processed messages?"
    ))?)
}
