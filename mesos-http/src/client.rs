//! The client half: POST a call, or open a subscription.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION, USER_AGENT};
use http::{HeaderValue, Request, StatusCode, Uri};
use http_body::Body as _;
use http_body_util::{BodyExt, Either, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mesos_proto::codec::WireMessage;
use mesos_proto::recordio::{RecordIoCodec, RecordStream, DEFAULT_MAX_RECORD_LEN};
use mesos_proto::MediaType;

use crate::headers::{self, MESOS_STREAM_ID};
use crate::{redact_url, Credentials, Error, EventStream, RedactedUrl, DEFAULT_ERROR_BODY_LIMIT};

#[cfg(feature = "tls")]
type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
#[cfg(not(feature = "tls"))]
type Connector = HttpConnector;

mod pipeline;
mod streaming;

/// The body of a request: a whole call, or a RecordIO stream of calls
/// ([`Client::call_streaming`]).
type RequestBody = Either<Full<Bytes>, streaming::RecordBody>;

type Inner = hyper_util::client::legacy::Client<Connector, RequestBody>;

/// The default limit on the body of a call's success response: 16 MiB.
///
/// The answers of the scheduler and executor APIs are small (most calls get
/// an empty `202 Accepted`); this is twice the default largest event record
/// ([`DEFAULT_MAX_RECORD_LEN`], 8 MiB), so only a broken or hostile server
/// reaches it.
pub const DEFAULT_MAX_RESPONSE_LEN: usize = 16 * 1024 * 1024;

/// An HTTP client for the Mesos v1 APIs: cheap to clone (connections are
/// pooled and shared), `Send + Sync`.
///
/// The client knows nothing of schedulers or executors: it POSTs a call in
/// the configured [`MediaType`] and maps the answer (a success, one of the
/// Mesos API's HTTP errors, or a RecordIO event stream) to Rust types.
///
/// # Credentials and redirects
/// The configured [`Credentials`] go with every request, and the client
/// sends requests only to the URLs its caller passes to [`Client::call`] and
/// [`Client::subscribe`]: it never follows a redirect by itself (a `307` is
/// returned as [`Error::Redirect`]). The scheduler and executor drivers call
/// it with the configured masters or agent, and with the redirect targets
/// that [`resolve_location`](crate::resolve_location) accepted: the same scheme, or an upgrade from
/// `http` to `https`, never a downgrade from `https` to `http`
/// ([`Error::InsecureRedirect`]). A redirect may name another host (the
/// leading master), which then receives the credentials too. User-info in a
/// URL (`http://user:password@host/`) is never sent and never shown.
///
/// # Limits
/// Every response body is read with a bound: a call's answer by
/// [`ClientBuilder::max_response_len`], an error's text by
/// [`DEFAULT_ERROR_BODY_LIMIT`], each event by
/// [`ClientBuilder::max_record_len`].
///
/// ```no_run
/// use mesos_http::{Client, MediaType};
/// use mesos_proto::v1::scheduler::{call, Call, Event};
///
/// # async fn run() -> Result<(), mesos_http::Error> {
/// let client = Client::builder().media_type(MediaType::Json).build()?;
/// let url = mesos_http::parse_url("http://127.0.0.1:5050/api/v1/scheduler")?;
/// let subscribe = Call { r#type: Some(call::Type::Subscribe as i32), ..Default::default() };
/// let subscription = client.subscribe::<_, Event>(&url, &subscribe).await?;
/// println!("stream id {:?}", subscription.stream_id);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Inner,
    config: Arc<Config>,
}

struct Config {
    media: MediaType,
    credentials: Option<Credentials>,
    request_timeout: Duration,
    max_record_len: usize,
    max_response_len: usize,
    user_agent: HeaderValue,
    /// Pipelined calls, when enabled ([`ClientBuilder::pipelining`]).
    pipelines: Option<pipeline::Pipelines>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("media", &self.config.media)
            .field("credentials", &self.config.credentials)
            .field("request_timeout", &self.config.request_timeout)
            .field("max_record_len", &self.config.max_record_len)
            .field("max_response_len", &self.config.max_response_len)
            .field("pipelining", &self.config.pipelines.is_some())
            .finish_non_exhaustive()
    }
}

