//! The assertions every `StateStore` must pass, the same for each store.
//! `conformance_tests!(harness)` makes one `#[tokio::test]` per case for a
//! store; `harness(test)` returns `None` when the store's environment is
//! missing (the test is skipped as `mesos_test_support::environment` says).

use async_trait::async_trait;
use mesos_framework::state::{
    IntentPhase, LaunchIntent, Recovery, StateError, StateStore, StoreLimits,
};
use mesos_proto::v1::{AgentId, FrameworkId, TaskId, TaskInfo, TaskState, TaskStatus};

/// Opens a store of one kind; every `open` of a harness opens the same
/// stored state (the previous store must be dropped first).
#[async_trait]
pub trait Harness: Send + Sync {
    async fn open(&self, limits: StoreLimits) -> Box<dyn StateStore>;
}

macro_rules! conformance_tests {
    ($harness:path) => {
        conformance_tests!(@cases $harness;
            framework_id_is_set_replaced_and_cleared,
            intents_only_move_forward,
            dropped_intents_stay_dropped,
            task_states_are_replaced_and_removed,
            a_status_settles_its_intent_and_the_task_id_stays_used,
            odd_task_ids_round_trip_and_bad_ones_are_refused,
            oversized_entries_are_refused_and_not_stored,
            entry_counts_are_bounded,
            everything_survives_a_reopen,
            recovery_plans_the_restart,
            concurrent_writers_neither_lose_nor_duplicate
        );
    };
    (@cases $harness:path; $($case:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some(harness) = $harness(stringify!($case)).await else {
                    return;
                };
                $crate::conformance::$case(&harness).await;
            }
        )*
    };
}

pub fn task_id(id: &str) -> TaskId {
    TaskId { value: id.into() }
}

pub fn task(id: &str, agent: &str) -> TaskInfo {
    TaskInfo {
        name: format!("task {id}"),
        task_id: task_id(id),
        agent_id: AgentId {
            value: agent.into(),
        },
        data: Some(format!("payload of {id}").into_bytes().into()),
        ..Default::default()
    }
}

pub fn status(id: &str, state: TaskState, agent: &str) -> TaskStatus {
    TaskStatus {
        task_id: task_id(id),
        state: state as i32,
        message: Some(format!("{id} is {state:?}")),
        agent_id: Some(AgentId {
            value: agent.into(),
        }),
        timestamp: Some(1_700_000_000.25),
        uuid: Some(vec![7; 16].into()),
        data: Some(vec![0, 1, 2, 255].into()),
        ..Default::default()
    }
}

fn ids(states: &[TaskStatus]) -> Vec<&str> {
    states.iter().map(|s| s.task_id.value.as_str()).collect()
}

pub async fn framework_id_is_set_replaced_and_cleared(h: &dyn Harness) {
    let store = h.open(StoreLimits::default()).await;
    assert_eq!(store.framework_id().await.unwrap(), None);
    store.clear_framework_id().await.unwrap();
    let first = FrameworkId {
        value: "6a0f1c3e-0000-0000-0000-000000000001-0000".into(),
    };
    store.set_framework_id(&first).await.unwrap();
    assert_eq!(store.framework_id().await.unwrap(), Some(first));
    let second = FrameworkId {
        value: "second".into(),
    };
    store.set_framework_id(&second).await.unwrap();
    assert_eq!(store.framework_id().await.unwrap(), Some(second));
    store.clear_framework_id().await.unwrap();
    assert_eq!(store.framework_id().await.unwrap(), None);
    store.clear_framework_id().await.unwrap();
}

