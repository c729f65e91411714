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
//! - several masters and `307` redirects to the leading one;
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

mod acks;
pub mod calls;
mod client;
mod config;
mod connection;
mod driver;
mod error;
mod event;
mod scheduler;

pub use acks::MAX_PENDING_ACKNOWLEDGEMENTS;
pub use client::SchedulerClient;
pub use config::{SchedulerConfig, SCHEDULER_API_PATH};
pub use connection::{subscribe, Subscription};
pub use driver::SchedulerDriver;
pub use error::Error;
pub use event::{
    heartbeat_interval, InvalidHeartbeat, SchedulerEvent, MAX_HEARTBEAT_INTERVAL,
    MIN_HEARTBEAT_INTERVAL,
};
pub use mesos_http::{Backoff, Credentials, MediaType};
pub use mesos_proto::v1::Status;
pub use scheduler::Scheduler;
