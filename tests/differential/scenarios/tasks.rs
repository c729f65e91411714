//! Tasks through ACCEPT: a command task's updates, an invalid task's
//! TASK_ERROR, a command task whose URI cannot be fetched.

use std::time::Duration;

use serde_json::{json, Value};

use super::{Ctx, Framework, EVENT_WAIT};
use crate::observe::{self, Observations};

crate::scenarios!(
    json command_task_runs_to_finished,
    json task_without_resources_is_an_error,
    json fetch_failure_ends_task_failed,
);

const TERMINAL: [&str; 8] = [
    "TASK_FINISHED",
    "TASK_FAILED",
    "TASK_KILLED",
    "TASK_LOST",
    "TASK_ERROR",
    "TASK_DROPPED",
    "TASK_GONE",
    "TASK_GONE_BY_OPERATOR",
];

/// The first offer.
pub(crate) async fn first_offer(framework: &mut Framework) -> Value {
    let offers = framework
        .events()
        .wait_for("OFFERS", EVENT_WAIT)
        .await
        .expect("OFFERS");
    offers["offers"]["offers"][0].clone()
}

pub(crate) fn scalar(name: &str, value: f64) -> Value {
    json!({"name": name, "type": "SCALAR", "scalar": {"value": value}})
}

/// Launches `task` (its agent id filled in) on `offer`; returns the answer.
async fn launch(
    ctx: &Ctx,
    framework: &Framework,
    offer: &Value,
    mut task: Value,
) -> crate::http::Response {
    task["agent_id"] = offer["agent_id"].clone();
    let accept = json!({"accept": {
        "offer_ids": [offer["id"]],
        "operations": [{"type": "LAUNCH", "launch": {"task_infos": [task]}}],
        "filters": {"refuse_seconds": 1.0},
    }});
    ctx.framework_call(framework, "ACCEPT", accept).await
}

/// Updates until a terminal one, acknowledging each that has a uuid.
async fn updates_until_terminal(ctx: &Ctx, framework: &mut Framework, o: &mut Observations) {
    updates_until_terminal_with(ctx, framework, o, |update| update).await;
}

/// [`updates_until_terminal`], each observation passed through `normalise`.
async fn updates_until_terminal_with(
    ctx: &Ctx,
    framework: &mut Framework,
    o: &mut Observations,
    normalise: impl Fn(Value) -> Value,
) {
    for _ in 0..10 {
        let Some(update) = framework
            .events()
            .wait_for("UPDATE", Duration::from_secs(30))
            .await
        else {
            o.push("stream ended", json!(true));
            return;
        };
        o.push("UPDATE", normalise(observe::update(&update)));
        let status = &update["update"]["status"];
        ctx.acknowledge(framework, status).await;
        if TERMINAL.iter().any(|t| status["state"] == *t) {
            return;
        }
    }
}

async fn command_task_runs_to_finished(ctx: Ctx) -> Observations {
    command_task(ctx, json!({"value": "true"}), |update| update).await
}

/// Launches a command task running `command` on the first offer and
/// observes its updates (through `normalise`) until a terminal one.
async fn command_task(
    ctx: Ctx,
    command: Value,
    normalise: impl Fn(Value) -> Value,
) -> Observations {
    let mut o = Observations::default();
    let mut framework = ctx.subscribe(json!({})).await;
    let offer = first_offer(&mut framework).await;
    let task = json!({
        "name": "differential",
        "task_id": {"value": format!("{}-task", ctx.name)},
        "resources": [scalar("cpus", 0.1), scalar("mem", 32.0)],
        "command": command,
    });
    o.answer(
        "ACCEPT with LAUNCH",
        &launch(&ctx, &framework, &offer, task).await,
    );
    updates_until_terminal_with(&ctx, &mut framework, &mut o, normalise).await;
    ctx.teardown(&framework).await;
    o
}

async fn task_without_resources_is_an_error(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let mut framework = ctx.subscribe(json!({})).await;
    let offer = first_offer(&mut framework).await;
    let task = json!({
        "name": "differential",
        "task_id": {"value": format!("{}-task", ctx.name)},
        "resources": [],
        "command": {"value": "true"},
    });
    o.answer(
        "ACCEPT with LAUNCH",
        &launch(&ctx, &framework, &offer, task).await,
    );
    updates_until_terminal(&ctx, &mut framework, &mut o).await;
    ctx.teardown(&framework).await;
    o
}

/// What precedes the containerizer's own reason in a failed launch's
/// message; the reason is implementation-specific.
const LAUNCH_FAILED: &str = "Failed to launch container: ";

/// A command task with a URI that cannot be fetched ends TASK_FAILED
/// before it starts. The real-mesos tool ships no `mesos-fetcher`, so the
/// real agent's reason is "Could not fetch URIs: failed to find
/// mesos-fetcher" where mesos-local's is the download's failure (here:
/// nothing listens on the URI's port); the message is compared up to that
/// reason.
async fn fetch_failure_ends_task_failed(ctx: Ctx) -> Observations {
    let command = json!({"value": "true", "uris": [{"value": "http://127.0.0.1:1/app.tar.gz"}]});
    command_task(ctx, command, |mut update| {
        if let Some(message) = update["message"].as_str() {
            if message.starts_with(LAUNCH_FAILED) {
                update["message"] = json!(format!("{LAUNCH_FAILED}<reason>"));
            }
        }
        update
    })
    .await
}

/// How long a task may take to reach TASK_RUNNING.
const RUNNING_WAIT: Duration = Duration::from_secs(30);

/// Launches a long-running command task on the first offer (refusing the
/// agent for an hour, so no further offer is outstanding), and waits for
/// TASK_RUNNING, acknowledging the updates. Returns the updates' states.
pub(crate) async fn launch_running_task(ctx: &Ctx, framework: &mut Framework) -> Vec<Value> {
    let task = json!({
        "resources": [scalar("cpus", 0.1), scalar("mem", 32.0)],
        "command": {"value": "sleep 600"},
    });
    launch_until_running(ctx, framework, task).await
}

/// [`launch_running_task`] of a task with the fields of `task` (its
/// resources and command at least; name, id and agent are added).
pub(crate) async fn launch_until_running(
    ctx: &Ctx,
    framework: &mut Framework,
    mut task: Value,
) -> Vec<Value> {
    let offer = first_offer(framework).await;
    task["name"] = json!("differential");
    task["task_id"] = json!({"value": format!("{}-task", ctx.name)});
    task["agent_id"] = offer["agent_id"].clone();
    let accept = json!({"accept": {
        "offer_ids": [offer["id"]],
        "operations": [{"type": "LAUNCH", "launch": {"task_infos": [task]}}],
        "filters": {"refuse_seconds": 3600.0},
    }});
    let answer = ctx.framework_call(framework, "ACCEPT", accept).await;
    assert_eq!(answer.status, 202, "ACCEPT: {}", answer.text());
    let mut states = Vec::new();
    for _ in 0..5 {
        let update = framework
            .events()
            .wait_for("UPDATE", RUNNING_WAIT)
            .await
            .expect("an update");
        let status = &update["update"]["status"];
        states.push(status["state"].clone());
        ctx.acknowledge(framework, status).await;
        if status["state"] == "TASK_RUNNING" {
            break;
        }
    }
    states
}
