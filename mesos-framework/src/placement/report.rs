//! Why a task was not placed: one verdict per offer, bounded.

use std::fmt;

use super::constraint::Refusal;
use super::fit::Shortfall;

/// How many offers a [`NoPlacement`] lists by default; the others are only
/// counted.
pub const DEFAULT_MAX_LISTED: usize = 10;

/// Why no offer fitted a pending task, printable for an operator.
///
/// ```
/// use mesos_framework::placement::{AgentProfile, Constraint, OfferCandidate, Placements, Placer, TaskNeeds};
/// use mesos_proto::resources::Resources;
///
/// let task = TaskNeeds::new("web-2", Resources::new().with_cpus(1.0))
///     .constraint(Constraint::hostname().unique());
/// let offers = [OfferCandidate::new("o1", AgentProfile::new("a1", "h1"), "cpus:4".parse()?)];
/// let placed = Placements::new().with(AgentProfile::new("a1", "h1"));
/// let report = Placer::default().place(&task, &offers, &placed).unwrap_err();
/// assert_eq!(
///     report.to_string(),
///     "task web-2 fits none of 1 offer:\n  offer o1 on agent a1 (h1): \
///      constraint hostname:UNIQUE refused agent a1 (h1 already runs an instance)"
/// );
/// # Ok::<(), mesos_proto::resources::ParseError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct NoPlacement {
    /// The task's name.
    pub task: String,
    /// The offers considered.
    pub considered: usize,
    /// The first offers' verdicts, at most the placer's limit.
    pub offers: Vec<OfferVerdict>,
    /// Offers considered but not listed.
    pub unlisted: usize,
}

/// Why one offer did not fit.
#[derive(Clone, Debug, PartialEq)]
pub struct OfferVerdict {
    /// The offer.
    pub offer_id: String,
    /// Its agent.
    pub agent_id: String,
    /// The agent's hostname.
    pub hostname: String,
    /// Every reason, resources first.
    pub reasons: Vec<Reason>,
}

/// One reason an offer did not fit.
#[derive(Clone, Debug, PartialEq)]
pub enum Reason {
    /// Not enough resources.
    Resources(Shortfall),
    /// A constraint refused the agent.
    Constraint(Refusal),
}

impl NoPlacement {
    pub(crate) fn new(task: &str) -> Self {
        NoPlacement {
            task: task.to_owned(),
            considered: 0,
            offers: Vec::new(),
            unlisted: 0,
        }
    }

    pub(crate) fn record(&mut self, verdict: OfferVerdict, max_listed: usize) {
        self.considered += 1;
        if self.offers.len() < max_listed {
            self.offers.push(verdict);
        } else {
            self.unlisted += 1;
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Resources(shortfall) => write!(f, "{shortfall}"),
            Reason::Constraint(refusal) => write!(f, "{refusal}"),
        }
    }
}

impl fmt::Display for OfferVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "offer {} on agent {} ({}): ",
            self.offer_id, self.agent_id, self.hostname
        )?;
        for (index, reason) in self.reasons.iter().enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{reason}")?;
        }
        Ok(())
    }
}

impl fmt::Display for NoPlacement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.considered == 0 {
            return write!(f, "task {} has no offer to go to", self.task);
        }
        let offers = if self.considered == 1 {
            "offer"
        } else {
            "offers"
        };
        write!(
            f,
            "task {} fits none of {} {offers}:",
            self.task, self.considered
        )?;
        for verdict in &self.offers {
            write!(f, "\n  {verdict}")?;
        }
        if self.unlisted > 0 {
            let more = if self.unlisted == 1 {
                "offer"
            } else {
                "offers"
            };
            write!(f, "\n  ... and {} more {more}", self.unlisted)?;
        }
        Ok(())
    }
}

impl std::error::Error for NoPlacement {}
