use anyhow::Result;

use super::Context;
use crate::cli::SkipArgs;
use crate::output::SkipReport;

pub fn run(args: &SkipArgs, ctx: &Context) -> Result<()> {
    let mut store = ctx.open_store()?;
    let skipped = crate::maintenance::skip(store.as_mut(), &args.id, args.dry_run, &ctx.audit())?;
    ctx.printer.print(&SkipReport {
        dry_run: args.dry_run,
        skipped,
        left_alone: args.id.len() as u64 - skipped.min(args.id.len() as u64),
    })?;
    Ok(())
}
