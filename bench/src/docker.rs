//! `mesos-bench docker`: what running a Docker container through Mesos
//! costs over a bare `docker run` of the same image and command.
//!
//! Three ways, `--launches` times each, taking turns (bare, mesos-local,
//! executor, bare, ...):
//!
//! - **bare**: `docker run -d <image>` timed until it returns (the engine
//!   answers once the container has started: "running"), and `docker run
//!   <image>` (attached) timed until it returns (the container has exited:
//!   "exit"); the containers are removed afterwards, untimed.
//! - **mesos-local**: a command task with a `DOCKER` container on an
//!   in-process `mesos-local` cluster (its `DockerContainerizer`), timed
//!   from the framework's ACCEPT to TASK_RUNNING ("running") and to
//!   TASK_FINISHED ("exit") as the framework receives them.
//! - **executor**: the same task run by `mesos-docker-executor` (a custom
//!   executor of the same cluster, started through its process
//!   containerizer, as a real agent starts Mesos's Docker executor), timed
//!   the same way.
//!
//! The image is [`BENCH_IMAGE`]: the crate's local busybox image with
//! `sleep 1` as entrypoint (so that "running" is seen while the container
//! runs, not after it ended), run with its entrypoint (no command) in all
//! three, on the same Docker network. Prints the medians and their ratios
//! to bare.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use mesos_local::LocalCluster;
use mesos_proto::builders::{CommandInfoBuilder, DockerInfoBuilder, DockerNetwork};
use mesos_proto::v1::{ExecutorInfo, FrameworkInfo, Offer, TaskInfo, TaskState};
use mesos_scheduler::{subscribe, SchedulerClient, SchedulerConfig, SchedulerEvent, Subscription};
use serde_json::json;

use crate::acks::Acknowledger;

/// The image every launch runs: entrypoint `sleep 1`, nothing else.
pub(crate) const BENCH_IMAGE: &str = "mesos-bench:sleep1";

/// Bound of one launch, from ACCEPT (or `docker run`) to the end.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(60);
/// Pause between two launches, so that the previous container's removal
/// (by Mesos, or by us for bare runs) is not timed in the next launch.
const SETTLE: Duration = Duration::from_millis(500);
const TASK_CPUS: f64 = 0.1;
const TASK_MEM: f64 = 32.0;
const EXECUTOR_CPUS: f64 = 0.1;
const EXECUTOR_MEM: f64 = 32.0;

/// The Docker network of every container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Network {
    /// Docker's default (`docker run` without `--net`).
    Bridge,
    /// The host's network namespace (Mesos's default for `DockerInfo`).
    Host,
}

impl Network {
    fn docker_arg(self) -> &'static str {
        match self {
            Network::Bridge => "--net=bridge",
            Network::Host => "--net=host",
        }
    }

    fn mesos(self) -> DockerNetwork {
        match self {
            Network::Bridge => DockerNetwork::Bridge,
            Network::Host => DockerNetwork::Host,
        }
    }
}

/// The times of one launch.
#[derive(Debug, Default)]
struct Timing {
    running: Vec<f64>,
    exit: Vec<f64>,
}

impl Timing {
    fn record(&mut self, running: Duration, exit: Duration) {
        self.running.push(running.as_secs_f64() * 1000.0);
        self.exit.push(exit.as_secs_f64() * 1000.0);
    }
}

fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    a.zip(b).map(|(a, b)| a / b)
}

