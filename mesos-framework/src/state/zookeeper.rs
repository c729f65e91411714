//! [`ZooKeeperStateStore`] (feature `zookeeper`): framework state in
//! znodes, for schedulers that may restart on another machine.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use mesos_proto::v1::{FrameworkId, TaskId, TaskInfo, TaskStatus};
use mesos_zookeeper::{ZkUrl, DEFAULT_SESSION_TIMEOUT};
use zookeeper_client::{Client, CreateMode, Error as ZkClientError};

use super::rules::{self, INTENTS, TASKS};
use super::{codec, IntentPhase, LaunchIntent, StateError, StateStore, StoreLimits};

/// The largest entry a [`ZooKeeperStateStore`] writes: ZooKeeper refuses
/// requests over its `jute.maxbuffer` (1 MiB less one byte by default),
/// path and request header included, so data stays 4 KiB under 1 MiB.
pub const ZNODE_DATA_LIMIT: usize = 1024 * 1024 - 4096;

/// How many times a compare-and-set is tried against concurrent writers.
const CAS_ATTEMPTS: u32 = 16;

/// Settings of a [`ZooKeeperStateStore`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ZooKeeperStoreOptions {
    /// The ZooKeeper session timeout asked for. Default: 10 s (Mesos's).
    pub session_timeout: Duration,
    /// Bounds; `max_entry_bytes` is capped at [`ZNODE_DATA_LIMIT`].
    pub limits: StoreLimits,
    /// How many times one operation is tried when the connection is lost
    /// or the session expires (a new session is opened). Default 5.
    pub max_attempts: u32,
    /// The first delay before trying again after a lost connection;
    /// doubles each time. Default 50 ms.
    pub retry_initial: Duration,
}

impl Default for ZooKeeperStoreOptions {
    fn default() -> Self {
        ZooKeeperStoreOptions {
            session_timeout: DEFAULT_SESSION_TIMEOUT,
            limits: StoreLimits::default(),
            max_attempts: 5,
            retry_initial: Duration::from_millis(50),
        }
    }
}

impl ZooKeeperStoreOptions {
    /// Sets the session timeout.
    pub fn session_timeout(mut self, timeout: Duration) -> Self {
        self.session_timeout = timeout;
        self
    }

    /// Sets the bounds.
    pub fn limits(mut self, limits: StoreLimits) -> Self {
        self.limits = limits;
        self
    }
}

/// A [`StateStore`] in ZooKeeper, under the path of a `zk://` URL:
///
/// ```text
/// <path>/framework_id     the framework id record
/// <path>/intents/<task>   one launch intent record per task id
/// <path>/tasks/<task>     one task state record per task id
/// ```
///
/// The records are those of the file store (see [`codec`]). Znodes are
/// persistent, created as Mesos creates its own: open to all without
/// credentials; with `zk://user:password@...` the session authenticates
/// with ZooKeeper's `digest` scheme and the znodes are readable by
/// everyone and writable only by that identity.
///
/// Phase changes of an intent are compare-and-set (`setData` with the
/// version read), so concurrent writers cannot move an intent backwards or
/// resurrect a removed one. An entry larger than [`ZNODE_DATA_LIMIT`] (or
/// the configured `max_entry_bytes`) is refused with
/// [`StateError::EntryTooLarge`] before it is sent. Counts are checked
/// with the parent znode's child count (`max_intents`, `max_tasks`), and a
/// listing longer than them is refused. Creating an intent is atomic (one
/// znode per task id: of concurrent recordings exactly one wins), but the
/// checks made before it (no stored state for the task id, room for one
/// more) are separate reads, so a concurrent writer can slip in between.
///
/// When the session expires (or the connection is lost), the operation is
/// tried again on a new session, up to `max_attempts` times; writes are
/// idempotent or checked, so a retried write after an unanswered one does
/// not apply twice.
///
/// ```no_run
/// use mesos_framework::state::{StateStore, ZooKeeperStateStore, ZooKeeperStoreOptions};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let url = "zk://fw:secret@zk1:2181,zk2:2181/frameworks/my-framework".parse()?;
/// let store = ZooKeeperStateStore::connect(url, ZooKeeperStoreOptions::default()).await?;
/// println!("stored framework id: {:?}", store.framework_id().await?);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ZooKeeperStateStore {
    inner: Arc<Inner>,
}

struct Inner {
    url: ZkUrl,
    options: ZooKeeperStoreOptions,
    max_entry: usize,
    client: tokio::sync::Mutex<Option<Client>>,
}

