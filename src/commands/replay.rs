use anyhow::Result;

use super::Context;
use crate::cli::{ReplayArgs, ReplayStateArg};
use crate::error::{Error, exit};
use crate::output::{ReplayPreview, ReplayReport};
use crate::replay::Replayer;
use crate::sink::Router;
use crate::store::{ReplayPlan, ReplaySelect, ReplayState};

/// How many messages a dry run shows.
const SAMPLE: usize = 10;

pub fn run(args: &ReplayArgs, ctx: &Context) -> Result<()> {
    let plan = plan(args, ctx)?;
    let mut router = Router::new(&ctx.config.sinks, &ctx.config.routes);
    if plan.sink.as_deref() == Some("") {
        return Err(Error::usage("--to needs a sink name, e.g. --to search").into());
    }
    if let Some(sink) = &plan.sink
        && !router.has_sink(sink)
    {
        return Err(Error::usage(format!(
            "--to {sink}: no sink of that name; configure it under [sinks.{sink}] (or use log or noop)"
        ))
        .into());
    }
    let mut store = ctx.open_relay_store()?;
    if !plan.select.ids.is_empty() {
        let missing = store.missing_ids(&plan.select.ids)?;
        if !missing.is_empty() {
            return Err(Error::NotFound(format!("no message with id {}", missing.join(", "))).into());
        }
    }
    // A replay of the same plan that did not finish is resumed, not started again.
    let unfinished = store.replay_unfinished(&plan.fingerprint())?;
    let (count, sample) = match &unfinished {
        Some(r) => (r.pending + r.dead, Vec::new()),
        None => store.replay_preview(&plan.select, SAMPLE)?,
    };
    let preview = ReplayPreview {
        dry_run: args.dry_run,
        resumes: unfinished.as_ref().map(|r| r.replay.clone()),
        messages: count,
        to: plan.sink.clone(),
        new_delivery_id: plan.new_delivery_id,
        sample,
    };
    if args.dry_run || count == 0 {
        ctx.printer.print(&preview)?;
        return Ok(());
    }
    if !args.yes && !confirm(ctx, &preview)? {
        return Err(Error::usage("replay cancelled; nothing was sent").into());
    }
    let stop = ctx.stop_on_signals()?;
    let replay = store.replay_start(&plan, ctx.now(), &ctx.audit())?;
    tracing::debug!(
        replay = %replay.replay,
        messages = replay.messages,
        left = replay.pending,
        "replaying"
    );
    let bar = super::progress(ctx, replay.messages, "replaying");
    bar.set_position(replay.delivered);
    let settings = ctx.config.relay_settings(args.batch_size);
    let finished = Replayer {
        store: store.as_mut(),
        router: &mut router,
        clock: ctx.clock.as_ref(),
        settings: &settings,
        rate: args.rate,
    }
    .run(&replay.replay, &stop, &mut |done| bar.set_position(done))?;
    bar.finish_and_clear();
    let incomplete = finished.stopped || finished.replay.dead > 0;
    ctx.printer.print(&ReplayReport::from(finished))?;
    if incomplete {
        return Err(Error::Exit(exit::INCOMPLETE).into());
    }
    Ok(())
}

/// The replay the flags ask for.
fn plan(args: &ReplayArgs, ctx: &Context) -> Result<ReplayPlan> {
    let time = |flag: &str, text: &Option<String>| {
        text.as_deref()
            .map(|t| super::time_or_ago(ctx, flag, t))
            .transpose()
    };
    let select = ReplaySelect {
        ids: args.id.clone(),
        types: args.event_type.clone(),
        key: args.key.clone(),
        occurred_since: time("--since", &args.since)?,
        occurred_until: time("--until", &args.until)?,
        processed_since: time("--processed-since", &args.processed_since)?,
        processed_until: time("--processed-until", &args.processed_until)?,
        state: match args.state {
            Some(ReplayStateArg::Processed) => ReplayState::Processed,
            Some(ReplayStateArg::Dead) => ReplayState::Dead,
            Some(ReplayStateArg::Failed) => ReplayState::Failed,
            Some(ReplayStateArg::Unprocessed) => ReplayState::Unprocessed,
            Some(ReplayStateArg::All) => ReplayState::All,
            None if args.id.is_empty() => ReplayState::Processed,
            None => ReplayState::All,
        },
    };
    if select == ReplaySelect::default() && args.state.is_none() {
        return Err(Error::usage(
            "say which messages to replay: --id, --type, --key, --since/--until, \
             --processed-since/--processed-until or --state (e.g. --state processed for every processed message)",
        )
        .into());
    }
    // Relative times (`--since 1h`) name a different moment on every run: the same command
    // is recognized by what it says.
    let as_written = serde_json::json!({
        "ids": args.id,
        "types": args.event_type,
        "key": args.key,
        "since": args.since,
        "until": args.until,
        "processed_since": args.processed_since,
        "processed_until": args.processed_until,
        "state": select.state,
        "to": args.to,
        "new_delivery_id": args.new_delivery_id,
    });
    Ok(ReplayPlan {
        select,
        sink: args.to.clone(),
        new_delivery_id: args.new_delivery_id,
        as_written: Some(as_written.to_string()),
    })
}

fn confirm(ctx: &Context, preview: &ReplayPreview) -> Result<bool> {
    let what = preview.summary();
    if !ctx.config.stdin_tty {
        return Err(Error::usage(format!(
            "replay would {what}; pass --yes to confirm, or --dry-run to see them"
        ))
        .into());
    }
    Ok(crate::output::confirm(&format!("{what}?"))?)
}
