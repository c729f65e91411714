//! Amounts by name, and views by role.

use crate::v1::value::Type as ValueType;

use super::{identity, ranges, scalar, static_reservation, Resources};

impl Resources {
    /// The total of the scalar resource `name` across all roles and
    /// reservations, or `None` if there is none.
    pub fn scalar(&self, name: &str) -> Option<f64> {
        self.iter()
            .filter(|r| r.name == name && r.r#type == ValueType::Scalar as i32)
            .filter_map(|r| r.scalar.map(|value| value.value))
            .reduce(scalar::add)
    }

    /// Total `cpus`, if any.
    pub fn cpus(&self) -> Option<f64> {
        self.scalar("cpus")
    }

    /// Total `mem` in MB, if any.
    pub fn mem(&self) -> Option<f64> {
        self.scalar("mem")
    }

    /// Total `disk` in MB, if any.
    pub fn disk(&self) -> Option<f64> {
        self.scalar("disk")
    }

    /// Total `gpus`, if any.
    pub fn gpus(&self) -> Option<f64> {
        self.scalar("gpus")
    }

    /// The union of the ranges resource `name` across all roles, as sorted,
    /// coalesced inclusive `(begin, end)` intervals (empty if there is none).
    pub fn ranges(&self, name: &str) -> Vec<(u64, u64)> {
        let all = self
            .iter()
            .filter(|r| r.name == name && r.r#type == ValueType::Ranges as i32)
            .filter_map(|r| r.ranges.as_ref())
            .fold(Vec::new(), |acc, value| ranges::union(&acc, &value.range));
        ranges::to_pairs(&all)
    }

    /// The `ports` across all roles (see [`ranges`](Resources::ranges)).
    pub fn ports(&self) -> Vec<(u64, u64)> {
        self.ranges("ports")
    }

    /// The items of the set resource `name` across all roles.
    pub fn set(&self, name: &str) -> Vec<String> {
        let mut items: Vec<String> = Vec::new();
        for value in self
            .iter()
            .filter(|r| r.name == name && r.r#type == ValueType::Set as i32)
            .filter_map(|r| r.set.as_ref())
        {
            super::set::union(&mut items, &value.item);
        }
        items
    }

    /// The names of the resources, each once, in order of first appearance.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for resource in self {
            if !names.contains(&resource.name.as_str()) {
                names.push(&resource.name);
            }
        }
        names
    }

    /// The unreserved resources (see [`is_unreserved`](super::is_unreserved)).
    pub fn unreserved(&self) -> Resources {
        self.filter(identity::is_unreserved)
    }

    /// The resources reserved for exactly `role` (the last reservation of
    /// the stack, or the legacy `role` field).
    pub fn reserved(&self, role: &str) -> Resources {
        self.filter(|r| identity::reservation_role(r) == Some(role))
    }

    /// The resources reserved for any role.
    pub fn all_reserved(&self) -> Resources {
        self.filter(|r| !identity::is_unreserved(r))
    }

    /// What a framework in `role` may use: the unreserved resources and those
    /// reserved for `role` or for one of its ancestors (`a` for `a/b`).
    pub fn allocatable_to(&self, role: &str) -> Resources {
        self.filter(|r| {
            identity::reservation_role(r)
                .is_none_or(|reserved_for| identity::role_covers(reserved_for, role))
        })
    }

    /// The amounts only: every reservation, legacy role and allocation is
    /// dropped and entries of the same kind are merged. Compare offers and
    /// needs with `offer.flatten().contains(&need.flatten())`.
    pub fn flatten(&self) -> Resources {
        self.iter()
            .cloned()
            .map(identity::strip_placement)
            .collect()
    }

    /// The amounts as if all statically reserved for `role` (`"*"` means
    /// unreserved, as [`flatten`](Resources::flatten)). An invalid role name
    /// gives an empty result (see
    /// [`push_reservation`](Resources::push_reservation)).
    pub fn flatten_to(&self, role: &str) -> Resources {
        if role == "*" {
            self.flatten()
        } else {
            self.flatten().push_reservation(static_reservation(role))
        }
    }
}
