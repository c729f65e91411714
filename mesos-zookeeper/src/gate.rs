//! [`Gate`]: the loopback relay a [`MasterContender`](crate::MasterContender)
//! reaches ZooKeeper through, so that its session can be ended on demand.
//!
//! Ending a session from outside means taking it over from a second
//! connection and closing it there. The contender's own client reconnects
//! at once whenever the takeover closes its connection, and each of its
//! reconnections closes the takeover's in turn: the two can keep each other
//! from ever completing a handshake. With the gate closed, the contender's
//! connections are cut and new ones are closed as soon as they arrive, so
//! the takeover runs uncontested; opened again, the contender reconnects
//! and ZooKeeper tells it that its session has expired.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::{ZkServer, ZkUrl};

/// How long the relay waits for a ZooKeeper server to accept a connection.
const UPSTREAM_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// One loopback listener per ZooKeeper server of a URL, each forwarding to
/// its server while the gate is open. Dropping the gate stops accepting;
/// connections already relayed run until either end closes them (so that a
/// contender's closing request still reaches ZooKeeper).
pub(crate) struct Gate {
    closed: Arc<watch::Sender<bool>>,
    listeners: Vec<JoinHandle<()>>,
}

impl Gate {
    /// Starts relaying to `url`'s servers; returns the gate and the same URL
    /// with the relay's addresses in place of the servers'.
    pub(crate) async fn start(url: &ZkUrl) -> std::io::Result<(Gate, ZkUrl)> {
        let (closed, _) = watch::channel(false);
        let closed = Arc::new(closed);
        let mut listeners = Vec::with_capacity(url.servers().len());
        let mut relayed = Vec::with_capacity(url.servers().len());
        for server in url.servers() {
            let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
            relayed.push(ZkServer {
                host: "127.0.0.1".to_string(),
                port: listener.local_addr()?.port(),
            });
            listeners.push(tokio::spawn(relay(
                listener,
                server.clone(),
                Arc::clone(&closed),
            )));
        }
        let through = url
            .with_servers(relayed)
            .expect("as many relays as servers, and a URL has at least one");
        Ok((Gate { closed, listeners }, through))
    }

    /// A handle that closes and opens this gate.
    pub(crate) fn control(&self) -> GateControl {
        GateControl {
            closed: Arc::clone(&self.closed),
        }
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        for listener in &self.listeners {
            listener.abort();
        }
    }
}

/// Closes a [`Gate`] for as long as the returned guard lives.
#[derive(Clone)]
pub(crate) struct GateControl {
    closed: Arc<watch::Sender<bool>>,
}

impl GateControl {
    /// Cuts every relayed connection and refuses new ones until the guard is
    /// dropped.
    pub(crate) fn close(&self) -> ClosedGate {
        self.closed.send_replace(true);
        ClosedGate {
            closed: Arc::clone(&self.closed),
        }
    }
}

/// Opens the gate again when dropped.
pub(crate) struct ClosedGate {
    closed: Arc<watch::Sender<bool>>,
}

impl Drop for ClosedGate {
    fn drop(&mut self) {
        self.closed.send_replace(false);
    }
}

async fn relay(listener: TcpListener, server: ZkServer, closed: Arc<watch::Sender<bool>>) {
    loop {
        let mut inbound = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of descriptors, say: not a busy loop.
                tracing::debug!(error = %e, "relay: accepting failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let mut gate = closed.subscribe();
        if *gate.borrow_and_update() {
            // Closed: the connection is dropped, i.e. closed at once.
            continue;
        }
        let server = server.clone();
        tokio::spawn(async move {
            let connect = TcpStream::connect((server.host.as_str(), server.port));
            let mut outbound = match tokio::time::timeout(UPSTREAM_CONNECT_TIMEOUT, connect).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    tracing::debug!(%server, error = %e, "relay: ZooKeeper refused the connection");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%server, "relay: connecting to ZooKeeper timed out");
                    return;
                }
            };
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                _ = gate.wait_for(|closed| *closed) => {
                    tracing::debug!(%server, "relay: gate closed, connection cut");
                }
            }
        });
    }
}
