//! The fetcher on local files, archives built here and a loopback HTTP
//! server (raw HTTP/1.1 over a tokio listener).

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use mesos_proto::v1::command_info::Uri;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

/// Fetches with the default settings, without a user.
async fn fetch_all(uris: &[Uri], sandbox: &Path) -> Result<(), FetchFailure> {
    let work_dir = tempfile::tempdir().unwrap();
    Fetcher::new(FetcherConfig::default(), work_dir.path())
        .fetch_all(uris, sandbox, None)
        .await
}

fn uri(value: &str) -> Uri {
    Uri {
        value: value.to_string(),
        ..Uri::default()
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A `.tar.gz` with `entries` (path, contents) written raw, so that paths
/// the `tar` builder refuses (`../x`) can be made.
fn tar_gz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data) in entries {
        let mut header = tar::Header::new_old();
        let name = &mut header.as_old_mut().name;
        name[..path.len()].copy_from_slice(path.as_bytes());
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        builder.append(&header, *data).unwrap();
    }
    let tar = builder.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (path, data) in entries {
        writer
            .start_file(*path, zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

#[tokio::test]
async fn local_copy_executable_and_output_file() {
    let source = tempfile::tempdir().unwrap();
    let sandbox = tempfile::tempdir().unwrap();
    let script = source.path().join("hello.sh");
    std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut executable = uri(&format!("file://{}", script.display()));
    executable.executable = Some(true);
    let mut renamed = uri(script.to_str().unwrap());
    renamed.output_file = Some("bin/renamed.sh".into());
    fetch_all(&[executable, renamed], sandbox.path())
        .await
        .unwrap();
    assert_eq!(mode(&sandbox.path().join("hello.sh")), 0o755);
    assert_eq!(
        std::fs::read_to_string(sandbox.path().join("bin/renamed.sh")).unwrap(),
        "#!/bin/sh\necho hi\n"
    );
    let log = std::fs::read_to_string(sandbox.path().join("stderr")).unwrap();
    assert!(log.contains("Successfully fetched all URIs into"), "{log}");
}

#[tokio::test]
async fn archives_are_extracted_unless_extract_is_false() {
    let source = tempfile::tempdir().unwrap();
    let sandbox = tempfile::tempdir().unwrap();
    let tgz = source.path().join("app.tar.gz");
    std::fs::write(&tgz, tar_gz(&[("app/run.txt", b"tgz")])).unwrap();
    let zip = source.path().join("conf.zip");
    std::fs::write(&zip, zip_of(&[("conf/a.txt", b"zip")])).unwrap();
    let kept = source.path().join("kept.tar.gz");
    std::fs::write(&kept, tar_gz(&[("kept/no.txt", b"no")])).unwrap();
    let mut not_extracted = uri(kept.to_str().unwrap());
    not_extracted.extract = Some(false);
    let uris = [
        uri(tgz.to_str().unwrap()),
        uri(zip.to_str().unwrap()),
        not_extracted,
    ];
    fetch_all(&uris, sandbox.path()).await.unwrap();
    let read = |p: &str| std::fs::read_to_string(sandbox.path().join(p)).unwrap();
    assert_eq!(read("app/run.txt"), "tgz");
    assert_eq!(read("conf/a.txt"), "zip");
    assert!(sandbox.path().join("app.tar.gz").is_file());
    assert!(sandbox.path().join("kept.tar.gz").is_file());
    assert!(!sandbox.path().join("kept").exists());
}

#[tokio::test]
async fn escaping_entries_and_bad_uris_are_refused() {
    let source = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let sandbox = root.path().join("sandbox");
    std::fs::create_dir(&sandbox).unwrap();
    let evil = source.path().join("evil.tgz");
    std::fs::write(&evil, tar_gz(&[("../escaped.txt", b"x")])).unwrap();
    let failure = fetch_all(&[uri(evil.to_str().unwrap())], &sandbox)
        .await
        .unwrap_err();
    assert!(
        matches!(failure.error, FetchError::Extract { .. }),
        "{failure}"
    );
    assert!(
        failure.to_string().contains("outside the sandbox"),
        "{failure}"
    );
    assert!(!root.path().join("escaped.txt").exists());

    let evil_zip = source.path().join("evil.zip");
    std::fs::write(&evil_zip, zip_of(&[("../escaped.txt", b"x")])).unwrap();
    let failure = fetch_all(&[uri(evil_zip.to_str().unwrap())], &sandbox)
        .await
        .unwrap_err();
    assert!(
        failure.to_string().contains("outside the sandbox"),
        "{failure}"
    );
    assert!(!root.path().join("escaped.txt").exists());

    let mut outside = uri(evil.to_str().unwrap());
    outside.output_file = Some("../x".into());
    let failure = fetch_all(&[outside], &sandbox).await.unwrap_err();
    assert_eq!(
        failure.error.to_string(),
        "URI output file must be within the sandbox directory"
    );
    let failure = fetch_all(&[uri("hdfs://namenode/app.jar")], &sandbox)
        .await
        .unwrap_err();
    assert!(matches!(failure.error, FetchError::UnsupportedScheme(ref s) if s == "hdfs"));
    let failure = fetch_all(&[uri("relative/app.jar")], &sandbox)
        .await
        .unwrap_err();
    assert!(matches!(failure.error, FetchError::Invalid(_)));
}

/// Serves `/hello.sh` (200), `/moved` (302 to `/hello.sh`), `/loop`
/// (redirects to itself) and 404 for anything else, for `requests`
/// connections.
async fn serve(requests: usize) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        for _ in 0..requests {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut buffer = vec![0u8; 4096];
            let mut len = 0;
            while !buffer[..len].windows(4).any(|w| w == b"\r\n\r\n") && len < buffer.len() {
                match socket.read(&mut buffer[len..]).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => len += n,
                }
            }
            let request = String::from_utf8_lossy(&buffer[..len]);
            let path = request.split(' ').nth(1).unwrap_or("/").to_string();
            let response = match path.as_str() {
                "/hello.sh" => "HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\necho hi\n\n".to_string(),
                "/moved" => "HTTP/1.1 302 Found\r\nLocation: /hello.sh\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(),
                "/loop" => "HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(),
                _ => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(),
            };
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn http_downloads_follow_redirects_and_report_status() {
    let base = serve(2 + 1 + 1 + MAX_LOOP).await;
    let sandbox = tempfile::tempdir().unwrap();
    let mut moved = uri(&format!("{base}/moved"));
    moved.output_file = Some("via-redirect.sh".into());
    fetch_all(&[uri(&format!("{base}/hello.sh")), moved], sandbox.path())
        .await
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(sandbox.path().join("hello.sh")).unwrap(),
        "echo hi\n\n"
    );
    assert_eq!(
        std::fs::read_to_string(sandbox.path().join("via-redirect.sh")).unwrap(),
        "echo hi\n\n"
    );

    let failure = fetch_all(&[uri(&format!("{base}/missing.tgz"))], sandbox.path())
        .await
        .unwrap_err();
    assert_eq!(
        failure.to_string(),
        format!(
            "Failed to fetch '{base}/missing.tgz': Error downloading resource, \
             received HTTP return code 404"
        )
    );
    assert!(!sandbox.path().join("missing.tgz").exists());

    let failure = fetch_all(&[uri(&format!("{base}/loop"))], sandbox.path())
        .await
        .unwrap_err();
    assert!(failure.to_string().contains("redirects"), "{failure}");
}

/// Requests `/loop` takes: the first one and each redirect followed.
const MAX_LOOP: usize = download::MAX_REDIRECTS + 1;

#[test]
fn bzip2_xz_and_bare_gzip_are_unpacked() {
    let sandbox = tempfile::tempdir().unwrap();
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(2);
    header.set_mode(0o755);
    builder
        .append_data(&mut header, "tool/run", &b"ok"[..])
        .unwrap();
    let tar = builder.into_inner().unwrap();

    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    bz.write_all(&tar).unwrap();
    std::fs::write(sandbox.path().join("a.tbz2"), bz.finish().unwrap()).unwrap();
    assert!(extract::extract(&sandbox.path().join("a.tbz2"), "a.tbz2", sandbox.path()).unwrap());
    assert_eq!(mode(&sandbox.path().join("tool/run")), 0o755);
    std::fs::remove_dir_all(sandbox.path().join("tool")).unwrap();

    let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 1);
    xz.write_all(&tar).unwrap();
    std::fs::write(sandbox.path().join("a.tar.xz"), xz.finish().unwrap()).unwrap();
    assert!(
        extract::extract(&sandbox.path().join("a.tar.xz"), "a.tar.xz", sandbox.path()).unwrap()
    );
    assert!(sandbox.path().join("tool/run").is_file());

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"plain").unwrap();
    std::fs::write(sandbox.path().join("notes.txt.gz"), gz.finish().unwrap()).unwrap();
    assert!(extract::extract(
        &sandbox.path().join("notes.txt.gz"),
        "notes.txt.gz",
        sandbox.path()
    )
    .unwrap());
    assert_eq!(
        std::fs::read_to_string(sandbox.path().join("notes.txt")).unwrap(),
        "plain"
    );
    std::fs::write(sandbox.path().join("plain.sh"), "x").unwrap();
    assert!(
        !extract::extract(&sandbox.path().join("plain.sh"), "plain.sh", sandbox.path()).unwrap()
    );
}

