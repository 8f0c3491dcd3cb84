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

/// A rate such as `2000/s`, `2000` (per second) or `120/m`, in messages per second.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let (n, per) = match t.split_once('/') {
        Some((n, unit)) => (
            n.trim(),
            match unit.trim() {
                "s" | "sec" | "second" => 1.0,
                "m" | "min" | "minute" => 60.0,
                "h" | "hour" => 3600.0,
                other => {
                    return Err(format!(
                        "unknown unit {other:?}: write a rate like 2000/s or 120/m"
                    ));
                }
            },
        ),
        None => (t, 1.0),
    };
    match n.parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 => Ok(n / per),
        _ => Err(format!(
            "{text:?} is not a rate: write a positive number per second, like 2000/s"
        )),
    }
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
    fn rates_are_per_second() {
        assert_eq!(parse_rate("2000/s"), Ok(2000.0));
        assert_eq!(parse_rate("2000"), Ok(2000.0));
        assert_eq!(parse_rate("120/m"), Ok(2.0));
        for bad in ["0/s", "-5/s", "fast", "10/week", "inf"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }

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
