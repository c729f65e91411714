//! The operator API's views of the master's [`State`]: GET_STATE and its
//! parts (GET_AGENTS, GET_FRAMEWORKS, GET_EXECUTORS, GET_TASKS), GET_ROLES,
//! GET_MASTER, GET_FLAGS, GET_METRICS, GET_VERSION, built from the same
//! model `/master/state` is written from, in the shapes of Mesos 1.11's
//! answers (legacy `role: "*"` on an agent's unreserved total, allocation
//! info on what is allocated or offered).

use std::collections::BTreeMap;
use std::sync::Arc;

use mesos_proto::resources::Resources;
use mesos_proto::v1::agent_info::capability::Type as AgentCapability;
use mesos_proto::v1::agent_info::Capability;
use mesos_proto::v1::master::response::{
    get_agents, get_executors, get_frameworks, GetAgents, GetExecutors, GetFlags, GetFrameworks,
    GetMaster, GetMetrics, GetRoles, GetState, GetTasks, GetVersion,
};
use mesos_proto::v1::resource::reservation_info::Type as ReservationType;
use mesos_proto::v1::resource::{AllocationInfo, ReservationInfo};
use mesos_proto::v1::{
    AgentId, ExecutorId, Flag, FrameworkId, FrameworkInfo, Metric, Resource, Role, TaskInfo,
    TaskState, TaskStatus, TimeInfo, VersionInfo,
};

use crate::master::allocator::offer_proto;
use crate::master::ids::MESOS_VERSION;
use crate::master::state::{AgentSlot, Framework, State, Task};

/// The capabilities a Mesos 1.11 agent reports.
const AGENT_CAPABILITIES: [AgentCapability; 8] = [
    AgentCapability::MultiRole,
    AgentCapability::HierarchicalRole,
    AgentCapability::ReservationRefinement,
    AgentCapability::ResourceProvider,
    AgentCapability::ResizeVolume,
    AgentCapability::AgentOperationFeedback,
    AgentCapability::AgentDraining,
    AgentCapability::TaskResourceLimits,
];

/// Seconds since the epoch as a `TimeInfo`.
pub(crate) fn time_info(seconds: f64) -> TimeInfo {
    TimeInfo {
        nanoseconds: (seconds * 1e9) as i64,
    }
}

/// Resources with their legacy fields set too, as the real master writes
/// an agent's total (and what is allocated on it): `role: "*"` when
/// unreserved; the role and (for a dynamic reservation) `reservation` of a
/// single reservation.
#[allow(deprecated)]
fn with_legacy_role(resources: impl IntoIterator<Item = Resource>) -> Vec<Resource> {
    resources
        .into_iter()
        .map(|mut r| {
            match r.reservations.as_slice() {
                [] if r.role.is_none() => r.role = Some("*".to_string()),
                [only] => {
                    r.role = only.role.clone();
                    if only.r#type == Some(ReservationType::Dynamic as i32) {
                        r.reservation = Some(ReservationInfo {
                            principal: only.principal.clone(),
                            labels: only.labels.clone(),
                            ..ReservationInfo::default()
                        });
                    }
                }
                _ => {}
            }
            r
        })
        .collect()
}

/// Resources allocated to `role`.
fn allocated_to(resources: &Resources, role: &str) -> Vec<Resource> {
    resources
        .iter()
        .cloned()
        .map(|mut r| {
            r.allocation_info = Some(AllocationInfo {
                role: Some(role.to_string()),
            });
            r
        })
        .collect()
}