#[test]
fn links_pointing_out_are_refused() {
    let sandbox = tempfile::tempdir().unwrap();
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Symlink);
    header.set_size(0);
    builder
        .append_link(&mut header, "etc-link", "/etc")
        .unwrap();
    std::fs::write(sandbox.path().join("l.tar"), builder.into_inner().unwrap()).unwrap();
    let error =
        extract::extract(&sandbox.path().join("l.tar"), "l.tar", sandbox.path()).unwrap_err();
    assert!(
        error.to_string().contains("points outside the sandbox"),
        "{error}"
    );
    assert!(!sandbox.path().join("etc-link").exists());
}

/// The cache files under `dir` (recursively), by name.
fn cache_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn hit(cached: cache::Cached<'_>) -> cache::CacheFile<'_> {
    match cached {
        cache::Cached::Hit(file) => file,
        cache::Cached::Bypass(why) => panic!("bypassed: {why}"),
    }
}

#[tokio::test]
async fn the_cache_evicts_least_recently_used_entries_not_in_use() {
    let source = tempfile::tempdir().unwrap();
    let work_dir = tempfile::tempdir().unwrap();
    let config = FetcherConfig::default().cache_size(100);
    let cache = cache::Cache::new(work_dir.path().join("fetch"), 100);
    let file = |name: &str, size: usize| {
        let path = source.path().join(name);
        std::fs::write(&path, vec![b'x'; size]).unwrap();
        (path.display().to_string(), Source::Local(path))
    };
    let (a, a_source) = file("a.txt", 60);
    let (b, b_source) = file("b.txt", 60);
    let (c, c_source) = file("c.txt", 30);
    let user_dir = work_dir.path().join("fetch/alice");

    // `a` is in use: `b` does not fit beside it and is not cached.
    let a_file = hit(cache
        .fetch(Some("alice"), &a, &a_source, &config)
        .await
        .unwrap());
    assert_eq!(std::fs::read(a_file.path()).unwrap().len(), 60);
    assert!(matches!(
        cache
            .fetch(Some("alice"), &b, &b_source, &config)
            .await
            .unwrap(),
        cache::Cached::Bypass(_)
    ));
    assert_eq!(cache_files(&user_dir), ["c1-a.txt"]);

    // Released, `a` is evicted to make room for `b`; `c` fits beside it.
    drop(a_file);
    drop(hit(cache
        .fetch(Some("alice"), &b, &b_source, &config)
        .await
        .unwrap()));
    drop(hit(cache
        .fetch(Some("alice"), &c, &c_source, &config)
        .await
        .unwrap()));
    assert_eq!(cache_files(&user_dir), ["c3-b.txt", "c4-c.txt"]);

    // `b` was used after `c`: `c` is the least recently used and goes for `d`.
    drop(hit(cache
        .fetch(Some("alice"), &b, &b_source, &config)
        .await
        .unwrap()));
    let (d, d_source) = file("d.txt", 40);
    drop(hit(cache
        .fetch(Some("alice"), &d, &d_source, &config)
        .await
        .unwrap()));
    assert_eq!(cache_files(&user_dir), ["c3-b.txt", "c5-d.txt"]);

    // Another user has their own entries; a resource larger than the cache
    // is never cached.
    let (big, big_source) = file("big.txt", 101);
    assert!(matches!(
        cache
            .fetch(Some("bob"), &big, &big_source, &config)
            .await
            .unwrap(),
        cache::Cached::Bypass(_)
    ));
    assert!(cache_files(&work_dir.path().join("fetch/bob")).is_empty());
    assert!(cache
        .fetch(Some("../escape"), &a, &a_source, &config)
        .await
        .is_err());
}

#[tokio::test]
async fn cached_archives_are_extracted_from_the_cache_and_large_ones_bypass_it() {
    let source = tempfile::tempdir().unwrap();
    let work_dir = tempfile::tempdir().unwrap();
    let sandbox = tempfile::tempdir().unwrap();
    let archive = source.path().join("app.tar.gz");
    std::fs::write(&archive, tar_gz(&[("app/run.txt", b"tgz")])).unwrap();
    let big = source.path().join("big.bin");
    std::fs::write(&big, vec![0u8; 1 << 20]).unwrap();
    let fetcher = Fetcher::new(
        FetcherConfig::default().cache_size(64 << 10),
        work_dir.path(),
    );
    let cached = |path: &Path| Uri {
        cache: Some(true),
        ..uri(path.to_str().unwrap())
    };
    fetcher
        .fetch_all(
            &[cached(&archive), cached(&big)],
            sandbox.path(),
            Some("alice"),
        )
        .await
        .unwrap();
    let sandbox = sandbox.path();
    assert_eq!(std::fs::read(sandbox.join("app/run.txt")).unwrap(), b"tgz");
    assert!(!sandbox.join("app.tar.gz").exists());
    assert_eq!(
        std::fs::metadata(sandbox.join("big.bin")).unwrap().len(),
        1 << 20
    );
    assert_eq!(
        cache_files(&work_dir.path().join("fetch/alice")),
        ["c1-app.tar.gz"]
    );
    let log = std::fs::read_to_string(sandbox.join("stderr")).unwrap();
    assert!(log.contains("from cache"), "{log}");
    assert!(log.contains("Bypassing the fetcher cache"), "{log}");
}

/// Serves `/app.sh` twice: the first answer stops after 4 of its 9 bytes
/// (and `started` is told), the second is whole.
async fn serve_stalling_once(started: tokio::sync::mpsc::UnboundedSender<()>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        for answer in 0..2 {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut buffer = vec![0u8; 4096];
            let mut len = 0;
            while !buffer[..len].windows(4).any(|w| w == b"\r\n\r\n") && len < buffer.len() {
                match socket.read(&mut buffer[len..]).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => len += n,
                }
            }
            let head = "HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\n";
            if answer == 0 {
                let _ = socket.write_all(format!("{head}echo").as_bytes()).await;
                let _ = started.send(());
                held.push(socket);
            } else {
                let _ = socket
                    .write_all(format!("{head}echo hi\n\n").as_bytes())
                    .await;
                let _ = socket.shutdown().await;
            }
        }
    });
    format!("http://{address}/app.sh")
}

