//! The master's operator API (`POST /api/v1`): the GET_* calls with a
//! framework running a task, SUBSCRIBE's events as that task comes and
//! goes, TEARDOWN, RESERVE/UNRESERVE_RESOURCES (the reservation then in
//! an offer to its role), and how malformed calls are refused.
//!
//! Answers are observed through our JSON mapping of `mesos.v1.master`
//! (protobuf answers decoded, JSON answers decoded and written again), so
//! that both media types and both masters are compared on the fields a
//! client decodes: fields the v1 protos do not declare (the real master's
//! `agent_info.checkpoint`) and empty lists (absent and `[]` decode alike)
//! drop out. Only what belongs to the scenario's own framework is
//! observed (the real master keeps the completed frameworks of earlier
//! scenarios); values that vary by run (ids, times, resources' amounts
//! other than what the scenario asked for) are not compared.

use mesos_proto::codec::WireMessage;
use mesos_proto::v1::master::{Event as OperatorEvent, Response as OperatorResponse};
use mesos_proto::MediaType;
use serde_json::{json, Value};

use super::tasks::{first_offer, launch_running_task, scalar};
use super::{Ctx, EVENT_WAIT};
use crate::http::{protobuf_as_json, Request, Response};
use crate::observe::{self, Observations};

crate::scenarios!(
    both operator_get_calls,
    both operator_subscribe_follows_a_task,
    json operator_subscribe_follows_a_framework,
    json operator_malformed_calls,
    json operator_reserve_and_unreserve,
);

/// A JSON body of `T` through our mapping (decoded, written again).
fn remapped<T: WireMessage>(media: MediaType, body: &[u8]) -> Value {
    match media {
        MediaType::Protobuf => protobuf_as_json::<T>(body).unwrap_or_else(|e| json!(e)),
        MediaType::Json => {
            let message: T = match MediaType::Json.decode(body) {
                Ok(message) => message,
                Err(e) => return json!(format!("undecodable: {e}")),
            };
            let bytes = MediaType::Json.encode(&message).expect("JSON encoding");
            serde_json::from_slice(&bytes).expect("JSON")
        }
    }
}

/// The framework id an element of a list belongs to, if it says.
fn framework_of(item: &Value) -> Option<&str> {
    [
        &item["framework_id"]["value"],
        &item["framework_info"]["id"]["value"],
        &item["executor_info"]["framework_id"]["value"],
    ]
    .into_iter()
    .find_map(Value::as_str)
}

/// `value` without the list elements that belong to another framework
/// (a list left empty goes, as our JSON mapping writes no empty list).
pub(crate) fn ours(value: &Value, framework_id: &str) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), ours(v, framework_id)))
                .filter(|(_, v)| v.as_array().is_none_or(|a| !a.is_empty()))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .filter(|i| framework_of(i).is_none_or(|f| f == framework_id))
                .map(|i| ours(i, framework_id))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// An operator answer: status, content type, and for a `200` with a body
/// the response's type and the fields present (see the module's docs);
/// otherwise the message.
fn answer(media: MediaType, response: &Response, framework_id: &str) -> Value {
    answer_as::<OperatorResponse>(media, response, framework_id)
}

/// [`answer`] for a response message of type `T`.
pub(crate) fn answer_as<T: WireMessage>(
    media: MediaType,
    response: &Response,
    framework_id: &str,
) -> Value {
    let mut observed = json!({
        "status": response.status,
        "content_type": response.header("content-type"),
    });
    if response.status == 200 && !response.body.is_empty() {
        let body = ours(&remapped::<T>(media, &response.body), framework_id);
        observed["type"] = body["type"].clone();
        observed["fields"] = json!(observe::fields(&body));
    } else {
        observed["body"] = json!(observe::message_kind(&response.text()));
    }
    observed
}

impl Ctx {
    /// Sends an operator call (JSON) in the scenario's media type.
    async fn operator(&self, call: Value) -> Response {
        self.send(Request::operator_call(self.media, call)).await
    }
}

