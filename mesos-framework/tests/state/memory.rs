//! The conformance suite on the in-memory store.

use async_trait::async_trait;
use mesos_framework::state::{MemoryStateStore, StateStore, StoreLimits};

use crate::conformance::Harness;

/// One store, shared by every `open` (nothing to reopen in memory).
pub struct MemoryHarness(std::sync::Mutex<Option<MemoryStateStore>>);

#[async_trait]
impl Harness for MemoryHarness {
    async fn open(&self, limits: StoreLimits) -> Box<dyn StateStore> {
        let mut store = self.0.lock().unwrap();
        Box::new(
            store
                .get_or_insert_with(|| MemoryStateStore::with_limits(limits))
                .clone(),
        )
    }
}

async fn harness(_test: &str) -> Option<MemoryHarness> {
    Some(MemoryHarness(std::sync::Mutex::new(None)))
}

conformance_tests!(harness);
