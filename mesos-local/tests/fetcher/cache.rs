//! The fetcher cache and the fetch limits end to end: cached URIs are
//! downloaded once per user however many tasks fetch them (at once or one
//! after the other); a download that stalls fails after the configured
//! stall timeout; a resource over the configured size fails.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use mesos_local::FetcherConfig;
use mesos_proto::v1::command_info::Uri;
use mesos_proto::v1::{task_status, Offer, TaskInfo, TaskState, TaskStatus};
use mesos_scheduler::{SchedulerClient, SchedulerEvent, Subscription};
use tokio::time::Instant;

use crate::server::{count, serve_counting, tar_gz, Stall};
use crate::{cluster_and_offer, fetch, files_named, task, WITHIN};

/// Launches `tasks` on `offer` and returns their terminal statuses
/// (acknowledging every update), before `deadline`.
pub(crate) async fn run(
    client: &SchedulerClient,
    events: &mut Subscription,
    offer: &Offer,
    tasks: Vec<TaskInfo>,
    deadline: Instant,
) -> HashMap<String, TaskStatus> {
    let expected = tasks.len();
    client
        .launch_tasks(vec![offer.id.clone()], tasks, None)
        .await
        .expect("ACCEPT");
    let mut terminal = HashMap::new();
    while terminal.len() < expected {
        let event = match tokio::time::timeout_at(deadline, events.next()).await {
            Ok(Some(Ok(event))) => event,
            other => panic!("terminal updates missing ({terminal:?} so far): {other:?}"),
        };
        if let SchedulerEvent::Update(status) = event {
            if status.uuid.is_some() {
                client.acknowledge(&status).await.expect("ACKNOWLEDGE");
            }
            if status.state().is_terminal() {
                terminal.insert(status.task_id.value.clone(), status);
            }
        }
    }
    terminal
}

