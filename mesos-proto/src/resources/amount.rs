//! Arithmetic on the amount (scalar, ranges or set) of single resources of
//! the same kind.

use crate::v1::value::{Ranges, Scalar, Set, Type as ValueType};
use crate::v1::Resource;

use super::{ranges, scalar, set};

/// Puts the amount of a valid resource in canonical form: scalars rounded to
/// Mesos's precision, ranges sorted and coalesced, set items deduplicated.
pub(super) fn normalize(resource: &mut Resource) {
    if let Some(value) = &mut resource.scalar {
        value.value = scalar::round_scalar(value.value);
    }
    if let Some(value) = &mut resource.ranges {
        ranges::normalize(&mut value.range);
    }
    if let Some(value) = &mut resource.set {
        set::normalize(&mut value.item);
    }
}

/// Whether the amount is nothing (a zero scalar, no ranges, an empty set).
pub(super) fn is_empty(resource: &Resource) -> bool {
    match ValueType::try_from(resource.r#type) {
        Ok(ValueType::Scalar) => resource
            .scalar
            .is_none_or(|value| scalar::is_zero(value.value)),
        Ok(ValueType::Ranges) => resource
            .ranges
            .as_ref()
            .is_none_or(|value| value.range.is_empty()),
        Ok(ValueType::Set) => resource
            .set
            .as_ref()
            .is_none_or(|value| value.item.is_empty()),
        _ => true,
    }
}

fn scalar_of(resource: &Resource) -> f64 {
    resource.scalar.map_or(0.0, |value| value.value)
}

fn ranges_of(resource: &Resource) -> &[crate::v1::value::Range] {
    resource
        .ranges
        .as_ref()
        .map_or(&[][..], |value| &value.range[..])
}

fn items_of(resource: &Resource) -> &[String] {
    resource
        .set
        .as_ref()
        .map_or(&[][..], |value| &value.item[..])
}

/// `left += right` (same kind, both normalized).
pub(super) fn add(left: &mut Resource, right: &Resource) {
    match ValueType::try_from(left.r#type) {
        Ok(ValueType::Scalar) => {
            let sum = scalar::add(scalar_of(left), scalar_of(right));
            left.scalar = Some(Scalar { value: sum });
        }
        Ok(ValueType::Ranges) => {
            let range = ranges::union(ranges_of(left), ranges_of(right));
            left.ranges = Some(Ranges { range });
        }
        Ok(ValueType::Set) => {
            let mut item = items_of(left).to_vec();
            set::union(&mut item, items_of(right));
            left.set = Some(Set { item });
        }
        _ => {}
    }
}

/// `left -= right` (same kind, both normalized), saturating at nothing.
pub(super) fn subtract(left: &mut Resource, right: &Resource) {
    match ValueType::try_from(left.r#type) {
        Ok(ValueType::Scalar) => {
            let rest = scalar::subtract(scalar_of(left), scalar_of(right));
            left.scalar = Some(Scalar { value: rest });
        }
        Ok(ValueType::Ranges) => {
            let range = ranges::difference(ranges_of(left), ranges_of(right));
            left.ranges = Some(Ranges { range });
        }
        Ok(ValueType::Set) => {
            let mut item = items_of(left).to_vec();
            set::difference(&mut item, items_of(right));
            left.set = Some(Set { item });
        }
        _ => {}
    }
}

/// Whether the amount of `outer` covers the amount of `inner`.
pub(super) fn contains(outer: &Resource, inner: &Resource) -> bool {
    match ValueType::try_from(outer.r#type) {
        Ok(ValueType::Scalar) => scalar::fits(scalar_of(inner), scalar_of(outer)),
        Ok(ValueType::Ranges) => ranges::is_subset(ranges_of(inner), ranges_of(outer)),
        Ok(ValueType::Set) => set::is_subset(items_of(inner), items_of(outer)),
        _ => false,
    }
}

/// Whether the amounts are equal.
pub(super) fn equal(a: &Resource, b: &Resource) -> bool {
    contains(a, b) && contains(b, a)
}

/// `outer` cut down to the part of its amount also in `wanted`: the smaller
/// scalar, the common ranges or the common set items.
pub(super) fn overlap(outer: &Resource, wanted: &Resource) -> Resource {
    let mut piece = outer.clone();
    match ValueType::try_from(outer.r#type) {
        Ok(ValueType::Scalar) => {
            let value = if scalar::fits(scalar_of(wanted), scalar_of(outer)) {
                scalar_of(wanted)
            } else {
                scalar_of(outer)
            };
            piece.scalar = Some(Scalar { value });
        }
        Ok(ValueType::Ranges) => {
            let range = ranges::intersection(ranges_of(outer), ranges_of(wanted));
            piece.ranges = Some(Ranges { range });
        }
        Ok(ValueType::Set) => {
            let item = set::intersection(items_of(outer), items_of(wanted));
            piece.set = Some(Set { item });
        }
        _ => {}
    }
    piece
}
