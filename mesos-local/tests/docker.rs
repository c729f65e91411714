//! Docker tasks on a `LocalCluster` (feature `docker`), on the real Docker
//! engine with the locally built busybox image (no registry), driven by a
//! framework on `mesos_scheduler`'s stream API.
//!
//! Every test reports `SKIPPED` and passes when `docker version` fails (a
//! failure with `MESOS_RS_REQUIRE_ENV=1`, as in CI). Each cluster names its
//! containers under its own prefix; the tests check that nothing is left
//! under it, and sweep it at the end even when an assertion failed.

#![cfg(feature = "docker")]

use std::process::{Command, Stdio};
use std::time::Duration;

use futures::StreamExt;
use mesos_docker::testing::{self, TEST_IMAGE};
use mesos_local::LocalCluster;
use mesos_proto::builders::{CommandInfoBuilder, DockerInfoBuilder, DockerNetwork};
use mesos_proto::v1::task_status::Reason;
use mesos_proto::v1::{FrameworkInfo, Offer, TaskInfo, TaskState, TaskStatus};
use mesos_scheduler::{subscribe, SchedulerClient, SchedulerConfig, SchedulerEvent, Subscription};

const WAIT: Duration = Duration::from_secs(60);

fn docker_ready() -> bool {
    if !mesos_test_support::environment::docker("") {
        return false;
    }
    testing::ensure_test_image().expect("building the test image");
    true
}

/// Names of the containers (running or not) whose name starts with `prefix`.
fn containers(prefix: &str) -> Vec<String> {
    let output = Command::new("docker")
        .args(["ps", "-a", "--format", "{{.Names}}"])
        .stdin(Stdio::null())
        .output()
        .expect("docker ps");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|name| name.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

/// Removes every container under `prefix` on drop (a failed test leaves
/// nothing behind).
struct Sweep(String);

impl Drop for Sweep {
    fn drop(&mut self) {
        let names = containers(&self.0);
        if !names.is_empty() {
            let _ = Command::new("docker")
                .args(["rm", "-f", "-v"])
                .args(&names)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

struct Framework {
    client: SchedulerClient,
    events: Subscription,
}

impl Framework {
    async fn start(cluster: &LocalCluster) -> Framework {
        let info = FrameworkInfo::builder("root", "docker-test (Rust)")
            .build()
            .unwrap();
        let config = SchedulerConfig::new([cluster.master_url()], info).unwrap();
        let (client, events) = subscribe(config).unwrap();
        Framework { client, events }
    }

    async fn next_event(&mut self) -> SchedulerEvent {
        tokio::time::timeout(WAIT, self.events.next())
            .await
            .expect("an event in time")
            .expect("the subscription goes on")
            .expect("no subscription error")
    }

    async fn offer(&mut self) -> Offer {
        loop {
            if let SchedulerEvent::Offers(mut offers) = self.next_event().await {
                if let Some(offer) = offers.pop() {
                    return offer;
                }
            }
        }
    }

    /// Launches the task `build` makes from the next offer.
    async fn launch(&mut self, build: impl FnOnce(&Offer) -> TaskInfo) -> TaskInfo {
        let offer = self.offer().await;
        let task = build(&offer);
        self.client
            .launch_tasks(vec![offer.id], vec![task.clone()], None)
            .await
            .expect("launch accepted");
        task
    }

    /// The next status update (acknowledged).
    async fn update(&mut self) -> TaskStatus {
        loop {
            if let SchedulerEvent::Update(status) = self.next_event().await {
                if status.uuid.is_some() {
                    self.client.acknowledge(&status).await.expect("ack");
                }
                return status;
            }
        }
    }

    /// Updates until (and including) a terminal one.
    async fn updates_until_terminal(&mut self) -> Vec<TaskStatus> {
        let mut all = Vec::new();
        loop {
            let status = self.update().await;
            let terminal = matches!(
                status.state(),
                TaskState::TaskFinished
                    | TaskState::TaskFailed
                    | TaskState::TaskKilled
                    | TaskState::TaskLost
                    | TaskState::TaskError
                    | TaskState::TaskDropped
            );
            all.push(status);
            if terminal {
                return all;
            }
        }
    }
}

fn states(updates: &[TaskStatus]) -> Vec<TaskState> {
    updates.iter().map(TaskStatus::state).collect()
}

/// The Java Mesos + Docker tutorial's task: 1 cpu, 128 MB, BRIDGE, the
/// image's entrypoint (shell=false, no value).
fn tutorial_task(offer: &Offer, id: &str, image: &str) -> TaskInfo {
    TaskInfo::builder(format!("task {id}"), id)
        .agent_id(&offer.agent_id)
        .cpus(1.0)
        .mem(128.0)
        .command(CommandInfoBuilder::entrypoint())
        .container(DockerInfoBuilder::new(image).network(DockerNetwork::Bridge))
        .build()
        .expect("task")
}

fn sleep_task(offer: &Offer, id: &str) -> TaskInfo {
    TaskInfo::builder(format!("task {id}"), id)
        .agent_id(&offer.agent_id)
        .cpus(0.5)
        .mem(64.0)
        .command(CommandInfoBuilder::shell("sleep 1000"))
        .container(DockerInfoBuilder::new(TEST_IMAGE).network(DockerNetwork::Bridge))
        .build()
        .expect("task")
}

async fn cluster() -> (LocalCluster, Sweep) {
    let cluster = LocalCluster::builder()
        .allocation_interval(Duration::from_millis(100))
        .start()
        .await
        .expect("cluster");
    let prefix = cluster
        .docker_name_prefix()
        .expect("a docker prefix by default")
        .to_string();
    assert!(prefix.starts_with("mesos-"), "{prefix}");
    (cluster, Sweep(prefix))
}

/// Runs the one task `build` makes on a fresh Docker cluster until it
/// ends; returns its updates, once no container of the cluster is left.
/// `None` (the test is skipped) without a Docker engine.
async fn run_one_task(build: impl FnOnce(&Offer) -> TaskInfo) -> Option<Vec<TaskStatus>> {
    if !docker_ready() {
        return None;
    }
    let (cluster, sweep) = cluster().await;
    let mut framework = Framework::start(&cluster).await;
    framework.launch(build).await;
    let updates = framework.updates_until_terminal().await;
    assert_eq!(containers(&sweep.0), Vec::<String>::new());
    Some(updates)
}

fn find_file(dir: &std::path::Path, name: &str) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(find_file(&path, name));
            } else if path.file_name().is_some_and(|n| n == name) {
                found.push(path);
            }
        }
    }
    found
}