impl fmt::Debug for ZooKeeperStateStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // ZkUrl's Debug redacts the password.
        f.debug_struct("ZooKeeperStateStore")
            .field("url", &self.inner.url)
            .field("limits", &self.inner.options.limits)
            .finish_non_exhaustive()
    }
}

/// Runs a ZooKeeper call on the store's client, again on a new session or
/// after a lost connection (see [`Inner::again`]).
macro_rules! zk {
    ($inner:expr, |$client:ident| $call:expr) => {{
        let mut attempt = 0u32;
        loop {
            let $client = $inner.client().await?;
            match $call.await {
                Err(error) if $inner.again(&$client, &error, &mut attempt).await => continue,
                result => break result,
            }
        }
    }};
}

fn zk_error<'a>(
    operation: &'static str,
    path: &'a str,
) -> impl FnOnce(ZkClientError) -> StateError + 'a {
    move |source| StateError::ZooKeeper {
        operation,
        path: path.to_string(),
        source,
    }
}

impl ZooKeeperStateStore {
    /// Opens a session on `url`'s servers (with its credentials) and
    /// creates the store's znodes under `url`'s path if missing.
    ///
    /// # Errors
    /// [`StateError::Connect`] when no session could be opened,
    /// [`StateError::ZooKeeper`] when the znodes could not be created.
    pub async fn connect(url: ZkUrl, options: ZooKeeperStoreOptions) -> Result<Self, StateError> {
        let max_entry = options.limits.max_entry_bytes.min(ZNODE_DATA_LIMIT);
        let inner = Arc::new(Inner {
            url,
            options,
            max_entry,
            client: tokio::sync::Mutex::new(None),
        });
        let acls = mesos_zookeeper::mesos_acls(&inner.url);
        for dir in [inner.path(INTENTS), inner.path(TASKS)] {
            // Only when missing: creating over an existing znode needs the
            // CREATE permission, which a reader's identity lacks.
            let exists = zk!(inner, |client| client.check_stat(&dir))
                .map_err(zk_error("stat", &dir))?
                .is_some();
            if !exists {
                let options = CreateMode::Persistent.with_acls(acls);
                zk!(inner, |client| client.mkdir(&dir, &options))
                    .map_err(zk_error("mkdir", &dir))?;
            }
        }
        Ok(ZooKeeperStateStore { inner })
    }

    /// The URL (its `Display` and `Debug` redact the password).
    pub fn url(&self) -> &ZkUrl {
        &self.inner.url
    }

    /// The current session, for tests that expire it. Not for production
    /// use.
    #[doc(hidden)]
    pub async fn session_for_tests(&self) -> Option<zookeeper_client::SessionInfo> {
        self.inner
            .client
            .lock()
            .await
            .as_ref()
            .map(|c| c.session().clone())
    }
}

impl Inner {
    fn path(&self, name: &str) -> String {
        format!("{}/{name}", self.url.path())
    }

    fn entry(&self, kind: &str, key: &str) -> String {
        format!("{}/{kind}/{key}", self.url.path())
    }

    /// The current client, or a new session when there is none or it ended.
    async fn client(&self) -> Result<Client, StateError> {
        let mut current = self.client.lock().await;
        if let Some(client) = current.as_ref() {
            if !client.state().is_terminated() {
                return Ok(client.clone());
            }
        }
        let client = mesos_zookeeper::connect(&self.url, self.options.session_timeout)
            .await
            .map_err(StateError::Connect)?;
        tracing::debug!(url = %self.url, session = %client.session_id(), "opened a ZooKeeper session for the framework state");
        *current = Some(client.clone());
        Ok(client)
    }

    /// Whether to try a call that failed with `error` again: after a lost
    /// connection (the client reconnects; after a delay) or a lost session
    /// (dropped, so that the next attempt opens a new one), up to
    /// `max_attempts` in all.
    async fn again(&self, client: &Client, error: &ZkClientError, attempt: &mut u32) -> bool {
        *attempt += 1;
        if *attempt >= self.options.max_attempts {
            return false;
        }
        match error {
            ZkClientError::SessionExpired
            | ZkClientError::ClientClosed
            | ZkClientError::SessionMoved => {
                let mut current = self.client.lock().await;
                if current
                    .as_ref()
                    .is_some_and(|c| c.session_id() == client.session_id())
                {
                    tracing::info!(url = %self.url, %error, "the framework state's ZooKeeper session ended; opening a new one");
                    *current = None;
                }
                true
            }
            ZkClientError::ConnectionLoss | ZkClientError::Timeout => {
                let delay = self
                    .options
                    .retry_initial
                    .saturating_mul(1 << (*attempt).min(8));
                tracing::debug!(url = %self.url, %error, ?delay, "ZooKeeper connection lost; trying again");
                tokio::time::sleep(delay).await;
                true
            }
            _ => false,
        }
    }

