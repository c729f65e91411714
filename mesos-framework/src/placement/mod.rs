//! Placement: which offer a task goes to.
//!
//! - [`Constraint`]s as Marathon users write them, on the agent's hostname,
//!   fault domain (`@region`, `@zone`) or attributes: `UNIQUE`, `CLUSTER`, `GROUP_BY`, `LIKE`, `UNLIKE`,
//!   `MAX_PER` ([`Constraint::parse_json`], [`Constraint::from_parts`],
//!   `"rack:GROUP_BY:3".parse()`, or the builder).
//! - [`fit`]: the task's share of an offer's resources, with roles and
//!   reservations, or a [`Shortfall`] per resource name.
//! - [`Strategy`]: bin-pack or spread among the offers that fit.
//! - [`NoPlacement`]: why no offer fitted, offer by offer, bounded.
//!
//! A [`Placer`] puts these together. The instances already placed for the
//! task's group ([`Placements`]) are the application's to keep: add each
//! new placement before placing the next instance.
//!
//! Constraint semantics follow Marathon: an agent without the constrained
//! attribute is refused by every operator except `UNLIKE`; `LIKE` and
//! `UNLIKE` match the whole value; `GROUP_BY:n` accepts only values not yet
//! used while fewer than `n` distinct values hold instances, then only the
//! least used ones. Values are compared as text (a scalar attribute also
//! as a number by `CLUSTER:value`); scalars read `2` or `2.5`, ranges
//! `[1-5,7-9]` and sets `{a,b}`.

mod agent;
mod constraint;
mod fit;
mod order;
mod parse;
mod report;

pub use agent::{AgentProfile, Placements};
pub use constraint::{
    Constraint, ConstraintBuilder, Field, Operator, Pattern, Refusal, RefusalReason,
    MAX_PATTERN_LEN,
};
pub use fit::{fit, Missing, Shortfall};
pub use order::Strategy;
pub use parse::{ConstraintError, MAX_CONSTRAINTS, MAX_JSON_LEN};
pub use report::{NoPlacement, OfferVerdict, Reason, DEFAULT_MAX_LISTED};

use mesos_proto::resources::Resources;
use mesos_proto::v1::Offer;

/// What a task needs: resources, constraints and, optionally, the role its
/// framework uses the offer's reservations for.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskNeeds {
    /// A name for reports (the task or group name).
    pub name: String,
    /// The resources of one instance (amounts; reservations ignored).
    pub resources: Resources,
    /// All must accept the agent.
    pub constraints: Vec<Constraint>,
    /// Use only resources unreserved or reserved for this role (see
    /// [`fit`]); `None` uses anything offered.
    pub role: Option<String>,
}

impl TaskNeeds {
    /// A task needing `resources`, with no constraint and no role.
    pub fn new(name: impl Into<String>, resources: Resources) -> Self {
        TaskNeeds {
            name: name.into(),
            resources,
            constraints: Vec::new(),
            role: None,
        }
    }

    /// Adds a constraint.
    #[must_use]
    pub fn constraint(mut self, constraint: Constraint) -> Self {
        self.constraints.push(constraint);
        self
    }

    /// Adds constraints (e.g. from [`Constraint::parse_json`]).
    #[must_use]
    pub fn constraints(mut self, constraints: impl IntoIterator<Item = Constraint>) -> Self {
        self.constraints.extend(constraints);
        self
    }

    /// Uses only resources unreserved or reserved for `role`.
    #[must_use]
    pub fn role(mut self, role: impl Into<String>) -> Self {
        self.role = Some(role.into());
        self
    }
}

/// An offer as placement sees it: its id, its agent and its resources.
#[derive(Clone, Debug, PartialEq)]
pub struct OfferCandidate {
    /// The offer's id.
    pub offer_id: String,
    /// Its agent.
    pub agent: AgentProfile,
    /// What is still free in it (subtract what earlier tasks took).
    pub resources: Resources,
}

impl OfferCandidate {
    /// An offer of `resources` from `agent`.
    pub fn new(offer_id: impl Into<String>, agent: AgentProfile, resources: Resources) -> Self {
        OfferCandidate {
            offer_id: offer_id.into(),
            agent,
            resources,
        }
    }

