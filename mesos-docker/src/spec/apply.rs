//! How each part of a task's `ContainerInfo` and resources becomes
//! `docker run` options: resources and limits, volumes, the network and
//! port mappings, the default DNS, the command.

use std::collections::BTreeMap;

use mesos_proto::v1::container_info::docker_info::Network;
use mesos_proto::v1::volume::source::Type as SourceType;
use mesos_proto::v1::volume::Mode;
use mesos_proto::v1::{CommandInfo, ContainerInfo};
use mesos_proto::Resources;

use super::*;

impl RunSpec {
    pub(super) fn apply_resources(
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

    pub(super) fn apply_volumes(
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

    pub(super) fn apply_network(&mut self, container: &ContainerInfo) -> Result<(), SpecError> {
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

    pub(super) fn apply_port_mappings(
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

    pub(super) fn apply_default_dns(&mut self, dns: &ContainerDns, network: Option<i32>) {
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

    pub(super) fn apply_command(&mut self, command: Option<&CommandInfo>) -> Result<(), SpecError> {
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
}
