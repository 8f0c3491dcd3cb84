use std::process::ExitCode;

use clap::Parser;
use outboxctl::{cli::Cli, commands, config, error};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    init_logging(&config::log_filter(cli.global.verbose, cli.global.quiet));
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) if error::is_reported(&e) => error::exit_code_of(&e),
        Err(e) => {
            // One line, causes joined: no backtrace for errors a user can act on.
            let text = e.chain().map(ToString::to_string).collect::<Vec<_>>().join(": ");
            // Like a log line, never a secret, whatever a library put into its error.
            let text = outboxctl::redact::scrub_log(&text);
            outboxctl::output::notice(&format!("error: {}", text.replace('\n', " ")));
            error::exit_code_of(&e)
        }
    }
}

/// Log lines go to stderr, scrubbed of every secret the config holds: client libraries print
/// URLs with their passwords at debug level. A client library's events that carry message bodies
/// are left out unless the filter names that library (`OUTBOX_LOG=warn,lapin=warn`).
fn init_logging(filter: &str) {
    use tracing_subscriber::prelude::*;
    let asked_for = filter.to_owned();
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(|| ScrubbedLine(Vec::new()))
        .with_target(false)
        .with_ansi(config::log_color())
        .with_filter(tracing_subscriber::filter::filter_fn(move |meta| {
            payload_logged_by(meta).is_none_or(|library| names(&asked_for, library))
        }));
    tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new(filter))
        .with(fmt)
        .init();
}

/// The client library whose event this is, if the event may carry a message's body: lapin logs
/// a returned message whole at WARN and frames at TRACE; tokio_postgres logs every statement's
/// parameters (an emitted message's content among them) at DEBUG.
fn payload_logged_by(meta: &tracing::Metadata<'_>) -> Option<&'static str> {
    let target = meta.target();
    let has = |field| meta.fields().field(field).is_some();
    if target == "lapin::returned_messages"
        || (target.starts_with("lapin::") && (has("frame") || has("frames")))
    {
        Some("lapin")
    } else if target == "tokio_postgres::query" {
        Some("tokio_postgres")
    } else {
        None
    }
}

/// Whether a filter has a directive of its own for `library` (one that does not turn it off).
fn names(filter: &str, library: &str) -> bool {
    filter
        .split(',')
        .map(str::trim)
        .any(|directive| directive.starts_with(library) && !directive.ends_with("=off"))
}

/// One log event, written to stderr when dropped, without the secrets `redact::hide_in_logs` knows.
struct ScrubbedLine(Vec<u8>);

impl std::io::Write for ScrubbedLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for ScrubbedLine {
    fn drop(&mut self) {
        use std::io::Write;
        let line = outboxctl::redact::scrub_log(&String::from_utf8_lossy(&self.0));
        let _ = std::io::stderr().write_all(line.as_bytes());
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
