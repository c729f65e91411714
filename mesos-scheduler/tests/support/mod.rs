//! A scripted fake master on loopback (the server half of mesos-http), for
//! the fault paths a real master cannot produce on demand.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use http::{HeaderValue, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::StreamBody;
use hyper::body::Frame;
use mesos_http::server::{self, Body};
use mesos_http::MediaType;
use mesos_proto::recordio::encode_record;
use mesos_proto::v1::scheduler::{event, Call, Event};
use mesos_proto::v1::{FrameworkId, FrameworkInfo};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How the fake master answers one SUBSCRIBE.
pub enum Reply {
    /// An HTTP status with a text body (and a `Location` for 307).
    Status(StatusCode, String),
    /// `200` and a stream whose bytes the test writes through the sender
    /// it receives on [`FakeMaster::streams`].
    Stream,
}

/// What the fake master received.
#[derive(Debug, Clone)]
pub struct Received {
    pub call: Call,
    pub stream_id: Option<String>,
    /// When the master received it.
    pub at: std::time::Instant,
}

pub struct FakeMaster {
    pub url: String,
    pub calls: mpsc::UnboundedReceiver<Received>,
    pub streams: mpsc::UnboundedReceiver<mpsc::UnboundedSender<Bytes>>,
    call_status: Arc<Mutex<Option<(StatusCode, &'static str)>>>,
    shutdown: CancellationToken,
}

impl Drop for FakeMaster {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl FakeMaster {
    /// Starts a master answering SUBSCRIBEs with `replies` in order (a
    /// `Stream` once they run out), and every other call with `202`, or
    /// with `call_status` when set.
    pub async fn start(
        replies: Vec<Reply>,
        call_status: Option<(StatusCode, &'static str)>,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let (calls_tx, calls) = mpsc::unbounded_channel();
        let (streams_tx, streams) = mpsc::unbounded_channel();
        let replies = Arc::new(Mutex::new(VecDeque::from(replies)));
        let shutdown = CancellationToken::new();
        let call_status = Arc::new(Mutex::new(call_status));
        let answer = call_status.clone();
        let handler = move |request, _peer| {
            let replies = replies.clone();
            let call_status = *answer.lock().expect("lock");
            let calls_tx = calls_tx.clone();
            let streams_tx = streams_tx.clone();
            async move {
                let (negotiated, parts, call) =
                    match server::read_call::<Call>(request, server::DEFAULT_MAX_CALL_LEN).await {
                        Ok(ok) => ok,
                        Err(response) => return response,
                    };
                let stream_id = mesos_http::headers::stream_id(&parts.headers).map(str::to_string);
                let is_subscribe =
                    call.r#type() == mesos_proto::v1::scheduler::call::Type::Subscribe;
                let _ = calls_tx.send(Received {
                    call,
                    stream_id,
                    at: std::time::Instant::now(),
                });
                if !is_subscribe {
                    return match call_status {
                        Some((status, message)) => server::text_response(status, message),
                        None => server::empty_response(StatusCode::ACCEPTED),
                    };
                }
                let reply = replies
                    .lock()
                    .expect("lock")
                    .pop_front()
                    .unwrap_or(Reply::Stream);
                match reply {
                    Reply::Status(StatusCode::TEMPORARY_REDIRECT, location) => {
                        server::redirect_response(&location)
                    }
                    Reply::Status(status, message) => server::text_response(status, message),
                    Reply::Stream => {
                        let (tx, rx) = mpsc::unbounded_channel::<Bytes>();
                        let _ = streams_tx.send(tx);
                        raw_stream(negotiated.response, rx)
                    }
                }
            }
        };
        tokio::spawn(server::serve(listener, handler, shutdown.clone()));
        FakeMaster {
            url,
            calls,
            streams,
            call_status,
            shutdown,
        }
    }

    /// From now on, answers every call but SUBSCRIBE with `status` (`None`:
    /// `202` again).
    pub fn set_call_status(&self, status: Option<(StatusCode, &'static str)>) {
        *self.call_status.lock().expect("lock") = status;
    }

    /// The next call received (within 10 s).
    pub async fn next_call(&mut self) -> Received {
        tokio::time::timeout(std::time::Duration::from_secs(10), self.calls.recv())
            .await
            .expect("a call within 10 s")
            .expect("master running")
    }

    /// The byte sink of the next SUBSCRIBE stream (within 10 s).
    pub async fn next_stream(&mut self) -> mpsc::UnboundedSender<Bytes> {
        tokio::time::timeout(std::time::Duration::from_secs(10), self.streams.recv())
            .await
            .expect("a SUBSCRIBE within 10 s")
            .expect("master running")
    }
}

fn raw_stream(media: MediaType, rx: mpsc::UnboundedReceiver<Bytes>) -> http::Response<Body> {
    let frames = tokio_stream_from(rx).map(|b| Ok::<_, Infallible>(Frame::data(b)));
    let mut response = http::Response::new(UnsyncBoxBody::new(StreamBody::new(frames)));
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(media.mime()),
    );
    headers.insert(
        mesos_http::headers::MESOS_STREAM_ID,
        HeaderValue::from_static("stream-1"),
    );
    response
}

fn tokio_stream_from(mut rx: mpsc::UnboundedReceiver<Bytes>) -> impl futures::Stream<Item = Bytes> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// A listener that accepts connections and closes them at once (a master
/// that is up but dying), counting them. Returns its URL and the count.
pub async fn closing_master() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(socket);
        }
    });
    (url, accepted)
}

/// One event, encoded and framed as a RecordIO record.
pub fn record(media: MediaType, event: &Event) -> Bytes {
    let bytes = media.encode(event).expect("encodes");
    let mut out = BytesMut::new();
    encode_record(&bytes, &mut out);
    out.freeze()
}

pub fn subscribed(framework_id: &str, heartbeat_seconds: f64) -> Event {
    Event {
        r#type: Some(event::Type::Subscribed as i32),
        subscribed: Some(event::Subscribed {
            framework_id: FrameworkId {
                value: framework_id.into(),
            },
            heartbeat_interval_seconds: Some(heartbeat_seconds),
            master_info: None,
        }),
        ..Default::default()
    }
}

/// An UPDATE event for `task` with `uuid`, from agent `a1`.
pub fn update(task: &str, uuid: &'static [u8]) -> Event {
    use mesos_proto::v1::{AgentId, TaskId, TaskState, TaskStatus};
    Event {
        r#type: Some(event::Type::Update as i32),
        update: Some(event::Update {
            status: TaskStatus {
                task_id: TaskId { value: task.into() },
                state: TaskState::TaskRunning as i32,
                agent_id: Some(AgentId { value: "a1".into() }),
                uuid: Some(Bytes::from_static(uuid)),
                ..Default::default()
            },
        }),
        ..Default::default()
    }
}

pub fn heartbeat() -> Event {
    Event {
        r#type: Some(event::Type::Heartbeat as i32),
        ..Default::default()
    }
}

pub fn framework() -> FrameworkInfo {
    FrameworkInfo {
        user: "root".into(),
        name: "fault-tests".into(),
        ..Default::default()
    }
}
