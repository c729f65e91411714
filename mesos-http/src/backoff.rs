//! Truncated exponential backoff with jitter, for reconnecting to Mesos.

use std::time::Duration;

/// How a [`Backoff`] draws each delay below its current ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Jitter {
    /// Uniformly in `[0, ceiling]` ("full jitter"): spreads clients the most;
    /// a delay may be close to zero. What the scheduler driver uses.
    #[default]
    Full,
    /// Uniformly in `[ceiling / 2, ceiling]` ("equal jitter"): spread, but
    /// never shorter than half the ceiling. What the executor driver uses.
    Equal,
}

/// Delays between reconnection attempts, growing exponentially up to a cap,
/// with random jitter so that many clients losing the same master or agent
/// do not come back in lockstep.
///
/// Attempt `n` (counting from 0 after [`new`](Backoff::new) or
/// [`reset`](Backoff::reset)) waits a random time below the ceiling
/// `min(max, initial × 2ⁿ)`, drawn as its [`Jitter`] says: in
/// `[0, ceiling]` by default ([`Jitter::Full`]), in `[ceiling / 2, ceiling]`
/// with [`Jitter::Equal`]. The Mesos scheduler API documentation recommends
/// backing off up to about 15 seconds.
///
/// ```
/// use std::time::Duration;
/// use mesos_http::{Backoff, Jitter};
///
/// let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1))
///     .jitter(Jitter::Equal);
/// assert_eq!(backoff.ceiling(), Duration::from_millis(100));
/// let delay = backoff.next_delay();
/// assert!(delay >= Duration::from_millis(50) && delay <= Duration::from_millis(100));
/// assert_eq!(backoff.ceiling(), Duration::from_millis(200));
/// backoff.reset(); // after a successful connection
/// assert_eq!(backoff.ceiling(), Duration::from_millis(100));
/// ```
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    jitter: Jitter,
    /// The ceiling of the next delay: `min(max, initial × 2ⁿ)`.
    ceiling: Duration,
}

impl Backoff {
    /// A backoff growing from `initial` to at most `max`, with
    /// [`Jitter::Full`].
    ///
    /// A `max` below `initial` is raised to `initial`. To cap the very first
    /// delay at `max` instead (a configured cap that may be smaller than the
    /// usual first delay), pass `initial.min(max)` as `initial`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Backoff {
            initial,
            max: max.max(initial),
            jitter: Jitter::Full,
            ceiling: initial,
        }
    }

    /// Draws the delays as `jitter` says instead of [`Jitter::Full`].
    #[must_use]
    pub fn jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// The delay before the next attempt (and counts the attempt, doubling
    /// the ceiling up to `max`).
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self.ceiling;
        self.ceiling = ceiling.saturating_mul(2).min(self.max);
        match self.jitter {
            Jitter::Full => ceiling.mul_f64(fastrand::f64()),
            Jitter::Equal => {
                let half = ceiling / 2;
                half + (ceiling - half).mul_f64(fastrand::f64())
            }
        }
    }

    /// The upper bound of the next delay.
    pub fn ceiling(&self) -> Duration {
        self.ceiling
    }

    /// Back to the first attempt (after a success).
    pub fn reset(&mut self) {
        self.ceiling = self.initial;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    #[test]
    fn grows_exponentially_up_to_the_cap() {
        for jitter in [Jitter::Full, Jitter::Equal] {
            let mut b = Backoff::new(ms(100), Duration::from_secs(1)).jitter(jitter);
            let mut ceilings = Vec::new();
            for _ in 0..6 {
                ceilings.push(b.ceiling());
                let d = b.next_delay();
                assert!(d <= *ceilings.last().unwrap());
            }
            assert_eq!(ceilings, [100, 200, 400, 800, 1000, 1000].map(ms));
            b.reset();
            assert_eq!(b.ceiling(), ms(100));
        }
    }

    #[test]
    fn full_jitter_draws_from_zero_to_the_ceiling() {
        let mut b = Backoff::new(ms(100), ms(400));
        let delays: Vec<Duration> = (0..200).map(|_| b.next_delay()).collect();
        assert!(delays.iter().all(|d| *d <= ms(400)));
        // Below half the ceiling now and then (never with equal jitter).
        assert!(delays.iter().any(|d| *d < ms(200)));
    }

    #[test]
    fn equal_jitter_stays_in_the_upper_half() {
        let max = Duration::from_secs(2);
        let mut backoff = Backoff::new(ms(100), max).jitter(Jitter::Equal);
        let mut bound = ms(100);
        for _ in 0..64 {
            let delay = backoff.next_delay();
            assert!(
                delay <= bound && delay >= bound / 2,
                "{delay:?} vs {bound:?}"
            );
            assert!(delay <= max);
            bound = (bound * 2).min(max);
        }
        backoff.reset();
        let delay = backoff.next_delay();
        assert!(delay <= ms(100) && delay >= ms(50));
    }

    #[test]
    fn max_below_initial_is_raised_to_initial() {
        let mut b = Backoff::new(ms(500), ms(100));
        for _ in 0..5 {
            assert_eq!(b.ceiling(), ms(500));
            assert!(b.next_delay() <= ms(500));
        }
    }

    #[test]
    fn initial_capped_by_max_for_zero_and_tiny_caps() {
        let capped = |max: Duration| Backoff::new(ms(100).min(max), max).jitter(Jitter::Equal);
        let mut zero = capped(Duration::ZERO);
        for _ in 0..3 {
            assert_eq!(zero.next_delay(), Duration::ZERO);
        }
        let mut tiny = capped(ms(10));
        for _ in 0..10 {
            let delay = tiny.next_delay();
            assert!(delay <= ms(10) && delay >= ms(5), "{delay:?}");
        }
    }

    #[test]
    fn never_overflows() {
        for jitter in [Jitter::Full, Jitter::Equal] {
            let mut b =
                Backoff::new(Duration::from_secs(1), Duration::from_secs(15)).jitter(jitter);
            for _ in 0..1000 {
                assert!(b.next_delay() <= Duration::from_secs(15));
            }
            let mut huge = Backoff::new(Duration::from_secs(1), Duration::MAX).jitter(jitter);
            for _ in 0..1000 {
                huge.next_delay();
            }
            assert_eq!(huge.ceiling(), Duration::MAX);
        }
    }

    #[test]
    fn keeps_doubling_until_the_cap_however_far() {
        // 1ns × 2ⁿ reaches an hour only after 42 doublings.
        let mut b = Backoff::new(Duration::from_nanos(1), Duration::from_secs(3600));
        for _ in 0..41 {
            b.next_delay();
        }
        assert!(b.ceiling() < Duration::from_secs(3600));
        b.next_delay();
        assert_eq!(b.ceiling(), Duration::from_secs(3600));
    }
}
