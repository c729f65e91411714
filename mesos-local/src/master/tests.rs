//! Master tests: a real `Master` on loopback, driven over HTTP with the
//! SDK's client, and fake agents (channels read by the test) standing in
//! for the agent side.

use std::collections::BTreeSet;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use mesos_http::{Client, EventStream};
use mesos_proto::v1::framework_info::capability::Type as FrameworkCapability;
use mesos_proto::v1::framework_info::Capability;
use mesos_proto::v1::scheduler::call::Type as CallType;
use mesos_proto::v1::scheduler::event::Type as EventType;
use mesos_proto::v1::scheduler::{call, Call, Event};
use mesos_proto::v1::task_status::{Reason, Source};
use mesos_proto::v1::{
    AgentId, AgentInfo, CommandInfo, ExecutorId, ExecutorInfo, Filters, FrameworkId, FrameworkInfo,
    Offer, OfferId, Resource, TaskId, TaskInfo, TaskState, TaskStatus,
};
use mesos_proto::{MediaType, Resources};
use mesos_scheduler::calls;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Master, MasterConfig};
use crate::protocol::{AgentLink, FromAgent, ToAgent};

const MASTER_ID: &str = "11111111-2222-3333-4444-555555555555";
const WAIT: Duration = Duration::from_secs(5);

/// The real master's SUBSCRIBED and OFFERS (JSON, a framework without
/// capabilities), from `shared/mesos-samples/subscribe-stream.recordio`.
const REAL_SUBSCRIBED: &str = r#"{"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"69ff3b16-b80b-4935-91da-91b346281e44-0000"},"heartbeat_interval_seconds":15.0,"master_info":{"id":"69ff3b16-b80b-4935-91da-91b346281e44","ip":16777343,"port":5050,"pid":"master@127.0.0.1:5050","hostname":"localhost","version":"1.11.0","address":{"hostname":"localhost","ip":"127.0.0.1","port":5050},"capabilities":[{"type":"AGENT_UPDATE"},{"type":"AGENT_DRAINING"},{}]}}}"#;
const REAL_OFFERS: &str = r#"{"type":"OFFERS","offers":{"offers":[{"id":{"value":"69ff3b16-b80b-4935-91da-91b346281e44-O0"},"framework_id":{"value":"69ff3b16-b80b-4935-91da-91b346281e44-0000"},"agent_id":{"value":"69ff3b16-b80b-4935-91da-91b346281e44-S0"},"hostname":"localhost","url":{"scheme":"http","address":{"hostname":"localhost","ip":"127.0.0.1","port":5050},"path":"/slave(1)"},"resources":[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":32000}]},"role":"*"},{"name":"cpus","type":"SCALAR","scalar":{"value":4.0},"role":"*"},{"name":"mem","type":"SCALAR","scalar":{"value":4096.0},"role":"*"},{"name":"disk","type":"SCALAR","scalar":{"value":10000.0},"role":"*"}]}]}}"#;
/// The same for a MULTI_ROLE framework (`launch-scheduler-events.jsonl`).
const REAL_OFFERS_MULTI_ROLE: &str = r#"{"offers": {"offers": [{"agent_id": {"value": "2795a194-70dd-4d84-b261-fd5c42d3e610-S0"}, "allocation_info": {"role": "*"}, "framework_id": {"value": "2795a194-70dd-4d84-b261-fd5c42d3e610-0000"}, "hostname": "localhost", "id": {"value": "2795a194-70dd-4d84-b261-fd5c42d3e610-O0"}, "resources": [{"allocation_info": {"role": "*"}, "name": "ports", "ranges": {"range": [{"begin": 31000, "end": 32000}]}, "role": "*", "type": "RANGES"}, {"allocation_info": {"role": "*"}, "name": "cpus", "role": "*", "scalar": {"value": 4.0}, "type": "SCALAR"}, {"allocation_info": {"role": "*"}, "name": "mem", "role": "*", "scalar": {"value": 4096.0}, "type": "SCALAR"}, {"allocation_info": {"role": "*"}, "name": "disk", "role": "*", "scalar": {"value": 10000.0}, "type": "SCALAR"}], "url": {"address": {"hostname": "localhost", "ip": "127.0.0.1", "port": 5050}, "path": "/slave(1)", "scheme": "http"}}]}, "type": "OFFERS"}"#;

// ---------------------------------------------------------------------------
// Harness

struct Harness {
    master: Master,
    agents: Vec<mpsc::UnboundedReceiver<ToAgent>>,
    to_master: mpsc::UnboundedSender<FromAgent>,
    shutdown: CancellationToken,
    client: Client,
    url: http::Uri,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

struct Options {
    agents: usize,
    resources: &'static str,
    offer_timeout: Option<Duration>,
    allocation_interval: Duration,
    heartbeat: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            agents: 1,
            resources: "cpus:4;mem:4096;disk:10000;ports:[31000-32000]",
            offer_timeout: None,
            allocation_interval: Duration::from_secs(3600),
            heartbeat: Duration::from_secs(15),
        }
    }
}

fn agent_id(index: usize) -> AgentId {
    AgentId {
        value: format!("{MASTER_ID}-S{index}"),
    }
}

async fn start(options: Options) -> Harness {
    let resources: Resources = options.resources.parse().expect("resources");
    let mut links = Vec::new();
    let mut agents = Vec::new();
    for index in 0..options.agents {
        let (tx, rx) = mpsc::unbounded_channel();
        let port = 40000 + index as i32;
        links.push(AgentLink {
            info: AgentInfo {
                hostname: "localhost".into(),
                port: Some(port),
                resources: resources.clone().into_vec(),
                id: Some(agent_id(index)),
                ..AgentInfo::default()
            },
            pid: format!("slave({})@127.0.0.1:{port}", index + 1),
            tx,
        });
        agents.push(rx);
    }
    let (to_master, from_agents) = mpsc::unbounded_channel();
    let shutdown = CancellationToken::new();
    let master = Master::start(
        MasterConfig {
            ip: "127.0.0.1".parse().expect("ip"),
            port: 0,
            master_id: MASTER_ID.into(),
            heartbeat_interval: options.heartbeat,
            allocation_interval: options.allocation_interval,
            offer_timeout: options.offer_timeout,
        },
        links,
        from_agents,
        shutdown.clone(),
    )
    .await
    .expect("master starts");
    let client = Client::builder()
        .media_type(MediaType::Json)
        .build()
        .expect("client");
    let url: http::Uri = format!("{}/api/v1/scheduler", master.url)
        .parse()
        .expect("url");
    Harness {
        master,
        agents,
        to_master,
        shutdown,
        client,
        url,
    }
}

