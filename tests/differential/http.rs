//! Raw HTTP exchanges with a master: any method, headers and body bytes,
//! answers kept as they came (status, headers, body), and subscription
//! streams read record by record with deadlines.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use mesos_proto::codec::WireMessage;
use mesos_proto::recordio::RecordIoCodec;
use mesos_proto::v1::executor::{self, Call as ExecutorCall, Event as ExecutorEvent};
use mesos_proto::v1::master::{self, Call as OperatorCall, Event as OperatorEvent};
use mesos_proto::v1::scheduler::{Call, Event};
use mesos_proto::MediaType;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How long one exchange may take (a non-streaming answer, or the head of a
/// stream).
pub(crate) const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(15);

/// A request as sent: method, path, headers and body.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: http::Method,
    pub(crate) path: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Bytes,
}

impl Request {
    /// A POST of a scheduler call given as JSON, encoded in `media`, with
    /// `Content-Type` (and `Accept`) of `media`.
    pub(crate) fn call(media: MediaType, call: Value) -> Request {
        Request {
            method: http::Method::POST,
            path: "/api/v1/scheduler".into(),
            headers: vec![
                ("Content-Type".into(), media.mime().into()),
                ("Accept".into(), media.mime().into()),
            ],
            body: encode_call(media, &call),
        }
    }

    /// A POST of an executor call given as JSON to the executor API at
    /// `path`, encoded in `media`, with `Content-Type` and `Accept` of
    /// `media`.
    pub(crate) fn executor_call(path: &str, media: MediaType, call: Value) -> Request {
        Request {
            method: http::Method::POST,
            path: path.into(),
            headers: vec![
                ("Content-Type".into(), media.mime().into()),
                ("Accept".into(), media.mime().into()),
            ],
            body: encode_as::<ExecutorCall>(media, &call),
        }
    }

    /// A POST of an operator call given as JSON to `/api/v1`, encoded in
    /// `media`, with `Content-Type` and `Accept` of `media`.
    pub(crate) fn operator_call(media: MediaType, call: Value) -> Request {
        Request {
            method: http::Method::POST,
            path: "/api/v1".into(),
            headers: vec![
                ("Content-Type".into(), media.mime().into()),
                ("Accept".into(), media.mime().into()),
            ],
            body: encode_as::<OperatorCall>(media, &call),
        }
    }

    /// The same request to another path.
    pub(crate) fn to(mut self, path: &str) -> Request {
        self.path = path.into();
        self
    }

    /// A POST with this raw body and these headers only.
    pub(crate) fn raw(headers: &[(&str, &str)], body: impl Into<Bytes>) -> Request {
        Request {
            method: http::Method::POST,
            path: "/api/v1/scheduler".into(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.into(),
        }
    }

    /// Sets header `name` (replacing it), or removes it with `None`.
    pub(crate) fn header(mut self, name: &str, value: Option<&str>) -> Request {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        if let Some(value) = value {
            self.headers.push((name.into(), value.into()));
        }
        self
    }
}

/// `call` (JSON) in `media`: as is for JSON; for protobuf through our
/// codecs (prost writes every proto2 `required` field, so protobuf bodies
/// that lack one are written by hand in the scenarios).
pub(crate) fn encode_call(media: MediaType, call: &Value) -> Bytes {
    encode_as::<Call>(media, call)
}

/// `call` (JSON) in `media`, through message type `T` for protobuf.
fn encode_as<T: WireMessage>(media: MediaType, call: &Value) -> Bytes {
    let json = Bytes::from(call.to_string());
    match media {
        MediaType::Json => json,
        MediaType::Protobuf => {
            let call: T = MediaType::Json
                .decode(&json)
                .unwrap_or_else(|e| panic!("scenario call {call} decodes: {e}"));
            MediaType::Protobuf
                .encode(&call)
                .expect("protobuf encoding")
        }
    }
}

/// An answer: status and headers, and either the whole body or, for a `200`
/// to a SUBSCRIBE, the stream of its events.
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) events: Option<EventStream>,
}

impl Response {
    /// A header's value, if present and text.
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// The body as text (lossy).
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The events of a subscription, as JSON values (protobuf events are
/// re-encoded as JSON), read by a background task.
pub(crate) struct EventStream {
    rx: mpsc::UnboundedReceiver<Result<Value, String>>,
    ended: bool,
}

impl EventStream {
    /// The next event within `within`: `Ok(Some)`; `Ok(None)` when the
    /// stream ended; `Err` on a timeout or an undecodable record.
    pub(crate) async fn next(&mut self, within: Duration) -> Result<Option<Value>, String> {
        if self.ended {
            return Ok(None);
        }
        match tokio::time::timeout(within, self.rx.recv()).await {
            Err(_) => Err(format!("no event within {within:?}")),
            Ok(None) => {
                self.ended = true;
                Ok(None)
            }
            Ok(Some(Err(e))) => Err(e),
            Ok(Some(Ok(event))) => Ok(Some(event)),
        }
    }

    /// The first event of type `kind` within `within`, skipping others;
    /// `None` if the stream ended first. Panics on a timeout.
    pub(crate) async fn wait_for(&mut self, kind: &str, within: Duration) -> Option<Value> {
        self.wait_for_any(&[kind], within).await
    }

    /// The first event of one of `kinds` within `within`, skipping
    /// others; `None` if the stream ended first. Panics on a timeout.
    pub(crate) async fn wait_for_any(&mut self, kinds: &[&str], within: Duration) -> Option<Value> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left).await {
                Ok(Some(event)) if kinds.iter().any(|k| event["type"] == *k) => return Some(event),
                Ok(Some(_)) => continue,
                Ok(None) => return None,
                Err(e) => panic!("waiting for {kinds:?}: {e}"),
            }
        }
    }

    /// Whether the stream ends within `within`, skipping HEARTBEAT and
    /// OFFERS events (any other event is returned as an error).
    pub(crate) async fn ends_within(&mut self, within: Duration) -> Result<bool, Value> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left).await {
                Ok(None) => return Ok(true),
                Ok(Some(event)) if event["type"] == "HEARTBEAT" || event["type"] == "OFFERS" => {
                    continue
                }
                Ok(Some(event)) => return Err(event),
                Err(_) => return Ok(false),
            }
        }
    }
}

