//! Reading constraints from Marathon's forms: `["hostname", "UNIQUE"]`,
//! `[["rack", "GROUP_BY", "3"], ...]` in JSON, or `rack:GROUP_BY:3`.

use std::str::FromStr;

use super::constraint::{Constraint, Field, Operator, Pattern};

/// The most constraints one JSON document may hold.
pub const MAX_CONSTRAINTS: usize = 64;

/// The largest JSON document [`Constraint::parse_json`] reads, in bytes.
pub const MAX_JSON_LEN: usize = 64 * 1024;

/// Why a constraint could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConstraintError {
    /// A constraint has two or three parts: field, operator, value.
    #[error("a constraint is [field, operator] or [field, operator, value], not {parts} parts")]
    WrongArity {
        /// The number of parts given.
        parts: usize,
    },
    /// The field name is empty.
    #[error("a constraint's field is empty")]
    EmptyField,
    /// Not one of Marathon's operators.
    #[error("unknown constraint operator {0:?} (expected UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE or MAX_PER)")]
    UnknownOperator(String),
    /// The operator needs a value (`LIKE`, `UNLIKE`, `MAX_PER`).
    #[error("{operator} needs a value")]
    MissingValue {
        /// The operator.
        operator: &'static str,
    },
    /// The operator takes no value (`UNIQUE`).
    #[error("{operator} takes no value, got {value:?}")]
    UnexpectedValue {
        /// The operator.
        operator: &'static str,
        /// The value given.
        value: String,
    },
    /// `GROUP_BY` and `MAX_PER` take a whole number of at least 1.
    #[error("{operator} needs a whole number of at least 1, got {value:?}")]
    BadNumber {
        /// The operator.
        operator: &'static str,
        /// The value given.
        value: String,
    },
    /// A `LIKE`/`UNLIKE` pattern is longer than allowed.
    #[error("pattern of {len} bytes, at most {max} allowed")]
    PatternTooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A `LIKE`/`UNLIKE` pattern is not a valid regular expression.
    #[error("bad regular expression {pattern:?}: {reason}")]
    BadRegex {
        /// The pattern.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The JSON is malformed or not an array (of arrays) of strings.
    #[error("bad constraints JSON: {0}")]
    Json(String),
    /// More constraints (or bytes of JSON) than allowed.
    #[error("{count} constraints or bytes, at most {max} allowed")]
    TooMany {
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
}

impl Constraint {
    /// Builds a constraint from its parts, `[field, operator]` or
    /// `[field, operator, value]`, as in Marathon's app definitions.
    /// Operators are matched without regard to case.
    ///
    /// ```
    /// use mesos_framework::placement::{Constraint, ConstraintError};
    /// let c = Constraint::from_parts(&["rack", "GROUP_BY", "3"])?;
    /// assert_eq!(c, Constraint::attribute("rack").group_by(3));
    /// assert!(matches!(
    ///     Constraint::from_parts(&["rack", "SPREAD"]),
    ///     Err(ConstraintError::UnknownOperator(_))
    /// ));
    /// # Ok::<(), ConstraintError>(())
    /// ```
    pub fn from_parts<S: AsRef<str>>(parts: &[S]) -> Result<Constraint, ConstraintError> {
        let (field, operator, value) = match parts {
            [field, operator] => (field.as_ref(), operator.as_ref(), None),
            [field, operator, value] => (field.as_ref(), operator.as_ref(), Some(value.as_ref())),
            _ => return Err(ConstraintError::WrongArity { parts: parts.len() }),
        };
        if field.is_empty() {
            return Err(ConstraintError::EmptyField);
        }
        let name = operator.to_ascii_uppercase();
        let operator = match (name.as_str(), value) {
            ("UNIQUE", None) => Operator::Unique,
            ("UNIQUE", Some(value)) => {
                return Err(ConstraintError::UnexpectedValue {
                    operator: "UNIQUE",
                    value: value.to_owned(),
                })
            }
            ("CLUSTER", value) => {
                Operator::Cluster(value.filter(|v| !v.is_empty()).map(str::to_owned))
            }
            ("GROUP_BY", None) => Operator::GroupBy(None),
            ("GROUP_BY", Some(value)) => Operator::GroupBy(Some(number("GROUP_BY", value)?)),
            ("MAX_PER", Some(value)) => Operator::MaxPer(number("MAX_PER", value)?),
            ("LIKE", Some(value)) => Operator::Like(Pattern::new(value)?),
            ("UNLIKE", Some(value)) => Operator::Unlike(Pattern::new(value)?),
            ("MAX_PER", None) => {
                return Err(ConstraintError::MissingValue {
                    operator: "MAX_PER",
                })
            }
            ("LIKE", None) => return Err(ConstraintError::MissingValue { operator: "LIKE" }),
            ("UNLIKE", None) => return Err(ConstraintError::MissingValue { operator: "UNLIKE" }),
            _ => return Err(ConstraintError::UnknownOperator(operator.to_owned())),
        };
        Ok(Constraint {
            field: Field::named(field),
            operator,
        })
    }

    /// Reads Marathon's JSON: one constraint (`["hostname","UNIQUE"]`) or
    /// an array of them (`[["hostname","UNIQUE"],["zone","LIKE","us-.*"]]`),
    /// at most [`MAX_CONSTRAINTS`] in [`MAX_JSON_LEN`] bytes.
    ///
    /// ```
    /// use mesos_framework::placement::Constraint;
    /// let all = Constraint::parse_json(r#"[["hostname","UNIQUE"],["rack","MAX_PER","2"]]"#)?;
    /// assert_eq!(all.len(), 2);
    /// assert_eq!(all[1].to_string(), "rack:MAX_PER:2");
    /// # Ok::<(), mesos_framework::placement::ConstraintError>(())
    /// ```
    pub fn parse_json(json: &str) -> Result<Vec<Constraint>, ConstraintError> {
        if json.len() > MAX_JSON_LEN {
            return Err(ConstraintError::TooMany {
                count: json.len(),
                max: MAX_JSON_LEN,
            });
        }
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| ConstraintError::Json(e.to_string()))?;
        let serde_json::Value::Array(items) = value else {
            return Err(ConstraintError::Json("expected an array".into()));
        };
        if items.iter().all(serde_json::Value::is_string) && !items.is_empty() {
            return Ok(vec![Constraint::from_parts(&strings(&items)?)?]);
        }
        if items.len() > MAX_CONSTRAINTS {
            return Err(ConstraintError::TooMany {
                count: items.len(),
                max: MAX_CONSTRAINTS,
            });
        }
        items
            .iter()
            .map(|item| match item {
                serde_json::Value::Array(parts) => Constraint::from_parts(&strings(parts)?),
                _ => Err(ConstraintError::Json(
                    "expected an array of [field, operator, value?] arrays".into(),
                )),
            })
            .collect()
    }
}

fn strings(items: &[serde_json::Value]) -> Result<Vec<&str>, ConstraintError> {
    if items.len() > 3 {
        return Err(ConstraintError::WrongArity { parts: items.len() });
    }
    items
        .iter()
        .map(|item| {
            item.as_str()
                .ok_or_else(|| ConstraintError::Json(format!("expected a string, got {item}")))
        })
        .collect()
}

fn number(operator: &'static str, value: &str) -> Result<u32, ConstraintError> {
    match value.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(ConstraintError::BadNumber {
            operator,
            value: value.to_owned(),
        }),
    }
}

impl FromStr for Constraint {
    type Err = ConstraintError;

    /// Reads `field:OPERATOR` or `field:OPERATOR:value` (the value may
    /// itself contain `:`).
    fn from_str(text: &str) -> Result<Constraint, ConstraintError> {
        let parts: Vec<&str> = text.splitn(3, ':').collect();
        Constraint::from_parts(&parts)
    }
}
