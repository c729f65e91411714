//! The Docker containerizer (feature `docker`): see [`DockerContainerizer`].

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use mesos_docker::{ContainerState, Docker, DockerError, RunContext, RunSpec};
use mesos_proto::resources::Resources;
use mesos_proto::v1::container_info;
use tokio::sync::watch;

use super::{
    Container, Containerizer, ContainerizerError, LaunchKind, LaunchRequest, ProcessContainerizer,
};

mod cli;
mod container;

use container::{watch_container, DockerContainer};

/// How long [`Containerizer::destroy_all`] may wait, by default, for the
/// docker CLI to remove the remaining containers (see
/// [`DockerContainerizer::with_teardown_timeout`]).
pub const DEFAULT_TEARDOWN_TIMEOUT: Duration = Duration::from_secs(20);

/// The containers of a [`DockerContainerizer`] and its teardowns.
#[derive(Debug, Default)]
struct Live {
    /// Names of the containers launched (or being launched) and not removed.
    names: HashSet<String>,
    /// Bumped by every [`Containerizer::destroy_all`]: a launch that sees
    /// it change while in flight removes what it created.
    generation: u64,
    /// A Docker launch was attempted since the last teardown (worth a
    /// sweep for stragglers).
    attempted: bool,
}

/// `SIGKILL` (Linux numbering, as the [`Container::signal`] contract uses).
const SIGKILL: i32 = 9;