/// Configuration of a [`Client`]; every setting has a documented default.
#[must_use]
pub struct ClientBuilder {
    media: MediaType,
    credentials: Option<Credentials>,
    request_timeout: Duration,
    connect_timeout: Duration,
    max_record_len: usize,
    max_response_len: usize,
    user_agent: String,
    pipeline_depth: usize,
    #[cfg(feature = "tls")]
    tls: crate::TlsConfig,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("media", &self.media)
            .field("credentials", &self.credentials)
            .field("request_timeout", &self.request_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_record_len", &self.max_record_len)
            .field("max_response_len", &self.max_response_len)
            .field("pipeline_depth", &self.pipeline_depth)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            media: MediaType::Protobuf,
            credentials: None,
            request_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            max_record_len: DEFAULT_MAX_RECORD_LEN,
            max_response_len: DEFAULT_MAX_RESPONSE_LEN,
            user_agent: concat!("mesos-rs/", env!("CARGO_PKG_VERSION")).to_string(),
            pipeline_depth: 0,
            #[cfg(feature = "tls")]
            tls: crate::TlsConfig::default(),
        }
    }
}

impl ClientBuilder {
    /// The media type of calls and events. Default: [`MediaType::Protobuf`].
    pub fn media_type(mut self, media: MediaType) -> Self {
        self.media = media;
        self
    }

    /// Credentials sent with every request. Default: none.
    ///
    /// They go only to the URLs passed to the client's calls (see
    /// [`Client`]: configured masters or agent, and redirect targets accepted
    /// by [`resolve_location`](crate::resolve_location), never an `https` → `http` downgrade). Use
    /// `https` endpoints to keep them off the wire in clear text.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// How long a call may take, and how long a subscription may wait for
    /// its response headers. Default: 60 s.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How long establishing a TCP connection may take. Default: 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The largest event record accepted on a subscription, and the largest
    /// call sent as one record of a streamed request
    /// ([`Client::call_streaming`]). Default: [`DEFAULT_MAX_RECORD_LEN`]
    /// (8 MiB).
    pub fn max_record_len(mut self, len: usize) -> Self {
        self.max_record_len = len;
        self
    }

    /// The largest body of a call's success response ([`Client::call`])
    /// the client reads, in bytes. Default: [`DEFAULT_MAX_RESPONSE_LEN`]
    /// (16 MiB).
    ///
    /// The limit holds while the body streams in: a response whose
    /// `Content-Length` is larger is refused before its body is read, and a
    /// body that grows past the limit is dropped as soon as it does, so no
    /// more than the limit is ever buffered. Either way the call fails with
    /// [`Error::ResponseTooLarge`], which is not retryable. (Error bodies are
    /// bounded by [`DEFAULT_ERROR_BODY_LIMIT`], event records by
    /// [`max_record_len`](ClientBuilder::max_record_len).)
    pub fn max_response_len(mut self, len: usize) -> Self {
        self.max_response_len = len;
        self
    }

    /// Pipelines [`Client::call`]s: they go out on one kept connection per
    /// endpoint, written without waiting for the answers before them, at
    /// most `depth` unanswered at a time (callers past that wait for a
    /// slot); the answers are read back in order. `0` (the default) turns
    /// pipelining off: every call then takes a pooled connection of its own
    /// for its round trip.
    ///
    /// Pipelining saves a round trip's worth of system calls per call when
    /// many are in flight (acknowledgements of a busy scheduler). Both the
    /// Mesos master (libprocess) and `mesos-local` answer pipelined requests
    /// in order. A connection that breaks fails the calls written on it and
    /// not answered with [`Error::Request`] (retryable); calls not written yet
    /// go out on a new connection. A call not answered within the
    /// [`request_timeout`](ClientBuilder::request_timeout) fails with
    /// [`Error::Timeout`] and closes the connection, so that the calls behind
    /// it are not kept waiting as long. Subscriptions and streamed calls
    /// never use the pipeline.
    pub fn pipelining(mut self, depth: usize) -> Self {
        self.pipeline_depth = depth;
        self
    }

