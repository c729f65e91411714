//! Authentication as Mesos does it: HTTP Basic for frameworks against a
//! credentials file (`--authenticate_http_frameworks`, `--credentials`),
//! bearer tokens for executors (`--authenticate_http_executors`,
//! `MESOS_EXECUTOR_AUTHENTICATION_TOKEN`).

// A refusal is the response to send, as the server half's readers do.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use mesos_http::server::{self, Body};
use mesos_http::Secret;

use crate::Error;

/// The realm of the master's scheduler API (the real master's).
pub(crate) const SCHEDULER_REALM: &str = "mesos-master-scheduler";
/// The realm of the agent's executor API (the real agent's).
pub(crate) const EXECUTOR_REALM: &str = "mesos-agent-executor";

/// Principals and their secrets, what a Mesos master reads from its
/// `--credentials` file:
///
/// ```json
/// {"credentials": [{"principal": "alice", "secret": "s3cret"}]}
/// ```
///
/// `Debug` lists the principals only; secrets are never shown.
#[derive(Clone, Default)]
pub struct Credentials {
    secrets: HashMap<String, Secret>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut principals: Vec<&str> = self.secrets.keys().map(String::as_str).collect();
        principals.sort_unstable();
        f.debug_struct("Credentials")
            .field("principals", &principals)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// No credentials (nobody can authenticate).
    pub fn new() -> Self {
        Credentials::default()
    }

    /// Adds (or replaces) a principal and its secret.
    #[must_use]
    pub fn with(mut self, principal: impl Into<String>, secret: impl Into<Secret>) -> Self {
        self.secrets.insert(principal.into(), secret.into());
        self
    }

    /// Parses Mesos's credentials JSON (`{"credentials": [{"principal":
    /// "..", "secret": ".."}]}`). The error never quotes the text.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidConfig {
            setting: "credentials",
            reason: reason.to_string(),
        };
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            invalid(&format!(
                "not JSON (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        let list = value
            .get("credentials")
            .and_then(serde_json::Value::as_array)
            .ok_or_else(|| invalid("expecting an object with a 'credentials' array"))?;
        let mut credentials = Credentials::new();
        for (index, entry) in list.iter().enumerate() {
            let field = |name: &str| entry.get(name).and_then(serde_json::Value::as_str);
            let (Some(principal), Some(secret)) = (field("principal"), field("secret")) else {
                return Err(invalid(&format!(
                    "credential {index} needs a string 'principal' and a string 'secret'"
                )));
            };
            if principal.is_empty() {
                return Err(invalid(&format!(
                    "credential {index} has an empty principal"
                )));
            }
            credentials = credentials.with(principal, secret);
        }
        Ok(credentials)
    }

    /// Reads a credentials file (a path, or `file://` and a path, as the
    /// Mesos flag takes it).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let path = path
            .to_str()
            .and_then(|p| p.strip_prefix("file://"))
            .map_or(path, Path::new);
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io("reading the credentials file", e))?;
        Credentials::from_json(&text)
    }

    /// How many principals.
    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// The principal authenticated by the request's `Authorization:
    /// Basic` header, or the real master's `401` answer.
    pub(crate) fn authenticate(&self, headers: &HeaderMap) -> Result<String, Response<Body>> {
        let unauthorized = || unauthorized(&format!("Basic realm=\"{SCHEDULER_REALM}\""));
        let encoded = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| strip_scheme(v, "Basic"))
            .ok_or_else(unauthorized)?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(unauthorized)?;
        let (principal, secret) = decoded.split_once(':').ok_or_else(unauthorized)?;
        match self.secrets.get(principal) {
            Some(expected) if constant_time_eq(expected.expose(), secret) => {
                Ok(principal.to_string())
            }
            _ => {
                tracing::info!(principal, "scheduler API: authentication failed");
                Err(unauthorized())
            }
        }
    }
}

/// `scheme <credentials>`, scheme case-insensitive.
fn strip_scheme<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = value.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then_some(rest)
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `401 Unauthorized` with a `WWW-Authenticate` challenge, as libprocess
/// answers it.
fn unauthorized(challenge: &str) -> Response<Body> {
    let mut response = server::text_response(StatusCode::UNAUTHORIZED, "401 Unauthorized.");
    if let Ok(value) = HeaderValue::from_str(challenge) {
        response.headers_mut().insert(WWW_AUTHENTICATE, value);
    }
    response
}

/// A token held by its executor's state: revoked when dropped (the
/// executor is gone). `Debug` does not show it.
pub(crate) struct IssuedToken {
    token: Secret,
    tokens: Arc<ExecutorTokens>,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IssuedToken([redacted])")
    }
}