    async fn get(&self, path: &str) -> Result<Option<(Vec<u8>, i32)>, StateError> {
        match zk!(self, |client| client.get_data(path)) {
            Ok((data, stat)) => Ok(Some((data, stat.version))),
            Err(ZkClientError::NoNode) => Ok(None),
            Err(e) => Err(zk_error("get", path)(e)),
        }
    }

    async fn delete(&self, path: &str) -> Result<(), StateError> {
        match zk!(self, |client| client.delete(path, None)) {
            Ok(()) | Err(ZkClientError::NoNode) => Ok(()),
            Err(e) => Err(zk_error("delete", path)(e)),
        }
    }

    /// Creates `path` with `data`; `Ok(false)` when it exists.
    async fn create(&self, path: &str, data: &[u8]) -> Result<bool, StateError> {
        let options = CreateMode::Persistent.with_acls(mesos_zookeeper::mesos_acls(&self.url));
        match zk!(self, |client| client.create(path, data, &options)) {
            Ok(_) => Ok(true),
            Err(ZkClientError::NodeExists) => Ok(false),
            Err(e) => Err(zk_error("create", path)(e)),
        }
    }

    /// Writes `data` to `path`, creating it if needed (after checking that
    /// `kind` has room for a new entry).
    async fn upsert(
        &self,
        path: &str,
        data: &[u8],
        kind: Option<&'static str>,
    ) -> Result<(), StateError> {
        rules::check_size(path, data.len(), self.max_entry)?;
        for _ in 0..CAS_ATTEMPTS {
            match zk!(self, |client| client.set_data(path, data, None)) {
                Ok(_) => return Ok(()),
                Err(ZkClientError::NoNode) => {}
                Err(e) => return Err(zk_error("set", path)(e)),
            }
            if let Some(kind) = kind {
                self.check_room(kind).await?;
            }
            if self.create(path, data).await? {
                return Ok(());
            }
        }
        Err(StateError::Contended {
            location: path.to_string(),
        })
    }

    /// Refuses a new entry of `kind` when its parent holds the most allowed.
    async fn check_room(&self, kind: &'static str) -> Result<(), StateError> {
        let dir = self.path(kind);
        let count = match zk!(self, |client| client.check_stat(&dir)) {
            Ok(stat) => stat.map_or(0, |s| usize::try_from(s.num_children).unwrap_or(0)),
            Err(e) => return Err(zk_error("stat", &dir)(e)),
        };
        rules::check_count(kind, count, &self.options.limits)
    }

    /// The entries of `kind`, as (name, full path), at most its limit.
    async fn children(&self, kind: &'static str) -> Result<Vec<(String, String)>, StateError> {
        let dir = self.path(kind);
        let names = match zk!(self, |client| client.list_children(&dir)) {
            Ok(names) => names,
            Err(ZkClientError::NoNode) => Vec::new(),
            Err(e) => return Err(zk_error("list", &dir)(e)),
        };
        let max = match kind {
            INTENTS => self.options.limits.max_intents,
            _ => self.options.limits.max_tasks,
        };
        if names.len() > max {
            return Err(StateError::TooManyEntries { kind, max });
        }
        Ok(names
            .into_iter()
            .filter(|name| {
                let ours = codec::decode_key(name).is_some();
                if !ours {
                    tracing::warn!(znode = %format!("{dir}/{name}"), "ignoring a znode that is not a state entry");
                }
                ours
            })
            .map(|name| {
                let path = format!("{dir}/{name}");
                (name, path)
            })
            .collect())
    }

