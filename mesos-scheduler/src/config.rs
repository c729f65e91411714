//! How a scheduler connects: masters, framework, media type, timing.

use std::fmt;
use std::time::Duration;

use http::Uri;
use mesos_http::{Credentials, MediaType};
use mesos_proto::v1::FrameworkInfo;

use crate::masters::Masters;
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
    pub(crate) pipeline_depth: usize,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<mesos_http::TlsConfig>,
    /// The ZooKeeper group of a `zk://` master, and how to detect it.
    #[cfg(feature = "zookeeper")]
    pub(crate) zookeeper: Option<ZooKeeperMasters>,
}

/// A `zk://` master: where, how to detect, and the leader's scheme.
#[cfg(feature = "zookeeper")]
#[derive(Clone, Debug)]
pub(crate) struct ZooKeeperMasters {
    pub(crate) url: mesos_zookeeper::ZkUrl,
    pub(crate) options: mesos_zookeeper::DetectorOptions,
    pub(crate) tls: bool,
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
            pipeline_depth,
            #[cfg(feature = "tls")]
            tls,
            #[cfg(feature = "zookeeper")]
            zookeeper,
        } = self;
        let masters: Vec<_> = masters.iter().map(mesos_http::RedactedUrl).collect();
        let mut debug = f.debug_struct("SchedulerConfig");
        debug
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
            .field("pipeline_depth", pipeline_depth);
        #[cfg(feature = "tls")]
        debug.field("tls", tls);
        // The ZkUrl's Debug never shows the password.
        #[cfg(feature = "zookeeper")]
        debug.field("zookeeper", zookeeper);
        debug.finish()
    }
}

