//! Client half against server half (and against a raw scripted socket for the
//! faults a well-behaved server cannot produce), over real loopback HTTP.

use std::time::Duration;

use futures::StreamExt;
use http::StatusCode;
use mesos_http::server::{self, Body};
use mesos_http::{error_chain, parse_url, Client, Error, MediaType};
use mesos_proto::v1::scheduler::{call, event, Call, Event};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

fn heartbeat() -> Event {
    Event {
        r#type: Some(event::Type::Heartbeat as i32),
        ..Default::default()
    }
}

fn subscribe_call() -> Call {
    Call {
        r#type: Some(call::Type::Subscribe as i32),
        ..Default::default()
    }
}

/// Starts the server half with a handler that answers by path.
async fn start_server() -> (String, CancellationToken) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let handler = |request: http::Request<hyper::body::Incoming>, _peer| async move {
        let path = request.uri().path().to_string();
        let (negotiated, parts, call) =
            match server::read_call::<Call>(request, server::DEFAULT_MAX_CALL_LEN).await {
                Ok(ok) => ok,
                Err(response) => return response,
            };
        let stream_id = mesos_http::headers::stream_id(&parts.headers).map(str::to_string);
        let response: http::Response<Body> = match path.as_str() {
            "/subscribe" => {
                let events = futures::stream::iter(vec![heartbeat(), heartbeat(), heartbeat()]);
                server::event_stream_response(negotiated.response, Some("stream-1"), events)
            }
            "/call"
                if stream_id.as_deref() == Some("stream-1")
                    && call.r#type() == call::Type::Revive =>
            {
                server::empty_response(StatusCode::ACCEPTED)
            }
            "/call" => server::text_response(StatusCode::BAD_REQUEST, "wrong stream id"),
            "/redirect" => server::redirect_response("//127.0.0.1:1/api/v1/scheduler"),
            "/unauthorized" => server::text_response(StatusCode::UNAUTHORIZED, "who are you"),
            "/forbidden" => {
                server::text_response(StatusCode::FORBIDDEN, "Framework is not subscribed")
            }
            "/unavailable" => server::text_response(StatusCode::SERVICE_UNAVAILABLE, "no leader"),
            _ => server::text_response(StatusCode::NOT_FOUND, "no such endpoint"),
        };
        response
    };
    tokio::spawn(server::serve(listener, handler, shutdown.clone()));
    (format!("http://{addr}"), shutdown)
}

