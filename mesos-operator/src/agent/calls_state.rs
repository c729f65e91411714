//! What runs on the agent: state, containers, frameworks, executors,
//! tasks, operations, resource providers.

use mesos_proto::v1::agent::{call as c, call::Type, response, Call};

use super::{call, AgentClient};
use crate::Error;

impl AgentClient {
    /// `GET_STATE`: the agent's frameworks, executors and tasks at once.
    pub async fn get_state(&self) -> Result<response::GetState, Error> {
        self.query(call(Type::GetState), |r| {
            Some(r.get_state.unwrap_or_default())
        })
        .await
    }

    /// `GET_CONTAINERS`: the agent's containers with their status and
    /// resource statistics; `show_nested` adds nested containers,
    /// `show_standalone` standalone ones.
    pub async fn get_containers(
        &self,
        show_nested: bool,
        show_standalone: bool,
    ) -> Result<response::GetContainers, Error> {
        let call = Call {
            get_containers: Some(c::GetContainers {
                show_nested: Some(show_nested),
                show_standalone: Some(show_standalone),
            }),
            ..call(Type::GetContainers)
        };
        self.query(call, |r| Some(r.get_containers.unwrap_or_default()))
            .await
    }

    /// `GET_FRAMEWORKS`: the frameworks with executors on the agent.
    pub async fn get_frameworks(&self) -> Result<response::GetFrameworks, Error> {
        self.query(call(Type::GetFrameworks), |r| {
            Some(r.get_frameworks.unwrap_or_default())
        })
        .await
    }

    /// `GET_EXECUTORS`: the agent's running and completed executors.
    pub async fn get_executors(&self) -> Result<response::GetExecutors, Error> {
        self.query(call(Type::GetExecutors), |r| {
            Some(r.get_executors.unwrap_or_default())
        })
        .await
    }

    /// `GET_OPERATIONS`: the operations on the agent's resources.
    pub async fn get_operations(&self) -> Result<response::GetOperations, Error> {
        self.query(call(Type::GetOperations), |r| {
            Some(r.get_operations.unwrap_or_default())
        })
        .await
    }

    /// `GET_TASKS`: the agent's pending, queued, launched, terminated and
    /// completed tasks.
    pub async fn get_tasks(&self) -> Result<response::GetTasks, Error> {
        self.query(call(Type::GetTasks), |r| {
            Some(r.get_tasks.unwrap_or_default())
        })
        .await
    }

    /// `GET_RESOURCE_PROVIDERS`: the agent's local resource providers.
    pub async fn get_resource_providers(&self) -> Result<response::GetResourceProviders, Error> {
        self.query(call(Type::GetResourceProviders), |r| {
            Some(r.get_resource_providers.unwrap_or_default())
        })
        .await
    }
}
