//! The one time format of the schema, and the clock the relay reads.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};

/// `YYYY-MM-DD HH:MM:SS.ffffff`, UTC, no zone suffix: sorts as text, and is what SQLite's
/// `strftime('%Y-%m-%d %H:%M:%f')` and EF Core write.
pub const FORMAT: &str = "%Y-%m-%d %H:%M:%S%.6f";

/// Writes [`FORMAT`] by hand: the relay formats and parses several times per message, and
/// chrono's format-string interpreter was a tenth of a claim's cost.
pub fn format(t: DateTime<Utc>) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(26);
    let year = t.year();
    if !(0..=9999).contains(&year) {
        return t.format(FORMAT).to_string();
    }
    let _ = write!(
        s,
        "{year:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}",
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        // A leap second's nanoseconds run past 1e9; the stored form has no room for it.
        (t.nanosecond() % 1_000_000_000) / 1_000
    );
    s
}

/// The stored form, `YYYY-MM-DD HH:MM:SS` with an optional fraction of up to nine digits,
/// read without chrono's format-string parser. None for anything else.
fn parse_stored(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            let n = num(20..b.len())?;
            n * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let time = date.and_hms_nano_opt(num(11..13)?, num(14..16)?, num(17..19)?, nanos)?;
    Some(time.and_utc())
}

/// Parses the stored form, and the ISO 8601 variants applications commonly write
/// (`T` separator, `Z` or an offset, any fraction).
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Some(t) = parse_stored(s) {
        return Some(t);
    }
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

    #[test]
    fn hand_written_forms_agree_with_chrono() {
        for text in [
            "2024-01-15 10:30:00",
            "2024-01-15 10:30:00.5",
            "2024-02-29 23:59:59.123456",
            "2024-01-15 10:30:00.123456789",
            "0001-01-01 00:00:00.000001",
        ] {
            let chrono = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
                .unwrap()
                .and_utc();
            assert_eq!(parse_stored(text), Some(chrono), "{text}");
            assert_eq!(format(chrono), chrono.format(FORMAT).to_string(), "{text}");
        }
        for bad in [
            "2024-13-01 00:00:00",
            "2024-02-30 00:00:00",
            "2024-01-15 24:00:00",
            "2024-01-15 10:30:00.",
            "2024-01-15 10:30:00.1234567890",
            "2024-01-15 10:30:00Z",
            "2024-01-15T10:30:00",
            "2024-01-1x 10:30:00",
        ] {
            assert_eq!(parse_stored(bad), None, "{bad}");
        }
    }
}
