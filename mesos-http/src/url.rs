//! Endpoint URLs: [`parse_url`] and redirect targets ([`resolve_location`]).

use http::uri::Scheme;
use http::Uri;

use crate::redact::without_user_info;
use crate::{redact_url, Error};

/// Parses an absolute `http://` or `https://` URL.
///
/// User-info (`http://user:password@host/`) is accepted but never used: the
/// client authenticates only with [`Credentials`](crate::Credentials), never sends the user-info,
/// and never shows it (errors, logs and `Debug` use [`redact_url`]). An
/// [`Error::InvalidUrl`] names the URL without it too.
pub fn parse_url(url: &str) -> Result<Uri, Error> {
    let invalid = |reason: String| Error::InvalidUrl {
        url: crate::redact_url_str(url),
        reason,
    };
    let uri: Uri = url
        .parse()
        .map_err(|e: http::uri::InvalidUri| invalid(e.to_string()))?;
    match uri.scheme_str() {
        Some("http") => {}
        #[cfg(feature = "tls")]
        Some("https") => {}
        #[cfg(not(feature = "tls"))]
        Some("https") => {
            return Err(invalid(
                "https:// needs TLS: enable the `tls` feature (of mesos-scheduler, mesos-executor or mesos-http)"
                    .to_string(),
            ))
        }
        other => {
            return Err(invalid(match other {
                Some(s) => format!("unsupported scheme {s:?}"),
                None => "no scheme (expected http:// or https://)".to_string(),
            }))
        }
    }
    let Some(host) = uri.host().filter(|h| !h.is_empty()) else {
        return Err(invalid("no host".to_string()));
    };
    // `Uri` takes `host:anything` and then has no port, which would mean
    // connecting to the scheme's default port: refuse it instead.
    let host_port = uri
        .authority()
        .map_or("", |a| without_user_info(a.as_str()));
    match host_port.strip_prefix(host) {
        Some("" | ":") => {}
        Some(port)
            if port
                .strip_prefix(':')
                .is_some_and(|p| p.parse::<u16>().is_ok()) => {}
        _ => return Err(invalid("invalid port".to_string())),
    }
    Ok(uri)
}

