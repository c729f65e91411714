//! The `docker run` command line of a task, built field for field as Mesos
//! 1.11 builds it (`Docker::RunOptions::create` and `Docker::run` in
//! upstream `src/docker/docker.cpp`).

use std::collections::BTreeMap;
use std::path::Path;

use mesos_proto::v1::container_info::docker_info::Network;
use mesos_proto::v1::container_info::Type as ContainerType;
use mesos_proto::v1::volume::source::Type as SourceType;
use mesos_proto::v1::volume::Mode;
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

    fn apply_resources(
        &mut self,
        resources: &Resources,
        limits: &BTreeMap<String, f64>,
        enable_cfs_quota: bool,
    ) {
        let cpus = resources.cpus();
        let mem = resources.mem().map(|mb| (mb * MEGABYTE) as u64);
        if let Some(cpus) = cpus {
            self.cpu_shares = Some(((CPU_SHARES_PER_CPU * cpus) as u64).max(MIN_CPU_SHARES));
        }
        let quota = |cpus: f64| ((CPU_CFS_PERIOD_US * cpus) as u64).max(MIN_CPU_CFS_QUOTA_US);
        match (limits.get("cpus"), cpus) {
            (Some(limit), _) if limit.is_finite() => self.cpu_quota = Some(quota(*limit)),
            (Some(_), _) => {}
            (None, Some(cpus)) if enable_cfs_quota => self.cpu_quota = Some(quota(cpus)),
            (None, _) => {}
        }
        match limits.get("mem") {
            Some(limit) => {
                if limit.is_finite() {
                    self.memory =
                        Some((((*limit as u64) as f64 * MEGABYTE) as u64).max(MIN_MEMORY_BYTES));
                }
                if let Some(request) = mem {
                    self.memory_reservation = Some(request.max(MIN_MEMORY_BYTES));
                }
            }
            None => self.memory = mem.map(|bytes| bytes.max(MIN_MEMORY_BYTES)),
        }
    }

    fn apply_volumes(
        &mut self,
        container: &ContainerInfo,
        ctx: &RunContext<'_>,
    ) -> Result<(), SpecError> {
        #[allow(deprecated)]
        let has_volume_driver = container
            .docker
            .as_ref()
            .is_some_and(|d| d.volume_driver.is_some());
        for volume in &container.volumes {
            let invalid = |reason: &str| SpecError::InvalidVolume {
                container_path: volume.container_path.clone(),
                reason: reason.to_string(),
            };
            if volume.container_path.is_empty() {
                return Err(invalid("the container path is empty"));
            }
            let container_absolute = Path::new(&volume.container_path).is_absolute();
            let target = if container_absolute {
                volume.container_path.clone()
            } else {
                join(ctx.mapped_dir, &volume.container_path)
            };
            let mode = match Mode::try_from(volume.mode) {
                Ok(Mode::Rw) => "rw",
                Ok(Mode::Ro) => "ro",
                Err(_) => {
                    return Err(invalid(&format!(
                        "unsupported volume mode {} (expected RW or RO)",
                        volume.mode
                    )))
                }
            };
            let source = if let Some(host_path) = &volume.host_path {
                if host_path.is_empty() {
                    return Err(invalid("the host path is empty"));
                }
                let host_absolute = Path::new(host_path).is_absolute();
                if !host_absolute && !container_absolute {
                    return Err(invalid(&format!(
                        "both host_path {host_path:?} and container_path are relative"
                    )));
                }
                if !host_absolute && !has_volume_driver {
                    join(ctx.sandbox_dir, host_path)
                } else {
                    host_path.clone()
                }
            } else if let Some(source) = &volume.source {
                if source.r#type != Some(SourceType::DockerVolume as i32) {
                    tracing::debug!(
                        container_path = volume.container_path,
                        "ignoring a volume whose source is not a DOCKER_VOLUME"
                    );
                    continue;
                }
                let docker_volume = source
                    .docker_volume
                    .as_ref()
                    .ok_or_else(|| invalid("a DOCKER_VOLUME source without docker_volume"))?;
                if let Some(driver) = &docker_volume.driver {
                    if self.volume_driver.as_ref().is_some_and(|d| d != driver) {
                        return Err(invalid("only one volume driver is supported"));
                    }
                    self.volume_driver = Some(driver.clone());
                }
                docker_volume.name.clone()
            } else {
                return Err(invalid("a host path or a volume source is required"));
            };
            self.volumes.push(format!("{source}:{target}:{mode}"));
        }
        self.volumes
            .push(format!("{}:{}", ctx.sandbox_dir, ctx.mapped_dir));
        Ok(())
    }

    fn apply_network(&mut self, container: &ContainerInfo) -> Result<(), SpecError> {
        let docker = container.docker.as_ref().ok_or(SpecError::NoDockerInfo)?;
        let network = match docker.network {
            None => Network::Host,
            Some(value) => Network::try_from(value)
                .map_err(|_| SpecError::InvalidNetwork(format!("unknown network mode {value}")))?,
        };
        self.network = match network {
            Network::Host => "host".into(),
            Network::Bridge => "bridge".into(),
            Network::None => "none".into(),
            Network::User => {
                let name = match container.network_infos.as_slice() {
                    [] => {
                        return Err(SpecError::InvalidNetwork(
                            "the USER network needs a network name, but ContainerInfo.network_infos is empty".into(),
                        ))
                    }
                    [info] => info.name.clone().unwrap_or_default(),
                    _ => {
                        return Err(SpecError::InvalidNetwork(
                            "a Docker container joins at most one user-defined network".into(),
                        ))
                    }
                };
                if name.is_empty() {
                    return Err(SpecError::InvalidNetwork(
                        "the USER network needs a network name, but the NetworkInfo has none"
                            .into(),
                    ));
                }
                name
            }
        };
        if let Some(hostname) = &container.hostname {
            if self.network == "host" {
                return Err(SpecError::InvalidNetwork(
                    "a hostname cannot be set with the HOST network".into(),
                ));
            }
            self.hostname = Some(hostname.clone());
        }
        Ok(())
    }

    fn apply_port_mappings(
        &mut self,
        container: &ContainerInfo,
        resources: &Resources,
    ) -> Result<(), SpecError> {
        let docker = container.docker.as_ref().ok_or(SpecError::NoDockerInfo)?;
        if docker.port_mappings.is_empty() {
            return Ok(());
        }
        if self.network == "host" || self.network == "none" {
            return Err(SpecError::InvalidNetwork(format!(
                "port mappings need the BRIDGE or USER network, not {}",
                self.network.to_uppercase()
            )));
        }
        let ports = resources.ports();
        if ports.is_empty() {
            return Err(SpecError::InvalidPortMapping(
                "port mappings need `ports` resources".into(),
            ));
        }
        for mapping in &docker.port_mappings {
            let host = u64::from(mapping.host_port);
            if !ports
                .iter()
                .any(|(begin, end)| *begin <= host && host <= *end)
            {
                return Err(SpecError::InvalidPortMapping(format!(
                    "host port {} is not in the task's ports resources {}",
                    mapping.host_port,
                    ports
                        .iter()
                        .map(|(b, e)| format!("[{b}-{e}]"))
                        .collect::<Vec<_>>()
                        .join(",")
                )));
            }
            self.port_mappings.push(PortMapping {
                host_port: mapping.host_port,
                container_port: mapping.container_port,
                protocol: mapping.protocol.as_ref().map(|p| p.to_lowercase()),
            });
        }
        Ok(())
    }

    fn apply_default_dns(&mut self, dns: &ContainerDns, network: Option<i32>) {
        let mut bridge = None;
        let mut default_user = None;
        let mut by_name = BTreeMap::new();
        for info in &dns.docker {
            match info.network_mode.as_str() {
                "BRIDGE" => bridge = Some(info),
                "USER" => match &info.network_name {
                    None => default_user = Some(info),
                    Some(name) => {
                        by_name.insert(name.clone(), info);
                    }
                },
                _ => {}
            }
        }
        let chosen = if network == Some(Network::Bridge as i32) {
            bridge
        } else if network == Some(Network::User as i32) {
            by_name.get(&self.network).copied().or(default_user)
        } else {
            None
        };
        if let Some(info) = chosen {
            self.dns = info.dns.nameservers.clone();
            self.dns_search = info.dns.search.clone();
            self.dns_opt = info.dns.options.clone();
        }
    }

    fn apply_command(&mut self, command: Option<&CommandInfo>) -> Result<(), SpecError> {
        let Some(command) = command else {
            return Ok(());
        };
        if command.shell() {
            let value = command.value.as_deref().unwrap_or("");
            if command.value.is_none() {
                return Err(SpecError::InvalidCommand(
                    "shell is set but the command has no value".into(),
                ));
            }
            self.entrypoint = Some("/bin/sh".into());
            self.arguments = vec!["-c".into(), value.to_string()];
        } else {
            self.arguments = command
                .value
                .iter()
                .chain(command.arguments.iter())
                .cloned()
                .collect();
        }
        Ok(())
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

fn join(base: &str, relative: &str) -> String {
    if base.ends_with('/') {
        format!("{base}{relative}")
    } else {
        format!("{base}/{relative}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_proto::builders::{
        CommandInfoBuilder, ContainerInfoBuilder, DockerInfoBuilder, DockerNetwork, VolumeMode,
    };
    use mesos_proto::v1::container_info::DockerInfo;
    use mesos_proto::v1::{NetworkInfo, Volume};

    const SANDBOX: &str = "/var/lib/mesos/slaves/S0/sandbox";
    const MAPPED: &str = DEFAULT_MAPPED_DIRECTORY;

    fn base_env() -> Vec<String> {
        vec![
            "-e".into(),
            "MESOS_CONTAINER_NAME=mesos-c1".into(),
            "-e".into(),
            format!("MESOS_SANDBOX={MAPPED}"),
        ]
    }

    fn spec(task: &TaskInfo) -> Result<RunSpec, SpecError> {
        RunSpec::from_task(task, "mesos-c1", SANDBOX, MAPPED, &BTreeMap::new())
    }

    fn task_with(
        command: CommandInfoBuilder,
        container: impl mesos_proto::builders::IntoMessage<ContainerInfo>,
    ) -> TaskInfo {
        TaskInfo::builder("t", "t1")
            .agent_id("S0")
            .cpus(1.0)
            .mem(128.0)
            .ports(&[(31000, 31009)])
            .command(command)
            .container(container)
            .build()
            .unwrap()
    }

    /// A task whose ContainerInfo is set raw (to bypass builder validation).
    fn raw_task(container: ContainerInfo) -> TaskInfo {
        let mut task = task_with(
            CommandInfoBuilder::entrypoint(),
            DockerInfoBuilder::new("busybox"),
        );
        task.container = Some(Box::new(container));
        task
    }

    fn docker_container(docker: DockerInfo) -> ContainerInfo {
        ContainerInfo {
            r#type: ContainerType::Docker as i32,
            docker: Some(docker),
            ..Default::default()
        }
    }

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn tutorial_task_exact_argv() {
        let task = task_with(
            CommandInfoBuilder::entrypoint(),
            DockerInfoBuilder::new("mesos-rs-test:busybox").network(DockerNetwork::Bridge),
        );
        let spec = spec(&task).unwrap();
        let mut expected = args(&["run", "--cpu-shares=1024", "--memory=134217728"]);
        expected.extend(base_env());
        expected.extend(args(&[
            "-v",
            &format!("{SANDBOX}:{MAPPED}"),
            "--net=bridge",
            "--name=mesos-c1",
            "mesos-rs-test:busybox",
        ]));
        assert_eq!(spec.args(), expected);
        assert_eq!(
            spec.entrypoint, None,
            "shell=false keeps the image entrypoint"
        );
    }

    #[test]
    fn default_network_is_host_and_small_resources_are_raised() {
        let task = TaskInfo::builder("t", "t1")
            .agent_id("S0")
            .cpus(0.001)
            .mem(1.0)
            .command(CommandInfoBuilder::entrypoint())
            .container(DockerInfoBuilder::new("busybox"))
            .build()
            .unwrap();
        let spec = spec(&task).unwrap();
        assert_eq!(spec.network, "host");
        assert_eq!(spec.cpu_shares, Some(MIN_CPU_SHARES));
        assert_eq!(spec.memory, Some(MIN_MEMORY_BYTES));
        assert!(spec.args().contains(&"--net=host".to_string()));
        let half = TaskInfo::builder("t", "t1")
            .agent_id("S0")
            .cpus(0.5)
            .mem(64.0)
            .command(CommandInfoBuilder::entrypoint())
            .container(DockerInfoBuilder::new("busybox"))
            .build()
            .unwrap();
        let spec = self::spec(&half).unwrap();
        assert_eq!(spec.cpu_shares, Some(512));
        assert_eq!(spec.memory, Some(64 * 1024 * 1024));
    }

    #[test]
    fn environment_agent_wins_then_mesos_variables() {
        let task = task_with(
            CommandInfoBuilder::entrypoint()
                .env("A", "from-command")
                .env("B", "b")
                .env("MESOS_SANDBOX", "ignored"),
            DockerInfoBuilder::new("busybox").network(DockerNetwork::Bridge),
        );
        let agent: BTreeMap<String, String> = [("A".to_string(), "from-agent".to_string())].into();
        let spec = RunSpec::from_task(&task, "mesos-c1", SANDBOX, MAPPED, &agent).unwrap();
        let argv = spec.args();
        let env: Vec<&str> = argv
            .windows(2)
            .filter(|w| w[0] == "-e")
            .map(|w| w[1].as_str())
            .collect();
        assert_eq!(
            env,
            [
                "A=from-agent",
                "B=b",
                "MESOS_CONTAINER_NAME=mesos-c1",
                &format!("MESOS_SANDBOX={MAPPED}"),
            ]
        );
    }

    #[test]
    fn allocation_role_comes_from_the_first_resource() {
        let mut task = task_with(
            CommandInfoBuilder::entrypoint(),
            DockerInfoBuilder::new("busybox"),
        );
        for resource in &mut task.resources {
            resource.allocation_info = Some(mesos_proto::v1::resource::AllocationInfo {
                role: Some("web".into()),
            });
        }
        let spec = spec(&task).unwrap();
        assert_eq!(spec.env["MESOS_ALLOCATION_ROLE"], "web");
    }

    #[test]
    fn volumes_absolute_relative_and_modes() {
        let container = ContainerInfoBuilder::docker(
            DockerInfoBuilder::new("busybox").network(DockerNetwork::Bridge),
        )
        .volume("/data", "/srv/data", VolumeMode::Ro)
        .volume("cache", "/var/cache/app", VolumeMode::Rw)
        .volume("/logs", "logs", VolumeMode::Rw);
        let task = task_with(CommandInfoBuilder::entrypoint(), container);
        let spec = spec(&task).unwrap();
        assert_eq!(
            spec.volumes,
            [
                "/srv/data:/data:ro".to_string(),
                format!("/var/cache/app:{MAPPED}/cache:rw"),
                format!("{SANDBOX}/logs:/logs:rw"),
                format!("{SANDBOX}:{MAPPED}"),
            ]
        );
        let argv = spec.args();
        let volumes: Vec<&str> = argv
            .windows(2)
            .filter(|w| w[0] == "-v")
            .map(|w| w[1].as_str())
            .collect();
        assert_eq!(volumes.len(), 4);
        assert_eq!(volumes[0], "/srv/data:/data:ro");
    }

    #[test]
    fn invalid_volumes_are_refused() {
        let mut container = ContainerInfoBuilder::docker(DockerInfoBuilder::new("busybox"))
            .volume("/data", "/srv", VolumeMode::Rw)
            .build()
            .unwrap();
        container.volumes[0].mode = 7;
        let error = spec(&raw_task(container.clone())).unwrap_err();
        assert!(
            matches!(&error, SpecError::InvalidVolume { reason, .. } if reason.contains("mode")),
            "{error}"
        );
        container.volumes[0] = Volume {
            mode: Mode::Rw as i32,
            container_path: "rel".into(),
            host_path: Some("also-rel".into()),
            image: None,
            source: None,
        };
        assert!(matches!(
            spec(&raw_task(container.clone())),
            Err(SpecError::InvalidVolume { .. })
        ));
        container.volumes[0].host_path = None;
        assert!(matches!(
            spec(&raw_task(container)),
            Err(SpecError::InvalidVolume { .. })
        ));
    }

    #[test]
    fn parameters_privileged_and_port_mappings() {
        let task = task_with(
            CommandInfoBuilder::entrypoint(),
            DockerInfoBuilder::new("nginx")
                .network(DockerNetwork::Bridge)
                .privileged(true)
                .port_mapping(31000, 80)
                .port_mapping_with_protocol(31005, 53, "udp")
                .parameter("memory-swap", "-1")
                .parameter("label", "team=a"),
        );
        let argv = spec(&task).unwrap().args();
        assert_eq!(argv[1], "--privileged");
        let p: Vec<&str> = argv
            .windows(2)
            .filter(|w| w[0] == "-p")
            .map(|w| w[1].as_str())
            .collect();
        assert_eq!(p, ["31000:80", "31005:53/udp"]);
        let tail = &argv[argv.len() - 4..];
        assert_eq!(
            tail,
            [
                "--name=mesos-c1",
                "--memory-swap=-1",
                "--label=team=a",
                "nginx"
            ]
        );
    }

    #[test]
    fn port_outside_the_task_ports_is_refused() {
        let task = task_with(
            CommandInfoBuilder::entrypoint(),
            DockerInfoBuilder::new("nginx")
                .network(DockerNetwork::Bridge)
                .port_mapping(8080, 80),
        );
        let error = spec(&task).unwrap_err();
        assert!(
            matches!(&error, SpecError::InvalidPortMapping(m) if m.contains("8080")),
            "{error}"
        );
        let mut no_ports = task.clone();
        no_ports.resources.retain(|r| r.name != "ports");
        assert!(matches!(
            spec(&no_ports),
            Err(SpecError::InvalidPortMapping(_))
        ));
    }

    #[test]
    fn network_modes_and_their_errors() {
        let mut docker = DockerInfoBuilder::new("busybox").build().unwrap();
        docker.network = Some(Network::User as i32);
        let error = spec(&raw_task(docker_container(docker.clone()))).unwrap_err();
        assert!(matches!(error, SpecError::InvalidNetwork(_)), "{error}");

        let mut user = docker_container(docker.clone());
        user.network_infos.push(NetworkInfo {
            name: Some("backend".into()),
            ..Default::default()
        });
        user.hostname = Some("db".into());
        let spec_user = spec(&raw_task(user)).unwrap();
        assert!(spec_user.args().contains(&"--net=backend".into()));
        assert!(spec_user.args().contains(&"--hostname=db".into()));

        for mode in [Network::Host, Network::None] {
            docker.network = Some(mode as i32);
            docker.port_mappings =
                vec![mesos_proto::v1::container_info::docker_info::PortMapping {
                    host_port: 31000,
                    container_port: 80,
                    protocol: None,
                }];
            let error = spec(&raw_task(docker_container(docker.clone()))).unwrap_err();
            assert!(
                matches!(&error, SpecError::InvalidNetwork(m) if m.contains("BRIDGE or USER")),
                "{error}"
            );
        }
        docker.port_mappings.clear();
        docker.network = Some(Network::Host as i32);
        let mut host = docker_container(docker.clone());
        host.hostname = Some("x".into());
        assert!(matches!(
            spec(&raw_task(host)),
            Err(SpecError::InvalidNetwork(_))
        ));
        docker.network = Some(42);
        assert!(matches!(
            spec(&raw_task(docker_container(docker))),
            Err(SpecError::InvalidNetwork(_))
        ));
    }

    #[test]
    fn missing_image_and_container() {
        let mut docker = DockerInfoBuilder::new("busybox").build().unwrap();
        docker.image = String::new();
        assert_eq!(
            spec(&raw_task(docker_container(docker))),
            Err(SpecError::MissingImage)
        );
        let mut task = raw_task(ContainerInfo::default());
        assert_eq!(spec(&task), Err(SpecError::NoDockerInfo));
        task.container = None;
        assert_eq!(spec(&task), Err(SpecError::NoContainer));
    }

    #[test]
    fn shell_command_overrides_the_entrypoint() {
        let task = task_with(
            CommandInfoBuilder::shell("echo hi && sleep 1"),
            DockerInfoBuilder::new("busybox").network(DockerNetwork::Bridge),
        );
        let argv = spec(&task).unwrap().args();
        let n = argv.len();
        assert_eq!(
            &argv[n - 5..],
            [
                "--entrypoint=/bin/sh",
                "--name=mesos-c1",
                "busybox",
                "-c",
                "echo hi && sleep 1"
            ]
        );
        let mut no_value = task.clone();
        no_value.command.as_mut().unwrap().value = None;
        assert!(matches!(spec(&no_value), Err(SpecError::InvalidCommand(_))));
    }

    #[test]
    fn non_shell_command_appends_value_and_arguments() {
        let mut task = task_with(
            CommandInfoBuilder::entrypoint(),
            DockerInfoBuilder::new("busybox").network(DockerNetwork::Bridge),
        );
        let command = task.command.as_mut().unwrap();
        command.value = Some("echo".into());
        command.arguments = vec!["a".into(), "b c".into()];
        let argv = spec(&task).unwrap().args();
        assert!(!argv.iter().any(|a| a.starts_with("--entrypoint")));
        assert_eq!(&argv[argv.len() - 4..], ["busybox", "echo", "a", "b c"]);
    }

    #[test]
    fn limits_cfs_and_default_dns() {
        let mut task = task_with(
            CommandInfoBuilder::entrypoint(),
            DockerInfoBuilder::new("busybox").network(DockerNetwork::Bridge),
        );
        let dns: ContainerDns = serde_json::from_str(
            r#"{"docker":[{"network_mode":"BRIDGE","dns":{"nameservers":["8.8.8.8"],"search":["example.com"],"options":["ndots:2"]}}]}"#,
        )
        .unwrap();
        let env = BTreeMap::new();
        let ctx = RunContext {
            container_name: "mesos-c1",
            sandbox_dir: SANDBOX,
            mapped_dir: MAPPED,
            env: &env,
            enable_cfs_quota: true,
            default_dns: Some(&dns),
        };
        let spec = RunSpec::from_task_in(&task, &ctx).unwrap();
        assert_eq!(spec.cpu_quota, Some(100_000));
        let argv = spec.args();
        for wanted in [
            "--dns=8.8.8.8",
            "--dns-search=example.com",
            "--dns-opt=ndots:2",
        ] {
            assert!(argv.contains(&wanted.to_string()), "{argv:?}");
        }
        task.limits
            .insert("cpus".into(), mesos_proto::v1::value::Scalar { value: 2.0 });
        task.limits.insert(
            "mem".into(),
            mesos_proto::v1::value::Scalar { value: 256.0 },
        );
        let limited = RunSpec::from_task_in(&task, &ctx).unwrap();
        assert_eq!(limited.cpu_quota, Some(200_000));
        assert_eq!(limited.memory, Some(256 * 1024 * 1024));
        assert_eq!(limited.memory_reservation, Some(128 * 1024 * 1024));
    }
}
