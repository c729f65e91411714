//! The operator client (`mesos-operator`) over TLS against mesos-local's
//! `https://` master and agent: server authentication (calls on the master
//! and on the agent it names, and SUBSCRIBE), mutual TLS (refused without
//! a client certificate, answered with one) and a wrong CA (a typed,
//! explained handshake error).

use futures::StreamExt as _;
use mesos_operator::{ClientBuilder, MasterClient, TlsConfig};
use mesos_proto::v1::master::event;
use mesos_test_support::tls::test_pki;

use super::{cluster, mutual, server_auth, trusting, WAIT};

fn master(url: &str, tls: TlsConfig) -> MasterClient {
    ClientBuilder::new([url])
        .tls(tls)
        .master()
        .expect("an operator client")
}

/// The TLS handshake failure under an operator client's error.
fn handshake_reason(err: &mesos_operator::Error) -> String {
    match err {
        mesos_operator::Error::Transport {
            source: mesos_http::Error::TlsHandshake { reason, .. },
            ..
        } => reason.clone(),
        other => panic!("expected a TLS handshake error, got {other:?} ({other})"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_calls_and_subscribe_over_tls() {
    let pki = test_pki();
    let cluster = cluster(server_auth(&pki)).await;
    let master = master(cluster.master_url(), trusting(&pki.ca_pem));
    let health = tokio::time::timeout(WAIT, master.get_health())
        .await
        .expect("in time")
        .expect("GET_HEALTH over https");
    assert!(health.healthy);

    // The agent the master names is reached over https too.
    let agents = master.get_agents().await.expect("GET_AGENTS");
    let agent = agents.agents.first().expect("an agent");
    let agent_client = master.agent_client(agent).expect("an agent client");
    let state = agent_client.get_state().await.expect("agent GET_STATE");
    assert!(state.get_frameworks.is_some(), "{state:?}");

    let mut events = master.subscribe();
    let first = tokio::time::timeout(WAIT, events.next())
        .await
        .expect("an event in time")
        .expect("the stream yields")
        .expect("SUBSCRIBED over https");
    assert_eq!(first.r#type(), event::Type::Subscribed, "{first:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_mutual_tls_refuses_without_a_certificate_and_answers_with_one() {
    let pki = test_pki();
    let cluster = cluster(mutual(&pki)).await;
    let bare = master(cluster.master_url(), trusting(&pki.ca_pem));
    let err = bare.get_version().await.expect_err("refused");
    let reason = handshake_reason(&err);
    assert!(reason.contains("mutual TLS"), "{reason}");
    assert!(!err.is_retryable(), "a refused certificate is final: {err}");

    let identified = trusting(&pki.ca_pem)
        .identity_pem(pki.client_pem.as_bytes(), pki.client_key_pem.as_bytes())
        .expect("an identity");
    let version = master(cluster.master_url(), identified)
        .get_version()
        .await
        .expect("GET_VERSION with a client certificate");
    assert!(!version.version_info.version.is_empty(), "{version:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_client_refuses_a_master_signed_by_another_ca() {
    let pki = test_pki();
    let cluster = cluster(server_auth(&pki)).await;
    let wrong = master(cluster.master_url(), trusting(&pki.other_ca_pem));
    let err = wrong.get_health().await.expect_err("refused");
    let reason = handshake_reason(&err);
    assert!(reason.contains("not signed by a trusted CA"), "{reason}");
    assert!(!err.is_retryable(), "{err}");
}
