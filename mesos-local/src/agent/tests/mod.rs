//! Agent tests: an [`Agent`] driven directly, the test playing the master
//! (reading `FromAgent`, sending `ToAgent`) and sometimes the executor.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use mesos_http::{Client, EventStream, MediaType};
use mesos_proto::v1::executor::{call, event, Call, Event};
use mesos_proto::v1::{
    environment, framework_info, task_status, AgentId, CommandInfo, DurationInfo, Environment,
    ExecutorId, ExecutorInfo, FrameworkId, FrameworkInfo, KillPolicy, TaskId, TaskInfo, TaskState,
    TaskStatus,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Agent, AgentConfig};
use crate::containerizer::process::process_alive;
use crate::containerizer::{default_containerizer, Containerizer, FakeContainerizer, TaskBehavior};
use crate::protocol::{FromAgent, ToAgent};

mod executor_api;
mod isolation;
mod processes;
mod update_bound;

const WAIT: Duration = Duration::from_secs(20);
const FW: &str = "fw-0001";

struct Harness {
    agent: Agent,
    from_agent: mpsc::UnboundedReceiver<FromAgent>,
    token: CancellationToken,
    dir: tempfile::TempDir,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.token.cancel();
        self.agent.kill_all();
    }
}

async fn harness(containerizer: Arc<dyn Containerizer>, retry: Duration) -> Harness {
    harness_with(containerizer, retry, |_| {}).await
}

/// [`harness`] with its agent's configuration changed by `tweak`.
async fn harness_with(
    containerizer: Arc<dyn Containerizer>,
    retry: Duration,
    tweak: impl FnOnce(&mut AgentConfig),
) -> Harness {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("mesos_local=debug")
        .try_init();
    let dir = tempfile::tempdir().unwrap();
    let mut config = AgentConfig {
        index: 1,
        id: AgentId {
            value: "agent-S0".into(),
        },
        ip: "127.0.0.1".parse().unwrap(),
        port: 0,
        hostname: "localhost".into(),
        resources: Vec::new(),
        attributes: Vec::new(),
        work_dir: dir.path().to_path_buf(),
        containerizer,
        status_update_retry: retry,
        executor_shutdown_grace: Duration::from_secs(2),
        limits: mesos_http::server::ServerLimits::default(),
        max_queued_events: crate::queue::DEFAULT_MAX_QUEUED_EVENTS,
        max_pending_updates: crate::agent::MAX_PENDING_UPDATES,
        authenticate_executors: false,
        operator_credentials: None,
        fetcher: crate::FetcherConfig::default(),
        #[cfg(feature = "tls")]
        tls: None,
    };
    tweak(&mut config);
    let (tx, from_agent) = mpsc::unbounded_channel();
    let token = CancellationToken::new();
    let agent = Agent::start(config, tx, token.clone()).await.unwrap();
    Harness {
        agent,
        from_agent,
        token,
        dir,
    }
}

fn framework(checkpoint: bool) -> Arc<FrameworkInfo> {
    Arc::new(FrameworkInfo {
        user: "root".into(),
        name: "agent-tests".into(),
        id: Some(FrameworkId { value: FW.into() }),
        checkpoint: Some(checkpoint),
        ..Default::default()
    })
}

