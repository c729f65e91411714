//! # mesos-local
//!
//! What `mesos-local` is to Mesos: one call (or one binary) starts a master
//! and N agents inside one process, listening on loopback, serving the real v1
//! HTTP APIs (scheduler and executor, protobuf and JSON, RecordIO streams)
//! and running tasks as real processes or Docker containers, so frameworks,
//! examples and tests run end to end on one machine with no external Mesos.
//!
//! The cluster is being built on the server half of `mesos-http`.
