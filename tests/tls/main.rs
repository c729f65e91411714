//! TLS end to end, against mesos-local serving `https://` with certificates
//! generated for the run (`mesos_test_support::tls`):
//!
//! - server authentication: a scheduler trusting the cluster's CA
//!   subscribes, launches a task on Mesos's test executor (our
//!   `mesos-executor`), which reaches its agent over `https://` with the
//!   `LIBPROCESS_SSL_*` variables the agent hands it, and finishes;
//! - mutual TLS: the cluster requires client certificates; a scheduler
//!   without one is refused with a typed, explained error, with one it
//!   runs the same task (the executor presents its own certificate);
//! - a wrong CA: the scheduler refuses the master's certificate with
//!   `Error::TlsHandshake` (not retried), and the driver ends with it;
//! - the operator client over the same three setups (`operator.rs`), and
//!   an executor refusing an agent signed by another CA (`executor.rs`).

use std::time::Duration;

use futures::StreamExt as _;
use mesos_local::{ClusterTls, LocalCluster};
use mesos_proto::builders::CommandInfoBuilder;
use mesos_proto::v1::{ExecutorInfo, FrameworkInfo, TaskState};
use mesos_scheduler::{SchedulerConfig, SchedulerDriver, SchedulerEvent, Status, TlsConfig};
use mesos_test_support::tls::{test_pki, TestPki};
use mesos_tests::OneTask;
use tokio::sync::mpsc;

mod executor;
mod operator;

/// Bound of every wait.
const WAIT: Duration = Duration::from_secs(60);

fn framework(name: &str) -> FrameworkInfo {
    FrameworkInfo::builder("root", name)
        .build()
        .expect("a valid framework")
}

async fn cluster(tls: ClusterTls) -> LocalCluster {
    LocalCluster::builder()
        .docker(false)
        .allocation_interval(Duration::from_millis(100))
        .tls(tls)
        .start()
        .await
        .expect("the cluster starts")
}

fn server_auth(pki: &TestPki) -> ClusterTls {
    ClusterTls::new(
        pki.server_pem.as_bytes(),
        pki.server_key_pem.as_bytes(),
        pki.ca_pem.as_bytes(),
    )
    .expect("server TLS")
}

fn mutual(pki: &TestPki) -> ClusterTls {
    server_auth(pki)
        .require_client_certificates(
            pki.server_pem.as_bytes(),
            pki.server_key_pem.as_bytes(),
            pki.ca_pem.as_bytes(),
            pki.client_pem.as_bytes(),
            pki.client_key_pem.as_bytes(),
        )
        .expect("mutual TLS")
}

fn trusting(ca_pem: &str) -> TlsConfig {
    TlsConfig::new().ca_pem(ca_pem.as_bytes()).expect("a CA")
}

/// Runs one task on `cluster` over TLS (`tls` for the scheduler) and
/// returns the task's states as the scheduler saw them.
async fn run_one_task(cluster: &LocalCluster, tls: TlsConfig) -> Vec<TaskState> {
    let binary = mesos_test_support::example_binary("test_executor");
    let executor = ExecutorInfo::builder("tls-executor")
        .command(CommandInfoBuilder::argv(
            binary.display().to_string(),
            Vec::<String>::new(),
        ))
        .cpus(0.1)
        .mem(32.0)
        .build()
        .expect("a valid executor");
    let (updates_tx, mut updates) = mpsc::unbounded_channel();
    let config = SchedulerConfig::new([cluster.master_url()], framework("tls"))
        .expect("config")
        .tls(tls);
    let driver = SchedulerDriver::new(
        OneTask {
            task_id: "tls-task",
            executor: Some(executor),
            updates: updates_tx,
        },
        config,
    )
    .expect("a driver");
    driver.start();
    let mut states = Vec::new();
    while !states.iter().any(|s: &TaskState| s.is_terminal()) {
        let status = tokio::time::timeout(WAIT, updates.recv())
            .await
            .unwrap_or_else(|_| panic!("no terminal update within {WAIT:?}: {states:?}"))
            .unwrap_or_else(|| panic!("driver ended: {:?}", driver.failure()));
        states.push(status.state());
    }
    let stopped = tokio::time::timeout(WAIT, driver.stop(false))
        .await
        .expect("stop returns");
    assert_eq!(stopped, Status::DriverStopped);
    states
}

