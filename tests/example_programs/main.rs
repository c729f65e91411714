//! The example programs, run as a user would: on the embedded cluster
//! (`local`), and against a real Mesos master when `MESOS_INTEROP_MASTER`
//! names one.

use std::time::Duration;

use mesos_tests::{build_examples, interop_master, run_with_timeout};

const LIMIT: Duration = Duration::from_secs(120);

fn run_example(name: &str, args: &[&str]) {
    let examples = build_examples();
    let program = examples
        .get(name)
        .unwrap_or_else(|| panic!("example {name} built: {examples:?}"));
    let (status, output) = run_with_timeout(program, args, LIMIT);
    let status = status
        .unwrap_or_else(|| panic!("{name} {args:?} did not finish within {LIMIT:?}:\n{output}"));
    assert!(
        status.success(),
        "{name} {args:?} failed ({status}):\n{output}"
    );
}

#[test]
fn test_framework_runs_on_the_embedded_cluster() {
    run_example("test_framework", &["local", "3"]);
}

#[test]
fn test_framework_runs_against_real_mesos() {
    let Some(master) = interop_master("test_framework_runs_against_real_mesos") else {
        return;
    };
    run_example("test_framework", &[&master, "3"]);
}

#[test]
fn stream_scheduler_runs_on_the_embedded_cluster() {
    run_example("stream_scheduler", &["local", "3"]);
}

#[test]
fn stream_scheduler_runs_against_real_mesos() {
    let Some(master) = interop_master("stream_scheduler_runs_against_real_mesos") else {
        return;
    };
    run_example("stream_scheduler", &[&master, "3"]);
}
