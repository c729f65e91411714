//! The agent's v1 executor API (`POST /api/v1/executor` and
//! `/slave(N)/api/v1/executor`), as `src/slave/http.cpp`: calls are decoded
//! here and answered by the agent task. The operator API (`/api/v1`,
//! `/slave(N)/api/v1`) is in [`super::operator`].

#![allow(clippy::result_large_err)]

use std::sync::Arc;

use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use mesos_http::server::{self, Body};
use mesos_proto::v1::executor::{call, Call};
use mesos_proto::v1::{task_status, ExecutorId, FrameworkId, TaskState, TaskStatus};
use tokio::sync::{mpsc, oneshot};

use super::executors::{Input, Rejection};

/// What every request handler needs.
pub(crate) struct HttpContext {
    /// `/slave(N)/api/v1/executor`.
    pub(crate) prefixed_path: String,
    /// `/slave(N)/api/v1` (the operator API, also at `/api/v1`).
    pub(crate) operator_path: String,
    /// Who may call the operator API (None: anyone).
    pub(crate) operator_credentials: Option<crate::auth::Credentials>,
    pub(crate) input: mpsc::UnboundedSender<Input>,
    /// Reads calls under the server's limits.
    pub(crate) reader: server::CallReader,
    /// Executor authentication (`--authenticate_http_executors`).
    pub(crate) tokens: Arc<crate::auth::ExecutorTokens>,
}

fn rejected(rejection: Rejection) -> Response<Body> {
    server::text_response(rejection.status, rejection.message)
}

/// `202 Accepted` when the agent took the call, else why it did not.
fn accepted(answer: Result<Result<(), Rejection>, Response<Body>>) -> Response<Body> {
    match answer {
        Ok(Ok(())) => server::empty_response(StatusCode::ACCEPTED),
        Ok(Err(rejection)) => rejected(rejection),
        Err(response) => response,
    }
}

fn invalid(message: &str) -> Response<Body> {
    server::text_response(
        StatusCode::BAD_REQUEST,
        format!("Failed to validate Executor::Call: {message}"),
    )
}

pub(crate) fn unavailable() -> Response<Body> {
    server::text_response(StatusCode::SERVICE_UNAVAILABLE, "Agent is shutting down")
}

/// Sends `make(reply)` to the agent task and waits for its answer.
pub(crate) async fn ask<T>(
    ctx: &HttpContext,
    make: impl FnOnce(oneshot::Sender<Result<T, Rejection>>) -> Input,
) -> Result<Result<T, Rejection>, Response<Body>> {
    let (tx, rx) = oneshot::channel();
    if ctx.input.send(make(tx)).is_err() {
        return Err(unavailable());
    }
    rx.await.map_err(|_| unavailable())
}

