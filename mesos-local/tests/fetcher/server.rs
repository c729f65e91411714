//! The loopback HTTP server the fetcher tests download from, and the
//! archives it serves.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The most bytes of a request head the test server reads.
const MAX_REQUEST_HEAD: usize = 8192;

pub(crate) fn tar_gz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data) in entries {
        // Written raw: the builder refuses `..` paths, which a test needs.
        let mut header = tar::Header::new_old();
        header.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        builder.append(&header, *data).expect("tar entry");
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&builder.into_inner().expect("tar"))
        .expect("gzip");
    gz.finish().expect("gzip")
}

pub(crate) fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (path, data) in entries {
        writer
            .start_file(*path, zip::write::SimpleFileOptions::default())
            .expect("zip entry");
        writer.write_all(data).expect("zip data");
    }
    writer.finish().expect("zip").into_inner()
}

/// What the test server saw of a download of `/stall`.
#[derive(Debug, PartialEq)]
pub(crate) enum Stall {
    /// The request came; the head and part of the body were sent.
    Started,
    /// The client closed the connection.
    Closed,
}

/// A loopback HTTP/1.1 server answering GET `/<name>` with `files[name]`
/// (200) or 404, one request per connection; runs until the test ends.
/// `/stall` announces a large body, sends a few bytes and waits for the
/// client to close, reporting both to `stalls`.
pub(crate) async fn serve(
    files: HashMap<&'static str, Vec<u8>>,
    stalls: tokio::sync::mpsc::UnboundedSender<Stall>,
) -> String {
    serve_counting(files, stalls).await.0
}

/// The requests a server received: `(method, path)` in order.
pub(crate) type Requests = Arc<Mutex<Vec<(String, String)>>>;

/// [`serve`], also recording every request it receives.
pub(crate) async fn serve_counting(
    files: HashMap<&'static str, Vec<u8>>,
    stalls: tokio::sync::mpsc::UnboundedSender<Stall>,
) -> (String, Requests) {
    let requests = Requests::default();
    let seen = requests.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let files = Arc::new(files);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let files = files.clone();
            let stalls = stalls.clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut chunk = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_REQUEST_HEAD {
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let mut words = head.split(' ');
                let method = words.next().unwrap_or_default().to_string();
                let path = words.next().unwrap_or("/");
                seen.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((method, path.to_string()));
                if path == "/stall" {
                    let start = "HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\npartial";
                    let _ = socket.write_all(start.as_bytes()).await;
                    let _ = stalls.send(Stall::Started);
                    while matches!(socket.read(&mut chunk).await, Ok(n) if n > 0) {}
                    let _ = stalls.send(Stall::Closed);
                    return;
                }
                let response = match files.get(path.trim_start_matches('/')) {
                    Some(body) => {
                        let mut r = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        r.extend_from_slice(body);
                        r
                    }
                    None => {
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_vec()
                    }
                };
                let _ = socket.write_all(&response).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (format!("http://{address}"), requests)
}

/// How many requests for `path` the server received.
pub(crate) fn count(requests: &Requests, path: &str) -> usize {
    requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|(_, p)| p == path)
        .count()
}
