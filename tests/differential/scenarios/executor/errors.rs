//! The executor API's answers to requests it refuses before looking up a
//! framework (method, media types, bodies, validation), and to ids it does
//! not know. Most need no executor: the agent is found in `/master/state`
//! and the ids are made up.

use mesos_proto::MediaType;
use serde_json::{json, Value};

use super::{new_uuid, Setup};
use crate::http::Request;
use crate::observe::Observations;
use crate::Ctx;

crate::scenarios!(
    json executor_get_is_method_not_allowed,
    json executor_call_without_content_type,
    json executor_call_with_unsupported_media_type,
    json executor_call_with_malformed_json,
    json executor_call_with_malformed_protobuf,
    json executor_call_without_type,
    json executor_call_without_executor_id,
    json executor_subscribe_not_acceptable,
    json executor_heartbeat_is_accepted,
    json executor_call_for_unknown_framework,
    json executor_call_for_unknown_executor,
    json executor_update_before_subscribe,
    json executor_update_validation,
);

/// An executor call of `kind` for made-up ids, with `fields` merged.
fn made_up_call(kind: &str, fields: Value) -> Value {
    let mut call = json!({
        "type": kind,
        "framework_id": {"value": "00000000-0000-0000-0000-000000000000-0000"},
        "executor_id": {"value": "differential-executor"},
    });
    super::merge(&mut call, fields);
    call
}

/// Sends `request` to the first agent's executor API and records the
/// answer under `step`.
async fn answer(ctx: &Ctx, o: &mut Observations, step: &str, request: Request) {
    let (agent, path) = ctx.agent_endpoint().await;
    o.answer(step, &agent.send(request.to(&path)).await);
}

fn json_headers() -> [(&'static str, &'static str); 2] {
    [
        ("Content-Type", "application/json"),
        ("Accept", "application/json"),
    ]
}

async fn executor_get_is_method_not_allowed(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let mut request = Request::raw(&json_headers(), "");
    request.method = http::Method::GET;
    answer(&ctx, &mut o, "GET", request).await;
    o
}

async fn executor_call_without_content_type(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let body = made_up_call("SUBSCRIBE", json!({"subscribe": {}})).to_string();
    let request = Request::raw(&[("Accept", "application/json")], body);
    answer(&ctx, &mut o, "SUBSCRIBE without Content-Type", request).await;
    o
}

async fn executor_call_with_unsupported_media_type(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let body = made_up_call("SUBSCRIBE", json!({"subscribe": {}})).to_string();
    let request = Request::raw(
        &[
            ("Content-Type", "text/plain"),
            ("Accept", "application/json"),
        ],
        body,
    );
    answer(&ctx, &mut o, "SUBSCRIBE as text/plain", request).await;
    o
}

