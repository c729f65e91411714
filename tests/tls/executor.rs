//! An executor over TLS against mesos-local's `https://` agent, for what
//! the task runs of `main.rs` do not show: a wrong CA ends the executor
//! driver at once with a typed, explained handshake error (not retried
//! until the recovery timeout).

use mesos_executor::{ExecutorConfig, ExecutorDriver, Status};
use mesos_proto::v1::{ExecutorId, FrameworkId};
use mesos_test_support::tls::test_pki;

use super::{cluster, server_auth, trusting, WAIT};

/// An executor that does nothing (it never gets a task here).
struct Idle;

#[async_trait::async_trait]
impl mesos_executor::Executor for Idle {}

/// The first agent's `https://host:port`, from `/master/state`'s PID
/// (`slave(1)@127.0.0.1:PORT`).
fn agent_url(cluster: &mesos_local::LocalCluster) -> String {
    let state = cluster.state();
    let pid = state["slaves"][0]["pid"]
        .as_str()
        .expect("an agent's pid")
        .to_string();
    let address = pid.split_once('@').expect("a libprocess pid").1;
    format!("https://{address}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_executor_refuses_an_agent_signed_by_another_ca() {
    let pki = test_pki();
    let cluster = cluster(server_auth(&pki)).await;
    let config = ExecutorConfig::builder(
        agent_url(&cluster),
        FrameworkId {
            value: "tls-framework".into(),
        },
        ExecutorId {
            value: "tls-executor".into(),
        },
    )
    .tls(trusting(&pki.other_ca_pem))
    .build()
    .expect("an executor config");
    let driver = ExecutorDriver::new(Idle, config).expect("a driver");
    driver.start();
    let status = tokio::time::timeout(WAIT, driver.join())
        .await
        .expect("the driver ends at once, not after the recovery timeout");
    assert_eq!(status, Status::DriverAborted);
    let failure = driver.failure().expect("a failure");
    let reason = match &*failure {
        mesos_executor::Error::Subscribe(mesos_http::Error::TlsHandshake { reason, .. }) => {
            reason.clone()
        }
        other => panic!("expected a TLS handshake error, got {other:?} ({other})"),
    };
    assert!(reason.contains("not signed by a trusted CA"), "{reason}");
}
