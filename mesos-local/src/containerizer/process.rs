//! The process containerizer: every container is a real child process in
//! its own process group (the posix launcher of the Mesos containerizer).

use std::fs::OpenOptions;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::Stdio;

use async_trait::async_trait;
use mesos_proto::v1::{container_info, ContainerId};
use rustix::process::{Pid, Signal};
use tokio::sync::watch;

use super::{Container, ContainerExit, Containerizer, ContainerizerError, LaunchRequest};

/// `sh` as the real launch helper runs it for `shell` commands.
const SHELL: &str = "/bin/sh";

/// Runs each container as a child process of this process:
///
/// - `CommandInfo.shell` (default true): `/bin/sh -c <value>`; otherwise
///   `value` is executed with `arguments` as argv (argv\[0\] included);
/// - exactly the request's environment (nothing inherited), working
///   directory = sandbox, stdin `/dev/null`, stdout and stderr appended to
///   `<sandbox>/stdout` and `<sandbox>/stderr`;
/// - a new process group per container: signals go to the whole group, and
///   when the main process ends, whatever it left behind in its group is
///   killed (the container is destroyed, as Mesos does).
///
/// `ContainerInfo` of type `DOCKER` is refused ([`ContainerizerError::Unsupported`]);
/// `MESOS` containers without an image run as plain processes. Everything
/// runs as the agent's own user.
#[derive(Debug, Default, Clone)]
pub struct ProcessContainerizer {
    _private: (),
}

impl ProcessContainerizer {
    /// A process containerizer.
    pub fn new() -> ProcessContainerizer {
        ProcessContainerizer { _private: () }
    }
}

#[async_trait]
impl Containerizer for ProcessContainerizer {
    async fn launch(
        &self,
        request: LaunchRequest,
    ) -> Result<Box<dyn Container>, ContainerizerError> {
        if let Some(container) = &request.container {
            if container.r#type == container_info::Type::Docker as i32 || container.docker.is_some()
            {
                return Err(ContainerizerError::Unsupported(
                    "the process containerizer cannot run Docker containers".into(),
                ));
            }
            if container.mesos.as_ref().is_some_and(|m| m.image.is_some()) {
                return Err(ContainerizerError::Unsupported(
                    "the process containerizer cannot run container images".into(),
                ));
            }
        }
        let command = &request.command;
        let value = command.value.clone().unwrap_or_default();
        let shell = command.shell.unwrap_or(true);
        if value.is_empty() {
            return Err(ContainerizerError::Unsupported(
                "no command to run (CommandInfo.value is empty)".into(),
            ));
        }
        let io = |what: &str| {
            let what = what.to_string();
            move |source| ContainerizerError::Io { what, source }
        };
        let open = |name: &str| {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(request.sandbox.join(name))
        };
        let stdout = open("stdout").map_err(io("opening the sandbox's stdout"))?;
        let stderr = open("stderr").map_err(io("opening the sandbox's stderr"))?;

        let mut cmd = if shell {
            let mut cmd = std::process::Command::new(SHELL);
            cmd.arg0("sh").arg("-c").arg(&value);
            cmd
        } else {
            let mut cmd = std::process::Command::new(&value);
            if let Some((first, rest)) = command.arguments.split_first() {
                cmd.arg0(first).args(rest);
            }
            cmd
        };
        cmd.env_clear()
            .envs(&request.environment)
            .current_dir(&request.sandbox)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .process_group(0);
        let mut cmd = tokio::process::Command::from(cmd);
        cmd.kill_on_drop(false);
        let mut child = cmd.spawn().map_err(io(&format!("spawning {value:?}")))?;
        let pid = child
            .id()
            .ok_or_else(|| ContainerizerError::Other("the process exited at once".into()))?;
        let (tx, rx) = watch::channel(None);
        let container_id = request.container_id.value.clone();
        tracing::info!(
            container_id,
            pid,
            command = value,
            shell,
            "container launched"
        );
        tokio::spawn(async move {
            let exit = match child.wait().await {
                Ok(status) => ContainerExit::from_wait_status(status.into_raw()),
                Err(e) => {
                    tracing::warn!(container_id, pid, error = %e, "waiting for the container failed");
                    ContainerExit::unknown()
                }
            };
            // Destroy the container: nothing of the process group survives
            // its main process.
            kill_process_group(pid, Signal::KILL);
            tracing::info!(container_id, pid, %exit, "container ended");
            let _ = tx.send(Some(exit));
        });
        Ok(Box::new(ProcessContainer {
            id: request.container_id,
            pid,
            exit: rx,
        }))
    }
}

