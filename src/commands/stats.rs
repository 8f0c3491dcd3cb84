use anyhow::Result;

use super::Context;
use crate::cli::StatsArgs;
use crate::output::Format;

pub fn run(args: &StatsArgs, ctx: &Context) -> Result<()> {
    let mut store = ctx.open_store()?;
    let stats = store.stats(ctx.now())?;
    let text = match ctx.printer.format {
        Format::Prometheus => crate::metrics::render(Some(&stats), None),
        _ => ctx.printer.render(&stats)?,
    };
    match &args.output {
        // Exit 1 as for any write failure, but say what to fix rather than the OS error's words.
        Some(path) => crate::output::write_atomic(path, &text).map_err(|e| {
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "its directory does not exist".to_owned(),
                _ => e.to_string(),
            };
            anyhow::anyhow!("cannot write {}: {why}", path.display())
        })?,
        None => crate::output::write_stdout(&text)?,
    }
    Ok(())
}
