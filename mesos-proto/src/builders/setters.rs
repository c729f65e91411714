//! Setters that more than one builder has, written once.

/// The resource setters of [`TaskInfoBuilder`](super::TaskInfoBuilder) and
/// [`ExecutorInfoBuilder`](super::ExecutorInfoBuilder) (`resources`,
/// `resource`, `scalar`, `cpus`, `mem`, `disk`), for a builder with a
/// `resources: Vec<Resource>` field.
///
/// The builder gives the doc comments of `resources` and `scalar`, and
/// `named_scalar_note`: text the docs of `cpus`, `mem` and `disk` end with
/// (before the full stop), e.g. a link to its `scalar`.
macro_rules! resource_setters {
    (
        $(#[$resources_doc:meta])*
        resources;
        $(#[$scalar_doc:meta])*
        scalar;
        named_scalar_note: $note:literal;
    ) => {
        $(#[$resources_doc])*
        pub fn resources(
            mut self,
            resources: impl IntoIterator<Item = $crate::v1::Resource>,
        ) -> Self {
            self.resources.extend(resources);
            self
        }

        /// Appends one resource.
        pub fn resource(mut self, resource: $crate::v1::Resource) -> Self {
            self.resources.push(resource);
            self
        }

        $(#[$scalar_doc])*
        pub fn scalar(mut self, name: impl Into<String>, value: f64) -> Self {
            $crate::builders::checks::set_resource(
                &mut self.resources,
                $crate::resources::scalar(name, value),
            );
            self
        }

        #[doc = concat!("Sets `cpus`", $note, ".")]
        pub fn cpus(self, cpus: f64) -> Self {
            self.scalar("cpus", cpus)
        }

        #[doc = concat!("Sets `mem` in MB", $note, ".")]
        pub fn mem(self, megabytes: f64) -> Self {
            self.scalar("mem", megabytes)
        }

        #[doc = concat!("Sets `disk` in MB", $note, ".")]
        pub fn disk(self, megabytes: f64) -> Self {
            self.scalar("disk", megabytes)
        }
    };
}
