//! The reconciler's settings.

use std::time::Duration;

/// Tasks per explicit RECONCILE call by default.
pub const DEFAULT_BATCH_SIZE: usize = 1_000;

/// The largest batch accepted: a RECONCILE of this many tasks is a few
/// hundred kilobytes, well within any master's request limits.
pub const MAX_BATCH_SIZE: usize = 10_000;

/// The wait after the first explicit round by default (doubling after each
/// round up to the maximum). Answers normally arrive within milliseconds; a
/// master that is failing over answers only once the agents have
/// reregistered.
pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_secs(1);

/// The longest wait between explicit rounds by default (the truncation of
/// the exponential backoff).
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(60);

/// How many explicit rounds a run sends at most by default before giving up
/// on the tasks still unanswered (about 45 minutes with the default
/// backoff, well past the master's default `agent_reregister_timeout` of 10
/// minutes, after which it answers for every task).
pub const DEFAULT_MAX_ROUNDS: u32 = 50;

/// The period of implicit reconciliation by default (Mesos suggests
/// "every fifteen minutes").
pub const DEFAULT_IMPLICIT_PERIOD: Duration = Duration::from_secs(15 * 60);

/// The longest backoff or implicit period accepted (30 days).
pub const MAX_INTERVAL: Duration = Duration::from_secs(30 * 24 * 3600);

/// A setting the reconciler cannot work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReconcilerConfigError {
    /// `batch_size` is 0 or over [`MAX_BATCH_SIZE`].
    #[error("batch_size {0} is not within 1..={MAX_BATCH_SIZE}")]
    BatchSize(usize),
    /// The initial backoff is zero.
    #[error("the initial backoff must be positive")]
    ZeroBackoff,
    /// The maximum backoff is shorter than the initial one.
    #[error("the maximum backoff ({max:?}) is shorter than the initial one ({initial:?})")]
    BackoffOrder {
        /// The initial backoff.
        initial: Duration,
        /// The maximum backoff.
        max: Duration,
    },
    /// `max_rounds` is 0.
    #[error("max_rounds must be at least 1")]
    ZeroRounds,
    /// The implicit period is zero.
    #[error("the implicit reconciliation period must be positive")]
    ZeroPeriod,
    /// A backoff or the implicit period is over [`MAX_INTERVAL`].
    #[error("{what} {value:?} exceeds the maximum of 30 days")]
    TooLong {
        /// Which setting.
        what: &'static str,
        /// Its value.
        value: Duration,
    },
}

/// How the [`Reconciler`](super::Reconciler) paces itself. Built from
/// [`Default`] and the setters; checked by
/// [`Reconciler::new`](super::Reconciler::new).
///
/// ```
/// use std::time::Duration;
/// use mesos_framework::reconcile::{Reconciler, ReconcilerConfig};
///
/// let config = ReconcilerConfig::default()
///     .batch_size(500)
///     .backoff(Duration::from_millis(500), Duration::from_secs(30))
///     .implicit_period(Duration::from_secs(600));
/// let reconciler = Reconciler::new(config)?;
/// # Ok::<(), mesos_framework::reconcile::ReconcilerConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconcilerConfig {
    pub(super) batch_size: usize,
    pub(super) initial_backoff: Duration,
    pub(super) max_backoff: Duration,
    pub(super) max_rounds: u32,
    pub(super) implicit_period: Duration,
    pub(super) implicit_after_explicit: bool,
}

impl Default for ReconcilerConfig {
    fn default() -> Self {
        ReconcilerConfig {
            batch_size: DEFAULT_BATCH_SIZE,
            initial_backoff: DEFAULT_INITIAL_BACKOFF,
            max_backoff: DEFAULT_MAX_BACKOFF,
            max_rounds: DEFAULT_MAX_ROUNDS,
            implicit_period: DEFAULT_IMPLICIT_PERIOD,
            implicit_after_explicit: true,
        }
    }
}

impl ReconcilerConfig {
    /// Tasks per explicit RECONCILE call (default [`DEFAULT_BATCH_SIZE`],
    /// at most [`MAX_BATCH_SIZE`]).
    pub fn batch_size(mut self, tasks: usize) -> Self {
        self.batch_size = tasks;
        self
    }

    /// The wait after the first explicit round and the longest wait
    /// between rounds (defaults [`DEFAULT_INITIAL_BACKOFF`],
    /// [`DEFAULT_MAX_BACKOFF`]); the wait doubles after each round.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }

    /// The most explicit rounds a run sends (default
    /// [`DEFAULT_MAX_ROUNDS`]); the tasks still unanswered then are left to
    /// implicit reconciliation (counted in
    /// [`Progress::runs_given_up`](super::Progress::runs_given_up), logged
    /// as a warning).
    pub fn max_rounds(mut self, rounds: u32) -> Self {
        self.max_rounds = rounds;
        self
    }

    /// The period of implicit reconciliation (default
    /// [`DEFAULT_IMPLICIT_PERIOD`]).
    pub fn implicit_period(mut self, period: Duration) -> Self {
        self.implicit_period = period;
        self
    }

    /// Whether an implicit reconciliation goes out as soon as an explicit
    /// run completes (default `true`: it finds the tasks the master runs
    /// and the application does not track), or only one period later.
    pub fn implicit_after_explicit(mut self, at_once: bool) -> Self {
        self.implicit_after_explicit = at_once;
        self
    }

    pub(super) fn validate(&self) -> Result<(), ReconcilerConfigError> {
        if self.batch_size == 0 || self.batch_size > MAX_BATCH_SIZE {
            return Err(ReconcilerConfigError::BatchSize(self.batch_size));
        }
        if self.initial_backoff.is_zero() {
            return Err(ReconcilerConfigError::ZeroBackoff);
        }
        if self.max_backoff < self.initial_backoff {
            return Err(ReconcilerConfigError::BackoffOrder {
                initial: self.initial_backoff,
                max: self.max_backoff,
            });
        }
        if self.max_rounds == 0 {
            return Err(ReconcilerConfigError::ZeroRounds);
        }
        if self.implicit_period.is_zero() {
            return Err(ReconcilerConfigError::ZeroPeriod);
        }
        for (what, value) in [
            ("the maximum backoff", self.max_backoff),
            ("the implicit period", self.implicit_period),
        ] {
            if value > MAX_INTERVAL {
                return Err(ReconcilerConfigError::TooLong { what, value });
            }
        }
        Ok(())
    }
}
