//! Reading the environment a Mesos agent gives an executor.

use std::fmt;
use std::path::PathBuf;

use mesos_http::Credentials;
use mesos_proto::v1::{AgentId, ExecutorId, FrameworkId};

use crate::config::{ExecutorConfig, ExecutorConfigBuilder};
use crate::{endpoint, parse_duration};

/// One problem with one environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvProblem {
    /// A required variable is not set (or is empty).
    Missing {
        /// The variable.
        name: &'static str,
    },
    /// Neither `MESOS_SLAVE_PID` nor `MESOS_AGENT_ENDPOINT` is set.
    MissingAgent,
    /// A variable is set to something unusable.
    Invalid {
        /// The variable.
        name: &'static str,
        /// Its value (never set for secrets).
        value: Option<String>,
        /// Why it is unusable.
        reason: String,
    },
}

impl EnvProblem {
    /// The variable the problem is about (`MESOS_SLAVE_PID` for
    /// [`EnvProblem::MissingAgent`]).
    pub fn variable(&self) -> &'static str {
        match self {
            EnvProblem::Missing { name } | EnvProblem::Invalid { name, .. } => name,
            EnvProblem::MissingAgent => "MESOS_SLAVE_PID",
        }
    }
}

impl fmt::Display for EnvProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvProblem::Missing { name } => write!(f, "{name} is not set"),
            EnvProblem::MissingAgent => {
                f.write_str("neither MESOS_SLAVE_PID nor MESOS_AGENT_ENDPOINT is set")
            }
            EnvProblem::Invalid {
                name,
                value: Some(value),
                reason,
            } => write!(f, "{name}={value:?} is invalid: {reason}"),
            EnvProblem::Invalid {
                name,
                value: None,
                reason,
            } => write!(f, "{name} is invalid: {reason}"),
        }
    }
}

/// The executor environment is unusable; lists every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid executor environment: {}", list(.problems))]
pub struct EnvError {
    /// Every problem, in the order the variables are read.
    pub problems: Vec<EnvProblem>,
}

impl EnvError {
    /// True when some problem is about `variable`.
    pub fn names(&self, variable: &str) -> bool {
        self.problems.iter().any(|p| p.variable() == variable)
    }
}

