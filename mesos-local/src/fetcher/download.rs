//! `http://` and `https://` downloads with the hyper client: redirects
//! followed within a bound, the body streamed to the destination file with
//! a size limit; the whole download within a time limit, and failed when
//! it makes no progress for the stall timeout (as Mesos's
//! `--fetcher_stall_timeout`). A failed download removes its partial file.

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::io::AsyncWriteExt;

use super::{FetchError, FetcherConfig};

/// The most redirects (301, 302, 303, 307, 308) one download follows.
pub(crate) const MAX_REDIRECTS: usize = 10;

/// A response whose status is 200, its body not read yet.
pub(super) type Response = http::Response<Incoming>;

/// Downloads `url` to `destination` within the configured limits.
pub(super) async fn download(
    url: &str,
    destination: &Path,
    config: &FetcherConfig,
) -> Result<(), FetchError> {
    within(config, destination, async {
        let response = open(url, config).await?;
        save(response, destination, config).await.map(drop)
    })
    .await
}

/// Runs `download` within the configured download timeout; on failure
/// (or timeout) `destination`'s partial file is removed.
pub(super) async fn within<T>(
    config: &FetcherConfig,
    destination: &Path,
    download: impl Future<Output = Result<T, FetchError>>,
) -> Result<T, FetchError> {
    let result = match tokio::time::timeout(config.download_timeout, download).await {
        Ok(result) => result,
        Err(_) => Err(FetchError::Download(format!(
            "timed out after {}s",
            config.download_timeout.as_secs_f64()
        ))),
    };
    if result.is_err() {
        let _ = tokio::fs::remove_file(destination).await;
    }
    result
}

/// The error of a download that made no progress for `stall`, in curl's
/// words (Mesos's fetcher downloads with libcurl).
fn stalled(stall: Duration) -> FetchError {
    FetchError::Download(format!(
        "Operation too slow. Less than 1 bytes/sec transferred the last {} seconds",
        stall.as_secs_f64()
    ))
}

/// Requests `url`, following redirects; the response must be a 200.
/// Waiting for each response head counts against the stall timeout.
pub(super) async fn open(url: &str, config: &FetcherConfig) -> Result<Response, FetchError> {
    let client = client()?;
    let mut uri = mesos_http::parse_url(url).map_err(|e| FetchError::Download(e.to_string()))?;
    let mut redirects = 0;
    let response = loop {
        let request = http::Request::get(uri.clone())
            .header(http::header::USER_AGENT, "mesos-local-fetcher")
            .body(Empty::<Bytes>::new())
            .map_err(|e| FetchError::Download(e.to_string()))?;
        let response = tokio::time::timeout(config.stall_timeout, client.request(request))
            .await
            .map_err(|_| stalled(config.stall_timeout))?
            .map_err(|e| FetchError::Download(mesos_http::error_chain(&e)))?;
        if !response.status().is_redirection() || response.status() == 304 {
            break response;
        }
        redirects += 1;
        if redirects > MAX_REDIRECTS {
            return Err(FetchError::Download(format!(
                "more than {MAX_REDIRECTS} redirects"
            )));
        }
        let location = response
            .headers()
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| FetchError::Download("a redirect without Location".into()))?;
        uri = mesos_http::resolve_location(&uri, location)
            .map_err(|e| FetchError::Download(e.to_string()))?;
    };
    if response.status() != http::StatusCode::OK {
        return Err(FetchError::Status(response.status().as_u16()));
    }
    Ok(response)
}

/// The size the response announces (`Content-Length`), if it does.
pub(super) fn content_length(response: &Response) -> Option<u64> {
    response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// Streams the body of `response` to `destination` (created or
/// truncated); returns the number of bytes written. At most
/// `max_download_size` bytes; each chunk must come within the stall
/// timeout.
pub(super) async fn save(
    response: Response,
    destination: &Path,
    config: &FetcherConfig,
) -> Result<u64, FetchError> {
    let io = |what: &str| {
        let what = format!("{what} '{}'", destination.display());
        move |source| FetchError::Io { what, source }
    };
    let mut body = response.into_body();
    let mut file = tokio::fs::File::create(destination)
        .await
        .map_err(io("Failed to create"))?;
    let mut written: u64 = 0;
    loop {
        let frame = tokio::time::timeout(config.stall_timeout, body.frame())
            .await
            .map_err(|_| stalled(config.stall_timeout))?;
        let Some(frame) = frame else {
            break;
        };
        let frame = frame.map_err(|e| FetchError::Download(mesos_http::error_chain(&e)))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        written += data.len() as u64;
        if written > config.max_download_size {
            return Err(FetchError::Download(format!(
                "the resource is larger than {} bytes",
                config.max_download_size
            )));
        }
        file.write_all(&data).await.map_err(io("Failed to write"))?;
    }
    file.flush().await.map_err(io("Failed to write"))?;
    Ok(written)
}

#[cfg(feature = "tls")]
type Connector = hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;
#[cfg(not(feature = "tls"))]
type Connector = hyper_util::client::legacy::connect::HttpConnector;

fn client() -> Result<Client<Connector, Empty<Bytes>>, FetchError> {
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(Duration::from_secs(30)));
    #[cfg(feature = "tls")]
    let connector = {
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(provider)
            .map_err(|e| FetchError::Download(e.to_string()))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http)
    };
    #[cfg(not(feature = "tls"))]
    let connector = http;
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}
