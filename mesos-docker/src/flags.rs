//! The command line of `mesos-docker-executor`, as the Mesos 1.11 agent
//! writes it (`src/docker/executor.hpp`).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::spec::{ContainerDns, DEFAULT_MAPPED_DIRECTORY};

/// Why the command line cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlagsError {
    /// A required flag is missing.
    #[error("missing required flag --{0}")]
    Missing(&'static str),
    /// A flag's value is malformed.
    #[error("invalid value for --{flag}: {reason}")]
    Invalid {
        /// The flag, without dashes.
        flag: String,
        /// What is wrong.
        reason: String,
    },
    /// A known flag that needs a value has none.
    #[error("flag --{0} needs a value")]
    NoValue(String),
    /// `--help` was given.
    #[error("{}", Flags::usage())]
    Help,
    /// `--version` was given.
    #[error("mesos-docker-executor {}", env!("CARGO_PKG_VERSION"))]
    Version,
}

/// The flags of `mesos-docker-executor`.
///
/// Both `--flag=value` and `--flag value` are accepted, booleans also as
/// `--flag` / `--no-flag`. Unknown flags (e.g. the agent's logging flags,
/// or flags of a newer Mesos) are ignored and reported in
/// [`warnings`](Flags::warnings).
///
/// ```
/// use mesos_docker::Flags;
/// let flags = Flags::parse([
///     "--container=mesos-1234", "--docker=docker", "--docker_socket=/var/run/docker.sock",
///     "--sandbox_directory=/tmp/sandbox", "--mapped_directory=/mnt/mesos/sandbox",
///     "--stop_timeout=0ns", "--task_environment={\"A\":\"1\"}", "--logbufsecs=0",
/// ])?;
/// assert_eq!(flags.container, "mesos-1234");
/// assert_eq!(flags.task_environment["A"], "1");
/// assert_eq!(flags.warnings.len(), 1); // --logbufsecs
/// # Ok::<(), mesos_docker::FlagsError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Flags {
    /// `--container`: the Docker container name (`mesos-<container id>`).
    pub container: String,
    /// `--docker`: the Docker CLI (default `docker`).
    pub docker: String,
    /// `--docker_socket`: the engine's socket (default: Docker's own).
    pub docker_socket: Option<String>,
    /// `--sandbox_directory`: the sandbox on the host (default: the
    /// executor's `MESOS_SANDBOX`/`MESOS_DIRECTORY`, resolved by the binary).
    pub sandbox_directory: Option<String>,
    /// `--mapped_directory`: the sandbox inside the container.
    pub mapped_directory: String,
    /// `--stop_timeout` (deprecated in Mesos 1.0): if longer than the
    /// shutdown grace period, it replaces it.
    pub stop_timeout: Option<Duration>,
    /// `--launcher_dir` (for health checks; unused here).
    pub launcher_dir: Option<String>,
    /// `--task_environment`: a JSON object of variables for the container.
    pub task_environment: BTreeMap<String, String>,
    /// `--default_container_dns`: JSON `ContainerDNSInfo`.
    pub default_container_dns: Option<ContainerDns>,
    /// `--cgroups_enable_cfs`: set `--cpu-quota` from the CPU request.
    pub cgroups_enable_cfs: bool,
    /// What was ignored (unknown flags, stray arguments).
    pub warnings: Vec<String>,
}

const VALUE_FLAGS: &[&str] = &[
    "container",
    "docker",
    "docker_socket",
    "sandbox_directory",
    "mapped_directory",
    "stop_timeout",
    "launcher_dir",
    "task_environment",
    "default_container_dns",
];
const BOOL_FLAGS: &[&str] = &["cgroups_enable_cfs", "help", "version"];

fn parse_bool(flag: &str, value: &str) -> Result<bool, FlagsError> {
    match value {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        other => Err(FlagsError::Invalid {
            flag: flag.into(),
            reason: format!("{other:?} is not a boolean"),
        }),
    }
}

impl Flags {
    /// The `--help` text.
    pub fn usage() -> String {
        "Usage: mesos-docker-executor [options]\n\n\
         --container=VALUE              name of the Docker container to run (required)\n\
         --docker=VALUE                 path of the docker CLI (default: docker)\n\
         --docker_socket=VALUE          the Docker engine's socket (default: docker's own)\n\
         --sandbox_directory=VALUE      the sandbox on the host (default: $MESOS_SANDBOX)\n\
         --mapped_directory=VALUE       the sandbox inside the container (default: /mnt/mesos/sandbox)\n\
         --stop_timeout=VALUE           deprecated grace period for docker stop (e.g. 10secs)\n\
         --launcher_dir=VALUE           directory of the Mesos helpers\n\
         --task_environment=VALUE       JSON object of environment variables for the container\n\
         --default_container_dns=VALUE  JSON ContainerDNSInfo\n\
         --[no-]cgroups_enable_cfs      set --cpu-quota from the CPU request\n\
         --help                         print this help\n\
         --version                      print the version\n\n\
         Unknown flags are ignored with a warning."
            .to_string()
    }

