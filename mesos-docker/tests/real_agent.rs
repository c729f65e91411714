//! Interop with a real Mesos 1.11 agent (Docker containerizer) running our
//! `mesos-docker-executor`: a raw v1 scheduler launches the tutorial Docker
//! task (test image, BRIDGE, shell=false) and a long-running one, sees
//! TASK_RUNNING and TASK_FINISHED for the first, and TASK_KILLED for the
//! second after a KILL.
//!
//! Runs only with `MESOS_DOCKER_INTEROP=1`; starts and stops
//! `shared/tools/real-mesos` itself (port 5061, or
//! `MESOS_DOCKER_INTEROP_PORT`), reporting `SKIPPED` when the tool or Docker is
//! absent (a failure with `MESOS_RS_REQUIRE_ENV=1`).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use mesos_docker::testing;
use mesos_proto::builders::{CommandInfoBuilder, DockerInfoBuilder, DockerNetwork};
use mesos_proto::v1::scheduler::{call, event};
use mesos_proto::v1::{TaskId, TaskInfo, TaskState};
use mesos_test_support::scheduler::{scalar, RawScheduler};

fn real_mesos_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/tools/real-mesos")
}

/// Stops the cluster on drop, whatever happened.
struct Cluster {
    dir: PathBuf,
    port: String,
}

impl Cluster {
    fn start(dir: PathBuf, port: &str) -> Cluster {
        let output = Command::new(dir.join("start.sh"))
            .env("PORT", port)
            .env("CONTAINERIZERS", "docker,mesos")
            .env("LAUNCHER_BINS", env!("CARGO_BIN_EXE_mesos-docker-executor"))
            // Never let the agent's recovery remove other users' `mesos-`
            // containers on this shared engine.
            .env("MESOS_DOCKER_KILL_ORPHANS", "false")
            .env("MESOS_EXECUTOR_REGISTRATION_TIMEOUT", "2mins")
            .output()
            .expect("running real-mesos start.sh");
        let cluster = Cluster {
            dir,
            port: port.into(),
        };
        assert!(
            output.status.success(),
            "start.sh failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        cluster
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(self.dir.join("stop.sh"))
            .env("PORT", &self.port)
            .output();
    }
}

fn docker_task(id: &str, command: CommandInfoBuilder, cpus: f64, mem: f64) -> TaskInfo {
    let mut task = TaskInfo::builder(id, id)
        .agent_id("placeholder")
        .cpus(cpus)
        .mem(mem)
        .command(command)
        .container(DockerInfoBuilder::new(testing::TEST_IMAGE).network(DockerNetwork::Bridge))
        .kill_grace_period(Duration::from_secs(3))
        .build()
        .unwrap();
    task.resources = vec![scalar("cpus", cpus), scalar("mem", mem)];
    task
}

#[tokio::test]
async fn docker_tasks_run_under_the_real_agent() {
    use mesos_test_support::environment;
    if !environment::flag("", "MESOS_DOCKER_INTEROP") {
        return;
    }
    let dir = real_mesos_dir();
    if !dir.join("start.sh").exists() {
        environment::skip("", &format!("{} is absent", dir.display()));
        return;
    }
    if !environment::docker("") {
        return;
    }
    testing::ensure_test_image().expect("test image");
    let port = std::env::var("MESOS_DOCKER_INTEROP_PORT").unwrap_or_else(|_| "5061".into());
    let cluster = Cluster::start(dir, &port);

    let mut scheduler =
        RawScheduler::subscribe(&cluster.url(), "root", "mesos-docker real_agent test").await;

    let pid = std::process::id();
    let tutorial = TaskId {
        value: format!("docker-tutorial-{pid}"),
    };
    let long = TaskId {
        value: format!("docker-long-{pid}"),
    };
    let mut launched = false;
    let mut killed_sent = false;
    let mut tutorial_states = Vec::new();
    let mut long_states = Vec::new();
    let mut running_ip = None;
    let outcome = tokio::time::timeout(Duration::from_secs(180), async {
        while let Some(event) = scheduler.next_event().await {
            match event.r#type() {
                event::Type::Offers if !launched => {
                    let Some(offer) = event.offers.and_then(|o| o.offers.into_iter().next()) else {
                        continue;
                    };
                    // The tutorial task: 1 cpu, 128 MB, BRIDGE, the image's
                    // own entrypoint (echo; sleep 2).
                    let mut first = docker_task(
                        &tutorial.value,
                        CommandInfoBuilder::entrypoint(),
                        1.0,
                        128.0,
                    );
                    let mut second = docker_task(
                        &long.value,
                        CommandInfoBuilder::shell(
                            "trap 'exit 0' TERM; while true; do sleep 0.2; done",
                        ),
                        0.5,
                        64.0,
                    );
                    first.agent_id = offer.agent_id.clone();
                    second.agent_id = offer.agent_id.clone();
                    scheduler.launch(&offer, vec![first, second]).await;
                    launched = true;
                }
                event::Type::Update => {
                    let status = event.update.expect("update payload").status;
                    let state = status.state();
                    println!(
                        "{}: {} ({:?}, reason {:?})",
                        status.task_id.value,
                        state.as_str_name(),
                        status.message,
                        status.reason
                    );
                    scheduler.acknowledge(&status).await;
                    if status.task_id == tutorial {
                        if state == TaskState::TaskRunning {
                            running_ip = status
                                .container_status
                                .as_ref()
                                .and_then(|c| c.network_infos.first())
                                .and_then(|n| n.ip_addresses.first())
                                .and_then(|ip| ip.ip_address.clone());
                        }
                        tutorial_states.push(state);
                    } else if status.task_id == long {
                        long_states.push(state);
                        if state == TaskState::TaskRunning && !killed_sent {
                            let mut kill = scheduler.call(call::Type::Kill);
                            kill.kill = Some(call::Kill {
                                task_id: long.clone(),
                                agent_id: status.agent_id.clone(),
                                kill_policy: None,
                            });
                            scheduler.send(&kill).await;
                            killed_sent = true;
                        }
                    }
                }
                event::Type::Error => panic!("unexpected event: {event:?}"),
                _ => {}
            }
            let done = |states: &Vec<TaskState>| {
                states.iter().any(|s| {
                    matches!(
                        s,
                        TaskState::TaskFinished
                            | TaskState::TaskFailed
                            | TaskState::TaskKilled
                            | TaskState::TaskLost
                            | TaskState::TaskError
                    )
                })
            };
            if done(&tutorial_states) && done(&long_states) {
                return;
            }
        }
        panic!("the master closed the scheduler stream");
    })
    .await;

    scheduler.teardown().await;
    assert!(
        outcome.is_ok(),
        "timed out: launched={launched} tutorial={tutorial_states:?} long={long_states:?}"
    );
    assert!(
        tutorial_states.contains(&TaskState::TaskRunning),
        "{tutorial_states:?}"
    );
    assert_eq!(tutorial_states.last(), Some(&TaskState::TaskFinished));
    assert!(
        running_ip.is_some(),
        "TASK_RUNNING carries the container IP"
    );
    assert!(
        long_states.contains(&TaskState::TaskRunning),
        "{long_states:?}"
    );
    assert_eq!(long_states.last(), Some(&TaskState::TaskKilled));
    drop(cluster);
}
