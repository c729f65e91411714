//! The docker CLI calls of the synchronous paths: [`Container::signal`]
//! (the agent's registry, from `Drop` too) and
//! [`Containerizer::destroy_all`] (`Drop` of the cluster).
//!
//! Nothing here ever waits without a bound:
//!
//! - inside a tokio runtime, a signal is an async `docker rm -f` / `docker
//!   kill` spawned on the runtime ([`mesos_docker::Docker`] kills the CLI
//!   after its command timeout), so the caller never blocks;
//! - without a runtime, and for `destroy_all` (which must have removed the
//!   containers when it returns), the CLI runs as child processes waited
//!   for by polling `try_wait` until a deadline, after which they are
//!   killed and the failure logged ([`run_bounded`]). On a multi-thread
//!   runtime that wait goes through `block_in_place`, so the worker's other
//!   tasks move to other workers; on a current-thread runtime (or none) it
//!   blocks the calling thread for at most the deadline.
//!
//! [`Container::signal`]: crate::containerizer::Container::signal
//! [`Containerizer::destroy_all`]: crate::containerizer::Containerizer::destroy_all

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use mesos_docker::{Docker, DockerError};

use super::benign;

/// How often a bounded wait looks at its children.
const POLL: Duration = Duration::from_millis(10);

/// How long a signal sent without a runtime may take.
pub(super) const SIGNAL_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends `signal` to the container `name` without blocking the caller for
/// long: `SIGKILL` is `docker rm -f -v`, anything else `docker kill
/// --signal=<n>`. Async on the current runtime if there is one (the
/// command's own timeout applies), else a bounded blocking run.
pub(super) fn signal(docker: &Docker, name: &str, signal: i32) {
    let kill = signal == super::SIGKILL;
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => {
            let docker = docker.clone();
            let name = name.to_string();
            handle.spawn(async move {
                let result = if kill {
                    docker.rm(&name, true).await
                } else {
                    docker.kill(&name, Some(&signal.to_string())).await
                };
                match result {
                    Ok(()) | Err(DockerError::NoSuchContainer(_)) => {}
                    Err(e) if e.stderr().is_some_and(benign) => {}
                    Err(e) => tracing::warn!(container = name, signal, error = %e, "signalling the container failed"),
                }
            });
        }
        Err(_) => {
            let args: Vec<String> = if kill {
                vec!["rm".into(), "-f".into(), "-v".into(), name.into()]
            } else {
                vec!["kill".into(), format!("--signal={signal}"), name.into()]
            };
            let deadline = Instant::now() + SIGNAL_TIMEOUT;
            let _ = blocking(|| run_bounded(docker, &args, deadline));
        }
    }
}

/// Runs `f`, which may block up to its own deadline, without stalling a
/// multi-thread runtime's worker (`block_in_place`); elsewhere directly.
pub(super) fn blocking<R>(f: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// Runs `docker <args>` as a child process and waits for it until
/// `deadline` (polling `try_wait`); past the deadline the child is killed.
/// `Some(stdout)` when it exited successfully; failures are logged (unless
/// docker only says the container is gone) and are `None`.
pub(super) fn run_bounded(docker: &Docker, args: &[String], deadline: Instant) -> Option<String> {
    let mut command = std::process::Command::new(docker.path());
    if let Some(socket) = docker.socket() {
        command.arg("-H").arg(socket);
    }
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let what = format!("docker {}", args.join(" "));
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            tracing::warn!(command = what, error = %e, "could not run docker");
            return None;
        }
    };
    // Readers on their own threads: a full pipe must not stall the child
    // (they end when the child exits or is killed).
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut text);
            }
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let stdout = read(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = read(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => break None,
            Ok(None) => std::thread::sleep(POLL),
            Err(e) => {
                tracing::warn!(command = what, error = %e, "waiting for docker failed");
                break None;
            }
        }
    };
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        tracing::warn!(command = what, "docker did not finish in time; killed");
        return None;
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    if status.success() {
        return Some(stdout);
    }
    let stderr = stderr.trim();
    if !benign(stderr) {
        tracing::warn!(command = what, stderr, "docker failed");
    }
    None
}

/// Removes, before `deadline`, the containers `names` and then every
/// container whose name starts with `prefix` (`sweep`: the stragglers a
/// launch created after the names were taken), all in one `docker rm -f -v`
/// each.
pub(super) fn remove_all(
    docker: &Docker,
    names: &[String],
    prefix: &str,
    sweep: bool,
    deadline: Instant,
) {
    if !names.is_empty() {
        let mut args: Vec<String> = vec!["rm".into(), "-f".into(), "-v".into()];
        args.extend(names.iter().cloned());
        let _ = run_bounded(docker, &args, deadline);
    }
    if !sweep {
        return;
    }
    let list: Vec<String> = [
        "ps",
        "-a",
        "--no-trunc",
        "--filter",
        &format!("name={prefix}"),
        "--format",
        "{{.ID}} {{.Names}}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let Some(out) = run_bounded(docker, &list, deadline) else {
        return;
    };
    let stragglers: Vec<String> = out
        .lines()
        .filter_map(|line| line.split_once(' '))
        .filter(|(_, names)| {
            names
                .split(',')
                .any(|n| n.trim().trim_start_matches('/').starts_with(prefix))
        })
        .map(|(id, _)| id.to_string())
        .collect();
    if stragglers.is_empty() {
        return;
    }
    tracing::info!(
        prefix,
        count = stragglers.len(),
        "removing straggler containers"
    );
    let mut args: Vec<String> = vec!["rm".into(), "-f".into(), "-v".into()];
    args.extend(stragglers);
    let _ = run_bounded(docker, &args, deadline);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(dir: &std::path::Path, body: &str) -> Docker {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("docker");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        Docker::new(path)
    }

    #[test]
    fn bounded_runs_end_by_their_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let hanging = script(dir.path(), "exec sleep 30");
        let started = Instant::now();
        let deadline = started + Duration::from_millis(300);
        assert_eq!(run_bounded(&hanging, &["rm".into()], deadline), None);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        // Removal of names and sweep share one deadline.
        let started = Instant::now();
        remove_all(
            &hanging,
            &["mesos-x-1".into()],
            "mesos-x-",
            true,
            started + Duration::from_millis(300),
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );

        let echo = script(dir.path(), "echo \"$@\"; exit 0");
        let out = run_bounded(
            &echo,
            &["ps".into(), "-a".into()],
            Instant::now() + Duration::from_secs(10),
        );
        assert_eq!(out.as_deref(), Some("ps -a\n"));
        let failing = script(dir.path(), "echo 'Error: No such container: x' >&2; exit 1");
        assert_eq!(
            run_bounded(
                &failing,
                &["rm".into()],
                Instant::now() + Duration::from_secs(10)
            ),
            None
        );
    }

    #[test]
    fn sweep_removes_only_names_under_the_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let docker = script(
            dir.path(),
            &format!(
                "echo \"$@\" >> {log}\nif [ \"$1\" = ps ]; then printf 'id1 mesos-p-1\\nid2 other-mesos-p-2\\nid3 /mesos-p-3,alias\\n'; fi",
                log = log.display()
            ),
        );
        remove_all(
            &docker,
            &[],
            "mesos-p-",
            true,
            Instant::now() + Duration::from_secs(10),
        );
        let calls = std::fs::read_to_string(&log).unwrap();
        let calls: Vec<&str> = calls.lines().collect();
        assert_eq!(calls.len(), 2, "{calls:?}");
        assert!(calls[0].starts_with("ps -a"), "{calls:?}");
        assert_eq!(calls[1], "rm -f -v id1 id3");
    }
}
