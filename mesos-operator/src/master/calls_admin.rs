//! Cluster administration: maintenance schedules and windows, draining and
//! (de)activating agents, quota, tearing frameworks down, marking agents
//! gone.

use std::time::Duration;

use mesos_proto::v1::master::{call as c, call::Type, response, Call};
use mesos_proto::v1::{maintenance, quota, AgentId, FrameworkId, MachineId};

use super::{call, MasterClient};
use crate::Error;

impl MasterClient {
    /// `GET_MAINTENANCE_STATUS`: the machines draining or down.
    pub async fn get_maintenance_status(&self) -> Result<response::GetMaintenanceStatus, Error> {
        self.query(call(Type::GetMaintenanceStatus), |r| {
            r.get_maintenance_status
        })
        .await
    }

    /// `GET_MAINTENANCE_SCHEDULE`: the maintenance windows scheduled.
    pub async fn get_maintenance_schedule(
        &self,
    ) -> Result<response::GetMaintenanceSchedule, Error> {
        self.query(call(Type::GetMaintenanceSchedule), |r| {
            r.get_maintenance_schedule
        })
        .await
    }

    /// `UPDATE_MAINTENANCE_SCHEDULE`: replaces the maintenance schedule.
    pub async fn update_maintenance_schedule(
        &self,
        schedule: maintenance::Schedule,
    ) -> Result<(), Error> {
        self.execute(Call {
            update_maintenance_schedule: Some(c::UpdateMaintenanceSchedule { schedule }),
            ..call(Type::UpdateMaintenanceSchedule)
        })
        .await
    }

    /// `START_MAINTENANCE`: takes scheduled `machines` down.
    pub async fn start_maintenance(&self, machines: Vec<MachineId>) -> Result<(), Error> {
        self.execute(Call {
            start_maintenance: Some(c::StartMaintenance { machines }),
            ..call(Type::StartMaintenance)
        })
        .await
    }

    /// `STOP_MAINTENANCE`: brings `machines` back up (and off the schedule).
    pub async fn stop_maintenance(&self, machines: Vec<MachineId>) -> Result<(), Error> {
        self.execute(Call {
            stop_maintenance: Some(c::StopMaintenance { machines }),
            ..call(Type::StopMaintenance)
        })
        .await
    }

    /// `DRAIN_AGENT`: kills the agent's tasks (each within
    /// `max_grace_period` when given) and deactivates it; with `mark_gone`,
    /// marks it gone once drained.
    pub async fn drain_agent(
        &self,
        agent_id: AgentId,
        max_grace_period: Option<Duration>,
        mark_gone: bool,
    ) -> Result<(), Error> {
        let max_grace_period = max_grace_period.map(prost_types_duration);
        self.execute(Call {
            drain_agent: Some(c::DrainAgent {
                agent_id,
                max_grace_period,
                mark_gone: Some(mark_gone),
            }),
            ..call(Type::DrainAgent)
        })
        .await
    }

    /// `DEACTIVATE_AGENT`: stops offering the agent's resources.
    pub async fn deactivate_agent(&self, agent_id: AgentId) -> Result<(), Error> {
        self.execute(Call {
            deactivate_agent: Some(c::DeactivateAgent { agent_id }),
            ..call(Type::DeactivateAgent)
        })
        .await
    }

    /// `REACTIVATE_AGENT`: offers a deactivated (or drained) agent again.
    pub async fn reactivate_agent(&self, agent_id: AgentId) -> Result<(), Error> {
        self.execute(Call {
            reactivate_agent: Some(c::ReactivateAgent { agent_id }),
            ..call(Type::ReactivateAgent)
        })
        .await
    }

    /// `GET_QUOTA`: the roles' quota configurations and (deprecated) infos.
    pub async fn get_quota(&self) -> Result<response::GetQuota, Error> {
        self.query(call(Type::GetQuota), |r| r.get_quota).await
    }

    /// `UPDATE_QUOTA`: sets the guarantees and limits of roles; `force`
    /// skips the master's capacity check.
    pub async fn update_quota(
        &self,
        quota_configs: Vec<quota::QuotaConfig>,
        force: bool,
    ) -> Result<(), Error> {
        self.execute(Call {
            update_quota: Some(c::UpdateQuota {
                force: Some(force),
                quota_configs,
            }),
            ..call(Type::UpdateQuota)
        })
        .await
    }

    /// `SET_QUOTA` (deprecated since Mesos 1.9: use
    /// [`update_quota`](Self::update_quota)): sets a role's guarantee.
    #[allow(deprecated)]
    pub async fn set_quota(&self, quota_request: quota::QuotaRequest) -> Result<(), Error> {
        self.execute(Call {
            set_quota: Some(c::SetQuota { quota_request }),
            ..call(Type::SetQuota)
        })
        .await
    }

    /// `REMOVE_QUOTA` (deprecated since Mesos 1.9: use
    /// [`update_quota`](Self::update_quota)): removes a role's quota.
    #[allow(deprecated)]
    pub async fn remove_quota(&self, role: &str) -> Result<(), Error> {
        self.execute(Call {
            remove_quota: Some(c::RemoveQuota { role: role.into() }),
            ..call(Type::RemoveQuota)
        })
        .await
    }

    /// `TEARDOWN`: removes the framework, killing its tasks and executors.
    pub async fn teardown(&self, framework_id: FrameworkId) -> Result<(), Error> {
        self.execute(Call {
            teardown: Some(c::Teardown { framework_id }),
            ..call(Type::Teardown)
        })
        .await
    }

    /// `MARK_AGENT_GONE`: declares the agent gone for good: its tasks are
    /// `TASK_GONE_BY_OPERATOR` and it may never register again.
    pub async fn mark_agent_gone(&self, agent_id: AgentId) -> Result<(), Error> {
        self.execute(Call {
            mark_agent_gone: Some(c::MarkAgentGone { agent_id }),
            ..call(Type::MarkAgentGone)
        })
        .await
    }
}

/// A `Duration` as `google.protobuf.Duration` (saturating).
fn prost_types_duration(duration: Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: i64::try_from(duration.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(duration.subsec_nanos()).unwrap_or(0),
    }
}
