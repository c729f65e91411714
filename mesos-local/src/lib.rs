//! # mesos-local
//!
//! What `mesos-local` is to Mesos: one call (or one binary) starts a master
//! and N agents inside one process, listening on loopback, serving the real
//! v1 HTTP APIs (scheduler and executor, protobuf and JSON, RecordIO
//! streams) and running executors and command tasks as real processes (and,
//! with the `docker` feature, on by default, `DOCKER` containers on the real
//! Docker engine: `containerizer::DockerContainerizer`), so
//! frameworks, examples and tests run end to end on one machine with no
//! external Mesos. Third-party clients written for real Mesos (pymesos, ...)
//! work against it unchanged.
//!
//! ```no_run
//! use mesos_local::LocalCluster;
//!
//! # async fn run() -> Result<(), mesos_local::Error> {
//! let cluster = LocalCluster::builder().agents(2).start().await?;
//! println!("master at {}", cluster.master_url());
//! // ... run a framework against cluster.master_url() ...
//! # Ok(()) }
//! ```

mod agent;
mod cluster;
pub mod containerizer;
mod error;
mod master;
mod protocol;

pub use cluster::{LocalCluster, LocalClusterBuilder, DEFAULT_AGENT_RESOURCES};
pub use containerizer::Containerizer;
pub use error::Error;
