//! Properties of placement: constraints hold over any sequence of offers,
//! and the fit check agrees with resource subtraction.

use mesos_framework::placement::{
    fit, AgentProfile, Constraint, OfferCandidate, Placements, Placer, Strategy, TaskNeeds,
};
use mesos_proto::resources::Resources;
use proptest::prelude::{any, prop, prop_assert, prop_assert_eq, prop_oneof, proptest, Just};

/// Agents `a0..` on `hosts` hostnames and `racks` racks, as offers of
/// plenty of cpus.
fn offers(assignment: &[(u8, u8)]) -> Vec<OfferCandidate> {
    assignment
        .iter()
        .enumerate()
        .map(|(i, (host, rack))| {
            let agent = AgentProfile::new(format!("a{i}"), format!("h{host}"))
                .with_text("rack", format!("r{rack}"));
            OfferCandidate::new(format!("o{i}"), agent, Resources::new().with_cpus(64.0))
        })
        .collect()
}

/// Places up to `rounds` instances one after the other, each time taking
/// the offer at `picks[k] % fitting` among those that fit (any choice, not
/// only the strategy's best); returns the placements.
fn place_many(
    task: &TaskNeeds,
    offers: &[OfferCandidate],
    picks: &[usize],
    strategy: Strategy,
) -> Placements {
    let placer = Placer::new(strategy);
    let mut placed = Placements::new();
    for pick in picks {
        let fitting = placer.rank(task, offers, &placed);
        if fitting.is_empty() {
            break;
        }
        let choice = &fitting[pick % fitting.len()];
        placed.add(offers[choice.index].agent.clone());
    }
    placed
}

fn counts(placed: &Placements, of: impl Fn(&AgentProfile) -> String) -> Vec<usize> {
    let mut by: std::collections::BTreeMap<String, usize> = Default::default();
    for agent in placed {
        *by.entry(of(agent)).or_default() += 1;
    }
    by.into_values().collect()
}

fn strategy() -> impl proptest::strategy::Strategy<Value = Strategy> {
    prop_oneof![Just(Strategy::BinPack), Just(Strategy::Spread)]
}

proptest! {
    #[test]
    fn unique_never_places_two_on_one_value(
        agents in prop::collection::vec((0u8..6, 0u8..4), 1..12),
        picks in prop::collection::vec(any::<usize>(), 0..20),
        strategy in strategy(),
    ) {
        let offers = offers(&agents);
        let task = TaskNeeds::new("u", Resources::new().with_cpus(1.0))
            .constraint(Constraint::hostname().unique());
        let placed = place_many(&task, &offers, &picks, strategy);
        prop_assert!(counts(&placed, |a| a.hostname.clone()).iter().all(|&n| n == 1));
        // And it stops only when every hostname is used.
        let hosts: std::collections::BTreeSet<u8> = agents.iter().map(|(h, _)| *h).collect();
        prop_assert_eq!(placed.len(), picks.len().min(hosts.len()));
    }

    #[test]
    fn max_per_never_exceeds_its_limit(
        agents in prop::collection::vec((0u8..6, 0u8..4), 1..12),
        picks in prop::collection::vec(any::<usize>(), 0..30),
        limit in 1u32..4,
        strategy in strategy(),
    ) {
        let offers = offers(&agents);
        let task = TaskNeeds::new("m", Resources::new().with_cpus(1.0))
            .constraint(Constraint::attribute("rack").max_per(limit));
        let placed = place_many(&task, &offers, &picks, strategy);
        prop_assert!(counts(&placed, |a| a.attribute("rack").unwrap_or_default())
            .iter()
            .all(|&n| n <= limit as usize));
    }

    #[test]
    fn group_by_spreads_evenly(
        racks in 1u8..5,
        extra in prop::collection::vec((0u8..6, 0u8..5), 0..8),
        picks in prop::collection::vec(any::<usize>(), 0..25),
        strategy in strategy(),
    ) {
        // Every rack is offered at least once, plus random extra agents.
        let mut agents: Vec<(u8, u8)> = (0..racks).map(|r| (r, r)).collect();
        agents.extend(extra.into_iter().map(|(h, r)| (h, r % racks)));
        let offers = offers(&agents);
        let task = TaskNeeds::new("g", Resources::new().with_cpus(1.0))
            .constraint(Constraint::attribute("rack").group_by(u32::from(racks)));
        let placed = place_many(&task, &offers, &picks, strategy);
        prop_assert_eq!(placed.len(), picks.len(), "an offer always fits");
        let mut per_rack = counts(&placed, |a| a.attribute("rack").unwrap_or_default());
        per_rack.resize(usize::from(racks).max(per_rack.len()), 0);
        let (min, max) = (per_rack.iter().min().unwrap(), per_rack.iter().max().unwrap());
        prop_assert!(max - min <= 1, "{per_rack:?}");
    }

    #[test]
    fn fit_agrees_with_subtraction(
        offered in (0u32..8000, 0u32..8000, 0u64..40, 0u64..40),
        needed in (0u32..8000, 0u32..8000, 0u64..40, 0u64..40),
    ) {
        let resources = |(cpus, mem, begin, len): (u32, u32, u64, u64)| {
            Resources::new()
                .with_cpus(f64::from(cpus) / 1000.0)
                .with_mem(f64::from(mem) / 10.0)
                .with_ports(&[(31000 + begin, 31000 + begin + len)])
        };
        let (offered, needed) = (resources(offered), resources(needed));
        match fit(&offered, &needed, None) {
            Ok(share) => {
                prop_assert!(offered.contains(&needed));
                prop_assert_eq!(&share, &needed);
                let left = offered.checked_sub(&share).expect("the share is in the offer");
                prop_assert_eq!(left + &share, offered);
            }
            Err(short) => {
                prop_assert!(!offered.contains(&needed));
                prop_assert!(!short.missing.is_empty());
                // Each scalar reported short is short by exactly the difference.
                for name in ["cpus", "mem"] {
                    let gap = (needed.scalar(name).unwrap_or(0.0) - offered.scalar(name).unwrap_or(0.0)).max(0.0);
                    let reported = short.scalar(name).unwrap_or(0.0);
                    prop_assert!((gap - reported).abs() < 0.0015, "{} gap {} reported {}", name, gap, reported);
                }
                // Adding what is missing makes it fit.
                let topped = offered.clone() + (needed.clone() - &offered);
                prop_assert!(fit(&topped, &needed, None).is_ok());
            }
        }
    }
}
