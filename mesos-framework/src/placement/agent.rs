//! The agent side of a placement: who an offer comes from, and where the
//! instances of a group already are.

use std::fmt::Write as _;

use mesos_proto::v1::value::Type as ValueType;
use mesos_proto::v1::{Attribute, Offer};

use super::constraint::Field;

/// What constraints look at on an agent: its id, hostname, fault domain
/// and attributes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AgentProfile {
    /// The agent's id (`Offer.agent_id`).
    pub agent_id: String,
    /// The agent's hostname (`Offer.hostname`).
    pub hostname: String,
    /// The fault domain's region (`Offer.domain.fault_domain.region`).
    pub region: Option<String>,
    /// The fault domain's zone (`Offer.domain.fault_domain.zone`).
    pub zone: Option<String>,
    /// The agent's attributes (`Offer.attributes`).
    pub attributes: Vec<Attribute>,
}

impl AgentProfile {
    /// An agent with no attributes.
    pub fn new(agent_id: impl Into<String>, hostname: impl Into<String>) -> Self {
        AgentProfile {
            agent_id: agent_id.into(),
            hostname: hostname.into(),
            region: None,
            zone: None,
            attributes: Vec::new(),
        }
    }

    /// The agent an offer comes from.
    pub fn of_offer(offer: &Offer) -> Self {
        let fault_domain = offer
            .domain
            .as_ref()
            .and_then(|domain| domain.fault_domain.as_ref());
        AgentProfile {
            agent_id: offer.agent_id.value.clone(),
            hostname: offer.hostname.clone(),
            region: fault_domain.map(|domain| domain.region.name.clone()),
            zone: fault_domain.map(|domain| domain.zone.name.clone()),
            attributes: offer.attributes.clone(),
        }
    }

    /// Sets the fault domain (`@region`, `@zone`).
    #[must_use]
    pub fn with_domain(mut self, region: impl Into<String>, zone: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self.zone = Some(zone.into());
        self
    }

    /// Adds a text attribute (as `--attributes=name:value` gives).
    #[must_use]
    pub fn with_text(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.push(Attribute {
            name: name.into(),
            r#type: ValueType::Text as i32,
            text: Some(mesos_proto::v1::value::Text {
                value: value.into(),
            }),
            ..Default::default()
        });
        self
    }

    /// Adds a scalar attribute (`--attributes=name:2.5`).
    #[must_use]
    pub fn with_scalar(mut self, name: impl Into<String>, value: f64) -> Self {
        self.attributes.push(Attribute {
            name: name.into(),
            r#type: ValueType::Scalar as i32,
            scalar: Some(mesos_proto::v1::value::Scalar { value }),
            ..Default::default()
        });
        self
    }

    /// The value of the attribute `name` as text, if the agent has it:
    /// text as is, a scalar as a number (`2`, `2.5`), ranges as
    /// `[1-5,7-9]`, a set as `{a,b}` (Marathon's forms). The first
    /// attribute of that name counts.
    pub fn attribute(&self, name: &str) -> Option<String> {
        self.attributes
            .iter()
            .find(|attribute| attribute.name == name)
            .and_then(attribute_text)
    }
}

impl AgentProfile {
    /// The value of the attribute `name` if it is a scalar.
    pub fn scalar_attribute(&self, name: &str) -> Option<f64> {
        self.attributes
            .iter()
            .find(|attribute| attribute.name == name)
            .filter(|attribute| attribute.r#type == ValueType::Scalar as i32)
            .and_then(|attribute| attribute.scalar)
            .map(|scalar| scalar.value)
    }
}

/// An attribute's value as text, `None` if its type and value disagree.
fn attribute_text(attribute: &Attribute) -> Option<String> {
    match ValueType::try_from(attribute.r#type).ok()? {
        ValueType::Text => attribute.text.as_ref().map(|text| text.value.clone()),
        ValueType::Scalar => attribute
            .scalar
            .filter(|scalar| scalar.value.is_finite())
            .map(|scalar| mesos_proto::resources::round_scalar(scalar.value).to_string()),
        ValueType::Ranges => attribute.ranges.as_ref().map(|ranges| {
            let mut text = String::from("[");
            for (index, range) in ranges.range.iter().enumerate() {
                let separator = if index > 0 { "," } else { "" };
                let _ = write!(text, "{separator}{}-{}", range.begin, range.end);
            }
            text.push(']');
            text
        }),
        ValueType::Set => attribute
            .set
            .as_ref()
            .map(|set| format!("{{{}}}", set.item.join(","))),
    }
}

/// The instances of one group of tasks already launched or running: one
/// [`AgentProfile`] per instance, in launch order.
///
/// Fill it from the application's own task records (and add each new
/// placement before choosing the next), so constraints see them all.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Placements {
    instances: Vec<AgentProfile>,
}

impl Placements {
    /// No instance yet.
    pub fn new() -> Self {
        Placements::default()
    }

    /// Records one more instance on `agent`.
    pub fn add(&mut self, agent: AgentProfile) {
        self.instances.push(agent);
    }

    /// [`add`](Self::add), by value.
    #[must_use]
    pub fn with(mut self, agent: AgentProfile) -> Self {
        self.add(agent);
        self
    }

    /// Forgets one instance on the agent `agent_id` (it ended); whether
    /// there was one.
    pub fn remove_one(&mut self, agent_id: &str) -> bool {
        match self.instances.iter().rposition(|a| a.agent_id == agent_id) {
            Some(index) => {
                self.instances.remove(index);
                true
            }
            None => false,
        }
    }

    /// The number of instances.
    pub fn len(&self) -> usize {
        self.instances.len()
    }

    /// Whether there is no instance.
    pub fn is_empty(&self) -> bool {
        self.instances.is_empty()
    }

    /// The agents of the instances, one entry per instance.
    pub fn iter(&self) -> std::slice::Iter<'_, AgentProfile> {
        self.instances.iter()
    }

    /// The instances on the agent `agent_id`.
    pub fn on_agent(&self, agent_id: &str) -> usize {
        self.instances
            .iter()
            .filter(|a| a.agent_id == agent_id)
            .count()
    }

    /// The instances whose agent has `value` for `field`.
    pub fn count_with(&self, field: &Field, value: &str) -> usize {
        self.instances
            .iter()
            .filter_map(|agent| field.value_on(agent))
            .filter(|v| v == value)
            .count()
    }

    /// The value of `field` on the first instance that has one.
    pub fn first_value(&self, field: &Field) -> Option<String> {
        self.instances
            .iter()
            .find_map(|agent| field.value_on(agent))
    }

    /// The instances per value of `field`, values in order of first
    /// appearance (instances on agents without the field are left out).
    pub fn counts_by(&self, field: &Field) -> Vec<(String, usize)> {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for value in self.instances.iter().filter_map(|a| field.value_on(a)) {
            match counts.iter_mut().find(|(v, _)| *v == value) {
                Some((_, n)) => *n += 1,
                None => counts.push((value, 1)),
            }
        }
        counts
    }
}

impl<'a> IntoIterator for &'a Placements {
    type Item = &'a AgentProfile;
    type IntoIter = std::slice::Iter<'a, AgentProfile>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl FromIterator<AgentProfile> for Placements {
    fn from_iter<I: IntoIterator<Item = AgentProfile>>(iter: I) -> Self {
        Placements {
            instances: iter.into_iter().collect(),
        }
    }
}
