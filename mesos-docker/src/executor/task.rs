//! The life of the executor's one task: `docker run`, waiting for the
//! container to start, TASK_RUNNING with its network, the exit and its
//! terminal update, kill with a grace period.

use std::process::{ExitStatus, Stdio};

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use mesos_executor::ExecutorDriver;
use mesos_proto::v1::framework_info::capability::Type as Capability;
use mesos_proto::v1::network_info::{IpAddress, Protocol};
use mesos_proto::v1::task_status::Reason;
use mesos_proto::v1::{ContainerStatus, KillPolicy, TaskInfo, TaskState, TaskStatus};

use super::{remove, status, Output, Phase, Shared, DOCKER_INSPECT_DELAY};
use crate::docker::ContainerState;
use crate::spec::{RunContext, RunSpec};

impl Shared {
    pub(super) async fn send(&self, driver: &ExecutorDriver, status: TaskStatus) {
        let state = status.state().as_str_name();
        tracing::info!(
            state,
            message = status.message.as_deref().unwrap_or(""),
            "status update"
        );
        match driver.send_status_update(status).await {
            Ok(()) => self.state.send_modify(|s| s.updates_sent += 1),
            Err(e) => tracing::error!(state, error = %e, "status update failed"),
        }
    }

    pub(super) fn set_phase(&self, phase: Phase) {
        self.state.send_modify(|s| {
            if s.phase < phase {
                s.phase = phase;
            }
        });
    }

    /// Sends the terminal update, removes the container, and stops the
    /// driver once the agent has acknowledged every update.
    pub(super) async fn finish(self: &Arc<Self>, driver: &ExecutorDriver, terminal: TaskStatus) {
        self.send(driver, terminal).await;
        self.set_phase(Phase::Terminated);
        remove(self).await;
        self.set_phase(Phase::Done);
        let mut rx = self.state.subscribe();
        let acknowledged = tokio::time::timeout(
            self.config.terminal_ack_timeout,
            rx.wait_for(|s| s.updates_acknowledged >= s.updates_sent),
        )
        .await
        .is_ok();
        if !acknowledged {
            tracing::warn!("the terminal update was not acknowledged in time; stopping anyway");
        }
        driver.stop().await;
    }

    /// `docker inspect` until the container has started. With a live
    /// `watch` (`docker events`, spawned before `docker run`) the next
    /// inspect follows the start event at once instead of the
    /// [`DOCKER_INSPECT_DELAY`] poll (which stays the bound of every wait,
    /// and the only mechanism when the watch is gone).
    pub(super) async fn inspect_until_started(
        &self,
        mut watch: Option<crate::docker::StartWatch>,
    ) -> Result<ContainerState, crate::DockerError> {
        if let Some(watch) = watch.as_mut() {
            tokio::select! {
                _ = watch.started() => {}
                _ = tokio::time::sleep(DOCKER_INSPECT_DELAY) => {}
            }
        }
        loop {
            match self.config.docker.inspect(&self.config.container).await {
                Ok(state) if state.started() => return Ok(state),
                Ok(_) | Err(crate::DockerError::NoSuchContainer(_)) => {}
                Err(e) => return Err(e),
            }
            match watch.as_mut().filter(|w| w.is_alive()) {
                Some(watch) => tokio::select! {
                    _ = watch.started() => {}
                    _ = tokio::time::sleep(DOCKER_INSPECT_DELAY) => {}
                },
                None => tokio::time::sleep(DOCKER_INSPECT_DELAY).await,
            }
        }
    }

