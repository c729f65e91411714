//! Pipelined calls ([`ClientBuilder::pipelining`](mesos_http::ClientBuilder::pipelining)):
//! against the server half, and against raw scripted sockets for what a
//! well-behaved server does not do on demand (answering only once every call
//! arrived, closing mid-pipeline, garbage, silence).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use mesos_proto::v1::TaskId;

use super::*;

/// A RECONCILE call naming task `t{i}`: the scripted servers answer each
/// call with the task id it names, so a caller can tell its own answer.
fn numbered(i: usize) -> Call {
    Call {
        r#type: Some(call::Type::Reconcile as i32),
        reconcile: Some(mesos_proto::v1::scheduler::call::Reconcile {
            tasks: vec![mesos_proto::v1::scheduler::call::reconcile::Task {
                task_id: TaskId {
                    value: format!("t{i}"),
                },
                agent_id: None,
            }],
        }),
        ..Default::default()
    }
}

fn pipelined(depth: usize, timeout: Duration) -> Client {
    Client::builder()
        .media_type(MediaType::Json)
        .pipelining(depth)
        .request_timeout(timeout)
        .build()
        .unwrap()
}

/// The task ids named by the whole JSON requests in `bytes`, in order.
fn task_ids(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    text.split("\"task_id\":{\"value\":\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next().map(str::to_string))
        .collect()
}

/// How to answer the calls a scripted connection received.
#[derive(Clone, Copy)]
enum Script {
    /// Answer every call (in varied framings), after all `n` arrived.
    AnswerAll,
    /// Answer the first `k` of the `n`, then close the connection.
    AnswerThenClose(usize),
    /// Answer the first call with `Connection: close`, and close.
    CloseAfterFirst,
    /// Answer with bytes that are not HTTP.
    Garbage,
    /// Announce a body of 100 MiB.
    Huge,
    /// Never answer.
    Silent,
}

/// A raw server: on each connection, reads until `n` calls arrived (or the
/// client closed), then follows `script` (only on the first connection;
/// later connections are answered normally, one call at a time). Returns
/// the URL and the count of connections accepted.
async fn scripted(n: usize, script: Script) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&connections);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let first = counted.fetch_add(1, Ordering::SeqCst) == 0;
            tokio::spawn(async move {
                let (script, wanted) = if first {
                    (script, n)
                } else {
                    (Script::AnswerAll, 1)
                };
                let mut seen = Vec::new();
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    // Bodies are JSON objects: a call is whole once its
                    // closing brace has arrived after its task id.
                    while task_ids(&seen).len() < wanted || !seen.ends_with(b"}") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(read) => seen.extend_from_slice(&buf[..read]),
                        }
                    }
                    let ids = task_ids(&seen);
                    seen.clear();
                    let answer: Vec<u8> = match script {
                        Script::AnswerAll => ids
                            .iter()
                            .enumerate()
                            .map(|(i, id)| answer(i, id))
                            .collect::<Vec<_>>()
                            .concat(),
                        Script::AnswerThenClose(k) => {
                            let some: Vec<u8> = ids
                                .iter()
                                .take(k)
                                .enumerate()
                                .map(|(i, id)| answer(i, id))
                                .collect::<Vec<_>>()
                                .concat();
                            let _ = socket.write_all(&some).await;
                            return;
                        }
                        Script::CloseAfterFirst => {
                            let close = format!(
                                "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{}",
                                ids[0].len(),
                                ids[0]
                            );
                            let _ = socket.write_all(close.as_bytes()).await;
                            return;
                        }
                        Script::Garbage => b"SMTP ready\r\n\r\n".to_vec(),
                        Script::Huge => {
                            b"HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\nxx".to_vec()
                        }
                        Script::Silent => {
                            while matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {}
                            return;
                        }
                    };
                    if socket.write_all(&answer).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (format!("http://{addr}/api/v1/scheduler"), connections)
}

/// The answer to call `id`, in one of three framings by position.
fn answer(position: usize, id: &str) -> Vec<u8> {
    match position % 3 {
        0 => format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{id}",
            id.len()
        ),
        1 => format!(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{id}\r\n0\r\n\r\n",
            id.len()
        ),
        _ => format!(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{id}",
            id.len()
        ),
    }
    .into_bytes()
}

