//! The agent's own information: health, flags, version, metrics, logging
//! level and files (defined once for masters and agents), and
//! `GET_AGENT`.

use mesos_proto::v1::agent::{call::Type, response, Call};

use super::{call, AgentClient};
use crate::shared_calls::shared_calls;
use crate::Error;

shared_calls!(
    AgentClient,
    agent,
    "agent",
    "a task's sandbox: `/frameworks/<framework id>/executors/<executor id>/runs/latest`, \
     the executor ID of a command task being its task ID; or `/slave/log`"
);

impl AgentClient {
    /// `GET_AGENT`: the agent's `AgentInfo` and draining state.
    pub async fn get_agent(&self) -> Result<response::GetAgent, Error> {
        self.query(call(Type::GetAgent), |r| {
            Some(r.get_agent.unwrap_or_default())
        })
        .await
    }
}
