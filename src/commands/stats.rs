use anyhow::Result;

use super::Context;
use crate::cli::StatsArgs;

pub fn run(_: &StatsArgs, ctx: &Context) -> Result<()> {
    let mut store = ctx.open_store()?;
    let stats = store.stats(ctx.now())?;
    ctx.printer.print(&stats)?;
    Ok(())
}
