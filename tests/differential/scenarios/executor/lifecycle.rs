//! The executor's life: its environment, KILL and SHUTDOWN events,
//! subscribing after its task was killed, resubscribing with
//! unacknowledged updates and tasks, and how its exit reaches the
//! scheduler.

use mesos_proto::MediaType;
use serde_json::{json, Value};

use super::{events_until, next_event, Launched, Setup};
use crate::observe::{self, Observations};
use crate::Ctx;

crate::scenarios!(
    json executor_environment,
    json executor_environment_checkpointing,
    json executor_environment_grace_period,
    json executor_kill_event,
    json executor_shutdown_on_teardown,
    json executor_subscribes_after_task_killed,
    json executor_exits_without_subscribing,
    json executor_exits_after_subscribing,
    json executor_resubscribes_with_unacknowledged,
    json executor_resubscribes_without_its_task,
);

/// The executor's environment, normalised (`container_id`: SUBSCRIBED's,
/// so that the sandbox path shows whole), without what the shell itself
/// adds (`PWD`, `SHLVL`, `_`).
fn environment(launched: &Launched, container_id: &str) -> Value {
    let env: serde_json::Map<String, Value> = launched
        .env
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "PWD" | "OLDPWD" | "SHLVL" | "_"))
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    launched.normalise(&Value::Object(env), Some(container_id))
}

/// The environment, then the ids in it checked against the launch.
async fn observe_environment(ctx: &Ctx, setup: Setup) -> Observations {
    let mut o = Observations::default();
    let launched = ctx.launch_executor(setup).await;
    let mut subscription = launched.subscribed().await;
    let events = subscription.events.as_mut().expect("events");
    let subscribed = next_event(events).await.expect("SUBSCRIBED");
    let container = subscribed["subscribed"]["container_id"]["value"]
        .as_str()
        .unwrap_or("?");
    o.push("environment", environment(&launched, container));
    let env = |k: &str| launched.env.get(k).map(String::as_str);
    o.push(
        "ids",
        json!({
            "MESOS_EXECUTOR_ID": env("MESOS_EXECUTOR_ID") == Some(launched.executor_id.as_str()),
            "MESOS_FRAMEWORK_ID": env("MESOS_FRAMEWORK_ID") == Some(launched.framework_id()),
            "MESOS_SLAVE_ID": env("MESOS_SLAVE_ID") == launched.agent_id["value"].as_str(),
        }),
    );
    ctx.teardown(&launched.framework).await;
    o
}

async fn executor_environment(ctx: Ctx) -> Observations {
    observe_environment(&ctx, Setup::default()).await
}

async fn executor_environment_checkpointing(ctx: Ctx) -> Observations {
    let setup = Setup {
        framework: json!({"checkpoint": true, "failover_timeout": 0.0}),
        ..Setup::default()
    };
    observe_environment(&ctx, setup).await
}

async fn executor_environment_grace_period(ctx: Ctx) -> Observations {
    let setup = Setup {
        executor: json!({"shutdown_grace_period": {"nanoseconds": 2_500_000_000_i64}}),
        ..Setup::default()
    };
    observe_environment(&ctx, setup).await
}

async fn executor_kill_event(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let mut launched = ctx.launch_executor(Setup::default()).await;
    let mut subscription = launched.running(&mut o).await;
    o.answer(
        "UPDATE TASK_RUNNING",
        &launched.update(launched.status("TASK_RUNNING")).await,
    );
    let update = launched.scheduler_update(&ctx).await;
    o.push("scheduler UPDATE", observe::update(&update));
    let kill = json!({"kill": {
        "task_id": {"value": launched.task_id},
        "agent_id": launched.agent_id,
        "kill_policy": {"grace_period": {"nanoseconds": 1_500_000_000_i64}},
    }});
    o.answer(
        "scheduler KILL",
        &ctx.framework_call(&launched.framework, "KILL", kill).await,
    );
    let events = subscription.events.as_mut().expect("events");
    let seen = events_until(&mut o, "executor event", events, "KILL").await;
    if let Some(kill) = seen.last() {
        o.push("kill", launched.normalise(&kill["kill"], None));
    }
    o.answer(
        "UPDATE TASK_KILLED",
        &launched.update(launched.status("TASK_KILLED")).await,
    );
    let update = launched.scheduler_update(&ctx).await;
    o.push("scheduler UPDATE", observe::update(&update));
    ctx.teardown(&launched.framework).await;
    o
}

async fn executor_shutdown_on_teardown(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let launched = ctx.launch_executor(Setup::default()).await;
    let mut subscription = launched.running(&mut o).await;
    ctx.teardown(&launched.framework).await;
    let events = subscription.events.as_mut().expect("events");
    events_until(&mut o, "executor event", events, "SHUTDOWN").await;
    o
}

async fn executor_subscribes_after_task_killed(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let mut launched = ctx.launch_executor(Setup::default()).await;
    let kill = json!({"kill": {
        "task_id": {"value": launched.task_id},
        "agent_id": launched.agent_id,
    }});
    o.answer(
        "scheduler KILL before the executor subscribed",
        &ctx.framework_call(&launched.framework, "KILL", kill).await,
    );
    let update = launched.scheduler_update(&ctx).await;
    o.push("scheduler UPDATE", observe::update(&update));
    let mut subscription = launched.subscribe(MediaType::Json, json!({})).await;
    o.answer("SUBSCRIBE", &subscription);
    if let Some(events) = subscription.events.as_mut() {
        events_until(&mut o, "executor event", events, "SHUTDOWN").await;
    }
    ctx.teardown(&launched.framework).await;
    o
}

