//! The page's routes over plain HTTP: the embedded assets with their
//! Content-Security-Policy, and the master's READ_FILE proxy refusing what
//! it does not serve.

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use mesos_local::LocalCluster;

/// `method` `url` with `body` (JSON when not empty): status, headers, body.
async fn request(method: Method, url: &str, body: &str) -> (StatusCode, http::HeaderMap, String) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut builder = Request::builder().method(method).uri(url);
    if !body.is_empty() {
        builder = builder
            .header("Content-Type", "application/json")
            .header("Accept", "application/json");
    }
    let request = builder
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a request");
    let response = tokio::time::timeout(super::SOON, client.request(request))
        .await
        .expect("an answer in time")
        .expect("an answer");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

async fn cluster() -> LocalCluster {
    mesos_test_support::init_tracing();
    LocalCluster::builder()
        .start()
        .await
        .unwrap_or_else(|e| panic!("the cluster starts: {}", mesos_http::error_chain(&e)))
}

#[tokio::test]
async fn the_page_and_its_assets_are_served_with_a_strict_policy() {
    let cluster = cluster().await;
    let master = cluster.master_url();
    for (path, content_type, marker) in [
        ("/", "text/html", "<script src=\"/cluster/app.js\""),
        ("/cluster/app.js", "text/javascript", "RecordIoParser"),
        ("/cluster/style.css", "text/css", "#connection"),
    ] {
        let (status, headers, body) = request(Method::GET, &format!("{master}{path}"), "").await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        assert!(header("content-type").starts_with(content_type), "{path}");
        let policy = header("content-security-policy");
        assert!(
            policy.contains("script-src 'self'") && policy.contains("connect-src 'self'"),
            "{path}: {policy}"
        );
        assert!(!policy.contains("unsafe-inline"), "{path}: {policy}");
        assert!(body.contains(marker), "{path}");
    }
    let (status, _, _) = request(Method::POST, &format!("{master}/"), "").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _, _) = request(Method::GET, &format!("{master}/cluster/other.js"), "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_read_file_proxy_refuses_what_it_does_not_serve() {
    let cluster = cluster().await;
    let master = cluster.master_url();
    let agent = cluster.agent_ids()[0].value.clone();
    let proxy = format!("{master}/cluster/agents/{agent}/api/v1");
    let read = |path: &str| {
        format!(r#"{{"type": "READ_FILE", "read_file": {{"path": "{path}", "offset": 0}}}}"#)
    };

    let (status, _, body) = request(
        Method::POST,
        &format!("{master}/cluster/agents/no-such-agent/api/v1"),
        &read("/frameworks/f/executors/e/runs/latest/stdout"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body.contains("No agent"), "{body}");

    for path in [
        "/frameworks/f/executors/e/runs/latest/stdout",
        "/frameworks/f/executors/e/runs/latest/../../../../../etc/passwd",
        "/etc/passwd",
    ] {
        let (status, _, body) = request(Method::POST, &proxy, &read(path)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }

    let (status, _, body) = request(Method::POST, &proxy, r#"{"type": "GET_STATE"}"#).await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED, "{body}");
    assert!(body.contains("GET_STATE"), "{body}");

    let (status, _, body) = request(Method::POST, &proxy, r#"{"type": "READ_FILE"}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (status, _, _) = request(Method::GET, &proxy, "").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}
