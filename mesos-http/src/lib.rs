//! # mesos-http
//!
//! The single HTTP transport of the Rust Mesos SDK, built on hyper 1.x and
//! tokio, shared by every crate that moves Mesos calls and events:
//!
//! - the **client** half ([`Client`], feature `client`, on by default), used
//!   by `mesos-scheduler` and `mesos-executor`: POSTing calls
//!   ([`Client::call`]) or a RecordIO stream of calls
//!   ([`Client::call_streaming`], the agent's `ATTACH_CONTAINER_INPUT`), opening a SUBSCRIBE stream and decoding its RecordIO
//!   events ([`Client::subscribe`], [`EventStream`]), the `Mesos-Stream-Id`
//!   header, both media types, authentication ([`Credentials`]), TLS (feature
//!   `tls`, on by default), HTTP/1.1 pipelining of calls on a kept
//!   connection ([`ClientBuilder::pipelining`]) and a typed [`Error`] for
//!   every HTTP status the Mesos APIs use;
//! - the **server** half ([`server`], feature `server`), used by
//!   `mesos-local`: media type negotiation, call decoding and RecordIO
//!   streaming responses.
//!
//! Both drivers reconnect by one policy, [`Backoff`]: exponential, capped,
//! jittered with a floor, and reset only after a healthy session.
//!
//! # Transport safety
//! - Every response body the client reads is bounded: a call's answer by
//!   [`ClientBuilder::max_response_len`] (default
//!   [`DEFAULT_MAX_RESPONSE_LEN`]), an error's text by
//!   [`DEFAULT_ERROR_BODY_LIMIT`], each event of a subscription by
//!   [`ClientBuilder::max_record_len`]; the head of a pipelined answer by
//!   64 KiB, and the calls a pipeline holds by its depth.
//! - Credentials go only to the URLs the caller passes to the [`Client`];
//!   [`resolve_location`] never turns an `https` URL into an `http` one
//!   ([`Error::InsecureRedirect`]).
//! - URLs in errors, logs and `Debug` output never show user-info
//!   ([`redact_url`], [`RedactedUrl`]).
//!
//! Client and server share one implementation of the headers
//! ([`headers`]), the media types and the RecordIO framing (from
//! `mesos-proto`), so they cannot drift apart. The API meaning on top (stream
//! ids fencing, resubscription, acknowledgements, recovery) belongs to the
//! scheduler and executor crates.
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `client` | yes | [`Client`], [`EventStream`], [`Credentials`] |
//! | `tls` | yes | `https://` endpoints via rustls ([`TlsConfig`]: system roots plus bundled Mozilla roots, or your CAs; client certificates for mutual TLS; the server name; `LIBPROCESS_SSL_*`); with `server`, [`server::serve_tls`] |
//! | `server` | no | [`server`]: negotiation, call decoding, streaming responses, a small accept loop |
//! | `metrics` | no | [`CallTimer`] also counts calls and their latencies through the `metrics` facade, under the [`CallMetrics`] names it is given |
//!
//! # Example
//!
//! Subscribe to a master, read events, make a call on the subscription:
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use mesos_http::{parse_url, Client, MediaType};
//! use mesos_proto::v1::scheduler::{call, Call, Event};
//! use mesos_proto::v1::FrameworkInfo;
//!
//! # async fn run() -> Result<(), mesos_http::Error> {
//! let client = Client::builder().media_type(MediaType::Json).build()?;
//! let url = parse_url("http://127.0.0.1:5050/api/v1/scheduler")?;
//! let subscribe = Call {
//!     r#type: Some(call::Type::Subscribe as i32),
//!     subscribe: Some(call::Subscribe {
//!         framework_info: FrameworkInfo { user: "root".into(), name: "demo".into(), ..Default::default() },
//!         ..Default::default()
//!     }),
//!     ..Default::default()
//! };
//! let mut subscription = client.subscribe::<_, Event>(&url, &subscribe).await?;
//! let first = subscription.events.next().await.transpose()?.expect("SUBSCRIBED");
//! let framework_id = first.subscribed.map(|s| s.framework_id);
//! let revive = Call { framework_id, r#type: Some(call::Type::Revive as i32), ..Default::default() };
//! client.call(&url, &revive, subscription.stream_id.as_deref()).await?; // 202 Accepted
//! # Ok(()) }
//! ```
//!
//! # Cancel safety
//! Dropping a [`Client::call`] future mid-flight abandons the request; the
//! peer may or may not have received it (as with any HTTP request). Dropping
//! an [`EventStream`] closes its connection, which the master reads as the
//! subscriber going away.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod auth;
mod backoff;
mod call_timer;
mod callback;
mod error;
pub mod headers;
mod redact;

#[cfg(feature = "client")]
mod client;
#[cfg(feature = "client")]
mod events;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "tls")]
mod tls;
#[cfg(feature = "client")]
mod url;

pub use auth::{Credentials, Secret};
pub use backoff::Backoff;
pub use call_timer::{CallMetrics, CallTimer};
pub use callback::{panic_message, run_callback, spawn_supervised, CallbackEnd};
#[cfg(feature = "client")]
pub use client::{CallResponse, Client, ClientBuilder, Subscription, DEFAULT_MAX_RESPONSE_LEN};
pub use error::{error_chain, Error, DEFAULT_ERROR_BODY_LIMIT};
#[cfg(feature = "client")]
pub use events::EventStream;
pub use mesos_proto::MediaType;
pub use redact::{redact_url, redact_url_str, RedactedUrl};
#[cfg(feature = "tls")]
pub use tls::{TlsConfig, TlsError, MAX_CA_CERTIFICATES, MAX_PEM_FILE_LEN};
#[cfg(feature = "client")]
pub use url::{parse_url, resolve_location};

/// A boxed error, as carried in the `source` of transport errors.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The examples in this crate's README, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
