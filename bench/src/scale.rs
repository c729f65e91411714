//! `mesos-bench scale`: how the framework's CPU and memory, and the
//! cluster's memory, grow with the number of agents and of tasks.
//!
//! Two sweeps on `mesos-local` with the fake containerizer, the workload of
//! `e2e` (see `run_framework` in `main.rs`):
//! - agents (10 → 100 → 1,000 → 10,000 by default) at a fixed task count;
//! - tasks (1k → 10k → 100k by default) at a fixed agent count.
//!
//! Every point runs in a child process of its own (`mesos-bench
//! scale-point`, which starts its own cluster process), so that each
//! point's peak RSS is its own; each point is bounded in time and killed,
//! cluster included, past its bound. One JSON line per point and run.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::AsyncReadExt as _;

use crate::cluster_process::{self, ClusterProcess};
use mesos_bench::local_cluster::Containerizer;

/// What `mesos-bench scale` sweeps.
#[derive(Debug, Clone)]
pub(crate) struct Sweep {
    /// Agent counts of the agent sweep.
    pub(crate) agents: Vec<usize>,
    /// Tasks at every point of the agent sweep.
    pub(crate) agent_sweep_tasks: usize,
    /// Task counts of the task sweep.
    pub(crate) tasks: Vec<usize>,
    /// Agents at every point of the task sweep.
    pub(crate) task_sweep_agents: usize,
    /// Runs of every point.
    pub(crate) runs: usize,
    /// A point still running after this long is stopped and reported as such.
    pub(crate) point_timeout: Duration,
}

/// Runs both sweeps, printing one JSON line per point and run as it ends.
/// A point that fails or times out is printed with its `error`; once one
/// has, the larger points of the same sweep are skipped (they would fail
/// the same way, only slower).
pub(crate) async fn run(sweep: Sweep) -> Result<serde_json::Value, String> {
    let agent_points = sweep
        .agents
        .iter()
        .map(|&a| ("agents", a, sweep.agent_sweep_tasks));
    let task_points = sweep
        .tasks
        .iter()
        .map(|&t| ("tasks", sweep.task_sweep_agents, t));
    let mut failed_sweeps: Vec<&str> = Vec::new();
    for (name, agents, tasks) in agent_points.chain(task_points) {
        for run in 1..=sweep.runs.max(1) {
            if failed_sweeps.contains(&name) {
                break;
            }
            let mut line = point_in_child(agents, tasks, sweep.point_timeout).await;
            line["sweep"] = json!(name);
            line["run"] = json!(run);
            if line.get("error").is_some() {
                failed_sweeps.push(name);
            }
            println!("{line}");
        }
    }
    Ok(json!(null))
}

/// Runs `mesos-bench scale-point` in a process group of its own and returns
/// its JSON line, or `{"error": ...}`. Past `timeout` the whole group (the
/// point and its cluster process) is killed.
async fn point_in_child(agents: usize, tasks: usize, timeout: Duration) -> serde_json::Value {
    let failed = |error: String| json!({"agents": agents, "tasks": tasks, "error": error});
    let me = match std::env::current_exe() {
        Ok(me) => me,
        Err(e) => return failed(e.to_string()),
    };
    let mut child = match tokio::process::Command::new(me)
        .args(["scale-point", "--agents", &agents.to_string()])
        .args(["--tasks", &tasks.to_string()])
        .args(["--timeout-secs", &timeout.as_secs().to_string()])
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
    {
        Ok(child) => child,
        Err(e) => return failed(format!("starting the point: {e}")),
    };
    let group = child.id();
    let (mut out, mut err) = (String::new(), String::new());
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let read_all = async {
        if let Some(mut s) = stdout {
            let _ = s.read_to_string(&mut out).await;
        }
        if let Some(mut s) = stderr {
            let _ = s.read_to_string(&mut err).await;
        }
        child.wait().await
    };
    // The point bounds itself; this is the backstop (cluster start included).
    let backstop = timeout + Duration::from_secs(60);
    match tokio::time::timeout(backstop, read_all).await {
        Ok(_) => {}
        Err(_) => {
            kill_group(group);
            return failed(format!("no result after {} s; killed", backstop.as_secs()));
        }
    }
    match serde_json::from_str::<serde_json::Value>(out.trim()) {
        Ok(value) => value,
        Err(_) => failed(last_lines(&err, 2).unwrap_or_else(|| "no output".to_string())),
    }
}

