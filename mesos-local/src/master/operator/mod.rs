//! The master's v1 operator API (`POST /api/v1`, `/master/api/v1`), as
//! Mesos 1.11's master answers it: the same checks in the same order
//! (authentication, recovery, method, `Content-Type`, decoding, call
//! validation, `Accept`), JSON answers unless the client accepts only
//! protobuf, and the calls mesos-local models:
//!
//! - GET_HEALTH, GET_VERSION, GET_FLAGS, GET_MASTER, GET_METRICS,
//!   GET_STATE, GET_AGENTS, GET_FRAMEWORKS, GET_EXECUTORS, GET_TASKS,
//!   GET_ROLES, GET_OPERATIONS (built from the master's state by
//!   [`state`]);
//! - SUBSCRIBE (a RecordIO stream, see [`subscribe`]);
//! - TEARDOWN and MARK_AGENT_GONE;
//! - RESERVE_RESOURCES and UNRESERVE_RESOURCES (see [`reservations`]).
//!
//! Any other call answers `501 Not Implemented` naming the call (the real
//! master implements them all; mesos-local does not model quota,
//! maintenance, volumes, weights, logging levels or files on the master).
//!
//! Observed and kept as the real master does: protobuf answers to
//! GET_TASKS and GET_STATE leave out the tasks of removed frameworks (JSON
//! ones list them), FRAMEWORK_ADDED/UPDATED carry an `unregistered_time`
//! and no `offer_constraints`, a TEARDOWN answers `200` with no body.
//! Differences (documented choices): TASK_UPDATED's `state` is the
//! update's own (the real master's is the agent's latest state when the
//! update left it, which may already be later); at most
//! [`MAX_SUBSCRIBERS`](subscribe::MAX_SUBSCRIBERS) subscriptions at once
//! (`503` beyond); the operator API authenticates with the framework
//! credentials when they are set (the real master has separate
//! `--authenticate_http_readonly/readwrite` flags).

mod calls;
mod reservations;
pub(crate) mod state;
pub(crate) mod subscribe;

use std::sync::Arc;

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use mesos_http::server::{self, Body};
use mesos_proto::v1::master::call::Type as CallType;
use mesos_proto::v1::master::Call;
use mesos_proto::MediaType;

use super::Core;

/// Answers a request to the operator API (after the leader check).
pub(crate) async fn api(core: Arc<Core>, request: Request<Incoming>) -> Response<Body> {
    if let Some(credentials) = &core.credentials {
        if let Err(response) = credentials.authenticate(request.headers()) {
            return response;
        }
    }
    if !core.recovered.load(std::sync::atomic::Ordering::Acquire) {
        return server::text_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "Master has not finished recovery",
        );
    }
    if request.method() != http::Method::POST {
        return super::http::method_not_allowed(request.method());
    }
    let (_, parts, call) = match core.reader.read_any_accept::<Call>(request).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let kind = match validate(&call) {
        Ok(kind) => kind,
        Err(message) => {
            return server::text_response(
                StatusCode::BAD_REQUEST,
                format!("Failed to validate master::Call: {message}"),
            )
        }
    };
    let Some(media) = response_media(&parts.headers) else {
        return server::text_response(
            StatusCode::NOT_ACCEPTABLE,
            format!(
                "Expecting 'Accept' to allow '{}' or '{}'",
                MediaType::Protobuf.mime(),
                MediaType::Json.mime()
            ),
        );
    };
    tracing::debug!(call = kind.as_str_name(), "operator call");
    calls::handle(&core, kind, call, media)
}

/// The answer's media type as the real master picks it: JSON whenever
/// `Accept` allows it (or is absent), else protobuf if allowed; `None`:
/// `406`.
pub(crate) fn response_media(headers: &http::HeaderMap) -> Option<MediaType> {
    match mesos_http::headers::accept(headers) {
        Ok(None) => Some(MediaType::Json),
        Err(()) => None,
        Ok(Some(_)) => {
            let allows_json = headers
                .get_all(http::header::ACCEPT)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|item| item.split(';').next())
                .any(|essence| MediaType::from_mime(essence.trim()) == Some(MediaType::Json));
            Some(if allows_json {
                MediaType::Json
            } else {
                MediaType::Protobuf
            })
        }
    }
}

