//! Every call type of `mesos.v1.master.Call.Type` (39) and
//! `mesos.v1.agent.Call.Type` (32) at Mesos 1.11.0 has its method: each
//! method is called once against a recording fake that answers `202`, and
//! the call types it received are compared with the enums'
//! (`ATTACH_CONTAINER_INPUT`, whose body is a RecordIO stream, by its first
//! record).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http::StatusCode;
use http_body_util::BodyExt;
use mesos_http::server;
use mesos_operator::proto::{
    agent, maintenance, master, quota, value, AgentId, ContainerId, FrameworkId, Resource,
    ResourceProviderId, ResourceProviderInfo,
};
use mesos_operator::{ClientBuilder, ContainerLaunch};
use mesos_proto::recordio::RecordIoCodec;
use mesos_proto::MediaType;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

type Recorded = Arc<Mutex<Vec<(Option<String>, Bytes)>>>;

/// Records every request's `Authorization` header and body, and answers
/// `202 Accepted`.
async fn recording_fake() -> (String, Recorded, CancellationToken) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let shutdown = CancellationToken::new();
    let log = bodies.clone();
    let handler = move |request: http::Request<hyper::body::Incoming>, _peer| {
        let log = log.clone();
        async move {
            let authorization = request
                .headers()
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = request.into_body().collect().await.unwrap().to_bytes();
            log.lock().unwrap().push((authorization, body));
            server::empty_response(StatusCode::ACCEPTED)
        }
    };
    tokio::spawn(server::serve(listener, handler, shutdown.clone()));
    (url, bodies, shutdown)
}

fn names<T: Ord>(all: impl IntoIterator<Item = T>) -> std::collections::BTreeSet<T> {
    all.into_iter().collect()
}

fn agent_id() -> AgentId {
    AgentId { value: "a".into() }
}

fn container() -> ContainerId {
    ContainerId {
        value: "c".into(),
        parent: Some(Box::new(ContainerId {
            value: "p".into(),
            parent: None,
        })),
    }
}

fn disk() -> Resource {
    Resource {
        name: "disk".into(),
        r#type: value::Type::Scalar as i32,
        scalar: Some(value::Scalar { value: 1.0 }),
        ..Default::default()
    }
}

#[tokio::test]
async fn every_master_call_type_has_a_method() {
    let (url, bodies, _shutdown) = recording_fake().await;
    let m = ClientBuilder::new([&url])
        .request_timeout(Duration::from_secs(10))
        .master()
        .unwrap();
    let d = Duration::from_secs(1);
    // Queries fail here (a 202 has no answer); what matters is what was sent.
    let _ = m.get_health().await;
    let _ = m.get_flags().await;
    let _ = m.get_version().await;
    let _ = m.get_metrics(Some(d)).await;
    let _ = m.get_logging_level().await;
    m.set_logging_level(1, d).await.unwrap();
    let _ = m.list_files("/").await;
    let _ = m.read_file("/f", 0, Some(1)).await;
    let _ = m.get_state().await;
    let _ = m.get_agents().await;
    let _ = m.get_frameworks().await;
    let _ = m.get_executors().await;
    let _ = m.get_operations().await;
    let _ = m.get_tasks().await;
    let _ = m.get_roles().await;
    let _ = m.get_weights().await;
    m.update_weights(vec![]).await.unwrap();
    let _ = m.get_master().await;
    let _ = m.subscribe().next().await;
    m.reserve_resources(agent_id(), vec![disk()]).await.unwrap();
    m.unreserve_resources(agent_id(), vec![disk()])
        .await
        .unwrap();
    m.create_volumes(agent_id(), vec![disk()]).await.unwrap();
    m.destroy_volumes(agent_id(), vec![disk()]).await.unwrap();
    m.grow_volume(Some(agent_id()), disk(), disk())
        .await
        .unwrap();
    m.shrink_volume(None, disk(), value::Scalar { value: 1.0 })
        .await
        .unwrap();
    let _ = m.get_maintenance_status().await;
    let _ = m.get_maintenance_schedule().await;
    m.update_maintenance_schedule(maintenance::Schedule::default())
        .await
        .unwrap();
    m.start_maintenance(vec![]).await.unwrap();
    m.stop_maintenance(vec![]).await.unwrap();
    m.drain_agent(agent_id(), Some(d), true).await.unwrap();
    m.deactivate_agent(agent_id()).await.unwrap();
    m.reactivate_agent(agent_id()).await.unwrap();
    let _ = m.get_quota().await;
    m.update_quota(vec![quota::QuotaConfig::default()], false)
        .await
        .unwrap();
    m.set_quota(quota::QuotaRequest::default()).await.unwrap();
    m.remove_quota("r").await.unwrap();
    m.teardown(FrameworkId { value: "f".into() }).await.unwrap();
    m.mark_agent_gone(agent_id()).await.unwrap();

    let sent = bodies.lock().unwrap().clone();
    let sent = names(sent.iter().map(|(_, body)| {
        let call: master::Call = MediaType::Protobuf.decode(body).expect("a master call");
        call.r#type()
    }));
    let all = names((1..100).filter_map(|n| master::call::Type::try_from(n).ok()));
    assert_eq!(all.len(), 39);
    assert_eq!(sent, all);
}

