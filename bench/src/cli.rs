//! The command line of `mesos-bench` (clap).

use clap::{Parser, Subcommand, ValueEnum};
use mesos_bench::local_cluster::Containerizer;

/// End-to-end measurements of the SDK on `mesos-local`; each prints one JSON line.
#[derive(Debug, Parser)]
#[command(name = "mesos-bench", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// What to measure.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Our framework (this process) against a `mesos-local` cluster process.
    E2e {
        #[arg(long, default_value_t = 10)]
        agents: usize,
        #[arg(long, default_value_t = 10_000)]
        tasks: usize,
        #[arg(long, value_enum, default_value_t = Containerizer::Fake)]
        containerizer: Containerizer,
        #[arg(long, value_enum, default_value_t = Media::Protobuf)]
        media: Media,
        /// Run against this master (e.g. a real Mesos 1.11) instead of a
        /// `mesos-local` child process; `--agents`/`--containerizer` are ignored.
        #[arg(long)]
        master: Option<String>,
    },
    /// The same workload written with pymesos (run bench/setup-pymesos.sh first).
    Pymesos {
        #[arg(long, default_value_t = 10)]
        agents: usize,
        #[arg(long, default_value_t = 10_000)]
        tasks: usize,
        /// Run against this master instead of a `mesos-local` child process.
        #[arg(long)]
        master: Option<String>,
    },
    /// Launch→TASK_RUNNING and launch→exit of a Docker container through
    /// mesos-local's Docker containerizer and `mesos-docker-executor`, next
    /// to a bare `docker run` of the same image.
    Docker {
        #[arg(long, default_value_t = 20)]
        launches: usize,
        #[arg(long, value_enum, default_value_t = crate::docker::Network::Bridge)]
        network: crate::docker::Network,
        /// The `mesos-docker-executor` binary (default: next to this program).
        #[arg(long)]
        executor: Option<std::path::PathBuf>,
    },
    /// Peak RSS of the framework tracking the tasks, and of the cluster process.
    Memory {
        #[arg(long, default_value_t = 100_000)]
        tasks: usize,
        #[arg(long, default_value_t = 10)]
        agents: usize,
        #[arg(long, value_enum, default_value_t = crate::Keep::Status)]
        keep: crate::Keep,
    },
    /// Status updates per second from one executor through agent and master.
    ExecutorUpdates {
        #[arg(long, default_value_t = 20_000)]
        updates: usize,
        #[arg(long, default_value_t = 100)]
        tasks: usize,
    },
    /// Scale curves: sweeps agents and tasks, one JSON line per point and run
    /// (see `scale.rs`).
    /// `--agents` or `--tasks` with no values skips that sweep.
    Scale {
        #[arg(long, num_args = 0.., value_delimiter = ',', default_values_t = [10, 100, 1000, 10000])]
        agents: Vec<usize>,
        /// Tasks at every point of the agent sweep.
        #[arg(long, default_value_t = 10_000)]
        agent_sweep_tasks: usize,
        #[arg(long, num_args = 0.., value_delimiter = ',', default_values_t = [1000, 10000, 100000])]
        tasks: Vec<usize>,
        /// Agents at every point of the task sweep.
        #[arg(long, default_value_t = 10)]
        task_sweep_agents: usize,
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// A point still running after this many seconds is stopped.
        #[arg(long, default_value_t = 300)]
        point_timeout_secs: u64,
    },
    /// One point of `scale`, in a process of its own.
    #[command(hide = true)]
    ScalePoint {
        #[arg(long)]
        agents: usize,
        #[arg(long)]
        tasks: usize,
        #[arg(long)]
        timeout_secs: u64,
        /// Run against this master (e.g. a `mesos-bench-cluster` under a profiler)
        /// instead of a cluster process of its own; no cluster figures then.
        #[arg(long)]
        master: Option<String>,
    },
    /// The executor process of `executor-updates`, run by the agent.
    #[command(hide = true)]
    ExecutorChild {
        #[arg(long)]
        updates: usize,
    },
}

/// The media type of the framework's subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Media {
    Protobuf,
    Json,
}

impl From<Media> for mesos_scheduler::MediaType {
    fn from(media: Media) -> Self {
        match media {
            Media::Protobuf => mesos_scheduler::MediaType::Protobuf,
            Media::Json => mesos_scheduler::MediaType::Json,
        }
    }
}
