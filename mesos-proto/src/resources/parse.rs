//! Parsing the Mesos agent `--resources` flag syntax.

use std::str::FromStr;

use crate::v1::value::Type as ValueType;
use crate::v1::Resource;

use super::{ranges, role_error, scalar, set, static_reservation, Resources};

/// A `--resources` string could not be parsed: see [`Resources::parse`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// A `;`-separated token is not `name:value` or `name(role):value`.
    #[error("resource `{token}` is not of the form `name:value` or `name(role):value`")]
    Syntax {
        /// The offending token.
        token: String,
    },
    /// The token has an empty resource name.
    #[error("resource `{token}` has an empty name")]
    EmptyName {
        /// The offending token.
        token: String,
    },
    /// The role in parentheses is not a valid role name.
    #[error("resource `{token}` has an invalid role: the role {reason}")]
    InvalidRole {
        /// The offending token.
        token: String,
        /// Why the role is invalid.
        reason: &'static str,
    },
    /// The value is not a scalar, `[ranges]` or `{set}` Mesos accepts.
    #[error("resource `{token}` has an invalid value: {reason}")]
    InvalidValue {
        /// The offending token.
        token: String,
        /// What is wrong with the value.
        reason: String,
    },
    /// The same resource name is used with two different value types.
    #[error("resource `{name}` is given both as {first} and as {second}")]
    ConflictingTypes {
        /// The resource name.
        name: String,
        /// The type of its first use.
        first: &'static str,
        /// The type of the conflicting use.
        second: &'static str,
    },
    /// The text looked like the JSON form (a `[...]` array of Resource
    /// objects) but is not valid.
    #[error("invalid JSON resources: {reason}")]
    Json {
        /// What is wrong, from the JSON decoder.
        reason: String,
    },
}

impl Resources {
    /// Parses the Mesos agent `--resources` syntax.
    ///
    /// The text is a `;`-separated list of `name:value` or
    /// `name(role):value` tokens (whitespace around tokens and inside values
    /// is ignored). A value is a scalar (`4`, `0.5`), inclusive ranges
    /// (`[31000-32000]`, `[1-5, 10-20]`, `[80]`) or a set (`{a,b}`). A role
    /// other than `*` makes a STATIC reservation, as on an agent. Zero amounts
    /// are dropped, as Mesos does.
    ///
    /// Text starting with `[` is read as the JSON form instead: an array of
    /// `Resource` objects in the Mesos JSON mapping.
    ///
    /// Rejected: malformed tokens, invalid role names, negative or
    /// non-finite scalars, inverted or overlapping ranges, repeated set
    /// items, and one name used with two types.
    ///
    /// ```
    /// use mesos_proto::resources::{ParseError, Resources};
    /// let agent = Resources::parse("cpus:4;mem:4096;disk:10000;ports:[31000-32000];cpus(web):2")?;
    /// assert_eq!(agent.cpus(), Some(6.0));
    /// assert_eq!(agent.reserved("web").cpus(), Some(2.0));
    ///
    /// let error = Resources::parse("cpus:4;mem=4096").unwrap_err();
    /// assert_eq!(error, ParseError::Syntax { token: "mem=4096".into() });
    /// # Ok::<(), ParseError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Resources, ParseError> {
        let trimmed = text.trim();
        let parsed = if trimmed.starts_with('[') {
            parse_json(trimmed)?
        } else {
            trimmed
                .split(';')
                .map(str::trim)
                .filter(|token| !token.is_empty())
                .map(parse_token)
                .collect::<Result<Vec<_>, _>>()?
        };
        check_types(&parsed)?;
        Ok(parsed.into_iter().collect())
    }
}

impl FromStr for Resources {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Resources::parse(text)
    }
}