#[tokio::test]
async fn every_agent_call_type_has_a_method() {
    let (url, bodies, _shutdown) = recording_fake().await;
    let a = ClientBuilder::new([&url])
        .request_timeout(Duration::from_secs(10))
        .agent()
        .unwrap();
    let d = Duration::from_secs(1);
    let _ = a.get_health().await;
    let _ = a.get_flags().await;
    let _ = a.get_version().await;
    let _ = a.get_metrics(None).await;
    let _ = a.get_logging_level().await;
    a.set_logging_level(1, d).await.unwrap();
    let _ = a.list_files("/").await;
    let _ = a.read_file("/f", 0, None).await;
    let _ = a.get_state().await;
    let _ = a.get_containers(true, true).await;
    let _ = a.get_frameworks().await;
    let _ = a.get_executors().await;
    let _ = a.get_operations().await;
    let _ = a.get_tasks().await;
    let _ = a.get_agent().await;
    let _ = a.get_resource_providers().await;
    a.launch_nested_container(container(), ContainerLaunch::default())
        .await
        .unwrap();
    let _ = a.wait_nested_container(container()).await;
    a.kill_nested_container(container(), Some(15))
        .await
        .unwrap();
    a.remove_nested_container(container()).await.unwrap();
    let _ = a
        .launch_nested_container_session(container(), ContainerLaunch::default())
        .await;
    let _ = a.attach_container_output(container()).await;
    a.launch_container(container(), vec![], ContainerLaunch::default())
        .await
        .unwrap();
    let _ = a.wait_container(container()).await;
    a.kill_container(container(), None).await.unwrap();
    a.remove_container(container()).await.unwrap();
    a.add_resource_provider_config(ResourceProviderInfo::default())
        .await
        .unwrap();
    a.update_resource_provider_config(ResourceProviderInfo::default())
        .await
        .unwrap();
    a.remove_resource_provider_config("t", "n").await.unwrap();
    a.mark_resource_provider_gone(ResourceProviderId { value: "r".into() })
        .await
        .unwrap();
    a.prune_images(vec![]).await.unwrap();
    let whole = bodies.lock().unwrap().clone();
    // The one call with a streamed body: its first RecordIO record.
    a.attach_container_input(container(), futures::stream::empty())
        .await
        .unwrap();
    let streamed = bodies.lock().unwrap().last().unwrap().1.clone();
    let mut streamed = bytes::BytesMut::from(&streamed[..]);
    let first = RecordIoCodec::new()
        .decode(&mut streamed)
        .unwrap()
        .expect("a first record");
    let first: agent::Call = MediaType::Protobuf.decode(&first).expect("an agent call");

    let mut sent = names(whole.iter().map(|(_, body)| {
        let call: agent::Call = MediaType::Protobuf.decode(body).expect("an agent call");
        call.r#type()
    }));
    sent.insert(first.r#type());
    let all = names((1..100).filter_map(|n| agent::call::Type::try_from(n).ok()));
    assert_eq!(all.len(), 32);
    assert_eq!(sent, all);
}

#[tokio::test]
async fn credentials_go_with_every_call_and_json_is_json() {
    let (url, bodies, _shutdown) = recording_fake().await;
    let master = ClientBuilder::new([&url])
        .credentials(mesos_operator::Credentials::basic("ops", "s3cret"))
        .media_type(mesos_operator::MediaType::Json)
        .master()
        .unwrap();
    master.deactivate_agent(agent_id()).await.unwrap();
    let agent = ClientBuilder::new([&url])
        .credentials(mesos_operator::Credentials::basic("ops", "s3cret"))
        .agent()
        .unwrap();
    agent.prune_images(vec![]).await.unwrap();
    let sent = bodies.lock().unwrap().clone();
    assert_eq!(sent.len(), 2);
    for (authorization, _) in &sent {
        // base64("ops:s3cret")
        assert_eq!(authorization.as_deref(), Some("Basic b3BzOnMzY3JldA=="));
    }
    let json: serde_json::Value = serde_json::from_slice(&sent[0].1).unwrap();
    assert_eq!(json["type"], "DEACTIVATE_AGENT");
    assert_eq!(json["deactivate_agent"]["agent_id"]["value"], "a");
}
