//! A port of Mesos's `src/examples/test_framework.cpp`: launches N tasks on
//! the custom `test_executor` (1 cpu, 128 MB each, as many per offer as fit)
//! and exits 0 once all of them finished, non-zero on any failure, like
//! `driver.run() == DRIVER_STOPPED ? 0 : 1`.
//!
//! ```sh
//! cargo build -p mesos-examples --examples
//! cargo run -p mesos-examples --example test_framework -- local 5
//! cargo run -p mesos-examples --example test_framework -- http://127.0.0.1:5050 5
//! ```
//!
//! The executor binary is `test_executor` next to this one (build both with
//! `--examples`), or the path in `TEST_EXECUTOR`.

use std::path::PathBuf;
use std::process::ExitCode;

use async_trait::async_trait;
use mesos_proto::builders::CommandInfoBuilder;
use mesos_proto::resources::Resources;
use mesos_proto::v1::{
    ExecutorInfo, FrameworkId, FrameworkInfo, MasterInfo, Offer, Status, TaskInfo, TaskState,
    TaskStatus,
};
use mesos_scheduler::{Scheduler, SchedulerConfig, SchedulerDriver};

const CPUS_PER_TASK: f64 = 1.0;
const MEM_PER_TASK: f64 = 128.0;

struct TestScheduler {
    executor: ExecutorInfo,
    total_tasks: usize,
    tasks_launched: usize,
    tasks_finished: usize,
}

#[async_trait]
impl Scheduler for TestScheduler {
    async fn registered(&mut self, _: &SchedulerDriver, id: &FrameworkId, _: Option<&MasterInfo>) {
        tracing::info!(framework_id = %id.value, "registered");
    }

    async fn resource_offers(&mut self, driver: &SchedulerDriver, offers: Vec<Offer>) {
        for offer in offers {
            let mut remaining = Resources::from(offer.resources.clone());
            let wanted = Resources::new()
                .with_cpus(CPUS_PER_TASK)
                .with_mem(MEM_PER_TASK);
            let mut tasks = Vec::new();
            while self.tasks_launched < self.total_tasks {
                let Some(share) = remaining.find(&wanted) else {
                    break;
                };
                remaining -= &share;
                let id = self.tasks_launched.to_string();
                self.tasks_launched += 1;
                tracing::info!(task_id = %id, offer = %offer.id.value, "launching task");
                match TaskInfo::builder(format!("Task {id}"), id.as_str())
                    .agent_id(&offer.agent_id)
                    .resources(share)
                    .executor(self.executor.clone())
                    .build()
                {
                    Ok(task) => tasks.push(task),
                    Err(e) => tracing::error!(error = %e, "invalid task"),
                }
            }
            mesos_examples::launch_or_decline(driver, offer.id.clone(), tasks, None).await;
        }
    }

    async fn status_update(&mut self, driver: &SchedulerDriver, status: TaskStatus) {
        let state = status.state();
        tracing::info!(task_id = %status.task_id.value, state = state.as_str_name(), "status update");
        if state == TaskState::TaskFinished {
            self.tasks_finished += 1;
        }
        if matches!(
            state,
            TaskState::TaskLost
                | TaskState::TaskKilled
                | TaskState::TaskFailed
                | TaskState::TaskError
        ) {
            tracing::error!(
                task_id = %status.task_id.value,
                state = state.as_str_name(),
                message = status.message(),
                "aborting because a task did not finish"
            );
            driver.abort().await;
            return;
        }
        if self.tasks_finished == self.total_tasks {
            driver.stop(false).await;
        }
    }

    async fn error(&mut self, _: &SchedulerDriver, message: String) {
        tracing::error!(%message, "error");
    }
}

fn executor_path() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("TEST_EXECUTOR") {
        return Ok(PathBuf::from(path));
    }
    let me = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let path = me.with_file_name("test_executor");
    if path.exists() {
        Ok(path)
    } else {
        Err(format!(
            "{} not found: build it with `cargo build -p mesos-examples --examples` or set TEST_EXECUTOR",
            path.display()
        ))
    }
}

async fn run() -> Result<Status, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let total_tasks = match args.get(1) {
        Some(n) => n
            .parse()
            .map_err(|_| format!("invalid number of tasks {n:?}"))?,
        None => 5,
    };
    let master = mesos_examples::master_from_arg(args.first().map(String::as_str), 1).await?;
    let path = executor_path()?;
    let executor = ExecutorInfo::builder("default")
        .name("Test Executor (Rust)")
        .command(CommandInfoBuilder::argv(
            path.display().to_string(),
            Vec::<String>::new(),
        ))
        .build()
        .map_err(|e| e.to_string())?;
    let framework = FrameworkInfo::builder(mesos_examples::user(), "Test Framework (Rust)")
        .build()
        .map_err(|e| e.to_string())?;
    let config =
        SchedulerConfig::new([master.url.as_str()], framework).map_err(|e| e.to_string())?;
    let scheduler = TestScheduler {
        executor,
        total_tasks,
        tasks_launched: 0,
        tasks_finished: 0,
    };
    let driver = SchedulerDriver::new(scheduler, config).map_err(|e| e.to_string())?;
    let status = driver.run().await;
    drop(master);
    Ok(status)
}

#[tokio::main]
async fn main() -> ExitCode {
    mesos_examples::init_logging();
    mesos_examples::exit_code("test_framework", run().await)
}
