//! The master's HTTP routes: the v1 scheduler API (`/api/v1/scheduler`,
//! `/master/api/v1/scheduler`), the v1 operator API (`/api/v1`,
//! `/master/api/v1`, see [`super::operator`]), `/master/state` (`/state`), `/health`,
//! `/version`, `/metrics/snapshot`, the live cluster page at `/` (see
//! [`super::page`]); anything else is 404.

use std::net::SocketAddr;
use std::sync::Arc;

use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use mesos_http::server::{self, Body};
use mesos_proto::v1::scheduler::call::Type as CallType;
use mesos_proto::v1::scheduler::Call;
use mesos_proto::MediaType;

use super::leadership::{self, Leadership};
use super::scheduler::{self, Reply};
use super::validation::validate_call;
use super::Core;

/// Answers one request.
pub(crate) async fn route(
    core: Arc<Core>,
    request: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Body> {
    let path = request.uri().path().trim_end_matches('/').to_string();
    let method = request.method().clone();
    tracing::trace!(%peer, %method, %path, "request");
    if leadership::leader_only(&path) || leadership::is_redirect_endpoint(&path) {
        let leader = match core.leadership.borrow().clone() {
            Leadership::Following(leader) => Some(leader),
            Leadership::Leading if leadership::is_redirect_endpoint(&path) => {
                Some(Some(core.lock().addr.to_string()))
            }
            Leadership::Leading => None,
        };
        if let Some(leader) = leader {
            let path_and_query = request
                .uri()
                .path_and_query()
                .map_or("/", |pq| pq.as_str())
                .to_string();
            return leadership::redirect(leader.as_deref(), &path_and_query);
        }
    }
    match (method, path.as_str()) {
        (Method::POST, "/api/v1/scheduler" | "/master/api/v1/scheduler") => {
            scheduler_api(core, request).await
        }
        (method, "/api/v1/scheduler" | "/master/api/v1/scheduler") => method_not_allowed(&method),
        (_, "/api/v1" | "/master/api/v1") => super::operator::api(core, request).await,
        (Method::GET, "/master/state" | "/state" | "/master/state.json" | "/state.json") => {
            json_response(&core.state_json())
        }
        (Method::GET, "/health" | "/master/health") => server::empty_response(StatusCode::OK),
        (Method::GET, "/metrics/snapshot") => json_response(&core.metrics_snapshot()),
        (Method::GET, "/version") => json_response(&super::state_json::version_json()),
        (_, path) if super::page::is_page_path(path) => super::page::route(core, request).await,
        _ => server::text_response(StatusCode::NOT_FOUND, "404 Not Found."),
    }
}

/// `405` as libprocess answers it: `Allow: POST` and its message.
pub(crate) fn method_not_allowed(method: &Method) -> Response<Body> {
    let mut response = server::text_response(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("405 Method Not Allowed. Expecting one of {{ 'POST' }}, but received '{method}'."),
    );
    response
        .headers_mut()
        .insert(http::header::ALLOW, http::HeaderValue::from_static("POST"));
    response
}

fn json_response(value: &serde_json::Value) -> Response<Body> {
    let mut response = server::text_response(StatusCode::OK, value.to_string());
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

async fn scheduler_api(core: Arc<Core>, request: Request<Incoming>) -> Response<Body> {
    // As the real master: authentication first, before the body is read.
    let principal = match &core.credentials {
        None => None,
        Some(credentials) => match credentials.authenticate(request.headers()) {
            Ok(principal) => Some(principal),
            Err(response) => return response,
        },
    };
    // `Accept` matters only for SUBSCRIBE, checked after the call was
    // decoded and validated.
    let (_, parts, mut call) = match core.reader.read_any_accept::<Call>(request).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let kind = match validate_call(&call) {
        Ok(kind) => kind,
        Err(message) => {
            return server::text_response(
                StatusCode::BAD_REQUEST,
                format!("Failed to validate scheduler::Call: {message}"),
            )
        }
    };
    let stream_id = mesos_http::headers::stream_id(&parts.headers).map(str::to_string);
    if kind == CallType::Subscribe {
        let negotiated = match server::negotiate(&parts.headers) {
            Ok(negotiated) => negotiated,
            Err(response) => return response,
        };
        if stream_id.is_some() {
            return server::text_response(
                StatusCode::BAD_REQUEST,
                "Subscribe calls should not include the 'Mesos-Stream-Id' header",
            );
        }
        if let Some(principal) = &principal {
            if let Err(message) = scheduler::claim_principal(&mut call, principal) {
                return server::text_response(
                    StatusCode::BAD_REQUEST,
                    format!("Failed to validate scheduler::Call: {message}"),
                );
            }
        }
        let stream = core.run(|state, fx| scheduler::subscribe(state, fx, call));
        return stream_response(negotiated.response, stream);
    }
    let reply = core.run(|state, fx| {
        match scheduler::check_caller(state, &call, stream_id.as_deref(), principal.as_deref()) {
            Err(reply) => reply,
            Ok(()) => scheduler::handle(state, fx, kind, call),
        }
    });
    match reply {
        Reply::Accepted => server::empty_response(StatusCode::ACCEPTED),
        Reply::Ok => server::empty_response(StatusCode::OK),
        Reply::Error(status, message) => server::text_response(status, message),
    }
}

/// The RecordIO response of a subscription: events until the master
/// closes the stream (after delivering what was queued), the queue
/// overflows, or the client goes away (the receiver is dropped, which the
/// watcher notices).
fn stream_response(media: MediaType, stream: scheduler::NewStream) -> Response<Body> {
    let scheduler::NewStream { stream_id, rx } = stream;
    server::event_stream_response(media, Some(&stream_id), rx.into_stream())
}
