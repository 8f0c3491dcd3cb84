use anyhow::Result;

use super::Context;
use crate::cli::RetryArgs;
use crate::error::Error;
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
    if let RetrySelect::Ids(ids) = &select {
        let missing = store.missing_ids(ids)?;
        if !missing.is_empty() {
            return Err(Error::NotFound(format!(
                "no message with id {}; nothing was retried",
                missing.join(", ")
            ))
            .into());
        }
    }
    let retried = store.retry(&select, ctx.now(), args.dry_run)?;
    ctx.printer.print(&RetryReport {
        dry_run: args.dry_run,
        retried,
    })?;
    Ok(())
}
