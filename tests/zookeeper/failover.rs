//! Issue 15's end-to-end check, with the programs a user runs:
//! `mesos-local` with 3 masters elected through the real ZooKeeper and 2
//! agents; the built `test_framework` example, a separate process given
//! only the `zk://` URL, runs long tasks (`--task-seconds`) on
//! `test_executor`; the leading master is killed twice while they run.
//! Every task finishes, each was launched once on the agents, the framework
//! id never changes; the time from each kill to the framework's
//! resubscription is printed (RELIABILITY.md).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use mesos_local::LocalCluster;
use mesos_tests::{example_binary, output_dir};
use tokio::time::Instant;

use crate::{group, options};

/// Tasks: more than the 8 one-CPU slots of the two agents, so that the
/// last ones are launched by a master elected after the kills.
const TASKS: usize = 10;
/// How long each task runs: long enough for both kills to happen while
/// the first tasks run (checked before each kill), even when both
/// resubscriptions take seconds (see RELIABILITY.md).
const TASK_SECONDS: &str = "10";
/// Bound of every wait on a condition.
const SOON: Duration = Duration::from_secs(30);
/// Bound of the whole run of the framework.
const LIMIT: Duration = Duration::from_secs(180);

/// `test_framework` running in the background, its stdout and stderr in
/// files; killed if the test ends first.
struct Framework {
    child: Child,
    dir: PathBuf,
}

