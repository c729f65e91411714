//! The driver against a fake agent (the server half of `mesos-http` on
//! 127.0.0.1:0): the protocol, acknowledgements and resubscription, agent
//! restarts, lost connections, SHUTDOWN and a wrong endpoint.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::StatusCode;
use mesos_executor::{Error, ExecutorConfig, ExecutorDriver, Status};
use mesos_http::MediaType;
use mesos_proto::v1::executor::call;
use mesos_proto::v1::TaskState;
use support::*;

#[tokio::test]
async fn launch_sends_running_then_finished_updates() {
    init_logs();
    for media in [MediaType::Protobuf, MediaType::Json] {
        let mut agent = FakeAgent::start(Mode::Agent).await;
        let (executor, mut seen) = Recorder::new();
        let config = agent.config().media_type(media).build().unwrap();
        let driver = ExecutorDriver::new(executor, config).unwrap();
        assert_eq!(driver.start(), Status::DriverRunning);

        let subscribe = agent.next(call::Type::Subscribe).await;
        assert_eq!(subscribe.executor_id.value, EXECUTOR);
        let payload = subscribe.subscribe.expect("subscribe payload");
        assert!(payload.unacknowledged_tasks.is_empty());
        assert!(payload.unacknowledged_updates.is_empty());
        seen.until(|s| *s == Seen::Registered).await;

        agent.send(launch("t1"));
        seen.until(|s| *s == Seen::Launched("t1".into())).await;
        let running = update_status(&agent.next(call::Type::Update).await);
        let finished = update_status(&agent.next(call::Type::Update).await);
        assert_eq!(running.state(), TaskState::TaskRunning);
        assert_eq!(finished.state(), TaskState::TaskFinished);
        assert_eq!(running.task_id.value, "t1");
        assert_ne!(running.uuid, finished.uuid, "every update has its own uuid");

        agent.send(acknowledged(&running));
        let ack = seen.until(|s| matches!(s, Seen::Acknowledged(..))).await;
        assert_eq!(
            ack,
            Seen::Acknowledged("t1".into(), running.uuid.clone().unwrap())
        );

        // Framework messages both ways.
        agent.send(mesos_proto::v1::executor::Event {
            r#type: Some(mesos_proto::v1::executor::event::Type::Message as i32),
            message: Some(mesos_proto::v1::executor::event::Message {
                data: Bytes::from_static(b"hello"),
            }),
            ..Default::default()
        });
        seen.until(|s| *s == Seen::Message(Bytes::from_static(b"hello")))
            .await;
        driver
            .send_framework_message(Bytes::from_static(b"back"))
            .await
            .unwrap();
        let message = agent.next(call::Type::Message).await;
        assert_eq!(message.message.unwrap().data, Bytes::from_static(b"back"));

        driver.stop().await;
        assert_eq!(join(&driver).await, Status::DriverStopped, "{media}");
        assert!(matches!(
            driver
                .send_status_update(status(&running.task_id, TaskState::TaskRunning))
                .await,
            Err(Error::NotRunning { .. })
        ));
    }
}

#[tokio::test]
async fn unacknowledged_updates_are_resent_on_resubscribe_until_acknowledged() {
    init_logs();
    let mut agent = FakeAgent::start(Mode::Agent).await;
    let (executor, mut seen) = Recorder::new();
    // Checkpointing: a dropped stream means "resubscribe", not "shut down".
    let config = agent.config().checkpoint(true).build().unwrap();
    let driver = ExecutorDriver::new(executor, config).unwrap();
    driver.start();
    agent.next(call::Type::Subscribe).await;

    agent.send(launch("t1"));
    let running = update_status(&agent.next(call::Type::Update).await);
    let finished = update_status(&agent.next(call::Type::Update).await);
    agent.send(acknowledged(&running));
    seen.until(|s| matches!(s, Seen::Acknowledged(..))).await;

    // The agent drops the stream: the next SUBSCRIBE carries the
    // unacknowledged FINISHED update and the task (no terminal ack yet).
    agent.drop_stream();
    seen.until(|s| *s == Seen::Disconnected).await;
    let resubscribe = agent.next(call::Type::Subscribe).await;
    let payload = resubscribe.subscribe.expect("payload");
    let resent: Vec<_> = payload
        .unacknowledged_updates
        .iter()
        .map(|u| u.status.clone())
        .collect();
    assert_eq!(
        resent,
        vec![finished.clone()],
        "exactly the unacknowledged update, unchanged"
    );
    assert_eq!(payload.unacknowledged_tasks.len(), 1);
    assert_eq!(payload.unacknowledged_tasks[0].task_id.value, "t1");
    seen.until(|s| *s == Seen::Reregistered).await;

    // Once acknowledged, neither the update nor the finished task comes back.
    agent.send(acknowledged(&finished));
    seen.until(|s| matches!(s, Seen::Acknowledged(..))).await;
    agent.drop_stream();
    let again = agent.next(call::Type::Subscribe).await.subscribe.unwrap();
    assert!(again.unacknowledged_updates.is_empty(), "{again:?}");
    assert!(again.unacknowledged_tasks.is_empty(), "{again:?}");
    seen.until(|s| *s == Seen::Reregistered).await;

    driver.stop().await;
    assert_eq!(join(&driver).await, Status::DriverStopped);
}