/// How long the output of an exited container may take to reach the
/// sandbox before the container is removed anyway.
const LOG_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether a launch asks for a Docker container (`ContainerInfo.type` is
/// `DOCKER`).
pub fn is_docker_launch(request: &LaunchRequest) -> bool {
    request
        .container
        .as_ref()
        .is_some_and(|c| c.r#type == container_info::Type::Docker as i32)
}

/// Runs `DOCKER` containers on the Docker engine and hands every other
/// launch to a fallback containerizer (by default the
/// [`ProcessContainerizer`]) — the agent's `--containerizers=docker,mesos`.
///
/// # How a Docker command task runs
///
/// For a command task with a `DOCKER` `ContainerInfo` a real Mesos 1.11
/// agent starts `mesos-docker-executor`, which runs the container attached
/// and reports the task's states. Here the agent's built-in command
/// executor plays that executor (see [the module
/// docs](crate::containerizer)): this containerizer makes the image available (never pulling what is present,
/// as Mesos), runs the container detached (`docker run -d`, built by
/// [`mesos_docker::RunSpec`] field for field as Mesos builds it: resources,
/// environment, the sandbox mounted at `/mnt/mesos/sandbox`, network, port
/// mappings, volumes, entrypoint rules), follows its output into the
/// sandbox's `stdout`/`stderr`, and hands back a [`Container`] whose end is
/// the container's exit (`docker wait`). The status updates are then those
/// of the Docker executor: `TASK_STARTING`, `TASK_RUNNING` (with the
/// `docker inspect` output as `data` and the container's IP address in
/// `container_status.network_infos`), then `TASK_FINISHED` on exit 0,
/// `TASK_FAILED` ("Container exited with status N") otherwise, and
/// `TASK_KILLED` after a kill, which is `docker stop -t <grace>`.
///
/// A failed launch (the image is missing and cannot be pulled, `docker run`
/// refuses the options, the `ContainerInfo` cannot be turned into a `docker
/// run` — a port mapping outside the task's ports, a bad network) becomes
/// `TASK_FAILED` with reason `REASON_CONTAINER_LAUNCH_FAILED` and the
/// explanation as message, as a real agent reports a failed pull.
///
/// # Executors in Docker containers
///
/// A custom executor whose `ExecutorInfo.container` is `DOCKER` runs the
/// same way (its `CommandInfo`, resources and the agent's executor
/// environment, minus the host's `PATH`); the image must contain the
/// executor, and since the agent listens on loopback the executor reaches
/// it only with the `HOST` network.
///
/// # Names, cleanup and orphans
///
/// Mesos names its containers `mesos-<container id>`. Several clusters (and
/// several users) may share one engine, so here every name also carries the
/// containerizer's own tag: `<prefix><container id>` with a prefix such as
/// `mesos-1a2b3c4d-` (see [`DockerContainerizer::name_prefix`]). Only names
/// under that prefix are ever removed:
///
/// - a container is removed (`docker rm -f -v`) as soon as it has exited and
///   its output has been copied, so `docker ps -a` shows nothing of ended
///   tasks;
/// - `SIGKILL` through [`Container::signal`] (what the agent sends every
///   container when a cluster is dropped) is a `docker rm -f` spawned on
///   the runtime (bounded blocking without one), and
///   [`Containerizer::destroy_all`] removes every container still known,
///   then sweeps `docker ps -a --filter name=<prefix>` for stragglers, all
///   bounded by [`DockerContainerizer::with_teardown_timeout`]; a launch in
///   flight at that moment sees the teardown (before and after `docker
///   run`) and removes what it created;
/// - [`Containerizer::recover`] (called when a cluster starts) removes the
///   containers under the prefix that this containerizer does not know:
///   the leftovers of a previous run that crashed with the same, stable,
///   prefix ([`DockerContainerizer::with_name_prefix`]). A generated prefix
///   is new, so there is nothing to recover and no `docker ps` is run.
///
/// ```no_run
/// use std::sync::Arc;
/// use mesos_local::containerizer::DockerContainerizer;
/// use mesos_local::LocalCluster;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// // What `LocalCluster::builder()` uses by default with the `docker` feature;
/// // a stable prefix lets the next run remove what a crashed one left.
/// let docker = DockerContainerizer::new().with_name_prefix("mesos-ci-")?;
/// let cluster = LocalCluster::builder().containerizer(Arc::new(docker)).start().await?;
/// # drop(cluster); Ok(()) }
/// ```
#[derive(Clone)]
pub struct DockerContainerizer {
    docker: Docker,
    fallback: Arc<dyn Containerizer>,
    prefix: String,
    /// The prefix was chosen (stable), not generated.
    stable_prefix: bool,
    /// Names of the containers launched (or being launched) and not
    /// removed, and the teardown generation.
    live: Arc<Mutex<Live>>,
    /// The bound of [`Containerizer::destroy_all`].
    teardown_timeout: Duration,
    /// Images this containerizer found present (or pulled): their next
    /// launches skip the `docker image inspect` (see `start`).
    present_images: Arc<Mutex<HashSet<String>>>,
}

impl std::fmt::Debug for DockerContainerizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerContainerizer")
            .field("docker", &self.docker)
            .field("prefix", &self.prefix)
            .field("live", &self.live_names().len())
            .finish_non_exhaustive()
    }
}

impl Default for DockerContainerizer {
    fn default() -> Self {
        DockerContainerizer::new()
    }
}

impl DockerContainerizer {
    /// `docker` from `PATH` on the default engine (its image checks and
    /// inspects through the Engine API on the engine's unix socket, the CLI
    /// their fallback: [`Docker::with_engine_api`]), the
    /// [`ProcessContainerizer`] for everything that is not Docker, and a
    /// fresh name prefix `mesos-<8 hex digits>-`.
    pub fn new() -> DockerContainerizer {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        DockerContainerizer {
            docker: Docker::default().with_engine_api(),
            fallback: Arc::new(ProcessContainerizer::new()),
            prefix: format!("mesos-{}-", &tag[..8]),
            stable_prefix: false,
            live: Arc::default(),
            teardown_timeout: DEFAULT_TEARDOWN_TIMEOUT,
            present_images: Arc::default(),
        }
    }

