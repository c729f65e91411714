//! Highly available masters (issue 15, part 3): several masters in one
//! cluster, one leading; the others redirect scheduler calls, operator
//! calls and state requests to it (`307`, as a Mesos 1.11 master does); killing the leader
//! elects another, with which the agents register. Elected by the cluster
//! itself, and through a real ZooKeeper (`MESOS_RS_ZOOKEEPER`, skipped
//! without it unless `MESOS_RS_REQUIRE_ENV=1`).

use std::collections::BTreeSet;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http::{Method, StatusCode};
use http_body_util::Full;
use mesos_local::{DetectorOptions, Error, LocalCluster, LocalClusterBuilder, ZkUrl};
use mesos_proto::builders::{CommandInfoBuilder, FrameworkInfoBuilder};
use mesos_proto::v1::{FrameworkId, TaskInfo, TaskState};
use mesos_scheduler::{subscribe, SchedulerClient, SchedulerConfig, SchedulerEvent, Subscription};
use mesos_test_support::environment;
use mesos_zookeeper::MasterDetector;
use tokio::time::Instant;

const SOON: Duration = Duration::from_secs(20);

fn builder(masters: usize) -> LocalClusterBuilder {
    LocalCluster::builder()
        .masters(masters)
        .agents(2)
        .allocation_interval(Duration::from_millis(100))
}

async fn start(builder: LocalClusterBuilder) -> LocalCluster {
    mesos_test_support::init_tracing();
    builder
        .start()
        .await
        .unwrap_or_else(|e| panic!("the cluster starts: {}", mesos_http::error_chain(&e)))
}

/// The status and `Location` of one request (redirects are not followed).
async fn request(method: Method, url: &str, body: &str) -> (StatusCode, Option<String>) {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let request = http::Request::builder()
        .method(method)
        .uri(url)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::ACCEPT, "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a request");
    let response = tokio::time::timeout(SOON, client.request(request))
        .await
        .unwrap_or_else(|_| panic!("{url} answers in time"))
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let location = response
        .headers()
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (response.status(), location)
}

/// Whether the master at `url` answers HTTP at all (`/health`).
async fn answers(url: &str) -> bool {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let uri: http::Uri = format!("{url}/health").parse().expect("a URL");
    client.get(uri).await.is_ok()
}

const SUBSCRIBE: &str =
    r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"test","name":"ha"}}}"#;

/// `//ip:port` of a master's `http://ip:port` URL.
fn protocol_relative(url: &str) -> String {
    url.trim_start_matches("http:").to_string()
}

