//! The proxy's HTTP side: accepting clients, forwarding their requests
//! upstream, and answering with the upstream's answer, an injected one, or
//! a relayed event stream.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, HOST, LOCATION, TRANSFER_ENCODING};
use http::{HeaderMap, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use mesos_proto::MediaType;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::fault::{CallAction, SubscribeAction};
use super::records::{AckSeen, CallSeen, SubscribeOutcome, SubscribeSeen};
use super::relay::{relay, Chunk};
use super::wire::CallInfo;
use super::{BoxError, ProxyBody, Shared};

/// The largest request body the proxy reads.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// Events buffered between the relay and a slow client.
const RELAY_BUFFER: usize = 64;

/// Accepts clients until the proxy shuts down.
pub(crate) async fn serve(shared: Arc<Shared>, listener: TcpListener) {
    loop {
        let (stream, peer) = tokio::select! {
            _ = shared.shutdown.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "proxy accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        tokio::spawn(async move {
            let handler = shared.clone();
            let service = hyper::service::service_fn(move |request| {
                let shared = handler.clone();
                async move { handle(shared, request).await }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                result = connection => {
                    if let Err(e) = result {
                        tracing::debug!(%peer, error = %e, "proxy connection ended with an error");
                    }
                }
                _ = shared.shutdown.cancelled() => {}
            }
        });
    }
}

fn full(bytes: impl Into<Bytes>) -> ProxyBody {
    Full::new(bytes.into())
        .map_err(|never: Infallible| match never {})
        .boxed_unsync()
}

fn answer(status: StatusCode, text: &str) -> Response<ProxyBody> {
    let mut response = Response::new(full(text.to_string()));
    *response.status_mut() = status;
    response
}

/// One request. An `Err` makes hyper close the client's connection without
/// an answer (what a client sees when the server is gone).
async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<ProxyBody>, BoxError> {
    let (parts, body) = request.into_parts();
    let body = Limited::new(body, MAX_BODY)
        .collect()
        .await
        .map_err(|e| BoxError::new(format!("reading the request: {e}")))?
        .to_bytes();
    let media = mesos_http::headers::content_type(&parts.headers);
    let info = media.and_then(|m| shared.api.call(m, &body));
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".to_string());
    let upstream = Request::from_parts(parts, Full::new(body));
    match info {
        Some(info) if info.is_subscribe() => subscribe(shared, info, path, upstream).await,
        Some(info) => call(shared, info, upstream).await,
        None => {
            let response = forward(&shared, upstream).await?;
            passthrough(response).await
        }
    }
}

async fn subscribe(
    shared: Arc<Shared>,
    info: CallInfo,
    path: String,
    upstream: Request<Full<Bytes>>,
) -> Result<Response<ProxyBody>, BoxError> {
    let action = shared.armed().on_subscribe();
    let attempt = {
        let at = shared.since();
        let mut records = shared.records();
        records.subscribes.push(SubscribeSeen {
            at,
            framework_id: info.framework_id.clone(),
            outcome: SubscribeOutcome::Streaming,
            ended: None,
        });
        records.subscribes.len() - 1
    };
    let set_outcome = |outcome: SubscribeOutcome| {
        if let Some(seen) = shared.records().subscribes.get_mut(attempt) {
            seen.outcome = outcome;
        }
    };
    match action {
        SubscribeAction::Unavailable => {
            set_outcome(SubscribeOutcome::Unavailable);
            shared.note_fault("503 to SUBSCRIBE".into());
            return Ok(answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "injected: no leading master",
            ));
        }
        SubscribeAction::Redirect => {
            set_outcome(SubscribeOutcome::Redirected);
            shared.note_fault("307 to SUBSCRIBE".into());
            let mut response = answer(StatusCode::TEMPORARY_REDIRECT, "");
            let location = format!("//{}{path}", shared.addr);
            if let Ok(value) = location.parse() {
                response.headers_mut().insert(LOCATION, value);
            }
            return Ok(response);
        }
        SubscribeAction::Forward => {}
    }
    let response = match forward(&shared, upstream).await {
        Ok(response) => response,
        Err(e) => {
            set_outcome(SubscribeOutcome::UpstreamFailed(e.to_string()));
            return Err(e);
        }
    };
    if response.status() != StatusCode::OK {
        set_outcome(SubscribeOutcome::Refused(response.status().as_u16()));
        return passthrough(response).await;
    }
    let media = mesos_http::headers::content_type(response.headers()).unwrap_or(MediaType::Json);
    let (parts, body) = response.into_parts();
    let (tx, rx) = mpsc::channel::<Chunk>(RELAY_BUFFER);
    tokio::spawn(relay(shared.clone(), attempt, media, body, tx));
    let chunks = futures::stream::unfold(rx, |mut rx| async move {
        let chunk = rx.recv().await?;
        Some((chunk.map(Frame::data), rx))
    });
    let mut client = Response::new(StreamBody::new(chunks).boxed_unsync());
    *client.status_mut() = parts.status;
    *client.headers_mut() = hop_by_hop_removed(parts.headers);
    Ok(client)
}