/// A `mesos.v1.Task` from what its TaskInfo says (name, id, labels,
/// discovery, container, health check, kill policy, user), its `state` and
/// `statuses`, with the status update stream's position: the latest update
/// from the agent (the master's own, such as TASK_KILLED on removal, have
/// no uuid). The ids of its framework, executor and agent and its
/// resources are the caller's.
pub(crate) fn task_from_info(
    info: &TaskInfo,
    state: TaskState,
    statuses: &[Arc<TaskStatus>],
) -> mesos_proto::v1::Task {
    let latest = statuses
        .iter()
        .rev()
        .find(|s| s.uuid.is_some())
        .or(statuses.last());
    mesos_proto::v1::Task {
        name: info.name.clone(),
        task_id: info.task_id.clone(),
        state: state as i32,
        statuses: statuses.iter().map(|s| TaskStatus::clone(s)).collect(),
        status_update_state: latest.map(|s| s.state),
        status_update_uuid: latest.and_then(|s| s.uuid.clone()),
        labels: info.labels.clone(),
        discovery: info.discovery.as_deref().cloned(),
        container: info.container.as_deref().cloned(),
        health_check: info.health_check.as_deref().cloned(),
        kill_policy: info.kill_policy,
        user: info.command.as_ref().and_then(|c| c.user.clone()),
        ..Default::default()
    }
}

/// A task as `mesos.v1.Task` (what GET_TASKS and TASK_ADDED carry).
pub(crate) fn task_proto(task: &Task) -> mesos_proto::v1::Task {
    mesos_proto::v1::Task {
        framework_id: FrameworkId {
            value: task.framework_id.clone(),
        },
        executor_id: task.executor_id.clone().map(|value| ExecutorId { value }),
        agent_id: AgentId {
            value: task.agent_id.clone(),
        },
        resources: allocated_to(&task.resources(), &task.role),
        ..task_from_info(&task.info, task.state, &task.statuses)
    }
}

/// What a framework has allocated: its tasks' and executors' resources,
/// each with its role.
fn framework_allocated(framework: &Framework) -> Vec<Resource> {
    let default_role = framework.roles().into_iter().next().unwrap_or_default();
    let mut by_role: BTreeMap<String, Resources> = BTreeMap::new();
    for task in framework.holdings.tasks().values() {
        *by_role.entry(task.role.clone()).or_default() += &task.resources();
    }
    for executor in framework.holdings.executors().values() {
        let role = executor
            .info
            .resources
            .iter()
            .find_map(|r| r.allocation_info.as_ref().and_then(|a| a.role.clone()))
            .unwrap_or_else(|| default_role.clone());
        *by_role.entry(role).or_default() += &executor.resources;
    }
    by_role
        .iter()
        .flat_map(|(role, resources)| with_legacy_role(allocated_to(resources, role)))
        .collect()
}

/// One framework as GET_FRAMEWORKS shows it, or (`event`) as
/// FRAMEWORK_ADDED/UPDATED do: the real master's events carry an
/// `unregistered_time` and no `offer_constraints`.
pub(crate) fn framework_proto(
    state: &State,
    framework: &Framework,
    event: bool,
) -> get_frameworks::Framework {
    let mut info = FrameworkInfo::clone(&framework.info);
    info.id = Some(framework.framework_id());
    let mut offers = Vec::new();
    let mut offered = Vec::new();
    for offer in state
        .offers
        .values()
        .filter(|o| o.framework_id == framework.id)
    {
        if let Some(agent) = state.agent(&offer.agent_id) {
            offers.push(offer_proto(offer, agent, framework));
        }
        offered.extend(with_legacy_role(allocated_to(
            &offer.resources,
            &offer.role,
        )));
    }
    get_frameworks::Framework {
        framework_info: info,
        active: framework.active,
        connected: framework.connected(),
        recovered: false,
        registered_time: Some(time_info(framework.registered_time)),
        reregistered_time: Some(time_info(
            framework
                .reregistered_time
                .unwrap_or(framework.registered_time),
        )),
        unregistered_time: framework
            .unregistered_time
            .or(event.then_some(framework.registered_time))
            .map(time_info),
        offers,
        inverse_offers: Vec::new(),
        allocated_resources: framework_allocated(framework),
        offered_resources: offered,
        offer_constraints: (!event).then(Default::default),
    }
}

