//! Call decoding in the server half of mesos-http (feature `server`), for
//! scheduler and executor calls in both media types.
//!
//! `server::read_call` takes a `hyper::body::Incoming`, which only a live
//! connection can produce, so this target performs its steps on the bytes
//! directly: `server::negotiate` on the request headers, then the decode of
//! the body with the negotiated media type, and the `400` answer built from
//! `error_chain` of the decode error, exactly as `read_call` does.
//!
//! Input: the first line is the `Content-Type` value, the second the
//! `Accept` value (an empty line: no `Accept` header), the rest the body.
//! The body is also decoded as both media types directly, whatever the
//! headers say.

#![no_main]

use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode};
use libfuzzer_sys::fuzz_target;
use mesos_http::server;
use mesos_proto::codec::WireMessage;
use mesos_proto::v1::{executor, scheduler};
use mesos_proto::MediaType;

fn split_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

/// `read_call`'s decode step: the call, or the `400` it would answer.
fn decode_as_read_call<C: WireMessage>(headers: &HeaderMap, body: &[u8]) {
    let negotiated = match server::negotiate(headers) {
        Ok(negotiated) => negotiated,
        Err(response) => {
            // As Mesos 1.11: 400 without a Content-Type, 415 for a foreign
            // one, 406 for an Accept naming neither media type.
            let status = response.status();
            let expected = if headers.contains_key(CONTENT_TYPE) {
                status == StatusCode::UNSUPPORTED_MEDIA_TYPE || status == StatusCode::NOT_ACCEPTABLE
            } else {
                status == StatusCode::BAD_REQUEST
            };
            assert!(expected, "negotiate answered {status}");
            return;
        }
    };
    match negotiated.request.decode::<C>(body) {
        Ok(call) => {
            // What a handler does next: answer in the negotiated media type.
            let _ = server::message_response(negotiated.response, &call);
        }
        Err(error) => {
            let response =
                server::text_response(StatusCode::BAD_REQUEST, mesos_http::error_chain(&error));
            assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        }
    }
}

fn decode_both_media<C: WireMessage>(body: &[u8]) {
    for media in [MediaType::Protobuf, MediaType::Json] {
        if let Ok(call) = media.decode::<C>(body) {
            for out in [MediaType::Protobuf, MediaType::Json] {
                if let Ok(bytes) = out.encode(&call) {
                    let _ = out.decode::<C>(&bytes);
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (content_type, rest) = split_line(data);
    let (accept, body) = split_line(rest);
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_bytes(content_type) {
        headers.insert(CONTENT_TYPE, value);
    }
    if !accept.is_empty() {
        if let Ok(value) = HeaderValue::from_bytes(accept) {
            headers.insert(ACCEPT, value);
        }
    }
    decode_as_read_call::<scheduler::Call>(&headers, body);
    decode_as_read_call::<executor::Call>(&headers, body);
    decode_both_media::<scheduler::Call>(body);
    decode_both_media::<executor::Call>(body);
});
