//! [`FileStateStore`]: framework state in a directory, one file per entry,
//! each written atomically.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use mesos_proto::v1::{FrameworkId, TaskId, TaskInfo, TaskStatus};

use super::rules::{self, INTENTS, TASKS};
use super::{codec, IntentPhase, LaunchIntent, StateError, StateStore, StoreLimits};

const FRAMEWORK_ID_FILE: &str = "framework_id";
const INTENTS_DIR: &str = "intents";
const TASKS_DIR: &str = "tasks";
const LOCK_FILE: &str = "LOCK";
const TMP_PREFIX: &str = ".tmp-";

/// A [`StateStore`] in a directory:
///
/// ```text
/// <dir>/LOCK              held (flock) while a process has the store open
/// <dir>/framework_id      the framework id record
/// <dir>/intents/<task>    one launch intent record per task id
/// <dir>/tasks/<task>      one task state record per task id
/// ```
///
/// Task ids are encoded into file names (see
/// [`encode_key`](super::codec::encode_key)). Every write goes to a fresh
/// temporary file in the same directory, which is fsynced, renamed over
/// the entry, and the directory fsynced: a write that returned `Ok`
/// survives a crash or power loss, and a crash mid-write leaves the
/// previous entry (the temporary files it leaves are deleted by the next
/// [`open`](Self::open), never read as data). A damaged entry is a
/// [`StateError::Corrupt`] naming its file.
///
/// One process at a time: `open` takes an exclusive lock on `<dir>/LOCK`
/// ([`StateError::Locked`] otherwise; the lock goes with the process, even
/// killed). Within the process, clones share the store and every operation
/// is serialized (file I/O runs on tokio's blocking threads).
///
/// Bounds ([`StoreLimits`]): entries larger than `max_entry_bytes` are
/// neither written nor read (an oversized file is reported, not loaded);
/// `open` refuses a directory holding more than `max_intents` intents or
/// `max_tasks` task states, and writes beyond them fail with
/// [`StateError::TooManyEntries`].
///
/// ```
/// use mesos_framework::state::{FileStateStore, StateStore};
/// use mesos_proto::v1::FrameworkId;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = std::env::temp_dir().join(format!("state-doc-{}", std::process::id()));
/// let store = FileStateStore::open(&dir)?;
/// store.set_framework_id(&FrameworkId { value: "f-1".into() }).await?;
/// drop(store);
///
/// // After a restart:
/// let store = FileStateStore::open(&dir)?;
/// assert_eq!(store.framework_id().await?.map(|id| id.value).as_deref(), Some("f-1"));
/// # drop(store); std::fs::remove_dir_all(&dir)?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct FileStateStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    limits: StoreLimits,
    index: Mutex<Index>,
    /// Holds the directory's lock while the store is open.
    _lock: File,
}

/// The entries present, by file name (kept in step with the directory:
/// only this store writes it while it holds the lock).
#[derive(Debug, Default)]
struct Index {
    intents: BTreeSet<String>,
    tasks: BTreeSet<String>,
    next_tmp: u64,
}

fn io_error<'a>(
    operation: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> StateError + 'a {
    move |source| StateError::Io {
        operation,
        path: path.to_path_buf(),
        source,
    }
}

fn location(path: &Path) -> String {
    path.display().to_string()
}

fn sync_dir(dir: &Path) -> Result<(), StateError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error("fsync", dir))
}

impl FileStateStore {
    /// Opens (creating it if needed) the store in `dir`, with the default
    /// [`StoreLimits`].
    ///
    /// This does blocking file I/O; the store's methods do theirs on
    /// tokio's blocking threads.
    ///
    /// # Errors
    /// [`StateError::Locked`] when another process has it open,
    /// [`StateError::TooManyEntries`] when it holds more entries than the
    /// limits, [`StateError::Io`].
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StateError> {
        Self::open_with_limits(dir, StoreLimits::default())
    }