    /// Bounds how long [`Containerizer::destroy_all`] (run by `Drop` of a
    /// cluster) waits for the docker CLI to remove the remaining
    /// containers ([`DEFAULT_TEARDOWN_TIMEOUT`] by default). Past it, the
    /// CLI is killed, the failure logged, and what is left is for the next
    /// [`Containerizer::recover`] under the same (stable) prefix.
    #[must_use]
    pub fn with_teardown_timeout(mut self, timeout: Duration) -> DockerContainerizer {
        self.teardown_timeout = timeout;
        self
    }

    /// Uses this Docker CLI / engine (e.g. with its own
    /// [`Docker::with_pull_timeout`]: a `docker pull` is killed after
    /// [`mesos_docker::docker::DEFAULT_PULL_TIMEOUT`] by default).
    #[must_use]
    pub fn with_docker(mut self, docker: Docker) -> DockerContainerizer {
        self.docker = docker;
        self
    }

    /// Hands non-Docker launches to `fallback` instead of a
    /// [`ProcessContainerizer`].
    #[must_use]
    pub fn with_fallback(mut self, fallback: Arc<dyn Containerizer>) -> DockerContainerizer {
        self.fallback = fallback;
        self
    }

    /// A per-cluster prefix chosen by the cluster (not stable: nothing to
    /// recover).
    pub(crate) fn with_generated_prefix(mut self, prefix: String) -> DockerContainerizer {
        self.prefix = prefix;
        self.stable_prefix = false;
        self
    }

    /// Names containers `<prefix><container id>`. The prefix must start
    /// with `mesos-` and may only hold what Docker allows in names
    /// (`[a-zA-Z0-9_.-]`). A stable prefix makes [`Containerizer::recover`]
    /// remove the containers a previous run under the same prefix left;
    /// never share one prefix between clusters that run at the same time.
    pub fn with_name_prefix(
        mut self,
        prefix: impl Into<String>,
    ) -> Result<DockerContainerizer, ContainerizerError> {
        let prefix = prefix.into();
        validate_prefix(&prefix)?;
        self.prefix = prefix;
        self.stable_prefix = true;
        Ok(self)
    }

    /// The prefix of every container name (`mesos-1a2b3c4d-`); nothing
    /// outside it is ever touched.
    pub fn name_prefix(&self) -> &str {
        &self.prefix
    }

    /// The Docker name of the container `container_id`.
    pub fn container_name(&self, container_id: &str) -> String {
        format!("{}{container_id}", self.prefix)
    }

    /// The Docker CLI.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// The names of the containers launched (or being launched) and not
    /// removed yet.
    pub fn live_names(&self) -> Vec<String> {
        let mut names: Vec<String> = lock(&self.live).names.iter().cloned().collect();
        names.sort();
        names
    }

