//! A typed wrapper around the `docker` CLI, as Mesos's `Docker` class runs
//! it: every operation is one `docker [-H <socket>] <command>` process.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use serde_json::Value;
use tokio::process::{Child, Command};

use crate::spec::RunSpec;

/// How long a short command (`inspect`, `rm`, `ps`, ...) may take before
/// it is killed and reported as [`DockerError::Timeout`].
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// How long `docker run -d` may take (creating and starting a container
/// whose image is present) before the CLI is killed.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// The inspect object with `Config.Env` values replaced by `[redacted]`.
fn redacted_inspect(object: &serde_json::Value) -> serde_json::Value {
    let mut object = object.clone();
    if let Some(env) = object
        .pointer_mut("/Config/Env")
        .and_then(serde_json::Value::as_array_mut)
    {
        for entry in env {
            if let Some((name, _)) = entry.as_str().and_then(|s| s.split_once('=')) {
                *entry = serde_json::Value::String(format!("{name}=[redacted]"));
            }
        }
    }
    object
}

/// ` arg arg ...` with the values of environment assignments redacted.
fn redact_args(args: &[String]) -> String {
    fn assignment(text: &str) -> String {
        match text.split_once('=') {
            Some((name, _)) => format!("{name}=[redacted]"),
            None => text.to_string(),
        }
    }
    let mut out = String::new();
    let mut value_next = false;
    for arg in args {
        out.push(' ');
        if value_next {
            out.push_str(&assignment(arg));
            value_next = false;
        } else if arg == "-e" || arg == "--env" {
            out.push_str(arg);
            value_next = true;
        } else if let Some(rest) = arg.strip_prefix("--env=") {
            out.push_str("--env=");
            out.push_str(&assignment(rest));
        } else if let Some(rest) = arg.strip_prefix("-e").filter(|r| r.contains('=')) {
            out.push_str("-e");
            out.push_str(&assignment(rest));
        } else {
            out.push_str(arg);
        }
    }
    out
}

/// A failed Docker operation: which command, how it ended, what docker said.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    /// The CLI could not be started at all (not installed, not executable).
    #[error("could not run `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The CLI exited unsuccessfully.
    #[error("`{command}` failed ({status}): {stderr}")]
    Failed {
        /// The command line.
        command: String,
        /// The exit status, as text.
        status: String,
        /// Docker's stderr, trimmed.
        stderr: String,
    },
    /// The CLI did not finish in time (it was killed).
    #[error("`{command}` did not finish within {timeout:?}")]
    Timeout {
        /// The command line.
        command: String,
        /// The limit.
        timeout: Duration,
    },
    /// The container does not exist.
    #[error("no such container: {0}")]
    NoSuchContainer(String),
    /// The image is not on this machine and `docker pull` failed.
    #[error("image {image} not present locally and could not be pulled: {message}")]
    ImageUnavailable {
        /// The image.
        image: String,
        /// Docker's message.
        message: String,
    },
    /// The output was not what docker prints.
    #[error("unexpected output of `{command}`: {reason}")]
    Parse {
        /// The command line.
        command: String,
        /// What was wrong.
        reason: String,
    },
}

impl DockerError {
    /// Docker's stderr text, for a [`DockerError::Failed`].
    pub fn stderr(&self) -> Option<&str> {
        match self {
            DockerError::Failed { stderr, .. } => Some(stderr),
            _ => None,
        }
    }
}

/// What `docker inspect` says about a container.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerState {
    /// The full container id.
    pub id: String,
    /// The name, without Docker's leading `/`.
    pub name: String,
    /// The main process's pid on the host, while running.
    pub pid: Option<u32>,
    /// `State.Running`.
    pub running: bool,
    /// `State.Status` (`created`, `running`, `exited`, ...).
    pub status: String,
    /// `State.ExitCode` once the container has exited.
    pub exit_code: Option<i32>,
    /// `State.StartedAt` unless the container never started.
    pub started_at: Option<String>,
    /// `State.FinishedAt` once the container has exited.
    pub finished_at: Option<String>,
    /// The IPv4 address (bridge: `NetworkSettings.IPAddress`; user
    /// networks: the first network's address).
    pub ip_address: Option<String>,
    /// The IPv6 address, if any.
    pub ip6_address: Option<String>,
    /// `HostConfig.CpuShares`.
    pub cpu_shares: Option<u64>,
    /// `HostConfig.Memory` in bytes.
    pub memory: Option<u64>,
    /// The inspect output for this container (one JSON object), as Mesos
    /// puts it in the TASK_RUNNING update's `data`, except that the values
    /// of `Config.Env` are `[redacted]` (they may be secrets; the real
    /// Docker executor sends them as they are).
    pub raw: String,
}

