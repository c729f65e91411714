//! Mesos resource arithmetic: scalars, ranges and sets, with roles and
//! reservations.
//!
//! [`Resources`] is a list of [`v1::Resource`](crate::v1::Resource)s that
//! adds, subtracts and compares the way the Mesos master does:
//!
//! - **Kinds.** Resources combine only with resources of the same kind: same
//!   name and type, same reservations (or legacy `role`), allocation, disk,
//!   shared, revocable and provider. Unreserved cpus and cpus reserved for
//!   `web` are two entries, never one.
//! - **Scalars** use Mesos's fixed-point arithmetic with three decimals
//!   (`0.1 + 0.2 == 0.3`; `1.0 - 0.9999` leaves nothing).
//! - **Ranges** are merged and coalesced (`[1-5] + [6-9] == [1-9]`) and
//!   subtracted interval by interval.
//! - **Sets** take the union and the difference of their items.
//! - **Empty amounts vanish**: a zero scalar or empty ranges/set is dropped,
//!   and subtracting more than there is leaves nothing (never a negative).
//! - **Whole-only resources** (shared resources, persistent volumes, MOUNT and
//!   BLOCK disks) are never merged or split.
//! - **Roles.** A resource is unreserved when it has no reservation stack and
//!   its legacy `role` is `"*"`, empty or absent, as in the offers a Mesos
//!   1.11 master sends; `role: "r"` without a stack is statically reserved for
//!   `r`. Both wire formats compare equal to each other.
//!
//! Entries keep the representation they came with (a `find` in an offer
//! returns the offer's own role and reservation fields), so a result can be
//! sent straight back to the master.
//!
//! ```
//! use mesos_proto::resources::Resources;
//!
//! // What the Mesos 1.11 sample agent offers.
//! let offer: Resources = "cpus:4; mem:4096; disk:10000; ports:[31000-32000]".parse()?;
//! let task = Resources::new().with_cpus(1.0).with_mem(128.0).with_ports(&[(31000, 31000)]);
//!
//! assert!(offer.contains(&task));
//! let left = offer.checked_sub(&task).expect("the task fits");
//! assert_eq!(left.cpus(), Some(3.0));
//! assert_eq!(left.mem(), Some(3968.0));
//! assert_eq!(left.ports(), vec![(31001, 32000)]);
//! assert_eq!(left.to_string(), "cpus:3; mem:3968; disk:10000; ports:[31001-32000]");
//!
//! // Fixed-point scalars.
//! let tenth = Resources::new().with_cpus(0.1);
//! assert_eq!((tenth.clone() + Resources::new().with_cpus(0.2)).cpus(), Some(0.3));
//! # Ok::<(), mesos_proto::resources::ParseError>(())
//! ```

mod amount;
mod arithmetic;
mod construct;
mod conversions;
mod display;
mod find;
mod identity;
mod parse;
mod query;
mod ranges;
mod scalar;
mod set;
mod validate;

pub use construct::{dynamic_reservation, ranges, scalar, set, static_reservation};
pub use identity::{is_unreserved, reservation_role};
pub use parse::ParseError;
pub use scalar::round_scalar;
pub use validate::{validate, InvalidResource};

pub(crate) use validate::role_error;

use crate::v1::resource::ReservationInfo;
use crate::v1::Resource;

/// A collection of Mesos resources with Mesos's arithmetic (see the [module
/// docs](self)).
///
/// Invariant: every entry is [valid](validate) and not empty, scalars are
/// rounded to three decimals, ranges are sorted and coalesced, set items are
/// unique, and no two entries of the same kind coexist (except whole-only
/// resources). Adding an invalid or empty resource does nothing, as in Mesos;
/// use [`Resources::validated`] to be told instead.
///
/// Equality (`==`) is semantic: two collections are equal when each
/// [contains](Resources::contains) the other, whatever the order of entries
/// and whichever reservation wire format they use.
#[derive(Clone, Debug, Default)]
pub struct Resources(Vec<Resource>);

impl Resources {
    /// No resources.
    pub fn new() -> Self {
        Resources(Vec::new())
    }

    /// Collects `resources`, failing on the first one that is not
    /// [valid](validate) instead of skipping it.
    pub fn validated<I>(resources: I) -> Result<Self, InvalidResource>
    where
        I: IntoIterator<Item = Resource>,
    {
        let mut result = Resources::new();
        for resource in resources {
            validate(&resource)?;
            result.add_resource(resource);
        }
        Ok(result)
    }

