//! # mesos-local
//!
//! What `mesos-local` is to Mesos: one call (or one binary) starts a master
//! and N agents inside one process, listening on loopback, serving the real
//! v1 HTTP APIs (scheduler and executor, protobuf and JSON, RecordIO
//! streams) and running executors and command tasks as real processes (and,
//! with the `docker` feature, on by default, `DOCKER` containers on the real
//! Docker engine: `containerizer::DockerContainerizer`), so
//! frameworks, examples and tests run end to end on one machine with no
//! external Mesos. Third-party clients written for real Mesos (pymesos, ...)
//! work against it unchanged.
//!
//! ```no_run
//! use mesos_local::LocalCluster;
//!
//! # async fn run() -> Result<(), mesos_local::Error> {
//! let cluster = LocalCluster::builder().agents(2).start().await?;
//! println!("master at {}", cluster.master_url());
//! // ... run a framework against cluster.master_url() ...
//! # Ok(()) }
//! ```
//!
//! # The operator API
//!
//! The master serves the v1 operator API (`POST /api/v1`,
//! `/master/api/v1`, `mesos_proto::v1::master::Call`), answered from the
//! same state as `/master/state`: GET_HEALTH, GET_VERSION, GET_FLAGS,
//! GET_MASTER, GET_STATE, GET_AGENTS, GET_FRAMEWORKS, GET_EXECUTORS,
//! GET_TASKS, GET_ROLES, GET_OPERATIONS, GET_METRICS, SUBSCRIBE (a RecordIO
//! stream: SUBSCRIBED with the GET_STATE snapshot, then TASK_ADDED,
//! TASK_UPDATED, FRAMEWORK_ADDED/UPDATED/REMOVED, AGENT_ADDED/REMOVED and
//! HEARTBEAT; each subscriber's queue is bounded and one that stops
//! reading is cut), TEARDOWN, MARK_AGENT_GONE, RESERVE_RESOURCES and
//! UNRESERVE_RESOURCES (dynamic reservations, then offered to their
//! role). Each agent serves its own (`/slave(N)/api/v1`, `/api/v1`,
//! `mesos_proto::v1::agent::Call`): GET_HEALTH, GET_VERSION, GET_STATE,
//! GET_FRAMEWORKS, GET_EXECUTORS, GET_TASKS, GET_CONTAINERS and READ_FILE
//! (sandbox files). Any other call answers `501 Not Implemented` naming
//! it. Status codes, messages and answer shapes are checked against a real
//! Mesos 1.11 master and agent by the workspace's differential suite. With
//! [`LocalClusterBuilder::authenticate_http_frameworks`] both need its
//! credentials.
//!
//! # The cluster page
//!
//! The master's `/` is a live page (HTML, JS and CSS embedded in the crate,
//! nothing fetched from the network): agents with their resources used and
//! total, frameworks, active and recent tasks with their states, followed
//! from the operator SUBSCRIBE stream as it happens (resubscribing with a
//! backoff when the stream ends), and a task's sandbox `stdout`/`stderr`.
//! The master answers an agent's READ_FILE at
//! `POST /cluster/agents/<agent id>/api/v1` for the page (the agents listen
//! on other ports, which the page could not call without CORS).
//!
//! # Highly available masters
//!
//! [`LocalClusterBuilder::masters`] runs several masters, one leading at a
//! time; with [`LocalClusterBuilder::zookeeper`] they are elected through
//! ZooKeeper as Mesos masters are (the same znodes), so a scheduler given
//! the `zk://` URL follows the leader. A master that does not lead answers
//! the scheduler and operator APIs and `/master/state` with `307 Temporary Redirect` to
//! the leader (`Location: //ip:port/path`), or `503 No leader elected`.
//! [`LocalCluster::kill_master`] stops one (another is elected),
//! [`LocalCluster::leader_index`] tells which leads. An elected master
//! starts without framework state: the agents re-register with it,
//! reporting their frameworks, executors and live tasks (which keep
//! running, their resources in use), and frameworks resubscribe with their
//! ids and reconcile. A master whose ZooKeeper session expires stops if
//! it leads, and contends again with a new session if it follows, as a
//! Mesos master does ([`LocalCluster::expire_master_session`] makes that
//! happen). [`LocalCluster::task_launches`] counts the tasks the agents
//! were sent, to check that a failover launched none twice.
//!
//! # Limits
//!
//! The master and agents are HTTP servers that run commands on request, so
//! what one client can make them spend is bounded
//! ([`LocalClusterBuilder::server_limits`], [`ServerLimits`]; the binary's
//! `--http_*` flags). Defaults:
//!
//! | limit | default | when passed |
//! | --- | --- | --- |
//! | request head (also idle keep-alive) | 30 s | connection closed |
//! | call body | 30 s | `408 Request Timeout` |
//! | output a client does not read | 60 s | connection closed |
//! | open connections per server | 1024 | not accepted until one closes |
//! | call body size | 16 MiB | `413 Payload Too Large` |
//! | decode cost (checked before decoding) | 1,000,000 messages, ~64 MiB, depth 64 | `413 Payload Too Large` |
//! | large calls (> 64 KiB) read and decoded at once | 2 | waits, then `503` |
//! | events queued for a subscriber | [`DEFAULT_MAX_QUEUED_EVENTS`] | stream closed, queue dropped, warning logged; the subscriber is disconnected |
//! | status updates an agent holds unacknowledged (and its update streams) | 100,000 | an executor's `UPDATE` answered `503` with the reason (the executor keeps it and sends it again; `mesos-executor` does so in its next `SUBSCRIBE`); the agent's own updates are always taken |
//!
//! Histories are bounded too: a task keeps its statuses as the real master
//! does (a status of the same state as the latest replaces it, `data` is
//! dropped) and at most 32; completed tasks and frameworks as the real
//! master's defaults; removed framework ids, the latest 10,000. Each
//! disconnected framework has one failover timer, cancelled when it
//! resubscribes, disconnects again or is removed. Intervals and timeouts
//! out of range ([`MIN_INTERVAL`], [`MAX_INTERVAL`], [`MAX_TIMEOUT`]; a zero
//! `--heartbeat_interval`, say) are refused by
//! [`LocalClusterBuilder::start`] with [`Error::InvalidConfig`].
//!
//! Deliberate differences from a real Mesos 1.11 master, which has none of
//! these limits: it parses a 20 MiB JSON body, and a 15 MiB protobuf ACCEPT
//! of empty operations took it from 80 MiB to 2.2 GiB of RSS before it
//! answered `400 Framework cannot be found`; mesos-local answers `413`
//! without decoding. A scheduler that does not read its stream is buffered
//! for without bound by the real master; mesos-local disconnects it. A
//! real agent takes every status update an executor sends and keeps it
//! until the scheduler acknowledges it; a mesos-local agent refuses an
//! executor's updates past 100,000 unacknowledged. Where
//! the real master has an answer it is kept: a `failover_timeout` its
//! `Duration` cannot hold (above about 9.2e9 s) gets the same ERROR event,
//! `The framework failover_timeout (1e+10) is invalid`.
//!
//! # Deliberate differences
//!
//! The workspace's differential suite (`tests/differential`) compares
//! mesos-local with observations recorded from a real Mesos 1.11 master;
//! what it cannot match, and why:
//!
//! - A call of type `UNKNOWN` from a subscribed framework: the real master
//!   aborts (`Check failed: call_types.contains(callType)` in its metrics)
//!   and takes its agents down with it; mesos-local answers `400 Failed to
//!   validate scheduler::Call: Expecting 'type' to be present`. (From an
//!   unknown framework both answer `400 Framework cannot be found`.)
//! - `SUBSCRIBED.master_info.capabilities` in JSON: the real master writes
//!   `{}` for a capability its JSON mapping does not name (`QUOTA_V2`);
//!   mesos-local lists only the capabilities it has, by name. (The suite
//!   does not compare empty objects in lists.)
//! - The text after `Failed to parse body into JSON:` and `Failed to convert
//!   JSON into Call protobuf:` (other than `Missing required fields: ...`,
//!   which matches) is serde's description of the problem, not picojson's
//!   or protobuf's.
//! - A custom executor that does not subscribe within 60 s is shut down,
//!   its live tasks `TASK_FAILED` with `REASON_EXECUTOR_REGISTRATION_TIMEOUT`
//!   and `Executor did not register within 1mins`, as the real agent's
//!   `--executor_registration_timeout` default; the timeout cannot be
//!   changed (no such flag), and the suite does not compare it (a minute
//!   is too long for it).
//! - A LAUNCH_GROUP whose executor is not of type `CUSTOM` (Mesos's
//!   default executor, which mesos-local plays itself) needs a `command`
//!   (or a `container`) on each task: `'TaskInfo.command' must be set`.
//!   The real master accepts such a task and its default executor fails
//!   it later; a custom executor's group tasks need none, as on the real
//!   master.
//!
//! # Fetching `CommandInfo.uris`
//!
//! Before an executor or command task starts, its agent fetches the URIs
//! of its `CommandInfo` into the sandbox as Mesos's fetcher does (see the
//! [`containerizer`] module): local paths, `file://`, `http://` and
//! `https://`; archives extracted, `executable`, `output_file`. A URI with
//! `cache: true` goes through the agent's fetcher cache in
//! `<work dir>/agents/<n>/fetch/<user>`: keyed by user and URI, downloaded
//! once however many tasks fetch it at the same time, its least recently
//! used entries not in use evicted beyond the cache size (Mesos's
//! `--fetcher_cache_size`, 2 GiB); a resource whose size is unknown in
//! advance or that does not fit is fetched directly. A download that makes
//! no progress for the stall timeout (Mesos's `--fetcher_stall_timeout`,
//! 60 s) fails the task. [`FetcherConfig`], given to
//! [`LocalClusterBuilder::fetcher`], sets these and the size and time
//! limits of one download.
//!
//! # Executor API, as the real agent
//!
//! The suite's executor scenarios (calls, errors, events, environment,
//! exits) match the real 1.11 agent; behaviours that follow from them:
//! an UPDATE needs `source: SOURCE_EXECUTOR` and a uuid of version 1 to 5;
//! an update for a task the executor does not know is accepted (`202`)
//! and forwarded as it came (one of another executor's tasks counts as
//! that executor's, which also gets the acknowledgement); updates reach
//! the scheduler with the fields the executor set (no `executor_id` is
//! added); a KILL of one task of a group not yet delivered kills the whole
//! group (`TASK_KILLED`, `REASON_TASK_KILLED_DURING_LAUNCH` for each);
//! an executor whose only task (or group) was killed before delivery is told
//! `SHUTDOWN` (instead of `SUBSCRIBED`) when it subscribes; a
//! resubscription that does not list a delivered task still staging
//! makes it `TASK_LOST` (`TASK_DROPPED` when partition-aware),
//! `REASON_AGENT_RESTARTED`; `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD` and
//! every other duration are written as stout writes them (`2500ms`); JSON
//! carries each field that has an explicit proto2 default
//! (`FrameworkInfo.checkpoint`, `failover_timeout`,
//! `Environment.Variable.type`...), as the real JSON writer does; launched
//! resources carry the offer's `allocation_info`; a LAUNCH_GROUP's executor
//! must carry the framework's id (a LAUNCH's gets it), each task of the
//! group carries its executor, and an invalid group's tasks end
//! `TASK_ERROR` with `REASON_TASK_GROUP_INVALID`.
//!
//! # Authentication
//!
//! Off by default, as in Mesos; the cluster listens on loopback only
//! unless told otherwise. As a real 1.11 master and agent (checked against
//! one):
//!
//! - [`LocalClusterBuilder::authenticate_http_frameworks`] (flags
//!   `--authenticate_http_frameworks --credentials=<file>`, the file in
//!   Mesos's format, [`Credentials`]): scheduler calls need HTTP Basic
//!   credentials, else `401` with `WWW-Authenticate: Basic
//!   realm="mesos-master-scheduler"`. A SUBSCRIBE whose
//!   `FrameworkInfo.principal` is not the authenticated principal is `400
//!   Failed to validate scheduler::Call: Authenticated principal 'a' does
//!   not match principal 'b' set in `FrameworkInfo``; a missing principal
//!   is set to the authenticated one. Resubscribing a framework with
//!   another principal gets the ERROR event `Changing framework's principal
//!   is not allowed.` (with or without authentication, as the real
//!   master); any other call for it from another principal is `400
//!   Authenticated principal 'b' does not match principal 'a' set in
//!   `FrameworkInfo``.
//! - [`LocalClusterBuilder::authenticate_http_executors`]
//!   (`--authenticate_http_executors`): each custom executor gets a token
//!   in `MESOS_EXECUTOR_AUTHENTICATION_TOKEN` (which `mesos-executor`
//!   sends as `Authorization: Bearer`); the executor API answers `401`
//!   with `WWW-Authenticate: Bearer realm="mesos-agent-executor"` without
//!   one, adding `error="invalid_token"` for a token it did not issue.
//! - A non-loopback [`LocalClusterBuilder::ip`] needs both, or
//!   [`LocalClusterBuilder::allow_unauthenticated_non_loopback`]
//!   (`--allow_unauthenticated_non_loopback`).
//!
//! Differences: the token is 256 random bits, not a JWT signed with
//! `--jwt_secret_key`, and is void once its executor is gone; a call with a
//! valid token for another executor is `403` (the real agent's
//! authorizer decides that case); `--authenticate_frameworks` (the v0 API's
//! flag) means the same as `--authenticate_http_frameworks`, since
//! mesos-local has no v0 API; `/master/state` stays readable without
//! credentials (the real master's default, `--authenticate_http_readonly`
//! off). Neither tokens nor secrets are logged, and `Debug` of
//! [`Credentials`] and of launch requests hides them.
//!
//! # Unknown enum values
//!
//! As a real 1.11 master and agent (checked against one): a scheduler call
//! whose `type` is out of range is `400 Failed to validate scheduler::Call:
//! Expecting 'type' to be present`, an executor call's `400 Failed to
//! validate Executor::Call: Expecting 'type' to be present` (mesos-local
//! answered `501` before); an executor UPDATE (or a SUBSCRIBE's
//! unacknowledged update) whose `TaskStatus.state` is out of range is `400
//! Failed to parse body into Call protobuf` (the real agent's parser drops
//! the value and the required field is then missing). Deliberate
//! differences: an out-of-range value of an *optional* enum elsewhere (a
//! status `reason`, say), which the real parser silently drops, is kept as
//! its number. A JSON enum given as anything but a name is refused as the
//! real master refuses it (`Failed to convert JSON into Call protobuf: Not
//! expecting a JSON number for field 'type'`; the agent answers the same
//! words without the prefix).
//!
//! # Metrics
//!
//! The master serves `GET /metrics/snapshot` as a real master does: a JSON
//! object of numbers (all floats) under the real master's names, for what
//! mesos-local models: `master/elected`, `master/uptime_secs`;
//! `master/frameworks_{active,inactive,connected,disconnected}`;
//! `master/slaves_{active,inactive,connected,disconnected,unreachable}`,
//! `master/slave_registrations`, `master/slave_reregistrations`,
//! `master/slave_removals`; the gauges
//! `master/tasks_{staging,starting,running,killing,unreachable}` and the
//! counters `master/tasks_{finished,failed,killed,lost,error,dropped,gone,gone_by_operator}`;
//! `master/outstanding_offers`; `master/{cpus,mem,disk,gpus}_{total,used,percent}`
//! (used: by tasks and executors, not offered). The workspace's
//! observability test checks this key set against a real 1.11 master, and
//! that one finished command task changes both snapshots the same way.
//! Not served: the real master's message, operation, allocator, registrar
//! and event queue metrics, and the agents' `slave/*`.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod agent;
mod auth;
mod cluster;
pub mod containerizer;
mod error;
mod fetcher;
mod master;
mod protocol;
mod queue;
mod serve;
#[cfg(feature = "tls")]
mod tls;

pub use agent::launches::MAX_RECORDED_LAUNCHES;
pub use auth::Credentials;
pub use cluster::{
    LocalCluster, LocalClusterBuilder, DEFAULT_AGENT_RESOURCES, DEFAULT_MAX_QUEUED_EVENTS,
    ELECTION_TIMEOUT, MAX_INTERVAL, MAX_MASTERS, MAX_TIMEOUT, MIN_INTERVAL, MIN_MAX_QUEUED_EVENTS,
};
pub use containerizer::Containerizer;
pub use error::Error;
pub use fetcher::{
    FetcherConfig, DEFAULT_DOWNLOAD_TIMEOUT, DEFAULT_FETCHER_CACHE_SIZE,
    DEFAULT_FETCHER_STALL_TIMEOUT, DEFAULT_MAX_DOWNLOAD_SIZE,
};
pub use mesos_http::server::ServerLimits;
pub use mesos_zookeeper::{DetectorOptions, ZkUrl};
#[cfg(feature = "tls")]
pub use tls::ClusterTls;

/// The examples in this crate's README, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
