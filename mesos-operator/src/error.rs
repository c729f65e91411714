//! The one error type of the operator client.

use http::StatusCode;

/// Why an operator call (or the SUBSCRIBE stream) failed.
///
/// Every variant that comes from a call names it (`call`, e.g.
/// `"GET_STATE"`); endpoints never show user-info. The predicates
/// ([`status`](Error::status), [`is_retryable`](Error::is_retryable)) say
/// what to do about it without matching on every variant.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client's configuration is unusable (no URL, a bad URL, TLS
    /// settings that do not load, `zk://` without the `zookeeper` feature).
    #[error("invalid operator client configuration: {0}")]
    Config(String),
    /// The master or agent answered with an HTTP error status; `message` is
    /// its explanation (the response body, truncated).
    #[error("{call}: {endpoint} answered {status}: {message}")]
    Status {
        /// The call, e.g. `"RESERVE_RESOURCES"`.
        call: &'static str,
        /// The endpoint that answered.
        endpoint: String,
        /// The HTTP status (`400` for a refused call, `401`/`403` for
        /// authentication and authorization, `503` while no master leads).
        status: StatusCode,
        /// The response body.
        message: String,
    },
    /// Masters kept redirecting (`307`) past the configured bound: none of
    /// them admits to leading.
    #[error("{call}: no leading master found after {redirects} redirects (last: {endpoint})")]
    NotLeader {
        /// The call.
        call: &'static str,
        /// The last master that redirected.
        endpoint: String,
        /// How many redirects were followed.
        redirects: u32,
    },
    /// With a `zk://` master: ZooKeeper named no leading master in time.
    #[error("{call}: ZooKeeper named no leading master within {waited:?}")]
    NoLeader {
        /// The call.
        call: &'static str,
        /// How long the client waited.
        waited: std::time::Duration,
    },
    /// The request did not get an answer: no connection, a timeout, a
    /// connection that broke, a TLS failure, a refused redirect.
    #[error("{call}: transport failure")]
    Transport {
        /// The call.
        call: &'static str,
        /// What the HTTP layer reported (its `Display` names the endpoint).
        #[source]
        source: mesos_http::Error,
    },
    /// The answer is not a valid message in the media type used.
    #[error("{call}: undecodable answer from {endpoint}")]
    Decode {
        /// The call.
        call: &'static str,
        /// The endpoint that answered.
        endpoint: String,
        /// Why it did not decode.
        #[source]
        source: mesos_proto::DecodeError,
    },
    /// The answer decoded but is not the answer to this call (another
    /// response type, or the payload is missing).
    #[error("{call}: unexpected answer from {endpoint}: {detail}")]
    UnexpectedResponse {
        /// The call.
        call: &'static str,
        /// The endpoint that answered.
        endpoint: String,
        /// What was wrong.
        detail: String,
    },
    /// The SUBSCRIBE stream was lost (closed, broken, or silent for longer
    /// than the heartbeat watchdog allows). Not final: the
    /// [`MasterEvents`](crate::MasterEvents) stream goes on and subscribes
    /// again after a backoff; the next `SUBSCRIBED` event carries a fresh
    /// snapshot.
    #[error("the operator subscription was lost: {reason}")]
    Disconnected {
        /// What happened.
        reason: String,
    },
    /// The arguments would make the call fail, or worse, and were not sent
    /// (e.g. `REMOVE_CONTAINER` of a top-level container, which aborts a
    /// Mesos 1.11 agent).
    #[error("{call}: {reason}")]
    InvalidArgument {
        /// The call.
        call: &'static str,
        /// What is wrong with the arguments.
        reason: &'static str,
    },
}

impl Error {
    /// The HTTP status of an [`Error::Status`].
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True when trying again later may succeed: transport failures that
    /// the HTTP layer calls retryable (no connection, timeout, broken
    /// connection), `429`, `5xx` (a master answers `503` while no leader is
    /// elected), no leader known in ZooKeeper yet, a lost subscription.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport { source, .. } => source.is_retryable(),
            Error::Status { status, .. } => {
                *status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
            }
            Error::NoLeader { .. } | Error::NotLeader { .. } | Error::Disconnected { .. } => true,
            _ => false,
        }
    }

    /// Maps an HTTP-layer error of `call`: statuses become
    /// [`Error::Status`] with the body as message, the rest
    /// [`Error::Transport`].
    pub(crate) fn from_http(call: &'static str, error: mesos_http::Error) -> Self {
        use mesos_http::Error as H;
        let (endpoint, status, message) = match error {
            H::BadRequest { endpoint, message } => (endpoint, StatusCode::BAD_REQUEST, message),
            H::Unauthorized { endpoint, message } => (endpoint, StatusCode::UNAUTHORIZED, message),
            H::Forbidden { endpoint, message } => (endpoint, StatusCode::FORBIDDEN, message),
            H::Status {
                endpoint,
                status,
                message,
            } => (endpoint, status, message),
            H::Decode { endpoint, source } => {
                return Error::Decode {
                    call,
                    endpoint,
                    source,
                }
            }
            source => return Error::Transport { call, source },
        };
        Error::Status {
            call,
            endpoint,
            status,
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http_status(code: u16) -> mesos_http::Error {
        mesos_http::Error::from_status(
            "http://m:5050/api/v1",
            StatusCode::from_u16(code).unwrap(),
            None,
            "Agent 'x' is not registered".into(),
        )
    }

    #[test]
    fn statuses_keep_the_masters_message() {
        for code in [400, 401, 403, 404, 503] {
            let error = Error::from_http("MARK_AGENT_GONE", http_status(code));
            assert_eq!(error.status().map(|s| s.as_u16()), Some(code));
            let text = error.to_string();
            assert!(text.contains("MARK_AGENT_GONE"), "{text}");
            assert!(text.contains("Agent 'x' is not registered"), "{text}");
            assert_eq!(error.is_retryable(), code == 503, "{code}");
        }
    }

    #[test]
    fn transport_failures_are_retryable_and_name_the_call() {
        let error = Error::from_http(
            "GET_STATE",
            mesos_http::Error::Timeout {
                endpoint: "http://m:5050/api/v1".into(),
                timeout: std::time::Duration::from_secs(1),
            },
        );
        assert!(matches!(
            error,
            Error::Transport {
                call: "GET_STATE",
                ..
            }
        ));
        assert!(error.is_retryable());
        assert!(mesos_http::error_chain(&error).contains("m:5050"));
    }
}