pub async fn intents_only_move_forward(h: &dyn Harness) {
    let store = h.open(StoreLimits::default()).await;
    let web = task("web-1", "agent-a");
    store.record_intent(&web).await.unwrap();
    // The same pending intent again is a retried write: accepted.
    store.record_intent(&web).await.unwrap();
    let mut other = web.clone();
    other.name = "another launch with the same id".into();
    assert!(matches!(
        store.record_intent(&other).await,
        Err(StateError::IntentExists { task_id }) if task_id == "web-1"
    ));
    assert_eq!(
        store.intents().await.unwrap(),
        vec![LaunchIntent {
            task: web.clone(),
            phase: IntentPhase::Pending
        }]
    );

    store.mark_launched(&web.task_id).await.unwrap();
    store.mark_launched(&web.task_id).await.unwrap();
    assert_eq!(
        store.intents().await.unwrap()[0].phase,
        IntentPhase::Launched
    );
    assert!(matches!(
        store.mark_dropped(&web.task_id).await,
        Err(StateError::InvalidTransition {
            from: IntentPhase::Launched,
            to: IntentPhase::Dropped,
            ..
        })
    ));
    // Once launched, even the identical intent is not recorded again.
    assert!(matches!(
        store.record_intent(&web).await,
        Err(StateError::IntentExists { .. })
    ));

    assert!(matches!(
        store.mark_launched(&task_id("nobody")).await,
        Err(StateError::NoIntent { task_id }) if task_id == "nobody"
    ));
    store.remove_intent(&web.task_id).await.unwrap();
    store.remove_intent(&web.task_id).await.unwrap();
    assert_eq!(store.intents().await.unwrap(), vec![]);
    assert!(matches!(
        store.mark_launched(&web.task_id).await,
        Err(StateError::NoIntent { .. })
    ));
}

pub async fn dropped_intents_stay_dropped(h: &dyn Harness) {
    let store = h.open(StoreLimits::default()).await;
    let t = task("batch-7", "agent-b");
    store.record_intent(&t).await.unwrap();
    store.mark_dropped(&t.task_id).await.unwrap();
    store.mark_dropped(&t.task_id).await.unwrap();
    assert!(matches!(
        store.mark_launched(&t.task_id).await,
        Err(StateError::InvalidTransition {
            from: IntentPhase::Dropped,
            to: IntentPhase::Launched,
            ..
        })
    ));
    assert_eq!(
        store.intents().await.unwrap(),
        vec![LaunchIntent {
            task: t,
            phase: IntentPhase::Dropped
        }]
    );
}

pub async fn task_states_are_replaced_and_removed(h: &dyn Harness) {
    let store = h.open(StoreLimits::default()).await;
    assert_eq!(store.task_states().await.unwrap(), vec![]);
    let b = status("b", TaskState::TaskStaging, "a1");
    let a = status("a", TaskState::TaskRunning, "a2");
    store.put_task_state(&b).await.unwrap();
    store.put_task_state(&a).await.unwrap();
    // Every field comes back, in task id order.
    assert_eq!(store.task_states().await.unwrap(), vec![a.clone(), b]);
    let b_running = status("b", TaskState::TaskRunning, "a1");
    store.put_task_state(&b_running).await.unwrap();
    assert_eq!(
        store.task_states().await.unwrap(),
        vec![a.clone(), b_running]
    );
    store.remove_task_state(&task_id("b")).await.unwrap();
    store.remove_task_state(&task_id("b")).await.unwrap();
    assert_eq!(store.task_states().await.unwrap(), vec![a]);
}

pub async fn a_status_settles_its_intent_and_the_task_id_stays_used(h: &dyn Harness) {
    let store = h.open(StoreLimits::default()).await;
    let t = task("svc-3", "agent-c");
    store.record_intent(&t).await.unwrap();
    store.mark_launched(&t.task_id).await.unwrap();
    let running = status("svc-3", TaskState::TaskRunning, "agent-c");
    store.record_status(&running).await.unwrap();
    assert_eq!(store.intents().await.unwrap(), vec![]);
    assert_eq!(store.task_states().await.unwrap(), vec![running]);
    // The id was launched: it is never launched again.
    assert!(matches!(
        store.record_intent(&t).await,
        Err(StateError::TaskIdInUse { task_id }) if task_id == "svc-3"
    ));
}

