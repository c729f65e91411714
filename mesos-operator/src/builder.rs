//! [`ClientBuilder`]: URLs, media type, credentials, TLS, timeouts, bounds.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use mesos_http::{Credentials, MediaType};

use crate::leader::Endpoints;
use crate::{AgentClient, Error, MasterClient};

/// The path of the operator API on masters and agents.
pub(crate) const OPERATOR_API_PATH: &str = "/api/v1";

/// The settings a client and its subscriptions share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) http: mesos_http::Client,
    pub(crate) media: MediaType,
    #[cfg(feature = "zookeeper")]
    pub(crate) request_timeout: Duration,
    pub(crate) max_redirects: u32,
    pub(crate) heartbeat_multiplier: u32,
    pub(crate) default_heartbeat: Duration,
    pub(crate) backoff_initial: Duration,
    pub(crate) backoff_max: Duration,
}

#[cfg(feature = "zookeeper")]
#[derive(Debug, Clone, Default)]
pub(crate) struct ZooKeeperSettings {
    pub(crate) options: mesos_zookeeper::DetectorOptions,
    pub(crate) https: bool,
}

/// Configures a [`MasterClient`] or an [`AgentClient`]; every setting has
/// a documented default.
///
/// ```no_run
/// use std::time::Duration;
/// use mesos_operator::{ClientBuilder, MediaType};
///
/// # async fn run() -> Result<(), mesos_operator::Error> {
/// let master = ClientBuilder::new(["http://m1:5050", "http://m2:5050", "http://m3:5050"])
///     .media_type(MediaType::Json)
///     .request_timeout(Duration::from_secs(10))
///     .master()?;
/// let health = master.get_health().await?;
/// println!("healthy: {}", health.healthy);
/// # Ok(()) }
/// ```
#[must_use]
pub struct ClientBuilder {
    urls: Vec<String>,
    media: MediaType,
    credentials: Option<Credentials>,
    request_timeout: Duration,
    connect_timeout: Duration,
    max_redirects: u32,
    max_response_len: usize,
    max_record_len: usize,
    heartbeat_multiplier: u32,
    backoff_initial: Duration,
    backoff_max: Duration,
    #[cfg(feature = "tls")]
    tls: Option<mesos_http::TlsConfig>,
    #[cfg(feature = "zookeeper")]
    zookeeper: ZooKeeperSettings,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let urls: Vec<String> = self
            .urls
            .iter()
            .map(|u| mesos_http::redact_url_str(u))
            .collect();
        f.debug_struct("ClientBuilder")
            .field("urls", &urls)
            .field("media", &self.media)
            .field("credentials", &self.credentials)
            .field("request_timeout", &self.request_timeout)
            .field("max_redirects", &self.max_redirects)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// A client of the masters (or the agent) at `urls`: each
    /// `http(s)://host:port`, optionally with a path prefix (the operator
    /// API is `<url>/api/v1`). Masters are tried in turn on connection
    /// failures, and a non-leading master's redirect is followed.
    ///
    /// With the `zookeeper` feature the only URL may instead be
    /// `zk://[user:password@]host:port[,...]/path` (or `file:///path`, as
    /// Mesos's `--master` flag): the leading master is then detected there.
    pub fn new<I, S>(urls: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        ClientBuilder {
            urls: urls
                .into_iter()
                .map(|u| u.as_ref().trim().to_string())
                .collect(),
            media: MediaType::Protobuf,
            credentials: None,
            request_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            max_redirects: 5,
            max_response_len: 64 * 1024 * 1024,
            max_record_len: mesos_proto::recordio::DEFAULT_MAX_RECORD_LEN,
            heartbeat_multiplier: 5,
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(15),
            #[cfg(feature = "tls")]
            tls: None,
            #[cfg(feature = "zookeeper")]
            zookeeper: ZooKeeperSettings::default(),
        }
    }

    /// The media type of calls and answers. Default:
    /// [`MediaType::Protobuf`] (smaller and faster to decode than JSON).
    pub fn media_type(mut self, media: MediaType) -> Self {
        self.media = media;
        self
    }

    /// HTTP basic credentials sent with every request (masters and agents
    /// started with `--authenticate_http_readonly` /
    /// `--authenticate_http_readwrite`). Default: none.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// The TLS settings of `https://` endpoints. Default: the system's and
    /// the bundled Mozilla roots, no client certificate.
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: mesos_http::TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// How long one request may take (and how long a `zk://` client waits
    /// for ZooKeeper to name a leader). Default: 60 s.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How long establishing a TCP connection may take. Default: 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How many `307` redirects one call follows before failing with
    /// [`Error::NotLeader`]. Default: 5.
    pub fn max_redirects(mut self, redirects: u32) -> Self {
        self.max_redirects = redirects;
        self
    }

    /// The largest answer read, in bytes. Default: 64 MiB (a large
    /// cluster's `GET_STATE` is big).
    pub fn max_response_len(mut self, len: usize) -> Self {
        self.max_response_len = len;
        self
    }

