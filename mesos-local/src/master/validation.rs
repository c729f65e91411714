//! Validation of scheduler calls and of the tasks in LAUNCH / LAUNCH_GROUP
//! operations, with the real master's error messages (src/master/
//! validation.cpp in Mesos 1.11, checked against a running 1.11 master).

use std::collections::{BTreeMap, HashSet};

use mesos_proto::resources;
use mesos_proto::v1::framework_info::capability::Type as FrameworkCapability;
use mesos_proto::v1::scheduler::call::Type as CallType;
use mesos_proto::v1::scheduler::Call;
use mesos_proto::v1::{executor_info, ExecutorInfo, FrameworkInfo, TaskInfo};

use super::state::Framework;

/// Checks a call's structure (what `scheduler::call::validate` checks);
/// the error is the text after "Failed to validate scheduler::Call: ".
pub(crate) fn validate_call(call: &Call) -> Result<CallType, String> {
    // UNKNOWN is a valid type here, as in the real master (which then
    // looks the framework up; see the crate docs for what follows).
    let kind = match call.r#type.map(CallType::try_from) {
        None | Some(Err(_)) => return Err("Expecting 'type' to be present".to_string()),
        Some(Ok(kind)) => kind,
    };
    if kind == CallType::Subscribe {
        let Some(subscribe) = &call.subscribe else {
            return Err("Expecting 'subscribe' to be present".to_string());
        };
        if let (Some(call_id), Some(info_id)) = (&call.framework_id, &subscribe.framework_info.id) {
            if call_id != info_id {
                return Err("'framework_id' differs from 'subscribe.framework_info.id'".to_string());
            }
        }
        return Ok(kind);
    }
    if call.framework_id.is_none() {
        return Err("Expecting 'framework_id' to be present".to_string());
    }
    let missing = |present: bool, name: &str| {
        if present {
            Ok(kind)
        } else {
            Err(format!("Expecting '{name}' to be present"))
        }
    };
    match kind {
        CallType::Accept => missing(call.accept.is_some(), "accept"),
        CallType::Decline => missing(call.decline.is_some(), "decline"),
        CallType::AcceptInverseOffers => missing(
            call.accept_inverse_offers.is_some(),
            "accept_inverse_offers",
        ),
        CallType::DeclineInverseOffers => missing(
            call.decline_inverse_offers.is_some(),
            "decline_inverse_offers",
        ),
        CallType::Kill => missing(call.kill.is_some(), "kill"),
        CallType::Shutdown => missing(call.shutdown.is_some(), "shutdown"),
        CallType::Acknowledge => {
            let acknowledge = call.acknowledge.as_ref();
            missing(acknowledge.is_some(), "acknowledge")?;
            if acknowledge.is_some_and(|a| !valid_uuid(&a.uuid)) {
                return Err("Not a valid UUID".to_string());
            }
            Ok(kind)
        }
        CallType::AcknowledgeOperationStatus => missing(
            call.acknowledge_operation_status.is_some(),
            "acknowledge_operation_status",
        ),
        CallType::Reconcile => missing(call.reconcile.is_some(), "reconcile"),
        CallType::ReconcileOperations => {
            missing(call.reconcile_operations.is_some(), "reconcile_operations")
        }
        CallType::Message => missing(call.message.is_some(), "message"),
        CallType::Request => missing(call.request.is_some(), "request"),
        CallType::UpdateFramework => missing(call.update_framework.is_some(), "update_framework"),
        _ => Ok(kind),
    }
}

/// The MULTI_ROLE rules on a FrameworkInfo (SUBSCRIBE answers a violation
/// with an ERROR event, UPDATE_FRAMEWORK with 400), with the real master's
/// messages.
#[allow(deprecated)]
pub(crate) fn validate_framework_info(info: &FrameworkInfo) -> Result<(), String> {
    let multi_role = info
        .capabilities
        .iter()
        .any(|c| c.r#type == Some(FrameworkCapability::MultiRole as i32));
    if multi_role && info.role.is_some() {
        return Err(
            "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable"
                .to_string(),
        );
    }
    if !multi_role && !info.roles.is_empty() {
        return Err(
            "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable"
                .to_string(),
        );
    }
    Ok(())
}

/// Whether 16 bytes are a UUID as stout's `UUID::fromBytes` accepts them:
/// boost refuses a version other than 1 to 5.
pub(crate) fn valid_uuid(bytes: &[u8]) -> bool {
    uuid::Uuid::from_slice(bytes).is_ok_and(|u| (1..=5).contains(&u.get_version_num()))
}

/// Why a task id is not acceptable (common/validation.cpp `validateID`).
fn validate_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("ID must not be empty".to_string());
    }
    if id == "." || id == ".." {
        return Err("'.' and '..' are invalid".to_string());
    }
    if id.contains('/') || id.contains('\\') {
        return Err("'/' and '\\' are invalid".to_string());
    }
    if id.chars().any(char::is_control) {
        return Err("Control characters are invalid".to_string());
    }
    Ok(())
}

/// What a task is checked against.
#[derive(Debug)]
pub(crate) struct TaskContext<'a> {
    pub(crate) framework: &'a Framework,
    /// The agent of the offers.
    pub(crate) agent_id: &'a str,
    /// Task ids launched earlier in the same ACCEPT.
    pub(crate) launched: &'a HashSet<String>,
    /// Executors (by id) launched earlier in the same ACCEPT on this agent.
    pub(crate) new_executors: &'a BTreeMap<String, ExecutorInfo>,
}

