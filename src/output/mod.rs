//! Rendering kept apart from logic: commands hand over data, this module writes it to stdout as a
//! table or as JSON. Logs, progress and prompts go to stderr.

use std::io::{self, Write};

use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;

mod health;
mod views;

/// How commands that print data print it (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    /// Prometheus text exposition format (stats only)
    Prometheus,
}

pub use health::{Check, HealthReport, HealthStatus};
pub use views::{
    AuditLog, BlockedList, EmitReport, InitReport, MessageList, MessageView, PurgeReport, ReplayPreview,
    ReplayReport, RetryReport, SkipReport,
};

/// Data a command prints: JSON through serde, a table (or a few lines) for people.
pub trait Render: Serialize {
    fn human(&self, style: &Style) -> String;
}

/// How human output looks where it goes.
pub struct Style {
    /// Box drawing and colour when stdout is a terminal; plain aligned columns otherwise.
    pub tty: bool,
    pub color: bool,
}

impl Style {
    pub fn table(&self, header: &[&str]) -> Table {
        let mut t = Table::new();
        if self.tty {
            t.load_style(presets::UTF8_FULL_CONDENSED)
                .set_content_arrangement(ContentArrangement::Dynamic);
        } else {
            t.load_style(presets::NOTHING);
        }
        if !self.color {
            t.force_no_tty();
        }
        t.set_header(header.iter().map(comfy_table::Cell::new));
        t
    }
}

pub struct Printer {
    pub format: Format,
    pub style: Style,
}

impl Printer {
    pub fn print<T: Render>(&self, value: &T) -> io::Result<()> {
        let text = self.render(value)?;
        write_stdout(&text)
    }

    /// The text `print` would write. Prometheus output is not a `Render` form: commands that
    /// offer it render it themselves, and `commands::run` refuses it for the others.
    pub fn render<T: Render>(&self, value: &T) -> io::Result<String> {
        match self.format {
            Format::Json => serde_json::to_string_pretty(value).map_err(io::Error::other),
            Format::Table => Ok(value.human(&self.style)),
            Format::Prometheus => Err(io::Error::other("this command has no Prometheus output")),
        }
    }
}

/// Writes text to stdout, ending it with exactly one newline (nothing for empty text).
pub fn write_stdout(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    if !text.is_empty() {
        writeln!(out, "{}", text.trim_end_matches('\n'))?;
    }
    out.flush()
}

/// Replaces `path` with `text` atomically: readers (node_exporter's textfile collector) see the
/// old file or the new one, never half of it. The temporary file starts with a dot and does not
/// end in `.prom`, so the collector ignores it.
pub fn write_atomic(path: &std::path::Path, text: &str) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other(format!("{} is not a file path", path.display())))?;
    let tmp = dir.join(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        if !text.ends_with('\n') && !text.is_empty() {
            f.write_all(b"\n")?;
        }
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes a line to stderr: the one-line error of a failed command, notices that are not logs.
pub fn notice(text: &str) {
    let _ = writeln!(io::stderr(), "{text}");
}

/// Asks a yes/no question on stderr and reads the answer from stdin. Default: no.
pub fn confirm(question: &str) -> io::Result<bool> {
    let mut err = io::stderr().lock();
    write!(err, "{question} [y/N] ")?;
    err.flush()?;
    let mut answer = String::new();
    io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}