impl SchedulerConfig {
    /// Connects to `masters` (each `http://host:port` or `https://host:port`,
    /// optionally with a path prefix; tried in turn until one answers, and a
    /// non-leading master's redirect is followed) as `framework`.
    ///
    /// With the `zookeeper` feature, the only master may instead be a
    /// ZooKeeper URL, `zk://[user:password@]host:port[,host:port...]/path`
    /// (or `file:///path` of a file holding the master flag, as Mesos's
    /// `--master` accepts): the leading master is then detected there,
    /// followed when it changes, and waited for while there is none.
    /// Without the feature such a master is [`Error::ZooKeeperDisabled`].
    ///
    /// `framework.id` set means failover: resubscribe as that framework.
    pub fn new<I, S>(masters: I, framework: FrameworkInfo) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let flags: Vec<String> = masters
            .into_iter()
            .map(|m| m.as_ref().trim().to_string())
            .collect();
        let detected = flags.iter().any(|m| is_detected(m));
        if detected && flags.len() > 1 {
            return Err(Error::Config(
                "a zk:// or file:// master must be the only master given".into(),
            ));
        }
        let (masters, zookeeper) = if detected {
            detected_master(&flags[0])?
        } else {
            let masters = flags
                .iter()
                .map(|m| master_url(m))
                .collect::<Result<Vec<_>, _>>()?;
            (masters, None)
        };
        if masters.is_empty() && zookeeper.is_none() {
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
            pipeline_depth: DEFAULT_PIPELINE_DEPTH,
            #[cfg(feature = "tls")]
            tls: None,
            #[cfg(feature = "zookeeper")]
            zookeeper,
        })
    }

    /// The masters as the connection uses them.
    pub(crate) fn masters(&self) -> Masters {
        #[cfg(feature = "zookeeper")]
        if let Some(zk) = &self.zookeeper {
            return Masters::Detected(Box::new(crate::masters::Detected::new(
                zk.url.clone(),
                zk.options.clone(),
                zk.tls,
            )));
        }
        Masters::Fixed {
            list: self.masters.clone(),
            index: 0,
        }
    }

    /// How the leader is detected with a `zk://` master: the ZooKeeper
    /// session timeout and reconnection delays. Default:
    /// [`DetectorOptions::default`](mesos_zookeeper::DetectorOptions::default)
    /// (10 s sessions, as Mesos). No effect on other masters.
    #[cfg(feature = "zookeeper")]
    pub fn zookeeper_options(mut self, options: mesos_zookeeper::DetectorOptions) -> Self {
        if let Some(zk) = &mut self.zookeeper {
            zk.options = options;
        }
        self
    }

    /// Whether masters detected through ZooKeeper are reached over `https`
    /// (their `MasterInfo` does not say; libmesos uses https when built
    /// with SSL enabled). Default: false (`http`).
    #[cfg(feature = "zookeeper")]
    pub fn zookeeper_leader_tls(mut self, tls: bool) -> Self {
        if let Some(zk) = &mut self.zookeeper {
            zk.tls = tls;
        }
        self
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

    /// TLS settings for `https://` masters: the CAs to trust, a client
    /// certificate for masters that require one (mutual TLS, libprocess's
    /// `LIBPROCESS_SSL_REQUIRE_CLIENT_CERT`), the server name to verify.
    /// Default: the system's and the bundled roots, no client certificate.
    /// A certificate the client or the master refuses ends the driver with
    /// [`mesos_http::Error::TlsHandshake`], which says what to configure.
    ///
    /// ```no_run
    /// use mesos_scheduler::{SchedulerConfig, TlsConfig};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let framework = Default::default();
    /// let tls = TlsConfig::new()
    ///     .ca_file("/etc/mesos/ssl/ca.pem")?
    ///     .identity_files("/etc/mesos/ssl/fw.pem", "/etc/mesos/ssl/fw.key")?;
    /// let config = SchedulerConfig::new(["https://master.internal:5050"], framework)?.tls(tls);
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: mesos_http::TlsConfig) -> Self {
        self.tls = Some(tls);
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

    /// How many calls may be pipelined to the master: written on one kept
    /// connection without waiting for the answers before them, at most
    /// `depth` unanswered at a time (see
    /// [`ClientBuilder::pipelining`](mesos_http::ClientBuilder::pipelining)).
    /// A framework acknowledging many updates at once then pays one write
    /// and one read for many calls instead of a round trip each. `0` turns
    /// it off (a pooled connection per call in flight). Default:
    /// [`DEFAULT_PIPELINE_DEPTH`].
    ///
    /// The master answers pipelined calls in order (libprocess does; see the
    /// differential scenario `pipelined_calls_are_answered_in_order`). A
    /// call that gets no answer within the
    /// [`request_timeout`](Self::request_timeout) closes the connection.
    pub fn pipelining(mut self, depth: usize) -> Self {
        self.pipeline_depth = depth;
        self
    }

    /// The framework as it will subscribe.
    pub fn framework(&self) -> &FrameworkInfo {
        &self.framework
    }
}

/// The calls pipelined to the master at most by default
/// ([`SchedulerConfig::pipelining`]).
pub const DEFAULT_PIPELINE_DEPTH: usize = 128;

/// Whether `master` is resolved by the ZooKeeper machinery (`zk://`, or
/// Mesos's `file://` indirection).
fn is_detected(master: &str) -> bool {
    master.starts_with("zk://") || master.starts_with("file://")
}

#[cfg(not(feature = "zookeeper"))]
type Detected = Option<()>;
#[cfg(feature = "zookeeper")]
type Detected = Option<ZooKeeperMasters>;

/// A `zk://` or `file://` master: the ZooKeeper group, or (a file naming a
/// master's address) that master.
#[cfg(feature = "zookeeper")]
fn detected_master(flag: &str) -> Result<(Vec<Uri>, Detected), Error> {
    use mesos_zookeeper::MasterFlag;
    match MasterFlag::resolve(flag).map_err(Error::ZooKeeperUrl)? {
        MasterFlag::ZooKeeper(url) => Ok((
            Vec::new(),
            Some(ZooKeeperMasters {
                url,
                options: Default::default(),
                tls: false,
            }),
        )),
        // Mesos files name a master as host:port; ours take URLs too.
        MasterFlag::Direct(master) if master.contains("://") => {
            Ok((vec![master_url(&master)?], None))
        }
        MasterFlag::Direct(master) => Ok((vec![master_url(&format!("http://{master}"))?], None)),
    }
}

