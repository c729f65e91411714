//! The reconciler's state machine on a fake clock: batching, truncated
//! exponential backoff re-asking only the unanswered, completion, implicit
//! reconciliation, unknown and untracked tasks, restarts on SUBSCRIBED,
//! giving up after `max_rounds`; and properties over random task sets and
//! answer patterns.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use mesos_framework::reconcile::{
    Phase, ReconcileEvent, Reconciler, ReconcilerConfig, ReconcilerConfigError, MAX_BATCH_SIZE,
};
use mesos_scheduler::proto::v1::scheduler::{call, Call};
use mesos_scheduler::proto::v1::task_status::Reason;
use mesos_scheduler::proto::v1::{AgentId, TaskId, TaskState, TaskStatus};
use proptest::prelude::*;

fn status(id: &str, state: TaskState, reconciliation: bool) -> TaskStatus {
    TaskStatus {
        task_id: TaskId::from(id),
        state: state as i32,
        reason: reconciliation.then_some(Reason::Reconciliation as i32),
        ..Default::default()
    }
}

fn answer(id: &str, state: TaskState) -> TaskStatus {
    status(id, state, true)
}

/// The task ids each call asks about (empty for implicit).
fn asked(calls: &[Call]) -> Vec<Vec<String>> {
    calls
        .iter()
        .map(|c| {
            assert_eq!(c.r#type(), call::Type::Reconcile);
            c.reconcile
                .as_ref()
                .expect("a RECONCILE payload")
                .tasks
                .iter()
                .map(|t| t.task_id.value.clone())
                .collect()
        })
        .collect()
}

fn flat(calls: &[Call]) -> BTreeSet<String> {
    asked(calls).into_iter().flatten().collect()
}

fn config() -> ReconcilerConfig {
    ReconcilerConfig::default()
        .backoff(Duration::from_secs(1), Duration::from_secs(8))
        .implicit_period(Duration::from_secs(600))
}

fn tracking(config: ReconcilerConfig, n: usize) -> Reconciler {
    let mut r = Reconciler::new(config).expect("valid config");
    for i in 0..n {
        r.track(TaskId::from(format!("t{i:05}")), None);
    }
    r
}

#[test]
fn a_run_asks_every_tracked_task_in_batches() {
    let mut r = tracking(config().batch_size(1000), 2500);
    let t0 = Instant::now();
    assert!(r.on_subscribed(t0).is_empty());
    assert_eq!(
        r.next_deadline(),
        Some(t0),
        "the first round is due at once"
    );
    let calls = r.poll_due(t0);
    let sizes: Vec<usize> = asked(&calls).iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![1000, 1000, 500]);
    assert_eq!(flat(&calls).len(), 2500, "each task once");
    assert_eq!(r.progress().explicit_calls, 3);
    assert!(r.poll_due(t0).is_empty(), "nothing more until the backoff");
}

#[test]
fn rounds_back_off_exponentially_truncated_and_reask_only_the_unanswered() {
    let mut r = tracking(config(), 4);
    let t0 = Instant::now();
    r.on_subscribed(t0);
    assert_eq!(flat(&r.poll_due(t0)).len(), 4);
    // t00000 and t00002 answer (one by a reconciliation answer, one by an
    // ordinary update: both count).
    assert!(r
        .on_update(&answer("t00000", TaskState::TaskRunning))
        .is_empty());
    assert!(r
        .on_update(&status("t00002", TaskState::TaskRunning, false))
        .is_empty());
    let mut at = t0;
    let mut waits = Vec::new();
    for _ in 0..6 {
        let next = r.next_deadline().expect("a next round");
        assert!(
            r.poll_due(next - Duration::from_millis(1)).is_empty(),
            "not before its time"
        );
        waits.push(next - at);
        at = next;
        let again = flat(&r.poll_due(at));
        assert_eq!(again, ["t00001", "t00003"].map(String::from).into());
    }
    let secs: Vec<u64> = waits.iter().map(Duration::as_secs).collect();
    assert_eq!(
        secs,
        vec![1, 2, 4, 8, 8, 8],
        "doubling, truncated at the maximum"
    );
    assert_eq!(r.progress().rounds, 7);
    assert_eq!(r.progress().remaining, 2);
    assert_eq!(r.phase(), Phase::Explicit);
}

#[test]
fn the_run_completes_when_every_task_answered_then_implicit_reconciliation_follows() {
    let mut r = tracking(config(), 2);
    let t0 = Instant::now();
    r.on_subscribed(t0);
    r.poll_due(t0);
    assert!(r
        .on_update(&answer("t00000", TaskState::TaskRunning))
        .is_empty());
    let events = r.on_update(&answer("t00001", TaskState::TaskStaging));
    assert_eq!(
        events,
        vec![ReconcileEvent::Completed {
            tasks: 2,
            rounds: 1
        }]
    );
    assert_eq!(r.phase(), Phase::Implicit);
    // At once: an implicit RECONCILE, then one per period.
    let t1 = t0 + Duration::from_millis(5);
    let calls = r.poll_due(t1);
    assert_eq!(asked(&calls), vec![Vec::<String>::new()]);
    assert!(r.poll_due(t1 + Duration::from_secs(599)).is_empty());
    assert_eq!(asked(&r.poll_due(t1 + Duration::from_secs(600))).len(), 1);
    assert_eq!(r.next_deadline(), Some(t1 + Duration::from_secs(1200)));
    let progress = r.progress();
    assert_eq!((progress.implicit_calls, progress.runs_completed), (2, 1));
    assert_eq!(r.tracked(), 2, "running tasks stay tracked");
}