#[tokio::test]
async fn agent_restart_is_survived_with_checkpointing() {
    init_logs();
    let mut agent = FakeAgent::start(Mode::Agent).await;
    let (executor, mut seen) = Recorder::new();
    let config = agent
        .config()
        .checkpoint(true)
        .recovery_timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let driver = ExecutorDriver::new(executor, config).unwrap();
    driver.start();
    agent.next(call::Type::Subscribe).await;
    seen.until(|s| *s == Seen::Registered).await;
    agent.send(launch("t1"));
    let running = update_status(&agent.next(call::Type::Update).await);
    let finished = update_status(&agent.next(call::Type::Update).await);

    // The agent dies (listener closed, connections cut)...
    agent.stop();
    seen.until(|s| *s == Seen::Disconnected).await;
    // ...while it is down, an update from a spawned task is queued, not lost.
    let late = tokio::spawn({
        let driver = driver.clone();
        async move {
            driver
                .send_status_update(status(&running.task_id, TaskState::TaskRunning))
                .await
        }
    });
    late.await
        .unwrap()
        .expect("queued while disconnected is not an error");
    assert_eq!(driver.status(), Status::DriverRunning);

    // ...and comes back on the same port.
    agent.restart().await;
    let payload = agent.next(call::Type::Subscribe).await.subscribe.unwrap();
    let states: Vec<_> = payload
        .unacknowledged_updates
        .iter()
        .map(|u| u.status.state())
        .collect();
    assert_eq!(
        states,
        vec![
            TaskState::TaskRunning,
            TaskState::TaskFinished,
            TaskState::TaskRunning
        ]
    );
    assert_eq!(payload.unacknowledged_updates[1].status, finished);
    seen.until(|s| *s == Seen::Reregistered).await;
    assert_eq!(driver.status(), Status::DriverRunning);

    driver.stop().await;
    assert_eq!(join(&driver).await, Status::DriverStopped);
}

