//! Tasks through ACCEPT: a command task's updates, an invalid task's
//! TASK_ERROR.

use std::time::Duration;

use serde_json::{json, Value};

use super::{Ctx, Framework, EVENT_WAIT};
use crate::observe::{self, Observations};

crate::scenarios!(
    json command_task_runs_to_finished,
    json task_without_resources_is_an_error,
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
async fn first_offer(framework: &mut Framework) -> Value {
    let offers = framework
        .events()
        .wait_for("OFFERS", EVENT_WAIT)
        .await
        .expect("OFFERS");
    offers["offers"]["offers"][0].clone()
}

fn scalar(name: &str, value: f64) -> Value {
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
    for _ in 0..10 {
        let Some(update) = framework
            .events()
            .wait_for("UPDATE", Duration::from_secs(30))
            .await
        else {
            o.push("stream ended", json!(true));
            return;
        };
        o.push("UPDATE", observe::update(&update));
        let status = &update["update"]["status"];
        if let Some(uuid) = status["uuid"].as_str() {
            let ack = json!({"acknowledge": {
                "agent_id": status["agent_id"],
                "task_id": status["task_id"],
                "uuid": uuid,
            }});
            let answer = ctx.framework_call(framework, "ACKNOWLEDGE", ack).await;
            assert_eq!(answer.status, 202, "ACKNOWLEDGE: {}", answer.text());
        }
        if TERMINAL.iter().any(|t| status["state"] == *t) {
            return;
        }
    }
}

async fn command_task_runs_to_finished(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let mut framework = ctx.subscribe(json!({})).await;
    let offer = first_offer(&mut framework).await;
    let task = json!({
        "name": "differential",
        "task_id": {"value": format!("{}-task", ctx.name)},
        "resources": [scalar("cpus", 0.1), scalar("mem", 32.0)],
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