    async fn launch_docker(
        &self,
        request: LaunchRequest,
    ) -> Result<Box<dyn Container>, ContainerizerError> {
        let container_id = request.container_id.value.clone();
        let name = self.container_name(&container_id);
        let info = request.container.clone().unwrap_or_default();
        // The agent's environment minus what belongs to the host: the
        // image's own PATH applies inside the container.
        let mut env = request.environment.clone();
        env.remove("PATH");
        let sandbox_dir = request.sandbox.display().to_string();
        let context = RunContext {
            container_name: &name,
            sandbox_dir: &sandbox_dir,
            mapped_dir: mesos_docker::spec::DEFAULT_MAPPED_DIRECTORY,
            env: &env,
            enable_cfs_quota: false,
            default_dns: None,
        };
        let spec = match (request.kind, &request.task) {
            (LaunchKind::CommandTask, Some(task)) => RunSpec::from_task_in(task, &context),
            _ => RunSpec::create(
                &info,
                Some(&request.command),
                &Resources::from(request.resources.clone()),
                &BTreeMap::new(),
                &context,
            ),
        }
        .map_err(|e| ContainerizerError::Unsupported(e.to_string()))?;
        let force_pull = info
            .docker
            .as_ref()
            .and_then(|d| d.force_pull_image)
            .unwrap_or(false);

        let generation = {
            let mut live = lock(&self.live);
            live.names.insert(name.clone());
            live.attempted = true;
            live.generation
        };
        let torn_down = || lock(&self.live).generation != generation;
        let started = self
            .start(&spec, &request.sandbox, force_pull, &torn_down)
            .await
            .and_then(|started| {
                // A teardown ran while this launch was in flight: what it
                // created is removed below instead of being handed out.
                if torn_down() {
                    Err("the containerizer was torn down during the launch".to_string())
                } else {
                    Ok(started)
                }
            });
        match started {
            Ok((state, logs)) => {
                let killed = Arc::new(AtomicBool::new(false));
                let (tx, rx) = watch::channel(None);
                tracing::info!(
                    container_id,
                    container = name,
                    image = spec.image,
                    pid = state.as_ref().and_then(|s| s.pid),
                    ip = state.as_ref().and_then(|s| s.ip_address.clone()),
                    "docker container launched"
                );
                tokio::spawn(watch_container(
                    self.docker.clone(),
                    name.clone(),
                    logs,
                    killed.clone(),
                    self.live.clone(),
                    tx,
                ));
                Ok(Box::new(DockerContainer {
                    id: request.container_id,
                    name,
                    docker: self.docker.clone(),
                    network: info.network_infos.first().cloned().unwrap_or_default(),
                    state,
                    killed,
                    exit: rx,
                }))
            }
            Err(e) => {
                tracing::warn!(container_id, container = name, error = %e, "docker launch failed");
                // `docker run` may have created it before failing
                // (or a teardown ran while it was in flight).
                match self.docker.rm(&name, true).await {
                    Ok(()) | Err(DockerError::NoSuchContainer(_)) => {}
                    Err(e) => {
                        tracing::warn!(container = name, error = %e, "removing the failed container failed")
                    }
                }
                lock(&self.live).names.remove(&name);
                Err(ContainerizerError::Other(e))
            }
        }
    }

    /// Image, `docker run -d`, output into the sandbox, inspect.
    async fn start(
        &self,
        spec: &RunSpec,
        sandbox: &Path,
        force_pull: bool,
        torn_down: &(dyn Fn() -> bool + Sync),
    ) -> Result<(Option<ContainerState>, Option<tokio::process::Child>), String> {
        let teardown = || Err("the containerizer was torn down during the launch".to_string());
        // An image seen present is not inspected again (one docker CLI
        // call less per launch): were it removed meanwhile, `docker run`
        // pulls it itself (its default `--pull=missing`), and a failed run
        // forgets it.
        let known_present = !force_pull && lock(&self.present_images).contains(&spec.image);
        if !known_present {
            self.docker
                .ensure_image(&spec.image, force_pull)
                .await
                .map_err(|e| match e {
                    DockerError::ImageUnavailable { .. } => e.to_string(),
                    other => format!("Failed to make image {} available: {other}", spec.image),
                })?;
            lock(&self.present_images).insert(spec.image.clone());
        }
        if torn_down() {
            return teardown();
        }
        self.docker
            .run_detached(spec)
            .await
            .inspect_err(|_| {
                lock(&self.present_images).remove(&spec.image);
            })
            .map_err(|e| match e {
                DockerError::Failed { status, stderr, .. } => format!(
                    "Failed to run container {} of image {} ({status}): {stderr}",
                    spec.name, spec.image
                ),
                other => format!("Failed to run container {}: {other}", spec.name),
            })?;
        let logs = match self.docker.follow_logs(
            &spec.name,
            &sandbox.join("stdout"),
            &sandbox.join("stderr"),
        ) {
            Ok(child) => Some(child),
            Err(e) => {
                tracing::warn!(container = spec.name, error = %e, "cannot follow the container's output");
                None
            }
        };
        let state = match self.docker.inspect(&spec.name).await {
            Ok(state) => Some(state),
            Err(e) => {
                tracing::warn!(container = spec.name, error = %e, "docker inspect failed");
                None
            }
        };
        Ok((state, logs))
    }
}

