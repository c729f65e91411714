//! A small local image, built without any registry: a static busybox from
//! the distribution's `busybox-static` package, imported with `docker
//! import`. The examples run it on a machine with a Docker engine but no
//! registry access, and the tests use it ([`crate::testing`]).
//!
//! Its entrypoint (`/bin/sh -c <script>`, see [`LOCAL_BUSYBOX_ENTRYPOINT`])
//! prints `entrypoint` and exits 0 after 2 s — the shape of the image of
//! the Java Mesos + Docker tutorial, short-lived — unless the variable
//! [`KEEP_RUNNING_ENV`] is set: then it prints `alive` every
//! `$KEEP_RUNNING` seconds, forever, and exits 0 on `SIGTERM` (a server
//! that stops cleanly on `docker stop`). Arguments given to the image are
//! ignored (they become `$0`, `$1`, ... of the script).
//!
//! ```no_run
//! let image = mesos_docker::image::ensure_local_busybox_image()?;
//! assert_eq!(image, mesos_docker::image::LOCAL_BUSYBOX_IMAGE);
//! # Ok::<(), mesos_docker::image::ImageError>(())
//! ```

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// The image [`ensure_local_busybox_image`] builds.
pub const LOCAL_BUSYBOX_IMAGE: &str = "mesos-rs-test:busybox";

/// The variable that makes the image's entrypoint keep running: its value
/// is the number of seconds between two `alive` lines.
pub const KEEP_RUNNING_ENV: &str = "KEEP_RUNNING";

/// The entrypoint of [`LOCAL_BUSYBOX_IMAGE`].
pub const LOCAL_BUSYBOX_ENTRYPOINT: [&str; 3] = [
    "/bin/sh",
    "-c",
    "echo entrypoint; \
     if [ -n \"$KEEP_RUNNING\" ]; then \
     trap 'echo stopping; exit 0' TERM INT; \
     while true; do echo alive; sleep \"$KEEP_RUNNING\" & wait $!; done; \
     fi; \
     sleep 2",
];

/// The busybox applets linked in the image's `/bin`.
pub const APPLETS: &[&str] = &[
    "sh", "ash", "sleep", "echo", "env", "cat", "ls", "true", "false", "kill", "ps", "mkdir",
    "touch", "printf", "id", "hostname", "test", "[", "grep", "wc", "head", "tail", "sed", "rm",
    "cp", "mv", "date", "ip", "ifconfig", "nc", "wget", "uname", "pwd", "seq", "tee",
];

/// Why the image could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
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

fn run(command: &mut Command) -> Result<Vec<u8>, ImageError> {
    let description = format!("{command:?}");
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|source| ImageError::Spawn {
            command: description.clone(),
            source,
        })?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(ImageError::Failed {
            command: description,
            message: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        })
    }
}

fn io_error(what: impl Into<String>) -> impl FnOnce(io::Error) -> ImageError {
    let what = what.into();
    move |source| ImageError::Io { what, source }
}

/// Whether `image` exists locally with [`LOCAL_BUSYBOX_ENTRYPOINT`] (an
/// older build of the image has another entrypoint and is rebuilt).
fn current_image_exists(image: &str) -> bool {
    let output = Command::new("docker")
        .args([
            "image",
            "inspect",
            "--format",
            "{{json .Config.Entrypoint}}",
            image,
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    match output {
        Ok(output) if output.status.success() => {
            serde_json::from_slice::<Vec<String>>(&output.stdout)
                .is_ok_and(|entrypoint| entrypoint == LOCAL_BUSYBOX_ENTRYPOINT)
        }
        _ => false,
    }
}

/// Builds [`LOCAL_BUSYBOX_IMAGE`] unless it exists (with the current
/// entrypoint), and returns its name. Blocking (run it with
/// `tokio::task::spawn_blocking` from async code).
///
/// Never pulls: `apt-get download busybox-static` (running `apt-get
/// update` first if the package is unknown), `dpkg-deb -x`, a rootfs with
/// `/bin/busybox` and [`APPLETS`] symlinks, then `tar -c | docker import
/// --change 'ENTRYPOINT [...]'`. Idempotent and safe to call from parallel
/// threads of one process (a lock); concurrent processes at worst import
/// the same image twice.
pub fn ensure_local_busybox_image() -> Result<String, ImageError> {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if current_image_exists(LOCAL_BUSYBOX_IMAGE) {
        return Ok(LOCAL_BUSYBOX_IMAGE.to_string());
    }
    tracing::info!(
        image = LOCAL_BUSYBOX_IMAGE,
        "building the local busybox image"
    );
    let work = crate::testing::temp_dir("mesos-rs-test-image").map_err(io_error("temp dir"))?;
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

    let entrypoint =
        serde_json::to_string(&LOCAL_BUSYBOX_ENTRYPOINT).map_err(|e| ImageError::Failed {
            command: "encoding the entrypoint".into(),
            message: e.to_string(),
        })?;
    let mut tar = Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .args(["-c", "."])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|source| ImageError::Spawn {
            command: "tar".into(),
            source,
        })?;
    let tar_out = tar.stdout.take().ok_or_else(|| ImageError::Failed {
        command: "tar".into(),
        message: "no stdout".into(),
    })?;
    let import = Command::new("docker")
        .arg("import")
        .arg("--change")
        .arg(format!("ENTRYPOINT {entrypoint}"))
        .args(["--change", "ENV PATH=/bin", "-", LOCAL_BUSYBOX_IMAGE])
        .stdin(tar_out)
        .output()
        .map_err(|source| ImageError::Spawn {
            command: "docker import".into(),
            source,
        })?;
    let _ = tar.wait();
    if !import.status.success() {
        return Err(ImageError::Failed {
            command: "docker import".into(),
            message: String::from_utf8_lossy(&import.stderr).trim().to_string(),
        });
    }
    Ok(LOCAL_BUSYBOX_IMAGE.to_string())
}

/// `apt-get download busybox-static` into `dir`, extracted; the path of
/// the static `busybox`.
fn fetch_busybox(dir: &Path) -> Result<PathBuf, ImageError> {
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
        .ok_or_else(|| ImageError::Failed {
            command: "apt-get download busybox-static".into(),
            message: "no .deb was downloaded".into(),
        })?;
    let extracted = dir.join("deb");
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&extracted))?;
    let busybox = extracted.join("bin/busybox");
    if !busybox.exists() {
        return Err(ImageError::Failed {
            command: "dpkg-deb -x".into(),
            message: format!("{} is missing", busybox.display()),
        });
    }
    Ok(busybox)
}