    /// Parses the arguments (without the program name).
    pub fn parse<I, S>(args: I) -> Result<Flags, FlagsError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut flags = Flags {
            container: String::new(),
            docker: "docker".into(),
            docker_socket: None,
            sandbox_directory: None,
            mapped_directory: DEFAULT_MAPPED_DIRECTORY.into(),
            stop_timeout: None,
            launcher_dir: None,
            task_environment: BTreeMap::new(),
            default_container_dns: None,
            cgroups_enable_cfs: false,
            warnings: Vec::new(),
        };
        let mut help = false;
        let mut version = false;
        let mut args = args.into_iter().map(Into::into).peekable();
        while let Some(arg) = args.next() {
            let Some(body) = arg.strip_prefix("--") else {
                flags.warnings.push(format!("ignoring argument {arg:?}"));
                continue;
            };
            let (name, inline) = match body.split_once('=') {
                Some((name, value)) => (name.to_string(), Some(value.to_string())),
                None => (body.to_string(), None),
            };
            if BOOL_FLAGS.contains(&name.as_str()) {
                let value = match inline {
                    Some(value) => parse_bool(&name, &value)?,
                    None => match args.peek().map(|next| parse_bool(&name, next)) {
                        Some(Ok(value)) => {
                            args.next();
                            value
                        }
                        _ => true,
                    },
                };
                match name.as_str() {
                    "help" => help = value,
                    "version" => version = value,
                    _ => flags.cgroups_enable_cfs = value,
                }
                continue;
            }
            if let Some(negated) = name.strip_prefix("no-") {
                if BOOL_FLAGS.contains(&negated) && inline.is_none() {
                    if negated == "cgroups_enable_cfs" {
                        flags.cgroups_enable_cfs = false;
                    }
                    continue;
                }
            }
            if !VALUE_FLAGS.contains(&name.as_str()) {
                // Unknown: take a following non-flag word as its value.
                let value = match inline {
                    Some(value) => Some(value),
                    None if args.peek().is_some_and(|next| !next.starts_with("--")) => args.next(),
                    None => None,
                };
                flags.warnings.push(match value {
                    Some(value) => format!("ignoring unknown flag --{name}={value}"),
                    None => format!("ignoring unknown flag --{name}"),
                });
                continue;
            }
            let value = match inline {
                Some(value) => value,
                None => args
                    .next()
                    .ok_or_else(|| FlagsError::NoValue(name.clone()))?,
            };
            let invalid = |reason: String| FlagsError::Invalid {
                flag: name.clone(),
                reason,
            };
            match name.as_str() {
                "container" => flags.container = value,
                "docker" => flags.docker = value,
                "docker_socket" => flags.docker_socket = Some(value).filter(|v| !v.is_empty()),
                "sandbox_directory" => flags.sandbox_directory = Some(value),
                "mapped_directory" => flags.mapped_directory = value,
                "stop_timeout" => {
                    flags.stop_timeout = Some(
                        mesos_executor::parse_duration(&value)
                            .map_err(|e| invalid(e.to_string()))?,
                    )
                }
                "launcher_dir" => flags.launcher_dir = Some(value),
                "task_environment" => {
                    flags.task_environment = parse_environment(&value).map_err(invalid)?
                }
                "default_container_dns" => {
                    flags.default_container_dns = Some(
                        serde_json::from_str(&value)
                            .map_err(|e| invalid(format!("not a ContainerDNSInfo: {e}")))?,
                    )
                }
                _ => unreachable!("every VALUE_FLAGS entry is handled"),
            }
        }
        if help {
            return Err(FlagsError::Help);
        }
        if version {
            return Err(FlagsError::Version);
        }
        if flags.container.is_empty() {
            return Err(FlagsError::Missing("container"));
        }
        if flags.docker.is_empty() {
            return Err(FlagsError::Missing("docker"));
        }
        Ok(flags)
    }

    /// The grace period of `docker stop` on SHUTDOWN and when the kill
    /// policy gives none: the executor's shutdown grace period
    /// (`MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD`), or `--stop_timeout` when
    /// that is longer (as Mesos does for the deprecated flag).
    pub fn grace_period(&self, shutdown_grace_period: Duration) -> Duration {
        match self.stop_timeout {
            Some(stop) if stop > shutdown_grace_period => stop,
            _ => shutdown_grace_period,
        }
    }
}

