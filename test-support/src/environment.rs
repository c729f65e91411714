//! Tests that need something outside the workspace (a Docker engine, a real
//! Mesos master): skip visibly, or fail when the environment is required.
//!
//! Locally a test whose environment is missing returns early and reports
//! `SKIPPED <test>: <reason>` on the process's stderr (written directly, so
//! libtest's output capture does not hide it). With
//! [`REQUIRE_ENV_VAR`]`=1` (as `.ci/run` sets) the same skip panics instead,
//! so CI cannot stay green with the real master or Docker missing.
//!
//! ```no_run
//! if let Some(master) = mesos_test_support::environment::interop_master("my_test") {
//!     // talk to the real master at `master`
//! #   let _ = master;
//! }
//! ```

use std::io::Write;
use std::process::{Command, Stdio};

/// Set to `1` to turn every environment skip into a test failure.
pub const REQUIRE_ENV_VAR: &str = "MESOS_RS_REQUIRE_ENV";

/// The environment variable naming a real Mesos master for interop tests.
pub const INTEROP_MASTER_VAR: &str = "MESOS_INTEROP_MASTER";

/// The environment variable naming a standalone ZooKeeper (`host:port`, as
/// `scripts/zookeeper.sh start` prints it) for the ZooKeeper tests.
pub const ZOOKEEPER_VAR: &str = "MESOS_RS_ZOOKEEPER";

/// Whether the environment is required ([`REQUIRE_ENV_VAR`] is `1`).
pub fn required() -> bool {
    std::env::var(REQUIRE_ENV_VAR).is_ok_and(|v| v.trim() == "1")
}

/// Records that `test` (empty: the current test) cannot run because of `reason`: panics when the
/// environment is [`required`], otherwise prints a `SKIPPED` line straight to
/// stderr (visible even under libtest's capture) and returns.
///
/// # Panics
/// When [`REQUIRE_ENV_VAR`]`=1`.
pub fn skip(test: &str, reason: &str) {
    let test = label(test);
    if required() {
        panic!(
            "{test}: required environment missing: {reason} ({REQUIRE_ENV_VAR}=1 forbids skipping)"
        );
    }
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {reason} (set {REQUIRE_ENV_VAR}=1 to make this a failure)"
    );
}

/// `test`, or the current test's name (libtest names each test's thread
/// after it) when `test` is empty.
fn label(test: &str) -> String {
    if !test.is_empty() {
        return test.to_string();
    }
    std::thread::current()
        .name()
        .unwrap_or("<unnamed test>")
        .to_string()
}

/// The real master's URL from [`INTEROP_MASTER_VAR`] (without a trailing
/// slash), or `None` after [`skip`]ping `test`.
pub fn interop_master(test: &str) -> Option<String> {
    match std::env::var(INTEROP_MASTER_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().trim_end_matches('/').to_string()),
        _ => {
            skip(
                test,
                &format!("{INTEROP_MASTER_VAR} is not set (no real Mesos master to test against)"),
            );
            None
        }
    }
}

/// The ZooKeeper `host:port` from [`ZOOKEEPER_VAR`], or `None` after
/// [`skip`]ping `test`. Start one with `scripts/zookeeper.sh start`.
pub fn zookeeper(test: &str) -> Option<String> {
    match std::env::var(ZOOKEEPER_VAR) {
        Ok(servers) if !servers.trim().is_empty() => Some(servers.trim().to_string()),
        _ => {
            skip(
                test,
                &format!(
                    "{ZOOKEEPER_VAR} is not set (no ZooKeeper; `scripts/zookeeper.sh start` runs one)"
                ),
            );
            None
        }
    }
}

/// A `zk://` URL on the ZooKeeper of [`ZOOKEEPER_VAR`] whose group path
/// (`/mesos-rs-tests/<name>-<pid>-<nanos>`) no other test uses, or `None`
/// after [`skip`]ping `test`.
pub fn zookeeper_group(test: &str) -> Option<String> {
    let servers = zookeeper(test)?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let name = label(test).replace(|c: char| !c.is_ascii_alphanumeric(), "_");
    Some(format!(
        "zk://{servers}/mesos-rs-tests/{name}-{}-{nanos}",
        std::process::id()
    ))
}

/// Whether a Docker engine answers (`docker version` succeeds); otherwise
/// [`skip`]s `test` and returns `false`.
pub fn docker(test: &str) -> bool {
    let ok = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        skip(test, "no Docker engine (`docker version` failed)");
    }
    ok
}

/// Whether environment variable `var` is `1`; otherwise [`skip`]s `test`.
pub fn flag(test: &str, var: &str) -> bool {
    let ok = std::env::var(var).is_ok_and(|v| v.trim() == "1");
    if !ok {
        skip(test, &format!("{var}=1 is not set"));
    }
    ok
}
