//! Scenario 8: TEARDOWN is accepted and the event stream ends; calls made
//! afterwards fail instead of vanishing.

use std::time::Duration;

use mesos_scheduler::{Error, SchedulerEvent};

use crate::harness::{in_flight, Framework, OfferPolicy, Target};

crate::conformance!(teardown_ends_the_stream);
crate::conformance!(teardown_does_not_resubscribe);

async fn teardown_ends_the_stream(target: Target) {
    let mut framework = Framework::subscribe(&target, |f| f).await;
    // Hold an offer: teardown must also give it back.
    framework.offer_policy = OfferPolicy::Hold;
    framework
        .wait_for(Duration::from_secs(15), "OFFERS", |e| {
            matches!(e, SchedulerEvent::Offers(o) if !o.is_empty()).then_some(())
        })
        .await;
    let client = framework.client.clone();
    framework.teardown_events().await;
    let after = client.revive(Vec::new()).await;
    assert!(
        matches!(after, Err(Error::NotSubscribed)),
        "a call after TEARDOWN fails as not subscribed: {after:?}"
    );
}

/// Stricter: the framework ended itself, so the stream just ends; no
/// `Disconnected`, no resubscription of the removed framework (which the
/// master answers with ERROR "Framework has been removed").
async fn teardown_does_not_resubscribe(target: Target) {
    let framework = Framework::subscribe(&target, |f| f).await;
    let after = framework.teardown_events().await;
    assert!(
        after.iter().all(in_flight),
        "after TEARDOWN the stream should just end, got {after:?}"
    );
}
