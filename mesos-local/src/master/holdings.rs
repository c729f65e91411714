//! What a framework holds: its non-terminal tasks and its executors, with
//! the resources they use summed as they come and go (per agent and in
//! all), so that an allocation pass costs no walk over every task.

use std::collections::{BTreeMap, HashMap};

use mesos_proto::resources::Resources;

use super::state::{Executor, Task};

/// A framework's tasks and executors and the resources they use.
#[derive(Debug, Default)]
pub(crate) struct Holdings {
    /// Non-terminal tasks, by task id. Boxed: a B-tree node has room for
    /// eleven entries, whole tasks in its free slots would cost ~5 KB.
    tasks: BTreeMap<String, Box<Task>>,
    /// Executors by (agent id, executor id).
    executors: BTreeMap<(String, String), Executor>,
    used: Resources,
    used_by_agent: HashMap<String, Resources>,
}

impl Holdings {
    fn add_use(&mut self, agent_id: &str, resources: &Resources) {
        self.used += resources;
        match self.used_by_agent.get_mut(agent_id) {
            Some(used) => *used += resources,
            None => {
                self.used_by_agent
                    .insert(agent_id.to_string(), resources.clone());
            }
        }
    }

    fn remove_use(&mut self, agent_id: &str, resources: &Resources) {
        self.used -= resources;
        if let Some(used) = self.used_by_agent.get_mut(agent_id) {
            *used -= resources;
            if used.is_empty() {
                self.used_by_agent.remove(agent_id);
            }
        }
    }

    pub(crate) fn tasks(&self) -> &BTreeMap<String, Box<Task>> {
        &self.tasks
    }

    /// A task, to update its state and statuses (never its resources or
    /// agent, which the sums depend on).
    pub(crate) fn task_mut(&mut self, task_id: &str) -> Option<&mut Task> {
        self.tasks.get_mut(task_id).map(|task| &mut **task)
    }

    /// Adds (or replaces) a task.
    pub(crate) fn add_task(&mut self, task: Task) {
        self.add_use(&task.agent_id, &task.resources());
        if let Some(old) = self
            .tasks
            .insert(task.info.task_id.value.clone(), Box::new(task))
        {
            self.remove_use(&old.agent_id, &old.resources());
        }
    }

    pub(crate) fn remove_task(&mut self, task_id: &str) -> Option<Task> {
        let task = self.tasks.remove(task_id)?;
        self.remove_use(&task.agent_id, &task.resources());
        Some(*task)
    }

    /// Every task, removed.
    pub(crate) fn take_tasks(&mut self) -> BTreeMap<String, Box<Task>> {
        for task in self.tasks.values() {
            let resources = task.resources();
            self.used -= &resources;
            if let Some(used) = self.used_by_agent.get_mut(&task.agent_id) {
                *used -= &resources;
            }
        }
        self.used_by_agent.retain(|_, used| !used.is_empty());
        std::mem::take(&mut self.tasks)
    }

    pub(crate) fn executors(&self) -> &BTreeMap<(String, String), Executor> {
        &self.executors
    }

    /// Adds an executor unless one with its agent and id is known.
    pub(crate) fn add_executor(&mut self, executor: Executor) {
        let key = (
            executor.agent_id.clone(),
            executor.info.executor_id.value.clone(),
        );
        if self.executors.contains_key(&key) {
            return;
        }
        self.add_use(&executor.agent_id, &executor.resources);
        self.executors.insert(key, executor);
    }

    pub(crate) fn remove_executor(
        &mut self,
        agent_id: &str,
        executor_id: &str,
    ) -> Option<Executor> {
        let executor = self
            .executors
            .remove(&(agent_id.to_string(), executor_id.to_string()))?;
        self.remove_use(&executor.agent_id, &executor.resources);
        Some(executor)
    }