    /// The largest SUBSCRIBE event read, in bytes (the first, `SUBSCRIBED`,
    /// carries the whole cluster state). Default: 8 MiB.
    pub fn max_record_len(mut self, len: usize) -> Self {
        self.max_record_len = len;
        self
    }

    /// SUBSCRIBE: how many heartbeat intervals may pass without an event
    /// before the subscription is considered lost and opened again.
    /// Default: 5.
    pub fn heartbeat_multiplier(mut self, multiplier: u32) -> Self {
        self.heartbeat_multiplier = multiplier.max(1);
        self
    }

    /// SUBSCRIBE: the first and the largest delay before subscribing again
    /// after a lost subscription (exponential, jittered). Default: 500 ms
    /// and 15 s.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.backoff_initial = initial;
        self.backoff_max = max.max(initial);
        self
    }

    /// How a `zk://` master's leader is detected. Default:
    /// [`DetectorOptions::default`](mesos_zookeeper::DetectorOptions::default).
    #[cfg(feature = "zookeeper")]
    pub fn zookeeper_options(mut self, options: mesos_zookeeper::DetectorOptions) -> Self {
        self.zookeeper.options = options;
        self
    }

    /// Whether masters detected through ZooKeeper are reached over `https`
    /// (their `MasterInfo` does not say). Default: false.
    #[cfg(feature = "zookeeper")]
    pub fn zookeeper_https(mut self, https: bool) -> Self {
        self.zookeeper.https = https;
        self
    }

    /// Builds a client of the master operator API.
    pub fn master(self) -> Result<MasterClient, Error> {
        let (shared, endpoints) = self.build()?;
        Ok(MasterClient::new(shared, endpoints))
    }

    /// Builds a client of an agent's operator API (agents do not redirect;
    /// with several URLs the next is tried on connection failures).
    pub fn agent(self) -> Result<AgentClient, Error> {
        let (shared, endpoints) = self.build()?;
        Ok(AgentClient::new(shared, endpoints))
    }

    fn build(self) -> Result<(Arc<Shared>, Endpoints), Error> {
        #[cfg(feature = "zookeeper")]
        let endpoints = Endpoints::from_flags(&self.urls, &self.zookeeper)?;
        #[cfg(not(feature = "zookeeper"))]
        let endpoints = Endpoints::from_flags(&self.urls)?;
        let mut http = mesos_http::Client::builder()
            .media_type(self.media)
            .request_timeout(self.request_timeout)
            .connect_timeout(self.connect_timeout)
            .max_response_len(self.max_response_len)
            .max_record_len(self.max_record_len);
        if let Some(credentials) = self.credentials {
            http = http.credentials(credentials);
        }
        #[cfg(feature = "tls")]
        if let Some(tls) = self.tls {
            http = http.tls(tls);
        }
        let http = http
            .build()
            .map_err(|e| Error::Config(mesos_http::error_chain(&e)))?;
        let shared = Shared {
            http,
            media: self.media,
            #[cfg(feature = "zookeeper")]
            request_timeout: self.request_timeout,
            max_redirects: self.max_redirects,
            heartbeat_multiplier: self.heartbeat_multiplier,
            default_heartbeat: Duration::from_secs(15),
            backoff_initial: self.backoff_initial,
            backoff_max: self.backoff_max,
        };
        Ok((Arc::new(shared), endpoints))
    }
}

/// `http://host:port[/prefix]` → the operator API URL there.
pub(crate) fn api_url(base: &str) -> Result<http::Uri, Error> {
    let trimmed = base.trim().trim_end_matches('/');
    let full = if trimmed.ends_with(OPERATOR_API_PATH) {
        trimmed.to_string()
    } else {
        format!("{trimmed}{OPERATOR_API_PATH}")
    };
    mesos_http::parse_url(&full).map_err(|e| Error::Config(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_gain_the_api_path() {
        for (given, want) in [
            ("http://m:5050", "http://m:5050/api/v1"),
            ("http://m:5050/", "http://m:5050/api/v1"),
            ("http://m:5050/master", "http://m:5050/master/api/v1"),
            ("http://m:5050/api/v1", "http://m:5050/api/v1"),
        ] {
            assert_eq!(api_url(given).unwrap(), want);
        }
        assert!(api_url("m:5050").is_err());
    }

    #[test]
    fn no_url_is_a_configuration_error() {
        let error = ClientBuilder::new(Vec::<String>::new())
            .master()
            .unwrap_err();
        assert!(matches!(error, Error::Config(_)), "{error:?}");
    }

    #[test]
    fn debug_hides_secrets() {
        let builder = ClientBuilder::new(["http://op:hunter2@m:5050"])
            .credentials(Credentials::basic("op", "s3cret"));
        let text = format!("{builder:?}");
        assert!(
            !text.contains("hunter2") && !text.contains("s3cret"),
            "{text}"
        );
    }

    #[cfg(not(feature = "zookeeper"))]
    #[test]
    fn zookeeper_urls_need_the_feature() {
        let error = ClientBuilder::new(["zk://zk1:2181/mesos"])
            .master()
            .unwrap_err();
        assert!(error.to_string().contains("`zookeeper` feature"), "{error}");
    }
}
