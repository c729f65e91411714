//! The Docker containerizer's bookkeeping, as Mesos 1.11's
//! `DockerContainerizer` (upstream `src/slave/containerizer/docker.cpp`):
//! container naming, launch states, and recovery of orphans.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mesos_proto::v1::TaskInfo;

use crate::docker::{ContainerState, Docker, DockerError};
use crate::spec::{RunContext, RunSpec, SpecError};

/// Every container Mesos (and this crate) creates is named
/// `mesos-<container id>`; recovery only ever touches such names.
pub const CONTAINER_NAME_PREFIX: &str = "mesos-";

/// The Docker name of the Mesos container `container_id`.
///
/// ```
/// assert_eq!(mesos_docker::container_name("0f3c-9a"), "mesos-0f3c-9a");
/// ```
pub fn container_name(container_id: &str) -> String {
    format!("{CONTAINER_NAME_PREFIX}{container_id}")
}

/// The Mesos container id in a Docker name made by [`container_name`]
/// (Docker's leading `/` allowed), or `None` for other containers.
pub fn container_id_of(name: &str) -> Option<&str> {
    name.trim_start_matches('/')
        .strip_prefix(CONTAINER_NAME_PREFIX)
        .filter(|id| !id.is_empty())
}

/// The states of a container in the Docker containerizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LaunchState {
    /// Fetching the task's URIs into the sandbox.
    Fetching,
    /// Making the image available (`docker pull` if needed).
    Pulling,
    /// Preparing volumes.
    Mounting,
    /// `docker run` issued; the container runs.
    Running,
    /// Being stopped and removed.
    Destroying,
}

/// Why a launch failed.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The task cannot be run by Docker.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// Docker failed.
    #[error(transparent)]
    Docker(#[from] DockerError),
    /// The container id is already in use.
    #[error("container {0} already exists")]
    Duplicate(String),
    /// The container was destroyed while launching.
    #[error("container {0} was destroyed during launch")]
    Destroyed(String),
}

/// Removes every `mesos-` container that is not in `known` (container
/// ids, as the agent's checkpointed state knows them): `docker rm -f -v`,
/// as Mesos's recovery kills orphans. Containers without the prefix are
/// never touched. Returns the names removed.
pub async fn recover_orphans(
    docker: &Docker,
    known: &HashSet<String>,
) -> Result<Vec<String>, DockerError> {
    recover_orphans_with_prefix(docker, CONTAINER_NAME_PREFIX, known).await
}

/// [`recover_orphans`] limited to the names starting with `name_prefix`
/// (which itself must start with `mesos-`; otherwise nothing is removed):
/// for an agent that owns only part of the `mesos-` namespace (e.g.
/// several agents, or tests, on one engine).
pub async fn recover_orphans_with_prefix(
    docker: &Docker,
    name_prefix: &str,
    known: &HashSet<String>,
) -> Result<Vec<String>, DockerError> {
    let mut removed = Vec::new();
    if !name_prefix.starts_with(CONTAINER_NAME_PREFIX) {
        return Ok(removed);
    }
    for name in docker.ps_all_with_prefix(name_prefix).await? {
        let Some(id) = container_id_of(&name) else {
            continue;
        };
        if known.contains(id) {
            continue;
        }
        tracing::info!(container = name, "removing orphan container");
        match docker.rm(&name, true).await {
            Ok(()) | Err(DockerError::NoSuchContainer(_)) => removed.push(name),
            Err(e) => return Err(e),
        }
    }
    Ok(removed)
}

#[derive(Debug)]
struct Entry {
    state: LaunchState,
    /// Set to true by `destroy`: a launch step in flight (a pull) is
    /// abandoned at once, its `docker` process killed.
    destroyed: tokio::sync::watch::Sender<bool>,
}

/// A minimal Docker containerizer: launches a task's container detached,
/// with the sandbox mounted and its logs followed into the sandbox's
/// `stdout`/`stderr`; waits, destroys (stop with grace, then remove) and
/// recovers orphans. Tracks each container's [`LaunchState`].
#[derive(Debug, Clone)]
pub struct DockerContainerizer {
    docker: Docker,
    containers: Arc<Mutex<BTreeMap<String, Entry>>>,
}

impl DockerContainerizer {
    /// A containerizer using `docker`.
    pub fn new(docker: Docker) -> DockerContainerizer {
        DockerContainerizer {
            docker,
            containers: Arc::default(),
        }
    }

    /// The Docker CLI.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// The state of `container_id`, if it is known.
    pub fn state(&self, container_id: &str) -> Option<LaunchState> {
        self.lock().get(container_id).map(|e| e.state)
    }

