//! The durable framework state (feature `state`): one conformance suite run
//! against every store (in memory, files, and, with the `zookeeper` feature
//! and `MESOS_RS_ZOOKEEPER` set, ZooKeeper), the file store's crash safety
//! under SIGKILL, the ZooKeeper store's ACLs, size limit and session expiry,
//! and property tests of the record encoding.
#![cfg(feature = "state")]

#[macro_use]
mod conformance;
mod codec;
mod file;
mod memory;
#[cfg(feature = "zookeeper")]
mod zookeeper;
