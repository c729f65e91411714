//! Reading and decoding a call under [`ServerLimits`].

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::header::CONTENT_LENGTH;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use mesos_proto::codec::WireMessage;
use mesos_proto::cost::BoundedDecodeError;
use mesos_proto::{required, DecodeError, MediaType};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::{negotiate, text_response, Body, Negotiated, ServerLimits};

/// Reads and decodes calls under one [`ServerLimits`]: the body within
/// `body_read_timeout` and `max_call_len`, large bodies under the shared
/// `max_concurrent_large_calls` semaphore, the decode only if
/// [`decode`](ServerLimits#structfield.decode) allows what it would cost.
/// Clones share the semaphore: make one per server.
#[derive(Debug, Clone)]
pub struct CallReader {
    limits: Arc<ServerLimits>,
    large: Arc<Semaphore>,
}

impl Default for CallReader {
    fn default() -> Self {
        CallReader::new(ServerLimits::default())
    }
}

impl CallReader {
    /// A reader with these limits (and its own large-call semaphore).
    pub fn new(limits: ServerLimits) -> Self {
        let permits = limits.max_concurrent_large_calls.max(1);
        CallReader {
            limits: Arc::new(limits),
            large: Arc::new(Semaphore::new(permits)),
        }
    }

    /// Its limits.
    pub fn limits(&self) -> &ServerLimits {
        &self.limits
    }

    /// Negotiates, reads the body and decodes it as a call of type `C`.
    /// Every failure is already the response to send: `415`, `406`, `413
    /// Payload Too Large` (body, or what decoding it would cost, over the
    /// limits), `408 Request Timeout` (body too slow), `503 Service
    /// Unavailable` (too many large calls at once) or `400 Bad Request`
    /// with the reason.
    ///
    /// Decoding fails as in Mesos 1.11: `Failed to parse body into JSON:
    /// ...` (not JSON), `Failed to convert JSON into Call protobuf: ...` (not
    /// a call, or proto2 `required` fields missing: `Missing required
    /// fields: a.b, c`), `Failed to parse body into Call protobuf`.
    pub async fn read<C: WireMessage>(
        &self,
        request: Request<Incoming>,
    ) -> Result<(Negotiated, http::request::Parts, C), Response<Body>> {
        let negotiated = negotiate(request.headers())?;
        self.read_negotiated(negotiated, request).await
    }

    /// [`read`](Self::read) without refusing an unacceptable `Accept`
    /// ([`negotiate_content_type`](super::negotiate_content_type)): for
    /// APIs where, as in Mesos, only SUBSCRIBE checks it (the caller then
    /// calls [`negotiate`] on the parts).
    pub async fn read_any_accept<C: WireMessage>(
        &self,
        request: Request<Incoming>,
    ) -> Result<(Negotiated, http::request::Parts, C), Response<Body>> {
        let negotiated = super::negotiate_content_type(request.headers())?;
        self.read_negotiated(negotiated, request).await
    }

    async fn read_negotiated<C: WireMessage>(
        &self,
        negotiated: Negotiated,
        request: Request<Incoming>,
    ) -> Result<(Negotiated, http::request::Parts, C), Response<Body>> {
        let (parts, body) = request.into_parts();
        let (bytes, _permit) = self.read_body(&parts.headers, body).await?;
        let media = negotiated.request;
        // The message's own name, as Mesos words its errors ("Call").
        let short = C::NAME.rsplit('.').next().unwrap_or("Call");
        match media.decode_bounded::<C>(&bytes, &self.limits.decode) {
            Ok(call) => {
                let missing = required::missing_required_fields::<C>(media, &bytes);
                if missing.is_empty() {
                    return Ok((negotiated, parts, call));
                }
                tracing::debug!(?missing, "call refused: required fields missing");
                Err(text_response(
                    StatusCode::BAD_REQUEST,
                    match media {
                        MediaType::Json => format!(
                            "Failed to convert JSON into {short} protobuf: Missing required fields: {}",
                            missing.join(", ")
                        ),
                        MediaType::Protobuf => format!("Failed to parse body into {short} protobuf"),
                    },
                ))
            }
            Err(BoundedDecodeError::Cost(e)) => {
                tracing::warn!(error = %e, len = bytes.len(), "call refused before decoding");
                Err(text_response(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    crate::error_chain(&e),
                ))
            }
            Err(BoundedDecodeError::Decode(e)) => {
                tracing::debug!(error = %crate::error_chain(&e), "call refused: undecodable");
                Err(text_response(
                    StatusCode::BAD_REQUEST,
                    decode_error_message(short, &e),
                ))
            }
            Err(e) => Err(text_response(
                StatusCode::BAD_REQUEST,
                crate::error_chain(&e),
            )),
        }
    }