/// `--task_environment`: a JSON object whose values are strings (numbers
/// and booleans are accepted and written as JSON).
fn parse_environment(text: &str) -> Result<BTreeMap<String, String>, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let object = value
        .as_object()
        .ok_or_else(|| "not a JSON object".to_string())?;
    object
        .iter()
        .map(|(name, value)| match value {
            serde_json::Value::String(s) => Ok((name.clone(), s.clone())),
            serde_json::Value::Number(_) | serde_json::Value::Bool(_) => {
                Ok((name.clone(), value.to_string()))
            }
            _ => Err(format!("the value of {name:?} is not a string")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agents_command_line() {
        // What a Mesos 1.11 agent passes (logging flags included).
        let flags = Flags::parse([
            "--cgroups_enable_cfs=false",
            "--container=mesos-0f3c",
            "--docker=docker",
            "--docker_socket=/var/run/docker.sock",
            "--help=false",
            "--initialize_driver_logging=true",
            "--launcher_dir=/usr/libexec/mesos",
            "--logbufsecs=0",
            "--logging_level=INFO",
            "--mapped_directory=/mnt/mesos/sandbox",
            "--quiet=false",
            "--sandbox_directory=/var/lib/mesos/slaves/S0/sandbox",
            "--stop_timeout=0ns",
            "--task_environment={\"PORT\":\"31000\",\"N\":3}",
            "--default_container_dns={\"docker\":[{\"network_mode\":\"BRIDGE\",\"dns\":{\"nameservers\":[\"1.1.1.1\"]}}]}",
        ])
        .unwrap();
        assert_eq!(flags.container, "mesos-0f3c");
        assert_eq!(flags.docker_socket.as_deref(), Some("/var/run/docker.sock"));
        assert_eq!(
            flags.sandbox_directory.as_deref(),
            Some("/var/lib/mesos/slaves/S0/sandbox")
        );
        assert_eq!(flags.stop_timeout, Some(Duration::ZERO));
        assert_eq!(flags.task_environment["PORT"], "31000");
        assert_eq!(flags.task_environment["N"], "3");
        assert_eq!(
            flags.default_container_dns.unwrap().docker[0]
                .dns
                .nameservers,
            ["1.1.1.1"]
        );
        assert!(!flags.cgroups_enable_cfs);
        assert_eq!(flags.warnings.len(), 4, "{:?}", flags.warnings);
    }

    #[test]
    fn space_separated_values_and_booleans() {
        let flags = Flags::parse([
            "--container",
            "mesos-x",
            "--cgroups_enable_cfs",
            "--stop_timeout",
            "3secs",
            "--unknown",
            "value",
            "--other",
        ])
        .unwrap();
        assert_eq!(flags.container, "mesos-x");
        assert!(flags.cgroups_enable_cfs);
        assert_eq!(flags.stop_timeout, Some(Duration::from_secs(3)));
        assert_eq!(flags.mapped_directory, DEFAULT_MAPPED_DIRECTORY);
        assert_eq!(flags.warnings.len(), 2);
        let negated = Flags::parse([
            "--container=c",
            "--cgroups_enable_cfs",
            "--no-cgroups_enable_cfs",
        ])
        .unwrap();
        assert!(!negated.cgroups_enable_cfs);
    }

    #[test]
    fn errors() {
        assert_eq!(
            Flags::parse(["--docker=docker"]),
            Err(FlagsError::Missing("container"))
        );
        assert!(matches!(
            Flags::parse(["--container=c", "--stop_timeout=5"]),
            Err(FlagsError::Invalid { .. })
        ));
        assert!(matches!(
            Flags::parse(["--container=c", "--task_environment=[1]"]),
            Err(FlagsError::Invalid { .. })
        ));
        assert_eq!(
            Flags::parse(["--container"]),
            Err(FlagsError::NoValue("container".into()))
        );
        assert_eq!(Flags::parse(["--help"]), Err(FlagsError::Help));
        assert_eq!(Flags::parse(["--version"]), Err(FlagsError::Version));
        assert_eq!(
            FlagsError::Version.to_string(),
            format!("mesos-docker-executor {}", env!("CARGO_PKG_VERSION"))
        );
    }

    #[test]
    fn grace_period_prefers_the_longer() {
        let mut flags = Flags::parse(["--container=c"]).unwrap();
        assert_eq!(
            flags.grace_period(Duration::from_secs(5)),
            Duration::from_secs(5)
        );
        flags.stop_timeout = Some(Duration::from_secs(9));
        assert_eq!(
            flags.grace_period(Duration::from_secs(5)),
            Duration::from_secs(9)
        );
    }
}