impl Framework {
    fn start(args: &[&str]) -> Framework {
        let program = example_binary("test_framework");
        let dir = output_dir("zk-failover");
        let child = Command::new(&program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.join("stdout")).expect("stdout file"))
            .stderr(std::fs::File::create(dir.join("stderr")).expect("stderr file"))
            .spawn()
            .unwrap_or_else(|e| panic!("{} starts: {e}", program.display()));
        Framework { child, dir }
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(self.dir.join("stdout")).unwrap_or_default()
    }

    fn output(&self) -> String {
        let stderr = std::fs::read_to_string(self.dir.join("stderr")).unwrap_or_default();
        format!("{}\n--- stderr ---\n{stderr}", self.stdout())
    }

    /// Waits (bounded, polling every 5 ms) until stdout satisfies `done`;
    /// panics with the output if the program exits first or the wait ends.
    async fn wait_for(&mut self, what: &str, done: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + SOON;
        loop {
            if done(&self.stdout()) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("exited ({status}) before {what}:\n{}", self.output());
            }
            assert!(
                Instant::now() < deadline,
                "no {what} within {SOON:?}:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Waits (bounded) for the program to exit.
    async fn exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + LIMIT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "did not exit within {LIMIT:?}:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Framework {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The states each task was reported in, in order, from the `Task <id> is
/// in state <STATE>` lines.
fn task_states(stdout: &str) -> BTreeMap<String, Vec<String>> {
    let mut states: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in stdout.lines() {
        if let Some((id, state)) = line
            .strip_prefix("Task ")
            .and_then(|rest| rest.split_once(" is in state "))
        {
            states
                .entry(id.to_string())
                .or_default()
                .push(state.to_string());
        }
    }
    states
}

/// How many tasks were reported in `state`.
fn tasks_in(stdout: &str, state: &str) -> usize {
    task_states(stdout)
        .values()
        .filter(|states| states.iter().any(|s| s == state))
        .count()
}

/// The framework ids of the lines starting with `prefix`.
fn framework_ids(stdout: &str, prefix: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|line| line.strip_prefix(prefix))
        .map(|id| id.trim().to_string())
        .collect()
}

const REGISTERED: &str = "Registered with framework ID ";
const REREGISTERED: &str = "Reregistered with framework ID ";

/// The ids of the frameworks the leader knows (active or not).
fn leader_frameworks(cluster: &LocalCluster) -> Vec<String> {
    cluster.state()["frameworks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["id"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_framework_survives_two_leader_kills_through_zookeeper() {
    let Some(url) = group("test_framework_survives_two_leader_kills") else {
        return;
    };
    mesos_test_support::init_tracing();
    // Built (if needed) before the cluster starts.
    tokio::task::spawn_blocking(|| example_binary("test_framework"))
        .await
        .expect("the examples build");
    let cluster = LocalCluster::builder()
        .masters(3)
        .agents(2)
        .zookeeper(url.clone())
        .zookeeper_options(options())
        .allocation_interval(Duration::from_millis(100))
        .start()
        .await
        .unwrap_or_else(|e| panic!("the cluster starts: {}", mesos_http::error_chain(&e)));

    let zk = url.to_string();
    let tasks = TASKS.to_string();
    let mut framework = Framework::start(&[&zk, &tasks, "--task-seconds", TASK_SECONDS]);
    framework
        .wait_for("the first tasks running", |out| {
            tasks_in(out, "TASK_RUNNING") >= 8
        })
        .await;
    let stdout = framework.stdout();
    let framework_id = framework_ids(&stdout, REGISTERED);
    assert_eq!(framework_id.len(), 1, "{stdout}");
    let framework_id = framework_id[0].clone();
    assert_eq!(leader_frameworks(&cluster), vec![framework_id.clone()]);

    for kill in 1..=2 {
        // The kill must find tasks running, or it tests nothing.
        let stdout = framework.stdout();
        assert!(
            tasks_in(&stdout, "TASK_RUNNING") > tasks_in(&stdout, "TASK_FINISHED"),
            "kill {kill}: no task runs any more (raise TASK_SECONDS):\n{stdout}"
        );
        let old = cluster.leader_index().expect("a leader");
        let killed = Instant::now();
        cluster.kill_master(old).expect("kill the leader");
        framework
            .wait_for("the framework's resubscription", |out| {
                framework_ids(out, REREGISTERED).len() >= kill
            })
            .await;
        let took = killed.elapsed();
        eprintln!("kill {kill}: killed leader to resubscribed (test_framework process): {took:?}");
        let leader = cluster.wait_for_leader(SOON).await.expect("a new leader");
        assert_ne!(leader, old);
        assert_eq!(
            leader_frameworks(&cluster),
            vec![framework_id.clone()],
            "the new leader knows the one framework"
        );
    }

    let status = framework.exit().await;
    let stdout = framework.stdout();
    assert!(
        status.success(),
        "test_framework failed ({status}):\n{}",
        framework.output()
    );

    // Every task finished, none went through another terminal state.
    let states = task_states(&stdout);
    let ids: Vec<String> = (0..TASKS).map(|i| i.to_string()).collect();
    assert_eq!(states.len(), TASKS, "{stdout}");
    for id in &ids {
        let seen = &states[id];
        assert_eq!(
            seen.last().map(String::as_str),
            Some("TASK_FINISHED"),
            "task {id}: {seen:?}"
        );
        assert!(
            seen.iter()
                .all(|s| s == "TASK_RUNNING" || s == "TASK_FINISHED"),
            "task {id}: {seen:?}"
        );
    }

    // Each task launched exactly once on the agents.
    let launches: BTreeMap<String, usize> = cluster
        .task_launches()
        .into_iter()
        .filter(|((framework, _), _)| *framework == framework_id)
        .map(|((_, task), count)| (task, count))
        .collect();
    let once: BTreeMap<String, usize> = ids.iter().map(|id| (id.clone(), 1)).collect();
    assert_eq!(launches, once, "launches per task id");

    // One framework id throughout.
    assert_eq!(
        framework_ids(&stdout, REGISTERED),
        vec![framework_id.clone()]
    );
    let again = framework_ids(&stdout, REREGISTERED);
    assert!(again.len() >= 2, "{stdout}");
    assert!(again.iter().all(|id| *id == framework_id), "{stdout}");
}
