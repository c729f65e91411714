//! A port of Mesos's `src/examples/test_framework.cpp`: launches N tasks on
//! the custom `test_executor` (1 cpu, 128 MB each, as many per offer as fit)
//! and exits 0 once all of them finished, non-zero on any failure, like
//! `driver.run() == DRIVER_STOPPED ? 0 : 1`.
//!
//! ```sh
//! cargo build -p mesos-examples --examples
//! cargo run -p mesos-examples --example test_framework -- local 5
//! cargo run -p mesos-examples --example test_framework -- http://127.0.0.1:5050 5
//! cargo run -p mesos-examples --example test_framework -- zk://127.0.0.1:2181/mesos 10 --task-seconds 3
//! ```
//!
//! Arguments: `[master] [tasks] [--task-seconds S]`. The master is `local`
//! (the default), a URL, or a `zk://` URL (see
//! `mesos_examples::master_from_arg`); `tasks` defaults to 5. Each task
//! finishes at once, as in Mesos, unless `--task-seconds S` is given: then
//! the executor runs it S seconds (`3`, `0.5`; at most a day) before
//! TASK_FINISHED (the run time travels in the task's `data`). A framework
//! whose master fails over keeps its tasks and its framework id.
//!
//! Besides its log (stderr), it prints to stdout, as Mesos's test
//! framework does: `Registered with framework ID <id>`, `Reregistered with
//! framework ID <id>` after each resubscription (a master failover), and
//! `Task <id> is in state <STATE>` for every status update.
//!
//! The executor binary is `test_executor` next to this one (build both with
//! `--examples`), or the path in `TEST_EXECUTOR`.

use std::collections::HashSet;
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
    /// The `data` of each task: the run time in seconds, if any.
    task_data: Option<String>,
    total_tasks: usize,
    tasks_launched: usize,
    /// The ids of the tasks launched here that finished (a status update
    /// may come twice: Mesos delivers them at least once).
    tasks_finished: HashSet<String>,
}

#[async_trait]
impl Scheduler for TestScheduler {
    async fn registered(&mut self, _: &SchedulerDriver, id: &FrameworkId, _: Option<&MasterInfo>) {
        tracing::info!(framework_id = %id.value, "registered");
        println!("Registered with framework ID {}", id.value);
    }

    async fn reregistered(&mut self, driver: &SchedulerDriver, master: Option<&MasterInfo>) {
        let id = driver.client().framework_id().unwrap_or_default().value;
        let master = master.map(|m| m.id.as_str()).unwrap_or_default();
        tracing::info!(framework_id = %id, master, "reregistered");
        println!("Reregistered with framework ID {id}");
    }

    async fn disconnected(&mut self, _: &SchedulerDriver) {
        tracing::warn!("disconnected from the master");
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
                let mut task = TaskInfo::builder(format!("Task {id}"), id.as_str())
                    .agent_id(&offer.agent_id)
                    .resources(share)
                    .executor(self.executor.clone());
                if let Some(data) = &self.task_data {
                    task = task.data(data.clone());
                }
                match task.build() {
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
        println!(
            "Task {} is in state {}",
            status.task_id.value,
            state.as_str_name()
        );
        let ours = status
            .task_id
            .value
            .parse::<usize>()
            .is_ok_and(|index| index < self.tasks_launched);
        if state == TaskState::TaskFinished && ours {
            self.tasks_finished.insert(status.task_id.value.clone());
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
        if self.tasks_finished.len() == self.total_tasks {
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

const USAGE: &str = "usage: test_framework [master] [tasks] [--task-seconds S]";

/// The command line: `[master] [tasks] [--task-seconds S]`.
struct Args {
    master: Option<String>,
    total_tasks: usize,
    /// The run time, as given (it becomes each task's `data`).
    task_seconds: Option<String>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut positional = Vec::new();
    let mut task_seconds = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--task-seconds" => {
                let value = args
                    .next()
                    .ok_or_else(|| format!("--task-seconds needs a value; {USAGE}"))?;
                mesos_examples::parse_task_seconds(&value)
                    .map_err(|e| format!("--task-seconds: {e}"))?;
                task_seconds = Some(value.trim().to_string());
            }
            flag if flag.starts_with("--") => return Err(format!("unknown flag {flag}; {USAGE}")),
            _ => positional.push(arg),
        }
    }
    if positional.len() > 2 {
        return Err(USAGE.to_string());
    }
    let total_tasks = match positional.get(1) {
        Some(n) => n
            .parse()
            .map_err(|_| format!("invalid number of tasks {n:?}"))?,
        None => 5,
    };
    Ok(Args {
        master: positional.into_iter().next(),
        total_tasks,
        task_seconds,
    })
}

async fn run() -> Result<Status, String> {
    let Args {
        master,
        total_tasks,
        task_seconds,
    } = parse_args(std::env::args().skip(1))?;
    let master = mesos_examples::master_from_arg(master.as_deref(), 1).await?;
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
        task_data: task_seconds,
        total_tasks,
        tasks_launched: 0,
        tasks_finished: HashSet::new(),
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
