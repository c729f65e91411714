//! The driver's configuration: from the agent's environment, or explicit.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use http::Uri;
use mesos_http::{Credentials, MediaType};
use mesos_proto::v1::{AgentId, ExecutorId, FrameworkId};

use crate::{env, Error};

/// Mesos's default `MESOS_RECOVERY_TIMEOUT` (the agent's `--recovery_timeout`).
pub const DEFAULT_RECOVERY_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// The default cap of the resubscription backoff when
/// `MESOS_SUBSCRIPTION_BACKOFF_MAX` is not set (2 s, as in Mesos).
pub const DEFAULT_SUBSCRIPTION_BACKOFF_MAX: Duration = Duration::from_secs(2);
/// Mesos's default `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD`.
pub const DEFAULT_SHUTDOWN_GRACE_PERIOD: Duration = Duration::from_secs(5);
/// How often the C++ executor library sends a HEARTBEAT call.
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(30 * 60);
/// How long one call, or the wait for the first event of a subscription,
/// may take by default.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Everything the driver needs to know: where the agent is, who this
/// executor is, and the recovery/shutdown timing.
///
/// Read it from the environment the agent sets with
/// [`ExecutorConfig::from_env`], or build it explicitly (tests,
/// embedding) with [`ExecutorConfig::builder`]. `Debug` never shows the
/// authentication token, nor user-info in the agent URL.
#[derive(Clone)]
pub struct ExecutorConfig {
    agent_url: Uri,
    framework_id: FrameworkId,
    executor_id: ExecutorId,
    agent_id: Option<AgentId>,
    directory: Option<PathBuf>,
    sandbox: Option<PathBuf>,
    checkpoint: bool,
    recovery_timeout: Duration,
    subscription_backoff_max: Duration,
    shutdown_grace_period: Duration,
    heartbeat_interval: Duration,
    request_timeout: Duration,
    media_type: MediaType,
    credentials: Option<Credentials>,
    #[cfg(feature = "tls")]
    tls: Option<mesos_http::TlsConfig>,
}

impl ExecutorConfig {
    /// Reads the process environment (see [`ExecutorConfig::from_lookup`]).
    pub fn from_env() -> Result<ExecutorConfig, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the executor environment through `lookup`, a function from a
    /// variable name to its value, so that tests need no process
    /// environment.
    ///
    /// | variable | meaning | required |
    /// | --- | --- | --- |
    /// | `MESOS_FRAMEWORK_ID`, `MESOS_EXECUTOR_ID` | who we are | yes |
    /// | `MESOS_SLAVE_PID` | `slave(1)@host:port`: the API is at `http://host:port/slave(1)/api/v1/executor` | this or the next |
    /// | `MESOS_AGENT_ENDPOINT` | `host:port`, used only without `MESOS_SLAVE_PID`: `http://host:port/api/v1/executor` | |
    /// | `LIBPROCESS_SSL_ENABLED` (or `SSL_ENABLED`) | `1`/`true`: use `https` | no |
    /// | `LIBPROCESS_SSL_CA_FILE`, `LIBPROCESS_SSL_CA_DIR` | the CAs the agent's certificate is checked against (default: the system's) | no |
    /// | `LIBPROCESS_SSL_CERT_FILE`, `LIBPROCESS_SSL_KEY_FILE` | the executor's certificate for agents that require one (mutual TLS) | no (both or neither) |
    /// | `MESOS_CHECKPOINT` | `1`: survive agent restarts | no (0) |
    /// | `MESOS_RECOVERY_TIMEOUT` | how long to try to reach a restarting agent | no (15mins) |
    /// | `MESOS_SUBSCRIPTION_BACKOFF_MAX` | cap of the resubscription backoff | no (2secs) |
    /// | `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD` | time `Executor::shutdown` gets | no (5secs) |
    /// | `MESOS_EXECUTOR_AUTHENTICATION_TOKEN` | bearer token for every call | no |
    /// | `MESOS_SLAVE_ID`, `MESOS_DIRECTORY`, `MESOS_SANDBOX` | informational | no |
    ///
    /// Durations use Mesos's syntax ([`parse_duration`](crate::parse_duration)).
    /// Every missing or malformed variable is reported in one
    /// [`Error::Environment`]. Unlike the C++ library, a checkpointing
    /// executor without `MESOS_RECOVERY_TIMEOUT`/`MESOS_SUBSCRIPTION_BACKOFF_MAX`
    /// gets Mesos's defaults instead of exiting.
    pub fn from_lookup<F>(lookup: F) -> Result<ExecutorConfig, Error>
    where
        F: Fn(&str) -> Option<String>,
    {
        env::read(lookup).map_err(Error::from)
    }