/// One agent as GET_AGENTS and AGENT_ADDED show it.
pub(crate) fn agent_proto(state: &State, agent: &AgentSlot) -> get_agents::Agent {
    let mut allocated = Vec::new();
    for framework in state.frameworks.values() {
        allocated.extend(
            framework_allocated_on(framework, &agent.id)
                .into_iter()
                .flat_map(|(role, r)| with_legacy_role(allocated_to(&r, &role))),
        );
    }
    let offered: Vec<Resource> = state
        .offers
        .values()
        .filter(|o| o.agent_id == agent.id)
        .flat_map(|o| with_legacy_role(allocated_to(&o.resources, &o.role)))
        .collect();
    let info = agent.link.info.clone();
    get_agents::Agent {
        agent_info: info,
        active: true,
        deactivated: Some(false),
        version: MESOS_VERSION.to_string(),
        pid: Some(agent.link.pid.clone()),
        registered_time: Some(time_info(agent.registered_time)),
        reregistered_time: None,
        total_resources: with_legacy_role(agent.total.iter().cloned()),
        allocated_resources: allocated,
        offered_resources: offered,
        capabilities: AGENT_CAPABILITIES
            .iter()
            .map(|c| Capability {
                r#type: Some(*c as i32),
            })
            .collect(),
        resource_providers: Vec::new(),
        drain_info: None,
        estimated_drain_start_time: None,
    }
}

/// A framework's resources in use on one agent, by role.
fn framework_allocated_on(framework: &Framework, agent_id: &str) -> BTreeMap<String, Resources> {
    let mut by_role: BTreeMap<String, Resources> = BTreeMap::new();
    for task in framework
        .holdings
        .tasks()
        .values()
        .filter(|t| t.agent_id == agent_id)
    {
        *by_role.entry(task.role.clone()).or_default() += &task.resources();
    }
    let default_role = framework.roles().into_iter().next().unwrap_or_default();
    for executor in framework
        .holdings
        .executors()
        .values()
        .filter(|e| e.agent_id == agent_id)
    {
        *by_role.entry(default_role.clone()).or_default() += &executor.resources;
    }
    by_role
}

pub(crate) fn get_agents(state: &State) -> GetAgents {
    GetAgents {
        agents: state.agents.iter().map(|a| agent_proto(state, a)).collect(),
        recovered_agents: Vec::new(),
    }
}

pub(crate) fn get_frameworks(state: &State) -> GetFrameworks {
    #[allow(deprecated)]
    GetFrameworks {
        frameworks: state
            .frameworks
            .values()
            .map(|f| framework_proto(state, f, false))
            .collect(),
        completed_frameworks: state
            .completed_frameworks
            .iter()
            .map(|f| framework_proto(state, f, false))
            .collect(),
        recovered_frameworks: Vec::new(),
    }
}

pub(crate) fn get_executors(state: &State) -> GetExecutors {
    #[allow(deprecated)]
    GetExecutors {
        executors: state
            .frameworks
            .values()
            .flat_map(|f| f.holdings.executors().values())
            .map(|e| get_executors::Executor {
                executor_info: e.info.clone(),
                agent_id: AgentId {
                    value: e.agent_id.clone(),
                },
            })
            .collect(),
        orphan_executors: Vec::new(),
    }
}

/// GET_TASKS. Without `completed_frameworks` the tasks of removed
/// frameworks are left out, as Mesos 1.11 does in its protobuf answers
/// (its `serializeGetTasks` keeps a completed framework only when the
/// caller may *not* view it: without an authorizer, never).
pub(crate) fn get_tasks(state: &State, completed_frameworks: bool) -> GetTasks {
    let completed = state
        .completed_frameworks
        .iter()
        .filter(|_| completed_frameworks);
    let frameworks = || state.frameworks.values().chain(completed.clone());
    #[allow(deprecated)]
    GetTasks {
        pending_tasks: Vec::new(),
        tasks: frameworks()
            .flat_map(|f| f.holdings.tasks().values())
            .map(|t| task_proto(t))
            .collect(),
        unreachable_tasks: Vec::new(),
        completed_tasks: frameworks()
            .flat_map(|f| f.completed_tasks.iter())
            .map(task_proto)
            .collect(),
        orphan_tasks: Vec::new(),
    }
}