impl ContainerState {
    /// Whether the container has started at some point (running or exited).
    pub fn started(&self) -> bool {
        self.running || self.started_at.is_some()
    }

    fn parse(command: &str, output: &str) -> Result<ContainerState, DockerError> {
        let parse_error = |reason: &str| DockerError::Parse {
            command: command.to_string(),
            reason: reason.to_string(),
        };
        let json: Value =
            serde_json::from_str(output).map_err(|e| parse_error(&format!("not JSON: {e}")))?;
        let object = match &json {
            Value::Array(items) => items.first().ok_or_else(|| parse_error("empty array"))?,
            other => other,
        };
        let text = |pointer: &str| {
            object
                .pointer(pointer)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let number = |pointer: &str| object.pointer(pointer).and_then(Value::as_i64);
        let running = object
            .pointer("/State/Running")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let status = text("/State/Status").unwrap_or_default();
        let zero_time = |t: &String| t.starts_with("0001-01-01");
        let started_at = text("/State/StartedAt").filter(|t| !zero_time(t));
        let finished_at = text("/State/FinishedAt").filter(|t| !zero_time(t));
        let exited = !running && finished_at.is_some();
        let mut ip_address = text("/NetworkSettings/IPAddress");
        let mut ip6_address = text("/NetworkSettings/GlobalIPv6Address");
        if let Some(Value::Object(networks)) = object.pointer("/NetworkSettings/Networks") {
            for network in networks.values() {
                if ip_address.is_none() {
                    ip_address = network
                        .get("IPAddress")
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string);
                }
                if ip6_address.is_none() {
                    ip6_address = network
                        .get("GlobalIPv6Address")
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string);
                }
            }
        }
        Ok(ContainerState {
            id: text("/Id").ok_or_else(|| parse_error("no Id"))?,
            name: text("/Name")
                .map(|n| n.trim_start_matches('/').to_string())
                .unwrap_or_default(),
            pid: number("/State/Pid")
                .filter(|pid| *pid > 0)
                .and_then(|pid| u32::try_from(pid).ok()),
            running,
            status,
            exit_code: number("/State/ExitCode")
                .filter(|_| exited)
                .and_then(|c| i32::try_from(c).ok()),
            started_at,
            finished_at,
            ip_address,
            ip6_address,
            cpu_shares: number("/HostConfig/CpuShares").and_then(|v| u64::try_from(v).ok()),
            memory: number("/HostConfig/Memory").and_then(|v| u64::try_from(v).ok()),
            raw: redacted_inspect(object).to_string(),
        })
    }
}

/// The Docker CLI: its path and the engine socket.
///
/// ```no_run
/// # async fn demo() -> Result<(), mesos_docker::DockerError> {
/// use mesos_docker::Docker;
/// let docker = Docker::new("docker").with_socket("/var/run/docker.sock");
/// println!("engine {}", docker.version().await?);
/// for name in docker.ps_all_with_prefix("mesos-").await? {
///     println!("{name}");
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Docker {
    path: PathBuf,
    socket: Option<String>,
}

impl Default for Docker {
    /// `docker` from `PATH`, Docker's default engine.
    fn default() -> Self {
        Docker::new("docker")
    }
}

impl Docker {
    /// The CLI at `path` (e.g. `"docker"` or `"/usr/bin/docker"`), talking
    /// to Docker's default engine.
    pub fn new(path: impl Into<PathBuf>) -> Docker {
        Docker {
            path: path.into(),
            socket: None,
        }
    }

    /// Talks to the engine at `socket`: a path (`/var/run/docker.sock`,
    /// passed as `-H unix://<path>`) or a full `unix://`/`tcp://` address.
    pub fn with_socket(mut self, socket: impl Into<String>) -> Docker {
        let socket = socket.into();
        self.socket = if socket.is_empty() {
            None
        } else if socket.contains("://") {
            Some(socket)
        } else {
            Some(format!("unix://{socket}"))
        };
        self
    }

    /// The CLI path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The `-H` address, if any.
    pub fn socket(&self) -> Option<&str> {
        self.socket.as_deref()
    }