    /// The entries, in the order they were first added.
    pub fn iter(&self) -> std::slice::Iter<'_, Resource> {
        self.0.iter()
    }

    /// The entries as a slice.
    pub fn as_slice(&self) -> &[Resource] {
        &self.0
    }

    /// The number of entries (not of resource names: unreserved and reserved
    /// cpus are two entries).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no resources at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entries as a `Vec`, e.g. for `TaskInfo.resources`.
    pub fn into_vec(self) -> Vec<Resource> {
        self.0
    }

    /// Adds one resource (see [`add_resource`](Resources::add_resource)).
    #[must_use]
    pub fn with(mut self, resource: Resource) -> Self {
        self.add_resource(resource);
        self
    }

    /// Adds `value` of the unreserved scalar resource `name`.
    #[must_use]
    pub fn with_scalar(self, name: impl Into<String>, value: f64) -> Self {
        self.with(scalar(name, value))
    }

    /// Adds `value` unreserved `cpus`.
    #[must_use]
    pub fn with_cpus(self, value: f64) -> Self {
        self.with_scalar("cpus", value)
    }

    /// Adds `value` MB of unreserved `mem`.
    #[must_use]
    pub fn with_mem(self, value: f64) -> Self {
        self.with_scalar("mem", value)
    }

    /// Adds `value` MB of unreserved `disk`.
    #[must_use]
    pub fn with_disk(self, value: f64) -> Self {
        self.with_scalar("disk", value)
    }

    /// Adds the inclusive intervals `intervals` of unreserved `ports`.
    #[must_use]
    pub fn with_ports(self, intervals: &[(u64, u64)]) -> Self {
        self.with_ranges("ports", intervals)
    }

    /// Adds the inclusive intervals `intervals` of the unreserved ranges
    /// resource `name`.
    #[must_use]
    pub fn with_ranges(self, name: impl Into<String>, intervals: &[(u64, u64)]) -> Self {
        self.with(ranges(name, intervals))
    }

    /// Adds `items` to the unreserved set resource `name`.
    #[must_use]
    pub fn with_set<I, S>(self, name: impl Into<String>, items: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.with(set(name, items))
    }

    /// Pushes `reservation` on top of every entry's reservation stack, e.g.
    /// [`static_reservation("web")`](static_reservation) to reserve
    /// unreserved resources for `web`. Entries in the legacy format are first
    /// rewritten as a stack. A reservation with an invalid role name makes
    /// every entry invalid, so the result is then empty.
    #[must_use]
    pub fn push_reservation(self, reservation: ReservationInfo) -> Self {
        self.0
            .into_iter()
            .map(|resource| {
                let mut stacked = identity::to_reservation_stack(resource);
                stacked.reservations.push(reservation.clone());
                stacked
            })
            .collect()
    }

    /// Adds one resource: merged into the entry of the same kind if there is
    /// one, appended otherwise. An invalid or empty resource is ignored.
    pub fn add_resource(&mut self, mut resource: Resource) {
        if validate(&resource).is_err() {
            return;
        }
        amount::normalize(&mut resource);
        if amount::is_empty(&resource) {
            return;
        }
        if !identity::is_atomic(&resource) {
            if let Some(entry) = self
                .0
                .iter_mut()
                .find(|entry| identity::same_kind(entry, &resource, false))
            {
                amount::add(entry, &resource);
                return;
            }
        }
        self.0.push(resource);
    }

    /// [`add_resource`](Self::add_resource) for a borrowed resource: a
    /// scalar merging into an entry of its kind (the common case when
    /// summing tasks' resources) is added in place, without copying it.
    pub fn add_resource_ref(&mut self, resource: &Resource) {
        let is_scalar = resource.r#type == crate::v1::value::Type::Scalar as i32;
        if is_scalar && !identity::is_atomic(resource) && validate(resource).is_ok() {
            let value = scalar::round_scalar(resource.scalar.map_or(0.0, |s| s.value));
            if scalar::is_zero(value) {
                return;
            }
            if let Some(entry) = self
                .0
                .iter_mut()
                .find(|entry| identity::same_kind(entry, resource, false))
            {
                let sum = scalar::add(entry.scalar.map_or(0.0, |s| s.value), value);
                entry.scalar = Some(crate::v1::value::Scalar { value: sum });
                return;
            }
        }
        self.add_resource(resource.clone());
    }

    /// Subtracts one resource from the entry of the same kind, removing the
    /// entry if nothing is left. Subtracting what is not there does nothing;
    /// subtracting more than there is leaves nothing.
    pub fn subtract_resource(&mut self, resource: &Resource) {
        if validate(resource).is_err() {
            return;
        }
        let mut resource = resource.clone();
        amount::normalize(&mut resource);
        if amount::is_empty(&resource) {
            return;
        }
        let position = self.0.iter().position(|entry| {
            identity::same_kind(entry, &resource, false)
                && (!identity::is_atomic(entry) || amount::equal(entry, &resource))
        });
        if let Some(index) = position {
            let emptied = match self.0.get_mut(index) {
                Some(entry) => {
                    amount::subtract(entry, &resource);
                    identity::is_atomic(entry) || amount::is_empty(entry)
                }
                None => false,
            };
            if emptied {
                self.0.remove(index);
            }
        }
    }

    /// Whether one entry alone covers `resource` (normalized).
    fn covers(&self, resource: &Resource) -> bool {
        self.0.iter().any(|entry| {
            identity::same_kind(entry, resource, false)
                && if identity::is_atomic(entry) {
                    amount::equal(entry, resource)
                } else {
                    amount::contains(entry, resource)
                }
        })
    }

    /// Keeps the entries for which `keep` returns true.
    pub fn filter(&self, mut keep: impl FnMut(&Resource) -> bool) -> Resources {
        Resources(self.0.iter().filter(|r| keep(r)).cloned().collect())
    }
}

impl PartialEq for Resources {
    fn eq(&self, other: &Self) -> bool {
        self.contains(other) && other.contains(self)
    }
}
