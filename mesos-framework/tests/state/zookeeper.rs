//! The ZooKeeper store against a real ZooKeeper (`MESOS_RS_ZOOKEEPER`,
//! started by `scripts/zookeeper.sh`; skipped without it unless
//! `MESOS_RS_REQUIRE_ENV=1`): the conformance suite, Mesos-style ACLs with
//! digest credentials, the znode size limit, and session expiry.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use mesos_framework::state::{
    StateError, StateStore, StoreLimits, ZooKeeperStateStore, ZooKeeperStoreOptions,
    ZNODE_DATA_LIMIT,
};
use mesos_proto::v1::{FrameworkId, TaskState};
use mesos_zookeeper::{ZkServer, ZkUrl};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use zookeeper_client::{Client, Permission};

use crate::conformance::{status, Harness};

const WAIT: Duration = Duration::from_secs(20);

fn options() -> ZooKeeperStoreOptions {
    ZooKeeperStoreOptions::default().session_timeout(Duration::from_secs(4))
}

/// A path no other test uses, or `None` (skipped) without ZooKeeper.
fn group(test: &str) -> Option<ZkUrl> {
    let url = mesos_test_support::environment::zookeeper_group(test)?;
    Some(ZkUrl::parse(&url).expect("a valid test URL"))
}

pub struct ZkHarness(ZkUrl);

#[async_trait]
impl Harness for ZkHarness {
    async fn open(&self, limits: StoreLimits) -> Box<dyn StateStore> {
        let store = ZooKeeperStateStore::connect(self.0.clone(), options().limits(limits));
        Box::new(tokio::time::timeout(WAIT, store).await.unwrap().unwrap())
    }
}

async fn harness(test: &str) -> Option<ZkHarness> {
    group(test).map(ZkHarness)
}

conformance_tests!(harness);

fn with_credentials(url: &ZkUrl, user: &str, password: &str) -> ZkUrl {
    let text = format!(
        "zk://{user}:{password}@{}{}",
        url.connect_string(),
        url.path()
    );
    ZkUrl::parse(&text).unwrap()
}

async fn plain_client(url: &ZkUrl) -> Client {
    Client::connector()
        .with_session_timeout(Duration::from_secs(4))
        .connect(&url.connect_string())
        .await
        .unwrap()
}

#[tokio::test]
async fn credentials_make_the_znodes_readable_by_all_and_writable_by_their_owner() {
    let Some(url) = group("zk_acls") else { return };
    let owner = with_credentials(&url, "framework", "s3cret");
    let store = ZooKeeperStateStore::connect(owner.clone(), options())
        .await
        .unwrap();
    assert!(!format!("{store:?}").contains("s3cret"));
    let id = FrameworkId {
        value: "fw-acl".into(),
    };
    store.set_framework_id(&id).await.unwrap();
    store
        .put_task_state(&status("t", TaskState::TaskRunning, "a"))
        .await
        .unwrap();

    // Mesos's ACL: world READ, and ALL for the digest identity that wrote.
    let anonymous = plain_client(&url).await;
    let path = format!("{}/framework_id", url.path());
    let (acl, _) = anonymous.get_acl(&path).await.unwrap();
    assert_eq!(acl.len(), 2, "{acl:?}");
    assert!(acl.iter().any(|a| a.scheme() == "world"
        && a.id() == "anyone"
        && a.permission() == Permission::READ));
    assert!(acl.iter().any(|a| a.scheme() == "digest"
        && a.id().starts_with("framework:")
        && a.permission() == Permission::ALL));
    anonymous.get_data(&path).await.unwrap();
    assert_eq!(
        anonymous.set_data(&path, b"x", None).await.unwrap_err(),
        zookeeper_client::Error::NoAuth
    );

    // Another identity reads the state but cannot change it.
    let intruder = ZooKeeperStateStore::connect(with_credentials(&url, "intruder", "x"), options())
        .await
        .unwrap();
    assert_eq!(intruder.framework_id().await.unwrap(), Some(id.clone()));
    assert!(matches!(
        intruder.clear_framework_id().await,
        Err(StateError::ZooKeeper {
            source: zookeeper_client::Error::NoAuth,
            ..
        })
    ));
    assert!(matches!(
        intruder
            .put_task_state(&status("t", TaskState::TaskKilled, "a"))
            .await,
        Err(StateError::ZooKeeper {
            source: zookeeper_client::Error::NoAuth,
            ..
        })
    ));
    assert_eq!(store.framework_id().await.unwrap(), Some(id));
}