#[tokio::test]
async fn subscribe_then_call_with_stream_id_in_both_media_types() {
    let (base, _shutdown) = start_server().await;
    for media in [MediaType::Protobuf, MediaType::Json] {
        let client = Client::builder().media_type(media).build().unwrap();
        let url = parse_url(&format!("{base}/subscribe")).unwrap();
        let mut sub = client
            .subscribe::<_, Event>(&url, &subscribe_call())
            .await
            .unwrap();
        assert_eq!(sub.stream_id.as_deref(), Some("stream-1"));
        let mut n = 0;
        while let Some(event) = sub.events.next().await {
            assert_eq!(event.unwrap().r#type(), event::Type::Heartbeat);
            n += 1;
        }
        assert_eq!(n, 3, "{media}");

        let revive = Call {
            r#type: Some(call::Type::Revive as i32),
            ..Default::default()
        };
        let url = parse_url(&format!("{base}/call")).unwrap();
        let ok = client.call(&url, &revive, Some("stream-1")).await.unwrap();
        assert_eq!(ok.status, StatusCode::ACCEPTED);
        let err = client.call(&url, &revive, Some("other")).await.unwrap_err();
        assert!(
            matches!(err, Error::BadRequest { ref message, .. } if message == "wrong stream id"),
            "{err:?}"
        );
        assert!(!err.is_retryable());
    }
}

#[tokio::test]
async fn statuses_become_typed_errors() {
    let (base, _shutdown) = start_server().await;
    let client = Client::builder().build().unwrap();
    let call = |path: &'static str| {
        let client = client.clone();
        let url = parse_url(&format!("{base}{path}")).unwrap();
        async move {
            client
                .call(&url, &subscribe_call(), None)
                .await
                .unwrap_err()
        }
    };
    let redirect = call("/redirect").await;
    assert_eq!(
        redirect.redirect_location(),
        Some("//127.0.0.1:1/api/v1/scheduler")
    );
    assert!(
        matches!(call("/unauthorized").await, Error::Unauthorized { ref message, .. } if message == "who are you")
    );
    let forbidden = call("/forbidden").await;
    assert!(forbidden.is_auth() && forbidden.is_subscription_lost());
    let unavailable = call("/unavailable").await;
    assert!(unavailable.is_retryable());
    assert_eq!(unavailable.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(call("/nowhere").await.status(), Some(StatusCode::NOT_FOUND));
}

#[tokio::test]
async fn server_negotiates_media_types() {
    let (base, _shutdown) = start_server().await;
    let raw = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let post = |content_type: &'static str, accept: &'static str| {
        let request = http::Request::post(format!("{base}/subscribe"))
            .header("content-type", content_type)
            .header("accept", accept)
            .body(http_body_util::Full::new(bytes::Bytes::from_static(
                br#"{"type":"SUBSCRIBE"}"#,
            )))
            .unwrap();
        raw.request(request)
    };
    assert_eq!(
        post("text/plain", "*/*").await.unwrap().status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        post("application/json", "text/html")
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_ACCEPTABLE
    );
    let ok = post("application/json", "*/*").await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.headers()["content-type"], "application/json");
    let bad_json = http::Request::post(format!("{base}/subscribe"))
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(bytes::Bytes::from_static(
            b"{not json",
        )))
        .unwrap();
    let response = raw.request(bad_json).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn connection_refused_is_retryable() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = Client::builder().build().unwrap();
    let url = parse_url(&format!("http://{addr}/api/v1/scheduler")).unwrap();
    let err = client
        .call(&url, &subscribe_call(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert!(err.is_retryable());
}

/// A one-shot raw HTTP server that reads a request and writes `response`
/// verbatim, then optionally closes the socket.
async fn scripted(response: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 64 * 1024];
        let _ = socket.read(&mut buf).await;
        socket.write_all(&response).await.unwrap();
        socket.flush().await.unwrap();
        // Keep the socket open a moment so the client reads everything.
        tokio::time::sleep(Duration::from_millis(100)).await;
    });
    format!("http://{addr}/api/v1/scheduler")
}

fn chunked_stream(body_chunks: &[&[u8]], terminate: bool) -> Vec<u8> {
    let mut out = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nMesos-Stream-Id: s\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for chunk in body_chunks {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    if terminate {
        out.extend_from_slice(b"0\r\n\r\n");
    }
    out
}

async fn collect(url: &str, max_record_len: usize) -> Vec<Result<Event, Error>> {
    let client = Client::builder()
        .media_type(MediaType::Json)
        .max_record_len(max_record_len)
        .build()
        .unwrap();
    let sub = client
        .subscribe::<_, Event>(&parse_url(url).unwrap(), &subscribe_call())
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), sub.events.collect())
        .await
        .expect("stream ends")
}

#[tokio::test]
async fn stream_cut_mid_record_is_a_lost_subscription() {
    let url = scripted(chunked_stream(
        &[b"20\n{\"type\":\"HEARTBEAT\"}", b"20\n{\"type\":"],
        false,
    ))
    .await;
    let items = collect(&url, 1024).await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0].as_ref().unwrap().r#type(), event::Type::Heartbeat);
    let err = items[1].as_ref().unwrap_err();
    assert!(err.is_subscription_lost() && err.is_retryable(), "{err:?}");
}

#[tokio::test]
async fn stream_ending_cleanly_mid_record_is_a_framing_error() {
    let url = scripted(chunked_stream(
        &[b"20\n{\"type\":\"HEARTBEAT\"}20\n{\"ty"],
        true,
    ))
    .await;
    let items = collect(&url, 1024).await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(matches!(items[1], Err(Error::Framing { .. })), "{items:?}");
}

#[tokio::test]
async fn oversized_record_ends_the_stream() {
    let url = scripted(chunked_stream(
        &[b"20\n{\"type\":\"HEARTBEAT\"}", b"5000\n{\"type\""],
        false,
    ))
    .await;
    let items = collect(&url, 1024).await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(
        matches!(&items[1], Err(Error::Framing { source, .. }) if source.to_string().contains("5000")),
        "{items:?}"
    );
}

