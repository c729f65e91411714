//! Where the connection looks for the leading master: a fixed list tried in
//! turn, or (feature `zookeeper`) the leader a ZooKeeper detector reports.

use http::Uri;

#[cfg(feature = "zookeeper")]
pub(crate) use detected::Detected;

/// The masters a [`Connection`](crate::connection) subscribes to.
pub(crate) enum Masters {
    /// `http(s)://` masters given in the configuration, tried in turn
    /// (redirects lead to the leader).
    Fixed { list: Vec<Uri>, index: usize },
    /// The leader detected through ZooKeeper.
    #[cfg(feature = "zookeeper")]
    Detected(Box<Detected>),
}

impl Masters {
    /// The URL to start with (a placeholder with ZooKeeper: the leader's
    /// comes from [`leader`](Self::leader)).
    pub(crate) fn first(&self) -> Uri {
        match self {
            Masters::Fixed { list, index } => list.get(*index).cloned().unwrap_or_default(),
            #[cfg(feature = "zookeeper")]
            Masters::Detected(_) => Uri::default(),
        }
    }

    /// The next master of the list to try after a failure (`None`: ask
    /// [`leader`](Self::leader) again).
    pub(crate) fn rotate(&mut self) -> Option<Uri> {
        match self {
            Masters::Fixed { list, index } if !list.is_empty() => {
                *index = (*index + 1) % list.len();
                Some(list[*index].clone())
            }
            _ => None,
        }
    }

    /// Whether the connection follows a master's `307`: yes for a fixed
    /// list (a follower names the leader); not with ZooKeeper, whose
    /// detector is the authority. A master it names may not know yet that
    /// it leads (ZooKeeper's watches reach the framework first) and
    /// redirects to the master it still follows, often the one just lost;
    /// the connection retries the detected leader after its backoff
    /// instead, as Mesos's own scheduler library does.
    pub(crate) fn follows_redirects(&self) -> bool {
        match self {
            Masters::Fixed { .. } => true,
            #[cfg(feature = "zookeeper")]
            Masters::Detected(_) => false,
        }
    }

    /// With ZooKeeper, waits for a leading master and returns its scheduler
    /// API URL; `None` for a fixed list (keep the current URL).
    pub(crate) async fn leader(&mut self) -> Result<Option<Uri>, crate::Error> {
        match self {
            Masters::Fixed { .. } => Ok(None),
            #[cfg(feature = "zookeeper")]
            Masters::Detected(detected) => detected.leader_url().await.map(Some),
        }
    }

    /// Resolves (with the reason) when ZooKeeper reports that the master the
    /// connection was given by [`leader`](Self::leader) no longer leads;
    /// never for a fixed list.
    pub(crate) async fn leader_lost(&mut self) -> String {
        match self {
            Masters::Fixed { .. } => std::future::pending().await,
            #[cfg(feature = "zookeeper")]
            Masters::Detected(detected) => detected.leader_lost().await,
        }
    }
}

#[cfg(feature = "zookeeper")]
mod detected {
    use http::Uri;
    use mesos_zookeeper::{DetectorOptions, Leader, MasterDetector, Membership, ZkUrl};
    use tokio::sync::watch;

    use crate::config::SCHEDULER_API_PATH;
    use crate::Error;

    /// A ZooKeeper detector, started on first use (the connection may be
    /// built outside a runtime), and the leader the connection follows.
    pub(crate) struct Detected {
        url: ZkUrl,
        options: DetectorOptions,
        scheme: &'static str,
        running: Option<(MasterDetector, watch::Receiver<Option<Leader>>)>,
        following: Option<Membership>,
    }

    impl Detected {
        pub(crate) fn new(url: ZkUrl, options: DetectorOptions, tls: bool) -> Self {
            Detected {
                url,
                options,
                scheme: if tls { "https" } else { "http" },
                running: None,
                following: None,
            }
        }

        fn leaders(&mut self) -> Result<&mut watch::Receiver<Option<Leader>>, Error> {
            if self.running.is_none() {
                let detector = MasterDetector::start(self.url.clone(), self.options.clone())
                    .map_err(|_| Error::NoRuntime)?;
                tracing::info!(url = %self.url, "detecting the leading master through ZooKeeper");
                let leaders = detector.subscribe();
                self.running = Some((detector, leaders));
            }
            match &mut self.running {
                Some((_, leaders)) => Ok(leaders),
                None => Err(Error::NoRuntime),
            }
        }

        /// Waits until ZooKeeper names a leader with a usable address, and
        /// follows it.
        pub(crate) async fn leader_url(&mut self) -> Result<Uri, Error> {
            let scheme = self.scheme;
            let leaders = self.leaders()?;
            let mut logged = false;
            loop {
                let current = leaders.borrow_and_update().clone();
                match current.as_ref().map(|l| (l, endpoint_url(scheme, l))) {
                    Some((leader, Some(url))) => {
                        self.following = Some(leader.membership.clone());
                        return Ok(url);
                    }
                    Some((leader, None)) => {
                        tracing::warn!(znode = %leader.membership.name, "the leading master's MasterInfo has no usable address; waiting for another leader");
                    }
                    None if !logged => {
                        tracing::info!("no leading master in ZooKeeper; waiting for one");
                        logged = true;
                    }
                    None => {}
                }
                if leaders.changed().await.is_err() {
                    // The detector task ended: it only does when aborted.
                    return Err(Error::NoRuntime);
                }
            }
        }

        /// Resolves when the followed leader is no longer the leader.
        pub(crate) async fn leader_lost(&mut self) -> String {
            let following = self.following.clone();
            let Ok(leaders) = self.leaders() else {
                return std::future::pending().await;
            };
            loop {
                let current = leaders
                    .borrow_and_update()
                    .as_ref()
                    .map(|l| l.membership.clone());
                if current != following {
                    return match current {
                        Some(new) => format!(
                            "ZooKeeper reports a new leading master (znode {})",
                            new.name
                        ),
                        None => "ZooKeeper reports no leading master".to_string(),
                    };
                }
                if leaders.changed().await.is_err() {
                    return std::future::pending().await;
                }
            }
        }
    }

    /// `scheme://host:port/api/v1/scheduler` of `leader`.
    fn endpoint_url(scheme: &str, leader: &Leader) -> Option<Uri> {
        let endpoint = leader.endpoint()?;
        format!("{scheme}://{endpoint}{SCHEDULER_API_PATH}")
            .parse()
            .ok()
    }
}
