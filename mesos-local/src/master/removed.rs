//! The ids of the frameworks a master removed, remembered (bounded) so that
//! a framework resubscribing with one is known as removed.

use std::collections::{HashSet, VecDeque};

/// The ids of removed frameworks, the most recent [`MAX_REMOVED_FRAMEWORKS`].
#[derive(Debug, Default)]
pub(crate) struct RemovedFrameworks {
    ids: HashSet<String>,
    order: VecDeque<String>,
}

/// How many removed framework ids are remembered (a resubscription with
/// an older one is treated as a new framework with that id).
pub(crate) const MAX_REMOVED_FRAMEWORKS: usize = 10_000;

impl RemovedFrameworks {
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    pub(crate) fn insert(&mut self, id: String) {
        if !self.ids.insert(id.clone()) {
            return;
        }
        self.order.push_back(id);
        while self.order.len() > MAX_REMOVED_FRAMEWORKS {
            if let Some(oldest) = self.order.pop_front() {
                self.ids.remove(&oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_frameworks_are_bounded() {
        let mut removed = RemovedFrameworks::default();
        for i in 0..MAX_REMOVED_FRAMEWORKS + 10 {
            removed.insert(format!("f{i}"));
        }
        assert!(!removed.contains("f0"));
        assert!(removed.contains(&format!("f{}", MAX_REMOVED_FRAMEWORKS + 9)));
        assert_eq!(removed.order.len(), MAX_REMOVED_FRAMEWORKS);
    }
}
