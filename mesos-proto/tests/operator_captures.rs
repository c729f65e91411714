//! Operator API responses captured from a real Apache Mesos 1.11.0 master and
//! agent decode in both media types.
//!
//! `tests/data/operator/` holds what the real-mesos master (`/api/v1`) and
//! its first agent (`/slave(1)/api/v1`) answered to each call POSTed as JSON,
//! once with `Accept: application/json` (`.json`) and once with
//! `Accept: application/x-protobuf` (`.pb`), while one command task
//! (`sleep 40`, launched by the real-mesos `probe_launch.py` scheduler) ran;
//! and the start of the master's operator `SUBSCRIBE` stream in both media
//! types (`master-subscribe*.recordio`).
//!
//! For each capture: the JSON decodes and re-encodes to the same JSON, the
//! protobuf decodes, and both carry the same message (Mesos's JSON writer adds
//! the fields with explicit defaults, its protobuf does not).

mod support;

use mesos_proto::codec::{with_explicit_defaults, WireMessage};
use mesos_proto::v1::{agent, master, TaskState};
use mesos_proto::MediaType;
use support::{check_operator_json, data, recordio_messages};

/// What Mesos 1.11 writes in its operator JSON that is not in the v1 schema
/// (fields of its internal messages): dropped by every v1 decoder, and
/// absent from the protobuf encoding of the same response.
/// `checkpoint` is the internal `SlaveInfo.checkpoint` (field 7), which v1's
/// `AgentInfo` does not have.
const MESOS_ONLY_FIELDS: &[&str] = &["agent_info.checkpoint"];

/// Decodes `operator/<stem>.json` and `operator/<stem>.pb`; checks that
/// they agree (when `same_content`) and returns the JSON one.
fn both<M: WireMessage + PartialEq + std::fmt::Debug>(stem: &str, same_content: bool) -> M {
    let (from_json, missing): (M, _) = check_operator_json(&data(&format!("operator/{stem}.json")));
    let unexpected: Vec<&String> = missing
        .iter()
        .filter(|path| !MESOS_ONLY_FIELDS.iter().any(|f| path.ends_with(f)))
        .collect();
    assert!(unexpected.is_empty(), "{stem}: we lose {unexpected:?}");
    let from_protobuf: M = MediaType::Protobuf
        .decode(&data(&format!("operator/{stem}.pb")))
        .unwrap_or_else(|e| panic!("{stem}.pb: {e:?}"));
    if same_content {
        let filled = with_explicit_defaults(&from_protobuf).expect("a schema type");
        assert_eq!(filled, from_json, "{stem}: protobuf and JSON differ");
    }
    from_json
}

#[test]
fn every_master_capture_decodes_in_both_media_types() {
    use master::response::Type::*;
    // The metrics move between the two requests: their names are compared
    // below instead.
    for (stem, expected, same_content) in [
        ("master-get_health", GetHealth, true),
        ("master-get_version", GetVersion, true),
        ("master-get_state", GetState, true),
        ("master-get_agents", GetAgents, true),
        ("master-get_frameworks", GetFrameworks, true),
        ("master-get_tasks", GetTasks, true),
        ("master-get_metrics", GetMetrics, false),
    ] {
        let response: master::Response = both(stem, same_content);
        assert_eq!(response.r#type(), expected, "{stem}");
    }
}

#[test]
fn every_agent_capture_decodes_in_both_media_types() {
    use agent::response::Type::*;
    for (stem, expected, same_content) in [
        ("agent-get_health", GetHealth, true),
        ("agent-get_version", GetVersion, true),
        ("agent-get_state", GetState, true),
        ("agent-get_frameworks", GetFrameworks, true),
        ("agent-get_tasks", GetTasks, true),
        ("agent-get_executors", GetExecutors, true),
        // Resource statistics and metrics are sampled per request.
        ("agent-get_containers", GetContainers, false),
        ("agent-get_metrics", GetMetrics, false),
    ] {
        let response: agent::Response = both(stem, same_content);
        assert_eq!(response.r#type(), expected, "{stem}");
    }
}

#[test]
fn master_state_shows_the_running_task_its_agent_and_framework() {
    let response: master::Response = both("master-get_state", true);
    let state = response.get_state.expect("GET_STATE payload");
    let tasks = state.get_tasks.expect("tasks").tasks;
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].state(), TaskState::TaskRunning);
    let agents = state.get_agents.expect("agents").agents;
    assert_eq!(agents.len(), 1);
    assert_eq!(agents[0].agent_info.id.as_ref(), Some(&tasks[0].agent_id));
    let frameworks = state.get_frameworks.expect("frameworks").frameworks;
    assert_eq!(frameworks.len(), 1);
    assert_eq!(
        frameworks[0].framework_info.id.as_ref(),
        Some(&tasks[0].framework_id)
    );

    let version: master::Response = both("master-get_version", true);
    let info = version.get_version.expect("payload").version_info;
    assert_eq!(info.version, "1.11.0");
    let health: master::Response = both("master-get_health", true);
    assert!(health.get_health.expect("payload").healthy);
}

