//! Finding the leading master: a fixed list tried in turn (following `307`
//! redirects and remembering who answered), or the leader a ZooKeeper
//! detector names (feature `zookeeper`).

use std::future::Future;
use std::sync::Mutex;

use http::Uri;
use mesos_http::RedactedUrl;

use crate::builder::{api_url, Shared};
use crate::Error;

/// Where requests go.
pub(crate) struct Endpoints {
    targets: Targets,
    /// The URL that last answered (the leader, after a redirect).
    current: Mutex<Option<Uri>>,
}

impl std::fmt::Debug for Endpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.targets {
            Targets::Fixed(list) => {
                let list: Vec<String> = list.iter().map(mesos_http::redact_url).collect();
                f.debug_struct("Endpoints").field("urls", &list).finish()
            }
            #[cfg(feature = "zookeeper")]
            Targets::Detected(_) => f
                .debug_struct("Endpoints")
                .field("zookeeper", &true)
                .finish(),
        }
    }
}

enum Targets {
    Fixed(Vec<Uri>),
    #[cfg(feature = "zookeeper")]
    Detected(Box<detected::Detected>),
}

fn is_detected(flag: &str) -> bool {
    flag.starts_with("zk://") || flag.starts_with("file://")
}

impl Endpoints {
    /// One fixed URL (an agent found through its master).
    pub(crate) fn single(url: Uri) -> Self {
        Endpoints {
            targets: Targets::Fixed(vec![url]),
            current: Mutex::new(None),
        }
    }

    #[cfg(not(feature = "zookeeper"))]
    pub(crate) fn from_flags(flags: &[String]) -> Result<Self, Error> {
        if flags.iter().any(|f| is_detected(f)) {
            return Err(Error::Config(
                "zk:// and file:// masters need the `zookeeper` feature of mesos-operator".into(),
            ));
        }
        Self::fixed(flags)
    }

    #[cfg(feature = "zookeeper")]
    pub(crate) fn from_flags(
        flags: &[String],
        settings: &crate::builder::ZooKeeperSettings,
    ) -> Result<Self, Error> {
        use mesos_zookeeper::MasterFlag;
        if !flags.iter().any(|f| is_detected(f)) {
            return Self::fixed(flags);
        }
        let [flag] = flags else {
            return Err(Error::Config(
                "a zk:// or file:// master must be the only URL given".into(),
            ));
        };
        match MasterFlag::resolve(flag).map_err(|e| Error::Config(e.to_string()))? {
            MasterFlag::ZooKeeper(url) => Ok(Endpoints {
                targets: Targets::Detected(Box::new(detected::Detected::new(
                    url,
                    settings.clone(),
                ))),
                current: Mutex::new(None),
            }),
            MasterFlag::Direct(master) if master.contains("://") => Self::fixed(&[master]),
            MasterFlag::Direct(master) => Self::fixed(&[format!("http://{master}")]),
        }
    }

    fn fixed(flags: &[String]) -> Result<Self, Error> {
        let list = flags
            .iter()
            .map(|f| api_url(f))
            .collect::<Result<Vec<_>, _>>()?;
        if list.is_empty() {
            return Err(Error::Config("no URL given".into()));
        }
        Ok(Endpoints {
            targets: Targets::Fixed(list),
            current: Mutex::new(None),
        })
    }

    /// The URL the next request goes to first.
    async fn start(&self, shared: &Shared, call: &'static str) -> Result<Uri, Error> {
        #[cfg(not(feature = "zookeeper"))]
        let _ = (shared, call);
        match &self.targets {
            Targets::Fixed(list) => {
                let remembered = self.current.lock().ok().and_then(|c| c.clone());
                Ok(remembered.unwrap_or_else(|| list[0].clone()))
            }
            #[cfg(feature = "zookeeper")]
            Targets::Detected(detected) => detected.leader(shared, call).await,
        }
    }

    /// The next configured URL not tried yet, after a connection failure.
    fn next_untried(&self, tried: &[Uri]) -> Option<Uri> {
        match &self.targets {
            Targets::Fixed(list) => list.iter().find(|u| !tried.contains(u)).cloned(),
            #[cfg(feature = "zookeeper")]
            Targets::Detected(_) => None,
        }
    }

