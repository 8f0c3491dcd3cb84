use anyhow::Result;

use super::Context;
use crate::cli::ProcessOnceArgs;
use crate::relay::Relay;
use crate::sink::Router;

pub fn run(args: &ProcessOnceArgs, ctx: &Context) -> Result<()> {
    let stop = ctx.stop_on_signals()?;
    let settings = ctx.config.relay_settings(args.batch_size);
    let mut store = ctx.open_relay_store()?;
    let mut router = Router::new(&ctx.config.sinks, &ctx.config.routes);
    let report = Relay {
        store: store.as_mut(),
        router: &mut router,
        clock: ctx.clock.as_ref(),
        settings: &settings,
        breaker: &mut Default::default(),
        queue: crate::store::Queue::Outbox,
    }
    .process_once(&stop)?;
    if !ctx.config.quiet {
        ctx.printer.print(&report)?;
    }
    Ok(())
}