/// The sorted metric names of a capture in one media type.
fn metric_names<M: WireMessage>(
    stem: &str,
    media: MediaType,
    metrics: fn(M) -> Option<Vec<mesos_proto::v1::Metric>>,
) -> Vec<String> {
    let ext = if media == MediaType::Json {
        "json"
    } else {
        "pb"
    };
    let response: M = media
        .decode(&data(&format!("operator/{stem}.{ext}")))
        .unwrap_or_else(|e| panic!("{stem}.{ext}: {e:?}"));
    let mut names: Vec<String> = metrics(response)
        .expect("GET_METRICS payload")
        .into_iter()
        .map(|m| m.name)
        .collect();
    names.sort();
    names
}

#[test]
fn metrics_carry_the_same_names_in_both_media_types() {
    let master = |r: master::Response| r.get_metrics.map(|m| m.metrics);
    let agent = |r: agent::Response| r.get_metrics.map(|m| m.metrics);
    let json = metric_names("master-get_metrics", MediaType::Json, master);
    assert!(json.iter().any(|n| n == "master/uptime_secs"), "{json:?}");
    let protobuf = metric_names("master-get_metrics", MediaType::Protobuf, master);
    assert_eq!(json, protobuf);
    let json = metric_names("agent-get_metrics", MediaType::Json, agent);
    assert!(json.iter().any(|n| n == "slave/uptime_secs"), "{json:?}");
    let protobuf = metric_names("agent-get_metrics", MediaType::Protobuf, agent);
    assert_eq!(json, protobuf);
}

#[test]
fn agent_state_and_containers_show_the_running_task() {
    let response: agent::Response = both("agent-get_state", true);
    let state = response.get_state.expect("GET_STATE payload");
    let tasks = state.get_tasks.expect("tasks").launched_tasks;
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].state(), TaskState::TaskRunning);
    let executors = state.get_executors.expect("executors").executors;
    assert_eq!(executors.len(), 1);

    let containers: agent::Response = both("agent-get_containers", false);
    let containers = containers.get_containers.expect("payload").containers;
    assert_eq!(containers.len(), 1);
    assert_eq!(
        containers[0].executor_id.as_ref(),
        Some(&executors[0].executor_info.executor_id)
    );
    assert!(containers[0].resource_statistics.is_some());
}

#[test]
fn operator_subscribe_stream_starts_with_the_state_snapshot() {
    let json =
        recordio_messages::<master::Event>("operator/master-subscribe.recordio", MediaType::Json);
    let protobuf = recordio_messages::<master::Event>(
        "operator/master-subscribe-protobuf.recordio",
        MediaType::Protobuf,
    );
    let types: Vec<_> = json.iter().map(master::Event::r#type).collect();
    assert_eq!(
        types,
        [
            master::event::Type::Subscribed,
            master::event::Type::Heartbeat
        ],
        "a heartbeat right after the snapshot"
    );
    let subscribed = json[0].subscribed.as_ref().expect("payload");
    let state = subscribed.get_state.as_ref().expect("snapshot");
    let tasks = &state.get_tasks.as_ref().expect("tasks").tasks;
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].state(), TaskState::TaskRunning);
    assert_eq!(subscribed.heartbeat_interval_seconds, Some(15.0));

    let filled: Vec<master::Event> = protobuf
        .iter()
        .map(|e| with_explicit_defaults(e).expect("a schema type"))
        .collect();
    assert_eq!(filled, json);
}