    fn remember(&self, url: Option<Uri>) {
        if let Ok(mut current) = self.current.lock() {
            *current = url;
        }
    }

    /// The scheme requests use: the last answering master's, else the
    /// first configured one's (`https` for ZooKeeper-detected masters when
    /// configured so).
    pub(crate) fn scheme(&self) -> String {
        let known = self.current().or_else(|| match &self.targets {
            Targets::Fixed(list) => list.first().cloned(),
            #[cfg(feature = "zookeeper")]
            Targets::Detected(_) => None,
        });
        if let Some(scheme) = known.as_ref().and_then(Uri::scheme_str) {
            return scheme.to_string();
        }
        match &self.targets {
            #[cfg(feature = "zookeeper")]
            Targets::Detected(detected) if detected.https() => "https".into(),
            _ => "http".into(),
        }
    }

    /// With ZooKeeper, a watch on the leader the last call was given (see
    /// [`LeaderWatch::moved`]); `None` for fixed masters.
    pub(crate) fn leader_watch(&self) -> Option<LeaderWatch> {
        match &self.targets {
            Targets::Fixed(_) => None,
            #[cfg(feature = "zookeeper")]
            Targets::Detected(detected) => detected.watch(),
        }
    }

    /// The URL that last answered, if any.
    pub(crate) fn current(&self) -> Option<Uri> {
        self.current.lock().ok().and_then(|c| c.clone())
    }

    /// Runs `exchange` against the leading master: follows `307`s (at most
    /// `max_redirects` in a row), moves on to the next configured master
    /// when one cannot be connected to (the request never left, so any call
    /// may be sent again), and remembers the master that answered. Returns
    /// that master's URL with the answer.
    pub(crate) async fn exchange<T, F, Fut>(
        &self,
        shared: &Shared,
        call: &'static str,
        mut exchange: F,
    ) -> Result<(Uri, T), Error>
    where
        F: FnMut(Uri) -> Fut,
        Fut: Future<Output = Result<T, mesos_http::Error>>,
    {
        let mut url = self.start(shared, call).await?;
        let mut tried = vec![url.clone()];
        let mut redirects = 0;
        loop {
            let error = match exchange(url.clone()).await {
                Ok(answer) => {
                    self.remember(Some(url.clone()));
                    return Ok((url, answer));
                }
                Err(error) => error,
            };
            if let Some(location) = error.redirect_location() {
                if redirects >= shared.max_redirects {
                    self.remember(None);
                    return Err(Error::NotLeader {
                        call,
                        endpoint: mesos_http::redact_url(&url),
                        redirects,
                    });
                }
                let leader = mesos_http::resolve_location(&url, location)
                    .map_err(|e| Error::from_http(call, e))?;
                tracing::debug!(call, from = %RedactedUrl(&url), to = %RedactedUrl(&leader), "following the leading master");
                redirects += 1;
                url = leader;
                continue;
            }
            if matches!(error, mesos_http::Error::Connect { .. }) {
                if let Some(next) = self.next_untried(&tried) {
                    tracing::debug!(call, failed = %RedactedUrl(&url), next = %RedactedUrl(&next), "trying the next master");
                    tried.push(next.clone());
                    url = next;
                    continue;
                }
            }
            if error.is_retryable() {
                // Start from the configured list again next time.
                self.remember(None);
            }
            return Err(Error::from_http(call, error));
        }
    }
}

/// Watches ZooKeeper for a leading master other than the one followed.
pub(crate) struct LeaderWatch {
    #[cfg(feature = "zookeeper")]
    inner: detected::Watch,
}

impl LeaderWatch {
    /// Resolves (with the reason) once ZooKeeper names another leading
    /// master than the one followed (no leader at all is waited out: the
    /// heartbeat watchdog covers a dead master).
    pub(crate) async fn moved(&mut self) -> String {
        #[cfg(feature = "zookeeper")]
        return self.inner.moved().await;
        #[cfg(not(feature = "zookeeper"))]
        std::future::pending().await
    }
}