#[tokio::test]
async fn a_waiting_fetch_takes_over_a_cached_download_abandoned_midway() {
    let (started_tx, mut started) = tokio::sync::mpsc::unbounded_channel();
    let url = serve_stalling_once(started_tx).await;
    let work_dir = tempfile::tempdir().unwrap();
    // Room for one copy only: the second fetch reuses the reservation.
    let config = FetcherConfig::default().cache_size(12);
    let cache = cache::Cache::new(work_dir.path().join("fetch"), 12);

    let mut first = Box::pin(cache.fetch(Some("alice"), &url, &Source::Http, &config));
    tokio::select! {
        _ = &mut first => panic!("the first download cannot complete"),
        _ = started.recv() => {}
    }
    // Until its space is reserved and its partial file written.
    let partial = work_dir.path().join("fetch/alice/c1-app.sh");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::fs::metadata(&partial).map_or(0, |m| m.len()) < 4 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no partial download"
        );
        tokio::select! {
            _ = &mut first => panic!("the first download cannot complete"),
            () = tokio::time::sleep(std::time::Duration::from_millis(5)) => {}
        }
    }
    let mut second = Box::pin(cache.fetch(Some("alice"), &url, &Source::Http, &config));
    tokio::select! {
        biased;
        _ = &mut second => panic!("the second fetch must wait for the first"),
        () = tokio::task::yield_now() => {}
    }
    // The first fetch is abandoned (its task killed): the waiting one
    // downloads again, over the partial file.
    drop(first);
    let file = hit(second.await.unwrap());
    assert_eq!(std::fs::read_to_string(file.path()).unwrap(), "echo hi\n\n");
    assert_eq!(
        cache_files(&work_dir.path().join("fetch/alice")),
        ["c1-app.sh"]
    );
}
