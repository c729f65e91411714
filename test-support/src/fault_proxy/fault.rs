//! The faults a [`FaultProxy`](super::FaultProxy) can be told to inject,
//! and the bookkeeping of those armed and not yet spent.
//!
//! Faults are *armed* (by a test, at a time its schedule chooses) and
//! *spent* by the traffic that follows: "drop an UPDATE" drops the next
//! UPDATE the proxy relays, whenever it comes.

use std::time::Duration;

use tokio::time::Instant;

use super::wire::EventKind;

/// Which events an event fault applies to. SUBSCRIBED is never matched:
/// a fault on it would only test the master.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventFilter {
    /// Any event but SUBSCRIBED.
    Any,
    /// Scheduler UPDATE events.
    Update,
    /// Scheduler OFFERS events.
    Offers,
    /// Executor ACKNOWLEDGED events.
    Acknowledged,
}

impl EventFilter {
    /// Whether an event of `kind` is one of these.
    pub fn matches(self, kind: EventKind) -> bool {
        match self {
            _ if kind == EventKind::Subscribed => false,
            EventFilter::Any => true,
            EventFilter::Update => kind == EventKind::Update,
            EventFilter::Offers => kind == EventKind::Offers,
            EventFilter::Acknowledged => kind == EventKind::Acknowledged,
        }
    }
}

/// Which calls (other than SUBSCRIBE) a call fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallFilter {
    /// Any call but SUBSCRIBE.
    Any,
    /// Calls of this type (`"ACKNOWLEDGE"`, `"ACCEPT"`, `"UPDATE"`, ...).
    Named(&'static str),
}

impl CallFilter {
    /// Whether a call named `name` is one of these.
    pub fn matches(self, name: &str) -> bool {
        match self {
            _ if name == "SUBSCRIBE" => false,
            CallFilter::Any => true,
            CallFilter::Named(wanted) => wanted == name,
        }
    }
}

/// One fault to inject.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// The next matching event is not relayed.
    DropEvent(EventFilter),
    /// The next matching event is relayed twice.
    DuplicateEvent(EventFilter),
    /// The next matching event is held back and relayed right after the
    /// event that follows it (two adjacent events swapped).
    ReorderEvents(EventFilter),
    /// Every stream holds its events for this long, then relays them all
    /// in order (a stalled connection).
    DelayEvents(Duration),
    /// HEARTBEAT events are dropped for this long (the others flow).
    WithholdHeartbeats(Duration),
    /// The next event (not SUBSCRIBED) is cut: the first half of its
    /// record is sent, then the connection is closed.
    CutMidRecord,
    /// The next this many SUBSCRIBEs are answered `503` (not forwarded).
    SubscribeUnavailable(u32),
    /// The next this many SUBSCRIBEs are answered `307` with a `Location`
    /// pointing back at the proxy itself (not forwarded).
    SubscribeRedirect(u32),
    /// The next matching call is forwarded at once but answered only after
    /// this delay.
    StallCall(CallFilter, Duration),
    /// The next this many matching calls are answered `503` (not forwarded).
    FailCalls(CallFilter, u32),
    /// The next this many matching calls are answered with this HTTP status
    /// (not forwarded): e.g. `403` to an executor's UPDATE, as an agent
    /// that restarted and does not know the subscription yet.
    RefuseCalls(CallFilter, u32, u16),
}

/// What to do with one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventAction {
    Relay,
    Drop,
    Duplicate,
    /// Hold it until the next relayed event has gone.
    Swap,
    /// Half of it, then close the connection.
    Cut,
}

/// What to do with one SUBSCRIBE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubscribeAction {
    Forward,
    Unavailable,
    Redirect,
}

/// What to do with one other call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallAction {
    Forward,
    Stall(Duration),
    /// Answered with this status, not forwarded.
    Fail(u16),
}

/// The faults armed and not yet spent.
#[derive(Debug, Default)]
pub(crate) struct Armed {
    drop: Vec<EventFilter>,
    duplicate: Vec<EventFilter>,
    reorder: Vec<EventFilter>,
    cut: u32,
    hold_until: Option<Instant>,
    no_heartbeats_until: Option<Instant>,
    subscribe_unavailable: u32,
    subscribe_redirect: u32,
    stall: Vec<(CallFilter, Duration)>,
    fail: Vec<(CallFilter, u32, u16)>,
}

/// Takes the first filter of `list` matching `kind`.
fn take_matching(list: &mut Vec<EventFilter>, kind: EventKind) -> bool {
    match list.iter().position(|f| f.matches(kind)) {
        Some(i) => {
            list.remove(i);
            true
        }
        None => false,
    }
}

