//! The `docker run` command line of a task, built field for field as Mesos
//! 1.11 builds it (`Docker::RunOptions::create` and `Docker::run` in
//! upstream `src/docker/docker.cpp`).

use std::collections::BTreeMap;
use std::path::Path;

use mesos_proto::v1::container_info::Type as ContainerType;
use mesos_proto::v1::{CommandInfo, ContainerInfo, TaskInfo};
use mesos_proto::Resources;
use serde::Deserialize;

/// Where the sandbox is mounted inside a container unless told otherwise
/// (the agent's `--docker_mesos_image`-less default, `--sandbox_directory`).
pub const DEFAULT_MAPPED_DIRECTORY: &str = "/mnt/mesos/sandbox";
/// `--cpu-shares` per CPU.
pub const CPU_SHARES_PER_CPU: f64 = 1024.0;
/// The smallest `--cpu-shares` Mesos passes.
pub const MIN_CPU_SHARES: u64 = 2;
/// The smallest `--memory` Mesos passes: 32 MB.
pub const MIN_MEMORY_BYTES: u64 = 32 * 1024 * 1024;
/// The CFS period (100 ms) in microseconds.
pub const CPU_CFS_PERIOD_US: f64 = 100_000.0;
/// The smallest `--cpu-quota` Mesos passes, in microseconds.
pub const MIN_CPU_CFS_QUOTA_US: u64 = 1_000;

const MEGABYTE: f64 = 1024.0 * 1024.0;

/// Why a task cannot be turned into a `docker run` command line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// `TaskInfo.container` is missing.
    #[error("the task has no ContainerInfo")]
    NoContainer,
    /// The `ContainerInfo` is not of type DOCKER or has no `DockerInfo`.
    #[error("the ContainerInfo is not a DOCKER container with a DockerInfo")]
    NoDockerInfo,
    /// `DockerInfo.image` is empty.
    #[error("DockerInfo.image is empty: a Docker task needs an image")]
    MissingImage,
    /// The network mode cannot be used as given.
    #[error("invalid network: {0}")]
    InvalidNetwork(String),
    /// A port mapping is not allowed.
    #[error("invalid port mapping: {0}")]
    InvalidPortMapping(String),
    /// A volume cannot be mounted.
    #[error("invalid volume {container_path:?}: {reason}")]
    InvalidVolume {
        /// The volume's `container_path`.
        container_path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The `CommandInfo` cannot be run.
    #[error("invalid command: {0}")]
    InvalidCommand(String),
    /// A `DockerInfo.parameters` entry cannot become an option.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
}

/// One `-p host:container[/protocol]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortMapping {
    /// The agent's port (one of the task's `ports`).
    pub host_port: u32,
    /// The port inside the container.
    pub container_port: u32,
    /// `tcp`, `udp`, `sctp`; Docker's default (tcp) when `None`.
    pub protocol: Option<String>,
}

/// The agent's `--default_container_dns` (a JSON `ContainerDNSInfo`), as
/// far as Docker containers are concerned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ContainerDns {
    /// DNS settings per Docker network mode.
    #[serde(default)]
    pub docker: Vec<DockerDns>,
}

/// One entry of [`ContainerDns::docker`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct DockerDns {
    /// `HOST`, `BRIDGE` or `USER`.
    #[serde(default)]
    pub network_mode: String,
    /// For `USER`: the network it applies to (none: every user network).
    #[serde(default)]
    pub network_name: Option<String>,
    /// The DNS settings.
    #[serde(default)]
    pub dns: DnsConfig,
}

/// Name servers, search domains and resolver options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct DnsConfig {
    /// `--dns`.
    #[serde(default)]
    pub nameservers: Vec<String>,
    /// `--dns-search`.
    #[serde(default)]
    pub search: Vec<String>,
    /// `--dns-opt`.
    #[serde(default)]
    pub options: Vec<String>,
}

/// The inputs of [`RunSpec::from_task_in`] besides the task.
#[derive(Debug, Clone, Copy)]
pub struct RunContext<'a> {
    /// `--name` (Mesos: `mesos-<container id>`).
    pub container_name: &'a str,
    /// The sandbox on the host.
    pub sandbox_dir: &'a str,
    /// Where the sandbox appears in the container ([`DEFAULT_MAPPED_DIRECTORY`]).
    pub mapped_dir: &'a str,
    /// Environment given by the agent (`--task_environment`); it wins over
    /// the task's `CommandInfo.environment`.
    pub env: &'a BTreeMap<String, String>,
    /// `--cgroups_enable_cfs`: also pass `--cpu-quota` from the CPU request.
    pub enable_cfs_quota: bool,
    /// `--default_container_dns`.
    pub default_dns: Option<&'a ContainerDns>,
}

