//! Mesos's duration syntax (`stout`'s `Duration::parse`): a decimal number
//! immediately followed by one unit, e.g. `15secs`, `1.5mins`, `100ms`, as
//! Mesos writes durations in text: the environment an agent gives an
//! executor (`MESOS_RECOVERY_TIMEOUT`, `MESOS_SUBSCRIPTION_BACKOFF_MAX`,
//! `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD`, ...) and command-line flags.

use std::time::Duration;

/// Why a duration string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// The text does not end in a known unit.
    #[error(
        "unknown or missing unit in {0:?} (expected ns, us, ms, secs, mins, hrs, days or weeks)"
    )]
    Unit(String),
    /// The number in front of the unit is not a non-negative decimal.
    #[error("invalid number in {0:?}")]
    Number(String),
    /// The value does not fit a Mesos `Duration`: more than `i64::MAX`
    /// nanoseconds (about 292 years), which Mesos refuses ("out of the
    /// range that a Duration can represent").
    #[error("duration {0:?} is out of range")]
    Range(String),
}

/// Units Mesos understands, longest suffix first so that `ms` is not read as
/// `s`-something and `secs` before a bare match.
const UNITS: &[(&str, f64)] = &[
    ("weeks", 7.0 * 86_400.0),
    ("days", 86_400.0),
    ("mins", 60.0),
    ("secs", 1.0),
    ("hrs", 3_600.0),
    ("ns", 1e-9),
    ("us", 1e-6),
    ("ms", 1e-3),
];

/// Parses a duration in Mesos's format: `10ns`, `500us`, `100ms`, `15secs`,
/// `5mins`, `2hrs`, `1days`, `3weeks`; the number may be decimal
/// (`1.5secs`). Surrounding whitespace is ignored; negative values are
/// refused (no Mesos timeout is negative), and so are values past
/// `i64::MAX` nanoseconds, as Mesos refuses them.
///
/// ```
/// use std::time::Duration;
/// use mesos_proto::duration::parse_duration;
/// assert_eq!(parse_duration("15mins").unwrap(), Duration::from_secs(900));
/// assert_eq!(parse_duration("1.5secs").unwrap(), Duration::from_millis(1500));
/// assert!(parse_duration("15").is_err());
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let trimmed = text.trim();
    let (number, seconds_per_unit) = UNITS
        .iter()
        .find_map(|(unit, factor)| trimmed.strip_suffix(unit).map(|n| (n, *factor)))
        .ok_or_else(|| DurationError::Unit(text.to_string()))?;
    let valid_chars = !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit() || c == '.')
        && number.chars().any(|c| c.is_ascii_digit());
    if !valid_chars {
        return Err(DurationError::Number(text.to_string()));
    }
    let value: f64 = number
        .parse()
        .map_err(|_| DurationError::Number(text.to_string()))?;
    // As stout's `Duration::parse`: the nanoseconds must fit an int64.
    let seconds = value * seconds_per_unit;
    if seconds * 1e9 > i64::MAX as f64 {
        return Err(DurationError::Range(text.to_string()));
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| DurationError::Range(text.to_string()))
}

/// Writes a duration as Mesos prints it (`stringify(Duration)`, stout's
/// `operator<<`): the unit is that of the duration's magnitude (the
/// largest that keeps the value at least 1), or the next smaller one when
/// the value is a whole number only there (`1500ms`, not `1.5secs`);
/// otherwise a fraction with up to 15 significant digits and no trailing
/// zeros. Durations past `i64::MAX` nanoseconds (which Mesos cannot hold)
/// are written as that maximum. [`parse_duration`] reads it back.
///
/// ```
/// use std::time::Duration;
/// use mesos_proto::duration::format_duration;
/// assert_eq!(format_duration(Duration::from_secs(900)), "15mins");
/// assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
/// assert_eq!(format_duration(Duration::from_nanos(1_000_000_100)), "1.0000001secs");
/// assert_eq!(format_duration(Duration::ZERO), "0ns");
/// ```
pub fn format_duration(duration: Duration) -> String {
    /// Units from the largest, with their length in nanoseconds.
    const UNITS: [(&str, u64); 8] = [
        ("weeks", 7 * 24 * 3600 * 1_000_000_000),
        ("days", 24 * 3600 * 1_000_000_000),
        ("hrs", 3600 * 1_000_000_000),
        ("mins", 60 * 1_000_000_000),
        ("secs", 1_000_000_000),
        ("ms", 1_000_000),
        ("us", 1_000),
        ("ns", 1),
    ];
    let nanos = u64::try_from(duration.as_nanos())
        .unwrap_or(u64::MAX)
        .min(i64::MAX as u64);
    let bucket = UNITS
        .iter()
        .position(|(_, length)| nanos >= *length)
        .unwrap_or(UNITS.len() - 1);
    let (mut unit, mut length) = UNITS[bucket];
    if let Some(&(smaller, smaller_length)) = UNITS.get(bucket + 1) {
        if nanos % length != 0 && nanos % smaller_length == 0 {
            (unit, length) = (smaller, smaller_length);
        }
    }
    if nanos % length == 0 {
        return format!("{}{unit}", nanos / length);
    }
    format!("{}{unit}", significant(nanos as f64 / length as f64, 15))
}

