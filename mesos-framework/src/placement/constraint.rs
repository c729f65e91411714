//! Constraints: what they are, how they are built and how they are checked
//! against an agent and the instances already placed.

use std::fmt;

use regex::Regex;

use super::agent::AgentProfile;
use super::Placements;

/// The largest regular expression accepted by `LIKE` and `UNLIKE`, in bytes.
pub const MAX_PATTERN_LEN: usize = 1024;

/// The most memory one compiled `LIKE`/`UNLIKE` pattern may use, in bytes.
const MAX_COMPILED_SIZE: usize = 1 << 20;

/// What a constraint looks at: the agent's hostname or one of its
/// attributes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// The agent's hostname (Marathon's `hostname` or `@hostname`).
    Hostname,
    /// The agent's fault domain region (`@region`; `Offer.domain`).
    Region,
    /// The agent's fault domain zone (`@zone`; `Offer.domain`).
    Zone,
    /// The agent attribute of this name (`--attributes=rack:r1;zone:a`).
    Attribute(String),
}

impl Field {
    /// `hostname` and `@hostname` are the hostname, `@region` and `@zone`
    /// the fault domain's, any other name an attribute.
    pub fn named(name: &str) -> Field {
        match name {
            "hostname" | "@hostname" => Field::Hostname,
            "@region" => Field::Region,
            "@zone" => Field::Zone,
            _ => Field::Attribute(name.to_owned()),
        }
    }

    /// The value of this field on `agent`, if it has one.
    pub fn value_on(&self, agent: &AgentProfile) -> Option<String> {
        match self {
            Field::Hostname => Some(agent.hostname.clone()),
            Field::Region => agent.region.clone(),
            Field::Zone => agent.zone.clone(),
            Field::Attribute(name) => agent.attribute(name),
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Hostname => f.write_str("hostname"),
            Field::Region => f.write_str("@region"),
            Field::Zone => f.write_str("@zone"),
            Field::Attribute(name) => f.write_str(name),
        }
    }
}

/// A regular expression matched against a whole field value (anchored at
/// both ends, as Marathon matches them).
#[derive(Clone, Debug)]
pub struct Pattern {
    source: String,
    regex: Regex,
}

impl Pattern {
    /// Compiles `source`, at most [`MAX_PATTERN_LEN`] bytes.
    pub fn new(source: &str) -> Result<Pattern, super::ConstraintError> {
        if source.len() > MAX_PATTERN_LEN {
            return Err(super::ConstraintError::PatternTooLong {
                len: source.len(),
                max: MAX_PATTERN_LEN,
            });
        }
        let regex = regex::RegexBuilder::new(&format!("^(?:{source})$"))
            .size_limit(MAX_COMPILED_SIZE)
            .dfa_size_limit(MAX_COMPILED_SIZE)
            .build()
            .map_err(|error| super::ConstraintError::BadRegex {
                pattern: source.to_owned(),
                reason: error.to_string(),
            })?;
        Ok(Pattern {
            source: source.to_owned(),
            regex,
        })
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the whole of `value` matches.
    pub fn matches(&self, value: &str) -> bool {
        self.regex.is_match(value)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Pattern {}

/// A constraint's operator, with its argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operator {
    /// At most one instance per value of the field.
    Unique,
    /// Only on agents whose value is this one; without a value, all
    /// instances on the value of the first one placed.
    Cluster(Option<String>),
    /// Spread evenly over the field's values; the number, if given, is how
    /// many distinct values to expect before balancing among them.
    GroupBy(Option<u32>),
    /// Only on agents whose value matches the pattern.
    Like(Pattern),
    /// Only on agents whose value does not match (or that lack the field).
    Unlike(Pattern),
    /// At most this many instances per value of the field.
    MaxPer(u32),
}

impl Operator {
    /// The Marathon name: `UNIQUE`, `CLUSTER`, `GROUP_BY`, `LIKE`, `UNLIKE`,
    /// `MAX_PER`.
    pub fn name(&self) -> &'static str {
        match self {
            Operator::Unique => "UNIQUE",
            Operator::Cluster(_) => "CLUSTER",
            Operator::GroupBy(_) => "GROUP_BY",
            Operator::Like(_) => "LIKE",
            Operator::Unlike(_) => "UNLIKE",
            Operator::MaxPer(_) => "MAX_PER",
        }
    }
}

/// One placement constraint: a [`Field`] and an [`Operator`], written
/// `field:OPERATOR[:value]` (`hostname:UNIQUE`, `rack:GROUP_BY:3`).
///
/// ```
/// use mesos_framework::placement::Constraint;
/// let unique = Constraint::attribute("rack").group_by(3);
/// assert_eq!(unique.to_string(), "rack:GROUP_BY:3");
/// let zone = Constraint::attribute("zone").like("us-east-.*")?;
/// assert_eq!(zone.to_string(), "zone:LIKE:us-east-.*");
/// assert_eq!(Constraint::hostname().unique().to_string(), "hostname:UNIQUE");
/// # Ok::<(), mesos_framework::placement::ConstraintError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Constraint {
    /// What the constraint looks at.
    pub field: Field,
    /// How it judges the value.
    pub operator: Operator,
}

