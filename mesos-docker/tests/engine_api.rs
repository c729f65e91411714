//! The Docker Engine API client ([`EngineApi`]) and `Docker`'s use of it:
//! against the real engine (the same answers as the CLI), against fake
//! engines on a unix socket (garbage, oversized and cut answers, silence:
//! typed errors, no hang), and the fallback to the CLI.
//!
//! The real-engine tests report `SKIPPED` and pass when `docker version`
//! fails (a failure with `MESOS_RS_REQUIRE_ENV=1`, as in CI).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use mesos_docker::docker::{EngineApi, EngineError, DEFAULT_SOCKET, MAX_EVENT_LINE};
use mesos_docker::testing::{self, ContainerGuard, TEST_IMAGE};
use mesos_docker::{Docker, DockerError};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::UnixListener;

/// A bound on every test's wait, so that a hang fails instead of blocking.
const GUARD: Duration = Duration::from_secs(60);

fn setup() -> bool {
    if !mesos_test_support::environment::docker("") {
        return false;
    }
    testing::ensure_test_image().expect("building the test image");
    true
}

/// `docker run -d` of the test image, kept running, named `name`.
fn run_kept(name: &str) {
    let status = Command::new("docker")
        .args(["run", "-d", "-e", "KEEP_RUNNING=5", "-e", "SECRET=s3cret"])
        .args(["--name", name, TEST_IMAGE])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("docker run");
    assert!(status.success());
}

async fn bounded<T>(work: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(GUARD, work)
        .await
        .expect("the test's guard expired: something hung")
}

#[tokio::test]
async fn api_inspect_reads_the_same_state_as_the_cli() {
    if !setup() {
        return;
    }
    let name = testing::unique_name("mesos-rs-test-api-inspect-");
    let _guard = ContainerGuard::new([name.clone()]);
    run_kept(&name);
    let cli = bounded(Docker::default().inspect(&name))
        .await
        .expect("docker inspect");
    let engine = EngineApi::new(DEFAULT_SOCKET);
    let api = bounded(engine.inspect_container(&name))
        .await
        .expect("GET /containers/<name>/json")
        .expect("the container exists");
    assert_eq!(api, cli);
    assert!(api.running && api.ip_address.is_some(), "{api:?}");
    assert!(!api.raw.contains("s3cret"), "{}", api.raw);
    assert!(bounded(engine.api_version()).await.unwrap().is_some());

    // Through `Docker`: the API answers (it stays in use), the same state.
    let docker = Docker::default().with_engine_api();
    assert_eq!(bounded(docker.inspect(&name)).await.unwrap(), cli);
    assert!(docker.engine_api().is_some());
    let missing = testing::unique_name("mesos-rs-test-api-none-");
    assert!(matches!(
        bounded(docker.inspect(&missing)).await,
        Err(DockerError::NoSuchContainer(n)) if n == missing
    ));
    assert!(bounded(engine.inspect_container(&missing))
        .await
        .unwrap()
        .is_none());
    assert!(docker.engine_api().is_some());
}

#[tokio::test]
async fn api_image_check_sees_present_and_missing_images() {
    if !setup() {
        return;
    }
    let engine = EngineApi::new(DEFAULT_SOCKET);
    assert!(bounded(engine.image_exists(TEST_IMAGE)).await.unwrap());
    let missing = "mesos-rs-test-no-such-image:never";
    assert!(!bounded(engine.image_exists(missing)).await.unwrap());
    let docker = Docker::default().with_engine_api();
    assert!(bounded(docker.image_exists(TEST_IMAGE)).await.unwrap());
    assert!(!bounded(docker.image_exists(missing)).await.unwrap());
    assert!(docker.engine_api().is_some());
    // A name the API cannot carry goes to the CLI (which finds no such
    // image), and the API stays in use.
    assert!(matches!(
        engine.image_exists("a/../b").await,
        Err(EngineError::InvalidName(_))
    ));
    assert!(!bounded(docker.image_exists("a/../b")).await.unwrap());
    assert!(docker.engine_api().is_some());
}