/// One child process (and its process group).
#[derive(Debug)]
struct ProcessContainer {
    id: ContainerId,
    pid: u32,
    exit: watch::Receiver<Option<ContainerExit>>,
}

#[async_trait]
impl Container for ProcessContainer {
    fn id(&self) -> &ContainerId {
        &self.id
    }

    fn pid(&self) -> Option<u32> {
        Some(self.pid)
    }

    async fn wait(&self) -> ContainerExit {
        let mut exit = self.exit.clone();
        let result = match exit.wait_for(Option::is_some).await {
            Ok(value) => value.unwrap_or_else(ContainerExit::unknown),
            Err(_) => ContainerExit::unknown(),
        };
        result
    }

    fn signal(&self, signal: i32) -> Result<(), ContainerizerError> {
        let signal = signal_from_raw(signal)?;
        if self.exit.borrow().is_some() {
            // Ended, reaped and its group killed: the pid may belong to
            // someone else by now.
            return Ok(());
        }
        signal_group(self.pid, signal).map_err(|source| ContainerizerError::Io {
            what: format!(
                "sending signal {} to process group {}",
                signal.as_raw(),
                self.pid
            ),
            source,
        })
    }
}

/// Sends `signal` to the process group `pgid` (best effort: a group that
/// no longer exists is fine; any other failure is logged).
///
/// A direct `kill(2)` through `rustix` (the workspace forbids `unsafe`):
/// synchronous, no subprocess, usable without a runtime (`Drop`).
pub(crate) fn kill_process_group(pgid: u32, signal: Signal) {
    if let Err(e) = signal_group(pgid, signal) {
        tracing::warn!(pgid, signal = signal.as_raw(), error = %e, "signalling a process group failed");
    }
}

