//! The invariants every seed must keep, checked on the framework's own
//! record ([`Work`]), what the proxy saw ([`Records`]) and the master's
//! `/master/state`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use mesos_test_support::fault_proxy::{Records, SubscribeOutcome};
use serde_json::Value;

use crate::workload::Work;

/// Whether a SUBSCRIBE retried sooner than [`STORM_FLOOR`] is a violation
/// (it is: the driver's backoff never goes under its floor, 0.5 s here);
/// `false` only reports it as a note, for investigating a driver change.
pub const STORM_FLOOR_ENFORCED: bool = true;

/// The least time between two SUBSCRIBE retries after a failure, once the
/// first retry is done.
pub const STORM_FLOOR: Duration = Duration::from_millis(400);

/// The most calls (SUBSCRIBE included) the proxy may see within any one
/// second.
pub const MAX_CALLS_PER_SECOND: usize = 60;

/// What the run left behind, besides the framework's [`Work`].
#[derive(Debug)]
pub struct Evidence {
    /// `/master/state` at the end.
    pub state: Value,
    /// What the scheduler-side proxy saw.
    pub records: Records,
    /// Each agent's unacknowledged updates at the end.
    pub unacknowledged: Vec<usize>,
    /// When each driver started, from the proxy's epoch.
    pub driver_starts: Vec<Duration>,
    /// The faults the executor-side proxies applied (their descriptions).
    pub executor_faults: Vec<String>,
}

/// A task as the master knows it.
struct MasterTask {
    state: String,
    statuses: Vec<String>,
}

fn master_tasks(state: &Value) -> BTreeMap<String, MasterTask> {
    let mut tasks = BTreeMap::new();
    for frameworks in ["frameworks", "completed_frameworks"] {
        for framework in state[frameworks].as_array().into_iter().flatten() {
            for list in ["tasks", "completed_tasks"] {
                for task in framework[list].as_array().into_iter().flatten() {
                    let Some(id) = task["id"].as_str() else {
                        continue;
                    };
                    let statuses = task["statuses"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|s| s["state"].as_str().map(str::to_string))
                        .collect();
                    tasks.insert(
                        id.to_string(),
                        MasterTask {
                            state: task["state"].as_str().unwrap_or("?").to_string(),
                            statuses,
                        },
                    );
                }
            }
        }
    }
    tasks
}

/// At most this many violations of one kind are reported per seed.
const MAX_REPORTED: usize = 12;

/// Keeps the first [`MAX_REPORTED`] of `found`, saying how many more.
fn capped(mut found: Vec<String>) -> Vec<String> {
    if found.len() > MAX_REPORTED {
        let more = found.len() - MAX_REPORTED;
        found.truncate(MAX_REPORTED);
        found.push(format!("... and {more} more of the kind above"));
    }
    found
}

/// Checks every invariant: `(violations, notes)`.
pub fn check(work: &Work, evidence: &Evidence) -> (Vec<String>, Vec<String>) {
    let mut violations = Vec::new();
    let mut notes = Vec::new();
    let mut found = Vec::new();
    terminal_states(work, evidence, &mut found);
    violations.extend(capped(std::mem::take(&mut found)));
    no_update_lost(work, evidence, &mut found);
    violations.extend(capped(std::mem::take(&mut found)));
    framework_id_kept(work, evidence, &mut found);
    violations.extend(capped(found));
    let storm = capped(storm_floor(&evidence.records, &evidence.driver_starts));
    if STORM_FLOOR_ENFORCED {
        violations.extend(storm);
    } else {
        notes.extend(storm.into_iter().map(|s| format!("[not enforced] {s}")));
    }
    let busiest = evidence.records.max_calls_within(Duration::from_secs(1));
    if busiest > MAX_CALLS_PER_SECOND {
        violations.push(format!(
            "call storm: {busiest} calls within one second (at most {MAX_CALLS_PER_SECOND})"
        ));
    }
    if !work.errors.is_empty() {
        violations.push(format!("the drivers reported errors: {:?}", work.errors));
    }
    (violations, notes)
}

/// Whether `task` was lost as the real agent loses a task whose LAUNCH its
/// executor never read: an executor-side fault cut the executor's stream at
/// a LAUNCH, the executor resubscribed without the task, and the agent
/// (Mesos 1.11 `Slave::subscribe`: a STAGING task the resubscribing executor
/// does not list) sent TASK_LOST, "Task launched during agent restart". The
/// task then never ran: TASK_LOST is its only status at the master.
fn lost_with_its_launch(evidence: &Evidence, task: &MasterTask) -> bool {
    task.state == "TASK_LOST"
        && task.statuses.iter().all(|s| s == "TASK_LOST")
        && evidence
            .executor_faults
            .iter()
            .any(|f| f.starts_with("Cut LAUNCH"))
}