#[tokio::test]
async fn the_tutorial_docker_task_runs_then_finishes_and_leaves_no_container() {
    if !docker_ready() {
        return;
    }
    let (cluster, sweep) = cluster().await;
    let mut framework = Framework::start(&cluster).await;
    framework
        .launch(|offer| tutorial_task(offer, "tutorial-1", TEST_IMAGE))
        .await;
    let updates = framework.updates_until_terminal().await;
    assert_eq!(
        states(&updates),
        [
            TaskState::TaskStarting,
            TaskState::TaskRunning,
            TaskState::TaskFinished
        ],
        "{updates:#?}"
    );
    let running = &updates[1];
    let container_status = running.container_status.as_ref().expect("container status");
    let ip = container_status.network_infos[0].ip_addresses[0]
        .ip_address
        .as_deref()
        .expect("the container's IP");
    let ip: std::net::Ipv4Addr = ip.parse().expect("an IPv4 address");
    assert!(
        !ip.is_loopback(),
        "the bridge address, not the agent's: {ip}"
    );
    let inspect: serde_json::Value =
        serde_json::from_slice(running.data.as_ref().expect("inspect output")).unwrap();
    let name = inspect[0]["Name"].as_str().unwrap().trim_start_matches('/');
    assert!(name.starts_with(&sweep.0), "{name}");
    let container_id = container_status.container_id.as_ref().unwrap();
    assert!(name.ends_with(&container_id.value), "{name}");
    assert_eq!(
        updates[2].message(),
        "Container exited with status 0",
        "{updates:#?}"
    );
    // The entrypoint's output went to the sandbox.
    let stdout = find_file(cluster.work_dir(), "stdout");
    assert!(
        stdout.iter().any(|path| std::fs::read_to_string(path)
            .unwrap_or_default()
            .contains("entrypoint")),
        "{stdout:?}"
    );
    assert_eq!(containers(&sweep.0), Vec::<String>::new());
}

