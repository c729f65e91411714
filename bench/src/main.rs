//! `mesos-bench`: end-to-end measurements of the SDK on `mesos-local`.
//!
//! ```sh
//! cargo run --release -p mesos-bench -- e2e --agents 10 --tasks 10000 --containerizer fake
//! cargo run --release -p mesos-bench -- e2e --agents 2 --tasks 1000 --containerizer process
//! cargo run --release -p mesos-bench -- pymesos --agents 10 --tasks 10000
//! cargo run --release -p mesos-bench -- memory --tasks 100000
//! ```
//!
//! Each prints one JSON line. `bench/run.sh` runs them all (several times,
//! reporting medians) together with the criterion micro-benchmarks.

use std::collections::HashMap;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use mesos_local::LocalCluster;
use mesos_proto::builders::CommandInfoBuilder;
use mesos_proto::v1::{FrameworkInfo, TaskId, TaskInfo, TaskState, TaskStatus};
use mesos_scheduler::{subscribe, SchedulerConfig, SchedulerEvent};
use serde_json::json;

const CPUS_PER_TASK: f64 = 0.01;
const MEM_PER_TASK: f64 = 1.0;
const MAX_ACKS_IN_FLIGHT: usize = 256;
const AGENT_RESOURCES: &str = "cpus:1000;mem:1000000;disk:1000;ports:[31000-32000]";

struct Args(HashMap<String, String>);

impl Args {
    fn parse(args: &[String]) -> Args {
        let mut map = HashMap::new();
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            if let Some(name) = flag.strip_prefix("--") {
                map.insert(name.to_string(), it.next().cloned().unwrap_or_default());
            }
        }
        Args(map)
    }

    fn number(&self, name: &str, default: usize) -> Result<usize, String> {
        match self.0.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{name}: not a number: {v:?}")),
        }
    }

    fn text<'a>(&'a self, name: &str, default: &'a str) -> &'a str {
        self.0.get(name).map(String::as_str).unwrap_or(default)
    }
}

async fn cluster(agents: usize, containerizer: &str) -> Result<LocalCluster, String> {
    let mut builder = LocalCluster::builder()
        .agents(agents)
        .resources_text(AGENT_RESOURCES);
    match containerizer {
        "fake" => builder = builder.containerizer(mesos_local::containerizer::fake()),
        "process" => {}
        other => return Err(format!("unknown containerizer {other:?} (fake, process)")),
    }
    builder
        .start()
        .await
        .map_err(|e| mesos_http::error_chain(&e))
}

fn percentile(sorted: &[Duration], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let index = ((sorted.len() as f64 * p) as usize).min(sorted.len() - 1);
    Some(sorted[index].as_secs_f64() * 1000.0)
}

/// The workload: launch `total` tasks greedily from offers, acknowledge every
/// update, finish when all tasks finished and their acknowledgements are in.
/// Keeps every task's latest status (as a framework tracking its tasks does).
async fn run_framework(master: &str, total: usize) -> Result<serde_json::Value, String> {
    let framework = FrameworkInfo::builder("root", "mesos-rs-bench")
        .build()
        .map_err(|e| e.to_string())?;
    let config = SchedulerConfig::new([master], framework).map_err(|e| e.to_string())?;
    let (client, mut events) = subscribe(config).map_err(|e| e.to_string())?;
    let (mut launched, mut finished, mut failed) = (0usize, 0usize, 0usize);
    let mut first_offer: Option<Instant> = None;
    let mut offered_at: HashMap<String, Instant> = HashMap::new();
    let mut latencies = Vec::with_capacity(total);
    let mut statuses: HashMap<TaskId, TaskStatus> = HashMap::with_capacity(total);
    // Acknowledgements go out concurrently, at most MAX_ACKS_IN_FLIGHT at a
    // time (each is an HTTP call; unbounded, a burst of updates would open
    // thousands of connections at once).
    let in_flight = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_ACKS_IN_FLIGHT));
    let mut acks = tokio::task::JoinSet::new();
    while let Some(event) = events.next().await {
        match event.map_err(|e| mesos_http::error_chain(&e))? {
            SchedulerEvent::Offers(offers) => {
                let now = Instant::now();
                first_offer.get_or_insert(now);
                for offer in offers {
                    let scalar = |name: &str| -> f64 {
                        offer
                            .resources
                            .iter()
                            .filter(|r| r.name == name)
                            .filter_map(|r| r.scalar.map(|s| s.value))
                            .sum()
                    };
                    let (mut cpus, mut mem) = (scalar("cpus"), scalar("mem"));
                    let mut tasks = Vec::new();
                    while launched < total
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
                    let answer = if tasks.is_empty() {
                        client
                            .decline(
                                vec![offer.id],
                                Some(mesos_proto::builders::filters(Duration::from_secs(1))),
                            )
                            .await
                    } else {
                        client.launch_tasks(vec![offer.id], tasks, None).await
                    };
                    answer.map_err(|e| mesos_http::error_chain(&e))?;
                }
            }
            SchedulerEvent::Update(status) => {
                let state = status.state();
                match state {
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
                let client = client.clone();
                let ack = status.clone();
                let permit = in_flight
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|e| e.to_string())?;
                acks.spawn(async move {
                    let result = client.acknowledge(&ack).await;
                    drop(permit);
                    result
                });
                while let Some(done) = acks.try_join_next() {
                    done.map_err(|e| e.to_string())?
                        .map_err(|e| mesos_http::error_chain(&e))?;
                }
                statuses.insert(status.task_id.clone(), status);
                if finished + failed >= total {
                    break;
                }
            }
            SchedulerEvent::Error(message) => return Err(message),
            _ => {}
        }
    }
    while let Some(done) = acks.join_next().await {
        done.map_err(|e| e.to_string())?
            .map_err(|e| mesos_http::error_chain(&e))?;
    }
    let seconds = first_offer.map(|t| t.elapsed().as_secs_f64());
    let _ = client.teardown().await;
    latencies.sort();
    Ok(json!({
        "client": "mesos-rs",
        "tasks": total,
        "finished": finished,
        "failed": failed,
        "tracked_statuses": statuses.len(),
        "seconds": seconds,
        "tasks_per_second": seconds.map(|s| total as f64 / s),
        "p50_offer_to_running_ms": percentile(&latencies, 0.50),
        "p99_offer_to_running_ms": percentile(&latencies, 0.99),
    }))
}