/// The first half of the builder: a field waiting for its operator (see
/// [`Constraint::hostname`] and [`Constraint::attribute`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use = "a constraint needs an operator"]
pub struct ConstraintBuilder {
    field: Field,
}

impl ConstraintBuilder {
    fn with(self, operator: Operator) -> Constraint {
        Constraint {
            field: self.field,
            operator,
        }
    }

    /// `UNIQUE`: one instance per value.
    pub fn unique(self) -> Constraint {
        self.with(Operator::Unique)
    }

    /// `CLUSTER:value`: only on agents with this value.
    pub fn cluster(self, value: impl Into<String>) -> Constraint {
        self.with(Operator::Cluster(Some(value.into())))
    }

    /// `CLUSTER` without a value: every instance on the first one's value.
    pub fn cluster_together(self) -> Constraint {
        self.with(Operator::Cluster(None))
    }

    /// `GROUP_BY:n`: even over `n` values (a `0` means "unknown", as
    /// [`group_by_any`](Self::group_by_any)).
    pub fn group_by(self, values: u32) -> Constraint {
        self.with(Operator::GroupBy((values > 0).then_some(values)))
    }

    /// `GROUP_BY` without a count: even over the values seen so far.
    pub fn group_by_any(self) -> Constraint {
        self.with(Operator::GroupBy(None))
    }

    /// `LIKE:pattern`: the whole value matches `pattern`.
    pub fn like(self, pattern: &str) -> Result<Constraint, super::ConstraintError> {
        Ok(self.with(Operator::Like(Pattern::new(pattern)?)))
    }

    /// `UNLIKE:pattern`: the value (if any) does not match `pattern`.
    pub fn unlike(self, pattern: &str) -> Result<Constraint, super::ConstraintError> {
        Ok(self.with(Operator::Unlike(Pattern::new(pattern)?)))
    }

    /// `MAX_PER:n`: at most `n` instances per value.
    pub fn max_per(self, limit: u32) -> Constraint {
        self.with(Operator::MaxPer(limit))
    }
}

impl Constraint {
    /// Starts a constraint on the agent's hostname.
    pub fn hostname() -> ConstraintBuilder {
        ConstraintBuilder {
            field: Field::Hostname,
        }
    }

    /// Starts a constraint on the field `name`: an attribute, or `hostname`,
    /// `@hostname`, `@region`, `@zone` (see [`Field::named`]).
    pub fn attribute(name: impl AsRef<str>) -> ConstraintBuilder {
        ConstraintBuilder {
            field: Field::named(name.as_ref()),
        }
    }

    /// Whether one more instance may go to `agent`, given the instances
    /// already `placed`; if not, why.
    ///
    /// As in Marathon, an agent without the field is refused by every
    /// operator except `UNLIKE`.
    pub fn check(&self, agent: &AgentProfile, placed: &Placements) -> Result<(), Refusal> {
        let value = self.field.value_on(agent);
        let refuse = |reason| {
            Err(Refusal {
                constraint: self.to_string(),
                agent_id: agent.agent_id.clone(),
                reason,
            })
        };
        let Some(value) = value else {
            return match self.operator {
                Operator::Unlike(_) => Ok(()),
                _ => refuse(RefusalReason::MissingField),
            };
        };
        let count = || placed.count_with(&self.field, &value);
        match &self.operator {
            Operator::Unique => match count() {
                0 => Ok(()),
                running => refuse(RefusalReason::Taken { value, running }),
            },
            Operator::MaxPer(limit) => {
                let running = count();
                if running < *limit as usize {
                    Ok(())
                } else {
                    refuse(RefusalReason::LimitReached {
                        value,
                        running,
                        limit: *limit,
                    })
                }
            }
            Operator::Cluster(Some(wanted)) => {
                let scalar = match &self.field {
                    Field::Attribute(name) => agent.scalar_attribute(name),
                    _ => None,
                };
                if value == *wanted || scalar.is_some_and(|v| same_number(v, wanted)) {
                    Ok(())
                } else {
                    refuse(RefusalReason::WrongValue {
                        value,
                        wanted: wanted.clone(),
                    })
                }
            }
            Operator::Cluster(None) => match placed.first_value(&self.field) {
                Some(wanted) if wanted != value => {
                    refuse(RefusalReason::WrongValue { value, wanted })
                }
                _ => Ok(()),
            },
            Operator::Like(pattern) if !pattern.matches(&value) => {
                refuse(RefusalReason::NoMatch { value })
            }
            Operator::Unlike(pattern) if pattern.matches(&value) => {
                refuse(RefusalReason::Matches { value })
            }
            Operator::Like(_) | Operator::Unlike(_) => Ok(()),
            Operator::GroupBy(expected) => {
                let counts = placed.counts_by(&self.field);
                let running = counts
                    .iter()
                    .find(|(v, _)| *v == value)
                    .map_or(0, |(_, n)| *n);
                let minimum = if counts.len() < expected.unwrap_or(0) as usize {
                    0
                } else {
                    counts.iter().map(|(_, n)| *n).min().unwrap_or(0)
                };
                if running <= minimum {
                    Ok(())
                } else {
                    refuse(RefusalReason::Unbalanced {
                        value,
                        running,
                        minimum,
                    })
                }
            }
        }
    }
}

