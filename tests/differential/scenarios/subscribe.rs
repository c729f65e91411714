//! SUBSCRIBE: the stream, its first events, MULTI_ROLE rules, failover,
//! the stream id checks of later calls.

use std::time::Duration;

use serde_json::json;

use super::{Ctx, EVENT_WAIT};
use crate::http::Request;
use crate::observe::{self, Observations};

crate::scenarios!(
    both subscribe_streams_subscribed,
    json subscribe_role_and_roles_without_multi_role,
    json subscribe_multi_role_with_role,
    json subscribe_invalid_failover_timeout,
    json resubscribe_fails_over_the_old_stream,
    json call_without_stream_id,
    json call_with_wrong_stream_id,
    both teardown_ends_the_stream,
);

/// How long a stream that should end may take to.
const ENDS: Duration = Duration::from_secs(5);

async fn subscribe_streams_subscribed(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let call = ctx.subscribe_call(ctx.framework_info(json!({})));
    let mut response = ctx.call(call).await;
    o.answer("SUBSCRIBE", &response);
    let events = response.events.as_mut().expect("events");
    let first = events
        .next(EVENT_WAIT)
        .await
        .expect("an event")
        .expect("open");
    o.push("first event", observe::event(&first));
    let offers = events.wait_for("OFFERS", EVENT_WAIT).await;
    o.push("OFFERS", json!(offers.map(|e| observe::event(&e))));
    let framework_id = first["subscribed"]["framework_id"]["value"].clone();
    let stream_id = response.header("mesos-stream-id").unwrap_or_default();
    let teardown = json!({"type": "TEARDOWN", "framework_id": {"value": framework_id}});
    ctx.send(Request::call(ctx.media, teardown).header("Mesos-Stream-Id", Some(&stream_id)))
        .await;
    o
}

async fn subscribe_role_and_roles_without_multi_role(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let info = ctx.framework_info(json!({"role": "a", "roles": ["b"]}));
    let mut response = ctx.call(ctx.subscribe_call(info)).await;
    o.answer("SUBSCRIBE with role and roles", &response);
    let events = response.events.as_mut().expect("events");
    let first = events
        .next(EVENT_WAIT)
        .await
        .expect("an event")
        .expect("open");
    o.push("first event", observe::event(&first));
    o.push("message", json!(first["error"]["message"]));
    o.push(
        "stream ends",
        json!(events.ends_within(ENDS).await.is_ok_and(|e| e)),
    );
    o
}

async fn subscribe_multi_role_with_role(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let info = ctx.framework_info(json!({"role": "a", "capabilities": [{"type": "MULTI_ROLE"}]}));
    let mut response = ctx.call(ctx.subscribe_call(info)).await;
    o.answer("MULTI_ROLE SUBSCRIBE with role", &response);
    let events = response.events.as_mut().expect("events");
    let first = events
        .next(EVENT_WAIT)
        .await
        .expect("an event")
        .expect("open");
    o.push("first event", observe::event(&first));
    o.push("message", json!(first["error"]["message"]));
    o.push(
        "stream ends",
        json!(events.ends_within(ENDS).await.is_ok_and(|e| e)),
    );
    o
}

async fn subscribe_invalid_failover_timeout(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let info = ctx.framework_info(json!({"failover_timeout": 1e300}));
    let mut response = ctx.call(ctx.subscribe_call(info)).await;
    o.answer("SUBSCRIBE with failover_timeout 1e300", &response);
    let events = response.events.as_mut().expect("events");
    let first = events
        .next(EVENT_WAIT)
        .await
        .expect("an event")
        .expect("open");
    o.push("first event", observe::event(&first));
    o.push("message", json!(first["error"]["message"]));
    o.push(
        "stream ends",
        json!(events.ends_within(ENDS).await.is_ok_and(|e| e)),
    );
    o
}

async fn resubscribe_fails_over_the_old_stream(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let mut old = ctx.subscribe(json!({"failover_timeout": 60.0})).await;
    let info = ctx.framework_info(json!({
        "failover_timeout": 60.0,
        "id": {"value": old.framework_id},
    }));
    let mut call = ctx.subscribe_call(info);
    call["framework_id"] = json!({"value": old.framework_id});
    let mut new = ctx.call(call).await;
    o.answer("SUBSCRIBE again with the id", &new);
    let events = new.events.as_mut().expect("events");
    let first = events
        .next(EVENT_WAIT)
        .await
        .expect("an event")
        .expect("open");
    o.push("new stream's first event", observe::event(&first));
    o.push(
        "same framework id",
        json!(first["subscribed"]["framework_id"]["value"] == old.framework_id.as_str()),
    );
    let event = old
        .events()
        .ends_within(ENDS)
        .await
        .err()
        .map(|e| json!({"event": observe::event(&e), "message": e["error"]["message"]}));
    o.push("old stream's next event", json!(event));
    o.push(
        "old stream ends",
        json!(old.events().ends_within(ENDS).await.is_ok_and(|e| e)),
    );
    let stream_id = new.header("mesos-stream-id").unwrap_or_default();
    let teardown = json!({"type": "TEARDOWN", "framework_id": {"value": old.framework_id}});
    let answer = ctx
        .send(Request::call(ctx.media, teardown).header("Mesos-Stream-Id", Some(&stream_id)))
        .await;
    o.answer("TEARDOWN", &answer);
    o
}

async fn call_without_stream_id(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let framework = ctx.subscribe(json!({})).await;
    let call = json!({"type": "REVIVE", "framework_id": {"value": framework.framework_id}});
    o.answer("REVIVE without Mesos-Stream-Id", &ctx.call(call).await);
    ctx.teardown(&framework).await;
    o
}

async fn call_with_wrong_stream_id(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let framework = ctx.subscribe(json!({})).await;
    let call = json!({"type": "REVIVE", "framework_id": {"value": framework.framework_id}});
    let request = Request::call(ctx.media, call).header(
        "Mesos-Stream-Id",
        Some("00000000-0000-0000-0000-000000000000"),
    );
    o.answer("REVIVE with another stream id", &ctx.send(request).await);
    ctx.teardown(&framework).await;
    o
}

async fn teardown_ends_the_stream(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let mut framework = ctx.subscribe(json!({})).await;
    let answer = ctx.framework_call(&framework, "TEARDOWN", json!({})).await;
    o.answer("TEARDOWN", &answer);
    let ends = framework.events().ends_within(ENDS).await;
    o.push(
        "stream",
        match ends {
            Ok(ended) => json!({"ends": ended}),
            Err(event) => json!({"event": observe::event(&event)}),
        },
    );
    let again = ctx.framework_call(&framework, "REVIVE", json!({})).await;
    o.answer("REVIVE after TEARDOWN", &again);
    o
}