    /// An offer as the master sent it.
    pub fn of_offer(offer: &Offer) -> Self {
        OfferCandidate {
            offer_id: offer.id.value.clone(),
            agent: AgentProfile::of_offer(offer),
            resources: Resources::from(offer.resources.clone()),
        }
    }
}

/// Where a task goes.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    /// The position of the chosen offer in the slice given.
    pub index: usize,
    /// The chosen offer's id.
    pub offer_id: String,
    /// Its agent's id.
    pub agent_id: String,
    /// The offer's resources the task takes, for its `TaskInfo`.
    pub resources: Resources,
}

/// Picks an offer for a task: checks resources and constraints on every
/// offer, orders those that fit by a [`Strategy`], or explains why none did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placer {
    strategy: Strategy,
    max_listed: usize,
}

impl Default for Placer {
    /// Bin-packing, listing up to [`DEFAULT_MAX_LISTED`] offers in reports.
    fn default() -> Self {
        Placer::new(Strategy::default())
    }
}

impl Placer {
    /// A placer with `strategy`.
    pub fn new(strategy: Strategy) -> Self {
        Placer {
            strategy,
            max_listed: DEFAULT_MAX_LISTED,
        }
    }

    /// Lists at most `max_listed` offers in a [`NoPlacement`].
    #[must_use]
    pub fn max_listed(mut self, max_listed: usize) -> Self {
        self.max_listed = max_listed;
        self
    }

    /// Whether one more instance of `task` fits `offer`: the task's share of
    /// its resources, or every reason it does not (resources first, then
    /// each refusing constraint).
    pub fn check(
        &self,
        task: &TaskNeeds,
        offer: &OfferCandidate,
        placed: &Placements,
    ) -> Result<Resources, Vec<Reason>> {
        let mut reasons = Vec::new();
        let share = match fit(&offer.resources, &task.resources, task.role.as_deref()) {
            Ok(share) => Some(share),
            Err(shortfall) => {
                reasons.push(Reason::Resources(shortfall));
                None
            }
        };
        for constraint in &task.constraints {
            if let Err(refusal) = constraint.check(&offer.agent, placed) {
                reasons.push(Reason::Constraint(refusal));
            }
        }
        match share {
            Some(share) if reasons.is_empty() => Ok(share),
            _ => Err(reasons),
        }
    }

    /// All offers `task` fits, best first for the strategy (ties by agent
    /// id, then offer id).
    pub fn rank(
        &self,
        task: &TaskNeeds,
        offers: &[OfferCandidate],
        placed: &Placements,
    ) -> Vec<Choice> {
        self.evaluate(task, offers, placed).0
    }

    /// The best offer for one more instance of `task`, or why none fits.
    pub fn place(
        &self,
        task: &TaskNeeds,
        offers: &[OfferCandidate],
        placed: &Placements,
    ) -> Result<Choice, NoPlacement> {
        let (choices, report) = self.evaluate(task, offers, placed);
        choices.into_iter().next().ok_or(report)
    }

    fn evaluate(
        &self,
        task: &TaskNeeds,
        offers: &[OfferCandidate],
        placed: &Placements,
    ) -> (Vec<Choice>, NoPlacement) {
        let mut fitting = Vec::new();
        let mut report = NoPlacement::new(&task.name);
        for (index, offer) in offers.iter().enumerate() {
            match self.check(task, offer, placed) {
                Ok(share) => fitting.push(order::Fitting {
                    index,
                    offer,
                    share,
                }),
                Err(reasons) => report.record(
                    OfferVerdict {
                        offer_id: offer.offer_id.clone(),
                        agent_id: offer.agent.agent_id.clone(),
                        hostname: offer.agent.hostname.clone(),
                        reasons,
                    },
                    self.max_listed,
                ),
            }
        }
        let choices = order::sort(self.strategy, &task.resources, placed, fitting)
            .into_iter()
            .map(|f| Choice {
                index: f.index,
                offer_id: f.offer.offer_id.clone(),
                agent_id: f.offer.agent.agent_id.clone(),
                resources: f.share,
            })
            .collect();
        (choices, report)
    }
}
