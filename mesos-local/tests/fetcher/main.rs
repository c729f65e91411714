//! The fetcher end to end: command tasks on a `LocalCluster` whose
//! `CommandInfo.uris` point at a loopback HTTP server (a `.tar.gz`, a
//! `.zip`, a plain script, an archive with a `../` entry, a missing file).
//! Each successful task's command checks its sandbox and exits non-zero
//! when a file or mode is wrong, so TASK_FINISHED proves the fetch; the
//! failing ones must end TASK_FAILED as the real agent reports a failed
//! fetch (REASON_CONTAINER_LAUNCH_FAILED, SOURCE_AGENT).

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use mesos_local::{FetcherConfig, LocalCluster};
use mesos_proto::v1::command_info::Uri;
use mesos_proto::v1::{
    task_status, CommandInfo, FrameworkInfo, Offer, TaskInfo, TaskState, TaskStatus,
};
use mesos_scheduler::{subscribe, SchedulerClient, SchedulerConfig, SchedulerEvent, Subscription};
use tokio::time::Instant;

mod cache;
mod executor;
mod server;

use server::{serve, tar_gz, zip_of, Stall};

/// How long the whole scenario may take.
pub(crate) const WITHIN: Duration = Duration::from_secs(60);

/// A one-agent cluster, a framework subscribed to it, and its first offer
/// (before `deadline`).
pub(crate) async fn cluster_and_offer(
    deadline: Instant,
    fetcher: FetcherConfig,
) -> (LocalCluster, SchedulerClient, Subscription, Offer) {
    let cluster = LocalCluster::builder()
        .agents(1)
        .fetcher(fetcher)
        .allocation_interval(Duration::from_millis(100))
        .start()
        .await
        .expect("the cluster starts");
    let info = FrameworkInfo::builder("root", "fetcher")
        .build()
        .expect("valid FrameworkInfo");
    let config = SchedulerConfig::new([cluster.master_url().to_string()], info).expect("config");
    let (client, mut events) = subscribe(config).expect("subscribe");
    let offer = loop {
        match tokio::time::timeout_at(deadline, events.next()).await {
            Ok(Some(Ok(SchedulerEvent::Offers(mut offers)))) if !offers.is_empty() => {
                break offers.remove(0)
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("no offer: {other:?}"),
        }
    };
    (cluster, client, events, offer)
}

pub(crate) fn fetch(value: String) -> Uri {
    Uri {
        value,
        ..Uri::default()
    }
}

pub(crate) fn task(
    id: &str,
    agent: &mesos_proto::v1::AgentId,
    uris: Vec<Uri>,
    check: &str,
) -> TaskInfo {
    TaskInfo::builder(id, id)
        .agent_id(agent)
        .cpus(0.1)
        .mem(16.0)
        .command(CommandInfo {
            value: Some(check.to_string()),
            uris,
            ..CommandInfo::default()
        })
        .build()
        .expect("valid TaskInfo")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uris_are_fetched_into_the_sandbox_over_http() {
    mesos_test_support::init_tracing();
    let base = serve(
        HashMap::from([
            ("app.tar.gz", tar_gz(&[("app/run.txt", b"tgz")])),
            ("conf.zip", zip_of(&[("conf/a.txt", b"zip")])),
            (
                "hello.sh",
                b"#!/bin/sh\necho hello from the fetcher\n".to_vec(),
            ),
            ("evil.tgz", tar_gz(&[("../escaped.txt", b"x")])),
        ]),
        tokio::sync::mpsc::unbounded_channel().0,
    )
    .await;
    let deadline = Instant::now() + WITHIN;
    let (_cluster, client, mut events, offer) =
        cluster_and_offer(deadline, FetcherConfig::default()).await;
    let agent = &offer.agent_id;

    let mut not_extracted = fetch(format!("{base}/app.tar.gz"));
    not_extracted.extract = Some(false);
    let mut executable = fetch(format!("{base}/hello.sh"));
    executable.executable = Some(true);
    let mut renamed = fetch(format!("{base}/hello.sh"));
    renamed.output_file = Some("bin/copy.sh".into());
    let tasks = vec![
        task(
            "extracted",
            agent,
            vec![
                fetch(format!("{base}/app.tar.gz")),
                fetch(format!("{base}/conf.zip")),
            ],
            r#"test "$(cat app/run.txt)" = tgz && test "$(cat conf/a.txt)" = zip && test -f app.tar.gz && test -f conf.zip"#,
        ),
        task(
            "not-extracted",
            agent,
            vec![not_extracted],
            "test -f app.tar.gz && test ! -e app",
        ),
        task(
            "script",
            agent,
            vec![executable, renamed],
            r#"test "$(stat -c %a hello.sh)" = 755 && ./hello.sh && test -f bin/copy.sh && test ! -x bin/copy.sh && grep -q "Successfully fetched all URIs" stderr"#,
        ),
        task(
            "escaping",
            agent,
            vec![fetch(format!("{base}/evil.tgz"))],
            "true",
        ),
        task(
            "missing",
            agent,
            vec![fetch(format!("{base}/missing.tgz"))],
            "true",
        ),
    ];
    client
        .launch_tasks(vec![offer.id.clone()], tasks, None)
        .await
        .expect("ACCEPT");

    let mut terminal: HashMap<String, TaskStatus> = HashMap::new();
    while terminal.len() < 5 {
        let event = match tokio::time::timeout_at(deadline, events.next()).await {
            Ok(Some(Ok(event))) => event,
            other => panic!(
                "terminal updates missing ({:?} so far): {other:?}",
                terminal.keys()
            ),
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
    for id in ["extracted", "not-extracted", "script"] {
        let status = &terminal[id];
        assert_eq!(
            status.state(),
            TaskState::TaskFinished,
            "{id}: {:?}",
            status.message
        );
    }
    for (id, detail) in [
        (
            "escaping",
            format!("Failed to fetch '{base}/evil.tgz': Failed to extract archive"),
        ),
        (
            "missing",
            format!(
                "Failed to fetch '{base}/missing.tgz': Error downloading resource, \
                 received HTTP return code 404"
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
        assert!(
            message.starts_with(
                "Failed to launch container: Failed to fetch all URIs for container '"
            ),
            "{id}: {message}"
        );
        assert!(message.contains(&detail), "{id}: {message}");
    }
    assert!(terminal["escaping"]
        .message
        .as_deref()
        .unwrap_or_default()
        .contains("outside the sandbox"));
}

/// Launches a command task, `stalled`, whose URI is the server's `/stall`
/// and returns once its partial download is being written in the sandbox
/// (the download is under way, past its file's creation).
async fn launch_stalled(
    client: &SchedulerClient,
    offer: &Offer,
    base: &str,
    work_dir: &std::path::Path,
    stalls: &mut tokio::sync::mpsc::UnboundedReceiver<Stall>,
    deadline: Instant,
) {
    let stalled = task(
        "stalled",
        &offer.agent_id,
        vec![fetch(format!("{base}/stall"))],
        "true",
    );
    client
        .launch_tasks(vec![offer.id.clone()], vec![stalled], None)
        .await
        .expect("ACCEPT");
    assert_eq!(
        tokio::time::timeout_at(deadline, stalls.recv()).await,
        Ok(Some(Stall::Started))
    );
    let mut partial = Vec::new();
    while partial.is_empty() {
        assert!(
            Instant::now() < deadline,
            "no partial download in {work_dir:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
        partial = files_named(work_dir, "stall");
        partial.retain(|p| std::fs::metadata(p).is_ok_and(|m| m.len() > 0));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_cluster_abandons_a_download_in_flight() {
    mesos_test_support::init_tracing();
    let (stalls_tx, mut stalls) = tokio::sync::mpsc::unbounded_channel();
    let base = serve(HashMap::new(), stalls_tx).await;
    let deadline = Instant::now() + WITHIN;
    let (cluster, client, events, offer) =
        cluster_and_offer(deadline, FetcherConfig::default()).await;
    let work_dir = cluster.work_dir().to_path_buf();
    launch_stalled(&client, &offer, &base, &work_dir, &mut stalls, deadline).await;
    drop(events);
    drop(client);
    drop(cluster);
    assert_eq!(
        tokio::time::timeout_at(deadline, stalls.recv()).await,
        Ok(Some(Stall::Closed)),
        "the download is abandoned"
    );
    assert!(
        !work_dir.exists(),
        "the partial file went with the work directory"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_a_task_during_its_download_abandons_the_download() {
    mesos_test_support::init_tracing();
    let (stalls_tx, mut stalls) = tokio::sync::mpsc::unbounded_channel();
    let base = serve(HashMap::new(), stalls_tx).await;
    let deadline = Instant::now() + WITHIN;
    let (cluster, client, mut events, offer) =
        cluster_and_offer(deadline, FetcherConfig::default()).await;
    let work_dir = cluster.work_dir().to_path_buf();
    launch_stalled(&client, &offer, &base, &work_dir, &mut stalls, deadline).await;
    client
        .kill(
            mesos_proto::v1::TaskId {
                value: "stalled".into(),
            },
            Some(offer.agent_id.clone()),
            None,
        )
        .await
        .expect("KILL");
    // As the real agent (`Slave::kill`) ends a task whose executor has not
    // registered yet: the command executor starts only after the fetch.
    let killed = loop {
        match tokio::time::timeout_at(deadline, events.next()).await {
            Ok(Some(Ok(SchedulerEvent::Update(status)))) => {
                client.acknowledge(&status).await.expect("ACKNOWLEDGE");
                if status.state().is_terminal() {
                    break status;
                }
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("no terminal update: {other:?}"),
        }
    };
    assert_eq!(killed.state(), TaskState::TaskKilled, "{killed:?}");
    assert_eq!(killed.reason(), task_status::Reason::TaskKilledDuringLaunch);
    assert_eq!(killed.source(), task_status::Source::Agent);
    assert_eq!(
        killed.message.as_deref(),
        Some("Killed before delivery to the executor")
    );
    assert_eq!(
        tokio::time::timeout_at(deadline, stalls.recv()).await,
        Ok(Some(Stall::Closed)),
        "the download is abandoned"
    );
    // The partial file stayed in the task's sandbox.
    for partial in files_named(&work_dir, "stall") {
        assert!(
            partial
                .to_string_lossy()
                .contains("/executors/stalled/runs/"),
            "{partial:?} outside the task's sandbox"
        );
    }
    drop(cluster);
}

/// The files called `name` under `dir`.
pub(crate) fn files_named(dir: &std::path::Path, name: &str) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for path in entries.flatten().map(|e| e.path()) {
        if path.is_dir() {
            found.extend(files_named(&path, name));
        } else if path.file_name().is_some_and(|n| n == name) {
            found.push(path);
        }
    }
    found
}
