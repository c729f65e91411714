use mesos_proto::v1::master::response::{
    get_agents, get_frameworks, GetAgents, GetFrameworks, GetState, GetTasks,
};
use mesos_proto::v1::master::{event, Event};
use mesos_proto::v1::{
    AgentId, AgentInfo, FrameworkId, FrameworkInfo, Task, TaskId, TaskState, TaskStatus,
};

use super::*;

fn task(framework: &str, id: &str, state: TaskState) -> Task {
    let mut task = Task {
        name: id.into(),
        task_id: TaskId { value: id.into() },
        framework_id: FrameworkId {
            value: framework.into(),
        },
        agent_id: AgentId { value: "a1".into() },
        ..Default::default()
    };
    task.set_state(state);
    task
}

fn agent(id: &str) -> get_agents::Agent {
    get_agents::Agent {
        agent_info: AgentInfo {
            hostname: format!("{id}.example"),
            id: Some(AgentId { value: id.into() }),
            ..Default::default()
        },
        active: true,
        ..Default::default()
    }
}

fn framework(id: &str) -> get_frameworks::Framework {
    get_frameworks::Framework {
        framework_info: FrameworkInfo {
            name: format!("fw {id}"),
            id: Some(FrameworkId { value: id.into() }),
            ..Default::default()
        },
        active: true,
        ..Default::default()
    }
}

