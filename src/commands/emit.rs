use std::io::Read;

use anyhow::{Context as _, Result};

use super::Context;
use crate::app::{self, EventError};
use crate::cli::{EmitEventArgs, EmitUserArgs};
use crate::error::Error;
use crate::output::EmitReport;
use crate::sample::{User, register_users};

pub fn user_registered(args: &EmitUserArgs, ctx: &Context) -> Result<()> {
    if args.email.is_some() && args.count > 1 {
        return Err(Error::usage("--email names one user; drop it to generate emails for --count").into());
    }
    // Validate before touching the database, so bad input leaves nothing behind.
    let first = match &args.email {
        Some(e) => Some(User::register(e.clone(), args.name.clone())?),
        None => None,
    };
    let mut store = ctx.open_store()?;
    let bar = super::progress(ctx, args.count, "registering users");
    let emitted = register_users(store.as_mut(), args.count, first, args.name.clone(), &mut || {
        bar.inc(1)
    })?;
    bar.finish_and_clear();
    ctx.printer.print(&EmitReport::from_messages(&emitted))?;
    Ok(())
}

pub fn event(args: &EmitEventArgs, ctx: &Context) -> Result<()> {
    // Checked before reading the content, so a bad type is reported first.
    app::check_event_type(&args.event_type).map_err(|e| Error::usage(e.to_string()))?;
    let (text, source) = match args.content.as_str() {
        "-" => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("reading content from stdin")?;
            (s, "stdin".to_owned())
        }
        c if c.starts_with('@') => {
            let path = &c[1..];
            let s = std::fs::read_to_string(path)
                .map_err(|e| Error::usage(format!("cannot read content file {path}: {e}")))?;
            (s, path.to_owned())
        }
        c => (c.to_owned(), "the argument".to_owned()),
    };
    let mut message = app::event_message(&args.event_type, &text, ctx.now()).map_err(|e| match e {
        EventError::Content(_) => Error::usage(format!("content from {source} is {e}; nothing was written")),
        EventError::Type(_) => Error::usage(e.to_string()),
    })?;
    if args.key.as_deref().is_some_and(|k| k.trim().is_empty()) {
        return Err(Error::usage(
            "--key is empty: give the ordering key (e.g. the aggregate's id), or leave --key out",
        )
        .into());
    }
    message.key = args.key.clone();
    if let Some(parent) = args.traceparent.as_deref().filter(|p| !p.is_empty()) {
        if !crate::model::valid_traceparent(parent) {
            return Err(Error::usage(format!(
                "--traceparent {parent:?} is not a W3C traceparent (like \
                 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01); nothing was written"
            ))
            .into());
        }
        message = message.traced(Some(parent), args.tracestate.as_deref());
    }
    let mut store = ctx.open_store()?;
    let written = app::write_messages(store.as_mut(), vec![message])?;
    ctx.printer.print(&EmitReport::from_messages(&written))?;
    Ok(())
}