/// Answers one HTTP request.
pub(crate) async fn handle(ctx: Arc<HttpContext>, request: Request<Incoming>) -> Response<Body> {
    let path = request.uri().path();
    if path == "/api/v1" || path == ctx.operator_path {
        return super::operator::api(&ctx, request).await;
    }
    if path != "/api/v1/executor" && path != ctx.prefixed_path {
        return server::text_response(StatusCode::NOT_FOUND, "");
    }
    if request.method() != Method::POST {
        return crate::master::http::method_not_allowed(request.method());
    }
    // As the real agent: authentication first, before the body is read.
    let authenticated = match ctx.tokens.authenticate(request.headers()) {
        Ok(key) => key,
        Err(response) => return response,
    };
    let (negotiated, _parts, call) = match ctx.reader.read::<Call>(request).await {
        Ok(decoded) => decoded,
        Err(response) => return response,
    };
    if let Some((framework, executor)) = &authenticated {
        if *framework != call.framework_id.value || *executor != call.executor_id.value {
            tracing::warn!(
                token_framework_id = framework,
                token_executor_id = executor,
                framework_id = call.framework_id.value,
                executor_id = call.executor_id.value,
                "executor call for another executor than its token's; refused"
            );
            return server::text_response(
                StatusCode::FORBIDDEN,
                format!(
                    "The authentication token is not for executor '{}' of framework '{}'",
                    call.executor_id.value, call.framework_id.value
                ),
            );
        }
    }
    if has_unknown_state(&call) {
        // The real agent cannot parse such a body: an unknown enum value
        // leaves the required `state` unset.
        return server::text_response(
            StatusCode::BAD_REQUEST,
            "Failed to parse body into Call protobuf",
        );
    }
    let kind = call::Type::try_from(call.r#type.unwrap_or_default()).unwrap_or(call::Type::Unknown);
    let Call {
        framework_id,
        executor_id,
        subscribe,
        update,
        message,
        ..
    } = call;
    tracing::debug!(
        call = kind.as_str_name(),
        framework_id = framework_id.value,
        executor_id = executor_id.value,
        "executor call"
    );
    match kind {
        call::Type::Heartbeat => server::empty_response(StatusCode::ACCEPTED),
        call::Type::Subscribe => {
            let Some(subscribe) = subscribe else {
                return invalid("Expecting 'subscribe' to be present");
            };
            let answer = ask(&ctx, |reply| Input::Subscribe {
                framework_id,
                executor_id,
                subscribe,
                reply,
            })
            .await;
            match answer {
                Ok(Ok(events)) => {
                    server::event_stream_response(negotiated.response, None, events.into_stream())
                }
                Ok(Err(rejection)) => rejected(rejection),
                Err(response) => response,
            }
        }
        call::Type::Update => {
            let Some(update) = update else {
                return invalid("Expecting 'update' to be present");
            };
            let status = update.status;
            if let Err(message) = validate_update(&framework_id, &executor_id, &status) {
                return invalid(&message);
            }
            let answer = ask(&ctx, |reply| Input::Update {
                framework_id,
                executor_id,
                status: Box::new(status),
                reply,
            })
            .await;
            accepted(answer)
        }
        call::Type::Message => {
            let Some(message) = message else {
                return invalid("Expecting 'message' to be present");
            };
            let data = message.data;
            let answer = ask(&ctx, |reply| Input::Message {
                framework_id,
                executor_id,
                data,
                reply,
            })
            .await;
            accepted(answer)
        }
        // Absent or out of range, as the real agent (which drops an
        // unknown enum value while parsing).
        call::Type::Unknown => invalid("Expecting 'type' to be present"),
    }
}

/// An executor's UPDATE as the real agent validates it
/// (`validateExecutorCall`), in its order and with its messages.
fn validate_update(
    framework_id: &FrameworkId,
    executor_id: &ExecutorId,
    status: &TaskStatus,
) -> Result<(), String> {
    let Some(uuid) = &status.uuid else {
        return Err("Expecting 'uuid' to be present".into());
    };
    if !crate::master::validation::valid_uuid(uuid) {
        return Err("Not a valid UUID".into());
    }
    if let Some(id) = &status.executor_id {
        if id != executor_id {
            return Err(format!(
                "ExecutorID in Call: {} does not match ExecutorID in TaskStatus: {}",
                executor_id.value, id.value
            ));
        }
    }
    let from = format!(
        "executor {} of framework {}",
        executor_id.value, framework_id.value
    );
    if status.source != Some(task_status::Source::Executor as i32) {
        return Err(format!(
            "Received Call from {from} with invalid source, expecting 'SOURCE_EXECUTOR'"
        ));
    }
    if status.state == TaskState::TaskStaging as i32 {
        return Err(format!(
            "Received TASK_STAGING from {from} which is not allowed"
        ));
    }
    Ok(())
}

/// Whether a status the call carries has a state no `TaskState` has.
fn has_unknown_state(call: &Call) -> bool {
    let unknown = |state: i32| mesos_proto::v1::TaskState::try_from(state).is_err();
    call.update
        .as_ref()
        .is_some_and(|update| unknown(update.status.state))
        || call.subscribe.as_ref().is_some_and(|subscribe| {
            subscribe
                .unacknowledged_updates
                .iter()
                .any(|update| unknown(update.status.state))
        })
}
