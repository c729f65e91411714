//! A task group (two tasks, one executor) launched with LAUNCH_GROUP, its
//! executor our own: the `test_executor` example, built on
//! `mesos-executor`, which the agent runs by absolute path. The scenario
//! scripts it through its environment: the states every task goes through
//! (`TEST_EXECUTOR_STATES`: to TASK_FINISHED, or TASK_RUNNING only, then
//! a KILL or the executor's exit), whether it exits once every update is
//! acknowledged or waits for SHUTDOWN; it writes what it saw to a report
//! file (`TEST_EXECUTOR_REPORT`) that the scenario reads once it ended.
//!
//! Observed: the ACCEPT's answer; each task's updates as the scheduler got
//! them (state, source, reason, message, fields present); the scheduler's
//! FAILURE event for the executor's exit; the executor's events in order
//! (its acknowledgements counted per task, as updates of different tasks
//! are acknowledged in no fixed order); the driver's final status.
//!
//! One more scenario kills a task of a group before its executor (the
//! executor scenarios' waiting script) has subscribed: the whole group is
//! killed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::time::Instant;

use super::executor::{control_dir, Setup};
use super::tasks::{first_offer, scalar};
use mesos_proto::MediaType;

use super::executor::events_until;
use super::{Ctx, Framework, EVENT_WAIT};
use crate::observe::{self, Observations};

crate::scenarios!(
    both task_group_on_test_executor,
    json task_group_test_executor_shutdown,
    json task_group_executor_exits_while_running,
    json task_group_task_killed_on_test_executor,
    json task_group_killed_before_delivery,
    json task_group_second_group_on_running_executor,
);

/// How long the executor may take to report (it is started, subscribes,
/// runs both tasks and exits within this).
const REPORT_WAIT: Duration = Duration::from_secs(30);

/// Updates (and FAILURE events) a scenario reads at most.
const MAX_EVENTS: usize = 16;

/// A task group launched on the test executor.
struct Group {
    framework: Framework,
    agent_id: Value,
    executor_id: String,
    /// Its ExecutorInfo, as launched.
    executor: Value,
    /// The tasks' ids, in the group's order.
    task_ids: Vec<String>,
    /// The executor's report file.
    report: PathBuf,
    /// The directory holding it.
    dir: PathBuf,
}

