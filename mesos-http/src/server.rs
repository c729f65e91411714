//! The server half: what a Mesos master or agent does with an API request.
//!
//! Used by `mesos-local` (and by test doubles): negotiate the media types of
//! a call ([`negotiate`]), decode it ([`read_call`]), answer with a status
//! ([`text_response`], [`empty_response`]) or with a RecordIO stream of
//! events ([`event_stream_response`]), and run an accept loop ([`serve`])
//! whose connections can all be cut at once.

// The `Err` of `negotiate`/`read_call` is the finished response a handler
// returns as is; boxing it would only add an allocation on the error path.
#![allow(clippy::result_large_err)]

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use futures_util::StreamExt;
use http::header::{CONTENT_TYPE, LOCATION};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use mesos_proto::codec::WireMessage;
use mesos_proto::recordio::encode_record;
use mesos_proto::MediaType;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::headers::{self, MESOS_STREAM_ID};

/// The body type of every response the server half builds.
pub type Body = UnsyncBoxBody<Bytes, Infallible>;

/// The largest call body [`read_call`] accepts by default (16 MiB).
pub const DEFAULT_MAX_CALL_LEN: usize = 16 * 1024 * 1024;

/// The media types of one request: how the call is encoded, and how the
/// answer (events, or a response message) must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// The call's `Content-Type`.
    pub request: MediaType,
    /// What the client accepts (the request's type when it did not say).
    pub response: MediaType,
}

/// Reads `Content-Type` and `Accept` as a Mesos master does: a missing or
/// foreign `Content-Type` is `415 Unsupported Media Type`; an `Accept` that
/// names neither media type is `406 Not Acceptable`.
pub fn negotiate(headers: &http::HeaderMap) -> Result<Negotiated, Response<Body>> {
    let Some(request) = headers::content_type(headers) else {
        let got = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        return Err(text_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "Expecting 'Content-Type' of {} or {}, got {got:?}",
                MediaType::Json.mime(),
                MediaType::Protobuf.mime()
            ),
        ));
    };
    let response = match headers::accept(headers) {
        Ok(Some(media)) => media,
        Ok(None) => request,
        Err(()) => {
            return Err(text_response(
                StatusCode::NOT_ACCEPTABLE,
                format!(
                    "Expecting 'Accept' to allow {} or {}",
                    MediaType::Json.mime(),
                    MediaType::Protobuf.mime()
                ),
            ))
        }
    };
    Ok(Negotiated { request, response })
}

/// Negotiates, reads the body (at most `max_len` bytes) and decodes it as a
/// call of type `C`. Every failure is already the response to send: `415`,
/// `406`, `413 Payload Too Large` or `400 Bad Request` with the reason.
pub async fn read_call<C: WireMessage>(
    request: Request<Incoming>,
    max_len: usize,
) -> Result<(Negotiated, http::request::Parts, C), Response<Body>> {
    let negotiated = negotiate(request.headers())?;
    let (parts, body) = request.into_parts();
    let bytes = match Limited::new(body, max_len).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return Err(text_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("Request body exceeds {max_len} bytes"),
            ))
        }
        Err(e) => {
            return Err(text_response(
                StatusCode::BAD_REQUEST,
                format!("Failed to read body: {e}"),
            ))
        }
    };
    match negotiated.request.decode::<C>(&bytes) {
        Ok(call) => Ok((negotiated, parts, call)),
        Err(e) => Err(text_response(
            StatusCode::BAD_REQUEST,
            crate::error_chain(&e),
        )),
    }
}

/// A response with a plain-text body (how Mesos explains a `4xx`).
pub fn text_response(status: StatusCode, message: impl Into<String>) -> Response<Body> {
    let mut response = Response::new(full(Bytes::from(message.into())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// A response with no body (`202 Accepted` for most calls).
pub fn empty_response(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(full(Bytes::new()));
    *response.status_mut() = status;
    response
}

/// `307 Temporary Redirect` to `location`, as a non-leading master answers.
pub fn redirect_response(location: &str) -> Response<Body> {
    let mut response = empty_response(StatusCode::TEMPORARY_REDIRECT);
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

/// `200 OK` with one message encoded in `media` (calls that return data).
pub fn message_response<M: WireMessage>(media: MediaType, message: &M) -> Response<Body> {
    match media.encode(message) {
        Ok(bytes) => {
            let mut response = Response::new(full(bytes));
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(media.mime()));
            response
        }
        Err(e) => text_response(StatusCode::INTERNAL_SERVER_ERROR, crate::error_chain(&e)),
    }
}

/// `200 OK` whose chunked body is `events`, each encoded in `media` and
/// framed as one RecordIO record, with `Mesos-Stream-Id` when given.
///
/// The body ends when `events` ends; dropping the body (the client went
/// away) drops `events`, which is how the producer learns of it.
pub fn event_stream_response<S, E>(
    media: MediaType,
    stream_id: Option<&str>,
    events: S,
) -> Response<Body>
where
    S: Stream<Item = E> + Send + 'static,
    E: WireMessage,
{
    let frames = events.filter_map(move |event| {
        let frame = media.encode(&event).ok().map(|bytes| {
            let mut framed = BytesMut::with_capacity(bytes.len() + 12);
            encode_record(&bytes, &mut framed);
            Ok::<_, Infallible>(Frame::data(framed.freeze()))
        });
        if frame.is_none() {
            tracing::error!(message = E::NAME, "event could not be encoded; skipped");
        }
        std::future::ready(frame)
    });
    let mut response = Response::new(UnsyncBoxBody::new(StreamBody::new(frames)));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(media.mime()));
    if let Some(value) = stream_id.and_then(|id| HeaderValue::from_str(id).ok()) {
        headers.insert(MESOS_STREAM_ID, value);
    }
    response
}

fn full(bytes: Bytes) -> Body {
    UnsyncBoxBody::new(Full::new(bytes))
}

/// Accepts HTTP/1.1 connections on `listener` and answers each request with
/// `handler`, until `shutdown` is cancelled; then the listener closes and
/// every open connection (including streaming responses) is cut at once, as
/// when a process dies. Returns when the accept loop has stopped.
///
/// `handler` gets the request and the peer's address.
pub async fn serve<H, F>(listener: TcpListener, handler: H, shutdown: CancellationToken)
where
    H: Fn(Request<Incoming>, SocketAddr) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send + 'static,
{
    loop {
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    // Typically out of file descriptors: give the system a moment.
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let response = handler(request, peer);
                async move { Ok::<_, Infallible>(response.await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                result = connection => {
                    if let Err(e) = result {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                }
                _ = shutdown.cancelled() => {}
            }
        });
    }
}
