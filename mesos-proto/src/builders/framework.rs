//! `FrameworkInfo`.

use std::time::Duration;

use crate::resources::role_error;
use crate::v1::framework_info::capability::Type as CapabilityType;
use crate::v1::framework_info::Capability;
use crate::v1::{FrameworkId, FrameworkInfo, Label};

use super::checks::{check_id, check_labels, labels_or_none, non_empty_if_set, require};
use super::labels::label;
use super::BuildError;

const MESSAGE: &str = "FrameworkInfo";

/// Builds the [`FrameworkInfo`] a scheduler subscribes with. Start with
/// [`FrameworkInfo::builder`] or [`FrameworkInfoBuilder::new`].
///
/// Roles use the multi-role API: [`roles`](FrameworkInfoBuilder::roles) and
/// [`role`](FrameworkInfoBuilder::role) fill `roles`, and the build then adds
/// the `MULTI_ROLE` capability (Mesos ignores `roles` without it). The
/// deprecated single `role` field is never set.
///
/// ```
/// use std::time::Duration;
/// use mesos_proto::v1::{framework_info::capability::Type, FrameworkInfo};
/// let info = FrameworkInfo::builder("root", "my framework")
///     .role("web")
///     .failover_timeout(Duration::from_secs(7 * 24 * 3600))
///     .checkpoint(true)
///     .capability(Type::PartitionAware)
///     .build()?;
/// assert_eq!(info.roles, ["web"]);
/// assert_eq!(info.capabilities.len(), 2); // PARTITION_AWARE, MULTI_ROLE
/// assert_eq!(info.failover_timeout, Some(604800.0));
/// # Ok::<(), mesos_proto::builders::BuildError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a builder does nothing until `.build()` is called"]
pub struct FrameworkInfoBuilder {
    user: String,
    name: String,
    id: Option<FrameworkId>,
    roles: Vec<String>,
    capabilities: Vec<CapabilityType>,
    failover_timeout: Option<Duration>,
    checkpoint: Option<bool>,
    hostname: Option<String>,
    principal: Option<String>,
    webui_url: Option<String>,
    labels: Vec<Label>,
}

impl FrameworkInfo {
    /// A [`FrameworkInfoBuilder`] for framework `name` running tasks as
    /// `user`.
    pub fn builder(user: impl Into<String>, name: impl Into<String>) -> FrameworkInfoBuilder {
        FrameworkInfoBuilder::new(user, name)
    }
}

impl FrameworkInfoBuilder {
    /// A framework called `name` whose tasks run as the Unix user `user`
    /// (both required by Mesos).
    pub fn new(user: impl Into<String>, name: impl Into<String>) -> Self {
        FrameworkInfoBuilder {
            user: user.into(),
            name: name.into(),
            id: None,
            roles: Vec::new(),
            capabilities: Vec::new(),
            failover_timeout: None,
            checkpoint: None,
            hostname: None,
            principal: None,
            webui_url: None,
            labels: Vec::new(),
        }
    }

    /// The ID of an earlier registration, to fail over to it.
    pub fn id(mut self, id: impl Into<FrameworkId>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Adds one role to subscribe with.
    pub fn role(mut self, role: impl Into<String>) -> Self {
        self.roles.push(role.into());
        self
    }

    /// Sets the roles to subscribe with (replacing earlier ones).
    pub fn roles<I, S>(mut self, roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.roles = roles.into_iter().map(Into::into).collect();
        self
    }

    /// Adds a capability (given once, even if added twice).
    pub fn capability(mut self, capability: CapabilityType) -> Self {
        if !self.capabilities.contains(&capability) {
            self.capabilities.push(capability);
        }
        self
    }

    /// Adds capabilities.
    pub fn capabilities(self, capabilities: impl IntoIterator<Item = CapabilityType>) -> Self {
        capabilities.into_iter().fold(self, Self::capability)
    }

    /// How long the master keeps the framework's tasks running after the
    /// scheduler disconnects (sent as seconds).
    pub fn failover_timeout(mut self, timeout: Duration) -> Self {
        self.failover_timeout = Some(timeout);
        self
    }

    /// Whether agents checkpoint the framework's tasks, so they survive an
    /// agent restart.
    pub fn checkpoint(mut self, checkpoint: bool) -> Self {
        self.checkpoint = Some(checkpoint);
        self
    }

    /// The host the scheduler runs on, as shown in the UI.
    pub fn hostname(mut self, hostname: impl Into<String>) -> Self {
        self.hostname = Some(hostname.into());
        self
    }

    /// The principal the framework authenticates as.
    pub fn principal(mut self, principal: impl Into<String>) -> Self {
        self.principal = Some(principal.into());
        self
    }

    /// The framework's web UI, linked from the Mesos UI.
    pub fn webui_url(mut self, url: impl Into<String>) -> Self {
        self.webui_url = Some(url.into());
        self
    }

    /// Adds the label `key=value`.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.push(label(key, value));
        self
    }

    /// Validates and builds the `FrameworkInfo`.
    ///
    /// Errors: an empty user or name; a framework ID Mesos rejects; an
    /// invalid or repeated role; an empty hostname, principal, web UI URL or
    /// label key.
    pub fn build(self) -> Result<FrameworkInfo, BuildError> {
        require(MESSAGE, "user", &self.user)?;
        require(MESSAGE, "name", &self.name)?;
        if let Some(id) = &self.id {
            check_id(MESSAGE, "id", &id.value)?;
        }
        check_roles(&self.roles)?;
        non_empty_if_set(MESSAGE, "hostname", self.hostname.as_deref())?;
        non_empty_if_set(MESSAGE, "principal", self.principal.as_deref())?;
        non_empty_if_set(MESSAGE, "webui_url", self.webui_url.as_deref())?;
        check_labels(MESSAGE, &self.labels)?;
        let mut capabilities = self.capabilities;
        if !self.roles.is_empty() && !capabilities.contains(&CapabilityType::MultiRole) {
            capabilities.push(CapabilityType::MultiRole);
        }
        #[allow(deprecated)]
        let info = FrameworkInfo {
            user: self.user,
            name: self.name,
            id: self.id,
            failover_timeout: self.failover_timeout.map(|timeout| timeout.as_secs_f64()),
            checkpoint: self.checkpoint,
            role: None,
            roles: self.roles,
            hostname: self.hostname,
            principal: self.principal,
            webui_url: self.webui_url,
            capabilities: capabilities
                .into_iter()
                .map(|kind| Capability {
                    r#type: Some(kind as i32),
                })
                .collect(),
            labels: labels_or_none(self.labels),
            offer_filters: Default::default(),
        };
        Ok(info)
    }
}

fn check_roles(roles: &[String]) -> Result<(), BuildError> {
    for (index, role) in roles.iter().enumerate() {
        if let Some(reason) = role_error(role) {
            return Err(BuildError::invalid(
                MESSAGE,
                "roles",
                format!("role `{role}` {reason}"),
            ));
        }
        if roles[..index].contains(role) {
            return Err(BuildError::invalid(
                MESSAGE,
                "roles",
                format!("role `{role}` is given twice"),
            ));
        }
    }
    Ok(())
}
