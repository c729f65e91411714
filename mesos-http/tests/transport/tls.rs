//! `https://` endpoints (feature `tls`).

use std::io::{Read, Write};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::*;

const CA: &[u8] = include_bytes!("../data/ca.pem");
const CERT: &[u8] = include_bytes!("../data/localhost.pem");
const KEY: &[u8] = include_bytes!("../data/localhost.key");

/// A one-shot `https` server (a thread with rustls' blocking API) that
/// reads a request's head, answers `response` and waits for the client to
/// hang up; hands back the request head it read.
fn https_once(response: String) -> (String, oneshot::Receiver<String>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from_pem_slice(CERT).unwrap()],
            PrivateKeyDer::from_pem_slice(KEY).unwrap(),
        )
        .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (report, request) = oneshot::channel();
    std::thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        let session = rustls::ServerConnection::new(Arc::new(config)).unwrap();
        let mut tls = rustls::StreamOwned::new(session, socket);
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match tls.read(&mut buf) {
                Ok(n) if n > 0 => head.extend_from_slice(&buf[..n]),
                _ => return,
            }
        }
        let _ = report.send(String::from_utf8_lossy(&head).into_owned());
        if tls
            .write_all(response.as_bytes())
            .and_then(|()| tls.flush())
            .is_ok()
        {
            while matches!(tls.read(&mut buf), Ok(n) if n > 0) {}
        }
    });
    (format!("https://{addr}/api/v1/scheduler"), request)
}

fn tls_client() -> Client {
    Client::builder()
        .tls(mesos_http::TlsConfig::new().ca_pem(CA).unwrap())
        .credentials(mesos_http::Credentials::basic("fw", "s3cret"))
        .build()
        .unwrap()
}

#[tokio::test]
async fn an_https_master_redirecting_to_http_is_refused() {
    let (url, request) = https_once(
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:1/api/v1/scheduler\r\nContent-Length: 0\r\n\r\n"
            .to_string(),
    );
    let url = parse_url(&url).unwrap();
    let err = tls_client()
        .call(&url, &subscribe_call(), None)
        .await
        .unwrap_err();
    // The credentials went to the https master the caller named...
    let request = request.await.unwrap();
    assert!(request.contains("authorization: Basic "), "{request}");
    // ...whose redirect to plain http is refused, with a typed error.
    let location = err.redirect_location().expect("a redirect");
    let refused = mesos_http::resolve_location(&url, location).unwrap_err();
    assert!(
        matches!(
            &refused,
            Error::InsecureRedirect { from, to }
                if *from == url.to_string() && to == "http://127.0.0.1:1/api/v1/scheduler"
        ),
        "{refused:?}"
    );
    assert!(!refused.is_retryable());
    // The scheme-relative form Mesos masters send stays on https.
    let kept = mesos_http::resolve_location(&url, "//127.0.0.1:1/api/v1/scheduler").unwrap();
    assert_eq!(kept.scheme_str(), Some("https"));
}

#[tokio::test]
async fn pipelined_calls_go_over_tls_with_their_headers() {
    let (url, request) =
        https_once("HTTP/1.1 400 Bad Request\r\nContent-Length: 7\r\n\r\nno such".to_string());
    let url = parse_url(&url).unwrap();
    let client = Client::builder()
        .tls(mesos_http::TlsConfig::new().ca_pem(CA).unwrap())
        .credentials(mesos_http::Credentials::basic("fw", "s3cret"))
        .pipelining(8)
        .build()
        .unwrap();
    let err = client
        .call(&url, &subscribe_call(), Some("stream-9"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::BadRequest { message, .. } if message == "no such"),
        "{err:?}"
    );
    let request = request.await.unwrap().to_ascii_lowercase();
    let port = url.port_u16().unwrap();
    for header in [
        "post /api/v1/scheduler http/1.1\r\n".to_string(),
        format!("host: 127.0.0.1:{port}\r\n"),
        "authorization: basic ".to_string(),
        "mesos-stream-id: stream-9\r\n".to_string(),
        "content-type: application/x-protobuf\r\n".to_string(),
        "accept: application/x-protobuf\r\n".to_string(),
    ] {
        assert!(request.contains(&header), "{header:?} in {request}");
    }
}

#[tokio::test]
async fn an_untrusted_certificate_fails_a_pipelined_call_with_what_to_check() {
    let (url, _request) = https_once(String::new());
    let client = Client::builder().pipelining(8).build().unwrap();
    let err = client
        .call(&parse_url(&url).unwrap(), &subscribe_call(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TlsHandshake { .. }), "{err:?}");
    assert!(!err.is_retryable());
}
