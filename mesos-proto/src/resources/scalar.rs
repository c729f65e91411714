//! Fixed-point scalar arithmetic.
//!
//! Mesos does not add doubles directly: every scalar is turned into an
//! integer count of thousandths (rounded to the nearest one), the integers are
//! combined, and the result is turned back into a double. Three decimal
//! digits are kept, so `0.1 + 0.2` is exactly `0.3` and `1.0 - 0.9999` is
//! zero. This module does the same, saturating instead of overflowing.

/// Thousandths per unit: Mesos keeps three decimal digits.
const SCALE: f64 = 1000.0;

/// `value` as a whole number of thousandths, rounded half away from zero.
///
/// Out-of-range values saturate and NaN maps to zero; callers reject
/// non-finite values before they get here.
#[allow(clippy::cast_possible_truncation)]
pub(super) fn to_fixed(value: f64) -> i64 {
    (value * SCALE).round() as i64
}

/// The double nearest to `fixed` thousandths.
#[allow(clippy::cast_precision_loss)]
pub(super) fn from_fixed(fixed: i64) -> f64 {
    fixed as f64 / SCALE
}

/// `value` rounded to the nearest thousandth, the precision Mesos keeps.
///
/// ```
/// use mesos_proto::resources::round_scalar;
/// assert_eq!(round_scalar(0.1 + 0.2), 0.3);
/// assert_eq!(round_scalar(1.0004), 1.0);
/// ```
pub fn round_scalar(value: f64) -> f64 {
    if value.is_finite() {
        from_fixed(to_fixed(value))
    } else {
        value
    }
}

/// `left + right` in fixed point.
pub(super) fn add(left: f64, right: f64) -> f64 {
    from_fixed(to_fixed(left).saturating_add(to_fixed(right)))
}

/// `left - right` in fixed point, never below zero.
pub(super) fn subtract(left: f64, right: f64) -> f64 {
    from_fixed(to_fixed(left).saturating_sub(to_fixed(right)).max(0))
}

/// Whether `inner <= outer` in fixed point.
pub(super) fn fits(inner: f64, outer: f64) -> bool {
    to_fixed(inner) <= to_fixed(outer)
}

/// Whether `value` is zero (or below) once rounded.
pub(super) fn is_zero(value: f64) -> bool {
    to_fixed(value) <= 0
}
