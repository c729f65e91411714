//! Pipelined calls: many calls written on one kept connection without
//! waiting for the answers in between, the answers read back in order
//! (HTTP/1.1 pipelining, which libprocess and mesos-local both honour: see
//! the differential scenario `pipelined_calls_are_answered_in_order`).
//!
//! One connection per endpoint origin is kept by [`Pipelines`]. A task owns
//! it: its writer takes every call queued since its last write and writes
//! them at once; its reader parses the answers and hands each to the call
//! at the front of the queue of calls written. At most `depth` calls are
//! queued or unanswered at a time (a semaphore), so the queues are bounded.
//!
//! When the connection fails, the calls written and not answered fail with
//! [`Error::Request`] (the server may or may not have acted on them, as
//! with any broken connection); calls not written yet are tried once more
//! on a new connection, so a kept connection that the server closed while
//! idle costs no call.

mod parse;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::Uri;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};
use tokio::task::AbortHandle;
use tower_service::Service;

use mesos_proto::codec::WireMessage;
use mesos_proto::MediaType;

use super::{finish, CallResponse, Client, Connector};
use crate::{redact_url, BoxError, Error, RedactedUrl, DEFAULT_ERROR_BODY_LIMIT};
pub(crate) use parse::RawResponse;
use parse::{ParseError, ResponseParser};

/// The most calls one write takes from the queue.
const MAX_BATCH: usize = 64;

/// The room made for each read of answers.
const READ_SIZE: usize = 16 * 1024;

/// What the connection's task answers a call with, when not a response.
#[derive(Debug)]
enum Failure {
    /// The call was never written: try it on a new connection.
    NotSent,
    /// No connection could be made.
    Connect(Shared),
    /// The connection broke after the call was written.
    Broken(Shared),
    /// The answer to this call outgrew the response limit.
    TooLarge(usize),
}

/// One cause shared by every call a connection failure fails.
#[derive(Debug, Clone)]
struct Shared(Arc<BoxError>);

impl std::fmt::Display for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Shared {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// Why a connection ended while calls were unanswered.
#[derive(Debug, thiserror::Error)]
enum Ended {
    #[error("the connection was closed before the answer")]
    Closed,
    #[error("the connection was closed by the server after an earlier answer")]
    ClosedAfterAnswer,
    #[error("the server sent an answer to no call")]
    UnaskedAnswer,
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("unreadable answer: {0}")]
    Parse(#[from] ParseError),
}

type Reply = oneshot::Sender<Result<RawResponse, Failure>>;

struct Job {
    request: Bytes,
    reply: Reply,
    _slot: OwnedSemaphorePermit,
}

/// A call written and not answered yet.
struct Waiter {
    reply: Reply,
    _slot: OwnedSemaphorePermit,
}

type Waiters = Arc<Mutex<VecDeque<Waiter>>>;

fn lock(waiters: &Waiters) -> std::sync::MutexGuard<'_, VecDeque<Waiter>> {
    waiters.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One kept connection and the task that owns it.
struct Pipeline {
    origin: Origin,
    jobs: mpsc::UnboundedSender<Job>,
    slots: Arc<Semaphore>,
    task: AbortHandle,
}

/// The pipelined connections of a client, one per origin at a time.
pub(crate) struct Pipelines {
    connector: Connector,
    depth: usize,
    max_response_len: usize,
    current: Mutex<Option<Arc<Pipeline>>>,
}

impl Pipelines {
    pub(crate) fn new(connector: Connector, depth: usize, max_response_len: usize) -> Self {
        Pipelines {
            connector,
            depth: depth.max(1),
            max_response_len,
            current: Mutex::new(None),
        }
    }