pub async fn odd_task_ids_round_trip_and_bad_ones_are_refused(h: &dyn Harness) {
    let store = h.open(StoreLimits::default()).await;
    let odd = [
        "with/slash",
        "..",
        ".hidden",
        "sp ace%25",
        "ünïcødé-タスク",
        "UPPER.lower_-",
    ];
    for id in odd {
        store
            .put_task_state(&status(id, TaskState::TaskRunning, "a"))
            .await
            .unwrap();
        store
            .record_intent(&task(&format!("i{id}"), "a"))
            .await
            .unwrap();
    }
    let mut expected: Vec<&str> = odd.to_vec();
    expected.sort();
    assert_eq!(ids(&store.task_states().await.unwrap()), expected);
    let intents = store.intents().await.unwrap();
    let mut expected: Vec<String> = odd.iter().map(|id| format!("i{id}")).collect();
    expected.sort();
    let got: Vec<String> = intents
        .iter()
        .map(|i| i.task.task_id.value.clone())
        .collect();
    assert_eq!(got, expected);
    store
        .remove_task_state(&task_id("with/slash"))
        .await
        .unwrap();
    assert_eq!(store.task_states().await.unwrap().len(), odd.len() - 1);

    for bad in [String::new(), "x".repeat(241), "/".repeat(81)] {
        let err = store
            .put_task_state(&status(&bad, TaskState::TaskRunning, "a"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StateError::InvalidTaskId { .. }),
            "{bad:?}: {err:?}"
        );
        assert!(matches!(
            store.record_intent(&task(&bad, "a")).await,
            Err(StateError::InvalidTaskId { .. })
        ));
    }
}

pub async fn oversized_entries_are_refused_and_not_stored(h: &dyn Harness) {
    let store = h.open(StoreLimits::default().max_entry_bytes(4096)).await;
    let mut big = status("big", TaskState::TaskRunning, "a");
    big.data = Some(vec![9; 5000].into());
    let err = store.put_task_state(&big).await.unwrap_err();
    assert!(
        matches!(err, StateError::EntryTooLarge { len, max: 4096, .. } if len > 5000),
        "{err:?}"
    );
    let mut big_task = task("big", "a");
    big_task.data = Some(vec![9; 5000].into());
    assert!(matches!(
        store.record_intent(&big_task).await,
        Err(StateError::EntryTooLarge { max: 4096, .. })
    ));
    assert_eq!(store.task_states().await.unwrap(), vec![]);
    assert_eq!(store.intents().await.unwrap(), vec![]);
    // Just under the limit is fine.
    let mut fits = big.clone();
    fits.data = Some(vec![9; 3500].into());
    store.put_task_state(&fits).await.unwrap();
    assert_eq!(store.task_states().await.unwrap(), vec![fits]);
}

pub async fn entry_counts_are_bounded(h: &dyn Harness) {
    let store = h
        .open(StoreLimits::default().max_tasks(3).max_intents(2))
        .await;
    for id in ["t1", "t2", "t3"] {
        store
            .put_task_state(&status(id, TaskState::TaskRunning, "a"))
            .await
            .unwrap();
    }
    assert!(matches!(
        store
            .put_task_state(&status("t4", TaskState::TaskRunning, "a"))
            .await,
        Err(StateError::TooManyEntries {
            kind: "tasks",
            max: 3
        })
    ));
    // Replacing a stored one is not a new entry.
    store
        .put_task_state(&status("t2", TaskState::TaskFinished, "a"))
        .await
        .unwrap();
    store.remove_task_state(&task_id("t1")).await.unwrap();
    store
        .put_task_state(&status("t4", TaskState::TaskRunning, "a"))
        .await
        .unwrap();
    assert_eq!(ids(&store.task_states().await.unwrap()), ["t2", "t3", "t4"]);

    store.record_intent(&task("i1", "a")).await.unwrap();
    store.record_intent(&task("i2", "a")).await.unwrap();
    assert!(matches!(
        store.record_intent(&task("i3", "a")).await,
        Err(StateError::TooManyEntries {
            kind: "intents",
            max: 2
        })
    ));
    assert_eq!(store.intents().await.unwrap().len(), 2);
}

pub async fn everything_survives_a_reopen(h: &dyn Harness) {
    let id = FrameworkId {
        value: "fw-reopen".into(),
    };
    let pending = task("p", "a1");
    let launched = task("l", "a2");
    let running = status("r", TaskState::TaskRunning, "a3");
    {
        let store = h.open(StoreLimits::default()).await;
        store.set_framework_id(&id).await.unwrap();
        store.record_intent(&pending).await.unwrap();
        store.record_intent(&launched).await.unwrap();
        store.mark_launched(&launched.task_id).await.unwrap();
        store.put_task_state(&running).await.unwrap();
    }
    let store = h.open(StoreLimits::default()).await;
    assert_eq!(store.framework_id().await.unwrap(), Some(id));
    assert_eq!(
        store.intents().await.unwrap(),
        vec![
            LaunchIntent {
                task: launched,
                phase: IntentPhase::Launched
            },
            LaunchIntent {
                task: pending,
                phase: IntentPhase::Pending
            },
        ]
    );
    assert_eq!(store.task_states().await.unwrap(), vec![running]);
}