#[test]
fn implicit_can_wait_a_period_after_the_run() {
    let mut r = tracking(config().implicit_after_explicit(false), 0);
    let t0 = Instant::now();
    assert_eq!(
        r.on_subscribed(t0),
        vec![ReconcileEvent::Completed {
            tasks: 0,
            rounds: 0
        }],
        "nothing tracked: complete at once"
    );
    assert!(r.poll_due(t0).is_empty());
    assert_eq!(r.next_deadline(), Some(t0 + Duration::from_secs(600)));
}

#[test]
fn tasks_the_master_does_not_know_are_reported_and_terminal_ones_forgotten() {
    let mut r = Reconciler::new(config()).unwrap();
    for id in ["lost", "gone", "by-operator", "unknown", "running"] {
        r.track(TaskId::from(id), Some(AgentId::from("a1")));
    }
    let t0 = Instant::now();
    r.on_subscribed(t0);
    let calls = r.poll_due(t0);
    let tasks = &calls[0].reconcile.as_ref().unwrap().tasks;
    assert!(
        tasks
            .iter()
            .all(|t| t.agent_id == Some(AgentId::from("a1"))),
        "agents sent along"
    );
    for (id, state) in [
        ("lost", TaskState::TaskLost),
        ("gone", TaskState::TaskGone),
        ("by-operator", TaskState::TaskGoneByOperator),
        ("unknown", TaskState::TaskUnknown),
    ] {
        let events = r.on_update(&answer(id, state));
        assert!(
            matches!(&events[..], [ReconcileEvent::Unknown(s)] if s.task_id.value == id && s.state() == state),
            "{id}: {events:?}"
        );
    }
    let events = r.on_update(&answer("running", TaskState::TaskRunning));
    assert_eq!(
        events,
        vec![ReconcileEvent::Completed {
            tasks: 5,
            rounds: 1
        }]
    );
    let left: Vec<bool> = ["lost", "gone", "by-operator", "unknown", "running"]
        .iter()
        .map(|id| r.is_tracked(&TaskId::from(*id)))
        .collect();
    assert_eq!(
        left,
        vec![false, false, false, true, true],
        "TASK_UNKNOWN may come back"
    );
}

#[test]
fn an_ordinary_terminal_update_forgets_without_reporting_unknown() {
    let mut r = tracking(config(), 1);
    let events = r.on_update(&status("t00000", TaskState::TaskLost, false));
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(r.tracked(), 0);
}

#[test]
fn reconciliation_answers_for_untracked_tasks_are_reported() {
    let mut r = tracking(config(), 0);
    let events = r.on_update(&answer("stray", TaskState::TaskRunning));
    assert!(matches!(&events[..], [ReconcileEvent::Untracked(s)] if s.task_id.value == "stray"));
    assert!(
        r.on_update(&answer("old", TaskState::TaskFinished))
            .is_empty(),
        "terminal: nothing to do"
    );
    assert!(
        r.on_update(&status("mine?", TaskState::TaskRunning, false))
            .is_empty(),
        "not an answer"
    );
    assert_eq!(r.tracked(), 0, "never tracked on its own");
}

#[test]
fn a_new_subscription_restarts_the_run_and_a_disconnection_idles() {
    let mut r = tracking(config(), 3);
    let t0 = Instant::now();
    r.on_subscribed(t0);
    r.poll_due(t0);
    r.on_update(&answer("t00000", TaskState::TaskRunning));
    let t1 = t0 + Duration::from_secs(3);
    r.poll_due(t1);
    r.on_disconnected();
    assert_eq!(r.phase(), Phase::Idle);
    assert_eq!(r.next_deadline(), None);
    assert!(r.poll_due(t1 + Duration::from_secs(100)).is_empty());
    let t2 = t1 + Duration::from_secs(200);
    r.on_subscribed(t2);
    let calls = r.poll_due(t2);
    assert_eq!(
        flat(&calls).len(),
        3,
        "every task again: answers of the old run do not count"
    );
    assert_eq!(r.progress().rounds, 1);
    assert_eq!(
        r.next_deadline(),
        Some(t2 + Duration::from_secs(1)),
        "backoff starts over"
    );
}

