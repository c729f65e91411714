//! A typed wrapper around the `docker` CLI, as Mesos's `Docker` class runs
//! it: every operation is one `docker [-H <socket>] <command>` process;
//! with [`Docker::with_engine_api`], the image check, inspect and the
//! start watch are Engine API requests on the engine's unix socket
//! instead ([`EngineApi`], `engine`), the CLI their fallback (`via_engine`).
//!
//! [`Docker`] (this module) builds and runs the commands; what they answer
//! is read by [`ContainerState`] (`state`), failures are [`DockerError`]s
//! (`error`), and what is logged is redacted (`redact`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::spec::RunSpec;

mod engine;
mod error;
mod events;
mod redact;
mod state;
mod via_engine;

pub use engine::{
    EngineApi, EngineEvents, DEFAULT_ENGINE_TIMEOUT, DEFAULT_SOCKET, MAX_BODY, MAX_EVENT_LINE,
};
use error::is_missing;
pub use error::{describe_status, DockerError, EngineError};
pub use events::StartWatch;
use redact::redact_args;
pub use state::ContainerState;

/// How long a short command (`inspect`, `rm`, `ps`, ...) may take before
/// it is killed and reported as [`DockerError::Timeout`].
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// How long `docker pull` may take by default (see
/// [`Docker::with_pull_timeout`]) before the CLI is killed and the pull
/// reported as [`DockerError::Timeout`]: generous, as images can be large.
pub const DEFAULT_PULL_TIMEOUT: Duration = Duration::from_secs(600);

/// How long `docker run -d` may take (creating and starting a container
/// whose image is present) before the CLI is killed.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

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
    pull_timeout: Duration,
    /// Whether [`Docker::with_engine_api`] asked for the Engine API.
    engine_requested: bool,
    /// The Engine API used for image checks, inspect and start watches.
    engine: Option<EngineApi>,
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
            pull_timeout: DEFAULT_PULL_TIMEOUT,
            engine_requested: false,
            engine: None,
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
        if self.engine_requested {
            self = self.with_engine_api();
        }
        self
    }

    /// Gives up a `docker pull` (killing the CLI: [`DockerError::Timeout`])
    /// after `timeout` instead of [`DEFAULT_PULL_TIMEOUT`]. A pull that
    /// hangs (registry unreachable, stalled download) would otherwise hold
    /// the launch that asked for the image forever.
    pub fn with_pull_timeout(mut self, timeout: Duration) -> Docker {
        self.pull_timeout = timeout;
        self
    }

    /// How long a `docker pull` may take (see [`Docker::with_pull_timeout`]).
    pub fn pull_timeout(&self) -> Duration {
        self.pull_timeout
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
    /// With the Engine API ([`Docker::with_engine_api`]):
    /// `GET /containers/<name>/json`, read the same way.
    pub async fn inspect(&self, name: &str) -> Result<ContainerState, DockerError> {
        if let Some(engine) = self.live_engine() {
            match engine.inspect_container(name).await {
                Ok(Some(state)) => return Ok(state),
                Ok(None) => return Err(DockerError::NoSuchContainer(name.to_string())),
                Err(e) => self.engine_failed(engine, &e),
            }
        }
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

    /// Whether `image` is present locally (`docker image inspect`; with
    /// the Engine API: `GET /images/<image>/json`).
    pub async fn image_exists(&self, image: &str) -> Result<bool, DockerError> {
        if let Some(engine) = self.live_engine() {
            match engine.image_exists(image).await {
                Ok(present) => return Ok(present),
                Err(e) => self.engine_failed(engine, &e),
            }
        }
        let args = Self::strings(&["image", "inspect", "--format", "{{.Id}}", image]);
        match self.exec(&args, Some(DEFAULT_COMMAND_TIMEOUT)).await {
            Ok(_) => Ok(true),
            Err(e) if is_missing(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `docker pull <image>`; failure is [`DockerError::ImageUnavailable`]
    /// with docker's message; a pull still running after
    /// [`Docker::pull_timeout`] is killed and is [`DockerError::Timeout`].
    pub async fn pull(&self, image: &str) -> Result<(), DockerError> {
        let args = Self::strings(&["pull", image]);
        match self.exec(&args, Some(self.pull_timeout)).await {
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

    #[tokio::test]
    async fn a_hanging_pull_is_killed_at_its_timeout() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("mesos-docker-pull-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("docker");
        std::fs::write(&path, "#!/bin/sh\nexec sleep 30\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let docker = Docker::new(&path).with_pull_timeout(Duration::from_millis(300));
        assert_eq!(docker.pull_timeout(), Duration::from_millis(300));
        assert_eq!(Docker::default().pull_timeout(), DEFAULT_PULL_TIMEOUT);
        let started = std::time::Instant::now();
        let error = docker.pull("busybox").await.unwrap_err();
        assert!(matches!(error, DockerError::Timeout { .. }), "{error}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        let _ = std::fs::remove_dir_all(&dir);
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
}