pub async fn recovery_plans_the_restart(h: &dyn Harness) {
    let store = h.open(StoreLimits::default()).await;
    let id = FrameworkId {
        value: "fw-recovery".into(),
    };
    store.set_framework_id(&id).await.unwrap();
    // A: recorded, crashed before knowing whether the ACCEPT went through.
    store.record_intent(&task("A", "agent-1")).await.unwrap();
    // B: launched, and its RUNNING update arrived (state stored, intent kept
    // by a crash between the two writes).
    store.record_intent(&task("B", "agent-2")).await.unwrap();
    store.mark_launched(&task_id("B")).await.unwrap();
    store
        .put_task_state(&status("B", TaskState::TaskRunning, "agent-2"))
        .await
        .unwrap();
    // C: dropped before its ACCEPT.
    store.record_intent(&task("C", "agent-3")).await.unwrap();
    store.mark_dropped(&task_id("C")).await.unwrap();
    // D: finished; E: running without an intent; F: launched, no update.
    store
        .put_task_state(&status("D", TaskState::TaskFinished, "agent-4"))
        .await
        .unwrap();
    store
        .put_task_state(&status("E", TaskState::TaskUnreachable, "agent-5"))
        .await
        .unwrap();
    store.record_intent(&task("F", "agent-6")).await.unwrap();
    store.mark_launched(&task_id("F")).await.unwrap();
    drop(store);

    let store = h.open(StoreLimits::default()).await;
    let plan = Recovery::load(&*store).await.unwrap();
    assert_eq!(plan.framework_id, Some(id));
    let agent = |a: &str| Some(AgentId { value: a.into() });
    // Each non-terminal or unknown task once; never the finished or the
    // dropped one.
    assert_eq!(
        plan.reconcile,
        vec![
            (task_id("B"), agent("agent-2")),
            (task_id("E"), agent("agent-5")),
            (task_id("A"), agent("agent-1")),
            (task_id("F"), agent("agent-6")),
        ]
    );
    let unresolved: Vec<(&str, IntentPhase)> = plan
        .unresolved
        .iter()
        .map(|i| (i.task.task_id.value.as_str(), i.phase))
        .collect();
    assert_eq!(
        unresolved,
        [("A", IntentPhase::Pending), ("F", IntentPhase::Launched)]
    );
    assert_eq!(plan.relaunchable, vec![task("C", "agent-3")]);
    assert_eq!(ids(&plan.known), ["B", "D", "E"]);
}

pub async fn concurrent_writers_neither_lose_nor_duplicate(h: &dyn Harness) {
    let store: std::sync::Arc<dyn StateStore> = h.open(StoreLimits::default()).await.into();
    let mut writers = Vec::new();
    for n in 0..16 {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            let id = format!("w{n:02}");
            store.record_intent(&task(&id, "a")).await.unwrap();
            store.mark_launched(&task_id(&id)).await.unwrap();
            store
                .record_status(&status(&id, TaskState::TaskRunning, "a"))
                .await
                .unwrap();
        }));
    }
    // Eight launches of one task id, each a different TaskInfo: exactly one
    // is recorded.
    let mut contenders = Vec::new();
    for n in 0..8 {
        let store = store.clone();
        contenders.push(tokio::spawn(async move {
            let mut t = task("contended", "a");
            t.name = format!("contender {n}");
            store.record_intent(&t).await.map(|()| t)
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let mut winners = Vec::new();
    for contender in contenders {
        match contender.await.unwrap() {
            Ok(t) => winners.push(t),
            Err(StateError::IntentExists { .. }) => {}
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one launch of the id recorded");
    assert_eq!(
        store.intents().await.unwrap(),
        vec![LaunchIntent {
            task: winners.pop().unwrap(),
            phase: IntentPhase::Pending
        }]
    );
    let states = store.task_states().await.unwrap();
    let expected: Vec<String> = (0..16).map(|n| format!("w{n:02}")).collect();
    assert_eq!(ids(&states), expected);
}
