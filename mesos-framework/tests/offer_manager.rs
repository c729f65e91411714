//! The offer manager's state machine on a fake clock: leases and declines
//! with the configured refusal, take/rescind, demand-driven SUPPRESS and
//! REVIVE per role, debouncing, resubscription, the bound on held offers,
//! failed calls; and properties over random demand sequences.

use std::time::{Duration, Instant};

use mesos_framework::offers::{roles_of, OfferConfig, OfferConfigError, OfferManager};
use mesos_scheduler::proto::v1::resource::AllocationInfo;
use mesos_scheduler::proto::v1::scheduler::call::Type;
use mesos_scheduler::proto::v1::scheduler::Call;
use mesos_scheduler::proto::v1::{FrameworkInfo, Offer, OfferId};
use proptest::prelude::*;

const LEASE: Duration = Duration::from_secs(30);
const REFUSE: Duration = Duration::from_secs(120);
const INTERVAL: Duration = Duration::from_secs(5);

fn config() -> OfferConfig {
    OfferConfig::default()
        .lease(LEASE)
        .refuse(REFUSE)
        .revive_interval(INTERVAL)
}

fn offer(id: &str, role: Option<&str>) -> Offer {
    Offer {
        id: OfferId::from(id),
        allocation_info: role.map(|r| AllocationInfo {
            role: Some(r.to_string()),
        }),
        ..Default::default()
    }
}

