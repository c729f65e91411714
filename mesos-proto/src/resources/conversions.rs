//! Conversions between [`Resources`] and lists of [`Resource`]s.

use crate::v1::Resource;

use super::Resources;

impl From<Vec<Resource>> for Resources {
    /// Collects the resources (invalid and empty ones are skipped).
    fn from(resources: Vec<Resource>) -> Self {
        resources.into_iter().collect()
    }
}

impl crate::ShrinkToFit for Resources {
    /// Releases the spare capacity of the list and of every entry (a list
    /// collected one resource at a time has room for four).
    fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
        for resource in &mut self.0 {
            resource.shrink_to_fit();
        }
    }
}

impl From<Resource> for Resources {
    fn from(resource: Resource) -> Self {
        Resources::new().with(resource)
    }
}

impl From<Resources> for Vec<Resource> {
    fn from(resources: Resources) -> Self {
        resources.0
    }
}

impl FromIterator<Resource> for Resources {
    fn from_iter<I: IntoIterator<Item = Resource>>(iter: I) -> Self {
        let mut result = Resources::new();
        result.extend(iter);
        result
    }
}

impl Extend<Resource> for Resources {
    fn extend<I: IntoIterator<Item = Resource>>(&mut self, iter: I) {
        for resource in iter {
            self.add_resource(resource);
        }
    }
}

impl IntoIterator for Resources {
    type Item = Resource;
    type IntoIter = std::vec::IntoIter<Resource>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Resources {
    type Item = &'a Resource;
    type IntoIter = std::slice::Iter<'a, Resource>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}