    /// Opens the store in `dir` with `limits`.
    pub fn open_with_limits(
        dir: impl AsRef<Path>,
        limits: StoreLimits,
    ) -> Result<Self, StateError> {
        let dir = dir.as_ref().to_path_buf();
        for sub in [dir.clone(), dir.join(INTENTS_DIR), dir.join(TASKS_DIR)] {
            fs::create_dir_all(&sub).map_err(io_error("create directory", &sub))?;
        }
        let lock_path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(io_error("open", &lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(StateError::Locked { path: lock_path })
            }
            Err(fs::TryLockError::Error(source)) => {
                return Err(StateError::Io {
                    operation: "lock",
                    path: lock_path,
                    source,
                })
            }
        }
        sync_dir(&dir)?;
        let mut index = Index::default();
        scan(&dir, None, &limits)?;
        index.intents = scan(&dir.join(INTENTS_DIR), Some(INTENTS), &limits)?;
        index.tasks = scan(&dir.join(TASKS_DIR), Some(TASKS), &limits)?;
        tracing::debug!(
            dir = %dir.display(),
            intents = index.intents.len(),
            tasks = index.tasks.len(),
            "opened the framework state"
        );
        Ok(FileStateStore {
            inner: Arc::new(Inner {
                dir,
                limits,
                index: Mutex::new(index),
                _lock: lock,
            }),
        })
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Runs `work` with the index locked, on a blocking thread when in a
    /// tokio runtime.
    async fn run<T, F>(&self, work: F) -> Result<T, StateError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner, &mut Index) -> Result<T, StateError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        let job = move || {
            let mut index = inner.lock();
            work(&inner, &mut index)
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => runtime
                .spawn_blocking(job)
                .await
                .map_err(|e| StateError::Io {
                    operation: "run the blocking file task",
                    path: self.inner.dir.clone(),
                    source: io::Error::other(e.to_string()),
                })?,
            Err(_) => job(),
        }
    }

    async fn transition(&self, task_id: &TaskId, to: IntentPhase) -> Result<(), StateError> {
        let task_id = task_id.value.clone();
        let key = rules::key(&task_id)?;
        self.run(move |inner, index| {
            if !index.intents.contains(&key) {
                return Err(StateError::NoIntent { task_id });
            }
            let path = inner.dir.join(INTENTS_DIR).join(&key);
            let Some(mut intent) = inner.read_intent(&path, &key)? else {
                return Err(StateError::NoIntent { task_id });
            };
            if rules::transition(&task_id, intent.phase, to)? {
                intent.phase = to;
                inner.write(index, &path, &codec::encode_intent(&intent))?;
            }
            Ok(())
        })
        .await
    }
}

/// The entry names in `dir` (for `kind`; `None`: the top directory, only
/// cleaned): temporary files left by a crash are deleted, other names are
/// ignored unless they are entry names. At most the limit of `kind`.
fn scan(
    dir: &Path,
    kind: Option<&'static str>,
    limits: &StoreLimits,
) -> Result<BTreeSet<String>, StateError> {
    let mut names = BTreeSet::new();
    let mut removed = false;
    let max = match kind {
        Some(INTENTS) => limits.max_intents,
        _ => limits.max_tasks,
    };
    for entry in fs::read_dir(dir).map_err(io_error("list", dir))? {
        let entry = entry.map_err(io_error("list", dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with(TMP_PREFIX) {
            let path = entry.path();
            tracing::debug!(file = %path.display(), "removing a temporary file left by an interrupted write");
            fs::remove_file(&path).map_err(io_error("remove", &path))?;
            removed = true;
        } else if let Some(kind) = kind {
            if codec::decode_key(name).is_some() {
                if names.len() >= max {
                    return Err(StateError::TooManyEntries { kind, max });
                }
                names.insert(name.to_string());
            } else {
                tracing::warn!(file = %entry.path().display(), "ignoring a file that is not a state entry");
            }
        }
    }
    if removed {
        sync_dir(dir)?;
    }
    Ok(names)
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Index> {
        self.index
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Writes `bytes` to `path` atomically and durably: a fresh temporary
    /// file, fsynced, renamed over `path`, the directory fsynced.
    fn write(&self, index: &mut Index, path: &Path, bytes: &[u8]) -> Result<(), StateError> {
        rules::check_size(&location(path), bytes.len(), self.limits.max_entry_bytes)?;
        let dir = path.parent().unwrap_or(&self.dir);
        index.next_tmp += 1;
        let tmp = dir.join(format!(
            "{TMP_PREFIX}{}-{}",
            std::process::id(),
            index.next_tmp
        ));
        let written = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)
                .map_err(io_error("create", &tmp))?;
            file.write_all(bytes).map_err(io_error("write", &tmp))?;
            file.sync_all().map_err(io_error("fsync", &tmp))?;
            fs::rename(&tmp, path).map_err(io_error("rename", path))
        })();
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written?;
        sync_dir(dir)
    }

    fn remove(&self, path: &Path) -> Result<(), StateError> {
        match fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io_error("remove", path)(e)),
        }
        sync_dir(path.parent().unwrap_or(&self.dir))
    }

    /// The bytes of `path` (`None`: no such file), at most
    /// `max_entry_bytes`.
    fn read(&self, path: &Path) -> Result<Option<Vec<u8>>, StateError> {
        let file = match File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("open", path)(e)),
        };
        let max = self.limits.max_entry_bytes;
        let mut bytes = Vec::new();
        file.take(u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(io_error("read", path))?;
        rules::check_size(&location(path), bytes.len(), max)?;
        Ok(Some(bytes))
    }

    fn read_intent(&self, path: &Path, key: &str) -> Result<Option<LaunchIntent>, StateError> {
        self.read(path)?
            .map(|bytes| rules::read_intent(&location(path), key, &bytes))
            .transpose()
    }
}

