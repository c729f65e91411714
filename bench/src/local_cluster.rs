//! The cluster every benchmark runs against: `mesos-local` with `agents`
//! agents of [`AGENT_RESOURCES`] each, tasks run by a fake or a process
//! containerizer. `mesos-bench-cluster` serves it in a process of its own,
//! so that the framework's and the cluster's CPU and memory are measured
//! apart, and so that the cluster has the allocator the `mesos-local`
//! binary ships with while the framework keeps the system's.

use clap::ValueEnum;
use mesos_local::LocalCluster;

/// Each agent's resources: room for every task of every workload.
pub const AGENT_RESOURCES: &str = "cpus:1000;mem:1000000;disk:1000;ports:[31000-32000]";

/// Events queued per event stream at most, unless
/// [`MAX_QUEUED_EVENTS_ENV`] says otherwise. `mesos-local`'s default
/// (10,000, its `--max_queued_events`) closes the stream of a framework
/// that falls that far behind, and, with no failover timeout, removes it:
/// the workloads launch every task as soon as offers allow, so at 100,000
/// tasks a framework on a loaded machine can trail by more (the real master
/// queues without a bound).
pub const BENCH_MAX_QUEUED_EVENTS: usize = 1_000_000;

/// Overrides [`BENCH_MAX_QUEUED_EVENTS`] (a number).
pub const MAX_QUEUED_EVENTS_ENV: &str = "MESOS_BENCH_MAX_QUEUED_EVENTS";

/// The value of [`MAX_QUEUED_EVENTS_ENV`], if set and a number, else
/// [`BENCH_MAX_QUEUED_EVENTS`].
pub fn max_queued_events() -> usize {
    std::env::var(MAX_QUEUED_EVENTS_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(BENCH_MAX_QUEUED_EVENTS)
}

/// How the cluster runs tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Containerizer {
    /// No processes: tasks reach TASK_RUNNING and TASK_FINISHED at once.
    Fake,
    /// Real processes.
    Process,
}

impl Containerizer {
    /// The name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Containerizer::Fake => "fake",
            Containerizer::Process => "process",
        }
    }
}

/// Starts the cluster (no Docker: only the `docker` subcommand runs
/// containers, on a cluster of its own).
pub async fn start(agents: usize, containerizer: Containerizer) -> Result<LocalCluster, String> {
    let mut builder = LocalCluster::builder()
        .agents(agents)
        .resources_text(AGENT_RESOURCES)
        .docker(false)
        .max_queued_events(max_queued_events());
    if containerizer == Containerizer::Fake {
        builder = builder.containerizer(mesos_local::containerizer::fake());
    }
    builder
        .start()
        .await
        .map_err(|e| mesos_http::error_chain(&e))
}

/// Starts the cluster, prints the master's URL on a line of its own and
/// serves until `SIGTERM` or `SIGINT`; then stops the cluster cleanly
/// (agents' processes and work directory go with it).
pub async fn serve(agents: usize, containerizer: Containerizer) -> Result<(), String> {
    let cluster = start(agents, containerizer).await?;
    println!("{}", cluster.master_url());
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| e.to_string())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    drop(cluster);
    Ok(())
}