impl Drop for Group {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The `test_executor` example's executable (built once per process).
async fn test_executor() -> PathBuf {
    tokio::task::spawn_blocking(|| mesos_test_support::example_binary("test_executor"))
        .await
        .expect("building the examples")
}

/// How the test executor runs the group.
struct Script {
    /// The states every task goes through (`TEST_EXECUTOR_STATES`).
    states: &'static str,
    /// The executor exits once every update is acknowledged.
    exit_when_done: bool,
    /// Non-terminal updates carry `healthy: true`.
    healthy: bool,
}

/// Every task finishes; the executor exits once that is acknowledged.
const FINISH_AND_EXIT: Script = Script {
    states: "TASK_RUNNING,TASK_FINISHED",
    exit_when_done: true,
    healthy: false,
};

/// What the scheduler reads: this many updates and, when `failure`, the
/// executor's FAILURE.
#[derive(Clone, Copy)]
struct Expect {
    updates: usize,
    failure: bool,
}

impl Expect {
    /// `updates` updates, no FAILURE.
    fn updates(updates: usize) -> Expect {
        Expect {
            updates,
            failure: false,
        }
    }
}

/// Subscribes a framework and accepts its first offer with a LAUNCH_GROUP
/// of two tasks on the test executor, run as `script` says; records the
/// answer.
async fn launch_group(ctx: &Ctx, script: Script, o: &mut Observations) -> Group {
    let binary = test_executor().await;
    let mut framework = ctx.subscribe(json!({})).await;
    let offer = first_offer(&mut framework).await;
    let dir = control_dir(&ctx.name);
    let report = dir.join("report.jsonl");
    let executor_id = format!("{}-executor", ctx.name);
    let executor = json!({
        "type": "CUSTOM",
        "executor_id": {"value": executor_id},
        "framework_id": {"value": framework.framework_id},
        "command": {
            "value": binary.display().to_string(),
            "shell": false,
            "arguments": ["test_executor"],
            "environment": {"variables": [
                {"name": "TEST_EXECUTOR_REPORT", "value": report.display().to_string()},
                {"name": "TEST_EXECUTOR_STATES", "value": script.states},
                {"name": "TEST_EXECUTOR_EXIT_WHEN_DONE", "value": if script.exit_when_done { "1" } else { "0" }},
                {"name": "TEST_EXECUTOR_HEALTHY", "value": if script.healthy { "true" } else { "" }},
            ]},
        },
        "resources": [scalar("cpus", 0.1), scalar("mem", 32.0), scalar("disk", 16.0)],
    });
    let task_ids: Vec<String> = (1..=2).map(|n| format!("{}-task-{n}", ctx.name)).collect();
    let group = Group {
        framework,
        agent_id: offer["agent_id"].clone(),
        executor_id,
        executor,
        task_ids,
        report,
        dir,
    };
    group
        .accept(ctx, &offer, &group.task_ids, "ACCEPT with LAUNCH_GROUP", o)
        .await;
    group
}

/// Reads the scheduler's UPDATE (acknowledging each) and FAILURE events
/// until it has what `expect` says (the FAILURE: of `executor_id`);
/// records each task's updates (tasks in id order), then the FAILURE.
async fn scheduler_sees(
    ctx: &Ctx,
    framework: &mut Framework,
    executor_id: &str,
    expect: Expect,
    o: &mut Observations,
) {
    let mut updates: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut seen = 0;
    let mut failed = None;
    for _ in 0..MAX_EVENTS {
        if seen == expect.updates && (failed.is_some() || !expect.failure) {
            break;
        }
        let Some(event) = framework
            .events()
            .wait_for_any(&["UPDATE", "FAILURE"], Duration::from_secs(30))
            .await
        else {
            o.push("scheduler stream ended", json!(true));
            break;
        };
        if event["type"] == "FAILURE" {
            failed = Some(json!({
                "fields": observe::fields(&event),
                "status": event["failure"]["status"],
                "executor": event["failure"]["executor_id"]["value"] == executor_id,
            }));
            continue;
        }
        let status = &event["update"]["status"];
        seen += 1;
        let task = status["task_id"]["value"].as_str().unwrap_or_default();
        updates
            .entry(task.to_string())
            .or_default()
            .push(observe::update(&event));
        ctx.acknowledge(framework, status).await;
    }
    for (task, updates) in updates {
        o.push(
            "scheduler UPDATEs",
            json!({"task": task, "updates": updates}),
        );
    }
    if let Some(failed) = failed {
        o.push("scheduler FAILURE", failed);
    }
}

impl Group {
    /// Accepts `offer` with a LAUNCH_GROUP of tasks `task_ids` on the
    /// executor; records the answer as `step`.
    async fn accept(
        &self,
        ctx: &Ctx,
        offer: &Value,
        task_ids: &[String],
        step: &str,
        o: &mut Observations,
    ) {
        let tasks: Vec<Value> = task_ids
            .iter()
            .map(|id| {
                json!({
                    "name": "differential",
                    "task_id": {"value": id},
                    "agent_id": offer["agent_id"],
                    "resources": [scalar("cpus", 0.1), scalar("mem", 32.0)],
                })
            })
            .collect();
        let accept = json!({"accept": {
            "offer_ids": [offer["id"]],
            "operations": [{"type": "LAUNCH_GROUP", "launch_group": {
                "executor": self.executor,
                "task_group": {"tasks": tasks},
            }}],
            "filters": {"refuse_seconds": 1.0},
        }});
        o.answer(
            step,
            &ctx.framework_call(&self.framework, "ACCEPT", accept).await,
        );
    }

