//! `+`, `-`, containment and checked subtraction.

use std::ops::{Add, AddAssign, Sub, SubAssign};

use crate::v1::Resource;

use super::{amount, Resources};

impl Resources {
    /// Whether every resource of `other` is available here, kind by kind
    /// (`other`'s reserved cpus are not covered by unreserved cpus here: use
    /// [`flatten`](Resources::flatten) on both sides to compare amounts only).
    pub fn contains(&self, other: &Resources) -> bool {
        let mut remaining = self.clone();
        for resource in other {
            if !remaining.covers(resource) {
                return false;
            }
            remaining.subtract_resource(resource);
        }
        true
    }

    /// `self - other` if `self` [contains](Resources::contains) `other`, else
    /// `None` (where `-` would silently drop what is missing).
    pub fn checked_sub(&self, other: &Resources) -> Option<Resources> {
        if self.contains(other) {
            Some(self.clone() - other)
        } else {
            None
        }
    }

    /// Whether this contains the single resource `resource`.
    pub fn contains_resource(&self, resource: &Resource) -> bool {
        let mut normalized = resource.clone();
        if super::validate(&normalized).is_err() {
            return false;
        }
        amount::normalize(&mut normalized);
        amount::is_empty(&normalized) || self.covers(&normalized)
    }
}

impl AddAssign<&Resources> for Resources {
    fn add_assign(&mut self, other: &Resources) {
        for resource in other {
            self.add_resource_ref(resource);
        }
    }
}

impl AddAssign<Resources> for Resources {
    fn add_assign(&mut self, other: Resources) {
        self.extend(other);
    }
}

impl AddAssign<Resource> for Resources {
    fn add_assign(&mut self, other: Resource) {
        self.add_resource(other);
    }
}

impl SubAssign<&Resources> for Resources {
    fn sub_assign(&mut self, other: &Resources) {
        for resource in other {
            self.subtract_resource(resource);
        }
    }
}

impl SubAssign<Resources> for Resources {
    fn sub_assign(&mut self, other: Resources) {
        *self -= &other;
    }
}

impl SubAssign<&Resource> for Resources {
    fn sub_assign(&mut self, other: &Resource) {
        self.subtract_resource(other);
    }
}

impl Add<&Resources> for Resources {
    type Output = Resources;

    fn add(mut self, other: &Resources) -> Resources {
        self += other;
        self
    }
}

impl Add for Resources {
    type Output = Resources;

    fn add(mut self, other: Resources) -> Resources {
        self += other;
        self
    }
}

impl Add<&Resources> for &Resources {
    type Output = Resources;

    fn add(self, other: &Resources) -> Resources {
        self.clone() + other
    }
}

impl Add<Resource> for Resources {
    type Output = Resources;

    fn add(mut self, other: Resource) -> Resources {
        self += other;
        self
    }
}

impl Sub<&Resources> for Resources {
    type Output = Resources;

    fn sub(mut self, other: &Resources) -> Resources {
        self -= other;
        self
    }
}

impl Sub for Resources {
    type Output = Resources;

    fn sub(mut self, other: Resources) -> Resources {
        self -= &other;
        self
    }
}

impl Sub<&Resources> for &Resources {
    type Output = Resources;

    fn sub(self, other: &Resources) -> Resources {
        self.clone() - other
    }
}

impl Sub<&Resource> for Resources {
    type Output = Resources;

    fn sub(mut self, other: &Resource) -> Resources {
        self -= other;
        self
    }
}
