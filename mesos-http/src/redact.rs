//! URLs as shown in errors, logs and `Debug`: without user-info.
//!
//! A URL may carry credentials in its authority (`http://user:password@host/`).
//! The client never sends them (it authenticates only with
//! [`Credentials`](crate::Credentials)), and nothing this crate prints shows
//! them: every endpoint in an [`Error`](crate::Error), in a log field or in a
//! `Debug` output goes through [`redact_url`], [`redact_url_str`] or
//! [`RedactedUrl`] first.

use std::fmt;

use http::Uri;

/// Displays a URL without the user-info (`user:password@`) of its
/// authority; everything else (scheme, host, port, path, query) is shown as
/// is. Formats only when displayed, so it costs nothing in a disabled log
/// statement:
///
/// ```
/// use mesos_http::RedactedUrl;
/// let url: http::Uri = "https://fw:s3cret@m1:5050/api/v1/scheduler".parse()?;
/// assert_eq!(RedactedUrl(&url).to_string(), "https://m1:5050/api/v1/scheduler");
/// // In a log statement: tracing::info!(master = %RedactedUrl(&url), "subscribing");
/// # Ok::<(), http::uri::InvalidUri>(())
/// ```
///
/// `Debug` shows the same text, quoted.
#[derive(Clone, Copy)]
pub struct RedactedUrl<'a>(pub &'a Uri);

impl fmt::Display for RedactedUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let uri = self.0;
        if let Some(scheme) = uri.scheme_str() {
            write!(f, "{scheme}://")?;
        }
        if let Some(authority) = uri.authority() {
            f.write_str(without_user_info(authority.as_str()))?;
        }
        match uri.path_and_query() {
            Some(path) => f.write_str(path.as_str()),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for RedactedUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_string(), f)
    }
}

/// A URL without the user-info (`user:password@`) of its authority, for
/// errors and logs. See [`RedactedUrl`].
///
/// ```
/// let url: http::Uri = "http://user:pw@127.0.0.1:5051/api/v1/executor".parse()?;
/// assert_eq!(mesos_http::redact_url(&url), "http://127.0.0.1:5051/api/v1/executor");
/// # Ok::<(), http::uri::InvalidUri>(())
/// ```
pub fn redact_url(uri: &Uri) -> String {
    RedactedUrl(uri).to_string()
}

/// Like [`redact_url`], for text that may not be a valid URL at all (a
/// configuration value, a `Location` header): whatever precedes the last `@`
/// of the authority is removed. The authority is what follows `scheme:` +
/// `//` (or a leading `//`) up to the next `/`, `?` or `#`; text without
/// either prefix is treated as starting with an authority, so that
/// `user:pw@host:5050` loses its credentials too. Text without user-info is
/// returned unchanged.
///
/// ```
/// use mesos_http::redact_url_str;
/// assert_eq!(redact_url_str("http://u:p@m1:5050/x"), "http://m1:5050/x");
/// assert_eq!(redact_url_str("//u:p@m2:5050/x"), "//m2:5050/x");
/// assert_eq!(redact_url_str("u:p@m3 :bad port"), "m3 :bad port");
/// assert_eq!(redact_url_str("http://m1:5050/a@b"), "http://m1:5050/a@b");
/// ```
pub fn redact_url_str(url: &str) -> String {
    let start = authority_start(url);
    let rest = &url[start..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{}{}", &url[..start], &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// Where the authority of `url` begins: after the `://` or the leading `//`
/// that opens it, else at 0.
fn authority_start(url: &str) -> usize {
    let first = url.find(['/', '?', '#']).unwrap_or(url.len());
    let opens = url[first..].starts_with("//") && (first == 0 || url[..first].ends_with(':'));
    if opens {
        first + 2
    } else {
        0
    }
}

/// `authority` without what precedes its last `@`.
pub(crate) fn without_user_info(authority: &str) -> &str {
    match authority.rfind('@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(text: &str) -> Uri {
        text.parse().unwrap()
    }

    #[test]
    fn uris_lose_only_their_user_info() {
        for (given, shown) in [
            (
                "http://user:pw@m1:5050/api/v1/scheduler",
                "http://m1:5050/api/v1/scheduler",
            ),
            ("https://user@m1/x?y=1", "https://m1/x?y=1"),
            ("http://a:b@[::1]:5050/", "http://[::1]:5050/"),
            (
                "http://m1:5050/api/v1/scheduler",
                "http://m1:5050/api/v1/scheduler",
            ),
            ("http://m1", "http://m1/"),
            ("/relative/path", "/relative/path"),
            ("user:pw@m1:5050", "m1:5050"),
        ] {
            assert_eq!(redact_url(&uri(given)), shown, "{given}");
            assert_eq!(
                format!("{:?}", RedactedUrl(&uri(given))),
                format!("{shown:?}")
            );
        }
    }

    #[test]
    fn text_loses_its_user_info_even_when_it_is_no_url() {
        for (given, shown) in [
            ("http://u:p@m1:5050/x", "http://m1:5050/x"),
            ("HTTPS://u:p@m1", "HTTPS://m1"),
            ("//u:p@m2:5050/x", "//m2:5050/x"),
            ("u:p@m3:5050/x", "m3:5050/x"),
            ("http://u:p:@@m1:bad port/x", "http://m1:bad port/x"),
            ("http://u:p@m1?q", "http://m1?q"),
            ("http://m1/a@b", "http://m1/a@b"),
            ("/path?to=http://u:p@m", "/path?to=http://u:p@m"),
            ("not a url", "not a url"),
            ("", ""),
            ("@", ""),
            ("://", "://"),
            ("€://u:p@ü/x", "€://ü/x"),
            ("x:y@h:5050//p", "h:5050//p"),
            ("http:u:p@h", "h"),
        ] {
            assert_eq!(redact_url_str(given), shown, "{given}");
        }
    }
}
