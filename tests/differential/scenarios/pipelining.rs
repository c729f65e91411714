//! HTTP/1.1 pipelining of scheduler calls: several calls written at once
//! on one connection, before any answer, are answered one by one in the
//! order they were sent, an error among them included. (libprocess, Mesos's
//! HTTP server, answers pipelined requests in order; a client may rely on
//! it to send acknowledgements without waiting for each answer.)

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use super::Ctx;
use crate::http::encode_call;
use crate::observe::{message_kind, Observations};

crate::scenarios!(both pipelined_calls_are_answered_in_order);
crate::scenarios!(both pipelined_client_calls_get_their_own_answers);

/// Bound of the whole exchange.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(10);

/// The most answer bytes read (three short answers).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

async fn pipelined_calls_are_answered_in_order(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let framework = ctx.subscribe(json!({})).await;
    let (reconcile, bad_ack) = reconcile_and_bad_ack(&framework.framework_id);
    let mut requests = Vec::new();
    for call in [&reconcile, &bad_ack, &reconcile] {
        let body = encode_call(ctx.media, call);
        requests.extend_from_slice(
            format!(
                "POST /api/v1/scheduler HTTP/1.1\r\nHost: master\r\nContent-Type: {mime}\r\nAccept: {mime}\r\nMesos-Stream-Id: {stream}\r\nContent-Length: {len}\r\n\r\n",
                mime = ctx.media.mime(),
                stream = framework.stream_id,
                len = body.len(),
            )
            .as_bytes(),
        );
        requests.extend_from_slice(&body);
    }
    let address = ctx
        .target
        .base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let answers = tokio::time::timeout(EXCHANGE_TIMEOUT, exchange(&address, &requests, 3))
        .await
        .unwrap_or_else(|_| panic!("three pipelined answers within {EXCHANGE_TIMEOUT:?}"));
    for (step, answer) in ["RECONCILE", "ACKNOWLEDGE (invalid uuid)", "RECONCILE again"]
        .iter()
        .zip(answers)
    {
        o.push(step, answer);
    }
    ctx.teardown(&framework).await;
    o
}

/// The SDK's own pipelined call path (`ClientBuilder::pipelining`, what the
/// scheduler uses by default): 24 calls started at once, 8 in flight at
/// most, every third an ACKNOWLEDGE the master refuses; each caller must get
/// the answer to its own call.
async fn pipelined_client_calls_get_their_own_answers(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let framework = ctx.subscribe(json!({})).await;
    let (reconcile, bad_ack) = reconcile_and_bad_ack(&framework.framework_id);
    let typed = |call: &Value| -> mesos_proto::v1::scheduler::Call {
        mesos_proto::MediaType::Json
            .decode(call.to_string().as_bytes())
            .expect("a valid call")
    };
    let (reconcile, bad_ack) = (typed(&reconcile), typed(&bad_ack));
    let client = mesos_http::Client::builder()
        .media_type(ctx.media)
        .pipelining(8)
        .request_timeout(EXCHANGE_TIMEOUT)
        .build()
        .expect("a client");
    let url = mesos_http::parse_url(&format!(
        "{}/api/v1/scheduler",
        ctx.target.base.trim_end_matches('/')
    ))
    .expect("the scheduler endpoint");
    let calls = (0..24).map(|i| {
        let call = if i % 3 == 1 { &bad_ack } else { &reconcile };
        client.call(&url, call, Some(&framework.stream_id))
    });
    let answers = futures::future::join_all(calls).await;
    for (i, answer) in answers.into_iter().enumerate() {
        let seen = match answer {
            Ok(ok) => json!({"status": ok.status.as_u16()}),
            Err(error) => json!({
                "status": error.status().map(|s| s.as_u16()),
                "body": match &error {
                    mesos_http::Error::BadRequest { message, .. } => json!(message_kind(message)),
                    other => json!(mesos_http::error_chain(other)),
                },
            }),
        };
        o.push(&format!("call {i}"), seen);
    }
    ctx.teardown(&framework).await;
    o
}

/// A RECONCILE the master accepts and an ACKNOWLEDGE it refuses (`400`, an
/// invalid uuid), as `framework_id`'s calls.
fn reconcile_and_bad_ack(framework_id: &str) -> (Value, Value) {
    let id = json!({"value": framework_id});
    let reconcile = json!({"type": "RECONCILE", "framework_id": id, "reconcile": {"tasks": []}});
    let bad_ack = json!({
        "type": "ACKNOWLEDGE",
        "framework_id": id,
        "acknowledge": {"agent_id": {"value": "no-such-agent"}, "task_id": {"value": "t"}, "uuid": "AAAA"}
    });
    (reconcile, bad_ack)
}

/// Writes `requests` in one write on a new connection to `address`, then
/// reads `count` answers: each one's status, content type and normalised
/// body.
async fn exchange(address: &str, requests: &[u8], count: usize) -> Vec<Value> {
    let mut stream = TcpStream::connect(address)
        .await
        .unwrap_or_else(|e| panic!("connecting to {address}: {e}"));
    stream
        .write_all(requests)
        .await
        .expect("the calls are sent");
    let mut buffer = Vec::new();
    let mut answers = Vec::new();
    while answers.len() < count {
        match parse_answer(&buffer) {
            Some((answer, used)) => {
                answers.push(answer);
                buffer.drain(..used);
            }
            None => {
                let mut chunk = [0u8; 4096];
                let n = stream.read(&mut chunk).await.expect("reading the answers");
                assert!(
                    n > 0,
                    "the connection closed after {} answers",
                    answers.len()
                );
                buffer.extend_from_slice(&chunk[..n]);
                assert!(buffer.len() <= MAX_ANSWER_BYTES, "answers too long");
            }
        }
    }
    assert!(buffer.is_empty(), "bytes beyond the answers: {buffer:?}");
    answers
}

/// One whole answer at the start of `buffer` (framed by its
/// `Content-Length`), and how many bytes it took; `None` until complete.
fn parse_answer(buffer: &[u8]) -> Option<(Value, usize)> {
    let head_end = buffer.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&buffer[..head_end]).expect("an ASCII head");
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let mut content_type = None;
    let mut length = None;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-type" => content_type = Some(value.trim().to_string()),
                "content-length" => length = value.trim().parse::<usize>().ok(),
                "transfer-encoding" => panic!("a chunked answer to a call: {head}"),
                _ => {}
            }
        }
    }
    let end = head_end + length.expect("a Content-Length on every answer");
    let body = buffer.get(head_end..end)?;
    let answer = json!({
        "status": status,
        "content_type": content_type,
        "body": message_kind(&String::from_utf8_lossy(body)),
    });
    Some((answer, end))
}
