//! `ContainerInfo.DockerInfo`.

use crate::v1::container_info::docker_info::{Network, PortMapping};
use crate::v1::container_info::DockerInfo;
use crate::v1::Parameter;

use super::checks::require;
use super::{BuildError, ContainerInfoBuilder, IntoMessage};

const MESSAGE: &str = "DockerInfo";

/// The port-mapping protocols Docker knows.
const PROTOCOLS: [&str; 3] = ["tcp", "udp", "sctp"];

/// Builds a [`DockerInfo`]: the image and `docker run` options of a
/// container run by the Docker containerizer.
///
/// Pass it to [`TaskInfoBuilder::container`](super::TaskInfoBuilder::container)
/// directly (it becomes a `ContainerInfo` of type DOCKER), or to
/// [`ContainerInfoBuilder::docker`] to add volumes, a hostname or a network
/// name.
///
/// ```
/// use mesos_proto::builders::{DockerInfoBuilder, DockerNetwork};
/// let docker = DockerInfoBuilder::new("nginx:1.27")
///     .network(DockerNetwork::Bridge)
///     .port_mapping(31000, 80)
///     .parameter("memory-swap", "-1")
///     .build()?;
/// assert_eq!(docker.port_mappings[0].container_port, 80);
/// assert_eq!(docker.parameters[0].key, "memory-swap");
/// # Ok::<(), mesos_proto::builders::BuildError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a builder does nothing until `.build()` is called"]
pub struct DockerInfoBuilder {
    docker: DockerInfo,
}

impl DockerInfoBuilder {
    /// Runs `image` (e.g. `"busybox"`, `"registry:5000/app:1.2"`).
    #[allow(deprecated)]
    pub fn new(image: impl Into<String>) -> Self {
        DockerInfoBuilder {
            docker: DockerInfo {
                image: image.into(),
                network: None,
                port_mappings: Vec::new(),
                privileged: None,
                parameters: Vec::new(),
                force_pull_image: None,
                volume_driver: None,
            },
        }
    }

    /// The Docker network mode (Mesos's default is HOST). USER needs a
    /// network name: see [`ContainerInfoBuilder::network`].
    pub fn network(mut self, network: Network) -> Self {
        self.docker.network = Some(network as i32);
        self
    }

    /// Maps `host_port` (usually one of the offer's `ports`) to TCP
    /// `container_port`. Needs the BRIDGE or USER network.
    pub fn port_mapping(self, host_port: u16, container_port: u16) -> Self {
        self.push_port_mapping(host_port, container_port, None)
    }

    /// Like [`port_mapping`](DockerInfoBuilder::port_mapping) for `protocol`
    /// (`"tcp"`, `"udp"` or `"sctp"`).
    pub fn port_mapping_with_protocol(
        self,
        host_port: u16,
        container_port: u16,
        protocol: impl Into<String>,
    ) -> Self {
        self.push_port_mapping(host_port, container_port, Some(protocol.into()))
    }

    fn push_port_mapping(mut self, host: u16, container: u16, protocol: Option<String>) -> Self {
        self.docker.port_mappings.push(PortMapping {
            host_port: u32::from(host),
            container_port: u32::from(container),
            protocol,
        });
        self
    }

    /// Runs the container with `--privileged`.
    pub fn privileged(mut self, privileged: bool) -> Self {
        self.docker.privileged = Some(privileged);
        self
    }

    /// Adds an arbitrary `docker run` option: `key` and `value` become
    /// `--key=value` (so give the key without dashes).
    pub fn parameter(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.docker.parameters.push(Parameter {
            key: key.into(),
            value: value.into(),
        });
        self
    }

    /// Pulls the image even if the agent already has it.
    pub fn force_pull_image(mut self, force: bool) -> Self {
        self.docker.force_pull_image = Some(force);
        self
    }

    /// Validates and builds the `DockerInfo`.
    ///
    /// Errors: an empty image; port mappings without the BRIDGE or USER
    /// network; a container port of 0 or an unknown protocol; a parameter key
    /// that is empty or starts with `-`.
    pub fn build(self) -> Result<DockerInfo, BuildError> {
        let docker = self.docker;
        require(MESSAGE, "image", &docker.image)?;
        check_port_mappings(&docker)?;
        if let Some(parameter) = docker
            .parameters
            .iter()
            .find(|p| p.key.is_empty() || p.key.starts_with('-'))
        {
            return Err(BuildError::invalid(
                MESSAGE,
                "parameters",
                format!(
                    "key `{}` must be a non-empty option name without leading dashes",
                    parameter.key
                ),
            ));
        }
        Ok(docker)
    }
}

fn check_port_mappings(docker: &DockerInfo) -> Result<(), BuildError> {
    if docker.port_mappings.is_empty() {
        return Ok(());
    }
    let network = docker
        .network
        .and_then(|value| Network::try_from(value).ok())
        .unwrap_or(Network::Host);
    if !matches!(network, Network::Bridge | Network::User) {
        return Err(BuildError::invalid(
            MESSAGE,
            "port_mappings",
            format!(
                "port mappings need the BRIDGE or USER network, not {}",
                network.as_str_name()
            ),
        ));
    }
    for mapping in &docker.port_mappings {
        if mapping.container_port == 0 {
            return Err(BuildError::invalid(
                MESSAGE,
                "port_mappings",
                "container port 0 is not a port",
            ));
        }
        if let Some(protocol) = &mapping.protocol {
            if !PROTOCOLS.contains(&protocol.as_str()) {
                return Err(BuildError::invalid(
                    MESSAGE,
                    "port_mappings",
                    format!("protocol `{protocol}` is not one of tcp, udp, sctp"),
                ));
            }
        }
    }
    Ok(())
}

impl IntoMessage<DockerInfo> for DockerInfoBuilder {
    fn into_message(self) -> Result<DockerInfo, BuildError> {
        self.build()
    }
}

impl IntoMessage<crate::v1::ContainerInfo> for DockerInfoBuilder {
    /// A `ContainerInfo` of type DOCKER holding this `DockerInfo`.
    fn into_message(self) -> Result<crate::v1::ContainerInfo, BuildError> {
        ContainerInfoBuilder::docker(self).build()
    }
}
