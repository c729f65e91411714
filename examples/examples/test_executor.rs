//! A port of Mesos's `src/examples/test_executor.cpp`: every launched task
//! goes TASK_RUNNING, then TASK_FINISHED; framework messages are echoed
//! back to the scheduler; the process exits when the agent shuts the
//! executor down.
//!
//! Run by a Mesos agent as a custom executor (`ExecutorInfo.command` = the
//! path of this binary); it reads its environment with
//! `mesos_executor::run_from_env`. Logs go to stderr (the sandbox's
//! `stderr` file), filtered by `RUST_LOG` (default `info`).

use async_trait::async_trait;
use bytes::Bytes;
use mesos_executor::{Executor, ExecutorDriver, Status};
use mesos_proto::v1::{AgentInfo, ExecutorInfo, FrameworkInfo, TaskInfo, TaskState, TaskStatus};

struct TestExecutor;

impl TestExecutor {
    async fn update(driver: &ExecutorDriver, task: &TaskInfo, state: TaskState, message: &str) {
        let status = TaskStatus {
            task_id: task.task_id.clone(),
            state: state as i32,
            message: Some(message.to_string()),
            ..Default::default()
        };
        if let Err(e) = driver.send_status_update(status).await {
            tracing::error!(task_id = task.task_id.value, error = %e, "status update failed");
        }
    }
}

#[async_trait]
impl Executor for TestExecutor {
    async fn registered(
        &mut self,
        _driver: &ExecutorDriver,
        executor_info: ExecutorInfo,
        framework_info: FrameworkInfo,
        agent_info: AgentInfo,
    ) {
        tracing::info!(
            executor = executor_info.executor_id.value,
            framework = framework_info.name,
            agent = agent_info.hostname,
            "registered"
        );
    }

    async fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo) {
        tracing::info!(task_id = task.task_id.value, "starting task");
        Self::update(
            driver,
            &task,
            TaskState::TaskRunning,
            "test executor: running",
        )
        .await;
        // This is where one would perform the requested task.
        Self::update(
            driver,
            &task,
            TaskState::TaskFinished,
            "test executor: finished",
        )
        .await;
        tracing::info!(task_id = task.task_id.value, "finished task");
    }

    async fn framework_message(&mut self, driver: &ExecutorDriver, data: Bytes) {
        tracing::info!(len = data.len(), "echoing a framework message");
        if let Err(e) = driver.send_framework_message(data).await {
            tracing::error!(error = %e, "echo failed");
        }
    }

    async fn shutdown(&mut self, _driver: &ExecutorDriver) {
        tracing::info!("shutting down");
    }

    async fn error(&mut self, _driver: &ExecutorDriver, message: String) {
        tracing::error!(message, "error");
    }
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let status = mesos_executor::run_from_env(TestExecutor).await;
    tracing::info!(status = status.as_str_name(), "driver ended");
    std::process::exit(if status == Status::DriverStopped {
        0
    } else {
        1
    });
}