/// `value` (at least 1) with `digits` significant digits, as C++ streams
/// print a double at that precision: no exponent for the values here, no
/// trailing zeros.
fn significant(value: f64, digits: usize) -> String {
    let integral = (value.abs().log10().floor() as usize).saturating_add(1);
    let mut text = format!("{value:.*}", digits.saturating_sub(integral));
    if text.contains('.') {
        while text.ends_with('0') {
            text.pop();
        }
        if text.ends_with('.') {
            text.pop();
        }
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn formatted_durations_print_like_mesos_and_parse_back() {
        use super::{format_duration, parse_duration};
        use std::time::Duration;
        let cases = [
            (Duration::from_secs(5), "5secs"),
            (Duration::from_secs(900), "15mins"),
            (Duration::from_millis(1500), "1500ms"),
            (Duration::from_millis(2500), "2500ms"),
            (Duration::from_nanos(1_000_000_100), "1.0000001secs"),
            (Duration::from_secs(90), "90secs"),
            (Duration::from_secs(86_400 * 10), "10days"),
            (Duration::from_micros(1500), "1500us"),
            (Duration::from_millis(100), "100ms"),
            (Duration::from_secs(7200), "2hrs"),
            (Duration::from_micros(3), "3us"),
            (Duration::ZERO, "0ns"),
        ];
        for (duration, text) in cases {
            assert_eq!(format_duration(duration), text);
            assert_eq!(parse_duration(text), Ok(duration), "{text}");
        }
        // A fraction: 15 significant digits, as stout prints a double.
        assert_eq!(
            format_duration(Duration::from_millis(90_500)),
            "1.50833333333333mins"
        );
    }

    use super::*;

    #[test]
    fn every_mesos_unit() {
        let cases = [
            ("10ns", Duration::from_nanos(10)),
            ("500us", Duration::from_micros(500)),
            ("100ms", Duration::from_millis(100)),
            ("15secs", Duration::from_secs(15)),
            ("5mins", Duration::from_secs(300)),
            ("2hrs", Duration::from_secs(7200)),
            ("1days", Duration::from_secs(86_400)),
            ("3weeks", Duration::from_secs(3 * 7 * 86_400)),
            ("1.5secs", Duration::from_millis(1500)),
            (" 0.25mins ", Duration::from_secs(15)),
            ("0secs", Duration::ZERO),
        ];
        for (text, expected) in cases {
            let got = parse_duration(text).unwrap();
            let diff = got.abs_diff(expected);
            assert!(diff < Duration::from_nanos(2), "{text}: {got:?}");
        }
    }

    #[test]
    fn malformed_values_are_refused() {
        let error_kind = |text| match parse_duration(text) {
            Ok(_) => "ok",
            Err(DurationError::Unit(_)) => "unit",
            Err(DurationError::Number(_)) => "number",
            Err(DurationError::Range(_)) => "range",
        };
        let cases = [
            ("15", "unit"),
            ("15s", "unit"),
            ("secs", "number"),
            ("-1secs", "number"),
            ("1.2.3secs", "number"),
            ("1e3secs", "number"),
            ("", "unit"),
            ("999999999999999999999weeks", "range"),
            // Past i64::MAX nanoseconds, as Mesos refuses; found by the
            // `duration` fuzz target (it parsed, but its formatted maximum
            // read back as another value).
            ("99999999995secs", "range"),
            ("9223372037secs", "range"),
            ("9223372036secs", "ok"),
            ("15250weeks", "ok"),
        ];
        for (text, expected) in cases {
            assert_eq!(error_kind(text), expected, "{text:?}");
        }
    }
}
