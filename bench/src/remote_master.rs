//! `mesos-bench e2e --master URL` and `mesos-bench pymesos --master URL`:
//! the end-to-end workload (ours, or pymesos's) against a master that is
//! already running — a real Mesos 1.11 from `../shared/tools/real-mesos`,
//! or any other — instead of a `mesos-local` child process.
//!
//! A real agent runs real processes: every task is the command `true`
//! (as in the other runs), started through the agent's containerizer and
//! command executor. When the master is a real-mesos cluster started by
//! `start.sh` on this machine (its launcher's pid in
//! `/tmp/real-mesos/<port>/launcher.pid`), the cluster's CPU time is
//! reported too: the launcher process (master and agents, in one
//! process) and, apart, its reaped children (the agent's launch helpers,
//! executors and tasks), from `/proc/<pid>/stat`.

use serde_json::json;

use crate::cli::Media;

/// The CPU time of a real-mesos launcher: its own and its reaped children's.
#[derive(Debug, Clone, Copy)]
struct ClusterCpu {
    own: f64,
    children: f64,
}

/// `utime`, `stime`, `cutime` and `cstime` of `/proc/<pid>/stat` (fields
/// 14 to 17, in `USER_HZ`, 100 per second on Linux).
fn cluster_cpu(pid: u32) -> Option<ClusterCpu> {
    const USER_HZ: f64 = 100.0;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    let ticks: Vec<f64> = after_name
        .split_whitespace()
        .skip(11)
        .take(4)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    match ticks[..] {
        [utime, stime, cutime, cstime] => Some(ClusterCpu {
            own: (utime + stime) / USER_HZ,
            children: (cutime + cstime) / USER_HZ,
        }),
        _ => None,
    }
}

/// The pid of the real-mesos launcher serving `master`
/// (`http://127.0.0.1:<port>`), if `start.sh` left its pid file.
fn real_mesos_launcher(master: &str) -> Option<u32> {
    let port = master
        .trim_end_matches('/')
        .rsplit(':')
        .next()?
        .parse::<u16>()
        .ok()?;
    let run_dir =
        std::env::var("REAL_MESOS_RUN_DIR").unwrap_or_else(|_| format!("/tmp/real-mesos/{port}"));
    std::fs::read_to_string(format!("{run_dir}/launcher.pid"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Adds the cluster's CPU time over `run` to its result.
async fn measured<F>(master: &str, run: F) -> Result<serde_json::Value, String>
where
    F: std::future::Future<Output = Result<serde_json::Value, String>>,
{
    let launcher = real_mesos_launcher(master);
    let before = launcher.and_then(cluster_cpu);
    let mut result = run.await?;
    let after = launcher.and_then(cluster_cpu);
    let delta = before.zip(after).map(|(b, a)| ClusterCpu {
        own: a.own - b.own,
        children: a.children - b.children,
    });
    let tasks = result["tasks"].as_f64().unwrap_or(f64::NAN);
    result["master"] = json!(master);
    result["cluster_cpu_seconds"] = json!(delta.map(|d| d.own));
    result["cluster_children_cpu_seconds"] = json!(delta.map(|d| d.children));
    result["cluster_cpu_ms_per_task"] = json!(delta.map(|d| d.own * 1e3 / tasks));
    result["cluster_children_cpu_ms_per_task"] = json!(delta.map(|d| d.children * 1e3 / tasks));
    result["containerizer"] = json!("the master's agents");
    Ok(result)
}

/// Our framework against the master at `master`.
pub(crate) async fn e2e(
    master: &str,
    tasks: usize,
    media: Media,
) -> Result<serde_json::Value, String> {
    measured(
        master,
        crate::run_framework(master, tasks, crate::Keep::Status, media.into()),
    )
    .await
}

/// pymesos's framework against the master at `master`.
pub(crate) async fn pymesos(master: &str, tasks: usize) -> Result<serde_json::Value, String> {
    measured(master, crate::run_pymesos(master, tasks)).await
}
