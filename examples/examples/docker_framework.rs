//! A port of the `ExampleFramework` of the Java Mesos + Docker tutorial:
//! keeps `instances` Docker containers running (1 cpu, 128 MB each, BRIDGE
//! network, the image's own entrypoint: `shell = false`, no command value),
//! tracks pending and running tasks from the status updates (RUNNING moves
//! a task from pending to running; FINISHED, FAILED, KILLED, LOST, ... drop
//! it, and the next offers relaunch to keep the count), and declines what
//! it does not need with `refuse_seconds = 1`.
//!
//! ```sh
//! cargo run -p mesos-examples --example docker_framework                  # local, mesos-rs-test:busybox, 1
//! cargo run -p mesos-examples --example docker_framework -- local mesos-rs-test:busybox 3
//! cargo run -p mesos-examples --example docker_framework -- http://mesos-master:5050 nginx:1.27 2
//! ```
//!
//! Arguments: `[master] [image] [instances]` (defaults `local`,
//! `mesos-rs-test:busybox`, 1), plus `--exit-when-running` (or
//! `DOCKER_FRAMEWORK_EXIT_WHEN_RUNNING=1`): stop and exit 0 as soon as
//! `instances` tasks run (for CI); any failed task then exits 1.
//!
//! On `local` the embedded cluster runs the containers on this machine's
//! Docker engine, and the default image is built locally when the engine
//! does not have it (no registry needed). That image's entrypoint prints
//! `entrypoint` and would exit after 2 s; every task sets `KEEP_RUNNING=5`,
//! which makes it print `alive` every 5 s until it is stopped — a
//! long-running service like the tutorial's (other images ignore the
//! variable).
//!
//! Ctrl-C (or SIGTERM) stops the driver with `stop(false)`: TEARDOWN kills
//! the tasks, the embedded cluster is dropped, and no container is left.

use std::process::ExitCode;
use std::time::Duration;

use async_trait::async_trait;
use mesos_docker::image::{ensure_local_busybox_image, KEEP_RUNNING_ENV, LOCAL_BUSYBOX_IMAGE};
use mesos_docker::Docker;
use mesos_proto::builders::{filters, CommandInfoBuilder, DockerInfoBuilder, DockerNetwork};
use mesos_proto::resources::Resources;
use mesos_proto::v1::{
    FrameworkId, FrameworkInfo, MasterInfo, Offer, Status, TaskInfo, TaskState, TaskStatus,
};
use mesos_scheduler::{Scheduler, SchedulerConfig, SchedulerDriver};

const CPUS_PER_TASK: f64 = 1.0;
const MEM_PER_TASK: f64 = 128.0;
const REFUSE: Duration = Duration::from_secs(1);
const EXIT_WHEN_RUNNING_VAR: &str = "DOCKER_FRAMEWORK_EXIT_WHEN_RUNNING";

struct DockerScheduler {
    image: String,
    desired: usize,
    launched: usize,
    pending: Vec<String>,
    running: Vec<String>,
    exit_when_running: bool,
    /// The embedded cluster's container name prefix (`local` only).
    docker_prefix: Option<String>,
}

impl DockerScheduler {
    fn task(&self, offer: &Offer, id: &str, resources: Resources) -> Result<TaskInfo, String> {
        TaskInfo::builder(format!("task {id}"), id)
            .agent_id(&offer.agent_id)
            .resources(resources)
            .command(CommandInfoBuilder::entrypoint().env(KEEP_RUNNING_ENV, "5"))
            .container(DockerInfoBuilder::new(self.image.as_str()).network(DockerNetwork::Bridge))
            .build()
            .map_err(|e| e.to_string())
    }

    fn report(&self) {
        println!(
            "Running tasks: {}, pending: {}",
            self.running.len(),
            self.pending.len()
        );
    }

    /// The containers under the embedded cluster's prefix that run now.
    async fn running_containers(&self) -> Vec<String> {
        let Some(prefix) = &self.docker_prefix else {
            return Vec::new();
        };
        let docker = Docker::default();
        let names = match docker.ps_all_with_prefix(prefix).await {
            Ok(names) => names,
            Err(e) => {
                tracing::warn!(error = %e, "docker ps failed");
                return Vec::new();
            }
        };
        let mut running = Vec::new();
        for name in names {
            if docker.inspect(&name).await.is_ok_and(|s| s.running) {
                running.push(name);
            }
        }
        running.sort();
        running
    }
}

