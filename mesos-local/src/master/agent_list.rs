//! The registered agents, in registration order (the order of the state
//! JSON's `slaves`, GET_AGENTS and allocation passes), found by id through
//! an index: each status update, acknowledgement and launch looks its
//! agent up.

use std::collections::HashMap;

use super::state::AgentSlot;

/// Agents in registration order, indexed by id.
#[derive(Debug, Default)]
pub(crate) struct Agents {
    slots: Vec<AgentSlot>,
    /// Agent id → position in `slots` (the first with that id).
    index: HashMap<String, usize>,
}

impl Agents {
    /// The agent with this id.
    pub(crate) fn get(&self, agent_id: &str) -> Option<&AgentSlot> {
        self.slots.get(*self.index.get(agent_id)?)
    }

    /// The agent with this id, to change (never its id, which the index
    /// depends on).
    pub(crate) fn get_mut(&mut self, agent_id: &str) -> Option<&mut AgentSlot> {
        self.slots.get_mut(*self.index.get(agent_id)?)
    }

    /// The agent at a position in registration order.
    pub(crate) fn at(&self, position: usize) -> Option<&AgentSlot> {
        self.slots.get(position)
    }

    /// Registration order.
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, AgentSlot> {
        self.slots.iter()
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Adds an agent last.
    pub(crate) fn push(&mut self, agent: AgentSlot) {
        self.index
            .entry(agent.id.clone())
            .or_insert(self.slots.len());
        self.slots.push(agent);
    }

    /// Removes the agent with this id (the others keep their order).
    pub(crate) fn remove(&mut self, agent_id: &str) -> Option<AgentSlot> {
        let position = *self.index.get(agent_id)?;
        let agent = self.slots.remove(position);
        self.index.clear();
        for (position, slot) in self.slots.iter().enumerate() {
            self.index.entry(slot.id.clone()).or_insert(position);
        }
        Some(agent)
    }
}

impl FromIterator<AgentSlot> for Agents {
    fn from_iter<I: IntoIterator<Item = AgentSlot>>(agents: I) -> Self {
        let mut all = Agents::default();
        for agent in agents {
            all.push(agent);
        }
        all
    }
}

impl<'a> IntoIterator for &'a Agents {
    type Item = &'a AgentSlot;
    type IntoIter = std::slice::Iter<'a, AgentSlot>;

    fn into_iter(self) -> Self::IntoIter {
        self.slots.iter()
    }
}

/// Registration order, to change (never an id, which the index depends on).
impl<'a> IntoIterator for &'a mut Agents {
    type Item = &'a mut AgentSlot;
    type IntoIter = std::slice::IterMut<'a, AgentSlot>;

    fn into_iter(self) -> Self::IntoIter {
        self.slots.iter_mut()
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::mpsc;

    use super::*;
    use crate::protocol::AgentLink;

    fn agent(id: &str) -> AgentSlot {
        let link = AgentLink {
            info: mesos_proto::v1::AgentInfo {
                id: Some(mesos_proto::v1::AgentId { value: id.into() }),
                ..Default::default()
            },
            pid: format!("slave({id})@127.0.0.1:5051"),
            tx: mpsc::unbounded_channel().0,
        };
        AgentSlot::new(link, 0.0)
    }

    fn ids(agents: &Agents) -> Vec<&str> {
        agents.iter().map(|a| a.id.as_str()).collect()
    }

    #[test]
    fn found_by_id_in_registration_order_through_removals() {
        let mut agents: Agents = (0..5).map(|n| agent(&format!("S{n}"))).collect();
        assert_eq!(ids(&agents), ["S0", "S1", "S2", "S3", "S4"]);
        assert_eq!(
            agents.get("S3").map(|a| a.link.pid.as_str()),
            Some("slave(S3)@127.0.0.1:5051")
        );
        assert!(agents.remove("S1").is_some());
        assert!(agents.remove("S1").is_none());
        assert_eq!(ids(&agents), ["S0", "S2", "S3", "S4"]);
        for id in ["S0", "S2", "S3", "S4"] {
            assert_eq!(agents.get(id).map(|a| a.id.as_str()), Some(id));
        }
        assert!(agents.get("S1").is_none());
        if let Some(a) = agents.get_mut("S4") {
            a.active = false;
        }
        assert_eq!(agents.at(3).map(|a| a.active), Some(false));
        agents.push(agent("S1"));
        assert_eq!(ids(&agents), ["S0", "S2", "S3", "S4", "S1"]);
        assert_eq!(agents.get("S1").map(|a| a.id.as_str()), Some("S1"));
        assert_eq!(agents.len(), 5);
    }
}
