//! A subscribed executor's calls: SUBSCRIBE (both media types) and what
//! SUBSCRIBED and LAUNCH carry, UPDATE relayed to the scheduler and
//! acknowledged, UPDATE for a task the executor does not know, MESSAGE
//! both ways.

use mesos_proto::MediaType;
use serde_json::{json, Value};

use super::{events_until, next_event, Setup};
use crate::observe::{self, Observations};
use crate::Ctx;

crate::scenarios!(
    both executor_subscribe,
    json executor_subscribed_infos,
    json executor_update_relayed_and_acknowledged,
    json executor_update_protobuf,
    json executor_update_for_unknown_task,
    json executor_message_both_ways,
    json executor_launch_group,
    json executor_launch_group_without_framework_id,
);

async fn executor_subscribe(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let launched = ctx.launch_executor(Setup::default()).await;
    let mut subscription = launched.subscribe(ctx.media, json!({})).await;
    o.answer("SUBSCRIBE", &subscription);
    if let Some(events) = subscription.events.as_mut() {
        events_until(&mut o, "executor event", events, "LAUNCH").await;
    }
    ctx.teardown(&launched.framework).await;
    o
}

/// The values of SUBSCRIBED's FrameworkInfo and ExecutorInfo and of
/// LAUNCH's TaskInfo (what the master filled in).
async fn executor_subscribed_infos(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let launched = ctx.launch_executor(Setup::default()).await;
    let mut subscription = launched.subscribed().await;
    let events = subscription.events.as_mut().expect("events");
    let subscribed = next_event(events).await.expect("SUBSCRIBED");
    let container_id = subscribed["subscribed"]["container_id"]["value"]
        .as_str()
        .map(str::to_string);
    let normalise = |v: &Value| launched.normalise(v, container_id.as_deref());
    let info = &subscribed["subscribed"];
    o.push("framework_info", normalise(&info["framework_info"]));
    o.push("executor_info", normalise(&info["executor_info"]));
    o.push("container_id", normalise(&info["container_id"]));
    let launch = next_event(events).await.expect("LAUNCH");
    o.push("task", normalise(&launch["launch"]["task"]));
    ctx.teardown(&launched.framework).await;
    o
}

/// TASK_RUNNING then TASK_FINISHED: each answered, relayed to the
/// scheduler (its fields), acknowledged to the executor once the agent
/// has it.
async fn executor_update_relayed_and_acknowledged(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let mut launched = ctx.launch_executor(Setup::default()).await;
    let mut subscription = launched.running(&mut o).await;
    for state in ["TASK_RUNNING", "TASK_FINISHED"] {
        let status = launched.status(state);
        let uuid = status["uuid"].clone();
        o.answer(&format!("UPDATE {state}"), &launched.update(status).await);
        let update = launched.scheduler_update(&ctx).await;
        o.push("scheduler UPDATE", observe::update(&update));
        o.push(
            "relayed uuid is the executor's",
            json!(update["update"]["status"]["uuid"] == uuid),
        );
        let events = subscription.events.as_mut().expect("events");
        let ack = next_event(events).await.expect("ACKNOWLEDGED");
        o.push("executor event", observe::event(&ack));
        o.push(
            "acknowledged uuid is the update's",
            json!(ack["acknowledged"]["uuid"] == uuid),
        );
    }
    ctx.teardown(&launched.framework).await;
    o
}

/// An UPDATE in protobuf, with a message, data and labels.
async fn executor_update_protobuf(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let mut launched = ctx.launch_executor(Setup::default()).await;
    let _subscription = launched.running(&mut o).await;
    let mut status = launched.status("TASK_RUNNING");
    status["message"] = json!("running");
    status["data"] = json!("ZGF0YQ==");
    status["labels"] = json!({"labels": [{"key": "k", "value": "v"}]});
    status["healthy"] = json!(true);
    let update = json!({"update": {"status": status}});
    o.answer(
        "UPDATE in protobuf",
        &launched.call(MediaType::Protobuf, "UPDATE", update).await,
    );
    let update = launched.scheduler_update(&ctx).await;
    o.push("scheduler UPDATE", observe::update(&update));
    let status = &update["update"]["status"];
    o.push(
        "values",
        json!({
            "data": status["data"],
            "labels": status["labels"],
            "healthy": status["healthy"],
        }),
    );
    ctx.teardown(&launched.framework).await;
    o
}