    /// The `User-Agent` header. Default: `mesos-rs/<version>`.
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = agent.into();
        self
    }

    /// The TLS settings of `https://` endpoints: trusted CAs, a client
    /// certificate (mutual TLS), the server name to verify. Default:
    /// [`TlsConfig::default`](crate::TlsConfig) (the system's certificates
    /// plus the bundled Mozilla roots; no client certificate). Certificate
    /// verification is always on.
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: crate::TlsConfig) -> Self {
        self.tls = tls;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(self.connect_timeout));
        #[cfg(feature = "tls")]
        let connector = {
            let config = self.tls.client_config().map_err(Error::Tls)?;
            let builder = hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(config)
                .https_or_http();
            let builder = match self.tls.server_name_override() {
                Some(name) => builder
                    .with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name)),
                None => builder,
            };
            builder.enable_http1().wrap_connector(http)
        };
        #[cfg(not(feature = "tls"))]
        let connector = http;
        let pipelines = (self.pipeline_depth > 0).then(|| {
            pipeline::Pipelines::new(
                connector.clone(),
                self.pipeline_depth,
                self.max_response_len,
            )
        });
        let inner = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(connector);
        let user_agent =
            HeaderValue::from_str(&self.user_agent).map_err(|e| Error::InvalidUrl {
                url: String::new(),
                reason: format!("invalid user agent: {e}"),
            })?;
        Ok(Client {
            inner,
            config: Arc::new(Config {
                media: self.media,
                credentials: self.credentials,
                request_timeout: self.request_timeout,
                max_record_len: self.max_record_len,
                max_response_len: self.max_response_len,
                user_agent,
                pipelines,
            }),
        })
    }
}

/// A successful answer to a call: `202 Accepted` with no body for most
/// calls, `200 OK` with a body for calls that return data.
#[derive(Debug, Clone)]
pub struct CallResponse {
    /// The status (a 2xx).
    pub status: StatusCode,
    /// The media type of the body, if the server named one of ours.
    pub media: Option<MediaType>,
    /// The body (empty for `202`).
    pub body: Bytes,
}

impl CallResponse {
    /// Decodes the body as `R` (in the response's media type, or the one we
    /// asked for when the server did not say).
    pub fn decode<R: WireMessage>(
        &self,
        requested: MediaType,
    ) -> Result<R, mesos_proto::DecodeError> {
        self.media.unwrap_or(requested).decode(&self.body)
    }
}

/// An open subscription: the stream id the server issued (schedulers must
/// send it with every later call) and the event stream.
#[derive(Debug)]
pub struct Subscription<E> {
    /// The `Mesos-Stream-Id` response header (masters send one; agents do not).
    pub stream_id: Option<String>,
    /// The events, in order.
    pub events: EventStream<E>,
}

impl Client {
    /// A builder with the defaults.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The media type calls and events use.
    pub fn media_type(&self) -> MediaType {
        self.config.media
    }

    fn request<C: WireMessage>(
        &self,
        url: &Uri,
        call: &C,
        stream_id: Option<&str>,
    ) -> Result<Request<RequestBody>, Error> {
        let (builder, body) = self.call_request(url, call, stream_id)?;
        finish(url, builder, Either::Left(Full::new(body)))
    }

