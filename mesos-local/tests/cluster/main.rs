//! End-to-end tests of a whole [`LocalCluster`] through its public API only:
//! frameworks on the scheduler stream API (and one in raw JSON over plain
//! HTTP), command tasks and the `test_executor` example as real processes,
//! and the cluster's fault injection (agent stop/restart/removal, master
//! connection cuts and failover). Every wait is for a condition, with a
//! deadline.

mod attributes;
mod faults;
mod raw_json;
mod support;
mod tasks;
