//! A small Docker Engine API client over the engine's unix socket: the
//! three requests of a launch that are too costly as `docker` CLI
//! processes (~16-18 ms each, a Go program started per request, against
//! ~1 ms for a request): image presence, container inspect and the event
//! stream.
//!
//! One HTTP/1.1 connection per request (hyper's `client::conn::http1`
//! over a `tokio::net::UnixStream`), `Host: docker`, paths versioned with
//! the engine's own API version (`API-Version` of `GET /_ping`, asked once
//! per [`EngineApi`] and reused): what the CLI negotiates too, so the
//! inspect answer is the one `docker inspect` prints, and it works with
//! any engine (an engine without the header gets unversioned paths).
//! Every answer is bounded: in time ([`EngineApi::with_timeout`], the
//! connection included) and in size ([`MAX_BODY`], [`MAX_EVENT_LINE`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::task::JoinHandle;

use super::error::EngineError;
use super::state::ContainerState;

/// The default bound of one request (connecting, the answer's head and
/// body); events streams are bounded until their head only.
pub const DEFAULT_ENGINE_TIMEOUT: Duration = Duration::from_secs(20);

/// The largest response body read (an inspect answer is a few KiB).
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// The longest event (one JSON line of `GET /events`) read.
pub const MAX_EVENT_LINE: usize = 64 * 1024;

/// Docker's default engine socket.
pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";

/// A Docker Engine API client on a unix socket; cheap to clone (clones
/// share the negotiated API version).
///
/// ```no_run
/// # async fn demo() -> Result<(), mesos_docker::docker::EngineError> {
/// use mesos_docker::docker::EngineApi;
/// let engine = EngineApi::new("/var/run/docker.sock");
/// if engine.image_exists("busybox:latest").await? {
///     if let Some(state) = engine.inspect_container("mesos-1234").await? {
///         println!("{} running: {}", state.id, state.running);
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct EngineApi {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    socket: PathBuf,
    timeout: Duration,
    max_body: usize,
    /// `Some("v1.41")` (path prefix) or `None` (unversioned), once known.
    version: tokio::sync::OnceCell<Option<String>>,
    /// Set by [`Docker`](super::Docker) after a failure: the CLI from then on.
    disabled: AtomicBool,
}

impl PartialEq for EngineApi {
    fn eq(&self, other: &EngineApi) -> bool {
        self.inner.socket == other.inner.socket
            && self.inner.timeout == other.inner.timeout
            && self.inner.max_body == other.inner.max_body
    }
}

impl Eq for EngineApi {}

/// Aborts the connection's task when the request (or event stream) is done.
#[derive(Debug)]
struct ConnTask(JoinHandle<()>);

impl Drop for ConnTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The event stream of `GET /events`: one JSON object per line
/// (see [`EngineApi::events`]); the connection closes when dropped.
#[derive(Debug)]
pub struct EngineEvents {
    request: String,
    body: Incoming,
    buffer: BytesMut,
    _conn: ConnTask,
}

impl EngineApi {
    /// The engine listening on the unix socket `socket`.
    pub fn new(socket: impl Into<PathBuf>) -> EngineApi {
        EngineApi::build(socket.into(), DEFAULT_ENGINE_TIMEOUT, MAX_BODY)
    }

    fn build(socket: PathBuf, timeout: Duration, max_body: usize) -> EngineApi {
        EngineApi {
            inner: Arc::new(Inner {
                socket,
                timeout,
                max_body,
                version: tokio::sync::OnceCell::new(),
                disabled: AtomicBool::new(false),
            }),
        }
    }

    /// Bounds every request by `timeout` instead of [`DEFAULT_ENGINE_TIMEOUT`].
    pub fn with_timeout(self, timeout: Duration) -> EngineApi {
        EngineApi::build(self.inner.socket.clone(), timeout, self.inner.max_body)
    }

    /// Reads response bodies up to `limit` bytes instead of [`MAX_BODY`].
    pub fn with_max_body(self, limit: usize) -> EngineApi {
        EngineApi::build(self.inner.socket.clone(), self.inner.timeout, limit)
    }

