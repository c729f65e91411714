//! Command tasks without an executor: the `TaskInfo` has a `CommandInfo`
//! (and, for the Docker task, a `ContainerInfo`) and no `ExecutorInfo`, so
//! the agent runs each under its command executor (for the Docker task, as
//! Mesos does with `mesos-docker-executor`). One plain shell task, one task
//! whose script the agent's fetcher downloads into its sandbox first
//! (`CommandInfo.uris`: `hello.sh`, served over HTTP on loopback by this
//! program, marked executable) and runs, and one Docker task (the local
//! busybox image running a shell command); exits 0 once all finished, 1 on
//! any other end.
//!
//! ```sh
//! cargo run -p mesos-examples --example command_framework                 # local, all tasks
//! cargo run -p mesos-examples --example command_framework -- http://127.0.0.1:5050 --no-docker
//! ```
//!
//! Arguments: `[master] [--no-docker] [--no-fetch]`. `--no-docker` skips
//! the Docker task (for agents without the Docker containerizer);
//! `--no-fetch` skips the fetched script (for agents without a
//! `mesos-fetcher`, or not on this host: the script is served on
//! 127.0.0.1). On `local` the image is built locally when the engine does
//! not have it.

use std::process::ExitCode;
use std::sync::Arc;

use async_trait::async_trait;
use mesos_docker::image::{ensure_local_busybox_image, LOCAL_BUSYBOX_IMAGE};
use mesos_proto::builders::{CommandInfoBuilder, DockerInfoBuilder, DockerNetwork, UriBuilder};
use mesos_proto::resources::Resources;
use mesos_proto::v1::{
    FrameworkId, FrameworkInfo, MasterInfo, Offer, Status, TaskInfo, TaskState, TaskStatus,
};
use mesos_scheduler::{Scheduler, SchedulerConfig, SchedulerDriver};
use tokio_util::sync::CancellationToken;

const CPUS_PER_TASK: f64 = 0.5;
const MEM_PER_TASK: f64 = 64.0;

/// The script the fetched task downloads and runs.
const SCRIPT: &str = "#!/bin/sh\necho \"hello from a fetched script in $MESOS_SANDBOX\"\n";

/// The kinds of command task.
#[derive(Clone)]
enum Kind {
    Shell,
    /// Runs `./hello.sh`, fetched from this URL first.
    Fetched(String),
    Docker,
}

struct CommandScheduler {
    to_launch: Vec<(String, Kind)>,
    total: usize,
    finished: usize,
}

fn task(offer: &Offer, id: &str, kind: Kind, resources: Resources) -> Result<TaskInfo, String> {
    let builder = TaskInfo::builder(id, id)
        .agent_id(&offer.agent_id)
        .resources(resources);
    let builder = match kind {
        Kind::Shell => builder.command(CommandInfoBuilder::shell(
            "echo hello from a command task in $MESOS_SANDBOX",
        )),
        Kind::Fetched(url) => builder.command(
            CommandInfoBuilder::shell("./hello.sh").uri(UriBuilder::new(url).executable(true)),
        ),
        Kind::Docker => builder
            .command(CommandInfoBuilder::shell(
                "echo hello from $MESOS_CONTAINER_NAME in $MESOS_SANDBOX; uname -a",
            ))
            .container(DockerInfoBuilder::new(LOCAL_BUSYBOX_IMAGE).network(DockerNetwork::Bridge)),
    };
    builder.build().map_err(|e| e.to_string())
}

#[async_trait]
impl Scheduler for CommandScheduler {
    async fn registered(&mut self, _: &SchedulerDriver, id: &FrameworkId, _: Option<&MasterInfo>) {
        tracing::info!(framework_id = %id.value, "registered");
    }

    async fn resource_offers(&mut self, driver: &SchedulerDriver, offers: Vec<Offer>) {
        let wanted = Resources::new()
            .with_cpus(CPUS_PER_TASK)
            .with_mem(MEM_PER_TASK);
        for offer in offers {
            let mut remaining = Resources::from(offer.resources.clone());
            let mut tasks = Vec::new();
            while let Some((id, kind)) = self.to_launch.first().cloned() {
                let Some(share) = remaining.find(&wanted) else {
                    break;
                };
                remaining -= &share;
                self.to_launch.remove(0);
                match task(&offer, &id, kind, share) {
                    Ok(task) => {
                        tracing::info!(task_id = %id, "launching task");
                        tasks.push(task);
                    }
                    Err(e) => {
                        eprintln!("command_framework: invalid task {id}: {e}");
                        driver.abort().await;
                        return;
                    }
                }
            }
            mesos_examples::launch_or_decline(driver, offer.id.clone(), tasks, None).await;
        }
    }

