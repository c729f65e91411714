//! `TaskInfo`.

use std::time::Duration;

use bytes::Bytes;

use crate::resources;
use crate::v1::{
    AgentId, CommandInfo, ContainerInfo, ExecutorInfo, HealthCheck, KillPolicy, Label, Resource,
    TaskId, TaskInfo,
};

use super::checks::{
    check_id, check_labels, check_resources, duration_info, labels_or_none, set_resource,
};
use super::labels::label;
use super::{BuildError, IntoMessage};

const MESSAGE: &str = "TaskInfo";

/// Builds a [`TaskInfo`] for a LAUNCH operation. Start with
/// [`TaskInfo::builder`] or [`TaskInfoBuilder::new`].
///
/// Required: a name, a task ID, the agent ID of the offer, some resources,
/// and exactly one of a [`command`](TaskInfoBuilder::command) (the agent's
/// command executor runs it) or an [`executor`](TaskInfoBuilder::executor).
///
/// Resources: [`resources`](TaskInfoBuilder::resources) and
/// [`resource`](TaskInfoBuilder::resource) append; the named setters
/// [`cpus`](TaskInfoBuilder::cpus), [`mem`](TaskInfoBuilder::mem),
/// [`disk`](TaskInfoBuilder::disk), [`scalar`](TaskInfoBuilder::scalar) and
/// [`ports`](TaskInfoBuilder::ports) replace any earlier resource of that
/// name with an unreserved one. Resources are sent in the order given.
///
/// ```
/// use mesos_proto::builders::{CommandInfoBuilder, DockerInfoBuilder, DockerNetwork};
/// use mesos_proto::v1::TaskInfo;
/// let task = TaskInfo::builder("web 1", "web-1")
///     .agent_id("agent-7")
///     .cpus(0.5)
///     .mem(256.0)
///     .ports(&[(31000, 31000)])
///     .container(DockerInfoBuilder::new("nginx").network(DockerNetwork::Bridge).port_mapping(31000, 80))
///     .command(CommandInfoBuilder::entrypoint())
///     .label("team", "web")
///     .build()?;
/// assert_eq!(task.resources.len(), 3);
/// # Ok::<(), mesos_proto::builders::BuildError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a builder does nothing until `.build()` is called"]
pub struct TaskInfoBuilder {
    name: String,
    task_id: TaskId,
    agent_id: Option<AgentId>,
    resources: Vec<Resource>,
    command: Option<Result<CommandInfo, BuildError>>,
    executor: Option<Result<ExecutorInfo, BuildError>>,
    container: Option<Result<ContainerInfo, BuildError>>,
    labels: Vec<Label>,
    health_check: Option<HealthCheck>,
    kill_grace_period: Option<Duration>,
    data: Option<Bytes>,
}

impl TaskInfo {
    /// A [`TaskInfoBuilder`] for the task `name` with ID `task_id`.
    pub fn builder(name: impl Into<String>, task_id: impl Into<TaskId>) -> TaskInfoBuilder {
        TaskInfoBuilder::new(name, task_id)
    }
}

impl TaskInfoBuilder {
    /// A task named `name` (shown in the UI, need not be unique) with the
    /// framework-unique ID `task_id`.
    pub fn new(name: impl Into<String>, task_id: impl Into<TaskId>) -> Self {
        TaskInfoBuilder {
            name: name.into(),
            task_id: task_id.into(),
            agent_id: None,
            resources: Vec::new(),
            command: None,
            executor: None,
            container: None,
            labels: Vec::new(),
            health_check: None,
            kill_grace_period: None,
            data: None,
        }
    }

    /// The agent to launch on: the `agent_id` of the offer used.
    pub fn agent_id(mut self, agent_id: impl Into<AgentId>) -> Self {
        self.agent_id = Some(agent_id.into());
        self
    }

    resource_setters! {
        /// Appends resources: a [`Resources`](crate::resources::Resources) (e.g.
        /// what [`find`](crate::resources::Resources::find) returned for an
        /// offer), a `Vec<Resource>`...
        resources;
        /// Sets the unreserved scalar resource `name` to `value`, replacing any
        /// earlier resource of that name.
        scalar;
        named_scalar_note: " (see [`scalar`](TaskInfoBuilder::scalar))";
    }

