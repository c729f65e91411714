//! Sandbox layout, as the real agent's (`src/slave/paths.cpp`).

use std::path::{Path, PathBuf};

/// `<work_dir>/slaves/<agent>/frameworks/<framework>/executors/<executor>/runs/<container>`.
pub(crate) fn executor_run_directory(
    work_dir: &Path,
    agent_id: &str,
    framework_id: &str,
    executor_id: &str,
    container_id: &str,
) -> PathBuf {
    work_dir
        .join("slaves")
        .join(component(agent_id))
        .join("frameworks")
        .join(component(framework_id))
        .join("executors")
        .join(component(executor_id))
        .join("runs")
        .join(component(container_id))
}

/// Creates a container's sandbox directory (and its parents) unless its
/// containerizer runs nothing there (`wanted` false, see
/// [`Containerizer::uses_sandbox`](crate::containerizer::Containerizer::uses_sandbox)).
/// The error is the text the failed launch reports. Blocking (the agent
/// runs it on the blocking pool, under its registry's lock: see
/// `Registry::create_sandbox`).
pub(crate) fn create(directory: &Path, wanted: bool) -> Result<(), String> {
    if !wanted {
        return Ok(());
    }
    std::fs::create_dir_all(directory)
        .map_err(|e| format!("Failed to create the sandbox {}: {e}", directory.display()))
}

/// An id as one path component: ids come from frameworks, so `/` and `..`
/// must not escape the work directory.
fn component(id: &str) -> String {
    let cleaned: String = id
        .chars()
        .map(|c| if c == '/' || c == '\0' { '_' } else { c })
        .collect();
    match cleaned.as_str() {
        "" | "." | ".." => format!("_{cleaned}"),
        _ => cleaned,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_hostile_ids() {
        let dir = executor_run_directory(Path::new("/w"), "A-S0", "F-0000", "exec", "c1");
        assert_eq!(
            dir,
            Path::new("/w/slaves/A-S0/frameworks/F-0000/executors/exec/runs/c1")
        );
        let dir = executor_run_directory(Path::new("/w"), "A", "F", "../../x/y", "..");
        assert!(dir.starts_with("/w/slaves/A/frameworks/F/executors/"));
        assert!(
            !dir.components()
                .any(|c| c == std::path::Component::ParentDir),
            "{dir:?}"
        );
    }
}
