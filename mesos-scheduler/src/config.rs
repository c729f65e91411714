//! How a scheduler connects: masters, framework, media type, timing.

use std::fmt;
use std::time::Duration;

use http::Uri;
use mesos_http::{Credentials, MediaType};
use mesos_proto::v1::FrameworkInfo;

use crate::Error;

/// The path of the scheduler API on a master.
pub const SCHEDULER_API_PATH: &str = "/api/v1/scheduler";

/// Configuration of a scheduler connection, shared by the
/// [`SchedulerDriver`](crate::SchedulerDriver) and the stream API
/// ([`subscribe`](crate::subscribe)).
///
/// ```
/// use std::time::Duration;
/// use mesos_proto::v1::FrameworkInfo;
/// use mesos_scheduler::SchedulerConfig;
///
/// let framework = FrameworkInfo::builder("root", "my-framework")
///     .failover_timeout(Duration::from_secs(7 * 24 * 3600))
///     .build()?;
/// let config = SchedulerConfig::new(["http://m1:5050", "http://m2:5050"], framework)?
///     .heartbeat_multiplier(5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// `Debug` shows the masters without user-info and never the credentials'
/// secret.
#[derive(Clone)]
#[must_use]
pub struct SchedulerConfig {
    pub(crate) masters: Vec<Uri>,
    pub(crate) framework: FrameworkInfo,
    pub(crate) media: MediaType,
    pub(crate) credentials: Option<Credentials>,
    pub(crate) heartbeat_multiplier: u32,
    pub(crate) default_heartbeat: Duration,
    pub(crate) backoff_initial: Duration,
    pub(crate) backoff_max: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) implicit_acknowledgements: bool,
    pub(crate) max_redirects: u32,
    pub(crate) max_record_len: usize,
    pub(crate) stop_grace_period: Duration,
}

impl fmt::Debug for SchedulerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be forgotten here.
        let SchedulerConfig {
            masters,
            framework,
            media,
            credentials,
            heartbeat_multiplier,
            default_heartbeat,
            backoff_initial,
            backoff_max,
            request_timeout,
            implicit_acknowledgements,
            max_redirects,
            max_record_len,
            stop_grace_period,
        } = self;
        let masters: Vec<_> = masters.iter().map(mesos_http::RedactedUrl).collect();
        f.debug_struct("SchedulerConfig")
            .field("masters", &masters)
            .field("framework", framework)
            .field("media", media)
            .field("credentials", credentials)
            .field("heartbeat_multiplier", heartbeat_multiplier)
            .field("default_heartbeat", default_heartbeat)
            .field("backoff_initial", backoff_initial)
            .field("backoff_max", backoff_max)
            .field("request_timeout", request_timeout)
            .field("implicit_acknowledgements", implicit_acknowledgements)
            .field("max_redirects", max_redirects)
            .field("max_record_len", max_record_len)
            .field("stop_grace_period", stop_grace_period)
            .finish()
    }
}

impl SchedulerConfig {
    /// Connects to `masters` (each `http://host:port` or `https://host:port`,
    /// optionally with a path prefix; tried in turn until one answers, and a
    /// non-leading master's redirect is followed) as `framework`.
    ///
    /// `framework.id` set means failover: resubscribe as that framework.
    pub fn new<I, S>(masters: I, framework: FrameworkInfo) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let masters = masters
            .into_iter()
            .map(|m| master_url(m.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        if masters.is_empty() {
            return Err(Error::Config("no master given".into()));
        }
        Ok(SchedulerConfig {
            masters,
            framework,
            media: MediaType::Protobuf,
            credentials: None,
            heartbeat_multiplier: 5,
            default_heartbeat: Duration::from_secs(15),
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(15),
            request_timeout: Duration::from_secs(60),
            implicit_acknowledgements: true,
            max_redirects: 5,
            max_record_len: mesos_proto::recordio::DEFAULT_MAX_RECORD_LEN,
            stop_grace_period: Duration::from_secs(5),
        })
    }

    /// The media type of calls and events. Default: protobuf.
    pub fn media_type(mut self, media: MediaType) -> Self {
        self.media = media;
        self
    }

    /// HTTP credentials (Basic principal/secret, or a bearer token).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// How many heartbeat intervals without any event mean the connection is
    /// dead. Default: 5 (as the Mesos documentation recommends).
    pub fn heartbeat_multiplier(mut self, multiplier: u32) -> Self {
        self.heartbeat_multiplier = multiplier.max(1);
        self
    }

    /// The heartbeat interval assumed until SUBSCRIBED says otherwise.
    /// Default: 15 s (the master's default).
    pub fn default_heartbeat(mut self, interval: Duration) -> Self {
        self.default_heartbeat = interval;
        self
    }

    /// Bounds of the backoff between reconnection attempts (see
    /// [`Backoff`](crate::Backoff)): `initial` is the first delay and the
    /// floor no retry goes under; the ceiling doubles up to `max`. Default:
    /// 500 ms growing to 15 s, as the Mesos documentation recommends.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.backoff_initial = initial;
        self.backoff_max = max;
        self
    }

