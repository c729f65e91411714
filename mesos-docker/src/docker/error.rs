//! How a Docker operation fails.

use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

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

/// A failed request to the Docker Engine API (see
/// [`EngineApi`](super::EngineApi)). [`Docker`](super::Docker) never
/// returns these: when the API fails it runs the `docker` CLI instead.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The engine's unix socket could not be connected to (missing,
    /// permission denied, nobody listening).
    #[error("cannot connect to the Docker engine at {socket}: {source}")]
    Connect {
        /// The socket path.
        socket: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP exchange failed: not HTTP, closed mid-response, ...
    #[error("`{request}` to the Docker engine failed: {source}")]
    Http {
        /// The request (`GET /v1.41/...`).
        request: String,
        /// hyper's error.
        #[source]
        source: hyper::Error,
    },
    /// No (complete) answer in time.
    #[error("`{request}` to the Docker engine did not finish within {timeout:?}")]
    Timeout {
        /// The request.
        request: String,
        /// The limit.
        timeout: Duration,
    },
    /// The engine answered with an unexpected status.
    #[error("`{request}` answered {status}: {message}")]
    Status {
        /// The request.
        request: String,
        /// The HTTP status code.
        status: u16,
        /// The engine's `message` (or the body's start).
        message: String,
    },
    /// A response body (or one event line) over its size limit.
    #[error("`{request}`: the answer exceeds {limit} bytes")]
    TooLarge {
        /// The request.
        request: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// The answer was not what the engine sends (not JSON, no `Id`, ...).
    #[error("`{request}`: unexpected answer: {reason}")]
    Invalid {
        /// The request.
        request: String,
        /// What was wrong.
        reason: String,
    },
    /// A name that cannot be put in a request path (empty, or with a `.`
    /// or `..` segment).
    #[error("{0:?} cannot be named in an Engine API path")]
    InvalidName(String),
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

/// Whether docker said the object does not exist.
pub(super) fn is_missing(error: &DockerError) -> bool {
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
