//! Which engine socket the CLI talks to, and the fallback from the Engine
//! API to the CLI.

use std::path::{Path, PathBuf};

use super::engine::{EngineApi, DEFAULT_SOCKET};
use super::error::EngineError;
use super::Docker;

/// The largest Docker CLI `config.json` read (for its `currentContext`).
const MAX_CONFIG: u64 = 1024 * 1024;

impl Docker {
    /// Uses the Docker Engine API on the engine's unix socket for what is
    /// asked during every launch (image presence, `inspect`, the start
    /// watch of [`Docker::watch_start`]): ~1 ms per request instead of a
    /// `docker` CLI process (~16-18 ms each). The socket is the one the
    /// CLI would use: [`Docker::with_socket`]'s `unix://` address, else
    /// `DOCKER_HOST`'s, else `/var/run/docker.sock`. None (the CLI stays
    /// in use for everything) when that address is not a unix socket
    /// (`tcp://`, `ssh://`) or a Docker context other than `default` is
    /// selected (`DOCKER_CONTEXT` or the CLI's `config.json`).
    ///
    /// Transparent: the first request that fails (no socket, permission
    /// denied, a failed or unexpected answer) is run with the CLI, and so
    /// is everything after it (logged once). `docker run`, `wait`, `stop`,
    /// `rm`, `pull` and `logs` stay CLI processes.
    pub fn with_engine_api(mut self) -> Docker {
        self.engine_requested = true;
        let host = std::env::var("DOCKER_HOST").ok();
        let context = std::env::var("DOCKER_CONTEXT")
            .ok()
            .filter(|c| !c.is_empty())
            .or_else(config_context);
        self.engine = engine_socket(self.socket.as_deref(), host.as_deref(), context.as_deref())
            .map(EngineApi::new);
        if self.engine.is_none() {
            tracing::info!(
                socket = self.socket.as_deref().or(host.as_deref()).unwrap_or(""),
                context = context.as_deref().unwrap_or(""),
                "the docker engine is not on a unix socket: using the docker CLI only"
            );
        }
        self
    }

    /// Uses `engine` as [`Docker::with_engine_api`] does, whatever the CLI's
    /// socket (it must be the same engine).
    pub fn with_engine(mut self, engine: EngineApi) -> Docker {
        self.engine_requested = false;
        self.engine = Some(engine);
        self
    }

    /// The Engine API in use, if any: `None` without
    /// [`Docker::with_engine_api`] / [`Docker::with_engine`], or once a
    /// request has failed (the CLI is used from then on).
    pub fn engine_api(&self) -> Option<&EngineApi> {
        self.engine.as_ref().filter(|engine| !engine.disabled())
    }

    pub(super) fn live_engine(&self) -> Option<&EngineApi> {
        self.engine_api()
    }

    /// After a failed request: the CLI from now on (said once), except for
    /// a name the API cannot carry (the CLI says what is wrong with it).
    pub(super) fn engine_failed(&self, engine: &EngineApi, error: &EngineError) {
        if matches!(error, EngineError::InvalidName(_)) {
            tracing::debug!(error = %error, "using the docker CLI for this name");
            return;
        }
        if engine.disable() {
            tracing::info!(
                socket = %engine.socket().display(),
                error = %error,
                "docker engine API unavailable: using the docker CLI"
            );
        }
    }
}

/// The unix socket the CLI talks to: its `-H` address, else `DOCKER_HOST`,
/// else [`DEFAULT_SOCKET`] unless a non-default context is selected.
pub(super) fn engine_socket(
    cli_socket: Option<&str>,
    docker_host: Option<&str>,
    context: Option<&str>,
) -> Option<PathBuf> {
    let address = cli_socket.or(docker_host.filter(|h| !h.is_empty()));
    match address {
        Some(address) => address
            .strip_prefix("unix://")
            .filter(|path| !path.is_empty())
            .map(PathBuf::from),
        None if context.is_some_and(|c| c != "default") => None,
        None => Some(PathBuf::from(DEFAULT_SOCKET)),
    }
}

/// The CLI's `currentContext` (`$DOCKER_CONFIG/config.json`, else
/// `~/.docker/config.json`), if any.
fn config_context() -> Option<String> {
    let dir = match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(&std::env::var_os("HOME")?).join(".docker"),
    };
    let path = dir.join("config.json");
    if std::fs::metadata(&path).ok()?.len() > MAX_CONFIG {
        return None;
    }
    let config: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    config
        .get("currentContext")
        .and_then(serde_json::Value::as_str)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_socket_is_the_one_the_cli_uses() {
        let socket = |cli, host, context| engine_socket(cli, host, context);
        let path = |p: &str| Some(PathBuf::from(p));
        assert_eq!(socket(None, None, None), path(DEFAULT_SOCKET));
        assert_eq!(
            socket(None, Some(""), Some("default")),
            path(DEFAULT_SOCKET)
        );
        assert_eq!(socket(None, None, Some("remote")), None);
        assert_eq!(socket(Some("unix:///s.sock"), None, None), path("/s.sock"));
        assert_eq!(
            socket(Some("unix:///s.sock"), Some("tcp://h:1"), Some("x")),
            path("/s.sock")
        );
        assert_eq!(socket(Some("tcp://h:2375"), None, None), None);
        assert_eq!(socket(None, Some("unix:///d.sock"), None), path("/d.sock"));
        assert_eq!(socket(None, Some("ssh://u@h"), None), None);
        assert_eq!(socket(None, Some("unix://"), None), None);
    }

    #[test]
    fn with_socket_after_with_engine_api_follows_the_socket() {
        let docker = Docker::new("docker")
            .with_engine_api()
            .with_socket("/other.sock");
        assert_eq!(
            docker.engine_api().map(|e| e.socket().to_path_buf()),
            Some(PathBuf::from("/other.sock"))
        );
        let docker = docker.with_socket("tcp://127.0.0.1:2375");
        assert!(docker.engine_api().is_none());
        assert!(Docker::new("docker").engine_api().is_none());
    }
}
