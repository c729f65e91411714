//! # mesos-operator
//!
//! A typed client of the Mesos v1 **operator API** (`POST /api/v1` on
//! masters and agents), the API of CLIs, dashboards, proxies and
//! maintenance or quota automation:
//!
//! - [`MasterClient`]: one async method per master call of Mesos 1.11.0
//!   (39: `get_state`, `get_agents`, `reserve_resources`,
//!   `update_quota`, `drain_agent`, `mark_agent_gone`, ...), each returning
//!   the call's typed answer (e.g. [`proto::master::response::GetState`]) or `()`
//!   for calls answered with an empty `200`/`202`;
//! - [`AgentClient`]: one method per agent call (32: `get_containers`,
//!   `read_file`, `launch_container`, `wait_container`, ...), the streaming
//!   ones as a [`ProcessIoStream`];
//! - [`MasterClient::subscribe`]: the master's `SUBSCRIBE` as a `Stream` of
//!   [`proto::master::Event`]s ([`MasterEvents`]) with a heartbeat watchdog and
//!   resubscription, and [`ClusterState`], a bounded cache of agents,
//!   frameworks and tasks folded from those events.
//!
//! Calls go to the leading master: a non-leading master's `307` is followed
//! (at most [`ClientBuilder::max_redirects`] in a row) and the leader
//! remembered; with several masters, the next is tried when one cannot be
//! connected to; with a `zk://` URL (feature `zookeeper`) the leader
//! ZooKeeper names is used. Both media types (protobuf by default, JSON),
//! HTTP basic credentials and TLS (feature `tls`, default) come from the
//! SDK's one HTTP client, `mesos-http`; every answer is read with a bound.
//!
//! ```no_run
//! use mesos_operator::MasterClient;
//!
//! # async fn run() -> Result<(), mesos_operator::Error> {
//! let master = MasterClient::from_url("http://127.0.0.1:5050")?;
//! println!("Mesos {}", master.get_version().await?.version_info.version);
//! for agent in master.get_agents().await?.agents {
//!     println!("{} {}", agent.agent_info.hostname, agent.active);
//!     let sandbox = master.agent_client(&agent)?;
//!     println!("  {} containers", sandbox.get_containers(false, false).await?.containers.len());
//! }
//! # Ok(()) }
//! ```
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `tls` | yes | `https://` masters and agents ([`ClientBuilder::tls`]) |
//! | `zookeeper` | no | `zk://` masters: the leader is detected through ZooKeeper |
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod agent;
mod builder;
mod calls;
mod error;
mod leader;
pub mod master;
mod shared_calls;
mod state;
mod subscribe;

pub use agent::calls_containers::{ContainerLaunch, ProcessIoStream};
pub use agent::AgentClient;
pub use builder::ClientBuilder;
pub use error::Error;
pub use master::MasterClient;
#[cfg(feature = "tls")]
pub use mesos_http::TlsConfig;
pub use mesos_http::{Credentials, MediaType};
pub use state::{Change, ClusterState, StateLimits, TaskKey};
pub use subscribe::MasterEvents;

/// The wire types of the operator API, re-exported from `mesos-proto`.
pub mod proto {
    pub use mesos_proto::v1::*;
}

/// The examples in this crate's README, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
