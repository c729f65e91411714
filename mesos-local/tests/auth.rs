//! Authentication over real HTTP (issue 14): frameworks with HTTP Basic
//! against credentials (`--authenticate_http_frameworks`), executors with
//! per-executor bearer tokens (`--authenticate_http_executors`), answered
//! as a real Mesos 1.11 master and agent answer (checked against one).

use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderMap, StatusCode};
use http_body_util::{BodyExt, Full};
use mesos_http::Credentials as HttpCredentials;
use mesos_local::{Credentials, Error, LocalCluster, LocalClusterBuilder};
use mesos_proto::builders::{CommandInfoBuilder, FrameworkInfoBuilder};
use mesos_proto::v1::{ExecutorInfo, FrameworkId, FrameworkInfo, Offer, TaskInfo, TaskState};
use mesos_scheduler::{subscribe, SchedulerClient, SchedulerConfig, SchedulerEvent, Subscription};
use tokio::net::TcpStream;
use tokio::time::Instant;

const SOON: Duration = Duration::from_secs(20);

fn init_tracing() {
    mesos_test_support::init_tracing();
}

fn credentials() -> Credentials {
    Credentials::from_json(
        r#"{"credentials":[{"principal":"alice","secret":"alice-pw"},{"principal":"bob","secret":"bob-pw"}]}"#,
    )
    .expect("credentials")
}

fn builder() -> LocalClusterBuilder {
    LocalCluster::builder()
        .allocation_interval(Duration::from_millis(100))
        .status_update_retry(Duration::from_millis(300))
        .executor_shutdown_grace(Duration::from_secs(1))
        .authenticate_http_frameworks(credentials())
        .authenticate_http_executors(true)
}

async fn start(builder: LocalClusterBuilder) -> LocalCluster {
    init_tracing();
    builder
        .start()
        .await
        .unwrap_or_else(|e| panic!("the cluster starts: {}", mesos_http::error_chain(&e)))
}

fn basic(principal: &str, secret: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{principal}:{secret}"));
    format!("Basic {encoded}")
}

/// One answer of a raw POST (body read to its end, at most 10 s).
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

/// POSTs `body` (JSON) to `url` with these headers, on a fresh connection.
async fn post(url: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    let uri: http::Uri = url.parse().expect("a URL");
    let authority = uri.authority().expect("an authority").to_string();
    let stream = TcpStream::connect(&authority).await.expect("connect");
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("HTTP handshake");
    tokio::spawn(connection);
    let mut request = http::Request::post(uri.path())
        .header(http::header::HOST, authority)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::ACCEPT, "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a request");
    let response = sender.send_request(request).await.expect("an answer");
    let status = response.status();
    let headers = response.headers().clone();
    let body = tokio::time::timeout(Duration::from_secs(10), response.into_body().collect())
        .await
        .map(|collected| {
            collected
                .map(|c| String::from_utf8_lossy(&c.to_bytes()).into_owned())
                .unwrap_or_default()
        })
        .unwrap_or_else(|_| "<still streaming>".to_string());
    Answer {
        status,
        headers,
        body,
    }
}

fn subscribe_json(framework_id: Option<&FrameworkId>, principal: Option<&str>) -> String {
    let mut info =
        serde_json::json!({"user": "root", "name": "auth-test", "failover_timeout": 600.0});
    let mut call = serde_json::json!({"type": "SUBSCRIBE"});
    if let Some(id) = framework_id {
        info["id"] = serde_json::json!({"value": id.value});
        call["framework_id"] = serde_json::json!({"value": id.value});
    }
    if let Some(principal) = principal {
        info["principal"] = serde_json::json!(principal);
    }
    call["subscribe"] = serde_json::json!({"framework_info": info});
    call.to_string()
}

