use anyhow::Result;

use super::Context;
use crate::cli::InitArgs;
use crate::output::InitReport;

pub fn run(_: &InitArgs, ctx: &Context) -> Result<()> {
    let mut store = ctx.open_store()?;
    store.init()?;
    store.apply_key_rules(&ctx.config.key_rules)?;
    ctx.printer.print(&InitReport {
        backend: store.backend(),
        database: crate::redact::redact_url(&ctx.config.database),
        table: ctx.config.store.table.clone(),
    })?;
    Ok(())
}