    /// The known container ids.
    pub fn containers(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Entry>> {
        self.containers
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn advance(&self, container_id: &str, state: LaunchState) -> Result<(), LaunchError> {
        match self.lock().get_mut(container_id) {
            Some(entry) if entry.state != LaunchState::Destroying => {
                entry.state = state;
                Ok(())
            }
            _ => Err(LaunchError::Destroyed(container_id.into())),
        }
    }

    /// Launches `task` as container `container_id` (named
    /// [`container_name`]) with `sandbox` mounted at the mapped directory:
    /// FETCHING (nothing to fetch here) → PULLING → MOUNTING → RUNNING.
    /// Returns the inspect state once running.
    pub async fn launch(
        &self,
        container_id: &str,
        task: &TaskInfo,
        sandbox: impl Into<PathBuf>,
        env: &BTreeMap<String, String>,
    ) -> Result<ContainerState, LaunchError> {
        let sandbox = sandbox.into();
        let (destroyed, mut destroyed_rx) = tokio::sync::watch::channel(false);
        {
            let mut containers = self.lock();
            if containers.contains_key(container_id) {
                return Err(LaunchError::Duplicate(container_id.into()));
            }
            containers.insert(
                container_id.into(),
                Entry {
                    state: LaunchState::Fetching,
                    destroyed,
                },
            );
        }
        let result = tokio::select! {
            result = self.launch_steps(container_id, task, &sandbox, env) => result,
            // Dropping the steps kills their `docker` child (kill_on_drop).
            _ = destroyed_rx.wait_for(|d| *d) => Err(LaunchError::Destroyed(container_id.into())),
        };
        if result.is_err() {
            let name = container_name(container_id);
            let _ = self.docker.rm(&name, true).await;
            self.lock().remove(container_id);
        }
        result
    }

    async fn launch_steps(
        &self,
        container_id: &str,
        task: &TaskInfo,
        sandbox: &std::path::Path,
        env: &BTreeMap<String, String>,
    ) -> Result<ContainerState, LaunchError> {
        let name = container_name(container_id);
        let sandbox_dir = sandbox.display().to_string();
        let spec = RunSpec::from_task_in(
            task,
            &RunContext {
                container_name: &name,
                sandbox_dir: &sandbox_dir,
                mapped_dir: crate::spec::DEFAULT_MAPPED_DIRECTORY,
                env,
                enable_cfs_quota: false,
                default_dns: None,
            },
        )?;
        self.advance(container_id, LaunchState::Pulling)?;
        let force = task
            .container
            .as_ref()
            .and_then(|c| c.docker.as_ref())
            .and_then(|d| d.force_pull_image)
            .unwrap_or(false);
        self.docker.ensure_image(&spec.image, force).await?;
        self.advance(container_id, LaunchState::Mounting)?;
        self.advance(container_id, LaunchState::Running)?;
        self.docker.run_detached(&spec).await?;
        // Output into the sandbox, as the executor's redirection does.
        match self
            .docker
            .follow_logs(&name, &sandbox.join("stdout"), &sandbox.join("stderr"))
        {
            Ok(mut child) => {
                tokio::spawn(async move {
                    let _ = child.wait().await;
                });
            }
            Err(e) => tracing::warn!(container = name, error = %e, "cannot follow the logs"),
        }
        Ok(self.docker.inspect(&name).await?)
    }

    /// Waits for the container to exit; its exit code.
    pub async fn wait(&self, container_id: &str) -> Result<i32, DockerError> {
        self.docker.wait(&container_name(container_id)).await
    }

    /// DESTROYING: `docker stop -t <grace>`, then `docker rm -f -v`; the
    /// container is forgotten. Destroying an unknown or already removed
    /// container is not an error.
    pub async fn destroy(&self, container_id: &str, grace: Duration) -> Result<(), DockerError> {
        if let Some(entry) = self.lock().get_mut(container_id) {
            entry.state = LaunchState::Destroying;
            entry.destroyed.send_replace(true);
        }
        let name = container_name(container_id);
        let result = match self.docker.stop(&name, grace).await {
            Ok(()) | Err(DockerError::NoSuchContainer(_)) => {
                match self.docker.rm(&name, true).await {
                    Ok(()) | Err(DockerError::NoSuchContainer(_)) => Ok(()),
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        };
        self.lock().remove(container_id);
        result
    }

    /// Recovery: removes every `mesos-` container this containerizer does
    /// not know and that is not in `known` (see [`recover_orphans`]).
    pub async fn recover(&self, known: &HashSet<String>) -> Result<Vec<String>, DockerError> {
        let mut all: HashSet<String> = known.clone();
        all.extend(self.containers());
        recover_orphans(&self.docker, &all).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(container_name("abc"), "mesos-abc");
        assert_eq!(container_id_of("/mesos-abc"), Some("abc"));
        assert_eq!(container_id_of("mesos-"), None);
        assert_eq!(container_id_of("other"), None);
    }
}