    /// The socket path.
    pub fn socket(&self) -> &Path {
        &self.inner.socket
    }

    pub(super) fn disabled(&self) -> bool {
        self.inner.disabled.load(Ordering::Relaxed)
    }

    /// Stops using the API; `true` the first time (to log it once).
    pub(super) fn disable(&self) -> bool {
        !self.inner.disabled.swap(true, Ordering::Relaxed)
    }

    async fn connect(&self) -> Result<(SendRequest<Empty<Bytes>>, ConnTask), EngineError> {
        let socket = &self.inner.socket;
        let stream = tokio::net::UnixStream::connect(socket)
            .await
            .map_err(|source| EngineError::Connect {
                socket: socket.clone(),
                source,
            })?;
        let (sender, connection) =
            http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|source| EngineError::Http {
                    request: "handshake".into(),
                    source,
                })?;
        let task = tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "engine connection ended");
            }
        });
        Ok((sender, ConnTask(task)))
    }

    async fn send(
        sender: &mut SendRequest<Empty<Bytes>>,
        path: &str,
        request: &str,
    ) -> Result<Response<Incoming>, EngineError> {
        let http = |source| EngineError::Http {
            request: request.to_string(),
            source,
        };
        sender.ready().await.map_err(http)?;
        let message = Request::get(path)
            .header(hyper::header::HOST, "docker")
            .body(Empty::new())
            .map_err(|e| EngineError::Invalid {
                request: request.to_string(),
                reason: format!("cannot build the request: {e}"),
            })?;
        sender.send_request(message).await.map_err(http)
    }

    /// The path prefix: `/v<API-Version>` from `GET /_ping` (asked on this
    /// connection the first time), or nothing.
    async fn prefix(&self, sender: &mut SendRequest<Empty<Bytes>>) -> Result<String, EngineError> {
        let version = self
            .inner
            .version
            .get_or_try_init(|| async move {
                let response = Self::send(sender, "/_ping", "GET /_ping").await?;
                let version = response
                    .headers()
                    .get("api-version")
                    .and_then(|v| v.to_str().ok())
                    .filter(|v| is_version(v))
                    .map(|v| format!("/v{v}"));
                let status = response.status();
                self.body(response, "GET /_ping").await?;
                if status != StatusCode::OK {
                    return Err(EngineError::Status {
                        request: "GET /_ping".into(),
                        status: status.as_u16(),
                        message: String::new(),
                    });
                }
                tracing::debug!(
                    socket = %self.inner.socket.display(),
                    version = version.as_deref().unwrap_or("(unversioned)"),
                    "docker engine API"
                );
                Ok::<_, EngineError>(version)
            })
            .await?;
        Ok(version.clone().unwrap_or_default())
    }

    /// The API version the requests use (`1.41`), `None` for unversioned
    /// paths (an engine whose `/_ping` names none).
    pub async fn api_version(&self) -> Result<Option<String>, EngineError> {
        self.bounded("GET /_ping", async {
            let (mut sender, _conn) = self.connect().await?;
            let prefix = self.prefix(&mut sender).await?;
            Ok(prefix.strip_prefix("/v").map(str::to_string))
        })
        .await
    }

    async fn bounded<T>(
        &self,
        request: &str,
        work: impl std::future::Future<Output = Result<T, EngineError>>,
    ) -> Result<T, EngineError> {
        tokio::time::timeout(self.inner.timeout, work)
            .await
            .map_err(|_| EngineError::Timeout {
                request: request.to_string(),
                timeout: self.inner.timeout,
            })?
    }

    /// `GET <path>` (after the version prefix) on a new connection: the
    /// answer's head, the request's name for errors (`GET /v1.41/...`),
    /// and the connection (kept while the body is read).
    async fn open(
        &self,
        path: &str,
    ) -> Result<(Response<Incoming>, String, ConnTask), EngineError> {
        let (mut sender, conn) = self.connect().await?;
        let path = format!("{}{path}", self.prefix(&mut sender).await?);
        let request = format!("GET {path}");
        let response = Self::send(&mut sender, &path, &request).await?;
        Ok((response, request, conn))
    }

    /// `GET <path>` (after the version prefix): status and body, read whole.
    async fn get(&self, path: &str) -> Result<(StatusCode, Bytes, String), EngineError> {
        self.bounded(&format!("GET {path}"), async {
            let (response, request, _conn) = self.open(path).await?;
            let status = response.status();
            let body = self.body(response, &request).await?;
            Ok((status, body, request))
        })
        .await
    }

    /// The whole body, refused beyond the size limit.
    async fn body(
        &self,
        response: Response<Incoming>,
        request: &str,
    ) -> Result<Bytes, EngineError> {
        let limit = self.inner.max_body;
        let too_large = || EngineError::TooLarge {
            request: request.to_string(),
            limit,
        };
        let declared = response
            .headers()
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let mut body = response.into_body();
        let mut buffer = BytesMut::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|source| EngineError::Http {
                request: request.to_string(),
                source,
            })?;
            if let Ok(data) = frame.into_data() {
                if buffer.len() + data.len() > limit {
                    return Err(too_large());
                }
                buffer.extend_from_slice(&data);
            }
        }
        Ok(buffer.freeze())
    }

    /// Whether `image` is present (`GET /images/{name}/json`: 200 yes,
    /// 404 no).
    pub async fn image_exists(&self, image: &str) -> Result<bool, EngineError> {
        let path = format!("/images/{}/json", encode_path(image, true)?);
        match self.get(&path).await? {
            (StatusCode::OK, _, _) => Ok(true),
            (StatusCode::NOT_FOUND, _, _) => Ok(false),
            (status, body, request) => Err(status_error(request, status, &body)),
        }
    }

    /// The container `name` (or id) as `docker inspect` reads it
    /// (`GET /containers/{name}/json`), `None` when there is none.
    pub async fn inspect_container(
        &self,
        name: &str,
    ) -> Result<Option<ContainerState>, EngineError> {
        let path = format!("/containers/{}/json", encode_path(name, false)?);
        match self.get(&path).await? {
            (StatusCode::OK, body, request) => {
                let text = std::str::from_utf8(&body).map_err(|e| EngineError::Invalid {
                    request: request.clone(),
                    reason: format!("not UTF-8: {e}"),
                })?;
                if !text.trim_start().starts_with('{') {
                    return Err(EngineError::Invalid {
                        request,
                        reason: "not a JSON object".into(),
                    });
                }
                ContainerState::parse(&request, text)
                    .map(Some)
                    .map_err(|e| EngineError::Invalid {
                        request,
                        reason: e.to_string(),
                    })
            }
            (StatusCode::NOT_FOUND, _, _) => Ok(None),
            (status, body, request) => Err(status_error(request, status, &body)),
        }
    }

    /// `GET /events?since=<since>&filters=<filters>`: the engine's events
    /// from `since` (seconds since the epoch) on, filtered as
    /// `docker events --filter key=value` does (`filters` as
    /// `[("container", &["mesos-1"]), ("event", &["start"])]`). Returns
    /// once the engine has answered the request (200); read the events
    /// with [`EngineEvents::next_event`].
    pub async fn events(
        &self,
        since: u64,
        filters: &[(&str, &[&str])],
    ) -> Result<EngineEvents, EngineError> {
        let filters: serde_json::Map<String, Value> = filters
            .iter()
            .map(|(key, values)| (key.to_string(), Value::from(values.to_vec())))
            .collect();
        let query = format!(
            "since={since}&filters={}",
            encode_query(&Value::Object(filters).to_string())
        );
        let path = format!("/events?{query}");
        self.bounded(&format!("GET {path}"), async {
            let (response, request, conn) = self.open(&path).await?;
            let status = response.status();
            if status != StatusCode::OK {
                let body = self.body(response, &request).await?;
                return Err(status_error(request, status, &body));
            }
            Ok(EngineEvents {
                request,
                body: response.into_body(),
                buffer: BytesMut::new(),
                _conn: conn,
            })
        })
        .await
    }
}

