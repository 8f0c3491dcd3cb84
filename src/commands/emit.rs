use std::io::Read;

use anyhow::{Context as _, Result};

use super::Context;
use crate::app::UnitOfWork;
use crate::cli::{EmitEventArgs, EmitUserArgs};
use crate::error::Error;
use crate::model::NewMessage;
use crate::output::EmitReport;
use crate::sample::{User, save_new_user};

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
    let mut emitted = Vec::with_capacity(args.count.min(100_000) as usize);
    let mut next = first;
    for _ in 0..args.count {
        let mut user = match next.take() {
            Some(u) => u,
            None => {
                let tag = &uuid::Uuid::now_v7().simple().to_string()[20..];
                User::register(format!("user-{tag}@example.com"), args.name.clone())?
            }
        };
        emitted.extend(save_new_user(store.as_mut(), &mut user)?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    ctx.printer.print(&EmitReport::from_messages(&emitted))?;
    Ok(())
}

pub fn event(args: &EmitEventArgs, ctx: &Context) -> Result<()> {
    let ty = args.event_type.trim();
    if ty.is_empty() || ty != args.event_type || ty.chars().any(char::is_control) {
        return Err(Error::usage(format!(
            "invalid event type {:?}: give a name like OrderPlaced",
            args.event_type
        ))
        .into());
    }
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
    let text = text.trim();
    serde_json::from_str::<serde_json::Value>(text).map_err(|e| {
        Error::usage(format!(
            "content from {source} is not valid JSON ({e}); nothing was written"
        ))
    })?;
    let message = NewMessage::new(ty, text.to_owned(), ctx.now());
    let mut store = ctx.open_store()?;
    let mut uow = UnitOfWork::begin(store.as_mut())?;
    uow.add(message);
    let written = uow.commit()?;
    ctx.printer.print(&EmitReport::from_messages(&written))?;
    Ok(())
}