    /// TASK_RUNNING with the inspect output and the container's address.
    pub(super) async fn send_running(
        &self,
        driver: &ExecutorDriver,
        task: &TaskInfo,
        container: &ContainerState,
    ) {
        let mut update = status(&task.task_id, TaskState::TaskRunning, None);
        update.data = Some(Bytes::from(format!("[{}]", container.raw)));
        if container.ip_address.is_some() || container.ip6_address.is_some() {
            let mut network = task
                .container
                .as_ref()
                .and_then(|c| c.network_infos.first().cloned())
                .unwrap_or_default();
            network.ip_addresses.clear();
            if let Some(ip) = &container.ip_address {
                network.ip_addresses.push(IpAddress {
                    protocol: None,
                    ip_address: Some(ip.clone()),
                });
            }
            if let Some(ip) = &container.ip6_address {
                network.ip_addresses.push(IpAddress {
                    protocol: Some(Protocol::IPv6 as i32),
                    ip_address: Some(ip.clone()),
                });
            }
            update.container_status = Some(ContainerStatus {
                network_infos: vec![network.clone()],
                ..Default::default()
            });
            self.state.send_modify(|s| s.network_info = Some(network));
        }
        self.send(driver, update).await;
    }

    pub(super) fn stdio(&self) -> std::io::Result<(Stdio, Stdio)> {
        match &self.config.output {
            Output::Inherit => Ok((Stdio::inherit(), Stdio::inherit())),
            Output::Files(dir) => {
                let open = |name: &str| {
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(dir.join(name))
                };
                Ok((open("stdout")?.into(), open("stderr")?.into()))
            }
        }
    }

    /// The life of the task, from the image to the terminal update.
    pub(super) async fn run(self: Arc<Self>, driver: ExecutorDriver, task: TaskInfo) {
        let task_id = task.task_id.clone();
        let failed = |message: String| {
            let mut update = status(&task_id, TaskState::TaskFailed, Some(message));
            update.reason = Some(Reason::ContainerLaunchFailed as i32);
            update
        };
        let context = RunContext {
            container_name: &self.config.container,
            sandbox_dir: &self.config.sandbox_directory,
            mapped_dir: &self.config.mapped_directory,
            env: &self.config.task_environment,
            enable_cfs_quota: self.config.cgroups_enable_cfs,
            default_dns: self.config.default_container_dns.as_ref(),
        };
        let spec = match RunSpec::from_task_in(&task, &context) {
            Ok(spec) => spec,
            Err(e) => {
                let message = format!("Failed to create docker run options: {e}");
                tracing::error!(message);
                return self.finish(&driver, failed(message)).await;
            }
        };
        let force_pull = task
            .container
            .as_ref()
            .and_then(|c| c.docker.as_ref())
            .and_then(|d| d.force_pull_image)
            .unwrap_or(false);
        if let Err(e) = self
            .config
            .docker
            .ensure_image(&spec.image, force_pull)
            .await
        {
            let message = format!("Failed to launch container: {e}");
            tracing::error!(message);
            return self.finish(&driver, failed(message)).await;
        }
        if self.state.borrow().kill_requested {
            let update = status(
                &task_id,
                TaskState::TaskKilled,
                Some("Task killed before its container was started".into()),
            );
            return self.finish(&driver, update).await;
        }
        // Before `docker run`, so that the start cannot be missed.
        let watch = match self.config.docker.watch_start(&self.config.container).await {
            Ok(watch) => Some(watch),
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch docker events; polling docker inspect");
                None
            }
        };
        let mut child = match self
            .stdio()
            .map_err(|e| e.to_string())
            .and_then(|(out, err)| {
                self.config
                    .docker
                    .spawn_run(&spec, out, err)
                    .map_err(|e| e.to_string())
            }) {
            Ok(child) => child,
            Err(e) => {
                let message = format!("Failed to run docker container: {e}");
                tracing::error!(message);
                return self.finish(&driver, failed(message)).await;
            }
        };
        self.set_phase(Phase::Launched);

        // Inspect until the container has started (or `docker run` ended).
        let wait = child.wait();
        tokio::pin!(wait);
        let mut exit: Option<std::io::Result<ExitStatus>> = None;
        let inspected = tokio::select! {
            result = self.inspect_until_started(watch) => Some(result),
            status = &mut wait => {
                exit = Some(status);
                None
            }
        };
        let inspected = match inspected {
            Some(result) => Some(result),
            // Exited before we saw it: inspect once more (it may have run).
            None => match self.config.docker.inspect(&self.config.container).await {
                Ok(state) if state.started() => Some(Ok(state)),
                Ok(_) => None,
                Err(e) => Some(Err(e)),
            },
        };
        match inspected {
            Some(Ok(container)) if !self.state.borrow().killed => {
                self.send_running(&driver, &task, &container).await;
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                tracing::error!(container = self.config.container, error = %e, "failed to inspect the container")
            }
            None => {}
        }
        self.set_phase(Phase::Inspected);