    fn current(&self) -> std::sync::MutexGuard<'_, Option<Arc<Pipeline>>> {
        self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The pipeline to `url`'s origin, connecting a new one if there is
    /// none (or one to another origin: a new leading master).
    fn pipeline(&self, url: &Uri) -> Arc<Pipeline> {
        let mut current = self.current();
        if let Some(pipeline) = current.as_ref() {
            if pipeline.origin.serves(url) && !pipeline.jobs.is_closed() {
                return Arc::clone(pipeline);
            }
        }
        let (jobs, queue) = mpsc::unbounded_channel();
        let connect_to = url.clone();
        let connector = self.connector.clone();
        let limit = self.max_response_len;
        let task = tokio::spawn(run(connector, connect_to, queue, limit)).abort_handle();
        let pipeline = Arc::new(Pipeline {
            origin: Origin::of(url),
            jobs,
            slots: Arc::new(Semaphore::new(self.depth)),
            task,
        });
        *current = Some(Arc::clone(&pipeline));
        pipeline
    }

    /// Drops `pipeline` if it is still the current one.
    fn discard(&self, pipeline: &Arc<Pipeline>) {
        let mut current = self.current();
        if current.as_ref().is_some_and(|c| Arc::ptr_eq(c, pipeline)) {
            *current = None;
        }
    }

    /// Sends one whole request (`request`: its bytes on the wire) to `url`'s
    /// origin and waits for its answer, at most `timeout`. A call not
    /// answered in time closes its connection at once: the calls behind it
    /// would wait as long.
    pub(crate) async fn call(
        &self,
        url: &Uri,
        request: Bytes,
        timeout: Duration,
    ) -> Result<RawResponse, Error> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut retried = false;
        loop {
            let pipeline = self.pipeline(url);
            let sent = tokio::time::timeout_at(deadline, Self::send(&pipeline, request.clone()));
            let failure = match sent.await {
                Ok(Ok(response)) => return Ok(response),
                Ok(Err(failure)) => failure,
                Err(_) => {
                    tracing::debug!(endpoint = %RedactedUrl(url), ?timeout, "no answer in time: pipelined connection closed");
                    pipeline.task.abort();
                    self.discard(&pipeline);
                    return Err(Error::Timeout {
                        endpoint: redact_url(url),
                        timeout,
                    });
                }
            };
            match failure {
                Failure::NotSent if !retried => {
                    retried = true;
                    self.discard(&pipeline);
                }
                Failure::NotSent => return Err(broken(url, Box::new(Ended::Closed))),
                Failure::Connect(cause) => return Err(connect_error(url, cause)),
                Failure::Broken(cause) => return Err(broken(url, Box::new(cause))),
                Failure::TooLarge(limit) => {
                    return Err(Error::ResponseTooLarge {
                        endpoint: redact_url(url),
                        limit,
                    })
                }
            }
        }
    }
}

impl Pipelines {
    /// Queues `request` on `pipeline` (once a slot is free) and waits for
    /// its answer.
    async fn send(pipeline: &Pipeline, request: Bytes) -> Result<RawResponse, Failure> {
        let closed = || Failure::Broken(Shared(Arc::new(Box::new(Ended::Closed))));
        let slot = Arc::clone(&pipeline.slots)
            .acquire_owned()
            .await
            .map_err(|_| closed())?;
        let (reply, answer) = oneshot::channel();
        let job = Job {
            request,
            reply,
            _slot: slot,
        };
        if pipeline.jobs.send(job).is_err() {
            return Err(Failure::NotSent);
        }
        answer.await.unwrap_or_else(|_| Err(closed()))
    }
}

fn broken(url: &Uri, source: BoxError) -> Error {
    Error::Request {
        endpoint: redact_url(url),
        source,
    }
}

fn connect_error(url: &Uri, cause: Shared) -> Error {
    #[cfg(feature = "tls")]
    if let Some((reason, true)) = crate::tls::explain_handshake_failure(&**cause.0) {
        return Error::TlsHandshake {
            endpoint: redact_url(url),
            reason,
            source: Box::new(cause),
        };
    }
    Error::Connect {
        endpoint: redact_url(url),
        source: Box::new(cause),
    }
}

/// What one connection serves: a scheme, host and port (never user-info,
/// which is not sent and not shown).
#[derive(Debug, PartialEq, Eq)]
struct Origin {
    scheme: Option<http::uri::Scheme>,
    host: Option<String>,
    port: Option<u16>,
}

