//! The result of `health`: one Nagios-style status line, or JSON.

use serde::Serialize;

use super::{Render, Style};

/// Nagios plugin states; the discriminant is the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HealthStatus {
    Ok = 0,
    Warning = 1,
    Critical = 2,
    Unknown = 3,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Ok => "OK",
            HealthStatus::Warning => "WARNING",
            HealthStatus::Critical => "CRITICAL",
            HealthStatus::Unknown => "UNKNOWN",
        }
    }

    pub fn exit_code(self) -> u8 {
        self as u8
    }
}

/// One measured value with its thresholds and where it stands.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub value: f64,
    pub warning: Option<f64>,
    pub critical: Option<f64>,
    pub status: HealthStatus,
    /// How it reads in the status line, e.g. "oldest unprocessed 2m 5s old".
    #[serde(skip)]
    pub text: String,
    /// Unit of measure in the performance data ("s" for seconds).
    #[serde(skip)]
    pub unit: &'static str,
    /// Left out of the status line while OK (still in the performance data): checks that only
    /// matter when they fire, so a healthy line stays short.
    #[serde(skip)]
    pub quiet_when_ok: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct HealthReport {
    pub status: HealthStatus,
    pub exit_code: u8,
    /// Why the state could not be known (database unreachable, bad arguments).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub checks: Vec<Check>,
    /// Messages not processed yet, dead ones included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unprocessed: Option<u64>,
}

impl HealthReport {
    pub fn unknown(error: String) -> Self {
        HealthReport {
            status: HealthStatus::Unknown,
            exit_code: HealthStatus::Unknown.exit_code(),
            error: Some(error),
            checks: Vec::new(),
            unprocessed: None,
        }
    }

    /// `OUTBOX OK - oldest unprocessed 3s old, 0 failing, 0 dead | lag=3s;60;300;0 failed=0;;10;0 …`
    pub fn line(&self) -> String {
        let status = self.status.as_str();
        if let Some(e) = &self.error {
            return format!("OUTBOX {status} - {}", e.replace('\n', " "));
        }
        let summary = self
            .checks
            .iter()
            .filter(|c| !(c.quiet_when_ok && c.status == HealthStatus::Ok))
            .map(|c| match c.status {
                HealthStatus::Ok => c.text.clone(),
                s => {
                    let limit = if s == HealthStatus::Critical {
                        c.critical
                    } else {
                        c.warning
                    };
                    format!(
                        "{} ({} > {})",
                        c.text,
                        s.as_str().to_lowercase(),
                        num(limit.unwrap_or_default())
                    )
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        let opt = |v: Option<f64>| v.map(num).unwrap_or_default();
        let mut perf: Vec<String> = self
            .checks
            .iter()
            .map(|c| {
                format!(
                    "{}={}{};{};{};0",
                    c.name,
                    num(c.value),
                    c.unit,
                    opt(c.warning),
                    opt(c.critical)
                )
            })
            .collect();
        if let Some(n) = self.unprocessed {
            perf.push(format!("unprocessed={n};;;0"));
        }
        format!("OUTBOX {status} - {summary} | {}", perf.join(" "))
    }
}

/// Whole numbers without a fraction, others with up to three decimals.
fn num(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

impl Render for HealthReport {
    fn human(&self, _: &Style) -> String {
        self.line()
    }
}