async fn call(
    shared: Arc<Shared>,
    info: CallInfo,
    upstream: Request<Full<Bytes>>,
) -> Result<Response<ProxyBody>, BoxError> {
    let at = shared.since();
    let action = shared.armed().on_call(info.name);
    let result = match action {
        CallAction::Fail(status) => {
            shared.note_fault(format!("{status} to {}", info.name));
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            Ok(answer(status, "injected: refused"))
        }
        CallAction::Forward | CallAction::Stall(_) => match forward(&shared, upstream).await {
            Ok(response) => passthrough(response).await,
            Err(e) => Err(e),
        },
    };
    // Recorded as the upstream answered: a stalled answer may never reach
    // a client that gives up (or dies) meanwhile, but the call took effect.
    let status = result.as_ref().ok().map(|r| r.status().as_u16());
    {
        let mut records = shared.records();
        records.calls.push(CallSeen {
            at,
            name: info.name,
            status,
            injected: action != CallAction::Forward,
            update: info.update.clone(),
        });
        if let Some((task_id, uuid)) = info.ack {
            records.acks.push(AckSeen {
                at,
                task_id,
                uuid,
                status,
            });
        }
    }
    if let CallAction::Stall(delay) = action {
        shared.note_fault(format!("stalled {} by {delay:?}", info.name));
        tokio::select! {
            _ = shared.shutdown.cancelled() => {}
            _ = tokio::time::sleep(delay) => {}
        }
    }
    result
}

/// Sends `request` to the upstream (same path and headers).
async fn forward(
    shared: &Shared,
    request: Request<Full<Bytes>>,
) -> Result<Response<Incoming>, BoxError> {
    let (mut parts, body) = request.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    parts.uri = format!("{}{path}", shared.upstream)
        .parse::<Uri>()
        .map_err(BoxError::new)?;
    parts.headers = hop_by_hop_removed(parts.headers);
    parts.headers.remove(HOST);
    parts.headers.remove(CONTENT_LENGTH);
    let request = Request::from_parts(parts, body);
    shared
        .client
        .request(request)
        .await
        .map_err(|e| BoxError::new(mesos_http::error_chain(&e)))
}

/// An upstream answer (not a stream) passed on whole.
async fn passthrough(response: Response<Incoming>) -> Result<Response<ProxyBody>, BoxError> {
    let (parts, body) = response.into_parts();
    let bytes = Limited::new(body, MAX_BODY)
        .collect()
        .await
        .map_err(|e| BoxError::new(format!("reading the upstream answer: {e}")))?
        .to_bytes();
    let mut client = Response::new(full(bytes));
    *client.status_mut() = parts.status;
    let mut headers = hop_by_hop_removed(parts.headers);
    headers.remove(CONTENT_LENGTH);
    *client.headers_mut() = headers;
    Ok(client)
}

fn hop_by_hop_removed(mut headers: HeaderMap) -> HeaderMap {
    headers.remove(CONNECTION);
    headers.remove(TRANSFER_ENCODING);
    headers.remove("keep-alive");
    headers
}
