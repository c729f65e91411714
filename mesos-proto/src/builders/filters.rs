//! `Filters` for DECLINE and ACCEPT calls.

use std::time::Duration;

use crate::v1::Filters;

use super::BuildError;

/// `Filters` that keep the declined resources away from the framework for
/// `refuse` (Mesos's default, when no filters are sent, is 5 seconds).
///
/// ```
/// use std::time::Duration;
/// use mesos_proto::builders::filters;
/// assert_eq!(filters(Duration::from_secs(30)).refuse_seconds, Some(30.0));
/// ```
pub fn filters(refuse: Duration) -> Filters {
    Filters::refuse(refuse)
}

impl Filters {
    /// `Filters` refusing the resources for `duration` (see [`filters`]).
    pub fn refuse(duration: Duration) -> Filters {
        Filters {
            refuse_seconds: Some(duration.as_secs_f64()),
        }
    }

    /// `Filters` refusing the resources for `seconds`, which must be finite
    /// and not negative.
    ///
    /// ```
    /// use mesos_proto::v1::Filters;
    /// assert_eq!(Filters::refuse_secs(2.5)?.refuse_seconds, Some(2.5));
    /// assert!(Filters::refuse_secs(-1.0).is_err());
    /// assert!(Filters::refuse_secs(f64::NAN).is_err());
    /// # Ok::<(), mesos_proto::builders::BuildError>(())
    /// ```
    pub fn refuse_secs(seconds: f64) -> Result<Filters, BuildError> {
        if seconds.is_finite() && seconds >= 0.0 {
            Ok(Filters {
                refuse_seconds: Some(seconds),
            })
        } else {
            Err(BuildError::invalid(
                "Filters",
                "refuse_seconds",
                format!("{seconds} is not a finite, non-negative number of seconds"),
            ))
        }
    }
}
