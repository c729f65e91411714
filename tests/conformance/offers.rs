//! Scenarios 3 and 4: DECLINE with a refuse filter keeps the agent's
//! resources away until REVIVE; SUPPRESS stops offers until REVIVE.

use std::time::Duration;

use mesos_proto::v1::{Offer, TaskId};
use mesos_scheduler::SchedulerEvent;
use tokio::time::Instant;

use crate::harness::{resources, Framework, OfferPolicy, Target};

crate::conformance!(
    decline_filter_holds_until_revive,
    suppress_stops_offers_until_revive
);

/// The master allocates about once a second: an offer "promptly" is one
/// within a few allocation intervals.
const PROMPTLY: Duration = Duration::from_secs(5);
/// Far longer than the whole scenario: an offer after REVIVE can only come
/// from REVIVE lifting the filter, never from the filter expiring (checked
/// below against the time of the last DECLINE).
const REFUSE: Duration = Duration::from_secs(120);
const QUIET: Duration = Duration::from_secs(3);

fn offers_event(e: &SchedulerEvent) -> Option<Vec<Offer>> {
    match e {
        SchedulerEvent::Offers(offers) if !offers.is_empty() => Some(offers.clone()),
        _ => None,
    }
}

async fn decline_filter_holds_until_revive(target: Target) {
    let mut framework = Framework::subscribe(&target, |f| f).await;
    framework.offer_policy = OfferPolicy::Hold;
    let mut offers = framework.wait_for(PROMPTLY, "OFFERS", offers_event).await;
    let agent = offers[0].agent_id.clone();

    // Decline everything for REFUSE, then for QUIET nothing already refused
    // may come back from that agent. An offer with *more* than was declined
    // (resources freed meanwhile, e.g. by an earlier scenario's executor) is
    // not covered by the filter: decline it too and start the window again.
    let mut restarts = 0;
    let mut declined_at;
    'window: loop {
        let declined = offers
            .iter()
            .filter(|o| o.agent_id == agent)
            .fold(mesos_proto::Resources::new(), |acc, o| acc + resources(o));
        framework.decline(std::mem::take(&mut offers), REFUSE).await;
        declined_at = Instant::now();
        let deadline = Instant::now() + QUIET;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break 'window;
            }
            let mut again = None;
            framework
                .assert_quiet(left, "a re-offer of declined resources", |e| {
                    let Some(offers) = offers_event(e) else {
                        return false;
                    };
                    let covered = offers
                        .iter()
                        .any(|o| o.agent_id == agent && declined.contains(&resources(o)));
                    if !covered {
                        again = Some(offers);
                    }
                    covered
                })
                .await;
            framework.held.clear();
            if let Some(grown) = again {
                restarts += 1;
                assert!(restarts <= 5, "the agent's free resources kept changing");
                offers = grown;
                continue 'window;
            }
        }
    }

    // REVIVE lifts the filter.
    let revived_at = Instant::now();
    framework
        .client
        .revive(Vec::new())
        .await
        .expect("REVIVE accepted");
    let offers = framework
        .wait_for(PROMPTLY, "an offer from the agent after REVIVE", |e| {
            offers_event(e).filter(|o| o.iter().any(|o| o.agent_id == agent))
        })
        .await;
    eprintln!("offer {:?} after REVIVE", revived_at.elapsed());
    assert!(
        declined_at.elapsed() < REFUSE,
        "the offer came after the filter expired: it proves nothing about REVIVE"
    );
    framework.decline(offers, Duration::from_secs(1)).await;
    framework.teardown().await;
}

async fn suppress_stops_offers_until_revive(target: Target) {
    let mut framework = Framework::subscribe(&target, |f| f).await;
    framework.offer_policy = OfferPolicy::Hold;
    let offers = framework.wait_for(PROMPTLY, "OFFERS", offers_event).await;

    framework
        .client
        .suppress(Vec::new())
        .await
        .expect("SUPPRESS accepted");
    // Give the outstanding offers back without any filter: only SUPPRESS can
    // keep them away now.
    framework.decline(offers, Duration::ZERO).await;
    // Barrier: the master answers a reconciliation on the event stream after
    // it processed SUPPRESS; offers made before that are declined too.
    let barrier = TaskId::from(format!("{}-barrier", target.framework_name("")));
    framework
        .client
        .reconcile(vec![(barrier.clone(), None)])
        .await
        .expect("RECONCILE accepted");
    framework
        .wait_for(PROMPTLY, "the reconciliation answer", |e| {
            matches!(e, SchedulerEvent::Update(s) if s.task_id == barrier).then_some(())
        })
        .await;
    let early = std::mem::take(&mut framework.held);
    framework.decline(early, Duration::ZERO).await;

    framework
        .assert_quiet(QUIET, "an offer while suppressed", |e| {
            offers_event(e).is_some()
        })
        .await;

    let revived_at = Instant::now();
    framework
        .client
        .revive(Vec::new())
        .await
        .expect("REVIVE accepted");
    let offers = framework
        .wait_for(PROMPTLY, "an offer after REVIVE", offers_event)
        .await;
    eprintln!("offer {:?} after REVIVE", revived_at.elapsed());
    framework.decline(offers, Duration::from_secs(1)).await;
    framework.teardown().await;
}
