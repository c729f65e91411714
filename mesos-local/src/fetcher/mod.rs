//! The fetcher: `CommandInfo.uris` brought into a sandbox before the
//! executor or command task starts, as the real agent's `mesos-fetcher`
//! does (apache/mesos 1.11.0 `docs/fetcher.md`, `src/launcher/fetcher.cpp`).
//!
//! For each URI, in order:
//! - the destination is `<sandbox>/<output_file>` if set (relative, inside
//!   the sandbox), else `<sandbox>/<last path segment of the URI>`;
//! - local paths and `file://` URIs are copied; `http://` and `https://`
//!   are downloaded (redirects followed up to [`MAX_REDIRECTS`](download::MAX_REDIRECTS), within the
//!   limits of [`FetcherConfig`]: a largest size, a total time, and a stall
//!   timeout after which a download that makes no progress fails); other
//!   schemes (`hdfs://`, `s3://`, `ftp://`, ...) are refused: there is no
//!   Hadoop client here;
//! - `executable` sets mode 0755 (and, as in Mesos, then nothing is
//!   extracted); otherwise `extract` (default true) unpacks `.tar`, `.tgz`,
//!   `.tar.gz`, `.tbz2`, `.tar.bz2`, `.txz`, `.tar.xz` and `.zip` archives
//!   into the sandbox (the archive stays), and gunzips a bare `.gz`. Entries
//!   that would land outside the sandbox are refused;
//! - `cache` brings the resource into the agent's fetcher cache first (see
//!   [`cache`] for its keys, size limit and eviction) and copies it into
//!   the sandbox from there; an archive is extracted from the cache (only
//!   its contents land in the sandbox, as in Mesos).
//!
//! The fetcher's log lines are appended to the sandbox's `stderr`, where
//! Mesos's fetcher logs.

mod cache;
mod config;
mod download;
mod extract;

use std::io::Write;
use std::path::{Path, PathBuf};

use mesos_proto::v1::command_info::Uri;

pub use config::{
    FetcherConfig, DEFAULT_DOWNLOAD_TIMEOUT, DEFAULT_FETCHER_CACHE_SIZE,
    DEFAULT_FETCHER_STALL_TIMEOUT, DEFAULT_MAX_DOWNLOAD_SIZE,
};

