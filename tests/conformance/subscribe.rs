//! Scenario 1: SUBSCRIBE → SUBSCRIBED (framework id, heartbeat interval) →
//! OFFERS with cpus and mem.

use std::time::Duration;

use mesos_scheduler::SchedulerEvent;

use crate::harness::{scalar, Framework, Target, SHORT_REFUSE};

crate::conformance!(subscribe_yields_subscribed_then_offers);

async fn subscribe_yields_subscribed_then_offers(target: Target) {
    let mut framework = Framework::subscribe(&target, |f| f).await;
    let heartbeat = framework
        .heartbeat_interval
        .expect("SUBSCRIBED carries heartbeat_interval_seconds");
    assert!(heartbeat > Duration::ZERO, "{heartbeat:?}");

    let offers = framework
        .wait_for(Duration::from_secs(15), "OFFERS", |e| match e {
            SchedulerEvent::Offers(offers) => Some(offers.clone()),
            _ => None,
        })
        .await;
    assert!(!offers.is_empty(), "an OFFERS event carries offers");
    for offer in &offers {
        assert_eq!(offer.framework_id, framework.framework_id, "{offer:?}");
        assert!(!offer.id.value.is_empty(), "{offer:?}");
        assert!(!offer.agent_id.value.is_empty(), "{offer:?}");
        assert!(!offer.hostname.is_empty(), "{offer:?}");
        assert!(scalar(offer, "cpus") > 0.0, "offer without cpus: {offer:?}");
        assert!(scalar(offer, "mem") > 0.0, "offer without mem: {offer:?}");
    }
    framework.decline(offers, SHORT_REFUSE).await;
    framework.teardown().await;
}