#[tokio::test]
async fn killing_a_docker_command_task_stops_and_removes_its_container() {
    if !docker_ready() {
        return;
    }
    let (cluster, sweep) = cluster().await;
    let mut framework = Framework::start(&cluster).await;
    let task = framework.launch(|offer| sleep_task(offer, "sleeper")).await;
    assert_eq!(framework.update().await.state(), TaskState::TaskStarting);
    assert_eq!(framework.update().await.state(), TaskState::TaskRunning);
    assert_eq!(containers(&sweep.0).len(), 1);
    framework
        .client
        .kill(task.task_id.clone(), Some(task.agent_id.clone()), None)
        .await
        .expect("kill accepted");
    let updates = framework.updates_until_terminal().await;
    assert_eq!(
        states(&updates).last(),
        Some(&TaskState::TaskKilled),
        "{updates:#?}"
    );
    assert!(
        updates
            .last()
            .unwrap()
            .message()
            .starts_with("Container exited with status"),
        "{updates:#?}"
    );
    assert_eq!(containers(&sweep.0), Vec::<String>::new());
}

#[tokio::test]
async fn a_missing_image_fails_the_task_naming_the_image() {
    let image = "mesos-rs-test:no-such-tag";
    let Some(updates) = run_one_task(|offer| tutorial_task(offer, "no-image", image)).await else {
        return;
    };
    let last = updates.last().unwrap();
    assert_eq!(last.state(), TaskState::TaskFailed, "{updates:#?}");
    assert_eq!(last.reason(), Reason::ContainerLaunchFailed);
    assert!(last.message().contains(image), "{}", last.message());
}

#[tokio::test]
async fn a_port_mapping_outside_the_task_ports_fails_with_the_spec_error() {
    let Some(updates) = run_one_task(|offer| {
        TaskInfo::builder("bad ports", "bad-ports")
            .agent_id(&offer.agent_id)
            .cpus(0.5)
            .mem(64.0)
            .ports(&[(31000, 31000)])
            .command(CommandInfoBuilder::entrypoint())
            .container(
                DockerInfoBuilder::new(TEST_IMAGE)
                    .network(DockerNetwork::Bridge)
                    .port_mapping(31500, 80),
            )
            .build()
            .expect("task")
    })
    .await
    else {
        return;
    };
    let last = updates.last().unwrap();
    assert_eq!(last.state(), TaskState::TaskFailed, "{updates:#?}");
    assert!(
        last.message().contains("invalid port mapping") && last.message().contains("31500"),
        "{}",
        last.message()
    );
}

#[tokio::test]
async fn dropping_the_cluster_mid_run_removes_the_container() {
    if !docker_ready() {
        return;
    }
    let (cluster, sweep) = cluster().await;
    let mut framework = Framework::start(&cluster).await;
    framework.launch(|offer| sleep_task(offer, "dropped")).await;
    assert_eq!(framework.update().await.state(), TaskState::TaskStarting);
    assert_eq!(framework.update().await.state(), TaskState::TaskRunning);
    assert_eq!(containers(&sweep.0).len(), 1);
    drop(framework);
    drop(cluster);
    // Removed synchronously by the drop.
    assert_eq!(containers(&sweep.0), Vec::<String>::new());
}