impl EngineEvents {
    /// The next event (one JSON object), `None` once the engine has ended
    /// the stream. Not bounded in time (events come when they come): race
    /// it against a timer. A line over [`MAX_EVENT_LINE`] bytes or one
    /// that is not JSON is an error.
    pub async fn next_event(&mut self) -> Result<Option<Value>, EngineError> {
        loop {
            if let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
                let line = self.buffer.split_to(end + 1);
                let line = line.trim_ascii();
                if line.is_empty() {
                    continue;
                }
                return serde_json::from_slice(line)
                    .map(Some)
                    .map_err(|e| EngineError::Invalid {
                        request: self.request.clone(),
                        reason: format!("event not JSON: {e}"),
                    });
            }
            if self.buffer.len() > MAX_EVENT_LINE {
                return Err(EngineError::TooLarge {
                    request: self.request.clone(),
                    limit: MAX_EVENT_LINE,
                });
            }
            match self.body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.buffer.extend_from_slice(&data);
                    }
                }
                Some(Err(source)) => {
                    return Err(EngineError::Http {
                        request: self.request.clone(),
                        source,
                    })
                }
                None if self.buffer.trim_ascii().is_empty() => return Ok(None),
                None => self.buffer.extend_from_slice(b"\n"),
            }
        }
    }
}

