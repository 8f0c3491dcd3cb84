use std::process::ExitCode;

use clap::Parser;
use outboxctl::{cli::Cli, commands, config, error};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::new(config::log_filter(
            cli.global.verbose,
            cli.global.quiet,
        )))
        .with_target(false)
        .with_ansi(config::log_color())
        .init();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) if error::is_reported(&e) => error::exit_code_of(&e),
        Err(e) => {
            // One line, causes joined: no backtrace for errors a user can act on.
            let text = e.chain().map(ToString::to_string).collect::<Vec<_>>().join(": ");
            outboxctl::output::notice(&format!("error: {}", text.replace('\n', " ")));
            error::exit_code_of(&e)
        }
    }
}

/// clap's errors, on one line plus its tip; help and version print as usual.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
        || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    {
        let _ = e.print();
        return ExitCode::from(if e.use_stderr() {
            error::exit::USAGE
        } else {
            error::exit::OK
        });
    }
    let rendered = e.render().to_string();
    let mut lines = rendered.lines().map(str::trim);
    let mut first = lines.next().unwrap_or("error: invalid arguments").to_owned();
    // "…not provided:" and "…cannot be used with:" list the arguments on the lines below.
    if first.ends_with(':') {
        let listed: Vec<&str> = lines.by_ref().take_while(|l| !l.is_empty()).collect();
        first = format!("{first} {}", listed.join(", "));
    }
    let mut lines = lines.filter(|l| !l.is_empty());
    let tip = lines.find(|l| l.starts_with("tip:"));
    match tip {
        Some(tip) => outboxctl::output::notice(&format!("{first} ({tip}; see --help)")),
        None => outboxctl::output::notice(&format!("{first} (see --help)")),
    }
    // A monitoring plugin's bad arguments are UNKNOWN (3), not CRITICAL (2).
    if invoked_subcommand().as_deref() == Some("health") {
        let reason = first.strip_prefix("error: ").unwrap_or(&first);
        let _ = outboxctl::output::write_stdout(&format!("OUTBOX UNKNOWN - {reason}"));
        return ExitCode::from(outboxctl::output::HealthStatus::Unknown.exit_code());
    }
    ExitCode::from(error::exit::USAGE)
}

/// The subcommand named on the command line, even when its arguments do not parse.
fn invoked_subcommand() -> Option<String> {
    use clap::CommandFactory;
    let matches = Cli::command().ignore_errors(true).try_get_matches().ok()?;
    matches.subcommand_name().map(str::to_owned)
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