#[tokio::test]
async fn plain_command_tasks_still_run_as_processes() {
    if !docker_ready() {
        return;
    }
    let (cluster, _sweep) = cluster().await;
    let mut framework = Framework::start(&cluster).await;
    framework
        .launch(|offer| {
            TaskInfo::builder("plain", "plain")
                .agent_id(&offer.agent_id)
                .cpus(0.1)
                .mem(32.0)
                .command(CommandInfoBuilder::shell("echo plain"))
                .build()
                .expect("task")
        })
        .await;
    let updates = framework.updates_until_terminal().await;
    assert_eq!(
        states(&updates),
        [
            TaskState::TaskStarting,
            TaskState::TaskRunning,
            TaskState::TaskFinished
        ]
    );
    assert!(updates[1].message().starts_with("Command started (pid "));
    assert_eq!(updates[2].message(), "Command exited with status 0");
}

#[tokio::test]
async fn recovery_only_removes_containers_under_the_clusters_own_prefix() {
    if !docker_ready() {
        return;
    }
    let pid = std::process::id();
    let own = format!("mesos-rstest{pid}-");
    let orphan = format!("{own}orphan");
    // Another user's container: also `mesos-`, and even sharing the start
    // of our prefix.
    let foreign = format!("mesos-rstest{pid}x-foreign");
    let _sweeps = (Sweep(own.clone()), Sweep(foreign.clone()));
    for name in [&orphan, &foreign] {
        let status = Command::new("docker")
            .args([
                "run",
                "-d",
                "-e",
                "KEEP_RUNNING=1",
                "--name",
                name,
                TEST_IMAGE,
            ])
            .stdout(Stdio::null())
            .status()
            .expect("docker run");
        assert!(status.success());
    }
    let cluster = LocalCluster::builder()
        .docker_name_prefix(own.clone())
        .start()
        .await
        .expect("cluster");
    assert_eq!(cluster.docker_name_prefix(), Some(own.as_str()));
    assert_eq!(containers(&own), Vec::<String>::new());
    assert_eq!(containers(&foreign), vec![foreign.clone()]);
    drop(cluster);
    assert_eq!(containers(&foreign), vec![foreign.clone()]);

    let invalid = LocalCluster::builder()
        .docker_name_prefix("not-mesos-")
        .start()
        .await;
    assert!(invalid.is_err());
}

#[tokio::test]
async fn docker_false_runs_processes_only() {
    let cluster = LocalCluster::builder()
        .docker(false)
        .allocation_interval(Duration::from_millis(100))
        .start()
        .await
        .expect("cluster");
    assert_eq!(cluster.docker_name_prefix(), None);
    let mut framework = Framework::start(&cluster).await;
    framework
        .launch(|offer| tutorial_task(offer, "no-docker", TEST_IMAGE))
        .await;
    let updates = framework.updates_until_terminal().await;
    let last = updates.last().unwrap();
    assert_eq!(last.state(), TaskState::TaskFailed, "{updates:#?}");
    assert!(
        last.message().contains("cannot run Docker containers"),
        "{}",
        last.message()
    );
}

#[tokio::test]
async fn fetched_uris_are_in_the_containers_sandbox() {
    let scripts = tempfile::tempdir().expect("temporary directory");
    let script = scripts.path().join("tool.sh");
    std::fs::write(&script, "#!/bin/sh\nexit 0\n").expect("script");
    let Some(updates) = run_one_task(|offer| {
        let mut task = TaskInfo::builder("task fetched", "fetched")
            .agent_id(&offer.agent_id)
            .cpus(0.5)
            .mem(64.0)
            .command(CommandInfoBuilder::shell(
                "test -x /mnt/mesos/sandbox/tool.sh && /mnt/mesos/sandbox/tool.sh",
            ))
            .container(DockerInfoBuilder::new(TEST_IMAGE).network(DockerNetwork::Bridge))
            .build()
            .expect("task");
        if let Some(command) = task.command.as_mut() {
            command.uris.push(mesos_proto::v1::command_info::Uri {
                value: format!("file://{}", script.display()),
                executable: Some(true),
                ..Default::default()
            });
        }
        task
    })
    .await
    else {
        return;
    };
    assert_eq!(
        updates.last().map(TaskStatus::state),
        Some(TaskState::TaskFinished),
        "{updates:#?}"
    );
}
