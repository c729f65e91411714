//! `mesos-bench-cluster`: the benchmarks' `mesos-local` cluster in a process
//! of its own. Prints the master's URL, serves until `SIGTERM`/`SIGINT`.
//!
//! ```sh
//! target/release/mesos-bench-cluster --agents 10 --containerizer fake
//! ```
//!
//! It allocates with mimalloc, as the `mesos-local` binary does (the
//! framework process, `mesos-bench`, keeps the system allocator: what the
//! SDK costs a framework is measured with the allocator a framework gets
//! by default).

use std::process::ExitCode;

use clap::Parser;
use mesos_bench::local_cluster::{self, Containerizer};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The benchmarks' mesos-local cluster.
#[derive(Debug, Parser)]
#[command(name = "mesos-bench-cluster")]
struct Args {
    /// How many agents.
    #[arg(long, default_value_t = 10)]
    agents: usize,
    /// How tasks run.
    #[arg(long, value_enum, default_value_t = Containerizer::Fake)]
    containerizer: Containerizer,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match local_cluster::serve(args.agents, args.containerizer).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("mesos-bench-cluster: {message}");
            ExitCode::FAILURE
        }
    }
}
