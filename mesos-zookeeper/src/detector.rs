//! [`MasterDetector`]: which master leads, as ZooKeeper says, kept up to
//! date by watches.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mesos_proto::v1::MasterInfo;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use zookeeper_client::{Client, EventType, OneshotWatcher};

use crate::member::{self, elect, read_master_info, Membership, MAX_MEMBERS};
use crate::session::{self, Retry, ZkError, DEFAULT_SESSION_TIMEOUT};
use crate::ZkUrl;

/// The leading master, as detected.
#[derive(Clone, Debug, PartialEq)]
pub struct Leader {
    /// Its znode in the group.
    pub membership: Membership,
    /// What it wrote there.
    pub info: MasterInfo,
}

impl Leader {
    /// `host:port` of its HTTP API (see [`member::master_endpoint`]).
    pub fn endpoint(&self) -> Option<String> {
        member::master_endpoint(&self.info)
    }
}

/// Timing of a [`MasterDetector`] (and of a
/// [`MasterContender`](crate::MasterContender)'s session).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct DetectorOptions {
    /// The ZooKeeper session timeout asked for. Default: 10 s (Mesos's).
    pub session_timeout: Duration,
    /// The first delay before reconnecting or retrying a failed read;
    /// doubles up to `retry_max`. Default: 100 ms.
    pub retry_initial: Duration,
    /// The longest such delay. Default: 5 s.
    pub retry_max: Duration,
}

impl Default for DetectorOptions {
    fn default() -> Self {
        DetectorOptions {
            session_timeout: DEFAULT_SESSION_TIMEOUT,
            retry_initial: Duration::from_millis(100),
            retry_max: Duration::from_secs(5),
        }
    }
}

impl DetectorOptions {
    /// Sets the session timeout.
    pub fn session_timeout(mut self, timeout: Duration) -> Self {
        self.session_timeout = timeout;
        self
    }

    /// Sets the bounds of the retry delays.
    pub fn retry(mut self, initial: Duration, max: Duration) -> Self {
        self.retry_initial = initial;
        self.retry_max = max;
        self
    }
}

/// Detects the leading Mesos master of a ZooKeeper group, as Mesos's
/// `ZooKeeperMasterDetector` does, and follows it.
///
/// A background task holds a ZooKeeper session, lists the group's children
/// with a watch, elects the member with the lowest sequence number and reads
/// its `MasterInfo` (see [`member`](crate::member)). Each change ZooKeeper
/// reports is read again at once. When the session expires, a new one is
/// opened (with doubling delays while ZooKeeper is unreachable) and the last
/// known leader stays in place meanwhile. No member, a missing group path or
/// an unreadable leader znode is reported as no leader (`None`), never as a
/// failure.
///
/// Dropping the last clone stops the task and closes the session.
///
/// ```no_run
/// use mesos_zookeeper::{DetectorOptions, MasterDetector, ZkUrl};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let url: ZkUrl = "zk://zk1:2181,zk2:2181/mesos".parse()?;
/// let detector = MasterDetector::start(url, DetectorOptions::default())?;
/// let mut leaders = detector.subscribe();
/// loop {
///     match &*leaders.borrow_and_update() {
///         Some(leader) => println!("leader: {:?}", leader.endpoint()),
///         None => println!("no leader"),
///     }
///     leaders.changed().await?;
/// }
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct MasterDetector {
    leader: watch::Receiver<Option<Leader>>,
    task: Arc<Task>,
}

#[derive(Debug)]
struct Task {
    handle: JoinHandle<()>,
    session: Arc<Mutex<Option<zookeeper_client::SessionInfo>>>,
}

