//! A raw JSON scheduler over plain HTTP sees the real master's event
//! shapes.

use std::collections::BTreeSet;

use bytes::Bytes;
use http_body_util::BodyExt;
use mesos_proto::v1::FrameworkId;
use serde_json::Value;
use tokio::time::Instant;

use super::support::*;

/// The events of a RecordIO body (`<length>\n<bytes>...`) complete so far;
/// consumes them from `buffer`.
fn records(buffer: &mut Vec<u8>) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(newline) = buffer.iter().position(|&b| b == b'\n') {
        let length: usize = std::str::from_utf8(&buffer[..newline])
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or_else(|| panic!("a RecordIO length: {:?}", &buffer[..newline]));
        let end = newline + 1 + length;
        if buffer.len() < end {
            break;
        }
        let record = serde_json::from_slice(&buffer[newline + 1..end])
            .unwrap_or_else(|e| panic!("a JSON event: {e}"));
        out.push(record);
        buffer.drain(..end);
    }
    out
}

/// The key paths of a JSON value (`a.b[].c`), values ignored.
fn key_paths(value: &Value, prefix: &str, paths: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                paths.insert(path.clone());
                key_paths(value, &path, paths);
            }
        }
        Value::Array(items) => {
            for item in items {
                key_paths(item, &format!("{prefix}[]"), paths);
            }
        }
        _ => {}
    }
}

fn assert_same_keys(what: &str, ours: &Value, real: &Value) {
    let (mut a, mut b) = (BTreeSet::new(), BTreeSet::new());
    key_paths(ours, "", &mut a);
    key_paths(real, "", &mut b);
    let missing: Vec<_> = b.difference(&a).collect();
    let extra: Vec<_> = a.difference(&b).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what}: keys missing {missing:?}, extra {extra:?}\nours: {ours}\nreal: {real}"
    );
}

type RawSender = hyper::client::conn::http1::SendRequest<http_body_util::Full<Bytes>>;

async fn raw_connection(url: &str) -> RawSender {
    let authority = url.trim_start_matches("http://").to_string();
    let stream = tokio::net::TcpStream::connect(&authority)
        .await
        .expect("connect to the master");
    let (sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("HTTP handshake");
    tokio::spawn(connection);
    sender
}

fn raw_post(
    url: &str,
    body: &Value,
    stream_id: Option<&str>,
) -> http::Request<http_body_util::Full<Bytes>> {
    let mut request = http::Request::post(format!("{url}/api/v1/scheduler"))
        .header(http::header::HOST, url.trim_start_matches("http://"))
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::ACCEPT, "application/json");
    if let Some(id) = stream_id {
        request = request.header("Mesos-Stream-Id", id);
    }
    request
        .body(http_body_util::Full::new(Bytes::from(body.to_string())))
        .expect("a request")
}

#[tokio::test]
async fn raw_json_scheduler_sees_the_real_masters_event_shapes() {
    let sample = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/subscribe-stream.recordio"
    ))
    .expect("the real master's sample");
    let real = records(&mut sample.clone());
    let real_of = |kind: &str| {
        real.iter()
            .find(|e| e["type"] == kind)
            .unwrap_or_else(|| panic!("{kind} in the sample"))
            .clone()
    };

    let cluster = start(builder(1)).await;
    let url = cluster.master_url().to_string();
    let mut sender = raw_connection(&url).await;
    let subscribe = serde_json::json!({
        "type": "SUBSCRIBE",
        "subscribe": {"framework_info": {"user": "root", "name": "raw-json"}},
    });
    let response = sender
        .send_request(raw_post(&url, &subscribe, None))
        .await
        .expect("SUBSCRIBE answered");
    assert_eq!(response.status(), http::StatusCode::OK);
    assert_eq!(
        response.headers()[http::header::CONTENT_TYPE],
        "application/json"
    );
    let stream_id = response
        .headers()
        .get("Mesos-Stream-Id")
        .and_then(|v| v.to_str().ok())
        .expect("a Mesos-Stream-Id")
        .to_string();
    let mut body = response.into_body();
    let mut buffer = Vec::new();
    let mut events = Vec::new();
    let deadline = Instant::now() + SOON;
    while !events.iter().any(|e: &Value| e["type"] == "OFFERS") {
        let frame = tokio::time::timeout_at(deadline, body.frame())
            .await
            .expect("OFFERS in time")
            .expect("the stream goes on")
            .expect("a body frame");
        if let Ok(data) = frame.into_data() {
            buffer.extend_from_slice(&data);
            events.extend(records(&mut buffer));
        }
    }
    assert_eq!(events[0]["type"], "SUBSCRIBED", "{events:?}");
    assert_same_keys("SUBSCRIBED", &events[0], &real_of("SUBSCRIBED"));
    let offers = events
        .iter()
        .find(|e| e["type"] == "OFFERS")
        .expect("OFFERS");
    assert_same_keys("OFFERS", offers, &real_of("OFFERS"));
    assert!(
        events
            .iter()
            .all(|e| ["SUBSCRIBED", "HEARTBEAT", "OFFERS"]
                .contains(&e["type"].as_str().unwrap_or("")))
    );

    // A call in raw JSON on a second connection: DECLINE the offer.
    let framework_id = events[0]["subscribed"]["framework_id"].clone();
    let offer_id = offers["offers"]["offers"][0]["id"].clone();
    let decline = serde_json::json!({
        "framework_id": framework_id,
        "type": "DECLINE",
        "decline": {"offer_ids": [offer_id], "filters": {"refuse_seconds": 60.0}},
    });
    let mut calls = raw_connection(&url).await;
    let answer = calls
        .send_request(raw_post(&url, &decline, Some(&stream_id)))
        .await
        .expect("DECLINE answered");
    assert_eq!(answer.status(), http::StatusCode::ACCEPTED);
    let state = cluster.state();
    let fw = framework_state(
        &state,
        &FrameworkId::from(framework_id["value"].as_str().unwrap_or("")),
    );
    assert_eq!(fw["offers"].as_array().map(Vec::len), Some(0), "{fw}");
}
