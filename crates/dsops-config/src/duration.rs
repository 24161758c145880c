//! Durations as written in `dsops.yaml`: `300` (seconds), `90s`, `15m`, `24h`, `7d`, `1h30m`.

use std::time::Duration;

/// A text that is not a duration; its message completes "invalid `expiry`: …".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DurationError(String);

/// Parses a duration: a whole number of seconds, or one or more `<number><unit>`
/// groups with units `s`, `m`, `h`, `d`, largest first (`1h30m`).
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    parse(text).map_err(DurationError)
}

fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("is empty".into());
    }
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    let mut total: u64 = 0;
    let mut last_unit = u64::MAX;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!(
                "`{text}` is not a duration; write seconds (`300`) or units like `90s`, `15m`, `24h`, `7d`, `1h30m`"
            ));
        }
        let (number, after) = rest.split_at(digits);
        let mut chars = after.chars();
        let unit = match chars.next() {
            Some('s') => 1,
            Some('m') => 60,
            Some('h') => 3600,
            Some('d') => 86_400,
            Some(other) if other.is_alphabetic() => {
                return Err(format!(
                    "`{other}` is not a duration unit; use `s`, `m`, `h` or `d`"
                ));
            }
            // `1.5h`, `10 minutes`: no fractions, no spaces.
            Some(_) => {
                return Err(format!(
                    "`{text}` is not a duration; write whole numbers with units, such as `1h30m`"
                ));
            }
            None => return Err(format!("`{text}` is missing a unit after `{number}`")),
        };
        if unit >= last_unit {
            return Err(format!(
                "`{text}` repeats a unit or puts a smaller one first"
            ));
        }
        last_unit = unit;
        let number: u64 = number
            .parse()
            .map_err(|_| format!("`{number}` is too large"))?;
        total = number
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(|| format!("`{text}` is too long a duration"))?;
        rest = chars.as_str();
    }
    Ok(Duration::from_secs(total))
}

/// Formats a duration the way it is written in the file (`1h30m`).
pub fn format_duration(duration: Duration) -> String {
    let mut secs = duration.as_secs();
    if secs == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, name) in [(86_400, 'd'), (3600, 'h'), (60, 'm'), (1, 's')] {
        if secs >= unit {
            out.push_str(&(secs / unit).to_string());
            out.push(name);
            secs %= unit;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        let s = |n| Ok(Duration::from_secs(n));
        assert_eq!(parse_duration("300"), s(300));
        assert_eq!(parse_duration("90s"), s(90));
        assert_eq!(parse_duration("15m"), s(900));
        assert_eq!(parse_duration("24h"), s(86_400));
        assert_eq!(parse_duration("7d"), s(604_800));
        assert_eq!(parse_duration("1h30m"), s(5400));
        assert_eq!(parse_duration("1d2h3m4s"), s(93_784));
    }

    #[test]
    fn rejects_nonsense() {
        for bad in [
            "",
            "h",
            "24",
            "24x",
            "1m1h",
            "1h1h",
            "-5m",
            "1.5h",
            "99999999999999999999d",
        ] {
            if bad == "24" {
                continue;
            }
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formats_round_trip() {
        for text in ["1h30m", "24h", "7d", "90s", "1d2h3m4s"] {
            let d = parse_duration(text).unwrap();
            assert_eq!(parse_duration(&format_duration(d)).unwrap(), d);
        }
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
    }
}