/// Checks that every live master but the leader redirects the scheduler
/// API and `/master/state` to it, and that the leader's state shows both
/// agents.
async fn assert_followers_redirect(cluster: &LocalCluster, killed: &[usize]) {
    let leader = cluster.leader_index().expect("a leader");
    let urls = cluster.master_urls();
    let leader_base = protocol_relative(&urls[leader]);
    for (index, url) in urls.iter().enumerate() {
        if index == leader || killed.contains(&index) {
            continue;
        }
        let (status, location) =
            request(Method::POST, &format!("{url}/api/v1/scheduler"), SUBSCRIBE).await;
        assert_eq!(status, StatusCode::TEMPORARY_REDIRECT, "master {index}");
        assert_eq!(
            location.as_deref(),
            Some(format!("{leader_base}/api/v1/scheduler").as_str())
        );
        let (status, location) = request(
            Method::POST,
            &format!("{url}/api/v1"),
            r#"{"type":"GET_HEALTH"}"#,
        )
        .await;
        assert_eq!(status, StatusCode::TEMPORARY_REDIRECT, "master {index}");
        assert_eq!(
            location.as_deref(),
            Some(format!("{leader_base}/api/v1").as_str()),
            "the operator API goes to the leader"
        );
        let (status, location) = request(Method::GET, &format!("{url}/master/state?x=1"), "").await;
        assert_eq!(status, StatusCode::TEMPORARY_REDIRECT, "master {index}");
        assert_eq!(
            location.as_deref(),
            Some(format!("{leader_base}/master/state?x=1").as_str())
        );
        let (status, location) = request(Method::GET, &format!("{url}/master/redirect"), "").await;
        assert_eq!(status, StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(location.as_deref(), Some(leader_base.as_str()));
        let (status, _) = request(Method::GET, &format!("{url}/health"), "").await;
        assert_eq!(status, StatusCode::OK, "a follower is healthy");
    }
    let state = mesos_test_support::get_json(&format!("{}/master/state", urls[leader])).await;
    let agents = state["slaves"].as_array().map(Vec::len);
    assert_eq!(agents, Some(2), "the leader has both agents: {state}");
    let ids = |state: &serde_json::Value| -> Vec<String> {
        state["slaves"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|agent| agent["id"].as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(
        ids(&cluster.state()),
        ids(&state),
        "the cluster's state is the leader's"
    );
}

/// A framework given `url` (a follower's: the driver follows the
/// redirect) subscribes and gets an offer from the leader.
async fn subscribe_and_get_offers(url: &str) {
    let info = FrameworkInfoBuilder::new("test", "ha-test")
        .build()
        .expect("FrameworkInfo");
    let config = SchedulerConfig::new([url], info)
        .expect("config")
        .backoff(Duration::from_millis(50), Duration::from_millis(500));
    let (_client, mut events) = subscribe(config).expect("subscribe");
    let deadline = Instant::now() + SOON;
    let mut subscribed = false;
    loop {
        match tokio::time::timeout_at(deadline, events.next()).await {
            Ok(Some(Ok(SchedulerEvent::Subscribed { .. }))) => subscribed = true,
            Ok(Some(Ok(SchedulerEvent::Offers(offers)))) if subscribed => {
                assert!(!offers.is_empty());
                return;
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("the framework's events: {other:?}"),
        }
    }
}

#[tokio::test]
async fn followers_redirect_to_the_leader_and_killing_it_elects_the_next() {
    let cluster = start(builder(3)).await;
    assert_eq!(cluster.master_urls().len(), 3);
    assert_eq!(cluster.leader_index(), Some(0));
    assert_eq!(cluster.leader_url().as_deref(), Some(cluster.master_url()));
    assert_followers_redirect(&cluster, &[]).await;
    subscribe_and_get_offers(&cluster.master_urls()[2]).await;

    cluster.kill_master(0).expect("kill master 0");
    assert_eq!(cluster.leader_index(), Some(1), "elected at once");
    let index = cluster
        .wait_for_leader(SOON)
        .await
        .expect("agents re-register");
    assert_eq!(index, 1);
    assert_followers_redirect(&cluster, &[0]).await;
    subscribe_and_get_offers(&cluster.master_urls()[2]).await;
    assert!(
        !answers(&cluster.master_urls()[0]).await,
        "a killed master does not answer"
    );

    cluster.kill_master(1).expect("kill master 1");
    cluster.kill_master(2).expect("kill master 2");
    assert_eq!(cluster.leader_index(), None, "every master is dead");
    assert!(matches!(
        cluster.kill_master(3),
        Err(Error::NoSuchMaster {
            index: 3,
            masters: 3
        })
    ));
}

#[tokio::test]
async fn a_removed_agent_does_not_come_back_with_the_next_leader() {
    let cluster = start(builder(2)).await;
    cluster.remove_agent(1).await.expect("remove agent 1");
    cluster.kill_master(0).expect("kill master 0");
    cluster.wait_for_leader(SOON).await.expect("a new leader");
    let state = cluster.state();
    let agents = state["slaves"].as_array().map(Vec::len);
    assert_eq!(agents, Some(1), "{state}");
}

#[tokio::test]
async fn the_number_of_masters_is_checked() {
    for masters in [0, mesos_local::MAX_MASTERS + 1] {
        let error = builder(masters).start().await.expect_err("refused");
        assert!(
            matches!(
                error,
                Error::InvalidConfig {
                    setting: "masters",
                    ..
                }
            ),
            "{error}"
        );
    }
}

#[tokio::test]
async fn a_single_master_leads_and_serves_as_before() {
    let cluster = start(builder(1)).await;
    assert_eq!(cluster.leader_index(), Some(0));
    let url = cluster.master_url().to_string();
    let (status, location) = request(Method::GET, &format!("{url}/master/redirect"), "").await;
    assert_eq!(
        status,
        StatusCode::TEMPORARY_REDIRECT,
        "the leader redirects to itself"
    );
    assert_eq!(location, Some(protocol_relative(&url)));
    let (status, _) = request(Method::GET, &format!("{url}/redirect/x"), "").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no redirect loop");
    subscribe_and_get_offers(&url).await;
}

#[tokio::test]
async fn masters_elected_through_zookeeper_write_what_mesos_detectors_read() {
    let Some((cluster, group)) =
        zk_cluster("masters_elected_through_zookeeper_write_what_mesos_detectors_read").await
    else {
        return;
    };
    let url = ZkUrl::parse(&group).expect("a zk:// URL");
    assert_eq!(
        cluster.leader_index(),
        Some(0),
        "the first to contend leads"
    );
    let detector = MasterDetector::start(url, zk_options()).expect("a detector");
    let endpoint = |index: usize| {
        cluster.master_urls()[index]
            .trim_start_matches("http://")
            .to_string()
    };
    let detected = detector
        .wait_for(SOON, |leader| leader.is_some())
        .await
        .expect("a leader detected");
    assert_eq!(detected.and_then(|l| l.endpoint()), Some(endpoint(0)));
    assert_followers_redirect(&cluster, &[]).await;

    cluster.kill_master(0).expect("kill master 0");
    let index = cluster
        .wait_for_leader(SOON)
        .await
        .expect("another master is elected");
    assert_eq!(index, 1, "the next znode in sequence leads");
    let detected = detector
        .wait_for(SOON, |leader| {
            leader.and_then(|l| l.endpoint()) == Some(endpoint(1))
        })
        .await
        .expect("the detector sees the new leader");
    assert!(detected.is_some());
    assert_followers_redirect(&cluster, &[0]).await;
    subscribe_and_get_offers(&cluster.master_urls()[2]).await;
}

/// A framework under test: its client and events, updates acknowledged
/// as they come.
struct Framework {
    client: SchedulerClient,
    events: Subscription,
}

impl Framework {
    fn subscribe(masters: &[&str], name: &str) -> Framework {
        let info = FrameworkInfoBuilder::new("test", name)
            .failover_timeout(Duration::from_secs(60))
            .build()
            .expect("FrameworkInfo");
        let config = SchedulerConfig::new(masters, info)
            .expect("config")
            .backoff(Duration::from_millis(20), Duration::from_millis(200));
        let (client, events) = subscribe(config).expect("subscribe");
        Framework { client, events }
    }

    /// The next event before `deadline` (an UPDATE acknowledged).
    async fn next(&mut self, deadline: Instant, waiting_for: &str) -> SchedulerEvent {
        let event = match tokio::time::timeout_at(deadline, self.events.next()).await {
            Ok(Some(Ok(event))) => event,
            other => panic!("waiting for {waiting_for}: {other:?}"),
        };
        if let SchedulerEvent::Update(status) = &event {
            if status.uuid.is_some() {
                self.client.acknowledge(status).await.expect("ACKNOWLEDGE");
            }
        }
        event
    }

    /// Launches `sleep <seconds>` tasks named `ids` on the offers of
    /// `agents` distinct agents (one CPU each) and waits until all run;
    /// returns the framework id.
    async fn run_sleeps(&mut self, ids: &[&str], agents: usize, seconds: u32) -> FrameworkId {
        let deadline = Instant::now() + SOON;
        let mut framework_id = None;
        let mut pending: Vec<&str> = ids.to_vec();
        let per_agent = ids.len().div_ceil(agents);
        let mut running = BTreeSet::new();
        while running.len() < ids.len() {
            match self.next(deadline, "the tasks to run").await {
                SchedulerEvent::Subscribed {
                    framework_id: id, ..
                } => framework_id = Some(id),
                SchedulerEvent::Offers(offers) => {
                    for offer in offers {
                        let take = pending.len().min(per_agent);
                        if take == 0 {
                            break;
                        }
                        let tasks = pending
                            .drain(..take)
                            .map(|id| {
                                TaskInfo::builder(format!("task {id}"), id)
                                    .agent_id(&offer.agent_id)
                                    .cpus(1.0)
                                    .mem(32.0)
                                    .command(CommandInfoBuilder::shell(format!("sleep {seconds}")))
                                    .build()
                                    .expect("valid TaskInfo")
                            })
                            .collect();
                        self.client
                            .launch_tasks(vec![offer.id.clone()], tasks, None)
                            .await
                            .expect("ACCEPT");
                    }
                }
                SchedulerEvent::Update(status) => match status.state() {
                    TaskState::TaskRunning => {
                        running.insert(status.task_id.value.clone());
                    }
                    TaskState::TaskStarting | TaskState::TaskStaging => {}
                    other => panic!("task {} {other:?}: {status:?}", status.task_id.value),
                },
                _ => {}
            }
        }
        framework_id.expect("SUBSCRIBED")
    }

    /// Waits for SUBSCRIBED as `framework_id` (the id must not change).
    async fn resubscribed(&mut self, framework_id: &FrameworkId) {
        let deadline = Instant::now() + SOON;
        loop {
            match self.next(deadline, "the resubscription").await {
                SchedulerEvent::Subscribed {
                    framework_id: id, ..
                } => {
                    assert_eq!(&id, framework_id, "the framework id is unchanged");
                    return;
                }
                SchedulerEvent::Update(status) => {
                    assert!(
                        !matches!(status.state(), TaskState::TaskLost | TaskState::TaskFailed),
                        "{status:?}"
                    );
                }
                _ => {}
            }
        }
    }
}

/// Kills the leader and returns how long `framework` took to be
/// SUBSCRIBED again (with the same id) by the new one.
async fn kill_leader(
    cluster: &LocalCluster,
    framework: &mut Framework,
    framework_id: &FrameworkId,
) -> Duration {
    let old = cluster.leader_index().expect("a leader");
    let killed = Instant::now();
    cluster.kill_master(old).expect("kill the leader");
    framework.resubscribed(framework_id).await;
    let took = killed.elapsed();
    let leader = cluster.wait_for_leader(SOON).await.expect("a new leader");
    assert_ne!(leader, old);
    took
}

/// The leader's `/master/state` entry of the framework.
fn leader_framework(cluster: &LocalCluster, framework_id: &FrameworkId) -> serde_json::Value {
    let state = cluster.state();
    state["frameworks"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["id"] == framework_id.value.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("the leader knows the framework: {state}"))
}

/// A framework given a follower's URL runs two `sleep` tasks; the leader is
/// killed; on the new leader the agents have re-registered with the tasks
/// (running, their resources in use), the framework resubscribes with the
/// same id, and reconciliation reports both tasks running.
async fn failover_keeps_tasks(cluster: &LocalCluster) {
    let urls = cluster.master_urls();
    let mut framework = Framework::subscribe(&[&urls[2], &urls[1]], "ha-failover");
    let framework_id = framework.run_sleeps(&["ha-a", "ha-b"], 1, 60).await;
    let took = kill_leader(cluster, &mut framework, &framework_id).await;
    eprintln!("killed leader to resubscribed: {took:?}");

    let known = leader_framework(cluster, &framework_id);
    let tasks = known["tasks"].as_array().expect("tasks");
    assert_eq!(tasks.len(), 2, "{known}");
    assert!(
        tasks.iter().all(|t| t["state"] == "TASK_RUNNING"),
        "{known}"
    );
    assert_eq!(known["used_resources"]["cpus"], 2.0, "{known}");

    framework
        .client
        .reconcile(Vec::new())
        .await
        .expect("RECONCILE");
    let deadline = Instant::now() + SOON;
    let mut reconciled = BTreeSet::new();
    while reconciled.len() < 2 {
        if let SchedulerEvent::Update(status) = framework.next(deadline, "reconciliation").await {
            assert_eq!(status.state(), TaskState::TaskRunning, "{status:?}");
            reconciled.insert(status.task_id.value.clone());
        }
    }
}

#[tokio::test]
async fn tasks_survive_a_leader_failover() {
    let cluster = start(builder(3)).await;
    failover_keeps_tasks(&cluster).await;
}

#[tokio::test]
async fn tasks_survive_a_leader_failover_through_zookeeper() {
    let Some((cluster, _)) = zk_cluster("tasks_survive_a_leader_failover_through_zookeeper").await
    else {
        return;
    };
    failover_keeps_tasks(&cluster).await;
}

/// Three masters elected through a fresh group on the test ZooKeeper,
/// and the group's `zk://` URL; `None` (skipped) without one.
async fn zk_cluster(test: &str) -> Option<(LocalCluster, String)> {
    let group = environment::zookeeper_group(test)?;
    let url = ZkUrl::parse(&group).expect("a zk:// URL");
    let cluster = start(builder(3).zookeeper(url).zookeeper_options(zk_options())).await;
    Some((cluster, group))
}

fn zk_options() -> DetectorOptions {
    DetectorOptions::default().retry(Duration::from_millis(50), Duration::from_secs(1))
}

/// Issue 15's end-to-end check: 3 masters elected through ZooKeeper, 2
/// agents, a driver given the `zk://` URL running four `sleep` tasks; the
/// leader is killed twice; every task finishes, none is lost or launched
/// twice, the framework id never changes. Prints the kill-to-resubscribed
/// times (RELIABILITY.md).
#[tokio::test]
async fn a_zk_framework_survives_two_leader_kills_and_every_task_finishes() {
    let Some((cluster, group)) =
        zk_cluster("a_zk_framework_survives_two_leader_kills_and_every_task_finishes").await
    else {
        return;
    };
    let ids = ["zk-a", "zk-b", "zk-c", "zk-d"];
    let mut framework = Framework::subscribe(&[group.as_str()], "ha-zk");
    let framework_id = framework.run_sleeps(&ids, 2, 4).await;
    let started = Instant::now();
    for kill in 1..=2 {
        let took = kill_leader(&cluster, &mut framework, &framework_id).await;
        eprintln!("kill {kill}: killed leader to resubscribed (zk:// driver): {took:?}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "both failovers happened while the tasks ran"
    );
    let deadline = Instant::now() + SOON;
    let mut finished = BTreeSet::new();
    while finished.len() < ids.len() {
        if let SchedulerEvent::Update(status) =
            framework.next(deadline, "the tasks to finish").await
        {
            match status.state() {
                TaskState::TaskFinished => {
                    finished.insert(status.task_id.value.clone());
                }
                TaskState::TaskRunning => {}
                other => panic!("task {} {other:?}: {status:?}", status.task_id.value),
            }
        }
    }
    let known = leader_framework(&cluster, &framework_id);
    assert_eq!(known["tasks"].as_array().map(Vec::len), Some(0), "{known}");
}

/// A follower whose ZooKeeper session expires contends again, its new
/// znode last in line; a leader whose session expires stops and the next
/// is elected (as a Mesos master: `Master::lostCandidacy`).
#[tokio::test]
async fn a_master_whose_zookeeper_session_expires_contends_again_or_stops() {
    const TEST: &str = "a_master_whose_zookeeper_session_expires_contends_again_or_stops";
    let Some(group) = environment::zookeeper_group(TEST) else {
        return;
    };
    // A follower learns that its session is gone when its client next
    // hears from ZooKeeper, within about a session timeout: a short one.
    let options = zk_options().session_timeout(Duration::from_secs(3));
    let url = ZkUrl::parse(&group).expect("a zk:// URL");
    let cluster = start(builder(3).zookeeper(url).zookeeper_options(options)).await;
    // Follower 1 loses its session (and its znode): it keeps following
    // the leader and joins again behind master 2.
    cluster
        .expire_master_session(1)
        .await
        .expect("master 1's session ends");
    assert_eq!(cluster.wait_for_leader(SOON).await.ok(), Some(0));
    assert_followers_redirect(&cluster, &[]).await;

    // The leader loses its session: it stops; master 2, now before
    // master 1 in line, is elected.
    cluster
        .expire_master_session(0)
        .await
        .expect("master 0's session ends");
    assert_eq!(cluster.wait_for_leader(SOON).await.ok(), Some(2));
    assert!(
        !answers(&cluster.master_urls()[0]).await,
        "a leader without a session stops"
    );

    // Master 1 holds a candidacy again: with master 2 gone it leads.
    cluster.kill_master(2).expect("kill master 2");
    assert_eq!(cluster.wait_for_leader(SOON).await.ok(), Some(1));
    subscribe_and_get_offers(&cluster.master_urls()[1]).await;
}

#[tokio::test]
async fn without_zookeeper_there_is_no_session_to_expire() {
    let cluster = start(builder(2)).await;
    assert!(matches!(
        cluster.expire_master_session(1).await,
        Err(Error::NoZooKeeperSession { index: 1 })
    ));
    assert!(matches!(
        cluster.expire_master_session(2).await,
        Err(Error::NoSuchMaster {
            index: 2,
            masters: 2
        })
    ));
}