fn parse_token(token: &str) -> Result<Resource, ParseError> {
    let syntax = || ParseError::Syntax {
        token: token.to_owned(),
    };
    let (head, value) = token.split_once(':').ok_or_else(syntax)?;
    if value.contains(':') {
        return Err(syntax());
    }
    let (name, role) = match head.split_once('(') {
        Some((name, rest)) => {
            let role = rest.trim_end().strip_suffix(')').ok_or_else(syntax)?;
            (name.trim(), Some(role.trim()))
        }
        None if head.contains(')') => return Err(syntax()),
        None => (head.trim(), None),
    };
    if name.is_empty() {
        return Err(ParseError::EmptyName {
            token: token.to_owned(),
        });
    }
    let mut resource = parse_value(name, value).map_err(|reason| ParseError::InvalidValue {
        token: token.to_owned(),
        reason,
    })?;
    if let Some(role) = role {
        if let Some(reason) = role_error(role) {
            return Err(ParseError::InvalidRole {
                token: token.to_owned(),
                reason,
            });
        }
        if role != "*" {
            resource.reservations.push(static_reservation(role));
        }
    }
    checked(resource, token)
}

/// `resource` if it is [valid](super::validate), else an error naming `token`.
fn checked(resource: Resource, token: &str) -> Result<Resource, ParseError> {
    match super::validate(&resource) {
        Ok(()) => Ok(resource),
        Err(error) => Err(ParseError::InvalidValue {
            token: token.to_owned(),
            reason: error.reason().to_owned(),
        }),
    }
}

/// Parses a value with all whitespace removed, as Mesos does.
fn parse_value(name: &str, value: &str) -> Result<Resource, String> {
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    if let Some(inner) = compact.strip_prefix('[') {
        let inner = inner.strip_suffix(']').ok_or("ranges must end with `]`")?;
        let intervals = parse_intervals(inner)?;
        Ok(ranges(name, &intervals))
    } else if let Some(inner) = compact.strip_prefix('{') {
        let inner = inner.strip_suffix('}').ok_or("a set must end with `}`")?;
        let items: Vec<&str> = if inner.is_empty() {
            Vec::new()
        } else {
            inner.split(',').collect()
        };
        if items.iter().any(|item| item.is_empty()) {
            return Err("a set item is empty".to_owned());
        }
        Ok(set(name, items))
    } else if compact.is_empty() {
        Err("the value is empty".to_owned())
    } else {
        let number: f64 = compact
            .parse()
            .map_err(|_| format!("`{compact}` is not a number, [ranges] or {{set}}"))?;
        Ok(scalar(name, number))
    }
}

fn parse_intervals(inner: &str) -> Result<Vec<(u64, u64)>, String> {
    if inner.is_empty() {
        return Ok(Vec::new());
    }
    inner
        .split(',')
        .map(|interval| {
            let bound = |text: &str| {
                text.parse::<u64>()
                    .map_err(|_| format!("`{interval}` is not `begin-end` or a number"))
            };
            match interval.split_once('-') {
                Some((begin, end)) => Ok((bound(begin)?, bound(end)?)),
                None => bound(interval).map(|single| (single, single)),
            }
        })
        .collect()
}

fn parse_json(text: &str) -> Result<Vec<Resource>, ParseError> {
    let json_error = |reason: String| ParseError::Json { reason };
    let items: Vec<serde_json::Value> =
        serde_json::from_str(text).map_err(|error| json_error(error.to_string()))?;
    items
        .iter()
        .map(|item| {
            let bytes = serde_json::to_vec(item).map_err(|error| json_error(error.to_string()))?;
            let resource = crate::MediaType::Json
                .decode::<Resource>(&bytes)
                .map_err(|error| json_error(error.to_string()))?;
            checked(resource, &item.to_string())
        })
        .collect()
}

fn type_name(resource: &Resource) -> &'static str {
    ValueType::try_from(resource.r#type).map_or("UNKNOWN", |kind| kind.as_str_name())
}

fn check_types(resources: &[Resource]) -> Result<(), ParseError> {
    for (index, resource) in resources.iter().enumerate() {
        if let Some(other) = resources[..index]
            .iter()
            .find(|other| other.name == resource.name && other.r#type != resource.r#type)
        {
            return Err(ParseError::ConflictingTypes {
                name: resource.name.clone(),
                first: type_name(other),
                second: type_name(resource),
            });
        }
    }
    Ok(())
}