#[tokio::test]
async fn api_start_watch_sees_the_start() {
    if !setup() {
        return;
    }
    let name = testing::unique_name("mesos-rs-test-api-watch-");
    let _guard = ContainerGuard::new([name.clone()]);
    let docker = Docker::default().with_engine_api();
    let mut watch = bounded(docker.watch_start(&name)).await.expect("watch");
    assert!(watch.is_engine() && watch.is_alive());
    // Docker's filter also lets the start of a container whose name
    // starts with ours through; the watch skips it (unit-tested).
    let longer = format!("{name}-other");
    let _other = ContainerGuard::new([longer.clone()]);
    run_kept(&longer);
    run_kept(&name);
    assert!(bounded(watch.started()).await);
    let state = bounded(docker.inspect(&name)).await.unwrap();
    assert!(state.started());
}

#[tokio::test]
async fn without_the_socket_the_cli_answers() {
    if !setup() {
        return;
    }
    let engine = EngineApi::new("/nonexistent/mesos-rs/docker.sock");
    assert!(matches!(
        engine.image_exists(TEST_IMAGE).await,
        Err(EngineError::Connect { .. })
    ));
    let docker = Docker::default().with_engine(engine);
    assert!(docker.engine_api().is_some());
    assert!(bounded(docker.image_exists(TEST_IMAGE)).await.unwrap());
    assert!(docker.engine_api().is_none(), "the CLI from now on");
    let name = testing::unique_name("mesos-rs-test-api-fallback-");
    let _guard = ContainerGuard::new([name.clone()]);
    let mut watch = bounded(docker.watch_start(&name)).await.unwrap();
    assert!(!watch.is_engine() && watch.is_alive());
    run_kept(&name);
    assert!(bounded(watch.started()).await);
    let state = bounded(docker.inspect(&name)).await.unwrap();
    assert_eq!(state.name, name);

    // The same with a fresh `Docker` whose first call is the inspect.
    let docker = Docker::default().with_engine(EngineApi::new("/nonexistent/docker.sock"));
    assert_eq!(bounded(docker.inspect(&name)).await.unwrap().id, state.id);
}

/// How a fake engine answers everything but `GET /_ping`.
#[derive(Clone, Copy, Debug)]
enum Fake {
    /// Bytes that are not HTTP.
    Garbage,
    /// A 200 declaring a body over the limit.
    Declared,
    /// A chunked 200 whose chunks exceed the limit.
    Chunked,
    /// Half the declared body, then the connection closes.
    Cut,
    /// Reads the request, never answers.
    Silent,
    /// A 200 whose body is not JSON.
    NotJson,
    /// An event stream: one line over the limit.
    LongEvent,
}

/// A fake engine on `<dir>/fake.sock`, serving `mode` until dropped.
struct FakeEngine {
    socket: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeEngine {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn read_request(stream: &mut tokio::net::UnixStream) -> Option<String> {
    let mut request = Vec::new();
    let mut byte = [0u8; 1];
    while !request.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.ok()? == 0 || request.len() > 64 * 1024 {
            return None;
        }
        request.push(byte[0]);
    }
    Some(String::from_utf8_lossy(&request).into_owned())
}

async fn serve(mut stream: tokio::net::UnixStream, mode: Fake) {
    while let Some(request) = read_request(&mut stream).await {
        if request.starts_with("GET /_ping ") {
            let ping = "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Length: 2\r\n\r\nOK";
            if stream.write_all(ping.as_bytes()).await.is_err() {
                return;
            }
            continue;
        }
        assert!(request.starts_with("GET /v1.41/"), "{request}");
        assert!(request.to_lowercase().contains("host: docker"), "{request}");
        let head = |extra: &str| {
            format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{extra}\r\n")
        };
        let _ = match mode {
            Fake::Garbage => stream.write_all(b"\x00\x01garbage\r\n\r\n").await,
            Fake::Declared => {
                stream
                    .write_all(head("Content-Length: 1000000000\r\n").as_bytes())
                    .await
            }
            Fake::Chunked => {
                let mut out = head("Transfer-Encoding: chunked\r\n").into_bytes();
                let chunk = vec![b' '; 64 * 1024];
                for _ in 0..40 {
                    out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    out.extend_from_slice(&chunk);
                    out.extend_from_slice(b"\r\n");
                }
                stream.write_all(&out).await
            }
            Fake::Cut => {
                let out = format!("{}{{\"Id\":\"abc\"", head("Content-Length: 100\r\n"));
                let _ = stream.write_all(out.as_bytes()).await;
                return;
            }
            Fake::Silent => {
                // Keep the connection open, unanswered, until the client
                // gives up.
                let mut rest = [0u8; 64];
                while matches!(stream.read(&mut rest).await, Ok(n) if n > 0) {}
                return;
            }
            Fake::NotJson => {
                let body = "<html>not docker</html>";
                let out = format!(
                    "{}{body}",
                    head(&format!("Content-Length: {}\r\n", body.len()))
                );
                stream.write_all(out.as_bytes()).await
            }
            Fake::LongEvent => {
                let mut out = head("Transfer-Encoding: chunked\r\n").into_bytes();
                let line = vec![b'x'; MAX_EVENT_LINE + 10];
                out.extend_from_slice(format!("{:x}\r\n", line.len()).as_bytes());
                out.extend_from_slice(&line);
                out.extend_from_slice(b"\r\n");
                let _ = stream.write_all(&out).await;
                // The stream stays open: only the line's size may end it.
                let mut rest = [0u8; 64];
                while matches!(stream.read(&mut rest).await, Ok(n) if n > 0) {}
                return;
            }
        };
    }
}

fn fake(dir: &Path, mode: Fake) -> FakeEngine {
    let socket = dir.join(format!("{mode:?}.sock"));
    let listener = UnixListener::bind(&socket).expect("bind the fake engine");
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, mode));
        }
    });
    FakeEngine { socket, task }
}

