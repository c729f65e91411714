//! Constructors for every scheduler `Call`, one function per call type.
//!
//! Each returns a complete `Call` except `framework_id`, which the
//! [`SchedulerClient`](crate::SchedulerClient) fills in from the current
//! subscription. They are public so that tests, proxies and tools can build
//! exactly the bytes the driver sends.

use bytes::Bytes;
use mesos_proto::v1::scheduler::{call, Call};
use mesos_proto::v1::{
    offer, AgentId, ExecutorId, Filters, FrameworkInfo, InverseOffer, KillPolicy, OfferId,
    OperationId, Request, TaskId, TaskInfo,
};

fn call(kind: call::Type) -> Call {
    Call {
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

/// SUBSCRIBE as `framework` (with `framework.id` set: resubscribe).
pub fn subscribe(framework: FrameworkInfo) -> Call {
    Call {
        framework_id: framework.id.clone(),
        subscribe: Some(call::Subscribe {
            framework_info: framework,
            ..Default::default()
        }),
        ..call(call::Type::Subscribe)
    }
}

/// TEARDOWN: end the framework, killing all its tasks and executors.
pub fn teardown() -> Call {
    call(call::Type::Teardown)
}

/// ACCEPT `offer_ids` applying `operations` (LAUNCH, LAUNCH_GROUP, RESERVE,
/// UNRESERVE, CREATE, DESTROY, GROW_VOLUME, SHRINK_VOLUME, ...). Whatever
/// the operations do not use is declined with `filters`.
pub fn accept(
    offer_ids: Vec<OfferId>,
    operations: Vec<offer::Operation>,
    filters: Option<Filters>,
) -> Call {
    Call {
        accept: Some(call::Accept {
            offer_ids,
            operations,
            filters,
        }),
        ..call(call::Type::Accept)
    }
}

/// A LAUNCH operation for `tasks` (for [`accept`]).
pub fn launch_operation(tasks: Vec<TaskInfo>) -> offer::Operation {
    offer::Operation {
        r#type: Some(offer::operation::Type::Launch as i32),
        launch: Some(offer::operation::Launch { task_infos: tasks }),
        ..Default::default()
    }
}

/// ACCEPT `offer_ids` with one LAUNCH of `tasks` (the classic `launchTasks`).
pub fn launch(offer_ids: Vec<OfferId>, tasks: Vec<TaskInfo>, filters: Option<Filters>) -> Call {
    accept(offer_ids, vec![launch_operation(tasks)], filters)
}

/// DECLINE `offer_ids`; `filters` say for how long not to re-offer them.
pub fn decline(offer_ids: Vec<OfferId>, filters: Option<Filters>) -> Call {
    Call {
        decline: Some(call::Decline { offer_ids, filters }),
        ..call(call::Type::Decline)
    }
}

/// ACCEPT_INVERSE_OFFERS.
pub fn accept_inverse_offers(inverse_offer_ids: Vec<OfferId>, filters: Option<Filters>) -> Call {
    Call {
        accept_inverse_offers: Some(call::AcceptInverseOffers {
            inverse_offer_ids,
            filters,
        }),
        ..call(call::Type::AcceptInverseOffers)
    }
}

/// DECLINE_INVERSE_OFFERS.
pub fn decline_inverse_offers(inverse_offer_ids: Vec<OfferId>, filters: Option<Filters>) -> Call {
    Call {
        decline_inverse_offers: Some(call::DeclineInverseOffers {
            inverse_offer_ids,
            filters,
        }),
        ..call(call::Type::DeclineInverseOffers)
    }
}

/// The ids of inverse offers (for [`accept_inverse_offers`]).
pub fn inverse_offer_ids(offers: &[InverseOffer]) -> Vec<OfferId> {
    offers.iter().map(|o| o.id.clone()).collect()
}

/// REVIVE: lift filters and resume offers, for `roles` (empty: all roles).
pub fn revive(roles: Vec<String>) -> Call {
    Call {
        revive: Some(call::Revive { roles }),
        ..call(call::Type::Revive)
    }
}

/// SUPPRESS: stop offers for `roles` (empty: all roles) until REVIVE.
pub fn suppress(roles: Vec<String>) -> Call {
    Call {
        suppress: Some(call::Suppress { roles }),
        ..call(call::Type::Suppress)
    }
}

/// KILL a task, optionally overriding its kill policy.
pub fn kill(task_id: TaskId, agent_id: Option<AgentId>, kill_policy: Option<KillPolicy>) -> Call {
    Call {
        kill: Some(call::Kill {
            task_id,
            agent_id,
            kill_policy,
        }),
        ..call(call::Type::Kill)
    }
}

/// SHUTDOWN an executor (killing its tasks).
pub fn shutdown(executor_id: ExecutorId, agent_id: AgentId) -> Call {
    Call {
        shutdown: Some(call::Shutdown {
            executor_id,
            agent_id,
        }),
        ..call(call::Type::Shutdown)
    }
}

/// ACKNOWLEDGE a status update (identified by its `uuid`).
pub fn acknowledge(agent_id: AgentId, task_id: TaskId, uuid: Bytes) -> Call {
    Call {
        acknowledge: Some(call::Acknowledge {
            agent_id,
            task_id,
            uuid,
        }),
        ..call(call::Type::Acknowledge)
    }
}

/// ACKNOWLEDGE_OPERATION_STATUS.
pub fn acknowledge_operation_status(
    agent_id: Option<AgentId>,
    resource_provider_id: Option<mesos_proto::v1::ResourceProviderId>,
    uuid: Bytes,
    operation_id: OperationId,
) -> Call {
    Call {
        acknowledge_operation_status: Some(call::AcknowledgeOperationStatus {
            agent_id,
            resource_provider_id,
            uuid,
            operation_id,
        }),
        ..call(call::Type::AcknowledgeOperationStatus)
    }
}

/// RECONCILE tasks: explicit for the given `(task, agent)` pairs, implicit
/// (all the framework's tasks) when `tasks` is empty.
pub fn reconcile(tasks: Vec<(TaskId, Option<AgentId>)>) -> Call {
    Call {
        reconcile: Some(call::Reconcile {
            tasks: tasks
                .into_iter()
                .map(|(task_id, agent_id)| call::reconcile::Task { task_id, agent_id })
                .collect(),
        }),
        ..call(call::Type::Reconcile)
    }
}

/// RECONCILE_OPERATIONS (empty: all the framework's operations).
pub fn reconcile_operations(operations: Vec<call::reconcile_operations::Operation>) -> Call {
    Call {
        reconcile_operations: Some(call::ReconcileOperations { operations }),
        ..call(call::Type::ReconcileOperations)
    }
}

/// MESSAGE: framework message to an executor.
pub fn message(agent_id: AgentId, executor_id: ExecutorId, data: Bytes) -> Call {
    Call {
        message: Some(call::Message {
            agent_id,
            executor_id,
            data,
        }),
        ..call(call::Type::Message)
    }
}

/// REQUEST resources from the allocator.
pub fn request(requests: Vec<Request>) -> Call {
    Call {
        request: Some(call::Request { requests }),
        ..call(call::Type::Request)
    }
}

/// UPDATE_FRAMEWORK: change the framework's info (roles, capabilities, ...).
pub fn update_framework(framework: FrameworkInfo) -> Call {
    Call {
        update_framework: Some(call::UpdateFramework {
            framework_info: framework,
            ..Default::default()
        }),
        ..call(call::Type::UpdateFramework)
    }
}

/// The type name of a call, for errors and logs (`"ACCEPT"`).
pub fn type_name(call: &Call) -> &'static str {
    call.r#type().as_str_name()
}

/// The offers a call answers (ACCEPT's and DECLINE's `offer_ids`; none for
/// other calls): once the master took the call, they are no longer held.
pub(crate) fn offers_answered(call: &Call) -> impl Iterator<Item = &OfferId> {
    let accepted = call.accept.iter().flat_map(|a| a.offer_ids.iter());
    let declined = call.decline.iter().flat_map(|d| d.offer_ids.iter());
    accepted.chain(declined)
}
