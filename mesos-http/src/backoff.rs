//! The reconnection policy both drivers follow: truncated exponential
//! backoff with jitter, a floor, and a reset only after a healthy session.

use std::time::Duration;

/// Delays between reconnection attempts: the one reconnection policy of the
/// SDK, used by the scheduler driver (to a master) and the executor driver
/// (to its agent).
///
/// # The policy
/// - **Exponential, capped.** Attempt `n` (counting from 0) has the ceiling
///   `min(max, floor × 2ⁿ)`. The Mesos scheduler HTTP API documentation asks
///   schedulers to back off up to about 15 seconds (the scheduler driver's
///   default cap); the executor's cap is the agent's
///   `MESOS_SUBSCRIPTION_BACKOFF_MAX`.
/// - **Jittered, with a floor.** Each delay is drawn uniformly from
///   `[max(floor, ceiling / 2), ceiling]` ("equal jitter"): many clients that
///   lost the same master or agent spread out, the delays still grow with
///   every attempt, and no retry ever comes sooner than the floor (the first
///   delay, 500 ms for schedulers by default).
/// - **Reset only once healthy.** A connection that is accepted and then
///   dropped at once is a failure like any other: the caller reports how
///   long each session lasted with [`session_ended`](Backoff::session_ended),
///   and the backoff starts over only if that session lasted at least
///   [`stable_after`](Backoff::stable_after) (for schedulers, one heartbeat
///   interval). A master that accepts SUBSCRIBE and drops the stream
///   therefore sees at most one SUBSCRIBE per backoff step, growing to the
///   cap.
///
/// Nothing here can overflow: every product saturates.
///
/// ```
/// use std::time::Duration;
/// use mesos_http::Backoff;
///
/// let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1))
///     .stable_after(Duration::from_secs(15));
/// let first = backoff.next_delay();
/// assert!(first == Duration::from_millis(100)); // the floor, and the first ceiling
/// let second = backoff.next_delay();
/// assert!(second >= Duration::from_millis(100) && second <= Duration::from_millis(200));
/// // A session that broke after two seconds was not healthy: keep growing.
/// backoff.session_ended(Duration::from_secs(2));
/// assert_eq!(backoff.ceiling(), Duration::from_millis(400));
/// // One that streamed for a minute was: start over.
/// backoff.session_ended(Duration::from_secs(60));
/// assert_eq!(backoff.ceiling(), Duration::from_millis(100));
/// ```
#[derive(Debug, Clone)]
pub struct Backoff {
    floor: Duration,
    max: Duration,
    stable_after: Duration,
    /// The ceiling of the next delay: `min(max, floor × 2ⁿ)`.
    ceiling: Duration,
}

impl Backoff {
    /// A backoff whose first delay (and smallest delay ever) is `floor`,
    /// doubling up to at most `max`. A `max` below `floor` is raised to
    /// `floor`; to cap the floor by a configured maximum, pass
    /// `floor.min(max)`. Sessions count as healthy after `floor × 10` unless
    /// [`stable_after`](Backoff::stable_after) says otherwise.
    pub fn new(floor: Duration, max: Duration) -> Self {
        Backoff {
            floor,
            max: max.max(floor),
            stable_after: floor.saturating_mul(10),
            ceiling: floor,
        }
    }

    /// How long a session must have lasted for its end to reset the backoff
    /// (see [`session_ended`](Backoff::session_ended)).
    #[must_use]
    pub fn stable_after(mut self, stable_after: Duration) -> Self {
        self.stable_after = stable_after;
        self
    }

    /// Changes the healthy-session threshold in place (e.g. once the master
    /// announced its heartbeat interval).
    pub fn set_stable_after(&mut self, stable_after: Duration) {
        self.stable_after = stable_after;
    }

