//! # mesos-docker
//!
//! Docker support, as Mesos 1.11 runs Docker tasks:
//!
//! - [`RunSpec`]: the `docker run` command line of a task, built field for
//!   field as Mesos builds it from `ContainerInfo`/`DockerInfo`, the
//!   `CommandInfo`, the resources and the environment (`--cpu-shares` =
//!   cpus × 1024, `--memory` = mem MB in bytes, `-e` for every variable
//!   plus `MESOS_SANDBOX`/`MESOS_CONTAINER_NAME`, the sandbox mounted at
//!   `/mnt/mesos/sandbox`, `--net`, `-p`, volumes, `--privileged`,
//!   parameters, `--name`, and the entrypoint rules), with typed
//!   validation errors ([`SpecError`]).
//! - [`Docker`]: the `docker` CLI as a small typed API (run, inspect, wait,
//!   stop, kill, rm, ps, image presence and pull, logs), errors in
//!   [`DockerError`] with the command, exit status and docker's stderr;
//!   optionally the Engine API for image presence, inspect and the start
//!   watch ([`docker::EngineApi`]).
//! - [`DockerExecutor`] and the `mesos-docker-executor` binary: a drop-in
//!   for Mesos's own executor (same flags, [`Flags`]), built on
//!   `mesos-executor`'s driver.
//! - [`DockerContainerizer`]: container naming (`mesos-<container id>`),
//!   launch states, destroy, and recovery of orphans
//!   ([`recover_orphans`]).
//! - [`image`]: a small busybox image built locally (no registry needed),
//!   for examples and tests.
//! - [`testing`]: the test image, a Docker check and cleanup guards for
//!   tests.
//!
//! ## The CLI, and the Engine API where a launch waits on it
//!
//! Mesos talks to Docker by running the `docker` CLI (`--docker` is the
//! CLI's path, `--docker_socket` becomes `-H unix://<socket>`). [`Docker`]
//! does the same for everything that changes a container (`run`, `stop`,
//! `kill`, `rm`, `pull`, `wait`, `logs`): it behaves exactly as Mesos's
//! executor does on the same machine (same defaults, same error texts
//! from docker, the attached `docker run`'s output in the sandbox), and
//! operators can reproduce any step by hand. `docker inspect` JSON is read
//! with `serde_json`.
//!
//! Three reads sit on every launch's path to TASK_RUNNING: the image
//! check, the watch for the container's start and the inspect after it.
//! As CLI processes they cost ~16-18 ms each; with
//! [`Docker::with_engine_api`] (which `mesos-docker-executor` uses) they
//! are Engine API requests on the same engine's unix socket
//! ([`docker::EngineApi`], ~1 ms each, the API version negotiated as the
//! CLI does), the CLI their transparent fallback.
//!
//! ## Example
//!
//! ```
//! use std::collections::BTreeMap;
//! use mesos_docker::RunSpec;
//! use mesos_proto::builders::{CommandInfoBuilder, DockerInfoBuilder, DockerNetwork};
//! use mesos_proto::v1::TaskInfo;
//!
//! let task = TaskInfo::builder("hello", "hello-1")
//!     .agent_id("agent-1")
//!     .cpus(0.5)
//!     .mem(64.0)
//!     .command(CommandInfoBuilder::shell("echo hello from $MESOS_CONTAINER_NAME"))
//!     .container(DockerInfoBuilder::new("busybox").network(DockerNetwork::Bridge))
//!     .build()?;
//! let spec = RunSpec::from_task(&task, "mesos-c1", "/tmp/sandbox", "/mnt/mesos/sandbox", &BTreeMap::new())?;
//! assert_eq!(spec.cpu_shares, Some(512));
//! assert_eq!(spec.memory, Some(64 * 1024 * 1024));
//! let argv = spec.args();
//! assert!(argv.contains(&"--entrypoint=/bin/sh".to_string()));
//! assert_eq!(&argv[argv.len() - 3..], ["busybox", "-c", "echo hello from $MESOS_CONTAINER_NAME"]);
//! // Run it: mesos_docker::Docker::default().run_detached(&spec).await
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod containerizer;
pub mod docker;
pub mod executor;
pub mod flags;
pub mod image;
pub mod spec;
pub mod testing;

pub use containerizer::{
    container_id_of, container_name, recover_orphans, recover_orphans_with_prefix,
    DockerContainerizer, LaunchError, LaunchState, CONTAINER_NAME_PREFIX,
};
pub use docker::{ContainerState, Docker, DockerError};
pub use executor::{DockerExecutor, DockerExecutorConfig, Output};
pub use flags::{Flags, FlagsError};
pub use spec::{ContainerDns, PortMapping, RunContext, RunSpec, SpecError};

/// The examples in this crate's README, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