impl Origin {
    fn of(url: &Uri) -> Self {
        Origin {
            scheme: url.scheme().cloned(),
            host: url.host().map(str::to_string),
            port: url.port_u16(),
        }
    }

    /// Whether `url` goes to this origin (compared in place: this runs for
    /// every call).
    fn serves(&self, url: &Uri) -> bool {
        self.scheme.as_ref() == url.scheme()
            && self.host.as_deref() == url.host()
            && self.port == url.port_u16()
    }
}

/// The connection's task: connect, then write and read until the queue is
/// closed and every call answered, or the connection fails.
async fn run(
    mut connector: Connector,
    url: Uri,
    mut queue: mpsc::UnboundedReceiver<Job>,
    max_response_len: usize,
) {
    let connected = match std::future::poll_fn(|cx| connector.poll_ready(cx)).await {
        Ok(()) => connector.call(url).await,
        Err(e) => Err(e),
    };
    let io = match connected {
        Ok(io) => hyper_util::rt::TokioIo::new(io),
        Err(e) => {
            // A boxed error with the `tls` connector, a `ConnectError` without.
            #[allow(clippy::useless_conversion)]
            let cause = Shared(Arc::new(e.into()));
            queue.close();
            while let Ok(job) = queue.try_recv() {
                let _ = job.reply.send(Err(Failure::Connect(cause.clone())));
            }
            return;
        }
    };
    let (reader, writer) = tokio::io::split(io);
    let waiters: Waiters = Arc::default();
    let released = Arc::new(AtomicBool::new(false));
    let reading = read_answers(
        reader,
        Arc::clone(&waiters),
        Arc::clone(&released),
        max_response_len,
    );
    let writing = write_calls(writer, &mut queue, Arc::clone(&waiters));
    tokio::pin!(reading);
    let ended = tokio::select! {
        ended = &mut reading => ended,
        written = writing => match written {
            // The client let go of this connection: read the answers still
            // due (their callers may have stopped waiting), then close.
            Ok(()) if lock(&waiters).is_empty() => Ended::Closed,
            Ok(()) => {
                released.store(true, Ordering::Relaxed);
                reading.await
            }
            Err(e) => Ended::Io(e),
        },
    };
    queue.close();
    let unanswered: Vec<Waiter> = lock(&waiters).drain(..).collect();
    if !unanswered.is_empty() {
        tracing::debug!(unanswered = unanswered.len(), error = %ended, "pipelined connection failed");
    }
    let cause = Shared(Arc::new(Box::new(ended)));
    for waiter in unanswered {
        let _ = waiter.reply.send(Err(Failure::Broken(cause.clone())));
    }
    while let Ok(job) = queue.try_recv() {
        let _ = job.reply.send(Err(Failure::NotSent));
    }
}

/// Writes every queued call, batch by batch, each registered as waiting
/// before its bytes go out. Ends when the queue is closed and empty.
async fn write_calls<W: tokio::io::AsyncWrite + Unpin>(
    mut writer: W,
    queue: &mut mpsc::UnboundedReceiver<Job>,
    waiters: Waiters,
) -> std::io::Result<()> {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut out = BytesMut::new();
    loop {
        if queue.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return Ok(());
        }
        {
            let mut waiting = lock(&waiters);
            for job in batch.drain(..) {
                out.extend_from_slice(&job.request);
                waiting.push_back(Waiter {
                    reply: job.reply,
                    _slot: job._slot,
                });
            }
        }
        writer.write_all(&out).await?;
        writer.flush().await?;
        out.clear();
    }
}