async fn e2e(args: &Args) -> Result<serde_json::Value, String> {
    let agents = args.number("agents", 10)?;
    let tasks = args.number("tasks", 10_000)?;
    let kind = args.text("containerizer", "fake").to_string();
    let cluster = cluster(agents, &kind).await?;
    let mut result = run_framework(cluster.master_url(), tasks).await?;
    result["agents"] = json!(agents);
    result["containerizer"] = json!(kind);
    Ok(result)
}

async fn pymesos(args: &Args) -> Result<serde_json::Value, String> {
    let agents = args.number("agents", 10)?;
    let tasks = args.number("tasks", 10_000)?;
    let cluster = cluster(agents, "fake").await?;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/pymesos_framework.py");
    let master = cluster
        .master_url()
        .trim_start_matches("http://")
        .to_string();
    let output = tokio::process::Command::new("python3")
        .args([
            script,
            &master,
            &tasks.to_string(),
            &CPUS_PER_TASK.to_string(),
            &MEM_PER_TASK.to_string(),
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
    result["agents"] = json!(agents);
    result["containerizer"] = json!("fake");
    Ok(result)
}

/// Peak resident memory (VmHWM, KiB) of a process.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

async fn memory(args: &Args) -> Result<serde_json::Value, String> {
    let tasks = args.number("tasks", 100_000)?;
    let agents = args.number("agents", 10)?;
    // The cluster in a child process of its own, so the two footprints are
    // measured apart.
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(me)
        .args(["serve-local", "--agents", &agents.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut url = String::new();
    if let Some(out) = child.stdout.take() {
        use std::io::BufRead as _;
        std::io::BufReader::new(out)
            .read_line(&mut url)
            .map_err(|e| e.to_string())?;
    }
    let result = run_framework(url.trim(), tasks).await;
    let cluster_rss = peak_rss_kib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    let mut result = result?;
    result["framework_peak_rss_mib"] =
        json!(peak_rss_kib(std::process::id()).map(|k| k as f64 / 1024.0));
    result["mesos_local_peak_rss_mib"] = json!(cluster_rss.map(|k| k as f64 / 1024.0));
    Ok(result)
}

async fn serve_local(args: &Args) -> Result<serde_json::Value, String> {
    let cluster = cluster(args.number("agents", 10)?, "fake").await?;
    println!("{}", cluster.master_url());
    let _ = tokio::signal::ctrl_c().await;
    Ok(json!(null))
}

#[tokio::main]
async fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = Args::parse(argv.get(1..).unwrap_or_default());
    let result = match argv.first().map(String::as_str) {
        Some("e2e") => e2e(&args).await,
        Some("pymesos") => pymesos(&args).await,
        Some("memory") => memory(&args).await,
        Some("serve-local") => serve_local(&args).await,
        _ => Err("usage: mesos-bench <e2e|pymesos|memory> [--agents N] [--tasks N] [--containerizer fake|process]".into()),
    };
    match result {
        Ok(value) => {
            println!("{value}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("mesos-bench: {message}");
            ExitCode::FAILURE
        }
    }
}
