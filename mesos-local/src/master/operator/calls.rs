//! The operator calls mesos-local answers, each applied to the master's
//! state under its lock; everything else is `501 Not Implemented`.

use std::sync::Arc;

use http::{Response, StatusCode};
use mesos_http::server::{self, Body};
use mesos_proto::v1::master::call::Type as CallType;
use mesos_proto::v1::master::response::{GetHealth, GetOperations, Type as ResponseType};
use mesos_proto::v1::master::{Call, Response as OperatorResponse};
use mesos_proto::MediaType;

use super::{reservations, state, subscribe};
use crate::master::state::State;
use crate::master::{agents, scheduler, Core};
use crate::protocol::ToAgent;

/// Answers a validated call.
pub(super) fn handle(
    core: &Arc<Core>,
    kind: CallType,
    call: Call,
    media: MediaType,
) -> Response<Body> {
    let respond = |kind: ResponseType, fill: &dyn Fn(&mut OperatorResponse)| {
        let mut response = OperatorResponse {
            r#type: Some(kind as i32),
            ..OperatorResponse::default()
        };
        fill(&mut response);
        server::message_response(media, &response)
    };
    match kind {
        CallType::GetHealth => respond(ResponseType::GetHealth, &|r| {
            r.get_health = Some(GetHealth { healthy: true });
        }),
        CallType::GetVersion => respond(ResponseType::GetVersion, &|r| {
            r.get_version = Some(state::get_version());
        }),
        CallType::GetMetrics => {
            let metrics = state::get_metrics(&core.metrics_snapshot());
            respond(ResponseType::GetMetrics, &|r| {
                r.get_metrics = Some(metrics.clone());
            })
        }
        CallType::GetFlags
        | CallType::GetMaster
        | CallType::GetState
        | CallType::GetAgents
        | CallType::GetFrameworks
        | CallType::GetExecutors
        | CallType::GetTasks
        | CallType::GetRoles
        | CallType::GetOperations => {
            let response = core.run(|state, _| read_only(state, kind, media));
            server::message_response(media, &response)
        }
        CallType::Subscribe => {
            let subscribed = core.run(|state, _| {
                subscribe::subscribe(state).map(|stream| (stream, state.heartbeat_interval))
            });
            let Some(((tx, rx), interval)) = subscribed else {
                return server::text_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Too many operator subscriptions; retry later",
                );
            };
            core.runtime
                .spawn(subscribe::heartbeat(Arc::clone(core), tx, interval));
            server::event_stream_response(media, None, rx.into_stream())
        }
        CallType::Teardown => {
            let framework_id = call.teardown.unwrap_or_default().framework_id.value;
            core.run(|state, fx| {
                if !state.frameworks.contains_key(&framework_id) {
                    return server::text_response(
                        StatusCode::BAD_REQUEST,
                        "No framework found with specified ID",
                    );
                }
                tracing::info!(%framework_id, "framework torn down by the operator");
                scheduler::remove_framework(state, fx, &framework_id);
                server::empty_response(StatusCode::OK)
            })
        }
        CallType::MarkAgentGone => {
            let agent_id = call.mark_agent_gone.unwrap_or_default().agent_id;
            core.run(|state, fx| {
                if state.removed_agents.iter().any(|a| a.id == agent_id.value) {
                    return server::empty_response(StatusCode::OK);
                }
                if state.agent(&agent_id.value).is_none() {
                    return server::text_response(
                        StatusCode::NOT_FOUND,
                        format!("Agent '{}' not found", agent_id.value),
                    );
                }
                tracing::info!(agent_id = %agent_id.value, "agent marked gone by the operator");
                // The real master shuts the agent down: its executors go.
                for framework_id in state.frameworks.values().map(|f| f.framework_id()) {
                    state.send_to_agent(
                        &agent_id.value,
                        ToAgent::ShutdownFramework { framework_id },
                    );
                }
                agents::remove_agent_as(state, fx, &agent_id, agents::Removal::MarkedGone);
                server::empty_response(StatusCode::OK)
            })
        }
        CallType::ReserveResources => {
            let reserve = call.reserve_resources.unwrap_or_default();
            core.run(|state, fx| reservations::reserve(state, fx, reserve))
        }
        CallType::UnreserveResources => {
            let unreserve = call.unreserve_resources.unwrap_or_default();
            core.run(|state, fx| reservations::unreserve(state, fx, unreserve))
        }
        CallType::Unknown => {
            server::text_response(StatusCode::NOT_IMPLEMENTED, "501 Not Implemented.")
        }
        other => server::text_response(
            StatusCode::NOT_IMPLEMENTED,
            format!("{} is not implemented by mesos-local", other.as_str_name()),
        ),
    }
}

/// The answers that only read the state.
fn read_only(state: &State, kind: CallType, media: MediaType) -> OperatorResponse {
    let completed_frameworks = media == MediaType::Json;
    let mut response = OperatorResponse::default();
    let kind = match kind {
        CallType::GetFlags => {
            response.get_flags = Some(state::get_flags(state));
            ResponseType::GetFlags
        }
        CallType::GetMaster => {
            response.get_master = Some(state::get_master(state));
            ResponseType::GetMaster
        }
        CallType::GetState => {
            response.get_state = Some(state::get_state(state, completed_frameworks));
            ResponseType::GetState
        }
        CallType::GetAgents => {
            response.get_agents = Some(state::get_agents(state));
            ResponseType::GetAgents
        }
        CallType::GetFrameworks => {
            response.get_frameworks = Some(state::get_frameworks(state));
            ResponseType::GetFrameworks
        }
        CallType::GetExecutors => {
            response.get_executors = Some(state::get_executors(state));
            ResponseType::GetExecutors
        }
        CallType::GetTasks => {
            response.get_tasks = Some(state::get_tasks(state, completed_frameworks));
            ResponseType::GetTasks
        }
        CallType::GetRoles => {
            response.get_roles = Some(state::get_roles(state));
            ResponseType::GetRoles
        }
        _ => {
            response.get_operations = Some(GetOperations::default());
            ResponseType::GetOperations
        }
    };
    response.r#type = Some(kind as i32);
    response
}