impl TaskContext<'_> {
    /// The executor already known with this id on the agent.
    pub(crate) fn known_executor(&self, executor_id: &str) -> Option<&ExecutorInfo> {
        self.framework
            .holdings
            .executors()
            .get(&(self.agent_id.to_string(), executor_id.to_string()))
            .map(|e| &e.info)
            .or_else(|| self.new_executors.get(executor_id))
    }
}

/// Executors compare equal ignoring the framework id the master fills in
/// and the allocation info of their resources.
fn same_executor(a: &ExecutorInfo, b: &ExecutorInfo) -> bool {
    let normalize = |e: &ExecutorInfo| {
        let mut e = e.clone();
        e.framework_id = None;
        e.resources = super::state::flat(&e.resources).into_vec();
        e
    };
    normalize(a) == normalize(b)
}

/// Checks one task (resources are checked against the offer separately).
/// `group_executor`: the executor of a LAUNCH_GROUP.
pub(crate) fn validate_task(
    task: &TaskInfo,
    group_executor: Option<&ExecutorInfo>,
    ctx: &TaskContext<'_>,
) -> Result<(), String> {
    let id = &task.task_id.value;
    validate_id(id).map_err(|e| format!("Task ID '{id}' is invalid: {e}"))?;
    if ctx.framework.holdings.tasks().contains_key(id) || ctx.launched.contains(id) {
        return Err(format!("Task has duplicate ID: {id}"));
    }
    if task.agent_id.value != ctx.agent_id {
        return Err(format!("Task uses invalid agent: {}", task.agent_id.value));
    }
    if task.resources.is_empty() {
        return Err("Task uses no resources".to_string());
    }
    for resource in &task.resources {
        resources::validate(resource).map_err(|e| format!("Task uses invalid resources: {e}"))?;
    }
    let executor = match group_executor {
        Some(executor) => {
            if task.executor.is_some() {
                return Err("'TaskInfo.executor' must not be set".to_string());
            }
            let custom = executor.r#type == Some(executor_info::Type::Custom as i32);
            if !custom && task.command.is_none() && task.container.is_none() {
                // The default executor runs a task group's commands: one
                // without is refused here (a deliberate difference, see
                // the crate docs); a custom executor's tasks need none.
                return Err("'TaskInfo.command' must be set".to_string());
            }
            Some(executor)
        }
        None => {
            if task.executor.is_some() == task.command.is_some() {
                return Err(
                    "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present"
                        .to_string(),
                );
            }
            task.executor.as_deref()
        }
    };
    if let Some(executor) = executor {
        validate_executor(executor, ctx)?;
    }
    Ok(())
}

/// Checks an executor's ids and its consistency with a running executor
/// of the same id.
pub(crate) fn validate_executor(
    executor: &ExecutorInfo,
    ctx: &TaskContext<'_>,
) -> Result<(), String> {
    validate_id(&executor.executor_id.value).map_err(|e| {
        format!(
            "Executor ID '{}' is invalid: {e}",
            executor.executor_id.value
        )
    })?;
    // LAUNCH fills it in before validation; LAUNCH_GROUP does not.
    let Some(framework_id) = &executor.framework_id else {
        return Err("'ExecutorInfo.framework_id' must be set".to_string());
    };
    if framework_id.value != ctx.framework.id {
        return Err(format!(
            "ExecutorInfo has an invalid FrameworkID (Actual: {} vs Expected: {})",
            framework_id.value, ctx.framework.id
        ));
    }
    for resource in &executor.resources {
        resources::validate(resource)
            .map_err(|e| format!("Executor uses invalid resources: {e}"))?;
    }
    if let Some(known) = ctx.known_executor(&executor.executor_id.value) {
        if !same_executor(known, executor) {
            return Err(
                "Task has invalid ExecutorInfo (existing ExecutorInfo with same ExecutorID is not compatible)"
                    .to_string(),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_proto::v1::FrameworkId;

    fn call(kind: CallType) -> Call {
        Call {
            r#type: Some(kind as i32),
            ..Call::default()
        }
    }

    #[test]
    fn calls_need_framework_id_and_their_message() {
        assert_eq!(
            validate_call(&call(CallType::Accept)),
            Err("Expecting 'framework_id' to be present".to_string())
        );
        let mut accept = call(CallType::Accept);
        accept.framework_id = Some(FrameworkId { value: "f".into() });
        assert_eq!(
            validate_call(&accept),
            Err("Expecting 'accept' to be present".to_string())
        );
        let mut revive = call(CallType::Revive);
        revive.framework_id = Some(FrameworkId { value: "f".into() });
        assert_eq!(validate_call(&revive), Ok(CallType::Revive));
        assert!(validate_call(&Call::default()).is_err());
        assert!(
            validate_call(&call(CallType::Unknown)).is_err(),
            "no framework_id"
        );
    }

    #[test]
    fn uuids_need_a_known_version() {
        assert!(!valid_uuid(&[0; 16]));
        assert!(!valid_uuid(&[1; 15]));
        assert!(valid_uuid(uuid::Uuid::new_v4().as_bytes()));
    }

    #[test]
    fn ids_are_checked() {
        assert!(validate_id("a-b_c.1").is_ok());
        assert!(validate_id("").is_err());
        assert!(validate_id("a/b").is_err());
        assert!(validate_id("..").is_err());
    }
}