/// An unexpected status, with the engine's `{"message": ...}` if any.
fn status_error(request: String, status: StatusCode, body: &[u8]) -> EngineError {
    let message = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body);
            text.chars()
                .take(200)
                .collect::<String>()
                .trim()
                .to_string()
        });
    EngineError::Status {
        request,
        status: status.as_u16(),
        message,
    }
}

/// `1.41`: digits and dots only (it goes into the path).
fn is_version(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 16
        && text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && text.bytes().next().is_some_and(|b| b.is_ascii_digit())
}

/// `name` percent-encoded for a path: unreserved characters, `:` and `@`
/// (and `/` when `slashes`, for image references, as the CLI sends them)
/// stay, every other byte is `%XX`. A name with an empty, `.` or `..`
/// segment is refused (the engine would resolve it as a path).
pub(super) fn encode_path(name: &str, slashes: bool) -> Result<String, EngineError> {
    let segments: Vec<&str> = if slashes {
        name.split('/').collect()
    } else {
        vec![name]
    };
    if segments
        .iter()
        .any(|s| s.is_empty() || *s == "." || *s == "..")
    {
        return Err(EngineError::InvalidName(name.to_string()));
    }
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~' | b':' | b'@')
            || (slashes && byte == b'/');
        push_byte(&mut out, byte, keep);
    }
    Ok(out)
}

/// `value` percent-encoded for a query value (unreserved characters stay).
pub(super) fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        let keep = byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~');
        push_byte(&mut out, byte, keep);
    }
    out
}

fn push_byte(out: &mut String, byte: u8, keep: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    if keep {
        out.push(char::from(byte));
    } else {
        out.push('%');
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_queries_are_percent_encoded() {
        assert_eq!(
            encode_path("registry:5000/a/b:tag", true).unwrap(),
            "registry:5000/a/b:tag"
        );
        assert_eq!(encode_path("a@sha256:0f", true).unwrap(), "a@sha256:0f");
        assert_eq!(encode_path("a b?c#d%", false).unwrap(), "a%20b%3Fc%23d%25");
        assert_eq!(encode_path("a/b", false).unwrap(), "a%2Fb");
        assert_eq!(encode_path("é", false).unwrap(), "%C3%A9");
        for bad in ["", "..", ".", "a/../b", "/a", "a//b"] {
            assert!(
                matches!(encode_path(bad, true), Err(EngineError::InvalidName(_))),
                "{bad:?}"
            );
        }
        assert_eq!(
            encode_query(r#"{"container":["x y"]}"#),
            "%7B%22container%22%3A%5B%22x%20y%22%5D%7D"
        );
    }

    #[test]
    fn versions_are_digits_and_dots() {
        assert!(is_version("1.41"));
        assert!(!is_version(""));
        assert!(!is_version("1.41/../x"));
        assert!(!is_version(".1"));
    }
}
