//! The environment an executor gets, exactly as the real agent builds it
//! (`executorEnvironment` in `src/slave/slave.cpp`; see
//! `shared/mesos-samples/executor-env-shell.txt`).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use mesos_proto::duration::format_duration;
use mesos_proto::v1::{environment, AgentId, Environment, ExecutorId, FrameworkInfo};

/// The host's default `PATH`, which the launch helper adds when the
/// executor's environment has none.
pub(crate) const HOST_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// `MESOS_RECOVERY_TIMEOUT` of checkpointing executors (the agent's
/// `--recovery_timeout` default).
pub(crate) const RECOVERY_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// `MESOS_SUBSCRIPTION_BACKOFF_MAX` of checkpointing executors
/// (`--executor_reregistration_retry_interval`... default of the library).
pub(crate) const SUBSCRIPTION_BACKOFF_MAX: Duration = Duration::from_secs(2);

/// What the environment is built from.
pub(crate) struct ExecutorEnv<'a> {
    pub(crate) ip: IpAddr,
    pub(crate) port: u16,
    pub(crate) agent_id: &'a AgentId,
    pub(crate) agent_pid: &'a str,
    pub(crate) framework: &'a FrameworkInfo,
    pub(crate) framework_id: &'a str,
    pub(crate) executor_id: &'a ExecutorId,
    pub(crate) directory: &'a Path,
    pub(crate) shutdown_grace: Duration,
    /// `CommandInfo.environment` of the executor (or the command task).
    pub(crate) command_env: Option<&'a Environment>,
    /// `MESOS_EXECUTOR_AUTHENTICATION_TOKEN` (executor authentication on).
    pub(crate) auth_token: Option<&'a str>,
    /// `LIBPROCESS_SSL_*` of an agent serving `https://` (a real agent's
    /// executors inherit them from its environment).
    pub(crate) tls_env: &'a [(String, String)],
}

impl ExecutorEnv<'_> {
    /// The complete environment (nothing of the agent's own is inherited).
    pub(crate) fn build(&self) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        let mut set = |k: &str, v: String| {
            env.insert(k.to_string(), v);
        };
        let directory = self.directory.display().to_string();
        let checkpoint = self.framework.checkpoint.unwrap_or(false);
        set("LIBPROCESS_IP", self.ip.to_string());
        set("LIBPROCESS_PORT", "0".into());
        set("MESOS_AGENT_ENDPOINT", endpoint(self.ip, self.port));
        set(
            "MESOS_CHECKPOINT",
            if checkpoint { "1" } else { "0" }.into(),
        );
        set("MESOS_DIRECTORY", directory.clone());
        set("MESOS_SANDBOX", directory);
        set("MESOS_EXECUTOR_ID", self.executor_id.value.clone());
        set(
            "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD",
            format_duration(self.shutdown_grace),
        );
        set("MESOS_FRAMEWORK_ID", self.framework_id.to_string());
        set("MESOS_HTTP_COMMAND_EXECUTOR", "0".into());
        set("MESOS_SLAVE_ID", self.agent_id.value.clone());
        set("MESOS_SLAVE_PID", self.agent_pid.to_string());
        if checkpoint {
            set("MESOS_RECOVERY_TIMEOUT", format_duration(RECOVERY_TIMEOUT));
            set(
                "MESOS_SUBSCRIPTION_BACKOFF_MAX",
                format_duration(SUBSCRIPTION_BACKOFF_MAX),
            );
        }
        for (name, value) in self.tls_env {
            set(name, value.clone());
        }
        if let Some(command_env) = self.command_env {
            for variable in &command_env.variables {
                let kind = variable
                    .r#type
                    .unwrap_or(environment::variable::Type::Value as i32);
                if kind == environment::variable::Type::Secret as i32 {
                    tracing::warn!(
                        name = variable.name,
                        "secret environment variables are not supported; skipped"
                    );
                    continue;
                }
                env.insert(
                    variable.name.clone(),
                    variable.value.clone().unwrap_or_default(),
                );
            }
        }
        if let Some(token) = self.auth_token {
            // After the task's own variables: they cannot replace it.
            env.insert(
                "MESOS_EXECUTOR_AUTHENTICATION_TOKEN".to_string(),
                token.to_string(),
            );
        }
        env.entry("PATH".to_string())
            .or_insert_with(|| HOST_PATH.to_string());
        env
    }
}

/// `ip:port` (IPv6 in brackets).
pub(crate) fn endpoint(ip: IpAddr, port: u16) -> String {
    std::net::SocketAddr::new(ip, port).to_string()
}