#[async_trait]
impl Scheduler for DockerScheduler {
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
            while self.running.len() + self.pending.len() < self.desired {
                let Some(share) = remaining.find(&wanted) else {
                    break;
                };
                remaining -= &share;
                let id = format!("docker-task-{}", self.launched);
                self.launched += 1;
                match self.task(&offer, &id, share) {
                    Ok(task) => {
                        tracing::info!(task_id = %id, image = %self.image, offer = %offer.id.value, "launching task");
                        self.pending.push(id);
                        tasks.push(task);
                    }
                    Err(e) => tracing::error!(error = %e, "invalid task"),
                }
            }
            mesos_examples::launch_or_decline(
                driver,
                offer.id.clone(),
                tasks,
                Some(filters(REFUSE)),
            )
            .await;
        }
    }

    async fn status_update(&mut self, driver: &SchedulerDriver, status: TaskStatus) {
        let id = status.task_id.value.clone();
        let state = status.state();
        tracing::info!(task_id = %id, state = state.as_str_name(), message = status.message(), "status update");
        match state {
            TaskState::TaskRunning => {
                self.pending.retain(|t| *t != id);
                if !self.running.contains(&id) {
                    self.running.push(id);
                }
            }
            TaskState::TaskFinished
            | TaskState::TaskFailed
            | TaskState::TaskKilled
            | TaskState::TaskLost
            | TaskState::TaskError
            | TaskState::TaskDropped
            | TaskState::TaskGone
            | TaskState::TaskGoneByOperator
            | TaskState::TaskUnreachable => {
                self.pending.retain(|t| *t != id);
                self.running.retain(|t| *t != id);
                if self.exit_when_running && state != TaskState::TaskFinished {
                    eprintln!(
                        "docker_framework: task {id} ended {}: {}",
                        state.as_str_name(),
                        status.message()
                    );
                    self.report();
                    driver.abort().await;
                    return;
                }
            }
            _ => {}
        }
        self.report();
        if self.exit_when_running && self.running.len() >= self.desired {
            if self.docker_prefix.is_some() {
                let containers = self.running_containers().await;
                println!("containers running: {}", containers.join(" "));
            }
            println!("{} tasks running; stopping", self.running.len());
            driver.stop(false).await;
        }
    }

    async fn error(&mut self, _: &SchedulerDriver, message: String) {
        tracing::error!(%message, "error");
    }
}

struct Options {
    master: Option<String>,
    image: String,
    instances: usize,
    exit_when_running: bool,
}

fn options() -> Result<Options, String> {
    let mut exit_when_running = std::env::var(EXIT_WHEN_RUNNING_VAR)
        .is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
    let mut positional = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--exit-when-running" => exit_when_running = true,
            flag if flag.starts_with("--") => return Err(format!("unknown flag {flag}")),
            _ => positional.push(arg),
        }
    }
    if positional.len() > 3 {
        return Err(
            "usage: docker_framework [master] [image] [instances] [--exit-when-running]".into(),
        );
    }
    let instances = match positional.get(2) {
        Some(n) => n
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("invalid number of instances {n:?}"))?,
        None => 1,
    };
    Ok(Options {
        master: positional.first().cloned(),
        image: positional
            .get(1)
            .cloned()
            .unwrap_or_else(|| LOCAL_BUSYBOX_IMAGE.to_string()),
        instances,
        exit_when_running,
    })
}

/// Ctrl-C or SIGTERM.
async fn interrupted() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

async fn run() -> Result<Status, String> {
    let options = options()?;
    let local = matches!(options.master.as_deref(), None | Some("local"));
    if local {
        let version = Docker::default().version().await.map_err(|e| {
            format!("the embedded cluster needs a Docker engine for Docker tasks: {e}")
        })?;
        tracing::info!(%version, "docker engine");
        if options.image == LOCAL_BUSYBOX_IMAGE {
            tokio::task::spawn_blocking(ensure_local_busybox_image)
                .await
                .map_err(|e| format!("building the image: {e}"))?
                .map_err(|e| format!("building the image {LOCAL_BUSYBOX_IMAGE}: {e}"))?;
        }
    }
    let master = mesos_examples::master_from_arg(options.master.as_deref(), 1).await?;
    let docker_prefix = master
        .cluster
        .as_ref()
        .and_then(|c| c.docker_name_prefix())
        .map(str::to_string);
    if let Some(prefix) = &docker_prefix {
        println!("docker containers: {prefix}*");
    }
    let framework = FrameworkInfo::builder(mesos_examples::user(), "Docker Example (Rust)")
        .build()
        .map_err(|e| e.to_string())?;
    let config =
        SchedulerConfig::new([master.url.as_str()], framework).map_err(|e| e.to_string())?;
    let scheduler = DockerScheduler {
        image: options.image,
        desired: options.instances,
        launched: 0,
        pending: Vec::new(),
        running: Vec::new(),
        exit_when_running: options.exit_when_running,
        docker_prefix,
    };
    let driver = SchedulerDriver::new(scheduler, config).map_err(|e| e.to_string())?;
    let stopper = driver.clone();
    let signals = tokio::spawn(async move {
        interrupted().await;
        println!("interrupted; stopping");
        stopper.stop(false).await;
    });
    let status = driver.run().await;
    signals.abort();
    // Dropping the embedded cluster removes whatever still runs.
    drop(master);
    Ok(status)
}

#[tokio::main]
async fn main() -> ExitCode {
    mesos_examples::init_logging();
    mesos_examples::exit_code("docker_framework", run().await)
}
