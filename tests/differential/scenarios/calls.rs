//! Every other call from a subscribed framework: the accept paths and the
//! main validation errors.

use serde_json::json;

use super::{Ctx, EVENT_WAIT};
use crate::observe::{self, Observations};

crate::scenarios!(
    both revive_and_suppress_are_accepted,
    json revive_accept_text_plain,
    json decline_unknown_offer,
    json accept_unknown_offer,
    json acknowledge_invalid_uuid,
    json acknowledge_unknown_task,
    both reconcile_unknown_task,
    json reconcile_unknown_task_partition_aware,
    json reconcile_all_without_tasks,
    json kill_unknown_task,
    json kill_unknown_task_partition_aware,
    json update_framework_changes_user,
    json update_framework_changes_name,
    json update_framework_id_differs,
    json message_to_unknown_agent,
    json shutdown_unknown_executor,
    json request_is_accepted,
    json reconcile_operations_answers,
);

async fn revive_and_suppress_are_accepted(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let framework = ctx.subscribe(json!({})).await;
    for kind in ["SUPPRESS", "REVIVE"] {
        o.answer(kind, &ctx.framework_call(&framework, kind, json!({})).await);
    }
    let roles = json!({"suppress": {"roles": ["*"]}});
    o.answer(
        "SUPPRESS *",
        &ctx.framework_call(&framework, "SUPPRESS", roles).await,
    );
    let roles = json!({"revive": {"roles": ["*"]}});
    o.answer(
        "REVIVE *",
        &ctx.framework_call(&framework, "REVIVE", roles).await,
    );
    ctx.teardown(&framework).await;
    o
}

async fn revive_accept_text_plain(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let framework = ctx.subscribe(json!({})).await;
    let call = json!({"type": "REVIVE", "framework_id": {"value": framework.framework_id}});
    let request = crate::http::Request::call(ctx.media, call)
        .header("Accept", Some("text/plain"))
        .header("Mesos-Stream-Id", Some(&framework.stream_id));
    o.answer("REVIVE accepting text/plain", &ctx.send(request).await);
    ctx.teardown(&framework).await;
    o
}

async fn decline_unknown_offer(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let framework = ctx.subscribe(json!({})).await;
    let decline = json!({"decline": {"offer_ids": [{"value": "no-such-offer"}]}});
    o.answer(
        "DECLINE",
        &ctx.framework_call(&framework, "DECLINE", decline).await,
    );
    ctx.teardown(&framework).await;
    o
}

async fn accept_unknown_offer(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let framework = ctx.subscribe(json!({})).await;
    let accept = json!({"accept": {"offer_ids": [{"value": "no-such-offer"}], "operations": []}});
    o.answer(
        "ACCEPT",
        &ctx.framework_call(&framework, "ACCEPT", accept).await,
    );
    ctx.teardown(&framework).await;
    o
}

async fn acknowledge_invalid_uuid(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let framework = ctx.subscribe(json!({})).await;
    let ack = json!({"acknowledge": {
        "agent_id": {"value": "no-such-agent"},
        "task_id": {"value": "t"},
        "uuid": "AAEC",
    }});
    o.answer(
        "ACKNOWLEDGE",
        &ctx.framework_call(&framework, "ACKNOWLEDGE", ack).await,
    );
    ctx.teardown(&framework).await;
    o
}

async fn acknowledge_unknown_task(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let framework = ctx.subscribe(json!({})).await;
    let ack = json!({"acknowledge": {
        "agent_id": {"value": "no-such-agent"},
        "task_id": {"value": "t"},
        "uuid": "AAECAwQFBgcICQoLDA0ODw==",
    }});
    o.answer(
        "ACKNOWLEDGE",
        &ctx.framework_call(&framework, "ACKNOWLEDGE", ack).await,
    );
    ctx.teardown(&framework).await;
    o
}

async fn reconcile(ctx: &Ctx, extra: serde_json::Value, o: &mut Observations) {
    let mut framework = ctx.subscribe(extra).await;
    let reconcile = json!({"reconcile": {"tasks": [{"task_id": {"value": "no-such-task"}}]}});
    o.answer(
        "RECONCILE",
        &ctx.framework_call(&framework, "RECONCILE", reconcile).await,
    );
    let update = framework.events().wait_for("UPDATE", EVENT_WAIT).await;
    o.push("UPDATE", json!(update.map(|e| observe::update(&e))));
    ctx.teardown(&framework).await;
}

async fn reconcile_unknown_task(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    reconcile(&ctx, json!({}), &mut o).await;
    o
}

