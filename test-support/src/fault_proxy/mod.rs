//! A fault-injecting HTTP/1.1 proxy for the Mesos v1 APIs, on loopback.
//!
//! A [`FaultProxy`] stands between a client (a scheduler driver, or an
//! executor) and a server (a `mesos-local` master, or an agent): the client
//! is given [`FaultProxy::url`] instead of the server's. Every request is
//! forwarded upstream and every answer comes back, except where an armed
//! [`Fault`] says otherwise. Event streams (the answer to SUBSCRIBE) are
//! relayed record by record: the proxy decodes each RecordIO record in the
//! stream's media type (its `Content-Type`) far enough to know its type,
//! so faults can drop, duplicate, swap, delay or cut events, withhold
//! heartbeats, and answer SUBSCRIBEs and calls `503` or `307`.
//!
//! Faults are armed with [`FaultProxy::inject`] and spent by the traffic
//! that follows (see [`fault`]): *when* a test arms them is up to the test
//! (the seeded schedules of [`crate::schedule`]); *which* event a fault hits
//! depends on the traffic at that time.
//!
//! The proxy records what it sees ([`Records`]): every SUBSCRIBE with its
//! time and outcome, every call by type with the status the client got,
//! every ACKNOWLEDGE's `(task, uuid)`, every UPDATE relayed (and how many
//! copies), every fault applied; tests check invariants on them.
//!
//! When the upstream cannot be reached, the proxy closes the client's
//! connection without an answer, as a dead server would.

pub mod fault;
pub mod records;
mod relay;
mod server;
pub mod wire;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use fault::{CallFilter, EventFilter, Fault};
pub use records::{
    AckSeen, CallSeen, FaultApplied, Records, SubscribeOutcome, SubscribeSeen, UpdateSeen,
};
pub use wire::{Api, EventKind, StatusSeen};

use fault::Armed;

/// Errors inside the proxy (never shown to clients but as closed
/// connections). A concrete type: hyper's bounds on service and body
/// errors trip rustc's higher-ranked lifetime inference with a boxed one.
#[derive(Debug)]
pub(crate) struct BoxError(String);

impl std::fmt::Display for BoxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BoxError {}

impl BoxError {
    pub(crate) fn new(what: impl std::fmt::Display) -> Self {
        BoxError(what.to_string())
    }
}

/// The body of every answer the proxy gives.
pub(crate) type ProxyBody = UnsyncBoxBody<Bytes, BoxError>;

type UpstreamClient = hyper_util::client::legacy::Client<HttpConnector, Full<Bytes>>;

/// What the accept loop, the handlers and the relays share.
pub(crate) struct Shared {
    api: Api,
    /// `http://host:port` of the upstream.
    upstream: String,
    /// The proxy's own address.
    addr: SocketAddr,
    epoch: Instant,
    armed: Mutex<Armed>,
    records: Mutex<Records>,
    shutdown: CancellationToken,
    client: UpstreamClient,
}

impl Shared {
    fn armed(&self) -> MutexGuard<'_, Armed> {
        self.armed.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn records(&self) -> MutexGuard<'_, Records> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn since(&self) -> Duration {
        self.epoch.elapsed()
    }

    fn note_fault(&self, what: String) {
        tracing::info!(fault = %what, "fault applied");
        let at = self.since();
        self.records()
            .faults
            .push(records::FaultApplied { at, what });
    }
}

/// A running proxy (see the [module docs](self)). Dropping it stops it:
/// the listener closes and every relayed stream is cut.
pub struct FaultProxy {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("api", &self.shared.api)
            .field("addr", &self.shared.addr)
            .field("upstream", &self.shared.upstream)
            .finish_non_exhaustive()
    }
}

impl FaultProxy {
    /// Starts a proxy for `api` on an ephemeral loopback port, forwarding
    /// to `upstream` (`http://127.0.0.1:5050`, any path ignored; requests
    /// keep their own paths). No fault is armed.
    pub async fn start(api: Api, upstream: &str) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
        let addr = listener.local_addr()?;
        let upstream = base_url(upstream).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("upstream {upstream:?} is not http://host:port"),
            )
        })?;
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        let shared = Arc::new(Shared {
            api,
            upstream,
            addr,
            epoch: Instant::now(),
            armed: Mutex::new(Armed::default()),
            records: Mutex::new(Records::default()),
            shutdown: CancellationToken::new(),
            client,
        });
        tokio::spawn(server::serve(shared.clone(), listener));
        tracing::info!(%addr, upstream = %shared.upstream, ?api, "fault proxy listening");
        Ok(FaultProxy { shared })
    }

    /// `http://127.0.0.1:<port>`: give it to the client instead of the
    /// upstream's URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.shared.addr)
    }

    /// The proxy's address.
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// When the proxy started: record times are offsets from it.
    pub fn epoch(&self) -> Instant {
        self.shared.epoch
    }

    /// Arms `fault` (spent by the traffic that follows).
    pub fn inject(&self, fault: Fault) {
        tracing::debug!(?fault, "fault armed");
        self.shared.armed().arm(fault, Instant::now());
    }

    /// Disarms every fault; from now on the proxy only relays.
    pub fn clear_faults(&self) {
        self.shared.armed().clear();
    }

    /// A copy of everything recorded so far.
    pub fn records(&self) -> Records {
        self.shared.records().clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.shutdown.cancel();
    }
}

/// `http://host:port` of a URL, without path.
fn base_url(url: &str) -> Option<String> {
    let uri: http::Uri = url.parse().ok()?;
    if uri.scheme_str() != Some("http") {
        return None;
    }
    Some(format!("http://{}", uri.authority()?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn upstream_urls_lose_their_paths() {
        assert_eq!(
            super::base_url("http://127.0.0.1:5050/api/v1/scheduler").as_deref(),
            Some("http://127.0.0.1:5050")
        );
        assert_eq!(super::base_url("https://m:1"), None);
        assert_eq!(super::base_url("m:1"), None);
    }
}