/// A `docker run` invocation: everything Mesos derives from a task's
/// `ContainerInfo`, `DockerInfo`, `CommandInfo`, resources and environment.
///
/// [`args`](RunSpec::args) renders it (without the `docker -H ...` prefix,
/// and attached: [`Docker::run_detached`](crate::Docker::run_detached) adds
/// `-d`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunSpec {
    /// `--name`.
    pub name: String,
    /// The image.
    pub image: String,
    /// `--privileged`.
    pub privileged: bool,
    /// `--cpu-shares`: cpus × 1024 (at least 2).
    pub cpu_shares: Option<u64>,
    /// `--cpu-quota` in µs per 100 ms period.
    pub cpu_quota: Option<u64>,
    /// `--memory-reservation` in bytes (with a memory limit only).
    pub memory_reservation: Option<u64>,
    /// `--memory` in bytes: mem MB × 2²⁰ (at least 32 MB).
    pub memory: Option<u64>,
    /// `-e NAME=VALUE`, sorted by name (Mesos keeps them in a `std::map`).
    pub env: BTreeMap<String, String>,
    /// `-v host:container[:ro|rw]` (the sandbox mount last).
    pub volumes: Vec<String>,
    /// `--volume-driver`.
    pub volume_driver: Option<String>,
    /// `--net`: `host`, `bridge`, `none` or a user network name.
    pub network: String,
    /// `--dns`.
    pub dns: Vec<String>,
    /// `--dns-search`.
    pub dns_search: Vec<String>,
    /// `--dns-opt`.
    pub dns_opt: Vec<String>,
    /// `--hostname`.
    pub hostname: Option<String>,
    /// `-p`.
    pub port_mappings: Vec<PortMapping>,
    /// `--entrypoint` (`/bin/sh` for shell commands).
    pub entrypoint: Option<String>,
    /// `DockerInfo.parameters` as `--key=value`.
    pub extra_options: Vec<String>,
    /// What follows the image: `-c <value>` for shell commands, else the
    /// command value and arguments (appended to the image's entrypoint).
    pub arguments: Vec<String>,
}

