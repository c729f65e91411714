//! The agent's operator API (`POST /slave(1)/api/v1`): the GET_* calls and
//! READ_FILE of a running command task's sandbox, and how malformed calls
//! are refused. Observed as the master's operator answers are (see
//! `operator.rs`): through our JSON mapping, for the scenario's own
//! framework only.

use mesos_proto::v1::agent::Response as AgentResponse;
use mesos_proto::MediaType;
use serde_json::{json, Value};

use super::operator::{answer_as, refused_calls};
use super::tasks::{launch_running_task, launch_until_running};
use super::Ctx;
use crate::http::{Request, Response};
use crate::observe::Observations;

crate::scenarios!(
    both agent_operator_calls,
    json agent_operator_malformed_calls,
    json agent_command_executor_shown,
);

/// The operator API path of the first agent (from its pid in the master's
/// state: `slave(1)@ip:port`), as `http://ip:port/slave(1)/api/v1`.
async fn agent_api(ctx: &Ctx) -> (Ctx, String) {
    let state = ctx.master_state().await;
    let pid = state["slaves"][0]["pid"].as_str().expect("an agent pid");
    let (name, address) = pid.split_once('@').expect("a pid");
    let agent = Ctx::new(&format!("http://{address}"), ctx.media, &ctx.name);
    (agent, format!("/{name}/api/v1"))
}

impl Ctx {
    async fn agent_call(&self, path: &str, call: Value) -> Response {
        self.send(Request::operator_call(self.media, call).to(path))
            .await
    }
}

fn agent_answer(media: MediaType, response: &Response, framework_id: &str) -> Value {
    answer_as::<AgentResponse>(media, response, framework_id)
}

async fn agent_operator_calls(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let mut framework = ctx.subscribe(json!({})).await;
    let id = framework.framework_id.clone();
    let states = launch_running_task(&ctx, &mut framework).await;
    o.push("updates", json!(states));
    let (agent, path) = agent_api(&ctx).await;
    for call in [
        "GET_HEALTH",
        "GET_STATE",
        "GET_FRAMEWORKS",
        "GET_EXECUTORS",
        "GET_TASKS",
        "GET_CONTAINERS",
    ] {
        let response = agent.agent_call(&path, json!({"type": call})).await;
        let mut observed = agent_answer(ctx.media, &response, &id);
        if call == "GET_CONTAINERS" {
            // Resource statistics are the real containerizer's.
            if let Some(fields) = observed["fields"].as_array_mut() {
                fields.retain(|f| {
                    f.as_str()
                        .is_some_and(|f| !f.contains(".resource_statistics."))
                });
            }
        }
        o.push(call, observed);
    }
    let task_id = format!("{}-task", ctx.name);
    let stdout = format!("/frameworks/{id}/executors/{task_id}/runs/latest/stdout");
    let read =
        |offset: u64| json!({"type": "READ_FILE", "read_file": {"path": stdout, "offset": offset}});
    // (What the task wrote is not compared: the real-mesos tool's command
    // executor does not give the task the sandbox's stdout; mesos-local's
    // own tests read it.)
    let response = agent.agent_call(&path, read(0)).await;
    o.push("READ_FILE stdout", agent_answer(ctx.media, &response, &id));
    let past_end = agent.agent_call(&path, read(1 << 40)).await;
    o.push(
        "READ_FILE past the end",
        agent_answer(ctx.media, &past_end, &id),
    );
    let missing = json!({"type": "READ_FILE", "read_file": {"path": format!("/frameworks/{id}/executors/{task_id}/runs/latest/no-such-file"), "offset": 0}});
    o.push(
        "READ_FILE of a missing file",
        agent_answer(ctx.media, &agent.agent_call(&path, missing).await, &id),
    );
    let outside = json!({"type": "READ_FILE", "read_file": {"path": "/etc/passwd", "offset": 0}});
    o.push(
        "READ_FILE outside any sandbox",
        agent_answer(ctx.media, &agent.agent_call(&path, outside).await, &id),
    );
    ctx.teardown(&framework).await;
    o
}

async fn agent_operator_malformed_calls(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let (agent, path) = agent_api(&ctx).await;
    let bodies = [
        ("empty object", "{}"),
        ("unknown type", r#"{"type":"NO_SUCH_CALL"}"#),
        ("type UNKNOWN", r#"{"type":"UNKNOWN"}"#),
        ("numeric type", r#"{"type":7}"#),
        ("READ_FILE without read_file", r#"{"type":"READ_FILE"}"#),
        (
            "READ_FILE without offset",
            r#"{"type":"READ_FILE","read_file":{"path":"/x"}}"#,
        ),
        ("not JSON", "nope"),
        ("not an object", "[1]"),
        ("GET_HEALTH", r#"{"type":"GET_HEALTH"}"#),
    ];
    refused_calls::<AgentResponse>(&agent, &path, &bodies, &mut o).await;
    o
}

/// A command task's executor in the agent's GET_EXECUTORS, by value: what
/// the real agent generates for it (`Slave::getExecutorInfo`): its own
/// resources (not the task's), the task as `source`, what it copies of the
/// task. The command's path and arguments are the real agent's
/// `--launcher_dir`, not compared.
async fn agent_command_executor_shown(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let mut framework = ctx.subscribe(json!({})).await;
    let id = framework.framework_id.clone();
    let task = json!({
        "resources": [
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.05}},
            {"name": "mem", "type": "SCALAR", "scalar": {"value": 16.0}},
        ],
        "command": {
            "value": "sleep 600",
            "environment": {"variables": [{"name": "DIFFERENTIAL", "value": "1"}]},
        },
        "labels": {"labels": [{"key": "k", "value": "v"}]},
        "kill_policy": {"grace_period": {"nanoseconds": 3000000000u64}},
    });
    let states = launch_until_running(&ctx, &mut framework, task).await;
    o.push("updates", json!(states));
    let (agent, path) = agent_api(&ctx).await;
    let response = agent
        .agent_call(&path, json!({"type": "GET_EXECUTORS"}))
        .await;
    assert_eq!(response.status, 200, "GET_EXECUTORS: {}", response.text());
    let body: Value = serde_json::from_slice(&response.body).expect("a JSON answer");
    let executor_id = format!("{}-task", ctx.name);
    let info = body["get_executors"]["executors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| &e["executor_info"])
        .find(|info| info["executor_id"]["value"] == executor_id.as_str())
        .cloned()
        .unwrap_or(Value::Null);
    let name = info["name"]
        .as_str()
        .map(|n| n.replace(&executor_id, "<task>"));
    let source = info["source"].as_str().map(|s| s == executor_id);
    let mut shown = info.clone();
    if let Some(command) = shown["command"].as_object_mut() {
        command.remove("value");
        command.remove("arguments");
    }
    o.push(
        "framework is the scenario's",
        json!(info["framework_id"]["value"] == id.as_str()),
    );
    o.push("name", json!(name));
    o.push("source is the task id", json!(source));
    o.push("command without its path", shown["command"].clone());
    o.push("resources", info["resources"].clone());
    o.push("labels", info["labels"].clone());
    o.push(
        "shutdown_grace_period",
        info["shutdown_grace_period"].clone(),
    );
    ctx.teardown(&framework).await;
    o
}
