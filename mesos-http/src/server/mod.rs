//! The server half: what a Mesos master or agent does with an API request.
//!
//! Used by `mesos-local` (and by test doubles): negotiate the media types of
//! a call ([`negotiate`]), decode it ([`read_call`]), answer with a status
//! ([`text_response`], [`empty_response`]) or with a RecordIO stream of
//! events ([`event_stream_response`]), and run an accept loop ([`serve`])
//! whose connections can all be cut at once.
//!
//! A server you could expose: [`ServerLimits`] bounds what one client can
//! make it spend — slow request heads, slow bodies and clients that stop
//! reading are cut off by timeouts, connections are capped (the accept
//! loop waits for a free slot), call bodies are capped in size, large ones
//! are read and decoded a few at a time, and what decoding a body would
//! cost is checked before decoding it ([`mesos_proto::cost`]: 2 bytes of
//! protobuf can be a 500-byte struct). [`serve_with_limits`] applies the
//! connection limits, a [`CallReader`] the call limits.

// The `Err` of `negotiate`/`read_call` is the finished response a handler
// returns as is; boxing it would only add an allocation on the error path.
#![allow(clippy::result_large_err)]

use std::convert::Infallible;

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use futures_util::StreamExt;
use http::header::{CONTENT_TYPE, LOCATION};
use http::{HeaderValue, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{Full, StreamBody};
use hyper::body::Frame;
use mesos_proto::codec::WireMessage;
use mesos_proto::recordio::encode_record;
use mesos_proto::MediaType;

use crate::headers::{self, MESOS_STREAM_ID};

mod limits;
mod read;
mod serve;
#[cfg(feature = "tls")]
mod tls;

pub use limits::{
    InvalidLimits, ServerLimits, DEFAULT_BODY_READ_TIMEOUT, DEFAULT_HEADER_READ_TIMEOUT,
    DEFAULT_LARGE_CALL_LEN, DEFAULT_MAX_CALL_LEN, DEFAULT_MAX_CONCURRENT_LARGE_CALLS,
    DEFAULT_MAX_CONNECTIONS, DEFAULT_WRITE_TIMEOUT,
};
pub use read::{read_call, CallReader};
#[cfg(feature = "tls")]
pub use serve::serve_tls;
pub use serve::{serve, serve_with_limits};
#[cfg(feature = "tls")]
pub use tls::ServerTls;

/// The body type of every response the server half builds.
pub type Body = UnsyncBoxBody<Bytes, Infallible>;

/// The media types of one request: how the call is encoded, and how the
/// answer (events, or a response message) must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// The call's `Content-Type`.
    pub request: MediaType,
    /// What the client accepts (the request's type when it did not say).
    pub response: MediaType,
}

/// Reads `Content-Type` and `Accept` as a Mesos master does: a missing
/// `Content-Type` is `400 Bad Request`, a foreign one `415 Unsupported
/// Media Type`; an `Accept` that
/// names neither media type is `406 Not Acceptable` (messages as Mesos
/// 1.11's).
pub fn negotiate(headers: &http::HeaderMap) -> Result<Negotiated, Response<Body>> {
    let negotiated = negotiate_content_type(headers)?;
    match headers::accept(headers) {
        Ok(Some(response)) => Ok(Negotiated {
            response,
            ..negotiated
        }),
        Ok(None) => Ok(negotiated),
        Err(()) => Err(text_response(
            StatusCode::NOT_ACCEPTABLE,
            format!(
                "Expecting 'Accept' to allow '{}' or '{}'",
                MediaType::Protobuf.mime(),
                MediaType::Json.mime()
            ),
        )),
    }
}

/// [`negotiate`] without refusing an `Accept` that names neither media
/// type: the response type is then the request's. Mesos checks `Accept`
/// only for the calls that answer with a stream (SUBSCRIBE), after the call
/// was decoded and validated; a server does the same by calling
/// [`negotiate`] again for those.
pub fn negotiate_content_type(headers: &http::HeaderMap) -> Result<Negotiated, Response<Body>> {
    let Some(request) = headers::content_type(headers) else {
        let Some(got) = headers.get(CONTENT_TYPE) else {
            tracing::debug!("call refused: no Content-Type");
            return Err(text_response(
                StatusCode::BAD_REQUEST,
                "Expecting 'Content-Type' to be present",
            ));
        };
        let got = got.to_str().unwrap_or("");
        tracing::debug!(content_type = got, "call refused: unsupported Content-Type");
        return Err(text_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "Expecting 'Content-Type' of {} or {}",
                MediaType::Json.mime(),
                MediaType::Protobuf.mime()
            ),
        ));
    };
    let response = match headers::accept(headers) {
        Ok(Some(media)) => media,
        Ok(None) | Err(()) => request,
    };
    Ok(Negotiated { request, response })
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
