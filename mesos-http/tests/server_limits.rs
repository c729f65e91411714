//! The server half under [`ServerLimits`]: connection cap with backpressure,
//! body timeout and size, decode cost, stalled writers. Loopback only;
//! every wait has a deadline.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt as _;
use http::StatusCode;
use mesos_http::server::{self, CallReader, ServerLimits};
use mesos_proto::cost::DecodeLimits;
use mesos_proto::v1::scheduler::{event, Call, Event};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// How many `/flood` streams the server has dropped (their connection
/// closed).
static FLOODS_ENDED: AtomicUsize = AtomicUsize::new(0);

/// Counts a `/flood` stream's end in [`FLOODS_ENDED`] when dropped.
struct CountOnDrop;

impl Drop for CountOnDrop {
    fn drop(&mut self) {
        FLOODS_ENDED.fetch_add(1, Ordering::SeqCst);
    }
}

/// Serves `/call` (decodes a scheduler Call, answers 202) and `/flood`
/// (an endless event stream) under `limits`.
async fn start(limits: ServerLimits) -> (String, CancellationToken) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let reader = CallReader::new(limits.clone());
    let handler = move |request: http::Request<hyper::body::Incoming>, _peer| {
        let reader = reader.clone();
        async move {
            if request.uri().path() == "/flood" {
                let heartbeat = Event {
                    r#type: Some(event::Type::Heartbeat as i32),
                    ..Default::default()
                };
                let guard = CountOnDrop;
                let events = futures::stream::repeat(heartbeat).map(move |event| {
                    let _ = &guard;
                    event
                });
                return server::event_stream_response(mesos_proto::MediaType::Json, None, events);
            }
            match reader.read::<Call>(request).await {
                Ok(_) => server::empty_response(StatusCode::ACCEPTED),
                Err(response) => response,
            }
        }
    };
    let token = shutdown.clone();
    tokio::spawn(async move { server::serve_with_limits(listener, handler, token, &limits).await });
    (addr.to_string(), shutdown)
}

/// Writes `request` and reads the status code of the answer.
async fn status_of(stream: &mut TcpStream, request: &[u8]) -> u16 {
    stream.write_all(request).await.unwrap();
    let mut buf = vec![0u8; 1024];
    let mut got = Vec::new();
    while !got.windows(2).any(|w| w == b"\r\n") {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before a status line");
        got.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&got);
    line[9..12].parse().unwrap()
}

fn post(body: &[u8], content_type: &str) -> Vec<u8> {
    let mut request = format!(
        "POST /call HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

#[tokio::test]
async fn a_full_server_stops_accepting_until_a_connection_closes() {
    let (addr, _shutdown) = start(ServerLimits::default().max_connections(2)).await;
    let first = TcpStream::connect(&addr).await.unwrap();
    let _second = TcpStream::connect(&addr).await.unwrap();
    // The third is queued by the kernel, not served.
    let mut third = TcpStream::connect(&addr).await.unwrap();
    let request = post(br#"{"type":"TEARDOWN"}"#, "application/json");
    third.write_all(&request).await.unwrap();
    let mut buf = [0u8; 64];
    let waited = tokio::time::timeout(Duration::from_millis(300), third.read(&mut buf)).await;
    assert!(waited.is_err(), "served while the server was full");
    drop(first);
    let n = tokio::time::timeout(Duration::from_secs(5), third.read(&mut buf))
        .await
        .expect("served once a slot freed")
        .unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 202"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
}

#[tokio::test]
async fn slow_and_oversized_bodies_are_refused() {
    let limits = ServerLimits::default()
        .body_read_timeout(Duration::from_millis(300))
        .max_call_len(1024);
    let (addr, _shutdown) = start(limits).await;
    // Declared too large: refused before reading.
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    let request = b"POST /call HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n";
    assert_eq!(status_of(&mut stream, request).await, 413);
    // Too slow: 408.
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    let request = b"POST /call HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"type\"";
    let status = tokio::time::timeout(Duration::from_secs(5), status_of(&mut stream, request))
        .await
        .expect("an answer within the timeout");
    assert_eq!(status, 408);
}

#[tokio::test]
async fn what_a_body_would_cost_to_decode_is_checked_first() {
    let limits = ServerLimits::default().decode(DecodeLimits::default().max_messages(1000));
    let (addr, _shutdown) = start(limits).await;
    let operations = vec!["{}"; 5000].join(",");
    let body = format!(
        r#"{{"type":"ACCEPT","framework_id":{{"value":"f"}},"accept":{{"offer_ids":[],"operations":[{operations}]}}}}"#
    );
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    assert_eq!(
        status_of(&mut stream, &post(body.as_bytes(), "application/json")).await,
        413
    );
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    let valid = Bytes::from_static(br#"{"type":"TEARDOWN"}"#);
    assert_eq!(
        status_of(&mut stream, &post(&valid, "application/json")).await,
        202
    );
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    assert_eq!(
        status_of(&mut stream, &post(b"{\"type\":", "application/json")).await,
        400
    );
}

#[tokio::test]
async fn a_client_that_stops_reading_is_disconnected() {
    let limits = ServerLimits::default().write_timeout(Duration::from_millis(500));
    let (addr, _shutdown) = start(limits).await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(addr.parse().unwrap()).await.unwrap();
    stream
        .write_all(b"POST /flood HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        .await
        .unwrap();
    // Not reading: the server's writes stall, then it gives up and drops
    // the stream. Reading afterwards drains what was buffered and reaches
    // the end.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while FLOODS_ENDED.load(Ordering::SeqCst) == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server kept writing to a client that does not read"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0usize;
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => total += n,
            }
            assert!(total < 512 << 20, "the stream never ends");
        }
    })
    .await;
    assert!(ended.is_ok(), "still connected after {total} bytes");
}
