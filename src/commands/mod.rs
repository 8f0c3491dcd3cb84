//! One module per subcommand, each with a `run` taking its args and the shared [`Context`].

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Result;
use chrono::{DateTime, Utc};

use crate::cli::{Cli, Command, EmitCommand};
use crate::config::Config;
use crate::output::{Printer, Style};
use crate::store::{self, Store};
use crate::time::{Clock, FixedClock, SystemClock};

mod audit;
mod completions;
mod dashboard;
mod emit;
mod explain;
mod health;
mod init;
mod list;
mod process_once;
mod purge;
mod replay;
mod retry;
mod run;
mod show;
mod skip;
mod stats;

/// What every command gets: the validated config, the printer and the clock.
pub struct Context {
    pub config: Config,
    pub printer: Printer,
    pub clock: Box<dyn Clock>,
}

impl Context {
    pub fn new(config: Config) -> Self {
        let printer = Printer {
            format: config.format,
            style: Style {
                tty: config.stdout_tty,
                color: config.color,
            },
        };
        let clock: Box<dyn Clock> = match config.now {
            Some(t) => Box::new(FixedClock(t)),
            None => Box::new(SystemClock),
        };
        Context {
            config,
            printer,
            clock,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// This command as the audit trail records it: now, by the OS user, with its command line.
    pub fn audit(&self) -> store::Audit {
        store::Audit::new(self.now(), &self.config.actor, &self.config.command_line)
    }

    pub fn open_store(&self) -> Result<Box<dyn Store>> {
        Ok(store::open(&self.config.database, &self.config.store)?)
    }

    /// The store for a relay: as `open_store`, warning when the `[types]` key rules of the config
    /// are not the ones installed in the database (they take effect only through `init`).
    pub fn open_relay_store(&self) -> Result<Box<dyn Store>> {
        let mut store = self.open_store()?;
        let mut wanted = self.config.key_rules.clone();
        wanted.sort_by(|a, b| a.event_type.cmp(&b.event_type));
        match store.key_rules() {
            Ok(installed) if installed != wanted => tracing::warn!(
                "the [types] key rules of the config differ from those installed in the database; \
                 run `outboxctl init` to install them"
            ),
            Ok(_) => {}
            Err(e) => tracing::debug!("reading the installed key rules: {e}"),
        }
        Ok(store)
    }

    /// SIGINT and SIGTERM set the returned flag instead of killing the process, so the relay
    /// can finish the message in flight; a second SIGINT exits at once.
    pub fn stop_on_signals(&self) -> Result<Arc<AtomicBool>> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let stop = Arc::new(AtomicBool::new(false));
        for sig in [SIGINT, SIGTERM] {
            signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(&stop))?;
            signal_hook::flag::register(sig, Arc::clone(&stop))?;
        }
        Ok(stop)
    }
}

pub fn run(cli: Cli) -> Result<()> {
    if let Command::Completions(args) = &cli.command {
        // Needs no config, so it works anywhere (packaging, a fresh shell).
        return completions::run(args);
    }
    if let Command::Health(args) = &cli.command {
        // Loads the config itself: a config error is UNKNOWN (3) for a monitor, not a usage error.
        return health::run(args, &cli.global);
    }
    if cli.global.format == crate::output::Format::Prometheus && !matches!(cli.command, Command::Stats(_)) {
        return Err(crate::error::Error::usage(
            "--format prometheus is only for stats; use table or json for this command",
        )
        .into());
    }
    let config = Config::load(&cli.global)?;
    let ctx = Context::new(config);
    match &cli.command {
        Command::Init(args) => init::run(args, &ctx),
        Command::Emit(EmitCommand::UserRegistered(args)) => emit::user_registered(args, &ctx),
        Command::Emit(EmitCommand::Event(args)) => emit::event(args, &ctx),
        Command::ProcessOnce(args) => process_once::run(args, &ctx),
        Command::Run(args) => run::run(args, &ctx),
        Command::List(args) => list::run(args, &ctx),
        Command::Show(args) => show::run(args, &ctx),
        Command::Explain(args) => explain::run(args, &ctx),
        Command::Stats(args) => stats::run(args, &ctx),
        Command::Retry(args) => retry::run(args, &ctx),
        Command::Skip(args) => skip::run(args, &ctx),
        Command::Purge(args) => purge::run(args, &ctx),
        Command::Replay(args) => replay::run(args, &ctx),
        Command::Audit(args) => audit::run(args, &ctx),
        Command::Dashboard(args) => dashboard::run(args, &ctx),
        Command::Completions(_) | Command::Health(_) => unreachable!("handled above"),
    }
}

/// A time as a flag gives it: a time (`2024-01-15 10:30:00`) or how long ago (`7d`).
pub fn time_or_ago(ctx: &Context, flag: &str, text: &str) -> Result<DateTime<Utc>> {
    if let Some(t) = crate::time::parse(text) {
        return Ok(t);
    }
    let ago = crate::duration::parse_positive(text)
        .ok()
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .ok_or_else(|| {
            crate::error::Error::usage(format!(
                "{flag} {text:?} is neither a time (2024-01-15 10:30:00) nor a duration (7d)"
            ))
        })?;
    Ok(ctx
        .now()
        .checked_sub_signed(ago)
        .unwrap_or(DateTime::<Utc>::MIN_UTC))
}

/// A progress bar on stderr when it is a terminal and the output is not JSON; hidden otherwise.
pub fn progress(ctx: &Context, len: u64, what: &str) -> indicatif::ProgressBar {
    if !ctx.config.progress || len < 2 {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} {wide_bar} {pos}/{len} ({per_sec}, {eta})")
            .expect("a valid template"),
    );
    bar.set_message(what.to_owned());
    bar
}
