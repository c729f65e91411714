//! Shared helpers for the workspace's end-to-end tests.
//!
//! - `interop` tests talk to a real Apache Mesos 1.11 master named by the
//!   `MESOS_INTEROP_MASTER` environment variable (for example
//!   `http://127.0.0.1:5050`, as started by `shared/tools/real-mesos`). When it
//!   is unset they print that they were skipped and pass; `.ci/run` always
//!   sets it.

/// The environment variable naming a real Mesos master for interop tests.
pub const INTEROP_MASTER_VAR: &str = "MESOS_INTEROP_MASTER";

/// The real master's URL (without a trailing slash), or `None` after printing
/// a line saying that `test` was skipped.
pub fn interop_master(test: &str) -> Option<String> {
    match std::env::var(INTEROP_MASTER_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().trim_end_matches('/').to_string()),
        _ => {
            eprintln!("skipped {test}: {INTEROP_MASTER_VAR} is not set (no real Mesos master to test against)");
            None
        }
    }
}
