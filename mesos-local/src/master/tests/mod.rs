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
    max_queued_events: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            agents: 1,
            resources: "cpus:4;mem:4096;disk:10000;ports:[31000-32000]",
            offer_timeout: None,
            allocation_interval: Duration::from_secs(3600),
            heartbeat: Duration::from_secs(15),
            max_queued_events: crate::queue::DEFAULT_MAX_QUEUED_EVENTS,
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
            limits: mesos_http::server::ServerLimits::default(),
            max_queued_events: options.max_queued_events,
            credentials: None,
            #[cfg(feature = "tls")]
            tls: None,
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

/// A master state with nothing in it (for tests of `State` itself).
pub(crate) fn empty_state() -> super::state::State {
    let addr: std::net::SocketAddr = "127.0.0.1:5050".parse().expect("addr");
    super::state::State {
        master_info: super::ids::master_info(MASTER_ID, addr),
        master_id: MASTER_ID.into(),
        addr,
        heartbeat_interval: Duration::from_secs(15),
        allocation_interval: Duration::from_secs(1),
        offer_timeout: None,
        start_time: 0.0,
        agents: Default::default(),
        removed_agents: Vec::new(),
        frameworks: Default::default(),
        completed_frameworks: Vec::new(),
        removed_frameworks: Default::default(),
        max_queued_events: 1024,
        offers: Default::default(),
        offer_keys: Default::default(),
        next_framework: 0,
        next_offer: 0,
        counters: Default::default(),
        operator: Default::default(),
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
                status: std::sync::Arc::new(TaskStatus {
                    task_id: TaskId {
                        value: task_id.into(),
                    },
                    state: state as i32,
                    source: Some(Source::Executor as i32),
                    agent_id: Some(agent_id(index)),
                    timestamp: Some(1.0),
                    uuid: Some(uuid.clone()),
                    ..TaskStatus::default()
                }),
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

mod frameworks;
mod offers;
mod subscribe;