/// Every launched task reaches exactly one terminal state at the
/// framework, the master's, which is the one its kind must end in (or
/// TASK_LOST when its LAUNCH was cut on the way to its executor: see
/// [`lost_with_its_launch`]). A task the master does not know was launched
/// with an offer no longer valid (its agent went down and the offer was
/// rescinded while the ACCEPT was on its way): the master answered the
/// ACCEPT 202 and ended the task TASK_LOST (REASON_INVALID_OFFERS), as
/// Mesos 1.11 does, and the framework must have heard that.
fn terminal_states(work: &Work, evidence: &Evidence, out: &mut Vec<String>) {
    let master = master_tasks(&evidence.state);
    for (id, spec) in work.launched.iter().chain(&work.uncertain) {
        let seen = work.terminal_states(id);
        let Some(task) = master.get(id) else {
            if work.launched.contains_key(id) && !work.refused_as_invalid(id) {
                out.push(format!(
                    "task {id}: ACCEPT answered 202 but the master does not know it"
                ));
            } else if !seen.is_empty() && !work.refused_as_invalid(id) {
                out.push(format!(
                    "task {id}: never launched, yet the framework got {seen:?}"
                ));
            }
            continue;
        };
        let names: BTreeSet<&str> = seen.iter().map(|s| s.as_str_name()).collect();
        match names.len() {
            0 => out.push(format!(
                "task {id}: no terminal state at the framework (the master says {}); it got {:?}",
                task.state,
                work.history(id)
            )),
            1 => {
                let only = names.first().copied().unwrap_or_default();
                if only != task.state {
                    out.push(format!(
                        "task {id}: the framework saw {only}, the master says {}; it got {:?}",
                        task.state,
                        work.history(id)
                    ));
                }
            }
            _ => out.push(format!(
                "task {id}: several terminal states at the framework: {:?} (the master says {})",
                work.history(id),
                task.state
            )),
        }
        let expected = spec.kind.expected().as_str_name();
        if task.state != expected && !lost_with_its_launch(evidence, task) {
            out.push(format!(
                "task {id} ({:?}) ended {} instead of {expected}; its statuses at the master: {:?}",
                spec.kind,
                task.state,
                crate::workload::collapse_runs(task.statuses.iter().cloned())
            ));
        }
    }
    for id in master.keys() {
        if work.spec(id).is_none() {
            out.push(format!(
                "task {id} at the master was never launched by the framework"
            ));
        }
    }
}

/// No status update lost: nothing is left unacknowledged at the agents,
/// every update the framework got from an agent (with a uuid) was
/// acknowledged (202 at the proxy), and every acknowledgement names an
/// update the proxy relayed.
fn no_update_lost(work: &Work, evidence: &Evidence, out: &mut Vec<String>) {
    if evidence.unacknowledged.iter().any(|&n| n > 0) {
        out.push(format!(
            "status updates left unacknowledged at the agents: {:?}",
            evidence.unacknowledged
        ));
    }
    let records = &evidence.records;
    out.extend(unacknowledged_at_the_proxy(work, records));
    let relayed: BTreeSet<(&str, &[u8])> = records
        .updates
        .iter()
        .filter(|u| u.copies > 0)
        .filter_map(|u| Some((u.status.task_id.as_str(), u.status.uuid.as_deref()?)))
        .collect();
    for ack in &records.acks {
        if !relayed.contains(&(ack.task_id.as_str(), ack.uuid.as_ref())) {
            out.push(format!(
                "task {}: ACKNOWLEDGE of an update the proxy never relayed",
                ack.task_id
            ));
        }
    }
}

