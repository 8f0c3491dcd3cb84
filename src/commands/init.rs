use anyhow::Result;

use super::Context;
use crate::cli::InitArgs;
use crate::output::InitReport;

pub fn run(_: &InitArgs, ctx: &Context) -> Result<()> {
    let mut store = ctx.open_store()?;
    store.init()?;
    // Changing the rules changes how keys are filled: an operator action, audited.
    let mut wanted = ctx.config.key_rules.clone();
    wanted.sort_by(|a, b| a.event_type.cmp(&b.event_type));
    let changed = store.key_rules().map_or(true, |installed| installed != wanted);
    let audit = ctx.audit();
    store.apply_key_rules(&wanted, changed.then_some(&audit))?;
    ctx.printer.print(&InitReport {
        backend: store.backend(),
        database: crate::redact::redact_url(&ctx.config.database),
        table: ctx.config.store.table.clone(),
    })?;
    Ok(())
}