/// `mesos-bench docker --launches N [--network bridge|host] [--executor PATH]`.
pub(crate) async fn run(
    launches: usize,
    network: Network,
    executor: Option<PathBuf>,
) -> Result<serde_json::Value, String> {
    let executor = match executor {
        Some(path) => path,
        None => std::env::current_exe()
            .map_err(|e| format!("cannot find this program: {e}"))?
            .with_file_name("mesos-docker-executor"),
    };
    if !executor.is_file() {
        return Err(format!(
            "{} is missing: cargo build --release -p mesos-docker --bin mesos-docker-executor (or --executor PATH)",
            executor.display()
        ));
    }
    tokio::task::spawn_blocking(ensure_bench_image)
        .await
        .map_err(|e| e.to_string())??;
    let tag = format!("mesos-bench-{}-", std::process::id());

    let cluster = LocalCluster::builder()
        .agents(1)
        .resources_text("cpus:8;mem:8192;disk:1000")
        .start()
        .await
        .map_err(|e| mesos_http::error_chain(&e))?;
    let mut framework = Framework::subscribe(cluster.master_url()).await?;
    let (mut bare, mut local, mut by_executor) =
        (Timing::default(), Timing::default(), Timing::default());
    // The three ways in turn, launch after launch, so that the machine's
    // load (shared, two cores) weighs on all three alike.
    for index in 0..launches {
        let name = format!("{tag}bare-{index}");
        let (running, exit) = bare_launch(&name, network).await?;
        bare.record(running, exit);

        let task = docker_task(&format!("local-{index}"), network)
            .command(CommandInfoBuilder::entrypoint())
            .build()
            .map_err(|e| e.to_string())?;
        let (running, exit) = framework.launch(task).await?;
        local.record(running, exit);
        tokio::time::sleep(SETTLE).await;

        let container = format!("{tag}executor-{index}");
        let executor_info = ExecutorInfo::builder(format!("docker-executor-{index}").as_str())
            .name("mesos-docker-executor")
            .command(CommandInfoBuilder::shell(format!(
                "exec '{}' --container={container} --docker=docker \
                 --sandbox_directory=\"$MESOS_DIRECTORY\" --mapped_directory=/mnt/mesos/sandbox",
                executor.display()
            )))
            .cpus(EXECUTOR_CPUS)
            .mem(EXECUTOR_MEM)
            .build()
            .map_err(|e| e.to_string())?;
        let task = docker_task(&format!("executor-{index}"), network)
            .executor(executor_info)
            .build()
            .map_err(|e| e.to_string())?;
        let (running, exit) = framework.launch(task).await?;
        by_executor.record(running, exit);
        tokio::time::sleep(SETTLE).await;
    }
    framework.finish().await?;
    drop(cluster);

    let medians = |t: &Timing| (median(&t.running), median(&t.exit));
    let (bare_running, bare_exit) = medians(&bare);
    let (local_running, local_exit) = medians(&local);
    let (executor_running, executor_exit) = medians(&by_executor);
    Ok(json!({
        "bench": "docker",
        "launches": launches,
        "image": BENCH_IMAGE,
        "network": format!("{network:?}").to_lowercase(),
        "bare_running_ms": bare_running,
        "bare_exit_ms": bare_exit,
        "mesos_local_running_ms": local_running,
        "mesos_local_exit_ms": local_exit,
        "executor_running_ms": executor_running,
        "executor_exit_ms": executor_exit,
        "mesos_local_running_ratio": ratio(local_running, bare_running),
        "mesos_local_exit_ratio": ratio(local_exit, bare_exit),
        "executor_running_ratio": ratio(executor_running, bare_running),
        "executor_exit_ratio": ratio(executor_exit, bare_exit),
    }))
}

/// A task running [`BENCH_IMAGE`] on `network`; its agent is set at launch.
fn docker_task(id: &str, network: Network) -> mesos_proto::builders::TaskInfoBuilder {
    TaskInfo::builder("docker", id)
        .agent_id("unset")
        .cpus(TASK_CPUS)
        .mem(TASK_MEM)
        .container(DockerInfoBuilder::new(BENCH_IMAGE).network(network.mesos()))
}

/// One bare launch, twice: `docker run -d` until it returns (running),
/// then `docker run` attached until it returns (exit); each container is
/// removed afterwards, untimed.
async fn bare_launch(name: &str, network: Network) -> Result<(Duration, Duration), String> {
    let started = Instant::now();
    docker(&[
        "run",
        "-d",
        "--name",
        name,
        network.docker_arg(),
        BENCH_IMAGE,
    ])
    .await?;
    let running = started.elapsed();
    docker(&["rm", "-f", name]).await?;
    tokio::time::sleep(SETTLE).await;
    let started = Instant::now();
    docker(&["run", "--name", name, network.docker_arg(), BENCH_IMAGE]).await?;
    let exit = started.elapsed();
    docker(&["rm", "-f", name]).await?;
    tokio::time::sleep(SETTLE).await;
    Ok((running, exit))
}

/// Runs `docker ARGS`, bounded by [`LAUNCH_TIMEOUT`]; its stderr on failure.
async fn docker(args: &[&str]) -> Result<(), String> {
    let output = tokio::process::Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(LAUNCH_TIMEOUT, output)
        .await
        .map_err(|_| format!("docker {} timed out", args.join(" ")))?
        .map_err(|e| format!("docker: {e}"))?;
    succeeded(&output, &format!("docker {}", args.join(" ")))
}

/// `Ok` if the command `what` succeeded, else its status and stderr.
fn succeeded(output: &std::process::Output, what: &str) -> Result<(), String> {
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{what}: {}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    ))
}