/// Resolves a redirect's `Location` against the URL that answered: Mesos
/// masters send scheme-relative locations (`//host:port/path`), which keep
/// the scheme of `current`; absolute URLs and absolute paths are accepted
/// too.
///
/// A redirect from `https` to `http` is refused with
/// [`Error::InsecureRedirect`] (it would send the credentials and the calls
/// in clear text); `http` to `https` is fine. Anything that is not a usable
/// `http`/`https` URL is an [`Error::InvalidUrl`].
///
/// ```
/// use mesos_http::{parse_url, resolve_location, Error};
/// let here = parse_url("https://m1:5050/api/v1/scheduler")?;
/// let leader = resolve_location(&here, "//m2:5050/api/v1/scheduler")?;
/// assert_eq!(leader.to_string(), "https://m2:5050/api/v1/scheduler");
/// assert!(matches!(
///     resolve_location(&here, "http://m2:5050/api/v1/scheduler"),
///     Err(Error::InsecureRedirect { .. })
/// ));
/// # Ok::<(), Error>(())
/// ```
pub fn resolve_location(current: &Uri, location: &str) -> Result<Uri, Error> {
    let scheme = current.scheme_str().unwrap_or("http");
    let absolute = if location.starts_with("//") {
        format!("{scheme}:{location}")
    } else if location.starts_with('/') {
        let authority = current.authority().map(|a| a.as_str()).unwrap_or_default();
        format!("{scheme}://{authority}{location}")
    } else {
        location.to_string()
    };
    let target = parse_url(&absolute)?;
    if current.scheme() == Some(&Scheme::HTTPS) && target.scheme() != Some(&Scheme::HTTPS) {
        return Err(Error::InsecureRedirect {
            from: redact_url(current),
            to: redact_url(&target),
        });
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_validated() {
        assert!(parse_url("http://127.0.0.1:5050/api/v1/scheduler").is_ok());
        assert!(matches!(
            parse_url("ftp://x/"),
            Err(Error::InvalidUrl { .. })
        ));
        assert!(matches!(
            parse_url("127.0.0.1:5050"),
            Err(Error::InvalidUrl { .. })
        ));
        assert!(matches!(
            parse_url("not a url"),
            Err(Error::InvalidUrl { .. })
        ));
        for port in ["m1:notaport", "m1:99999", "m1:-1", "[::1]:x"] {
            let err = parse_url(&format!("http://{port}/x")).unwrap_err();
            assert!(matches!(err, Error::InvalidUrl { .. }), "{port}: {err:?}");
        }
        for ok in [
            "http://m1:/x",
            "http://[::1]:5050/x",
            "http://[::1]/x",
            #[cfg(feature = "tls")]
            "https://m1",
        ] {
            assert!(parse_url(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn redirect_locations_resolve() {
        let here = parse_url("http://m1:5050/api/v1/scheduler").unwrap();
        let to = |l| resolve_location(&here, l).unwrap().to_string();
        assert_eq!(
            to("//m2:5051/api/v1/scheduler"),
            "http://m2:5051/api/v1/scheduler"
        );
        assert_eq!(
            to("/master/api/v1/scheduler"),
            "http://m1:5050/master/api/v1/scheduler"
        );
        assert_eq!(to("http://m3:1/x"), "http://m3:1/x");
    }

    #[test]
    #[cfg(feature = "tls")]
    fn redirects_never_leave_https_for_http() {
        let secure = parse_url("https://m1:5050/api/v1/scheduler").unwrap();
        let to = |l| resolve_location(&secure, l);
        assert_eq!(
            to("//m2:5051/api/v1/scheduler").unwrap().to_string(),
            "https://m2:5051/api/v1/scheduler"
        );
        assert_eq!(
            to("/master/api/v1/scheduler").unwrap().to_string(),
            "https://m1:5050/master/api/v1/scheduler"
        );
        assert_eq!(to("https://m3:1/x").unwrap().to_string(), "https://m3:1/x");
        for downgrade in ["http://m2:5051/api/v1/scheduler", "HTTP://m2:5051/x"] {
            let err = to(downgrade).unwrap_err();
            let Error::InsecureRedirect { ref from, ref to } = err else {
                panic!("{downgrade}: {err:?}");
            };
            assert_eq!(from, "https://m1:5050/api/v1/scheduler");
            assert!(to.starts_with("http://m2:5051/"), "{to}");
            assert!(!err.is_retryable());
        }
        // An upgrade is fine.
        let plain = parse_url("http://m1:5050/api/v1/scheduler").unwrap();
        assert_eq!(
            resolve_location(&plain, "https://m2:5051/x")
                .unwrap()
                .to_string(),
            "https://m2:5051/x"
        );
        // Not a URL at all: still refused, as an invalid URL.
        assert!(matches!(to("ftp://m2/x"), Err(Error::InvalidUrl { .. })));
        assert!(matches!(to("//"), Err(Error::InvalidUrl { .. })));
    }

    #[test]
    #[cfg(feature = "tls")]
    fn insecure_redirect_errors_hide_user_info() {
        let secure = parse_url("https://fw:hunter2@m1:5050/api/v1/scheduler").unwrap();
        let err = resolve_location(&secure, "http://fw:hunter2@m2:5050/x").unwrap_err();
        assert!(matches!(err, Error::InsecureRedirect { .. }), "{err:?}");
        let text = format!("{err} {err:?}");
        assert!(!text.contains("hunter2") && !text.contains("fw:"), "{text}");
        assert!(text.contains("https://m1:5050/api/v1/scheduler"), "{text}");
        assert!(text.contains("http://m2:5050/x"), "{text}");
    }

    #[test]
    fn user_info_is_accepted_but_never_shown() {
        let uri = parse_url("http://user:pw@m1:5050/api/v1/scheduler").unwrap();
        assert_eq!(uri.host(), Some("m1"));
        assert_eq!(redact_url(&uri), "http://m1:5050/api/v1/scheduler");
        for bad in [
            "ftp://user:hunter2@m1/x",
            "http://user:hunter2@m1:notaport/x",
            "user:hunter2@m1:5050",
            "http://user:hunter2@/x",
            "http://user:hunter2@m1:99999/x",
        ] {
            let err = parse_url(bad).unwrap_err();
            assert!(matches!(err, Error::InvalidUrl { .. }), "{bad}: {err:?}");
            let text = format!("{err} {err:?}");
            assert!(!text.contains("hunter2"), "{bad}: {text}");
        }
    }
}
