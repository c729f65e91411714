//! The driver with a `zk://` master against two `mesos-local` masters
//! registered in ZooKeeper: it subscribes to the leader, moves to the next
//! one as soon as the leader's znode goes (while the old master still
//! runs), waits while there is no leader, and comes back when one appears.

use std::time::Duration;

use async_trait::async_trait;
use mesos_local::LocalCluster;
use mesos_proto::v1::{FrameworkId, FrameworkInfo, MasterInfo, Offer};
use mesos_scheduler::{Scheduler, SchedulerConfig, SchedulerDriver, Status};
use tokio::sync::watch;

use crate::{group, options, register};

const WAIT: Duration = Duration::from_secs(20);

/// What the scheduler was told, in order.
#[derive(Clone, Debug, PartialEq)]
enum Seen {
    Registered { master_port: u32 },
    Reregistered { master_port: u32 },
    Disconnected,
}

struct Recorder {
    seen: watch::Sender<Vec<Seen>>,
}

#[async_trait]
impl Scheduler for Recorder {
    async fn registered(
        &mut self,
        _: &SchedulerDriver,
        _: &FrameworkId,
        master: Option<&MasterInfo>,
    ) {
        let master_port = master.map(|m| m.port).unwrap_or_default();
        self.seen
            .send_modify(|s| s.push(Seen::Registered { master_port }));
    }

    async fn reregistered(&mut self, _: &SchedulerDriver, master: Option<&MasterInfo>) {
        let master_port = master.map(|m| m.port).unwrap_or_default();
        self.seen
            .send_modify(|s| s.push(Seen::Reregistered { master_port }));
    }

    async fn disconnected(&mut self, _: &SchedulerDriver) {
        self.seen.send_modify(|s| s.push(Seen::Disconnected));
    }

    async fn resource_offers(&mut self, driver: &SchedulerDriver, offers: Vec<Offer>) {
        let ids = offers.into_iter().map(|o| o.id).collect();
        let _ = driver.decline_offers(ids, None).await;
    }
}

fn port_of(cluster: &LocalCluster) -> u32 {
    let url = cluster.master_url().trim_end_matches('/');
    url.rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .expect("the master URL has a port")
}