const GET_CALLS: [&str; 12] = [
    "GET_HEALTH",
    "GET_VERSION",
    "GET_MASTER",
    "GET_STATE",
    "GET_AGENTS",
    "GET_FRAMEWORKS",
    "GET_EXECUTORS",
    "GET_TASKS",
    "GET_ROLES",
    "GET_OPERATIONS",
    "GET_FLAGS",
    "GET_METRICS",
];

/// The metrics compared by value (the real master has many more; its
/// counters also count earlier scenarios' tasks).
const METRICS: [&str; 4] = [
    "master/elected",
    "master/slaves_active",
    "master/frameworks_active",
    "master/tasks_running",
];

/// The flags whose presence is compared (mesos-local shows a few).
const FLAGS: [&str; 4] = ["allocation_interval", "hostname", "port", "registry"];

async fn operator_get_calls(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let mut framework = ctx.subscribe(json!({})).await;
    let id = framework.framework_id.clone();
    let states = launch_running_task(&ctx, &mut framework).await;
    o.push("updates", json!(states));
    for call in GET_CALLS {
        let body = match call {
            "GET_METRICS" => json!({"type": call, "get_metrics": {}}),
            _ => json!({"type": call}),
        };
        let response = ctx.operator(body).await;
        let mut observed = answer(ctx.media, &response, &id);
        let body = remapped::<OperatorResponse>(ctx.media, &response.body);
        match call {
            "GET_METRICS" => {
                let metrics = body["get_metrics"]["metrics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let values: serde_json::Map<String, Value> = METRICS
                    .iter()
                    .map(|name| {
                        let value = metrics
                            .iter()
                            .find(|m| m["name"] == *name)
                            .map(|m| m["value"].clone());
                        (name.to_string(), json!(value))
                    })
                    .collect();
                observed["fields"] = json!(values);
            }
            "GET_FLAGS" => {
                let flags = body["get_flags"]["flags"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let present: Vec<bool> = FLAGS
                    .iter()
                    .map(|name| flags.iter().any(|f| f["name"] == *name))
                    .collect();
                observed["fields"] = json!(present);
            }
            "GET_VERSION" => {
                observed["version"] = body["get_version"]["version_info"]["version"].clone();
                // mesos-local is not built from a Mesos commit.
                if let Some(fields) = observed["fields"].as_array_mut() {
                    fields.retain(|f| f != "get_version.version_info.git_sha");
                }
            }
            _ => {}
        }
        o.push(call, observed);
    }
    let teardown = ctx
        .operator(json!({"type": "TEARDOWN", "teardown": {"framework_id": {"value": id}}}))
        .await;
    o.push("TEARDOWN", answer(ctx.media, &teardown, &id));
    let ended = framework.events().ends_within(EVENT_WAIT).await;
    o.push("scheduler stream ends", json!(ended.is_ok_and(|e| e)));
    for call in ["GET_TASKS", "GET_FRAMEWORKS"] {
        let response = ctx.operator(json!({"type": call})).await;
        o.push(
            &format!("{call} after TEARDOWN"),
            answer(ctx.media, &response, &id),
        );
    }
    o
}

/// An operator event's observation: its type, the task state it reports,
/// and the fields present. TASK_UPDATED's `state` is the task's latest
/// state at the agent when the update left it (TASK_STARTING's may already
/// say TASK_RUNNING on the real master): compared for terminal updates
/// only.
fn operator_event(event: &Value) -> Value {
    let state = &event["task_updated"]["state"];
    let terminal = state
        .as_str()
        .is_some_and(|s| !matches!(s, "TASK_STAGING" | "TASK_STARTING" | "TASK_RUNNING"));
    json!({
        "type": event["type"],
        "state": if terminal { state.clone() } else { Value::Null },
        "status_state": event["task_updated"]["status"]["state"],
        "fields": observe::fields(event),
    })
}

/// Observes the events of framework `id` (others skipped, HEARTBEATs
/// too) until its FRAMEWORK_REMOVED.
async fn framework_events_until_removed(
    events: &mut crate::http::EventStream,
    id: &str,
    o: &mut Observations,
) {
    for _ in 0..20 {
        let Ok(Some(event)) = events.next(EVENT_WAIT).await else {
            o.push("stream", json!("ended or silent before FRAMEWORK_REMOVED"));
            return;
        };
        let event = remapped::<OperatorEvent>(MediaType::Json, event.to_string().as_bytes());
        if event["type"] == "HEARTBEAT" {
            continue;
        }
        let belongs = [
            &event["task_added"]["task"]["framework_id"]["value"],
            &event["task_updated"]["framework_id"]["value"],
            &event["framework_added"]["framework"]["framework_info"]["id"]["value"],
            &event["framework_updated"]["framework"]["framework_info"]["id"]["value"],
            &event["framework_removed"]["framework_info"]["id"]["value"],
        ]
        .into_iter()
        .find_map(Value::as_str);
        if belongs.is_some_and(|f| f != id) {
            continue;
        }
        let mut observed = operator_event(&event);
        for kind in ["framework_added", "framework_updated", "framework_removed"] {
            let info = &event[kind]["framework"]["framework_info"];
            let info = if info.is_null() {
                &event[kind]["framework_info"]
            } else {
                info
            };
            if let Some(name) = info["name"].as_str() {
                observed["name"] = json!(name);
            }
        }
        o.push("event", observed);
        if event["type"] == "FRAMEWORK_REMOVED" {
            return;
        }
    }
}

/// FRAMEWORK_ADDED, FRAMEWORK_UPDATED (UPDATE_FRAMEWORK, a resubscription)
/// and FRAMEWORK_REMOVED as a framework comes, changes and goes.
async fn operator_subscribe_follows_a_framework(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let mut subscription = ctx.operator(json!({"type": "SUBSCRIBE"})).await;
    let events = subscription.events.as_mut().expect("a stream");
    let first = events
        .next(EVENT_WAIT)
        .await
        .expect("an event")
        .expect("open");
    o.push("first event", json!(first["type"]));
    let old = ctx.subscribe(json!({"failover_timeout": 60.0})).await;
    let id = old.framework_id.clone();
    let renamed = ctx.framework_info(json!({
        "failover_timeout": 60.0,
        "name": format!("{}-renamed", ctx.name),
        "id": {"value": id},
    }));
    let update = json!({"update_framework": {"framework_info": renamed}});
    let answer = ctx.framework_call(&old, "UPDATE_FRAMEWORK", update).await;
    o.push("UPDATE_FRAMEWORK", json!(answer.status));
    let mut call = ctx.subscribe_call(renamed);
    call["framework_id"] = json!({"value": id});
    let mut again = ctx.call(call).await;
    let events_again = again.events.as_mut().expect("events");
    events_again
        .wait_for("SUBSCRIBED", EVENT_WAIT)
        .await
        .expect("SUBSCRIBED again");
    let stream_id = again.header("mesos-stream-id").expect("a stream id");
    let teardown = json!({"type": "TEARDOWN", "framework_id": {"value": id}});
    let answer = ctx
        .send(Request::call(ctx.media, teardown).header("Mesos-Stream-Id", Some(&stream_id)))
        .await;
    o.push("TEARDOWN", json!(answer.status));
    framework_events_until_removed(events, &id, &mut o).await;
    o
}

async fn operator_subscribe_follows_a_task(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let mut subscription = ctx.operator(json!({"type": "SUBSCRIBE"})).await;
    o.push(
        "SUBSCRIBE",
        json!({
            "status": subscription.status,
            "content_type": subscription.header("content-type"),
            "stream_id": subscription.header("mesos-stream-id").is_some(),
        }),
    );
    let events = subscription.events.as_mut().expect("a stream");
    let subscribed = events
        .next(EVENT_WAIT)
        .await
        .expect("an event")
        .expect("open");
    let subscribed = remapped::<OperatorEvent>(MediaType::Json, subscribed.to_string().as_bytes());
    o.push(
        "first event",
        json!({
            "type": subscribed["type"],
            "heartbeat_interval_seconds": subscribed["subscribed"]["heartbeat_interval_seconds"],
            "fields": observe::fields(&ours(&subscribed, "none")),
        }),
    );
    let mut framework = ctx.subscribe(json!({})).await;
    let id = framework.framework_id.clone();
    let states = launch_running_task(&ctx, &mut framework).await;
    o.push("updates", json!(states));
    ctx.teardown(&framework).await;
    framework_events_until_removed(events, &id, &mut o).await;
    o
}

/// What the master's and the agents' operator APIs share: each raw JSON
/// `bodies` (step, body), then GET_HEALTH with missing and foreign media
/// types, protobuf garbage and a GET, all to `path` on `target`, answers
/// observed as `T`.
pub(crate) async fn refused_calls<T: WireMessage>(
    target: &Ctx,
    path: &str,
    bodies: &[(&str, &str)],
    o: &mut Observations,
) {
    let json_type = [("Content-Type", "application/json")];
    for (step, body) in bodies {
        let request = Request::raw(&json_type, body.to_string()).to(path);
        o.push(
            step,
            answer_as::<T>(target.media, &target.send(request).await, ""),
        );
    }
    let health = r#"{"type":"GET_HEALTH"}"#;
    let cases: [(&str, &[(&str, &str)]); 4] = [
        ("no Content-Type", &[]),
        ("Content-Type text/plain", &[("Content-Type", "text/plain")]),
        (
            "Accept text/plain",
            &[
                ("Content-Type", "application/json"),
                ("Accept", "text/plain"),
            ],
        ),
        (
            "Accept protobuf",
            &[
                ("Content-Type", "application/json"),
                ("Accept", "application/x-protobuf"),
            ],
        ),
    ];
    for (step, headers) in cases {
        let request = Request::raw(headers, health.to_string()).to(path);
        let response = target.send(request).await;
        let media = response
            .header("content-type")
            .and_then(|c| MediaType::from_mime(&c))
            .unwrap_or(MediaType::Json);
        o.push(step, answer_as::<T>(media, &response, ""));
    }
    let garbage = Request::raw(
        &[("Content-Type", "application/x-protobuf")],
        vec![0xffu8, 0xff, 0xff],
    )
    .to(path);
    o.push(
        "protobuf garbage",
        answer_as::<T>(target.media, &target.send(garbage).await, ""),
    );
    let get = Request {
        method: http::Method::GET,
        ..Request::raw(&json_type, health.to_string()).to(path)
    };
    o.answer("GET", &target.send(get).await);
}

async fn operator_malformed_calls(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let bodies = [
        ("empty object", "{}"),
        ("unknown type", r#"{"type":"NO_SUCH_CALL"}"#),
        ("type UNKNOWN", r#"{"type":"UNKNOWN"}"#),
        ("numeric type", r#"{"type":7}"#),
        (
            "GET_METRICS without get_metrics",
            r#"{"type":"GET_METRICS"}"#,
        ),
        ("TEARDOWN without teardown", r#"{"type":"TEARDOWN"}"#),
        (
            "MARK_AGENT_GONE without mark_agent_gone",
            r#"{"type":"MARK_AGENT_GONE"}"#,
        ),
        ("not JSON", "nope"),
        ("not an object", "[1]"),
        (
            "message of the wrong kind",
            r#"{"type":"GET_METRICS","get_metrics":7}"#,
        ),
    ];
    refused_calls::<OperatorResponse>(&ctx, "/api/v1", &bodies, &mut o).await;
    let health = r#"{"type":"GET_HEALTH"}"#;
    let master = Request::raw(&[("Content-Type", "application/json")], health.to_string())
        .to("/master/api/v1");
    o.push(
        "/master/api/v1",
        answer(ctx.media, &ctx.send(master).await, ""),
    );
    let unknown =
        json!({"type": "TEARDOWN", "teardown": {"framework_id": {"value": "no-such-framework"}}});
    o.push(
        "TEARDOWN of an unknown framework",
        answer(ctx.media, &ctx.operator(unknown).await, ""),
    );
    let gone = json!({"type": "MARK_AGENT_GONE", "mark_agent_gone": {"agent_id": {"value": "no-such-agent"}}});
    o.push(
        "MARK_AGENT_GONE of an unknown agent",
        answer(ctx.media, &ctx.operator(gone).await, ""),
    );
    o
}

/// A conflict's message without its left side (the agent's available
/// resources, whose order is the implementation's): `<available> does not
/// contain X`.
fn conflict_kind(observed: &mut Value) {
    let Some(body) = observed["body"].as_str() else {
        return;
    };
    let body = match body.split_once(" does not contain ") {
        Some((_, wanted)) => format!("<available> does not contain {wanted}"),
        None => match body.split_once(" at slave(") {
            // `Invalid RESERVE operation on agent <id> at <pid> (<host>): ...`
            Some((head, rest)) => format!(
                "{head} at <pid>{}",
                rest.split_once("): ")
                    .map_or(String::new(), |(_, r)| format!(": {r}"))
            ),
            None => body.to_string(),
        },
    };
    observed["body"] = json!(body);
}

/// The reserved resources of an offer: `name reserved for role`, sorted.
fn reserved_in(offer: &Value) -> Vec<String> {
    let mut reserved: Vec<String> = offer["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let role = r["reservations"].as_array()?.last()?["role"].as_str()?;
            Some(format!("{} reserved for {role}", r["name"].as_str()?))
        })
        .collect();
    reserved.sort();
    reserved
}

async fn operator_reserve_and_unreserve(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let state = ctx.master_state().await;
    let agent_id = json!({"value": state["slaves"][0]["id"]});
    let reserved = |name: &str, value: f64| {
        json!({"name": name, "type": "SCALAR", "scalar": {"value": value},
               "reservations": [{"type": "DYNAMIC", "role": "ops"}]})
    };
    let reserve = |resources: Value| {
        json!({"type": "RESERVE_RESOURCES",
               "reserve_resources": {"agent_id": agent_id, "resources": resources}})
    };
    let unreserve = |resources: Value| {
        json!({"type": "UNRESERVE_RESOURCES",
               "unreserve_resources": {"agent_id": agent_id, "resources": resources}})
    };
    let step = |o: &mut Observations, name: &str, response: &Response| {
        let mut observed = answer(ctx.media, response, "");
        conflict_kind(&mut observed);
        o.push(name, observed);
    };
    let ours = json!([reserved("cpus", 1.0), reserved("mem", 64.0)]);
    step(
        &mut o,
        "RESERVE",
        &ctx.operator(reserve(ours.clone())).await,
    );
    let agents = ctx.operator(json!({"type": "GET_AGENTS"})).await;
    o.push("GET_AGENTS after RESERVE", answer(ctx.media, &agents, ""));
    let roles = ctx.operator(json!({"type": "GET_ROLES"})).await;
    o.push("GET_ROLES after RESERVE", answer(ctx.media, &roles, ""));
    let mut framework = ctx
        .subscribe(json!({"roles": ["ops"], "capabilities": [
            {"type": "MULTI_ROLE"}, {"type": "RESERVATION_REFINEMENT"}]}))
        .await;
    let offer = first_offer(&mut framework).await;
    o.push("reserved in the offer", json!(reserved_in(&offer)));
    ctx.teardown(&framework).await;
    step(
        &mut o,
        "RESERVE more than the agent has",
        &ctx.operator(reserve(json!([reserved("cpus", 100.0)])))
            .await,
    );
    step(
        &mut o,
        "RESERVE of unreserved resources",
        &ctx.operator(reserve(json!([scalar("cpus", 1.0)]))).await,
    );
    step(
        &mut o,
        "UNRESERVE more than is reserved",
        &ctx.operator(unreserve(json!([reserved("cpus", 5.0)])))
            .await,
    );
    step(&mut o, "UNRESERVE", &ctx.operator(unreserve(ours)).await);
    let agents = ctx.operator(json!({"type": "GET_AGENTS"})).await;
    o.push("GET_AGENTS after UNRESERVE", answer(ctx.media, &agents, ""));
    let unknown = json!({"type": "RESERVE_RESOURCES", "reserve_resources": {
        "agent_id": {"value": "no-such-agent"}, "resources": [reserved("cpus", 1.0)]}});
    step(
        &mut o,
        "RESERVE on an unknown agent",
        &ctx.operator(unknown).await,
    );
    o
}
