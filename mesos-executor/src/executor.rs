//! The `Executor` trait: what an executor author implements.

use async_trait::async_trait;
use bytes::Bytes;
use mesos_proto::v1::{
    AgentInfo, ExecutorInfo, FrameworkInfo, KillPolicy, TaskGroupInfo, TaskId, TaskInfo,
};

use crate::ExecutorDriver;

/// The callbacks of an executor, the Rust counterpart of Mesos's
/// `mesos::Executor`. Every method has a no-op default.
///
/// # Contract
/// - **One at a time, in event order.** The driver calls the methods from
///   its own tokio task, awaiting each before it reads the next event, so
///   `&mut self` is never shared. A slow callback delays the next event (the
///   agent's stream is buffered meanwhile); spawn long work on a task of
///   your own and report from there with a clone of the driver.
/// - **Calling the driver is safe everywhere**: from a callback or from any
///   task, [`ExecutorDriver::send_status_update`],
///   [`ExecutorDriver::send_framework_message`], [`ExecutorDriver::stop`]
///   and [`ExecutorDriver::abort`] never wait for the callback to finish.
///   Only [`ExecutorDriver::join`] must not be awaited from a callback (it
///   waits for the driver task, which is waiting for the callback).
/// - **Interruption.** After [`ExecutorDriver::stop`] or
///   [`ExecutorDriver::abort`], a running callback is dropped at its next
///   `.await`; [`Executor::shutdown`] is dropped when the grace period ends.
#[async_trait]
pub trait Executor: Send + 'static {
    /// The first SUBSCRIBED: the agent knows this executor.
    async fn registered(
        &mut self,
        _driver: &ExecutorDriver,
        _executor_info: ExecutorInfo,
        _framework_info: FrameworkInfo,
        _agent_info: AgentInfo,
    ) {
    }

    /// SUBSCRIBED again after the connection to the agent was lost (agent
    /// restart with checkpointing).
    async fn reregistered(&mut self, _driver: &ExecutorDriver, _agent_info: AgentInfo) {}

    /// The connection to the agent was lost. With checkpointing the driver
    /// keeps resubscribing (then [`Executor::reregistered`] or, after the
    /// recovery timeout, [`Executor::shutdown`]); without, it shuts down.
    async fn disconnected(&mut self, _driver: &ExecutorDriver) {}

    /// LAUNCH: start `task` and report its states with
    /// [`ExecutorDriver::send_status_update`].
    async fn launch_task(&mut self, _driver: &ExecutorDriver, _task: TaskInfo) {}

    /// LAUNCH_GROUP: start every task of the group, atomically.
    async fn launch_group(&mut self, _driver: &ExecutorDriver, _task_group: TaskGroupInfo) {}

    /// KILL: kill `task_id` (with the grace period of `kill_policy`, if any)
    /// and report a terminal state.
    async fn kill_task(
        &mut self,
        _driver: &ExecutorDriver,
        _task_id: TaskId,
        _kill_policy: Option<KillPolicy>,
    ) {
    }

    /// ACKNOWLEDGED: the agent has the update `uuid` of `task_id`.
    async fn acknowledged(&mut self, _driver: &ExecutorDriver, _task_id: TaskId, _uuid: Bytes) {}

    /// MESSAGE: a framework message from the scheduler.
    async fn framework_message(&mut self, _driver: &ExecutorDriver, _data: Bytes) {}

    /// SHUTDOWN (or the connection is lost for good): kill every task. The
    /// driver stops when this returns or when the shutdown grace period
    /// ends, whichever is first.
    async fn shutdown(&mut self, _driver: &ExecutorDriver) {}

    /// ERROR from the agent, an undecodable event, or a fatal driver error
    /// (sent just before the driver aborts).
    async fn error(&mut self, _driver: &ExecutorDriver, _message: String) {}
}
