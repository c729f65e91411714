//! The transport's error type, with predicates for what a caller should do.

use http::StatusCode;
use mesos_proto::codec::{DecodeError, EncodeError};
use mesos_proto::recordio::RecordIoError;

use crate::{redact_url_str, BoxError};

/// At most this many bytes of an error response body are read and kept as
/// the error's message (the rest is discarded).
pub const DEFAULT_ERROR_BODY_LIMIT: usize = 4096;

/// Everything that can go wrong between a client and a Mesos master or agent.
///
/// Each variant names the endpoint and what was being done; every URL in an
/// error (endpoint, location, redirect target) is shown without user-info
/// (`user:password@`, see [`redact_url`](crate::redact_url)), in `Display`
/// and in `Debug` alike; the underlying cause, when there is one, is the
/// [`source`](std::error::Error::source). The predicates
/// ([`is_retryable`](Error::is_retryable),
/// [`is_subscription_lost`](Error::is_subscription_lost), ...) say what to do
/// about it without matching on every variant.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The endpoint URL is not usable (bad syntax, unsupported scheme, no host).
    #[error("invalid endpoint URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given, without user-info
        /// ([`redact_url_str`](crate::redact_url_str)).
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No connection could be made (refused, unreachable, TLS handshake).
    #[error("could not connect to {endpoint}")]
    Connect {
        /// The endpoint.
        endpoint: String,
        /// Why.
        #[source]
        source: BoxError,
    },
    /// The connection failed while sending the request or reading the
    /// response (reset, closed early).
    #[error("request to {endpoint} failed")]
    Request {
        /// The endpoint.
        endpoint: String,
        /// Why.
        #[source]
        source: BoxError,
    },
    /// No response within the configured timeout.
    #[error("no response from {endpoint} within {timeout:?}")]
    Timeout {
        /// The endpoint.
        endpoint: String,
        /// The timeout that expired.
        timeout: std::time::Duration,
    },
    /// `307 Temporary Redirect`: this master is not the leader; `location`
    /// names the leading master.
    #[error("{endpoint} is not the leading master; redirected to {location}")]
    Redirect {
        /// The endpoint that answered.
        endpoint: String,
        /// The `Location` header (often scheme-relative: `//host:port/path`),
        /// without user-info ([`redact_url_str`](crate::redact_url_str)).
        location: String,
    },
    /// A redirect from an `https` URL to a plain `http` one, refused by
    /// [`resolve_location`](crate::resolve_location): following it would
    /// send the credentials and the calls in clear text. Retrying cannot
    /// help; a master that redirects so is misconfigured.
    #[error("refusing the redirect from {from} to {to}: it leaves https for plain http")]
    InsecureRedirect {
        /// The `https` URL that answered with the redirect, without user-info.
        from: String,
        /// The `http` URL it redirected to, without user-info.
        to: String,
    },
    /// `400 Bad Request`: the master or agent refused the call; `message` is
    /// its explanation. Sending the same call again will fail the same way.
    #[error("{endpoint} rejected the call: {message}")]
    BadRequest {
        /// The endpoint.
        endpoint: String,
        /// The response body (at most [`DEFAULT_ERROR_BODY_LIMIT`] bytes).
        message: String,
    },
    /// `401 Unauthorized`: missing or wrong credentials.
    #[error("{endpoint} requires authentication: {message}")]
    Unauthorized {
        /// The endpoint.
        endpoint: String,
        /// The response body.
        message: String,
    },
    /// `403 Forbidden`: the principal may not do this, or (scheduler API)
    /// the framework is not subscribed on this stream.
    #[error("{endpoint} refused the call: {message}")]
    Forbidden {
        /// The endpoint.
        endpoint: String,
        /// The response body.
        message: String,
    },
    /// Any other unexpected HTTP status.
    #[error("{endpoint} answered {status}: {message}")]
    Status {
        /// The endpoint.
        endpoint: String,
        /// The status.
        status: StatusCode,
        /// The response body.
        message: String,
    },
    /// A success response whose `Content-Type` is not the media type we asked
    /// for (for example an HTML page from a proxy).
    #[error("{endpoint} answered with content type {content_type:?}, expected {expected}")]
    ContentType {
        /// The endpoint.
        endpoint: String,
        /// What the response said.
        content_type: Option<String>,
        /// What we asked for.
        expected: mesos_proto::MediaType,
    },
    /// One record of an event stream (or a response body) is not a valid
    /// message. The stream itself is still in sync.
    #[error("undecodable message from {endpoint}")]
    Decode {
        /// The endpoint.
        endpoint: String,
        /// Why.
        #[source]
        source: DecodeError,
    },
    /// The event stream is malformed (bad RecordIO framing, a record over the
    /// size limit, a cut mid-record): it has ended and must be reopened.
    #[error("malformed event stream from {endpoint}")]
    Framing {
        /// The endpoint.
        endpoint: String,
        /// Why.
        #[source]
        source: RecordIoError,
    },
    /// A success response's body is longer than the client's limit
    /// ([`ClientBuilder::max_response_len`](crate::ClientBuilder::max_response_len)).
    /// Reading stopped at the limit (or before the body when its
    /// `Content-Length` announced more) and the connection was closed.
    /// Sending the same call again will fail the same way.
    #[error("the response from {endpoint} is larger than the limit of {limit} bytes")]
    ResponseTooLarge {
        /// The endpoint.
        endpoint: String,
        /// The limit that was exceeded, in bytes.
        limit: usize,
    },
    /// A call of a streamed request
    /// ([`Client::call_streaming`](crate::Client::call_streaming)) is
    /// longer, encoded, than the client's record limit
    /// ([`ClientBuilder::max_record_len`](crate::ClientBuilder::max_record_len)):
    /// it was not sent and the request was aborted. Sending it again will
    /// fail the same way.
    #[error(
        "a call streamed to {endpoint} is {len} bytes, over the record limit of {limit} bytes"
    )]
    RequestRecordTooLarge {
        /// The endpoint.
        endpoint: String,
        /// The encoded call's length, in bytes.
        len: usize,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The call could not be encoded.
    #[error("could not encode the call")]
    Encode(#[source] EncodeError),
    /// The TLS configuration could not be built.
    #[cfg(feature = "tls")]
    #[error("invalid TLS configuration")]
    Tls(#[source] crate::TlsError),
    /// The TLS handshake ended in a verdict on the certificates: the
    /// server's was not trusted (unknown CA, wrong name, expired), or the
    /// server refused ours (mutual TLS). `reason` says which and what to
    /// configure. Retrying cannot help: this is a configuration problem.
    #[error("TLS with {endpoint} failed: {reason}")]
    TlsHandshake {
        /// The endpoint.
        endpoint: String,
        /// What went wrong, and what to check.
        reason: String,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
}

impl Error {
    /// The HTTP status behind this error, if it came from a response.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Redirect { .. } => Some(StatusCode::TEMPORARY_REDIRECT),
            Error::BadRequest { .. } => Some(StatusCode::BAD_REQUEST),
            Error::Unauthorized { .. } => Some(StatusCode::UNAUTHORIZED),
            Error::Forbidden { .. } => Some(StatusCode::FORBIDDEN),
            Error::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True when trying again later (with backoff) may succeed: connection
    /// failures, timeouts, a broken stream, `503 Service Unavailable` (no
    /// leader yet), `429 Too Many Requests` and other 5xx statuses.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Connect { .. }
            | Error::Request { .. }
            | Error::Timeout { .. }
            | Error::Framing { .. } => true,
            Error::Status { status, .. } => {
                *status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
            }
            _ => false,
        }
    }

    /// True when the error means the subscription is gone and the client
    /// must SUBSCRIBE again: the stream broke, or the master no longer knows
    /// the stream (`403` for an unsubscribed framework, or a redirect to a
    /// new leader).
    pub fn is_subscription_lost(&self) -> bool {
        matches!(
            self,
            Error::Framing { .. }
                | Error::Request { .. }
                | Error::Forbidden { .. }
                | Error::Redirect { .. }
        )
    }

    /// True for `401` and `403`.
    pub fn is_auth(&self) -> bool {
        matches!(self, Error::Unauthorized { .. } | Error::Forbidden { .. })
    }

    /// What happened, as one short, stable word from a small fixed set:
    /// the `outcome` that the scheduler and executor drivers record on call
    /// spans and metrics (`ok` for a success is theirs). `redirect`,
    /// `bad_request`, `unauthorized`, `forbidden`, `unavailable` (`503`,
    /// `429` and other 5xx), `status` (any other status), `timeout`,
    /// `connect`, `request` (the connection failed mid-request),
    /// `tls` (configuration or handshake), `protocol` (content type,
    /// undecodable or oversized answer, broken stream), `encode` (a call
    /// not encodable, or a streamed call over the record limit), `invalid_url`.
    pub fn outcome(&self) -> &'static str {
        match self {
            Error::InvalidUrl { .. } => "invalid_url",
            Error::Connect { .. } => "connect",
            Error::Request { .. } => "request",
            Error::Timeout { .. } => "timeout",
            Error::Redirect { .. } | Error::InsecureRedirect { .. } => "redirect",
            Error::BadRequest { .. } => "bad_request",
            Error::Unauthorized { .. } => "unauthorized",
            Error::Forbidden { .. } => "forbidden",
            Error::Status { status, .. }
                if *status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() =>
            {
                "unavailable"
            }
            Error::Status { .. } => "status",
            Error::ContentType { .. }
            | Error::Decode { .. }
            | Error::Framing { .. }
            | Error::ResponseTooLarge { .. } => "protocol",
            Error::Encode(_) | Error::RequestRecordTooLarge { .. } => "encode",
            #[cfg(feature = "tls")]
            Error::Tls(_) => "tls",
            Error::TlsHandshake { .. } => "tls",
        }
    }

    /// For a redirect, the `Location` it names.
    pub fn redirect_location(&self) -> Option<&str> {
        match self {
            Error::Redirect { location, .. } => Some(location),
            _ => None,
        }
    }

    /// Maps a non-success response to its error. `message` is the (already
    /// truncated) body text. User-info in `endpoint` or `location` is left
    /// out of the error.
    pub fn from_status(
        endpoint: &str,
        status: StatusCode,
        location: Option<&str>,
        message: String,
    ) -> Self {
        let endpoint = redact_url_str(endpoint);
        match status {
            StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT => match location {
                Some(location) => Error::Redirect {
                    endpoint,
                    location: redact_url_str(location),
                },
                None => Error::Status {
                    endpoint,
                    status,
                    message,
                },
            },
            StatusCode::BAD_REQUEST => Error::BadRequest { endpoint, message },
            StatusCode::UNAUTHORIZED => Error::Unauthorized { endpoint, message },
            StatusCode::FORBIDDEN => Error::Forbidden { endpoint, message },
            _ => Error::Status {
                endpoint,
                status,
                message,
            },
        }
    }
}

