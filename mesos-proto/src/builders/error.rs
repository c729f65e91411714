//! The error every builder returns.

/// A message could not be built: a required field is missing, a value is
/// invalid, or fields contradict each other.
///
/// `message` is the protobuf message being built (`"TaskInfo"`), `field`
/// the field at fault (`"name"`), so the text reads like
/// `TaskInfo.name is required`.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// A required field is unset or empty.
    #[error("{message}.{field} is required")]
    Missing {
        /// The message being built, e.g. `"TaskInfo"`.
        message: &'static str,
        /// The missing field, e.g. `"agent_id"`.
        field: &'static str,
    },
    /// A field is set to a value Mesos would reject.
    #[error("{message}.{field} is invalid: {reason}")]
    Invalid {
        /// The message being built.
        message: &'static str,
        /// The invalid field.
        field: &'static str,
        /// Why, in lowercase words.
        reason: String,
    },
    /// Exactly one of two fields must be set, and zero or two are.
    #[error(
        "{message} needs exactly one of `{first}` and `{second}` (Mesos requires one and rejects both); {}",
        how_many(.both)
    )]
    ExactlyOne {
        /// The message being built.
        message: &'static str,
        /// One of the two fields.
        first: &'static str,
        /// The other field.
        second: &'static str,
        /// `true` if both are set, `false` if neither is.
        both: bool,
    },
}

fn how_many(both: &bool) -> &'static str {
    if *both {
        "both are set"
    } else {
        "neither is set"
    }
}

impl BuildError {
    /// The protobuf message being built, e.g. `"TaskInfo"`.
    pub fn message(&self) -> &'static str {
        match self {
            BuildError::Missing { message, .. }
            | BuildError::Invalid { message, .. }
            | BuildError::ExactlyOne { message, .. } => message,
        }
    }

    /// The field at fault (for [`BuildError::ExactlyOne`], the first of the
    /// two).
    pub fn field(&self) -> &'static str {
        match self {
            BuildError::Missing { field, .. } | BuildError::Invalid { field, .. } => field,
            BuildError::ExactlyOne { first, .. } => first,
        }
    }

    pub(super) fn missing(message: &'static str, field: &'static str) -> Self {
        BuildError::Missing { message, field }
    }

    pub(super) fn invalid(
        message: &'static str,
        field: &'static str,
        reason: impl Into<String>,
    ) -> Self {
        BuildError::Invalid {
            message,
            field,
            reason: reason.into(),
        }
    }
}
