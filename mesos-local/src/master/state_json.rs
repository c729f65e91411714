//! `GET /master/state`: the real master's JSON for what we model (field
//! names and shapes of Mesos 1.11's `/master/state`).

use mesos_proto::resources::Resources;
use mesos_proto::v1::value::Type as ValueType;
use mesos_proto::v1::{executor_info, Attribute, CommandInfo, ContainerStatus, TaskStatus};
use serde_json::{json, Map, Value};

use super::ids::{self, MASTER_HOSTNAME, MESOS_VERSION};
use super::state::{AgentSlot, Executor, Framework, State, Task};

/// Resources as the state endpoints show them: scalars by name (cpus, mem,
/// disk and gpus always present), ranges as `"[31000-32000]"`, sets as
/// `"{a, b}"`.
pub(crate) fn resources_json(resources: &Resources) -> Value {
    let mut map = Map::new();
    for name in ["disk", "mem", "gpus", "cpus"] {
        map.insert(name.to_string(), json!(0.0));
    }
    for name in resources.names() {
        let Some(first) = resources.iter().find(|r| r.name == name) else {
            continue;
        };
        let value = match ValueType::try_from(first.r#type) {
            Ok(ValueType::Scalar) => json!(resources.scalar(name).unwrap_or(0.0)),
            Ok(ValueType::Ranges) => {
                let ranges: Vec<String> = resources
                    .ranges(name)
                    .iter()
                    .map(|(b, e)| format!("{b}-{e}"))
                    .collect();
                json!(format!("[{}]", ranges.join(", ")))
            }
            Ok(ValueType::Set) => json!(format!("{{{}}}", resources.set(name).join(", "))),
            _ => continue,
        };
        map.insert(name.to_string(), value);
    }
    Value::Object(map)
}

fn attributes_json(attributes: &[Attribute]) -> Value {
    let mut map = Map::new();
    for attribute in attributes {
        let value = match ValueType::try_from(attribute.r#type) {
            Ok(ValueType::Scalar) => json!(attribute.scalar.map(|s| s.value).unwrap_or(0.0)),
            Ok(ValueType::Text) => {
                json!(attribute
                    .text
                    .as_ref()
                    .map(|t| t.value.clone())
                    .unwrap_or_default())
            }
            Ok(ValueType::Ranges) => {
                let ranges: Vec<String> = attribute
                    .ranges
                    .iter()
                    .flat_map(|r| r.range.iter())
                    .map(|r| format!("{}-{}", r.begin, r.end))
                    .collect();
                json!(format!("[{}]", ranges.join(", ")))
            }
            Ok(ValueType::Set) => json!(format!(
                "{{{}}}",
                attribute
                    .set
                    .as_ref()
                    .map(|s| s.item.join(", "))
                    .unwrap_or_default()
            )),
            _ => continue,
        };
        map.insert(attribute.name.clone(), value);
    }
    Value::Object(map)
}

fn status_json(status: &TaskStatus) -> Value {
    let mut map = Map::new();
    map.insert("state".into(), json!(status.state().as_str_name()));
    map.insert("timestamp".into(), json!(status.timestamp.unwrap_or(0.0)));
    if let Some(healthy) = status.healthy {
        map.insert("healthy".into(), json!(healthy));
    }
    if let Some(container) = &status.container_status {
        map.insert("container_status".into(), container_status_json(container));
    }
    Value::Object(map)
}

/// A ContainerStatus as the state endpoints show it: its container id,
/// network infos and cgroup info only (no `executor_pid`).
fn container_status_json(status: &ContainerStatus) -> Value {
    let mut map = Map::new();
    if let Some(Ok(id)) = status.container_id.as_ref().map(proto_json) {
        map.insert("container_id".into(), id);
    }
    let networks: Vec<Value> = status
        .network_infos
        .iter()
        .filter_map(|n| proto_json(n).ok())
        .collect();
    if !networks.is_empty() {
        map.insert("network_infos".into(), json!(networks));
    }
    if let Some(Ok(cgroup)) = status.cgroup_info.as_ref().map(proto_json) {
        map.insert("cgroup_info".into(), cgroup);
    }
    Value::Object(map)
}