/// `validation::master::call::validate` of Mesos 1.11: a type, the calls
/// that take arguments carry their message, and the resources of
/// RESERVE/UNRESERVE are valid.
#[allow(deprecated)] // SET_QUOTA and REMOVE_QUOTA are still calls.
fn validate(call: &Call) -> Result<CallType, String> {
    let Some(kind) = call.r#type.and_then(|t| CallType::try_from(t).ok()) else {
        return Err("Expecting 'type' to be present".to_string());
    };
    let present = match kind {
        CallType::GetMetrics => call.get_metrics.is_some(),
        CallType::SetLoggingLevel => call.set_logging_level.is_some(),
        CallType::ListFiles => call.list_files.is_some(),
        CallType::ReadFile => call.read_file.is_some(),
        CallType::UpdateWeights => call.update_weights.is_some(),
        CallType::ReserveResources => call.reserve_resources.is_some(),
        CallType::UnreserveResources => call.unreserve_resources.is_some(),
        CallType::CreateVolumes => call.create_volumes.is_some(),
        CallType::DestroyVolumes => call.destroy_volumes.is_some(),
        CallType::GrowVolume => call.grow_volume.is_some(),
        CallType::ShrinkVolume => call.shrink_volume.is_some(),
        CallType::UpdateMaintenanceSchedule => call.update_maintenance_schedule.is_some(),
        CallType::StartMaintenance => call.start_maintenance.is_some(),
        CallType::StopMaintenance => call.stop_maintenance.is_some(),
        CallType::DrainAgent => call.drain_agent.is_some(),
        CallType::DeactivateAgent => call.deactivate_agent.is_some(),
        CallType::ReactivateAgent => call.reactivate_agent.is_some(),
        CallType::UpdateQuota => call.update_quota.is_some(),
        CallType::SetQuota => call.set_quota.is_some(),
        CallType::RemoveQuota => call.remove_quota.is_some(),
        CallType::Teardown => call.teardown.is_some(),
        CallType::MarkAgentGone => call.mark_agent_gone.is_some(),
        _ => true,
    };
    if !present {
        return Err(format!(
            "Expecting '{}' to be present",
            kind.as_str_name().to_ascii_lowercase()
        ));
    }
    let resources = match kind {
        CallType::ReserveResources => call.reserve_resources.as_ref().map(|r| &r.resources),
        CallType::UnreserveResources => call.unreserve_resources.as_ref().map(|r| &r.resources),
        _ => None,
    };
    for resource in resources.into_iter().flatten() {
        mesos_proto::resources::validate(resource).map_err(|e| e.to_string())?;
    }
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_missing_message() {
        let call = |kind: CallType| Call {
            r#type: Some(kind as i32),
            ..Call::default()
        };
        assert_eq!(
            validate(&call(CallType::GetMetrics)),
            Err("Expecting 'get_metrics' to be present".to_string())
        );
        assert_eq!(
            validate(&call(CallType::MarkAgentGone)),
            Err("Expecting 'mark_agent_gone' to be present".to_string())
        );
        assert_eq!(validate(&call(CallType::GetState)), Ok(CallType::GetState));
        assert_eq!(
            validate(&Call::default()),
            Err("Expecting 'type' to be present".to_string())
        );
    }

    #[test]
    fn json_is_preferred_whenever_accepted() {
        let headers = |accept: &'static str| {
            let mut h = http::HeaderMap::new();
            h.insert(http::header::ACCEPT, http::HeaderValue::from_static(accept));
            h
        };
        assert_eq!(
            response_media(&http::HeaderMap::new()),
            Some(MediaType::Json)
        );
        assert_eq!(
            response_media(&headers("application/x-protobuf")),
            Some(MediaType::Protobuf)
        );
        assert_eq!(
            response_media(&headers("application/x-protobuf, application/json")),
            Some(MediaType::Json)
        );
        assert_eq!(response_media(&headers("text/plain")), None);
    }
}
