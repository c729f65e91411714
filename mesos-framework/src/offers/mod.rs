//! Offer discipline: offers not used within a lease are declined with a
//! long `refuse_seconds`; a role with no pending work is SUPPRESSed, and
//! REVIVEd when work appears, at most once per interval; rescinded offers
//! are forgotten; counters say what happened.
//!
//! [`OfferManager`] is a plain state machine with an explicit clock: feed it
//! the subscription's events ([`OfferManager::observe`], or the `on_*`
//! methods from a [`Scheduler`](mesos_scheduler::Scheduler)'s callbacks),
//! tell it how much work is pending per role
//! ([`set_pending`](OfferManager::set_pending)), [`take`](OfferManager::take)
//! the offers you accept or decline yourself, and send what
//! [`poll_due`](OfferManager::poll_due) returns when
//! [`next_deadline`](OfferManager::next_deadline) comes.
//! [`OfferManagerHandle`] does the sending from a tokio task, for the
//! driver and the stream API alike.
//!
//! Demand drives suppression: with the manager in charge, a role whose
//! pending count is zero is suppressed (no offers come for it), so an
//! application must report its pending work for every role it wants
//! offers for. An increase of a role's pending count REVIVEs it (which
//! also lifts the filters of earlier declines), debounced: at most one
//! REVIVE per role per [`revive_interval`](OfferConfig::revive_interval),
//! increases within the interval answered by one REVIVE at its end. After
//! every SUBSCRIBED the roles start unsuppressed (as the master has them),
//! roles without demand are suppressed again, and roles with demand are
//! revived (filters of a previous instance may remain).
//!
//! Bounds: at most [`max_held`](OfferConfig::max_held) offers are tracked
//! (more are declined at once); roles are the application's own.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use mesos_framework::offers::{OfferConfig, OfferManager};
//! use mesos_scheduler::proto::v1::scheduler::call::Type;
//! use mesos_scheduler::proto::v1::Offer;
//!
//! let config = OfferConfig::default().lease(Duration::from_secs(10));
//! let mut offers = OfferManager::new(config, ["web"])?;
//! let t0 = Instant::now();
//! offers.on_subscribed(t0);
//! // Nothing pending: SUPPRESS.
//! let calls = offers.poll_due(t0);
//! assert_eq!(calls[0].r#type(), Type::Suppress);
//!
//! // Work appears: REVIVE.
//! offers.set_pending("web", 3);
//! assert_eq!(offers.poll_due(t0)[0].r#type(), Type::Revive);
//!
//! // An offer arrives and is not used within the lease: DECLINE.
//! let offer = Offer { id: "o1".into(), ..Default::default() };
//! offers.on_offers(t0, std::slice::from_ref(&offer));
//! assert!(offers.poll_due(t0 + Duration::from_secs(9)).is_empty());
//! let calls = offers.poll_due(t0 + Duration::from_secs(10));
//! assert_eq!(calls[0].r#type(), Type::Decline);
//! assert_eq!(offers.counters().declined, 1);
//! # Ok::<(), mesos_framework::offers::OfferConfigError>(())
//! ```

mod config;
mod handle;

use std::collections::BTreeMap;
use std::time::Instant;

use mesos_scheduler::proto::builders::filters;
use mesos_scheduler::proto::v1::scheduler::{call, Call};
use mesos_scheduler::proto::v1::{FrameworkInfo, Offer, OfferId};
use mesos_scheduler::{calls, SchedulerEvent};

pub use config::{
    OfferConfig, OfferConfigError, DEFAULT_LEASE, DEFAULT_MAX_HELD, DEFAULT_REFUSE,
    DEFAULT_REVIVE_INTERVAL, MAX_DURATION,
};
pub use handle::OfferManagerHandle;

/// Offer ids per DECLINE call at most.
const DECLINE_BATCH: usize = 1_000;

/// What the offer manager did, for the application's metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OfferCounters {
    /// Offers held now (received, not yet taken, declined or rescinded).
    pub held: usize,
    /// Offers received.
    pub received: u64,
    /// Offers the application took (to accept or decline itself).
    pub taken: u64,
    /// Offers declined by the manager (lease expired, or over `max_held`).
    pub declined: u64,
    /// Offers rescinded by the master while held.
    pub rescinded: u64,
    /// REVIVE calls emitted (one call may name several roles).
    pub revives: u64,
    /// SUPPRESS calls emitted (one call may name several roles).
    pub suppresses: u64,
    /// Calls that failed (the manager retries suppression and revival).
    pub failed_calls: u64,
}

#[derive(Debug, Clone)]
struct Held {
    id: OfferId,
    role: String,
    expires: Instant,
}

#[derive(Debug, Clone, Default)]
struct Role {
    pending: usize,
    /// As told to the master on this subscription.
    suppressed: bool,
    /// Demand rose since the last REVIVE.
    want_revive: bool,
    last_revive: Option<Instant>,
    /// A SUPPRESS failed: not before this.
    suppress_not_before: Option<Instant>,
}

