//! Choosing among the offers a task fits: bin-packing or spreading.

use mesos_proto::resources::Resources;

use super::{OfferCandidate, Placements};

/// How to pick among the offers a task fits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// Fill agents up: the offer with the least left after the task first
    /// (fewest further copies of the task would still fit), keeping other
    /// agents free for large tasks.
    #[default]
    BinPack,
    /// Spread the group: the agent with the fewest instances of the group
    /// first, then the offer with the most left after the task.
    Spread,
}

/// One offer the task fits, with the share it would take.
#[derive(Debug)]
pub(crate) struct Fitting<'a> {
    pub index: usize,
    pub offer: &'a OfferCandidate,
    pub share: Resources,
}

/// How much an offer has left once the task's share is taken: how many
/// more copies of the task would still fit (by the scalar it runs out of
/// first), then the sum of the scalars left over.
fn headroom(offer: &Resources, share: &Resources, needed: &Resources) -> (f64, f64) {
    let left = (offer.clone() - share).flatten();
    let need = needed.flatten();
    let mut copies = f64::INFINITY;
    let mut total = 0.0;
    for name in need.names() {
        let (Some(wanted), remaining) = (need.scalar(name), left.scalar(name).unwrap_or(0.0))
        else {
            continue;
        };
        if wanted > 0.0 {
            copies = copies.min((remaining / wanted).floor());
        }
        total += remaining;
    }
    if copies.is_infinite() {
        copies = 0.0;
    }
    (copies, total)
}

/// Sorts `fitting` best first for `strategy`. Equal scores are ordered by
/// agent id then offer id, so the choice is deterministic.
pub(crate) fn sort<'a>(
    strategy: Strategy,
    needed: &Resources,
    placed: &Placements,
    fitting: Vec<Fitting<'a>>,
) -> Vec<Fitting<'a>> {
    let mut keyed: Vec<((f64, f64), usize, Fitting<'a>)> = fitting
        .into_iter()
        .map(|f| {
            let room = headroom(&f.offer.resources, &f.share, needed);
            (room, placed.on_agent(&f.offer.agent.agent_id), f)
        })
        .collect();
    keyed.sort_by(|(room_a, on_a, a), (room_b, on_b, b)| {
        let by_room = room_a
            .0
            .total_cmp(&room_b.0)
            .then(room_a.1.total_cmp(&room_b.1));
        let first = match strategy {
            Strategy::BinPack => by_room,
            Strategy::Spread => on_a.cmp(on_b).then(by_room.reverse()),
        };
        first.then_with(|| {
            (a.offer.agent.agent_id.as_str(), a.offer.offer_id.as_str())
                .cmp(&(b.offer.agent.agent_id.as_str(), b.offer.offer_id.as_str()))
        })
    });
    keyed.into_iter().map(|(_, _, f)| f).collect()
}