/// Waits until the callbacks seen satisfy `done`.
async fn seen(record: &mut watch::Receiver<Vec<Seen>>, what: &str, done: impl Fn(&[Seen]) -> bool) {
    let ok = matches!(
        tokio::time::timeout(WAIT, record.wait_for(|s| done(s))).await,
        Ok(Ok(_))
    );
    if !ok {
        panic!(
            "never saw {what} within {WAIT:?}; saw {:?}",
            *record.borrow()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn driver_follows_the_leader_through_zookeeper() {
    let Some(url) = group("driver_follows_the_leader") else {
        return;
    };
    let first = LocalCluster::builder().start().await.expect("first master");
    let second = LocalCluster::builder()
        .start()
        .await
        .expect("second master");
    let (first_port, second_port) = (port_of(&first), port_of(&second));
    let first_candidacy = register(&url, &first.state()).await;
    let second_candidacy = register(&url, &second.state()).await;

    let framework = FrameworkInfo::builder("root", "zk-follower")
        .failover_timeout(Duration::from_secs(3600))
        .build()
        .unwrap();
    let config = SchedulerConfig::new([url.to_string()], framework)
        .unwrap()
        .zookeeper_options(options())
        .backoff(Duration::from_millis(50), Duration::from_millis(500));
    let (sender, mut record) = watch::channel(Vec::new());
    let driver = SchedulerDriver::new(Recorder { seen: sender }, config).unwrap();
    assert_eq!(driver.start(), Status::DriverRunning);

    seen(&mut record, "registered with the first master", |s| {
        s == [Seen::Registered {
            master_port: first_port,
        }]
    })
    .await;
    let framework_id = driver.client().framework_id().expect("subscribed");

    // The leader's znode goes while its master keeps running: the driver
    // leaves it for the next leader at once, as the same framework.
    first_candidacy.withdraw().await.unwrap();
    seen(&mut record, "a move to the second master", |s| {
        s.ends_with(&[
            Seen::Disconnected,
            Seen::Reregistered {
                master_port: second_port,
            },
        ])
    })
    .await;
    assert_eq!(driver.client().framework_id(), Some(framework_id.clone()));

    // No leader: the driver disconnects and waits, it does not fail.
    second_candidacy.withdraw().await.unwrap();
    seen(&mut record, "a disconnection without a leader", |s| {
        s.last() == Some(&Seen::Disconnected)
    })
    .await;
    assert_eq!(driver.status(), Status::DriverRunning);
    assert!(!driver.client().is_subscribed());

    // A leader again: the driver resubscribes to it.
    let back = register(&url, &first.state()).await;
    seen(&mut record, "a move back to the first master", |s| {
        s.last()
            == Some(&Seen::Reregistered {
                master_port: first_port,
            })
    })
    .await;
    assert_eq!(driver.client().framework_id(), Some(framework_id));
    assert_eq!(driver.stop(false).await, Status::DriverStopped);
    back.withdraw().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_leader_ends_a_subscribe_the_old_one_never_answers() {
    let Some(url) = group("subscribe_to_a_silent_leader") else {
        return;
    };
    // A "master" that reads requests and never answers; `asked` counts them.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let (mut asked, held) = counting_server(silent, None);
    let silent_state = serde_json::json!({
        "id": "silent",
        "pid": format!("master@127.0.0.1:{silent_port}"),
        "hostname": "localhost",
        "version": "1.11.0",
    });
    let silent_candidacy = register(&url, &silent_state).await;

    let framework = FrameworkInfo::builder("root", "zk-silent").build().unwrap();
    // SUBSCRIBE would wait for its answer this long: far past WAIT.
    let config = SchedulerConfig::new([url.to_string()], framework)
        .unwrap()
        .zookeeper_options(options())
        .request_timeout(Duration::from_secs(300));
    let (sender, mut record) = watch::channel(Vec::new());
    let driver = SchedulerDriver::new(Recorder { seen: sender }, config).unwrap();
    driver.start();

    // Once the SUBSCRIBE is stuck on the silent master, a real master takes
    // over.
    let stuck = tokio::time::timeout(WAIT, asked.wait_for(|n| *n > 0)).await;
    assert!(
        matches!(stuck, Ok(Ok(_))),
        "no SUBSCRIBE reached the silent master"
    );
    let cluster = LocalCluster::builder().start().await.expect("a master");
    let candidacy = register(&url, &cluster.state()).await;
    silent_candidacy.withdraw().await.unwrap();
    let port = port_of(&cluster);
    seen(&mut record, "registered with the new leader", |s| {
        s == [Seen::Registered { master_port: port }]
    })
    .await;
    assert_eq!(driver.stop(false).await, Status::DriverStopped);
    candidacy.withdraw().await.unwrap();
    held.abort();
}

/// A "master" on `listener` that counts the requests it reads (`count`)
/// and answers each with `answer` and closes, or (`None`) never answers and
/// holds the connection open.
fn counting_server(
    listener: tokio::net::TcpListener,
    answer: Option<String>,
) -> (watch::Receiver<usize>, tokio::task::JoinHandle<()>) {
    let (count_tx, count) = watch::channel(0usize);
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut connection, _)) = listener.accept().await {
            let mut request = [0u8; 4096];
            if tokio::io::AsyncReadExt::read(&mut connection, &mut request)
                .await
                .is_ok_and(|n| n > 0)
            {
                count_tx.send_modify(|n| *n += 1);
            }
            match &answer {
                Some(answer) => {
                    let _ = tokio::io::AsyncWriteExt::write_all(&mut connection, answer.as_bytes())
                        .await;
                }
                None => held.push(connection),
            }
        }
    });
    (count, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_detected_leader_that_redirects_is_retried_not_followed() {
    let Some(url) = group("redirecting_leader") else {
        return;
    };
    // The master ZooKeeper names answers every SUBSCRIBE with a 307 to
    // another address (as a new leader does while it still follows the
    // master just lost); that address counts whoever follows the redirect.
    let trap = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let trap_port = trap.local_addr().unwrap().port();
    let (followed, trap_task) = counting_server(trap, None);
    let redirecting = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirecting_port = redirecting.local_addr().unwrap().port();
    let answer = format!(
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: //127.0.0.1:{trap_port}/api/v1/scheduler\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let (mut subscribes, redirecting_task) = counting_server(redirecting, Some(answer));
    let redirecting_state = serde_json::json!({
        "id": "redirecting",
        "pid": format!("master@127.0.0.1:{redirecting_port}"),
        "hostname": "localhost",
        "version": "1.11.0",
    });
    let redirecting_candidacy = register(&url, &redirecting_state).await;

    let framework = FrameworkInfo::builder("root", "zk-redirected")
        .build()
        .unwrap();
    let config = SchedulerConfig::new([url.to_string()], framework)
        .unwrap()
        .zookeeper_options(options())
        .backoff(Duration::from_millis(50), Duration::from_millis(200));
    let (sender, mut record) = watch::channel(Vec::new());
    let driver = SchedulerDriver::new(Recorder { seen: sender }, config).unwrap();
    driver.start();

    // Three SUBSCRIBEs to the detected leader in a row, and none followed
    // its redirect (a follower would have reached the trap before the
    // second).
    let retried = tokio::time::timeout(WAIT, subscribes.wait_for(|n| *n >= 3))
        .await
        .is_ok_and(|r| r.is_ok());
    assert!(
        retried,
        "the detected leader was asked {} times",
        *subscribes.borrow()
    );
    assert_eq!(*followed.borrow(), 0, "the driver followed the redirect");

    // Once a master that knows it leads is named, the driver is there.
    let cluster = LocalCluster::builder().start().await.expect("a master");
    let candidacy = register(&url, &cluster.state()).await;
    redirecting_candidacy.withdraw().await.unwrap();
    let port = port_of(&cluster);
    seen(&mut record, "registered with the new leader", |s| {
        s == [Seen::Registered { master_port: port }]
    })
    .await;
    assert_eq!(*followed.borrow(), 0, "the driver followed the redirect");
    assert_eq!(driver.stop(false).await, Status::DriverStopped);
    candidacy.withdraw().await.unwrap();
    trap_task.abort();
    redirecting_task.abort();
}