async fn reconcile_unknown_task_partition_aware(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    reconcile(
        &ctx,
        json!({"capabilities": [{"type": "PARTITION_AWARE"}]}),
        &mut o,
    )
    .await;
    o
}

async fn reconcile_all_without_tasks(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let mut framework = ctx.subscribe(json!({})).await;
    let reconcile = json!({"reconcile": {}});
    o.answer(
        "RECONCILE",
        &ctx.framework_call(&framework, "RECONCILE", reconcile).await,
    );
    // Barrier: an explicit reconciliation is answered after the implicit one.
    let barrier = json!({"reconcile": {"tasks": [{"task_id": {"value": "barrier"}}]}});
    ctx.framework_call(&framework, "RECONCILE", barrier).await;
    let update = framework.events().wait_for("UPDATE", EVENT_WAIT).await;
    o.push(
        "first UPDATE is the barrier's",
        json!(update.map(|e| e["update"]["status"]["task_id"]["value"] == "barrier")),
    );
    ctx.teardown(&framework).await;
    o
}

async fn kill(ctx: &Ctx, extra: serde_json::Value, o: &mut Observations) {
    let mut framework = ctx.subscribe(extra).await;
    let kill = json!({"kill": {"task_id": {"value": "no-such-task"}}});
    o.answer("KILL", &ctx.framework_call(&framework, "KILL", kill).await);
    let update = framework.events().wait_for("UPDATE", EVENT_WAIT).await;
    o.push("UPDATE", json!(update.map(|e| observe::update(&e))));
    ctx.teardown(&framework).await;
}

async fn kill_unknown_task(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    kill(&ctx, json!({}), &mut o).await;
    o
}

async fn kill_unknown_task_partition_aware(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    kill(
        &ctx,
        json!({"capabilities": [{"type": "PARTITION_AWARE"}]}),
        &mut o,
    )
    .await;
    o
}

async fn update_framework(ctx: &Ctx, change: serde_json::Value, o: &mut Observations) {
    let framework = ctx.subscribe(json!({})).await;
    let mut info = ctx.framework_info(json!({"id": {"value": framework.framework_id}}));
    super::merge(&mut info, change);
    let update = json!({"update_framework": {"framework_info": info}});
    o.answer(
        "UPDATE_FRAMEWORK",
        &ctx.framework_call(&framework, "UPDATE_FRAMEWORK", update)
            .await,
    );
    ctx.teardown(&framework).await;
}

async fn update_framework_changes_user(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    update_framework(&ctx, json!({"user": "nobody"}), &mut o).await;
    o
}

async fn update_framework_changes_name(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    update_framework(&ctx, json!({"name": "renamed"}), &mut o).await;
    o
}

async fn update_framework_id_differs(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    update_framework(&ctx, json!({"id": {"value": "another"}}), &mut o).await;
    o
}

async fn message_to_unknown_agent(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let framework = ctx.subscribe(json!({})).await;
    let message = json!({"message": {
        "agent_id": {"value": "no-such-agent"},
        "executor_id": {"value": "e"},
        "data": "aGk=",
    }});
    o.answer(
        "MESSAGE",
        &ctx.framework_call(&framework, "MESSAGE", message).await,
    );
    ctx.teardown(&framework).await;
    o
}

async fn shutdown_unknown_executor(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let framework = ctx.subscribe(json!({})).await;
    let shutdown = json!({"shutdown": {
        "executor_id": {"value": "no-such-executor"},
        "agent_id": {"value": "no-such-agent"},
    }});
    o.answer(
        "SHUTDOWN",
        &ctx.framework_call(&framework, "SHUTDOWN", shutdown).await,
    );
    ctx.teardown(&framework).await;
    o
}

async fn request_is_accepted(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let framework = ctx.subscribe(json!({})).await;
    let request = json!({"request": {"requests": []}});
    o.answer(
        "REQUEST",
        &ctx.framework_call(&framework, "REQUEST", request).await,
    );
    ctx.teardown(&framework).await;
    o
}

async fn reconcile_operations_answers(ctx: Ctx) -> Observations {
    let mut o = Observations::default();
    let framework = ctx.subscribe(json!({})).await;
    let call = json!({"reconcile_operations": {"operations": []}});
    let answer = ctx
        .framework_call(&framework, "RECONCILE_OPERATIONS", call)
        .await;
    o.answer("RECONCILE_OPERATIONS", &answer);
    ctx.teardown(&framework).await;
    o
}
