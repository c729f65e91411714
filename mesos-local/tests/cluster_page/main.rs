//! mesos-local's live cluster page (`/` on the master) in a real headless
//! Chromium (Debian's `chromium`; `scripts/chromium.sh install` installs it
//! when missing), driven over the DevTools protocol ([`cdp`]):
//!
//! - [`live`]: the page shows the agent and the framework, then the tasks
//!   a scheduler launches and their state changes as they happen (from the
//!   operator SUBSCRIBE stream), and a task's stdout through the master's
//!   READ_FILE proxy;
//! - [`reconnect`]: when the stream ends the page resubscribes (with a
//!   backoff) and shows the new master's state;
//! - [`proxy`]: the page's routes over plain HTTP (assets and their
//!   Content-Security-Policy, the READ_FILE proxy's refusals).
//!
//! Screenshots are kept under `$CARGO_TARGET_TMPDIR/cluster-page/<test>/`
//! (each test prints the path). Without Chromium (and no way to install
//! it) the browser tests skip visibly, and fail under
//! `MESOS_RS_REQUIRE_ENV=1`.

mod cdp;
mod live;
mod proxy;
mod reconnect;

use std::path::{Path, PathBuf};
use std::time::Duration;

use mesos_test_support::environment;

/// The bound of every wait on the page or the scheduler.
const SOON: Duration = Duration::from_secs(20);

/// The browser: `MESOS_RS_CHROMIUM`, else Debian's, else what
/// `scripts/chromium.sh install` installs and prints; `None` after a skip.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("MESOS_RS_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let debian = Path::new("/usr/lib/chromium/chromium");
    if debian.exists() {
        return Some(debian.to_path_buf());
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/chromium.sh");
    let output = std::process::Command::new("bash")
        .arg(&script)
        .arg("install")
        .stdin(std::process::Stdio::null())
        .output();
    match output {
        Ok(output) if output.status.success() => {
            let stdout = String::from_utf8_lossy(&output.stdout);
            stdout.lines().last().map(|line| PathBuf::from(line.trim()))
        }
        Ok(output) => {
            environment::skip(
                "",
                &format!(
                    "no Chromium, and `scripts/chromium.sh install` failed: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
            );
            None
        }
        Err(e) => {
            environment::skip("", &format!("no Chromium, and bash failed: {e}"));
            None
        }
    }
}

/// A headless Chromium whose screenshots and log go to
/// `$CARGO_TARGET_TMPDIR/cluster-page/<test>`; `None` after a skip.
async fn browser(test: &str) -> Option<cdp::Browser> {
    let binary = chromium()?;
    mesos_test_support::init_tracing();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("cluster-page")
        .join(test);
    std::fs::create_dir_all(&dir).expect("the artifacts directory");
    eprintln!(
        "{test}: screenshots and the browser's log in {}",
        dir.display()
    );
    let browser = cdp::Browser::launch(&binary, &dir)
        .await
        .unwrap_or_else(|e| panic!("{} starts: {e}", binary.display()));
    Some(browser)
}
