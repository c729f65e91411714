//! mesos-local's `GET /metrics/snapshot`: the real master's key names, the
//! values after one task finished.

use std::time::Duration;

use mesos_proto::v1::TaskState;
use serde_json::{Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{cluster, on_this_thread, probe, wait_for, Seen};

/// How long a real master's per-framework finished-task counter may lag
/// the update the framework holds.
const REAL_COUNTER_WAIT: Duration = Duration::from_secs(10);

/// The keys mesos-local serves that a real Mesos 1.11 master serves too.
const KEYS: &[&str] = &[
    "master/elected",
    "master/uptime_secs",
    "master/frameworks_active",
    "master/frameworks_connected",
    "master/frameworks_disconnected",
    "master/frameworks_inactive",
    "master/slaves_active",
    "master/slaves_connected",
    "master/slaves_disconnected",
    "master/slaves_inactive",
    "master/slaves_unreachable",
    "master/slave_registrations",
    "master/slave_reregistrations",
    "master/slave_removals",
    "master/tasks_staging",
    "master/tasks_starting",
    "master/tasks_running",
    "master/tasks_killing",
    "master/tasks_unreachable",
    "master/tasks_finished",
    "master/tasks_failed",
    "master/tasks_killed",
    "master/tasks_lost",
    "master/tasks_error",
    "master/tasks_dropped",
    "master/tasks_gone",
    "master/tasks_gone_by_operator",
    "master/outstanding_offers",
    "master/cpus_total",
    "master/cpus_used",
    "master/cpus_percent",
    "master/mem_total",
    "master/mem_used",
    "master/mem_percent",
    "master/disk_total",
    "master/disk_used",
    "master/disk_percent",
    "master/gpus_total",
    "master/gpus_used",
    "master/gpus_percent",
];

/// `GET {master}/metrics/snapshot` (plain HTTP/1.0), as a JSON object.
async fn snapshot(master: &str) -> Map<String, Value> {
    let address = master.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("the master accepts");
    stream
        .write_all(b"GET /metrics/snapshot HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .await
        .expect("request sent");
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .expect("answered in time")
        .expect("response read");
    let text = String::from_utf8(response).expect("UTF-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
    assert!(
        head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    match serde_json::from_str(body).expect("JSON") {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn number(map: &Map<String, Value>, key: &str) -> f64 {
    map.get(key)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{key} is a number in {map:?}"))
}

/// A real master's count of finished tasks of the framework called `name`
/// that subscribed after `before` was taken: its per-framework metric
/// `master/frameworks/<name>/<id>/tasks/terminal/task_finished`, a key
/// not in `before` (the metrics of earlier frameworks of that name stay
/// after their teardown).
fn new_framework_finished(
    before: &Map<String, Value>,
    after: &Map<String, Value>,
    name: &str,
) -> f64 {
    let prefix = format!("master/frameworks/{name}/");
    after
        .iter()
        .filter(|(key, _)| {
            key.starts_with(&prefix)
                && key.ends_with("/tasks/terminal/task_finished")
                && !before.contains_key(*key)
        })
        .filter_map(|(_, value)| value.as_f64())
        .sum()
}

/// Runs one command task to TASK_FINISHED on `master` and checks what
/// that changed in the snapshot (as differences, so that a real master's
/// earlier runs do not matter). With `alone` (nothing else uses the
/// master) the other task and framework gauges must stay as they were; on
/// a shared real master, leftovers of other suites may still finish or
/// time out meanwhile. Returns the snapshots before and after.
async fn one_finished_task(
    master: &str,
    name: &str,
    alone: bool,
) -> (Map<String, Value>, Map<String, Value>) {
    let before = snapshot(master).await;
    let (driver, mut seen) = probe(master, name, Some("metrics-task"));
    driver.start();
    wait_for(&mut seen, |s| {
        matches!(s, Seen::Update(TaskState::TaskFinished))
    })
    .await;
    let mut after = snapshot(master).await;
    if !alone {
        // A real master may leave its global `master/tasks_finished` alone
        // for this task: Mesos 1.11's `Master::updateTask` moves the task to
        // the agent's `latest_state` but counts the global terminal counters
        // by the update's own state. When TASK_FINISHED happens before the
        // scheduler acknowledged TASK_RUNNING, the agent's resent RUNNING
        // update carries `latest_state` FINISHED: the task turns terminal
        // on an update whose own state is RUNNING (counted nowhere), and the
        // FINISHED update that follows finds it terminal already (counted
        // nowhere either). The framework's own counter follows the task's
        // state and is always counted: wait for it, bounded.
        let deadline = tokio::time::Instant::now() + REAL_COUNTER_WAIT;
        while new_framework_finished(&before, &after, name) < 1.0
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
            after = snapshot(master).await;
        }
    }
    driver.stop(false).await;
    let change = |key: &str| number(&after, key) - number(&before, key);
    let finished = change("master/tasks_finished");
    if alone {
        assert_eq!(finished, 1.0, "{before:?}\n{after:?}");
    } else {
        assert!(finished >= 0.0, "{before:?}\n{after:?}");
        assert_eq!(
            new_framework_finished(&before, &after, name),
            1.0,
            "the framework's own finished tasks: {after:?}"
        );
    }
    assert_eq!(change("master/frameworks_active"), 1.0, "{after:?}");
    assert_eq!(change("master/frameworks_connected"), 1.0, "{after:?}");
    let unchanged: &[&str] = if alone {
        &[
            "master/frameworks_disconnected",
            "master/tasks_running",
            "master/tasks_staging",
            "master/tasks_failed",
            "master/tasks_lost",
            "master/slave_registrations",
        ]
    } else {
        &["master/slave_registrations"]
    };
    for &key in unchanged {
        assert_eq!(change(key), 0.0, "{key}: {before:?}\n{after:?}");
    }
    assert!(change("master/uptime_secs") >= 0.0, "{after:?}");
    (before, after)
}

#[test]
fn snapshot_after_a_finished_task() {
    on_this_thread(async {
        let cluster = cluster().await;
        let (before, after) = one_finished_task(cluster.master_url(), "snapshot", true).await;
        for key in KEYS {
            number(&before, key);
        }
        assert!(
            before.values().all(Value::is_f64),
            "every value a float, as libprocess writes them: {before:?}"
        );
        assert_eq!(number(&before, "master/elected"), 1.0);
        assert_eq!(number(&before, "master/frameworks_active"), 0.0);
        assert_eq!(number(&before, "master/slaves_active"), 1.0);
        assert_eq!(number(&before, "master/slave_registrations"), 1.0);
        assert!(number(&before, "master/cpus_total") > 0.0);
        assert_eq!(number(&after, "master/tasks_finished"), 1.0, "{after:?}");
        assert_eq!(number(&after, "master/frameworks_active"), 1.0, "{after:?}");
    });
}

/// The same run on a real master changes its snapshot the same way.
#[test]
fn a_real_master_counts_the_finished_task_the_same() {
    let Some(real) = mesos_tests::interop_master("a_real_master_counts_the_finished_task_the_same")
    else {
        return;
    };
    on_this_thread(async {
        let (before, _) = one_finished_task(&real, "snapshot-real", false).await;
        assert!(before.values().all(Value::is_f64), "{before:?}");
    });
}

/// The key set of mesos-local's snapshot is the real master's for these
/// keys (the values differ), when `MESOS_INTEROP_MASTER` names one.
#[test]
fn snapshot_keys_match_a_real_master() {
    let Some(real) = mesos_tests::interop_master("snapshot_keys_match_a_real_master") else {
        return;
    };
    on_this_thread(async {
        let cluster = cluster().await;
        let local = snapshot(cluster.master_url()).await;
        let real = snapshot(&real).await;
        for key in KEYS {
            assert!(
                real.get(*key).is_some_and(Value::is_number),
                "{key} on the real master"
            );
        }
        let extra: Vec<&String> = local.keys().filter(|k| !real.contains_key(*k)).collect();
        assert!(
            extra.is_empty(),
            "keys the real master does not have: {extra:?}"
        );
        let missing: Vec<&&str> = KEYS.iter().filter(|k| !local.contains_key(**k)).collect();
        assert!(missing.is_empty(), "{missing:?}");
    });
}
