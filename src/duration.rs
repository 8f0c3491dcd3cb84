//! Durations as users write them (`500ms`, `30s`, `5m`, `7d`): one parser for flags, the config
//! file and the dashboard's forms, so they accept and refuse the same things.

use std::time::Duration;

/// Longer durations overflow time arithmetic; nobody means them.
pub const MAX: Duration = Duration::from_secs(100 * 365 * 86_400);

/// Parses a duration, refusing ones past [`MAX`]. Zero is allowed; see [`parse_positive`].
pub fn parse(text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(text.trim())
        .map_err(|e| format!("{e} (write durations like 500ms, 30s, 5m, 7d)"))?;
    if d > MAX {
        return Err(format!("{text:?} is too long (at most 100 years)"));
    }
    Ok(d)
}

/// [`parse`] for flags where zero makes no sense (an interval, an age).
pub fn parse_positive(text: &str) -> Result<Duration, String> {
    let d = parse(text)?;
    if d.is_zero() {
        return Err("must be longer than zero".into());
    }
    Ok(d)
}

/// serde's `deserialize_with` for an optional duration written as text in the config file.
pub fn de_option<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let s = <String as serde::Deserialize>::deserialize(d)?;
    parse(&s).map(Some).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_users_write_and_refuses_the_rest() {
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse(" 5m "), Ok(Duration::from_secs(300)));
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
        assert!(parse_positive("0s").unwrap_err().contains("longer than zero"));
        assert!(parse("soon").unwrap_err().contains("write durations like"));
        assert!(parse("200years").unwrap_err().contains("too long"));
    }
}
