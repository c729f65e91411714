//! The HTTP(S) server loop of the master and the agents.

use std::future::Future;
use std::net::SocketAddr;

use http::{Request, Response};
use hyper::body::Incoming;
use mesos_http::server::{Body, ServerLimits};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// A server's TLS, when the cluster serves `https://`.
#[cfg(feature = "tls")]
pub(crate) type ServerTls = mesos_http::server::ServerTls;
/// Without the `tls` feature there is none.
#[cfg(not(feature = "tls"))]
pub(crate) type ServerTls = std::convert::Infallible;

/// The URL scheme of a server with `tls`.
pub(crate) fn scheme(tls: Option<&ServerTls>) -> &'static str {
    if tls.is_some() {
        "https"
    } else {
        "http"
    }
}

/// Serves `handler` on `listener` (over TLS with `tls`) until `shutdown`.
pub(crate) async fn serve<H, F>(
    listener: TcpListener,
    handler: H,
    shutdown: CancellationToken,
    limits: ServerLimits,
    tls: Option<ServerTls>,
) where
    H: Fn(Request<Incoming>, SocketAddr) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send + 'static,
{
    match tls {
        None => mesos_http::server::serve_with_limits(listener, handler, shutdown, &limits).await,
        #[cfg(feature = "tls")]
        Some(tls) => {
            mesos_http::server::serve_tls(listener, handler, shutdown, &limits, &tls).await
        }
        #[cfg(not(feature = "tls"))]
        Some(never) => match never {},
    }
}
