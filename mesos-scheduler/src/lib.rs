//! # mesos-scheduler
//!
//! The Rust counterpart of `MesosSchedulerDriver`: framework authors implement
//! a `Scheduler` trait (registered, resource offers, status updates, ...) and
//! hand it to a driver (start / stop / abort / join / run, launch, accept,
//! decline, kill, revive, suppress, reconcile, acknowledge, message) that
//! speaks the Mesos v1 HTTP scheduler API (`/api/v1/scheduler`) through
//! `mesos-http`. Authors who prefer streams get the same connection as a
//! `Stream` of events plus call futures.
//!
//! The driver is being built on top of the wire layer in `mesos-proto`.