/// Builds [`BENCH_IMAGE`] from the crate's local busybox image (no
/// registry: `FROM` a local image) unless it exists.
fn ensure_bench_image() -> Result<(), String> {
    let exists = std::process::Command::new("docker")
        .args(["image", "inspect", BENCH_IMAGE])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if exists {
        return Ok(());
    }
    let base = mesos_docker::image::ensure_local_busybox_image().map_err(|e| e.to_string())?;
    let dockerfile = format!("FROM {base}\nENTRYPOINT [\"/bin/sleep\", \"1\"]\n");
    let mut build = std::process::Command::new("docker")
        .args(["build", "-q", "-t", BENCH_IMAGE, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("docker build: {e}"))?;
    if let Some(mut stdin) = build.stdin.take() {
        use std::io::Write as _;
        stdin
            .write_all(dockerfile.as_bytes())
            .map_err(|e| format!("docker build: {e}"))?;
    }
    let output = build
        .wait_with_output()
        .map_err(|e| format!("docker build: {e}"))?;
    succeeded(&output, &format!("docker build of {BENCH_IMAGE}"))
}

/// A framework launching one task at a time and timing it.
struct Framework {
    client: SchedulerClient,
    events: Subscription,
    offers: Vec<Offer>,
    acks: Acknowledger,
}

impl Framework {
    async fn subscribe(master: &str) -> Result<Framework, String> {
        let info = FrameworkInfo::builder("root", "mesos-bench-docker")
            .build()
            .map_err(|e| e.to_string())?;
        let config = SchedulerConfig::new([master], info).map_err(|e| e.to_string())?;
        let (client, events) = subscribe(config).map_err(|e| e.to_string())?;
        let acks = Acknowledger::new(client.clone());
        Ok(Framework {
            client,
            events,
            offers: Vec::new(),
            acks,
        })
    }

    /// The next event, bounded by [`LAUNCH_TIMEOUT`]; offers are kept for
    /// later launches and updates acknowledged.
    async fn next_event(&mut self) -> Result<Option<mesos_proto::v1::TaskStatus>, String> {
        let event = tokio::time::timeout(LAUNCH_TIMEOUT, self.events.next())
            .await
            .map_err(|_| format!("no event for {} s", LAUNCH_TIMEOUT.as_secs()))?
            .ok_or("the subscription ended")?
            .map_err(|e| mesos_http::error_chain(&e))?;
        match event {
            SchedulerEvent::Offers(offers) => self.offers.extend(offers),
            SchedulerEvent::Rescind(offer_id) => self.offers.retain(|o| o.id != offer_id),
            SchedulerEvent::Update(status) => {
                self.acks.acknowledge(status.clone()).await?;
                return Ok(Some(status));
            }
            SchedulerEvent::Error(message) => return Err(message),
            _ => {}
        }
        Ok(None)
    }

    /// Launches `task` on the next offer's agent that has room for it
    /// (smaller offers, the leftovers of a previous launch, are declined
    /// so that their resources come back whole); the times from ACCEPT to
    /// TASK_RUNNING and to TASK_FINISHED.
    async fn launch(&mut self, mut task: TaskInfo) -> Result<(Duration, Duration), String> {
        let needed = |name: &str| {
            let sum = |resources: &[mesos_proto::v1::Resource]| -> f64 {
                resources
                    .iter()
                    .filter(|r| r.name == name)
                    .filter_map(|r| r.scalar.map(|s| s.value))
                    .sum()
            };
            sum(&task.resources) + task.executor.as_ref().map_or(0.0, |e| sum(&e.resources))
        };
        let (cpus, mem) = (needed("cpus"), needed("mem"));
        let waiting = Instant::now();
        let offer = loop {
            if let Some(offer) = self.offers.pop() {
                if crate::offered_scalar(&offer, "cpus") >= cpus - 1e-9
                    && crate::offered_scalar(&offer, "mem") >= mem - 1e-9
                {
                    break offer;
                }
                self.client
                    .decline(
                        vec![offer.id],
                        Some(mesos_proto::builders::filters(Duration::ZERO)),
                    )
                    .await
                    .map_err(|e| mesos_http::error_chain(&e))?;
                continue;
            }
            if waiting.elapsed() > LAUNCH_TIMEOUT {
                return Err(format!("no offer with cpus {cpus} and mem {mem}"));
            }
            self.next_event().await?;
        };
        task.agent_id = offer.agent_id.clone();
        let started = Instant::now();
        self.client
            .launch_tasks(
                vec![offer.id],
                vec![task.clone()],
                Some(mesos_proto::builders::filters(Duration::ZERO)),
            )
            .await
            .map_err(|e| mesos_http::error_chain(&e))?;
        let mut running = None;
        while started.elapsed() < LAUNCH_TIMEOUT {
            let Some(status) = self.next_event().await? else {
                continue;
            };
            if status.task_id != task.task_id {
                continue;
            }
            match status.state() {
                TaskState::TaskRunning => {
                    running.get_or_insert(started.elapsed());
                }
                TaskState::TaskFinished => {
                    let exit = started.elapsed();
                    return running.map(|running| (running, exit)).ok_or_else(|| {
                        format!("{}: TASK_FINISHED before TASK_RUNNING", task.task_id.value)
                    });
                }
                TaskState::TaskStaging | TaskState::TaskStarting => {}
                other => {
                    return Err(format!(
                        "{}: {} ({})",
                        task.task_id.value,
                        other.as_str_name(),
                        status.message.as_deref().unwrap_or("")
                    ))
                }
            }
        }
        Err(format!(
            "{}: not finished within {} s",
            task.task_id.value,
            LAUNCH_TIMEOUT.as_secs()
        ))
    }

    /// Waits for the acknowledgements and tears the framework down.
    async fn finish(self) -> Result<(), String> {
        self.acks.finish().await?;
        let _ = self.client.teardown().await;
        Ok(())
    }
}
