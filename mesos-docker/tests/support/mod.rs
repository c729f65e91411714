//! A fake agent (the server half of `mesos-http` on 127.0.0.1:0) that
//! records every executor call and streams the events a test pushes.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::channel::mpsc as fmpsc;
use http::StatusCode;
use mesos_executor::ExecutorConfig;
use mesos_http::server::{self, Body};
use mesos_proto::v1::executor::{call, event, Call, Event};
use mesos_proto::v1::framework_info::{capability, Capability};
use mesos_proto::v1::{
    AgentId, AgentInfo, ExecutorId, ExecutorInfo, FrameworkId, FrameworkInfo, KillPolicy, TaskId,
    TaskInfo, TaskStatus,
};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How long any expected call may take.
pub const WAIT: Duration = Duration::from_secs(60);
pub const FRAMEWORK: &str = "fw-docker";
pub const EXECUTOR: &str = "ex-docker";
pub const AGENT: &str = "agent-S0";

type Subscriber = Arc<Mutex<Option<fmpsc::UnboundedSender<Event>>>>;

pub struct FakeAgent {
    pub addr: SocketAddr,
    calls: mpsc::UnboundedReceiver<Call>,
    subscriber: Subscriber,
    shutdown: CancellationToken,
}

impl FakeAgent {
    pub async fn start() -> FakeAgent {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (calls_tx, calls) = mpsc::unbounded_channel();
        let subscriber: Subscriber = Arc::default();
        let shutdown = CancellationToken::new();
        let state = subscriber.clone();
        let handler = move |request: http::Request<hyper::body::Incoming>, _peer| {
            let calls = calls_tx.clone();
            let state = state.clone();
            async move { handle(request, calls, state).await }
        };
        tokio::spawn(server::serve(listener, handler, shutdown.clone()));
        FakeAgent {
            addr,
            calls,
            subscriber,
            shutdown,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/slave(1)/api/v1/executor", self.addr)
    }

    /// `MESOS_SLAVE_PID` for an executor process.
    pub fn pid(&self) -> String {
        format!("slave(1)@{}", self.addr)
    }

    pub fn config(&self) -> ExecutorConfig {
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
        .request_timeout(Duration::from_secs(10))
        .shutdown_grace_period(Duration::from_secs(10))
        .build()
        .unwrap()
    }

    pub async fn next(&mut self, kind: call::Type) -> Call {
        loop {
            let call = tokio::time::timeout(WAIT, self.calls.recv())
                .await
                .unwrap_or_else(|_| panic!("timed out waiting for a {kind:?} call"))
                .expect("agent gone");
            if call.r#type() == kind {
                return call;
            }
        }
    }

    /// The next status update, not acknowledged.
    pub async fn update_unacknowledged(&mut self) -> TaskStatus {
        let call = self.next(call::Type::Update).await;
        call.update.expect("update").status
    }

    /// The next status update; acknowledged at once.
    pub async fn update(&mut self) -> TaskStatus {
        let status = self.update_unacknowledged().await;
        self.send(Event {
            r#type: Some(event::Type::Acknowledged as i32),
            acknowledged: Some(event::Acknowledged {
                task_id: status.task_id.clone(),
                uuid: status.uuid.clone().expect("uuid"),
            }),
            ..Default::default()
        });
        status
    }

    pub fn send(&self, event: Event) {
        let state = self.subscriber.lock().unwrap();
        if let Some(subscriber) = state.as_ref() {
            let _ = subscriber.unbounded_send(event);
        }
    }

    pub fn launch(&self, task: TaskInfo) {
        self.send(Event {
            r#type: Some(event::Type::Launch as i32),
            launch: Some(event::Launch { task }),
            ..Default::default()
        });
    }

    pub fn kill(&self, task_id: &str, kill_policy: Option<KillPolicy>) {
        self.send(Event {
            r#type: Some(event::Type::Kill as i32),
            kill: Some(event::Kill {
                task_id: TaskId {
                    value: task_id.into(),
                },
                kill_policy,
            }),
            ..Default::default()
        });
    }

    pub fn shutdown(&self) {
        self.send(Event {
            r#type: Some(event::Type::Shutdown as i32),
            ..Default::default()
        });
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
    subscriber: Subscriber,
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
    if kind != call::Type::Subscribe {
        return server::empty_response(StatusCode::ACCEPTED);
    }
    let (tx, rx) = fmpsc::unbounded();
    tx.unbounded_send(subscribed(executor_id)).unwrap();
    *subscriber.lock().unwrap() = Some(tx);
    server::event_stream_response(negotiated.response, None, rx)
}

fn subscribed(executor_id: ExecutorId) -> Event {
    Event {
        r#type: Some(event::Type::Subscribed as i32),
        subscribed: Some(event::Subscribed {
            executor_info: ExecutorInfo {
                executor_id,
                ..Default::default()
            },
            framework_info: FrameworkInfo {
                user: "root".into(),
                name: "docker test framework".into(),
                id: Some(FrameworkId {
                    value: FRAMEWORK.into(),
                }),
                capabilities: vec![Capability {
                    r#type: Some(capability::Type::TaskKillingState as i32),
                }],
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
        ..Default::default()
    }
}