    /// Timeout of each call, and of the SUBSCRIBE response headers.
    /// Default: 60 s.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Whether the driver acknowledges each status update itself once
    /// [`Scheduler::status_update`](crate::Scheduler::status_update) returns
    /// (default: true, like the C++ driver). With `false`, call
    /// [`SchedulerDriver::acknowledge_status_update`](crate::SchedulerDriver::acknowledge_status_update).
    /// The stream API never acknowledges by itself.
    pub fn implicit_acknowledgements(mut self, implicit: bool) -> Self {
        self.implicit_acknowledgements = implicit;
        self
    }

    /// How many `307` redirects in a row are followed at once before backing
    /// off. Default: 5.
    pub fn max_redirects(mut self, redirects: u32) -> Self {
        self.max_redirects = redirects;
        self
    }

    /// The largest event accepted from the master; a larger one ends the
    /// connection (and a reconnection follows). Default: 8 MiB.
    pub fn max_record_len(mut self, len: usize) -> Self {
        self.max_record_len = len;
        self
    }

    /// How long [`stop`](crate::SchedulerDriver::stop) and
    /// [`abort`](crate::SchedulerDriver::abort) let a callback in progress
    /// finish (say, an ACCEPT it is awaiting) before dropping it at its
    /// next `.await`, so that stopping never hangs on a callback that waits
    /// forever. Default: 5 s.
    pub fn stop_grace_period(mut self, grace: Duration) -> Self {
        self.stop_grace_period = grace;
        self
    }

    /// The framework as it will subscribe.
    pub fn framework(&self) -> &FrameworkInfo {
        &self.framework
    }
}

/// `http://host:port[/prefix]` → the scheduler API URL on that master.
fn master_url(master: &str) -> Result<Uri, Error> {
    let trimmed = master.trim().trim_end_matches('/');
    let full = if trimmed.ends_with(SCHEDULER_API_PATH) {
        trimmed.to_string()
    } else {
        format!("{trimmed}{SCHEDULER_API_PATH}")
    };
    mesos_http::parse_url(&full).map_err(|e| Error::Config(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_user_info_and_secrets() {
        let config = SchedulerConfig::new(
            ["http://fw:hunter2@m1:5050", "https://m2:5050"],
            FrameworkInfo::default(),
        )
        .unwrap()
        .credentials(Credentials::basic("fw", "s3cret"));
        let text = format!("{config:?}");
        assert!(
            !text.contains("hunter2") && !text.contains("s3cret"),
            "{text}"
        );
        assert!(
            text.contains(r#"masters: ["http://m1:5050/api/v1/scheduler", "https://m2:5050/api/v1/scheduler"]"#),
            "{text}"
        );
        let err = SchedulerConfig::new(["ftp://fw:hunter2@m1:5050"], FrameworkInfo::default())
            .unwrap_err();
        assert!(!format!("{err} {err:?}").contains("hunter2"), "{err:?}");
    }

    #[test]
    fn master_urls_gain_the_api_path() {
        assert_eq!(
            master_url("http://m:5050").unwrap(),
            "http://m:5050/api/v1/scheduler"
        );
        assert_eq!(
            master_url("http://m:5050/").unwrap(),
            "http://m:5050/api/v1/scheduler"
        );
        assert_eq!(
            master_url("http://m:5050/master").unwrap(),
            "http://m:5050/master/api/v1/scheduler"
        );
        assert_eq!(
            master_url("http://m:5050/api/v1/scheduler").unwrap(),
            "http://m:5050/api/v1/scheduler"
        );
        assert!(master_url("m:5050").is_err());
        assert!(SchedulerConfig::new(Vec::<String>::new(), FrameworkInfo::default()).is_err());
    }
}