#[test]
fn forgetting_the_last_unanswered_task_does_not_hold_the_run() {
    let mut r = tracking(config(), 2);
    let t0 = Instant::now();
    r.on_subscribed(t0);
    r.poll_due(t0);
    r.on_update(&answer("t00000", TaskState::TaskRunning));
    assert!(r.forget(&TaskId::from("t00001")));
    let t1 = t0 + Duration::from_millis(10);
    let calls = r.poll_due(t1);
    assert_eq!(r.phase(), Phase::Implicit, "the run is over");
    assert_eq!(
        asked(&calls),
        vec![Vec::<String>::new()],
        "implicit reconciliation follows"
    );
    assert_eq!(r.progress().runs_completed, 1);
}

#[test]
fn a_run_gives_up_after_max_rounds() {
    let mut r = tracking(config().max_rounds(3), 2);
    let t0 = Instant::now();
    r.on_subscribed(t0);
    let mut now = t0;
    for round in 1..=3 {
        assert_eq!(flat(&r.poll_due(now)).len(), 2, "round {round}");
        now = r.next_deadline().unwrap();
    }
    let calls = r.poll_due(now);
    assert_eq!(
        asked(&calls),
        vec![Vec::<String>::new()],
        "implicit instead of a 4th round"
    );
    let progress = r.progress();
    assert_eq!(
        (progress.phase, progress.runs_given_up, progress.remaining),
        (Phase::Implicit, 1, 0)
    );
    assert_eq!(r.tracked(), 2, "the tasks stay tracked for the next run");
}

#[test]
fn bad_settings_are_refused() {
    let refused = |c: ReconcilerConfig| Reconciler::new(c).unwrap_err();
    assert_eq!(
        refused(config().batch_size(0)),
        ReconcilerConfigError::BatchSize(0)
    );
    assert_eq!(
        refused(config().batch_size(MAX_BATCH_SIZE + 1)),
        ReconcilerConfigError::BatchSize(MAX_BATCH_SIZE + 1)
    );
    assert_eq!(
        refused(config().backoff(Duration::ZERO, Duration::from_secs(1))),
        ReconcilerConfigError::ZeroBackoff
    );
    assert!(matches!(
        refused(config().backoff(Duration::from_secs(2), Duration::from_secs(1))),
        ReconcilerConfigError::BackoffOrder { .. }
    ));
    assert_eq!(
        refused(config().max_rounds(0)),
        ReconcilerConfigError::ZeroRounds
    );
    assert_eq!(
        refused(config().implicit_period(Duration::ZERO)),
        ReconcilerConfigError::ZeroPeriod
    );
    assert!(matches!(
        refused(config().implicit_period(Duration::MAX)),
        ReconcilerConfigError::TooLong { .. }
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever the tasks, batch size and answers: every call is within the
    /// batch size; each round asks exactly the tasks not answered since the
    /// run began, each once; rounds are spaced by min(initial * 2^k, max);
    /// after every poll the next deadline is in the future; and the run
    /// completes exactly when the last task answers.
    #[test]
    fn explicit_runs_follow_the_documented_algorithm(
        n in 0usize..60,
        batch in 1usize..25,
        initial_ms in 1u64..2_000,
        factor in 1u64..20,
        answers in prop::collection::vec(prop::collection::vec(any::<prop::sample::Index>(), 0..8), 1..12),
    ) {
        let initial = Duration::from_millis(initial_ms);
        let max = initial * factor as u32;
        let config = ReconcilerConfig::default().batch_size(batch).backoff(initial, max).max_rounds(1_000);
        let mut r = tracking(config, n);
        let t0 = Instant::now();
        let events = r.on_subscribed(t0);
        let mut unanswered: BTreeSet<String> = (0..n).map(|i| format!("t{i:05}")).collect();
        if n == 0 {
            prop_assert_eq!(events, vec![ReconcileEvent::Completed { tasks: 0, rounds: 0 }]);
            return Ok(());
        }
        let mut now = t0;
        let mut expected_wait = initial;
        let mut completed = false;
        for (round, picks) in answers.iter().enumerate() {
            let calls = r.poll_due(now);
            if completed {
                break;
            }
            for c in asked(&calls) {
                prop_assert!(!c.is_empty() && c.len() <= batch);
            }
            let asked_now: Vec<String> = asked(&calls).into_iter().flatten().collect();
            let asked_set: BTreeSet<String> = asked_now.iter().cloned().collect();
            prop_assert_eq!(asked_now.len(), asked_set.len(), "each task once per round");
            prop_assert_eq!(&asked_set, &unanswered, "round {}", round + 1);
            let next = r.next_deadline().unwrap();
            prop_assert!(next > now);
            prop_assert_eq!(next - now, expected_wait);
            expected_wait = (expected_wait * 2).min(max);
            let ids: Vec<String> = unanswered.iter().cloned().collect();
            for pick in picks {
                let id = pick.get(&ids).clone();
                let events = r.on_update(&answer(&id, TaskState::TaskRunning));
                let was_last = unanswered.remove(&id) && unanswered.is_empty();
                prop_assert_eq!(was_last, events.contains(&ReconcileEvent::Completed { tasks: n, rounds: round as u32 + 1 }));
                if was_last {
                    completed = true;
                }
            }
            now = next;
        }
        prop_assert_eq!(completed, r.phase() == Phase::Implicit);
    }
}
