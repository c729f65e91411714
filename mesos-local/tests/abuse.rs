//! The abuse suite (issue 14): `mesos-local` as a server a hostile local
//! user can reach. Slow request heads are cut off while a framework keeps
//! working; hostile protobuf bodies are refused before they are decoded,
//! with bounded memory; a subscriber that never reads has its stream closed
//! with bounded memory while tasks run elsewhere.
//!
//! The cluster runs as the `mesos-local` binary in a child process, and
//! memory is that process's peak RSS (`VmHWM` in `/proc/<pid>/status`):
//! the test process's own allocations (15 MiB bodies, 300 sockets) would
//! blur the figure. Loopback only; every loop is bounded in count and time,
//! and waits are for conditions with deadlines. The figures are printed
//! (`cargo test -p mesos-local --test abuse -- --nocapture`).

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use http_body_util::{BodyExt, Full};
use mesos_proto::v1::scheduler::{call, event, Call};
use mesos_proto::v1::{CommandInfo, FrameworkId, Offer, TaskId, TaskInfo, TaskState};
use mesos_test_support::scheduler::{scalar, RawScheduler};
use prost::Message as _;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::time::Instant;

const BINARY: &str = env!("CARGO_BIN_EXE_mesos-local");
const MIB: u64 = 1024 * 1024;

/// `mesos-local` in a child process, with its stderr collected.
struct Cluster {
    child: Child,
    url: String,
    pid: u32,
    stderr: Arc<Mutex<String>>,
}

