//! `mesos-bench`: end-to-end measurements of the SDK on `mesos-local`.
//!
//! ```sh
//! cargo run --release -p mesos-bench -- e2e --agents 10 --tasks 10000 --containerizer fake
//! cargo run --release -p mesos-bench -- e2e --agents 2 --tasks 1000 --containerizer process
//! cargo run --release -p mesos-bench -- pymesos --agents 10 --tasks 10000
//! cargo run --release -p mesos-bench -- memory --tasks 100000
//! cargo run --release -p mesos-bench -- e2e --master http://127.0.0.1:15030 --tasks 500   # any running master
//! cargo run --release -p mesos-bench -- pymesos --master http://127.0.0.1:15030 --tasks 500
//! cargo run --release -p mesos-bench -- docker --launches 20   # needs mesos-docker-executor built
//! ```
//!
//! Each prints one JSON line. `bench/run.sh` runs them all (several times,
//! reporting medians) together with the criterion micro-benchmarks.

mod acks;
mod cli;
mod cluster_process;
mod docker;
mod executor_updates;
mod remote_master;
mod scale;

use std::collections::HashMap;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use acks::Acknowledger;
use clap::Parser as _;
use cli::{Cli, Command, Media};
use cluster_process::ClusterProcess;
use futures::StreamExt;
use mesos_bench::local_cluster::Containerizer;
use mesos_proto::builders::CommandInfoBuilder;
use mesos_proto::v1::{FrameworkInfo, Offer, TaskId, TaskInfo, TaskState, TaskStatus};
use mesos_proto::ShrinkToFit as _;
use mesos_scheduler::{subscribe, SchedulerConfig, SchedulerEvent};
use serde_json::json;

const CPUS_PER_TASK: f64 = 0.01;
const MEM_PER_TASK: f64 = 1.0;
/// At most this many tasks are launched from one offer (one ACCEPT call);
/// what an offer has left returns to the cluster and is offered again.
const MAX_TASKS_PER_OFFER: usize = 1000;
pub(crate) fn offered_scalar(offer: &Offer, name: &str) -> f64 {
    offer
        .resources
        .iter()
        .filter(|r| r.name == name)
        .filter_map(|r| r.scalar.map(|s| s.value))
        .sum()
}

fn percentile(sorted: &[Duration], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let index = ((sorted.len() as f64 * p) as usize).min(sorted.len() - 1);
    Some(sorted[index].as_secs_f64() * 1000.0)
}

/// The workload: launch `total` tasks greedily from offers (at most
/// [`MAX_TASKS_PER_OFFER`] per offer, the rest of the offer declined for
/// 0 s), acknowledge every update, finish when all tasks finished and their
/// acknowledgements are in. Keeps every task's latest status (as a framework
/// tracking its tasks does). Reports the client's own CPU time from the
/// first offer on (this process runs nothing else).
/// What the workload keeps of every task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Keep {
    /// Its latest `TaskStatus`, whole (as received, spare capacity released).
    Status,
    /// Only its latest state.
    State,
}

/// The tasks the workload tracks.
struct Tracked {
    keep: Keep,
    statuses: HashMap<TaskId, TaskStatus>,
    states: HashMap<TaskId, i32>,
}

impl Tracked {
    fn new(keep: Keep, capacity: usize) -> Tracked {
        let (statuses, states) = match keep {
            Keep::Status => (HashMap::with_capacity(capacity), HashMap::new()),
            Keep::State => (HashMap::new(), HashMap::with_capacity(capacity)),
        };
        Tracked {
            keep,
            statuses,
            states,
        }
    }

    fn state(&self, task_id: &TaskId) -> Option<i32> {
        match self.keep {
            Keep::Status => self.statuses.get(task_id).map(|s| s.state),
            Keep::State => self.states.get(task_id).copied(),
        }
    }