    /// Sets the unreserved `ports` to the inclusive intervals `intervals`,
    /// replacing earlier `ports`.
    pub fn ports(mut self, intervals: &[(u64, u64)]) -> Self {
        set_resource(&mut self.resources, resources::ranges("ports", intervals));
        self
    }

    /// The command to run with the agent's command executor: a
    /// [`CommandInfoBuilder`](super::CommandInfoBuilder) or a `CommandInfo`.
    pub fn command(mut self, command: impl IntoMessage<CommandInfo>) -> Self {
        self.command = Some(command.into_message());
        self
    }

    /// The executor to run the task with instead of a command: an
    /// [`ExecutorInfoBuilder`](super::ExecutorInfoBuilder) or an
    /// `ExecutorInfo`.
    pub fn executor(mut self, executor: impl IntoMessage<ExecutorInfo>) -> Self {
        self.executor = Some(executor.into_message());
        self
    }

    /// The container to run in: a
    /// [`DockerInfoBuilder`](super::DockerInfoBuilder), a
    /// [`ContainerInfoBuilder`](super::ContainerInfoBuilder) or a
    /// `ContainerInfo`.
    pub fn container(mut self, container: impl IntoMessage<ContainerInfo>) -> Self {
        self.container = Some(container.into_message());
        self
    }

    /// Adds the label `key=value`.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.push(label(key, value));
        self
    }

    /// Adds labels from key/value pairs.
    pub fn labels<I, K, V>(mut self, pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.labels
            .extend(pairs.into_iter().map(|(key, value)| label(key, value)));
        self
    }

    /// The health check the executor runs.
    pub fn health_check(mut self, health_check: HealthCheck) -> Self {
        self.health_check = Some(health_check);
        self
    }

    /// How long the executor waits between SIGTERM and SIGKILL when the task
    /// is killed (its `KillPolicy.grace_period`).
    pub fn kill_grace_period(mut self, grace_period: Duration) -> Self {
        self.kill_grace_period = Some(grace_period);
        self
    }

    /// Opaque bytes handed to the executor with the task.
    pub fn data(mut self, data: impl Into<Bytes>) -> Self {
        self.data = Some(data.into());
        self
    }

    /// Validates and builds the `TaskInfo`.
    ///
    /// Errors: an empty name; a task ID Mesos rejects (empty, `.`, `..`,
    /// `/`, control characters, over 255 bytes); no agent ID; no resources or
    /// an invalid one (negative, NaN or infinite scalar, bad ranges...); not
    /// exactly one of command and executor; any error of the command,
    /// executor or container; an empty label key; a grace period too long
    /// for `DurationInfo`.
    pub fn build(self) -> Result<TaskInfo, BuildError> {
        if self.name.is_empty() {
            return Err(BuildError::missing(MESSAGE, "name"));
        }
        check_id(MESSAGE, "task_id", &self.task_id.value)?;
        let agent_id = self
            .agent_id
            .filter(|id| !id.value.is_empty())
            .ok_or(BuildError::missing(MESSAGE, "agent_id"))?;
        if self.resources.is_empty() {
            return Err(BuildError::missing(MESSAGE, "resources"));
        }
        check_resources(MESSAGE, &self.resources)?;
        let command = self.command.transpose()?;
        let executor = self.executor.transpose()?;
        if command.is_some() == executor.is_some() {
            return Err(BuildError::ExactlyOne {
                message: MESSAGE,
                first: "command",
                second: "executor",
                both: command.is_some(),
            });
        }
        let container = self.container.transpose()?;
        check_labels(MESSAGE, &self.labels)?;
        let kill_policy = self
            .kill_grace_period
            .map(|period| duration_info(MESSAGE, "kill_policy", period))
            .transpose()?
            .map(|grace_period| KillPolicy {
                grace_period: Some(grace_period),
            });
        Ok(TaskInfo {
            name: self.name,
            task_id: self.task_id,
            agent_id,
            resources: self.resources,
            executor: executor.map(Box::new),
            command,
            container: container.map(Box::new),
            health_check: self.health_check.map(Box::new),
            check: None,
            kill_policy,
            data: self.data,
            labels: labels_or_none(self.labels),
            discovery: None,
            max_completion_time: None,
            limits: Default::default(),
        })
    }
}
