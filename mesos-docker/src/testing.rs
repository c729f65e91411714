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
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// The image [`ensure_test_image`] builds: a static busybox with the usual
/// applets; its entrypoint is `/bin/sh -c "echo entrypoint; sleep 2"`.
pub const TEST_IMAGE: &str = "mesos-rs-test:busybox";

/// The busybox applets linked in the test image's `/bin`.
pub const APPLETS: &[&str] = &[
    "sh", "ash", "sleep", "echo", "env", "cat", "ls", "true", "false", "kill", "ps", "mkdir",
    "touch", "printf", "id", "hostname", "test", "[", "grep", "wc", "head", "tail", "sed", "rm",
    "cp", "mv", "date", "ip", "ifconfig", "nc", "wget", "uname", "pwd", "seq", "tee",
];

/// Why the test image could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TestImageError {
    /// A tool failed to start.
    #[error("could not run {command}: {source}")]
    Spawn {
        /// The tool.
        command: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// A tool failed.
    #[error("{command} failed: {message}")]
    Failed {
        /// The tool and its arguments.
        command: String,
        /// Its stderr.
        message: String,
    },
    /// A file operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

fn run(command: &mut Command) -> Result<Vec<u8>, TestImageError> {
    let description = format!("{command:?}");
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|source| TestImageError::Spawn {
            command: description.clone(),
            source,
        })?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(TestImageError::Failed {
            command: description,
            message: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        })
    }
}

fn io_error(what: impl Into<String>) -> impl FnOnce(io::Error) -> TestImageError {
    let what = what.into();
    move |source| TestImageError::Io { what, source }
}

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

fn image_exists(image: &str) -> bool {
    Command::new("docker")
        .args(["image", "inspect", "--format", "{{.Id}}", image])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Builds [`TEST_IMAGE`] unless it exists, and returns its name.
///
/// Never pulls: `apt-get download busybox-static` (running `apt-get
/// update` first if the package is unknown), `dpkg-deb -x`, a rootfs with
/// `/bin/busybox` and [`APPLETS`] symlinks, then `tar -c | docker import
/// --change 'ENTRYPOINT [...]'`. Idempotent and safe to call from parallel
/// tests of one process (a lock); concurrent processes at worst import the
/// same image twice.
pub fn ensure_test_image() -> Result<String, TestImageError> {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if image_exists(TEST_IMAGE) {
        return Ok(TEST_IMAGE.to_string());
    }
    let work = TempDir::new("mesos-rs-test-image").map_err(io_error("temp dir"))?;
    let busybox = fetch_busybox(work.path())?;
    let rootfs = work.path().join("rootfs");
    for dir in [
        "bin",
        "tmp",
        "etc",
        "proc",
        "sys",
        "dev",
        "mnt/mesos/sandbox",
    ] {
        std::fs::create_dir_all(rootfs.join(dir)).map_err(io_error(format!("mkdir {dir}")))?;
    }
    std::fs::copy(&busybox, rootfs.join("bin/busybox")).map_err(io_error("copy busybox"))?;
    for applet in APPLETS {
        #[cfg(unix)]
        std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet))
            .map_err(io_error(format!("symlink {applet}")))?;
    }
    std::fs::write(rootfs.join("etc/passwd"), "root:x:0:0:root:/:/bin/sh\n")
        .map_err(io_error("etc/passwd"))?;

    let mut tar = Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .args(["-c", "."])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|source| TestImageError::Spawn {
            command: "tar".into(),
            source,
        })?;
    let tar_out = tar.stdout.take().ok_or_else(|| TestImageError::Failed {
        command: "tar".into(),
        message: "no stdout".into(),
    })?;
    let import = Command::new("docker")
        .args([
            "import",
            "--change",
            r#"ENTRYPOINT ["/bin/sh","-c","echo entrypoint; sleep 2"]"#,
            "--change",
            "ENV PATH=/bin",
            "-",
            TEST_IMAGE,
        ])
        .stdin(tar_out)
        .output()
        .map_err(|source| TestImageError::Spawn {
            command: "docker import".into(),
            source,
        })?;
    let _ = tar.wait();
    if !import.status.success() {
        return Err(TestImageError::Failed {
            command: "docker import".into(),
            message: String::from_utf8_lossy(&import.stderr).trim().to_string(),
        });
    }
    Ok(TEST_IMAGE.to_string())
}

/// `apt-get download busybox-static` into `dir`, extracted; the path of
/// the static `busybox`.
fn fetch_busybox(dir: &Path) -> Result<PathBuf, TestImageError> {
    let download = || {
        run(Command::new("apt-get")
            .args(["download", "busybox-static"])
            .current_dir(dir))
    };
    if download().is_err() {
        run(Command::new("apt-get").args(["update", "-qq"]))?;
        download()?;
    }
    let deb = std::fs::read_dir(dir)
        .map_err(io_error("read download dir"))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .ok_or_else(|| TestImageError::Failed {
            command: "apt-get download busybox-static".into(),
            message: "no .deb was downloaded".into(),
        })?;
    let extracted = dir.join("deb");
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&extracted))?;
    let busybox = extracted.join("bin/busybox");
    if !busybox.exists() {
        return Err(TestImageError::Failed {
            command: "dpkg-deb -x".into(),
            message: format!("{} is missing", busybox.display()),
        });
    }
    Ok(busybox)
}

/// A directory under the system temp dir, removed (recursively) on drop.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `<tmp>/<prefix>-<pid>-<random>`.
    pub fn new(prefix: &str) -> io::Result<TempDir> {
        let unique = format!(
            "{prefix}-{}-{:x}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        );
        let path = std::env::temp_dir().join(unique);
        std::fs::create_dir_all(&path)?;
        Ok(TempDir { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
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
