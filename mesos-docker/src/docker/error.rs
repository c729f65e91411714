//! How a Docker operation fails.

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