#[tokio::test]
async fn an_undecodable_record_does_not_end_the_stream() {
    let url = scripted(chunked_stream(
        &[b"5\n{bad}20\n{\"type\":\"HEARTBEAT\"}"],
        true,
    ))
    .await;
    let items = collect(&url, 1024).await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(matches!(items[0], Err(Error::Decode { .. })));
    assert_eq!(items[1].as_ref().unwrap().r#type(), event::Type::Heartbeat);
}

#[tokio::test]
async fn wrong_content_type_is_refused() {
    let url = scripted(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 4\r\n\r\n<h1>".to_vec(),
    )
    .await;
    let client = Client::builder().build().unwrap();
    let err = client
        .subscribe::<_, Event>(&parse_url(&url).unwrap(), &subscribe_call())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ContentType { .. }), "{err:?}");
}

/// Like [`scripted`], also handing back the request as the server read it.
async fn scripted_capturing(response: Vec<u8>) -> (String, oneshot::Receiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (report, request) = oneshot::channel();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 64 * 1024];
        let n = socket.read(&mut buf).await.unwrap_or(0);
        let _ = report.send(buf[..n].to_vec());
        let _ = socket.write_all(&response).await;
        // Wait for the client to close its end.
        while matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {}
    });
    (addr.to_string(), request)
}

#[tokio::test]
async fn user_info_in_urls_is_never_sent_nor_shown() {
    let (addr, request) = scripted_capturing(
        b"HTTP/1.1 307 Temporary Redirect\r\nLocation: //fw:hunter2@127.0.0.1:1/api/v1/scheduler\r\nContent-Length: 0\r\n\r\n".to_vec(),
    )
    .await;
    let url = parse_url(&format!("http://fw:hunter2@{addr}/api/v1/scheduler")).unwrap();
    let client = Client::builder()
        .credentials(mesos_http::Credentials::basic("fw", "s3cret"))
        .build()
        .unwrap();
    let err = client
        .call(&url, &subscribe_call(), None)
        .await
        .unwrap_err();
    assert_eq!(
        err.redirect_location(),
        Some("//127.0.0.1:1/api/v1/scheduler")
    );
    let texts = [
        err.to_string(),
        format!("{err:?}"),
        error_chain(&err),
        format!("{client:?}"),
        mesos_http::redact_url(&url),
        mesos_http::RedactedUrl(&url).to_string(),
        format!("{:?}", mesos_http::RedactedUrl(&url)),
    ];
    for text in &texts {
        assert!(
            !text.contains("hunter2") && !text.contains("s3cret"),
            "{text}"
        );
    }
    assert_eq!(
        err.to_string(),
        format!("http://{addr}/api/v1/scheduler is not the leading master; redirected to //127.0.0.1:1/api/v1/scheduler")
    );
    // On the wire: the Authorization header of the configured credentials,
    // but not the URL's user-info (neither in the request line nor in Host).
    let request = String::from_utf8(request.await.unwrap()).unwrap();
    assert!(!request.contains("hunter2"), "{request}");
    assert!(
        request.starts_with("POST /api/v1/scheduler HTTP/1.1\r\n"),
        "{request}"
    );
    assert!(
        request
            .to_ascii_lowercase()
            .contains(&format!("host: {addr}\r\n")),
        "{request}"
    );
    assert!(request.contains("authorization: Basic "), "{request}");

    // Errors before any answer, and a subscription's Debug, hide it too.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed = listener.local_addr().unwrap();
    drop(listener);
    let refused = parse_url(&format!("http://fw:hunter2@{closed}/api/v1/scheduler")).unwrap();
    let err = client
        .call(&refused, &subscribe_call(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    let text = format!("{} {err:?}", error_chain(&err));
    assert!(
        !text.contains("hunter2") && text.contains(&closed.to_string()),
        "{text}"
    );

    let (base, _shutdown) = start_server().await;
    let base = base.replace("http://", "http://fw:hunter2@");
    let subscription = Client::builder()
        .build()
        .unwrap()
        .subscribe::<_, Event>(
            &parse_url(&format!("{base}/subscribe")).unwrap(),
            &subscribe_call(),
        )
        .await
        .unwrap();
    let text = format!("{subscription:?}");
    assert!(
        !text.contains("hunter2") && text.contains("/subscribe"),
        "{text}"
    );
}

#[path = "transport/limits.rs"]
mod limits;
/// An `https` master on loopback, with the test CA of `tests/data`.
#[cfg(feature = "tls")]
#[path = "transport/tls.rs"]
mod tls;

#[path = "transport/streaming.rs"]
mod streaming;

#[path = "transport/pipeline.rs"]
mod pipeline;