    async fn status_update(&mut self, driver: &SchedulerDriver, status: TaskStatus) {
        let state = status.state();
        tracing::info!(task_id = %status.task_id.value, state = state.as_str_name(), message = status.message(), "status update");
        match state {
            TaskState::TaskFinished => {
                self.finished += 1;
                println!("{} finished", status.task_id.value);
                if self.finished == self.total {
                    driver.stop(false).await;
                }
            }
            TaskState::TaskFailed
            | TaskState::TaskKilled
            | TaskState::TaskLost
            | TaskState::TaskError
            | TaskState::TaskDropped
            | TaskState::TaskGone
            | TaskState::TaskGoneByOperator
            | TaskState::TaskUnreachable => {
                eprintln!(
                    "command_framework: task {} ended {}: {}",
                    status.task_id.value,
                    state.as_str_name(),
                    status.message()
                );
                driver.abort().await;
            }
            _ => {}
        }
    }

    async fn error(&mut self, _: &SchedulerDriver, message: String) {
        tracing::error!(%message, "error");
    }
}

async fn run() -> Result<Status, String> {
    let mut docker = true;
    let mut fetch = true;
    let mut positional = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--no-docker" => docker = false,
            "--no-fetch" => fetch = false,
            flag if flag.starts_with("--") => return Err(format!("unknown flag {flag}")),
            _ => positional.push(arg),
        }
    }
    if positional.len() > 1 {
        return Err("usage: command_framework [master] [--no-docker] [--no-fetch]".into());
    }
    let master_arg = positional.first().map(String::as_str);
    if docker && matches!(master_arg, None | Some("local")) {
        tokio::task::spawn_blocking(ensure_local_busybox_image)
            .await
            .map_err(|e| format!("building the image: {e}"))?
            .map_err(|e| format!("building the image {LOCAL_BUSYBOX_IMAGE}: {e}"))?;
    }
    let master = mesos_examples::master_from_arg(master_arg, 1).await?;
    let mut to_launch = vec![("shell-task".to_string(), Kind::Shell)];
    let script_server = CancellationToken::new();
    // Stops serving the script when `run` returns.
    let _stop_serving = script_server.clone().drop_guard();
    if fetch {
        let url = serve_script(script_server).await?;
        to_launch.push(("fetched-task".to_string(), Kind::Fetched(url)));
    }
    if docker {
        to_launch.push(("docker-task".to_string(), Kind::Docker));
    }
    let framework = FrameworkInfo::builder(mesos_examples::user(), "Command Framework (Rust)")
        .build()
        .map_err(|e| e.to_string())?;
    let config =
        SchedulerConfig::new([master.url.as_str()], framework).map_err(|e| e.to_string())?;
    let scheduler = CommandScheduler {
        total: to_launch.len(),
        to_launch,
        finished: 0,
    };
    let driver = SchedulerDriver::new(scheduler, config).map_err(|e| e.to_string())?;
    let status = driver.run().await;
    drop(master);
    Ok(status)
}

/// Serves [`SCRIPT`] as `/hello.sh` on a free loopback port until
/// `shutdown`; returns its URL.
async fn serve_script(shutdown: CancellationToken) -> Result<String, String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("serving the script: {e}"))?;
    let address = listener
        .local_addr()
        .map_err(|e| format!("serving the script: {e}"))?;
    let handler = Arc::new(|request: http::Request<_>, _| async move {
        if request.uri().path() == "/hello.sh" {
            mesos_http::server::text_response(http::StatusCode::OK, SCRIPT)
        } else {
            mesos_http::server::empty_response(http::StatusCode::NOT_FOUND)
        }
    });
    tokio::spawn(mesos_http::server::serve(
        listener,
        move |request, peer| handler(request, peer),
        shutdown,
    ));
    Ok(format!("http://{address}/hello.sh"))
}

#[tokio::main]
async fn main() -> ExitCode {
    mesos_examples::init_logging();
    mesos_examples::exit_code("command_framework", run().await)
}
