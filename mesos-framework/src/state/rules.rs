//! The rules every store applies the same way: entry names, sizes, counts
//! and intent transitions.

use mesos_proto::v1::TaskInfo;

use super::codec::{self, DecodeError};
use super::{IntentPhase, LaunchIntent, StateError, StoreLimits};

/// The entry name of `task_id`, or [`StateError::InvalidTaskId`].
pub(crate) fn key(task_id: &str) -> Result<String, StateError> {
    codec::encode_key(task_id).map_err(|source| StateError::InvalidTaskId {
        task_id: task_id.to_string(),
        source,
    })
}

/// Refuses an encoded entry longer than `max`.
pub(crate) fn check_size(location: &str, len: usize, max: usize) -> Result<(), StateError> {
    if len > max {
        return Err(StateError::EntryTooLarge {
            location: location.to_string(),
            len,
            max,
        });
    }
    Ok(())
}

/// Refuses a new entry when `count` entries of `kind` are already held.
pub(crate) fn check_count(
    kind: &'static str,
    count: usize,
    limits: &StoreLimits,
) -> Result<(), StateError> {
    let max = match kind {
        INTENTS => limits.max_intents,
        _ => limits.max_tasks,
    };
    if count >= max {
        return Err(StateError::TooManyEntries { kind, max });
    }
    Ok(())
}

/// The kind name of intents in errors.
pub(crate) const INTENTS: &str = "intents";
/// The kind name of task states in errors.
pub(crate) const TASKS: &str = "tasks";

/// What recording `task` does when `existing` is already recorded: `Ok`
/// (nothing to write) for the same pending intent, else
/// [`StateError::IntentExists`].
pub(crate) fn record_over(existing: &LaunchIntent, task: &TaskInfo) -> Result<(), StateError> {
    if existing.phase == IntentPhase::Pending && existing.task == *task {
        Ok(())
    } else {
        Err(StateError::IntentExists {
            task_id: task.task_id.value.clone(),
        })
    }
}

/// Whether moving an intent from `from` to `to` writes anything (`false`:
/// already there), or [`StateError::InvalidTransition`].
pub(crate) fn transition(
    task_id: &str,
    from: IntentPhase,
    to: IntentPhase,
) -> Result<bool, StateError> {
    match (from, to) {
        (a, b) if a == b => Ok(false),
        (IntentPhase::Pending, _) => Ok(true),
        _ => Err(StateError::InvalidTransition {
            task_id: task_id.to_string(),
            from,
            to,
        }),
    }
}

/// Decodes an intent entry named `key` at `location`, checking that it
/// holds that task.
pub(crate) fn read_intent(
    location: &str,
    key: &str,
    bytes: &[u8],
) -> Result<LaunchIntent, StateError> {
    let corrupt = |source: DecodeError| StateError::Corrupt {
        location: location.to_string(),
        source,
    };
    let intent = codec::decode_intent(bytes).map_err(corrupt)?;
    codec::check_key(key, &intent.task.task_id.value).map_err(corrupt)?;
    Ok(intent)
}

/// Decodes a task state entry named `key` at `location`, checking that it
/// holds that task.
pub(crate) fn read_task_state(
    location: &str,
    key: &str,
    bytes: &[u8],
) -> Result<mesos_proto::v1::TaskStatus, StateError> {
    let corrupt = |source: DecodeError| StateError::Corrupt {
        location: location.to_string(),
        source,
    };
    let status = codec::decode_task_state(bytes).map_err(corrupt)?;
    codec::check_key(key, &status.task_id.value).map_err(corrupt)?;
    Ok(status)
}

/// Decodes the framework id entry at `location`.
pub(crate) fn read_framework_id(
    location: &str,
    bytes: &[u8],
) -> Result<mesos_proto::v1::FrameworkId, StateError> {
    codec::decode_framework_id(bytes).map_err(|source| StateError::Corrupt {
        location: location.to_string(),
        source,
    })
}
