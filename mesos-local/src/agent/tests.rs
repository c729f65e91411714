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
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("mesos_local=debug")
        .try_init();
    let dir = tempfile::tempdir().unwrap();
    let config = AgentConfig {
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
    };
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

fn framework(checkpoint: bool) -> FrameworkInfo {
    FrameworkInfo {
        user: "root".into(),
        name: "agent-tests".into(),
        id: Some(FrameworkId { value: FW.into() }),
        checkpoint: Some(checkpoint),
        ..Default::default()
    }
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
                status
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
            let done = super::status_updates::is_terminal(status.state);
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
        task: command_task("t1", "echo hi"),
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
        task: command_task("t2", "exit 3"),
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
    fw.capabilities.push(framework_info::Capability {
        r#type: Some(framework_info::capability::Type::TaskKillingState as i32),
    });
    h.send(ToAgent::RunTask {
        framework: fw,
        task,
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

/// The test itself plays a custom executor over the executor API (the
/// launched process only sleeps).
#[tokio::test]
async fn executor_api_by_hand() {
    let mut h = harness(default_containerizer(), Duration::from_secs(60)).await;
    let executor = shell_executor("hand", "sleep 1000");
    h.send(ToAgent::RunTask {
        framework: framework(false),
        task: executor_task("h1", &executor),
    });

    let client = Client::builder()
        .media_type(MediaType::Json)
        .build()
        .unwrap();
    let url = mesos_http::parse_url(&h.url()).unwrap();
    let unprefixed =
        mesos_http::parse_url(&format!("http://{}/api/v1/executor", h.agent.addr)).unwrap();
    let call = |kind: call::Type, executor: &str| Call {
        executor_id: ExecutorId {
            value: executor.into(),
        },
        framework_id: FrameworkId { value: FW.into() },
        r#type: Some(kind as i32),
        ..Default::default()
    };
    // Unknown executor: 400; not subscribed yet: 403.
    let mut subscribe = call(call::Type::Subscribe, "nope");
    subscribe.subscribe = Some(call::Subscribe::default());
    // The launch is asynchronous: wait for the agent to know the executor.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let err = client
        .subscribe::<Call, Event>(&url, &subscribe)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::BAD_REQUEST), "{err}");
    assert!(
        err.to_string().contains("Executor cannot be found"),
        "{err}"
    );
    let update = |task: &str, state: TaskState| {
        let mut c = call(call::Type::Update, "hand");
        c.update = Some(call::Update {
            status: TaskStatus {
                task_id: TaskId { value: task.into() },
                state: state as i32,
                uuid: Some(Bytes::copy_from_slice(uuid::Uuid::new_v4().as_bytes())),
                ..Default::default()
            },
        });
        c
    };
    let err = client
        .call(&url, &update("h1", TaskState::TaskRunning), None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::FORBIDDEN), "{err}");

    let mut subscribe = call(call::Type::Subscribe, "hand");
    subscribe.subscribe = Some(call::Subscribe::default());
    let subscription = client
        .subscribe::<Call, Event>(&unprefixed, &subscribe)
        .await
        .unwrap();
    let mut events = subscription.events;
    let subscribed = next_event(&mut events).await;
    assert_eq!(subscribed.r#type, Some(event::Type::Subscribed as i32));
    let subscribed = subscribed.subscribed.unwrap();
    assert_eq!(subscribed.executor_info.executor_id.value, "hand");
    assert_eq!(subscribed.executor_info.framework_id.unwrap().value, FW);
    assert_eq!(subscribed.framework_info.name, "agent-tests");
    assert_eq!(subscribed.agent_info.id.unwrap().value, "agent-S0");
    assert_eq!(
        subscribed.agent_info.port,
        Some(i32::from(h.agent.addr.port()))
    );
    let container_id = subscribed.container_id.unwrap().value;
    let launch = next_event(&mut events).await;
    assert_eq!(launch.r#type, Some(event::Type::Launch as i32));
    assert_eq!(launch.launch.unwrap().task.task_id.value, "h1");

    // A later task arrives on the open stream.
    h.send(ToAgent::RunTask {
        framework: framework(false),
        task: executor_task("h2", &executor),
    });
    let launch = next_event(&mut events).await;
    assert_eq!(launch.launch.unwrap().task.task_id.value, "h2");

    // Validation.
    let err = client
        .call(&url, &update("zzz", TaskState::TaskRunning), None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::BAD_REQUEST), "{err}");
    let mut no_uuid = update("h1", TaskState::TaskRunning);
    no_uuid.update.as_mut().unwrap().status.uuid = None;
    let err = client.call(&url, &no_uuid, None).await.unwrap_err();
    assert!(
        err.to_string().contains("Expecting 'uuid' to be present"),
        "{err}"
    );

    // UPDATE → master. The agent acknowledges it to the executor as soon as
    // its status update manager has it (as the real agent does), without
    // waiting for the scheduler's acknowledgement.
    let running = update("h1", TaskState::TaskRunning);
    let sent_uuid = running.update.as_ref().unwrap().status.uuid.clone();
    assert_eq!(
        client.call(&url, &running, None).await.unwrap().status,
        http::StatusCode::ACCEPTED
    );
    let ack = next_event(&mut events).await;
    assert_eq!(ack.r#type, Some(event::Type::Acknowledged as i32));
    let ack = ack.acknowledged.unwrap();
    assert_eq!(ack.task_id.value, "h1");
    assert_eq!(Some(ack.uuid), sent_uuid);
    let status = h.update().await;
    assert_eq!(status.uuid, sent_uuid);
    assert_eq!(status.source, Some(task_status::Source::Executor as i32));
    assert_eq!(
        status
            .container_status
            .as_ref()
            .unwrap()
            .container_id
            .as_ref()
            .unwrap()
            .value,
        container_id
    );
    // A second update queues behind the unacknowledged head: acknowledged
    // to the executor at once too, forwarded once the scheduler acknowledged
    // the first.
    let again = update("h1", TaskState::TaskRunning);
    let again_uuid = again.update.as_ref().unwrap().status.uuid.clone();
    assert_ne!(again_uuid, sent_uuid);
    client.call(&url, &again, None).await.unwrap();
    let ack = next_event(&mut events).await;
    assert_eq!(
        ack.acknowledged.map(|a| Some(a.uuid)),
        Some(again_uuid.clone())
    );
    h.ack(&status);
    let second = h.update().await;
    assert_eq!(second.uuid, again_uuid);
    h.ack(&second);

    // MESSAGE → master; framework message → MESSAGE event; HEARTBEAT → 202.
    let mut message = call(call::Type::Message, "hand");
    message.message = Some(call::Message {
        data: Bytes::from_static(b"ping"),
    });
    client.call(&url, &message, None).await.unwrap();
    match h.next().await {
        FromAgent::ExecutorMessage {
            executor_id, data, ..
        } => {
            assert_eq!(executor_id.value, "hand");
            assert_eq!(data, Bytes::from_static(b"ping"));
        }
        other => panic!("{other:?}"),
    }
    h.send(ToAgent::FrameworkMessage {
        framework_id: FrameworkId { value: FW.into() },
        executor_id: ExecutorId {
            value: "hand".into(),
        },
        data: Bytes::from_static(b"pong"),
    });
    let message = next_event(&mut events).await;
    assert_eq!(message.message.unwrap().data, Bytes::from_static(b"pong"));
    let heartbeat = call(call::Type::Heartbeat, "whatever");
    assert_eq!(
        client.call(&url, &heartbeat, None).await.unwrap().status,
        http::StatusCode::ACCEPTED
    );

    // KILL reaches the executor.
    h.send(ToAgent::KillTask {
        framework_id: FrameworkId { value: FW.into() },
        task_id: TaskId { value: "h2".into() },
        kill_policy: None,
    });
    let kill = next_event(&mut events).await;
    assert_eq!(kill.kill.unwrap().task_id.value, "h2");

    // Shutdown: SHUTDOWN event, then the process is killed after the grace
    // period (2 s); live tasks fail, the master hears of the exit.
    h.send(ToAgent::ShutdownExecutor {
        framework_id: FrameworkId { value: FW.into() },
        executor_id: ExecutorId {
            value: "hand".into(),
        },
    });
    let shutdown = next_event(&mut events).await;
    assert_eq!(shutdown.r#type, Some(event::Type::Shutdown as i32));
    let mut failed = Vec::new();
    let mut terminated = None;
    while failed.len() < 2 || terminated.is_none() {
        match h.next().await {
            FromAgent::ExecutorTerminated {
                executor_id,
                status,
                ..
            } => {
                assert_eq!(executor_id.value, "hand");
                terminated = Some(status);
            }
            FromAgent::StatusUpdate { status, .. } => {
                assert_eq!(state(&status), TaskState::TaskFailed);
                assert_eq!(
                    status.reason,
                    Some(task_status::Reason::ExecutorTerminated as i32)
                );
                h.ack(&status);
                failed.push(status.task_id.value);
            }
            other => panic!("{other:?}"),
        }
    }
    failed.sort();
    assert_eq!(failed, ["h1", "h2"]);
    assert_eq!(
        terminated,
        Some(Some(rustix::process::Signal::TERM.as_raw()))
    );
    // The stream ended with the executor.
    assert!(tokio::time::timeout(WAIT, events.next())
        .await
        .unwrap()
        .is_none());
}

async fn next_event(events: &mut EventStream<Event>) -> Event {
    tokio::time::timeout(WAIT, events.next())
        .await
        .expect("an executor event in time")
        .expect("stream open")
        .expect("decodable event")
}

#[tokio::test]
async fn executor_environment_and_exit_without_subscribing() {
    let mut h = harness(default_containerizer(), Duration::from_secs(60)).await;
    for (id, checkpoint) in [("env-cp", true), ("env-plain", false)] {
        let mut executor = shell_executor(id, "env | sort > \"$MESOS_SANDBOX/env.txt\"; exit 0");
        executor.command.as_mut().unwrap().environment = Some(Environment {
            variables: vec![environment::Variable {
                name: "PROBE_CUSTOM_VAR".into(),
                value: Some("from ExecutorInfo.command".into()),
                ..Default::default()
            }],
        });
        h.send(ToAgent::RunTask {
            framework: framework(checkpoint),
            task: executor_task(&format!("{id}-task"), &executor),
        });
        // The executor exits without subscribing: FAILURE, then TASK_FAILED.
        match h.next().await {
            FromAgent::ExecutorTerminated {
                executor_id,
                status,
                ..
            } => {
                assert_eq!(executor_id.value, id);
                assert_eq!(status, Some(0));
            }
            other => panic!("{other:?}"),
        }
        let failed = h.update().await;
        assert_eq!(state(&failed), TaskState::TaskFailed);
        assert_eq!(
            failed.reason,
            Some(task_status::Reason::ExecutorTerminated as i32)
        );
        assert_eq!(failed.source, Some(task_status::Source::Agent as i32));
        assert_eq!(failed.message.as_deref(), Some("Executor terminated"));
        assert_eq!(failed.executor_id.as_ref().unwrap().value, id);
        h.ack(&failed);

        let runs = h.dir.path().join(format!(
            "slaves/agent-S0/frameworks/{FW}/executors/{id}/runs"
        ));
        let run = std::fs::read_dir(&runs)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let text = std::fs::read_to_string(run.join("env.txt")).unwrap();
        let env: BTreeMap<&str, &str> = text.lines().filter_map(|l| l.split_once('=')).collect();
        let sandbox = run.display().to_string();
        let port = h.agent.addr.port();
        let mut expected = BTreeMap::from([
            ("LIBPROCESS_IP", "127.0.0.1".to_string()),
            ("LIBPROCESS_PORT", "0".into()),
            ("MESOS_AGENT_ENDPOINT", format!("127.0.0.1:{port}")),
            (
                "MESOS_CHECKPOINT",
                if checkpoint { "1" } else { "0" }.into(),
            ),
            ("MESOS_DIRECTORY", sandbox.clone()),
            ("MESOS_EXECUTOR_ID", id.into()),
            ("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "2secs".into()),
            ("MESOS_FRAMEWORK_ID", FW.into()),
            ("MESOS_HTTP_COMMAND_EXECUTOR", "0".into()),
            ("MESOS_SANDBOX", sandbox.clone()),
            ("MESOS_SLAVE_ID", "agent-S0".into()),
            ("MESOS_SLAVE_PID", format!("slave(1)@127.0.0.1:{port}")),
            ("PATH", super::env::HOST_PATH.into()),
            ("PROBE_CUSTOM_VAR", "from ExecutorInfo.command".into()),
            ("PWD", sandbox.clone()),
        ]);
        if checkpoint {
            expected.insert("MESOS_RECOVERY_TIMEOUT", "15mins".into());
            expected.insert("MESOS_SUBSCRIPTION_BACKOFF_MAX", "2secs".into());
        }
        let got: BTreeMap<&str, String> = env
            .iter()
            .filter(|(k, _)| !matches!(**k, "SHLVL" | "_" | "OLDPWD"))
            .map(|(k, v)| (*k, v.to_string()))
            .collect();
        assert_eq!(got, expected);
    }
}

/// The `test_executor` example, built once.
fn test_executor() -> PathBuf {
    mesos_test_support::example_binary("test_executor")
}

fn test_executor_info(id: &str) -> ExecutorInfo {
    let path = test_executor().display().to_string();
    ExecutorInfo {
        executor_id: ExecutorId { value: id.into() },
        command: Some(CommandInfo {
            shell: Some(false),
            value: Some(path.clone()),
            arguments: vec![path],
            environment: Some(Environment {
                variables: vec![environment::Variable {
                    name: "RUST_LOG".into(),
                    value: Some("debug".into()),
                    ..Default::default()
                }],
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// RUNNING and FINISHED of one task (acknowledged), from the executor.
async fn runs_and_finishes(h: &mut Harness, task: &str) {
    let running = h.update().await;
    assert_eq!(running.task_id.value, task);
    assert_eq!(state(&running), TaskState::TaskRunning, "{running:?}");
    assert_eq!(running.source, Some(task_status::Source::Executor as i32));
    assert!(running
        .container_status
        .as_ref()
        .unwrap()
        .executor_pid
        .is_some());
    h.ack(&running);
    let finished = h.update().await;
    assert_eq!(state(&finished), TaskState::TaskFinished, "{finished:?}");
    assert_eq!(finished.message.as_deref(), Some("test executor: finished"));
    h.ack(&finished);
}

#[tokio::test]
async fn real_test_executor_runs_tasks_echoes_and_survives_agent_restart() {
    let mut h = harness(default_containerizer(), Duration::from_secs(60)).await;
    let executor = test_executor_info("rust-test-executor");
    h.send(ToAgent::RunTask {
        framework: framework(true),
        task: executor_task("r1", &executor),
    });
    runs_and_finishes(&mut h, "r1").await;

    h.send(ToAgent::FrameworkMessage {
        framework_id: FrameworkId { value: FW.into() },
        executor_id: ExecutorId {
            value: "rust-test-executor".into(),
        },
        data: Bytes::from_static(b"echo me"),
    });
    match h.next().await {
        FromAgent::ExecutorMessage {
            executor_id, data, ..
        } => {
            assert_eq!(executor_id.value, "rust-test-executor");
            assert_eq!(data, Bytes::from_static(b"echo me"));
        }
        other => panic!("{other:?}"),
    }

    // The agent goes down: the executor (checkpointing) keeps running and
    // reconnects once the agent is back; a task sent meanwhile waits.
    let pids_before = h.agent.registry.pids();
    assert_eq!(pids_before.len(), 1);
    h.agent.stop().await;
    assert!(
        std::net::TcpStream::connect(h.agent.addr).is_err(),
        "server still listening"
    );
    h.send(ToAgent::RunTask {
        framework: framework(true),
        task: executor_task("r2", &executor),
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        process_alive(pids_before[0]),
        "executor died with the agent"
    );
    h.agent.restart().await.unwrap();
    runs_and_finishes(&mut h, "r2").await;
    assert_eq!(
        h.agent.registry.pids(),
        pids_before,
        "the same executor process"
    );

    // Shutdown: the executor exits by itself on SHUTDOWN.
    h.send(ToAgent::ShutdownExecutor {
        framework_id: FrameworkId { value: FW.into() },
        executor_id: ExecutorId {
            value: "rust-test-executor".into(),
        },
    });
    match h.next().await {
        FromAgent::ExecutorTerminated { status, .. } => assert_eq!(status, Some(0)),
        other => panic!("{other:?}"),
    }
    assert!(!process_alive(pids_before[0]));
}

#[tokio::test]
async fn kill_all_leaves_no_process_behind() {
    let mut h = harness(default_containerizer(), Duration::from_secs(60)).await;
    for i in 0..3 {
        h.send(ToAgent::RunTask {
            framework: framework(false),
            task: command_task(
                &format!("k{i}"),
                "sleep 100 & echo $! > \"$MESOS_SANDBOX/child.pid\"; wait",
            ),
        });
    }
    let executor = shell_executor(
        "kexec",
        "sleep 100 & echo $! > \"$MESOS_SANDBOX/child.pid\"; wait",
    );
    h.send(ToAgent::RunTask {
        framework: framework(false),
        task: executor_task("k-exec-task", &executor),
    });
    // 3 × STARTING + RUNNING.
    for _ in 0..6 {
        let status = h.update().await;
        h.ack(&status);
    }
    let mut pids = Vec::new();
    for _ in 0..100 {
        pids = h.agent.registry.pids();
        let children = child_pids(&h);
        if pids.len() == 4 && children.len() == 4 {
            pids.extend(children);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(pids.len(), 8, "{pids:?}");
    assert!(pids.iter().all(|p| process_alive(*p)));
    h.agent.kill_all();
    for _ in 0..100 {
        if pids.iter().all(|p| !process_alive(*p)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let alive: Vec<u32> = pids.iter().copied().filter(|p| process_alive(*p)).collect();
    assert!(alive.is_empty(), "still alive: {alive:?}");
}

fn child_pids(h: &Harness) -> Vec<u32> {
    let mut pids = Vec::new();
    let executors = h
        .dir
        .path()
        .join(format!("slaves/agent-S0/frameworks/{FW}/executors"));
    for executor in std::fs::read_dir(executors).into_iter().flatten().flatten() {
        for run in std::fs::read_dir(executor.path().join("runs"))
            .into_iter()
            .flatten()
            .flatten()
        {
            if let Ok(text) = std::fs::read_to_string(run.path().join("child.pid")) {
                if let Ok(pid) = text.trim().parse() {
                    pids.push(pid);
                }
            }
        }
    }
    pids
}

#[tokio::test]
async fn fake_containerizer_lifecycles() {
    let fake = FakeContainerizer::new()
        .command_tasks(TaskBehavior::Finish {
            after: Duration::from_millis(50),
        })
        .executor_tasks(TaskBehavior::RunUntilKilled);
    let mut h = harness(Arc::new(fake), Duration::from_secs(60)).await;
    h.send(ToAgent::RunTask {
        framework: framework(false),
        task: command_task("f1", "ignored"),
    });
    let states: Vec<TaskState> = h.until_terminal().await.iter().map(state).collect();
    assert_eq!(
        states,
        [
            TaskState::TaskStarting,
            TaskState::TaskRunning,
            TaskState::TaskFinished
        ]
    );

    let executor = shell_executor("emulated", "ignored");
    h.send(ToAgent::RunTask {
        framework: framework(false),
        task: executor_task("f2", &executor),
    });
    let running = h.update().await;
    assert_eq!(state(&running), TaskState::TaskRunning);
    assert_eq!(running.source, Some(task_status::Source::Executor as i32));
    h.ack(&running);
    h.send(ToAgent::FrameworkMessage {
        framework_id: FrameworkId { value: FW.into() },
        executor_id: ExecutorId {
            value: "emulated".into(),
        },
        data: Bytes::from_static(b"hello"),
    });
    assert!(
        matches!(h.next().await, FromAgent::ExecutorMessage { data, .. } if data == Bytes::from_static(b"hello"))
    );
    h.send(ToAgent::KillTask {
        framework_id: FrameworkId { value: FW.into() },
        task_id: TaskId { value: "f2".into() },
        kill_policy: None,
    });
    let killed = h.update().await;
    assert_eq!(state(&killed), TaskState::TaskKilled);
    h.ack(&killed);
    h.send(ToAgent::ShutdownExecutor {
        framework_id: FrameworkId { value: FW.into() },
        executor_id: ExecutorId {
            value: "emulated".into(),
        },
    });
    match h.next().await {
        FromAgent::ExecutorTerminated { status, .. } => {
            assert_eq!(status, Some(rustix::process::Signal::KILL.as_raw()))
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn fake_containerizer_scale() {
    const TASKS: usize = 10_000;
    let fake = Arc::new(FakeContainerizer::new());
    let mut h = harness(fake.clone(), Duration::from_secs(60)).await;
    let started = std::time::Instant::now();
    for i in 0..TASKS {
        h.send(ToAgent::RunTask {
            framework: framework(false),
            task: command_task(&format!("s{i}"), "true"),
        });
    }
    let mut finished = 0;
    while finished < TASKS {
        let status = h.update().await;
        h.ack(&status);
        if state(&status) == TaskState::TaskFinished {
            finished += 1;
        }
    }
    assert_eq!(fake.launches(), TASKS);
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");
    eprintln!("{TASKS} fake command tasks in {elapsed:?}");
}
