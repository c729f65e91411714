//! What a [`FaultProxy`](super::FaultProxy) saw, for invariant checks.
//! Times are offsets from the proxy's start.

use std::time::Duration;

use bytes::Bytes;

use super::wire::StatusSeen;

/// How one SUBSCRIBE went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscribeOutcome {
    /// Answered `503` by an injected fault.
    Unavailable,
    /// Answered `307` (to the proxy itself) by an injected fault.
    Redirected,
    /// The upstream could not be reached or failed; the client's
    /// connection was closed without an answer.
    UpstreamFailed(String),
    /// The upstream answered this non-200 status (passed on).
    Refused(u16),
    /// The upstream opened the stream; no SUBSCRIBED relayed (yet).
    Streaming,
    /// SUBSCRIBED was relayed, with this framework id.
    Subscribed(String),
}

/// One SUBSCRIBE the proxy received.
#[derive(Debug, Clone)]
pub struct SubscribeSeen {
    /// When it arrived.
    pub at: Duration,
    /// The framework id it carried (a resubscription), if any.
    pub framework_id: Option<String>,
    /// How it went.
    pub outcome: SubscribeOutcome,
    /// When its stream ended (for streams).
    pub ended: Option<Duration>,
}

impl SubscribeSeen {
    /// Whether it ended in a subscription (SUBSCRIBED relayed).
    pub fn subscribed(&self) -> bool {
        matches!(self.outcome, SubscribeOutcome::Subscribed(_))
    }
}

/// One call (not SUBSCRIBE) the proxy received.
#[derive(Debug, Clone)]
pub struct CallSeen {
    /// When it arrived.
    pub at: Duration,
    /// Its type (`"ACCEPT"`).
    pub name: &'static str,
    /// The status the client got (`None`: its connection was closed).
    pub status: Option<u16>,
    /// Whether the answer was an injected fault (stall or 503).
    pub injected: bool,
    /// The status an executor UPDATE call carried.
    pub update: Option<StatusSeen>,
}

/// One scheduler ACKNOWLEDGE.
#[derive(Debug, Clone)]
pub struct AckSeen {
    /// When it arrived.
    pub at: Duration,
    /// The task.
    pub task_id: String,
    /// The acknowledged update's uuid.
    pub uuid: Bytes,
    /// The status the client got (`None`: closed without an answer).
    pub status: Option<u16>,
}

/// One scheduler UPDATE event that reached the proxy from upstream.
#[derive(Debug, Clone)]
pub struct UpdateSeen {
    /// When the proxy processed it.
    pub at: Duration,
    /// The status.
    pub status: StatusSeen,
    /// How many copies were relayed: 0 (dropped or cut), 1, or 2
    /// (duplicated).
    pub copies: u32,
}

/// One fault the proxy actually applied.
#[derive(Debug, Clone)]
pub struct FaultApplied {
    /// When.
    pub at: Duration,
    /// What (`"dropped UPDATE"`, `"503 to SUBSCRIBE"`, ...).
    pub what: String,
}

/// Everything a proxy recorded, in arrival order.
#[derive(Debug, Clone, Default)]
pub struct Records {
    /// Every SUBSCRIBE.
    pub subscribes: Vec<SubscribeSeen>,
    /// Every other call.
    pub calls: Vec<CallSeen>,
    /// Every scheduler ACKNOWLEDGE (also in `calls`).
    pub acks: Vec<AckSeen>,
    /// Every scheduler UPDATE event.
    pub updates: Vec<UpdateSeen>,
    /// Every fault applied.
    pub faults: Vec<FaultApplied>,
}

impl Records {
    /// The largest number of calls (SUBSCRIBEs included) that arrived
    /// within any window of length `window`.
    pub fn max_calls_within(&self, window: Duration) -> usize {
        let mut times: Vec<Duration> = self
            .calls
            .iter()
            .map(|c| c.at)
            .chain(self.subscribes.iter().map(|s| s.at))
            .collect();
        times.sort();
        let mut best = 0;
        let mut start = 0;
        for end in 0..times.len() {
            while times[end] - times[start] >= window {
                start += 1;
            }
            best = best.max(end + 1 - start);
        }
        best
    }

    /// The framework ids of every SUBSCRIBED relayed, in order.
    pub fn subscribed_ids(&self) -> Vec<&str> {
        self.subscribes
            .iter()
            .filter_map(|s| match &s.outcome {
                SubscribeOutcome::Subscribed(id) => Some(id.as_str()),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_window_counts() {
        let call = |ms| CallSeen {
            at: Duration::from_millis(ms),
            name: "DECLINE",
            status: Some(202),
            injected: false,
            update: None,
        };
        let records = Records {
            calls: [0, 100, 900, 1000, 1050, 3000]
                .into_iter()
                .map(call)
                .collect(),
            ..Default::default()
        };
        assert_eq!(records.max_calls_within(Duration::from_secs(1)), 4);
        assert_eq!(records.max_calls_within(Duration::from_millis(10)), 1);
        assert_eq!(
            Records::default().max_calls_within(Duration::from_secs(1)),
            0
        );
    }
}
