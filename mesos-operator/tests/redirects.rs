//! Finding the leading master with small fake masters (a real master
//! redirects only when it does not lead, which a standalone one never
//! does): `307`s are followed and the leader remembered, redirect loops
//! end in `NotLeader`, masters that cannot be connected to are skipped.

mod support;

use std::sync::Arc;

use http::StatusCode;
use mesos_operator::{ClientBuilder, Error, MediaType};
use support::{closed_port, healthy, FakeMaster, Reply};

fn api(url: &str) -> String {
    format!("{url}/api/v1")
}

#[tokio::test]
async fn a_redirect_leads_to_the_leader_which_is_remembered() {
    for media in [MediaType::Protobuf, MediaType::Json] {
        let leader = FakeMaster::start(|_, _| Reply::Response(Box::new(healthy()))).await;
        // As Mesos writes it: scheme-relative, the leader's host:port and path.
        let location = format!("//{}/api/v1", leader.url.trim_start_matches("http://"));
        let follower = FakeMaster::start(move |_, _| Reply::Redirect(location.clone())).await;
        let master = ClientBuilder::new([&follower.url])
            .media_type(media)
            .master()
            .unwrap();
        assert!(master.get_health().await.unwrap().healthy);
        assert_eq!(
            master.leader_url().as_deref(),
            Some(api(&leader.url).as_str())
        );
        assert!(master.get_health().await.unwrap().healthy);
        assert_eq!(follower.received(), ["GET_HEALTH"], "{media:?}");
        assert_eq!(leader.received(), ["GET_HEALTH", "GET_HEALTH"], "{media:?}");
    }
}

#[tokio::test]
async fn a_redirect_to_the_real_leader() {
    let Some(real) = mesos_test_support::environment::interop_master("") else {
        return;
    };
    let location = format!("//{}/api/v1", real.trim_start_matches("http://"));
    let follower = FakeMaster::start(move |_, _| Reply::Redirect(location.clone())).await;
    let master = ClientBuilder::new([&follower.url]).master().unwrap();
    let version = master.get_version().await.unwrap();
    assert_eq!(version.version_info.version, "1.11.0");
    assert_eq!(master.leader_url().as_deref(), Some(api(&real).as_str()));
}

#[tokio::test]
async fn endless_redirects_end_in_not_leader() {
    let own = Arc::new(std::sync::OnceLock::<String>::new());
    let location = own.clone();
    let loop_master = FakeMaster::start(move |_, _| {
        Reply::Redirect(format!("//{}/api/v1", location.get().expect("set")))
    })
    .await;
    own.set(loop_master.url.trim_start_matches("http://").to_string())
        .unwrap();
    let master = ClientBuilder::new([&loop_master.url])
        .max_redirects(3)
        .master()
        .unwrap();
    let error = master.get_state().await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::NotLeader {
                call: "GET_STATE",
                redirects: 3,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert_eq!(loop_master.received().len(), 4);
}

#[tokio::test]
async fn an_unreachable_master_is_skipped_for_the_next() {
    let down = closed_port().await;
    let up = FakeMaster::start(|_, _| Reply::Response(Box::new(healthy()))).await;
    let master = ClientBuilder::new([&down, &up.url]).master().unwrap();
    assert!(master.get_health().await.unwrap().healthy);
    assert_eq!(master.leader_url().as_deref(), Some(api(&up.url).as_str()));

    // All masters down: the transport error, retryable.
    let master = ClientBuilder::new([closed_port().await, closed_port().await])
        .master()
        .unwrap();
    let error = master.get_health().await.unwrap_err();
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    assert!(error.is_retryable());
}

#[tokio::test]
async fn statuses_and_wrong_answers_are_typed() {
    let master = FakeMaster::start(|_, n| match n {
        0 => Reply::Status(StatusCode::SERVICE_UNAVAILABLE, "No leader elected"),
        // The answer to another call.
        _ => Reply::Response(Box::new(healthy())),
    })
    .await;
    let client = ClientBuilder::new([&master.url]).master().unwrap();
    let error = client.get_state().await.unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert!(error.to_string().contains("No leader elected"), "{error}");
    assert!(error.is_retryable());
    let error = client.get_state().await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::UnexpectedResponse {
                call: "GET_STATE",
                ..
            }
        ),
        "{error:?}"
    );
}
