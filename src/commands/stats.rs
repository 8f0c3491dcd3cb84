use anyhow::{Context as _, Result};

use super::Context;
use crate::cli::{Format, StatsArgs};

pub fn run(args: &StatsArgs, ctx: &Context) -> Result<()> {
    let mut store = ctx.open_store()?;
    let stats = store.stats(ctx.now())?;
    let text = match ctx.printer.format {
        Format::Prometheus => crate::metrics::render(Some(&stats), None),
        _ => ctx.printer.render(&stats)?,
    };
    match &args.output {
        Some(path) => crate::output::write_atomic(path, &text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => crate::output::write_stdout(&text)?,
    }
    Ok(())
}