/// `(type, roles or offer ids)` of each call.
fn summary(calls: &[Call]) -> Vec<(Type, Vec<String>)> {
    calls
        .iter()
        .map(|c| {
            let names = match c.r#type() {
                Type::Decline => {
                    let decline = c.decline.as_ref().unwrap();
                    assert_eq!(
                        decline.filters.as_ref().and_then(|f| f.refuse_seconds),
                        Some(REFUSE.as_secs_f64()),
                        "declined with the configured refusal"
                    );
                    decline.offer_ids.iter().map(|o| o.value.clone()).collect()
                }
                Type::Suppress => c.suppress.as_ref().unwrap().roles.clone(),
                Type::Revive => c.revive.as_ref().unwrap().roles.clone(),
                other => panic!("unexpected call {other:?}"),
            };
            (c.r#type(), names)
        })
        .collect()
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// A subscribed manager for `roles`, each with some demand (so nothing is
/// suppressed), its initial REVIVE done at `t0`.
fn busy(roles: &[&str], t0: Instant) -> OfferManager {
    let mut m = OfferManager::new(config(), roles.iter().copied()).unwrap();
    for role in roles {
        m.set_pending(role, 1);
    }
    m.on_subscribed(t0);
    let mut sorted = strings(roles);
    sorted.sort();
    assert_eq!(summary(&m.poll_due(t0)), vec![(Type::Revive, sorted)]);
    m
}

#[test]
fn offers_unused_within_the_lease_are_declined_with_the_refusal() {
    let t0 = Instant::now();
    let mut m = busy(&["*"], t0);
    m.on_offers(t0, &[offer("o1", None), offer("o2", None)]);
    let t1 = t0 + Duration::from_secs(10);
    m.on_offers(t1, &[offer("o3", None)]);
    assert_eq!(m.next_deadline(), Some(t0 + LEASE));
    assert!(m.poll_due(t0 + LEASE - Duration::from_millis(1)).is_empty());
    assert_eq!(
        summary(&m.poll_due(t0 + LEASE)),
        vec![(Type::Decline, strings(&["o1", "o2"]))]
    );
    assert_eq!(m.next_deadline(), Some(t1 + LEASE));
    assert_eq!(
        summary(&m.poll_due(t1 + LEASE)),
        vec![(Type::Decline, strings(&["o3"]))]
    );
    let c = m.counters();
    assert_eq!((c.held, c.received, c.declined), (0, 3, 3));
    assert_eq!(m.next_deadline(), None, "nothing left to do");
}

#[test]
fn taken_and_rescinded_offers_are_not_declined() {
    let t0 = Instant::now();
    let mut m = busy(&["*"], t0);
    m.on_offers(
        t0,
        &[offer("o1", None), offer("o2", None), offer("o3", None)],
    );
    assert!(m.take(&OfferId::from("o1")));
    assert!(!m.take(&OfferId::from("o1")), "taken once");
    m.on_rescind(&OfferId::from("o2"));
    assert_eq!(
        summary(&m.poll_due(t0 + LEASE)),
        vec![(Type::Decline, strings(&["o3"]))]
    );
    assert!(
        !m.take(&OfferId::from("o3")),
        "declined by the lease: not the app's any more"
    );
    let c = m.counters();
    assert_eq!((c.taken, c.rescinded, c.declined, c.held), (1, 1, 1, 0));
}

#[test]
fn no_demand_suppresses_and_demand_revives_per_role() {
    let t0 = Instant::now();
    let mut m = OfferManager::new(config(), ["web", "batch"]).unwrap();
    assert!(m.poll_due(t0).is_empty(), "nothing before SUBSCRIBED");
    assert_eq!(m.next_deadline(), None);
    m.set_pending("web", 2);
    m.on_subscribed(t0);
    assert_eq!(m.next_deadline(), Some(t0));
    assert_eq!(
        summary(&m.poll_due(t0)),
        vec![
            (Type::Suppress, strings(&["batch"])),
            (Type::Revive, strings(&["web"]))
        ]
    );
    assert!(m.is_suppressed("batch") && !m.is_suppressed("web"));
    assert!(m.poll_due(t0).is_empty(), "once");
    // Work for batch appears: revived (its interval is fresh).
    m.set_pending("batch", 1);
    assert_eq!(
        summary(&m.poll_due(t0)),
        vec![(Type::Revive, strings(&["batch"]))]
    );
    // web's work is done: suppressed at once.
    m.set_pending("web", 0);
    assert_eq!(
        summary(&m.poll_due(t0)),
        vec![(Type::Suppress, strings(&["web"]))]
    );
    // Less demand than before does not revive.
    m.set_pending("batch", 0);
    m.poll_due(t0);
    let c = m.counters();
    assert_eq!((c.revives, c.suppresses), (2, 3));
}

#[test]
fn a_revive_storm_is_debounced_into_one_revive_per_interval() {
    let t0 = Instant::now();
    let mut m = busy(&["*"], t0);
    let mut revives_at = Vec::new();
    // Demand rises every 100 ms for 12 s: one REVIVE per 5 s at most.
    for step in 1..=120u32 {
        let now = t0 + Duration::from_millis(100) * step;
        m.set_pending("*", 1 + step as usize);
        for call in m.poll_due(now) {
            assert_eq!(call.r#type(), Type::Revive);
            revives_at.push(now - t0);
        }
    }
    // Then a trailing one for the demand of the last interval.
    let trailing = m.next_deadline().expect("a trailing REVIVE");
    assert_eq!(
        summary(&m.poll_due(trailing)),
        vec![(Type::Revive, strings(&["*"]))]
    );
    revives_at.push(trailing - t0);
    assert_eq!(
        revives_at,
        vec![
            Duration::from_secs(5),
            Duration::from_secs(10),
            Duration::from_secs(15)
        ],
        "the first REVIVE was at t0"
    );
    assert_eq!(m.counters().revives, 4);
    assert_eq!(m.next_deadline(), None);
}

#[test]
fn a_resubscription_voids_offers_and_restores_suppression_and_revival() {
    let t0 = Instant::now();
    let mut m = OfferManager::new(config(), ["web", "idle"]).unwrap();
    m.set_pending("web", 1);
    m.on_subscribed(t0);
    m.poll_due(t0);
    m.on_offers(t0, &[offer("o1", Some("web"))]);
    m.on_disconnected();
    assert_eq!(m.counters().held, 0);
    assert!(
        m.poll_due(t0 + Duration::from_secs(60)).is_empty(),
        "nothing while disconnected"
    );
    let t1 = t0 + Duration::from_secs(2);
    m.on_subscribed(t1);
    assert_eq!(
        summary(&m.poll_due(t1)),
        vec![(Type::Suppress, strings(&["idle"]))],
        "the master unsuppressed everything; web's REVIVE waits for its interval"
    );
    assert_eq!(m.next_deadline(), Some(t0 + INTERVAL));
    assert_eq!(
        summary(&m.poll_due(t0 + INTERVAL)),
        vec![(Type::Revive, strings(&["web"]))]
    );
}

#[test]
fn offers_carry_their_role_or_the_first_one() {
    let t0 = Instant::now();
    let mut m = busy(&["web", "batch"], t0);
    m.on_offers(t0, &[offer("o1", Some("batch")), offer("o2", None)]);
    let held: Vec<(String, String)> = m
        .held()
        .map(|(id, role)| (id.value.clone(), role.to_string()))
        .collect();
    assert_eq!(
        held,
        vec![("o1".into(), "batch".into()), ("o2".into(), "web".into())]
    );
}

#[test]
fn offers_over_the_bound_are_declined_at_once() {
    let t0 = Instant::now();
    let mut m = OfferManager::new(config().max_held(2), ["*"]).unwrap();
    m.set_pending("*", 1);
    m.on_subscribed(t0);
    m.poll_due(t0);
    let t1 = t0 + Duration::from_secs(1);
    m.on_offers(
        t1,
        &[offer("o1", None), offer("o2", None), offer("o3", None)],
    );
    assert_eq!(m.next_deadline(), Some(t1));
    assert_eq!(
        summary(&m.poll_due(t1)),
        vec![(Type::Decline, strings(&["o3"]))]
    );
    assert_eq!(m.counters().held, 2);
}

#[test]
fn failed_suppress_and_revive_are_tried_again() {
    let t0 = Instant::now();
    let mut m = OfferManager::new(config(), ["*"]).unwrap();
    m.on_subscribed(t0);
    let calls = m.poll_due(t0);
    m.call_failed(&calls[0], t0);
    assert!(!m.is_suppressed("*"));
    assert_eq!(m.next_deadline(), Some(t0 + INTERVAL), "not hammered");
    assert_eq!(
        summary(&m.poll_due(t0 + INTERVAL)),
        vec![(Type::Suppress, strings(&["*"]))]
    );
    let t1 = t0 + INTERVAL * 3;
    m.set_pending("*", 1);
    let calls = m.poll_due(t1);
    m.call_failed(&calls[0], t1);
    assert_eq!(m.next_deadline(), Some(t1 + INTERVAL));
    assert_eq!(
        summary(&m.poll_due(t1 + INTERVAL)),
        vec![(Type::Revive, strings(&["*"]))]
    );
    assert_eq!(m.counters().failed_calls, 2);
}

#[test]
fn bad_settings_are_refused_and_roles_come_from_the_framework() {
    let refused = |c: OfferConfig| OfferManager::new(c, ["*"]).unwrap_err();
    assert_eq!(
        refused(config().lease(Duration::ZERO)),
        OfferConfigError::ZeroLease
    );
    assert_eq!(refused(config().max_held(0)), OfferConfigError::ZeroMaxHeld);
    assert!(matches!(
        refused(config().refuse(Duration::MAX)),
        OfferConfigError::TooLong { .. }
    ));
    assert_eq!(
        OfferManager::new(config(), Vec::<String>::new()).unwrap_err(),
        OfferConfigError::NoRoles
    );
    let plain = FrameworkInfo::builder("u", "f").build().unwrap();
    assert_eq!(roles_of(&plain), vec!["*".to_string()]);
    let multi = FrameworkInfo::builder("u", "f")
        .roles(["a", "b"])
        .build()
        .unwrap();
    assert_eq!(roles_of(&multi), strings(&["a", "b"]));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever the demand does, on a clock that moves by random steps:
    /// REVIVEs of a role are at least the interval apart; a role with no
    /// demand is suppressed and one whose demand rose is revived by the
    /// time its interval allows; after every poll the next deadline is in
    /// the future.
    #[test]
    fn suppression_follows_demand_and_revives_are_spaced(
        steps in prop::collection::vec((0usize..4, 0u64..3_000), 1..80),
    ) {
        let t0 = Instant::now();
        let mut m = OfferManager::new(config(), ["*"]).unwrap();
        m.on_subscribed(t0);
        let mut now = t0;
        let mut last_revive: Option<Instant> = None;
        for (pending, advance_ms) in steps {
            now += Duration::from_millis(advance_ms);
            m.set_pending("*", pending);
            for call in m.poll_due(now) {
                if call.r#type() == Type::Revive {
                    if let Some(last) = last_revive {
                        prop_assert!(now - last >= INTERVAL, "{:?} after the last", now - last);
                    }
                    last_revive = Some(now);
                }
            }
            if let Some(next) = m.next_deadline() {
                prop_assert!(next > now);
            }
            if pending == 0 {
                prop_assert!(m.is_suppressed("*"));
            } else if m.is_suppressed("*") {
                prop_assert!(m.next_deadline().is_some(), "a REVIVE is owed");
            }
        }
        // Whatever is owed is paid by the deadline.
        while let Some(next) = m.next_deadline() {
            now = next;
            m.poll_due(now);
        }
        prop_assert_eq!(m.is_suppressed("*"), m.pending("*") == 0);
    }
}