/// The next offer, before `deadline`.
async fn next_offer(events: &mut Subscription, deadline: Instant) -> Offer {
    loop {
        match tokio::time::timeout_at(deadline, events.next()).await {
            Ok(Some(Ok(SchedulerEvent::Offers(mut offers)))) if !offers.is_empty() => {
                return offers.remove(0)
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("no offer: {other:?}"),
        }
    }
}

fn cached(uri: Uri) -> Uri {
    Uri {
        cache: Some(true),
        ..uri
    }
}

fn assert_finished(terminal: &HashMap<String, TaskStatus>, ids: &[&str]) {
    for id in ids {
        let status = &terminal[*id];
        assert_eq!(
            status.state(),
            TaskState::TaskFinished,
            "{id}: {:?}",
            status.message
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_uris_are_downloaded_once_per_user() {
    mesos_test_support::init_tracing();
    let (base, requests) = serve_counting(
        HashMap::from([
            (
                "hello.sh",
                b"#!/bin/sh\necho hello from the cache\n".to_vec(),
            ),
            ("app.tar.gz", tar_gz(&[("app/run.txt", b"tgz")])),
        ]),
        tokio::sync::mpsc::unbounded_channel().0,
    )
    .await;
    let deadline = Instant::now() + WITHIN;
    let (cluster, client, mut events, offer) =
        cluster_and_offer(deadline, FetcherConfig::default()).await;
    let uris = || {
        let mut script = cached(fetch(format!("{base}/hello.sh")));
        script.executable = Some(true);
        vec![script, cached(fetch(format!("{base}/app.tar.gz")))]
    };
    // The script is executable and runs; the archive is extracted from the
    // cache, so only its contents are in the sandbox (as in Mesos).
    let check = r#"test "$(stat -c %a hello.sh)" = 755 && ./hello.sh && test "$(cat app/run.txt)" = tgz && test ! -e app.tar.gz && grep -q "from cache" stderr"#;

    // Two tasks at once: one download, the other waits for it.
    let agent = offer.agent_id.clone();
    let both = vec![
        task("first", &agent, uris(), check),
        task("second", &agent, uris(), check),
    ];
    let terminal = run(&client, &mut events, &offer, both, deadline).await;
    assert_finished(&terminal, &["first", "second"]);
    assert_eq!(count(&requests, "/hello.sh"), 1, "{requests:?}");
    assert_eq!(count(&requests, "/app.tar.gz"), 1, "{requests:?}");
    let cache = cluster.work_dir().join("agents/1/fetch/root");
    let mut names: Vec<String> = std::fs::read_dir(&cache)
        .expect("the user's cache directory")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names
            .iter()
            .any(|n| n.starts_with('c') && n.ends_with("-hello.sh")),
        "{names:?}"
    );
    assert!(
        names
            .iter()
            .any(|n| n.starts_with('c') && n.ends_with("-app.tar.gz")),
        "{names:?}"
    );

    // Later: a hit for the same user, a new download for another user.
    let offer = next_offer(&mut events, deadline).await;
    let mut other_user = task("other-user", &agent, uris(), check);
    if let Some(command) = other_user.command.as_mut() {
        command.user = Some("nobody".into());
    }
    let later = vec![task("third", &agent, uris(), check), other_user];
    let terminal = run(&client, &mut events, &offer, later, deadline).await;
    assert_finished(&terminal, &["third", "other-user"]);
    assert_eq!(count(&requests, "/hello.sh"), 2, "{requests:?}");
    assert_eq!(count(&requests, "/app.tar.gz"), 2, "{requests:?}");
    assert_eq!(
        std::fs::read_dir(cluster.work_dir().join("agents/1/fetch/nobody"))
            .expect("the other user's cache directory")
            .count(),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_fail_past_the_stall_timeout_and_the_size_limit() {
    mesos_test_support::init_tracing();
    let (stalls_tx, mut stalls) = tokio::sync::mpsc::unbounded_channel();
    let (base, _) = serve_counting(HashMap::from([("big.bin", vec![7u8; 64])]), stalls_tx).await;
    let deadline = Instant::now() + WITHIN;
    let config = FetcherConfig::default()
        .stall_timeout(Duration::from_millis(300))
        .max_download_size(32);
    let (cluster, client, mut events, offer) = cluster_and_offer(deadline, config).await;
    let agent = offer.agent_id.clone();
    let tasks = vec![
        task(
            "stalled",
            &agent,
            vec![fetch(format!("{base}/stall"))],
            "true",
        ),
        task(
            "big",
            &agent,
            vec![fetch(format!("{base}/big.bin"))],
            "true",
        ),
    ];
    let terminal = run(&client, &mut events, &offer, tasks, deadline).await;
    for (id, detail) in [
        (
            "stalled",
            format!(
                "Failed to fetch '{base}/stall': Error downloading resource: Operation too \
                 slow. Less than 1 bytes/sec transferred the last 0.3 seconds"
            ),
        ),
        (
            "big",
            format!(
                "Failed to fetch '{base}/big.bin': Error downloading resource: the resource \
                 is larger than 32 bytes"
            ),
        ),
    ] {
        let status = &terminal[id];
        assert_eq!(status.state(), TaskState::TaskFailed, "{id}");
        assert_eq!(
            status.reason(),
            task_status::Reason::ContainerLaunchFailed,
            "{id}"
        );
        assert_eq!(status.source(), task_status::Source::Agent, "{id}");
        let message = status.message.clone().unwrap_or_default();
        assert!(message.contains(&detail), "{id}: {message}");
    }
    // The server saw the stalled download start and the fetcher give up.
    assert_eq!(
        tokio::time::timeout_at(deadline, stalls.recv()).await,
        Ok(Some(Stall::Started))
    );
    assert_eq!(
        tokio::time::timeout_at(deadline, stalls.recv()).await,
        Ok(Some(Stall::Closed))
    );
    // Failed downloads leave no partial file.
    assert!(files_named(cluster.work_dir(), "stall").is_empty());
    assert!(files_named(cluster.work_dir(), "big.bin").is_empty());
}