/// What the scheduler gets about the executor's end: UPDATEs and FAILURE
/// events, until the terminal update and the FAILURE.
async fn executor_end(ctx: &Ctx, launched: &mut Launched, o: &mut Observations) {
    let (mut failure, mut terminal) = (false, false);
    while !(failure && terminal) {
        let events = launched.framework.events();
        let event = events
            .wait_for_any(&["UPDATE", "FAILURE"], super::super::EVENT_WAIT)
            .await
            .expect("scheduler stream ended");
        if event["type"] == "FAILURE" {
            failure = true;
            o.push(
                "scheduler FAILURE",
                json!({
                    "fields": observe::fields(&event),
                    "status": event["failure"]["status"],
                    "executor": event["failure"]["executor_id"]["value"] == launched.executor_id.as_str(),
                }),
            );
            continue;
        }
        let status = &event["update"]["status"];
        terminal = !matches!(
            status["state"].as_str(),
            Some("TASK_RUNNING" | "TASK_STARTING" | "TASK_STAGING")
        );
        o.push("scheduler UPDATE", observe::update(&event));
        ctx.acknowledge(&launched.framework, status).await;
    }
}

async fn executor_exits_without_subscribing(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let setup = Setup {
        exit_at_once: Some(3),
        ..Setup::default()
    };
    let mut launched = ctx.launch_executor(setup).await;
    executor_end(&ctx, &mut launched, &mut o).await;
    ctx.teardown(&launched.framework).await;
    o
}

async fn executor_exits_after_subscribing(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let mut launched = ctx.launch_executor(Setup::default()).await;
    let _subscription = launched.running(&mut o).await;
    o.answer(
        "UPDATE TASK_RUNNING",
        &launched.update(launched.status("TASK_RUNNING")).await,
    );
    let update = launched.scheduler_update(&ctx).await;
    o.push("scheduler UPDATE", observe::update(&update));
    launched.exit(7);
    executor_end(&ctx, &mut launched, &mut o).await;
    ctx.teardown(&launched.framework).await;
    o
}

/// Subscribes, sends TASK_RUNNING, drops the stream, resubscribes
/// listing that update and the task as unacknowledged: the agent has the
/// update already (a duplicate) and the task is not sent again.
async fn executor_resubscribes_with_unacknowledged(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let mut launched = ctx.launch_executor(Setup::default()).await;
    let mut subscription = launched.subscribed().await;
    let events = subscription.events.as_mut().expect("events");
    let seen = events_until(&mut o, "executor event", events, "LAUNCH").await;
    let task = seen
        .last()
        .map(|l| l["launch"]["task"].clone())
        .unwrap_or_default();
    let status = launched.status("TASK_RUNNING");
    let running_uuid = status["uuid"].clone();
    o.answer(
        "UPDATE TASK_RUNNING",
        &launched.update(status.clone()).await,
    );
    let update = launched.scheduler_event("UPDATE").await;
    o.push("scheduler UPDATE", observe::update(&update));
    drop(subscription);
    let fields = json!({
        "unacknowledged_updates": [{"status": status}],
        "unacknowledged_tasks": [task],
    });
    let mut subscription = launched.subscribe(MediaType::Json, fields).await;
    o.answer("SUBSCRIBE again", &subscription);
    let events = subscription.events.as_mut().expect("events");
    events_until(&mut o, "executor event", events, "SUBSCRIBED").await;
    // The scheduler acknowledges TASK_RUNNING only now.
    let status = &update["update"]["status"];
    let ack = json!({"acknowledge": {
        "agent_id": status["agent_id"],
        "task_id": status["task_id"],
        "uuid": status["uuid"],
    }});
    o.answer(
        "scheduler ACKNOWLEDGE",
        &ctx.framework_call(&launched.framework, "ACKNOWLEDGE", ack)
            .await,
    );
    let finished = launched.status("TASK_FINISHED");
    let finished_uuid = finished["uuid"].clone();
    o.answer("UPDATE TASK_FINISHED", &launched.update(finished).await);
    // Every event up to the acknowledgement of TASK_FINISHED, and which
    // update each ACKNOWLEDGED is for.
    while let Some(event) = next_event(events).await {
        let uuid = &event["acknowledged"]["uuid"];
        let of = if *uuid == finished_uuid {
            "TASK_FINISHED"
        } else if *uuid == running_uuid {
            "TASK_RUNNING"
        } else {
            "-"
        };
        o.push(
            "executor event",
            json!({"event": observe::event(&event), "of": of}),
        );
        if of == "TASK_FINISHED" {
            break;
        }
    }
    let update = launched.scheduler_update(&ctx).await;
    o.push("scheduler UPDATE", observe::update(&update));
    ctx.teardown(&launched.framework).await;
    o
}

/// Resubscribes listing nothing while its task is still staging: the
/// agent takes the task as never received (lost), and the executor, left
/// with no task, is shut down.
async fn executor_resubscribes_without_its_task(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let mut launched = ctx.launch_executor(Setup::default()).await;
    let subscription = launched.running(&mut o).await;
    drop(subscription);
    let mut subscription = launched.subscribe(MediaType::Json, json!({})).await;
    o.answer("SUBSCRIBE again", &subscription);
    let update = launched.scheduler_update(&ctx).await;
    o.push("scheduler UPDATE", observe::update(&update));
    let events = subscription.events.as_mut().expect("events");
    events_until(&mut o, "executor event", events, "SHUTDOWN").await;
    o.answer(
        "UPDATE TASK_RUNNING after",
        &launched.update(launched.status("TASK_RUNNING")).await,
    );
    ctx.teardown(&launched.framework).await;
    o
}