async fn executor_update_for_unknown_task(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let mut launched = ctx.launch_executor(Setup::default()).await;
    let mut subscription = launched.running(&mut o).await;
    let mut status = launched.status("TASK_RUNNING");
    status["task_id"]["value"] = json!(format!("{}-unknown-task", ctx.name));
    o.answer("UPDATE for an unknown task", &launched.update(status).await);
    let update = launched.scheduler_update(&ctx).await;
    o.push("scheduler UPDATE", observe::update(&update));
    // Then the executor's own task, so that any ACKNOWLEDGED of the
    // unknown task's update would come first.
    let status = launched.status("TASK_RUNNING");
    o.answer("UPDATE of its task", &launched.update(status).await);
    let update = launched.scheduler_update(&ctx).await;
    o.push("scheduler UPDATE", observe::update(&update));
    let events = subscription.events.as_mut().expect("events");
    let ack = next_event(events).await.expect("ACKNOWLEDGED");
    o.push("executor event", observe::event(&ack));
    o.push(
        "acknowledged task",
        json!(ack["acknowledged"]["task_id"]["value"] == launched.task_id.as_str()),
    );
    ctx.teardown(&launched.framework).await;
    o
}

async fn executor_message_both_ways(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let mut launched = ctx.launch_executor(Setup::default()).await;
    let mut subscription = launched.running(&mut o).await;
    let message = json!({"message": {"data": "dG8gc2NoZWR1bGVy"}});
    o.answer(
        "executor MESSAGE",
        &launched.call(MediaType::Json, "MESSAGE", message).await,
    );
    let event = launched.scheduler_event("MESSAGE").await;
    o.push("scheduler event", observe::event(&event));
    o.push("data", event["message"]["data"].clone());
    let message = json!({"message": {
        "agent_id": launched.agent_id,
        "executor_id": {"value": launched.executor_id},
        "data": "dG8gZXhlY3V0b3I=",
    }});
    o.answer(
        "scheduler MESSAGE",
        &ctx.framework_call(&launched.framework, "MESSAGE", message)
            .await,
    );
    let events = subscription.events.as_mut().expect("events");
    let event = next_event(events).await.expect("MESSAGE");
    o.push("executor event", observe::event(&event));
    o.push("data", event["message"]["data"].clone());
    ctx.teardown(&launched.framework).await;
    o
}

/// LAUNCH_GROUP of two tasks with a custom executor: one LAUNCH_GROUP
/// event (its fields and task ids), then each task's TASK_RUNNING and
/// TASK_FINISHED relayed and acknowledged.
async fn executor_launch_group(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let setup = Setup {
        group: true,
        ..Setup::default()
    };
    let mut launched = ctx.launch_executor(setup).await;
    let mut subscription = launched.subscribed().await;
    let events = subscription.events.as_mut().expect("events");
    let seen = events_until(&mut o, "executor event", events, "LAUNCH_GROUP").await;
    let tasks: Vec<Value> = seen
        .last()
        .and_then(|g| g["launch_group"]["task_group"]["tasks"].as_array().cloned())
        .unwrap_or_default();
    let ids: Vec<Value> = tasks
        .iter()
        .map(|t| t["task_id"]["value"].clone())
        .collect();
    o.push("task ids", launched.normalise(&json!(ids), None));
    for state in ["TASK_RUNNING", "TASK_FINISHED"] {
        for id in &ids {
            let status = launched.status_of(id.as_str().unwrap_or_default(), state);
            o.answer(&format!("UPDATE {state}"), &launched.update(status).await);
            let update = launched.scheduler_update(&ctx).await;
            o.push("scheduler UPDATE", observe::update(&update));
            o.push(
                "task",
                update["update"]["status"]["task_id"]["value"].clone(),
            );
            let events = subscription.events.as_mut().expect("events");
            let ack = next_event(events).await.expect("ACKNOWLEDGED");
            o.push("executor event", observe::event(&ack));
        }
    }
    ctx.teardown(&launched.framework).await;
    o
}

/// LAUNCH_GROUP whose executor lacks `framework_id` (which a LAUNCH's gets
/// from the master): every task of the group is a TASK_ERROR.
async fn executor_launch_group_without_framework_id(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let setup = Setup {
        group: true,
        executor: json!({"framework_id": null}),
        ..Setup::default()
    };
    let mut accepted = ctx.accept_launch(setup).await;
    for _ in 0..2 {
        let update = accepted
            .framework
            .events()
            .wait_for("UPDATE", super::super::EVENT_WAIT)
            .await
            .expect("UPDATE");
        o.push("scheduler UPDATE", observe::update(&update));
        ctx.acknowledge(&accepted.framework, &update["update"]["status"])
            .await;
    }
    ctx.teardown(&accepted.framework).await;
    accepted.remove_dir();
    o
}
