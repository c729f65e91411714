//! Streamed request bodies: [`Client::call_streaming`] against a server half
//! that reads the RecordIO request record by record.

use futures::channel::mpsc;
use futures::SinkExt;
use http_body_util::BodyExt;
use mesos_http::headers::{MESSAGE_CONTENT_TYPE, RECORDIO_MIME};
use mesos_proto::recordio::RecordStream;
use mesos_proto::v1::FrameworkId;

use super::*;

/// What the server saw: each request's headers, then each record as it
/// arrived, then the end of the body.
#[derive(Debug)]
enum Seen {
    Headers(http::HeaderMap),
    Record(Box<Call>),
    End,
}

/// A server that reports what it reads on `seen` and answers by path:
/// `/refuse` with `404` before reading the body, `/silent` never, the rest
/// with `200` and `done` once the body has ended.
async fn start_reader() -> (String, mpsc::UnboundedReceiver<Seen>, CancellationToken) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let (report, seen) = mpsc::unbounded();
    let handler = move |request: http::Request<hyper::body::Incoming>, _peer| {
        let report = report.clone();
        async move {
            let _ = report.unbounded_send(Seen::Headers(request.headers().clone()));
            let path = request.uri().path().to_string();
            if path == "/refuse" {
                return server::text_response(StatusCode::NOT_FOUND, "no such container");
            }
            let media =
                mesos_http::headers::content_type(request.headers()).unwrap_or(MediaType::Protobuf);
            let media = request
                .headers()
                .get(MESSAGE_CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .and_then(MediaType::from_mime)
                .unwrap_or(media);
            let mut records = RecordStream::new(request.into_body().into_data_stream());
            while let Some(record) = records.next().await {
                let Ok(record) = record else {
                    return server::text_response(StatusCode::BAD_REQUEST, "bad framing");
                };
                let Ok(call) = media.decode::<Call>(&record) else {
                    return server::text_response(StatusCode::BAD_REQUEST, "bad record");
                };
                let _ = report.unbounded_send(Seen::Record(Box::new(call)));
            }
            let _ = report.unbounded_send(Seen::End);
            if path == "/silent" {
                futures::future::pending::<()>().await;
            }
            server::text_response(StatusCode::OK, "done")
        }
    };
    tokio::spawn(server::serve(listener, handler, shutdown.clone()));
    (format!("http://{addr}"), seen, shutdown)
}

fn call_of(kind: call::Type) -> Call {
    Call {
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

/// The next thing the server saw, within a bounded wait.
async fn next_seen(seen: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    tokio::time::timeout(Duration::from_secs(10), seen.next())
        .await
        .expect("the server saw nothing within 10 s")
        .expect("the server is gone")
}

#[tokio::test]
async fn records_reach_the_server_one_by_one_with_the_streaming_headers() {
    let (base, mut seen, _shutdown) = start_reader().await;
    let client = Client::builder()
        .media_type(MediaType::Json)
        .credentials(mesos_http::Credentials::basic("op", "s3cret"))
        .build()
        .unwrap();
    let url = parse_url(&format!("{base}/api/v1")).unwrap();
    let (mut input, calls) = mpsc::channel::<Call>(1);
    let answer = tokio::spawn(async move { client.call_streaming(&url, calls).await });

    let Seen::Headers(headers) = next_seen(&mut seen).await else {
        panic!("headers first")
    };
    assert_eq!(headers[http::header::CONTENT_TYPE], RECORDIO_MIME);
    assert_eq!(headers[MESSAGE_CONTENT_TYPE], "application/json");
    assert_eq!(headers[http::header::ACCEPT], "application/json");
    assert!(headers[http::header::AUTHORIZATION]
        .to_str()
        .unwrap()
        .starts_with("Basic "));

    // Each record arrives while the stream is still open.
    for kind in [call::Type::Subscribe, call::Type::Revive] {
        input.send(call_of(kind)).await.unwrap();
        match next_seen(&mut seen).await {
            Seen::Record(call) => assert_eq!(call.r#type(), kind),
            other => panic!("expected a record, got {other:?}"),
        }
    }
    drop(input);
    assert!(matches!(next_seen(&mut seen).await, Seen::End));
    let response = answer.await.unwrap().expect("200 OK");
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(&response.body[..], b"done");
}

#[tokio::test]
async fn an_early_error_answer_is_typed_even_while_the_input_stays_open() {
    let (base, _seen, _shutdown) = start_reader().await;
    let client = Client::builder().build().unwrap();
    let url = parse_url(&format!("{base}/refuse")).unwrap();
    let calls =
        futures::stream::iter([call_of(call::Type::Subscribe)]).chain(futures::stream::pending());
    let error = tokio::time::timeout(Duration::from_secs(10), client.call_streaming(&url, calls))
        .await
        .expect("the refusal must end the call")
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::NOT_FOUND), "{error:?}");
    assert!(error.to_string().contains("no such container"), "{error}");
}

#[tokio::test]
async fn a_record_over_the_limit_is_not_sent() {
    let (base, _seen, _shutdown) = start_reader().await;
    let client = Client::builder().max_record_len(64).build().unwrap();
    let url = parse_url(&format!("{base}/api/v1")).unwrap();
    let big = Call {
        framework_id: Some(FrameworkId {
            value: "x".repeat(100),
        }),
        ..call_of(call::Type::Revive)
    };
    let calls = futures::stream::iter([call_of(call::Type::Subscribe), big]);
    let error = client.call_streaming(&url, calls).await.unwrap_err();
    match error {
        Error::RequestRecordTooLarge { len, limit, .. } => {
            assert!(len > 100, "{len}");
            assert_eq!(limit, 64);
        }
        other => panic!("expected RequestRecordTooLarge, got {other:?}"),
    }
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_after_the_stream_ends() {
    let (base, mut seen, _shutdown) = start_reader().await;
    let client = Client::builder()
        .request_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let url = parse_url(&format!("{base}/silent")).unwrap();
    let calls = futures::stream::iter([call_of(call::Type::Subscribe)]);
    let error = client.call_streaming(&url, calls).await.unwrap_err();
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
    // The server did receive the whole stream: the timeout is the answer's.
    assert!(matches!(next_seen(&mut seen).await, Seen::Headers(_)));
    assert!(matches!(next_seen(&mut seen).await, Seen::Record(_)));
    assert!(matches!(next_seen(&mut seen).await, Seen::End));
}