impl Armed {
    pub(crate) fn arm(&mut self, fault: Fault, now: Instant) {
        match fault {
            Fault::DropEvent(f) => self.drop.push(f),
            Fault::DuplicateEvent(f) => self.duplicate.push(f),
            Fault::ReorderEvents(f) => self.reorder.push(f),
            Fault::DelayEvents(d) => {
                self.hold_until = self.hold_until.max(Some(now + d));
            }
            Fault::WithholdHeartbeats(d) => {
                self.no_heartbeats_until = self.no_heartbeats_until.max(Some(now + d));
            }
            Fault::CutMidRecord => self.cut += 1,
            Fault::SubscribeUnavailable(n) => self.subscribe_unavailable += n,
            Fault::SubscribeRedirect(n) => self.subscribe_redirect += n,
            Fault::StallCall(f, d) => self.stall.push((f, d)),
            Fault::FailCalls(f, n) => self.fail.push((f, n, 503)),
            Fault::RefuseCalls(f, n, status) => self.fail.push((f, n, status)),
        }
    }

    /// Disarms everything (faults in progress, such as a stall, end now).
    pub(crate) fn clear(&mut self) {
        *self = Armed::default();
    }

    /// Until when streams hold their events, if they do now.
    pub(crate) fn held_until(&self, now: Instant) -> Option<Instant> {
        self.hold_until.filter(|until| *until > now)
    }

    pub(crate) fn on_event(&mut self, kind: EventKind, now: Instant) -> EventAction {
        if kind == EventKind::Subscribed {
            return EventAction::Relay;
        }
        if kind == EventKind::Heartbeat && self.no_heartbeats_until.is_some_and(|u| u > now) {
            return EventAction::Drop;
        }
        if self.cut > 0 {
            self.cut -= 1;
            return EventAction::Cut;
        }
        if take_matching(&mut self.drop, kind) {
            return EventAction::Drop;
        }
        if take_matching(&mut self.duplicate, kind) {
            return EventAction::Duplicate;
        }
        if take_matching(&mut self.reorder, kind) {
            return EventAction::Swap;
        }
        EventAction::Relay
    }

    pub(crate) fn on_subscribe(&mut self) -> SubscribeAction {
        if self.subscribe_unavailable > 0 {
            self.subscribe_unavailable -= 1;
            SubscribeAction::Unavailable
        } else if self.subscribe_redirect > 0 {
            self.subscribe_redirect -= 1;
            SubscribeAction::Redirect
        } else {
            SubscribeAction::Forward
        }
    }

    pub(crate) fn on_call(&mut self, name: &str) -> CallAction {
        if let Some(i) = self.fail.iter().position(|(f, ..)| f.matches(name)) {
            let status = self.fail[i].2;
            self.fail[i].1 = self.fail[i].1.saturating_sub(1);
            if self.fail[i].1 == 0 {
                self.fail.remove(i);
            }
            return CallAction::Fail(status);
        }
        if let Some(i) = self.stall.iter().position(|(f, _)| f.matches(name)) {
            let (_, delay) = self.stall.remove(i);
            return CallAction::Stall(delay);
        }
        CallAction::Forward
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_spent_by_matching_traffic() {
        let now = Instant::now();
        let mut armed = Armed::default();
        armed.arm(Fault::DropEvent(EventFilter::Update), now);
        armed.arm(Fault::FailCalls(CallFilter::Named("ACKNOWLEDGE"), 2), now);
        armed.arm(Fault::SubscribeUnavailable(1), now);
        armed.arm(Fault::WithholdHeartbeats(Duration::from_secs(1)), now);
        assert_eq!(
            armed.on_event(EventKind::Subscribed, now),
            EventAction::Relay
        );
        assert_eq!(armed.on_event(EventKind::Offers, now), EventAction::Relay);
        assert_eq!(armed.on_event(EventKind::Heartbeat, now), EventAction::Drop);
        let later = now + Duration::from_secs(2);
        assert_eq!(
            armed.on_event(EventKind::Heartbeat, later),
            EventAction::Relay
        );
        assert_eq!(armed.on_event(EventKind::Update, now), EventAction::Drop);
        assert_eq!(armed.on_event(EventKind::Update, now), EventAction::Relay);
        assert_eq!(armed.on_call("ACCEPT"), CallAction::Forward);
        assert_eq!(armed.on_call("ACKNOWLEDGE"), CallAction::Fail(503));
        assert_eq!(armed.on_call("ACKNOWLEDGE"), CallAction::Fail(503));
        assert_eq!(armed.on_call("ACKNOWLEDGE"), CallAction::Forward);
        assert_eq!(armed.on_subscribe(), SubscribeAction::Unavailable);
        assert_eq!(armed.on_subscribe(), SubscribeAction::Forward);
        armed.arm(Fault::CutMidRecord, now);
        armed.clear();
        assert_eq!(armed.on_event(EventKind::Update, now), EventAction::Relay);
    }
}
