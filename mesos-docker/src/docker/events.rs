//! Waiting for a container's start without polling: the engine's events
//! (`GET /events` with the Engine API, else `docker events`).

use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncBufReadExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdout};

use super::engine::EngineEvents;
use super::{Docker, DockerError};

/// The engine's events reporting the `start` of one container (see
/// [`Docker::watch_start`]): an Engine API event stream or a `docker
/// events` process; closed (the process killed) when dropped.
#[derive(Debug)]
pub struct StartWatch {
    name: String,
    source: Source,
}

#[derive(Debug)]
enum Source {
    Engine(EngineEvents),
    Cli(Box<CliEvents>),
    Ended,
}

/// `docker events`' output lines, and the process (killed when dropped).
#[derive(Debug)]
struct CliEvents {
    lines: Lines<BufReader<ChildStdout>>,
    _child: Child,
}

impl Docker {
    /// Watches the engine's events for the `start` of the container
    /// `name`, from a second before now on (so a start that happens while
    /// the watch connects is not missed): `GET /events` with the Engine
    /// API ([`Docker::with_engine_api`]; returns once the engine has
    /// answered), else a `docker events` process. Call it before `docker
    /// run`; then [`StartWatch::started`] returns as soon as the engine
    /// has started the container, where polling `docker inspect` would
    /// sleep.
    pub async fn watch_start(&self, name: &str) -> Result<StartWatch, DockerError> {
        let since = SystemTime::now()
            .checked_sub(Duration::from_secs(1))
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        if let Some(engine) = self.live_engine() {
            let filters: [(&str, &[&str]); 3] = [
                ("type", &["container"]),
                ("container", &[name]),
                ("event", &["start"]),
            ];
            match engine.events(since, &filters).await {
                Ok(events) => {
                    return Ok(StartWatch {
                        name: name.to_string(),
                        source: Source::Engine(events),
                    })
                }
                Err(e) => self.engine_failed(engine, &e),
            }
        }
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
        let source = match child.stdout.take() {
            Some(out) => Source::Cli(Box::new(CliEvents {
                lines: BufReader::new(out).lines(),
                _child: child,
            })),
            None => Source::Ended,
        };
        Ok(StartWatch {
            name: name.to_string(),
            source,
        })
    }
}

impl StartWatch {
    /// Waits for the container's `start` event: `true` once it came,
    /// `false` when the watch ended without it (the stream or the CLI
    /// failed or ended; poll instead). Events of other containers whose
    /// names merely start with the same text (docker's filter matches
    /// prefixes) are skipped. Not bounded by itself: race it against a
    /// timer.
    pub async fn started(&mut self) -> bool {
        let name = self.name.as_str();
        let seen = match &mut self.source {
            Source::Ended => return false,
            Source::Engine(events) => loop {
                match events.next_event().await {
                    Ok(Some(event)) if is_start_of(&event, name) => break true,
                    Ok(Some(_)) => {}
                    Ok(None) => break false,
                    Err(e) => {
                        tracing::debug!(error = %e, "engine event stream failed");
                        break false;
                    }
                }
            },
            Source::Cli(cli) => loop {
                match cli.lines.next_line().await {
                    Ok(Some(line)) if line.trim().trim_start_matches('/') == name => break true,
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => break false,
                }
            },
        };
        if !seen {
            self.source = Source::Ended;
        }
        seen
    }

    /// Whether the watch can still report the start.
    pub fn is_alive(&self) -> bool {
        !matches!(self.source, Source::Ended)
    }

    /// Whether the watch reads the Engine API's event stream (else a
    /// `docker events` process, or nothing once ended).
    pub fn is_engine(&self) -> bool {
        matches!(self.source, Source::Engine(_))
    }
}

/// A `start` event (`Action`, or `status` before API 1.22) of the
/// container named `name`.
fn is_start_of(event: &serde_json::Value, name: &str) -> bool {
    let text = |pointer: &str| event.pointer(pointer).and_then(serde_json::Value::as_str);
    let action = text("/Action").or_else(|| text("/status"));
    action == Some("start")
        && text("/Actor/Attributes/name").map(|n| n.trim_start_matches('/')) == Some(name)
}

#[cfg(test)]
mod tests {
    use super::is_start_of;
    use serde_json::json;

    #[test]
    fn only_the_start_of_the_named_container_counts() {
        let event = |action: &str, name: &str| {
            let actor = json!({"ID": "abc", "Attributes": {"name": name}});
            json!({"Type": "container", "Action": action, "Actor": actor})
        };
        assert!(is_start_of(&event("start", "mesos-1"), "mesos-1"));
        assert!(is_start_of(&event("start", "/mesos-1"), "mesos-1"));
        // docker's `container` filter matches name prefixes.
        assert!(!is_start_of(&event("start", "mesos-1-other"), "mesos-1"));
        assert!(!is_start_of(&event("die", "mesos-1"), "mesos-1"));
        // Engines before API 1.22: `status` instead of `Action`.
        let old = json!({"status": "start", "Actor": {"Attributes": {"name": "mesos-1"}}});
        assert!(is_start_of(&old, "mesos-1"));
        assert!(!is_start_of(&json!({"Action": "start"}), "mesos-1"));
        assert!(!is_start_of(&json!([]), "mesos-1"));
    }
}
