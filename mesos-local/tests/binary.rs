//! The `mesos-local` binary as a user runs it: prints the master URL first,
//! serves a working master with the agents asked for, stops cleanly (exit
//! 0) on SIGTERM, and refuses bad flags with a clear message.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use rustix::process::{kill_process, Pid, Signal};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

const BINARY: &str = env!("CARGO_BIN_EXE_mesos-local");

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(BINARY);
    command
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

/// Waits up to `within` for `child` to exit.
async fn exit_within(child: &mut Child, within: Duration) -> ExitStatus {
    tokio::time::timeout(within, child.wait())
        .await
        .unwrap_or_else(|_| panic!("mesos-local did not exit within {within:?}"))
        .expect("waiting for mesos-local")
}

/// `GET url` → the JSON body.
async fn get_json(url: &str) -> Value {
    let authority = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let stream = tokio::net::TcpStream::connect(&authority)
        .await
        .expect("connect to the master");
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("HTTP handshake");
    tokio::spawn(connection);
    let request = http::Request::get(url)
        .header(http::header::HOST, authority)
        .body(http_body_util::Empty::<Bytes>::new())
        .expect("a request");
    let response = sender.send_request(request).await.expect("an answer");
    assert_eq!(response.status(), http::StatusCode::OK, "GET {url}");
    let body = response
        .into_body()
        .collect()
        .await
        .expect("the body")
        .to_bytes();
    serde_json::from_slice(&body).expect("JSON")
}

/// Starts the binary with `args`; returns it and its stdout's lines.
fn serve(args: &[&str]) -> (Child, Lines<BufReader<ChildStdout>>) {
    let mut child = command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("mesos-local starts");
    let stdout = child.stdout.take().expect("stdout");
    (child, BufReader::new(stdout).lines())
}

/// The next line of stdout (a master URL), within 20 s.
async fn next_line(lines: &mut Lines<BufReader<ChildStdout>>) -> String {
    tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("a master URL within 20 s")
        .expect("reading stdout")
        .expect("a line per master")
}

#[tokio::test]
async fn serves_agents_and_stops_cleanly_on_sigterm() {
    let (mut child, mut lines) = serve(&[
        "--port",
        "0",
        "--num_agents",
        "2",
        "--resources",
        "cpus:2;mem:1024;ports:[31000-31100]",
        "--allocation_interval",
        "100ms",
    ]);
    let url = next_line(&mut lines).await;
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let state = get_json(&format!("{url}/master/state")).await;
    assert_eq!(state["activated_slaves"], 2.0, "{state}");
    let agents = state["slaves"].as_array().expect("slaves");
    assert_eq!(agents.len(), 2, "{state}");
    for agent in agents {
        assert_eq!(agent["active"], true, "{agent}");
        let resources = &agent["resources"];
        assert_eq!(resources["cpus"], 2.0, "{agent}");
        assert_eq!(resources["mem"], 1024.0, "{agent}");
        assert_eq!(resources["ports"], "[31000-31100]", "{agent}");
    }
    assert_eq!(state["flags"]["allocation_interval"], "100ms", "{state}");

    let pid = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .and_then(Pid::from_raw)
        .expect("the child's pid");
    kill_process(pid, Signal::TERM).expect("SIGTERM sent");
    let status = exit_within(&mut child, Duration::from_secs(10)).await;
    assert!(status.success(), "exit after SIGTERM: {status}");
}

/// Runs the binary to its end; returns its status and stderr.
async fn run_to_end(args: &[&str]) -> (ExitStatus, String) {
    let child = command(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mesos-local starts");
    let output = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("mesos-local exits within 20 s")
        .expect("its output");
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn unknown_containerizer_is_refused() {
    let (status, stderr) = run_to_end(&["--port", "0", "--containerizers", "bogus"]).await;
    assert!(!status.success(), "{status}: {stderr}");
    assert!(
        stderr.contains("unknown containerizer") && stderr.contains("bogus"),
        "{stderr}"
    );
}

#[tokio::test]
async fn invalid_resources_are_refused_naming_the_problem() {
    let (status, stderr) = run_to_end(&["--port", "0", "--resources", "cpus:abc"]).await;
    assert!(!status.success(), "{status}: {stderr}");
    assert!(stderr.contains("resources"), "{stderr}");
    assert!(stderr.contains("abc"), "the bad value is named: {stderr}");
}

#[tokio::test]
async fn zero_or_absurd_intervals_are_refused_naming_the_flag() {
    for (flag, value) in [
        ("--heartbeat_interval", "0secs"),
        ("--allocation_interval", "0ms"),
        ("--heartbeat_interval", "1000days"),
        ("--http_header_read_timeout", "0secs"),
        ("--fetcher_stall_timeout", "0secs"),
        ("--fetcher_cache_size", "2XB"),
    ] {
        let (status, stderr) = run_to_end(&["--port", "0", flag, value]).await;
        assert!(!status.success(), "{flag} {value}: {status}: {stderr}");
        let name = flag.trim_start_matches("--").trim_start_matches("http_");
        assert!(stderr.contains(name), "{flag} {value}: {stderr}");
        assert!(!stderr.contains("panicked"), "{flag} {value}: {stderr}");
    }
}

#[tokio::test]
async fn several_masters_print_their_urls_and_followers_redirect() {
    let (child, mut lines) = serve(&["--port", "0", "--masters", "2"]);
    let mut urls = Vec::new();
    for _ in 0..2 {
        let url = next_line(&mut lines).await;
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        urls.push(url);
    }
    let state = get_json(&format!("{}/master/state", urls[0])).await;
    assert_eq!(
        state["activated_slaves"], 1.0,
        "the first master leads: {state}"
    );
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<Bytes>>();
    let uri: http::Uri = format!("{}/master/state", urls[1]).parse().expect("a URL");
    let response = client.get(uri).await.expect("the follower answers");
    assert_eq!(response.status(), http::StatusCode::TEMPORARY_REDIRECT);
    let location = response.headers().get(http::header::LOCATION).cloned();
    let expected = format!("{}/master/state", urls[0].trim_start_matches("http:"));
    assert_eq!(
        location.as_ref().and_then(|l| l.to_str().ok()),
        Some(expected.as_str())
    );
    drop(child);
}

#[tokio::test]
async fn zk_must_be_a_zookeeper_url_and_masters_in_range() {
    for (args, named) in [
        (["--zk", "http://127.0.0.1:5050"], "zk://"),
        (["--zk", "zk://"], "--zk"),
        (["--masters", "0"], "masters"),
    ] {
        let (status, stderr) = run_to_end(&[&["--port", "0"][..], &args[..]].concat()).await;
        assert!(!status.success(), "{args:?}: {status}: {stderr}");
        assert!(stderr.contains(named), "{args:?}: {stderr}");
    }
}
