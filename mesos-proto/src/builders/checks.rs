//! Validation and conversion helpers shared by the builders.

use std::time::Duration;

use crate::resources;
use crate::v1::{DurationInfo, Label, Labels, Resource};

use super::BuildError;

/// The longest ID Mesos accepts (it becomes a directory name).
const MAX_ID_LENGTH: usize = 255;

/// `value` must not be empty.
pub(super) fn require(
    message: &'static str,
    field: &'static str,
    value: &str,
) -> Result<(), BuildError> {
    if value.is_empty() {
        Err(BuildError::missing(message, field))
    } else {
        Ok(())
    }
}

/// An optional string, if set, must not be empty.
pub(super) fn non_empty_if_set(
    message: &'static str,
    field: &'static str,
    value: Option<&str>,
) -> Result<(), BuildError> {
    match value {
        Some("") => Err(BuildError::invalid(message, field, "it is set but empty")),
        _ => Ok(()),
    }
}

/// Mesos's rules for task, executor and framework IDs: not empty, at most
/// 255 bytes, not `.` or `..`, no `/`, `\` or control characters (IDs become
/// directory names on the agent).
pub(super) fn check_id(
    message: &'static str,
    field: &'static str,
    id: &str,
) -> Result<(), BuildError> {
    require(message, field, id)?;
    let problem = if id.len() > MAX_ID_LENGTH {
        Some(format!("it is longer than {MAX_ID_LENGTH} bytes"))
    } else if id == "." || id == ".." {
        Some(format!("`{id}` is not allowed"))
    } else if id.chars().any(|c| c == '/' || c == '\\' || c.is_control()) {
        Some(format!("`{id}` contains `/`, `\\` or a control character"))
    } else {
        None
    };
    match problem {
        Some(reason) => Err(BuildError::invalid(message, field, reason)),
        None => Ok(()),
    }
}

/// Each resource must be [valid](resources::validate).
pub(super) fn check_resources(message: &'static str, list: &[Resource]) -> Result<(), BuildError> {
    for resource in list {
        resources::validate(resource)
            .map_err(|error| BuildError::invalid(message, "resources", error.to_string()))?;
    }
    Ok(())
}

/// `duration` as a `DurationInfo` (nanoseconds in an `i64`).
pub(super) fn duration_info(
    message: &'static str,
    field: &'static str,
    duration: Duration,
) -> Result<DurationInfo, BuildError> {
    i64::try_from(duration.as_nanos())
        .map(|nanoseconds| DurationInfo { nanoseconds })
        .map_err(|_| {
            BuildError::invalid(
                message,
                field,
                format!("{duration:?} does not fit in 64-bit nanoseconds"),
            )
        })
}

/// `Some(Labels)` unless `labels` is empty.
pub(super) fn labels_or_none(labels: Vec<Label>) -> Option<Labels> {
    if labels.is_empty() {
        None
    } else {
        Some(Labels { labels })
    }
}

/// Label keys must not be empty.
pub(super) fn check_labels(message: &'static str, labels: &[Label]) -> Result<(), BuildError> {
    if labels.iter().any(|label| label.key.is_empty()) {
        return Err(BuildError::invalid(
            message,
            "labels",
            "a label key is empty",
        ));
    }
    Ok(())
}

/// Replaces every resource named `name` in `list` by `resource`.
pub(super) fn set_resource(list: &mut Vec<Resource>, resource: Resource) {
    list.retain(|existing| existing.name != resource.name);
    list.push(resource);
}
