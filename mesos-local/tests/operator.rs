//! The master's operator API as mesos-local alone shows it (what real
//! Mesos answers is compared in the workspace's differential suite): the
//! calls it does not model answer `501` naming the call, both media types
//! decode through `mesos_http::Client`, SUBSCRIBE heartbeats, a
//! subscriber that stops reading is cut without holding the master up,
//! MARK_AGENT_GONE, and the agents' READ_FILE of a task's output (the
//! real-mesos tool's command executor keeps the task's stdout, so the
//! differential suite cannot compare it).

use std::time::Duration;

use mesos_http::{Client, Error};
use mesos_local::LocalCluster;
use mesos_proto::builders::CommandInfoBuilder;
use mesos_proto::v1::agent;
use mesos_proto::v1::master::call::{self, Type as CallType};
use mesos_proto::v1::master::response::Type as ResponseType;
use mesos_proto::v1::master::{event, Call, Event, Response};
use mesos_proto::v1::{FrameworkInfo, TaskInfo, TaskState};
use mesos_proto::MediaType;
use mesos_test_support::scheduler::RawScheduler;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SOON: Duration = Duration::from_secs(20);

async fn cluster(
    configure: impl FnOnce(mesos_local::LocalClusterBuilder) -> mesos_local::LocalClusterBuilder,
) -> LocalCluster {
    mesos_test_support::init_tracing();
    configure(LocalCluster::builder())
        .start()
        .await
        .unwrap_or_else(|e| panic!("the cluster starts: {}", mesos_http::error_chain(&e)))
}

fn client(media: MediaType) -> Client {
    Client::builder()
        .media_type(media)
        .request_timeout(SOON)
        .build()
        .expect("a client")
}

fn operator_url(cluster: &LocalCluster) -> http::Uri {
    format!("{}/api/v1", cluster.master_url())
        .parse()
        .expect("a URL")
}

fn call(kind: CallType) -> Call {
    Call {
        r#type: Some(kind as i32),
        ..Call::default()
    }
}