async fn executor_call_with_malformed_json(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let request = Request::raw(&json_headers(), r#"{"type": "SUBSCRIBE", "#);
    answer(&ctx, &mut o, "truncated JSON", request).await;
    let request = Request::raw(
        &json_headers(),
        r#"{"type": "SUBSCRIBE", "framework_id": 7}"#,
    );
    answer(&ctx, &mut o, "JSON field of the wrong type", request).await;
    o
}

async fn executor_call_with_malformed_protobuf(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let request = Request::raw(
        &[
            ("Content-Type", "application/x-protobuf"),
            ("Accept", "application/x-protobuf"),
        ],
        &b"\xff\xff\xff"[..],
    );
    answer(&ctx, &mut o, "not protobuf", request).await;
    o
}

async fn executor_call_without_type(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let mut call = made_up_call("SUBSCRIBE", json!({"subscribe": {}}));
    call.as_object_mut().map(|c| c.remove("type"));
    let request = Request::raw(&json_headers(), call.to_string());
    answer(&ctx, &mut o, "call without type", request).await;
    o
}

async fn executor_call_without_executor_id(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let mut call = made_up_call("SUBSCRIBE", json!({"subscribe": {}}));
    call.as_object_mut().map(|c| c.remove("executor_id"));
    let request = Request::raw(&json_headers(), call.to_string());
    answer(&ctx, &mut o, "call without executor_id", request).await;
    o
}

async fn executor_subscribe_not_acceptable(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let body = made_up_call("SUBSCRIBE", json!({"subscribe": {}})).to_string();
    let request = Request::raw(
        &[
            ("Content-Type", "application/json"),
            ("Accept", "text/plain"),
        ],
        body,
    );
    answer(&ctx, &mut o, "SUBSCRIBE accepting text/plain", request).await;
    o
}

async fn executor_heartbeat_is_accepted(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let call = made_up_call("HEARTBEAT", json!({}));
    let request = Request::executor_call("", MediaType::Json, call);
    answer(&ctx, &mut o, "HEARTBEAT for made-up ids", request).await;
    o
}

async fn executor_call_for_unknown_framework(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    for (step, call) in [
        (
            "SUBSCRIBE",
            made_up_call("SUBSCRIBE", json!({"subscribe": {}})),
        ),
        (
            "MESSAGE",
            made_up_call("MESSAGE", json!({"message": {"data": "aGk="}})),
        ),
    ] {
        let request = Request::executor_call("", MediaType::Json, call);
        answer(&ctx, &mut o, step, request).await;
    }
    o
}

async fn executor_call_for_unknown_executor(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let launched = ctx.launch_executor(Setup::default()).await;
    let mut call = launched.call_json("SUBSCRIBE", json!({"subscribe": {}}));
    call["executor_id"]["value"] = json!("not-an-executor");
    let request = Request::executor_call(&launched.path, MediaType::Json, call);
    o.answer(
        "SUBSCRIBE of another executor id",
        &launched.send(request).await,
    );
    ctx.teardown(&launched.framework).await;
    o
}

async fn executor_update_before_subscribe(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let launched = ctx.launch_executor(Setup::default()).await;
    let status = launched.status("TASK_RUNNING");
    o.answer("UPDATE before SUBSCRIBE", &launched.update(status).await);
    let message = json!({"message": {"data": "aGk="}});
    o.answer(
        "MESSAGE before SUBSCRIBE",
        &launched.call(MediaType::Json, "MESSAGE", message).await,
    );
    ctx.teardown(&launched.framework).await;
    o
}

/// UPDATE calls that fail validation (which comes before the framework is
/// looked up, so made-up ids do).
async fn executor_update_validation(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let status = |extra: Value| {
        let mut status = json!({
            "task_id": {"value": "differential-task"},
            "state": "TASK_RUNNING",
            "source": "SOURCE_EXECUTOR",
            "uuid": new_uuid(),
        });
        super::merge(&mut status, extra);
        status
    };
    let without = |field: &str| {
        let mut s = status(json!({}));
        s.as_object_mut().map(|s| s.remove(field));
        s
    };
    let cases = [
        (
            "source SOURCE_MASTER",
            status(json!({"source": "SOURCE_MASTER"})),
        ),
        (
            "source SOURCE_AGENT",
            status(json!({"source": "SOURCE_AGENT"})),
        ),
        ("without source", without("source")),
        ("without uuid", without("uuid")),
        ("uuid of 3 bytes", status(json!({"uuid": "YWJj"}))),
        (
            "uuid of 16 bytes, no version",
            status(json!({"uuid": "AAAAAAAAAAAAAAAAAAAAAA=="})),
        ),
        ("TASK_STAGING", status(json!({"state": "TASK_STAGING"}))),
        (
            "another executor id",
            status(json!({"executor_id": {"value": "another-executor"}})),
        ),
        ("without task_id", without("task_id")),
        ("without state", without("state")),
    ];
    for (step, status) in cases {
        let call = made_up_call("UPDATE", json!({"update": {"status": status}}));
        let request = Request::executor_call("", MediaType::Json, call);
        answer(&ctx, &mut o, step, request).await;
    }
    let call = made_up_call("UPDATE", json!({}));
    answer(
        &ctx,
        &mut o,
        "without update",
        Request::executor_call("", MediaType::Json, call),
    )
    .await;
    let call = made_up_call("MESSAGE", json!({}));
    answer(
        &ctx,
        &mut o,
        "MESSAGE without message",
        Request::executor_call("", MediaType::Json, call),
    )
    .await;
    let call = made_up_call("SUBSCRIBE", json!({}));
    answer(
        &ctx,
        &mut o,
        "SUBSCRIBE without subscribe",
        Request::executor_call("", MediaType::Json, call),
    )
    .await;
    o
}
