//! What the wire showed of the tasks a violation names, printed with the
//! violation so that a failing seed of a long run can be analysed without
//! a replay (which may not fail again: the exact events a fault hits vary
//! with timing). Bounded: at most [`MAX_TASKS`] tasks, [`MAX_LINES`] lines
//! each.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::invariants::Evidence;
use crate::workload::Work;

/// How many tasks a trace shows at most.
const MAX_TASKS: usize = 4;
/// How many lines per task at most.
const MAX_LINES: usize = 60;

/// The task ids named in `violations` (`task <id>: ...`, `task <id> (...)`).
fn named_tasks(violations: &[String]) -> BTreeSet<String> {
    violations
        .iter()
        .filter_map(|v| {
            let rest = v.split_once("task ")?.1;
            let id: String = rest
                .chars()
                .take_while(|c| !matches!(c, ':' | ' ' | ','))
                .collect();
            (!id.is_empty()).then_some(id)
        })
        .take(MAX_TASKS)
        .collect()
}

/// The first bytes of a uuid, in hex (enough to tell updates apart).
fn short(uuid: &[u8]) -> String {
    uuid.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// For each task `violations` name: the SUBSCRIBEs and faults, then the
/// updates the proxy relayed, the acknowledgements it saw (with their HTTP
/// status) and what the framework got, in time order.
pub fn for_violations(violations: &[String], work: &Work, evidence: &Evidence) -> String {
    let mut out = String::new();
    let r = &evidence.records;
    let tasks = named_tasks(violations);
    if tasks.is_empty() {
        return out;
    }
    for s in &r.subscribes {
        let _ = writeln!(
            out,
            "  +{:.3}s SUBSCRIBE {:?} ended {:?}",
            s.at.as_secs_f64(),
            s.outcome,
            s.ended.map(|e| e.as_secs_f64())
        );
    }
    for f in &r.faults {
        let _ = writeln!(out, "  +{:.3}s fault {}", f.at.as_secs_f64(), f.what);
    }
    for task in &tasks {
        let mut lines: Vec<(f64, String)> = Vec::new();
        for u in r.updates.iter().filter(|u| &u.status.task_id == task) {
            lines.push((
                u.at.as_secs_f64(),
                format!(
                    "update {} uuid {} copies {} reason {:?}",
                    u.status.state,
                    u.status.uuid.as_deref().map(short).unwrap_or_default(),
                    u.copies,
                    u.status.reason
                ),
            ));
        }
        for a in r.acks.iter().filter(|a| &a.task_id == task) {
            lines.push((
                a.at.as_secs_f64(),
                format!("ack uuid {} answered {:?}", short(&a.uuid), a.status),
            ));
        }
        lines.sort_by(|a, b| a.0.total_cmp(&b.0));
        let _ = writeln!(out, "  task {task} on the wire:");
        for (at, line) in lines.iter().take(MAX_LINES) {
            let _ = writeln!(out, "    +{at:.3}s {line}");
        }
        let _ = writeln!(
            out,
            "    the framework got: {:?}",
            work.updates
                .iter()
                .filter(|s| &s.task_id == task)
                .map(|s| format!(
                    "{} {} (driver {})",
                    s.state.as_str_name(),
                    s.uuid.as_deref().map(short).unwrap_or_default(),
                    s.driver
                ))
                .take(MAX_LINES)
                .collect::<Vec<_>>()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_ids_are_read_from_violations() {
        let named = named_tasks(&[
            "task quick-1~1: its TASK_FINISHED update (driver 0) was never acknowledged".into(),
            "task exec-3 (Executor) ended TASK_LOST instead of TASK_FINISHED".into(),
            "status updates left unacknowledged at the agents: [1, 0]".into(),
        ]);
        assert_eq!(
            named.into_iter().collect::<Vec<_>>(),
            ["exec-3", "quick-1~1"]
        );
    }
}
