//! The detector and contender against a real ZooKeeper (`MESOS_RS_ZOOKEEPER`,
//! started by `scripts/zookeeper.sh`), with znodes written as Mesos 1.11
//! masters write them. Each test works in a group path of its own.

use std::time::Duration;

use mesos_proto::v1::MasterInfo;
use mesos_zookeeper::member::{self, JSON_INFO_LABEL, PROTOBUF_INFO_LABEL};
use mesos_zookeeper::{DetectorOptions, Leader, MasterContender, MasterDetector, ZkUrl};

const WAIT: Duration = Duration::from_secs(15);

/// A real 1.11 master's `MasterInfo`, in the JSON a master writes into its
/// `json.info_` znode (from `shared/mesos-samples/master-state.json`; its
/// capabilities include `QUOTA_V2`, which the v1 schema does not define).
const REAL_MASTER_INFO: &str = include_str!("data/master-info.json");

fn options() -> DetectorOptions {
    DetectorOptions::default()
        .session_timeout(Duration::from_secs(4))
        .retry(Duration::from_millis(50), Duration::from_millis(500))
}

/// A group path no other test uses, or `None` (skipped) without ZooKeeper.
fn group(test: &str) -> Option<ZkUrl> {
    let url = mesos_test_support::environment::zookeeper_group(test)?;
    Some(ZkUrl::parse(&url).expect("a valid test URL"))
}

/// The real master's JSON with its PID's port replaced by `port`.
fn real_master_json(port: u16) -> Vec<u8> {
    let mut value: serde_json::Value = serde_json::from_str(REAL_MASTER_INFO).unwrap();
    value["pid"] = format!("master@127.0.0.1:{port}").into();
    value["port"] = port.into();
    value["address"]["port"] = port.into();
    serde_json::to_vec(&value).unwrap()
}

/// The real master's `MasterInfo` with its PID's port replaced by `port`.
fn real_master_info(port: u16) -> MasterInfo {
    mesos_proto::MediaType::Json
        .decode(&real_master_json(port))
        .expect("the sample is a MasterInfo")
}

async fn join_json(url: &ZkUrl, port: u16) -> MasterContender {
    MasterContender::join(
        url,
        Some(JSON_INFO_LABEL),
        &real_master_json(port),
        &options(),
    )
    .await
    .expect("join the group")
}

async fn leader_becomes(
    detector: &MasterDetector,
    what: &str,
    accept: impl FnMut(Option<&Leader>) -> bool,
) -> Option<Leader> {
    match detector.wait_for(WAIT, accept).await {
        Ok(leader) => leader,
        Err(last) => panic!("leader never became {what} within {WAIT:?}; last seen: {last:?}"),
    }
}

fn pid_port(leader: Option<&Leader>) -> Option<u16> {
    let endpoint = leader?.endpoint()?;
    endpoint.rsplit_once(':')?.1.parse().ok()
}