/// The first event or error of a subscription.
async fn first_event(config: SchedulerConfig) -> Result<SchedulerEvent, mesos_scheduler::Error> {
    let (_client, mut events) = mesos_scheduler::subscribe(config).expect("a subscription");
    tokio::time::timeout(WAIT, events.next())
        .await
        .expect("an answer in time")
        .expect("the stream yields")
}

fn handshake_reason(err: &mesos_scheduler::Error) -> &str {
    match err.transport() {
        Some(mesos_http::Error::TlsHandshake { reason, .. }) => reason,
        other => panic!("expected a TLS handshake error, got {other:?} ({err})"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduler_and_executor_run_a_task_over_tls() {
    let pki = test_pki();
    let cluster = cluster(server_auth(&pki)).await;
    assert!(cluster.master_url().starts_with("https://127.0.0.1:"));
    let states = run_one_task(&cluster, trusting(&pki.ca_pem)).await;
    assert_eq!(
        states,
        [TaskState::TaskRunning, TaskState::TaskFinished],
        "the executor's updates over https"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_refuses_a_scheduler_without_a_certificate_and_runs_one_with() {
    let pki = test_pki();
    let cluster = cluster(mutual(&pki)).await;
    let bare = SchedulerConfig::new([cluster.master_url()], framework("no cert"))
        .expect("config")
        .tls(trusting(&pki.ca_pem));
    let err = first_event(bare)
        .await
        .expect_err("refused without a certificate");
    let reason = handshake_reason(&err);
    assert!(reason.contains("mutual TLS"), "{reason}");
    assert!(
        !err.is_transient(),
        "a refused certificate is not retried: {err}"
    );

    let identified = trusting(&pki.ca_pem)
        .identity_pem(pki.client_pem.as_bytes(), pki.client_key_pem.as_bytes())
        .expect("an identity");
    let states = run_one_task(&cluster, identified).await;
    assert_eq!(states, [TaskState::TaskRunning, TaskState::TaskFinished]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_signed_by_another_ca_is_refused_with_an_explained_error() {
    let pki = test_pki();
    let cluster = cluster(server_auth(&pki)).await;
    let config = SchedulerConfig::new([cluster.master_url()], framework("wrong ca"))
        .expect("config")
        .tls(trusting(&pki.other_ca_pem));
    let err = first_event(config.clone()).await.expect_err("refused");
    let reason = handshake_reason(&err);
    assert!(reason.contains("not signed by a trusted CA"), "{reason}");
    assert!(reason.contains("LIBPROCESS_SSL_CA_FILE"), "{reason}");

    // The driver ends with it at once rather than retrying for ever.
    let (updates, _) = mpsc::unbounded_channel();
    let driver = SchedulerDriver::new(
        OneTask {
            task_id: "tls-task",
            executor: None,
            updates,
        },
        config,
    )
    .expect("a driver");
    let status = tokio::time::timeout(WAIT, driver.run())
        .await
        .expect("the driver ends");
    assert_eq!(status, Status::DriverAborted);
    let failure = driver.failure().expect("a failure");
    assert!(
        handshake_reason(&failure).contains("trusted CA"),
        "{failure}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_the_certificate_does_not_carry_is_refused_unless_overridden() {
    let pki = test_pki();
    let cluster = cluster(server_auth(&pki)).await;
    let wrong_name = trusting(&pki.ca_pem)
        .server_name("mesos.example")
        .expect("a name");
    let config = SchedulerConfig::new([cluster.master_url()], framework("name"))
        .expect("config")
        .tls(wrong_name);
    let err = first_event(config).await.expect_err("refused");
    assert!(
        handshake_reason(&err).contains("does not name the host"),
        "{err}"
    );
    let right_name = trusting(&pki.ca_pem)
        .server_name("localhost")
        .expect("a name");
    let config = SchedulerConfig::new([cluster.master_url()], framework("name"))
        .expect("config")
        .tls(right_name);
    let event = first_event(config).await.expect("subscribed");
    assert!(
        matches!(event, SchedulerEvent::Subscribed { .. }),
        "{event:?}"
    );
}
