//! # mesos-executor
//!
//! The Rust counterpart of `MesosExecutorDriver`: implement [`Executor`]
//! (launch task, kill task, framework message, shutdown, ...) and run it
//! with an [`ExecutorDriver`], which
//!
//! - reads the environment a Mesos agent sets ([`ExecutorConfig::from_env`]),
//!   and finds the executor API as Mesos's own library does
//!   (`http://<MESOS_SLAVE_PID address>/<MESOS_SLAVE_PID id>/api/v1/executor`);
//! - SUBSCRIBEs through `mesos-http`, checks that the stream really is the
//!   agent's executor API, and delivers the events to the executor one at a
//!   time, in order;
//! - sends status updates (fresh UUID, source, timestamp filled in) and keeps
//!   each one until the agent acknowledges it; on resubscription it sends the
//!   unacknowledged updates and tasks again;
//! - with checkpointing, survives an agent restart (resubscribes with
//!   jittered exponential backoff, up to the recovery timeout); without,
//!   shuts the executor down when the connection is lost;
//! - on SHUTDOWN calls [`Executor::shutdown`] and stops within the grace
//!   period.
//!
//! # Example: the classic test executor
//!
//! ```no_run
//! use async_trait::async_trait;
//! use mesos_executor::{Executor, ExecutorDriver};
//! use mesos_proto::v1::{TaskInfo, TaskState, TaskStatus};
//!
//! struct TestExecutor;
//!
//! #[async_trait]
//! impl Executor for TestExecutor {
//!     async fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo) {
//!         for (state, message) in [
//!             (TaskState::TaskRunning, "running"),
//!             (TaskState::TaskFinished, "done"),
//!         ] {
//!             let status = TaskStatus {
//!                 task_id: task.task_id.clone(),
//!                 state: state as i32,
//!                 message: Some(message.into()),
//!                 ..Default::default()
//!             };
//!             if let Err(e) = driver.send_status_update(status).await {
//!                 eprintln!("update failed: {e}");
//!             }
//!         }
//!     }
//!
//!     async fn shutdown(&mut self, _driver: &ExecutorDriver) {
//!         // Kill whatever is still running here.
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() {
//!     // Exits with status 1 and a message when the environment is unusable.
//!     let status = mesos_executor::run_from_env(TestExecutor).await;
//!     println!("driver ended: {status:?}");
//! }
//! ```
//!
//! In tests, build the configuration explicitly instead:
//!
//! ```
//! use std::time::Duration;
//! use mesos_executor::ExecutorConfig;
//! use mesos_proto::v1::{ExecutorId, FrameworkId};
//!
//! let config = ExecutorConfig::builder(
//!     "http://127.0.0.1:5051/slave(1)/api/v1/executor",
//!     FrameworkId { value: "fw".into() },
//!     ExecutorId { value: "ex".into() },
//! )
//! .checkpoint(true)
//! .recovery_timeout(Duration::from_secs(10))
//! .build()?;
//! assert!(config.checkpoint());
//! # Ok::<(), mesos_executor::Error>(())
//! ```
//!
//! # Observability
//!
//! The driver opens `tracing` spans and (with the `metrics` feature, off by
//! default) records metrics.
//!
//! ## Spans
//!
//! | span | level | fields | where |
//! | --- | --- | --- | --- |
//! | `subscription` | INFO | `framework_id`, `executor_id`, `agent` (the agent's executor API URL, without user-info) | around the driver's event loop (every SUBSCRIBE, every callback) and [`ExecutorDriver::send_status_update`]; the parent of every call span |
//! | `call` | DEBUG | `call` (`SUBSCRIBE`, `UPDATE`, `MESSAGE`, `HEARTBEAT`), `outcome` (`ok` or [`mesos_http::Error::outcome`]), `latency_ms` (recorded when the answer arrives) | each call to the agent |
//! | `event` | DEBUG | `event` (`LAUNCH`, `KILL`, `ACKNOWLEDGED`, ...) | each event dispatched to the [`Executor`] |
//!
//! Log events inside these spans carry their fields (a subscriber such as
//! `tracing-subscriber`'s `fmt` prints them), so they do not repeat them.
//! No span or log shows credentials or the user-info of a URL.
//!
//! ## Metrics (feature `metrics`)
//!
//! Recorded through the [`metrics`](https://docs.rs/metrics) facade: install
//! any recorder (a Prometheus exporter, ...) to collect them; without one
//! they cost next to nothing.
//!
//! | name | kind | labels | what |
//! | --- | --- | --- | --- |
//! | `mesos_executor_calls_total` | counter | `call`, `outcome` | calls to the agent, SUBSCRIBE attempts included, by type and outcome (the `outcome` values of the `call` span) |
//! | `mesos_executor_call_duration_seconds` | histogram | `call` | time from sending a call to its answer (for SUBSCRIBE: to the response headers) |
//! | `mesos_executor_events_total` | counter | `event` | events received from the agent, by type (`SUBSCRIBED`, `LAUNCH`, `ACKNOWLEDGED`, ...) |
//! | `mesos_executor_subscribe_attempts_total` | counter | | SUBSCRIBE requests sent (the first and every retry) |
//! | `mesos_executor_reconnects_total` | counter | | subscriptions lost (stream closed or broken, an update not delivered) |
//! | `mesos_executor_heartbeat_misses_total` | counter | | HEARTBEAT calls skipped because the previous one was still unanswered |
//! | `mesos_executor_unacknowledged_updates` | gauge | | status updates sent and not yet acknowledged by the agent (an executor process runs one driver) |
//! | `mesos_executor_unacknowledged_tasks` | gauge | | launched tasks the agent has not acknowledged a terminal update of |
#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
mod connection;
mod driver;
mod endpoint;
mod env;
mod error;
mod executor;
mod telemetry;
mod updates;

pub use config::{
    ExecutorConfig, ExecutorConfigBuilder, DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_RECOVERY_TIMEOUT,
    DEFAULT_REQUEST_TIMEOUT, DEFAULT_SHUTDOWN_GRACE_PERIOD, DEFAULT_SUBSCRIPTION_BACKOFF_MAX,
};
pub use driver::ExecutorDriver;
pub use env::{EnvError, EnvProblem};
pub use error::Error;
pub use executor::Executor;
#[cfg(feature = "tls")]
pub use mesos_http::{TlsConfig, TlsError};
pub use mesos_proto::duration::{parse_duration, DurationError};
pub use mesos_proto::v1::Status;

/// `mesos-proto`: the Mesos v1 wire types, builders and resource arithmetic,
/// re-exported so that a framework depends on this crate alone.
pub use mesos_proto as proto;

/// The attribute that [`Executor`] implementations carry, re-exported.
pub use async_trait::async_trait;

/// Runs `executor` with the configuration from the process environment,
/// for executor binaries: when the environment is unusable (or the driver
/// cannot be created) it prints the error to stderr and exits the process
/// with status 1; when the driver aborts with an error it does the same.
/// Otherwise it returns the driver's final status (normally
/// [`Status::DriverStopped`]).
pub async fn run_from_env(executor: impl Executor) -> Status {
    let driver = match ExecutorConfig::from_env().and_then(|c| ExecutorDriver::new(executor, c)) {
        Ok(driver) => driver,
        Err(e) => {
            eprintln!("{}", mesos_http::error_chain(&e));
            std::process::exit(1);
        }
    };
    let status = driver.run().await;
    if status == Status::DriverAborted {
        if let Some(e) = driver.failure() {
            eprintln!("executor driver aborted: {}", mesos_http::error_chain(&*e));
            std::process::exit(1);
        }
    }
    status
}

/// The examples in this crate's README, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