    /// A call's request: its headers (in the builder) and its encoded body.
    fn call_request<C: WireMessage>(
        &self,
        url: &Uri,
        call: &C,
        stream_id: Option<&str>,
    ) -> Result<(http::request::Builder, Bytes), Error> {
        let body = self.config.media.encode(call).map_err(Error::Encode)?;
        let mime = HeaderValue::from_static(self.config.media.mime());
        let mut builder = self.post(url).header(CONTENT_TYPE, mime);
        if let Some(id) = stream_id {
            let value = HeaderValue::from_str(id).map_err(|e| Error::InvalidUrl {
                url: redact_url(url),
                reason: format!("invalid Mesos-Stream-Id: {e}"),
            })?;
            builder = builder.header(MESOS_STREAM_ID, value);
        }
        Ok((builder, body))
    }

    /// A POST to `url` with the headers every request carries: `Accept`,
    /// `User-Agent`, and the credentials.
    fn post(&self, url: &Uri) -> http::request::Builder {
        let mime = HeaderValue::from_static(self.config.media.mime());
        let mut builder = Request::post(url.clone())
            .header(ACCEPT, mime)
            .header(USER_AGENT, self.config.user_agent.clone());
        if let Some(auth) = self
            .config
            .credentials
            .as_ref()
            .and_then(Credentials::header_value)
        {
            builder = builder.header(AUTHORIZATION, auth);
        }
        builder
    }

    async fn send(
        &self,
        url: &Uri,
        request: Request<RequestBody>,
    ) -> Result<http::Response<Incoming>, Error> {
        let timeout = self.config.request_timeout;
        match tokio::time::timeout(timeout, self.inner.request(request)).await {
            Err(_) => Err(Error::Timeout {
                endpoint: redact_url(url),
                timeout,
            }),
            Ok(Err(e)) => Err(transport_error(url, e)),
            Ok(Ok(response)) => Ok(response),
        }
    }

    /// POSTs `call` to `url` (with `Mesos-Stream-Id` when given) and waits for
    /// the whole answer. Any non-2xx status becomes the matching [`Error`].
    pub async fn call<C: WireMessage>(
        &self,
        url: &Uri,
        call: &C,
        stream_id: Option<&str>,
    ) -> Result<CallResponse, Error> {
        if let Some(pipelines) = &self.config.pipelines {
            return self.call_pipelined(pipelines, url, call, stream_id).await;
        }
        let request = self.request(url, call, stream_id)?;
        let response = self.send(url, request).await?;
        self.read_answer(url, response).await
    }

    /// Maps a response to a call: a 2xx with its body (read within
    /// [`ClientBuilder::max_response_len`] and the request timeout), or the
    /// [`Error`] of its status.
    async fn read_answer(
        &self,
        url: &Uri,
        response: http::Response<Incoming>,
    ) -> Result<CallResponse, Error> {
        let status = response.status();
        if !status.is_success() {
            return Err(error_from_response(&redact_url(url), response).await);
        }
        let media = headers::content_type(response.headers());
        let limit = self.config.max_response_len;
        let too_large = || Error::ResponseTooLarge {
            endpoint: redact_url(url),
            limit,
        };
        let body = response.into_body();
        // A Content-Length over the limit is refused before reading a byte;
        // otherwise `Limited` fails as soon as the body outgrows the limit,
        // before the frame that does so is kept. Dropping the body then
        // closes the connection.
        if body.size_hint().lower() > u64::try_from(limit).unwrap_or(u64::MAX) {
            tracing::debug!(endpoint = %RedactedUrl(url), %status, limit, "response too large");
            return Err(too_large());
        }
        let timeout = self.config.request_timeout;
        let body = match tokio::time::timeout(timeout, Limited::new(body, limit).collect()).await {
            Err(_) => {
                return Err(Error::Timeout {
                    endpoint: redact_url(url),
                    timeout,
                })
            }
            Ok(Err(e)) if e.is::<LengthLimitError>() => {
                tracing::debug!(endpoint = %RedactedUrl(url), %status, limit, "response too large");
                return Err(too_large());
            }
            Ok(Err(source)) => {
                return Err(Error::Request {
                    endpoint: redact_url(url),
                    source,
                })
            }
            Ok(Ok(collected)) => collected.to_bytes(),
        };
        tracing::trace!(endpoint = %RedactedUrl(url), %status, len = body.len(), "call answered");
        Ok(CallResponse {
            status,
            media,
            body,
        })
    }

