//! `ExecutorInfo`.

use std::time::Duration;

use bytes::Bytes;

use crate::v1::executor_info::Type as ExecutorType;
use crate::v1::{
    CommandInfo, ContainerInfo, ExecutorId, ExecutorInfo, FrameworkId, Label, Resource,
};

use super::checks::{
    check_id, check_labels, check_resources, duration_info, labels_or_none, non_empty_if_set,
};
use super::labels::label;
use super::{BuildError, IntoMessage};

const MESSAGE: &str = "ExecutorInfo";

/// Builds an [`ExecutorInfo`]. Start with [`ExecutorInfo::builder`] or
/// [`ExecutorInfoBuilder::new`].
///
/// The executor type follows from what is set unless chosen with
/// [`executor_type`](ExecutorInfoBuilder::executor_type): with a command it
/// is CUSTOM (the agent runs that command as the executor); without one the
/// build fails, since only Mesos's DEFAULT executor runs without a command,
/// and that one must be asked for explicitly.
///
/// ```
/// use mesos_proto::builders::CommandInfoBuilder;
/// use mesos_proto::v1::{executor_info, ExecutorInfo};
/// let executor = ExecutorInfo::builder("exec-1")
///     .name("my executor")
///     .command(CommandInfoBuilder::shell("./my-executor").uri("https://example.com/my-executor"))
///     .cpus(0.1)
///     .mem(32.0)
///     .build()?;
/// assert_eq!(executor.r#type, Some(executor_info::Type::Custom as i32));
/// # Ok::<(), mesos_proto::builders::BuildError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a builder does nothing until `.build()` is called"]
pub struct ExecutorInfoBuilder {
    executor_id: ExecutorId,
    kind: Option<ExecutorType>,
    name: Option<String>,
    command: Option<Result<CommandInfo, BuildError>>,
    container: Option<Result<ContainerInfo, BuildError>>,
    framework_id: Option<FrameworkId>,
    resources: Vec<Resource>,
    labels: Vec<Label>,
    data: Option<Bytes>,
    shutdown_grace_period: Option<Duration>,
}

impl ExecutorInfo {
    /// An [`ExecutorInfoBuilder`] for the executor `executor_id`.
    pub fn builder(executor_id: impl Into<ExecutorId>) -> ExecutorInfoBuilder {
        ExecutorInfoBuilder::new(executor_id)
    }
}

impl ExecutorInfoBuilder {
    /// An executor with the framework-unique ID `executor_id`.
    pub fn new(executor_id: impl Into<ExecutorId>) -> Self {
        ExecutorInfoBuilder {
            executor_id: executor_id.into(),
            kind: None,
            name: None,
            command: None,
            container: None,
            framework_id: None,
            resources: Vec::new(),
            labels: Vec::new(),
            data: None,
            shutdown_grace_period: None,
        }
    }

    /// A human-readable name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// DEFAULT (Mesos's built-in executor, for task groups; no command) or
    /// CUSTOM (your executor program; needs a command).
    pub fn executor_type(mut self, kind: ExecutorType) -> Self {
        self.kind = Some(kind);
        self
    }

    /// The command that starts the executor.
    pub fn command(mut self, command: impl IntoMessage<CommandInfo>) -> Self {
        self.command = Some(command.into_message());
        self
    }

    /// The container the executor runs in.
    pub fn container(mut self, container: impl IntoMessage<ContainerInfo>) -> Self {
        self.container = Some(container.into_message());
        self
    }

    /// The framework's ID (the master fills it in when absent).
    pub fn framework_id(mut self, framework_id: impl Into<FrameworkId>) -> Self {
        self.framework_id = Some(framework_id.into());
        self
    }

    resource_setters! {
        /// Appends resources for the executor itself.
        resources;
        /// Sets the unreserved scalar resource `name`, replacing earlier ones of
        /// that name.
        scalar;
        named_scalar_note: "";
    }

    /// Adds the label `key=value`.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.push(label(key, value));
        self
    }

    /// Opaque bytes handed to the executor when it subscribes.
    pub fn data(mut self, data: impl Into<Bytes>) -> Self {
        self.data = Some(data.into());
        self
    }

    /// How long the agent waits for the executor to exit on shutdown.
    pub fn shutdown_grace_period(mut self, period: Duration) -> Self {
        self.shutdown_grace_period = Some(period);
        self
    }

    /// Validates and builds the `ExecutorInfo`.
    ///
    /// Errors: an executor ID Mesos rejects; a CUSTOM (or unspecified) type
    /// without a command; the DEFAULT type with a command; an invalid
    /// resource; any error of the command or container; an empty name or
    /// label key; a framework ID that is set but empty.
    pub fn build(self) -> Result<ExecutorInfo, BuildError> {
        check_id(MESSAGE, "executor_id", &self.executor_id.value)?;
        non_empty_if_set(MESSAGE, "name", self.name.as_deref())?;
        if let Some(id) = &self.framework_id {
            check_id(MESSAGE, "framework_id", &id.value)?;
        }
        check_resources(MESSAGE, &self.resources)?;
        check_labels(MESSAGE, &self.labels)?;
        let command = self.command.transpose()?;
        let container = self.container.transpose()?;
        let kind = match (self.kind, &command) {
            (Some(ExecutorType::Default), Some(_)) => {
                return Err(BuildError::invalid(
                    MESSAGE,
                    "command",
                    "the DEFAULT executor is Mesos's own and takes no command",
                ))
            }
            (Some(ExecutorType::Default), None) => ExecutorType::Default,
            (_, Some(_)) => ExecutorType::Custom,
            (_, None) => return Err(BuildError::missing(MESSAGE, "command")),
        };
        let shutdown_grace_period = self
            .shutdown_grace_period
            .map(|period| duration_info(MESSAGE, "shutdown_grace_period", period))
            .transpose()?;
        #[allow(deprecated)]
        let executor = ExecutorInfo {
            r#type: Some(kind as i32),
            executor_id: self.executor_id,
            framework_id: self.framework_id,
            command,
            container: container.map(Box::new),
            resources: self.resources,
            name: self.name,
            source: None,
            data: self.data,
            discovery: None,
            shutdown_grace_period,
            labels: labels_or_none(self.labels),
        };
        Ok(executor)
    }
}

impl IntoMessage<ExecutorInfo> for ExecutorInfoBuilder {
    fn into_message(self) -> Result<ExecutorInfo, BuildError> {
        self.build()
    }
}
