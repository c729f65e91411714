//! Constructors for single [`Resource`]s and [`ReservationInfo`]s.

use crate::v1::resource::reservation_info::Type as ReservationType;
use crate::v1::resource::ReservationInfo;
use crate::v1::value::{Ranges, Scalar, Set, Type as ValueType};
use crate::v1::Resource;

use super::ranges::from_pairs;

/// An unreserved SCALAR resource, e.g. `scalar("cpus", 1.5)`.
///
/// The value is stored as given; [`Resources`](super::Resources) rounds it to
/// Mesos's three decimals and [`validate`](super::validate) rejects negative
/// or non-finite values.
pub fn scalar(name: impl Into<String>, value: f64) -> Resource {
    Resource {
        name: name.into(),
        r#type: ValueType::Scalar as i32,
        scalar: Some(Scalar { value }),
        ..Resource::default()
    }
}

/// An unreserved RANGES resource of inclusive `(begin, end)` intervals, e.g.
/// `ranges("ports", &[(31000, 31009)])`. The intervals are stored as given.
pub fn ranges(name: impl Into<String>, intervals: &[(u64, u64)]) -> Resource {
    Resource {
        name: name.into(),
        r#type: ValueType::Ranges as i32,
        ranges: Some(Ranges {
            range: from_pairs(intervals),
        }),
        ..Resource::default()
    }
}

/// An unreserved SET resource, e.g. `set("gpus_ids", ["gpu0", "gpu1"])`.
pub fn set<I, S>(name: impl Into<String>, items: I) -> Resource
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    Resource {
        name: name.into(),
        r#type: ValueType::Set as i32,
        set: Some(Set {
            item: items.into_iter().map(Into::into).collect(),
        }),
        ..Resource::default()
    }
}

/// A STATIC reservation for `role`, as an agent's `--resources` flag makes.
pub fn static_reservation(role: impl Into<String>) -> ReservationInfo {
    ReservationInfo {
        r#type: Some(ReservationType::Static as i32),
        role: Some(role.into()),
        principal: None,
        labels: None,
    }
}

/// A DYNAMIC reservation for `role`, as a framework makes with a RESERVE
/// operation; `principal` is the framework's principal, if it has one.
pub fn dynamic_reservation(role: impl Into<String>, principal: Option<&str>) -> ReservationInfo {
    ReservationInfo {
        r#type: Some(ReservationType::Dynamic as i32),
        role: Some(role.into()),
        principal: principal.map(str::to_owned),
        labels: None,
    }
}