    /// Removes every executor on `agent_id` (all agents: `None`).
    pub(crate) fn remove_executors(&mut self, agent_id: Option<&str>) {
        let gone: Vec<(String, String)> = self
            .executors
            .keys()
            .filter(|(agent, _)| agent_id.is_none_or(|a| a == agent))
            .cloned()
            .collect();
        for (agent, executor) in gone {
            self.remove_executor(&agent, &executor);
        }
    }

    /// Resources of the tasks and executors on `agent_id` (or everywhere).
    pub(crate) fn used_on(&self, agent_id: Option<&str>) -> Resources {
        match agent_id {
            None => self.used.clone(),
            Some(agent) => self.used_by_agent.get(agent).cloned().unwrap_or_default(),
        }
    }

    /// Resources in use, by agent.
    pub(crate) fn used_by_agent(&self) -> &HashMap<String, Resources> {
        &self.used_by_agent
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use mesos_proto::v1::{ExecutorId, ExecutorInfo, TaskId, TaskInfo, TaskState};

    use super::*;

    fn resources(text: &str) -> Resources {
        Resources::parse(text).expect("valid resources")
    }

    fn task(id: &str, agent: &str, text: &str) -> Task {
        Task {
            info: Arc::new(TaskInfo {
                task_id: TaskId { value: id.into() },
                resources: resources(text).into_vec(),
                ..TaskInfo::default()
            }),
            framework_id: "F".into(),
            agent_id: agent.into(),
            executor_id: None,
            state: TaskState::TaskStaging,
            statuses: Vec::new(),
            role: "*".into(),
            terminal_acked: false,
        }
    }

    fn executor(id: &str, agent: &str, text: &str) -> Executor {
        Executor {
            info: ExecutorInfo {
                executor_id: ExecutorId { value: id.into() },
                ..ExecutorInfo::default()
            },
            agent_id: agent.into(),
            resources: resources(text),
        }
    }

    /// The running sums equal a fresh sum over what is held.
    fn assert_consistent(h: &Holdings) {
        let mut total = Resources::new();
        let mut by_agent: HashMap<String, Resources> = HashMap::new();
        let parts = h
            .tasks()
            .values()
            .map(|t| (&t.agent_id, t.resources()))
            .chain(
                h.executors()
                    .values()
                    .map(|e| (&e.agent_id, e.resources.clone())),
            );
        for (agent, r) in parts {
            total += &r;
            *by_agent.entry(agent.clone()).or_default() += &r;
        }
        assert_eq!(h.used_on(None), total);
        assert_eq!(h.used_by_agent(), &by_agent);
    }

    #[test]
    fn sums_follow_tasks_and_executors() {
        let mut h = Holdings::default();
        h.add_task(task("t1", "A", "cpus:1;mem:64;ports:[31000-31001]"));
        h.add_task(task("t2", "A", "cpus:0.5;mem:32"));
        h.add_task(task("t3", "B", "cpus:2"));
        h.add_executor(executor("e1", "B", "cpus:0.1;mem:32"));
        h.add_executor(executor("e1", "B", "cpus:5"));
        assert_consistent(&h);
        assert_eq!(
            h.used_on(Some("A")),
            resources("cpus:1.5;mem:96;ports:[31000-31001]")
        );
        assert_eq!(
            h.used_on(Some("B")),
            resources("cpus:2.1;mem:32"),
            "second e1 ignored"
        );

        h.add_task(task("t2", "B", "cpus:1"));
        assert_consistent(&h);
        assert_eq!(
            h.used_on(Some("A")),
            resources("cpus:1;mem:64;ports:[31000-31001]")
        );

        assert!(h.remove_task("t1").is_some());
        assert!(h.remove_task("t1").is_none());
        assert_consistent(&h);
        assert!(h.used_on(Some("A")).is_empty());
        assert!(
            !h.used_by_agent().contains_key("A"),
            "emptied agents are dropped"
        );

        h.remove_executors(Some("B"));
        assert_consistent(&h);
        assert_eq!(h.take_tasks().len(), 2);
        assert_consistent(&h);
        assert!(h.used_on(None).is_empty());
    }
}