#[tokio::test]
async fn recovery_timeout_shuts_the_executor_down() {
    init_logs();
    let mut agent = FakeAgent::start(Mode::Agent).await;
    let recovery = Duration::from_millis(800);
    let config = agent.config().recovery_timeout(recovery);
    let (driver, mut seen) = registered_with_checkpointing(&mut agent, config).await;
    // The agent is up but answers every SUBSCRIBE with 503 (recovering).
    agent.answer_subscribe(Some((StatusCode::SERVICE_UNAVAILABLE, "recovering")));
    let lost = Instant::now();
    agent.drop_stream();
    seen.until(|s| *s == Seen::Disconnected).await;
    seen.until(|s| *s == Seen::Shutdown).await;
    let elapsed = lost.elapsed();
    assert_eq!(join(&driver).await, Status::DriverStopped);
    assert!(matches!(
        driver.failure().as_deref(),
        Some(Error::RecoveryTimeout { .. })
    ));
    assert!(
        elapsed >= recovery,
        "gave up after {elapsed:?}, before the recovery timeout of {recovery:?}"
    );
    let mut attempts = 0;
    while let Ok(call) = agent.try_next_call() {
        attempts += usize::from(call.r#type() == call::Type::Subscribe);
    }
    assert!(
        attempts >= 2,
        "only {attempts} SUBSCRIBE attempt(s) within the recovery timeout"
    );
}

/// An executor whose `launch_task` panics.
struct PanicsOnLaunch;

#[async_trait::async_trait]
impl mesos_executor::Executor for PanicsOnLaunch {
    async fn launch_task(&mut self, _driver: &ExecutorDriver, task: mesos_proto::v1::TaskInfo) {
        panic!("cannot launch {}", task.task_id.value);
    }
}

#[tokio::test]
async fn a_panicking_callback_aborts_the_driver_with_the_panic_as_failure() {
    init_logs();
    let mut agent = FakeAgent::start(Mode::Agent).await;
    let driver = ExecutorDriver::new(PanicsOnLaunch, agent.config().build().unwrap()).unwrap();
    let run = tokio::spawn({
        let driver = driver.clone();
        async move { driver.run().await }
    });
    agent.next(call::Type::Subscribe).await;
    agent.send(launch("t1"));
    let status = tokio::time::timeout(WAIT, run)
        .await
        .expect("run() returns")
        .unwrap();
    assert_eq!(status, Status::DriverAborted);
    let failure = driver.failure().expect("a failure");
    let Error::Panicked { during, message } = failure.as_ref() else {
        panic!("{failure:?}")
    };
    assert_eq!(*during, "launch_task callback");
    assert_eq!(message, "cannot launch t1");
}

/// An executor whose `launch_task` blocks until told to finish, and records
/// when it ended (returned or was dropped).
struct SlowLaunch {
    entered: tokio::sync::mpsc::UnboundedSender<()>,
    ended: Arc<AtomicBool>,
}

struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[async_trait::async_trait]
impl mesos_executor::Executor for SlowLaunch {
    async fn launch_task(&mut self, _driver: &ExecutorDriver, _task: mesos_proto::v1::TaskInfo) {
        let _ended = SetOnDrop(self.ended.clone());
        let _ = self.entered.send(());
        std::future::pending::<()>().await;
    }
}

#[tokio::test]
async fn stop_returns_only_after_the_running_callback_ended() {
    init_logs();
    let mut agent = FakeAgent::start(Mode::Agent).await;
    let (entered, mut entered_rx) = tokio::sync::mpsc::unbounded_channel();
    let ended = Arc::new(AtomicBool::new(false));
    let executor = SlowLaunch {
        entered,
        ended: ended.clone(),
    };
    let driver = ExecutorDriver::new(executor, agent.config().build().unwrap()).unwrap();
    driver.start();
    agent.next(call::Type::Subscribe).await;
    agent.send(launch("t1"));
    tokio::time::timeout(WAIT, entered_rx.recv())
        .await
        .expect("launch_task entered");
    let stopped = tokio::time::timeout(WAIT, driver.stop())
        .await
        .expect("stop() returns");
    assert_eq!(stopped, Status::DriverStopped);
    assert!(
        ended.load(Ordering::SeqCst),
        "stop() returned while launch_task was still running"
    );
}

#[tokio::test]
async fn lost_connection_without_checkpointing_shuts_down() {
    init_logs();
    let mut agent = FakeAgent::start(Mode::Agent).await;
    let (executor, mut seen) = Recorder::new();
    let driver = ExecutorDriver::new(executor, agent.config().build().unwrap()).unwrap();
    driver.start();
    agent.next(call::Type::Subscribe).await;
    seen.until(|s| *s == Seen::Registered).await;

    agent.drop_stream();
    seen.until(|s| *s == Seen::Disconnected).await;
    seen.until(|s| *s == Seen::Shutdown).await;
    assert_eq!(join(&driver).await, Status::DriverStopped);
    assert!(driver.failure().is_none());
}

#[tokio::test]
async fn shutdown_event_ends_the_driver_within_the_grace_period() {
    init_logs();
    let mut agent = FakeAgent::start(Mode::Agent).await;
    let (mut executor, mut seen) = Recorder::new();
    executor.hang_on_shutdown = true;
    let grace = Duration::from_millis(300);
    let config = agent.config().shutdown_grace_period(grace).build().unwrap();
    let driver = ExecutorDriver::new(executor, config).unwrap();
    driver.start();
    agent.next(call::Type::Subscribe).await;
    seen.until(|s| *s == Seen::Registered).await;

    let sent = Instant::now();
    agent.send(shutdown());
    seen.until(|s| *s == Seen::Shutdown).await;
    assert_eq!(join(&driver).await, Status::DriverStopped);
    let took = sent.elapsed();
    assert!(took >= grace, "stopped before the grace period: {took:?}");
    assert!(took < grace + Duration::from_secs(3), "took {took:?}");
}

#[tokio::test]
async fn shutdown_event_with_a_prompt_executor_stops_at_once() {
    init_logs();
    let mut agent = FakeAgent::start(Mode::Agent).await;
    let (executor, mut seen) = Recorder::new();
    let config = agent
        .config()
        .shutdown_grace_period(Duration::from_secs(30))
        .build()
        .unwrap();
    let driver = ExecutorDriver::new(executor, config).unwrap();
    driver.start();
    agent.next(call::Type::Subscribe).await;
    agent.send(shutdown());
    seen.until(|s| *s == Seen::Shutdown).await;
    let started = Instant::now();
    assert_eq!(join(&driver).await, Status::DriverStopped);
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// The body of the master's answer to an executor SUBSCRIBE on
/// `/api/v1/executor` (mesos-local, default delegate): after the comment
/// lines and the HTTP headers comes the RecordIO body.
fn trap_body() -> Bytes {
    let text = include_str!("data/trap-api-v1-executor-on-master.txt");
    let without_comments: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let body = without_comments
        .split_once("\n\n")
        .map(|(_, body)| body)
        .expect("headers then body");
    // The sample shows records as `<len>\n<json>`; re-frame them exactly.
    let mut framed = Vec::new();
    let mut rest = body;
    while let Some((len, tail)) = rest.split_once('\n') {
        let len: usize = len.trim().parse().expect("record length");
        let (record, tail) = tail.split_at(len);
        framed.extend_from_slice(format!("{len}\n").as_bytes());
        framed.extend_from_slice(record.as_bytes());
        rest = tail;
    }
    Bytes::from(framed)
}

#[tokio::test]
async fn operator_api_stream_is_a_clear_error_not_a_hang() {
    init_logs();
    let mut agent = FakeAgent::start(Mode::Raw("application/json", trap_body())).await;
    let (executor, mut seen) = Recorder::new();
    let config = agent.config().media_type(MediaType::Json).build().unwrap();
    let driver = ExecutorDriver::new(executor, config).unwrap();
    driver.start();
    agent.next(call::Type::Subscribe).await;
    assert_eq!(join(&driver).await, Status::DriverAborted);
    let failure = driver.failure().expect("failure recorded");
    assert!(matches!(*failure, Error::WrongStream { .. }), "{failure:?}");
    let text = failure.to_string();
    assert!(text.contains("not an agent's executor API"), "{text}");
    let Seen::Error(message) = seen.until(|s| matches!(s, Seen::Error(_))).await else {
        unreachable!()
    };
    assert!(message.contains("executor"), "{message}");
}

#[tokio::test]
async fn unreachable_agent_aborts_after_the_recovery_timeout() {
    init_logs();
    let agent = FakeAgent::start(Mode::Agent).await;
    agent.stop();
    let (executor, _seen) = Recorder::new();
    let config = agent
        .config()
        .recovery_timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    let driver = ExecutorDriver::new(executor, config).unwrap();
    assert_eq!(driver.run().await, Status::DriverAborted);
    assert!(matches!(
        driver.failure().as_deref(),
        Some(Error::Subscribe(_))
    ));
}

#[test]
fn missing_environment_variable_is_named() {
    let env = [
        ("MESOS_FRAMEWORK_ID", "fw"),
        ("MESOS_SLAVE_PID", "slave(1)@127.0.0.1:5051"),
        ("MESOS_AGENT_ENDPOINT", "127.0.0.1:5051"),
    ];
    let err = ExecutorConfig::from_lookup(|name| {
        env.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    })
    .unwrap_err();
    let Error::Environment(env_error) = &err else {
        panic!("{err:?}")
    };
    assert!(env_error.names("MESOS_EXECUTOR_ID"));
    assert_eq!(env_error.problems.len(), 1);
    assert!(
        err.to_string().contains("MESOS_EXECUTOR_ID is not set"),
        "{err}"
    );
}

/// A real agent answers the SUBSCRIBE of an executor whose only task was
/// killed before it subscribed with SHUTDOWN as the first event (recorded
/// in the differential suite): the executor shuts down, as on a SHUTDOWN
/// event, and the driver stops; it is not a wrong stream.
#[tokio::test]
async fn shutdown_instead_of_subscribed_shuts_the_executor_down() {
    init_logs();
    let record = MediaType::Json.encode(&shutdown()).expect("encodes");
    let mut body = format!("{}\n", record.len()).into_bytes();
    body.extend_from_slice(&record);
    let mut agent = FakeAgent::start(Mode::Raw("application/json", Bytes::from(body))).await;
    let (executor, mut seen) = Recorder::new();
    let config = agent.config().media_type(MediaType::Json).build().unwrap();
    let driver = ExecutorDriver::new(executor, config).unwrap();
    driver.start();
    agent.next(call::Type::Subscribe).await;
    assert_eq!(
        seen.until(|_| true).await,
        Seen::Shutdown,
        "shut down, never registered"
    );
    assert_eq!(join(&driver).await, Status::DriverStopped);
    assert!(driver.failure().is_none(), "{:?}", driver.failure());
}
