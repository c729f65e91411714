//! Operations on an agent's resources: dynamic reservations and persistent
//! volumes. The master applies them and answers `202 Accepted`; the new
//! resources then show in `GET_AGENTS` and in offers.

use mesos_proto::v1::master::{call as c, call::Type, Call};
use mesos_proto::v1::{value, AgentId, Resource};

use super::{call, MasterClient};
use crate::Error;

impl MasterClient {
    /// `RESERVE_RESOURCES`: reserves `resources` (each with the
    /// reservations it should end up with) on the agent.
    ///
    /// ```no_run
    /// use mesos_proto::v1::{resource, value, AgentId, Resource};
    ///
    /// # async fn run(master: mesos_operator::MasterClient, agent_id: AgentId) -> Result<(), mesos_operator::Error> {
    /// let cpus = Resource {
    ///     name: "cpus".into(),
    ///     r#type: value::Type::Scalar as i32,
    ///     scalar: Some(value::Scalar { value: 0.5 }),
    ///     reservations: vec![resource::ReservationInfo {
    ///         r#type: Some(resource::reservation_info::Type::Dynamic as i32),
    ///         role: Some("ops".into()),
    ///         principal: Some("ops".into()),
    ///         ..Default::default()
    ///     }],
    ///     ..Default::default()
    /// };
    /// master.reserve_resources(agent_id, vec![cpus]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn reserve_resources(
        &self,
        agent_id: AgentId,
        resources: Vec<Resource>,
    ) -> Result<(), Error> {
        self.reserve_resources_from(agent_id, Vec::new(), resources)
            .await
    }

    /// `RESERVE_RESOURCES` with its `source`: re-reserves `source` (already
    /// reserved resources) as `resources`, e.g. to refine a reservation.
    pub async fn reserve_resources_from(
        &self,
        agent_id: AgentId,
        source: Vec<Resource>,
        resources: Vec<Resource>,
    ) -> Result<(), Error> {
        self.execute(Call {
            reserve_resources: Some(c::ReserveResources {
                agent_id,
                source,
                resources,
            }),
            ..call(Type::ReserveResources)
        })
        .await
    }

    /// `UNRESERVE_RESOURCES`: removes the last reservation of `resources`
    /// (as they appear reserved) on the agent.
    pub async fn unreserve_resources(
        &self,
        agent_id: AgentId,
        resources: Vec<Resource>,
    ) -> Result<(), Error> {
        self.execute(Call {
            unreserve_resources: Some(c::UnreserveResources {
                agent_id,
                resources,
            }),
            ..call(Type::UnreserveResources)
        })
        .await
    }

    /// `CREATE_VOLUMES`: creates persistent volumes (disk resources with
    /// `disk.persistence`) on reserved disk of the agent.
    pub async fn create_volumes(
        &self,
        agent_id: AgentId,
        volumes: Vec<Resource>,
    ) -> Result<(), Error> {
        self.execute(Call {
            create_volumes: Some(c::CreateVolumes { agent_id, volumes }),
            ..call(Type::CreateVolumes)
        })
        .await
    }

    /// `DESTROY_VOLUMES`: destroys persistent volumes of the agent.
    pub async fn destroy_volumes(
        &self,
        agent_id: AgentId,
        volumes: Vec<Resource>,
    ) -> Result<(), Error> {
        self.execute(Call {
            destroy_volumes: Some(c::DestroyVolumes { agent_id, volumes }),
            ..call(Type::DestroyVolumes)
        })
        .await
    }

    /// `GROW_VOLUME`: grows the persistent `volume` by `addition` (disk
    /// reserved like it).
    pub async fn grow_volume(
        &self,
        agent_id: Option<AgentId>,
        volume: Resource,
        addition: Resource,
    ) -> Result<(), Error> {
        self.execute(Call {
            grow_volume: Some(c::GrowVolume {
                agent_id,
                volume,
                addition,
            }),
            ..call(Type::GrowVolume)
        })
        .await
    }

    /// `SHRINK_VOLUME`: shrinks the persistent `volume` by `subtract` (MB).
    pub async fn shrink_volume(
        &self,
        agent_id: Option<AgentId>,
        volume: Resource,
        subtract: value::Scalar,
    ) -> Result<(), Error> {
        self.execute(Call {
            shrink_volume: Some(c::ShrinkVolume {
                agent_id,
                volume,
                subtract,
            }),
            ..call(Type::ShrinkVolume)
        })
        .await
    }
}
