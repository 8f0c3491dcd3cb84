use anyhow::Result;

use super::Context;
use crate::cli::ShowArgs;
use crate::error::Error;
use crate::output::MessageView;

pub fn run(args: &ShowArgs, ctx: &Context) -> Result<()> {
    let mut store = ctx.open_store()?;
    let detail = store
        .get(&args.id)?
        .ok_or_else(|| Error::NotFound(format!("no message with id {}", args.id)))?;
    let state = detail.message.state(ctx.now());
    ctx.printer.print(&MessageView { detail, state })?;
    Ok(())
}
