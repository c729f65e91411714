//! Resource fit: does a task's need fit an offer, and if not, by how much
//! is it short.

use std::fmt;

use mesos_proto::resources::Resources;
use mesos_proto::v1::value::Type as ValueType;

/// Finds the task's share of `offered`: the offer's own resources (with
/// their roles and reservations, ready for a `TaskInfo`) that cover
/// `needed`, or what is missing.
///
/// With a `role`, only resources unreserved or reserved for that role (or
/// an ancestor) count, reserved ones first
/// ([`Resources::find_for_role`]); without, any offered resource may be
/// used ([`Resources::find`]).
///
/// ```
/// use mesos_framework::placement::fit;
/// use mesos_proto::resources::Resources;
/// let offer: Resources = "cpus:1; mem:1024".parse()?;
/// let need = Resources::new().with_cpus(1.5).with_mem(1088.0);
/// let short = fit(&offer, &need, None).unwrap_err();
/// assert_eq!(short.to_string(), "cpus short by 0.5, mem short by 64");
/// # Ok::<(), mesos_proto::resources::ParseError>(())
/// ```
pub fn fit(
    offered: &Resources,
    needed: &Resources,
    role: Option<&str>,
) -> Result<Resources, Shortfall> {
    let found = match role {
        Some(role) => offered.find_for_role(role, needed),
        None => offered.find(needed),
    };
    if let Some(share) = found {
        return Ok(share);
    }
    let usable = match role {
        Some(role) => offered.allocatable_to(role),
        None => offered.clone(),
    };
    let available = usable.flatten();
    let need = needed.flatten();
    let mut missing = Vec::new();
    for name in need.names() {
        let Some(kind) = need.iter().find(|r| r.name == name).map(|r| r.r#type) else {
            continue;
        };
        let of_name = need.filter(|r| r.name == name);
        let lacking = of_name.clone() - &available;
        if kind == ValueType::Scalar as i32 {
            if let Some(short) = lacking.scalar(name) {
                missing.push(Missing::Scalar {
                    name: name.to_owned(),
                    short,
                });
            }
        } else if kind == ValueType::Ranges as i32 {
            let ranges = lacking.ranges(name);
            if !ranges.is_empty() {
                missing.push(Missing::Ranges {
                    name: name.to_owned(),
                    missing: ranges,
                });
            }
        } else if kind == ValueType::Set as i32 {
            let items = lacking.set(name);
            if !items.is_empty() {
                missing.push(Missing::Set {
                    name: name.to_owned(),
                    missing: items,
                });
            }
        }
    }
    if missing.is_empty() {
        // The amounts are there, but not in a usable form: e.g. a whole
        // MOUNT disk of another size, or a shared volume.
        for name in need.names() {
            let of_name = needed.filter(|r| r.name == name);
            let found = match role {
                Some(role) => usable.find_for_role(role, &of_name),
                None => usable.find(&of_name),
            };
            if found.is_none() {
                missing.push(Missing::Form {
                    name: name.to_owned(),
                });
            }
        }
    }
    if missing.is_empty() {
        // Each name fits alone but not all together; say so for all.
        missing = need
            .names()
            .into_iter()
            .map(|name| Missing::Form {
                name: name.to_owned(),
            })
            .collect();
    }
    Err(Shortfall { missing })
}

/// What an offer lacks for a task, resource by resource.
#[derive(Clone, Debug, PartialEq)]
pub struct Shortfall {
    /// One entry per resource name short, in the order of the task's need.
    pub missing: Vec<Missing>,
}

impl Shortfall {
    /// How much of the scalar resource `name` is missing, if it is short.
    pub fn scalar(&self, name: &str) -> Option<f64> {
        self.missing.iter().find_map(|missing| match missing {
            Missing::Scalar { name: n, short } if n == name => Some(*short),
            _ => None,
        })
    }
}

/// One resource an offer lacks.
#[derive(Clone, Debug, PartialEq)]
pub enum Missing {
    /// A scalar (`cpus`, `mem`, `disk`, `gpus`) short by this much.
    Scalar {
        /// The resource name.
        name: String,
        /// How much is missing.
        short: f64,
    },
    /// Ranges (`ports`) not offered, as inclusive intervals.
    Ranges {
        /// The resource name.
        name: String,
        /// The intervals missing.
        missing: Vec<(u64, u64)>,
    },
    /// Set items not offered.
    Set {
        /// The resource name.
        name: String,
        /// The items missing.
        missing: Vec<String>,
    },
    /// Enough in amount, but not in a form the task can use (reservation,
    /// disk source, shared or whole-only resources).
    Form {
        /// The resource name.
        name: String,
    },
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Missing::Scalar { name, short } => write!(f, "{name} short by {short}"),
            Missing::Ranges { name, missing } => {
                write!(f, "{name} missing [")?;
                for (index, (begin, end)) in missing.iter().enumerate() {
                    let separator = if index > 0 { "," } else { "" };
                    write!(f, "{separator}{begin}-{end}")?;
                }
                f.write_str("]")
            }
            Missing::Set { name, missing } => write!(f, "{name} missing {{{}}}", missing.join(",")),
            Missing::Form { name } => write!(f, "{name} not offered in a usable form"),
        }
    }
}

impl fmt::Display for Shortfall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, missing) in self.missing.iter().enumerate() {
            if index > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{missing}")?;
        }
        Ok(())
    }
}