    /// A `docker [-H <socket>] <args...>` command with no stdin, ready to
    /// be spawned; killed if dropped while running.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut command = Command::new(&self.path);
        if let Some(socket) = &self.socket {
            command.arg("-H").arg(socket);
        }
        command.args(args).stdin(Stdio::null()).kill_on_drop(true);
        command
    }

    /// The command line as logs and errors show it: environment values
    /// (`-e NAME=VALUE`, `--env NAME=VALUE`, `--env=NAME=VALUE`) are
    /// replaced by `[redacted]`, as they may be secrets.
    fn describe(&self, args: &[String]) -> String {
        let mut text = self.path.display().to_string();
        if let Some(socket) = &self.socket {
            text.push_str(" -H ");
            text.push_str(socket);
        }
        text.push_str(&redact_args(args));
        text
    }

    /// Runs `docker <args>` to completion; stdout on success.
    async fn exec(
        &self,
        args: &[String],
        timeout: Option<Duration>,
    ) -> Result<String, DockerError> {
        let description = self.describe(args);
        tracing::debug!(command = description, "running");
        let mut command = self.command(args);
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let output = command.output();
        let output = match timeout {
            Some(limit) => {
                tokio::time::timeout(limit, output)
                    .await
                    .map_err(|_| DockerError::Timeout {
                        command: description.clone(),
                        timeout: limit,
                    })?
            }
            None => output.await,
        }
        .map_err(|source| DockerError::Spawn {
            command: description.clone(),
            source,
        })?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(DockerError::Failed {
                command: description,
                status: describe_status(output.status),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            })
        }
    }

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    /// The engine's version (`docker version --format {{.Server.Version}}`):
    /// fails when the engine is unreachable.
    pub async fn version(&self) -> Result<String, DockerError> {
        let out = self
            .exec(
                &Self::strings(&["version", "--format", "{{.Server.Version}}"]),
                Some(Duration::from_secs(20)),
            )
            .await?;
        Ok(out.trim().to_string())
    }

    /// `docker run -d ...`: starts the container in the background and
    /// returns its id. The CLI is killed after [`RUN_TIMEOUT`] (the image
    /// must be present: see [`Docker::ensure_image`]).
    pub async fn run_detached(&self, spec: &RunSpec) -> Result<String, DockerError> {
        let mut args = spec.args();
        args.insert(1, "-d".into());
        let out = self.exec(&args, Some(RUN_TIMEOUT)).await?;
        let id = out.trim().lines().last().unwrap_or("").to_string();
        if id.is_empty() {
            return Err(DockerError::Parse {
                command: self.describe(&args),
                reason: "no container id printed".into(),
            });
        }
        Ok(id)
    }

    /// `docker run ...` attached, as Mesos's executor runs it: the
    /// container's output goes to `stdout`/`stderr` (e.g. the sandbox
    /// files), and the child's exit status is the container's (125–127:
    /// docker could not run it). Wait on the returned child.
    pub fn spawn_run(
        &self,
        spec: &RunSpec,
        stdout: Stdio,
        stderr: Stdio,
    ) -> Result<Child, DockerError> {
        let args = spec.args();
        let description = self.describe(&args);
        tracing::info!(command = description, "starting container");
        let mut command = self.command(&args);
        command.stdout(stdout).stderr(stderr).kill_on_drop(false);
        command.spawn().map_err(|source| DockerError::Spawn {
            command: description,
            source,
        })
    }

    /// `docker inspect --type=container <name>`.
    pub async fn inspect(&self, name: &str) -> Result<ContainerState, DockerError> {
        let args = Self::strings(&["inspect", "--type=container", name]);
        match self.exec(&args, Some(DEFAULT_COMMAND_TIMEOUT)).await {
            Ok(out) => ContainerState::parse(&self.describe(&args), &out),
            Err(e) if is_missing(&e) => Err(DockerError::NoSuchContainer(name.to_string())),
            Err(e) => Err(e),
        }
    }

    /// `docker wait <name>`: waits for the container to exit and returns
    /// its exit code.
    pub async fn wait(&self, name: &str) -> Result<i32, DockerError> {
        let args = Self::strings(&["wait", name]);
        let out = match self.exec(&args, None).await {
            Ok(out) => out,
            Err(e) if is_missing(&e) => return Err(DockerError::NoSuchContainer(name.into())),
            Err(e) => return Err(e),
        };
        out.trim().parse().map_err(|_| DockerError::Parse {
            command: self.describe(&args),
            reason: format!("exit code {:?} is not a number", out.trim()),
        })
    }

    /// `docker stop -t <seconds> <name>`: SIGTERM (or the image's stop
    /// signal), SIGKILL after `grace` (whole seconds, as Mesos passes it).
    pub async fn stop(&self, name: &str, grace: Duration) -> Result<(), DockerError> {
        let seconds = grace.as_secs().to_string();
        let args = Self::strings(&["stop", "-t", &seconds, name]);
        match self
            .exec(&args, Some(grace + DEFAULT_COMMAND_TIMEOUT))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_missing(&e) => Err(DockerError::NoSuchContainer(name.into())),
            Err(e) => Err(e),
        }
    }

    /// `docker kill [--signal=<signal>] <name>`.
    pub async fn kill(&self, name: &str, signal: Option<&str>) -> Result<(), DockerError> {
        let mut args = vec!["kill".to_string()];
        if let Some(signal) = signal {
            args.push(format!("--signal={signal}"));
        }
        args.push(name.into());
        match self.exec(&args, Some(DEFAULT_COMMAND_TIMEOUT)).await {
            Ok(_) => Ok(()),
            Err(e) if is_missing(&e) => Err(DockerError::NoSuchContainer(name.into())),
            Err(e) => Err(e),
        }
    }

    /// `docker rm [-f] -v <name>` (`force` also removes a running
    /// container; with `force`, Docker reports success for a container
    /// that does not exist, otherwise it is [`DockerError::NoSuchContainer`]).
    pub async fn rm(&self, name: &str, force: bool) -> Result<(), DockerError> {
        let mut args = vec!["rm".to_string()];
        if force {
            args.push("-f".into());
        }
        args.push("-v".into());
        args.push(name.into());
        match self.exec(&args, Some(DEFAULT_COMMAND_TIMEOUT)).await {
            Ok(_) => Ok(()),
            Err(e) if is_missing(&e) => Err(DockerError::NoSuchContainer(name.into())),
            Err(e) => Err(e),
        }
    }

    /// The names of every container (running or not) whose name starts
    /// with `prefix` (`docker ps -a`).
    pub async fn ps_all_with_prefix(&self, prefix: &str) -> Result<Vec<String>, DockerError> {
        let args = Self::strings(&["ps", "-a", "--no-trunc", "--format", "{{.Names}}"]);
        let out = self.exec(&args, Some(DEFAULT_COMMAND_TIMEOUT)).await?;
        Ok(out
            .lines()
            .flat_map(|line| line.split(','))
            .map(|name| name.trim().trim_start_matches('/'))
            .filter(|name| name.starts_with(prefix))
            .map(str::to_string)
            .collect())
    }

    /// Whether `image` is present locally (`docker image inspect`).
    pub async fn image_exists(&self, image: &str) -> Result<bool, DockerError> {
        let args = Self::strings(&["image", "inspect", "--format", "{{.Id}}", image]);
        match self.exec(&args, Some(DEFAULT_COMMAND_TIMEOUT)).await {
            Ok(_) => Ok(true),
            Err(e) if is_missing(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `docker pull <image>`; failure is [`DockerError::ImageUnavailable`]
    /// with docker's message.
    pub async fn pull(&self, image: &str) -> Result<(), DockerError> {
        let args = Self::strings(&["pull", image]);
        match self.exec(&args, None).await {
            Ok(_) => Ok(()),
            Err(DockerError::Failed { stderr, .. }) => Err(DockerError::ImageUnavailable {
                image: image.into(),
                message: stderr,
            }),
            Err(e) => Err(e),
        }
    }

    /// Makes `image` available as the Docker containerizer does before a
    /// launch: pulls it when `force_pull` or when it is not present.
    pub async fn ensure_image(&self, image: &str, force_pull: bool) -> Result<(), DockerError> {
        if !force_pull && self.image_exists(image).await? {
            return Ok(());
        }
        self.pull(image).await
    }

    /// `docker logs <name>`: everything the container wrote so far, as
    /// (stdout, stderr).
    pub async fn logs(&self, name: &str) -> Result<(String, String), DockerError> {
        let args = Self::strings(&["logs", name]);
        let description = self.describe(&args);
        let mut command = self.command(&args);
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let output = tokio::time::timeout(DEFAULT_COMMAND_TIMEOUT, command.output())
            .await
            .map_err(|_| DockerError::Timeout {
                command: description.clone(),
                timeout: DEFAULT_COMMAND_TIMEOUT,
            })?
            .map_err(|source| DockerError::Spawn {
                command: description.clone(),
                source,
            })?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
            let error = DockerError::Failed {
                command: description,
                status: describe_status(output.status),
                stderr,
            };
            return Err(if is_missing(&error) {
                DockerError::NoSuchContainer(name.into())
            } else {
                error
            });
        }
        Ok((
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ))
    }

    /// `docker logs -f <name>` with the container's stdout and stderr
    /// appended to the files `stdout` and `stderr` (e.g. the sandbox's),
    /// for containers started with [`run_detached`](Docker::run_detached).
    /// The child ends when the container does.
    pub fn follow_logs(
        &self,
        name: &str,
        stdout: &Path,
        stderr: &Path,
    ) -> Result<Child, DockerError> {
        let args = Self::strings(&["logs", "-f", name]);
        let description = self.describe(&args);
        let open = |path: &Path| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|source| DockerError::Spawn {
                    command: description.clone(),
                    source,
                })
        };
        let (out, err) = (open(stdout)?, open(stderr)?);
        let mut command = self.command(&args);
        command.stdout(out).stderr(err);
        command.spawn().map_err(|source| DockerError::Spawn {
            command: description,
            source,
        })
    }
}