/// A CommandInfo as the state endpoints show it: `argv` for the
/// arguments, `uris` always (each with `executable`).
fn command_json(command: &CommandInfo) -> Value {
    let mut map = Map::new();
    if let Some(shell) = command.shell {
        map.insert("shell".into(), json!(shell));
    }
    if let Some(value) = &command.value {
        map.insert("value".into(), json!(value));
    }
    map.insert("argv".into(), json!(command.arguments));
    if let Some(Ok(environment)) = command.environment.as_ref().map(proto_json) {
        map.insert("environment".into(), environment);
    }
    let uris: Vec<Value> = command
        .uris
        .iter()
        .map(|u| json!({"value": u.value, "executable": u.executable.unwrap_or(false)}))
        .collect();
    map.insert("uris".into(), json!(uris));
    Value::Object(map)
}

/// An executor of `framework_id` as the state endpoints show it (Mesos's
/// `json(ExecutorInfo)`).
fn executor_json(framework_id: &str, executor: &Executor) -> Value {
    let info = &executor.info;
    let mut value = json!({
        "executor_id": info.executor_id.value,
        "name": info.name.clone().unwrap_or_default(),
        "framework_id": framework_id,
        "slave_id": executor.agent_id,
        "command": command_json(&info.command.clone().unwrap_or_default()),
        "resources": resources_json(&executor.resources),
    });
    let Some(map) = value.as_object_mut() else {
        return value;
    };
    // An executor's resources are all of one role (MESOS-6636).
    if let Some(first) = info.resources.first() {
        let role = first
            .allocation_info
            .as_ref()
            .and_then(|a| a.role.clone())
            .unwrap_or_default();
        map.insert("role".into(), json!(role));
    }
    if let Some(Ok(labels)) = info.labels.as_ref().map(proto_json) {
        map.insert("labels".into(), labels["labels"].clone());
    }
    if let Some(kind) = info
        .r#type
        .and_then(|t| executor_info::Type::try_from(t).ok())
    {
        map.insert("type".into(), json!(kind.as_str_name()));
    }
    value
}

/// A protobuf message as the JSON the codec produces.
fn proto_json<M: mesos_proto::codec::WireMessage>(message: &M) -> Result<Value, ()> {
    let bytes = mesos_proto::MediaType::Json
        .encode(message)
        .map_err(|_| ())?;
    serde_json::from_slice(&bytes).map_err(|_| ())
}

fn task_json(task: &Task) -> Value {
    json!({
        "id": task.info.task_id.value,
        "name": task.info.name,
        "framework_id": task.framework_id,
        "executor_id": task.executor_id.clone().unwrap_or_default(),
        "slave_id": task.agent_id,
        "state": task.state.as_str_name(),
        "resources": resources_json(&task.resources()),
        "role": task.role,
        "statuses": task.statuses.iter().map(|s| status_json(s)).collect::<Vec<_>>(),
    })
}