/// A client for one target.
#[derive(Clone)]
pub(crate) struct Target {
    /// `http://host:port`.
    pub(crate) base: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Target {
    /// A client for the master at `base`.
    pub(crate) fn new(base: &str) -> Target {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        Target {
            base: base.trim_end_matches('/').to_string(),
            client: Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(0)
                .build(connector),
        }
    }

    /// Sends `request`; a `200` answer with a RecordIO content type (a
    /// subscription) is returned with its events still streaming.
    pub(crate) async fn send(&self, request: Request) -> Response {
        let mut builder = http::Request::builder()
            .method(request.method.clone())
            .uri(format!("{}{}", self.base, request.path));
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let http_request = builder
            .body(Full::new(request.body.clone()))
            .expect("request");
        let response = tokio::time::timeout(EXCHANGE_TIMEOUT, self.client.request(http_request))
            .await
            .unwrap_or_else(|_| panic!("{} {}: no answer", request.method, request.path))
            .unwrap_or_else(|e| panic!("{} {}: {e}", request.method, request.path));
        let (parts, body) = response.into_parts();
        let media = parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(MediaType::from_mime);
        let streaming = parts.status == http::StatusCode::OK
            && media.is_some()
            && request.body.len() < 4096
            && is_subscribe(&request);
        if let (true, Some(media)) = (streaming, media) {
            return Response {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body: Bytes::new(),
                events: Some(EventStream {
                    rx: spawn_reader(body, media, Api::of(&request)),
                    ended: false,
                }),
            };
        }
        let body = tokio::time::timeout(EXCHANGE_TIMEOUT, body.collect())
            .await
            .map_err(|_| "body timeout".to_string())
            .and_then(|r| r.map_err(|e| e.to_string()))
            .map(|c| c.to_bytes())
            .unwrap_or_else(|e| panic!("{} {}: body: {e}", request.method, request.path));
        Response {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
            events: None,
        }
    }
}

/// The API a request goes to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Api {
    Scheduler,
    Executor,
    Operator,
}

impl Api {
    fn of(request: &Request) -> Api {
        if request.path.ends_with("/api/v1/executor") {
            Api::Executor
        } else if request.path.ends_with("/api/v1") {
            Api::Operator
        } else {
            Api::Scheduler
        }
    }
}

/// Whether the request is a SUBSCRIBE call (JSON or protobuf) of its API.
fn is_subscribe(request: &Request) -> bool {
    fn decodes<T: WireMessage>(body: &[u8]) -> Option<T> {
        MediaType::Json
            .decode::<T>(body)
            .or_else(|_| MediaType::Protobuf.decode::<T>(body))
            .ok()
    }
    match Api::of(request) {
        Api::Executor => decodes::<ExecutorCall>(&request.body)
            .is_some_and(|c| c.r#type == Some(executor::call::Type::Subscribe as i32)),
        Api::Operator => decodes::<OperatorCall>(&request.body)
            .is_some_and(|c| c.r#type == Some(master::call::Type::Subscribe as i32)),
        Api::Scheduler => decodes::<Call>(&request.body).is_some_and(|c| {
            c.r#type == Some(mesos_proto::v1::scheduler::call::Type::Subscribe as i32)
        }),
    }
}

/// A protobuf record of `T` in our JSON mapping.
pub(crate) fn protobuf_as_json<T: WireMessage>(record: &[u8]) -> Result<Value, String> {
    let event = MediaType::Protobuf
        .decode::<T>(record)
        .map_err(|e| e.to_string())?;
    let json = MediaType::Json.encode(&event).map_err(|e| e.to_string())?;
    serde_json::from_slice(&json).map_err(|e| e.to_string())
}

fn spawn_reader(
    mut body: Incoming,
    media: MediaType,
    api: Api,
) -> mpsc::UnboundedReceiver<Result<Value, String>> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut codec = RecordIoCodec::new();
        let mut buf = BytesMut::new();
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else { break };
            let Ok(data) = frame.into_data() else {
                continue;
            };
            buf.extend_from_slice(&data);
            loop {
                match codec.decode(&mut buf) {
                    Ok(Some(record)) => {
                        // JSON: the master's own JSON; protobuf: decoded,
                        // then in our JSON mapping.
                        let event = match media {
                            MediaType::Json => serde_json::from_slice(&record)
                                .map_err(|e| format!("event is not JSON: {e}")),
                            MediaType::Protobuf => match api {
                                Api::Executor => protobuf_as_json::<ExecutorEvent>(&record),
                                Api::Operator => protobuf_as_json::<OperatorEvent>(&record),
                                Api::Scheduler => protobuf_as_json::<Event>(&record),
                            },
                        };
                        if tx.send(event).is_err() {
                            return;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        let _ = tx.send(Err(e.to_string()));
                        return;
                    }
                }
            }
        }
    });
    rx
}
