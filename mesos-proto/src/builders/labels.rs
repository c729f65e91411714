//! Key/value labels.

use crate::v1::{Label, Labels};

/// `Labels` from key/value pairs, in order.
///
/// ```
/// use mesos_proto::builders::labels;
/// let labels = labels([("team", "web"), ("tier", "front")]);
/// assert_eq!(labels.labels[1].key, "tier");
/// assert_eq!(labels.labels[1].value.as_deref(), Some("front"));
/// ```
pub fn labels<I, K, V>(pairs: I) -> Labels
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<String>,
{
    Labels {
        labels: pairs.into_iter().map(|(k, v)| label(k, v)).collect(),
    }
}

/// One `Label`.
pub(super) fn label(key: impl Into<String>, value: impl Into<String>) -> Label {
    Label {
        key: key.into(),
        value: Some(value.into()),
    }
}