/// An error and all its sources, joined with `": "`, for logs and for
/// messages that must carry the whole story in one string.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> Error {
        let status = StatusCode::from_u16(code).unwrap();
        Error::from_status(
            "http://m:5050/api/v1/scheduler",
            status,
            Some("//m2:5050/x"),
            "msg".into(),
        )
    }

    #[test]
    fn outcomes_are_short_stable_words() {
        assert_eq!(status(400).outcome(), "bad_request");
        assert_eq!(status(401).outcome(), "unauthorized");
        assert_eq!(status(403).outcome(), "forbidden");
        assert_eq!(status(307).outcome(), "redirect");
        assert_eq!(status(503).outcome(), "unavailable");
        assert_eq!(status(429).outcome(), "unavailable");
        assert_eq!(status(404).outcome(), "status");
    }

    #[test]
    fn statuses_map_to_meaning() {
        assert_eq!(status(307).redirect_location(), Some("//m2:5050/x"));
        assert!(status(307).is_subscription_lost());
        assert!(matches!(status(400), Error::BadRequest { ref message, .. } if message == "msg"));
        assert!(!status(400).is_retryable());
        assert!(status(401).is_auth() && !status(401).is_retryable());
        assert!(status(403).is_auth() && status(403).is_subscription_lost());
        assert!(status(503).is_retryable());
        assert!(status(429).is_retryable());
        assert!(!status(404).is_retryable());
        assert_eq!(status(503).status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    }

    #[test]
    fn new_refusals_are_final() {
        let too_large = Error::ResponseTooLarge {
            endpoint: "http://m:5050/api/v1/scheduler".into(),
            limit: 1024,
        };
        let insecure = Error::InsecureRedirect {
            from: "https://m:5050/api/v1/scheduler".into(),
            to: "http://m2:5050/api/v1/scheduler".into(),
        };
        for error in [too_large, insecure] {
            assert!(!error.is_retryable(), "{error:?}");
            assert!(!error.is_subscription_lost(), "{error:?}");
            assert!(!error.is_auth() && error.status().is_none(), "{error:?}");
        }
    }

    #[test]
    fn user_info_never_reaches_an_error() {
        let error = Error::from_status(
            "http://fw:hunter2@m:5050/api/v1/scheduler",
            StatusCode::TEMPORARY_REDIRECT,
            Some("//fw:hunter2@m2:5050/api/v1/scheduler"),
            String::new(),
        );
        assert_eq!(
            error.redirect_location(),
            Some("//m2:5050/api/v1/scheduler")
        );
        for text in [error.to_string(), format!("{error:?}")] {
            assert!(!text.contains("hunter2"), "{text}");
            assert!(
                text.contains("m:5050") && text.contains("m2:5050"),
                "{text}"
            );
        }
        let error = Error::from_status(
            "http://fw:hunter2@m:5050/x",
            StatusCode::FORBIDDEN,
            None,
            "no".into(),
        );
        assert!(!format!("{error} {error:?}").contains("hunter2"));
    }

    #[test]
    fn display_includes_the_masters_message() {
        assert_eq!(
            status(400).to_string(),
            "http://m:5050/api/v1/scheduler rejected the call: msg"
        );
    }
}