/// The offer state machine (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct OfferManager {
    config: OfferConfig,
    roles: BTreeMap<String, Role>,
    /// The role of offers without allocation info (a framework without
    /// MULTI_ROLE): the first role given.
    default_role: String,
    held: BTreeMap<String, Held>,
    /// Offers over `max_held`, declined at the next poll.
    overflow: Vec<OfferId>,
    subscribed: bool,
    /// The last `now` seen: work due at once is due at this instant.
    last_now: Option<Instant>,
    counters: OfferCounters,
}

/// The roles a framework subscribes with: `roles`, else the deprecated
/// `role`, else `*`.
pub fn roles_of(framework: &FrameworkInfo) -> Vec<String> {
    if !framework.roles.is_empty() {
        return framework.roles.clone();
    }
    #[allow(deprecated)]
    let role = framework.role.clone();
    vec![role.unwrap_or_else(|| "*".to_string())]
}

impl OfferManager {
    /// A manager for the framework's `roles` (see [`roles_of`]), with no
    /// pending work, idle until [`on_subscribed`](Self::on_subscribed).
    pub fn new<I, S>(config: OfferConfig, roles: I) -> Result<Self, OfferConfigError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        config.validate()?;
        let roles: Vec<String> = roles.into_iter().map(Into::into).collect();
        let default_role = roles.first().cloned().ok_or(OfferConfigError::NoRoles)?;
        Ok(OfferManager {
            config,
            roles: roles.into_iter().map(|r| (r, Role::default())).collect(),
            default_role,
            held: BTreeMap::new(),
            overflow: Vec::new(),
            subscribed: false,
            last_now: None,
            counters: OfferCounters::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &OfferConfig {
        &self.config
    }

    /// The counters.
    pub fn counters(&self) -> OfferCounters {
        OfferCounters {
            held: self.held.len() + self.overflow.len(),
            ..self.counters
        }
    }

    /// The pending work of `role` (0 for a role not managed).
    pub fn pending(&self, role: &str) -> usize {
        self.roles.get(role).map_or(0, |r| r.pending)
    }

    /// Whether `role` is suppressed (as the manager told the master).
    pub fn is_suppressed(&self, role: &str) -> bool {
        self.roles.get(role).is_some_and(|r| r.suppressed)
    }

    /// Sets how many tasks of `role` wait for offers. An increase revives
    /// the role (debounced); zero suppresses it. A role not given to
    /// [`new`](Self::new) is added (it must be one of the framework's).
    pub fn set_pending(&mut self, role: &str, pending: usize) {
        let entry = self.roles.entry(role.to_string()).or_default();
        if pending > entry.pending {
            entry.want_revive = true;
        }
        if pending == 0 {
            entry.want_revive = false;
        }
        entry.pending = pending;
    }

    /// The framework (re)subscribed at `now`: the offers of the previous
    /// subscription are gone, every role is unsuppressed (as the master
    /// has it after SUBSCRIBE); roles without demand will be suppressed,
    /// roles with demand revived (subject to the revive interval).
    pub fn on_subscribed(&mut self, now: Instant) {
        self.subscribed = true;
        self.last_now = Some(now);
        self.held.clear();
        self.overflow.clear();
        for role in self.roles.values_mut() {
            role.suppressed = false;
            role.suppress_not_before = None;
            role.want_revive = role.pending > 0;
        }
    }

    /// The connection was lost: held offers are void; nothing is sent
    /// until the next SUBSCRIBED.
    pub fn on_disconnected(&mut self) {
        self.subscribed = false;
        self.held.clear();
        self.overflow.clear();
    }

    /// Offers arrived at `now`: each is held for the lease.
    pub fn on_offers(&mut self, now: Instant, offers: &[Offer]) {
        self.last_now = Some(now);
        for offer in offers {
            self.counters.received += 1;
            if self.held.contains_key(&offer.id.value) {
                continue;
            }
            if self.held.len() >= self.config.max_held {
                if self.overflow.len() < self.config.max_held {
                    self.overflow.push(offer.id.clone());
                } else {
                    tracing::warn!(offer_id = %offer.id.value, "too many offers held; not tracking this one");
                }
                continue;
            }
            let role = offer
                .allocation_info
                .as_ref()
                .and_then(|a| a.role.clone())
                .unwrap_or_else(|| self.default_role.clone());
            self.held.insert(
                offer.id.value.clone(),
                Held {
                    id: offer.id.clone(),
                    role,
                    expires: now + self.config.lease,
                },
            );
        }
    }

    /// The master rescinded `offer_id`: forgotten.
    pub fn on_rescind(&mut self, offer_id: &OfferId) {
        if self.held.remove(&offer_id.value).is_some() {
            self.counters.rescinded += 1;
        }
    }

    /// The application takes `offer_id` to accept or decline it itself.
    /// True when the manager held it; false when it was already declined
    /// (lease over), rescinded, or never seen: then do not use it.
    pub fn take(&mut self, offer_id: &OfferId) -> bool {
        let taken = self.held.remove(&offer_id.value).is_some();
        if taken {
            self.counters.taken += 1;
        }
        taken
    }

    /// The ids of the offers held, with their role.
    pub fn held(&self) -> impl Iterator<Item = (&OfferId, &str)> {
        self.held.values().map(|h| (&h.id, h.role.as_str()))
    }

    /// Feeds a subscription event: SUBSCRIBED, OFFERS, RESCIND and
    /// DISCONNECTED matter, the rest is ignored. `now` is the time of
    /// arrival.
    pub fn observe(&mut self, event: &SchedulerEvent, now: Instant) {
        match event {
            SchedulerEvent::Subscribed { .. } => self.on_subscribed(now),
            SchedulerEvent::Offers(offers) => self.on_offers(now, offers),
            SchedulerEvent::Rescind(id) => self.on_rescind(id),
            SchedulerEvent::Disconnected { .. } => self.on_disconnected(),
            _ => {}
        }
    }

    /// The calls due at `now`: DECLINE of the offers past their lease,
    /// SUPPRESS of the roles without demand, REVIVE of the roles whose
    /// demand rose (once their interval has passed). None while not
    /// subscribed. After it, [`next_deadline`](Self::next_deadline) is
    /// later than `now` (or `None`).
    pub fn poll_due(&mut self, now: Instant) -> Vec<Call> {
        self.last_now = Some(now);
        if !self.subscribed {
            return Vec::new();
        }
        let mut due = Vec::new();
        let mut expired: Vec<OfferId> = std::mem::take(&mut self.overflow);
        self.held.retain(|_, held| {
            let keep = held.expires > now;
            if !keep {
                expired.push(held.id.clone());
            }
            keep
        });
        if !expired.is_empty() {
            self.counters.declined += expired.len() as u64;
            tracing::debug!(
                offers = expired.len(),
                "declining offers not used within the lease"
            );
            for batch in expired.chunks(DECLINE_BATCH) {
                due.push(calls::decline(
                    batch.to_vec(),
                    Some(filters(self.config.refuse)),
                ));
            }
        }
        let mut suppress = Vec::new();
        let mut revive = Vec::new();
        for (name, role) in &mut self.roles {
            if role.pending == 0 {
                if !role.suppressed && role.suppress_not_before.is_none_or(|t| now >= t) {
                    role.suppressed = true;
                    role.suppress_not_before = None;
                    suppress.push(name.clone());
                }
            } else if role.want_revive
                && role
                    .last_revive
                    .is_none_or(|t| now >= t + self.config.revive_interval)
            {
                role.want_revive = false;
                role.suppressed = false;
                role.last_revive = Some(now);
                revive.push(name.clone());
            }
        }
        if !suppress.is_empty() {
            self.counters.suppresses += 1;
            tracing::debug!(roles = ?suppress, "suppressing offers: nothing pending");
            due.push(calls::suppress(suppress));
        }
        if !revive.is_empty() {
            self.counters.revives += 1;
            tracing::debug!(roles = ?revive, "reviving offers: work is pending");
            due.push(calls::revive(revive));
        }
        due
    }

    /// When [`poll_due`](Self::poll_due) next has something to send (at or
    /// before the last `now` it saw when something is due at once); `None`
    /// when nothing will be due without new input.
    pub fn next_deadline(&self) -> Option<Instant> {
        if !self.subscribed {
            return None;
        }
        let at_once = self.last_now;
        let mut next: Option<Instant> = None;
        let mut consider = |at: Option<Instant>| {
            if let Some(at) = at {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        };
        if !self.overflow.is_empty() {
            consider(at_once);
        }
        consider(self.held.values().map(|h| h.expires).min());
        for role in self.roles.values() {
            if role.pending == 0 && !role.suppressed {
                consider(role.suppress_not_before.or(at_once));
            } else if role.pending > 0 && role.want_revive {
                consider(
                    role.last_revive
                        .map(|t| t + self.config.revive_interval)
                        .or(at_once),
                );
            }
        }
        next
    }

    /// A call the manager emitted failed at `now`: a SUPPRESS is tried
    /// again after the revive interval, a REVIVE once the interval since
    /// it has passed; declined offers stay forgotten (the master rescinds
    /// them in time, or offers them again).
    pub fn call_failed(&mut self, failed: &Call, now: Instant) {
        self.counters.failed_calls += 1;
        match failed.r#type() {
            call::Type::Suppress => {
                let roles = failed.suppress.as_ref().map(|s| s.roles.as_slice());
                for name in roles.unwrap_or_default() {
                    if let Some(role) = self.roles.get_mut(name) {
                        role.suppressed = false;
                        role.suppress_not_before = Some(now + self.config.revive_interval);
                    }
                }
            }
            call::Type::Revive => {
                let roles = failed.revive.as_ref().map(|r| r.roles.as_slice());
                for name in roles.unwrap_or_default() {
                    if let Some(role) = self.roles.get_mut(name) {
                        role.want_revive = role.pending > 0;
                    }
                }
            }
            _ => {}
        }
    }
}
