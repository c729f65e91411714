//! The fetcher cache (`CommandInfo.URI.cache`), as Mesos's
//! (`docs/fetcher.md`, `src/slave/containerizer/fetcher.cpp` at 1.11.0).
//!
//! - Each agent keeps its cache under `<agent work dir>/fetch`, emptied when
//!   the agent starts; a user's files go to `fetch/<user>` (the user of the
//!   `CommandInfo`, else the framework's). An entry is keyed by user and
//!   URI: the same URI fetched for two users is downloaded twice.
//! - A cache file is named `c<serial>-<URI base name>` (long names cut to a
//!   prefix and a suffix, the extension kept) so that archives are
//!   recognised by their extension when extracted from the cache.
//! - Before downloading, the resource's size is determined (a local file's
//!   length; an HTTP response's `Content-Length`, which must be positive)
//!   and that much space is reserved. When the cache would exceed its size
//!   (Mesos's `--fetcher_cache_size`), entries are evicted, least recently
//!   used first, among those not in use: an entry is in use while it is
//!   downloaded or copied or extracted into a sandbox. When the size cannot
//!   be determined, or not enough space can be freed, the URI is fetched
//!   directly into the sandbox instead (the sandbox's `stderr` says why).
//! - Concurrent fetches of the same URI (same user) wait for the first
//!   one's download: every URI is downloaded once as long as it is cached.
//!   A failed download is the failure of every fetch waiting for it; the
//!   next fetch of that URI tries again.
//! - A cache file found larger than reserved (a local file that grew) is
//!   accounted at its real size; if the cache then overflows and nothing
//!   can be evicted, it is removed once no fetch uses it any more.
//! - Entries are never refreshed: a changed resource needs a new URI.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use super::{basename, download, FetchError, FetcherConfig, Source};

/// The most entries one agent's cache holds, whatever their sizes.
const MAX_ENTRIES: usize = 10_000;

/// One agent's fetcher cache.
pub(super) struct Cache {
    directory: PathBuf,
    capacity: u64,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    slots: HashMap<String, Slot>,
    /// The last cache file number given.
    serial: u64,
    /// Ticks at every use, for least-recently-used eviction.
    clock: u64,
}

struct Slot {
    entry: Arc<Entry>,
    /// The bytes reserved (then the real size).
    size: u64,
    /// Fetches using it: not evictable while positive.
    refs: usize,
    last_used: u64,
    /// Removed when `refs` drops to 0 (the cache overflowed because of it).
    doomed: bool,
}

struct Entry {
    path: PathBuf,
    /// The outcome of its download, set once by the first fetch; others
    /// wait on it.
    filled: tokio::sync::OnceCell<Filled>,
}

#[derive(Clone)]
enum Filled {
    /// The cache file is complete.
    Cached,
    /// The cache cannot be used for this URI (why); fetch directly.
    Bypass(&'static str),
    /// The download failed.
    Failed(Arc<FetchError>),
}

/// What [`Cache::fetch`] found.
pub(super) enum Cached<'a> {
    /// The resource is in the cache, held while this lives.
    Hit(CacheFile<'a>),
    /// Not cached (why): fetch directly into the sandbox.
    Bypass(&'static str),
}

/// A complete cache file in use: not evicted while this lives.
pub(super) struct CacheFile<'a> {
    cache: &'a Cache,
    key: String,
    entry: Arc<Entry>,
}

impl CacheFile<'_> {
    /// The cache file.
    pub(super) fn path(&self) -> &Path {
        &self.entry.path
    }
}

impl Drop for CacheFile<'_> {
    fn drop(&mut self) {
        self.cache.release(&self.key, &self.entry);
    }
}