fn event(kind: event::Type) -> Event {
    Event {
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

fn subscribed(agents: &[&str], tasks: Vec<Task>, completed: Vec<Task>) -> Event {
    Event {
        subscribed: Some(event::Subscribed {
            get_state: Some(GetState {
                get_agents: Some(GetAgents {
                    agents: agents.iter().map(|a| agent(a)).collect(),
                    ..Default::default()
                }),
                get_frameworks: Some(GetFrameworks {
                    frameworks: vec![framework("f1")],
                    ..Default::default()
                }),
                get_tasks: Some(GetTasks {
                    tasks,
                    completed_tasks: completed,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            heartbeat_interval_seconds: Some(15.0),
        }),
        ..event(event::Type::Subscribed)
    }
}

fn updated(framework: &str, id: &str, state: TaskState) -> Event {
    let mut status = TaskStatus {
        task_id: TaskId { value: id.into() },
        ..Default::default()
    };
    status.set_state(state);
    let mut update = event::TaskUpdated {
        framework_id: FrameworkId {
            value: framework.into(),
        },
        status,
        ..Default::default()
    };
    update.set_state(state);
    Event {
        task_updated: Some(update),
        ..event(event::Type::TaskUpdated)
    }
}

fn key(framework: &str, id: &str) -> TaskKey {
    TaskKey {
        framework_id: framework.into(),
        task_id: id.into(),
    }
}

#[test]
fn subscribed_replaces_everything_with_the_snapshot() {
    let mut state = ClusterState::new();
    state.apply(&Event {
        task_added: Some(event::TaskAdded {
            task: task("old", "t0", TaskState::TaskRunning),
        }),
        ..event(event::Type::TaskAdded)
    });
    let change = state.apply(&subscribed(
        &["a1", "a2"],
        vec![task("f1", "t1", TaskState::TaskRunning)],
        vec![task("f1", "t2", TaskState::TaskFinished)],
    ));
    assert_eq!(
        change,
        Some(Change::Snapshot {
            agents: 2,
            frameworks: 1,
            tasks: 1
        })
    );
    assert!(state.task(&key("old", "t0")).is_none());
    assert!(state.tasks().contains_key(&key("f1", "t1")));
    assert_eq!(state.completed_tasks().len(), 1);
    assert!(state.task(&key("f1", "t2")).is_some());
}

#[test]
fn task_updates_move_terminal_tasks_to_completed() {
    let mut state = ClusterState::new();
    state.apply(&subscribed(&["a1"], vec![], vec![]));
    let added = state.apply(&Event {
        task_added: Some(event::TaskAdded {
            task: task("f1", "t1", TaskState::TaskStaging),
        }),
        ..event(event::Type::TaskAdded)
    });
    assert_eq!(
        added,
        Some(Change::TaskAdded {
            key: key("f1", "t1"),
            state: TaskState::TaskStaging
        })
    );
    let running = state.apply(&updated("f1", "t1", TaskState::TaskRunning));
    assert_eq!(
        running,
        Some(Change::TaskUpdated {
            key: key("f1", "t1"),
            previous: Some(TaskState::TaskStaging),
            state: TaskState::TaskRunning,
            update: TaskState::TaskRunning,
        })
    );
    assert_eq!(
        state.tasks()[&key("f1", "t1")].state(),
        TaskState::TaskRunning
    );
    state.apply(&updated("f1", "t1", TaskState::TaskFinished));
    assert!(state.tasks().is_empty());
    let done = state.task(&key("f1", "t1")).expect("completed");
    assert_eq!(done.state(), TaskState::TaskFinished);
    assert_eq!(done.statuses.len(), 2);
    // An update of a task never seen is reported, not invented.
    let unknown = state.apply(&updated("f1", "t9", TaskState::TaskFailed));
    assert!(matches!(
        unknown,
        Some(Change::TaskUpdated { previous: None, .. })
    ));
    assert!(state.task(&key("f1", "t9")).is_none());
}

#[test]
fn an_update_behind_the_tasks_latest_state_reports_both() {
    let mut state = ClusterState::new();
    state.apply(&subscribed(
        &["a1"],
        vec![task("f1", "t1", TaskState::TaskStaging)],
        vec![],
    ));
    // The master processed the RUNNING update after FINISHED arrived: the
    // event's state is the latest, its status the RUNNING one.
    let mut late = updated("f1", "t1", TaskState::TaskRunning);
    if let Some(update) = late.task_updated.as_mut() {
        update.set_state(TaskState::TaskFinished);
    }
    assert_eq!(
        state.apply(&late),
        Some(Change::TaskUpdated {
            key: key("f1", "t1"),
            previous: Some(TaskState::TaskStaging),
            state: TaskState::TaskFinished,
            update: TaskState::TaskRunning,
        })
    );
    assert!(state.tasks().is_empty(), "finished: among the completed");
}

#[test]
fn agents_and_frameworks_come_and_go() {
    let mut state = ClusterState::new();
    let added = state.apply(&Event {
        agent_added: Some(event::AgentAdded { agent: agent("a7") }),
        ..event(event::Type::AgentAdded)
    });
    assert_eq!(
        added.map(|c| c.to_string()).as_deref(),
        Some("agent a7 (a7.example) added")
    );
    assert!(state.agents().contains_key("a7"));
    state.apply(&Event {
        agent_removed: Some(event::AgentRemoved {
            agent_id: AgentId { value: "a7".into() },
        }),
        ..event(event::Type::AgentRemoved)
    });
    assert!(state.agents().is_empty());

    state.apply(&Event {
        framework_added: Some(event::FrameworkAdded {
            framework: framework("f2"),
        }),
        ..event(event::Type::FrameworkAdded)
    });
    assert_eq!(state.frameworks()["f2"].framework_info.name, "fw f2");
    let removed = state.apply(&Event {
        framework_removed: Some(event::FrameworkRemoved {
            framework_info: framework("f2").framework_info,
        }),
        ..event(event::Type::FrameworkRemoved)
    });
    assert_eq!(
        removed,
        Some(Change::FrameworkRemoved {
            framework_id: "f2".into()
        })
    );
    assert!(state.frameworks().is_empty());
    assert_eq!(state.completed_frameworks().len(), 1);
    assert_eq!(state.apply(&event(event::Type::Heartbeat)), None);
}

#[test]
fn every_collection_is_bounded() {
    let limits = StateLimits {
        max_agents: 2,
        max_active_tasks: 3,
        max_completed_tasks: 2,
        max_statuses_per_task: 2,
        ..StateLimits::default()
    };
    let mut state = ClusterState::with_limits(limits);
    for i in 0..5 {
        state.apply(&Event {
            agent_added: Some(event::AgentAdded {
                agent: agent(&format!("a{i}")),
            }),
            ..event(event::Type::AgentAdded)
        });
        state.apply(&Event {
            task_added: Some(event::TaskAdded {
                task: task("f", &format!("t{i}"), TaskState::TaskRunning),
            }),
            ..event(event::Type::TaskAdded)
        });
    }
    assert_eq!(state.agents().len(), 2);
    assert_eq!(state.tasks().len(), 3);
    assert_eq!(state.dropped(), 3 + 2);
    for _ in 0..4 {
        state.apply(&updated("f", "t0", TaskState::TaskRunning));
    }
    assert_eq!(state.tasks()[&key("f", "t0")].statuses.len(), 2);
    for i in 0..3 {
        state.apply(&updated("f", &format!("t{i}"), TaskState::TaskKilled));
    }
    let completed: Vec<_> = state
        .completed_tasks()
        .iter()
        .map(|t| t.task_id.value.clone())
        .collect();
    assert_eq!(completed, ["t1", "t2"]);
}
