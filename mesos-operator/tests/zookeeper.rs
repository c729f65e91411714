//! `zk://` masters (feature `zookeeper`, ZooKeeper from
//! `MESOS_RS_ZOOKEEPER`, see `scripts/zookeeper.sh`): calls go to the master
//! ZooKeeper names, and to the next one when leadership changes; the real
//! Mesos master (`MESOS_INTEROP_MASTER`), registered with the `MasterInfo`
//! its own `GET_MASTER` returns, is found the same way.

mod support;

use std::time::Duration;

use futures::StreamExt;
use mesos_operator::proto::master::event;
use mesos_operator::proto::MasterInfo;
use mesos_operator::{ClientBuilder, Error, MasterClient};
use mesos_test_support::environment::{interop_master, zookeeper_group};
use mesos_zookeeper::{DetectorOptions, MasterContender, ZkUrl};
use support::{healthy, subscribed, FakeMaster, Reply};

fn options() -> DetectorOptions {
    DetectorOptions::default()
        .session_timeout(Duration::from_secs(4))
        .retry(Duration::from_millis(50), Duration::from_millis(500))
}

/// The `MasterInfo` a master at `http://ip:port` writes into ZooKeeper.
fn info_of(url: &str, id: &str) -> MasterInfo {
    let address = url.trim_start_matches("http://");
    let (ip, port) = address.rsplit_once(':').expect("ip:port");
    let port: u32 = port.parse().expect("port");
    MasterInfo {
        id: id.into(),
        ip: mesos_zookeeper::member::ip_to_mesos(ip.parse().expect("IPv4")),
        port,
        pid: Some(format!("master@{address}")),
        hostname: Some(ip.into()),
        ..Default::default()
    }
}

fn client(zk: &str) -> MasterClient {
    ClientBuilder::new([zk])
        .zookeeper_options(options())
        .request_timeout(Duration::from_secs(20))
        .master()
        .expect("a zk:// client")
}

/// Calls `GET_HEALTH` until it reaches `master` (the detector sees a new
/// leader a moment after ZooKeeper has it), for at most 20 s.
async fn wait_for_leader(client: &MasterClient, master: &FakeMaster) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        assert!(client.get_health().await.unwrap().healthy);
        if client
            .leader_url()
            .is_some_and(|url| url.starts_with(&master.url))
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "calls never reached {}",
            master.url
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn calls_follow_the_leader_zookeeper_names() {
    let Some(zk) = zookeeper_group("") else {
        return;
    };
    let url = ZkUrl::parse(&zk).unwrap();
    let first = FakeMaster::start(|_, _| Reply::Response(Box::new(healthy()))).await;
    let second = FakeMaster::start(|_, _| Reply::Response(Box::new(healthy()))).await;
    let leading = MasterContender::contend(&url, &info_of(&first.url, "m1"), &options())
        .await
        .unwrap();
    let master = client(&zk);
    wait_for_leader(&master, &first).await;

    let standby = MasterContender::contend(&url, &info_of(&second.url, "m2"), &options())
        .await
        .unwrap();
    leading.withdraw().await.unwrap();
    wait_for_leader(&master, &second).await;
    assert!(!second.received().is_empty());
    standby.withdraw().await.unwrap();
}

async fn next(
    events: &mut mesos_operator::MasterEvents,
) -> Result<mesos_operator::proto::master::Event, Error> {
    tokio::time::timeout(Duration::from_secs(20), events.next())
        .await
        .expect("an item within 20 s")
        .expect("the stream goes on")
}

/// A master whose SUBSCRIBE stream stays open (and silent) after
/// `SUBSCRIBED`.
async fn subscribable() -> FakeMaster {
    FakeMaster::start(|_, _| Reply::Events {
        events: vec![subscribed(15.0)],
        hold: true,
    })
    .await
}

#[tokio::test]
async fn a_new_leader_in_zookeeper_moves_the_subscription() {
    let Some(zk) = zookeeper_group("") else {
        return;
    };
    let url = ZkUrl::parse(&zk).unwrap();
    let (first, second) = (subscribable().await, subscribable().await);
    let leading = MasterContender::contend(&url, &info_of(&first.url, "m1"), &options())
        .await
        .unwrap();
    let mut events = client(&zk).subscribe();
    assert_eq!(
        next(&mut events).await.unwrap().r#type(),
        event::Type::Subscribed
    );
    assert_eq!(first.received(), ["SUBSCRIBE"]);

    // The first master's stream stays open: only ZooKeeper tells.
    let standby = MasterContender::contend(&url, &info_of(&second.url, "m2"), &options())
        .await
        .unwrap();
    leading.withdraw().await.unwrap();
    match next(&mut events).await {
        Err(Error::Disconnected { reason }) => assert!(reason.contains("ZooKeeper"), "{reason}"),
        other => panic!("expected Disconnected, got {other:?}"),
    }
    assert_eq!(
        next(&mut events).await.unwrap().r#type(),
        event::Type::Subscribed
    );
    assert_eq!(second.received(), ["SUBSCRIBE"]);
    standby.withdraw().await.unwrap();
}

#[tokio::test]
async fn the_real_master_is_found_through_zookeeper() {
    let Some(real) = interop_master("") else {
        return;
    };
    let Some(zk) = zookeeper_group("") else {
        return;
    };
    let direct = MasterClient::from_url(&real).unwrap();
    let info = direct
        .get_master()
        .await
        .unwrap()
        .master_info
        .expect("master_info");
    let url = ZkUrl::parse(&zk).unwrap();
    let candidacy = MasterContender::contend(&url, &info, &options())
        .await
        .unwrap();
    let master = client(&zk);
    let version = master.get_version().await.unwrap();
    assert_eq!(version.version_info.version, "1.11.0");
    let found = master.get_master().await.unwrap().master_info.unwrap();
    assert_eq!(found.id, info.id);
    candidacy.withdraw().await.unwrap();
}
