//! The offers the framework holds: received in OFFERS, not yet accepted,
//! declined or rescinded, on the current subscription. Bounded; exported as
//! the `mesos_scheduler_offers_held` gauge (feature `metrics`) and by
//! [`SchedulerClient::offers_held`](crate::SchedulerClient::offers_held).

use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard};

use mesos_proto::v1::OfferId;

use crate::telemetry;

/// How many offer ids are tracked at most; offers past it are not counted
/// (a master never has that many outstanding for one framework).
pub const MAX_TRACKED_OFFERS: usize = 100_000;

/// Offer ids held on the current subscription.
#[derive(Debug, Default)]
pub(crate) struct HeldOffers {
    ids: Mutex<HashSet<OfferId>>,
}

impl HeldOffers {
    fn ids(&self) -> MutexGuard<'_, HashSet<OfferId>> {
        self.ids.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    /// An OFFERS event brought `offers`.
    pub(crate) fn received<'a>(&self, offers: impl IntoIterator<Item = &'a OfferId>) {
        let mut ids = self.ids();
        let before = ids.len();
        for id in offers {
            if ids.len() >= MAX_TRACKED_OFFERS {
                break;
            }
            ids.insert(id.clone());
        }
        telemetry::offers_held(ids.len() as isize - before as isize);
    }

    /// `offers` were accepted, declined or rescinded.
    pub(crate) fn released<'a>(&self, offers: impl IntoIterator<Item = &'a OfferId>) {
        let mut ids = self.ids();
        let before = ids.len();
        for id in offers {
            ids.remove(id);
        }
        telemetry::offers_held(ids.len() as isize - before as isize);
    }

    /// The subscription ended or a new one began: the master rescinds a
    /// disconnected framework's offers, so none is held any more.
    pub(crate) fn clear(&self) {
        let mut ids = self.ids();
        telemetry::offers_held(-(ids.len() as isize));
        ids.clear();
    }

    /// How many are held.
    pub(crate) fn len(&self) -> usize {
        self.ids().len()
    }
}

impl Drop for HeldOffers {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(value: &str) -> OfferId {
        OfferId {
            value: value.into(),
        }
    }

    #[test]
    fn offers_are_held_until_released_or_cleared() {
        let held = HeldOffers::default();
        held.received(&[id("o1"), id("o2"), id("o3")]);
        held.received(&[id("o3")]);
        assert_eq!(held.len(), 3);
        held.released(&[id("o1"), id("unknown")]);
        assert_eq!(held.len(), 2);
        held.clear();
        assert_eq!(held.len(), 0);
    }
}
