//! # mesos-executor
//!
//! The Rust counterpart of `MesosExecutorDriver`: executor authors implement
//! an `Executor` trait (launch task, kill task, framework message, shutdown,
//! ...) and run it with a driver that reads the environment a Mesos agent
//! sets (`MESOS_AGENT_ENDPOINT`, `MESOS_FRAMEWORK_ID`, ...), subscribes to the
//! agent's v1 executor API (`/api/v1/executor`) through `mesos-http`, and
//! keeps every status update until the agent acknowledges it.
//!
//! The driver is being built on top of the wire layer in `mesos-proto`.