/// Reads answers and hands each to the oldest waiting call. Returns why
/// the connection ended, or once the last answer due is read after the
/// client `released` the connection.
async fn read_answers<R: tokio::io::AsyncRead + Unpin>(
    mut reader: R,
    waiters: Waiters,
    released: Arc<AtomicBool>,
    max_response_len: usize,
) -> Ended {
    let mut parser = ResponseParser::new(max_response_len);
    let mut buf = BytesMut::with_capacity(READ_SIZE);
    loop {
        loop {
            match parser.next(&mut buf) {
                Ok(Some(response)) => {
                    let closes = response.closes;
                    if !deliver(&waiters, Ok(response)) {
                        return Ended::UnaskedAnswer;
                    }
                    if closes {
                        return Ended::ClosedAfterAnswer;
                    }
                    if released.load(Ordering::Relaxed) && lock(&waiters).is_empty() {
                        return Ended::Closed;
                    }
                }
                Ok(None) => break,
                Err(ParseError::TooLarge { limit, status }) => {
                    tracing::debug!(%status, limit, "pipelined answer too large");
                    deliver(&waiters, Err(Failure::TooLarge(limit)));
                    return Ended::Parse(ParseError::TooLarge { limit, status });
                }
                Err(e) => return Ended::Parse(e),
            }
        }
        // Room for a whole read, not the few bytes a full buffer would get.
        if buf.capacity() - buf.len() < READ_SIZE / 4 {
            buf.reserve(READ_SIZE);
        }
        match reader.read_buf(&mut buf).await {
            Ok(0) => {
                if let Some(last) = parser.finish(&mut buf) {
                    deliver(&waiters, Ok(last));
                }
                return Ended::Closed;
            }
            Ok(_) => {}
            Err(e) => return Ended::Io(e),
        }
    }
}

/// Answers the oldest waiting call; false when no call is waiting.
fn deliver(waiters: &Waiters, answer: Result<RawResponse, Failure>) -> bool {
    let Some(waiter) = lock(waiters).pop_front() else {
        return false;
    };
    // The caller may have stopped waiting (its timeout): nothing to do.
    let _ = waiter.reply.send(answer);
    true
}

impl Client {
    /// [`call`](Self::call) through the pipeline to `url`'s endpoint.
    pub(super) async fn call_pipelined<C: WireMessage>(
        &self,
        pipelines: &Pipelines,
        url: &Uri,
        call: &C,
        stream_id: Option<&str>,
    ) -> Result<CallResponse, Error> {
        let (builder, body) = self.call_request(url, call, stream_id)?;
        let head = finish(url, builder, ())?;
        let request = encode_request(&head, &body);
        let answer = pipelines
            .call(url, request, self.config.request_timeout)
            .await?;
        if !answer.status.is_success() {
            let text = &answer.body[..answer.body.len().min(DEFAULT_ERROR_BODY_LIMIT)];
            let message = String::from_utf8_lossy(text).trim().to_string();
            let endpoint = redact_url(url);
            tracing::debug!(%endpoint, status = %answer.status, %message, "call failed");
            return Err(Error::from_status(
                &endpoint,
                answer.status,
                answer.location.as_deref(),
                message,
            ));
        }
        tracing::trace!(endpoint = %RedactedUrl(url), status = %answer.status, len = answer.body.len(), "call answered");
        Ok(CallResponse {
            status: answer.status,
            media: answer
                .content_type
                .as_deref()
                .and_then(MediaType::from_mime),
            body: answer.body,
        })
    }
}

/// The bytes of `head` (a POST with its headers) followed by `body`, as
/// written on the connection. `Host` is the URL's host and port (never its
/// user-info); the header values were validated when `head` was built.
pub(crate) fn encode_request(head: &http::Request<()>, body: &[u8]) -> Bytes {
    let uri = head.uri();
    let target = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut out = BytesMut::with_capacity(256 + body.len());
    out.extend_from_slice(head.method().as_str().as_bytes());
    out.extend_from_slice(b" ");
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    out.extend_from_slice(uri.host().unwrap_or_default().as_bytes());
    if let Some(port) = uri.port() {
        out.extend_from_slice(b":");
        out.extend_from_slice(port.as_str().as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    for (name, value) in head.headers() {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Content-Length: ");
    out.extend_from_slice(body.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(body);
    out.freeze()
}
