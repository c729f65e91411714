//! Validation of single resources and of role names, after Mesos's rules.

use crate::v1::value::Type as ValueType;
use crate::v1::Resource;

use super::{ranges, set};

/// A [`Resource`] Mesos would reject: see [`validate`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid resource `{name}`: {reason}")]
pub struct InvalidResource {
    name: String,
    reason: String,
}

impl InvalidResource {
    fn new(resource: &Resource, reason: impl Into<String>) -> Self {
        InvalidResource {
            name: resource.name.clone(),
            reason: reason.into(),
        }
    }

    /// The resource's name (may be empty: that is one of the errors).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What is wrong with it, in lowercase words.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// Checks one resource the way the Mesos master does before accepting it.
///
/// - the name is not empty;
/// - the type is SCALAR, RANGES or SET (TEXT resources do not exist), and
///   exactly the matching value field is set;
/// - a scalar is finite and not negative (zero is valid: it is an empty
///   resource);
/// - every range has `begin <= end` and no two ranges overlap;
/// - no set item appears twice;
/// - every role named by the resource is a valid role name.
///
/// ```
/// use mesos_proto::resources::{scalar, validate};
/// assert!(validate(&scalar("cpus", 1.5)).is_ok());
/// let error = validate(&scalar("cpus", -1.0)).unwrap_err();
/// assert_eq!(error.to_string(), "invalid resource `cpus`: scalar -1 is negative");
/// ```
pub fn validate(resource: &Resource) -> Result<(), InvalidResource> {
    if resource.name.is_empty() {
        return Err(InvalidResource::new(resource, "the name is empty"));
    }
    validate_value(resource)?;
    validate_roles(resource)
}

fn validate_value(resource: &Resource) -> Result<(), InvalidResource> {
    let fields = (
        resource.scalar.is_some(),
        resource.ranges.is_some(),
        resource.set.is_some(),
    );
    match ValueType::try_from(resource.r#type) {
        Ok(ValueType::Scalar) => {
            if fields != (true, false, false) {
                return Err(InvalidResource::new(
                    resource,
                    "a SCALAR resource must set `scalar` and only `scalar`",
                ));
            }
            let value = resource.scalar.map_or(0.0, |scalar| scalar.value);
            if !value.is_finite() {
                return Err(InvalidResource::new(
                    resource,
                    format!("scalar {value} is not finite"),
                ));
            }
            if value < 0.0 {
                return Err(InvalidResource::new(
                    resource,
                    format!("scalar {value} is negative"),
                ));
            }
        }
        Ok(ValueType::Ranges) => {
            if fields != (false, true, false) {
                return Err(InvalidResource::new(
                    resource,
                    "a RANGES resource must set `ranges` and only `ranges`",
                ));
            }
            let list = resource
                .ranges
                .as_ref()
                .map_or(&[][..], |value| &value.range[..]);
            if let Some(range) = list.iter().find(|range| range.begin > range.end) {
                return Err(InvalidResource::new(
                    resource,
                    format!(
                        "range [{}-{}] ends before it begins",
                        range.begin, range.end
                    ),
                ));
            }
            if ranges::overlap(list) {
                return Err(InvalidResource::new(resource, "ranges overlap"));
            }
        }
        Ok(ValueType::Set) => {
            if fields != (false, false, true) {
                return Err(InvalidResource::new(
                    resource,
                    "a SET resource must set `set` and only `set`",
                ));
            }
            let items = resource
                .set
                .as_ref()
                .map_or(&[][..], |value| &value.item[..]);
            if set::has_duplicates(items) {
                return Err(InvalidResource::new(resource, "a set item appears twice"));
            }
        }
        Ok(ValueType::Text) => {
            return Err(InvalidResource::new(
                resource,
                "TEXT is not a resource type",
            ))
        }
        Err(_) => {
            return Err(InvalidResource::new(
                resource,
                format!("unknown value type {}", resource.r#type),
            ))
        }
    }
    Ok(())
}

#[allow(deprecated)]
fn validate_roles(resource: &Resource) -> Result<(), InvalidResource> {
    let legacy = resource.role.as_deref().into_iter();
    let stacked = resource
        .reservations
        .iter()
        .filter_map(|reservation| reservation.role.as_deref());
    for role in legacy.chain(stacked) {
        if let Some(reason) = role_error(role) {
            return Err(InvalidResource::new(
                resource,
                format!("role `{role}` {reason}"),
            ));
        }
    }
    Ok(())
}

/// Why `role` is not a valid Mesos role name, or `None` if it is.
///
/// `*` (the default role) is valid. Otherwise a role is a `/`-separated path
/// of non-empty components; no component is `.`, `..` or `*`, starts with `-`,
/// or contains whitespace or DEL.
pub(crate) fn role_error(role: &str) -> Option<&'static str> {
    if role == "*" {
        return None;
    }
    if role.is_empty() {
        return Some("is empty");
    }
    for component in role.split('/') {
        let problem = match component {
            "" => Some("has an empty path component"),
            "." | ".." => Some("has `.` or `..` as a path component"),
            "*" => Some("has `*` as a path component"),
            _ if component.starts_with('-') => Some("has a component starting with `-`"),
            _ if component
                .chars()
                .any(|c| c.is_whitespace() || c == '\u{7f}') =>
            {
                Some("contains whitespace or DEL")
            }
            _ => None,
        };
        if problem.is_some() {
            return problem;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::role_error;

    #[test]
    fn role_names() {
        for valid in ["*", "web", "a/b", "dev-ops", "a.b"] {
            assert_eq!(role_error(valid), None, "{valid}");
        }
        for invalid in [
            "", "/a", "a/", "a//b", ".", "a/..", "a/*", "-a", "a b", "a\u{7f}",
        ] {
            assert!(role_error(invalid).is_some(), "{invalid:?}");
        }
    }
}
