//! The cluster's state: everything at once, or agents, frameworks,
//! executors, tasks, operations, roles and weights alone.

use mesos_proto::v1::master::{call as c, call::Type, response, Call};
use mesos_proto::v1::WeightInfo;

use super::{call, MasterClient};
use crate::Error;

impl MasterClient {
    /// `GET_STATE`: agents, frameworks, executors and tasks in one answer
    /// (what `SUBSCRIBED` carries too).
    pub async fn get_state(&self) -> Result<response::GetState, Error> {
        self.query(call(Type::GetState), |r| {
            Some(r.get_state.unwrap_or_default())
        })
        .await
    }

    /// `GET_AGENTS`: the registered agents (with their total, allocated and
    /// offered resources) and the recovered ones not re-registered yet.
    pub async fn get_agents(&self) -> Result<response::GetAgents, Error> {
        self.query(call(Type::GetAgents), |r| {
            Some(r.get_agents.unwrap_or_default())
        })
        .await
    }

    /// `GET_FRAMEWORKS`: the active, completed and recovered frameworks.
    pub async fn get_frameworks(&self) -> Result<response::GetFrameworks, Error> {
        self.query(call(Type::GetFrameworks), |r| {
            Some(r.get_frameworks.unwrap_or_default())
        })
        .await
    }

    /// `GET_EXECUTORS`: the executors (and orphan executors) known to the
    /// master.
    pub async fn get_executors(&self) -> Result<response::GetExecutors, Error> {
        self.query(call(Type::GetExecutors), |r| {
            Some(r.get_executors.unwrap_or_default())
        })
        .await
    }

    /// `GET_OPERATIONS`: the offer operations (reservations, volumes, ...)
    /// the master tracks on agents.
    pub async fn get_operations(&self) -> Result<response::GetOperations, Error> {
        self.query(call(Type::GetOperations), |r| {
            Some(r.get_operations.unwrap_or_default())
        })
        .await
    }

    /// `GET_TASKS`: pending, active, unreachable and completed tasks.
    pub async fn get_tasks(&self) -> Result<response::GetTasks, Error> {
        self.query(call(Type::GetTasks), |r| {
            Some(r.get_tasks.unwrap_or_default())
        })
        .await
    }

    /// `GET_ROLES`: the known roles, with weights, quota and allocations.
    pub async fn get_roles(&self) -> Result<response::GetRoles, Error> {
        self.query(call(Type::GetRoles), |r| {
            Some(r.get_roles.unwrap_or_default())
        })
        .await
    }

    /// `GET_WEIGHTS`: the roles' configured weights.
    pub async fn get_weights(&self) -> Result<response::GetWeights, Error> {
        self.query(call(Type::GetWeights), |r| {
            Some(r.get_weights.unwrap_or_default())
        })
        .await
    }

    /// `UPDATE_WEIGHTS`: sets the weights of roles.
    pub async fn update_weights(&self, weights: Vec<WeightInfo>) -> Result<(), Error> {
        self.execute(Call {
            update_weights: Some(c::UpdateWeights {
                weight_infos: weights,
            }),
            ..call(Type::UpdateWeights)
        })
        .await
    }
}