fn framework(name: &str) -> FrameworkInfo {
    FrameworkInfo {
        user: "root".into(),
        name: name.into(),
        ..FrameworkInfo::default()
    }
}

struct Sched {
    client: Client,
    url: http::Uri,
    stream_id: String,
    events: EventStream<Event>,
    id: FrameworkId,
}

fn kind(event: &Event) -> EventType {
    event.r#type()
}

impl Harness {
    async fn subscribe(&self, info: FrameworkInfo) -> Sched {
        self.subscribe_with(info, self.client.clone()).await
    }

    async fn subscribe_with(&self, info: FrameworkInfo, client: Client) -> Sched {
        let sub = client
            .subscribe::<Call, Event>(&self.url, &calls::subscribe(info))
            .await
            .expect("subscribe");
        let mut sched = Sched {
            client,
            url: self.url.clone(),
            stream_id: sub.stream_id.clone().expect("Mesos-Stream-Id"),
            events: sub.events,
            id: FrameworkId::default(),
        };
        let first = sched.raw_next().await.expect("SUBSCRIBED");
        assert_eq!(kind(&first), EventType::Subscribed, "{first:?}");
        sched.id = first.subscribed.expect("subscribed").framework_id;
        let second = sched.raw_next().await.expect("HEARTBEAT");
        assert_eq!(kind(&second), EventType::Heartbeat);
        sched
    }

    async fn agent_next(&mut self, index: usize) -> ToAgent {
        tokio::time::timeout(WAIT, self.agents[index].recv())
            .await
            .expect("agent message in time")
            .expect("agent channel open")
    }

    /// The next agent message that is not FrameworkSubscribed.
    async fn agent_next_real(&mut self, index: usize) -> ToAgent {
        loop {
            match self.agent_next(index).await {
                ToAgent::FrameworkSubscribed { .. } => continue,
                other => return other,
            }
        }
    }

    fn agent_drain(&mut self, index: usize) -> Vec<ToAgent> {
        let mut all = Vec::new();
        while let Ok(m) = self.agents[index].try_recv() {
            all.push(m);
        }
        all
    }

    fn update(
        &self,
        index: usize,
        framework_id: &FrameworkId,
        task_id: &str,
        state: TaskState,
    ) -> Bytes {
        let uuid = Bytes::copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        self.to_master
            .send(FromAgent::StatusUpdate {
                agent_id: agent_id(index),
                framework_id: framework_id.clone(),
                status: TaskStatus {
                    task_id: TaskId {
                        value: task_id.into(),
                    },
                    state: state as i32,
                    source: Some(Source::Executor as i32),
                    agent_id: Some(agent_id(index)),
                    timestamp: Some(1.0),
                    uuid: Some(uuid.clone()),
                    ..TaskStatus::default()
                },
            })
            .expect("master listens");
        uuid
    }

    /// Agent `index` reports that `executor_id` of the framework ended.
    fn executor_terminated(
        &self,
        index: usize,
        framework_id: &FrameworkId,
        executor_id: &str,
        status: Option<i32>,
    ) {
        self.to_master
            .send(FromAgent::ExecutorTerminated {
                agent_id: agent_id(index),
                framework_id: framework_id.clone(),
                executor_id: ExecutorId {
                    value: executor_id.into(),
                },
                status,
            })
            .expect("master listens");
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let mut stream = tokio::net::TcpStream::connect(self.master.addr)
            .await
            .expect("connect");
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.expect("read");
        let text = String::from_utf8_lossy(&response).to_string();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        // Chunked bodies: keep the JSON between the first '{' and the last '}'.
        let body = match (body.find('{'), body.rfind('}')) {
            (Some(a), Some(b)) if body.contains("\r\n") => body[a..=b].to_string(),
            _ => body,
        };
        (status, body)
    }
}

impl Sched {
    async fn raw_next(&mut self) -> Option<Event> {
        match tokio::time::timeout(WAIT, self.events.next()).await {
            Ok(Some(Ok(event))) => Some(event),
            Ok(Some(Err(e))) => panic!("stream error: {e}"),
            Ok(None) => None,
            Err(_) => panic!("no event within {WAIT:?}"),
        }
    }

    /// The next event that is not a HEARTBEAT.
    async fn next(&mut self) -> Event {
        loop {
            let event = self.raw_next().await.expect("stream open");
            if kind(&event) != EventType::Heartbeat {
                return event;
            }
        }
    }

    async fn next_of(&mut self, wanted: EventType) -> Event {
        loop {
            let event = self.next().await;
            if kind(&event) == wanted {
                return event;
            }
        }
    }

    async fn offers(&mut self) -> Vec<Offer> {
        self.next_of(EventType::Offers)
            .await
            .offers
            .expect("offers")
            .offers
    }

    async fn update(&mut self) -> TaskStatus {
        self.next_of(EventType::Update)
            .await
            .update
            .expect("update")
            .status
    }

    /// Asserts no event of `wanted` arrives within `within`.
    async fn none_of(&mut self, wanted: EventType, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.events.next()).await {
                Err(_) => return,
                Ok(Some(Ok(event))) => assert_ne!(kind(&event), wanted, "unexpected {event:?}"),
                Ok(_) => return,
            }
        }
    }

    /// Reads to the end of the stream; returns the events seen.
    async fn until_closed(&mut self) -> Vec<Event> {
        let mut seen = Vec::new();
        while let Some(event) = self.raw_next().await {
            seen.push(event);
        }
        seen
    }

    async fn call(&self, mut call: Call) -> Result<mesos_http::CallResponse, mesos_http::Error> {
        call.framework_id = Some(self.id.clone());
        self.client
            .call(&self.url, &call, Some(&self.stream_id))
            .await
    }

    async fn ok(&self, call: Call) {
        let kind = call.r#type();
        let response = self
            .call(call)
            .await
            .unwrap_or_else(|e| panic!("{kind:?} refused: {e}"));
        assert!(response.status.is_success());
    }
}