#[allow(deprecated)]
fn framework_json(state: &State, framework: &Framework) -> Value {
    let used = framework.holdings.used_on(None);
    let offered = state.offered(None, Some(&framework.id));
    let offers: Vec<Value> = state
        .offers
        .values()
        .filter(|o| o.framework_id == framework.id)
        .map(|o| {
            json!({
                "id": o.id,
                "framework_id": o.framework_id,
                "slave_id": o.agent_id,
                "resources": resources_json(&o.resources),
                "allocation_info": {"role": o.role},
            })
        })
        .collect();
    let executors: Vec<Value> = framework
        .holdings
        .executors()
        .values()
        .map(|e| executor_json(&framework.id, e))
        .collect();
    let capabilities: Vec<&str> = framework
        .info
        .capabilities
        .iter()
        .filter_map(|c| c.r#type)
        .filter_map(|t| mesos_proto::v1::framework_info::capability::Type::try_from(t).ok())
        .map(|t| t.as_str_name())
        .collect();
    let mut value = json!({
        "id": framework.id,
        "name": framework.info.name,
        "user": framework.info.user,
        "hostname": framework.info.hostname.clone().unwrap_or_default(),
        "webui_url": framework.info.webui_url.clone().unwrap_or_default(),
        "principal": framework.info.principal,
        "capabilities": capabilities,
        "active": framework.active,
        "connected": framework.connected(),
        "recovered": false,
        "failover_timeout": framework.info.failover_timeout.unwrap_or(0.0),
        "checkpoint": framework.info.checkpoint.unwrap_or(false),
        "registered_time": framework.registered_time,
        "used_resources": resources_json(&used),
        "offered_resources": resources_json(&offered),
        "resources": resources_json(&(used.clone() + &offered)),
        "tasks": framework.holdings.tasks().values().map(|t| task_json(t)).collect::<Vec<_>>(),
        "unreachable_tasks": [],
        "completed_tasks": framework.completed_tasks.iter().map(task_json).collect::<Vec<_>>(),
        "offers": offers,
        "executors": executors,
        "offer_constraints": {},
    });
    if let Some(map) = value.as_object_mut() {
        if framework.principal_missing() {
            map.remove("principal");
        }
        if let Some(time) = framework.reregistered_time {
            map.insert("reregistered_time".into(), json!(time));
        }
        if let Some(time) = framework.unregistered_time {
            map.insert("unregistered_time".into(), json!(time));
        }
        if framework.multi_role() {
            map.insert("roles".into(), json!(framework.roles()));
        } else {
            map.insert(
                "role".into(),
                json!(framework.roles().first().cloned().unwrap_or_default()),
            );
        }
    }
    value
}

/// An agent's reserved resources by role (`reserved_resources`).
fn reserved_json(total: &Resources) -> Value {
    let mut roles = Map::new();
    for resource in total.iter() {
        if let Some(role) = mesos_proto::resources::reservation_role(resource) {
            if !roles.contains_key(role) {
                roles.insert(role.to_string(), resources_json(&total.reserved(role)));
            }
        }
    }
    Value::Object(roles)
}

fn agent_json(state: &State, agent: &AgentSlot) -> Value {
    let used = state.used_on(&agent.id);
    let offered = state.offered(Some(&agent.id), None);
    json!({
        "id": agent.id,
        "pid": agent.link.pid,
        "hostname": agent.link.info.hostname,
        "port": agent.link.info.port.unwrap_or(0),
        "attributes": attributes_json(&agent.link.info.attributes),
        "registered_time": agent.registered_time,
        "resources": resources_json(&agent.total),
        "used_resources": resources_json(&used),
        "offered_resources": resources_json(&offered),
        "reserved_resources": reserved_json(&agent.total),
        "unreserved_resources": resources_json(&agent.total.unreserved()),
        "active": agent.active,
        "deactivated": false,
        "version": MESOS_VERSION,
        "capabilities": [
            "MULTI_ROLE", "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT", "RESOURCE_PROVIDER",
            "RESIZE_VOLUME", "AGENT_OPERATION_FEEDBACK", "AGENT_DRAINING", "TASK_RESOURCE_LIMITS"
        ],
    })
}

/// The whole `/master/state` document.
pub(crate) fn state_json(state: &State) -> Value {
    let pid = format!("master@{}", state.addr);
    json!({
        "version": MESOS_VERSION,
        "git_tag": MESOS_VERSION,
        "build_user": "mesos-local",
        "start_time": state.start_time,
        "elected_time": state.start_time,
        "id": state.master_id,
        "pid": pid,
        "hostname": MASTER_HOSTNAME,
        "capabilities": ["AGENT_UPDATE", "AGENT_DRAINING", "QUOTA_V2"],
        "activated_slaves": state.agents.len() as f64,
        "deactivated_slaves": 0.0,
        "unreachable_slaves": 0.0,
        "leader": pid,
        "leader_info": {
            "id": state.master_id,
            "pid": pid,
            "port": state.addr.port(),
            "hostname": MASTER_HOSTNAME,
        },
        "flags": flags_json(state),
        "slaves": state.agents.iter().map(|a| agent_json(state, a)).collect::<Vec<_>>(),
        "recovered_slaves": [],
        "frameworks": state.frameworks.values().map(|f| framework_json(state, f)).collect::<Vec<_>>(),
        "completed_frameworks": state
            .completed_frameworks
            .iter()
            .map(|f| framework_json(state, f))
            .collect::<Vec<_>>(),
        "orphan_tasks": [],
        "unregistered_frameworks": [],
    })
}

/// The master's flags as `/master/state` shows them (and GET_FLAGS lists
/// them).
pub(crate) fn flags_json(state: &State) -> Value {
    json!({
        "allocation_interval": format!("{}ms", state.allocation_interval.as_millis()),
        "hostname": MASTER_HOSTNAME,
        "port": state.addr.port().to_string(),
        "registry": "in_memory",
        "version": "false",
    })
}

/// `GET /version`.
pub(crate) fn version_json() -> Value {
    json!({
        "version": MESOS_VERSION,
        "git_tag": MESOS_VERSION,
        "build_user": "mesos-local",
        "build_time": ids::now_secs().floor(),
    })
}

impl Framework {
    fn principal_missing(&self) -> bool {
        self.info.principal.is_none()
    }
}