/// The last `n` non-empty lines of `text`, oldest first, joined by " / "
/// (the cluster process's own error comes before the point's).
fn last_lines(text: &str, n: usize) -> Option<String> {
    let mut lines: Vec<&str> = text
        .lines()
        .rev()
        .filter(|l| !l.trim().is_empty())
        .take(n)
        .collect();
    lines.reverse();
    (!lines.is_empty()).then(|| lines.join(" / "))
}

/// `SIGKILL` to the process group `group` (the point and its cluster).
fn kill_group(group: Option<u32>) {
    let pid = group
        .and_then(|g| i32::try_from(g).ok())
        .and_then(rustix::process::Pid::from_raw);
    if let Some(pid) = pid {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}

/// One point, in this process: a cluster process of `agents` agents (fake
/// containerizer) and the framework launching `tasks` tasks, bounded by
/// `timeout` (the cluster's start included).
pub(crate) async fn point(
    agents: usize,
    tasks: usize,
    timeout: Duration,
    master: Option<String>,
) -> Result<serde_json::Value, String> {
    if let Some(master) = master {
        return framework_only(&master, tasks, timeout).await;
    }
    let deadline = Instant::now() + timeout;
    let started = Instant::now();
    let cluster =
        tokio::task::spawn_blocking(move || ClusterProcess::start(agents, Containerizer::Fake))
            .await
            .map_err(|e| e.to_string())??;
    let cluster_start_seconds = started.elapsed().as_secs_f64();
    let cluster_rss_idle = cluster_process::status_mib(cluster.id(), "VmRSS");
    let cpu_before = cluster.cpu_seconds();
    let left = deadline.saturating_duration_since(Instant::now());
    let workload = crate::run_framework(
        cluster.url(),
        tasks,
        crate::Keep::Status,
        mesos_scheduler::MediaType::Protobuf,
    );
    let mut result = tokio::time::timeout(left, workload)
        .await
        .map_err(|_| {
            format!(
                "the workload did not end within {} s (cluster started in {cluster_start_seconds:.1} s)",
                timeout.as_secs()
            )
        })??;
    let me = std::process::id();
    let cpu = result["client_cpu_seconds"].as_f64();
    let offers = result["offers"].as_f64();
    result["agents"] = json!(agents);
    result["client_cpu_us_per_offer"] = json!(cpu
        .zip(offers)
        .filter(|(_, o)| *o > 0.0)
        .map(|(c, o)| c * 1e6 / o));
    result["framework_peak_rss_mib"] = json!(cluster_process::peak_rss_mib(me));
    result["cluster_start_seconds"] = json!(cluster_start_seconds);
    result["cluster_cpu_seconds"] = json!(cluster
        .cpu_seconds()
        .zip(cpu_before)
        .map(|(end, start)| end - start));
    result["cluster_idle_rss_mib"] = json!(cluster_rss_idle);
    result["cluster_peak_rss_mib"] = json!(cluster.peak_rss_mib());
    result["cluster_end_rss_mib"] = json!(cluster_process::status_mib(cluster.id(), "VmRSS"));
    let per_task = cluster
        .peak_rss_mib()
        .zip(cluster_rss_idle)
        .map(|(peak, idle)| (peak - idle) * 1024.0 * 1024.0 / tasks.max(1) as f64);
    result["cluster_peak_bytes_per_task"] = json!(per_task);
    Ok(result)
}

/// The framework's side of a point, against a cluster started elsewhere.
async fn framework_only(
    master: &str,
    tasks: usize,
    timeout: Duration,
) -> Result<serde_json::Value, String> {
    let workload = crate::run_framework(
        master,
        tasks,
        crate::Keep::Status,
        mesos_scheduler::MediaType::Protobuf,
    );
    let mut result = tokio::time::timeout(timeout, workload)
        .await
        .map_err(|_| format!("the workload did not end within {} s", timeout.as_secs()))??;
    result["framework_peak_rss_mib"] = json!(cluster_process::peak_rss_mib(std::process::id()));
    Ok(result)
}