/// Whether docker said the object does not exist.
fn is_missing(error: &DockerError) -> bool {
    error.stderr().is_some_and(|stderr| {
        let lower = stderr.to_lowercase();
        lower.contains("no such container")
            || lower.contains("no such object")
            || lower.contains("no such image")
    })
}

/// "exit status 3" / "signal 9".
pub fn describe_status(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("signal {signal}");
        }
    }
    status.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_values_are_redacted_in_command_lines() {
        let args: Vec<String> = [
            "run",
            "-e",
            "TOKEN=s3cret-1",
            "--env",
            "B=s3cret-2",
            "--env=C=s3cret-3",
            "-eD=s3cret-4",
            "-e",
            "PASSTHROUGH",
            "--name",
            "x",
            "busybox",
            "echo",
            "ok",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let text = Docker::new("docker").describe(&args);
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("-e TOKEN=[redacted]"), "{text}");
        assert!(text.contains("--env=C=[redacted]"), "{text}");
        assert!(
            text.contains("-e PASSTHROUGH --name x busybox echo ok"),
            "{text}"
        );
    }

    #[test]
    fn socket_forms() {
        assert_eq!(Docker::new("docker").socket(), None);
        assert_eq!(
            Docker::new("docker")
                .with_socket("/var/run/docker.sock")
                .socket(),
            Some("unix:///var/run/docker.sock")
        );
        assert_eq!(
            Docker::new("docker")
                .with_socket("tcp://127.0.0.1:2375")
                .socket(),
            Some("tcp://127.0.0.1:2375")
        );
        let docker = Docker::new("/usr/bin/docker").with_socket("/s.sock");
        assert_eq!(
            docker.describe(&["ps".into()]),
            "/usr/bin/docker -H unix:///s.sock ps"
        );
    }

    #[test]
    fn inspect_output_is_parsed() {
        let json = r#"[{"Id":"abc","Name":"/mesos-x","State":{"Status":"running","Running":true,"Pid":42,"ExitCode":0,
            "StartedAt":"2024-01-01T00:00:00Z","FinishedAt":"0001-01-01T00:00:00Z"},
            "HostConfig":{"CpuShares":1024,"Memory":134217728},
            "NetworkSettings":{"IPAddress":"172.17.0.2","GlobalIPv6Address":"","Networks":{"bridge":{"IPAddress":"172.17.0.2"}}}}]"#;
        let state = ContainerState::parse("docker inspect", json).unwrap();
        assert_eq!(state.name, "mesos-x");
        assert_eq!(state.pid, Some(42));
        assert!(state.running && state.started());
        assert_eq!(state.exit_code, None);
        assert_eq!(state.finished_at, None);
        assert_eq!(state.ip_address.as_deref(), Some("172.17.0.2"));
        assert_eq!(state.ip6_address, None);
        assert_eq!(state.cpu_shares, Some(1024));
        assert_eq!(state.memory, Some(134217728));

        let exited = r#"[{"Id":"abc","Name":"/n","State":{"Status":"exited","Running":false,"Pid":0,"ExitCode":3,
            "StartedAt":"2024-01-01T00:00:00Z","FinishedAt":"2024-01-01T00:00:01Z"},
            "NetworkSettings":{"IPAddress":"","Networks":{"user1":{"IPAddress":"10.0.0.5"}}}}]"#;
        let state = ContainerState::parse("docker inspect", exited).unwrap();
        assert_eq!(state.exit_code, Some(3));
        assert_eq!(state.pid, None);
        assert_eq!(state.ip_address.as_deref(), Some("10.0.0.5"));

        assert!(ContainerState::parse("x", "not json").is_err());
        assert!(ContainerState::parse("x", "[]").is_err());
    }
}
