//! A custom executor's `CommandInfo.uris` are fetched into its sandbox
//! before it starts: the executor program itself (the `test_executor`
//! example, copied from a local path and made executable), a start script
//! downloaded over HTTP, and a configuration archive extracted next to
//! them. The script refuses to start the executor unless both are there,
//! so the task's TASK_FINISHED proves the fetch came first.

use std::collections::HashMap;

use mesos_local::FetcherConfig;
use mesos_proto::v1::{CommandInfo, ExecutorInfo, TaskInfo, TaskState};
use tokio::time::Instant;

use crate::cache::run;
use crate::server::{serve, zip_of};
use crate::{cluster_and_offer, fetch, WITHIN};

/// Starts the fetched executor only if the fetched configuration is there.
const START: &str = "#!/bin/sh\nset -e\ntest \"$(cat conf/executor.txt)\" = fetched\ntest -x test_executor\nexec ./test_executor\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_executor_starts_with_its_uris_fetched() {
    mesos_test_support::init_tracing();
    let executor_binary = mesos_test_support::example_binary("test_executor");
    let base = serve(
        HashMap::from([
            ("start.sh", START.as_bytes().to_vec()),
            ("conf.zip", zip_of(&[("conf/executor.txt", b"fetched")])),
        ]),
        tokio::sync::mpsc::unbounded_channel().0,
    )
    .await;
    let deadline = Instant::now() + WITHIN;
    let (cluster, client, mut events, offer) =
        cluster_and_offer(deadline, FetcherConfig::default()).await;

    let mut program = fetch(format!("file://{}", executor_binary.display()));
    program.executable = Some(true);
    program.output_file = Some("test_executor".into());
    let mut start = fetch(format!("{base}/start.sh"));
    start.executable = Some(true);
    let executor = ExecutorInfo::builder("fetched-executor")
        .name("an executor fetched into its sandbox")
        .command(CommandInfo {
            value: Some("./start.sh".into()),
            uris: vec![program, start, fetch(format!("{base}/conf.zip"))],
            ..CommandInfo::default()
        })
        .cpus(0.1)
        .mem(32.0)
        .build()
        .expect("valid ExecutorInfo");
    let task = TaskInfo::builder("on a fetched executor", "on-fetched-executor")
        .agent_id(&offer.agent_id)
        .cpus(0.1)
        .mem(16.0)
        .executor(executor)
        .build()
        .expect("valid TaskInfo");
    let terminal = run(&client, &mut events, &offer, vec![task], deadline).await;
    let status = &terminal["on-fetched-executor"];
    assert_eq!(status.state(), TaskState::TaskFinished, "{status:?}");
    assert_eq!(status.message.as_deref(), Some("test executor: finished"));

    // The executor's sandbox holds what was fetched, and the fetcher's log.
    let runs = cluster
        .work_dir()
        .join("agents/1/slaves")
        .read_dir()
        .ok()
        .into_iter()
        .flatten()
        .count();
    let logs = crate::files_named(cluster.work_dir(), "start.sh");
    assert_eq!(
        logs.len(),
        1,
        "one sandbox fetched start.sh ({runs} agent dirs)"
    );
    let sandbox = logs[0].parent().expect("the sandbox");
    assert!(
        sandbox
            .to_string_lossy()
            .contains("/executors/fetched-executor/runs/"),
        "{sandbox:?}"
    );
    let log = std::fs::read_to_string(sandbox.join("stderr")).expect("stderr");
    assert!(log.contains("Successfully fetched all URIs"), "{log}");
}