/// `kill(-pgid, signal)`; `Ok` when the group is already gone (`ESRCH`).
/// Never signals "every process" (`pgid` 0 or 1, or out of range).
fn signal_group(pgid: u32, signal: Signal) -> std::io::Result<()> {
    let pid = i32::try_from(pgid)
        .ok()
        .filter(|&raw| raw > 1)
        .and_then(Pid::from_raw)
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("refusing to signal process group {pgid}"),
            )
        })?;
    match rustix::process::kill_process_group(pid, signal) {
        Ok(()) | Err(rustix::io::Errno::SRCH) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The [`Signal`] of a raw POSIX signal number (the named ones: `SIGTERM`,
/// `SIGKILL`, ...).
pub(crate) fn signal_from_raw(signal: i32) -> Result<Signal, ContainerizerError> {
    Signal::from_named_raw(signal)
        .ok_or_else(|| ContainerizerError::Other(format!("unknown signal {signal}")))
}

/// Whether a process is alive (exists and is not a zombie), from `/proc`.
#[cfg(test)]
pub(crate) fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // "pid (comm) S ...": the state follows the last ')'.
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.trim_start().chars().next());
            !matches!(state, Some('Z') | Some('X') | None)
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use mesos_proto::v1::CommandInfo;

    use super::*;
    use crate::containerizer::LaunchKind;

    fn request(dir: &std::path::Path, command: CommandInfo) -> LaunchRequest {
        let mut request = LaunchRequest::new(
            ContainerId {
                value: uuid::Uuid::new_v4().to_string(),
                parent: None,
            },
            LaunchKind::CommandTask,
            command,
            dir,
        );
        request
            .environment
            .insert("PATH".into(), crate::agent::env::HOST_PATH.into());
        request.environment.insert("ONLY_THIS".into(), "yes".into());
        request
    }

    fn shell(value: &str) -> CommandInfo {
        CommandInfo {
            value: Some(value.into()),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn shell_command_clean_env_and_sandbox_output() {
        let dir = tempfile::tempdir().unwrap();
        std::env::set_var("MESOS_LOCAL_LEAK_CHECK", "leaked");
        let c = ProcessContainerizer::new()
            .launch(request(
                dir.path(),
                shell("echo hi; env; pwd; echo oops >&2; exit 3"),
            ))
            .await
            .unwrap();
        let exit = c.wait().await;
        assert_eq!(exit.code(), Some(3), "{exit}");
        assert_eq!(c.wait().await, exit);
        let out = std::fs::read_to_string(dir.path().join("stdout")).unwrap();
        assert!(out.starts_with("hi\n"), "{out}");
        assert!(out.contains("ONLY_THIS=yes"), "{out}");
        assert!(!out.contains("MESOS_LOCAL_LEAK_CHECK"), "{out}");
        let cwd = dir.path().canonicalize().unwrap();
        assert!(out.contains(&cwd.display().to_string()), "{out}");
        let err = std::fs::read_to_string(dir.path().join("stderr")).unwrap();
        assert_eq!(err, "oops\n");
    }

    #[tokio::test]
    async fn argv_is_arguments_verbatim() {
        let dir = tempfile::tempdir().unwrap();
        let command = CommandInfo {
            shell: Some(false),
            value: Some("/bin/sh".into()),
            arguments: vec![
                "my-argv0".into(),
                "-c".into(),
                "tr '\\0' ' ' < /proc/$$/cmdline; echo; echo \"$0|$1\"".into(),
                "zero".into(),
                "one".into(),
            ],
            ..Default::default()
        };
        let c = ProcessContainerizer::new()
            .launch(request(dir.path(), command))
            .await
            .unwrap();
        assert!(c.wait().await.success());
        let out = std::fs::read_to_string(dir.path().join("stdout")).unwrap();
        assert!(out.starts_with("my-argv0 -c "), "{out}");
        assert!(out.ends_with("zero|one\n"), "{out}");
    }

    #[tokio::test]
    async fn kill_reaches_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let c = ProcessContainerizer::new()
            .launch(request(
                dir.path(),
                shell("sleep 100 & echo $! > child.pid; wait"),
            ))
            .await
            .unwrap();
        let pid_file = dir.path().join("child.pid");
        let mut child = None;
        for _ in 0..100 {
            if let Ok(text) = std::fs::read_to_string(&pid_file) {
                if let Ok(pid) = text.trim().parse::<u32>() {
                    child = Some(pid);
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let child = child.expect("child pid written");
        assert!(process_alive(child));
        let exit = c.kill(Duration::from_secs(2)).await;
        assert_eq!(exit.signal(), Some(Signal::TERM.as_raw()), "{exit}");
        for _ in 0..100 {
            if !process_alive(child) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(!process_alive(child), "grandchild {child} survived");
    }

    #[tokio::test]
    async fn signals_go_to_live_groups_only() {
        for pgid in [0, 1, u32::MAX] {
            assert!(signal_group(pgid, Signal::CONT).is_err(), "{pgid}");
        }
        assert!(signal_from_raw(0).is_err());
        assert!(signal_from_raw(1000).is_err());
        let dir = tempfile::tempdir().unwrap();
        let c = ProcessContainerizer::new()
            .launch(request(dir.path(), shell("exit 0")))
            .await
            .unwrap();
        let pid = c.pid().unwrap();
        assert!(c.wait().await.success());
        // Gone: ESRCH is no error, and an ended container is not signalled.
        assert!(signal_group(pid, Signal::CONT).is_ok());
        c.signal(Signal::KILL.as_raw()).unwrap();
        assert!(c.signal(1000).is_err());
    }

    #[tokio::test]
    async fn refusals() {
        let dir = tempfile::tempdir().unwrap();
        let err = ProcessContainerizer::new()
            .launch(request(dir.path(), CommandInfo::default()))
            .await
            .unwrap_err();
        assert!(matches!(err, ContainerizerError::Unsupported(_)), "{err}");
        let mut docker = request(dir.path(), shell("true"));
        docker.container = Some(mesos_proto::v1::ContainerInfo {
            r#type: container_info::Type::Docker as i32,
            ..Default::default()
        });
        assert!(ProcessContainerizer::new().launch(docker).await.is_err());
        let missing = CommandInfo {
            shell: Some(false),
            value: Some("/nonexistent/binary".into()),
            ..Default::default()
        };
        let err = ProcessContainerizer::new()
            .launch(request(dir.path(), missing))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/binary"), "{err}");
    }
}