#[cfg(not(feature = "zookeeper"))]
fn detected_master(flag: &str) -> Result<(Vec<Uri>, Detected), Error> {
    let scheme = if flag.starts_with("zk://") {
        "zk://"
    } else {
        "file://"
    };
    Err(Error::ZooKeeperDisabled { scheme })
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
            ["http://fw:hunter2@m1:5050", "http://m2:5050"],
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
            text.contains(
                r#"masters: ["http://m1:5050/api/v1/scheduler", "http://m2:5050/api/v1/scheduler"]"#
            ),
            "{text}"
        );
        let err = SchedulerConfig::new(["ftp://fw:hunter2@m1:5050"], FrameworkInfo::default())
            .unwrap_err();
        assert!(!format!("{err} {err:?}").contains("hunter2"), "{err:?}");
    }

    #[test]
    fn https_masters_need_the_tls_feature() {
        let result = SchedulerConfig::new(["https://m:5050"], FrameworkInfo::default());
        if cfg!(feature = "tls") {
            assert!(result.is_ok(), "{result:?}");
        } else {
            let err = result.unwrap_err().to_string();
            assert!(err.contains("enable the `tls` feature"), "{err}");
        }
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

    #[cfg(not(feature = "zookeeper"))]
    #[test]
    fn zookeeper_masters_need_the_feature() {
        for master in ["zk://zk1:2181/mesos", "file:///etc/mesos/master"] {
            let err = SchedulerConfig::new([master], FrameworkInfo::default()).unwrap_err();
            assert!(matches!(err, Error::ZooKeeperDisabled { .. }), "{err:?}");
            assert!(err.to_string().contains("`zookeeper` feature"), "{err}");
        }
    }

    #[cfg(feature = "zookeeper")]
    #[test]
    fn zookeeper_masters_are_detected() {
        let config = SchedulerConfig::new(
            ["zk://fw:hunter2@zk1:2181,zk2/mesos"],
            FrameworkInfo::default(),
        )
        .unwrap();
        let zk = config.zookeeper.as_ref().expect("a ZooKeeper master");
        assert_eq!(zk.url.connect_string(), "zk1:2181,zk2:2181");
        assert!(config.masters.is_empty());
        let text = format!("{config:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("zk1:2181"), "{text}");

        // Only alone, and well-formed.
        let err = SchedulerConfig::new(
            ["zk://zk1/mesos", "http://m:5050"],
            FrameworkInfo::default(),
        )
        .unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
        let err = SchedulerConfig::new(["zk://zk1:2181/"], FrameworkInfo::default()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::ZooKeeperUrl(mesos_zookeeper::UrlError::PathRequired)
            ),
            "{err:?}"
        );

        // file:// names either a ZooKeeper group or a master (host:port as
        // Mesos writes it, or a URL).
        let dir = std::env::temp_dir().join(format!("mesos-sched-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let zk_file = dir.join("zk");
        let master_file = dir.join("master");
        std::fs::write(&zk_file, "zk://zk1:2181/mesos\n").unwrap();
        std::fs::write(&master_file, "10.0.0.1:5050\n").unwrap();
        let config = SchedulerConfig::new(
            [format!("file://{}", zk_file.display())],
            FrameworkInfo::default(),
        )
        .unwrap();
        assert_eq!(config.zookeeper.unwrap().url.path(), "/mesos");
        let config = SchedulerConfig::new(
            [format!("file://{}", master_file.display())],
            FrameworkInfo::default(),
        )
        .unwrap();
        assert_eq!(config.masters, ["http://10.0.0.1:5050/api/v1/scheduler"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
