//! The fetcher's settings: [`FetcherConfig`].

use std::time::Duration;

/// The fetcher cache's default size, as Mesos's `--fetcher_cache_size`
/// (2 GiB).
pub const DEFAULT_FETCHER_CACHE_SIZE: u64 = 2 << 30;
/// How long a download may make no progress, as Mesos's
/// `--fetcher_stall_timeout` (60 s).
pub const DEFAULT_FETCHER_STALL_TIMEOUT: Duration = Duration::from_secs(60);
/// The largest resource one download accepts by default (4 GiB).
pub const DEFAULT_MAX_DOWNLOAD_SIZE: u64 = 4 << 30;
/// How long one download (redirects and body) may take by default
/// (10 minutes).
pub const DEFAULT_DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// The settings of every agent's fetcher (`CommandInfo.uris`), given to
/// [`LocalClusterBuilder::fetcher`](crate::LocalClusterBuilder::fetcher).
/// Every setting has a documented default.
///
/// ```
/// use std::time::Duration;
/// use mesos_local::{FetcherConfig, LocalCluster};
///
/// let builder = LocalCluster::builder().fetcher(
///     FetcherConfig::default()
///         .cache_size(64 << 20)
///         .stall_timeout(Duration::from_secs(5)),
/// );
/// # drop(builder);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct FetcherConfig {
    pub(super) cache_size: u64,
    pub(super) stall_timeout: Duration,
    pub(super) max_download_size: u64,
    pub(super) download_timeout: Duration,
}

impl Default for FetcherConfig {
    fn default() -> Self {
        FetcherConfig {
            cache_size: DEFAULT_FETCHER_CACHE_SIZE,
            stall_timeout: DEFAULT_FETCHER_STALL_TIMEOUT,
            max_download_size: DEFAULT_MAX_DOWNLOAD_SIZE,
            download_timeout: DEFAULT_DOWNLOAD_TIMEOUT,
        }
    }
}

impl FetcherConfig {
    /// The size of each agent's fetcher cache in bytes (Mesos's
    /// `--fetcher_cache_size`; default [`DEFAULT_FETCHER_CACHE_SIZE`]).
    /// Least recently used entries not in use are evicted to make room; a
    /// resource that does not fit is fetched directly into the sandbox.
    /// 0 keeps nothing: every URI is fetched directly.
    pub fn cache_size(mut self, bytes: u64) -> Self {
        self.cache_size = bytes;
        self
    }

    /// How long an HTTP download may make no progress before it fails
    /// (Mesos's `--fetcher_stall_timeout`; default
    /// [`DEFAULT_FETCHER_STALL_TIMEOUT`]). Not zero.
    pub fn stall_timeout(mut self, timeout: Duration) -> Self {
        self.stall_timeout = timeout;
        self
    }

    /// The largest resource one HTTP download accepts, in bytes (default
    /// [`DEFAULT_MAX_DOWNLOAD_SIZE`]); a larger one fails the fetch.
    pub fn max_download_size(mut self, bytes: u64) -> Self {
        self.max_download_size = bytes;
        self
    }

    /// How long one HTTP download, redirects and body, may take in all
    /// (default [`DEFAULT_DOWNLOAD_TIMEOUT`]). Not zero.
    pub fn download_timeout(mut self, timeout: Duration) -> Self {
        self.download_timeout = timeout;
        self
    }

    /// The setting out of range and why, if one is.
    pub(crate) fn invalid(&self, max: Duration) -> Option<(&'static str, String)> {
        for (setting, value) in [
            ("fetcher_stall_timeout", self.stall_timeout),
            ("fetcher_download_timeout", self.download_timeout),
        ] {
            if value.is_zero() || value > max {
                return Some((setting, format!("{value:?} is not in (0, {max:?}]")));
            }
        }
        None
    }
}
