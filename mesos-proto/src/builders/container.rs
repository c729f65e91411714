//! `ContainerInfo`.

use crate::v1::container_info::docker_info::Network;
use crate::v1::container_info::{DockerInfo, MesosInfo, Type as ContainerType};
use crate::v1::volume::Mode;
use crate::v1::{image, ContainerInfo, Image, NetworkInfo, Volume};

use super::checks::{non_empty_if_set, require};
use super::{BuildError, IntoMessage};

const MESSAGE: &str = "ContainerInfo";

#[derive(Debug, Clone, PartialEq)]
enum Containerizer {
    Docker(Result<DockerInfo, BuildError>),
    Mesos { image: Option<String> },
}

/// Builds a [`ContainerInfo`]: which containerizer runs the task and with
/// what volumes, hostname and networks.
///
/// ```
/// use mesos_proto::builders::{ContainerInfoBuilder, DockerInfoBuilder, DockerNetwork, VolumeMode};
/// let container = ContainerInfoBuilder::docker(
///         DockerInfoBuilder::new("postgres:16").network(DockerNetwork::User),
///     )
///     .network("backend")
///     .volume("/var/lib/postgresql/data", "/srv/pg", VolumeMode::Rw)
///     .build()?;
/// assert_eq!(container.network_infos[0].name.as_deref(), Some("backend"));
///
/// // The USER network needs a network name.
/// let error = ContainerInfoBuilder::docker(
///         DockerInfoBuilder::new("postgres:16").network(DockerNetwork::User),
///     )
///     .build()
///     .unwrap_err();
/// assert_eq!(error.field(), "network_infos");
/// # Ok::<(), mesos_proto::builders::BuildError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a builder does nothing until `.build()` is called"]
pub struct ContainerInfoBuilder {
    containerizer: Containerizer,
    volumes: Vec<Volume>,
    hostname: Option<String>,
    networks: Vec<String>,
}

impl ContainerInfoBuilder {
    fn with(containerizer: Containerizer) -> Self {
        ContainerInfoBuilder {
            containerizer,
            volumes: Vec::new(),
            hostname: None,
            networks: Vec::new(),
        }
    }

    /// A container of type DOCKER, run by the Docker containerizer.
    pub fn docker(docker: impl IntoMessage<DockerInfo>) -> Self {
        Self::with(Containerizer::Docker(docker.into_message()))
    }

    /// A container of type MESOS (the Mesos containerizer) without an image:
    /// the task runs in the agent's root filesystem.
    pub fn mesos() -> Self {
        Self::with(Containerizer::Mesos { image: None })
    }

    /// A container of type MESOS running the Docker image `image` (the
    /// Mesos containerizer's "unified" image support; no Docker daemon).
    pub fn mesos_with_docker_image(image: impl Into<String>) -> Self {
        Self::with(Containerizer::Mesos {
            image: Some(image.into()),
        })
    }

    /// Mounts `host_path` (absolute, or relative to the sandbox) at
    /// `container_path`.
    pub fn volume(
        mut self,
        container_path: impl Into<String>,
        host_path: impl Into<String>,
        mode: Mode,
    ) -> Self {
        self.volumes.push(Volume {
            mode: mode as i32,
            container_path: container_path.into(),
            host_path: Some(host_path.into()),
            image: None,
            source: None,
        });
        self
    }

    /// Sets the container's hostname.
    pub fn hostname(mut self, hostname: impl Into<String>) -> Self {
        self.hostname = Some(hostname.into());
        self
    }

    /// Joins the named network (a Docker user-defined network for the USER
    /// network mode, or a CNI network for the Mesos containerizer).
    pub fn network(mut self, name: impl Into<String>) -> Self {
        self.networks.push(name.into());
        self
    }

    /// Validates and builds the `ContainerInfo`.
    ///
    /// Errors: any error of the `DockerInfo`; the USER Docker network without
    /// exactly one network name, or a network name with another Docker
    /// network mode; an empty volume path, hostname, network name or image.
    pub fn build(self) -> Result<ContainerInfo, BuildError> {
        non_empty_if_set(MESSAGE, "hostname", self.hostname.as_deref())?;
        if self.networks.iter().any(String::is_empty) {
            return Err(BuildError::invalid(
                MESSAGE,
                "network_infos",
                "a network name is empty",
            ));
        }
        for volume in &self.volumes {
            require("Volume", "container_path", &volume.container_path)?;
            require(
                "Volume",
                "host_path",
                volume.host_path.as_deref().unwrap_or(""),
            )?;
        }
        let (kind, docker, mesos) = match self.containerizer {
            Containerizer::Docker(docker) => {
                let docker = docker?;
                check_docker_networks(&docker, &self.networks)?;
                (ContainerType::Docker, Some(docker), None)
            }
            Containerizer::Mesos { image } => {
                if let Some(name) = &image {
                    require("Image.Docker", "name", name)?;
                }
                let mesos = MesosInfo {
                    image: image.map(docker_image),
                };
                (ContainerType::Mesos, None, Some(mesos))
            }
        };
        Ok(ContainerInfo {
            r#type: kind as i32,
            volumes: self.volumes,
            hostname: self.hostname,
            docker,
            mesos,
            network_infos: self.networks.into_iter().map(named_network).collect(),
            linux_info: None,
            rlimit_info: None,
            tty_info: None,
        })
    }
}

fn check_docker_networks(docker: &DockerInfo, networks: &[String]) -> Result<(), BuildError> {
    let user = docker.network == Some(Network::User as i32);
    match (user, networks.len()) {
        (true, 1) | (false, 0) => Ok(()),
        (true, 0) => Err(BuildError::invalid(
            MESSAGE,
            "network_infos",
            "the USER Docker network needs a network name: call `.network(name)`",
        )),
        (true, _) => Err(BuildError::invalid(
            MESSAGE,
            "network_infos",
            "a Docker container joins at most one user-defined network",
        )),
        (false, _) => Err(BuildError::invalid(
            MESSAGE,
            "network_infos",
            "a network name needs the USER Docker network",
        )),
    }
}

fn named_network(name: String) -> NetworkInfo {
    NetworkInfo {
        ip_addresses: Vec::new(),
        name: Some(name),
        groups: Vec::new(),
        labels: None,
        port_mappings: Vec::new(),
    }
}

#[allow(deprecated)]
fn docker_image(name: String) -> Image {
    Image {
        r#type: image::Type::Docker as i32,
        appc: None,
        docker: Some(image::Docker {
            name,
            credential: None,
            config: None,
        }),
        cached: None,
    }
}

impl IntoMessage<ContainerInfo> for ContainerInfoBuilder {
    fn into_message(self) -> Result<ContainerInfo, BuildError> {
        self.build()
    }
}