impl Drop for Task {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

impl MasterDetector {
    /// Starts detecting on the current tokio runtime.
    ///
    /// # Errors
    /// [`ZkError::NoRuntime`] outside a tokio runtime. Nothing else: an
    /// unreachable ZooKeeper is retried, and reported as no leader.
    pub fn start(url: ZkUrl, options: DetectorOptions) -> Result<Self, ZkError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| ZkError::NoRuntime)?;
        let (sender, leader) = watch::channel(None);
        let session = Arc::new(Mutex::new(None));
        let run = Detection {
            url,
            options,
            sender,
            session: session.clone(),
        };
        let handle = runtime.spawn(run.run());
        Ok(MasterDetector {
            leader,
            task: Arc::new(Task { handle, session }),
        })
    }

    /// The leader as last detected (`None`: none known).
    pub fn leader(&self) -> Option<Leader> {
        self.leader.borrow().clone()
    }

    /// A receiver that sees every change of leader (and keeps the detector
    /// running while held, with a clone of this detector).
    pub fn subscribe(&self) -> watch::Receiver<Option<Leader>> {
        self.leader.clone()
    }

    /// Waits until `accept` holds for the detected leader, for at most
    /// `timeout`; returns the leader then (`Err(last seen)` on timeout).
    pub async fn wait_for(
        &self,
        timeout: Duration,
        mut accept: impl FnMut(Option<&Leader>) -> bool,
    ) -> Result<Option<Leader>, Option<Leader>> {
        let mut leader = self.leader.clone();
        let waited = tokio::time::timeout(timeout, leader.wait_for(|l| accept(l.as_ref()))).await;
        match waited {
            Ok(Ok(found)) => Ok(found.clone()),
            _ => Err(self.leader()),
        }
    }

    /// The current ZooKeeper session (id and password), to let tests expire
    /// it from another client. Not for production use.
    #[doc(hidden)]
    pub fn session_for_tests(&self) -> Option<zookeeper_client::SessionInfo> {
        lock(&self.task.session).clone()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// The detector's task.
struct Detection {
    url: ZkUrl,
    options: DetectorOptions,
    sender: watch::Sender<Option<Leader>>,
    session: Arc<Mutex<Option<zookeeper_client::SessionInfo>>>,
}

/// How waiting on a watch ended.
enum Woken {
    /// Something changed: read again.
    Changed,
    /// The session is gone: open a new one.
    SessionLost,
}

impl Detection {
    async fn run(self) {
        let mut retry = Retry::new(self.options.retry_initial, self.options.retry_max);
        loop {
            let client = match session::connect(&self.url, self.options.session_timeout).await {
                Ok(client) => client,
                Err(e) => {
                    let delay = retry.next_delay();
                    tracing::warn!(url = %self.url, error = ?e, ?delay, "ZooKeeper unreachable; keeping the last known leader and retrying");
                    tokio::time::sleep(delay).await;
                    continue;
                }
            };
            retry.reset();
            *lock(&self.session) = Some(client.session().clone());
            tracing::debug!(url = %self.url, session = ?client.session_id(), "ZooKeeper session established");
            self.follow(&client, &mut retry).await;
            tracing::warn!(url = %self.url, "ZooKeeper session lost; opening a new one (keeping the last known leader meanwhile)");
        }
    }

    /// Follows the group on one session until it is lost.
    async fn follow(&self, client: &Client, retry: &mut Retry) {
        let path = self.url.path();
        loop {
            let woken = match client.get_and_watch_children(path).await {
                Ok((children, _, watcher)) => {
                    if let Err(e) = self.elect(client, &children).await {
                        if e.is_session_lost() {
                            return;
                        }
                        let delay = retry.next_delay();
                        tracing::warn!(error = ?e, ?delay, "reading the leader's znode failed; retrying");
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    wait(watcher).await
                }
                Err(zookeeper_client::Error::NoNode) => {
                    self.publish(None);
                    // Wait for the group to be created.
                    match client.check_and_watch_stat(path).await {
                        Ok((Some(_), _)) => Woken::Changed,
                        Ok((None, watcher)) => wait(watcher).await,
                        Err(e) if session::session_lost(&e) => Woken::SessionLost,
                        Err(e) => {
                            self.pause(retry, "watching for the group", &e).await;
                            Woken::Changed
                        }
                    }
                }
                Err(e) if session::session_lost(&e) => Woken::SessionLost,
                Err(e) => {
                    self.pause(retry, "listing the group", &e).await;
                    Woken::Changed
                }
            };
            match woken {
                Woken::Changed => retry.reset(),
                Woken::SessionLost => return,
            }
        }
    }

    async fn pause(&self, retry: &mut Retry, doing: &str, error: &zookeeper_client::Error) {
        let delay = retry.next_delay();
        tracing::warn!(path = self.url.path(), %error, ?delay, "{doing} failed; retrying");
        tokio::time::sleep(delay).await;
    }

    /// Elects the leader among `children` and publishes it (reading its
    /// znode if it is a new one).
    async fn elect(&self, client: &Client, children: &[String]) -> Result<(), ZkError> {
        if children.len() > MAX_MEMBERS {
            tracing::error!(
                path = self.url.path(),
                children = children.len(),
                max = MAX_MEMBERS,
                "the group has too many children to read; reporting no leader"
            );
            self.publish(None);
            return Ok(());
        }
        let Some(elected) = elect(children.iter().map(String::as_str)) else {
            self.publish(None);
            return Ok(());
        };
        let unchanged = self
            .sender
            .borrow()
            .as_ref()
            .is_some_and(|l| l.membership == elected);
        if unchanged {
            return Ok(());
        }
        let path = format!("{}/{}", self.url.path(), elected.name);
        let data = match client.get_data(&path).await {
            Ok((data, _)) => data,
            // Gone between listing and reading: the watch fires next.
            Err(zookeeper_client::Error::NoNode) => return Ok(()),
            Err(e) => return Err(ZkError::operation("get", &path)(e)),
        };
        match read_master_info(&elected, &data) {
            Ok(info) => {
                tracing::info!(znode = %elected.name, pid = ?info.pid, "detected a new leading master");
                self.publish(Some(Leader {
                    membership: elected,
                    info,
                }));
            }
            Err(e) => {
                tracing::error!(znode = %elected.name, error = ?e, "the leading master's znode is unreadable; reporting no leader");
                self.publish(None);
            }
        }
        Ok(())
    }

    fn publish(&self, leader: Option<Leader>) {
        self.sender.send_if_modified(|current| {
            let changed = *current != leader;
            if changed {
                if leader.is_none() {
                    tracing::info!(path = self.url.path(), "no leading master");
                }
                *current = leader;
            }
            changed
        });
    }
}

/// Waits for a one-shot watch to fire.
async fn wait(watcher: OneshotWatcher) -> Woken {
    let event = watcher.changed().await;
    if event.event_type == EventType::Session && event.session_state.is_terminated() {
        Woken::SessionLost
    } else {
        Woken::Changed
    }
}
