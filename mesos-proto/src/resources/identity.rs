//! What makes two resources "the same kind" of resource, and where a
//! resource is reserved.
//!
//! Two resources combine (add, subtract, compare) only when everything but
//! their amount agrees: name, type, reservations, allocation, disk, shared,
//! revocable and provider. Reservations are compared in one canonical form so
//! that the two wire formats Mesos uses mean the same thing:
//!
//! - the current format: a stack in `reservations` (the last entry is the
//!   role the resource is reserved for);
//! - the legacy format, still sent by the master to frameworks without the
//!   `RESERVATION_REFINEMENT` capability: `role` (`"*"` or absent means
//!   unreserved) plus, for dynamic reservations, `reservation`.

use std::borrow::Cow;

use crate::v1::resource::disk_info::source::Type as SourceType;
use crate::v1::resource::reservation_info::Type as ReservationType;
use crate::v1::resource::{DiskInfo, ReservationInfo};
use crate::v1::Resource;

/// The reservation stack of `resource`, converting the legacy format.
#[allow(deprecated)]
pub(super) fn canonical_reservations(resource: &Resource) -> Cow<'_, [ReservationInfo]> {
    if !resource.reservations.is_empty() {
        return Cow::Borrowed(&resource.reservations);
    }
    match legacy_role(resource) {
        Some(role) => {
            let dynamic = resource.reservation.as_ref();
            let kind = if dynamic.is_some() {
                ReservationType::Dynamic
            } else {
                ReservationType::Static
            };
            Cow::Owned(vec![ReservationInfo {
                r#type: Some(kind as i32),
                role: Some(role.to_owned()),
                principal: dynamic.and_then(|info| info.principal.clone()),
                labels: dynamic.and_then(|info| info.labels.clone()),
            }])
        }
        None => Cow::Borrowed(&[]),
    }
}

/// The role of the legacy `role` field, unless it means "unreserved".
#[allow(deprecated)]
fn legacy_role(resource: &Resource) -> Option<&str> {
    resource
        .role
        .as_deref()
        .filter(|role| *role != "*" && !role.is_empty())
}

/// The role `resource` is reserved for, or `None` if it is unreserved.
///
/// With a reservation stack, that is the role of the last (most refined)
/// reservation; in the legacy format it is `role` unless `role` is `"*"`,
/// empty or absent.
///
/// ```
/// use mesos_proto::resources::{reservation_role, scalar, static_reservation};
/// let mut cpus = scalar("cpus", 1.0);
/// assert_eq!(reservation_role(&cpus), None);
/// cpus.reservations.push(static_reservation("web"));
/// assert_eq!(reservation_role(&cpus), Some("web"));
/// ```
pub fn reservation_role(resource: &Resource) -> Option<&str> {
    match resource.reservations.last() {
        Some(last) => Some(last.role.as_deref().unwrap_or("")),
        None => legacy_role(resource),
    }
}

/// Whether `resource` is reserved for no role.
pub fn is_unreserved(resource: &Resource) -> bool {
    reservation_role(resource).is_none()
}

/// Whether a resource reserved for `reserved_for` may be used by `role`: the
/// roles are equal, or `reserved_for` is an ancestor of `role` in the role
/// hierarchy (`a` is an ancestor of `a/b`).
pub(super) fn role_covers(reserved_for: &str, role: &str) -> bool {
    role == reserved_for
        || role
            .strip_prefix(reserved_for)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Whether `a` and `b` are the same kind of resource. With `ignore_placement`
/// the reservations and allocation are not compared (used to match amounts
/// against concrete resources).
pub(super) fn same_kind(a: &Resource, b: &Resource, ignore_placement: bool) -> bool {
    a.name == b.name
        && a.r#type == b.r#type
        && (ignore_placement
            || (a.allocation_info == b.allocation_info
                && canonical_reservations(a) == canonical_reservations(b)))
        && same_disk(a.disk.as_deref(), b.disk.as_deref())
        && a.revocable.is_some() == b.revocable.is_some()
        && a.shared.is_some() == b.shared.is_some()
        && a.provider_id == b.provider_id
}

/// Disk equality as Mesos defines it: the `volume` (how a task mounts the
/// disk) is not part of the disk's identity, nor is the persistence principal.
fn same_disk(a: Option<&DiskInfo>, b: Option<&DiskInfo>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.source == b.source
                && a.persistence.as_ref().map(|p| &p.id) == b.persistence.as_ref().map(|p| &p.id)
        }
        _ => false,
    }
}

/// Whether `resource` can only be used whole: shared resources, persistent
/// volumes, MOUNT and BLOCK disks, and RAW disks with an id. Such resources are
/// never merged with one another, and only an identical resource subtracts one.
pub(super) fn is_atomic(resource: &Resource) -> bool {
    if resource.shared.is_some() {
        return true;
    }
    let Some(disk) = &resource.disk else {
        return false;
    };
    if disk.persistence.is_some() {
        return true;
    }
    disk.source
        .as_ref()
        .is_some_and(|source| match SourceType::try_from(source.r#type) {
            Ok(SourceType::Mount | SourceType::Block) => true,
            Ok(SourceType::Raw) => source.id.is_some(),
            _ => false,
        })
}

/// Strips the reservations, legacy role and allocation from `resource`:
/// what remains is an amount of a kind of resource.
#[allow(deprecated)]
pub(super) fn strip_placement(mut resource: Resource) -> Resource {
    resource.role = None;
    resource.reservation = None;
    resource.reservations.clear();
    resource.allocation_info = None;
    resource
}

/// Rewrites `resource` in the current reservation format (stack only).
#[allow(deprecated)]
pub(super) fn to_reservation_stack(mut resource: Resource) -> Resource {
    let stack = canonical_reservations(&resource).into_owned();
    resource.role = None;
    resource.reservation = None;
    resource.reservations = stack;
    resource
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::scalar;

    #[allow(deprecated)]
    #[test]
    fn legacy_and_stacked_reservations_are_the_same() {
        let mut legacy = scalar("cpus", 1.0);
        legacy.role = Some("web".into());
        let mut stacked = scalar("cpus", 1.0);
        stacked
            .reservations
            .push(crate::resources::static_reservation("web"));
        assert!(same_kind(&legacy, &stacked, false));

        let mut star = scalar("cpus", 1.0);
        star.role = Some("*".into());
        assert!(same_kind(&star, &scalar("cpus", 1.0), false));
        assert!(!same_kind(&star, &stacked, false));
        assert!(same_kind(&star, &stacked, true));
    }

    #[test]
    fn hierarchical_roles() {
        assert!(role_covers("a", "a"));
        assert!(role_covers("a", "a/b"));
        assert!(!role_covers("a", "ab"));
        assert!(!role_covers("a/b", "a"));
    }
}