/// Why fetching one URI failed. Its text is what follows
/// `Failed to fetch '<uri>': ` in the agent's report.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    /// The URI or its `output_file` is not acceptable (Mesos's validation).
    #[error("{0}")]
    Invalid(String),
    /// A scheme this fetcher does not download.
    #[error("unsupported URI scheme '{0}' (only local paths, file://, http:// and https:// are fetched)")]
    UnsupportedScheme(String),
    /// A local file could not be copied.
    #[error("Failed to copy '{path}': {source}")]
    Copy {
        /// The source path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The HTTP download failed.
    #[error("Error downloading resource: {0}")]
    Download(String),
    /// The server answered with another status than 200.
    #[error("Error downloading resource, received HTTP return code {0}")]
    Status(u16),
    /// Extracting the archive failed (or an entry escapes the sandbox).
    #[error("Failed to extract archive '{archive}' to '{directory}': {reason}")]
    Extract {
        /// The archive in the sandbox.
        archive: String,
        /// The sandbox.
        directory: String,
        /// What went wrong.
        reason: String,
    },
    /// The download another fetch of the same cached URI did failed.
    #[error(transparent)]
    Shared(std::sync::Arc<FetchError>),
    /// Setting the mode or creating a directory failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Fetching a container's URIs failed: the URI and why.
#[derive(Debug, thiserror::Error)]
#[error("Failed to fetch '{uri}': {error}")]
pub(crate) struct FetchFailure {
    /// The URI as given (`CommandInfo.URI.value`).
    pub uri: String,
    /// Why.
    pub error: FetchError,
}

/// One agent's fetcher: its settings and its cache.
pub(crate) struct Fetcher {
    config: FetcherConfig,
    cache: cache::Cache,
}

impl Fetcher {
    /// A fetcher whose cache lives (emptied) in `<work_dir>/fetch`.
    pub(crate) fn new(config: FetcherConfig, work_dir: &Path) -> Fetcher {
        let cache = cache::Cache::new(work_dir.join("fetch"), config.cache_size);
        Fetcher { config, cache }
    }

    /// Fetches every URI of `uris` into `sandbox` in order, for `user`
    /// (whose part of the cache cached URIs use); stops at the first
    /// failure. Log lines go to `<sandbox>/stderr`.
    pub(crate) async fn fetch_all(
        &self,
        uris: &[Uri],
        sandbox: &Path,
        user: Option<&str>,
    ) -> Result<(), FetchFailure> {
        if uris.is_empty() {
            return Ok(());
        }
        let log = SandboxLog::new(sandbox);
        for uri in uris {
            match self.fetch_one(uri, sandbox, user, &log).await {
                Ok(path) => log.line(&format!("Fetched '{}' to '{}'", uri.value, path.display())),
                Err(error) => {
                    let failure = FetchFailure {
                        uri: uri.value.clone(),
                        error,
                    };
                    log.line(&failure.to_string());
                    return Err(failure);
                }
            }
        }
        log.line(&format!(
            "Successfully fetched all URIs into '{}'",
            sandbox.display()
        ));
        Ok(())
    }

    async fn fetch_one(
        &self,
        uri: &Uri,
        sandbox: &Path,
        user: Option<&str>,
        log: &SandboxLog,
    ) -> Result<PathBuf, FetchError> {
        let value = uri.value.trim_start();
        let name = match &uri.output_file {
            Some(output) => validate_output_file(output)?,
            None => basename(value)?,
        };
        let destination = sandbox.join(&name);
        if let Some(parent) = destination.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|source| FetchError::Io {
                    what: format!(
                        "Unable to create subdirectory {} in sandbox",
                        parent.display()
                    ),
                    source,
                })?;
        }
        let source = Source::of(value)?;
        if uri.cache.unwrap_or(false) {
            log.line(&format!("Fetching '{}' through the cache", uri.value));
            match self.cache.fetch(user, value, &source, &self.config).await? {
                cache::Cached::Hit(file) => {
                    log.line(&format!("Fetching URI '{}' from cache", uri.value));
                    return from_cache(uri, file.path(), &destination, sandbox, log).await;
                }
                cache::Cached::Bypass(why) => log.line(&format!(
                    "Bypassing the fetcher cache for '{}': {why}",
                    uri.value
                )),
            }
        }
        log.line(&format!(
            "Fetching '{}' directly into the sandbox directory",
            uri.value
        ));
        match source {
            Source::Local(path) => {
                tokio::fs::copy(&path, &destination)
                    .await
                    .map_err(|source| FetchError::Copy {
                        path: path.display().to_string(),
                        source,
                    })?;
            }
            Source::Http => {
                log.line(&format!(
                    "Downloading resource from '{value}' to '{}'",
                    destination.display()
                ));
                download::download(value, &destination, &self.config).await?;
            }
        }
        if uri.executable.unwrap_or(false) {
            make_executable(&destination).await?;
        } else if uri.extract.unwrap_or(true) {
            let named = destination.file_name().map(|n| n.to_os_string());
            let extracted = extract_into(&destination, named, sandbox).await?;
            log_extraction(log, uri, &destination, sandbox, extracted);
        }
        Ok(destination)
    }
}

/// Delivers a cached resource, as Mesos's `fetchFromCache`: copied and
/// made executable, or extracted from the cache file (nothing else lands
/// in the sandbox), or copied.
async fn from_cache(
    uri: &Uri,
    cached: &Path,
    destination: &Path,
    sandbox: &Path,
    log: &SandboxLog,
) -> Result<PathBuf, FetchError> {
    let copy = || async {
        tokio::fs::copy(cached, destination)
            .await
            .map_err(|source| FetchError::Copy {
                path: cached.display().to_string(),
                source,
            })
    };
    if uri.executable.unwrap_or(false) {
        copy().await?;
        make_executable(destination).await?;
        return Ok(destination.to_path_buf());
    }
    if uri.extract.unwrap_or(true) {
        // Recognised by the URI's name (the cache file's has a prefix).
        let named = basename(uri.value.trim_start())?.into();
        let extracted = extract_into(cached, Some(named), sandbox).await?;
        log_extraction(log, uri, cached, sandbox, extracted);
        if extracted {
            return Ok(sandbox.to_path_buf());
        }
    }
    copy().await?;
    Ok(destination.to_path_buf())
}

async fn make_executable(path: &Path) -> Result<(), FetchError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::Permissions::from_mode(0o755);
    tokio::fs::set_permissions(path, mode)
        .await
        .map_err(|source| FetchError::Io {
            what: format!("Failed to chmod executable '{}'", path.display()),
            source,
        })
}

