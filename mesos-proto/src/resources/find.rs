//! Finding a task's share of an offer.

use crate::v1::Resource;

use super::{amount, identity, Resources};

/// Which offered resources to draw from, in order of preference.
enum Preference<'a> {
    /// Reserved for exactly this role, then unreserved, then anything else
    /// (Mesos's `Resources::find`).
    Mesos(Option<&'a str>),
    /// Reserved for this role or an ancestor, then unreserved; nothing else.
    Role(&'a str),
}

impl Preference<'_> {
    /// The rank of `resource` (lower is preferred), or `None` if it must not
    /// be used at all.
    fn rank(&self, resource: &Resource) -> Option<u8> {
        let reserved_for = identity::reservation_role(resource);
        match (self, reserved_for) {
            (_, None) => Some(1),
            (Preference::Mesos(Some(role)), Some(reserved)) if reserved == *role => Some(0),
            (Preference::Mesos(_), Some(_)) => Some(2),
            (Preference::Role(role), Some(reserved)) => {
                identity::role_covers(reserved, role).then_some(0)
            }
        }
    }
}

impl Resources {
    /// Finds concrete resources here that cover the amounts `wanted`, like
    /// Mesos's `Resources::find`: e.g. the offer's resources to put in a
    /// `TaskInfo` that needs `cpus:1; mem:128`.
    ///
    /// `wanted` is compared by amount only; its reservations merely say which
    /// role to prefer. For each wanted resource, offered resources of the
    /// same kind are drawn from in this order: reserved for the wanted
    /// resource's role (if it has one), unreserved, then reserved for any
    /// other role. A wanted amount may be split across several offered
    /// entries (e.g. 1 reserved cpu and 1 unreserved cpu for `cpus:2`).
    ///
    /// The result carries the offer's own reservation, role and allocation
    /// fields, as the master expects them back in a launch. Returns `None` if
    /// the wanted amounts are not all here.
    ///
    /// ```
    /// use mesos_proto::resources::Resources;
    /// let offer: Resources = "cpus(web):1; cpus:4; mem:1024".parse()?;
    /// let wanted = Resources::new().with_cpus(2.0).with_mem(256.0);
    /// let found = offer.find(&wanted).expect("enough resources");
    /// assert_eq!(found.to_string(), "cpus:2; mem:256");
    /// assert!(offer.find(&Resources::new().with_cpus(6.0)).is_none());
    /// # Ok::<(), mesos_proto::resources::ParseError>(())
    /// ```
    pub fn find(&self, wanted: &Resources) -> Option<Resources> {
        self.find_with(wanted, |resource| {
            Preference::Mesos(identity::reservation_role(resource))
        })
    }

    /// Like [`find`](Resources::find) for a framework in `role`: draws first
    /// from resources reserved for `role` (or an ancestor role), then from
    /// unreserved ones, and never from resources reserved for other roles.
    ///
    /// ```
    /// use mesos_proto::resources::Resources;
    /// let offer: Resources = "cpus(web):1; cpus:4; cpus(db):8".parse()?;
    /// let found = offer.find_for_role("web", &Resources::new().with_cpus(2.0)).unwrap();
    /// assert_eq!(found.reserved("web").cpus(), Some(1.0));
    /// assert_eq!(found.unreserved().cpus(), Some(1.0));
    /// assert!(offer.find_for_role("web", &Resources::new().with_cpus(6.0)).is_none());
    /// # Ok::<(), mesos_proto::resources::ParseError>(())
    /// ```
    pub fn find_for_role(&self, role: &str, wanted: &Resources) -> Option<Resources> {
        self.find_with(wanted, |_| Preference::Role(role))
    }

    fn find_with<'w>(
        &self,
        wanted: &'w Resources,
        preference_for: impl Fn(&'w Resource) -> Preference<'w>,
    ) -> Option<Resources> {
        let mut available = self.clone();
        let mut found = Resources::new();
        for target in wanted {
            let preference = preference_for(target);
            let piece = take(&available, target, &preference)?;
            available -= &piece;
            found += piece;
        }
        Some(found)
    }
}

/// Draws the amount of `target` from `available` in order of `preference`.
fn take(
    available: &Resources,
    target: &Resource,
    preference: &Preference<'_>,
) -> Option<Resources> {
    let mut remaining = identity::strip_placement(target.clone());
    let mut candidates: Vec<(u8, &Resource)> = available
        .iter()
        .filter(|offered| identity::same_kind(offered, &remaining, true))
        .filter_map(|offered| preference.rank(offered).map(|rank| (rank, offered)))
        .collect();
    candidates.sort_by_key(|(rank, _)| *rank);

    let mut taken = Resources::new();
    for (_, offered) in candidates {
        if amount::is_empty(&remaining) {
            break;
        }
        let piece = if identity::is_atomic(offered) {
            if !amount::equal(offered, &remaining) {
                continue;
            }
            offered.clone()
        } else {
            amount::overlap(offered, &remaining)
        };
        if amount::is_empty(&piece) {
            continue;
        }
        amount::subtract(&mut remaining, &piece);
        taken += piece;
    }
    amount::is_empty(&remaining).then_some(taken)
}