impl Cache {
    /// A cache of `capacity` bytes in `directory`, which is emptied (as
    /// the agent clears `--fetcher_cache_dir` when it starts).
    pub(super) fn new(directory: PathBuf, capacity: u64) -> Cache {
        match std::fs::remove_dir_all(&directory) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                tracing::warn!(directory = %directory.display(), error = %e, "clearing the fetcher cache failed");
            }
            _ => {}
        }
        Cache {
            directory,
            capacity,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Brings `uri` (read from `source`) into the cache for `user`, or
    /// waits for the fetch already doing it.
    pub(super) async fn fetch(
        &self,
        user: Option<&str>,
        uri: &str,
        source: &Source,
        config: &FetcherConfig,
    ) -> Result<Cached<'_>, FetchError> {
        let directory = self.user_directory(user)?;
        let key = match user {
            Some(user) => format!("{user}@{uri}"),
            None => uri.to_string(),
        };
        let Some(file) = self.acquire(&key, &directory, uri)? else {
            return Ok(Cached::Bypass(
                "the fetcher cache is full of entries in use",
            ));
        };
        let filled = file
            .entry
            .filled
            .get_or_init(|| self.fill(&key, &file.entry.path, uri, source, config))
            .await
            .clone();
        match filled {
            Filled::Cached => Ok(Cached::Hit(file)),
            Filled::Bypass(why) => {
                self.forget(&key, &file.entry);
                Ok(Cached::Bypass(why))
            }
            Filled::Failed(error) => {
                self.forget(&key, &file.entry);
                Err(FetchError::Shared(error))
            }
        }
    }

    /// `fetch/<user>`: the user must be one plain path component.
    fn user_directory(&self, user: Option<&str>) -> Result<PathBuf, FetchError> {
        let Some(user) = user else {
            return Ok(self.directory.clone());
        };
        let mut components = Path::new(user).components();
        match (components.next(), components.next()) {
            (Some(Component::Normal(_)), None) if !user.contains(['/', '\0']) => {
                Ok(self.directory.join(user))
            }
            _ => Err(FetchError::Invalid(format!(
                "Invalid user name '{user}' for the fetcher cache"
            ))),
        }
    }

    /// The entry of `key`, created if new, with one more user; `None` when
    /// the cache has [`MAX_ENTRIES`] entries, all in use.
    fn acquire(
        &self,
        key: &str,
        directory: &Path,
        uri: &str,
    ) -> Result<Option<CacheFile<'_>>, FetchError> {
        let name = basename(uri)?;
        let mut evicted = Vec::new();
        let mut state = self.lock();
        state.clock += 1;
        let now = state.clock;
        if let Some(slot) = state.slots.get_mut(key) {
            slot.refs += 1;
            slot.last_used = now;
            let entry = slot.entry.clone();
            return Ok(Some(self.file(key, entry)));
        }
        if state.slots.len() >= MAX_ENTRIES {
            evicted.extend(evict_one(&mut state));
        }
        let full = state.slots.len() >= MAX_ENTRIES;
        let file = (!full).then(|| {
            state.serial += 1;
            let entry = Arc::new(Entry {
                path: directory.join(cache_file_name(state.serial, &name)),
                filled: tokio::sync::OnceCell::new(),
            });
            let slot = Slot {
                entry: entry.clone(),
                size: 0,
                refs: 1,
                last_used: now,
                doomed: false,
            };
            state.slots.insert(key.to_string(), slot);
            self.file(key, entry)
        });
        drop(state);
        remove_files(&evicted);
        Ok(file)
    }

    fn file(&self, key: &str, entry: Arc<Entry>) -> CacheFile<'_> {
        CacheFile {
            cache: self,
            key: key.to_string(),
            entry,
        }
    }

    /// Downloads (or copies) the resource into the entry's file, after
    /// reserving its size.
    async fn fill(
        &self,
        key: &str,
        path: &Path,
        uri: &str,
        source: &Source,
        config: &FetcherConfig,
    ) -> Filled {
        if let Some(parent) = path.parent() {
            if let Err(source) = tokio::fs::create_dir_all(parent).await {
                return Filled::Failed(Arc::new(FetchError::Io {
                    what: format!(
                        "Failed to create the cache directory '{}'",
                        parent.display()
                    ),
                    source,
                }));
            }
        }
        let copy_error = |from: &Path, source| FetchError::Copy {
            path: from.display().to_string(),
            source,
        };
        let filled = match source {
            Source::Local(from) => match tokio::fs::metadata(from).await {
                Err(e) => Err(copy_error(from, e)),
                Ok(metadata) if !self.reserve(key, metadata.len()) => {
                    return Filled::Bypass(NO_SPACE);
                }
                Ok(_) => match tokio::fs::copy(from, path).await {
                    Ok(copied) => Ok(copied),
                    Err(e) => {
                        let _ = tokio::fs::remove_file(path).await;
                        Err(copy_error(from, e))
                    }
                },
            },
            Source::Http => {
                let downloaded = download::within(config, path, async {
                    let response = download::open(uri, config).await?;
                    let Some(size) = download::content_length(&response).filter(|n| *n > 0) else {
                        return Ok(None);
                    };
                    if !self.reserve(key, size) {
                        return Ok(Some(Err(NO_SPACE)));
                    }
                    download::save(response, path, config)
                        .await
                        .map(|n| Some(Ok(n)))
                })
                .await;
                match downloaded {
                    Ok(None) => return Filled::Bypass("the download size could not be determined"),
                    Ok(Some(Err(why))) => return Filled::Bypass(why),
                    Ok(Some(Ok(size))) => Ok(size),
                    Err(e) => Err(e),
                }
            }
        };
        match filled {
            Ok(size) => {
                self.adjust(key, path, size);
                Filled::Cached
            }
            Err(e) => Filled::Failed(Arc::new(e)),
        }
    }

    /// Reserves `size` bytes for `key`, evicting unused entries, least
    /// recently used first; false if that cannot free enough.
    fn reserve(&self, key: &str, size: u64) -> bool {
        if size > self.capacity {
            return false;
        }
        let mut evicted = Vec::new();
        let mut state = self.lock();
        let reserved = loop {
            // Without `key`'s own slot: a fetch that takes over a download
            // abandoned midway reserves its size again.
            let used: u64 = state
                .slots
                .iter()
                .filter(|(k, _)| k.as_str() != key)
                .map(|(_, s)| s.size)
                .sum();
            if used.saturating_add(size) <= self.capacity {
                break true;
            }
            match evict_one(&mut state) {
                Some(path) => evicted.push(path),
                None => break false,
            }
        };
        if let Some(slot) = state.slots.get_mut(key).filter(|_| reserved) {
            slot.size = size;
        }
        drop(state);
        remove_files(&evicted);
        reserved
    }

    /// Accounts the entry at its real `size`; evicts others if the cache
    /// overflows, or dooms this one if that is not enough.
    fn adjust(&self, key: &str, path: &Path, size: u64) {
        let mut evicted = Vec::new();
        let mut state = self.lock();
        if let Some(slot) = state.slots.get_mut(key).filter(|s| s.entry.path == path) {
            slot.size = size;
        }
        loop {
            let used: u64 = state.slots.values().map(|s| s.size).sum();
            if used <= self.capacity {
                break;
            }
            if let Some(path) = evict_one(&mut state) {
                evicted.push(path);
                continue;
            }
            tracing::warn!(
                used,
                capacity = self.capacity,
                key,
                "fetcher cache space overflow"
            );
            if let Some(slot) = state.slots.get_mut(key).filter(|s| s.entry.path == path) {
                slot.doomed = true;
            }
            break;
        }
        drop(state);
        remove_files(&evicted);
    }

    /// One fetch stopped using `entry`.
    fn release(&self, key: &str, entry: &Arc<Entry>) {
        let mut state = self.lock();
        state.clock += 1;
        let now = state.clock;
        let Some(slot) = state.slots.get_mut(key) else {
            return;
        };
        if !Arc::ptr_eq(&slot.entry, entry) {
            return;
        }
        slot.refs = slot.refs.saturating_sub(1);
        slot.last_used = now;
        if slot.refs == 0 && slot.doomed {
            state.slots.remove(key);
            drop(state);
            remove_files(std::slice::from_ref(&entry.path));
        }
    }

    /// Drops an entry whose download failed or was bypassed.
    fn forget(&self, key: &str, entry: &Arc<Entry>) {
        let mut state = self.lock();
        if state
            .slots
            .get(key)
            .is_some_and(|s| Arc::ptr_eq(&s.entry, entry))
        {
            state.slots.remove(key);
            drop(state);
            remove_files(std::slice::from_ref(&entry.path));
        }
    }
}

const NO_SPACE: &str = "there is not enough space in the fetcher cache";

/// Removes the least recently used entry not in use; its file's path.
fn evict_one(state: &mut State) -> Option<PathBuf> {
    let key = state
        .slots
        .iter()
        .filter(|(_, s)| s.refs == 0)
        .min_by_key(|(_, s)| s.last_used)
        .map(|(k, _)| k.clone())?;
    let slot = state.slots.remove(&key)?;
    tracing::info!(key, size = slot.size, "evicting a fetcher cache entry");
    Some(slot.entry.path.clone())
}

fn remove_files(paths: &[PathBuf]) {
    for path in paths {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                tracing::warn!(path = %path.display(), error = %e, "removing a fetcher cache file failed");
            }
            _ => {}
        }
    }
}

/// `c<serial>-<name>`, a long name cut to its first and last 10
/// characters (the extension kept), as Mesos's `Cache::nextFilename`.
fn cache_file_name(serial: u64, name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let short = if chars.len() > 20 {
        let head: String = chars[..10].iter().collect();
        let tail: String = chars[chars.len() - 10..].iter().collect();
        format!("{head}_{tail}")
    } else {
        name.to_string()
    };
    format!("c{serial}-{short}")
}