    /// An explicit configuration: the executor API URL (e.g.
    /// `http://127.0.0.1:5051/slave(1)/api/v1/executor`) and the ids;
    /// everything else has Mesos's defaults.
    pub fn builder(
        agent_url: impl Into<String>,
        framework_id: FrameworkId,
        executor_id: ExecutorId,
    ) -> ExecutorConfigBuilder {
        ExecutorConfigBuilder::new(agent_url.into(), framework_id, executor_id)
    }

    /// A builder holding this configuration, to change some settings.
    pub fn into_builder(self) -> ExecutorConfigBuilder {
        ExecutorConfigBuilder {
            agent_url: self.agent_url.to_string(),
            config: self,
        }
    }

    /// The executor API URL.
    pub fn agent_url(&self) -> &Uri {
        &self.agent_url
    }
    /// `MESOS_FRAMEWORK_ID`.
    pub fn framework_id(&self) -> &FrameworkId {
        &self.framework_id
    }
    /// `MESOS_EXECUTOR_ID`.
    pub fn executor_id(&self) -> &ExecutorId {
        &self.executor_id
    }
    /// `MESOS_SLAVE_ID`, used for status updates sent before SUBSCRIBED.
    pub fn agent_id(&self) -> Option<&AgentId> {
        self.agent_id.as_ref()
    }
    /// `MESOS_DIRECTORY`.
    pub fn directory(&self) -> Option<&Path> {
        self.directory.as_deref()
    }
    /// `MESOS_SANDBOX`.
    pub fn sandbox(&self) -> Option<&Path> {
        self.sandbox.as_deref()
    }
    /// `MESOS_CHECKPOINT`: whether an agent restart is survived.
    pub fn checkpoint(&self) -> bool {
        self.checkpoint
    }
    /// `MESOS_RECOVERY_TIMEOUT`.
    pub fn recovery_timeout(&self) -> Duration {
        self.recovery_timeout
    }
    /// `MESOS_SUBSCRIPTION_BACKOFF_MAX`.
    pub fn subscription_backoff_max(&self) -> Duration {
        self.subscription_backoff_max
    }
    /// `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD`.
    pub fn shutdown_grace_period(&self) -> Duration {
        self.shutdown_grace_period
    }
    /// Interval of HEARTBEAT calls.
    pub fn heartbeat_interval(&self) -> Duration {
        self.heartbeat_interval
    }
    /// Timeout of one call and of the wait for SUBSCRIBED.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }
    /// Media type of calls and events.
    pub fn media_type(&self) -> MediaType {
        self.media_type
    }
    /// `MESOS_EXECUTOR_AUTHENTICATION_TOKEN` as bearer credentials.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }
    /// The TLS settings of an `https://` agent (from the `LIBPROCESS_SSL_*`
    /// variables, see [`TlsConfig::from_libprocess_env`](mesos_http::TlsConfig::from_libprocess_env)).
    #[cfg(feature = "tls")]
    pub fn tls(&self) -> Option<&mesos_http::TlsConfig> {
        self.tls.as_ref()
    }
}

impl fmt::Debug for ExecutorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be forgotten here.
        let ExecutorConfig {
            agent_url,
            framework_id,
            executor_id,
            agent_id,
            directory,
            sandbox,
            checkpoint,
            recovery_timeout,
            subscription_backoff_max,
            shutdown_grace_period,
            heartbeat_interval,
            request_timeout,
            media_type,
            credentials,
            #[cfg(feature = "tls")]
            tls,
        } = self;
        let mut debug = f.debug_struct("ExecutorConfig");
        debug
            .field("agent_url", &mesos_http::RedactedUrl(agent_url))
            .field("framework_id", framework_id)
            .field("executor_id", executor_id)
            .field("agent_id", agent_id)
            .field("directory", directory)
            .field("sandbox", sandbox)
            .field("checkpoint", checkpoint)
            .field("recovery_timeout", recovery_timeout)
            .field("subscription_backoff_max", subscription_backoff_max)
            .field("shutdown_grace_period", shutdown_grace_period)
            .field("heartbeat_interval", heartbeat_interval)
            .field("request_timeout", request_timeout)
            .field("media_type", media_type)
            .field("credentials", credentials);
        #[cfg(feature = "tls")]
        debug.field("tls", tls);
        debug.finish()
    }
}

/// Builds an [`ExecutorConfig`] explicitly; see [`ExecutorConfig::builder`].
#[derive(Clone)]
#[must_use]
pub struct ExecutorConfigBuilder {
    agent_url: String,
    config: ExecutorConfig,
}

/// The agent URL without user-info.
impl fmt::Debug for ExecutorConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecutorConfigBuilder")
            .field("agent_url", &mesos_http::redact_url_str(&self.agent_url))
            .field("config", &self.config)
            .finish()
    }
}

