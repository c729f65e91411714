//! # mesos-zookeeper
//!
//! Highly available Mesos masters elect their leader through ZooKeeper, and
//! frameworks find it there: they are given `zk://zk1:2181,zk2:2181/mesos`
//! instead of a master's address. This crate does what Mesos 1.11 does with
//! such a URL, without libmesos:
//!
//! - [`ZkUrl`] / [`MasterFlag`]: the `zk://[user:password@]servers/path`
//!   grammar Mesos accepts, and its `file:///path` indirection, with typed
//!   [`UrlError`]s; a password never shows in `Display`, `Debug` or errors.
//! - [`MasterDetector`]: the leading master, kept current by ZooKeeper
//!   watches. The leader is the group member with the lowest sequence
//!   number, whatever its label; its `MasterInfo` is read from JSON
//!   (`json.info_` znodes, leniently: unknown fields and enum values are
//!   skipped), binary protobuf (`info_`) or a bare PID (unlabelled), see
//!   [`member`]. Session expiry is survived by opening a new session while
//!   the last known leader stays; no member means no leader, not an error.
//! - [`MasterContender`]: joins the group as a Mesos master does (an
//!   ephemeral sequential `json.info_` znode with the `MasterInfo` JSON), for
//!   tests and for `mesos-local`'s masters to contend; its
//!   [`SessionHandle`] ends its session as a ZooKeeper expiry would (fault
//!   injection in tests).
//!
//! Everything read from ZooKeeper is bounded: at most [`member::MAX_MEMBERS`]
//! children are considered and a payload is at most
//! [`member::MAX_PAYLOAD_LEN`] bytes.
//!
//! ```no_run
//! use mesos_zookeeper::{DetectorOptions, MasterDetector, MasterFlag};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let MasterFlag::ZooKeeper(url) = MasterFlag::resolve("zk://zk1:2181,zk2:2181/mesos")? else {
//!     unreachable!("a zk:// flag")
//! };
//! let detector = MasterDetector::start(url, DetectorOptions::default())?;
//! let leader = detector
//!     .wait_for(std::time::Duration::from_secs(10), |leader| leader.is_some())
//!     .await;
//! println!("{:?}", leader.ok().flatten().and_then(|l| l.endpoint()));
//! # Ok(()) }
//! ```
//!
//! ## The ZooKeeper client
//!
//! The protocol is spoken by [`zookeeper_client`] (kezhuw's
//! `zookeeper-client`, MIT), chosen over the other async Rust clients on
//! crates.io when this crate was written:
//!
//! | crate | async runtime | watches | session handling | auth |
//! | --- | --- | --- | --- | --- |
//! | `zookeeper-client` 0.11 | tokio (feature), others | one-shot and persistent watchers as futures | a state watcher reports `Expired`/`Closed`; watches are reset on reconnection | digest, SASL, TLS (features) |
//! | `tokio-zookeeper` 0.4 | tokio | one-shot, as futures | expiry ends the client; no re-establishment | none |
//! | `zookeeper-async` 5.0 | tokio | callback `Watcher` trait | listener callbacks | digest |
//!
//! `zookeeper-client` is the one with regular releases, a futures API for
//! watches (no callbacks to bridge), explicit session states, digest auth,
//! and ZooKeeper 3.4–3.9 servers in its own test suite. Re-establishing an
//! expired session is left to the caller in every one of them; the
//! [`MasterDetector`] does it.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod contender;
mod detector;
mod gate;
pub mod member;
mod session;
mod url;

pub use contender::{MasterContender, SessionHandle};
pub use detector::{DetectorOptions, Leader, MasterDetector};
pub use member::{Membership, PayloadError};
pub use session::{acls as mesos_acls, connect, ZkError, DEFAULT_SESSION_TIMEOUT};
pub use url::{
    MasterFlag, UrlError, ZkCredentials, ZkServer, ZkUrl, DEFAULT_ZK_PORT, FILE_SCHEME,
    MAX_FILE_INDIRECTIONS, MAX_FILE_LEN, ZK_SCHEME,
};

/// The examples in this crate's README, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
