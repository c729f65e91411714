//! Helpers shared by the workspace's test suites.
//!
//! Tests that need a real program (the `test_executor` an agent launches, an
//! example framework run as a user would) get it from [`example_binary`],
//! which builds the `mesos-examples` examples once per test process with the
//! same cargo and target directory as the tests themselves. Tests that run
//! our executors under a real Mesos agent launch them with the minimal
//! scheduler of [`scheduler`]. End-to-end runs under injected faults put a
//! [`fault_proxy::FaultProxy`] between a driver and `mesos-local`, driven by
//! the seeded [`schedule`]s.

pub mod environment;
pub mod fault_proxy;
pub mod schedule;
pub mod scheduler;
pub mod telemetry;
pub mod tls;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The executable of example `name` of `mesos-examples` (e.g.
/// `"test_executor"`), built on first use.
///
/// # Panics
/// When the build fails or has no such example: the calling test cannot run.
pub fn example_binary(name: &str) -> PathBuf {
    let all = examples();
    all.get(name).cloned().unwrap_or_else(|| {
        panic!(
            "no example {name:?} among {:?}",
            all.keys().collect::<Vec<_>>()
        )
    })
}

/// Every example's executable, by name (built once per process).
pub fn examples() -> &'static HashMap<String, PathBuf> {
    static BUILT: OnceLock<HashMap<String, PathBuf>> = OnceLock::new();
    BUILT.get_or_init(build_examples)
}

fn build_examples() -> HashMap<String, PathBuf> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("test-support lives in the workspace");
    let mut cargo = Command::new(env!("CARGO"));
    // Drop what cargo set for the running test: build scripts that watch these
    // variables (ring's) would otherwise rebuild their dependents here, and
    // again in the next ordinary build.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        let set_by_cargo = ["CARGO_PKG_", "CARGO_BIN_EXE_", "CARGO_CFG_"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_MANIFEST_LINKS",
                "CARGO_CRATE_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "OUT_DIR",
            ]
            .contains(&name.as_str());
        if set_by_cargo {
            cargo.env_remove(&name);
        }
    }
    let output = cargo
        .current_dir(workspace)
        .args([
            "build",
            "-p",
            "mesos-examples",
            "--examples",
            "--message-format=json",
        ])
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "building the examples failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact")
        .filter_map(|m| {
            let name = m["target"]["name"].as_str()?.to_string();
            let exe = m["executable"].as_str()?;
            Some((name, PathBuf::from(exe)))
        })
        .collect()
}

/// `GET url` (plain HTTP) and its body as JSON, e.g. a master's
/// `/master/state`.
///
/// # Panics
/// When the request fails, the status is not 2xx or the body is not JSON:
/// the calling test cannot go on.
pub async fn get_json(url: &str) -> serde_json::Value {
    use http_body_util::BodyExt;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let uri: http::Uri = url.parse().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let response = client
        .get(uri)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert!(
        response.status().is_success(),
        "GET {url}: {}",
        response.status()
    );
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: body: {e}"))
        .to_bytes();
    serde_json::from_slice(&body).unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}"))
}

/// Logs of the test's process to the test's output, filtered by `RUST_LOG`
/// (default `warn`); once per process, later calls do nothing.
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_test_writer()
        .try_init();
}