    /// POSTs a SUBSCRIBE `call` to `url` and returns the open event stream.
    ///
    /// The server must answer `200 OK` in the media type we asked for; the
    /// response's `Mesos-Stream-Id` is kept in the [`Subscription`]. The
    /// timeout covers the response headers only; the stream itself has no
    /// timeout here (watching heartbeats is the caller's job).
    pub async fn subscribe<C: WireMessage, E: WireMessage>(
        &self,
        url: &Uri,
        call: &C,
    ) -> Result<Subscription<E>, Error> {
        let request = self.request(url, call, None)?;
        let response = self.send(url, request).await?;
        let endpoint = redact_url(url);
        if response.status() != StatusCode::OK {
            return Err(error_from_response(&endpoint, response).await);
        }
        let expected = self.config.media;
        if let Some(value) = response.headers().get(CONTENT_TYPE) {
            let text = value.to_str().ok();
            if text.and_then(MediaType::from_mime) != Some(expected) {
                return Err(Error::ContentType {
                    endpoint,
                    content_type: text.map(str::to_string),
                    expected,
                });
            }
        }
        let stream_id = headers::stream_id(response.headers()).map(str::to_string);
        tracing::debug!(%endpoint, ?stream_id, "subscribed");
        let codec = RecordIoCodec::new().with_max_record_len(self.config.max_record_len);
        let records = RecordStream::with_codec(response.into_body().into_data_stream(), codec);
        Ok(Subscription {
            stream_id,
            events: EventStream::new(records, expected, endpoint),
        })
    }
}

/// Adds `body` to a request being built.
fn finish<B>(url: &Uri, builder: http::request::Builder, body: B) -> Result<Request<B>, Error> {
    builder.body(body).map_err(|e| Error::InvalidUrl {
        url: redact_url(url),
        reason: e.to_string(),
    })
}

/// Maps a failed exchange: a TLS verdict on the certificates (with what to
/// check), no connection, or a connection that broke.
fn transport_error(url: &Uri, e: hyper_util::client::legacy::Error) -> Error {
    #[cfg(feature = "tls")]
    if let Some((reason, true)) = crate::tls::explain_handshake_failure(&e) {
        return Error::TlsHandshake {
            endpoint: redact_url(url),
            reason,
            source: Box::new(e),
        };
    }
    if e.is_connect() {
        Error::Connect {
            endpoint: redact_url(url),
            source: Box::new(e),
        }
    } else {
        Error::Request {
            endpoint: redact_url(url),
            source: Box::new(e),
        }
    }
}

/// Reads at most [`DEFAULT_ERROR_BODY_LIMIT`] bytes of an error response and
/// maps its status.
async fn error_from_response(endpoint: &str, response: http::Response<Incoming>) -> Error {
    let status = response.status();
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut body = response.into_body();
    let mut text = Vec::new();
    let read = async {
        while text.len() < DEFAULT_ERROR_BODY_LIMIT {
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        let room = DEFAULT_ERROR_BODY_LIMIT - text.len();
                        text.extend_from_slice(&data[..data.len().min(room)]);
                    }
                }
                _ => break,
            }
        }
    };
    // An error body that never ends must not hang the caller.
    let _ = tokio::time::timeout(Duration::from_secs(5), read).await;
    let message = String::from_utf8_lossy(&text).trim().to_string();
    tracing::debug!(%endpoint, %status, %message, "call failed");
    Error::from_status(endpoint, status, location.as_deref(), message)
}