impl Cluster {
    async fn start(extra: &[&str]) -> Cluster {
        let mut args = vec!["--port", "0", "--containerizers", "fake"];
        args.extend_from_slice(extra);
        let mut child = Command::new(BINARY)
            .args(&args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("mesos-local starts");
        let stdout = child.stdout.take().expect("stdout");
        let url = tokio::time::timeout(
            Duration::from_secs(20),
            BufReader::new(stdout).lines().next_line(),
        )
        .await
        .expect("the master URL within 20 s")
        .expect("reading stdout")
        .expect("a first line");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let sink = Arc::clone(&stderr);
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let mut text = sink.lock().unwrap();
                if text.len() < 1 << 20 {
                    text.push_str(&line);
                    text.push('\n');
                }
            }
        });
        let pid = child.id().expect("the child's pid");
        Cluster {
            child,
            url,
            pid,
            stderr,
        }
    }

    fn authority(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    /// A `/proc/<pid>/status` field, in KiB.
    fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .expect("the child's /proc status");
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("{field} in /proc/{}/status", self.pid))
    }

    /// Peak resident memory so far, in MiB.
    fn peak_mib(&self) -> f64 {
        self.status_kib("VmHWM") as f64 / 1024.0
    }

    fn logged(&self, needle: &str) -> bool {
        self.stderr.lock().unwrap().contains(needle)
    }

    /// POSTs `body` to the scheduler API on a fresh connection; the status.
    async fn post(&self, content_type: &str, stream_id: Option<&str>, body: Bytes) -> StatusCode {
        let stream = TcpStream::connect(self.authority()).await.expect("connect");
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .expect("HTTP handshake");
        tokio::spawn(connection);
        let mut request = http::Request::post(format!("{}/api/v1/scheduler", self.url))
            .header(http::header::HOST, self.authority())
            .header(http::header::CONTENT_TYPE, content_type);
        if let Some(id) = stream_id {
            request = request.header("Mesos-Stream-Id", id);
        }
        let request = request.body(Full::new(body)).expect("a request");
        let response = sender.send_request(request).await.expect("an answer");
        let status = response.status();
        let _ = response.into_body().collect().await;
        status
    }

    async fn state(&self) -> serde_json::Value {
        let stream = TcpStream::connect(self.authority()).await.expect("connect");
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .expect("HTTP handshake");
        tokio::spawn(connection);
        let request = http::Request::get(format!("{}/master/state", self.url))
            .header(http::header::HOST, self.authority())
            .body(http_body_util::Empty::<Bytes>::new())
            .expect("a request");
        let response = sender.send_request(request).await.expect("an answer");
        assert_eq!(response.status(), StatusCode::OK);
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        serde_json::from_slice(&body).expect("JSON")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

const TASK_CPUS: f64 = 0.1;
const TASK_MEM: f64 = 16.0;

/// How many small tasks fit in `offer` (one less, for rounding).
fn capacity(offer: &Offer) -> usize {
    let total = |name: &str| -> f64 {
        offer
            .resources
            .iter()
            .filter(|r| r.name == name)
            .filter_map(|r| r.scalar.as_ref().map(|s| s.value))
            .sum()
    };
    let fit = (total("cpus") / TASK_CPUS)
        .min(total("mem") / TASK_MEM)
        .floor();
    (fit as usize).saturating_sub(1)
}

fn small_task(id: &str, offer: &Offer) -> TaskInfo {
    TaskInfo {
        name: id.into(),
        task_id: TaskId { value: id.into() },
        agent_id: offer.agent_id.clone(),
        resources: vec![scalar("cpus", TASK_CPUS), scalar("mem", TASK_MEM)],
        command: Some(CommandInfo {
            value: Some("true".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A normal framework runs `tasks` tasks to TASK_FINISHED (acknowledging
/// every update) within `within`; panics otherwise.
async fn run_tasks(url: &str, name: &str, tasks: usize, within: Duration) {
    let deadline = Instant::now() + within;
    let mut fw = RawScheduler::subscribe(url, "nobody", name).await;
    let (mut launched, mut finished) = (0, 0);
    while finished < tasks {
        let event = tokio::time::timeout_at(deadline, fw.next_event())
            .await
            .unwrap_or_else(|_| {
                panic!("{name}: {finished}/{tasks} tasks finished within {within:?}")
            })
            .expect("the framework's stream stays open");
        match event.r#type() {
            event::Type::Offers => {
                for offer in event.offers.map(|o| o.offers).unwrap_or_default() {
                    let batch: Vec<TaskInfo> = (launched..tasks.min(launched + capacity(&offer)))
                        .map(|i| small_task(&format!("{name}-{i}"), &offer))
                        .collect();
                    launched += batch.len();
                    fw.launch(&offer, batch).await;
                }
            }
            event::Type::Update => {
                let status = event.update.expect("update").status;
                fw.acknowledge(&status).await;
                match status.state() {
                    TaskState::TaskFinished => finished += 1,
                    TaskState::TaskStaging | TaskState::TaskStarting | TaskState::TaskRunning => {}
                    other => panic!(
                        "{name}: task {} {other:?}: {:?}",
                        status.task_id.value, status.message
                    ),
                }
            }
            _ => {}
        }
    }
    fw.teardown().await;
}

/// 300 connections trickle a request head one byte a second: each is
/// closed by the server within its header timeout (2 s here), while a
/// framework subscribes and runs a task.
#[tokio::test]
async fn slow_header_connections_are_closed_while_a_framework_works() {
    const CONNECTIONS: usize = 300;
    let timeout = Duration::from_secs(2);
    let cluster = Cluster::start(&["--http_header_read_timeout", "2secs"]).await;
    let head: &'static [u8] =
        b"POST /api/v1/scheduler HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n";
    let started = Instant::now();
    let mut slow = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        let mut stream = TcpStream::connect(cluster.authority())
            .await
            .expect("connect");
        slow.push(tokio::spawn(async move {
            let opened = Instant::now();
            let mut buf = [0u8; 512];
            // Bounded: one byte a second, never more than the head.
            for byte in head.iter().copied() {
                tokio::select! {
                    read = stream.read(&mut buf) => match read {
                        Ok(0) | Err(_) => return Some(opened.elapsed()),
                        Ok(_) => {} // an error page: the close follows
                    },
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {
                        if stream.write_all(&[byte]).await.is_err() {
                            return Some(opened.elapsed());
                        }
                    }
                }
            }
            None
        }));
    }
    // Meanwhile a framework does its work.
    run_tasks(
        &cluster.url,
        "beside-slow-heads",
        1,
        Duration::from_secs(20),
    )
    .await;
    let mut slowest = Duration::ZERO;
    for handle in slow {
        let closed = handle
            .await
            .expect("the connection task")
            .expect("the server closed a slow connection");
        slowest = slowest.max(closed);
    }
    // Within the timeout, plus the 1 s between our polls, plus scheduling.
    assert!(
        slowest <= timeout + Duration::from_millis(2500),
        "slowest close after {slowest:?}"
    );
    println!(
        "slow heads: {CONNECTIONS} connections closed, slowest after {slowest:?} \
         (header timeout {timeout:?}); total {:?}; peak RSS {:.1} MiB",
        started.elapsed(),
        cluster.peak_mib()
    );
}

/// An ACCEPT whose 15 MiB are empty `operations` (2 bytes each, ~7.8
/// million of them: gigabytes once decoded).
fn hostile_accept(len: usize) -> Bytes {
    let operations = (len - 64) / 2;
    let mut accept = mesos_proto::v1::OfferId { value: "o".into() }.encode_to_vec();
    let mut body = Vec::with_capacity(len);
    // accept.offer_ids (field 1) then `operations` (field 2) empty, by hand.
    let mut offer_ids = vec![0x0a, accept.len() as u8];
    offer_ids.append(&mut accept);
    let mut accept = offer_ids;
    accept.reserve(operations * 2);
    for _ in 0..operations {
        accept.extend_from_slice(&[0x12, 0x00]);
    }
    let mut call = Call {
        framework_id: Some(FrameworkId {
            value: "hostile".into(),
        }),
        r#type: Some(call::Type::Accept as i32),
        ..Default::default()
    }
    .encode_to_vec();
    body.append(&mut call);
    // Call.accept is field 4, length-delimited.
    body.push(0x22);
    prost::encoding::encode_varint(accept.len() as u64, &mut body);
    body.extend_from_slice(&accept);
    Bytes::from(body)
}

/// Four concurrent 15 MiB hostile protobuf ACCEPTs are refused (413)
/// before decoding; the server's peak RSS stays under 256 MiB (the real
/// Mesos 1.11 master went from 80 MiB to 2.2 GiB on one of them).
#[tokio::test]
async fn hostile_protobuf_bodies_are_refused_with_bounded_memory() {
    const BODIES: usize = 4;
    let cluster = Cluster::start(&[]).await;
    let before = cluster.peak_mib();
    let body = hostile_accept(15 * MIB as usize);
    let started = Instant::now();
    let mut posts = Vec::new();
    for _ in 0..BODIES {
        let body = body.clone();
        let cluster_url = cluster.url.clone();
        let authority = cluster.authority().to_string();
        posts.push(tokio::spawn(async move {
            let stream = TcpStream::connect(&authority).await.expect("connect");
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                    .await
                    .expect("HTTP handshake");
            tokio::spawn(connection);
            let request = http::Request::post(format!("{cluster_url}/api/v1/scheduler"))
                .header(http::header::HOST, authority)
                .header(http::header::CONTENT_TYPE, "application/x-protobuf")
                .body(Full::new(body))
                .expect("a request");
            let response = sender.send_request(request).await.expect("an answer");
            let status = response.status();
            let text = response
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes();
            (status, String::from_utf8_lossy(&text).into_owned())
        }));
    }
    for post in posts {
        let (status, text) = tokio::time::timeout(Duration::from_secs(30), post)
            .await
            .expect("an answer within 30 s")
            .expect("the request task");
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{text}");
        assert!(text.contains("mesos.v1.scheduler.Call"), "{text}");
    }
    let elapsed = started.elapsed();
    let peak = cluster.peak_mib();
    // Still serving.
    assert!(cluster.state().await["frameworks"].is_array());
    println!(
        "hostile bodies: {BODIES} x {:.1} MiB protobuf ACCEPT -> 413 in {elapsed:?}; \
         peak RSS {before:.1} MiB before, {peak:.1} MiB after",
        body.len() as f64 / MIB as f64
    );
    assert!(peak < 256.0, "peak RSS {peak:.1} MiB");
}

/// A framework that subscribes and never reads its stream while it makes
/// the master queue events for it (explicit reconciliation of 1,000
/// unknown tasks per call) has its stream closed and is disconnected, with
/// the reason logged, while another framework runs 200 tasks; the server's
/// peak RSS stays under 128 MiB and the stream ends.
#[tokio::test]
async fn a_subscriber_that_never_reads_is_cut_off_with_bounded_memory() {
    let cluster = Cluster::start(&["--allocation_interval", "50ms"]).await;
    let busy = tokio::spawn({
        let url = cluster.url.clone();
        async move { run_tasks(&url, "busy", 200, Duration::from_secs(25)).await }
    });

    // The silent subscriber: reads the response head, then nothing. A
    // small receive buffer makes the master's writes block soon.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let mut silent = socket
        .connect(cluster.authority().parse().expect("address"))
        .await
        .expect("connect");
    let id = "silent-framework";
    let subscribe = serde_json::json!({
        "type": "SUBSCRIBE",
        "framework_id": {"value": id},
        "subscribe": {"framework_info": {"user": "nobody", "name": "silent", "id": {"value": id}}}
    })
    .to_string();
    let request = format!(
        "POST /api/v1/scheduler HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Accept: application/json\r\nContent-Length: {}\r\n\r\n{subscribe}",
        cluster.authority(),
        subscribe.len()
    );
    silent
        .write_all(request.as_bytes())
        .await
        .expect("subscribe");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert!(head.len() < 4096, "response head too long");
        silent.read_exact(&mut byte).await.expect("response head");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let stream_id = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("Mesos-Stream-Id: ")
                .or(l.strip_prefix("mesos-stream-id: "))
        })
        .expect("Mesos-Stream-Id")
        .trim()
        .to_string();

    // Explicit reconciliation of unknown tasks: 1,000 TASK_LOST per call.
    let tasks: Vec<serde_json::Value> = (0..1000)
        .map(|i| serde_json::json!({"task_id": {"value": format!("ghost-{i}")}}))
        .collect();
    let reconcile = Bytes::from(
        serde_json::json!({
            "type": "RECONCILE",
            "framework_id": {"value": id},
            "reconcile": {"tasks": tasks}
        })
        .to_string(),
    );
    let started = Instant::now();
    let mut calls = 0;
    loop {
        assert!(calls < 200, "still subscribed after {calls} calls");
        let status = cluster
            .post("application/json", Some(&stream_id), reconcile.clone())
            .await;
        if status != StatusCode::ACCEPTED {
            // The framework is gone: disconnected (failover_timeout 0).
            break;
        }
        calls += 1;
    }
    let cut_after = started.elapsed();
    // The reason is logged.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !cluster.logged("not reading its event stream") {
        assert!(Instant::now() < deadline, "no warning logged");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    busy.await.expect("the busy framework ran its 200 tasks");
    let peak = cluster.peak_mib();

    // The stream ends: what the kernel and hyper held, then the last chunk.
    let mut received = 0usize;
    let mut tail = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let deadline = Instant::now() + Duration::from_secs(10);
    while !tail.ends_with(b"\r\n0\r\n\r\n") {
        let n = tokio::time::timeout_at(deadline, silent.read(&mut buf))
            .await
            .expect("the stream ends within 10 s")
            .expect("reading the stream");
        if n == 0 {
            break;
        }
        received += n;
        tail.extend_from_slice(&buf[..n]);
        let keep = tail.len().saturating_sub(16);
        tail.drain(..keep);
    }
    assert!(
        tail.ends_with(b"\r\n0\r\n\r\n") || tail.is_empty(),
        "the stream ended"
    );
    println!(
        "silent subscriber: cut after {calls} RECONCILE calls ({} events asked) in {cut_after:?}; \
         it then received {:.1} MiB before the end of its stream; peak RSS {peak:.1} MiB \
         (200 tasks run meanwhile)",
        calls * 1000,
        received as f64 / MIB as f64
    );
    assert!(peak < 128.0, "peak RSS {peak:.1} MiB");
}