impl RunSpec {
    /// The `docker run` of `task`, named `container_name`, with the host
    /// sandbox `sandbox_dir` mounted at `mapped_dir`, and the agent-given
    /// environment `env`. No CFS quota, no default DNS: see
    /// [`from_task_in`](RunSpec::from_task_in).
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use mesos_docker::RunSpec;
    /// use mesos_proto::builders::{CommandInfoBuilder, DockerInfoBuilder, DockerNetwork};
    /// use mesos_proto::v1::TaskInfo;
    ///
    /// let task = TaskInfo::builder("web", "web-1")
    ///     .agent_id("agent-1")
    ///     .cpus(1.0)
    ///     .mem(128.0)
    ///     .command(CommandInfoBuilder::entrypoint())
    ///     .container(DockerInfoBuilder::new("nginx:1.27").network(DockerNetwork::Bridge))
    ///     .build()?;
    /// let spec = RunSpec::from_task(&task, "mesos-c1", "/sandbox", "/mnt/mesos/sandbox", &BTreeMap::new())?;
    /// assert_eq!(spec.args(), [
    ///     "run", "--cpu-shares=1024", "--memory=134217728",
    ///     "-e", "MESOS_CONTAINER_NAME=mesos-c1", "-e", "MESOS_SANDBOX=/mnt/mesos/sandbox",
    ///     "-v", "/sandbox:/mnt/mesos/sandbox", "--net=bridge", "--name=mesos-c1", "nginx:1.27",
    /// ]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_task(
        task: &TaskInfo,
        container_name: &str,
        sandbox_dir: &str,
        mapped_dir: &str,
        env: &BTreeMap<String, String>,
    ) -> Result<RunSpec, SpecError> {
        Self::from_task_in(
            task,
            &RunContext {
                container_name,
                sandbox_dir,
                mapped_dir,
                env,
                enable_cfs_quota: false,
                default_dns: None,
            },
        )
    }

    /// Like [`from_task`](RunSpec::from_task) with every agent setting.
    /// The resources are the task's plus its executor's, as the Docker
    /// executor passes them; the task's `limits` give `--cpu-quota` and
    /// `--memory` (with `--memory-reservation` from the request).
    pub fn from_task_in(task: &TaskInfo, ctx: &RunContext<'_>) -> Result<RunSpec, SpecError> {
        let container = task.container.as_ref().ok_or(SpecError::NoContainer)?;
        let mut resources: Resources = task.resources.clone().into();
        if let Some(executor) = &task.executor {
            resources += Resources::from(executor.resources.clone());
        }
        let limits: BTreeMap<String, f64> = task
            .limits
            .iter()
            .map(|(name, scalar)| (name.clone(), scalar.value))
            .collect();
        Self::create(container, task.command.as_ref(), &resources, &limits, ctx)
    }

    /// The general form: a `ContainerInfo`, the command (none: the image's
    /// entrypoint and cmd), the resources and resource limits (by name).
    pub fn create(
        container: &ContainerInfo,
        command: Option<&CommandInfo>,
        resources: &Resources,
        limits: &BTreeMap<String, f64>,
        ctx: &RunContext<'_>,
    ) -> Result<RunSpec, SpecError> {
        if container.r#type != ContainerType::Docker as i32 {
            return Err(SpecError::NoDockerInfo);
        }
        let docker = container.docker.as_ref().ok_or(SpecError::NoDockerInfo)?;
        if docker.image.trim().is_empty() {
            return Err(SpecError::MissingImage);
        }
        let mut spec = RunSpec {
            name: ctx.container_name.to_string(),
            image: docker.image.clone(),
            privileged: docker.privileged.unwrap_or(false),
            ..RunSpec::default()
        };
        spec.apply_resources(resources, limits, ctx.enable_cfs_quota);

        // Environment: the agent's first, then the command's unless the
        // agent already set the name, then Mesos's own.
        spec.env = ctx.env.clone();
        if let Some(environment) = command.and_then(|c| c.environment.as_ref()) {
            for variable in &environment.variables {
                if !ctx.env.contains_key(&variable.name) {
                    spec.env.insert(
                        variable.name.clone(),
                        variable.value.clone().unwrap_or_default(),
                    );
                }
            }
        }
        spec.env
            .insert("MESOS_SANDBOX".into(), ctx.mapped_dir.to_string());
        spec.env.insert(
            "MESOS_CONTAINER_NAME".into(),
            ctx.container_name.to_string(),
        );
        if let Some(role) = resources
            .iter()
            .next()
            .and_then(|r| r.allocation_info.as_ref())
        {
            spec.env.insert(
                "MESOS_ALLOCATION_ROLE".into(),
                role.role.clone().unwrap_or_default(),
            );
        }

        spec.apply_volumes(container, ctx)?;
        // Deprecated in Mesos 1.0 but still honoured by 1.11.
        #[allow(deprecated)]
        if let Some(driver) = docker.volume_driver.as_ref() {
            if spec.volume_driver.as_ref().is_some_and(|d| d != driver) {
                return Err(SpecError::InvalidVolume {
                    container_path: String::new(),
                    reason: "only one volume driver per task is supported".into(),
                });
            }
            spec.volume_driver = Some(driver.clone());
        }

        spec.apply_network(container)?;
        spec.apply_port_mappings(container, resources)?;

        let mut dns_given = false;
        for parameter in &docker.parameters {
            if parameter.key.is_empty() {
                return Err(SpecError::InvalidParameter(
                    "a parameter has an empty key".into(),
                ));
            }
            spec.extra_options
                .push(format!("--{}={}", parameter.key, parameter.value));
            dns_given |= matches!(
                parameter.key.as_str(),
                "dns" | "dns-search" | "dns-opt" | "dns-option"
            );
        }
        if !dns_given {
            if let Some(dns) = ctx.default_dns {
                spec.apply_default_dns(dns, docker.network);
            }
        }

        spec.apply_command(command)?;
        Ok(spec)
    }

    /// The arguments of `docker run` (starting with `run`, without the
    /// `docker -H <socket>` prefix), in Mesos's order. Options that take a
    /// value are written `--option=value`; `-e`, `-v` and `-p` are followed
    /// by their value as a separate argument.
    pub fn args(&self) -> Vec<String> {
        let mut args: Vec<String> = vec!["run".into()];
        if self.privileged {
            args.push("--privileged".into());
        }
        let mut option = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                args.push(format!("--{name}={value}"));
            }
        };
        option("cpu-shares", self.cpu_shares.map(|v| v.to_string()));
        option("cpu-quota", self.cpu_quota.map(|v| v.to_string()));
        option(
            "memory-reservation",
            self.memory_reservation.map(|v| v.to_string()),
        );
        option("memory", self.memory.map(|v| v.to_string()));
        for (name, value) in &self.env {
            args.push("-e".into());
            args.push(format!("{name}={value}"));
        }
        for volume in &self.volumes {
            args.push("-v".into());
            args.push(volume.clone());
        }
        if let Some(driver) = &self.volume_driver {
            args.push(format!("--volume-driver={driver}"));
        }
        if !self.network.is_empty() {
            args.push(format!("--net={}", self.network));
        }
        for dns in &self.dns {
            args.push(format!("--dns={dns}"));
        }
        for search in &self.dns_search {
            args.push(format!("--dns-search={search}"));
        }
        for opt in &self.dns_opt {
            args.push(format!("--dns-opt={opt}"));
        }
        if let Some(hostname) = &self.hostname {
            args.push(format!("--hostname={hostname}"));
        }
        for mapping in &self.port_mappings {
            args.push("-p".into());
            let mut text = format!("{}:{}", mapping.host_port, mapping.container_port);
            if let Some(protocol) = &mapping.protocol {
                text.push('/');
                text.push_str(protocol);
            }
            args.push(text);
        }
        if let Some(entrypoint) = &self.entrypoint {
            args.push(format!("--entrypoint={entrypoint}"));
        }
        if !self.name.is_empty() {
            args.push(format!("--name={}", self.name));
        }
        args.extend(self.extra_options.iter().cloned());
        args.push(self.image.clone());
        args.extend(self.arguments.iter().cloned());
        args
    }
}

/// `relative` under `base`, with one `/` between them.
fn join(base: &str, relative: &str) -> String {
    if base.ends_with('/') {
        format!("{base}{relative}")
    } else {
        format!("{base}/{relative}")
    }
}

mod apply;
#[cfg(test)]
mod tests;
