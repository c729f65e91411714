//! RESERVE_RESOURCES and UNRESERVE_RESOURCES: dynamic reservations made by
//! the operator on an agent's total, as Mesos 1.11's master applies them
//! (`Master::Http::_reserve`, `_unreserve`, `_operation`): offers holding
//! what the operation needs are rescinded first, the agent's available
//! resources must contain what it consumes (`409 Conflict` otherwise), and
//! the allocator then offers reserved resources to their role only.
//!
//! Differences from a real master (documented choices): only the checks
//! below are made (no authorization, no principal checks against the
//! reservations, no reservation refinement rules beyond "the last
//! reservation is dynamic").

use http::{Response, StatusCode};
use mesos_http::server::{self, Body};
use mesos_proto::resources::Resources;
use mesos_proto::v1::master::call::{ReserveResources, UnreserveResources};
use mesos_proto::v1::resource::reservation_info::Type as ReservationType;
use mesos_proto::v1::resource::ReservationInfo;
use mesos_proto::v1::Resource;

use crate::master::state::{flat, Effects, State};

/// The operation, as the checks name it.
#[derive(Clone, Copy)]
enum Operation {
    Reserve,
    Unreserve,
}

impl Operation {
    fn name(self) -> &'static str {
        match self {
            Operation::Reserve => "RESERVE",
            Operation::Unreserve => "UNRESERVE",
        }
    }
}

/// Resources in the post-refinement format: a legacy `role` (with its
/// `reservation`) becomes the `reservations` stack, as Mesos's
/// `validateAndUpgradeResources` does.
#[allow(deprecated)]
fn upgraded(resources: &[Resource]) -> Vec<Resource> {
    resources
        .iter()
        .cloned()
        .map(|mut r| {
            let role = r.role.take().filter(|role| role != "*");
            let legacy = r.reservation.take();
            if r.reservations.is_empty() {
                if let Some(role) = role {
                    let dynamic = legacy.is_some();
                    let mut info = legacy.unwrap_or_default();
                    info.r#type = Some(if dynamic {
                        ReservationType::Dynamic as i32
                    } else {
                        ReservationType::Static as i32
                    });
                    info.role = Some(role);
                    r.reservations.push(info);
                }
            }
            r
        })
        .collect()
}

fn is_dynamic(reservation: Option<&ReservationInfo>) -> bool {
    reservation.is_some_and(|r| r.r#type == Some(ReservationType::Dynamic as i32))
}

/// `resources` with their last reservation popped.
fn popped(resources: &[Resource]) -> Vec<Resource> {
    resources
        .iter()
        .cloned()
        .map(|mut r| {
            r.reservations.pop();
            r
        })
        .collect()
}

/// RESERVE_RESOURCES.
pub(super) fn reserve(
    state: &mut State,
    fx: &mut Effects,
    call: ReserveResources,
) -> Response<Body> {
    let resources = upgraded(&call.resources);
    let consumed = if call.source.is_empty() {
        popped(&resources)
    } else {
        upgraded(&call.source)
    };
    apply(
        state,
        fx,
        Operation::Reserve,
        &call.agent_id.value,
        &resources,
        consumed,
        resources.clone(),
    )
}

/// UNRESERVE_RESOURCES.
pub(super) fn unreserve(
    state: &mut State,
    fx: &mut Effects,
    call: UnreserveResources,
) -> Response<Body> {
    let resources = upgraded(&call.resources);
    let converted = popped(&resources);
    apply(
        state,
        fx,
        Operation::Unreserve,
        &call.agent_id.value,
        &resources,
        resources.clone(),
        converted,
    )
}

/// Checks the operation, then replaces `consumed` by `converted` in the
/// agent's total.
fn apply(
    state: &mut State,
    fx: &mut Effects,
    operation: Operation,
    agent_id: &str,
    resources: &[Resource],
    consumed: Vec<Resource>,
    converted: Vec<Resource>,
) -> Response<Body> {
    let Some(agent) = state.agent(agent_id) else {
        return server::text_response(StatusCode::BAD_REQUEST, "No agent found with specified ID");
    };
    let describe = format!(
        "{} at {} ({})",
        agent.id, agent.link.pid, agent.link.info.hostname
    );
    if let Some(resource) = resources
        .iter()
        .find(|r| !is_dynamic(r.reservations.last()))
    {
        let resource: Resources = flat(std::slice::from_ref(resource));
        return server::text_response(
            StatusCode::BAD_REQUEST,
            format!(
                "Invalid {} operation on agent {describe}: Resource {resource} is not dynamically reserved",
                operation.name()
            ),
        );
    }
    let consumed = flat(&consumed);
    let converted = flat(&converted);
    // Offers holding what is needed go back first.
    let names: Vec<String> = consumed.names().into_iter().map(str::to_string).collect();
    let rescinded = state.remove_offers_where(true, |offer| {
        offer.agent_id == agent_id
            && offer
                .resources
                .names()
                .iter()
                .any(|n| names.iter().any(|m| m == n))
    });
    if rescinded > 0 {
        tracing::debug!(
            agent_id,
            rescinded,
            "offers rescinded for an operator operation"
        );
    }
    let used = state.used_on(agent_id);
    let Some(agent) = state.agents.get_mut(agent_id) else {
        return server::text_response(StatusCode::BAD_REQUEST, "No agent found with specified ID");
    };
    let mut available = agent.total.clone();
    available -= &used;
    if !available.contains(&consumed) {
        return server::text_response(
            StatusCode::CONFLICT,
            format!("{available} does not contain {consumed}"),
        );
    }
    let mut total = agent.total.clone();
    total -= &consumed;
    total += &converted;
    tracing::info!(
        agent_id,
        operation = operation.name(),
        resources = %converted,
        "operator operation applied"
    );
    agent.total = total;
    fx.allocate = true;
    server::empty_response(StatusCode::ACCEPTED)
}
