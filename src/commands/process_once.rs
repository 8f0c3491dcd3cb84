use anyhow::Result;

use super::Context;
use crate::cli::ProcessOnceArgs;
use crate::relay::{Relay, RelaySettings};
use crate::sink::Router;

pub fn run(args: &ProcessOnceArgs, ctx: &Context) -> Result<()> {
    let stop = ctx.stop_on_signals()?;
    let settings = settings(ctx, args.batch_size);
    let mut store = ctx.open_store()?;
    let mut router = Router::new(&ctx.config.sinks, &ctx.config.routes);
    let report = Relay {
        store: store.as_mut(),
        router: &mut router,
        clock: ctx.clock.as_ref(),
        settings: &settings,
    }
    .run_once(&stop)?;
    if !ctx.config.quiet {
        ctx.printer.print(&report)?;
    }
    Ok(())
}

pub fn settings(ctx: &Context, batch_size: Option<u64>) -> RelaySettings {
    RelaySettings {
        owner: crate::config::relay_identity(),
        batch_size: batch_size.map_or(ctx.config.batch_size, |b| b as usize),
        lease: ctx.config.lease,
        retry: ctx.config.retry.clone(),
    }
}