/// A framework subscribed with the SDK as `principal`.
async fn framework(
    url: &str,
    principal: &str,
    secret: &str,
    info: FrameworkInfoBuilder,
) -> (SchedulerClient, Subscription, FrameworkId) {
    let info = info.build().expect("valid FrameworkInfo");
    let config = SchedulerConfig::new([url], info)
        .expect("config")
        .credentials(HttpCredentials::basic(principal, secret))
        .backoff(Duration::from_millis(50), Duration::from_millis(500));
    let (client, mut events) = subscribe(config).expect("subscribe");
    let first = tokio::time::timeout(SOON, events.next())
        .await
        .expect("SUBSCRIBED in time")
        .expect("an event")
        .unwrap_or_else(|e| panic!("the master accepts {principal}: {e}"));
    let SchedulerEvent::Subscribed { framework_id, .. } = first else {
        panic!("expected SUBSCRIBED, got {first:?}");
    };
    (client, events, framework_id)
}

#[tokio::test]
async fn unauthenticated_scheduler_calls_get_the_real_masters_401() {
    let cluster = start(builder()).await;
    let url = format!("{}/api/v1/scheduler", cluster.master_url());
    let alice_bad = basic("alice", "wrong");
    let bearer = "Bearer alice-pw";
    for headers in [
        vec![],
        vec![("Authorization", alice_bad.as_str())],
        vec![("Authorization", bearer)],
    ] {
        let answer = post(&url, &headers, &subscribe_json(None, None)).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{headers:?}");
        assert_eq!(
            answer.headers[http::header::WWW_AUTHENTICATE],
            "Basic realm=\"mesos-master-scheduler\""
        );
        assert_eq!(answer.body, "401 Unauthorized.");
    }
    // Non-SUBSCRIBE calls too, before anything else is looked at.
    let revive = r#"{"type":"REVIVE","framework_id":{"value":"x"}}"#;
    let answer = post(&url, &[("Mesos-Stream-Id", "x")], revive).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    // A principal in FrameworkInfo that is not the authenticated one.
    let alice = basic("alice", "alice-pw");
    let answer = post(
        &url,
        &[("Authorization", &alice)],
        &subscribe_json(None, Some("bob")),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.body,
        "Failed to validate scheduler::Call: Authenticated principal 'alice' does not match \
         principal 'bob' set in `FrameworkInfo`"
    );
}

