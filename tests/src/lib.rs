//! Shared helpers for the workspace's end-to-end tests.
//!
//! - `interop` tests talk to a real Apache Mesos 1.11 master named by the
//!   `MESOS_INTEROP_MASTER` environment variable (for example
//!   `http://127.0.0.1:5050`, as started by `shared/tools/real-mesos`). When it
//!   is unset they report `SKIPPED` and pass, unless `MESOS_RS_REQUIRE_ENV=1`
//!   (as `.ci/run` sets, together with the master) makes that a failure: see
//!   [`mesos_test_support::environment`].

pub use mesos_test_support::environment::{interop_master, INTEROP_MASTER_VAR};

pub use mesos_test_support::{example_binary, examples};

mod one_task;
pub use one_task::OneTask;

/// A new directory for a program's output files,
/// `<temp>/mesos-tests-<label>-<pid>-<nanos>` (the caller removes it).
///
/// # Panics
/// When it cannot be created: the calling test cannot run.
pub fn output_dir(label: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "mesos-tests-{label}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Runs `program` with `args`, killing it after `timeout`; returns its exit
/// status (`None` if it was killed) and its output (stdout then stderr,
/// captured in files so that a chatty program never blocks on a pipe).
pub fn run_with_timeout(
    program: &std::path::Path,
    args: &[&str],
    timeout: std::time::Duration,
) -> (Option<std::process::ExitStatus>, String) {
    let dir = output_dir("run");
    let out_path = dir.join("stdout");
    let err_path = dir.join("stderr");
    let mut child = std::process::Command::new(program)
        .args(args)
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("{} starts: {e}", program.display()));
    let deadline = std::time::Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let output = format!(
        "{}{}",
        std::fs::read_to_string(&out_path).unwrap_or_default(),
        std::fs::read_to_string(&err_path).unwrap_or_default()
    );
    let _ = std::fs::remove_dir_all(&dir);
    (status, output)
}
