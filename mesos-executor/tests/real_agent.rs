//! Interop with a real Mesos 1.11 master + agent: a minimal v1 scheduler
//! launches the `test_executor` example as a custom executor and checks
//! TASK_RUNNING, TASK_FINISHED and a framework message round trip.
//!
//! Runs only when `MESOS_INTEROP_MASTER` names a master, e.g.
//! `MESOS_INTEROP_MASTER=http://127.0.0.1:5050 cargo test -p mesos-executor --test real_agent`.

use std::path::PathBuf;
use std::time::Duration;

use futures::StreamExt;
use mesos_http::{parse_url, Client, MediaType};
use mesos_proto::v1::scheduler::{call, event, Call, Event};
use mesos_proto::v1::{
    framework_info, offer, resource, value, CommandInfo, ExecutorId, ExecutorInfo, Filters,
    FrameworkId, FrameworkInfo, Resource, TaskId, TaskInfo, TaskState,
};

const MASTER_VAR: &str = "MESOS_INTEROP_MASTER";

/// The `test_executor` example, built with the same cargo and target dir.
fn build_test_executor() -> PathBuf {
    mesos_test_support::example_binary("test_executor")
}

fn scalar(name: &str, value: f64) -> Resource {
    Resource {
        name: name.into(),
        r#type: value::Type::Scalar as i32,
        scalar: Some(value::Scalar { value }),
        allocation_info: Some(resource::AllocationInfo {
            role: Some("*".into()),
        }),
        ..Default::default()
    }
}

fn scheduler_call(framework_id: &FrameworkId, kind: call::Type) -> Call {
    Call {
        framework_id: Some(framework_id.clone()),
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

#[tokio::test]
async fn test_executor_runs_under_the_real_agent() {
    let Ok(master) = std::env::var(MASTER_VAR) else {
        println!("skipped test_executor_runs_under_the_real_agent: {MASTER_VAR} is not set");
        return;
    };
    let executable = build_test_executor();
    let executable = executable.to_string_lossy().into_owned();

    let client = Client::builder()
        .media_type(MediaType::Json)
        .build()
        .unwrap();
    let url = parse_url(&format!(
        "{}/api/v1/scheduler",
        master.trim_end_matches('/')
    ))
    .unwrap();
    let subscribe = Call {
        r#type: Some(call::Type::Subscribe as i32),
        subscribe: Some(call::Subscribe {
            framework_info: FrameworkInfo {
                user: std::env::var("USER").unwrap_or_else(|_| "root".into()),
                name: "mesos-executor real_agent test".into(),
                roles: vec!["*".into()],
                capabilities: vec![framework_info::Capability {
                    r#type: Some(framework_info::capability::Type::MultiRole as i32),
                }],
                ..Default::default()
            },
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut subscription = client
        .subscribe::<_, Event>(&url, &subscribe)
        .await
        .unwrap();
    let stream_id = subscription.stream_id.clone().expect("Mesos-Stream-Id");

    let task_id = TaskId {
        value: format!("rust-test-task-{}", std::process::id()),
    };
    let executor_id = ExecutorId {
        value: format!("rust-test-executor-{}", std::process::id()),
    };
    let echo = bytes::Bytes::from_static(b"ping from the scheduler");

    let mut framework_id: Option<FrameworkId> = None;
    let mut launched = false;
    let mut states = Vec::new();
    let mut echoed = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let outcome = tokio::time::timeout_at(deadline, async {
        while let Some(event) = subscription.events.next().await {
            let event = event.expect("scheduler event");
            match event.r#type() {
                event::Type::Subscribed => {
                    framework_id = event.subscribed.map(|s| s.framework_id);
                }
                event::Type::Offers if !launched => {
                    let fw = framework_id.clone().expect("SUBSCRIBED first");
                    let Some(offer) = event.offers.and_then(|o| o.offers.into_iter().next()) else {
                        continue;
                    };
                    let task = TaskInfo {
                        name: "rust test task".into(),
                        task_id: task_id.clone(),
                        agent_id: offer.agent_id.clone(),
                        resources: vec![scalar("cpus", 0.1), scalar("mem", 32.0)],
                        executor: Some(Box::new(ExecutorInfo {
                            executor_id: executor_id.clone(),
                            framework_id: Some(fw.clone()),
                            name: Some("rust test executor".into()),
                            command: Some(CommandInfo {
                                shell: Some(false),
                                value: Some(executable.clone()),
                                arguments: vec![executable.clone()],
                                ..Default::default()
                            }),
                            resources: vec![scalar("cpus", 0.1), scalar("mem", 32.0)],
                            ..Default::default()
                        })),
                        ..Default::default()
                    };
                    let mut accept = scheduler_call(&fw, call::Type::Accept);
                    accept.accept = Some(call::Accept {
                        offer_ids: vec![offer.id.clone()],
                        operations: vec![offer::Operation {
                            r#type: Some(offer::operation::Type::Launch as i32),
                            launch: Some(offer::operation::Launch {
                                task_infos: vec![task],
                            }),
                            ..Default::default()
                        }],
                        filters: Some(Filters {
                            refuse_seconds: Some(1.0),
                        }),
                    });
                    client.call(&url, &accept, Some(&stream_id)).await.unwrap();
                    launched = true;
                }
                event::Type::Update => {
                    let fw = framework_id.clone().expect("SUBSCRIBED first");
                    let status = event.update.expect("update payload").status;
                    assert_eq!(status.task_id, task_id, "{status:?}");
                    let state = status.state();
                    println!("task state {} ({:?})", state.as_str_name(), status.message);
                    if let Some(uuid) = status.uuid.clone() {
                        let mut ack = scheduler_call(&fw, call::Type::Acknowledge);
                        ack.acknowledge = Some(call::Acknowledge {
                            agent_id: status.agent_id.clone().expect("agent id"),
                            task_id: status.task_id.clone(),
                            uuid,
                        });
                        client.call(&url, &ack, Some(&stream_id)).await.unwrap();
                    }
                    if state == TaskState::TaskRunning {
                        let mut message = scheduler_call(&fw, call::Type::Message);
                        message.message = Some(call::Message {
                            agent_id: status.agent_id.clone().expect("agent id"),
                            executor_id: executor_id.clone(),
                            data: echo.clone(),
                        });
                        client.call(&url, &message, Some(&stream_id)).await.unwrap();
                    }
                    states.push(state);
                }
                event::Type::Message => {
                    let message = event.message.expect("message payload");
                    assert_eq!(message.executor_id, executor_id);
                    assert_eq!(message.data, echo);
                    echoed = true;
                }
                event::Type::Failure | event::Type::Error => {
                    panic!("unexpected event: {event:?}");
                }
                _ => {}
            }
            if echoed && states.contains(&TaskState::TaskFinished) {
                return;
            }
        }
        panic!("the master closed the scheduler stream");
    })
    .await;

    if let Some(fw) = framework_id.as_ref() {
        let teardown = scheduler_call(fw, call::Type::Teardown);
        let _ = client.call(&url, &teardown, Some(&stream_id)).await;
    }
    assert!(
        outcome.is_ok(),
        "timed out: launched={launched} states={states:?} echoed={echoed}"
    );
    assert_eq!(
        states,
        vec![TaskState::TaskRunning, TaskState::TaskFinished],
        "the scheduler sees RUNNING then FINISHED"
    );
    assert!(echoed);
}