#[async_trait]
impl StateStore for FileStateStore {
    async fn framework_id(&self) -> Result<Option<FrameworkId>, StateError> {
        self.run(|inner, _| {
            let path = inner.dir.join(FRAMEWORK_ID_FILE);
            inner
                .read(&path)?
                .map(|bytes| rules::read_framework_id(&location(&path), &bytes))
                .transpose()
        })
        .await
    }

    async fn set_framework_id(&self, id: &FrameworkId) -> Result<(), StateError> {
        let bytes = codec::encode_framework_id(id);
        self.run(move |inner, index| inner.write(index, &inner.dir.join(FRAMEWORK_ID_FILE), &bytes))
            .await
    }

    async fn clear_framework_id(&self) -> Result<(), StateError> {
        self.run(|inner, _| inner.remove(&inner.dir.join(FRAMEWORK_ID_FILE)))
            .await
    }

    async fn record_intent(&self, task: &TaskInfo) -> Result<(), StateError> {
        let key = rules::key(&task.task_id.value)?;
        let task = task.clone();
        self.run(move |inner, index| {
            let path = inner.dir.join(INTENTS_DIR).join(&key);
            if index.intents.contains(&key) {
                if let Some(existing) = inner.read_intent(&path, &key)? {
                    return rules::record_over(&existing, &task);
                }
            }
            if index.tasks.contains(&key) {
                return Err(StateError::TaskIdInUse {
                    task_id: task.task_id.value,
                });
            }
            rules::check_count(INTENTS, index.intents.len(), &inner.limits)?;
            let intent = LaunchIntent {
                task,
                phase: IntentPhase::Pending,
            };
            inner.write(index, &path, &codec::encode_intent(&intent))?;
            index.intents.insert(key);
            Ok(())
        })
        .await
    }

    async fn mark_launched(&self, task_id: &TaskId) -> Result<(), StateError> {
        self.transition(task_id, IntentPhase::Launched).await
    }

    async fn mark_dropped(&self, task_id: &TaskId) -> Result<(), StateError> {
        self.transition(task_id, IntentPhase::Dropped).await
    }

    async fn remove_intent(&self, task_id: &TaskId) -> Result<(), StateError> {
        let key = rules::key(&task_id.value)?;
        self.run(move |inner, index| {
            inner.remove(&inner.dir.join(INTENTS_DIR).join(&key))?;
            index.intents.remove(&key);
            Ok(())
        })
        .await
    }

    async fn intents(&self) -> Result<Vec<LaunchIntent>, StateError> {
        self.run(|inner, index| {
            let mut intents = Vec::with_capacity(index.intents.len());
            for key in &index.intents {
                let path = inner.dir.join(INTENTS_DIR).join(key);
                intents.extend(inner.read_intent(&path, key)?);
            }
            intents.sort_by(|a, b| a.task.task_id.value.cmp(&b.task.task_id.value));
            Ok(intents)
        })
        .await
    }

    async fn put_task_state(&self, status: &TaskStatus) -> Result<(), StateError> {
        let key = rules::key(&status.task_id.value)?;
        let bytes = codec::encode_task_state(status);
        self.run(move |inner, index| {
            if !index.tasks.contains(&key) {
                rules::check_count(TASKS, index.tasks.len(), &inner.limits)?;
            }
            inner.write(index, &inner.dir.join(TASKS_DIR).join(&key), &bytes)?;
            index.tasks.insert(key);
            Ok(())
        })
        .await
    }

    async fn remove_task_state(&self, task_id: &TaskId) -> Result<(), StateError> {
        let key = rules::key(&task_id.value)?;
        self.run(move |inner, index| {
            inner.remove(&inner.dir.join(TASKS_DIR).join(&key))?;
            index.tasks.remove(&key);
            Ok(())
        })
        .await
    }

    async fn task_states(&self) -> Result<Vec<TaskStatus>, StateError> {
        self.run(|inner, index| {
            let mut states = Vec::with_capacity(index.tasks.len());
            for key in &index.tasks {
                let path = inner.dir.join(TASKS_DIR).join(key);
                if let Some(bytes) = inner.read(&path)? {
                    states.push(rules::read_task_state(&location(&path), key, &bytes)?);
                }
            }
            states.sort_by(|a, b| a.task_id.value.cmp(&b.task_id.value));
            Ok(states)
        })
        .await
    }
}