#[cfg(feature = "zookeeper")]
mod detected {
    use std::sync::Mutex;

    use http::Uri;
    use mesos_zookeeper::{Leader, MasterDetector, Membership, ZkUrl};
    use tokio::sync::watch;

    use crate::builder::{Shared, ZooKeeperSettings, OPERATOR_API_PATH};
    use crate::Error;

    /// A ZooKeeper detector, started on first use (the client may be built
    /// outside a runtime).
    pub(crate) struct Detected {
        url: ZkUrl,
        settings: ZooKeeperSettings,
        running: Mutex<Option<(MasterDetector, watch::Receiver<Option<Leader>>)>>,
        /// The leader [`leader`](Self::leader) returned last.
        given: Mutex<Option<Membership>>,
    }

    pub(crate) struct Watch {
        leaders: watch::Receiver<Option<Leader>>,
        following: Option<Membership>,
    }

    impl Watch {
        pub(crate) async fn moved(&mut self) -> String {
            loop {
                let current = self
                    .leaders
                    .borrow_and_update()
                    .as_ref()
                    .map(|l| l.membership.clone());
                if let Some(current) = current {
                    if Some(&current) != self.following.as_ref() {
                        return format!(
                            "ZooKeeper names another leading master (znode {})",
                            current.name
                        );
                    }
                }
                if self.leaders.changed().await.is_err() {
                    return std::future::pending().await;
                }
            }
        }
    }

    impl Detected {
        pub(crate) fn new(url: ZkUrl, settings: ZooKeeperSettings) -> Self {
            Detected {
                url,
                settings,
                running: Mutex::new(None),
                given: Mutex::new(None),
            }
        }

        /// A watch on the leader last given.
        pub(crate) fn watch(&self) -> Option<super::LeaderWatch> {
            let leaders = self.leaders("SUBSCRIBE").ok()?;
            let following = self.given.lock().ok()?.clone();
            Some(super::LeaderWatch {
                inner: Watch { leaders, following },
            })
        }

        fn leaders(&self, call: &'static str) -> Result<watch::Receiver<Option<Leader>>, Error> {
            let mut running = self
                .running
                .lock()
                .map_err(|_| Error::Config(format!("{call}: detector state poisoned")))?;
            if running.is_none() {
                let detector =
                    MasterDetector::start(self.url.clone(), self.settings.options.clone())
                        .map_err(|e| Error::Config(format!("{call}: {e}")))?;
                tracing::info!(url = %self.url, "detecting the leading master through ZooKeeper");
                let leaders = detector.subscribe();
                *running = Some((detector, leaders));
            }
            running
                .as_ref()
                .map(|(_, leaders)| leaders.clone())
                .ok_or_else(|| Error::Config("no detector".into()))
        }

        /// Whether detected masters are reached over `https`.
        pub(crate) fn https(&self) -> bool {
            self.settings.https
        }

        /// Waits (at most the request timeout) until ZooKeeper names a
        /// leader with a usable address; its operator API URL.
        pub(crate) async fn leader(
            &self,
            shared: &Shared,
            call: &'static str,
        ) -> Result<Uri, Error> {
            let scheme = if self.settings.https { "https" } else { "http" };
            let mut leaders = self.leaders(call)?;
            let url_of = |leader: &Option<Leader>| {
                let endpoint = leader.as_ref()?.endpoint()?;
                format!("{scheme}://{endpoint}{OPERATOR_API_PATH}")
                    .parse::<Uri>()
                    .ok()
            };
            let waited = shared.request_timeout;
            let found =
                tokio::time::timeout(waited, leaders.wait_for(|l| url_of(l).is_some())).await;
            let leader = match found {
                Ok(Ok(leader)) => leader.clone(),
                _ => return Err(Error::NoLeader { call, waited }),
            };
            let url = url_of(&leader).ok_or(Error::NoLeader { call, waited })?;
            if let Ok(mut given) = self.given.lock() {
                *given = leader.map(|l| l.membership);
            }
            Ok(url)
        }
    }
}