    /// The delay before the next attempt; counts the attempt (doubling the
    /// ceiling up to the cap). Always within `[floor, max]`.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self.ceiling;
        self.ceiling = ceiling.saturating_mul(2).min(self.max);
        let low = (ceiling / 2).max(self.floor).min(ceiling);
        low + (ceiling - low).mul_f64(fastrand::f64())
    }

    /// The upper bound of the next delay.
    pub fn ceiling(&self) -> Duration {
        self.ceiling
    }

    /// The smallest delay this backoff ever returns.
    pub fn floor(&self) -> Duration {
        self.floor
    }

    /// A connection that had been established ended after `lasted`: the
    /// backoff starts over if the session was healthy (lasted at least the
    /// [`stable_after`](Backoff::stable_after) threshold); otherwise the
    /// delays keep growing.
    pub fn session_ended(&mut self, lasted: Duration) {
        if lasted >= self.stable_after {
            self.reset();
        }
    }

    /// Back to the first attempt, unconditionally.
    pub fn reset(&mut self) {
        self.ceiling = self.floor;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    #[test]
    fn grows_exponentially_up_to_the_cap_never_under_the_floor() {
        let mut b = Backoff::new(ms(100), Duration::from_secs(1));
        let mut ceilings = Vec::new();
        for _ in 0..6 {
            let ceiling = b.ceiling();
            ceilings.push(ceiling);
            let d = b.next_delay();
            assert!(d <= ceiling && d >= ms(100) && d >= ceiling / 2, "{d:?}");
        }
        assert_eq!(ceilings, [100, 200, 400, 800, 1000, 1000].map(ms));
        b.reset();
        assert_eq!(b.ceiling(), ms(100));
    }

    #[test]
    fn delays_spread_within_each_step() {
        let mut b = Backoff::new(ms(100), ms(400));
        b.next_delay();
        b.next_delay();
        let delays: Vec<Duration> = (0..200).map(|_| b.next_delay()).collect();
        assert!(delays.iter().all(|d| *d >= ms(200) && *d <= ms(400)));
        assert!(delays.iter().any(|d| *d < ms(300)));
        assert!(delays.iter().any(|d| *d > ms(300)));
    }

    #[test]
    fn only_a_healthy_session_resets() {
        let mut b = Backoff::new(ms(100), ms(1600)).stable_after(Duration::from_secs(5));
        for _ in 0..3 {
            b.next_delay();
        }
        assert_eq!(b.ceiling(), ms(800));
        b.session_ended(ms(10));
        assert_eq!(b.ceiling(), ms(800));
        b.session_ended(Duration::from_secs(5));
        assert_eq!(b.ceiling(), ms(100));
        b.set_stable_after(Duration::ZERO);
        b.next_delay();
        b.session_ended(Duration::ZERO);
        assert_eq!(b.ceiling(), ms(100));
    }

    #[test]
    fn max_below_floor_is_raised_to_floor() {
        let mut b = Backoff::new(ms(500), ms(100));
        for _ in 0..5 {
            assert_eq!(b.ceiling(), ms(500));
            assert_eq!(b.next_delay(), ms(500));
        }
    }

    #[test]
    fn zero_and_tiny_caps() {
        let capped = |max: Duration| Backoff::new(ms(100).min(max), max);
        let mut zero = capped(Duration::ZERO);
        for _ in 0..3 {
            assert_eq!(zero.next_delay(), Duration::ZERO);
        }
        let mut tiny = capped(ms(10));
        for _ in 0..10 {
            assert_eq!(tiny.next_delay(), ms(10));
        }
    }

    #[test]
    fn never_overflows() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(15));
        for _ in 0..1000 {
            assert!(b.next_delay() <= Duration::from_secs(15));
        }
        let mut huge = Backoff::new(Duration::from_secs(1), Duration::MAX);
        for _ in 0..1000 {
            huge.next_delay();
        }
        assert_eq!(huge.ceiling(), Duration::MAX);
        let mut from_max = Backoff::new(Duration::MAX, Duration::MAX);
        assert_eq!(from_max.next_delay(), Duration::MAX);
        from_max.session_ended(Duration::MAX);
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