fn list(problems: &[EnvProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Collects problems while reading variables.
struct Reader<F> {
    lookup: F,
    problems: Vec<EnvProblem>,
}

impl<F: Fn(&str) -> Option<String>> Reader<F> {
    fn optional(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.is_empty())
    }

    fn required(&mut self, name: &'static str) -> Option<String> {
        let value = self.optional(name);
        if value.is_none() {
            self.problems.push(EnvProblem::Missing { name });
        }
        value
    }

    fn invalid(&mut self, name: &'static str, value: Option<&str>, reason: impl Into<String>) {
        self.problems.push(EnvProblem::Invalid {
            name,
            value: value.map(str::to_string),
            reason: reason.into(),
        });
    }

    fn duration(&mut self, name: &'static str) -> Option<std::time::Duration> {
        let value = self.optional(name)?;
        match parse_duration(&value) {
            Ok(d) => Some(d),
            Err(e) => {
                self.invalid(name, Some(&value), e.to_string());
                None
            }
        }
    }

    fn flag(&mut self, name: &'static str) -> Option<bool> {
        let value = self.optional(name)?;
        match value.to_ascii_lowercase().as_str() {
            "1" | "true" => Some(true),
            "0" | "false" => Some(false),
            _ => {
                self.invalid(name, Some(&value), "expected 1, 0, true or false");
                None
            }
        }
    }
}

/// Reads the executor environment through `lookup` (see
/// [`ExecutorConfig::from_lookup`]).
pub(crate) fn read<F: Fn(&str) -> Option<String>>(lookup: F) -> Result<ExecutorConfig, EnvError> {
    let mut env = Reader {
        lookup,
        problems: Vec::new(),
    };
    let framework_id = env.required("MESOS_FRAMEWORK_ID");
    let executor_id = env.required("MESOS_EXECUTOR_ID");

    // libprocess enables TLS with LIBPROCESS_SSL_ENABLED (SSL_ENABLED is its
    // deprecated spelling); Mesos's executor library then uses https.
    let tls = env
        .flag("LIBPROCESS_SSL_ENABLED")
        .or_else(|| env.flag("SSL_ENABLED"))
        .unwrap_or(false);

    let url = match (
        env.optional("MESOS_SLAVE_PID"),
        env.optional("MESOS_AGENT_ENDPOINT"),
    ) {
        (Some(pid), _) => endpoint::from_pid(&pid, tls)
            .map_err(|reason| env.invalid("MESOS_SLAVE_PID", Some(&pid), reason))
            .ok(),
        (None, Some(address)) => endpoint::from_endpoint(&address, tls)
            .map_err(|reason| env.invalid("MESOS_AGENT_ENDPOINT", Some(&address), reason))
            .ok(),
        (None, None) => {
            env.problems.push(EnvProblem::MissingAgent);
            None
        }
    };

    let checkpoint = env.flag("MESOS_CHECKPOINT").unwrap_or(false);
    let recovery_timeout = env.duration("MESOS_RECOVERY_TIMEOUT");
    let backoff_max = env.duration("MESOS_SUBSCRIPTION_BACKOFF_MAX");
    let grace = env.duration("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD");
    let token = (env.lookup)("MESOS_EXECUTOR_AUTHENTICATION_TOKEN");
    if token.as_deref().is_some_and(|t| t.contains(['\r', '\n'])) {
        env.invalid(
            "MESOS_EXECUTOR_AUTHENTICATION_TOKEN",
            None,
            "contains a line break",
        );
    }
    #[cfg(feature = "tls")]
    let tls_config = if tls {
        mesos_http::TlsConfig::from_libprocess_lookup(&env.lookup)
            .map_err(|e| env.invalid("LIBPROCESS_SSL_*", None, mesos_http::error_chain(&e)))
            .ok()
            .flatten()
    } else {
        None
    };
    let agent_id = env.optional("MESOS_SLAVE_ID");
    let directory = env.optional("MESOS_DIRECTORY").map(PathBuf::from);
    let sandbox = env.optional("MESOS_SANDBOX").map(PathBuf::from);

    let (Some(framework_id), Some(executor_id), Some(url)) = (framework_id, executor_id, url)
    else {
        return Err(EnvError {
            problems: env.problems,
        });
    };
    if !env.problems.is_empty() {
        return Err(EnvError {
            problems: env.problems,
        });
    }
    let mut builder = ExecutorConfigBuilder::new(
        url,
        FrameworkId {
            value: framework_id,
        },
        ExecutorId { value: executor_id },
    )
    .checkpoint(checkpoint);
    if let Some(d) = recovery_timeout {
        builder = builder.recovery_timeout(d);
    }
    if let Some(d) = backoff_max {
        builder = builder.subscription_backoff_max(d);
    }
    if let Some(d) = grace {
        builder = builder.shutdown_grace_period(d);
    }
    if let Some(token) = token.filter(|t| !t.is_empty()) {
        builder = builder.credentials(Credentials::bearer(token));
    }
    if let Some(id) = agent_id {
        builder = builder.agent_id(AgentId { value: id });
    }
    if let Some(dir) = directory {
        builder = builder.directory(dir);
    }
    if let Some(dir) = sandbox {
        builder = builder.sandbox(dir);
    }
    #[cfg(feature = "tls")]
    if let Some(tls) = tls_config {
        builder = builder.tls(tls);
    }
    builder.build().map_err(|e| EnvError {
        problems: vec![EnvProblem::Invalid {
            name: "MESOS_SLAVE_PID",
            value: None,
            reason: mesos_http::error_chain(&e),
        }],
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use super::*;

    /// The environment the real 1.11 agent set (executor-env-shell.txt).
    fn agent_env() -> HashMap<&'static str, &'static str> {
        HashMap::from([
            ("LIBPROCESS_IP", "127.0.0.1"),
            ("LIBPROCESS_PORT", "0"),
            ("MESOS_AGENT_ENDPOINT", "127.0.0.1:5050"),
            ("MESOS_CHECKPOINT", "0"),
            ("MESOS_DIRECTORY", "/tmp/sandbox"),
            ("MESOS_EXECUTOR_ID", "probe-executor"),
            ("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "5secs"),
            ("MESOS_FRAMEWORK_ID", "fw-0001"),
            ("MESOS_HTTP_COMMAND_EXECUTOR", "0"),
            ("MESOS_SANDBOX", "/tmp/sandbox"),
            ("MESOS_SLAVE_ID", "agent-S0"),
            ("MESOS_SLAVE_PID", "slave(1)@127.0.0.1:5050"),
        ])
    }

    fn read_map(map: &HashMap<&'static str, &'static str>) -> Result<ExecutorConfig, EnvError> {
        read(|name| map.get(name).map(|v| v.to_string()))
    }

    #[test]
    fn real_agent_environment() {
        let config = read_map(&agent_env()).unwrap();
        assert_eq!(
            config.agent_url().to_string(),
            "http://127.0.0.1:5050/slave(1)/api/v1/executor"
        );
        assert_eq!(config.framework_id().value, "fw-0001");
        assert_eq!(config.executor_id().value, "probe-executor");
        assert_eq!(
            config.agent_id().map(|a| a.value.as_str()),
            Some("agent-S0")
        );
        assert!(!config.checkpoint());
        assert_eq!(config.shutdown_grace_period(), Duration::from_secs(5));
        assert_eq!(config.recovery_timeout(), Duration::from_secs(15 * 60));
        assert_eq!(config.subscription_backoff_max(), Duration::from_secs(2));
        assert_eq!(
            config.directory(),
            Some(std::path::Path::new("/tmp/sandbox"))
        );
        assert_eq!(config.sandbox(), Some(std::path::Path::new("/tmp/sandbox")));
        assert!(config.credentials().is_none());
    }

    #[test]
    fn agent_endpoint_is_the_fallback_and_tls_switches_scheme() {
        let mut env = agent_env();
        env.remove("MESOS_SLAVE_PID");
        let config = read_map(&env).unwrap();
        assert_eq!(
            config.agent_url().to_string(),
            "http://127.0.0.1:5050/api/v1/executor"
        );
        env.insert("LIBPROCESS_SSL_ENABLED", "true");
        env.insert("MESOS_SLAVE_PID", "slave(1)@127.0.0.1:5051");
        let result = read_map(&env);
        if cfg!(feature = "tls") {
            assert_eq!(
                result.unwrap().agent_url().to_string(),
                "https://127.0.0.1:5051/slave(1)/api/v1/executor"
            );
        } else {
            let err = result.unwrap_err().to_string();
            assert!(err.contains("enable the `tls` feature"), "{err}");
        }
    }

    #[test]
    fn missing_variable_is_named() {
        let mut env = agent_env();
        env.remove("MESOS_FRAMEWORK_ID");
        let err = read_map(&env).unwrap_err();
        assert_eq!(
            err.problems,
            vec![EnvProblem::Missing {
                name: "MESOS_FRAMEWORK_ID"
            }]
        );
        assert!(
            err.to_string().contains("MESOS_FRAMEWORK_ID is not set"),
            "{err}"
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut env = agent_env();
        env.remove("MESOS_EXECUTOR_ID");
        env.remove("MESOS_FRAMEWORK_ID");
        env.remove("MESOS_SLAVE_PID");
        env.remove("MESOS_AGENT_ENDPOINT");
        env.insert("MESOS_CHECKPOINT", "yes");
        env.insert("MESOS_RECOVERY_TIMEOUT", "15minutes");
        env.insert("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "5");
        let err = read_map(&env).unwrap_err();
        for name in [
            "MESOS_EXECUTOR_ID",
            "MESOS_FRAMEWORK_ID",
            "MESOS_SLAVE_PID",
            "MESOS_CHECKPOINT",
            "MESOS_RECOVERY_TIMEOUT",
            "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD",
        ] {
            assert!(err.names(name), "{name} missing from {err}");
        }
        assert_eq!(err.problems.len(), 6, "{err}");
        let text = err.to_string();
        assert!(text.contains("MESOS_AGENT_ENDPOINT"), "{text}");
    }

    #[test]
    fn checkpointing_and_its_timeouts() {
        let mut env = agent_env();
        env.insert("MESOS_CHECKPOINT", "1");
        env.insert("MESOS_RECOVERY_TIMEOUT", "1.5mins");
        env.insert("MESOS_SUBSCRIPTION_BACKOFF_MAX", "250ms");
        let config = read_map(&env).unwrap();
        assert!(config.checkpoint());
        assert_eq!(config.recovery_timeout(), Duration::from_secs(90));
        assert_eq!(
            config.subscription_backoff_max(),
            Duration::from_millis(250)
        );
        env.insert("MESOS_CHECKPOINT", "0");
        assert!(!read_map(&env).unwrap().checkpoint());
    }

    #[test]
    fn malformed_pid_is_reported() {
        let mut env = agent_env();
        env.insert("MESOS_SLAVE_PID", "127.0.0.1:5050");
        let err = read_map(&env).unwrap_err();
        assert!(err.names("MESOS_SLAVE_PID"), "{err}");
    }

    #[test]
    fn token_is_used_but_never_printed() {
        let mut env = agent_env();
        env.insert("MESOS_EXECUTOR_AUTHENTICATION_TOKEN", "tok-s3cret-42");
        let config = read_map(&env).unwrap();
        assert!(matches!(config.credentials(), Some(Credentials::Bearer(_))));
        let debug = format!("{config:?}");
        assert!(!debug.contains("tok-s3cret-42"), "{debug}");
        assert!(debug.contains("redacted"), "{debug}");

        env.insert("MESOS_EXECUTOR_AUTHENTICATION_TOKEN", "tok\nbad");
        env.remove("MESOS_FRAMEWORK_ID");
        let err = read_map(&env).unwrap_err();
        assert!(!err.to_string().contains("bad"), "{err}");
        assert!(err.names("MESOS_EXECUTOR_AUTHENTICATION_TOKEN"));
    }
}