fn validate_prefix(prefix: &str) -> Result<(), ContainerizerError> {
    let valid = prefix.starts_with(mesos_docker::CONTAINER_NAME_PREFIX)
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if valid {
        Ok(())
    } else {
        Err(ContainerizerError::Unsupported(format!(
            "invalid Docker name prefix {prefix:?}: it must start with `mesos-` and hold only [a-zA-Z0-9_.-]"
        )))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether a failed `docker rm` only says that the container is gone or
/// going (removed concurrently, e.g. by a `SIGKILL` from the agent).
fn already_gone(error: &DockerError) -> bool {
    match error {
        DockerError::NoSuchContainer(_) => true,
        other => other.stderr().is_some_and(benign),
    }
}

/// Docker's answers that mean "nothing (more) to do".
fn benign(stderr: &str) -> bool {
    let lower = stderr.to_lowercase();
    lower.contains("no such container")
        || lower.contains("is not running")
        || lower.contains("already in progress")
}

#[async_trait]
impl Containerizer for DockerContainerizer {
    async fn launch(
        &self,
        request: LaunchRequest,
    ) -> Result<Box<dyn Container>, ContainerizerError> {
        if is_docker_launch(&request) {
            self.launch_docker(request).await
        } else {
            self.fallback.launch(request).await
        }
    }

    async fn recover(&self) -> Result<(), ContainerizerError> {
        self.fallback.recover().await?;
        if !self.stable_prefix {
            return Ok(());
        }
        let known: HashSet<String> = self
            .live_names()
            .iter()
            .filter_map(|name| mesos_docker::container_id_of(name).map(str::to_string))
            .collect();
        let removed = mesos_docker::recover_orphans_with_prefix(&self.docker, &self.prefix, &known)
            .await
            .map_err(|e| ContainerizerError::Other(format!("recovering Docker containers: {e}")))?;
        if !removed.is_empty() {
            tracing::info!(prefix = self.prefix, ?removed, "removed orphan containers");
        }
        Ok(())
    }

    /// Removes every container still known (`docker rm -f -v`, one CLI
    /// call for all), then sweeps the containers under this prefix that a
    /// launch created after the names were taken; launches still in flight
    /// see the teardown and remove what they create. Bounded: everything
    /// runs as child processes waited for until
    /// [`DockerContainerizer::with_teardown_timeout`] (see the `cli`
    /// module), off the worker through `block_in_place` on a multi-thread
    /// runtime.
    fn destroy_all(&self) {
        let (names, sweep) = {
            let mut live = lock(&self.live);
            live.generation += 1;
            let mut names: Vec<String> = live.names.iter().cloned().collect();
            names.sort();
            (names, std::mem::take(&mut live.attempted))
        };
        if !names.is_empty() {
            tracing::info!(?names, "removing the remaining docker containers");
        }
        let deadline = Instant::now() + self.teardown_timeout;
        cli::blocking(|| cli::remove_all(&self.docker, &names, &self.prefix, sweep, deadline));
        self.fallback.destroy_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        let docker = DockerContainerizer::new();
        assert!(docker.name_prefix().starts_with("mesos-"));
        assert_eq!(docker.name_prefix().len(), "mesos-12345678-".len());
        assert_eq!(
            docker.container_name("c1"),
            format!("{}c1", docker.name_prefix())
        );
        assert_ne!(
            DockerContainerizer::new().name_prefix(),
            docker.name_prefix()
        );
        let stable = DockerContainerizer::new()
            .with_name_prefix("mesos-ci.1_x-")
            .unwrap();
        assert_eq!(stable.container_name("c1"), "mesos-ci.1_x-c1");
        for bad in ["ci-", "mesos", "mesos-a b", "mesos-ü", "mesos-/x"] {
            assert!(
                DockerContainerizer::new().with_name_prefix(bad).is_err(),
                "{bad}"
            );
        }
    }
}
