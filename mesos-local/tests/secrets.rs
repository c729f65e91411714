//! No secret value in any log line or status message (issue 14): tasks
//! (Docker, failing and succeeding, and a command task) carry a secret in
//! their environment; every log line of the process (TRACE, captured in a
//! buffer) and every status message the framework gets is searched for it.
//! Skipped (passes, says so) without a Docker engine.
#![cfg(feature = "docker")]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use mesos_docker::testing::{self, TEST_IMAGE};
use mesos_local::LocalCluster;
use mesos_proto::builders::{CommandInfoBuilder, DockerInfoBuilder, DockerNetwork};
use mesos_proto::v1::{FrameworkInfo, Offer, TaskInfo, TaskState, TaskStatus};
use mesos_scheduler::{subscribe, SchedulerConfig, SchedulerEvent};

/// Every log line of this test process.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn task(offer: &Offer, id: &str, secret: &str, docker: Option<DockerInfoBuilder>) -> TaskInfo {
    let mut builder = TaskInfo::builder(format!("task {id}"), id)
        .agent_id(&offer.agent_id)
        .cpus(0.1)
        .mem(32.0)
        .command(CommandInfoBuilder::shell("exit 0").env("THE_SECRET", secret));
    if let Some(docker) = docker {
        builder = builder.container(docker);
    }
    builder.build().expect("task")
}

#[tokio::test]
async fn environment_values_appear_in_no_log_line_and_no_status_message() {
    if !testing::docker_available() {
        println!("skipped: no Docker engine");
        return;
    }
    testing::ensure_test_image().expect("building the test image");
    let logs = Logs::default();
    let sink = logs.clone();
    tracing_subscriber::fmt()
        .with_env_filter("trace")
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .init();
    let secret = format!("s3cret-{}", uuid_like());
    let cluster = LocalCluster::builder()
        .allocation_interval(Duration::from_millis(100))
        .start()
        .await
        .expect("cluster");
    let info = FrameworkInfo::builder("root", "secrets").build().unwrap();
    let (client, mut events) =
        subscribe(SchedulerConfig::new([cluster.master_url()], info).unwrap()).unwrap();
    let mut statuses: Vec<TaskStatus> = Vec::new();
    let mut launched = false;
    let mut ended = 0;
    while ended < 3 {
        let event = tokio::time::timeout(Duration::from_secs(90), events.next())
            .await
            .expect("an event in time")
            .expect("the subscription goes on")
            .expect("no subscription error");
        match event {
            SchedulerEvent::Offers(offers) if !launched => {
                let offer = &offers[0];
                let tasks = vec![
                    // docker run fails (an unknown flag): TASK_FAILED with
                    // docker's explanation and the command line.
                    task(
                        offer,
                        "docker-fails",
                        &secret,
                        Some(
                            DockerInfoBuilder::new(TEST_IMAGE)
                                .network(DockerNetwork::Bridge)
                                .parameter("no-such-docker-flag", "x"),
                        ),
                    ),
                    task(
                        offer,
                        "docker-runs",
                        &secret,
                        Some(DockerInfoBuilder::new(TEST_IMAGE).network(DockerNetwork::Bridge)),
                    ),
                    task(offer, "command", &secret, None),
                ];
                client
                    .launch_tasks(vec![offer.id.clone()], tasks, None)
                    .await
                    .expect("launch accepted");
                launched = true;
            }
            SchedulerEvent::Update(status) => {
                if status.uuid.is_some() {
                    client.acknowledge(&status).await.expect("ack");
                }
                if status.state().is_terminal() {
                    ended += 1;
                }
                statuses.push(status);
            }
            _ => {}
        }
    }
    let failed = statuses
        .iter()
        .find(|s| s.task_id.value == "docker-fails" && s.state() == TaskState::TaskFailed)
        .expect("the failing docker task failed");
    let message = failed.message.clone().unwrap_or_default();
    assert!(
        message.contains("no-such-docker-flag"),
        "docker's explanation: {message}"
    );
    drop(cluster);
    let logs = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        logs.contains("THE_SECRET"),
        "the variable's name is logged (the capture works)"
    );
    for status in &statuses {
        let text = format!("{status:?}");
        assert!(
            !text.contains(&secret),
            "a status carries the secret: {text}"
        );
    }
    let leaks: Vec<&str> = logs.lines().filter(|l| l.contains(&secret)).collect();
    assert!(leaks.is_empty(), "log lines with the secret: {leaks:#?}");
}

/// A value unique to this run (no dependency on a UUID crate).
fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{nanos:x}-{}", std::process::id())
}
