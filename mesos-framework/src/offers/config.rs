//! The offer manager's settings.

use std::time::Duration;

/// How long an offer may stay unused by default before it is declined.
/// Offers a framework sits on are resources no other framework gets; a
/// framework that decides within an allocation interval or two (1 s each
/// by default) never reaches it, and a slow one keeps a fair chance.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// For how long declined offers are refused by default (`refuse_seconds`):
/// two minutes, as Marathon's `decline_offer_duration`. A REVIVE (sent
/// when work appears) lifts the filters sooner.
pub const DEFAULT_REFUSE: Duration = Duration::from_secs(120);

/// The shortest time between two REVIVEs of a role by default: five
/// seconds, as Marathon's `min_revive_offers_interval`.
pub const DEFAULT_REVIVE_INTERVAL: Duration = Duration::from_secs(5);

/// How many offers are tracked at most by default; past it, offers are
/// declined at once.
pub const DEFAULT_MAX_HELD: usize = 10_000;

/// The longest lease, refusal or revive interval accepted (30 days).
pub const MAX_DURATION: Duration = Duration::from_secs(30 * 24 * 3600);

/// A setting the offer manager cannot work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OfferConfigError {
    /// The lease is zero.
    #[error("the offer lease must be positive")]
    ZeroLease,
    /// `max_held` is zero.
    #[error("max_held must be at least 1")]
    ZeroMaxHeld,
    /// A duration is over [`MAX_DURATION`].
    #[error("{what} {value:?} exceeds the maximum of 30 days")]
    TooLong {
        /// Which setting.
        what: &'static str,
        /// Its value.
        value: Duration,
    },
    /// No role to manage.
    #[error("the offer manager needs at least one role")]
    NoRoles,
}

/// How the [`OfferManager`](super::OfferManager) treats offers. Built from
/// [`Default`] and the setters; checked by
/// [`OfferManager::new`](super::OfferManager::new).
///
/// ```
/// use std::time::Duration;
/// use mesos_framework::offers::OfferConfig;
///
/// let config = OfferConfig::default()
///     .lease(Duration::from_secs(10))
///     .refuse(Duration::from_secs(300))
///     .revive_interval(Duration::from_secs(2));
/// # let _ = config;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferConfig {
    pub(super) lease: Duration,
    pub(super) refuse: Duration,
    pub(super) revive_interval: Duration,
    pub(super) max_held: usize,
}

impl Default for OfferConfig {
    fn default() -> Self {
        OfferConfig {
            lease: DEFAULT_LEASE,
            refuse: DEFAULT_REFUSE,
            revive_interval: DEFAULT_REVIVE_INTERVAL,
            max_held: DEFAULT_MAX_HELD,
        }
    }
}

impl OfferConfig {
    /// How long an offer may stay unused before it is declined (default
    /// [`DEFAULT_LEASE`]).
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// The `refuse_seconds` of the declines (default [`DEFAULT_REFUSE`]).
    pub fn refuse(mut self, refuse: Duration) -> Self {
        self.refuse = refuse;
        self
    }

    /// The shortest time between two REVIVEs of a role (default
    /// [`DEFAULT_REVIVE_INTERVAL`]); demand appearing sooner is answered by
    /// one REVIVE at the end of the interval. Zero revives at every
    /// increase of demand.
    pub fn revive_interval(mut self, interval: Duration) -> Self {
        self.revive_interval = interval;
        self
    }

    /// How many offers are tracked at most (default [`DEFAULT_MAX_HELD`]);
    /// offers past it are declined at once.
    pub fn max_held(mut self, offers: usize) -> Self {
        self.max_held = offers;
        self
    }

    pub(super) fn validate(&self) -> Result<(), OfferConfigError> {
        if self.lease.is_zero() {
            return Err(OfferConfigError::ZeroLease);
        }
        if self.max_held == 0 {
            return Err(OfferConfigError::ZeroMaxHeld);
        }
        for (what, value) in [
            ("the lease", self.lease),
            ("the refusal", self.refuse),
            ("the revive interval", self.revive_interval),
        ] {
            if value > MAX_DURATION {
                return Err(OfferConfigError::TooLong { what, value });
            }
        }
        Ok(())
    }
}
