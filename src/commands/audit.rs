use anyhow::Result;

use super::Context;
use crate::cli::AuditArgs;
use crate::output::AuditLog;

pub fn run(args: &AuditArgs, ctx: &Context) -> Result<()> {
    let since = args
        .since
        .as_deref()
        .map(|text| super::time_or_ago(ctx, "--since", text))
        .transpose()?;
    let mut store = ctx.open_store()?;
    let entries = store.audit_log(since, args.limit as usize)?;
    ctx.printer.print(&AuditLog { entries })?;
    Ok(())
}
