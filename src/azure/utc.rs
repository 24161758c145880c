//! UTC times as Azure writes them in text: `2024-02-29T12:34:56Z` (a SAS's
//! `st` and `se`, the dates dsops shows in Key Vault errors). Key Vault's
//! JSON and Entra ID's tokens use seconds since the epoch instead.
//!
//! The calendar is Howard Hinnant's `civil_from_days` and `days_from_civil`:
//! eras of 400 years starting on March 1st, so that a leap day is the last
//! day of its year.

use std::time::{Duration, SystemTime};

/// `time` as `YYYY-MM-DDTHH:MM:SSZ`, whole seconds rounded down (toward the
/// past, also before 1970).
pub(crate) fn format(time: SystemTime) -> String {
    let seconds: i64 = match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => {
            let before = e.duration();
            let whole = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            // 0.5 s before the epoch is in 1969-12-31T23:59:59.
            if before.subsec_nanos() > 0 {
                -whole - 1
            } else {
                -whole
            }
        }
    };
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// A UTC time as a SAS may carry it (ISO 8601 in the forms the Storage REST
/// reference accepts: `YYYY-MM-DD`, `YYYY-MM-DDThh:mmZ`,
/// `YYYY-MM-DDThh:mm:ssZ`, with `.fff…` seconds allowed and ignored), from
/// 1970 on. `None` for anything else.
pub(crate) fn parse(text: &str) -> Option<SystemTime> {
    let number = |s: &str, len: usize| -> Option<i64> {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (date, time) = match text.split_once('T') {
        Some((date, time)) => (date, Some(time.strip_suffix('Z')?)),
        None => (text, None),
    };
    let mut parts = date.split('-');
    let year = number(parts.next()?, 4)?;
    let month = number(parts.next()?, 2)?;
    let day = number(parts.next()?, 2)?;
    if parts.next().is_some() || !(1..=12).contains(&month) || day < 1 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    if civil_from_days(days) != (year, month, day) {
        return None; // 2023-02-30
    }
    let seconds_of_day = match time {
        None => 0,
        Some(time) => {
            let time = time.split_once('.').map_or(time, |(whole, fraction)| {
                if !fraction.is_empty() && fraction.bytes().all(|b| b.is_ascii_digit()) {
                    whole
                } else {
                    "invalid"
                }
            });
            let mut parts = time.split(':');
            let hour = number(parts.next()?, 2)?;
            let minute = number(parts.next()?, 2)?;
            let second = parts.next().map_or(Some(0), |s| number(s, 2))?;
            if parts.next().is_some() || hour > 23 || minute > 59 || second > 59 {
                return None;
            }
            hour * 3600 + minute * 60 + second
        }
    };
    let seconds = u64::try_from(days * 86_400 + seconds_of_day).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(seconds))
}