#[tokio::test]
async fn calls_it_does_not_model_answer_501_naming_the_call() {
    let cluster = cluster(|b| b).await;
    let url = operator_url(&cluster);
    let client = client(MediaType::Json);
    let mut update_weights = call(CallType::UpdateWeights);
    update_weights.update_weights = Some(call::UpdateWeights::default());
    for (call, name) in [
        (call(CallType::GetQuota), "GET_QUOTA"),
        (
            call(CallType::GetMaintenanceStatus),
            "GET_MAINTENANCE_STATUS",
        ),
        (call(CallType::GetWeights), "GET_WEIGHTS"),
        (update_weights, "UPDATE_WEIGHTS"),
    ] {
        match client.call(&url, &call, None).await {
            Err(Error::Status {
                status, message, ..
            }) => {
                assert_eq!(status, http::StatusCode::NOT_IMPLEMENTED, "{name}");
                assert!(message.contains(name), "{name}: {message}");
            }
            other => panic!("{name}: expected 501, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn get_state_decodes_in_both_media_types() {
    let cluster = cluster(|b| b.agents(2)).await;
    let url = operator_url(&cluster);
    for media in [MediaType::Json, MediaType::Protobuf] {
        let answer = client(media)
            .call(&url, &call(CallType::GetState), None)
            .await
            .unwrap_or_else(|e| panic!("GET_STATE in {media:?}: {e}"));
        assert_eq!(answer.media, Some(media));
        let response: Response = answer.decode(media).expect("a master::Response");
        assert_eq!(response.r#type, Some(ResponseType::GetState as i32));
        let agents = response
            .get_state
            .and_then(|s| s.get_agents)
            .map(|a| a.agents.len());
        assert_eq!(agents, Some(2), "{media:?}");
    }
}

#[tokio::test]
async fn subscribe_sends_the_snapshot_then_heartbeats() {
    let cluster = cluster(|b| b.heartbeat_interval(Duration::from_millis(200))).await;
    let url = operator_url(&cluster);
    let client = client(MediaType::Protobuf);
    let mut subscription = client
        .subscribe::<Call, Event>(&url, &call(CallType::Subscribe))
        .await
        .expect("SUBSCRIBE");
    let subscribed = next(&mut subscription.events).await;
    assert_eq!(subscribed.r#type, Some(event::Type::Subscribed as i32));
    let subscribed = subscribed.subscribed.expect("SUBSCRIBED");
    assert_eq!(subscribed.heartbeat_interval_seconds, Some(0.2));
    let agents = subscribed
        .get_state
        .and_then(|s| s.get_agents)
        .map(|a| a.agents.len());
    assert_eq!(agents, Some(1));
    let heartbeat = next(&mut subscription.events).await;
    assert_eq!(heartbeat.r#type, Some(event::Type::Heartbeat as i32));
}

/// The next event within [`SOON`].
async fn next(events: &mut mesos_http::EventStream<Event>) -> Event {
    tokio::time::timeout(SOON, futures::StreamExt::next(events))
        .await
        .expect("an event in time")
        .expect("the stream goes on")
        .expect("a decodable event")
}

/// Opens an operator subscription on a socket with a small receive
/// buffer, reads the response head, and returns the socket unread.
async fn stalled_subscriber(cluster: &LocalCluster) -> tokio::net::TcpStream {
    let addr: std::net::SocketAddr = cluster
        .master_url()
        .trim_start_matches("http://")
        .parse()
        .expect("an address");
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket.set_recv_buffer_size(4096).expect("a small buffer");
    let mut stream = socket.connect(addr).await.expect("connects");
    let body = r#"{"type":"SUBSCRIBE"}"#;
    let request = format!(
        "POST /api/v1 HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Accept: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("sent");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let read = tokio::time::timeout(SOON, stream.read(&mut byte))
            .await
            .expect("the head in time")
            .expect("read");
        assert_eq!(read, 1, "the head is complete");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    stream
}

#[tokio::test]
async fn a_subscriber_that_stops_reading_is_cut_and_the_master_goes_on() {
    let cluster = cluster(|b| b.max_queued_events(16)).await;
    let mut stalled = stalled_subscriber(&cluster).await;
    // Frameworks with large FrameworkInfos come and go: each makes a
    // FRAMEWORK_ADDED and a FRAMEWORK_REMOVED of about 64 KiB, far more
    // than the socket buffers and the queue hold, and every call is still
    // answered at once.
    let scheduler_url: http::Uri = format!("{}/api/v1/scheduler", cluster.master_url())
        .parse()
        .expect("a URL");
    let client = client(MediaType::Json);
    let name = "x".repeat(64 * 1024);
    for _ in 0..200 {
        let info = FrameworkInfo::builder("root", name.as_str())
            .build()
            .expect("a FrameworkInfo");
        let subscribe = mesos_proto::v1::scheduler::Call {
            r#type: Some(mesos_proto::v1::scheduler::call::Type::Subscribe as i32),
            subscribe: Some(mesos_proto::v1::scheduler::call::Subscribe {
                framework_info: info,
                ..Default::default()
            }),
            ..Default::default()
        };
        let subscription = tokio::time::timeout(
            SOON,
            client.subscribe::<_, mesos_proto::v1::scheduler::Event>(&scheduler_url, &subscribe),
        )
        .await
        .expect("the master answers while a subscriber stalls")
        .expect("SUBSCRIBE");
        drop(subscription);
    }
    let health = client
        .call(&operator_url(&cluster), &call(CallType::GetHealth), None)
        .await
        .expect("GET_HEALTH");
    assert_eq!(health.status, http::StatusCode::OK);
    // The stalled stream was cut: reading it now reaches its end (what
    // the buffers held, then the end of the chunked body), where a live
    // stream would wait for its next heartbeat.
    let mut buf = vec![0u8; 64 * 1024];
    let mut tail = Vec::new();
    let ended = tokio::time::timeout(SOON, async {
        loop {
            match stalled.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    tail.extend_from_slice(&buf[..n]);
                    if tail.ends_with(b"0\r\n\r\n") {
                        return;
                    }
                    let keep = tail.len().saturating_sub(16);
                    tail.drain(..keep);
                }
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the stalled subscription was not cut");
}

/// Subscribes a framework and launches a command task running `command`
/// on its first offer; returns it once the task runs.
async fn running_task(cluster: &LocalCluster, task_id: &str, command: &str) -> RawScheduler {
    let mut scheduler = RawScheduler::subscribe(cluster.master_url(), "root", "operator").await;
    let offer = loop {
        let event = tokio::time::timeout(SOON, scheduler.next_event())
            .await
            .expect("an event in time")
            .expect("the stream goes on");
        if let Some(offer) = event.offers.and_then(|o| o.offers.into_iter().next()) {
            break offer;
        }
    };
    let task = TaskInfo::builder("operator", task_id)
        .agent_id(&offer.agent_id)
        .cpus(0.1)
        .mem(32.0)
        .command(CommandInfoBuilder::shell(command))
        .build()
        .expect("a task");
    scheduler.launch(&offer, vec![task]).await;
    loop {
        let event = tokio::time::timeout(SOON, scheduler.next_event())
            .await
            .expect("an update in time")
            .expect("the stream goes on");
        let Some(update) = event.update else { continue };
        scheduler.acknowledge(&update.status).await;
        if update.status.state() == TaskState::TaskRunning {
            return scheduler;
        }
    }
}

/// The agent's operator API URL (`http://ip:port/slave(1)/api/v1`).
fn agent_url(cluster: &LocalCluster) -> http::Uri {
    let state = cluster.state();
    let pid = state["slaves"][0]["pid"].as_str().expect("a pid");
    let (name, address) = pid.split_once('@').expect("a pid");
    format!("http://{address}/{name}/api/v1")
        .parse()
        .expect("a URL")
}

#[tokio::test]
async fn read_file_reads_a_running_tasks_sandbox() {
    let cluster = cluster(|b| b).await;
    let scheduler = running_task(&cluster, "reader", "echo hello-operator; sleep 600").await;
    let framework_id = scheduler.framework_id().expect("subscribed").value.clone();
    let url = agent_url(&cluster);
    let client = client(MediaType::Protobuf);
    let read = |path: String, offset: u64, length: Option<u64>| agent::Call {
        r#type: Some(agent::call::Type::ReadFile as i32),
        read_file: Some(agent::call::ReadFile {
            path,
            offset,
            length,
        }),
        ..agent::Call::default()
    };
    let stdout = format!("/frameworks/{framework_id}/executors/reader/runs/latest/stdout");
    // The output reaches the file shortly after TASK_RUNNING.
    let deadline = tokio::time::Instant::now() + SOON;
    let file = loop {
        let answer = client
            .call(&url, &read(stdout.clone(), 0, None), None)
            .await
            .expect("READ_FILE");
        let response: agent::Response = answer.decode(MediaType::Protobuf).expect("decodes");
        let file = response.read_file.expect("read_file");
        if file.data.starts_with(b"hello-operator") || tokio::time::Instant::now() > deadline {
            break file;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        file.data.starts_with(b"hello-operator\n"),
        "stdout: {:?}",
        String::from_utf8_lossy(&file.data)
    );
    assert!(file.size >= 15);
    let answer = client
        .call(&url, &read(stdout.clone(), 6, Some(8)), None)
        .await
        .expect("READ_FILE at an offset");
    let part: agent::Response = answer.decode(MediaType::Protobuf).expect("decodes");
    assert_eq!(
        part.read_file.expect("read_file").data.as_ref(),
        b"operator"
    );
    for path in [
        format!(
            "/frameworks/{framework_id}/executors/reader/runs/latest/../../../../../etc/passwd"
        ),
        "/etc/passwd".to_string(),
    ] {
        match client.call(&url, &read(path.clone(), 0, None), None).await {
            Err(Error::Status { status, .. }) => {
                assert_eq!(status, http::StatusCode::NOT_FOUND, "{path}")
            }
            other => panic!("{path}: expected 404, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn mark_agent_gone_removes_it_and_subscribers_hear_of_it() {
    let cluster = cluster(|b| b.agents(2)).await;
    let url = operator_url(&cluster);
    let client = client(MediaType::Json);
    let mut subscription = client
        .subscribe::<Call, Event>(&url, &call(CallType::Subscribe))
        .await
        .expect("SUBSCRIBE");
    assert_eq!(
        next(&mut subscription.events).await.r#type,
        Some(event::Type::Subscribed as i32)
    );
    let agent_id = cluster.agent_ids()[1].clone();
    let mut gone = call(CallType::MarkAgentGone);
    gone.mark_agent_gone = Some(call::MarkAgentGone {
        agent_id: agent_id.clone(),
    });
    for _ in 0..2 {
        let answer = client
            .call(&url, &gone, None)
            .await
            .expect("MARK_AGENT_GONE");
        assert_eq!(
            answer.status,
            http::StatusCode::OK,
            "twice: the second is a no-op"
        );
    }
    let removed = loop {
        let event = next(&mut subscription.events).await;
        if event.r#type == Some(event::Type::AgentRemoved as i32) {
            break event;
        }
    };
    assert_eq!(removed.agent_removed.map(|r| r.agent_id), Some(agent_id));
    let answer = client
        .call(&url, &call(CallType::GetAgents), None)
        .await
        .expect("GET_AGENTS");
    let response: Response = answer.decode(MediaType::Json).expect("decodes");
    assert_eq!(response.get_agents.map(|a| a.agents.len()), Some(1));
}

#[tokio::test]
async fn tasks_of_an_agent_marked_gone_end_as_the_real_master_ends_them() {
    let cluster = cluster(|b| b).await;
    let url = operator_url(&cluster);
    let client = client(MediaType::Json);
    let mut scheduler = running_task(&cluster, "doomed", "sleep 600").await;
    let mut subscription = client
        .subscribe::<Call, Event>(&url, &call(CallType::Subscribe))
        .await
        .expect("SUBSCRIBE");
    next(&mut subscription.events).await;
    let mut gone = call(CallType::MarkAgentGone);
    gone.mark_agent_gone = Some(call::MarkAgentGone {
        agent_id: cluster.agent_ids()[0].clone(),
    });
    client
        .call(&url, &gone, None)
        .await
        .expect("MARK_AGENT_GONE");
    let status = loop {
        let event = tokio::time::timeout(SOON, scheduler.next_event())
            .await
            .expect("an update in time")
            .expect("the stream goes on");
        if let Some(update) = event.update {
            break update.status;
        }
    };
    assert_eq!(status.state(), TaskState::TaskLost);
    assert_eq!(
        status.reason(),
        mesos_proto::v1::task_status::Reason::AgentRemoved
    );
    assert_eq!(
        status.message.as_deref(),
        Some("Agent has been marked gone")
    );
    let mut seen = Vec::new();
    while !seen.contains(&event::Type::AgentRemoved) {
        let event = next(&mut subscription.events).await;
        let kind = event::Type::try_from(event.r#type.unwrap_or_default()).expect("a type");
        if kind == event::Type::TaskUpdated {
            let updated = event.task_updated.expect("task_updated");
            assert_eq!(updated.state, TaskState::TaskLost as i32);
        }
        if kind != event::Type::Heartbeat {
            seen.push(kind);
        }
    }
    assert_eq!(
        seen,
        [event::Type::TaskUpdated, event::Type::AgentRemoved],
        "what subscribers hear"
    );
}

#[tokio::test]
async fn reservations_show_in_the_master_state_until_unreserved() {
    let cluster = cluster(|b| b).await;
    let url = operator_url(&cluster);
    let client = client(MediaType::Protobuf);
    let agent_id = cluster.agent_ids()[0].clone();
    let reserved = vec![mesos_proto::resources::scalar("cpus", 1.0)];
    let reserved: Vec<_> = reserved
        .into_iter()
        .map(|mut r| {
            r.reservations
                .push(mesos_proto::resources::dynamic_reservation("ops", None));
            r
        })
        .collect();
    let mut reserve = call(CallType::ReserveResources);
    reserve.reserve_resources = Some(call::ReserveResources {
        agent_id: agent_id.clone(),
        source: Vec::new(),
        resources: reserved.clone(),
    });
    let answer = client.call(&url, &reserve, None).await.expect("RESERVE");
    assert_eq!(answer.status, http::StatusCode::ACCEPTED);
    let state = cluster.state();
    assert_eq!(state["slaves"][0]["reserved_resources"]["ops"]["cpus"], 1.0);
    assert_eq!(state["slaves"][0]["unreserved_resources"]["cpus"], 3.0);
    let mut unreserve = call(CallType::UnreserveResources);
    unreserve.unreserve_resources = Some(call::UnreserveResources {
        agent_id,
        resources: reserved,
    });
    let answer = client
        .call(&url, &unreserve, None)
        .await
        .expect("UNRESERVE");
    assert_eq!(answer.status, http::StatusCode::ACCEPTED);
    let state = cluster.state();
    assert_eq!(
        state["slaves"][0]["reserved_resources"],
        serde_json::json!({})
    );
    assert_eq!(state["slaves"][0]["unreserved_resources"]["cpus"], 4.0);
}