/// One framework id throughout: every driver registered with it, every
/// resubscription after it was first subscribed asked for it, and the
/// master knows that framework, still active.
///
/// One exception is inherent to the protocol: a SUBSCRIBED lost with its
/// connection (the stream reset right after the master sent it) leaves the
/// framework without its id, so it subscribes anew and the master registers
/// a second framework. Such an orphan registration is allowed when it came
/// before the framework's own id, was never asked for, and holds no task;
/// the master drops it after its failover timeout (as with any Mesos
/// client).
fn framework_id_kept(work: &Work, evidence: &Evidence, out: &mut Vec<String>) {
    let Some(id) = work.registrations.first() else {
        out.push("the framework never registered".into());
        return;
    };
    let distinct: BTreeSet<&String> = work.registrations.iter().collect();
    if distinct.len() > 1 {
        out.push(format!(
            "drivers registered with several framework ids: {distinct:?}"
        ));
    }
    let subscribes = &evidence.records.subscribes;
    let carried = |s: &mesos_test_support::fault_proxy::SubscribeSeen| match &s.outcome {
        SubscribeOutcome::Subscribed(carried) => Some(carried.clone()),
        _ => None,
    };
    let first_own = subscribes
        .iter()
        .position(|s| carried(s).as_deref() == Some(id.as_str()));
    let Some(first_own) = first_own else {
        out.push(format!("no SUBSCRIBED carried the framework's id {id}"));
        return;
    };
    let asked: BTreeSet<&str> = subscribes
        .iter()
        .filter_map(|s| s.framework_id.as_deref())
        .collect();
    let tasks_of = |framework: &str| -> usize {
        evidence.state["frameworks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["id"].as_str() == Some(framework))
            .map(|f| {
                let count = |key: &str| f[key].as_array().map_or(0, Vec::len);
                count("tasks") + count("completed_tasks")
            })
            .sum()
    };
    let mut orphans = BTreeSet::new();
    for (i, s) in subscribes.iter().enumerate() {
        let Some(other) = carried(s).filter(|c| c != id) else {
            continue;
        };
        if i > first_own || asked.contains(other.as_str()) || tasks_of(&other) > 0 {
            out.push(format!(
                "SUBSCRIBED at +{:.3}s carried framework id {other}, not the framework's {id}",
                s.at.as_secs_f64()
            ));
        } else {
            orphans.insert(other);
        }
    }
    for s in subscribes.iter().skip(first_own + 1) {
        if s.framework_id.as_deref() != Some(id.as_str()) {
            out.push(format!(
                "a SUBSCRIBE at +{:.3}s asked for framework {:?} instead of {id}",
                s.at.as_secs_f64(),
                s.framework_id
            ));
        }
    }
    let ids = |key: &str| -> Vec<String> {
        evidence.state[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["id"].as_str().map(str::to_string))
            .collect()
    };
    let (active, completed) = (ids("frameworks"), ids("completed_frameworks"));
    let unexpected: Vec<&String> = active
        .iter()
        .filter(|f| *f != id && !orphans.contains(*f))
        .collect();
    if !active.contains(id) || !unexpected.is_empty() || !completed.is_empty() {
        out.push(format!(
            "the master knows frameworks {active:?} (completed {completed:?}), expected {id} (and orphan registrations {orphans:?})"
        ));
    }
}

/// SUBSCRIBE retries keep a floor after a failure once the first retry is
/// done: for consecutive attempts `p`, `q` of one driver where `p` failed
/// (no SUBSCRIBED) and was itself a retry, `q` comes at least
/// [`STORM_FLOOR`] after `p`. Exempt: the attempt after a subscription
/// (the first retry after a lost stream), after a `307` (following the
/// leader at once is the protocol), and the first retry of a new driver.
fn storm_floor(records: &Records, driver_starts: &[Duration]) -> Vec<String> {
    let mut found = Vec::new();
    let attempts = &records.subscribes;
    let driver_between =
        |from: Duration, to: Duration| driver_starts.iter().any(|&s| s > from && s <= to);
    for i in 1..attempts.len() {
        let (p, q) = (&attempts[i - 1], &attempts[i]);
        if driver_between(p.at, q.at) {
            continue;
        }
        let p_is_retry = i >= 2 && !driver_between(attempts[i - 2].at, p.at);
        let exempt = match &p.outcome {
            SubscribeOutcome::Subscribed(_) | SubscribeOutcome::Redirected => true,
            _ => !p_is_retry,
        };
        let gap = q.at.saturating_sub(p.at);
        if !exempt && gap < STORM_FLOOR {
            found.push(format!(
                "SUBSCRIBE storm: +{:.3}s came {:.0} ms after a failed retry at +{:.3}s ({:?}); floor {:?}",
                q.at.as_secs_f64(),
                gap.as_secs_f64() * 1000.0,
                p.at.as_secs_f64(),
                p.outcome,
                STORM_FLOOR
            ));
        }
    }
    found
}

/// Every update the framework got from an agent (with a uuid) that the
/// proxy has not seen acknowledged (answered 202), as violations. The proxy
/// records an ACKNOWLEDGE once the master has answered it, and the master
/// forwards it to the agent before it answers: the run waits for this to be
/// empty too before it takes its evidence.
pub fn unacknowledged_at_the_proxy(work: &Work, records: &Records) -> Vec<String> {
    let acked: BTreeSet<(&str, &[u8])> = records
        .acks
        .iter()
        .filter(|a| a.status == Some(202))
        .map(|a| (a.task_id.as_str(), a.uuid.as_ref()))
        .collect();
    work.updates
        .iter()
        .filter(|seen| {
            seen.uuid
                .as_deref()
                .is_some_and(|uuid| !acked.contains(&(seen.task_id.as_str(), uuid)))
        })
        .map(|seen| {
            format!(
                "task {}: its {} update (driver {}) was never acknowledged",
                seen.task_id,
                seen.state.as_str_name(),
                seen.driver
            )
        })
        .collect()
}
