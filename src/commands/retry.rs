use anyhow::Result;

use super::Context;
use crate::cli::RetryArgs;
use crate::output::RetryReport;
use crate::store::RetrySelect;

pub fn run(args: &RetryArgs, ctx: &Context) -> Result<()> {
    let select = if args.failed {
        RetrySelect::Failed
    } else if args.dead {
        RetrySelect::Dead
    } else {
        RetrySelect::Ids(args.id.clone())
    };
    let mut store = ctx.open_store()?;
    let retried = crate::maintenance::retry(store.as_mut(), &select, args.dry_run, &ctx.audit())?;
    ctx.printer.print(&RetryReport {
        dry_run: args.dry_run,
        retried,
    })?;
    Ok(())
}