#[tokio::test]
async fn the_lowest_sequence_leads_and_deletions_move_the_leader() {
    let Some(url) = group("lowest_sequence_leads") else {
        return;
    };
    let first = join_json(&url, 5051).await;
    let second = join_json(&url, 5052).await;
    assert!(first.membership().sequence < second.membership().sequence);
    assert!(
        first.membership().name.starts_with("json.info_0"),
        "{:?}",
        first.membership()
    );

    let detector = MasterDetector::start(url.clone(), options()).unwrap();
    let leader = leader_becomes(&detector, "the first master", |l| pid_port(l) == Some(5051))
        .await
        .unwrap();
    // Read leniently: the real master's fields, its unknown capability kept
    // as a capability without a type.
    assert_eq!(leader.info.id, "69ff3b16-b80b-4935-91da-91b346281e44");
    assert_eq!(leader.info.version.as_deref(), Some("1.11.0"));
    assert_eq!(leader.info.ip, 16_777_343);
    assert_eq!(leader.info.capabilities.len(), 3);
    assert_eq!(leader.info.capabilities[2].r#type, None);
    assert_eq!(leader.endpoint().as_deref(), Some("127.0.0.1:5051"));

    first.withdraw().await.unwrap();
    leader_becomes(&detector, "the second master", |l| {
        pid_port(l) == Some(5052)
    })
    .await;

    // A dropped contender's session closes and its ephemeral znode goes.
    drop(second);
    leader_becomes(&detector, "none", |l| l.is_none()).await;
}

#[tokio::test]
async fn legacy_znodes_are_read_as_mesos_reads_them() {
    let Some(url) = group("legacy_znodes") else {
        return;
    };
    // Pre-0.24: binary protobuf under `info_`, and before that a bare PID.
    let info = real_master_info(5061);
    let protobuf = prost::Message::encode_to_vec(&info);
    let legacy_proto =
        MasterContender::join(&url, Some(PROTOBUF_INFO_LABEL), &protobuf, &options())
            .await
            .unwrap();
    let legacy_pid = MasterContender::join(&url, None, b"master@127.0.0.1:5062", &options())
        .await
        .unwrap();
    let odd = MasterContender::join(&url, Some("mystery"), b"{}", &options())
        .await
        .unwrap();
    let current = join_json(&url, 5063).await;
    assert!(legacy_pid.membership().label.is_none());

    let detector = MasterDetector::start(url.clone(), options()).unwrap();
    let leader = leader_becomes(&detector, "the protobuf master", |l| {
        pid_port(l) == Some(5061)
    })
    .await
    .unwrap();
    assert_eq!(leader.info, info);
    assert_eq!(leader.membership.label.as_deref(), Some("info"));

    legacy_proto.withdraw().await.unwrap();
    let leader = leader_becomes(&detector, "the PID master", |l| pid_port(l) == Some(5062))
        .await
        .unwrap();
    assert_eq!(leader.info.pid.as_deref(), Some("master@127.0.0.1:5062"));

    // An unknown label leads: Mesos cannot read it either; no leader.
    legacy_pid.withdraw().await.unwrap();
    leader_becomes(&detector, "none (unknown label)", |l| l.is_none()).await;

    odd.withdraw().await.unwrap();
    leader_becomes(&detector, "the JSON master", |l| pid_port(l) == Some(5063)).await;
    current.withdraw().await.unwrap();
    leader_becomes(&detector, "none", |l| l.is_none()).await;
}

#[tokio::test]
async fn a_missing_group_is_no_leader_until_a_master_joins() {
    let Some(url) = group("missing_group") else {
        return;
    };
    let detector = MasterDetector::start(url.clone(), options()).unwrap();
    // Wait for the detector to have looked (its session exists) before
    // checking that it reports no leader.
    let deadline = tokio::time::Instant::now() + WAIT;
    while detector.session_for_tests().is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no session within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(detector.leader(), None);
    let master = join_json(&url, 5071).await;
    leader_becomes(&detector, "the new master", |l| pid_port(l) == Some(5071)).await;
    master.withdraw().await.unwrap();
    leader_becomes(&detector, "none", |l| l.is_none()).await;
}

/// A TCP forwarder to ZooKeeper that can cut the network: while cut, it
/// closes every forwarded connection and every new one at once.
struct Partition {
    port: u16,
    cut: tokio::sync::watch::Sender<bool>,
}

impl Partition {
    async fn start(target: String) -> Partition {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (cut, _) = tokio::sync::watch::channel(false);
        let watch = cut.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut cut = watch.subscribe();
                if *cut.borrow() {
                    continue; // dropped: closed at once
                }
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.wait_for(|c| *c) => {}
                    }
                });
            }
        });
        Partition { port, cut }
    }

    fn set_cut(&self, cut: bool) {
        self.cut.send_replace(cut);
    }
}

#[tokio::test]
async fn an_expired_session_is_replaced_and_the_leader_kept() {
    let Some(url) = group("session_expiry") else {
        return;
    };
    let first = join_json(&url, 5081).await;
    let second = join_json(&url, 5082).await;
    // The detector reaches ZooKeeper through a link the test can cut.
    let partition = Partition::start(url.connect_string()).await;
    let through = url
        .with_servers(vec![mesos_zookeeper::ZkServer {
            host: "127.0.0.1".into(),
            port: partition.port,
        }])
        .unwrap();
    let session_timeout = Duration::from_secs(2);
    let detector =
        MasterDetector::start(through, options().session_timeout(session_timeout)).unwrap();
    leader_becomes(&detector, "the first master", |l| pid_port(l) == Some(5081)).await;
    let old_id = detector.session_for_tests().expect("a session").id();

    // Cut the network for longer than the session timeout: ZooKeeper
    // expires the session; meanwhile the first master leaves.
    partition.set_cut(true);
    first.withdraw().await.unwrap();
    tokio::time::sleep(session_timeout * 2).await;
    // The last known leader stays while ZooKeeper cannot be asked.
    assert_eq!(pid_port(detector.leader().as_ref()), Some(5081));
    partition.set_cut(false);

    // A new session, and the change made meanwhile is seen on it.
    leader_becomes(&detector, "the second master", |l| {
        pid_port(l) == Some(5082)
    })
    .await;
    let new_id = detector.session_for_tests().expect("a session").id();
    assert_ne!(new_id, old_id, "the expired session was replaced");
    second.withdraw().await.unwrap();
    leader_becomes(&detector, "none", |l| l.is_none()).await;
}