/// Extracts `archive` into `sandbox` if `name` says it is an archive.
async fn extract_into(
    archive: &Path,
    name: Option<std::ffi::OsString>,
    sandbox: &Path,
) -> Result<bool, FetchError> {
    let archive = archive.to_path_buf();
    let directory = sandbox.to_path_buf();
    let name = name
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    tokio::task::spawn_blocking(move || extract::extract(&archive, &name, &directory))
        .await
        .map_err(|e| FetchError::Io {
            what: "extraction task".into(),
            source: std::io::Error::other(e.to_string()),
        })?
}

fn log_extraction(log: &SandboxLog, uri: &Uri, archive: &Path, sandbox: &Path, extracted: bool) {
    if extracted {
        log.line(&format!(
            "Extracted '{}' into '{}'",
            archive.display(),
            sandbox.display()
        ));
    } else {
        log.line(&format!(
            "Copying instead of extracting resource from URI with 'extract' flag, \
             because it does not seem to be an archive: {}",
            uri.value
        ));
    }
}

/// Where a URI's bytes come from.
pub(super) enum Source {
    Local(PathBuf),
    Http,
}

impl Source {
    fn of(uri: &str) -> Result<Source, FetchError> {
        if let Some(rest) = uri.strip_prefix("file://") {
            let path = rest.strip_prefix("localhost").unwrap_or(rest);
            if !path.starts_with('/') {
                return Err(FetchError::Invalid(
                    "File URI only supports absolute paths".into(),
                ));
            }
            return Ok(Source::Local(PathBuf::from(path)));
        }
        match uri.find("://") {
            None => {
                if !uri.starts_with('/') {
                    // Mesos prepends `--frameworks_home`, which mesos-local has not.
                    return Err(FetchError::Invalid(
                        "A relative path was passed for the resource but the Mesos framework \
                         home was not specified. Please either provide this config option or \
                         avoid using a relative path"
                            .into(),
                    ));
                }
                Ok(Source::Local(PathBuf::from(uri)))
            }
            Some(index) => {
                let scheme = uri[..index].to_ascii_lowercase();
                if scheme == "http" || scheme == "https" {
                    Ok(Source::Http)
                } else {
                    Err(FetchError::UnsupportedScheme(scheme))
                }
            }
        }
    }
}

/// The file name a URI is stored under: its last `/` segment, as Mesos's
/// `Fetcher::basename` (query strings included).
fn basename(uri: &str) -> Result<String, FetchError> {
    if uri.contains(['\\', '\'', '\0']) {
        return Err(FetchError::Invalid("Illegal characters in URI".into()));
    }
    let name = match uri.find("://") {
        Some(index) if index > 1 => {
            let path = &uri[index + 3..];
            match path.find('/') {
                Some(slash) if path.len() > slash + 1 => {
                    path.rsplit('/').next().unwrap_or_default().to_string()
                }
                _ => {
                    return Err(FetchError::Invalid(format!(
                        "Malformed URI (missing path): {uri}"
                    )))
                }
            }
        }
        _ => Path::new(uri)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    if name.is_empty() || name == "." || name == ".." {
        return Err(FetchError::Invalid(format!(
            "Malformed URI (no file name): {uri}"
        )));
    }
    Ok(name)
}

/// `output_file` must be a relative path that stays inside the sandbox.
fn validate_output_file(path: &str) -> Result<String, FetchError> {
    if path.is_empty() {
        return Err(FetchError::Invalid("URI output file path is empty".into()));
    }
    let escapes = Path::new(path).components().any(|c| {
        !matches!(
            c,
            std::path::Component::Normal(_) | std::path::Component::CurDir
        )
    });
    if path.starts_with('/') || escapes || path.contains('\0') {
        return Err(FetchError::Invalid(
            "URI output file must be within the sandbox directory".into(),
        ));
    }
    Ok(path.to_string())
}

/// The fetcher's lines, appended to `<sandbox>/stderr` (as Mesos's fetcher
/// logs there) and to the agent's log.
struct SandboxLog {
    path: PathBuf,
}

impl SandboxLog {
    fn new(sandbox: &Path) -> SandboxLog {
        SandboxLog {
            path: sandbox.join("stderr"),
        }
    }

    fn line(&self, text: &str) {
        tracing::info!(sandbox = %self.path.display(), "fetcher: {text}");
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut f| writeln!(f, "{}", text));
        if let Err(e) = written {
            tracing::warn!(path = %self.path.display(), error = %e, "writing the fetcher log failed");
        }
    }
}

#[cfg(test)]
mod tests;