    fn record(&mut self, mut status: TaskStatus) {
        match self.keep {
            Keep::Status => {
                status.shrink_to_fit();
                self.statuses.insert(status.task_id.clone(), status);
            }
            Keep::State => {
                self.states.insert(status.task_id, status.state);
            }
        }
    }

    fn len(&self) -> usize {
        self.statuses.len() + self.states.len()
    }
}

/// The framework's pipeline depth: `MESOS_BENCH_PIPELINE_DEPTH` (`0` sends
/// every call on a connection of its own, for comparison), else the
/// scheduler's default.
fn pipeline_depth() -> Result<usize, String> {
    match std::env::var("MESOS_BENCH_PIPELINE_DEPTH") {
        Ok(depth) => depth
            .parse()
            .map_err(|e| format!("MESOS_BENCH_PIPELINE_DEPTH={depth:?}: {e}")),
        Err(_) => Ok(mesos_scheduler::DEFAULT_PIPELINE_DEPTH),
    }
}

pub(crate) async fn run_framework(
    master: &str,
    total: usize,
    keep: Keep,
    media: mesos_scheduler::MediaType,
) -> Result<serde_json::Value, String> {
    let framework = FrameworkInfo::builder("root", "mesos-rs-bench")
        .build()
        .map_err(|e| e.to_string())?;
    let pipeline_depth = pipeline_depth()?;
    let config = SchedulerConfig::new([master], framework)
        .map_err(|e| e.to_string())?
        .media_type(media)
        .pipelining(pipeline_depth);
    let (client, mut events) = subscribe(config).map_err(|e| e.to_string())?;
    let (mut launched, mut finished, mut failed) = (0usize, 0usize, 0usize);
    let mut first_offer: Option<Instant> = None;
    let mut offers_received = 0usize;
    let mut cpu_at_first_offer: Option<f64> = None;
    let mut offered_at: HashMap<String, Instant> = HashMap::new();
    let mut latencies = Vec::with_capacity(total);
    let mut tracked = Tracked::new(keep, total);
    let mut acks = Acknowledger::new(client.clone());
    while let Some(event) = events.next().await {
        match event.map_err(|e| mesos_http::error_chain(&e))? {
            SchedulerEvent::Offers(offers) => {
                let now = Instant::now();
                first_offer.get_or_insert(now);
                offers_received += offers.len();
                if cpu_at_first_offer.is_none() {
                    cpu_at_first_offer = cluster_process::cpu_seconds(std::process::id());
                }
                let mut unused = Vec::new();
                for offer in offers {
                    let (mut cpus, mut mem) = (
                        offered_scalar(&offer, "cpus"),
                        offered_scalar(&offer, "mem"),
                    );
                    let mut tasks = Vec::new();
                    while launched < total
                        && tasks.len() < MAX_TASKS_PER_OFFER
                        && cpus >= CPUS_PER_TASK - 1e-9
                        && mem >= MEM_PER_TASK - 1e-9
                    {
                        let id = format!("rs-{launched}");
                        launched += 1;
                        cpus -= CPUS_PER_TASK;
                        mem -= MEM_PER_TASK;
                        offered_at.insert(id.clone(), now);
                        let task = TaskInfo::builder(id.as_str(), id.as_str())
                            .agent_id(&offer.agent_id)
                            .cpus(CPUS_PER_TASK)
                            .mem(MEM_PER_TASK)
                            .command(CommandInfoBuilder::shell("true"))
                            .build()
                            .map_err(|e| e.to_string())?;
                        tasks.push(task);
                    }
                    if tasks.is_empty() {
                        unused.push(offer.id);
                        continue;
                    }
                    let rest = mesos_proto::builders::filters(Duration::ZERO);
                    client
                        .launch_tasks(vec![offer.id], tasks, Some(rest))
                        .await
                        .map_err(|e| mesos_http::error_chain(&e))?;
                }
                // One DECLINE for all unused offers (with 10,000 agents,
                // one call per offer keeps the framework busy declining).
                if !unused.is_empty() {
                    let filters = mesos_proto::builders::filters(Duration::from_secs(1));
                    client
                        .decline(unused, Some(filters))
                        .await
                        .map_err(|e| mesos_http::error_chain(&e))?;
                }
            }
            SchedulerEvent::Update(status) => {
                let state = status.state();
                // A resent update (its acknowledgement came late) counts once.
                let repeated = tracked.state(&status.task_id) == Some(status.state);
                match state {
                    _ if repeated => {}
                    TaskState::TaskRunning => {
                        if let Some(at) = offered_at.remove(&status.task_id.value) {
                            latencies.push(at.elapsed());
                        }
                    }
                    TaskState::TaskFinished => finished += 1,
                    TaskState::TaskFailed
                    | TaskState::TaskLost
                    | TaskState::TaskError
                    | TaskState::TaskKilled
                    | TaskState::TaskDropped => failed += 1,
                    _ => {}
                }
                acks.acknowledge(status.clone()).await?;
                tracked.record(status);
                if finished + failed >= total {
                    break;
                }
            }
            SchedulerEvent::Error(message) => return Err(message),
            _ => {}
        }
    }
    acks.finish().await?;
    let seconds = first_offer.map(|t| t.elapsed().as_secs_f64());
    let cpu = cluster_process::cpu_seconds(std::process::id())
        .zip(cpu_at_first_offer)
        .map(|(end, start)| end - start);
    let _ = client.teardown().await;
    latencies.sort();
    Ok(json!({
        "client": "mesos-rs",
        "tasks": total,
        "finished": finished,
        "failed": failed,
        "tracked_tasks": tracked.len(),
        "media_type": format!("{media:?}").to_lowercase(),
        "pipeline_depth": pipeline_depth,
        "kept": format!("{keep:?}").to_lowercase(),
        "offers": offers_received,
        "seconds": seconds,
        "tasks_per_second": seconds.map(|s| total as f64 / s),
        "client_cpu_seconds": cpu,
        "client_cpu_us_per_task": cpu.map(|c| c * 1e6 / total as f64),
        "p50_offer_to_running_ms": percentile(&latencies, 0.50),
        "p99_offer_to_running_ms": percentile(&latencies, 0.99),
    }))
}