/// The proleptic Gregorian date `days` days after 1970-01-01 (before it
/// when negative).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    // 719 468 days from 0000-03-01 to 1970-01-01.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097); // [0, 146096]
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365; // [0, 399]
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100); // [0, 365]
    let mp = (5 * day_of_year + 2) / 153; // [0, 11], March = 0
    let day = day_of_year - (153 * mp + 2) / 5 + 1; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The days from 1970-01-01 to a proleptic Gregorian date (month 1 to 12,
/// day 1 to 31; the inverse of [`civil_from_days`] for real dates).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400); // [0, 399]
    let mp = if month > 2 { month - 3 } else { month + 9 }; // March = 0
    let day_of_year = (153 * mp + 2) / 5 + day - 1; // [0, 365]
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> SystemTime {
        let span = Duration::from_secs(seconds.unsigned_abs());
        if seconds >= 0 {
            SystemTime::UNIX_EPOCH + span
        } else {
            SystemTime::UNIX_EPOCH - span
        }
    }

    /// 2024-02-29T12:34:56Z.
    const NOW: i64 = 1_709_210_096;
    /// 9999-12-31T23:59:59Z, the last time a SAS can name.
    const MAX_SECONDS: i64 = 253_402_300_799;

    #[test]
    fn times_format_as_utc() {
        let cases = [
            (0, "1970-01-01T00:00:00Z"),
            (86_399, "1970-01-01T23:59:59Z"),
            (86_400, "1970-01-02T00:00:00Z"),
            // 2000 is a leap year (divisible by 400).
            (951_782_400, "2000-02-29T00:00:00Z"),
            (951_868_799, "2000-02-29T23:59:59Z"),
            (951_868_800, "2000-03-01T00:00:00Z"),
            (1_000_000_000, "2001-09-09T01:46:40Z"),
            // End of year.
            (1_704_067_199, "2023-12-31T23:59:59Z"),
            (1_704_067_200, "2024-01-01T00:00:00Z"),
            (1_767_225_600, "2026-01-01T00:00:00Z"),
            // 2024 is a leap year.
            (NOW, "2024-02-29T12:34:56Z"),
            (NOW + 86_400, "2024-03-01T12:34:56Z"),
            // 2100 is not (divisible by 100, not by 400).
            (4_107_542_399, "2100-02-28T23:59:59Z"),
            (4_107_542_400, "2100-03-01T00:00:00Z"),
            (MAX_SECONDS, "9999-12-31T23:59:59Z"),
            (-86_400, "1969-12-31T00:00:00Z"),
        ];
        for (seconds, want) in cases {
            assert_eq!(format(at(seconds)), want, "{seconds}");
            assert_eq!(parse(want), (seconds >= 0).then(|| at(seconds)), "{want}");
        }
        // Rounded down, also before 1970.
        assert_eq!(
            format(SystemTime::UNIX_EPOCH - Duration::from_millis(500)),
            "1969-12-31T23:59:59Z"
        );
        assert_eq!(
            format(SystemTime::UNIX_EPOCH + Duration::from_millis(1500)),
            "1970-01-01T00:00:01Z"
        );
    }

    #[test]
    fn days_round_trip_through_every_date_of_four_centuries() {
        // Each day after 1970-01-01 for 400 years (one whole Gregorian cycle)
        // is the day after the previous one, and converts back.
        let mut previous = civil_from_days(0);
        assert_eq!(previous, (1970, 1, 1));
        for days in 1..146_097 {
            let (y, m, d) = civil_from_days(days);
            let (py, pm, pd) = previous;
            let leap = py % 4 == 0 && (py % 100 != 0 || py % 400 == 0);
            let month_length = match pm {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            let want = if pd < month_length {
                (py, pm, pd + 1)
            } else if pm < 12 {
                (py, pm + 1, 1)
            } else {
                (py + 1, 1, 1)
            };
            assert_eq!((y, m, d), want, "day {days}");
            assert_eq!(days_from_civil(y, m, d), days, "day {days}");
            previous = (y, m, d);
        }
        assert_eq!(previous, (2369, 12, 31));
    }

    #[test]
    fn the_sas_forms_of_a_time_parse_and_nothing_else() {
        let midnight = at(NOW - 12 * 3600 - 34 * 60 - 56);
        assert_eq!(parse("2024-02-29"), Some(midnight));
        assert_eq!(parse("2024-02-29T12:34Z"), Some(at(NOW - 56)));
        assert_eq!(parse("2024-02-29T12:34:56Z"), Some(at(NOW)));
        assert_eq!(parse("2024-02-29T12:34:56.1234567Z"), Some(at(NOW)));
        for bad in [
            "",
            "2024",
            "2024-2-29",
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-04-31",
            "2024-02-29T12:34:56",
            "2024-02-29T12:34:56+01:00",
            "2024-02-29T24:00:00Z",
            "2024-02-29T12:60Z",
            "2024-02-29T12:34:56.Z",
            "2024-02-29T12:34:56.xZ",
            "2024-02-29T12:34:56:00Z",
            "2024-02-29-01",
            "1969-12-31",
            "+024-02-29",
            "２０２４-02-29",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
