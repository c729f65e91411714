//! What one client may cost the server: [`ServerLimits`].

use std::time::Duration;

use mesos_proto::cost::DecodeLimits;

/// The largest call body [`read_call`](super::read_call) accepts by default (16 MiB).
pub const DEFAULT_MAX_CALL_LEN: usize = 16 * 1024 * 1024;

/// Default of [`ServerLimits::header_read_timeout`]: 30 s (hyper's own).
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Default of [`ServerLimits::body_read_timeout`]: 30 s.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Default of [`ServerLimits::write_timeout`]: 60 s.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default of [`ServerLimits::max_connections`]: 1024.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default of [`ServerLimits::max_concurrent_large_calls`]: 2.
pub const DEFAULT_MAX_CONCURRENT_LARGE_CALLS: usize = 2;
/// Default of [`ServerLimits::large_call_len`]: 64 KiB.
pub const DEFAULT_LARGE_CALL_LEN: usize = 64 * 1024;

/// Bounds on what one client can make the server spend: time (slow
/// clients), connections, and memory (bodies and what decoding them costs).
/// Used by [`serve_with_limits`](super::serve_with_limits) and
/// [`CallReader`](super::CallReader); every field has a documented default
/// (`ServerLimits::default()`), and a setter of the same name.
///
/// Together they bound the memory of call handling: at most
/// `max_concurrent_large_calls` bodies above `large_call_len` are held and
/// decoded at once, each at most `max_call_len` bytes plus a decoded value
/// of at most `decode.max_bytes` (estimated); every other request holds at
/// most `large_call_len`, on at most `max_connections` connections.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerLimits {
    /// How long a client has to send a request's head (request line and
    /// headers), after which the connection is closed. Hyper starts this
    /// timer whenever it waits for a request head: on a kept-alive
    /// connection that is right after the previous response, so this is
    /// also how long a kept-alive connection may stay idle between
    /// requests (the idle keep-alive timeout). Default
    /// [`DEFAULT_HEADER_READ_TIMEOUT`].
    pub header_read_timeout: Duration,
    /// How long a client has to send a call's whole body, from the moment
    /// the handler starts reading it; then `408 Request Timeout`. Default
    /// [`DEFAULT_BODY_READ_TIMEOUT`].
    pub body_read_timeout: Duration,
    /// How long output may wait on a client that does not read it (the
    /// socket's send buffer full) before the connection is closed: a
    /// client that stopped reading its event stream. Default
    /// [`DEFAULT_WRITE_TIMEOUT`].
    pub write_timeout: Duration,
    /// Open connections at most. When all are taken the accept loop stops
    /// accepting until one closes (new connections wait in the kernel's
    /// listen backlog). Default [`DEFAULT_MAX_CONNECTIONS`].
    pub max_connections: usize,
    /// The largest call body, in bytes: above it, `413 Payload Too Large`.
    /// Default [`DEFAULT_MAX_CALL_LEN`].
    pub max_call_len: usize,
    /// Bodies above this size (declared or read so far) are "large": they
    /// are read and decoded under a semaphore of
    /// `max_concurrent_large_calls` permits. Default
    /// [`DEFAULT_LARGE_CALL_LEN`].
    pub large_call_len: usize,
    /// Large calls read and decoded at once; the others wait (within their
    /// body read timeout; then `503 Service Unavailable`). Default
    /// [`DEFAULT_MAX_CONCURRENT_LARGE_CALLS`].
    pub max_concurrent_large_calls: usize,
    /// What decoding one call may cost, checked on the encoded body before
    /// decoding it (`413 Payload Too Large` when over). Default
    /// [`DecodeLimits::default`].
    pub decode: DecodeLimits,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_call_len: DEFAULT_MAX_CALL_LEN,
            large_call_len: DEFAULT_LARGE_CALL_LEN,
            max_concurrent_large_calls: DEFAULT_MAX_CONCURRENT_LARGE_CALLS,
            decode: DecodeLimits::default(),
        }
    }
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident: $ty:ty) => {
        $(#[$doc])*
        #[must_use]
        pub fn $name(mut self, value: $ty) -> Self {
            self.$name = value;
            self
        }
    };
}

impl ServerLimits {
    setter!(
        /// Sets [`header_read_timeout`](Self#structfield.header_read_timeout).
        header_read_timeout: Duration
    );
    setter!(
        /// Sets [`body_read_timeout`](Self#structfield.body_read_timeout).
        body_read_timeout: Duration
    );
    setter!(
        /// Sets [`write_timeout`](Self#structfield.write_timeout).
        write_timeout: Duration
    );
    setter!(
        /// Sets [`max_connections`](Self#structfield.max_connections).
        max_connections: usize
    );
    setter!(
        /// Sets [`max_call_len`](Self#structfield.max_call_len).
        max_call_len: usize
    );
    setter!(
        /// Sets [`large_call_len`](Self#structfield.large_call_len).
        large_call_len: usize
    );
    setter!(
        /// Sets [`max_concurrent_large_calls`](Self#structfield.max_concurrent_large_calls).
        max_concurrent_large_calls: usize
    );
    setter!(
        /// Sets [`decode`](Self#structfield.decode).
        decode: DecodeLimits
    );

    /// Checks that the limits can work: timeouts and counts above zero.
    pub fn validate(&self) -> Result<(), InvalidLimits> {
        let zero = |what: &'static str| Err(InvalidLimits { what });
        if self.header_read_timeout.is_zero() {
            return zero("header_read_timeout");
        }
        if self.body_read_timeout.is_zero() {
            return zero("body_read_timeout");
        }
        if self.write_timeout.is_zero() {
            return zero("write_timeout");
        }
        if self.max_connections == 0 {
            return zero("max_connections");
        }
        if self.max_concurrent_large_calls == 0 {
            return zero("max_concurrent_large_calls");
        }
        if self.decode.max_messages == 0 || self.decode.max_depth == 0 {
            return zero("decode");
        }
        Ok(())
    }
}

/// A [`ServerLimits`] field is zero, which would refuse everything.
#[derive(Debug, Clone, thiserror::Error)]
#[error("server limit {what} must be above zero")]
pub struct InvalidLimits {
    /// The field.
    pub what: &'static str,
}