/// Whether `text` is the number `value` (to Mesos's three decimals):
/// `CLUSTER:2` accepts a scalar attribute `2.0`.
fn same_number(value: f64, text: &str) -> bool {
    use mesos_proto::resources::round_scalar;
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|wanted| wanted.is_finite())
        .is_some_and(|wanted| round_scalar(wanted) == round_scalar(value))
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.field, self.operator.name())?;
        match &self.operator {
            Operator::Unique | Operator::Cluster(None) | Operator::GroupBy(None) => Ok(()),
            Operator::Cluster(Some(value)) => write!(f, ":{value}"),
            Operator::GroupBy(Some(n)) | Operator::MaxPer(n) => write!(f, ":{n}"),
            Operator::Like(p) | Operator::Unlike(p) => write!(f, ":{}", p.as_str()),
        }
    }
}

/// Why a constraint refused an agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The constraint, as written (`hostname:UNIQUE`).
    pub constraint: String,
    /// The agent refused.
    pub agent_id: String,
    /// Why.
    pub reason: RefusalReason,
}

/// The reason in a [`Refusal`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefusalReason {
    /// The agent has no value for the field (no such attribute, or no
    /// fault domain).
    MissingField,
    /// `UNIQUE`: an instance already runs on this value.
    Taken {
        /// The agent's value.
        value: String,
        /// Instances already on it.
        running: usize,
    },
    /// `MAX_PER`: the value already has its share.
    LimitReached {
        /// The agent's value.
        value: String,
        /// Instances already on it.
        running: usize,
        /// The limit.
        limit: u32,
    },
    /// `CLUSTER`: another value is wanted.
    WrongValue {
        /// The agent's value.
        value: String,
        /// The value wanted.
        wanted: String,
    },
    /// `LIKE`: the value does not match.
    NoMatch {
        /// The agent's value.
        value: String,
    },
    /// `UNLIKE`: the value matches.
    Matches {
        /// The agent's value.
        value: String,
    },
    /// `GROUP_BY`: this value already has more instances than the least
    /// used one.
    Unbalanced {
        /// The agent's value.
        value: String,
        /// Instances already on it.
        running: usize,
        /// Instances on the least used value.
        minimum: usize,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "constraint {} refused agent {} (",
            self.constraint, self.agent_id
        )?;
        match &self.reason {
            RefusalReason::MissingField => f.write_str("it has no value for the field")?,
            RefusalReason::Taken { value, running: 1 } => {
                write!(f, "{value} already runs an instance")?
            }
            RefusalReason::Taken { value, running } => {
                write!(f, "{value} already runs {running} instances")?
            }
            RefusalReason::LimitReached {
                value,
                running,
                limit,
            } => write!(f, "{value} runs {running} instances, at most {limit}")?,
            RefusalReason::WrongValue { value, wanted } => {
                write!(f, "its value {value} is not {wanted}")?
            }
            RefusalReason::NoMatch { value } => write!(f, "{value} does not match")?,
            RefusalReason::Matches { value } => write!(f, "{value} matches")?,
            RefusalReason::Unbalanced {
                value,
                running,
                minimum,
            } => write!(
                f,
                "{value} runs {running} instances, the least used value {minimum}"
            )?,
        }
        f.write_str(")")
    }
}
