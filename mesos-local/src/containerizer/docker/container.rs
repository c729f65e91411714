//! One running Docker container as the agent sees it ([`DockerContainer`]),
//! and the task that follows it to its end ([`watch_container`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use mesos_docker::{ContainerState, Docker, DockerError};
use mesos_proto::v1::network_info::{IpAddress, Protocol};
use mesos_proto::v1::{ContainerId, ContainerStatus, TaskState, TaskStatus};
use tokio::sync::watch;

use super::cli;
use super::{already_gone, lock, Live, LOG_FLUSH_TIMEOUT, SIGKILL};
use crate::containerizer::{signal_name, Container, ContainerExit, ContainerizerError};

/// Waits for the container's end, lets its output reach the sandbox,
/// removes it, and publishes the exit.
pub(super) async fn watch_container(
    docker: Docker,
    name: String,
    logs: Option<tokio::process::Child>,
    killed: Arc<AtomicBool>,
    live: Arc<Mutex<Live>>,
    exit: watch::Sender<Option<ContainerExit>>,
) {
    let result = docker.wait(&name).await;
    let ended = match result {
        Ok(code) => ContainerExit::exited(code),
        Err(_) if killed.load(Ordering::SeqCst) => ContainerExit::signaled(SIGKILL),
        Err(e) => {
            tracing::warn!(container = name, error = %e, "docker wait failed");
            ContainerExit::unknown()
        }
    };
    if let Some(mut logs) = logs {
        if tokio::time::timeout(LOG_FLUSH_TIMEOUT, logs.wait())
            .await
            .is_err()
        {
            let _ = logs.kill().await;
        }
    }
    match docker.rm(&name, true).await {
        Ok(()) => {}
        Err(e) if already_gone(&e) => {}
        Err(e) => tracing::warn!(container = name, error = %e, "removing the container failed"),
    }
    lock(&live).names.remove(&name);
    tracing::info!(container = name, exit = %ended, "docker container ended and removed");
    let _ = exit.send(Some(ended));
}

/// One Docker container, named `<prefix><container id>`.
#[derive(Debug)]
pub(super) struct DockerContainer {
    pub(super) id: ContainerId,
    pub(super) name: String,
    pub(super) docker: Docker,
    /// The `ContainerInfo`'s first `NetworkInfo` (the template of the one
    /// reported with `TASK_RUNNING`).
    pub(super) network: mesos_proto::v1::NetworkInfo,
    /// `docker inspect` right after the start.
    pub(super) state: Option<ContainerState>,
    /// Removed by `SIGKILL` / destroy.
    pub(super) killed: Arc<AtomicBool>,
    pub(super) exit: watch::Receiver<Option<ContainerExit>>,
}

#[async_trait]
impl Container for DockerContainer {
    fn id(&self) -> &ContainerId {
        &self.id
    }

    fn pid(&self) -> Option<u32> {
        self.state.as_ref().and_then(|s| s.pid)
    }

    async fn wait(&self) -> ContainerExit {
        let mut exit = self.exit.clone();
        let result = match exit.wait_for(Option::is_some).await {
            Ok(value) => value.unwrap_or_else(ContainerExit::unknown),
            Err(_) => ContainerExit::unknown(),
        };
        result
    }

    /// `SIGKILL`: `docker rm -f -v` (the container is gone at once);
    /// any other signal: `docker kill --signal=<n>`. Never blocks for long:
    /// spawned on the current runtime, or without one a bounded blocking
    /// run (see the `cli` module).
    fn signal(&self, signal: i32) -> Result<(), ContainerizerError> {
        if signal == SIGKILL {
            self.killed.store(true, Ordering::SeqCst);
        }
        cli::signal(&self.docker, &self.name, signal);
        Ok(())
    }

    /// `docker stop -t <grace>` (SIGTERM, SIGKILL after the grace period),
    /// as the Docker executor kills a task.
    async fn kill(&self, grace: Duration) -> ContainerExit {
        tracing::info!(container = self.name, ?grace, "stopping the container");
        match self.docker.stop(&self.name, grace).await {
            Ok(()) | Err(DockerError::NoSuchContainer(_)) => self.wait().await,
            Err(e) => {
                tracing::warn!(container = self.name, error = %e, "docker stop failed; removing it");
                self.destroy().await
            }
        }
    }

    async fn destroy(&self) -> ContainerExit {
        self.killed.store(true, Ordering::SeqCst);
        match self.docker.rm(&self.name, true).await {
            Ok(()) => {}
            Err(e) if already_gone(&e) => {}
            Err(e) => tracing::warn!(container = self.name, error = %e, "docker rm failed"),
        }
        self.wait().await
    }

    fn annotate_status(&self, status: &mut TaskStatus, exit: Option<&ContainerExit>) {
        match status.state() {
            TaskState::TaskRunning => {
                // As the Docker executor: no message, the inspect output as
                // data, the container's addresses.
                status.message = None;
                let Some(state) = &self.state else {
                    return;
                };
                status.data = Some(Bytes::from(format!("[{}]", state.raw)));
                if state.ip_address.is_none() && state.ip6_address.is_none() {
                    return;
                }
                let mut network = self.network.clone();
                network.ip_addresses.clear();
                if let Some(ip) = &state.ip_address {
                    network.ip_addresses.push(IpAddress {
                        protocol: Some(Protocol::IPv4 as i32),
                        ip_address: Some(ip.clone()),
                    });
                }
                if let Some(ip) = &state.ip6_address {
                    network.ip_addresses.push(IpAddress {
                        protocol: Some(Protocol::IPv6 as i32),
                        ip_address: Some(ip.clone()),
                    });
                }
                status
                    .container_status
                    .get_or_insert_with(ContainerStatus::default)
                    .network_infos = vec![network];
            }
            _ => {
                if let Some(exit) = exit {
                    status.message = Some(match (exit.code(), exit.signal()) {
                        (Some(code), _) => format!("Container exited with status {code}"),
                        (None, Some(signal)) => {
                            format!("Container terminated with signal {}", signal_name(signal))
                        }
                        _ => format!("Container {exit}"),
                    });
                }
            }
        }
    }
}
