//! The offer manager over real HTTP on mesos-local, its calls counted by a
//! relaying proxy in front of the master: offers held past the lease are
//! declined with the long refusal (and not offered again meanwhile: a
//! witness framework gets them instead, round after round); new demand
//! REVIVEs (offers arrive); no demand SUPPRESSes (no offers arrive while a
//! witness is offered the agent round after round); a storm of demand is
//! debounced into one REVIVE per interval.

use std::time::Duration;

use mesos_framework::offers::{roles_of, OfferConfig, OfferManager, OfferManagerHandle};
use mesos_scheduler::subscribe;
use mesos_test_support::fault_proxy::{Api, FaultProxy};

use crate::support::{config, eventually, framework, OfferPolicy, Pumped, WAIT};

const LEASE: Duration = Duration::from_millis(300);
const REFUSE: Duration = Duration::from_secs(3600);
const REVIVE_INTERVAL: Duration = Duration::from_secs(1);
/// How the witness declines: a filter too short to outlive an allocation
/// interval, so it is offered the agent in every round.
const WITNESS_REFUSE: Duration = Duration::from_millis(1);

/// The calls named `name` the proxy relayed (answered `202`), with their
/// time since the proxy started.
fn calls_named(proxy: &FaultProxy, name: &str) -> Vec<Duration> {
    proxy
        .records()
        .calls
        .iter()
        .filter(|c| c.name == name && c.status == Some(202))
        .map(|c| c.at)
        .collect()
}

/// A second framework that declines everything briefly: while it is
/// offered the agent round after round, any offer the first framework
/// could get, it would get too.
async fn witness(master: &str, name: &str) -> Pumped {
    let (client, events) = subscribe(config(master, framework(name, None, false))).unwrap();
    Pumped::spawn(
        client,
        events,
        None,
        None,
        OfferPolicy::Decline(WITNESS_REFUSE),
    )
}

/// Waits until `witness` has seen `rounds` more OFFERS events than it had,
/// and checks that `pumped` received no offer meanwhile.
async fn no_offers_while_witness_is_offered(pumped: &Pumped, witness: &Pumped, why: &str) {
    eventually("the witness's first offer", WAIT, || {
        (witness.log().offer_events >= 1).then_some(())
    })
    .await;
    let before = pumped.log().offers;
    let rounds = witness.log().offer_events;
    eventually("three more offer rounds for the witness", WAIT, || {
        assert_eq!(
            pumped.log().offers,
            before,
            "{why}: no offer for the framework meanwhile"
        );
        (witness.log().offer_events >= rounds + 3).then_some(())
    })
    .await;
    assert_eq!(
        pumped.log().offers,
        before,
        "{why}: no offer for the framework meanwhile"
    );
}

/// The scenario against `master` (whose agents' resources nobody else
/// uses); framework names end in `suffix`.
pub async fn leases_suppression_and_revival(master: &str, suffix: &str) {
    let proxy = FaultProxy::start(Api::Scheduler, master)
        .await
        .expect("proxy starts");
    let info = framework(&format!("offer-discipline{suffix}"), None, false);
    let manager = OfferManagerHandle::new(
        OfferManager::new(
            OfferConfig::default()
                .lease(LEASE)
                .refuse(REFUSE)
                .revive_interval(REVIVE_INTERVAL),
            roles_of(&info),
        )
        .unwrap(),
    );
    manager.set_pending("*", 1);
    let (client, events) = subscribe(config(&proxy.url(), info)).unwrap();
    manager.start(client.clone()).unwrap();
    let app = Pumped::spawn(
        client.clone(),
        events,
        None,
        Some(manager.clone()),
        OfferPolicy::Hold,
    );

    // 1. Offers nobody uses are declined once the lease is over.
    eventually("an offer", WAIT, || (app.log().offers > 0).then_some(())).await;
    eventually("the lease to decline every offer received", WAIT, || {
        let c = manager.counters();
        (c.declined >= 1 && c.held == 0 && c.declined == c.received).then_some(())
    })
    .await;
    eventually("the master to take the DECLINE", WAIT, || {
        (!calls_named(&proxy, "DECLINE").is_empty() && client.offers_held() == 0).then_some(())
    })
    .await;
    // ... refused for an hour: the agent goes to another framework instead.
    let other = witness(master, &format!("witness-1{suffix}")).await;
    no_offers_while_witness_is_offered(&app, &other, "declined with refuse_seconds 3600").await;
    other.teardown().await;

    // 2. More work: REVIVE (lifting the filters); offers arrive again.
    app.set_policy(OfferPolicy::Decline(WITNESS_REFUSE));
    let revives = calls_named(&proxy, "REVIVE").len();
    let offers = app.log().offers;
    manager.set_pending("*", 2);
    eventually("a REVIVE, then offers", WAIT, || {
        (calls_named(&proxy, "REVIVE").len() > revives && app.log().offers > offers).then_some(())
    })
    .await;

    // 3. No work: SUPPRESS; no offers arrive while the witness is offered.
    manager.set_pending("*", 0);
    eventually("a SUPPRESS", WAIT, || {
        (!calls_named(&proxy, "SUPPRESS").is_empty()).then_some(())
    })
    .await;
    let other = witness(master, &format!("witness-2{suffix}")).await;
    no_offers_while_witness_is_offered(&app, &other, "suppressed").await;
    other.teardown().await;

    // 4. A storm of demand: once the interval since the last REVIVE has
    // passed, fifty increases in a row, and one more after the first REVIVE
    // reached the master, make exactly two REVIVEs, an interval apart.
    let last = *calls_named(&proxy, "REVIVE").last().unwrap();
    eventually("the revive interval to pass", WAIT, || {
        (proxy.epoch().elapsed() >= last + REVIVE_INTERVAL).then_some(())
    })
    .await;
    let before = calls_named(&proxy, "REVIVE").len();
    let offers = app.log().offers;
    for pending in 1..=50 {
        manager.set_pending("*", pending);
        tokio::task::yield_now().await;
    }
    eventually("the first REVIVE of the storm", WAIT, || {
        (calls_named(&proxy, "REVIVE").len() > before).then_some(())
    })
    .await;
    manager.set_pending("*", 51);
    let revives = eventually("the trailing REVIVE", WAIT, || {
        let revives = calls_named(&proxy, "REVIVE");
        (revives.len() >= before + 2).then_some(revives)
    })
    .await;
    assert_eq!(revives.len(), before + 2, "debounced: {revives:?}");
    let gap = revives[before + 1] - revives[before];
    // (Half the interval: a loaded machine may delay the first REVIVE on
    // its way more than the second.)
    assert!(
        gap >= REVIVE_INTERVAL.mul_f64(0.5),
        "REVIVEs {gap:?} apart at the master, less than the interval"
    );
    eventually("offers after the storm", WAIT, || {
        (app.log().offers > offers).then_some(())
    })
    .await;
    let counters = manager.counters();
    assert_eq!(counters.failed_calls, 0, "{counters:?}");
    assert_eq!(counters.suppresses, 1, "{counters:?}");
    app.teardown().await;
}