    /// The whole body, and the large-call permit if it needed one (held
    /// until the decode is done).
    async fn read_body(
        &self,
        headers: &http::HeaderMap,
        mut body: Incoming,
    ) -> Result<(Bytes, Option<OwnedSemaphorePermit>), Response<Body>> {
        let max = self.limits.max_call_len;
        let too_large = || {
            text_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("Request body exceeds {max} bytes"),
            )
        };
        let declared = headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|len| len > max as u64) {
            return Err(too_large());
        }
        let deadline = Instant::now() + self.limits.body_read_timeout;
        let declared = declared.map_or(0, |len| len as usize);
        let mut permit = None;
        if declared > self.limits.large_call_len {
            permit = Some(self.large_permit(deadline).await?);
        }
        let mut buf = BytesMut::with_capacity(declared.min(max));
        loop {
            let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
                Err(_) => {
                    return Err(text_response(
                        StatusCode::REQUEST_TIMEOUT,
                        format!(
                            "Request body not received within {:?}",
                            self.limits.body_read_timeout
                        ),
                    ))
                }
                Ok(None) => break,
                Ok(Some(Err(e))) => {
                    return Err(text_response(
                        StatusCode::BAD_REQUEST,
                        format!("Failed to read body: {e}"),
                    ))
                }
                Ok(Some(Ok(frame))) => frame,
            };
            let Ok(data) = frame.into_data() else {
                continue; // trailers
            };
            let len = buf.len() + data.len();
            if len > max {
                return Err(too_large());
            }
            if permit.is_none() && len > self.limits.large_call_len {
                permit = Some(self.large_permit(deadline).await?);
            }
            buf.extend_from_slice(&data);
        }
        Ok((buf.freeze(), permit))
    }

    async fn large_permit(
        &self,
        deadline: Instant,
    ) -> Result<OwnedSemaphorePermit, Response<Body>> {
        let busy = || {
            text_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "Too many large calls in progress; retry later",
            )
        };
        match tokio::time::timeout_at(deadline, Arc::clone(&self.large).acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) | Err(_) => {
                tracing::warn!("large call refused: every large-call permit is taken");
                Err(busy())
            }
        }
    }
}

/// What Mesos answers to a body it cannot decode into a `short` message.
fn decode_error_message(short: &str, error: &DecodeError) -> String {
    match error {
        DecodeError::Json { source, .. } => match source.classify() {
            serde_json::error::Category::Data => {
                format!("Failed to convert JSON into {short} protobuf: {source}")
            }
            _ => format!("Failed to parse body into JSON: {source}"),
        },
        DecodeError::Protobuf { .. } => format!("Failed to parse body into {short} protobuf"),
        other => crate::error_chain(other),
    }
}

/// Negotiates, reads the body (at most `max_len` bytes) and decodes it as a
/// call of type `C`, with [`ServerLimits`]' other defaults and a reader of
/// its own (so no semaphore shared with other calls: a server should keep
/// one [`CallReader`] instead). Every failure is already the response to
/// send, as [`CallReader::read`] documents.
pub async fn read_call<C: WireMessage>(
    request: Request<Incoming>,
    max_len: usize,
) -> Result<(Negotiated, http::request::Parts, C), Response<Body>> {
    CallReader::new(ServerLimits::default().max_call_len(max_len))
        .read(request)
        .await
}