fn command_task(id: &str, command: &str) -> TaskInfo {
    TaskInfo {
        name: id.into(),
        task_id: TaskId { value: id.into() },
        command: Some(CommandInfo {
            value: Some(command.into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn executor_task(id: &str, executor: &ExecutorInfo) -> TaskInfo {
    TaskInfo {
        name: id.into(),
        task_id: TaskId { value: id.into() },
        executor: Some(Box::new(executor.clone())),
        ..Default::default()
    }
}

fn shell_executor(id: &str, command: &str) -> ExecutorInfo {
    ExecutorInfo {
        executor_id: ExecutorId { value: id.into() },
        command: Some(CommandInfo {
            value: Some(command.into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// An executor API call of `executor` (framework [`FW`]).
fn executor_call(kind: call::Type, executor: &str) -> Call {
    Call {
        executor_id: ExecutorId {
            value: executor.into(),
        },
        framework_id: FrameworkId { value: FW.into() },
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

/// An executor's update of `task`, with a fresh uuid.
fn executor_status(task: &str, state: i32) -> TaskStatus {
    TaskStatus {
        task_id: TaskId { value: task.into() },
        state,
        source: Some(task_status::Source::Executor as i32),
        uuid: Some(Bytes::copy_from_slice(uuid::Uuid::new_v4().as_bytes())),
        ..Default::default()
    }
}

/// A protobuf client of the executor API.
fn executor_client() -> Client {
    Client::builder()
        .media_type(MediaType::Protobuf)
        .build()
        .unwrap()
}

fn state(status: &TaskStatus) -> TaskState {
    TaskState::try_from(status.state).unwrap()
}

impl Harness {
    fn send(&self, message: ToAgent) {
        self.agent.link().tx.send(message).unwrap();
    }

    fn url(&self) -> String {
        format!("http://{}/slave(1)/api/v1/executor", self.agent.addr)
    }

    async fn next(&mut self) -> FromAgent {
        tokio::time::timeout(WAIT, self.from_agent.recv())
            .await
            .expect("a message from the agent in time")
            .expect("agent channel open")
    }

    async fn update(&mut self) -> TaskStatus {
        match self.next().await {
            FromAgent::StatusUpdate {
                framework_id,
                status,
                agent_id,
            } => {
                assert_eq!(framework_id.value, FW);
                assert_eq!(agent_id.value, "agent-S0");
                TaskStatus::clone(&status)
            }
            other => panic!("expected a status update, got {other:?}"),
        }
    }

    fn ack(&self, status: &TaskStatus) {
        self.send(ToAgent::StatusUpdateAcknowledged {
            framework_id: FrameworkId { value: FW.into() },
            task_id: status.task_id.clone(),
            uuid: status.uuid.clone().unwrap(),
        });
    }

    /// Updates (acknowledged at once) until a terminal one.
    async fn until_terminal(&mut self) -> Vec<TaskStatus> {
        let mut seen = Vec::new();
        loop {
            let status = self.update().await;
            self.ack(&status);
            let done = status.state().is_terminal();
            seen.push(status);
            if done {
                return seen;
            }
        }
    }

    async fn quiet(&mut self, period: Duration) {
        if let Ok(Some(message)) = tokio::time::timeout(period, self.from_agent.recv()).await {
            panic!("unexpected message {message:?}");
        }
    }

    fn sandbox(&self, executor_id: &str, container_id: &str) -> PathBuf {
        super::sandbox::executor_run_directory(
            self.dir.path(),
            "agent-S0",
            FW,
            executor_id,
            container_id,
        )
    }
}

#[tokio::test]
async fn command_task_lifecycle_with_resend() {
    let mut h = harness(default_containerizer(), Duration::from_millis(300)).await;
    h.send(ToAgent::RunTask {
        framework: framework(false),
        task: Arc::new(command_task("t1", "echo hi")),
    });

    let starting = h.update().await;
    assert_eq!(state(&starting), TaskState::TaskStarting);
    assert_eq!(starting.source, Some(task_status::Source::Executor as i32));
    assert_eq!(starting.executor_id.as_ref().unwrap().value, "t1");
    assert_eq!(starting.uuid.as_ref().map(|u| u.len()), Some(16));
    assert!(starting.timestamp.is_some());
    let container = starting.container_status.clone().unwrap();
    let container_id = container.container_id.unwrap().value;
    assert!(container.executor_pid.is_some());
    assert_eq!(
        container.network_infos[0].ip_addresses[0]
            .ip_address
            .as_deref(),
        Some("127.0.0.1")
    );

    // Not acknowledged: resent (same uuid), and nothing else goes meanwhile.
    let again = h.update().await;
    assert_eq!(again.uuid, starting.uuid);
    assert_eq!(state(&again), TaskState::TaskStarting);
    h.ack(&starting);

    let running = h.update().await;
    assert_eq!(state(&running), TaskState::TaskRunning);
    assert_ne!(running.uuid, starting.uuid);
    assert!(
        running
            .message
            .as_deref()
            .unwrap()
            .starts_with("Command started (pid "),
        "{running:?}"
    );
    h.ack(&running);
    let finished = h.update().await;
    assert_eq!(state(&finished), TaskState::TaskFinished);
    assert_eq!(
        finished.message.as_deref(),
        Some("Command exited with status 0")
    );
    h.ack(&finished);
    h.quiet(Duration::from_millis(800)).await;

    let out = std::fs::read_to_string(h.sandbox("t1", &container_id).join("stdout")).unwrap();
    assert_eq!(out, "hi\n");
}

#[tokio::test]
async fn failing_command_and_framework_resubscription() {
    let mut h = harness(default_containerizer(), Duration::from_secs(60)).await;
    h.send(ToAgent::RunTask {
        framework: framework(false),
        task: Arc::new(command_task("t2", "exit 3")),
    });
    let starting = h.update().await;
    // FrameworkSubscribed resends the head at once (no waiting for the retry).
    h.send(ToAgent::FrameworkSubscribed {
        framework_id: FrameworkId { value: FW.into() },
    });
    assert_eq!(h.update().await.uuid, starting.uuid);
    h.ack(&starting);
    let rest = h.until_terminal().await;
    let last = rest.last().unwrap();
    assert_eq!(state(last), TaskState::TaskFailed);
    assert_eq!(
        last.message.as_deref(),
        Some("Command exited with status 3")
    );
    assert_eq!(last.source, Some(task_status::Source::Executor as i32));
}

#[tokio::test]
async fn kill_command_task_within_grace() {
    let mut h = harness(default_containerizer(), Duration::from_secs(60)).await;
    let mut task = command_task("t3", "sleep 100");
    task.kill_policy = Some(KillPolicy {
        grace_period: Some(DurationInfo {
            nanoseconds: 1_000_000_000,
        }),
    });
    let mut fw = framework(false);
    let fw_info = Arc::make_mut(&mut fw);
    fw_info.capabilities.push(framework_info::Capability {
        r#type: Some(framework_info::capability::Type::TaskKillingState as i32),
    });
    h.send(ToAgent::RunTask {
        framework: fw,
        task: Arc::new(task),
    });
    let starting = h.update().await;
    let pid = starting
        .container_status
        .as_ref()
        .unwrap()
        .executor_pid
        .unwrap();
    h.ack(&starting);
    let running = h.update().await;
    assert_eq!(state(&running), TaskState::TaskRunning);
    h.ack(&running);
    assert!(process_alive(pid));
    let asked = std::time::Instant::now();
    h.send(ToAgent::KillTask {
        framework_id: FrameworkId { value: FW.into() },
        task_id: TaskId { value: "t3".into() },
        kill_policy: None,
    });
    let killing = h.update().await;
    assert_eq!(state(&killing), TaskState::TaskKilling);
    h.ack(&killing);
    let killed = h.update().await;
    assert_eq!(state(&killed), TaskState::TaskKilled);
    assert_eq!(
        killed.message.as_deref(),
        Some("Command terminated with signal Terminated")
    );
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "{:?}",
        asked.elapsed()
    );
    assert!(!process_alive(pid));
}

#[tokio::test]
async fn kill_after_the_executor_ended_but_before_the_terminal_ack_is_ignored() {
    // As the real agent: a task whose terminal update is not acknowledged
    // yet is still the agent's (`Executor::terminatedTasks`), so a KILL
    // crossing that update gets no "Cannot find executor" TASK_LOST.
    let mut h = harness(default_containerizer(), Duration::from_secs(60)).await;
    // Another task keeps the framework on the agent.
    h.send(ToAgent::RunTask {
        framework: framework(false),
        task: Arc::new(command_task("t5", "sleep 100")),
    });
    loop {
        let status = h.update().await;
        h.ack(&status);
        if status.state() == TaskState::TaskRunning {
            break;
        }
    }
    h.send(ToAgent::RunTask {
        framework: framework(false),
        task: Arc::new(command_task("t4", "exit 0")),
    });
    let finished = loop {
        let status = h.update().await;
        assert_eq!(status.task_id.value, "t4");
        if status.state().is_terminal() {
            break status;
        }
        h.ack(&status);
    };
    assert_eq!(state(&finished), TaskState::TaskFinished);
    // Kills keep coming while the command executor exits and is removed.
    let kill = || ToAgent::KillTask {
        framework_id: FrameworkId { value: FW.into() },
        task_id: TaskId { value: "t4".into() },
        kill_policy: None,
    };
    for _ in 0..20 {
        h.send(kill());
        h.quiet(Duration::from_millis(50)).await;
    }
    // Nothing was queued behind the terminal update either.
    h.ack(&finished);
    h.quiet(Duration::from_millis(300)).await;
    // Once acknowledged, the task is gone: a KILL is answered as unknown.
    h.send(kill());
    let lost = h.update().await;
    assert_eq!(state(&lost), TaskState::TaskLost);
    assert_eq!(lost.message.as_deref(), Some("Cannot find executor"));
}
