//! The HTTP headers of the Mesos v1 APIs, shared by client and server.

use http::header::{HeaderMap, HeaderName, ACCEPT, CONTENT_TYPE};
use mesos_proto::MediaType;

/// `Mesos-Stream-Id`: issued by the master in the SUBSCRIBE response and
/// required on every later call of that subscription.
pub const MESOS_STREAM_ID: HeaderName = HeaderName::from_static("mesos-stream-id");

/// `Message-Content-Type`: the media type of each record of a streamed
/// request body (`Content-Type: application/recordio`), e.g. the agent's
/// `ATTACH_CONTAINER_INPUT`.
pub const MESSAGE_CONTENT_TYPE: HeaderName = HeaderName::from_static("message-content-type");

/// The `Content-Type` of a streamed request body: `application/recordio`.
pub const RECORDIO_MIME: &str = "application/recordio";

/// The media type named by the `Content-Type` header, if it is one of ours.
pub fn content_type(headers: &HeaderMap) -> Option<MediaType> {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(MediaType::from_mime)
}

/// The media type a client asks for in `Accept`.
///
/// - `Ok(Some(m))`: the first acceptable of our media types in the list;
/// - `Ok(None)`: no `Accept` header, or only wildcards (`*/*`,
///   `application/*`): the server may choose;
/// - `Err(())`: the header names only types we cannot produce.
#[allow(clippy::result_unit_err)]
pub fn accept(headers: &HeaderMap) -> Result<Option<MediaType>, ()> {
    let mut any = false;
    let mut wildcard = false;
    for value in headers.get_all(ACCEPT) {
        let Ok(text) = value.to_str() else { continue };
        for item in text.split(',') {
            let essence = item.split(';').next().unwrap_or("").trim();
            if essence.is_empty() {
                continue;
            }
            any = true;
            if let Some(media) = MediaType::from_mime(essence) {
                return Ok(Some(media));
            }
            if essence == "*/*" || essence.eq_ignore_ascii_case("application/*") {
                wildcard = true;
            }
        }
    }
    if !any || wildcard {
        Ok(None)
    } else {
        Err(())
    }
}

/// The `Mesos-Stream-Id` header's value, if present and valid text.
pub fn stream_id(headers: &HeaderMap) -> Option<&str> {
    headers.get(MESOS_STREAM_ID).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn with_accept(v: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(ACCEPT, HeaderValue::from_static(v));
        h
    }

    #[test]
    fn accept_picks_our_media_types() {
        assert_eq!(accept(&HeaderMap::new()), Ok(None));
        assert_eq!(accept(&with_accept("*/*")), Ok(None));
        assert_eq!(
            accept(&with_accept("application/json")),
            Ok(Some(MediaType::Json))
        );
        assert_eq!(
            accept(&with_accept("text/html, application/x-protobuf;q=0.9")),
            Ok(Some(MediaType::Protobuf))
        );
        assert_eq!(accept(&with_accept("text/html")), Err(()));
    }
}
