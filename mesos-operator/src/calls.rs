//! What every operator call does: send through the leader-finding
//! [`Endpoints`], then decode the answer and check that it answers this
//! call.

use std::time::Duration;

use http::Uri;
use mesos_http::CallResponse;
use mesos_proto::codec::WireMessage;
use mesos_proto::v1::DurationInfo;

use crate::builder::Shared;
use crate::leader::Endpoints;
use crate::Error;

/// One operator API (the master's or an agent's): its call and response
/// messages, whose types are named alike (`GET_STATE` answers `GET_STATE`).
pub(crate) trait Api {
    type Call: WireMessage;
    type Response: WireMessage;
    fn call_name(call: &Self::Call) -> &'static str;
    fn response_name(response: &Self::Response) -> &'static str;
}

/// Sends `call` and returns the payload `pick` takes from its answer. (A
/// master or agent leaves out an empty payload whose fields are all
/// optional or repeated, e.g. `GET_WEIGHTS` without weights: the methods
/// take that as the empty message.)
pub(crate) async fn query<A: Api, R>(
    shared: &Shared,
    endpoints: &Endpoints,
    call: A::Call,
    pick: impl FnOnce(A::Response) -> Option<R>,
) -> Result<R, Error> {
    let name = A::call_name(&call);
    let (url, answer) = send(shared, endpoints, name, &call).await?;
    let response: A::Response = decode(shared, name, &url, &answer)?;
    let got = A::response_name(&response);
    payload(name, &url, got, pick(response))
}

/// Sends `call`, which is answered without a body (`200` or `202`).
pub(crate) async fn execute<A: Api>(
    shared: &Shared,
    endpoints: &Endpoints,
    call: A::Call,
) -> Result<(), Error> {
    send(shared, endpoints, A::call_name(&call), &call).await?;
    Ok(())
}

/// POSTs `call` (named `name`) to the leading master (or the agent).
pub(crate) async fn send<C: WireMessage>(
    shared: &Shared,
    endpoints: &Endpoints,
    name: &'static str,
    call: &C,
) -> Result<(Uri, CallResponse), Error> {
    tracing::trace!(call = name, "operator call");
    endpoints
        .exchange(shared, name, |url| {
            let http = &shared.http;
            async move { http.call(&url, call, None).await }
        })
        .await
}

/// Decodes the body of `response` (from `url`) as the response message `R`.
pub(crate) fn decode<R: WireMessage>(
    shared: &Shared,
    name: &'static str,
    url: &Uri,
    response: &CallResponse,
) -> Result<R, Error> {
    if response.body.is_empty() {
        return Err(Error::UnexpectedResponse {
            call: name,
            endpoint: mesos_http::redact_url(url),
            detail: format!("{} with an empty body", response.status),
        });
    }
    response
        .decode(shared.media)
        .map_err(|source| Error::Decode {
            call: name,
            endpoint: mesos_http::redact_url(url),
            source,
        })
}

/// Checks that a decoded response is of type `got` (by name, as master and
/// agent responses name their types after the calls) and carries its
/// payload.
pub(crate) fn payload<R>(
    name: &'static str,
    url: &Uri,
    got: &'static str,
    payload: Option<R>,
) -> Result<R, Error> {
    if got != name {
        return Err(Error::UnexpectedResponse {
            call: name,
            endpoint: mesos_http::redact_url(url),
            detail: format!("a response of type {got}"),
        });
    }
    payload.ok_or_else(|| Error::UnexpectedResponse {
        call: name,
        endpoint: mesos_http::redact_url(url),
        detail: format!("a {got} response without its payload"),
    })
}

/// A `Duration` as Mesos's `DurationInfo` (saturating at `i64::MAX` ns,
/// about 292 years).
pub(crate) fn duration_info(duration: Duration) -> DurationInfo {
    DurationInfo {
        nanoseconds: i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX),
    }
}
