use anyhow::Result;

use super::Context;
use crate::cli::AuditArgs;
use crate::error::Error;
use crate::output::AuditLog;

pub fn run(args: &AuditArgs, ctx: &Context) -> Result<()> {
    let since = match args.since.as_deref() {
        None => None,
        Some(text) => Some(match crate::time::parse(text) {
            Some(t) => t,
            None => {
                let ago = crate::duration::parse_positive(text)
                    .ok()
                    .and_then(|d| chrono::Duration::from_std(d).ok())
                    .ok_or_else(|| {
                        Error::usage(format!(
                            "--since {text:?} is neither a time (2024-01-15 10:30:00) nor a duration (7d)"
                        ))
                    })?;
                ctx.now() - ago
            }
        }),
    };
    let mut store = ctx.open_store()?;
    let entries = store.audit_log(since, args.limit as usize)?;
    ctx.printer.print(&AuditLog { entries })?;
    Ok(())
}
