//! Test support: a locally built image (no registry needed), a check for a
//! reachable Docker engine, and guards that clean up containers and
//! directories even when a test fails.
//!
//! ```no_run
//! use mesos_docker::testing;
//! if !testing::docker_available() {
//!     println!("skipped: no Docker engine");
//!     return;
//! }
//! let image = testing::ensure_test_image().expect("test image");
//! assert_eq!(image, testing::TEST_IMAGE);
//! ```

use std::io;
use std::process::{Command, Stdio};

/// The image [`ensure_test_image`] builds
/// ([`image::LOCAL_BUSYBOX_IMAGE`](crate::image::LOCAL_BUSYBOX_IMAGE)): a
/// static busybox with the usual applets; its entrypoint is `/bin/sh -c
/// "echo entrypoint; sleep 2"` (unless `KEEP_RUNNING` is set, see
/// [`crate::image`]).
pub const TEST_IMAGE: &str = crate::image::LOCAL_BUSYBOX_IMAGE;

pub use crate::image::ImageError as TestImageError;
pub use crate::image::APPLETS;
pub use tempfile::TempDir;

/// Whether a Docker engine answers (`docker version` succeeds).
pub fn docker_available() -> bool {
    Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Builds [`TEST_IMAGE`] unless it exists, and returns its name: see
/// [`crate::image::ensure_local_busybox_image`] (never pulls).
pub fn ensure_test_image() -> Result<String, TestImageError> {
    crate::image::ensure_local_busybox_image()
}

/// A fresh private directory `<tmp>/<prefix><random>`, removed
/// (recursively) when the returned [`TempDir`] is dropped.
pub fn temp_dir(prefix: &str) -> io::Result<TempDir> {
    tempfile::Builder::new().prefix(prefix).tempdir()
}

/// Force-removes the named containers on drop (`docker rm -f -v`), so a
/// failing test leaves nothing behind.
#[derive(Debug, Default)]
pub struct ContainerGuard {
    names: Vec<String>,
}

impl ContainerGuard {
    /// Guards `names`.
    pub fn new<I, S>(names: I) -> ContainerGuard
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ContainerGuard {
            names: names.into_iter().map(Into::into).collect(),
        }
    }

    /// Guards one more container.
    pub fn add(&mut self, name: impl Into<String>) {
        self.names.push(name.into());
    }
}

impl Drop for ContainerGuard {
    fn drop(&mut self) {
        if self.names.is_empty() {
            return;
        }
        let _ = Command::new("docker")
            .args(["rm", "-f", "-v"])
            .args(&self.names)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A name unique to this process and call, for test containers:
/// `<prefix><pid>-<counter>-<nanos>`.
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{prefix}{}-{}-{nanos:x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