/// GET_STATE (`completed_frameworks`: see [`get_tasks`]).
pub(crate) fn get_state(state: &State, completed_frameworks: bool) -> GetState {
    GetState {
        get_tasks: Some(get_tasks(state, completed_frameworks)),
        get_executors: Some(get_executors(state)),
        get_frameworks: Some(get_frameworks(state)),
        get_agents: Some(get_agents(state)),
    }
}

/// The roles with frameworks subscribed to them or reservations on an
/// agent (the real master also lists roles with weights or quota;
/// mesos-local has none).
pub(crate) fn get_roles(state: &State) -> GetRoles {
    let mut roles: BTreeMap<String, (Vec<FrameworkId>, Resources)> = BTreeMap::new();
    for agent in &state.agents {
        for resource in agent.total.iter() {
            if let Some(role) = mesos_proto::resources::reservation_role(resource) {
                roles.entry(role.to_string()).or_default();
            }
        }
    }
    for framework in state.frameworks.values() {
        for role in framework.roles() {
            roles
                .entry(role)
                .or_default()
                .0
                .push(framework.framework_id());
        }
        for (role, resources) in state
            .agents
            .iter()
            .flat_map(|a| framework_allocated_on(framework, &a.id))
        {
            roles.entry(role).or_default().1 += &resources;
        }
    }
    GetRoles {
        roles: roles
            .into_iter()
            .map(|(name, (frameworks, resources))| Role {
                name,
                weight: 1.0,
                frameworks,
                resources: resources.into_vec(),
            })
            .collect(),
    }
}

pub(crate) fn get_master(state: &State) -> GetMaster {
    GetMaster {
        master_info: Some(state.master_info.clone()),
        start_time: Some(state.start_time),
        elected_time: Some(state.start_time),
    }
}

/// The flags `/master/state` shows, as GET_FLAGS's name/value pairs.
pub(crate) fn get_flags(state: &State) -> GetFlags {
    let flags = crate::master::state_json::flags_json(state)
        .as_object()
        .map(|flags| {
            flags
                .iter()
                .map(|(name, value)| Flag {
                    name: name.clone(),
                    value: Some(
                        value
                            .as_str()
                            .map_or_else(|| value.to_string(), str::to_string),
                    ),
                })
                .collect()
        })
        .unwrap_or_default();
    GetFlags { flags }
}

/// `/metrics/snapshot` as GET_METRICS's name/value pairs.
pub(crate) fn get_metrics(snapshot: &serde_json::Value) -> GetMetrics {
    let metrics = snapshot
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(name, value)| Metric {
                    name: name.clone(),
                    value: value.as_f64(),
                })
                .collect()
        })
        .unwrap_or_default();
    GetMetrics { metrics }
}

pub(crate) fn get_version() -> GetVersion {
    GetVersion {
        version_info: version_info(),
    }
}

/// What mesos-local says of its version (masters and agents alike).
pub(crate) fn version_info() -> VersionInfo {
    let json = crate::master::state_json::version_json();
    VersionInfo {
        version: MESOS_VERSION.to_string(),
        build_time: json["build_time"].as_f64(),
        build_user: json["build_user"].as_str().map(str::to_string),
        build_date: json["build_time"].as_f64().map(utc_date),
        git_tag: Some(MESOS_VERSION.to_string()),
        ..Default::default()
    }
}

/// Seconds since the epoch as `YYYY-MM-DD HH:MM:SS` (UTC), the format of
/// Mesos's `build_date`.
fn utc_date(seconds: f64) -> String {
    let seconds = seconds.max(0.0) as i64;
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::utc_date;

    #[test]
    fn build_dates_are_written_as_mesos_writes_them() {
        assert_eq!(utc_date(1_606_232_317.0), "2020-11-24 15:38:37");
        assert_eq!(utc_date(0.0), "1970-01-01 00:00:00");
        assert_eq!(utc_date(951_782_400.0), "2000-02-29 00:00:00");
    }
}
