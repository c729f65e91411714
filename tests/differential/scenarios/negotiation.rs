//! Requests refused before any framework is involved: method, media types,
//! undecodable bodies, call validation.

use serde_json::json;

use super::Ctx;
use crate::http::Request;
use crate::observe::Observations;

crate::scenarios!(
    json get_is_method_not_allowed,
    json missing_content_type,
    json unsupported_content_type,
    json malformed_json,
    json json_not_an_object,
    json json_field_of_wrong_type,
    json protobuf_garbage,
    json missing_type,
    json unknown_type,
    json unknown_type_from_unknown_framework,
    json subscribe_without_subscribe,
    json subscribe_without_framework_info,
    json subscribe_without_user,
    json subscribe_without_user_protobuf,
    json subscribe_framework_id_differs,
    json subscribe_accept_text_plain,
    json subscribe_with_stream_id_header,
    json revive_without_framework_id,
    json revive_unknown_framework_accept_text_plain,
    json decline_without_decline,
);

const JSON: &str = "application/json";
const PROTOBUF: &str = "application/x-protobuf";

fn revive_unknown() -> String {
    json!({"type": "REVIVE", "framework_id": {"value": "no-such-framework"}}).to_string()
}

async fn get_is_method_not_allowed(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let mut request = Request::raw(&[], "");
    request.method = http::Method::GET;
    o.answer("GET", &ctx.send(request).await);
    o
}

async fn missing_content_type(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let request = Request::raw(&[("Accept", JSON)], revive_unknown());
    o.answer("REVIVE without Content-Type", &ctx.send(request).await);
    o
}

async fn unsupported_content_type(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let request = Request::raw(&[("Content-Type", "text/plain")], revive_unknown());
    o.answer("REVIVE as text/plain", &ctx.send(request).await);
    o
}

async fn malformed_json(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let request = Request::raw(&[("Content-Type", JSON)], "{");
    o.answer("{", &ctx.send(request).await);
    o
}

async fn json_not_an_object(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let request = Request::raw(&[("Content-Type", JSON)], "[1]");
    o.answer("[1]", &ctx.send(request).await);
    o
}

async fn json_field_of_wrong_type(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let call =
        json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": 5, "name": "x"}}});
    let request = Request::raw(&[("Content-Type", JSON)], call.to_string());
    o.answer("user: 5", &ctx.send(request).await);
    o
}

async fn protobuf_garbage(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let request = Request::raw(&[("Content-Type", PROTOBUF)], &b"\xff\xff\xff"[..]);
    o.answer("garbage", &ctx.send(request).await);
    o
}

async fn missing_type(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let call = json!({"framework_id": {"value": "no-such-framework"}});
    let request = Request::raw(&[("Content-Type", JSON)], call.to_string());
    o.answer("no type", &ctx.send(request).await);
    o
}

async fn unknown_type(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let call = json!({"type": "NO_SUCH_CALL", "framework_id": {"value": "no-such-framework"}});
    let request = Request::raw(&[("Content-Type", JSON)], call.to_string());
    o.answer("type NO_SUCH_CALL", &ctx.send(request).await);
    o
}

async fn unknown_type_from_unknown_framework(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let call = json!({"type": "UNKNOWN", "framework_id": {"value": "no-such-framework"}});
    let request = Request::raw(&[("Content-Type", JSON)], call.to_string());
    o.answer("type UNKNOWN", &ctx.send(request).await);
    o
}

async fn subscribe_without_subscribe(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let request = Request::raw(
        &[("Content-Type", JSON), ("Accept", JSON)],
        json!({"type": "SUBSCRIBE"}).to_string(),
    );
    o.answer("SUBSCRIBE without subscribe", &ctx.send(request).await);
    o
}

async fn subscribe_without_framework_info(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let request = Request::raw(
        &[("Content-Type", JSON), ("Accept", JSON)],
        json!({"type": "SUBSCRIBE", "subscribe": {}}).to_string(),
    );
    o.answer("SUBSCRIBE without framework_info", &ctx.send(request).await);
    o
}

async fn subscribe_without_user(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let call = json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": {"name": "x"}}});
    let request = Request::raw(
        &[("Content-Type", JSON), ("Accept", JSON)],
        call.to_string(),
    );
    o.answer("SUBSCRIBE without user", &ctx.send(request).await);
    o
}

async fn subscribe_without_user_protobuf(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    // type: SUBSCRIBE, subscribe { framework_info { name: "x" } }
    let body: &[u8] = &[0x10, 0x01, 0x1a, 0x05, 0x0a, 0x03, 0x12, 0x01, b'x'];
    let request = Request::raw(&[("Content-Type", PROTOBUF), ("Accept", PROTOBUF)], body);
    o.answer("SUBSCRIBE without user", &ctx.send(request).await);
    o
}

async fn subscribe_framework_id_differs(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let call = json!({
        "type": "SUBSCRIBE",
        "framework_id": {"value": "a"},
        "subscribe": {"framework_info": {"user": "root", "name": "x", "id": {"value": "b"}}},
    });
    o.answer("framework_id a, framework_info.id b", &ctx.call(call).await);
    o
}

async fn subscribe_accept_text_plain(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let call = ctx.subscribe_call(ctx.framework_info(json!({})));
    let request = Request::call(ctx.media, call).header("Accept", Some("text/plain"));
    o.answer("SUBSCRIBE accepting text/plain", &ctx.send(request).await);
    o
}

async fn subscribe_with_stream_id_header(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let call = ctx.subscribe_call(ctx.framework_info(json!({})));
    let request = Request::call(ctx.media, call).header("Mesos-Stream-Id", Some("abc"));
    o.answer("SUBSCRIBE with Mesos-Stream-Id", &ctx.send(request).await);
    o
}

async fn revive_without_framework_id(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    o.answer(
        "REVIVE without framework_id",
        &ctx.call(json!({"type": "REVIVE"})).await,
    );
    o
}

async fn revive_unknown_framework_accept_text_plain(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let request = Request::raw(
        &[("Content-Type", JSON), ("Accept", "text/plain")],
        revive_unknown(),
    );
    o.answer("REVIVE of an unknown framework", &ctx.send(request).await);
    o
}

async fn decline_without_decline(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let call = json!({"type": "DECLINE", "framework_id": {"value": "no-such-framework"}});
    o.answer("DECLINE without decline", &ctx.call(call).await);
    o
}
