//! `ATTACH_CONTAINER_INPUT` against a fake agent (the server half of
//! mesos-http) that reads the streamed request record by record, as a Mesos
//! agent does: first the `CONTAINER_ID` call, then one `PROCESS_IO` call per
//! input item, in order, each while the input is still open.

use std::time::Duration;

use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};
use http::StatusCode;
use http_body_util::BodyExt;
use mesos_http::headers::{MESSAGE_CONTENT_TYPE, RECORDIO_MIME};
use mesos_http::server;
use mesos_operator::agent::calls_containers::{stdin, stdin_eof};
use mesos_operator::proto::agent::call::attach_container_input::Type as InputType;
use mesos_operator::proto::agent::{call, Call, ProcessIo};
use mesos_operator::proto::ContainerId;
use mesos_operator::{AgentClient, Error, MediaType};
use mesos_proto::recordio::RecordStream;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// A fake agent that reports each call it reads on the returned channel
/// (`None` once the body has ended) and then answers `status`; with
/// `refuse_early` it answers before reading the body.
async fn fake_agent(
    status: StatusCode,
    refuse_early: bool,
) -> (
    String,
    mpsc::UnboundedReceiver<Option<Call>>,
    CancellationToken,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (report, seen) = mpsc::unbounded();
    let shutdown = CancellationToken::new();
    let handler = move |request: http::Request<hyper::body::Incoming>, _peer| {
        let report = report.clone();
        async move {
            if refuse_early {
                return server::text_response(status, "Container cannot be found");
            }
            let headers = request.headers();
            if headers[http::header::CONTENT_TYPE] != RECORDIO_MIME {
                return server::text_response(StatusCode::UNSUPPORTED_MEDIA_TYPE, "not recordio");
            }
            let Some(media) = headers
                .get(MESSAGE_CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .and_then(MediaType::from_mime)
            else {
                return server::text_response(StatusCode::BAD_REQUEST, "no message type");
            };
            let mut records = RecordStream::new(request.into_body().into_data_stream());
            while let Some(record) = records.next().await {
                let Some(call) = record.ok().and_then(|r| media.decode::<Call>(&r).ok()) else {
                    return server::text_response(StatusCode::BAD_REQUEST, "bad record");
                };
                let _ = report.unbounded_send(Some(call));
            }
            let _ = report.unbounded_send(None);
            server::text_response(status, "")
        }
    };
    tokio::spawn(server::serve(listener, handler, shutdown.clone()));
    (url, seen, shutdown)
}

fn container() -> ContainerId {
    ContainerId {
        value: "c1".into(),
        parent: None,
    }
}

/// The next call the fake read (`None`: the body ended), within a bounded
/// wait.
async fn next_call(seen: &mut mpsc::UnboundedReceiver<Option<Call>>) -> Option<Call> {
    tokio::time::timeout(Duration::from_secs(10), seen.next())
        .await
        .expect("the fake agent read nothing within 10 s")
        .expect("the fake agent is gone")
}

/// The `PROCESS_IO` payload of an `ATTACH_CONTAINER_INPUT` call.
fn process_io(call: Call) -> ProcessIo {
    assert_eq!(call.r#type(), call::Type::AttachContainerInput);
    let input = call.attach_container_input.expect("payload");
    assert_eq!(input.r#type(), InputType::ProcessIo);
    assert!(input.container_id.is_none());
    input.process_io.expect("process_io")
}

#[tokio::test]
async fn the_container_id_comes_first_then_the_input_in_order() {
    for media in [MediaType::Protobuf, MediaType::Json] {
        let (url, mut seen, _shutdown) = fake_agent(StatusCode::OK, false).await;
        let agent = AgentClient::builder(&url)
            .media_type(media)
            .agent()
            .unwrap();
        let (mut input, items) = mpsc::channel::<ProcessIo>(1);
        let call =
            tokio::spawn(async move { agent.attach_container_input(container(), items).await });

        let first = next_call(&mut seen).await.expect("the opening call");
        assert_eq!(first.r#type(), call::Type::AttachContainerInput);
        let opening = first.attach_container_input.expect("payload");
        assert_eq!(opening.r#type(), InputType::ContainerId);
        assert_eq!(opening.container_id, Some(container()));
        assert!(opening.process_io.is_none());

        // Each chunk reaches the agent while the input is still open.
        for item in [stdin("echo one\n"), stdin("echo two\n"), stdin_eof()] {
            input.send(item.clone()).await.unwrap();
            let got = process_io(next_call(&mut seen).await.expect("a PROCESS_IO call"));
            assert_eq!(got, item, "{media}");
        }
        drop(input);
        assert!(
            next_call(&mut seen).await.is_none(),
            "the body ends with the input"
        );
        call.await.unwrap().expect("200 OK is Ok(())");
    }
}

#[tokio::test]
async fn an_agent_error_status_is_the_typed_status_error() {
    let (url, _seen, _shutdown) = fake_agent(StatusCode::NOT_FOUND, true).await;
    let agent = AgentClient::from_url(&url).unwrap();
    // The input never ends: the agent's early answer alone ends the call.
    let error = tokio::time::timeout(
        Duration::from_secs(10),
        agent.attach_container_input(container(), futures::stream::pending()),
    )
    .await
    .expect("the refusal ends the call")
    .unwrap_err();
    match &error {
        Error::Status {
            call,
            status,
            message,
            ..
        } => {
            assert_eq!(*call, "ATTACH_CONTAINER_INPUT");
            assert_eq!(*status, StatusCode::NOT_FOUND);
            assert_eq!(message, "Container cannot be found");
        }
        other => panic!("expected Error::Status, got {other:?}"),
    }
    assert!(!error.is_retryable());

    let (url, mut seen, _shutdown) = fake_agent(StatusCode::BAD_REQUEST, false).await;
    let agent = AgentClient::from_url(&url).unwrap();
    let input = futures::stream::iter([stdin_eof()]);
    let error = agent
        .attach_container_input(container(), input)
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::BAD_REQUEST), "{error:?}");
    assert!(next_call(&mut seen).await.is_some());
}
