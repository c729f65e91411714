//! The master's live cluster page at `/`: a single-page app (HTML, JS and
//! CSS embedded in the binary, no network) that follows the operator API's
//! SUBSCRIBE stream in the browser and shows the agents (resources used and
//! total), the frameworks, and the active and recent tasks with their
//! states.
//!
//! A task's sandbox files are read through the master: the page is served
//! by the master and the agents listen on other ports (a browser would need
//! CORS to call them), so the master answers an agent's READ_FILE call at
//! `POST /cluster/agents/<agent id>/api/v1` itself. It asks the agent (over
//! the in-process link) which sandbox the path names, then reads the file
//! as the agent's own READ_FILE does (same bounds, same refusals). No other
//! agent call is proxied.
//!
//! Every answer carries a Content-Security-Policy that allows only the
//! page's own script, style and same-origin requests (no inline script).

use std::sync::Arc;
use std::time::Duration;

use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use mesos_http::server::{self, Body};
use mesos_proto::v1::agent::call::Type as AgentCallType;
use mesos_proto::v1::agent::response::{ReadFile, Type as AgentResponseType};
use mesos_proto::v1::agent::{Call as AgentCall, Response as AgentResponse};
use mesos_proto::MediaType;
use tokio::sync::mpsc;

use super::Core;
use crate::protocol::ToAgent;

const INDEX_HTML: &str = include_str!("index.html");
const APP_JS: &str = include_str!("app.js");
const STYLE_CSS: &str = include_str!("style.css");

/// The page's policy: its own script and style only, requests to the
/// master only, no frames, no plugins.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// The path prefix of the master's READ_FILE proxy to an agent.
const AGENTS_PREFIX: &str = "/cluster/agents/";

/// How long the master waits for an agent to name a sandbox.
const AGENT_ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether `path` (without a trailing slash) is one of the page's.
pub(crate) fn is_page_path(path: &str) -> bool {
    matches!(
        path,
        "" | "/index.html" | "/favicon.ico" | "/cluster/app.js" | "/cluster/style.css"
    ) || agent_of_proxy_path(path).is_some()
}

/// Answers a request to one of the page's paths ([`is_page_path`]).
pub(crate) async fn route(core: Arc<Core>, request: Request<Incoming>) -> Response<Body> {
    let path = request.uri().path().trim_end_matches('/').to_string();
    if let Some(agent_id) = agent_of_proxy_path(&path) {
        let agent_id = agent_id.to_string();
        return read_file(core, &agent_id, request).await;
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return server::text_response(
            StatusCode::METHOD_NOT_ALLOWED,
            format!(
                "405 Method Not Allowed. Expecting one of {{ 'GET' }}, but received '{}'.",
                request.method()
            ),
        );
    }
    match path.as_str() {
        "/favicon.ico" => server::empty_response(StatusCode::NO_CONTENT),
        "" | "/index.html" => asset(INDEX_HTML, "text/html; charset=utf-8"),
        "/cluster/app.js" => asset(APP_JS, "text/javascript; charset=utf-8"),
        _ => asset(STYLE_CSS, "text/css; charset=utf-8"),
    }
}

/// The agent id of `/cluster/agents/<id>/api/v1`.
fn agent_of_proxy_path(path: &str) -> Option<&str> {
    let id = path.strip_prefix(AGENTS_PREFIX)?.strip_suffix("/api/v1")?;
    (!id.is_empty() && !id.contains('/')).then_some(id)
}

fn asset(text: &'static str, content_type: &'static str) -> Response<Body> {
    let mut response = server::text_response(StatusCode::OK, text);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The agent's READ_FILE, answered by the master: the same checks as the
/// operator API (authentication, method, decoding, `Accept`), then the
/// agent names the sandbox and the master reads the file.
async fn read_file(core: Arc<Core>, agent_id: &str, request: Request<Incoming>) -> Response<Body> {
    if let Some(credentials) = &core.credentials {
        if let Err(response) = credentials.authenticate(request.headers()) {
            return response;
        }
    }
    if request.method() != Method::POST {
        return super::http::method_not_allowed(request.method());
    }
    let (_, parts, call) = match core.reader.read_any_accept::<AgentCall>(request).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let Some(media) = super::operator::response_media(&parts.headers) else {
        return server::text_response(
            StatusCode::NOT_ACCEPTABLE,
            format!(
                "Expecting 'Accept' to allow '{}' or '{}'",
                MediaType::Protobuf.mime(),
                MediaType::Json.mime()
            ),
        );
    };
    let read = match (call.r#type(), call.read_file) {
        (AgentCallType::ReadFile, Some(read)) => read,
        (AgentCallType::ReadFile, None) => {
            return server::text_response(
                StatusCode::BAD_REQUEST,
                "Failed to validate agent::Call: Expecting 'read_file' to be present",
            )
        }
        (other, _) => {
            return server::text_response(
                StatusCode::NOT_IMPLEMENTED,
                format!(
                    "the master proxies only READ_FILE to agents, not {}",
                    other.as_str_name()
                ),
            )
        }
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let message = ToAgent::Sandbox {
        path: read.path.clone(),
        reply: tx,
    };
    if !core.run(|state, _| state.send_to_agent(agent_id, message)) {
        return server::text_response(StatusCode::NOT_FOUND, "No agent found with specified ID");
    }
    let sandbox = match tokio::time::timeout(AGENT_ANSWER_TIMEOUT, rx.recv()).await {
        Ok(Some(sandbox)) => sandbox,
        Ok(None) | Err(_) => {
            return server::text_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "The agent did not answer",
            )
        }
    };
    let Some((root, file)) = sandbox else {
        return server::text_response(StatusCode::NOT_FOUND, "");
    };
    match crate::agent::operator::read_file(&root, &file, read.offset, read.length).await {
        Ok((size, data)) => server::message_response(
            media,
            &AgentResponse {
                r#type: Some(AgentResponseType::ReadFile as i32),
                read_file: Some(ReadFile {
                    size,
                    data: data.into(),
                }),
                ..AgentResponse::default()
            },
        ),
        Err(response) => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proxy_path_names_one_agent() {
        assert_eq!(
            agent_of_proxy_path("/cluster/agents/abc-S0/api/v1"),
            Some("abc-S0")
        );
        assert_eq!(agent_of_proxy_path("/cluster/agents//api/v1"), None);
        assert_eq!(agent_of_proxy_path("/cluster/agents/a/b/api/v1"), None);
        assert_eq!(agent_of_proxy_path("/cluster/agents/a"), None);
        assert!(is_page_path(""));
        assert!(is_page_path("/cluster/app.js"));
        assert!(!is_page_path("/cluster/other.js"));
    }

    #[test]
    fn assets_load_no_inline_script_nor_remote_resource() {
        assert!(INDEX_HTML.contains(r#"<script src="/cluster/app.js""#));
        assert!(!INDEX_HTML.contains("<script>"));
        for asset in [INDEX_HTML, APP_JS, STYLE_CSS] {
            assert!(!asset.contains("http://") && !asset.contains("https://"));
        }
    }
}
