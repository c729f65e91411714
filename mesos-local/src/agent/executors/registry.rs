//! The containers an agent started, for `kill_all` (sync, from `Drop`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::containerizer::Container;

/// The containers an agent started, for `kill_all` (sync, from `Drop`).
#[derive(Default)]
pub(crate) struct Registry {
    inner: Mutex<RegistryInner>,
}

#[derive(Default)]
struct RegistryInner {
    killed: bool,
    containers: HashMap<String, Arc<dyn Container>>,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, RegistryInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a live container; kills it at once if `kill_all` happened.
    pub(super) fn insert(&self, container: &Arc<dyn Container>) {
        let mut inner = self.lock();
        if inner.killed {
            drop(inner);
            let _ = container.signal(rustix::process::Signal::KILL.as_raw());
            return;
        }
        inner
            .containers
            .insert(container.id().value.clone(), container.clone());
    }

    pub(super) fn remove(&self, container_id: &str) {
        self.lock().containers.remove(container_id);
    }

    /// SIGKILL to every container, now and for any launched later.
    pub(crate) fn kill_all(&self) {
        let containers: Vec<Arc<dyn Container>> = {
            let mut inner = self.lock();
            inner.killed = true;
            inner.containers.drain().map(|(_, c)| c).collect()
        };
        for container in containers {
            if let Err(e) = container.signal(rustix::process::Signal::KILL.as_raw()) {
                tracing::warn!(container_id = %container.id().value, error = %e, "SIGKILL failed");
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn pids(&self) -> Vec<u32> {
        self.lock()
            .containers
            .values()
            .filter_map(|c| c.pid())
            .collect()
    }
}
