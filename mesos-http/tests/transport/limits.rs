//! Bounded response bodies: [`ClientBuilder::max_response_len`](mesos_http::ClientBuilder::max_response_len).

use super::*;

const MIB: usize = 1024 * 1024;

/// A one-shot raw HTTP server answering `200 OK` with `headers` and then
/// `body_len` bytes of body (in 64 KiB chunks of chunked encoding when
/// `chunked`). It then waits for the client to close the connection, and
/// reports how many body bytes it could write: fewer than `body_len` when the
/// client went away mid-body.
async fn streaming(
    headers: &'static str,
    body_len: usize,
    chunked: bool,
) -> (String, oneshot::Receiver<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (report, written) = oneshot::channel();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 64 * 1024];
        let _ = socket.read(&mut buf).await;
        let mut sent = 0;
        let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{headers}\r\n");
        if socket.write_all(head.as_bytes()).await.is_ok() {
            let chunk = vec![b'x'; 64 * 1024];
            while sent < body_len {
                let data = &chunk[..chunk.len().min(body_len - sent)];
                let written = if chunked {
                    let mut framed = format!("{:x}\r\n", data.len()).into_bytes();
                    framed.extend_from_slice(data);
                    framed.extend_from_slice(b"\r\n");
                    socket.write_all(&framed).await
                } else {
                    socket.write_all(data).await
                };
                if written.is_err() {
                    break;
                }
                sent += data.len();
            }
            if sent == body_len && chunked {
                let _ = socket.write_all(b"0\r\n\r\n").await;
            }
            // Wait for the client to close its end (or reset it).
            while matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {}
        }
        let _ = report.send(sent);
    });
    (format!("http://{addr}/api/v1/scheduler"), written)
}

fn limited_client(max_response_len: usize) -> Client {
    Client::builder()
        .media_type(MediaType::Json)
        .max_response_len(max_response_len)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_streamed_body_over_the_limit_is_refused_without_reading_it_all() {
    let total = 64 * MIB;
    let (url, written) = streaming("Transfer-Encoding: chunked\r\n", total, true).await;
    let client = limited_client(MIB);
    let err = client
        .call(&parse_url(&url).unwrap(), &subscribe_call(), None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::ResponseTooLarge { limit, ref endpoint } if limit == MIB && *endpoint == url),
        "{err:?}"
    );
    assert!(
        !err.is_retryable() && !err.is_subscription_lost(),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("the response from {url} is larger than the limit of 1048576 bytes")
    );
    // The client hung up at the limit: the server could not write the rest
    // (at most the limit plus what the kernel's socket buffers hold).
    drop(client);
    let written = tokio::time::timeout(Duration::from_secs(30), written)
        .await
        .expect("the server notices the client went away")
        .unwrap();
    assert!(written < total, "the server wrote all {written} bytes");
}

#[tokio::test]
async fn a_content_length_over_the_limit_is_refused_before_the_body() {
    // The server announces 64 MiB and sends none of it: a client that
    // started reading would wait for the request timeout instead.
    let (url, written) = streaming("Content-Length: 67108864\r\n", 0, false).await;
    let client = Client::builder()
        .max_response_len(MIB)
        .request_timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let err = client
        .call(&parse_url(&url).unwrap(), &subscribe_call(), None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::ResponseTooLarge { limit, .. } if limit == MIB),
        "{err:?}"
    );
    drop(client);
    assert_eq!(written.await.unwrap(), 0);
}

#[tokio::test]
async fn a_body_of_exactly_the_limit_is_read() {
    for (headers, chunked) in [
        ("Transfer-Encoding: chunked\r\n", true),
        ("Content-Length: 1048576\r\n", false),
    ] {
        let (url, _written) = streaming(headers, MIB, chunked).await;
        let answer = limited_client(MIB)
            .call(&parse_url(&url).unwrap(), &subscribe_call(), None)
            .await
            .unwrap();
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.body.len(), MIB, "{headers}");
    }
    // One byte less of limit refuses the same body.
    let (url, _written) = streaming("Transfer-Encoding: chunked\r\n", MIB, true).await;
    let err = limited_client(MIB - 1)
        .call(&parse_url(&url).unwrap(), &subscribe_call(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ResponseTooLarge { .. }), "{err:?}");
}

#[test]
fn the_default_response_limit_is_documented_and_shown() {
    assert_eq!(mesos_http::DEFAULT_MAX_RESPONSE_LEN, 16 * MIB);
    let client = Client::builder().build().unwrap();
    assert!(
        format!("{client:?}").contains("max_response_len: 16777216"),
        "{client:?}"
    );
}