#[tokio::test]
async fn the_znode_limit_is_honoured() {
    let Some(url) = group("zk_znode_limit") else {
        return;
    };
    let limits = StoreLimits::default().max_entry_bytes(usize::MAX);
    let store = ZooKeeperStateStore::connect(url, options().limits(limits))
        .await
        .unwrap();
    // A state whose record is exactly the largest allowed: ZooKeeper takes it.
    let sized = |len: usize| {
        let mut s = status("big", TaskState::TaskRunning, "a");
        s.data = Some(vec![b'x'; len].into());
        s
    };
    let overhead = mesos_framework::state::codec::encode_task_state(&sized(ZNODE_DATA_LIMIT - 64))
        .len()
        - (ZNODE_DATA_LIMIT - 64);
    let largest = sized(ZNODE_DATA_LIMIT - overhead);
    assert_eq!(
        mesos_framework::state::codec::encode_task_state(&largest).len(),
        ZNODE_DATA_LIMIT
    );
    store.put_task_state(&largest).await.unwrap();
    assert_eq!(store.task_states().await.unwrap(), vec![largest]);
    // One byte more is refused before it reaches ZooKeeper.
    let err = store
        .put_task_state(&sized(ZNODE_DATA_LIMIT - overhead + 1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StateError::EntryTooLarge { len, max: ZNODE_DATA_LIMIT, .. } if len == ZNODE_DATA_LIMIT + 1),
        "{err:?}"
    );
}

/// A loopback relay to ZooKeeper that can cut its clients off.
struct Relay {
    port: u16,
    closed: Arc<watch::Sender<bool>>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    async fn start(upstream: String) -> Relay {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let closed = Arc::new(watch::channel(false).0);
        let state = closed.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut downstream, _)) = listener.accept().await {
                if *state.borrow() {
                    continue; // dropped: refused while cut off
                }
                let mut cut = state.subscribe();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut up) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut downstream, &mut up) => {}
                        _ = cut.wait_for(|closed| *closed) => {}
                    }
                });
            }
        });
        Relay { port, closed, task }
    }

    fn cut(&self, closed: bool) {
        self.closed.send_replace(closed);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Ends `session` as ZooKeeper's expiry does: takes it over on a direct
/// connection and closes it, until ZooKeeper refuses it as expired.
async fn expire(url: &ZkUrl, session: zookeeper_client::SessionInfo) {
    let deadline = tokio::time::Instant::now() + WAIT;
    let servers = url.connect_string();
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the session never expired"
        );
        let attempt = Client::connector()
            .with_session(session.clone())
            .with_session_timeout(Duration::from_secs(4))
            .connect(&servers);
        match tokio::time::timeout(Duration::from_secs(5), attempt).await {
            Ok(Err(zookeeper_client::Error::SessionExpired)) => return,
            Ok(Ok(client)) => {
                let mut states = client.state_watcher();
                drop(client);
                let _ = tokio::time::timeout(Duration::from_secs(5), async {
                    while !states.changed().await.is_terminated() {}
                })
                .await;
            }
            Ok(Err(_)) | Err(_) => tokio::task::yield_now().await,
        }
    }
}

#[tokio::test]
async fn an_expired_session_is_replaced_and_nothing_is_lost() {
    let Some(url) = group("zk_session_expiry") else {
        return;
    };
    let server = &url.servers()[0];
    let relay = Relay::start(server.to_string()).await;
    let through = url
        .with_servers(vec![ZkServer {
            host: "127.0.0.1".into(),
            port: relay.port,
        }])
        .unwrap();
    let store = ZooKeeperStateStore::connect(through, options())
        .await
        .unwrap();
    let before = status("before", TaskState::TaskRunning, "a");
    store.put_task_state(&before).await.unwrap();
    let first = store.session_for_tests().await.expect("a session");

    relay.cut(true);
    expire(&url, first.clone()).await;
    relay.cut(false);

    // The next writes find the session expired, open a new one and succeed.
    let after = status("after", TaskState::TaskStaging, "b");
    tokio::time::timeout(WAIT, store.put_task_state(&after))
        .await
        .expect("the write completes")
        .unwrap();
    let second = store.session_for_tests().await.expect("a session");
    assert_ne!(second.id(), first.id(), "a new session");
    assert_eq!(store.task_states().await.unwrap(), vec![after, before]);
}