/// Starts `n` calls at once and collects their results by call number.
async fn call_all(client: &Client, url: &str, n: usize) -> Vec<Result<String, Error>> {
    let url = parse_url(url).unwrap();
    let calls = (0..n).map(|i| {
        let client = client.clone();
        let url = url.clone();
        tokio::spawn(async move {
            client
                .call(&url, &numbered(i), None)
                .await
                .map(|answer| String::from_utf8(answer.body.to_vec()).unwrap())
        })
    });
    futures::future::join_all(calls)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

/// Call `i` is answered with its own task id, on the scripted server's
/// second connection.
async fn answered_on_a_second_connection(
    client: &Client,
    url: &str,
    i: usize,
    connections: &AtomicUsize,
) {
    let again = client
        .call(&parse_url(url).unwrap(), &numbered(i), None)
        .await
        .unwrap();
    assert_eq!(again.body, format!("t{i}").into_bytes());
    assert_eq!(connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn calls_are_written_before_any_answer_on_one_connection() {
    // The server answers only once all 40 calls are in: a client that waited
    // for each answer (or used a connection per call) would time out.
    let (url, connections) = scripted(40, Script::AnswerAll).await;
    let client = pipelined(64, Duration::from_secs(20));
    let results = call_all(&client, &url, 40).await;
    for (i, result) in results.into_iter().enumerate() {
        assert_eq!(
            result.unwrap(),
            format!("t{i}"),
            "each caller gets its own answer"
        );
    }
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_depth_bounds_the_calls_in_flight() {
    // 30 calls through a depth of 10: the server sees them in three rounds
    // of 10 (it answers after 10), all on one connection.
    let (url, connections) = scripted(10, Script::AnswerAll).await;
    let client = pipelined(10, Duration::from_secs(20));
    let results = call_all(&client, &url, 30).await;
    for (i, result) in results.into_iter().enumerate() {
        assert_eq!(result.unwrap(), format!("t{i}"));
    }
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_connection_closed_mid_pipeline_fails_only_the_unanswered_calls() {
    let (url, connections) = scripted(8, Script::AnswerThenClose(3)).await;
    let client = pipelined(64, Duration::from_secs(20));
    let results = call_all(&client, &url, 8).await;
    let answered: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().cloned())
        .collect();
    assert_eq!(answered.len(), 3, "{results:?}");
    for result in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(
            matches!(result, Error::Request { .. }) && result.is_retryable(),
            "{result:?}"
        );
        assert!(
            error_chain(result).contains("closed before the answer"),
            "{}",
            error_chain(result)
        );
    }
    // The next call goes out on a new connection.
    answered_on_a_second_connection(&client, &url, 99, &connections).await;
}

#[tokio::test]
async fn a_connection_the_server_closes_after_an_answer_costs_no_later_call() {
    let (url, connections) = scripted(1, Script::CloseAfterFirst).await;
    let client = pipelined(8, Duration::from_secs(20));
    let url = parse_url(&url).unwrap();
    for i in 0..3 {
        let answer = client.call(&url, &numbered(i), None).await.unwrap();
        assert_eq!(answer.body, format!("t{i}").into_bytes());
    }
    assert_eq!(connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn broken_answers_are_typed_errors_in_bounded_time() {
    let (url, _) = scripted(2, Script::Garbage).await;
    let client = pipelined(8, Duration::from_secs(20));
    for result in call_all(&client, &url, 2).await {
        let error = result.unwrap_err();
        assert!(matches!(error, Error::Request { .. }), "{error:?}");
        assert!(
            error_chain(&error).contains("malformed response head"),
            "{}",
            error_chain(&error)
        );
    }

    let (url, _) = scripted(2, Script::Huge).await;
    let client = Client::builder()
        .media_type(MediaType::Json)
        .pipelining(8)
        .max_response_len(1024 * 1024)
        .build()
        .unwrap();
    let results = call_all(&client, &url, 2).await;
    assert!(
        results.iter().any(
            |r| matches!(r, Err(Error::ResponseTooLarge { limit, .. }) if *limit == 1024 * 1024)
        ),
        "{results:?}"
    );
    assert!(results.iter().all(Result::is_err), "{results:?}");

    // Silence: every call times out, and the connection is given up: the
    // next calls go out on a new one (answered there).
    let (url, connections) = scripted(3, Script::Silent).await;
    let client = pipelined(8, Duration::from_millis(300));
    for result in call_all(&client, &url, 3).await {
        let error = result.unwrap_err();
        assert!(
            matches!(error, Error::Timeout { .. } | Error::Request { .. }),
            "{error:?}"
        );
        assert!(error.is_retryable());
    }
    answered_on_a_second_connection(&client, &url, 7, &connections).await;
}

#[tokio::test]
async fn pipelined_calls_against_the_server_half() {
    let (base, _shutdown) = start_server().await;
    for media in [MediaType::Protobuf, MediaType::Json] {
        let client = Client::builder()
            .media_type(media)
            .pipelining(16)
            .build()
            .unwrap();
        let url = parse_url(&format!("{base}/call")).unwrap();
        let revive = Call {
            r#type: Some(call::Type::Revive as i32),
            ..Default::default()
        };
        let calls = (0..200).map(|i| {
            let (client, url, revive) = (client.clone(), url.clone(), revive.clone());
            tokio::spawn(async move {
                let stream_id = if i % 5 == 0 { "other" } else { "stream-1" };
                (i, client.call(&url, &revive, Some(stream_id)).await)
            })
        });
        for joined in futures::future::join_all(calls).await {
            let (i, result) = joined.unwrap();
            if i % 5 == 0 {
                let error = result.unwrap_err();
                assert!(
                    matches!(error, Error::BadRequest { ref message, .. } if message == "wrong stream id"),
                    "{error:?}"
                );
            } else {
                assert_eq!(result.unwrap().status, StatusCode::ACCEPTED, "{media}");
            }
        }
        let redirect = client
            .call(
                &parse_url(&format!("{base}/redirect")).unwrap(),
                &revive,
                None,
            )
            .await
            .unwrap_err();
        assert_eq!(
            redirect.redirect_location(),
            Some("//127.0.0.1:1/api/v1/scheduler")
        );
    }
}

#[tokio::test]
async fn no_server_is_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = pipelined(8, Duration::from_secs(20));
    let url = parse_url(&format!("http://{addr}/api/v1/scheduler")).unwrap();
    let error = client.call(&url, &numbered(0), None).await.unwrap_err();
    assert!(matches!(error, Error::Connect { .. }), "{error:?}");
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_released_connection_closes_once_its_last_answer_is_read() {
    // Two calls are written; their callers stop waiting and the client is
    // dropped before the server answers. Once both answers are read, the
    // connection must close (not stay open for as long as the server keeps
    // it, as the Mesos master does).
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (answer_now, go) = oneshot::channel::<()>();
    let (report, closed) = oneshot::channel::<bool>();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut seen = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        while task_ids(&seen).len() < 2 || !seen.ends_with(b"}") {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
        let _ = go.await;
        let ids = task_ids(&seen);
        let answers = [answer(0, &ids[0]), answer(1, &ids[1])].concat();
        socket.write_all(&answers).await.unwrap();
        let eof = tokio::time::timeout(Duration::from_secs(10), async {
            while matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {}
        })
        .await
        .is_ok();
        let _ = report.send(eof);
    });
    let client = pipelined(8, Duration::from_secs(20));
    let url = parse_url(&format!("http://{addr}/api/v1/scheduler")).unwrap();
    let calls = (0..2).map(|i| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            tokio::time::timeout(
                Duration::from_millis(300),
                client.call(&url, &numbered(i), None),
            )
            .await
        }
    });
    for gave_up in futures::future::join_all(calls).await {
        assert!(gave_up.is_err(), "the callers stop waiting first");
    }
    drop(client);
    answer_now.send(()).unwrap();
    assert!(
        closed.await.unwrap(),
        "the client kept the released connection open"
    );
}