/// Our framework (this process) against a cluster process.
async fn e2e(
    agents: usize,
    tasks: usize,
    kind: Containerizer,
    media: Media,
) -> Result<serde_json::Value, String> {
    let cluster = ClusterProcess::start(agents, kind)?;
    let cpu_before = cluster.cpu_seconds();
    let mut result = run_framework(cluster.url(), tasks, Keep::Status, media.into()).await?;
    result["cluster_cpu_seconds"] = json!(cluster
        .cpu_seconds()
        .zip(cpu_before)
        .map(|(end, start)| end - start));
    result["agents"] = json!(agents);
    result["containerizer"] = json!(kind.as_str());
    Ok(result)
}

/// The same workload written with pymesos, against the same kind of
/// cluster process.
async fn pymesos(agents: usize, tasks: usize) -> Result<serde_json::Value, String> {
    let cluster = ClusterProcess::start(agents, Containerizer::Fake)?;
    let cpu_before = cluster.cpu_seconds();
    let mut result = run_pymesos(cluster.url(), tasks).await?;
    result["cluster_cpu_seconds"] = json!(cluster
        .cpu_seconds()
        .zip(cpu_before)
        .map(|(end, start)| end - start));
    result["agents"] = json!(agents);
    result["containerizer"] = json!("fake");
    Ok(result)
}