#[tokio::test]
async fn contender_writes_what_a_mesos_master_writes() {
    let Some(url) = group("contender_format") else {
        return;
    };
    let info = real_master_info(5091);
    let contender = MasterContender::contend(&url, &info, &options())
        .await
        .unwrap();
    assert_eq!(contender.membership().label.as_deref(), Some("json.info"));

    let reader = zookeeper_client::Client::connect(&url.connect_string())
        .await
        .unwrap();
    let (children, _) = reader.get_children(url.path()).await.unwrap();
    assert_eq!(children, vec![contender.membership().name.clone()]);
    assert!(
        children[0].len() == "json.info_".len() + 10,
        "a 10-digit sequence: {children:?}"
    );
    let (data, stat) = reader.get_data(&contender.path()).await.unwrap();
    assert!(stat.ephemeral_owner != 0, "the znode is ephemeral");
    let json: serde_json::Value = serde_json::from_slice(&data).unwrap();
    // Mesos's field names and encodings: ip as a uint32, address nested.
    assert_eq!(json["ip"], 16_777_343);
    assert_eq!(json["pid"], "master@127.0.0.1:5091");
    assert_eq!(json["address"]["ip"], "127.0.0.1");
    assert_eq!(json["capabilities"][0]["type"], "AGENT_UPDATE");
    let read = member::read_master_info(contender.membership(), &data).unwrap();
    assert_eq!(read, info);
    contender.withdraw().await.unwrap();
}

#[tokio::test]
async fn digest_credentials_let_everyone_read_and_only_the_creator_change() {
    let Some(url) = group("digest_credentials") else {
        return;
    };
    // The shared parent of every test's group stays open to all.
    let anonymous = zookeeper_client::Client::connect(&url.connect_string())
        .await
        .unwrap();
    let parent = url.path().rsplit_once('/').map(|(p, _)| p).unwrap();
    anonymous
        .mkdir(
            parent,
            &zookeeper_client::CreateMode::Persistent
                .with_acls(zookeeper_client::Acls::anyone_all()),
        )
        .await
        .unwrap();

    let authenticated =
        ZkUrl::parse(&url.to_string().replacen("zk://", "zk://fw:s3cret@", 1)).unwrap();
    let master = join_json(&authenticated, 5101).await;
    // Everyone reads: a detector without credentials finds the leader...
    let detector = MasterDetector::start(url.clone(), options()).unwrap();
    leader_becomes(&detector, "the master", |l| pid_port(l) == Some(5101)).await;
    // ... but only the creator's identity may change the znodes.
    let refused = anonymous.delete(&master.path(), None).await;
    assert!(
        matches!(refused, Err(zookeeper_client::Error::NoAuth)),
        "{refused:?}"
    );
    let refused = anonymous
        .create(
            &format!("{}/json.info_", url.path()),
            b"{}",
            &zookeeper_client::CreateMode::EphemeralSequential
                .with_acls(zookeeper_client::Acls::anyone_all()),
        )
        .await;
    assert!(
        matches!(refused, Err(zookeeper_client::Error::NoAuth)),
        "{refused:?}"
    );
    master.withdraw().await.unwrap();
    leader_becomes(&detector, "none", |l| l.is_none()).await;
}

#[tokio::test]
async fn an_expired_contender_session_loses_its_znode_and_says_so() {
    let Some(url) = group("contender_session_expiry") else {
        return;
    };
    let first = join_json(&url, 5111).await;
    let second = join_json(&url, 5112).await;
    let detector = MasterDetector::start(url.clone(), options()).unwrap();
    leader_becomes(&detector, "the first master", |l| pid_port(l) == Some(5111)).await;

    first.session().expire().await.expect("the session ends");
    // ZooKeeper deleted the znode: the next master leads.
    leader_becomes(&detector, "the second master", |l| {
        pid_port(l) == Some(5112)
    })
    .await;
    // The contender's own client learns that its session is gone.
    let lost = tokio::time::timeout(WAIT, first.session_lost()).await;
    assert!(
        lost.is_ok(),
        "session_lost() did not resolve within {WAIT:?}"
    );
    // Ending it again: ZooKeeper already refuses it.
    first.session().expire().await.expect("still expired");
    second.withdraw().await.unwrap();
}
