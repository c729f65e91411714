//! What the in-process master and its agents say to each other: the
//! counterpart of the libprocess messages between a real master and agent.
//! (Frameworks and executors never see these: they speak the v1 HTTP APIs.)

use std::sync::Arc;

use bytes::Bytes;
use mesos_proto::v1::{
    AgentId, AgentInfo, ExecutorId, ExecutorInfo, FrameworkId, FrameworkInfo, KillPolicy,
    TaskGroupInfo, TaskId, TaskInfo, TaskStatus,
};
use tokio::sync::mpsc;

/// Master → agent.
// Each message is moved once through a channel; boxing the large variants
// would only add an allocation per message.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub(crate) enum ToAgent {
    /// Launch `task` for `framework`: a command task when `task.executor` is
    /// absent, else on that executor (started first if it is not running).
    RunTask {
        /// Shared with the master's record of the framework.
        framework: Arc<FrameworkInfo>,
        /// Shared with the master's record of the task.
        task: Arc<TaskInfo>,
    },
    /// Launch a task group on `executor` (LAUNCH_GROUP).
    RunTaskGroup {
        framework: Arc<FrameworkInfo>,
        executor: ExecutorInfo,
        task_group: TaskGroupInfo,
    },
    /// Kill a task (KILL), with the kill policy overriding the task's.
    KillTask {
        framework_id: FrameworkId,
        task_id: TaskId,
        kill_policy: Option<KillPolicy>,
    },
    /// Shut an executor down (SHUTDOWN call), killing its tasks.
    ShutdownExecutor {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
    },
    /// The framework is gone (TEARDOWN, failover timeout): kill everything of it.
    ShutdownFramework { framework_id: FrameworkId },
    /// A framework message for an executor (MESSAGE call).
    FrameworkMessage {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        data: Bytes,
    },
    /// The scheduler acknowledged the status update `uuid` of `task_id`.
    StatusUpdateAcknowledged {
        framework_id: FrameworkId,
        task_id: TaskId,
        uuid: Bytes,
    },
    /// The framework (re)subscribed: resend its unacknowledged updates now.
    FrameworkSubscribed { framework_id: FrameworkId },
    /// A newly elected master asks the agent to re-register: it answers
    /// with what it runs on `reply`.
    Reregister {
        reply: mpsc::UnboundedSender<AgentReport>,
    },
    /// Which sandbox and file a READ_FILE `path` names (see the agent's
    /// operator API), for the master's proxy of READ_FILE to this agent:
    /// `None` when no live executor's sandbox holds it.
    Sandbox {
        path: String,
        reply: mpsc::UnboundedSender<Option<(std::path::PathBuf, std::path::PathBuf)>>,
    },
}

/// What an agent runs, reported to a newly elected master.
#[derive(Debug, Clone)]
pub(crate) struct AgentReport {
    pub(crate) agent_id: AgentId,
    pub(crate) frameworks: Vec<ReportedFramework>,
    /// The agent is stopped (down): the master registers it inactive, as a
    /// real master keeps an agent it has not heard from since its election
    /// out of its offers, until the agent comes back.
    pub(crate) stopped: bool,
}

/// One framework's executors and live tasks on an agent.
#[derive(Debug, Clone)]
pub(crate) struct ReportedFramework {
    pub(crate) info: FrameworkInfo,
    /// Custom executors (not the command executors of command tasks).
    pub(crate) executors: Vec<ExecutorInfo>,
    pub(crate) tasks: Vec<ReportedTask>,
}

/// A non-terminal task, as its agent knows it.
#[derive(Debug, Clone)]
pub(crate) struct ReportedTask {
    pub(crate) info: TaskInfo,
    pub(crate) state: mesos_proto::v1::TaskState,
    /// Its executor (`None` for a command task).
    pub(crate) executor_id: Option<ExecutorId>,
}

/// Agent → master.
// Each message is moved once through a channel; boxing the large variants
// would only add an allocation per message.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub(crate) enum FromAgent {
    /// A task's status changed. Carries a `uuid` (the agent's status update
    /// manager resends it until the master relays the acknowledgement).
    StatusUpdate {
        agent_id: AgentId,
        framework_id: FrameworkId,
        /// Shared with the agent's status update manager (which keeps it
        /// until acknowledged) and the task's records.
        status: Arc<TaskStatus>,
    },
    /// An executor sent a framework message.
    ExecutorMessage {
        agent_id: AgentId,
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        data: Bytes,
    },
    /// An executor terminated (`status`: its wait status, if known).
    ExecutorTerminated {
        agent_id: AgentId,
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        status: Option<i32>,
    },
}

/// How the master reaches one agent.
#[derive(Debug, Clone)]
pub(crate) struct AgentLink {
    /// The agent's info as it registered (id, hostname, port, resources, attributes).
    pub(crate) info: AgentInfo,
    /// Its UPID, `slave(N)@127.0.0.1:port`.
    pub(crate) pid: String,
    /// Messages to the agent.
    pub(crate) tx: mpsc::UnboundedSender<ToAgent>,
}
