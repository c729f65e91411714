//! # mesos-framework
//!
//! A production framework toolkit for Mesos schedulers, as optional pieces
//! on top of `mesos-scheduler`'s `Scheduler` trait and stream API:
//!
//! - [`placement`] (always present; pure logic, no I/O): Marathon-style
//!   constraints, resource fit, offer ordering and reports of why a task
//!   was not placed;
//! - `reconcile` (feature `scheduler`): Mesos's documented task
//!   reconciliation after every SUBSCRIBED (explicit, batched, with
//!   truncated exponential backoff until every task answered), then
//!   periodic implicit reconciliation; it reports the tasks the master
//!   does not know, and never acknowledges on the application's behalf;
//! - `offers` (feature `scheduler`): offers unused within a lease declined
//!   with a long refusal, SUPPRESS when a role has no pending work, REVIVE
//!   (debounced) when work appears, rescinds handled, counters;
//! - `state` (feature `state`; the ZooKeeper store with `zookeeper`):
//!   durable framework state, so that a restarted scheduler fails over with
//!   its framework id and launches each task at most once (see the `state`
//!   module for a restart example).
//!
//! `reconcile` and `offers` are state machines with an explicit clock (feed
//! them the subscription's events, send the calls they say are due:
//! testable without a master or a timer), each with a handle that runs it
//! in a tokio task over a `SchedulerClient`, so they work with the driver
//! and with the stream API alike. The README has an example of each.
//!
//! ## Example: placing three instances, one per rack
//!
//! ```
//! use mesos_framework::placement::{
//!     AgentProfile, Constraint, OfferCandidate, Placements, Placer, Strategy, TaskNeeds,
//! };
//! use mesos_proto::resources::Resources;
//!
//! let task = TaskNeeds::new("web", Resources::new().with_cpus(1.0).with_mem(256.0))
//!     .constraints(Constraint::parse_json(r#"[["rack","UNIQUE"]]"#)?);
//! let offers = vec![
//!     OfferCandidate::new("o1", AgentProfile::new("a1", "h1").with_text("rack", "r1"), "cpus:4; mem:4096".parse()?),
//!     OfferCandidate::new("o2", AgentProfile::new("a2", "h2").with_text("rack", "r1"), "cpus:4; mem:4096".parse()?),
//!     OfferCandidate::new("o3", AgentProfile::new("a3", "h3").with_text("rack", "r2"), "cpus:1; mem:128".parse()?),
//! ];
//! let placer = Placer::new(Strategy::Spread);
//! let mut placed = Placements::new();
//!
//! let first = placer.place(&task, &offers, &placed).expect("room on rack r1");
//! assert_eq!(first.agent_id, "a1");
//! placed.add(offers[first.index].agent.clone());
//!
//! // Rack r1 is taken and a3 has too little memory: the report says so.
//! let report = placer.place(&task, &offers, &placed).unwrap_err();
//! let text = report.to_string();
//! assert!(text.contains("constraint rack:UNIQUE refused agent a2 (r1 already runs an instance)"));
//! assert!(text.contains("offer o3 on agent a3 (h3): mem short by 128"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod placement;

#[cfg(feature = "state")]
#[cfg_attr(docsrs, doc(cfg(feature = "state")))]
pub mod state;

#[cfg(feature = "scheduler")]
#[cfg_attr(docsrs, doc(cfg(feature = "scheduler")))]
pub mod reconcile;

#[cfg(feature = "scheduler")]
#[cfg_attr(docsrs, doc(cfg(feature = "scheduler")))]
pub mod offers;

#[cfg(feature = "scheduler")]
mod runner;
#[cfg(feature = "scheduler")]
#[cfg_attr(docsrs, doc(cfg(feature = "scheduler")))]
pub use runner::StartError;

/// The examples in this crate's README, compiled as doctests (those of the
/// reconciler and the offer manager need the `scheduler` feature).
#[cfg(all(doctest, feature = "scheduler"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