    /// The framework's tasks, completed tasks and executors in the
    /// master's `/master/state`: per task (by id) its state, role, its
    /// statuses' states and the fields present; per executor its role,
    /// type, argv and the fields present.
    async fn master_state(&self, ctx: &Ctx) -> Value {
        let state = ctx.master_state().await;
        let framework = state["frameworks"]
            .as_array()
            .and_then(|all| {
                all.iter()
                    .find(|f| f["id"] == self.framework.framework_id.as_str())
            })
            .cloned()
            .unwrap_or(Value::Null);
        let tasks = |key: &str| -> Value {
            let mut tasks: Vec<Value> = framework[key]
                .as_array()
                .map(|all| {
                    all.iter()
                        .map(|t| {
                            json!({
                                "id": t["id"],
                                "state": t["state"],
                                "role": t["role"],
                                "statuses": t["statuses"]
                                    .as_array()
                                    .map(|s| s.iter().map(|s| s["state"].clone()).collect::<Vec<_>>()),
                                "fields": observe::fields(t),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            tasks.sort_by_key(|t| t["id"].as_str().map(str::to_string));
            json!(tasks)
        };
        let executors: Vec<Value> = framework["executors"]
            .as_array()
            .map(|all| {
                all.iter()
                    .map(|e| {
                        json!({
                            "role": e["role"],
                            "type": e["type"],
                            "argv": e["command"]["argv"],
                            "fields": observe::fields(e),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        json!({
            "tasks": tasks("tasks"),
            "completed_tasks": tasks("completed_tasks"),
            "executors": executors,
        })
    }

    /// [`scheduler_sees`] for this group.
    async fn scheduler_sees(&mut self, ctx: &Ctx, expect: Expect, o: &mut Observations) {
        scheduler_sees(ctx, &mut self.framework, &self.executor_id, expect, o).await;
    }

    /// Waits until the executor saw `count` acknowledgements (so that
    /// they all reached it before what comes next).
    async fn acknowledged(&self, count: usize) {
        self.report_when("acknowledgement of every update", |e| {
            e.iter().filter(|e| e["event"] == "acknowledged").count() == count
        })
        .await;
    }

    /// Waits (bounded) until the executor's report satisfies `done`;
    /// returns its entries.
    async fn report_when(&self, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + REPORT_WAIT;
        loop {
            let entries = read_report(&self.report);
            if done(&entries) {
                return entries;
            }
            assert!(
                Instant::now() < deadline,
                "the test executor's report shows no {what} within {REPORT_WAIT:?}: {entries:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Records the executor's report once the executor has ended: its
    /// events in order, acknowledgements counted per task.
    async fn executor_saw(&self, o: &mut Observations) {
        let entries = self
            .report_when("end", |e| e.iter().any(|e| e["event"] == "ended"))
            .await;
        let mut acknowledged: BTreeMap<String, u64> = BTreeMap::new();
        for entry in entries {
            if entry["event"] == "acknowledged" {
                let task = entry["task_id"].as_str().unwrap_or_default().to_string();
                *acknowledged.entry(task).or_default() += 1;
            } else {
                o.push("executor", entry);
            }
        }
        o.push(
            "executor acknowledgements",
            json!({"by_task": acknowledged}),
        );
    }
}

/// The report's entries (complete lines that are JSON).
fn read_report(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// The group runs to TASK_FINISHED on both tasks; once every update is
/// acknowledged the executor exits (status 0) and the scheduler gets
/// FAILURE.
async fn task_group_on_test_executor(ctx: Ctx) -> Observations {
    until_executor_exits(ctx, FINISH_AND_EXIT).await
}

/// Launches the group as `script` says (its executor exits by itself) and
/// observes four updates, the FAILURE, the executor's report and the
/// master's state after all that.
async fn until_executor_exits(ctx: Ctx, script: Script) -> Observations {
    let mut o = Observations::default();
    let mut group = launch_group(&ctx, script, &mut o).await;
    let expect = Expect {
        failure: true,
        ..Expect::updates(4)
    };
    group.scheduler_sees(&ctx, expect, &mut o).await;
    group.executor_saw(&mut o).await;
    // The master had the executor's exit (the FAILURE) and every update's
    // acknowledgement.
    o.push("master state", group.master_state(&ctx).await);
    ctx.teardown(&group.framework).await;
    o
}

/// The group runs to TASK_FINISHED on both tasks; the executor stays,
/// echoes a framework message, and is shut down by the framework's
/// TEARDOWN.
async fn task_group_test_executor_shutdown(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let script = Script {
        exit_when_done: false,
        ..FINISH_AND_EXIT
    };
    let mut group = launch_group(&ctx, script, &mut o).await;
    let expect = Expect::updates(4);
    group.scheduler_sees(&ctx, expect, &mut o).await;
    group.acknowledged(4).await;
    // The executor echoes a framework message.
    let message = json!({"message": {
        "agent_id": group.agent_id,
        "executor_id": {"value": group.executor_id},
        "data": "dG8gdGhlIGdyb3VwJ3MgZXhlY3V0b3I=",
    }});
    o.answer(
        "scheduler MESSAGE",
        &ctx.framework_call(&group.framework, "MESSAGE", message)
            .await,
    );
    let echo = group
        .framework
        .events()
        .wait_for("MESSAGE", EVENT_WAIT)
        .await
        .expect("the executor's echo");
    o.push("scheduler event", observe::event(&echo));
    o.push("data", echo["message"]["data"].clone());
    ctx.teardown(&group.framework).await;
    group.executor_saw(&mut o).await;
    o
}

/// Both tasks go TASK_RUNNING, then the executor exits (status 0): the
/// agent fails both tasks and the scheduler gets FAILURE.
async fn task_group_executor_exits_while_running(ctx: Ctx) -> Observations {
    let script = Script {
        states: "TASK_RUNNING",
        ..FINISH_AND_EXIT
    };
    until_executor_exits(ctx, script).await
}

/// Both tasks go TASK_RUNNING (healthy); a KILL of the first reaches the executor
/// (a custom executor: for that task only), which answers TASK_KILLED; the
/// second keeps running until the TEARDOWN shuts the executor down.
async fn task_group_task_killed_on_test_executor(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let script = Script {
        states: "TASK_RUNNING",
        exit_when_done: false,
        healthy: true,
    };
    let mut group = launch_group(&ctx, script, &mut o).await;
    let running = Expect::updates(2);
    group.scheduler_sees(&ctx, running, &mut o).await;
    let kill = json!({"kill": {
        "task_id": {"value": group.task_ids[0]},
        "agent_id": group.agent_id,
    }});
    o.answer(
        "scheduler KILL of the first task",
        &ctx.framework_call(&group.framework, "KILL", kill).await,
    );
    let killed = Expect::updates(1);
    group.scheduler_sees(&ctx, killed, &mut o).await;
    group.acknowledged(3).await;
    o.push("master state", group.master_state(&ctx).await);
    // Explicit reconciliation of both: the running one, and the killed one
    // (acknowledged, so no longer the master's).
    let tasks: Vec<Value> = group
        .task_ids
        .iter()
        .map(|id| json!({"task_id": {"value": id}, "agent_id": group.agent_id}))
        .collect();
    o.answer(
        "scheduler RECONCILE",
        &ctx.framework_call(
            &group.framework,
            "RECONCILE",
            json!({"reconcile": {"tasks": tasks}}),
        )
        .await,
    );
    group.scheduler_sees(&ctx, Expect::updates(2), &mut o).await;
    ctx.teardown(&group.framework).await;
    group.executor_saw(&mut o).await;
    o
}

/// A KILL of one task of a group not yet delivered to its executor (a
/// script that has not subscribed): the agent kills every task of the
/// group; the executor, subscribing then, has nothing to run and is shut
/// down.
async fn task_group_killed_before_delivery(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let setup = Setup {
        group: true,
        ..Setup::default()
    };
    let mut launched = ctx.launch_executor(setup).await;
    let kill = json!({"kill": {
        "task_id": {"value": launched.task_id},
        "agent_id": launched.agent_id,
    }});
    o.answer(
        "scheduler KILL of the first task before the executor subscribed",
        &ctx.framework_call(&launched.framework, "KILL", kill).await,
    );
    let executor_id = launched.executor_id.clone();
    scheduler_sees(
        &ctx,
        &mut launched.framework,
        &executor_id,
        Expect::updates(2),
        &mut o,
    )
    .await;
    let mut subscription = launched.subscribe(MediaType::Json, json!({})).await;
    o.answer("executor SUBSCRIBE", &subscription);
    if let Some(events) = subscription.events.as_mut() {
        events_until(&mut o, "executor event", events, "SHUTDOWN").await;
    }
    ctx.teardown(&launched.framework).await;
    o
}

/// Both tasks go TASK_RUNNING; a second group (two more tasks) for the
/// same, running executor, from the next offer, reaches it as a second
/// LAUNCH_GROUP; TEARDOWN then shuts the executor down.
async fn task_group_second_group_on_running_executor(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let script = Script {
        states: "TASK_RUNNING",
        exit_when_done: false,
        healthy: false,
    };
    let mut group = launch_group(&ctx, script, &mut o).await;
    group.scheduler_sees(&ctx, Expect::updates(2), &mut o).await;
    let offer = first_offer(&mut group.framework).await;
    let more: Vec<String> = (3..=4).map(|n| format!("{}-task-{n}", ctx.name)).collect();
    group
        .accept(
            &ctx,
            &offer,
            &more,
            "ACCEPT with a second LAUNCH_GROUP",
            &mut o,
        )
        .await;
    group.scheduler_sees(&ctx, Expect::updates(2), &mut o).await;
    group.acknowledged(4).await;
    ctx.teardown(&group.framework).await;
    group.executor_saw(&mut o).await;
    o
}