fn error_text(error: &mesos_http::Error) -> (u16, String) {
    let status = error.status().map(|s| s.as_u16()).unwrap_or(0);
    let message = match error {
        mesos_http::Error::BadRequest { message, .. }
        | mesos_http::Error::Forbidden { message, .. }
        | mesos_http::Error::Status { message, .. } => message.clone(),
        other => other.to_string(),
    };
    (status, message)
}

fn cpus_mem(cpus: f64, mem: f64) -> Vec<Resource> {
    Resources::new().with_cpus(cpus).with_mem(mem).into_vec()
}

fn command_task(id: &str, agent: &AgentId, resources: Vec<Resource>) -> TaskInfo {
    TaskInfo {
        name: id.into(),
        task_id: TaskId { value: id.into() },
        agent_id: agent.clone(),
        resources,
        command: Some(CommandInfo {
            value: Some("sleep 100".into()),
            ..CommandInfo::default()
        }),
        ..TaskInfo::default()
    }
}

fn offer_ids(offers: &[Offer]) -> Vec<OfferId> {
    offers.iter().map(|o| o.id.clone()).collect()
}

fn refuse(seconds: f64) -> Option<Filters> {
    Some(Filters {
        refuse_seconds: Some(seconds),
    })
}

/// All key paths of a JSON document (array items merged).
fn shape(value: &serde_json::Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let path = format!("{prefix}.{k}");
                out.insert(path.clone());
                shape(v, &path, out);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                shape(item, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

fn json_shape(text: &str) -> BTreeSet<String> {
    let value: serde_json::Value = serde_json::from_str(text).expect("json");
    let mut out = BTreeSet::new();
    shape(&value, "", &mut out);
    out
}

fn event_shape(event: &Event) -> (BTreeSet<String>, serde_json::Value) {
    let bytes = MediaType::Json.encode(event).expect("encode");
    let text = String::from_utf8_lossy(&bytes).to_string();
    (
        json_shape(&text),
        serde_json::from_str(&text).expect("json"),
    )
}

/// Launches one command task on the first offer; returns its agent id.
async fn launch(h: &mut Harness, s: &mut Sched, task_id: &str) -> AgentId {
    let offers = s.offers().await;
    let agent = offers[0].agent_id.clone();
    let task = command_task(task_id, &agent, cpus_mem(1.0, 128.0));
    s.ok(calls::launch(
        vec![offers[0].id.clone()],
        vec![task],
        refuse(0.0),
    ))
    .await;
    match h.agent_next_real(0).await {
        ToAgent::RunTask { task, framework } => {
            assert_eq!(task.task_id.value, task_id);
            assert_eq!(framework.id.as_ref(), Some(&s.id));
        }
        other => panic!("expected RunTask, got {other:?}"),
    }
    agent
}

// ---------------------------------------------------------------------------
// Tests

#[tokio::test]
async fn master_subscribe_events_have_the_real_masters_shape() {
    let h = start(Options::default()).await;
    let sub = h
        .client
        .subscribe::<Call, Event>(&h.url, &calls::subscribe(framework("shape")))
        .await
        .expect("subscribe");
    let stream_id = sub.stream_id.clone().expect("stream id");
    assert!(uuid::Uuid::parse_str(&stream_id).is_ok(), "{stream_id}");
    let mut s = Sched {
        client: h.client.clone(),
        url: h.url.clone(),
        stream_id,
        events: sub.events,
        id: FrameworkId::default(),
    };
    let subscribed = s.raw_next().await.expect("SUBSCRIBED");
    s.id = subscribed
        .subscribed
        .clone()
        .expect("subscribed")
        .framework_id;
    let (ours, value) = event_shape(&subscribed);
    assert_eq!(ours, json_shape(REAL_SUBSCRIBED));
    assert_eq!(
        value["subscribed"]["framework_id"]["value"],
        format!("{MASTER_ID}-0000")
    );
    assert_eq!(value["subscribed"]["master_info"]["ip"], 16777343);
    assert_eq!(value["subscribed"]["master_info"]["version"], "1.11.0");
    assert_eq!(value["subscribed"]["master_info"]["hostname"], "localhost");
    assert_eq!(
        value["subscribed"]["master_info"]["pid"],
        format!("master@{}", h.master.addr)
    );
    assert_eq!(
        kind(&s.raw_next().await.expect("HEARTBEAT")),
        EventType::Heartbeat
    );
    let offers = s.next_of(EventType::Offers).await;
    let (ours, value) = event_shape(&offers);
    assert_eq!(ours, json_shape(REAL_OFFERS));
    let offer = &value["offers"]["offers"][0];
    assert_eq!(offer["id"]["value"], format!("{MASTER_ID}-O0"));
    assert_eq!(offer["url"]["path"], "/slave(1)");
    assert_eq!(offer["url"]["address"]["port"], 40000);
    assert_eq!(offer["resources"][0]["role"], "*");

    // A MULTI_ROLE framework gets allocation_info as well.
    let mut info = framework("multi");
    info.roles = vec!["*".into()];
    info.capabilities = vec![Capability {
        r#type: Some(FrameworkCapability::MultiRole as i32),
    }];
    let mut s2 = h.subscribe(info).await;
    s.ok(calls::decline(
        vec![OfferId {
            value: format!("{MASTER_ID}-O0"),
        }],
        refuse(60.0),
    ))
    .await;
    let offers = s2.next_of(EventType::Offers).await;
    let (ours, _) = event_shape(&offers);
    assert_eq!(ours, json_shape(REAL_OFFERS_MULTI_ROLE));
}

#[tokio::test]
async fn master_protobuf_subscription_works() {
    let h = start(Options::default()).await;
    let client = Client::builder()
        .media_type(MediaType::Protobuf)
        .build()
        .expect("client");
    let mut s = h.subscribe_with(framework("pb"), client).await;
    assert_eq!(s.offers().await.len(), 1);
    s.ok(calls::reconcile(vec![])).await;
}

#[tokio::test]
async fn master_stream_id_and_subscription_are_enforced() {
    let h = start(Options::default()).await;
    let mut info = framework("enforce");
    info.failover_timeout = Some(60.0);
    let s = h.subscribe(info).await;
    let mut call = calls::reconcile(vec![]);
    call.framework_id = Some(s.id.clone());

    let missing = h
        .client
        .call(&h.url, &call, None)
        .await
        .expect_err("no stream id");
    assert_eq!(
        error_text(&missing),
        (
            400,
            "All non-subscribe calls should include the 'Mesos-Stream-Id' header".into()
        )
    );
    let wrong = h
        .client
        .call(&h.url, &call, Some("bogus"))
        .await
        .expect_err("wrong stream id");
    assert_eq!(
        error_text(&wrong),
        (
            400,
            format!(
                "The stream ID 'bogus' included in this request didn't match the stream ID currently associated with framework ID {}",
                s.id.value
            )
        )
    );
    let mut unknown = call.clone();
    unknown.framework_id = Some(FrameworkId {
        value: "nope".into(),
    });
    let e = h
        .client
        .call(&h.url, &unknown, Some(&s.stream_id))
        .await
        .expect_err("unknown framework");
    assert_eq!(error_text(&e), (400, "Framework cannot be found".into()));
    let mut no_id = call.clone();
    no_id.framework_id = None;
    let e = h
        .client
        .call(&h.url, &no_id, Some(&s.stream_id))
        .await
        .expect_err("no framework id");
    assert_eq!(
        error_text(&e),
        (
            400,
            "Failed to validate scheduler::Call: Expecting 'framework_id' to be present".into()
        )
    );
    // The /master/api/v1/scheduler alias works too.
    let alias: http::Uri = format!("{}/master/api/v1/scheduler", h.master.url)
        .parse()
        .expect("url");
    let ok = h
        .client
        .call(&alias, &call, Some(&s.stream_id))
        .await
        .expect("alias");
    assert_eq!(ok.status.as_u16(), 202);

    // Disconnected (failover_timeout 60 s): 403 until it resubscribes.
    let stream_id = s.stream_id.clone();
    drop(s);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let e = h
        .client
        .call(&h.url, &call, Some(&stream_id))
        .await
        .expect_err("not subscribed");
    assert_eq!(error_text(&e), (403, "Framework is not subscribed".into()));
}

#[tokio::test]
async fn master_launch_runs_task_forwards_updates_and_acks() {
    let mut h = start(Options::default()).await;
    let mut s = h.subscribe(framework("launch")).await;
    let agent = launch(&mut h, &mut s, "t1").await;

    let state = h.master.state_json();
    let task = &state["frameworks"][0]["tasks"][0];
    assert_eq!(task["state"], "TASK_STAGING");
    assert_eq!(task["slave_id"], agent.value);
    assert_eq!(state["frameworks"][0]["used_resources"]["cpus"], 1.0);

    let uuid = h.update(0, &s.id, "t1", TaskState::TaskRunning);
    let status = s.update().await;
    assert_eq!(status.state(), TaskState::TaskRunning);
    assert_eq!(status.uuid.as_ref(), Some(&uuid));
    s.ok(calls::acknowledge(
        agent.clone(),
        TaskId { value: "t1".into() },
        uuid.clone(),
    ))
    .await;
    match h.agent_next_real(0).await {
        ToAgent::StatusUpdateAcknowledged {
            task_id,
            uuid: acked,
            framework_id,
        } => {
            assert_eq!(task_id.value, "t1");
            assert_eq!(acked, uuid);
            assert_eq!(framework_id, s.id);
        }
        other => panic!("expected an acknowledgement, got {other:?}"),
    }
    assert_eq!(
        h.master.state_json()["frameworks"][0]["tasks"][0]["state"],
        "TASK_RUNNING"
    );

    h.update(0, &s.id, "t1", TaskState::TaskFinished);
    assert_eq!(s.update().await.state(), TaskState::TaskFinished);
    let state = h.master.state_json();
    assert_eq!(
        state["frameworks"][0]["tasks"].as_array().map(Vec::len),
        Some(0)
    );
    assert_eq!(
        state["frameworks"][0]["completed_tasks"][0]["state"],
        "TASK_FINISHED"
    );
    assert_eq!(
        state["frameworks"][0]["completed_tasks"][0]["statuses"][1]["state"],
        "TASK_FINISHED"
    );
    assert_eq!(state["slaves"][0]["used_resources"]["cpus"], 0.0);
}

#[tokio::test]
async fn master_resent_updates_do_not_pile_up_in_statuses() {
    let mut h = start(Options::default()).await;
    let mut s = h.subscribe(framework("resends")).await;
    launch(&mut h, &mut s, "t1").await;
    for _ in 0..3 {
        h.update(0, &s.id, "t1", TaskState::TaskRunning);
        assert_eq!(s.update().await.state(), TaskState::TaskRunning);
    }
    let statuses = |h: &Harness, list: &str| -> Vec<String> {
        h.master.state_json()["frameworks"][0][list][0]["statuses"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| s["state"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(statuses(&h, "tasks"), ["TASK_RUNNING"]);
    h.update(0, &s.id, "t1", TaskState::TaskFinished);
    assert_eq!(s.update().await.state(), TaskState::TaskFinished);
    assert_eq!(
        statuses(&h, "completed_tasks"),
        ["TASK_RUNNING", "TASK_FINISHED"]
    );
}

#[tokio::test]
async fn master_accept_remainder_is_reoffered_after_filter() {
    let mut h = start(Options::default()).await;
    let mut s = h.subscribe(framework("remainder")).await;
    let offers = s.offers().await;
    let task = command_task("t", &offers[0].agent_id, cpus_mem(1.0, 128.0));
    s.ok(calls::launch(offer_ids(&offers), vec![task], refuse(0.0)))
        .await;
    let _ = h.agent_next_real(0).await;
    let offers = s.offers().await;
    let left: Resources = offers[0].resources.clone().into();
    assert_eq!(left.cpus(), Some(3.0));
    assert_eq!(left.mem(), Some(3968.0));
}

#[tokio::test]
async fn master_decline_filter_holds_until_revive() {
    let h = start(Options::default()).await;
    let mut s = h.subscribe(framework("decline")).await;
    let offers = s.offers().await;
    s.ok(calls::decline(offer_ids(&offers), refuse(60.0))).await;
    h.master.trigger_allocation();
    s.none_of(EventType::Offers, Duration::from_millis(500))
        .await;
    s.ok(calls::revive(vec![])).await;
    let offers = s.offers().await;
    assert_eq!(offers.len(), 1);

    // A short filter expires on its own.
    s.ok(calls::decline(offer_ids(&offers), refuse(0.3))).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    h.master.trigger_allocation();
    assert_eq!(s.offers().await.len(), 1);
}

#[tokio::test]
async fn master_suppress_stops_offers_until_revive() {
    let h = start(Options::default()).await;
    let mut s = h.subscribe(framework("suppress")).await;
    let offers = s.offers().await;
    s.ok(calls::suppress(vec![])).await;
    s.ok(calls::decline(offer_ids(&offers), refuse(0.0))).await;
    h.master.trigger_allocation();
    s.none_of(EventType::Offers, Duration::from_millis(500))
        .await;
    s.ok(calls::revive(vec!["*".into()])).await;
    assert_eq!(s.offers().await.len(), 1);
}

#[tokio::test]
async fn master_invalid_tasks_get_task_error() {
    let mut h = start(Options::default()).await;
    let mut s = h.subscribe(framework("invalid")).await;
    let offers = s.offers().await;
    let agent = offers[0].agent_id.clone();
    let mut both = command_task("both", &agent, cpus_mem(0.1, 32.0));
    both.executor = Some(Box::new(ExecutorInfo {
        executor_id: ExecutorId { value: "e".into() },
        command: Some(CommandInfo::default()),
        ..ExecutorInfo::default()
    }));
    let tasks = vec![
        command_task("ok", &agent, cpus_mem(0.1, 32.0)),
        command_task("ok", &agent, cpus_mem(0.1, 32.0)),
        command_task("big", &agent, cpus_mem(100.0, 32.0)),
        command_task("nores", &agent, vec![]),
        both,
        command_task(
            "wrong-agent",
            &AgentId {
                value: "elsewhere".into(),
            },
            cpus_mem(0.1, 32.0),
        ),
    ];
    s.ok(calls::launch(offer_ids(&offers), tasks, refuse(0.0)))
        .await;
    let mut errors = Vec::new();
    for _ in 0..5 {
        let status = s.update().await;
        assert_eq!(status.state(), TaskState::TaskError, "{status:?}");
        assert_eq!(status.source(), Source::Master);
        assert_eq!(status.reason(), Reason::TaskInvalid);
        assert!(status.uuid.is_none());
        errors.push((
            status.task_id.value.clone(),
            status.message.clone().unwrap_or_default(),
        ));
    }
    let message = |id: &str| {
        errors
            .iter()
            .find(|(t, _)| t == id)
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    };
    assert_eq!(message("ok"), "Task has duplicate ID: ok");
    assert!(
        message("big").starts_with("Total resources cpus:100"),
        "{}",
        message("big")
    );
    assert!(message("big").contains("is more than available"));
    assert_eq!(message("nores"), "Task uses no resources");
    assert_eq!(
        message("both"),
        "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present"
    );
    assert_eq!(message("wrong-agent"), "Task uses invalid agent: elsewhere");
    match h.agent_next_real(0).await {
        ToAgent::RunTask { task, .. } => assert_eq!(task.task_id.value, "ok"),
        other => panic!("expected RunTask, got {other:?}"),
    }
    // A task id still active is a duplicate in a later ACCEPT too.
    h.master.trigger_allocation();
    let offers = s.offers().await;
    s.ok(calls::launch(
        offer_ids(&offers),
        vec![command_task("ok", &agent, cpus_mem(0.1, 32.0))],
        None,
    ))
    .await;
    let status = s.update().await;
    assert_eq!(status.state(), TaskState::TaskError);
    assert_eq!(status.message.as_deref(), Some("Task has duplicate ID: ok"));
}

#[tokio::test]
async fn master_invalid_offers_lose_tasks() {
    let h = start(Options::default()).await;
    let mut s = h.subscribe(framework("invalid-offer")).await;
    let offers = s.offers().await;
    let task = command_task("t", &offers[0].agent_id, cpus_mem(0.1, 32.0));
    s.ok(calls::launch(
        vec![OfferId {
            value: "bad-offer".into(),
        }],
        vec![task.clone()],
        None,
    ))
    .await;
    let status = s.update().await;
    assert_eq!(status.state(), TaskState::TaskLost);
    assert_eq!(status.reason(), Reason::InvalidOffers);
    assert_eq!(status.source(), Source::Master);
    assert_eq!(
        status.message.as_deref(),
        Some("Task launched with invalid offers: Offer bad-offer is no longer valid")
    );
    // Only RESERVE & co.: refused outright, offers untouched.
    let reserve = mesos_proto::v1::offer::Operation {
        r#type: Some(mesos_proto::v1::offer::operation::Type::Reserve as i32),
        ..Default::default()
    };
    let e = s
        .call(calls::accept(offer_ids(&offers), vec![reserve], None))
        .await
        .expect_err("400");
    assert_eq!(
        error_text(&e),
        (
            400,
            "Operation RESERVE is not supported by mesos-local".into()
        )
    );
    assert_eq!(
        h.master.state_json()["frameworks"][0]["offers"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn master_kill_reaches_agent_and_unknown_task_is_lost() {
    let mut h = start(Options::default()).await;
    let mut s = h.subscribe(framework("kill")).await;
    launch(&mut h, &mut s, "t1").await;
    s.ok(calls::kill(TaskId { value: "t1".into() }, None, None))
        .await;
    match h.agent_next_real(0).await {
        ToAgent::KillTask {
            task_id,
            framework_id,
            ..
        } => {
            assert_eq!(task_id.value, "t1");
            assert_eq!(framework_id, s.id);
        }
        other => panic!("expected KillTask, got {other:?}"),
    }
    s.ok(calls::kill(
        TaskId {
            value: "ghost".into(),
        },
        None,
        None,
    ))
    .await;
    let status = s.update().await;
    assert_eq!(status.task_id.value, "ghost");
    assert_eq!(status.state(), TaskState::TaskLost);
    assert_eq!(status.reason(), Reason::Reconciliation);
    assert_eq!(
        status.message.as_deref(),
        Some("Reconciliation: Task is unknown")
    );
}

#[tokio::test]
async fn master_kill_of_a_terminal_unacknowledged_task_is_not_lost() {
    let mut h = start(Options::default()).await;
    let mut s = h.subscribe(framework("kill-terminal")).await;
    let agent = launch(&mut h, &mut s, "t1").await;
    let uuid = h.update(0, &s.id, "t1", TaskState::TaskKilled);
    assert_eq!(s.update().await.state(), TaskState::TaskKilled);
    // A KILL that crossed the terminal update: no contradicting TASK_LOST.
    s.ok(calls::kill(TaskId { value: "t1".into() }, None, None))
        .await;
    s.none_of(EventType::Update, Duration::from_millis(300))
        .await;
    // Once acknowledged the task is gone: a KILL is answered "unknown".
    s.ok(calls::acknowledge(
        agent,
        TaskId { value: "t1".into() },
        uuid,
    ))
    .await;
    s.ok(calls::kill(TaskId { value: "t1".into() }, None, None))
        .await;
    let status = s.update().await;
    assert_eq!(status.state(), TaskState::TaskLost);
    assert_eq!(status.reason(), Reason::Reconciliation);
}

#[tokio::test]
async fn master_reconcile_explicit_implicit_unknown() {
    let mut h = start(Options::default()).await;
    let mut s = h.subscribe(framework("reconcile")).await;
    let agent = launch(&mut h, &mut s, "t1").await;
    h.update(0, &s.id, "t1", TaskState::TaskRunning);
    assert_eq!(s.update().await.state(), TaskState::TaskRunning);

    s.ok(calls::reconcile(vec![(
        TaskId { value: "t1".into() },
        None,
    )]))
    .await;
    let status = s.update().await;
    assert_eq!(status.state(), TaskState::TaskRunning);
    assert_eq!(status.reason(), Reason::Reconciliation);
    assert_eq!(status.source(), Source::Master);
    assert_eq!(
        status.message.as_deref(),
        Some("Reconciliation: Latest task state")
    );
    assert_eq!(status.agent_id.as_ref(), Some(&agent));
    assert!(status.uuid.is_none());

    s.ok(calls::reconcile(vec![])).await;
    let status = s.update().await;
    assert_eq!(status.task_id.value, "t1");
    assert_eq!(status.state(), TaskState::TaskRunning);

    s.ok(calls::reconcile(vec![(
        TaskId {
            value: "ghost".into(),
        },
        Some(agent.clone()),
    )]))
    .await;
    let status = s.update().await;
    assert_eq!(status.task_id.value, "ghost");
    assert_eq!(status.state(), TaskState::TaskLost);
    assert_eq!(
        status.message.as_deref(),
        Some("Reconciliation: Task is unknown to the agent")
    );
}

#[tokio::test]
async fn master_failover_within_timeout_keeps_tasks() {
    let mut h = start(Options::default()).await;
    let mut info = framework("failover");
    info.failover_timeout = Some(60.0);
    let mut s = h.subscribe(info.clone()).await;
    launch(&mut h, &mut s, "t1").await;

    // A second scheduler instance takes over.
    info.id = Some(s.id.clone());
    let mut s2 = h.subscribe(info.clone()).await;
    assert_eq!(s2.id, s.id);
    assert_ne!(s2.stream_id, s.stream_id);
    let old = s.until_closed().await;
    assert!(
        old.iter().any(|e| e
            .error
            .as_ref()
            .is_some_and(|e| e.message == "Framework failed over")),
        "{old:?}"
    );
    match h.agent_next(0).await {
        ToAgent::FrameworkSubscribed { framework_id } => assert_eq!(framework_id, s.id),
        other => panic!("expected FrameworkSubscribed, got {other:?}"),
    }
    let e = s
        .call(calls::reconcile(vec![]))
        .await
        .expect_err("old stream id");
    assert_eq!(error_text(&e).0, 400);
    // Updates reach the new stream; the task is still there.
    h.update(0, &s2.id, "t1", TaskState::TaskRunning);
    assert_eq!(s2.update().await.state(), TaskState::TaskRunning);

    // Disconnect and come back within the timeout: tasks kept.
    drop(s2);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(h.master.state_json()["frameworks"][0]["connected"], false);
    let mut s3 = h.subscribe(info).await;
    s3.ok(calls::reconcile(vec![])).await;
    let status = s3.update().await;
    assert_eq!(status.task_id.value, "t1");
    assert_eq!(status.state(), TaskState::TaskRunning);
    assert!(h
        .agent_drain(0)
        .iter()
        .any(|m| matches!(m, ToAgent::FrameworkSubscribed { .. })));
}

#[tokio::test]
async fn master_teardown_closes_stream_and_removed_framework_gets_error() {
    let mut h = start(Options::default()).await;
    let mut s = h.subscribe(framework("teardown")).await;
    launch(&mut h, &mut s, "t1").await;
    s.ok(calls::teardown()).await;
    let _ = s.until_closed().await;
    match h.agent_next_real(0).await {
        ToAgent::ShutdownFramework { framework_id } => assert_eq!(framework_id, s.id),
        other => panic!("expected ShutdownFramework, got {other:?}"),
    }
    let state = h.master.state_json();
    assert_eq!(state["frameworks"].as_array().map(Vec::len), Some(0));
    assert_eq!(state["completed_frameworks"][0]["id"], s.id.value);
    assert_eq!(
        state["completed_frameworks"][0]["completed_tasks"][0]["state"],
        "TASK_KILLED"
    );
    assert_eq!(state["slaves"][0]["used_resources"]["cpus"], 0.0);
    let e = s.call(calls::reconcile(vec![])).await.expect_err("gone");
    assert_eq!(error_text(&e), (400, "Framework cannot be found".into()));

    let mut info = framework("teardown");
    info.id = Some(s.id.clone());
    let sub = h
        .client
        .subscribe::<Call, Event>(&h.url, &calls::subscribe(info))
        .await
        .expect("200");
    let mut again = Sched {
        client: h.client.clone(),
        url: h.url.clone(),
        stream_id: String::new(),
        events: sub.events,
        id: s.id.clone(),
    };
    let events = again.until_closed().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        events[0].error.as_ref().map(|e| e.message.as_str()),
        Some("Framework has been removed")
    );
}

#[tokio::test]
async fn master_disconnect_without_failover_timeout_removes_framework() {
    let mut h = start(Options::default()).await;
    let mut s = h.subscribe(framework("gone")).await;
    launch(&mut h, &mut s, "t1").await;
    let id = s.id.clone();
    drop(s);
    match h.agent_next_real(0).await {
        ToAgent::ShutdownFramework { framework_id } => assert_eq!(framework_id, id),
        other => panic!("expected ShutdownFramework, got {other:?}"),
    }
    assert_eq!(
        h.master.state_json()["completed_frameworks"][0]["id"],
        id.value
    );
}

#[tokio::test]
async fn master_fail_over_keeps_frameworks_that_resubscribe() {
    let mut h = start(Options::default()).await;
    let mut s = h.subscribe(framework("leader-change")).await;
    launch(&mut h, &mut s, "t1").await;
    h.master.fail_over();
    let _ = s.until_closed().await;
    let e = s
        .call(calls::reconcile(vec![]))
        .await
        .expect_err("stream gone");
    assert_eq!(error_text(&e), (403, "Framework is not subscribed".into()));
    assert!(!h
        .agent_drain(0)
        .iter()
        .any(|m| matches!(m, ToAgent::ShutdownFramework { .. })));
    let mut info = framework("leader-change");
    info.id = Some(s.id.clone());
    let mut s2 = h.subscribe(info).await;
    s2.ok(calls::reconcile(vec![])).await;
    assert_eq!(s2.update().await.task_id.value, "t1");

    // kill_connections: same, but failover_timeout 0 applies.
    h.master.kill_connections();
    let _ = s2.until_closed().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(h
        .agent_drain(0)
        .iter()
        .any(|m| matches!(m, ToAgent::ShutdownFramework { .. })));
}

#[tokio::test]
async fn master_fair_sharing_offers_to_the_lowest_share() {
    let mut h = start(Options {
        agents: 2,
        ..Options::default()
    })
    .await;
    let mut a = h.subscribe(framework("a")).await;
    let offers = a.offers().await;
    assert_eq!(offers.len(), 2, "one framework alone gets both agents");
    let mut b = h.subscribe(framework("b")).await;
    // `a` uses all of the first agent, gives the second back.
    let (first, second): (Vec<Offer>, Vec<Offer>) =
        offers.into_iter().partition(|o| o.agent_id == agent_id(0));
    let task = command_task("big", &agent_id(0), cpus_mem(4.0, 4096.0));
    a.ok(calls::launch(offer_ids(&first), vec![task], None))
        .await;
    let _ = h.agent_next_real(0).await;
    a.ok(calls::decline(offer_ids(&second), refuse(0.0))).await;
    let offered = b.offers().await;
    assert_eq!(offered.len(), 1);
    assert_eq!(offered[0].agent_id, agent_id(1));
    a.none_of(EventType::Offers, Duration::from_millis(300))
        .await;

    // Two fresh frameworks split two agents.
    let h2 = start(Options {
        agents: 2,
        ..Options::default()
    })
    .await;
    let mut c = h2.subscribe(framework("c")).await;
    let all = c.offers().await;
    let mut d = h2.subscribe(framework("d")).await;
    c.ok(calls::decline(offer_ids(&all), refuse(0.0))).await;
    let mut got = std::collections::HashMap::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while got.len() < 2 && tokio::time::Instant::now() < deadline {
        tokio::select! {
            event = c.next_of(EventType::Offers) => { got.entry("c").or_insert(event.offers.map(|o| o.offers.len()).unwrap_or(0)); }
            event = d.next_of(EventType::Offers) => { got.entry("d").or_insert(event.offers.map(|o| o.offers.len()).unwrap_or(0)); }
        }
    }
    assert_eq!(got.get("c"), Some(&1), "{got:?}");
    assert_eq!(got.get("d"), Some(&1), "{got:?}");
}

#[tokio::test]
async fn master_offer_timeout_rescinds() {
    let h = start(Options {
        offer_timeout: Some(Duration::from_millis(300)),
        ..Options::default()
    })
    .await;
    let mut s = h.subscribe(framework("timeout")).await;
    let offers = s.offers().await;
    let rescind = s.next_of(EventType::Rescind).await;
    assert_eq!(
        rescind.rescind.map(|r| r.offer_id),
        Some(offers[0].id.clone())
    );
    // Recovered and offered again.
    assert_eq!(s.offers().await.len(), 1);
}

#[tokio::test]
async fn master_agent_messages_reach_the_scheduler() {
    let mut h = start(Options::default()).await;
    let mut s = h.subscribe(framework("messages")).await;
    let offers = s.offers().await;
    let mut task = command_task("t1", &offers[0].agent_id, cpus_mem(1.0, 64.0));
    task.command = None;
    task.executor = Some(Box::new(ExecutorInfo {
        executor_id: ExecutorId {
            value: "exec".into(),
        },
        command: Some(CommandInfo {
            value: Some("./executor".into()),
            ..CommandInfo::default()
        }),
        resources: cpus_mem(0.5, 32.0),
        ..ExecutorInfo::default()
    }));
    s.ok(calls::launch(offer_ids(&offers), vec![task], None))
        .await;
    let _ = h.agent_next_real(0).await;
    assert_eq!(
        h.master.state_json()["slaves"][0]["used_resources"]["cpus"],
        1.5
    );

    s.ok(calls::message(
        agent_id(0),
        ExecutorId {
            value: "exec".into(),
        },
        Bytes::from_static(b"ping"),
    ))
    .await;
    match h.agent_next_real(0).await {
        ToAgent::FrameworkMessage {
            data, executor_id, ..
        } => {
            assert_eq!(&data[..], b"ping");
            assert_eq!(executor_id.value, "exec");
        }
        other => panic!("expected FrameworkMessage, got {other:?}"),
    }
    h.to_master
        .send(FromAgent::ExecutorMessage {
            agent_id: agent_id(0),
            framework_id: s.id.clone(),
            executor_id: ExecutorId {
                value: "exec".into(),
            },
            data: Bytes::from_static(b"pong"),
        })
        .expect("send");
    let message = s
        .next_of(EventType::Message)
        .await
        .message
        .expect("message");
    assert_eq!(&message.data[..], b"pong");

    s.ok(calls::shutdown(
        ExecutorId {
            value: "exec".into(),
        },
        agent_id(0),
    ))
    .await;
    assert!(matches!(
        h.agent_next_real(0).await,
        ToAgent::ShutdownExecutor { .. }
    ));
    h.update(0, &s.id, "t1", TaskState::TaskKilled);
    h.executor_terminated(0, &s.id, "exec", Some(9));
    let failure = s
        .next_of(EventType::Failure)
        .await
        .failure
        .expect("failure");
    assert_eq!(
        failure.executor_id.map(|e| e.value).as_deref(),
        Some("exec")
    );
    assert_eq!(failure.status, Some(9));
    assert_eq!(
        h.master.state_json()["slaves"][0]["used_resources"]["cpus"],
        0.0
    );
}

#[tokio::test]
async fn master_remove_agent_loses_its_tasks() {
    let mut h = start(Options::default()).await;
    let mut s = h.subscribe(framework("agent-gone")).await;
    launch(&mut h, &mut s, "t1").await;
    h.master.trigger_allocation();
    let offers = s.offers().await;
    h.master.remove_agent(&agent_id(0));
    let mut saw = (false, false, false);
    while saw != (true, true, true) {
        let event = s.next().await;
        match kind(&event) {
            EventType::Rescind => {
                assert_eq!(
                    event.rescind.map(|r| r.offer_id),
                    Some(offers[0].id.clone())
                );
                saw.0 = true;
            }
            EventType::Failure => saw.1 = true,
            EventType::Update => {
                let status = event.update.expect("update").status;
                assert_eq!(status.state(), TaskState::TaskLost);
                assert_eq!(status.reason(), Reason::AgentRemoved);
                saw.2 = true;
            }
            _ => {}
        }
    }
    let state = h.master.state_json();
    assert_eq!(state["activated_slaves"], 0.0);
    assert_eq!(
        state["frameworks"][0]["completed_tasks"][0]["state"],
        "TASK_LOST"
    );

    // What the removed agent still says (its dying processes) is dropped.
    h.update(0, &s.id, "t1", TaskState::TaskFailed);
    h.executor_terminated(0, &s.id, "exec", Some(9));
    let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
    while let Ok(Some(Ok(event))) = tokio::time::timeout_at(deadline, s.events.next()).await {
        assert!(
            !matches!(kind(&event), EventType::Failure | EventType::Update),
            "from a removed agent: {event:?}"
        );
    }
    let state = h.master.state_json();
    assert_eq!(
        state["frameworks"][0]["completed_tasks"][0]["statuses"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "{state}"
    );
}

#[tokio::test]
async fn master_heartbeats_flow() {
    let h = start(Options {
        heartbeat: Duration::from_millis(100),
        ..Options::default()
    })
    .await;
    let mut s = h.subscribe(framework("heartbeat")).await;
    let mut beats = 0;
    while beats < 2 {
        if kind(&s.raw_next().await.expect("open")) == EventType::Heartbeat {
            beats += 1;
        }
    }
}

#[tokio::test]
async fn master_other_calls_answer_like_the_real_master() {
    let h = start(Options::default()).await;
    let s = h.subscribe(framework("others")).await;
    let mut info = framework("renamed");
    info.id = Some(s.id.clone());
    let response = s
        .call(calls::update_framework(info))
        .await
        .expect("update framework");
    assert_eq!(response.status.as_u16(), 200);
    assert_eq!(h.master.state_json()["frameworks"][0]["name"], "renamed");
    for call in [
        calls::request(vec![]),
        calls::reconcile_operations(vec![]),
        calls::acknowledge_operation_status(
            None,
            None,
            Bytes::copy_from_slice(uuid::Uuid::new_v4().as_bytes()),
            mesos_proto::v1::OperationId { value: "op".into() },
        ),
    ] {
        let kind = call.r#type();
        let response = s
            .call(call)
            .await
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert_eq!(response.status.as_u16(), 202, "{kind:?}");
    }
    let bad_ack = Call {
        r#type: Some(CallType::Acknowledge as i32),
        acknowledge: Some(call::Acknowledge {
            agent_id: agent_id(0),
            task_id: TaskId { value: "t".into() },
            uuid: Bytes::from_static(b"xx"),
        }),
        ..Call::default()
    };
    let e = s.call(bad_ack).await.expect_err("bad uuid");
    assert_eq!(
        error_text(&e),
        (
            400,
            "Failed to validate scheduler::Call: Not a valid UUID".into()
        )
    );
}

#[tokio::test]
async fn master_state_health_version_and_404() {
    let h = start(Options {
        agents: 2,
        ..Options::default()
    })
    .await;
    let mut s = h.subscribe(framework("state")).await;
    let _ = s.offers().await;
    let (status, body) = h.get("/master/state").await;
    assert_eq!(status, 200);
    let state: serde_json::Value = serde_json::from_str(&body).expect("state json");
    assert_eq!(state["version"], "1.11.0");
    assert_eq!(state["id"], MASTER_ID);
    assert_eq!(state["pid"], format!("master@{}", h.master.addr));
    assert_eq!(state["hostname"], "localhost");
    assert_eq!(state["activated_slaves"], 2.0);
    let slave = &state["slaves"][0];
    for field in [
        "id",
        "pid",
        "hostname",
        "resources",
        "used_resources",
        "offered_resources",
        "unreserved_resources",
        "attributes",
        "active",
    ] {
        assert!(!slave[field].is_null(), "slave.{field}");
    }
    assert_eq!(slave["pid"], "slave(1)@127.0.0.1:40000");
    assert_eq!(slave["resources"]["ports"], "[31000-32000]");
    assert_eq!(slave["offered_resources"]["cpus"], 4.0);
    let fw = &state["frameworks"][0];
    for field in [
        "id",
        "name",
        "user",
        "active",
        "connected",
        "role",
        "resources",
        "used_resources",
        "offered_resources",
        "tasks",
        "offers",
        "completed_tasks",
    ] {
        assert!(!fw[field].is_null(), "framework.{field}");
    }
    assert_eq!(fw["role"], "*");
    assert_eq!(fw["offers"].as_array().map(Vec::len), Some(2));
    assert_eq!(h.get("/state").await.0, 200);
    assert_eq!(h.get("/health").await.0, 200);
    let (status, body) = h.get("/version").await;
    assert_eq!(status, 200);
    let version: serde_json::Value = serde_json::from_str(&body).expect("version json");
    assert_eq!(version["version"], "1.11.0");
    assert_eq!(h.get("/nope").await.0, 404);
}
