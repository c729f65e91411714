//! The agent's v1 operator API (`POST /api/v1`, `/slave(N)/api/v1`), as
//! Mesos 1.11's agent answers it: its checks in its order (method,
//! `Content-Type`, `Accept` before the body is read, decoding, call
//! validation), JSON answers unless the client accepts only protobuf, and
//! the calls mesos-local models: GET_HEALTH, GET_VERSION, GET_STATE,
//! GET_FRAMEWORKS, GET_EXECUTORS, GET_TASKS, GET_CONTAINERS and READ_FILE
//! (sandbox files, at most 64 KiB per call as the real agent reads). Any
//! other call answers `501 Not Implemented` naming it.
//!
//! With the cluster's framework credentials set, callers authenticate
//! with them (HTTP Basic); otherwise the API is open, as a real agent's
//! with `--authenticate_http_readonly` off.

use std::path::PathBuf;

use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use mesos_http::server::{self, Body};
use mesos_proto::v1::agent::call::Type as CallType;
use mesos_proto::v1::agent::response::{GetHealth, GetVersion, ReadFile, Type as ResponseType};
use mesos_proto::v1::agent::{Call, Response as AgentResponse};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::executors::operator::Query;
use super::executors::Input;
use super::http::{unavailable, HttpContext};

/// The most READ_FILE returns at once (the real agent's 16 pages).
pub(crate) const MAX_READ: u64 = 16 * 4096;

const MEDIA_TYPES: &str = "application/json or application/x-protobuf or application/recordio";

/// Answers a request to the agent's operator API.
pub(crate) async fn api(ctx: &HttpContext, request: Request<Incoming>) -> Response<Body> {
    if let Some(credentials) = &ctx.operator_credentials {
        if let Err(response) = credentials.authenticate(request.headers()) {
            return response;
        }
    }
    if request.method() != Method::POST {
        return crate::master::http::method_not_allowed(request.method());
    }
    let headers = request.headers();
    if mesos_http::headers::content_type(headers).is_none() {
        if headers.contains_key(http::header::CONTENT_TYPE) {
            return server::text_response(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Expecting 'Content-Type' of {MEDIA_TYPES}"),
            );
        }
        return server::text_response(
            StatusCode::BAD_REQUEST,
            "Expecting 'Content-Type' to be present",
        );
    }
    let Some(media) = crate::master::operator::response_media(headers) else {
        return server::text_response(
            StatusCode::NOT_ACCEPTABLE,
            format!("Expecting 'Accept' to allow {MEDIA_TYPES}"),
        );
    };
    let call = match ctx.reader.read_any_accept::<Call>(request).await {
        Ok((_, _, call)) => call,
        Err(response) => return agent_decode_error(response).await,
    };
    let kind = match validate(&call) {
        Ok(kind) => kind,
        Err(message) => {
            return server::text_response(
                StatusCode::BAD_REQUEST,
                format!("Failed to validate agent::Call: {message}"),
            )
        }
    };
    tracing::debug!(call = kind.as_str_name(), "agent operator call");
    let respond = |response: AgentResponse| server::message_response(media, &response);
    match kind {
        CallType::GetHealth => respond(AgentResponse {
            r#type: Some(ResponseType::GetHealth as i32),
            get_health: Some(GetHealth { healthy: true }),
            ..AgentResponse::default()
        }),
        CallType::GetVersion => respond(AgentResponse {
            r#type: Some(ResponseType::GetVersion as i32),
            get_version: Some(GetVersion {
                version_info: crate::master::operator::state::version_info(),
            }),
            ..AgentResponse::default()
        }),
        CallType::GetState
        | CallType::GetFrameworks
        | CallType::GetExecutors
        | CallType::GetTasks
        | CallType::GetContainers => match ask(ctx, |reply| Query::Read { kind, reply }).await {
            Ok(response) => respond(response),
            Err(response) => response,
        },
        CallType::ReadFile => {
            let read = call.read_file.unwrap_or_default();
            let path = read.path.clone();
            let sandbox = match ask(ctx, |reply| Query::Sandbox { path, reply }).await {
                Ok(sandbox) => sandbox,
                Err(response) => return response,
            };
            let Some((root, file)) = sandbox else {
                return server::text_response(StatusCode::NOT_FOUND, "");
            };
            match read_file(&root, &file, read.offset, read.length).await {
                Ok((size, data)) => respond(AgentResponse {
                    r#type: Some(ResponseType::ReadFile as i32),
                    read_file: Some(ReadFile {
                        size,
                        data: data.into(),
                    }),
                    ..AgentResponse::default()
                }),
                Err(response) => response,
            }
        }
        CallType::Unknown => {
            server::text_response(StatusCode::NOT_IMPLEMENTED, "501 Not Implemented.")
        }
        other => server::text_response(
            StatusCode::NOT_IMPLEMENTED,
            format!("{} is not implemented by mesos-local", other.as_str_name()),
        ),
    }
}