        let exit = match exit {
            Some(exit) => exit,
            None => wait.await,
        };
        let (killed, by_timeout) = {
            let s = self.state.borrow();
            (s.killed, s.killed_by_timeout)
        };
        let mut update = match exit {
            Err(e) => status(
                &task_id,
                TaskState::TaskFailed,
                Some(format!("Failed to run docker container: {e}")),
            ),
            Ok(exit) => {
                let message = match (exit.code(), signal_of(exit)) {
                    (Some(code), _) => format!("Container exited with status {code}"),
                    (None, Some(signal)) => format!("Container terminated with signal {signal}"),
                    (None, None) => format!("Container {exit}"),
                };
                let state = if by_timeout {
                    TaskState::TaskFailed
                } else if killed {
                    TaskState::TaskKilled
                } else if exit.success() {
                    TaskState::TaskFinished
                } else {
                    TaskState::TaskFailed
                };
                status(&task_id, state, Some(message))
            }
        };
        if by_timeout {
            update.reason = Some(Reason::MaxCompletionTimeReached as i32);
        }
        self.finish(&driver, update).await;
    }

    /// Kills the task with `grace`: waits until the container has been
    /// inspected (so docker knows it), then `docker stop -t <grace>`.
    pub(super) async fn kill(
        self: &Arc<Self>,
        driver: &ExecutorDriver,
        grace: Duration,
        by_timeout: bool,
    ) {
        let mut rx = self.state.subscribe();
        self.state.send_modify(|s| s.kill_requested = true);
        // Before `docker run` there is nothing to stop: `run` sees
        // `kill_requested` and ends with TASK_KILLED. Once it is started,
        // wait for inspect so that docker knows the container.
        let phase = match rx
            .wait_for(|s| s.phase == Phase::Idle || s.phase >= Phase::Inspected)
            .await
        {
            Ok(state) => state.phase,
            Err(_) => return,
        };
        if phase != Phase::Inspected {
            return;
        }
        let send_killing = {
            let mut send_killing = false;
            self.state.send_modify(|s| {
                if !s.killed {
                    s.killed = true;
                    s.killed_by_timeout |= by_timeout;
                    send_killing = !by_timeout
                        && s.framework.as_ref().is_some_and(|f| {
                            f.capabilities
                                .iter()
                                .any(|c| c.r#type == Some(Capability::TaskKillingState as i32))
                        });
                }
            });
            send_killing
        };
        let task_id = self.state.borrow().task_id.clone();
        if let (true, Some(task_id)) = (send_killing, task_id) {
            self.send(driver, status(&task_id, TaskState::TaskKilling, None))
                .await;
        }
        tracing::info!(
            container = self.config.container,
            ?grace,
            "stopping the container"
        );
        if let Err(e) = self.config.docker.stop(&self.config.container, grace).await {
            tracing::error!(container = self.config.container, error = %e, "failed to stop the container");
        }
    }

    pub(super) fn grace_for(&self, over: Option<&KillPolicy>) -> Duration {
        let from = |policy: Option<&KillPolicy>| {
            policy
                .and_then(|p| p.grace_period.as_ref())
                .map(|d| Duration::from_nanos(u64::try_from(d.nanoseconds).unwrap_or(0)))
        };
        let task_policy = self.state.borrow().kill_policy;
        from(over)
            .or_else(|| from(task_policy.as_ref()))
            .unwrap_or(self.config.grace_period)
    }
}

#[cfg(unix)]
fn signal_of(status: ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.signal()
}

#[cfg(not(unix))]
fn signal_of(_status: ExitStatus) -> Option<i32> {
    None
}
