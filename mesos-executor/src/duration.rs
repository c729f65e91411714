//! Mesos's duration syntax (`stout`'s `Duration::parse`): a decimal number
//! immediately followed by one unit, e.g. `15secs`, `1.5mins`, `100ms`.

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
    /// The value does not fit a `std::time::Duration`.
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
/// refused (no Mesos timeout is negative).
///
/// ```
/// use std::time::Duration;
/// use mesos_executor::parse_duration;
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
    Duration::try_from_secs_f64(value * seconds_per_unit)
        .map_err(|_| DurationError::Range(text.to_string()))
}

#[cfg(test)]
mod tests {
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
        assert!(matches!(parse_duration("15"), Err(DurationError::Unit(_))));
        assert!(matches!(parse_duration("15s"), Err(DurationError::Unit(_))));
        assert!(matches!(
            parse_duration("secs"),
            Err(DurationError::Number(_))
        ));
        assert!(matches!(
            parse_duration("-1secs"),
            Err(DurationError::Number(_))
        ));
        assert!(matches!(
            parse_duration("1.2.3secs"),
            Err(DurationError::Number(_))
        ));
        assert!(matches!(
            parse_duration("1e3secs"),
            Err(DurationError::Number(_))
        ));
        assert!(matches!(parse_duration(""), Err(DurationError::Unit(_))));
        assert!(matches!(
            parse_duration("999999999999999999999weeks"),
            Err(DurationError::Range(_))
        ));
    }
}
