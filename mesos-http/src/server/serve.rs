//! The accept loop: [`serve`] and [`serve_with_limits`].

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Sleep;
use tokio_util::sync::CancellationToken;

#[cfg(feature = "tls")]
use super::ServerTls;
use super::{Body, ServerLimits};

/// Accepts HTTP/1.1 connections on `listener` and answers each request with
/// `handler`, until `shutdown` is cancelled; then the listener closes and
/// every open connection (including streaming responses) is cut at once, as
/// when a process dies. Returns when the accept loop has stopped.
///
/// `handler` gets the request and the peer's address. The connection
/// limits are [`ServerLimits::default`] (see [`serve_with_limits`]).
pub async fn serve<H, F>(listener: TcpListener, handler: H, shutdown: CancellationToken)
where
    H: Fn(Request<Incoming>, SocketAddr) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send + 'static,
{
    serve_with_limits(listener, handler, shutdown, &ServerLimits::default()).await;
}

/// [`serve`] with these limits on connections: at most
/// [`max_connections`](ServerLimits#structfield.max_connections) open (when
/// all are taken the loop stops accepting until one closes: no spinning,
/// and new clients wait in the listen backlog), each closed when its
/// request head takes longer than
/// [`header_read_timeout`](ServerLimits#structfield.header_read_timeout)
/// (which also bounds idle keep-alive) or when its output waits on a
/// client that does not read for
/// [`write_timeout`](ServerLimits#structfield.write_timeout). Call bodies
/// are bounded where they are read ([`CallReader`](super::CallReader)).
pub async fn serve_with_limits<H, F>(
    listener: TcpListener,
    handler: H,
    shutdown: CancellationToken,
    limits: &ServerLimits,
) where
    H: Fn(Request<Incoming>, SocketAddr) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send + 'static,
{
    accept_loop(listener, handler, shutdown, limits, None).await;
}

/// [`serve_with_limits`] over TLS (`https://`): each connection's handshake
/// must complete within
/// [`header_read_timeout`](ServerLimits#structfield.header_read_timeout);
/// with [`ServerTls::require_client_certificates`] a client without a
/// certificate signed by the given CA is refused in the handshake.
#[cfg(feature = "tls")]
pub async fn serve_tls<H, F>(
    listener: TcpListener,
    handler: H,
    shutdown: CancellationToken,
    limits: &ServerLimits,
    tls: &ServerTls,
) where
    H: Fn(Request<Incoming>, SocketAddr) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send + 'static,
{
    accept_loop(listener, handler, shutdown, limits, Some(tls.acceptor())).await;
}

#[cfg(not(feature = "tls"))]
type Acceptor = std::convert::Infallible;
#[cfg(feature = "tls")]
type Acceptor = tokio_rustls::TlsAcceptor;

async fn accept_loop<H, F>(
    listener: TcpListener,
    handler: H,
    shutdown: CancellationToken,
    limits: &ServerLimits,
    tls: Option<Acceptor>,
) where
    H: Fn(Request<Incoming>, SocketAddr) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send + 'static,
{
    #[cfg(feature = "tls")]
    let handshake_timeout = limits.header_read_timeout;
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        // Not `pipeline_flush`: hyper then lifts its bound on the write
        // buffer, and an event stream to a client that stops reading grows
        // without limit (`server_limits`: a client that stops reading).
        .keep_alive(true);
    let write_timeout = limits.write_timeout;
    loop {
        let slot = tokio::select! {
            _ = shutdown.cancelled() => break,
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        if slots.available_permits() == 0 {
            tracing::warn!(
                max_connections = limits.max_connections,
                "connection limit reached: the next connection waits until one closes"
            );
        }
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    // Typically out of file descriptors: give the system a moment.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        let shutdown = shutdown.clone();
        let builder = builder.clone();
        // Without the `tls` feature the TLS settings are an uninhabited `Copy` type.
        #[cfg_attr(not(feature = "tls"), allow(clippy::clone_on_copy))]
        let tls = tls.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let service = hyper::service::service_fn(move |request| {
                let response = handler(request, peer);
                async move { Ok::<_, Infallible>(response.await) }
            });
            let socket = WriteStallGuard::new(stream, write_timeout);
            let Some(acceptor) = tls else {
                let connection = builder.serve_connection(TokioIo::new(socket), service);
                return run_connection(connection, peer, shutdown).await;
            };
            #[cfg(not(feature = "tls"))]
            match acceptor {}
            #[cfg(feature = "tls")]
            {
                let handshake = tokio::time::timeout(handshake_timeout, acceptor.accept(socket));
                let secured = tokio::select! {
                    result = handshake => result,
                    _ = shutdown.cancelled() => return,
                };
                match secured {
                    Ok(Ok(secured)) => {
                        let connection = builder.serve_connection(TokioIo::new(secured), service);
                        run_connection(connection, peer, shutdown).await;
                    }
                    Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                }
            }
        });
    }
}

/// Runs one connection until it ends or `shutdown` cuts it.
async fn run_connection<C>(connection: C, peer: SocketAddr, shutdown: CancellationToken)
where
    C: Future<Output = hyper::Result<()>>,
{
    tokio::select! {
        result = connection => {
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        }
        _ = shutdown.cancelled() => {}
    }
}

/// A socket whose writes fail once they have waited `timeout` without any
/// progress (the peer stopped reading and the send buffer is full).
struct WriteStallGuard {
    inner: TcpStream,
    timeout: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
}

impl WriteStallGuard {
    fn new(inner: TcpStream, timeout: Duration) -> Self {
        WriteStallGuard {
            inner,
            timeout,
            stalled: None,
        }
    }

    /// The write is pending: arm the stall timer (if not yet) and fail
    /// once it has fired.
    fn pending<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let timeout = self.timeout;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => {
                tracing::info!(
                    ?timeout,
                    "closing a connection whose client has not read its output"
                );
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "client stopped reading",
                )))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn progress<T>(
        &mut self,
        result: Poll<io::Result<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<T>> {
        match result {
            Poll::Pending => self.pending(cx),
            ready => {
                self.stalled = None;
                ready
            }
        }
    }
}

impl AsyncRead for WriteStallGuard {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for WriteStallGuard {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.progress(result, cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.progress(result, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let result = Pin::new(&mut self.inner).poll_flush(cx);
        self.progress(result, cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let result = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.progress(result, cx)
    }
}
