//! Reconnection backoff: exponential with jitter, capped.

use std::time::Duration;

/// The first delay, before doubling (smaller when the cap is smaller).
const INITIAL: Duration = Duration::from_millis(100);

/// Delays between (re)subscription attempts: attempt `n` waits a random
/// duration in `[cap_n / 2, cap_n]` where `cap_n = min(max, 100ms * 2^n)`.
/// The jitter keeps many executors on one restarted agent from
/// resubscribing in lockstep; the cap is `MESOS_SUBSCRIPTION_BACKOFF_MAX`.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub(crate) fn new(max: Duration) -> Self {
        Backoff { max, attempt: 0 }
    }

    /// The upper bound of the next delay.
    fn cap(&self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(30)).unwrap_or(u32::MAX);
        INITIAL
            .checked_mul(factor)
            .unwrap_or(self.max)
            .min(self.max)
    }

    /// The next delay; each call doubles the bound until it reaches the cap.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let cap = self.cap();
        self.attempt = self.attempt.saturating_add(1);
        let half = cap / 2;
        half + (cap - half).mul_f64(fastrand::f64())
    }

    /// Back to the first (shortest) delay, after a successful subscription.
    pub(crate) fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_within_the_cap() {
        let max = Duration::from_secs(2);
        let mut backoff = Backoff::new(max);
        let mut bound = INITIAL;
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
        assert!(backoff.next_delay() <= INITIAL);
    }

    #[test]
    fn zero_and_tiny_caps() {
        let mut zero = Backoff::new(Duration::ZERO);
        assert_eq!(zero.next_delay(), Duration::ZERO);
        let mut tiny = Backoff::new(Duration::from_millis(10));
        for _ in 0..10 {
            assert!(tiny.next_delay() <= Duration::from_millis(10));
        }
    }
}
