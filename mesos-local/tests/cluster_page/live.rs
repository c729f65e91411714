//! The page follows a scheduler's tasks live and shows their output.

use std::time::{SystemTime, UNIX_EPOCH};

use mesos_local::LocalCluster;
use mesos_proto::builders::CommandInfoBuilder;
use mesos_proto::v1::{TaskInfo, TaskState};
use mesos_test_support::scheduler::RawScheduler;
use tokio::sync::mpsc;

use super::SOON;

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
        * 1000.0
}

/// A row of the task table `table` with task `id` in `state`.
fn task_in(table: &str, id: &str, state: &str) -> String {
    format!(r#"document.querySelector('#{table} tr[data-task-id="{id}"][data-state="{state}"]')"#)
}

/// A task's update as the scheduler saw it: id, state, wall clock (ms).
type Seen = (String, TaskState, f64);

/// Runs the scheduler's side after its launch: acknowledges every update
/// (the agent sends a task's next update only then) and reports it.
/// Abort the returned task before the cluster stops (its stream would end
/// with an error).
fn acknowledge_updates(
    mut scheduler: RawScheduler,
) -> (mpsc::Receiver<Seen>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(64);
    let task = tokio::spawn(async move {
        while let Some(event) = scheduler.next_event().await {
            let Some(update) = event.update else { continue };
            scheduler.acknowledge(&update.status).await;
            let seen = (
                update.status.task_id.value.clone(),
                update.status.state(),
                now_ms(),
            );
            if tx.send(seen).await.is_err() {
                return;
            }
        }
    });
    (rx, task)
}

/// Waits until the scheduler saw task `id` reach `state`; returns when.
async fn until_update(updates: &mut mpsc::Receiver<Seen>, id: &str, state: TaskState) -> f64 {
    loop {
        let (task, seen, at) = tokio::time::timeout(SOON, updates.recv())
            .await
            .unwrap_or_else(|_| panic!("{id}: no {state:?} in {SOON:?}"))
            .expect("the scheduler's stream goes on");
        if task == id && seen == state {
            return at;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_follows_tasks_live_and_shows_their_output() {
    let Some(browser) = super::browser("live").await else {
        return;
    };
    let cluster = LocalCluster::builder()
        .start()
        .await
        .unwrap_or_else(|e| panic!("the cluster starts: {}", mesos_http::error_chain(&e)));
    let page = browser
        .open(&format!("{}/", cluster.master_url()))
        .await
        .expect("the page opens");
    let wait = |condition: String, what: &'static str| {
        let page = &page;
        async move { page.expect(&condition, SOON, what).await }
    };

    // The agent, from the SUBSCRIBED snapshot, nothing used yet.
    wait(
        r#"document.querySelector('#connection[data-state="live"]')
            && document.querySelectorAll('#agents tbody tr').length === 1
            && document.querySelector('#agents td[data-resource="cpus"]').textContent.startsWith('0 / ')"#
            .into(),
        "the live stream and the idle agent",
    )
    .await;

    // A framework subscribes: FRAMEWORK_ADDED.
    let mut scheduler = RawScheduler::subscribe(cluster.master_url(), "root", "page-test").await;
    wait(
        r#"[...document.querySelectorAll('#frameworks tbody tr')]
            .some((row) => row.textContent.includes('page-test') && row.dataset.state === 'active')"#
            .into(),
        "the framework",
    )
    .await;

    // Two tasks: one that prints and waits for a file, one that fails.
    let offer = loop {
        let event = tokio::time::timeout(SOON, scheduler.next_event())
            .await
            .expect("an offer in time")
            .expect("the stream goes on");
        if let Some(offer) = event.offers.and_then(|o| o.offers.into_iter().next()) {
            break offer;
        }
    };
    let flags = tempfile::tempdir().expect("a temporary directory");
    let release = flags.path().join("release");
    let task = |id: &str, command: String| {
        TaskInfo::builder(id, id)
            .agent_id(&offer.agent_id)
            .cpus(0.25)
            .mem(32.0)
            .command(CommandInfoBuilder::shell(command))
            .build()
            .expect("a task")
    };
    let waits = task(
        "page-waits",
        format!(
            "echo hello-from-the-sandbox; while [ ! -e '{}' ]; do sleep 0.05; done",
            release.display()
        ),
    );
    let fails = task("page-fails", "echo oops >&2; exit 3".into());
    scheduler.launch(&offer, vec![waits, fails]).await;
    let (mut updates, scheduler) = acknowledge_updates(scheduler);

    wait(
        task_in("active-tasks", "page-waits", "TASK_RUNNING"),
        "page-waits RUNNING among the active tasks",
    )
    .await;
    wait(
        task_in("recent-tasks", "page-fails", "TASK_FAILED"),
        "page-fails FAILED among the recent tasks",
    )
    .await;
    wait(
        r#"document.querySelector('#agents td[data-resource="cpus"]').textContent.startsWith('0.25 / ')"#
            .into(),
        "the agent's CPUs in use by the running task",
    )
    .await;
    let shot = page.screenshot("1-tasks").await.expect("a screenshot");
    eprintln!("screenshot: {}", shot.display());

    // The running task's stdout, read through the master.
    page.evaluate(
        r#"document.querySelector('#active-tasks tr[data-task-id="page-waits"] button[data-file="stdout"]').click()"#,
    )
    .await
    .expect("the stdout button clicks");
    wait(
        r#"document.querySelector('#sandbox-output').textContent.includes('hello-from-the-sandbox')"#
            .into(),
        "the task's stdout",
    )
    .await;
    let shot = page.screenshot("2-sandbox").await.expect("a screenshot");
    eprintln!("screenshot: {}", shot.display());

    // The task finishes: the page moves it to the recent tasks.
    until_update(&mut updates, "page-waits", TaskState::TaskRunning).await;
    std::fs::write(&release, b"").expect("the release file");
    let seen_by_scheduler = until_update(&mut updates, "page-waits", TaskState::TaskFinished).await;
    wait(
        task_in("recent-tasks", "page-waits", "TASK_FINISHED"),
        "page-waits FINISHED among the recent tasks",
    )
    .await;
    let since = page
        .evaluate(&format!(
            "Number({}.dataset.seen)",
            task_in("recent-tasks", "page-waits", "TASK_FINISHED")
        ))
        .await
        .expect("the row's time");
    eprintln!(
        "the page showed TASK_FINISHED {:.0} ms after the scheduler saw it (negative: before)",
        since.as_f64().unwrap_or(f64::NAN) - seen_by_scheduler
    );
    wait(
        r#"document.querySelectorAll('#active-tasks tbody tr').length === 0
            && document.querySelector('#agents td[data-resource="cpus"]').textContent.startsWith('0 / ')"#
            .into(),
        "no active task and the agent idle again",
    )
    .await;
    let shot = page.screenshot("3-finished").await.expect("a screenshot");
    eprintln!("screenshot: {}", shot.display());
    scheduler.abort();

    // The page's RecordIO parser: records split across chunks, several in
    // one chunk, and a malformed or oversized length refused.
    let parsed = page
        .evaluate(
            r#"(() => {
                const bytes = (text) => new TextEncoder().encode(text);
                const parser = new RecordIoParser(10);
                const records = [...parser.push(bytes("5\nhel")), ...parser.push(bytes("lo2\nab0\n")),
                    ...parser.push(bytes("3\nxyz"))];
                const refuses = (input) => { try { new RecordIoParser(10).push(bytes(input)); return false; }
                    catch (e) { return true; } };
                return { records, refused: [refuses("x\n"), refuses("11\n"), refuses("9".repeat(30))] };
            })()"#,
        )
        .await
        .expect("the parser runs");
    assert_eq!(
        parsed,
        serde_json::json!({
            "records": ["hello", "ab", "", "xyz"],
            "refused": [true, true, true],
        })
    );
    let problems = browser.problems();
    drop(page);
    browser.close().await;
    assert!(problems.is_empty(), "the page logged errors: {problems:?}");
}