async fn ask<T>(
    ctx: &HttpContext,
    make: impl FnOnce(tokio::sync::oneshot::Sender<T>) -> Query,
) -> Result<T, Response<Body>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    if ctx.input.send(Input::Operator(make(tx))).is_err() {
        return Err(unavailable());
    }
    rx.await.map_err(|_| unavailable())
}

/// The agent words decoding failures without the master's prefix.
async fn agent_decode_error(response: Response<Body>) -> Response<Body> {
    const PREFIX: &str = "Failed to convert JSON into Call protobuf: ";
    if response.status() != StatusCode::BAD_REQUEST {
        return response;
    }
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body);
    if text.starts_with("Failed to parse body into Call protobuf") {
        return server::text_response(
            StatusCode::BAD_REQUEST,
            "Failed to parse body into a protobuf object",
        );
    }
    let message = match text.strip_prefix(PREFIX) {
        Some(rest) if rest.contains("expected struct") || rest.starts_with("invalid type") => {
            "Expecting a JSON object".to_string()
        }
        Some(rest) => rest.to_string(),
        None => text.into_owned(),
    };
    server::text_response(StatusCode::BAD_REQUEST, message)
}

/// `validation::agent::call::validate` for what mesos-local checks: a type,
/// and READ_FILE's message.
fn validate(call: &Call) -> Result<CallType, String> {
    let Some(kind) = call.r#type.and_then(|t| CallType::try_from(t).ok()) else {
        return Err("Expecting 'type' to be present".to_string());
    };
    let missing = match kind {
        CallType::GetMetrics => call.get_metrics.is_none().then_some("get_metrics"),
        CallType::SetLoggingLevel => call
            .set_logging_level
            .is_none()
            .then_some("set_logging_level"),
        CallType::ListFiles => call.list_files.is_none().then_some("list_files"),
        CallType::ReadFile => call.read_file.is_none().then_some("read_file"),
        _ => None,
    };
    match missing {
        Some(field) => Err(format!("Expecting '{field}' to be present")),
        None => Ok(kind),
    }
}

/// Reads at most [`MAX_READ`] bytes of `file` from `offset` (all of the
/// rest up to that without `length`), as the real agent's files process:
/// the file's size and the data; an offset past the end reads nothing.
/// The file must resolve (links followed) inside `root`.
pub(crate) async fn read_file(
    root: &std::path::Path,
    file: &std::path::Path,
    offset: u64,
    length: Option<u64>,
) -> Result<(u64, Vec<u8>), Response<Body>> {
    let not_found = || server::text_response(StatusCode::NOT_FOUND, "");
    let (Ok(root), Ok(file)) = (
        tokio::fs::canonicalize(root).await,
        tokio::fs::canonicalize(file).await,
    ) else {
        return Err(not_found());
    };
    if !file.starts_with(&root) {
        tracing::warn!(path = %file.display(), "READ_FILE outside the sandbox refused");
        return Err(not_found());
    }
    let metadata = tokio::fs::metadata(&file).await.map_err(|_| not_found())?;
    if metadata.is_dir() {
        return Err(server::text_response(
            StatusCode::BAD_REQUEST,
            "Cannot read a directory.\n",
        ));
    }
    let size = metadata.len();
    let length = length.unwrap_or(size.saturating_sub(offset)).min(MAX_READ);
    if offset >= size || length == 0 {
        return Ok((size, Vec::new()));
    }
    let failed = |e: std::io::Error, file: &PathBuf| {
        server::text_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("Failed to read file at '{}': {e}.\n", file.display()),
        )
    };
    let mut handle = tokio::fs::File::open(&file)
        .await
        .map_err(|e| failed(e, &file))?;
    handle
        .seek(std::io::SeekFrom::Start(offset))
        .await
        .map_err(|e| failed(e, &file))?;
    let mut data = Vec::with_capacity(usize::try_from(length).unwrap_or(0));
    handle
        .take(length)
        .read_to_end(&mut data)
        .await
        .map_err(|e| failed(e, &file))?;
    Ok((size, data))
}
