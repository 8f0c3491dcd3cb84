use anyhow::Result;

use super::Context;
use crate::cli::ListArgs;
use crate::output::{BlockedList, MessageList};
use crate::store::{ListFilter, ListParams};

pub fn run(args: &ListArgs, ctx: &Context) -> Result<()> {
    if args.blocked {
        let mut store = ctx.open_store()?;
        let keys = store.blocked_keys(args.limit as usize, 0)?;
        ctx.printer.print(&BlockedList::new(keys, ctx.now()))?;
        return Ok(());
    }
    let filter = if args.failed {
        ListFilter::Failed
    } else if args.dead {
        ListFilter::Dead
    } else if args.processed {
        ListFilter::Processed
    } else {
        ListFilter::Unprocessed
    };
    let mut store = ctx.open_store()?;
    let messages = store.list(&ListParams {
        filter,
        event_type: args.event_type.clone(),
        limit: args.limit as usize,
    })?;
    ctx.printer.print(&MessageList::new(messages, ctx.now()))?;
    Ok(())
}
