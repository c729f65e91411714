//! A fake agent (the server half of `mesos-http`) and a recording executor,
//! for the fault paths a real agent cannot produce on demand.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::channel::mpsc as fmpsc;
use http::StatusCode;
use mesos_executor::{Executor, ExecutorConfig, ExecutorDriver};
use mesos_http::server::{self, Body};
use mesos_proto::v1::executor::{call, event, Call, Event};
use mesos_proto::v1::{
    AgentId, AgentInfo, ExecutorId, ExecutorInfo, FrameworkId, FrameworkInfo, KillPolicy, TaskId,
    TaskInfo, TaskState, TaskStatus,
};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How long any expected thing may take before a test fails.
pub const WAIT: Duration = Duration::from_secs(10);

pub const FRAMEWORK: &str = "fw-1";
pub const EXECUTOR: &str = "ex-1";
pub const AGENT: &str = "agent-S0";

/// What the fake agent answers to SUBSCRIBE.
#[derive(Clone)]
pub enum Mode {
    /// A well-behaved agent: SUBSCRIBED, then whatever the test pushes.
    Agent,
    /// A raw `200 OK` body (RecordIO) with the given content type.
    Raw(&'static str, Bytes),
}

#[derive(Default)]
struct State {
    subscriber: Option<fmpsc::UnboundedSender<Event>>,
    /// Answer SUBSCRIBE with this status instead of a stream.
    subscribe_reply: Option<(StatusCode, &'static str)>,
    /// Answer UPDATE with this status instead of 202.
    update_reply: Option<(StatusCode, &'static str)>,
}

/// The fake agent: records every call, streams the events tests push.
pub struct FakeAgent {
    pub addr: SocketAddr,
    calls_tx: mpsc::UnboundedSender<Call>,
    calls: mpsc::UnboundedReceiver<Call>,
    state: Arc<Mutex<State>>,
    mode: Mode,
    shutdown: CancellationToken,
}

impl FakeAgent {
    pub async fn start(mode: Mode) -> FakeAgent {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (calls_tx, calls) = mpsc::unbounded_channel();
        let mut agent = FakeAgent {
            addr,
            calls_tx,
            calls,
            state: Arc::default(),
            mode,
            shutdown: CancellationToken::new(),
        };
        agent.serve(listener);
        agent
    }

    fn serve(&mut self, listener: TcpListener) {
        self.shutdown = CancellationToken::new();
        let calls = self.calls_tx.clone();
        let state = self.state.clone();
        let mode = self.mode.clone();
        let handler = move |request: http::Request<hyper::body::Incoming>, _peer| {
            let calls = calls.clone();
            let state = state.clone();
            let mode = mode.clone();
            async move { handle(request, calls, state, mode).await }
        };
        tokio::spawn(server::serve(listener, handler, self.shutdown.clone()));
    }

    /// The executor API URL, prefixed like a real agent's.
    pub fn url(&self) -> String {
        format!("http://{}/slave(1)/api/v1/executor", self.addr)
    }

    /// A configuration for this agent with short timeouts.
    pub fn config(&self) -> mesos_executor::ExecutorConfigBuilder {
        ExecutorConfig::builder(
            self.url(),
            FrameworkId {
                value: FRAMEWORK.into(),
            },
            ExecutorId {
                value: EXECUTOR.into(),
            },
        )
        .subscription_backoff_max(Duration::from_millis(200))
        .request_timeout(Duration::from_secs(5))
    }

    /// The next call the executor made, whatever its type.
    pub async fn next_call(&mut self) -> Call {
        tokio::time::timeout(WAIT, self.calls.recv())
            .await
            .expect("timed out waiting for a call")
            .expect("agent gone")
    }

    /// A call already received, if any (never waits).
    pub fn try_next_call(&mut self) -> Result<Call, mpsc::error::TryRecvError> {
        self.calls.try_recv()
    }

    /// The next call of type `kind` (others are skipped, e.g. HEARTBEATs).
    pub async fn next(&mut self, kind: call::Type) -> Call {
        loop {
            let call = self.next_call().await;
            if call.r#type() == kind {
                return call;
            }
        }
    }

    /// Streams `event` to the current subscriber.
    pub fn send(&self, event: Event) {
        let state = self.state.lock().unwrap();
        let subscriber = state.subscriber.as_ref().expect("no subscriber");
        subscriber.unbounded_send(event).expect("subscriber gone");
    }

    /// From now on, answers SUBSCRIBE with `reply` (`None`: a stream again).
    pub fn answer_subscribe(&self, reply: Option<(StatusCode, &'static str)>) {
        self.state.lock().unwrap().subscribe_reply = reply;
    }

    /// From now on, answers UPDATE with `reply` (`None`: 202 again).
    pub fn answer_update(&self, reply: Option<(StatusCode, &'static str)>) {
        self.state.lock().unwrap().update_reply = reply;
    }

    /// Ends the current event stream cleanly (the agent closed it).
    pub fn drop_stream(&self) {
        self.state.lock().unwrap().subscriber = None;
    }

    /// Stops accepting and cuts every connection, as a dying agent.
    pub fn stop(&self) {
        self.state.lock().unwrap().subscriber = None;
        self.shutdown.cancel();
    }

    /// Serves again on the same port (an agent restart).
    pub async fn restart(&mut self) {
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.serve(listener);
    }
}

impl Drop for FakeAgent {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn handle(
    request: http::Request<hyper::body::Incoming>,
    calls: mpsc::UnboundedSender<Call>,
    state: Arc<Mutex<State>>,
    mode: Mode,
) -> http::Response<Body> {
    if request.uri().path() != "/slave(1)/api/v1/executor" {
        return server::text_response(StatusCode::NOT_FOUND, "no such endpoint");
    }
    let (negotiated, _parts, call) =
        match server::read_call::<Call>(request, server::DEFAULT_MAX_CALL_LEN).await {
            Ok(ok) => ok,
            Err(response) => return response,
        };
    let kind = call.r#type();
    let executor_id = call.executor_id.clone();
    let _ = calls.send(call);
    let (subscribe_reply, update_reply) = {
        let state = state.lock().unwrap();
        (state.subscribe_reply, state.update_reply)
    };
    if let (call::Type::Update, Some((status, message))) = (kind, update_reply) {
        return server::text_response(status, message);
    }
    if kind != call::Type::Subscribe {
        return server::empty_response(StatusCode::ACCEPTED);
    }
    if let Some((status, message)) = subscribe_reply {
        return server::text_response(status, message);
    }
    match mode {
        Mode::Raw(content_type, body) => {
            let mut response = server::text_response(StatusCode::OK, String::new());
            *response.body_mut() =
                http_body_util::combinators::UnsyncBoxBody::new(http_body_util::Full::new(body));
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static(content_type),
            );
            response
        }
        Mode::Agent => {
            let (tx, rx) = fmpsc::unbounded();
            tx.unbounded_send(subscribed(executor_id)).unwrap();
            state.lock().unwrap().subscriber = Some(tx);
            server::event_stream_response(negotiated.response, None, rx)
        }
    }
}

fn event(kind: event::Type) -> Event {
    Event {
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

pub fn subscribed(executor_id: ExecutorId) -> Event {
    Event {
        subscribed: Some(event::Subscribed {
            executor_info: ExecutorInfo {
                executor_id,
                ..Default::default()
            },
            framework_info: FrameworkInfo {
                user: "test".into(),
                name: "fake framework".into(),
                id: Some(FrameworkId {
                    value: FRAMEWORK.into(),
                }),
                ..Default::default()
            },
            agent_info: AgentInfo {
                hostname: "fake-agent".into(),
                id: Some(AgentId {
                    value: AGENT.into(),
                }),
                ..Default::default()
            },
            container_id: None,
        }),
        ..event(event::Type::Subscribed)
    }
}

pub fn task(id: &str) -> TaskInfo {
    TaskInfo {
        name: id.into(),
        task_id: TaskId { value: id.into() },
        agent_id: AgentId {
            value: AGENT.into(),
        },
        ..Default::default()
    }
}

pub fn launch(id: &str) -> Event {
    Event {
        launch: Some(event::Launch { task: task(id) }),
        ..event(event::Type::Launch)
    }
}

pub fn acknowledged(status: &TaskStatus) -> Event {
    Event {
        acknowledged: Some(event::Acknowledged {
            task_id: status.task_id.clone(),
            uuid: status.uuid.clone().expect("uuid"),
        }),
        ..event(event::Type::Acknowledged)
    }
}

pub fn shutdown() -> Event {
    event(event::Type::Shutdown)
}

/// What the recording executor saw.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    Registered,
    Reregistered,
    Disconnected,
    Launched(String),
    Killed(String, Option<KillPolicy>),
    Acknowledged(String, Bytes),
    Message(Bytes),
    Shutdown,
    Error(String),
}

/// An executor that reports every callback and, on LAUNCH, sends
/// TASK_RUNNING then TASK_FINISHED. With `hang_on_shutdown`, its shutdown
/// never returns.
pub struct Recorder {
    pub seen: mpsc::UnboundedSender<Seen>,
    pub hang_on_shutdown: bool,
}

impl Recorder {
    pub fn new() -> (Recorder, Callbacks) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            Recorder {
                seen: tx,
                hang_on_shutdown: false,
            },
            Callbacks(rx),
        )
    }
}

/// The receiving end of a [`Recorder`].
pub struct Callbacks(pub mpsc::UnboundedReceiver<Seen>);

impl Callbacks {
    /// Waits for a callback matching `pred` (earlier ones are skipped).
    pub async fn until(&mut self, pred: impl Fn(&Seen) -> bool) -> Seen {
        loop {
            let seen = tokio::time::timeout(WAIT, self.0.recv())
                .await
                .expect("timed out waiting for a callback")
                .expect("executor gone");
            if pred(&seen) {
                return seen;
            }
        }
    }
}

pub fn status(task_id: &TaskId, state: TaskState) -> TaskStatus {
    TaskStatus {
        task_id: task_id.clone(),
        state: state as i32,
        message: Some(state.as_str_name().into()),
        ..Default::default()
    }
}

#[async_trait]
impl Executor for Recorder {
    async fn registered(
        &mut self,
        _driver: &ExecutorDriver,
        _executor_info: ExecutorInfo,
        _framework_info: FrameworkInfo,
        _agent_info: AgentInfo,
    ) {
        let _ = self.seen.send(Seen::Registered);
    }

    async fn reregistered(&mut self, _driver: &ExecutorDriver, _agent_info: AgentInfo) {
        let _ = self.seen.send(Seen::Reregistered);
    }

    async fn disconnected(&mut self, _driver: &ExecutorDriver) {
        let _ = self.seen.send(Seen::Disconnected);
    }

    async fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo) {
        let _ = self.seen.send(Seen::Launched(task.task_id.value.clone()));
        for state in [TaskState::TaskRunning, TaskState::TaskFinished] {
            driver
                .send_status_update(status(&task.task_id, state))
                .await
                .expect("status update");
        }
    }

    async fn kill_task(
        &mut self,
        _driver: &ExecutorDriver,
        task_id: TaskId,
        kill_policy: Option<KillPolicy>,
    ) {
        let _ = self.seen.send(Seen::Killed(task_id.value, kill_policy));
    }

    async fn acknowledged(&mut self, _driver: &ExecutorDriver, task_id: TaskId, uuid: Bytes) {
        let _ = self.seen.send(Seen::Acknowledged(task_id.value, uuid));
    }

    async fn framework_message(&mut self, _driver: &ExecutorDriver, data: Bytes) {
        let _ = self.seen.send(Seen::Message(data));
    }

    async fn shutdown(&mut self, _driver: &ExecutorDriver) {
        let _ = self.seen.send(Seen::Shutdown);
        if self.hang_on_shutdown {
            std::future::pending::<()>().await;
        }
    }

    async fn error(&mut self, _driver: &ExecutorDriver, message: String) {
        let _ = self.seen.send(Seen::Error(message));
    }
}

/// Logs to the test's output, filtered by `RUST_LOG`.
pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// The driver's end, within [`WAIT`].
pub async fn join(driver: &ExecutorDriver) -> mesos_executor::Status {
    tokio::time::timeout(WAIT, driver.join())
        .await
        .expect("driver did not finish")
}

/// A checkpointing driver with a [`Recorder`] on `config`, subscribed to
/// `agent` and registered.
pub async fn registered_with_checkpointing(
    agent: &mut FakeAgent,
    config: mesos_executor::ExecutorConfigBuilder,
) -> (ExecutorDriver, Callbacks) {
    let (executor, mut seen) = Recorder::new();
    let driver = ExecutorDriver::new(executor, config.checkpoint(true).build().unwrap()).unwrap();
    driver.start();
    agent.next(call::Type::Subscribe).await;
    seen.until(|s| *s == Seen::Registered).await;
    (driver, seen)
}

/// The UPDATE's status, checked for what the driver must fill in.
pub fn update_status(call: &mesos_proto::v1::executor::Call) -> TaskStatus {
    assert_eq!(call.r#type(), call::Type::Update);
    assert_eq!(call.executor_id.value, EXECUTOR);
    assert_eq!(call.framework_id.value, FRAMEWORK);
    let status = call.update.clone().expect("update").status;
    assert_eq!(status.uuid.as_ref().map(Bytes::len), Some(16), "{status:?}");
    assert_eq!(
        status.source,
        Some(mesos_proto::v1::task_status::Source::Executor as i32)
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let timestamp = status.timestamp.expect("timestamp");
    assert!((now - timestamp).abs() < 60.0, "{timestamp}");
    assert_eq!(
        status.executor_id.as_ref().map(|e| e.value.as_str()),
        Some(EXECUTOR)
    );
    assert_eq!(
        status.agent_id.as_ref().map(|a| a.value.as_str()),
        Some(AGENT)
    );
    status
}
