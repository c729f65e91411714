//! Credentials for the Mesos HTTP APIs, never shown in `Debug` or logs.

use std::fmt;

use base64::Engine as _;
use http::HeaderValue;

/// A secret string (a password or a token). Its `Debug` and `Display` print
/// `[redacted]`; [`Secret::expose`] is the only way to read it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself. Call only to put it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_string())
    }
}

/// How a client authenticates to a master or an agent.
///
/// # Where credentials go
/// A [`Client`](crate::Client) sends its credentials (as an
/// `Authorization` header) only to the URLs its caller asks for: the
/// configured masters or agent, and the redirect targets that
/// [`resolve_location`](crate::resolve_location) accepted, which keep the
/// scheme or upgrade `http` to `https` but never downgrade `https` to `http`
/// ([`Error::InsecureRedirect`](crate::Error::InsecureRedirect)). The client
/// follows no redirect by itself. Over plain `http` the credentials cross the
/// network in clear text: use `https` endpoints where that matters.
///
/// User-info in a URL (`http://user:password@host/`) is not a way to pass
/// credentials: it is never sent, and never shown in errors or logs.
///
/// ```
/// use mesos_http::Credentials;
/// let creds = Credentials::basic("my-framework", "s3cret");
/// assert!(!format!("{creds:?}").contains("s3cret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// HTTP Basic authentication with a principal and its secret (what a
    /// Mesos master configured with `--authenticate_http_frameworks` and the
    /// basic authenticator expects).
    Basic {
        /// The framework's principal.
        principal: String,
        /// The principal's secret.
        secret: Secret,
    },
    /// A bearer token, as in `MESOS_EXECUTOR_AUTHENTICATION_TOKEN` for
    /// executors, or a JWT from an identity provider.
    Bearer(Secret),
}

impl Credentials {
    /// Basic credentials.
    pub fn basic(principal: impl Into<String>, secret: impl Into<Secret>) -> Self {
        Credentials::Basic {
            principal: principal.into(),
            secret: secret.into(),
        }
    }

    /// Bearer-token credentials.
    pub fn bearer(token: impl Into<Secret>) -> Self {
        Credentials::Bearer(token.into())
    }

    /// The `Authorization` header value, marked sensitive (so that hyper and
    /// `http` keep it out of their own debug output).
    pub fn header_value(&self) -> Option<HeaderValue> {
        let text = match self {
            Credentials::Basic { principal, secret } => {
                let pair = format!("{principal}:{}", secret.expose());
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                )
            }
            Credentials::Bearer(token) => format!("Bearer {}", token.expose()),
        };
        let mut value = HeaderValue::from_str(&text).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Basic { principal, .. } => f
                .debug_struct("Basic")
                .field("principal", principal)
                .field("secret", &"[redacted]")
                .finish(),
            Credentials::Bearer(_) => f.debug_tuple("Bearer").field(&"[redacted]").finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_is_rfc7617() {
        let value = Credentials::basic("Aladdin", "open sesame")
            .header_value()
            .unwrap();
        assert_eq!(value, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert!(value.is_sensitive());
    }

    #[test]
    fn secrets_never_print() {
        let creds = Credentials::bearer("tok-123");
        assert_eq!(format!("{creds:?}"), r#"Bearer("[redacted]")"#);
        assert_eq!(creds.header_value().unwrap(), "Bearer tok-123");
        assert_eq!(Secret::new("x").to_string(), "[redacted]");
        assert!(!format!("{:?}", Credentials::basic("p", "hunter2")).contains("hunter2"));
    }

    #[test]
    fn invalid_header_characters_are_refused() {
        assert!(Credentials::bearer("bad\ntoken").header_value().is_none());
    }
}