/// Runs `bench/pymesos_framework.py` against the master at `url`; its
/// result line with tasks/s and CPU per task added.
async fn run_pymesos(url: &str, tasks: usize) -> Result<serde_json::Value, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/pymesos_framework.py");
    let master = url.trim_start_matches("http://").to_string();
    let output = tokio::process::Command::new("python3")
        .args([
            script,
            &master,
            &tasks.to_string(),
            &CPUS_PER_TASK.to_string(),
            &MEM_PER_TASK.to_string(),
            &MAX_TASKS_PER_OFFER.to_string(),
        ])
        .stderr(Stdio::null())
        .output()
        .await
        .map_err(|e| format!("python3: {e} (run bench/setup-pymesos.sh)"))?;
    let line = String::from_utf8_lossy(&output.stdout);
    let mut result: serde_json::Value = serde_json::from_str(line.trim())
        .map_err(|e| format!("pymesos run printed no result ({e}): {line}"))?;
    if let (Some(s), Some(t)) = (result["seconds"].as_f64(), result["tasks"].as_f64()) {
        result["tasks_per_second"] = json!(t / s);
    }
    if let (Some(c), Some(t)) = (
        result["client_cpu_seconds"].as_f64(),
        result["tasks"].as_f64(),
    ) {
        result["client_cpu_us_per_task"] = json!(c * 1e6 / t);
    }
    Ok(result)
}

/// Peak RSS of our framework tracking `--tasks` tasks (keeping each one's
/// latest status, or with `--keep state` only its state), and of the
/// cluster process holding them.
async fn memory(tasks: usize, agents: usize, keep: Keep) -> Result<serde_json::Value, String> {
    let cluster = ClusterProcess::start(agents, Containerizer::Fake)?;
    let mut result = run_framework(
        cluster.url(),
        tasks,
        keep,
        mesos_scheduler::MediaType::Protobuf,
    )
    .await?;
    let me = std::process::id();
    result["framework_peak_rss_mib"] = json!(cluster_process::peak_rss_mib(me));
    result["framework_end_rss_anon_mib"] = json!(cluster_process::status_mib(me, "RssAnon"));
    result["framework_end_rss_file_mib"] = json!(cluster_process::status_mib(me, "RssFile"));
    result["mesos_local_peak_rss_mib"] = json!(cluster.peak_rss_mib());
    Ok(result)
}

#[tokio::main]
async fn main() -> ExitCode {
    // The workload runs on a worker thread, as tokio advises for a busy
    // task: the thread of `#[tokio::main]` is not one of the runtime's
    // workers, so every event read and every acknowledgement answered
    // would wake a thread across the runtime (~30 % more CPU per task).
    match tokio::spawn(run(Cli::parse())).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mesos-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::E2e {
            master: Some(master),
            tasks,
            media,
            ..
        } => remote_master::e2e(&master, tasks, media).await,
        Command::Pymesos {
            master: Some(master),
            tasks,
            ..
        } => remote_master::pymesos(&master, tasks).await,
        Command::Docker {
            launches,
            network,
            executor,
        } => docker::run(launches, network, executor).await,
        Command::E2e {
            agents,
            tasks,
            containerizer,
            media,
            master: None,
        } => e2e(agents, tasks, containerizer, media).await,
        Command::Pymesos {
            agents,
            tasks,
            master: None,
        } => pymesos(agents, tasks).await,
        Command::Memory {
            tasks,
            agents,
            keep,
        } => memory(tasks, agents, keep).await,
        Command::Scale {
            agents,
            agent_sweep_tasks,
            tasks,
            task_sweep_agents,
            runs,
            point_timeout_secs,
        } => {
            scale::run(scale::Sweep {
                agents,
                agent_sweep_tasks,
                tasks,
                task_sweep_agents,
                runs,
                point_timeout: Duration::from_secs(point_timeout_secs),
            })
            .await
        }
        Command::ScalePoint {
            agents,
            tasks,
            timeout_secs,
            master,
        } => scale::point(agents, tasks, Duration::from_secs(timeout_secs), master).await,
        Command::ExecutorUpdates { updates, tasks } => executor_updates::run(updates, tasks).await,
        Command::ExecutorChild { updates } => executor_updates::child(updates).await,
    };
    match result {
        Ok(value) => {
            if !value.is_null() {
                println!("{value}");
            }
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("mesos-bench: {message}");
            ExitCode::FAILURE
        }
    }
}