#[tokio::test]
async fn broken_engines_are_typed_errors_not_hangs() {
    let dir = testing::temp_dir("mesos-rs-fake-engine-").unwrap();
    let timeout = Duration::from_millis(500);
    let client = |engine: &FakeEngine| {
        EngineApi::new(&engine.socket)
            .with_timeout(timeout)
            .with_max_body(1024 * 1024)
    };

    let garbage = fake(dir.path(), Fake::Garbage);
    let error = bounded(client(&garbage).inspect_container("c"))
        .await
        .unwrap_err();
    assert!(matches!(error, EngineError::Http { .. }), "{error}");

    let declared = fake(dir.path(), Fake::Declared);
    let error = bounded(client(&declared).inspect_container("c"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, EngineError::TooLarge { limit, .. } if limit == 1024 * 1024),
        "{error}"
    );

    let chunked = fake(dir.path(), Fake::Chunked);
    let error = bounded(client(&chunked).image_exists("busybox"))
        .await
        .unwrap_err();
    assert!(matches!(error, EngineError::TooLarge { .. }), "{error}");
    let error = bounded(client(&chunked).inspect_container("c"))
        .await
        .unwrap_err();
    assert!(matches!(error, EngineError::TooLarge { .. }), "{error}");

    let cut = fake(dir.path(), Fake::Cut);
    let error = bounded(client(&cut).inspect_container("c"))
        .await
        .unwrap_err();
    assert!(matches!(error, EngineError::Http { .. }), "{error}");

    let silent = fake(dir.path(), Fake::Silent);
    let error = bounded(client(&silent).inspect_container("c"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, EngineError::Timeout { timeout: t, .. } if t == timeout),
        "{error}"
    );
    let error = bounded(client(&silent).events(0, &[("event", &["start"])]))
        .await
        .unwrap_err();
    assert!(matches!(error, EngineError::Timeout { .. }), "{error}");

    let not_json = fake(dir.path(), Fake::NotJson);
    let error = bounded(client(&not_json).inspect_container("c"))
        .await
        .unwrap_err();
    assert!(matches!(error, EngineError::Invalid { .. }), "{error}");

    let long = fake(dir.path(), Fake::LongEvent);
    let mut events = bounded(client(&long).events(0, &[("container", &["a b"])]))
        .await
        .expect("the stream's head");
    let error = bounded(events.next_event()).await.unwrap_err();
    assert!(
        matches!(error, EngineError::TooLarge { limit, .. } if limit == MAX_EVENT_LINE),
        "{error}"
    );
}

#[tokio::test]
async fn a_broken_engine_falls_back_to_the_cli() {
    if !setup() {
        return;
    }
    let dir = testing::temp_dir("mesos-rs-fake-engine-").unwrap();
    let garbage = fake(dir.path(), Fake::Garbage);
    let engine = EngineApi::new(&garbage.socket).with_timeout(Duration::from_secs(5));
    let docker = Docker::default().with_engine(engine);
    assert!(bounded(docker.image_exists(TEST_IMAGE)).await.unwrap());
    assert!(docker.engine_api().is_none());
}
