//! The one time format of the schema, and the clock the relay reads.

use chrono::{DateTime, NaiveDateTime, Utc};

/// `YYYY-MM-DD HH:MM:SS.ffffff`, UTC, no zone suffix: sorts as text, and is what SQLite's
/// `strftime('%Y-%m-%d %H:%M:%f')` and EF Core write.
pub const FORMAT: &str = "%Y-%m-%d %H:%M:%S%.6f";

pub fn format(t: DateTime<Utc>) -> String {
    t.format(FORMAT).to_string()
}

/// Parses the stored form, and the ISO 8601 variants applications commonly write
/// (`T` separator, `Z` or an offset, any fraction).
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let naive = s.trim_end_matches('Z');
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(naive, f) {
            return Some(t.and_utc());
        }
    }
    chrono::NaiveDate::parse_from_str(naive, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// Where the relay gets "now". Tests pin it through `OUTBOX_NOW`.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still.
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_form_round_trips_and_sorts() {
        let a = parse("2024-01-15 10:30:00.5").unwrap();
        let b = parse("2024-01-15T10:30:00.75Z").unwrap();
        assert!(format(a) < format(b));
        assert_eq!(parse(&format(a)), Some(a));
        assert_eq!(format(a), "2024-01-15 10:30:00.500000");
    }

    #[test]
    fn accepts_what_other_languages_write() {
        assert!(parse("2024-01-15 10:30:00").is_some());
        assert!(parse("2024-01-15 10:30:00.1234567").is_some());
        assert!(parse("2024-01-15T10:30:00+02:00").is_some());
        assert!(parse("yesterday").is_none());
    }
}
