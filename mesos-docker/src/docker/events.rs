//! Waiting for a container's start without polling: `docker events`.

use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncBufReadExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdout};

use super::{Docker, DockerError};

/// A `docker events` process reporting the `start` of one container
/// (see [`Docker::watch_start`]); killed when dropped.
#[derive(Debug)]
pub struct StartWatch {
    name: String,
    lines: Option<Lines<BufReader<ChildStdout>>>,
    _child: Child,
}

impl Docker {
    /// Starts `docker events` for the `start` of the container `name`,
    /// from a second before now on (so a start that happens while the CLI
    /// connects is not missed). Spawn it before `docker run`; then
    /// [`StartWatch::started`] returns as soon as the engine has started
    /// the container, where polling `docker inspect` would sleep.
    pub fn watch_start(&self, name: &str) -> Result<StartWatch, DockerError> {
        let since = SystemTime::now()
            .checked_sub(Duration::from_secs(1))
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        let args = vec![
            "events".to_string(),
            format!("--since={since}"),
            "--filter=type=container".into(),
            format!("--filter=container={name}"),
            "--filter=event=start".into(),
            "--format={{.Actor.Attributes.name}}".into(),
        ];
        let mut command = self.command(&args);
        command.stdout(Stdio::piped()).stderr(Stdio::null());
        let mut child = command.spawn().map_err(|source| DockerError::Spawn {
            command: self.describe(&args),
            source,
        })?;
        let lines = child.stdout.take().map(|out| BufReader::new(out).lines());
        Ok(StartWatch {
            name: name.to_string(),
            lines,
            _child: child,
        })
    }
}

impl StartWatch {
    /// Waits for the container's `start` event: `true` once it came,
    /// `false` when the watch ended without it (the CLI failed or exited;
    /// poll instead). Events of other containers whose names merely start
    /// with the same text (docker's filter matches prefixes) are skipped.
    /// Not bounded by itself: race it against a timer.
    pub async fn started(&mut self) -> bool {
        let Some(lines) = self.lines.as_mut() else {
            return false;
        };
        loop {
            match lines.next_line().await {
                Ok(Some(line)) if line.trim().trim_start_matches('/') == self.name => return true,
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => {
                    self.lines = None;
                    return false;
                }
            }
        }
    }

    /// Whether the watch can still report the start.
    pub fn is_alive(&self) -> bool {
        self.lines.is_some()
    }
}
