//! # mesos-scheduler
//!
//! The Rust `MesosSchedulerDriver`: write a Mesos framework by implementing
//! the [`Scheduler`] trait and running it with a [`SchedulerDriver`], or
//! consume the same connection as a `Stream` of [`SchedulerEvent`]s with
//! [`subscribe`] and make calls with a [`SchedulerClient`].
//!
//! Both speak the Mesos v1 HTTP scheduler API (`/api/v1/scheduler`) through
//! `mesos-http`, in protobuf (default) or JSON, and handle what every
//! framework otherwise gets wrong:
//!
//! - the `Mesos-Stream-Id` of the subscription, sent on every call;
//! - several masters and `307` redirects to the leading one, or (feature
//!   `zookeeper`) a `zk://` URL: the leading master detected through
//!   ZooKeeper as Mesos detects it, followed as soon as it changes;
//! - reconnection with jittered exponential backoff on `503`, refused or
//!   reset connections, broken streams, and missed heartbeats (no event for
//!   5 × `heartbeat_interval_seconds` by default), resubscribing with the
//!   framework id so that tasks survive within the failover timeout;
//! - typed errors: `400` with the master's message, `401`/`403`, calls made
//!   while not subscribed ([`Error::NotSubscribed`]) instead of silent drops;
//! - implicit (default) or explicit acknowledgement of status updates.
//!
//! ```no_run
//! use async_trait::async_trait;
//! use mesos_proto::builders::filters;
//! use mesos_proto::v1::{FrameworkId, MasterInfo, Offer, TaskStatus};
//! use mesos_scheduler::{Scheduler, SchedulerConfig, SchedulerDriver};
//! use std::time::Duration;
//!
//! struct Hello;
//!
//! #[async_trait]
//! impl Scheduler for Hello {
//!     async fn registered(&mut self, _: &SchedulerDriver, id: &FrameworkId, _: Option<&MasterInfo>) {
//!         println!("registered as {}", id.value);
//!     }
//!     async fn resource_offers(&mut self, driver: &SchedulerDriver, offers: Vec<Offer>) {
//!         let ids = offers.into_iter().map(|o| o.id).collect();
//!         let _ = driver.decline_offers(ids, Some(filters(Duration::from_secs(5)))).await;
//!     }
//!     async fn status_update(&mut self, _: &SchedulerDriver, status: TaskStatus) {
//!         println!("{} is {:?}", status.task_id.value, status.state());
//!     }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let framework = mesos_proto::v1::FrameworkInfo::builder("root", "hello").build()?;
//! let driver = SchedulerDriver::new(Hello, SchedulerConfig::new(["http://127.0.0.1:5050"], framework)?)?;
//! driver.run().await;
//! # Ok(()) }
//! ```
//!
//! # Throughput: run a busy event loop on a worker
//!
//! The future given to `#[tokio::main]` (or `Runtime::block_on`) runs on a
//! thread of its own, not on one of the runtime's workers; the connection
//! and the calls run on the workers. A framework that handles thousands of
//! events a second in that future pays a thread wake-up for every event it
//! reads and every call it awaits. Spawned, the loop runs where the I/O is:
//! in the SDK's own benchmark this cut the framework's CPU per task by a
//! third (`BENCHMARKS.md`, profiling item 13).
//!
//! ```no_run
//! # async fn event_loop() {}
//! #[tokio::main]
//! async fn main() {
//!     // Not `event_loop().await` here: on a worker, it wakes no other thread.
//!     tokio::spawn(event_loop()).await.expect("the event loop panicked");
//! }
//! ```
//!
//! The same holds for [`SchedulerDriver::run`], which calls the
//! [`Scheduler`] from its own loop: spawn it when the framework is busy
//! (`let d = driver.clone(); tokio::spawn(async move { d.run().await })`;
//! clones share one driver).
//!
//! Calls in flight at once (a framework acknowledging updates as they come)
//! are pipelined to the master on one kept connection
//! ([`SchedulerConfig::pipelining`], 128 deep by default): a write carries
//! many calls and a read many answers, instead of a round trip each. In the
//! benchmark this cut the framework's CPU per task by about a third and the
//! cluster's by a fifth (`BENCHMARKS.md`, section 3, round four).
//!
//! # Observability
//!
//! The driver and the [`subscribe`] stream open `tracing` spans and (with
//! the `metrics` feature, off by default) record metrics.
//!
//! ## Spans
//!
//! | span | level | fields | where |
//! | --- | --- | --- | --- |
//! | `subscription` | INFO | `framework_id` (from the start when known, else recorded when SUBSCRIBED arrives), `master` (the master subscribed to, without user-info), `stream_id` (its `Mesos-Stream-Id`, recorded when the answer arrives) | one per SUBSCRIBE: the attempt and, once accepted, its event stream until the connection ends; a child of the span current where [`subscribe`] (or [`SchedulerDriver::new`]) was called; the parent of the calls and dispatched events made meanwhile |
//! | `call` | DEBUG | `call` (the call type: `SUBSCRIBE`, `DECLINE`, ...), `outcome` (`ok`, `not_subscribed`, or [`mesos_http::Error::outcome`]), `latency_ms` (recorded when the answer arrives) | each call, SUBSCRIBE attempts included |
//! | `event` | DEBUG | `event` (the event type: `OFFERS`, `UPDATE`, ..., or `DISCONNECTED` for the connection's own) | each event the driver dispatches to the [`Scheduler`], around its callback |
//!
//! Log events inside these spans carry their fields (a subscriber such as
//! `tracing-subscriber`'s `fmt` prints them), so they do not repeat them.
//! Each field is recorded once per span (a reconnection opens a new
//! subscription span), so a long-lived connection does not grow a
//! subscriber's per-span text. No span or log shows credentials or the
//! user-info of a URL.
//!
//! ## Metrics (feature `metrics`)
//!
//! Recorded through the [`metrics`](https://docs.rs/metrics) facade: install
//! any recorder (a Prometheus exporter, ...) to collect them; without one
//! they cost next to nothing.
//!
//! | name | kind | labels | what |
//! | --- | --- | --- | --- |
//! | `mesos_scheduler_calls_total` | counter | `call`, `outcome` | calls made, SUBSCRIBE attempts included, by type and outcome (the `outcome` values of the `call` span) |
//! | `mesos_scheduler_call_duration_seconds` | histogram | `call` | time from sending a call to its answer (for SUBSCRIBE: to the response headers) |
//! | `mesos_scheduler_events_total` | counter | `event` | events received from the master, by type (`SUBSCRIBED`, `OFFERS`, `HEARTBEAT`, ...) |
//! | `mesos_scheduler_subscribe_attempts_total` | counter | | SUBSCRIBE requests sent (the first and every retry) |
//! | `mesos_scheduler_reconnects_total` | counter | | resubscriptions after a lost connection (stream closed or broken, heartbeats missed, another leader), counted when the first SUBSCRIBE after the loss goes out |
//! | `mesos_scheduler_heartbeat_misses_total` | counter | | connections given up because no event (not even a HEARTBEAT) came for `heartbeat_multiplier` heartbeat intervals |
//! | `mesos_scheduler_pending_acknowledgements` | gauge | | acknowledgements that could not be delivered and wait for the next subscription (see [`SchedulerClient::acknowledge`]); summed over the drivers of the process |
//! | `mesos_scheduler_offers_held` | gauge | | offers received on the current subscription and not yet accepted, declined or rescinded (see [`SchedulerClient::offers_held`]); summed over the drivers of the process |
//!
//! The driver does not hold offers (they go to
//! [`Scheduler::resource_offers`] and
//! are the framework's from then on), so it has no gauge of offers held.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod acks;
pub mod calls;
mod client;
mod config;
mod connection;
mod driver;
mod error;
mod event;
mod masters;
mod offers;
mod scheduler;
mod telemetry;

pub use acks::MAX_PENDING_ACKNOWLEDGEMENTS;
pub use client::SchedulerClient;
pub use config::{SchedulerConfig, DEFAULT_PIPELINE_DEPTH, SCHEDULER_API_PATH};
pub use connection::{subscribe, Subscription};
pub use driver::SchedulerDriver;
pub use error::Error;
pub use event::{
    heartbeat_interval, InvalidHeartbeat, SchedulerEvent, MAX_HEARTBEAT_INTERVAL,
    MIN_HEARTBEAT_INTERVAL,
};
pub use mesos_http::{error_chain, Backoff, Credentials, MediaType};
#[cfg(feature = "tls")]
pub use mesos_http::{TlsConfig, TlsError};
pub use mesos_proto::v1::Status;
pub use offers::MAX_TRACKED_OFFERS;

/// `mesos-proto`: the Mesos v1 wire types, builders and resource arithmetic,
/// re-exported so that a framework depends on this crate alone.
pub use mesos_proto as proto;

/// The attribute that [`Scheduler`] implementations carry, re-exported.
pub use async_trait::async_trait;

#[cfg(feature = "zookeeper")]
pub use mesos_zookeeper;
pub use scheduler::Scheduler;

/// The examples in this crate's README, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
