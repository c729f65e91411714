//! Sandbox layout, as the real agent's (`src/slave/paths.cpp`).

use std::path::{Path, PathBuf};
use std::time::Duration;

/// `<work_dir>/slaves/<agent>/frameworks/<framework>/executors/<executor>/runs/<container>`.
pub(crate) fn executor_run_directory(
    work_dir: &Path,
    agent_id: &str,
    framework_id: &str,
    executor_id: &str,
    container_id: &str,
) -> PathBuf {
    // Built in one buffer of its final size (a chain of `join`s copied
    // the path at every step).
    let ids = [agent_id, framework_id, executor_id, container_id];
    let capacity = work_dir.as_os_str().len()
        + "/slaves//frameworks//executors//runs/".len()
        + ids.iter().map(|id| id.len() + 2).sum::<usize>();
    let mut dir = PathBuf::with_capacity(capacity);
    dir.push(work_dir);
    dir.push("slaves");
    dir.push(component(agent_id));
    dir.push("frameworks");
    dir.push(component(framework_id));
    dir.push("executors");
    dir.push(component(executor_id));
    dir.push("runs");
    dir.push(component(container_id));
    dir
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

/// How many times, and how far apart, dropping a cluster tries to remove
/// its temporary work directory: a launch that was in flight at the drop
/// (killed as soon as it returns) may still be writing its sandbox's
/// `stdout`/`stderr` while the tree is removed, which then fails with
/// "directory not empty". Once a removal succeeded nothing recreates it
/// (sandboxes are no longer created after the agents' `kill_all`).
const WORK_DIR_REMOVAL_ATTEMPTS: u32 = 50;
const WORK_DIR_REMOVAL_PAUSE: Duration = Duration::from_millis(5);

/// Removes `dir`, retrying for a bounded time (at most
/// `WORK_DIR_REMOVAL_ATTEMPTS` × `WORK_DIR_REMOVAL_PAUSE`); a failure is
/// logged.
pub(crate) fn remove_work_dir(dir: &Path) {
    let mut last = None;
    for attempt in 0..WORK_DIR_REMOVAL_ATTEMPTS {
        match std::fs::remove_dir_all(dir) {
            Ok(()) => return,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(e) => last = Some(e),
        }
        if attempt + 1 < WORK_DIR_REMOVAL_ATTEMPTS {
            std::thread::sleep(WORK_DIR_REMOVAL_PAUSE);
        }
    }
    if let Some(e) = last {
        tracing::warn!(dir = %dir.display(), error = %e, "removing the work directory failed");
    }
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
