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
//! for without bound by the real master; mesos-local disconnects it. Where
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
//! its number; a JSON enum given as a number, which the real master
//! refuses (`Failed to convert JSON into Call protobuf: Not expecting a
//! JSON number for field 'type'`), is decoded as that number and then
//! judged as above.

mod agent;
mod auth;
mod cluster;
pub mod containerizer;
mod error;
mod master;
mod protocol;
mod queue;

pub use auth::Credentials;
pub use cluster::{
    LocalCluster, LocalClusterBuilder, DEFAULT_AGENT_RESOURCES, DEFAULT_MAX_QUEUED_EVENTS,
    MAX_INTERVAL, MAX_TIMEOUT, MIN_INTERVAL, MIN_MAX_QUEUED_EVENTS,
};
pub use containerizer::Containerizer;
pub use error::Error;
pub use mesos_http::server::ServerLimits;