    async fn transition(&self, task_id: &TaskId, to: IntentPhase) -> Result<(), StateError> {
        let key = rules::key(&task_id.value)?;
        let path = self.entry(INTENTS, &key);
        for _ in 0..CAS_ATTEMPTS {
            let Some((data, version)) = self.get(&path).await? else {
                return Err(StateError::NoIntent {
                    task_id: task_id.value.clone(),
                });
            };
            let mut intent = rules::read_intent(&path, &key, &data)?;
            if !rules::transition(&task_id.value, intent.phase, to)? {
                return Ok(());
            }
            intent.phase = to;
            let data = codec::encode_intent(&intent);
            rules::check_size(&path, data.len(), self.max_entry)?;
            match zk!(self, |client| client.set_data(&path, &data, Some(version))) {
                Ok(_) => return Ok(()),
                // Changed or removed meanwhile: read again.
                Err(ZkClientError::BadVersion | ZkClientError::NoNode) => continue,
                Err(e) => return Err(zk_error("set", &path)(e)),
            }
        }
        Err(StateError::Contended { location: path })
    }
}

#[async_trait]
impl StateStore for ZooKeeperStateStore {
    async fn framework_id(&self) -> Result<Option<FrameworkId>, StateError> {
        let path = self.inner.path("framework_id");
        self.inner
            .get(&path)
            .await?
            .map(|(data, _)| rules::read_framework_id(&path, &data))
            .transpose()
    }

    async fn set_framework_id(&self, id: &FrameworkId) -> Result<(), StateError> {
        let path = self.inner.path("framework_id");
        self.inner
            .upsert(&path, &codec::encode_framework_id(id), None)
            .await
    }

    async fn clear_framework_id(&self) -> Result<(), StateError> {
        self.inner.delete(&self.inner.path("framework_id")).await
    }

    async fn record_intent(&self, task: &TaskInfo) -> Result<(), StateError> {
        let key = rules::key(&task.task_id.value)?;
        let path = self.inner.entry(INTENTS, &key);
        let data = codec::encode_intent(&LaunchIntent {
            task: task.clone(),
            phase: IntentPhase::Pending,
        });
        rules::check_size(&path, data.len(), self.inner.max_entry)?;
        for _ in 0..CAS_ATTEMPTS {
            if let Some((existing, _)) = self.inner.get(&path).await? {
                return rules::record_over(&rules::read_intent(&path, &key, &existing)?, task);
            }
            let task_path = self.inner.entry(TASKS, &key);
            if zk!(self.inner, |client| client.check_stat(&task_path))
                .map_err(zk_error("stat", &task_path))?
                .is_some()
            {
                return Err(StateError::TaskIdInUse {
                    task_id: task.task_id.value.clone(),
                });
            }
            self.inner.check_room(INTENTS).await?;
            // Exists when another writer (or an unanswered attempt of
            // this one) created it: compare with what is there.
            if self.inner.create(&path, &data).await? {
                return Ok(());
            }
        }
        Err(StateError::Contended { location: path })
    }

    async fn mark_launched(&self, task_id: &TaskId) -> Result<(), StateError> {
        self.inner.transition(task_id, IntentPhase::Launched).await
    }

    async fn mark_dropped(&self, task_id: &TaskId) -> Result<(), StateError> {
        self.inner.transition(task_id, IntentPhase::Dropped).await
    }

    async fn remove_intent(&self, task_id: &TaskId) -> Result<(), StateError> {
        let key = rules::key(&task_id.value)?;
        self.inner.delete(&self.inner.entry(INTENTS, &key)).await
    }

    async fn intents(&self) -> Result<Vec<LaunchIntent>, StateError> {
        let mut intents = Vec::new();
        for (key, path) in self.inner.children(INTENTS).await? {
            if let Some((data, _)) = self.inner.get(&path).await? {
                intents.push(rules::read_intent(&path, &key, &data)?);
            }
        }
        intents.sort_by(|a, b| a.task.task_id.value.cmp(&b.task.task_id.value));
        Ok(intents)
    }

    async fn put_task_state(&self, status: &TaskStatus) -> Result<(), StateError> {
        let key = rules::key(&status.task_id.value)?;
        let path = self.inner.entry(TASKS, &key);
        self.inner
            .upsert(&path, &codec::encode_task_state(status), Some(TASKS))
            .await
    }

    async fn remove_task_state(&self, task_id: &TaskId) -> Result<(), StateError> {
        let key = rules::key(&task_id.value)?;
        self.inner.delete(&self.inner.entry(TASKS, &key)).await
    }

    async fn task_states(&self) -> Result<Vec<TaskStatus>, StateError> {
        let mut states = Vec::new();
        for (key, path) in self.inner.children(TASKS).await? {
            if let Some((data, _)) = self.inner.get(&path).await? {
                states.push(rules::read_task_state(&path, &key, &data)?);
            }
        }
        states.sort_by(|a, b| a.task_id.value.cmp(&b.task_id.value));
        Ok(states)
    }
}
