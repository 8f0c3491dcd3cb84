use anyhow::Result;

use super::Context;
use crate::cli::PurgeArgs;
use crate::error::Error;
use crate::output::PurgeReport;

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
            if !args.dry_run {
                store.purge_replays(cutoff)?;
            }
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
    let deleted = crate::maintenance::purge(store.as_mut(), cutoff, &ctx.audit(), &mut |n| bar.inc(n))?;
    bar.finish_and_clear();
    // Replays finished before the cutoff go with the messages they replayed.
    let replays = store.purge_replays(cutoff)?;
    if replays > 0 {
        tracing::info!(
            deleted = replays,
            "deleted finished replays started before the cutoff"
        );
    }
    // The audit trail has its own retention.
    if let Some(keep) = ctx.config.audit_retention {
        let keep = chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::MAX);
        let gone = store.purge_audit(
            ctx.now()
                .checked_sub_signed(keep)
                .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC),
        )?;
        if gone > 0 {
            tracing::info!(deleted = gone, "deleted audit rows past their retention");
        }
    }
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
