//! Local resource provider configurations, and pruning container images.

use mesos_proto::v1::agent::{call as c, call::Type, Call};
use mesos_proto::v1::{Image, ResourceProviderId, ResourceProviderInfo};

use super::{call, AgentClient};
use crate::Error;

impl AgentClient {
    /// `ADD_RESOURCE_PROVIDER_CONFIG`: adds the configuration of a local
    /// resource provider (the agent launches it).
    pub async fn add_resource_provider_config(
        &self,
        info: ResourceProviderInfo,
    ) -> Result<(), Error> {
        self.execute(Call {
            add_resource_provider_config: Some(c::AddResourceProviderConfig { info }),
            ..call(Type::AddResourceProviderConfig)
        })
        .await
    }

    /// `UPDATE_RESOURCE_PROVIDER_CONFIG`: replaces a local resource
    /// provider's configuration (same type and name).
    pub async fn update_resource_provider_config(
        &self,
        info: ResourceProviderInfo,
    ) -> Result<(), Error> {
        self.execute(Call {
            update_resource_provider_config: Some(c::UpdateResourceProviderConfig { info }),
            ..call(Type::UpdateResourceProviderConfig)
        })
        .await
    }

    /// `REMOVE_RESOURCE_PROVIDER_CONFIG`: removes the configuration of the
    /// resource provider of type `kind` named `name`.
    pub async fn remove_resource_provider_config(
        &self,
        kind: &str,
        name: &str,
    ) -> Result<(), Error> {
        self.execute(Call {
            remove_resource_provider_config: Some(c::RemoveResourceProviderConfig {
                r#type: kind.into(),
                name: name.into(),
            }),
            ..call(Type::RemoveResourceProviderConfig)
        })
        .await
    }

    /// `MARK_RESOURCE_PROVIDER_GONE`: declares a removed resource provider
    /// gone, releasing its resources.
    pub async fn mark_resource_provider_gone(
        &self,
        resource_provider_id: ResourceProviderId,
    ) -> Result<(), Error> {
        self.execute(Call {
            mark_resource_provider_gone: Some(c::MarkResourceProviderGone {
                resource_provider_id,
            }),
            ..call(Type::MarkResourceProviderGone)
        })
        .await
    }

    /// `PRUNE_IMAGES`: removes container images no container uses, except
    /// `excluded_images`.
    pub async fn prune_images(&self, excluded_images: Vec<Image>) -> Result<(), Error> {
        self.execute(Call {
            prune_images: Some(c::PruneImages { excluded_images }),
            ..call(Type::PruneImages)
        })
        .await
    }
}
