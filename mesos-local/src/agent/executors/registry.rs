//! The containers an agent started, for `kill_all` (sync, from `Drop`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::agent::sandbox;
use crate::containerizer::Container;

/// The containers an agent started, for `kill_all` (sync, from `Drop`).
#[derive(Default)]
pub(crate) struct Registry {
    inner: Mutex<RegistryInner>,
    /// Cancelled by `kill_all`: launches still preparing (fetching) stop.
    torn_down: tokio_util::sync::CancellationToken,
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
    /// Called by the launch itself as soon as the containerizer returns
    /// (not by the agent's loop, which is gone after a teardown), so that a
    /// launch still in flight at teardown leaves nothing running.
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

    /// Creates a container's sandbox unless `kill_all` happened (`None`
    /// then: the launch must stop, nothing was created). The creation runs
    /// on the blocking pool under the registry's lock, so a teardown never
    /// races it: either `kill_all` came first and nothing is created, or
    /// the directory exists before `kill_all` returns (and goes with the
    /// cluster's work directory).
    pub(super) async fn create_sandbox(
        self: &Arc<Self>,
        directory: PathBuf,
        wanted: bool,
    ) -> Option<Result<(), String>> {
        if !wanted {
            // Nothing to create (e.g. the fake containerizer): no trip
            // through the blocking pool.
            return (!self.lock().killed).then_some(Ok(()));
        }
        let registry = self.clone();
        let created = tokio::task::spawn_blocking(move || {
            let inner = registry.lock();
            if inner.killed {
                return None;
            }
            Some(sandbox::create(&directory, true))
        })
        .await;
        created.unwrap_or_else(|e| Some(Err(format!("Failed to create the sandbox: {e}"))))
    }

    /// Resolves once `kill_all` happened.
    pub(super) async fn torn_down(&self) {
        self.torn_down.cancelled().await;
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
        self.torn_down.cancel();
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