impl ExecutorConfigBuilder {
    pub(crate) fn new(
        agent_url: String,
        framework_id: FrameworkId,
        executor_id: ExecutorId,
    ) -> Self {
        ExecutorConfigBuilder {
            agent_url,
            config: ExecutorConfig {
                agent_url: Uri::from_static("http://127.0.0.1/"),
                framework_id,
                executor_id,
                agent_id: None,
                directory: None,
                sandbox: None,
                checkpoint: false,
                recovery_timeout: DEFAULT_RECOVERY_TIMEOUT,
                subscription_backoff_max: DEFAULT_SUBSCRIPTION_BACKOFF_MAX,
                shutdown_grace_period: DEFAULT_SHUTDOWN_GRACE_PERIOD,
                heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL,
                request_timeout: DEFAULT_REQUEST_TIMEOUT,
                media_type: MediaType::Protobuf,
                credentials: None,
                #[cfg(feature = "tls")]
                tls: None,
            },
        }
    }

    /// The executor API URL.
    pub fn agent_url(mut self, url: impl Into<String>) -> Self {
        self.agent_url = url.into();
        self
    }
    /// The agent id for updates sent before SUBSCRIBED. Default: none.
    pub fn agent_id(mut self, id: AgentId) -> Self {
        self.config.agent_id = Some(id);
        self
    }
    /// The executor's directory. Default: none.
    pub fn directory(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config.directory = Some(dir.into());
        self
    }
    /// The sandbox as seen by the executor. Default: none.
    pub fn sandbox(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config.sandbox = Some(dir.into());
        self
    }
    /// Whether to survive agent restarts. Default: false.
    pub fn checkpoint(mut self, on: bool) -> Self {
        self.config.checkpoint = on;
        self
    }
    /// How long to keep trying to reach the agent. Default: 15 min.
    pub fn recovery_timeout(mut self, timeout: Duration) -> Self {
        self.config.recovery_timeout = timeout;
        self
    }
    /// The cap of the resubscription backoff. Default: 2 s.
    pub fn subscription_backoff_max(mut self, max: Duration) -> Self {
        self.config.subscription_backoff_max = max;
        self
    }
    /// How long `Executor::shutdown` may take. Default: 5 s.
    pub fn shutdown_grace_period(mut self, grace: Duration) -> Self {
        self.config.shutdown_grace_period = grace;
        self
    }
    /// Interval of HEARTBEAT calls. Default: 30 min (as Mesos's library).
    pub fn heartbeat_interval(mut self, interval: Duration) -> Self {
        self.config.heartbeat_interval = interval;
        self
    }
    /// Timeout of one call and of the wait for SUBSCRIBED. Default: 30 s.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.config.request_timeout = timeout;
        self
    }
    /// Media type of calls and events. Default: protobuf.
    pub fn media_type(mut self, media: MediaType) -> Self {
        self.config.media_type = media;
        self
    }
    /// Credentials for every call. Default: none.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.config.credentials = Some(credentials);
        self
    }
    /// TLS settings for an `https://` agent: trusted CAs, the executor's
    /// certificate (mutual TLS). Default: the system's roots, no certificate.
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: mesos_http::TlsConfig) -> Self {
        self.config.tls = Some(tls);
        self
    }

    /// Checks the URL and builds the configuration.
    pub fn build(mut self) -> Result<ExecutorConfig, Error> {
        self.config.agent_url =
            mesos_http::parse_url(&self.agent_url).map_err(Error::InvalidUrl)?;
        Ok(self.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_user_info_and_the_token() {
        let ids = || {
            (
                FrameworkId { value: "f".into() },
                ExecutorId { value: "e".into() },
            )
        };
        let (framework_id, executor_id) = ids();
        let builder = ExecutorConfig::builder(
            "http://exec:hunter2@127.0.0.1:5051/api/v1/executor",
            framework_id,
            executor_id,
        )
        .credentials(Credentials::bearer("tok-s3cret"));
        let config = builder.clone().build().unwrap();
        for text in [format!("{builder:?}"), format!("{config:?}")] {
            assert!(
                !text.contains("hunter2") && !text.contains("s3cret"),
                "{text}"
            );
            assert!(text.contains("127.0.0.1:5051/api/v1/executor"), "{text}");
        }
        // A URL that does not parse is refused without its user-info too.
        let (framework_id, executor_id) = ids();
        let err = ExecutorConfig::builder("exec:hunter2@nowhere", framework_id, executor_id)
            .build()
            .unwrap_err();
        let text = format!("{} {err:?}", mesos_http::error_chain(&err));
        assert!(!text.contains("hunter2"), "{text}");
    }
}
