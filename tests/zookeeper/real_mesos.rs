//! A real Mesos 1.11 master found through ZooKeeper: the master
//! (`MESOS_INTEROP_MASTER`) is registered in ZooKeeper with the `MasterInfo`
//! of its own `/master/state`, in a Mesos master's format, and the
//! `test_framework` example, given only the `zk://` URL, runs its tasks to
//! completion there.

use std::time::Duration;

use mesos_tests::{example_binary, interop_master, run_with_timeout};

use crate::{group, register};

const LIMIT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_framework_finds_real_mesos_through_zookeeper() {
    const TEST: &str = "test_framework_finds_real_mesos_through_zookeeper";
    let Some(master) = interop_master(TEST) else {
        return;
    };
    let Some(url) = group("real_mesos") else {
        return;
    };
    let state = mesos_test_support::get_json(&format!("{master}/master/state")).await;
    let candidacy = register(&url, &state).await;

    let program = example_binary("test_framework");
    let zk = url.to_string();
    let (status, output) =
        tokio::task::spawn_blocking(move || run_with_timeout(&program, &[&zk, "2"], LIMIT))
            .await
            .expect("the example runs");
    let status = status.unwrap_or_else(|| {
        panic!("test_framework {url} did not finish within {LIMIT:?}:\n{output}")
    });
    assert!(
        status.success(),
        "test_framework {url} failed ({status}):\n{output}"
    );
    candidacy.withdraw().await.unwrap();
}
