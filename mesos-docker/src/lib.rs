//! # mesos-docker
//!
//! Docker support, as Mesos 1.11 runs Docker tasks: a containerizer that
//! talks to a real Docker engine (pull, run with the resources, environment,
//! sandbox mount, network and ports of a task's `ContainerInfo`, inspect,
//! wait, stop with the kill policy's grace period, orphan recovery), plugged
//! into `mesos-local`, and a `mesos-docker-executor` binary that a real Mesos
//! agent can use in place of the C++ one.
//!
//! The containerizer is being built on top of `mesos-executor`.
