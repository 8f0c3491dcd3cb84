use anyhow::Result;

use super::Context;
use crate::cli::ExplainArgs;
use crate::error::Error;
use crate::explain::explain;
use crate::sink::route_of;

pub fn run(args: &ExplainArgs, ctx: &Context) -> Result<()> {
    let mut store = ctx.open_store()?;
    let detail = store
        .get(&args.id)?
        .ok_or_else(|| Error::NotFound(format!("no message with id {}", args.id)))?;
    let routes = route_of(&ctx.config.routes, &detail.message.event_type);
    let circuits = store.circuits()?;
    let explanation = explain(&detail, routes, &circuits, &ctx.config.retry, ctx.now());
    ctx.printer.print(&explanation)?;
    Ok(())
}