impl IssuedToken {
    /// The token, for the executor's environment.
    pub(crate) fn secret(&self) -> &Secret {
        &self.token
    }
}

impl Drop for IssuedToken {
    fn drop(&mut self) {
        self.tokens.lock().remove(self.token.expose());
    }
}

/// (framework id, executor id).
pub(crate) type ExecutorKey = (String, String);

/// The executor tokens an agent issued (`--authenticate_http_executors`),
/// shared by its state machine (issues and revokes) and its HTTP server
/// (checks). Disabled: issues nothing, accepts every call. `Debug` shows
/// how many tokens are live, never the tokens.
#[derive(Default)]
pub(crate) struct ExecutorTokens {
    enabled: bool,
    issued: Mutex<HashMap<String, ExecutorKey>>,
}

impl std::fmt::Debug for ExecutorTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecutorTokens")
            .field("enabled", &self.enabled)
            .field("issued", &self.lock().len())
            .finish()
    }
}

impl ExecutorTokens {
    pub(crate) fn new(enabled: bool) -> Self {
        ExecutorTokens {
            enabled,
            issued: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, ExecutorKey>> {
        self.issued.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new token for this executor (None when disabled): 256 random
    /// bits, void once the returned [`IssuedToken`] is dropped.
    pub(crate) fn issue(
        self: &Arc<Self>,
        framework_id: &str,
        executor_id: &str,
    ) -> Option<IssuedToken> {
        if !self.enabled {
            return None;
        }
        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        self.lock().insert(
            token.clone(),
            (framework_id.to_string(), executor_id.to_string()),
        );
        Some(IssuedToken {
            token: Secret::new(token),
            tokens: Arc::clone(self),
        })
    }

    /// The executor the request's `Authorization: Bearer` token was issued
    /// to (None when disabled), or the `401` to answer: the real agent's
    /// challenge, with `error="invalid_token"` for a token it did not issue.
    pub(crate) fn authenticate(
        &self,
        headers: &HeaderMap,
    ) -> Result<Option<ExecutorKey>, Response<Body>> {
        if !self.enabled {
            return Ok(None);
        }
        let token = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| strip_scheme(v, "Bearer"))
            .map(str::trim)
            .ok_or_else(|| unauthorized(&format!("Bearer realm=\"{EXECUTOR_REALM}\"")))?;
        match self.lock().get(token) {
            Some(key) => Ok(Some(key.clone())),
            None => {
                tracing::info!("executor API: unknown authentication token");
                Err(unauthorized(&format!(
                    "Bearer realm=\"{EXECUTOR_REALM}\", error=\"invalid_token\""
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user: &str, password: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {encoded}")).unwrap(),
        );
        headers
    }

    #[test]
    fn credentials_file_format_and_debug() {
        let creds = Credentials::from_json(
            r#"{"credentials":[{"principal":"alice","secret":"pw-1"},{"principal":"bob","secret":"pw-2"}]}"#,
        )
        .unwrap();
        assert_eq!(creds.len(), 2);
        let debug = format!("{creds:?}");
        assert!(
            debug.contains("alice") && !debug.contains("pw-1"),
            "{debug}"
        );
        assert_eq!(
            creds.authenticate(&basic("alice", "pw-1")).unwrap(),
            "alice"
        );
        let refused = creds.authenticate(&basic("alice", "pw-2")).unwrap_err();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            refused.headers()[WWW_AUTHENTICATE],
            "Basic realm=\"mesos-master-scheduler\""
        );
        assert!(creds.authenticate(&HeaderMap::new()).is_err());
        for bad in [
            "{}",
            r#"{"credentials":[{"principal":"x"}]}"#,
            "not json pw-1",
        ] {
            let err = Credentials::from_json(bad).unwrap_err().to_string();
            assert!(!err.contains("pw-1"), "{err}");
        }
    }

    #[test]
    fn executor_tokens() {
        let tokens = Arc::new(ExecutorTokens::new(true));
        let token = tokens.issue("f", "e").unwrap();
        assert!(!format!("{token:?}").contains(token.secret().expose()));
        assert!(!format!("{tokens:?}").contains(token.secret().expose()));
        let mut headers = HeaderMap::new();
        assert!(tokens.authenticate(&headers).is_err());
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {}", token.secret().expose())).unwrap(),
        );
        assert_eq!(
            tokens.authenticate(&headers).unwrap(),
            Some(("f".into(), "e".into()))
        );
        drop(token);
        let refused = tokens.authenticate(&headers).unwrap_err();
        assert!(refused.headers()[WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .contains("invalid_token"));
        assert_eq!(
            ExecutorTokens::new(false)
                .authenticate(&HeaderMap::new())
                .unwrap(),
            None
        );
    }
}