#[tokio::test]
async fn another_principal_cannot_take_a_framework_over() {
    let cluster = start(builder()).await;
    let info =
        FrameworkInfo::builder("root", "alice-fw").failover_timeout(Duration::from_secs(600));
    let (alice, mut events, id) = framework(cluster.master_url(), "alice", "alice-pw", info).await;
    let state = cluster.state();
    assert_eq!(
        state["frameworks"][0]["principal"], "alice",
        "the authenticated principal is recorded: {state}"
    );
    let url = format!("{}/api/v1/scheduler", cluster.master_url());
    let bob = basic("bob", "bob-pw");
    // As the real master: an ERROR event, whether bob names himself or not.
    for principal in [Some("bob"), None] {
        let answer = post(
            &url,
            &[("Authorization", &bob)],
            &subscribe_json(Some(&id), principal),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK);
        assert!(
            answer
                .body
                .contains("Changing framework's principal is not allowed."),
            "{}",
            answer.body
        );
        assert!(!answer.body.contains("SUBSCRIBED"), "{}", answer.body);
    }
    // Claiming to be alice is refused before the framework is looked at.
    let answer = post(
        &url,
        &[("Authorization", &bob)],
        &subscribe_json(Some(&id), Some("alice")),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    // Calls for alice's framework as bob: refused (the stream id is
    // irrelevant, the principal is checked first).
    let revive = format!(
        r#"{{"type":"REVIVE","framework_id":{{"value":"{}"}}}}"#,
        id.value
    );
    let answer = post(
        &url,
        &[("Authorization", &bob), ("Mesos-Stream-Id", "whatever")],
        &revive,
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.body,
        "Authenticated principal 'bob' does not match principal 'alice' set in `FrameworkInfo`"
    );
    // Alice still holds her framework: her stream is open and her calls work.
    alice
        .revive(Vec::new())
        .await
        .expect("alice's REVIVE is accepted");
    let deadline = Instant::now() + SOON;
    loop {
        match tokio::time::timeout_at(deadline, events.next()).await {
            Ok(Some(Ok(SchedulerEvent::Offers(_)))) => break,
            Ok(Some(Ok(SchedulerEvent::Error(e)))) => panic!("alice got an ERROR: {e}"),
            Ok(Some(Ok(SchedulerEvent::Disconnected { .. }))) => panic!("alice was disconnected"),
            Ok(Some(Ok(_))) => {}
            other => panic!("alice's stream: {other:?}"),
        }
    }
}

fn executor_task(id: &str, offer: &Offer, executor: &ExecutorInfo) -> TaskInfo {
    TaskInfo::builder(format!("task {id}"), id)
        .agent_id(&offer.agent_id)
        .cpus(0.1)
        .mem(32.0)
        .executor(executor.clone())
        .build()
        .expect("valid TaskInfo")
}

/// The agent's executor API URL, from `/master/state`.
fn executor_api(cluster: &LocalCluster) -> String {
    let state = cluster.state();
    let pid = state["slaves"][0]["pid"].as_str().expect("an agent pid");
    let (name, address) = pid.split_once('@').expect("name@address");
    format!("http://{address}/{name}/api/v1/executor")
}

#[tokio::test]
async fn executor_tokens_are_required_and_the_sdk_sends_its_own() {
    let cluster = start(builder()).await;
    let api = executor_api(&cluster);
    let call = r#"{"type":"SUBSCRIBE","framework_id":{"value":"f"},"executor_id":{"value":"e"},"subscribe":{}}"#;
    let answer = post(&api, &[], call).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.headers[http::header::WWW_AUTHENTICATE],
        "Bearer realm=\"mesos-agent-executor\""
    );
    let answer = post(&api, &[("Authorization", "Bearer not-a-token")], call).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.headers[http::header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .contains("error=\"invalid_token\""));

    // The test_executor (mesos-executor's driver, from its environment)
    // runs its tasks to the end: it sent its token on every call.
    let path = mesos_test_support::example_binary("test_executor");
    let executor = ExecutorInfo::builder("authenticated")
        .command(CommandInfoBuilder::argv(
            path.to_str().expect("UTF-8").to_string(),
            Vec::<String>::new(),
        ))
        .cpus(0.1)
        .mem(32.0)
        .build()
        .expect("valid ExecutorInfo");
    let info = FrameworkInfo::builder("root", "token-fw");
    let (client, mut events, _id) =
        framework(cluster.master_url(), "alice", "alice-pw", info).await;
    let mut launched = false;
    let mut finished = Vec::new();
    let deadline = Instant::now() + SOON;
    while finished.len() < 2 {
        let event = match tokio::time::timeout_at(deadline, events.next()).await {
            Ok(Some(Ok(event))) => event,
            other => panic!("waiting for the tasks: {other:?}; finished {finished:?}"),
        };
        match event {
            SchedulerEvent::Offers(offers) if !launched => {
                let offer = &offers[0];
                let tasks = ["tok-a", "tok-b"]
                    .iter()
                    .map(|id| executor_task(id, offer, &executor))
                    .collect();
                client
                    .launch_tasks(vec![offer.id.clone()], tasks, None)
                    .await
                    .expect("ACCEPT");
                launched = true;
            }
            SchedulerEvent::Update(status) => {
                if status.uuid.is_some() {
                    client.acknowledge(&status).await.expect("ACKNOWLEDGE");
                }
                match status.state() {
                    TaskState::TaskFinished => finished.push(status.task_id.value.clone()),
                    TaskState::TaskRunning | TaskState::TaskStarting => {}
                    other => panic!("task {} {other:?}: {status:?}", status.task_id.value),
                }
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn non_loopback_without_authentication_is_refused() {
    for builder in [
        LocalCluster::builder(),
        LocalCluster::builder().authenticate_http_frameworks(credentials()),
        LocalCluster::builder().authenticate_http_executors(true),
    ] {
        let refused = builder
            .ip("0.0.0.0".parse().unwrap())
            .start()
            .await
            .expect_err("a non-loopback address without authentication");
        match refused {
            Error::InvalidConfig { setting, reason } => {
                assert_eq!(setting, "ip");
                assert!(
                    reason.contains("--allow_unauthenticated_non_loopback"),
                    "{reason}"
                );
            }
            other => panic!("unexpected error {other:?}"),
        }
    }
}
