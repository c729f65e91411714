//! A scripted fake master on loopback (the server half of mesos-http), for
//! what a real master cannot produce on demand: redirects from a
//! non-leading master, a master that goes away, a silent or cut stream.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use http::StatusCode;
use mesos_http::server;
use mesos_operator::proto::master::{self, event, response, Call, Event, Response};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// How the fake answers one request.
pub enum Reply {
    /// `307` to `location`.
    Redirect(String),
    /// `200` with this response.
    Response(Box<Response>),
    /// An error status with a text body.
    Status(StatusCode, &'static str),
    /// `200` and a RecordIO stream of `events`; then the stream ends, or
    /// with `hold`, stays open (silent) until the fake is dropped.
    Events { events: Vec<Event>, hold: bool },
}

type Script = dyn Fn(&Call, usize) -> Reply + Send + Sync;

/// A fake master: answers the `n`th request (from 0) with `script(call, n)`.
pub struct FakeMaster {
    pub url: String,
    received: Arc<Mutex<Vec<&'static str>>>,
    shutdown: CancellationToken,
}

impl Drop for FakeMaster {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl FakeMaster {
    pub async fn start(script: impl Fn(&Call, usize) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let received = Arc::new(Mutex::new(Vec::new()));
        let count = Arc::new(AtomicUsize::new(0));
        let script: Arc<Script> = Arc::new(script);
        let shutdown = CancellationToken::new();
        let log = received.clone();
        let handler = move |request, _peer| {
            let (script, log, count) = (script.clone(), log.clone(), count.clone());
            async move {
                let (negotiated, _parts, call) =
                    match server::read_call::<Call>(request, 1 << 20).await {
                        Ok(ok) => ok,
                        Err(response) => return response,
                    };
                log.lock().expect("lock").push(call.r#type().as_str_name());
                let n = count.fetch_add(1, Ordering::SeqCst);
                match script(&call, n) {
                    Reply::Redirect(location) => server::redirect_response(&location),
                    Reply::Response(response) => {
                        server::message_response(negotiated.response, &*response)
                    }
                    Reply::Status(status, text) => server::text_response(status, text),
                    Reply::Events { events, hold } => {
                        let events = futures::stream::iter(events);
                        let stream = if hold {
                            futures::StreamExt::boxed(futures::StreamExt::chain(
                                events,
                                futures::stream::pending(),
                            ))
                        } else {
                            futures::StreamExt::boxed(events)
                        };
                        server::event_stream_response(negotiated.response, None, stream)
                    }
                }
            }
        };
        tokio::spawn(server::serve(listener, handler, shutdown.clone()));
        FakeMaster {
            url,
            received,
            shutdown,
        }
    }

    /// The call types received so far, in order.
    pub fn received(&self) -> Vec<&'static str> {
        self.received.lock().expect("lock").clone()
    }
}

/// A loopback URL where nothing listens (connections are refused).
pub async fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    url
}

/// A healthy `GET_HEALTH` answer.
pub fn healthy() -> Response {
    Response {
        r#type: Some(response::Type::GetHealth as i32),
        get_health: Some(response::GetHealth { healthy: true }),
        ..Default::default()
    }
}

/// `SUBSCRIBED` with an empty cluster and the heartbeat interval.
pub fn subscribed(heartbeat_seconds: f64) -> Event {
    Event {
        r#type: Some(event::Type::Subscribed as i32),
        subscribed: Some(event::Subscribed {
            get_state: Some(response::GetState::default()),
            heartbeat_interval_seconds: Some(heartbeat_seconds),
        }),
        ..Default::default()
    }
}

/// An event without payload (`HEARTBEAT`).
pub fn bare(kind: event::Type) -> Event {
    Event {
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

/// `AGENT_REMOVED` of `agent_id`.
pub fn agent_removed(agent_id: &str) -> Event {
    Event {
        agent_removed: Some(event::AgentRemoved {
            agent_id: mesos_operator::proto::AgentId {
                value: agent_id.into(),
            },
        }),
        ..bare(event::Type::AgentRemoved)
    }
}

pub fn is_subscribe(call: &Call) -> bool {
    call.r#type() == master::call::Type::Subscribe
}
