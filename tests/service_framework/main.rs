//! The `service_framework` example SIGKILLed and restarted with the same
//! state directory, as real processes over real HTTP: on `mesos-local`
//! (three agents, one rack each, six instances under `rack:GROUP_BY:3` and
//! `rack:MAX_PER:2`; three crashes during the rollout, which the racks
//! coming up one after another keep unfinished, and one after it) and, when `MESOS_INTEROP_MASTER` names
//! one, on a real Mesos 1.11 master (one instance under `hostname:UNIQUE`,
//! one crash).
//!
//! What every test asserts, from the master's `/master/state` sampled
//! throughout (and the framework's own output):
//! - the framework id never changes (every run subscribes with the first
//!   run's id; the master lists one framework of this name, never a
//!   completed one);
//! - at the end exactly N instances run, and they are every task the
//!   master ever listed for the framework: no task was lost (none ever
//!   reached a terminal state) and none replaced;
//! - no task id was launched twice (no run printed `launching` for an id
//!   another launch used, and the master never listed an id twice);
//! - the placement constraints held at every sample (MAX_PER and UNIQUE
//!   always; GROUP_BY's balance whenever the master lists all N tasks);
//! - after each restart the stored instances were reconciled, and at the
//!   end the framework is suppressed and holds no offer.

mod faults;
mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use mesos_framework::state::{FileStateStore, IntentPhase, StateStore};
use mesos_local::LocalCluster;
use mesos_proto::v1::{value, Attribute};
use support::{lines, Framework, Observer, Snapshot};

/// How a crash test is set up.
struct Plan<'a> {
    label: &'a str,
    master: &'a str,
    instances: usize,
    /// `--constraint` values.
    constraints: &'a [&'a str],
    /// The agent attribute the constraints are on (`None`: hostname).
    field: Option<&'a str>,
    max_per: usize,
    balanced: bool,
    /// SIGKILLs once every instance runs.
    kills_when_running: usize,
    /// Three SIGKILLs during the rollout first, on this cluster, whose
    /// agents 1 and 2 are stopped when the test starts (see
    /// [`kills_during_the_rollout`]).
    rollout_on: Option<&'a LocalCluster>,
}

/// A `rack` text attribute.
pub(crate) fn rack(name: &str) -> Attribute {
    Attribute {
        name: "rack".into(),
        r#type: value::Type::Text as i32,
        text: Some(value::Text { value: name.into() }),
        ..Default::default()
    }
}

/// Three SIGKILLs while the rollout is unfinished, then one with every
/// instance running. The rollout cannot finish early: two of the three
/// racks are down when it starts and come up one at a time, and MAX_PER:2
/// keeps at most two instances per rack.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_framework_survives_three_sigkills_during_its_rollout_on_mesos_local() {
    mesos_test_support::init_tracing();
    let cluster = LocalCluster::builder()
        .agents(3)
        .agent_attributes(0, vec![rack("r1")])
        .agent_attributes(1, vec![rack("r2")])
        .agent_attributes(2, vec![rack("r3")])
        .allocation_interval(Duration::from_millis(100))
        .status_update_retry(Duration::from_secs(1))
        .start()
        .await
        .expect("mesos-local starts");
    for agent in [1, 2] {
        cluster.stop_agent(agent).await.expect("agent stops");
    }
    crash_and_restart(Plan {
        label: "service-local",
        master: cluster.master_url(),
        instances: 6,
        constraints: &["rack:GROUP_BY:3", "rack:MAX_PER:2"],
        field: Some("rack"),
        max_per: 2,
        balanced: true,
        kills_when_running: 1,
        rollout_on: Some(&cluster),
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_framework_survives_a_sigkill_on_real_mesos() {
    let Some(master) =
        mesos_tests::interop_master("service_framework_survives_a_sigkill_on_real_mesos")
    else {
        return;
    };
    mesos_test_support::init_tracing();
    let label = format!("service-real-{}", std::process::id());
    crash_and_restart(Plan {
        label: &label,
        master: &master,
        instances: 1,
        constraints: &["hostname:UNIQUE"],
        field: None,
        max_per: 1,
        balanced: false,
        kills_when_running: 1,
        rollout_on: None,
    })
    .await;
}

/// An instance that ends is replaced under a new task id, on the rack it
/// freed: the role is REVIVEd for it (the declines of the other racks'
/// offers refused them for ten minutes, so without the REVIVE no offer
/// would come in time). And an instance that no offer can take is
/// reported with the constraint that refused each agent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_framework_replaces_an_ended_instance_and_says_why_one_is_pending() {
    mesos_test_support::init_tracing();
    let cluster = LocalCluster::builder()
        .agents(3)
        .agent_attributes(0, vec![rack("r1")])
        .agent_attributes(1, vec![rack("r2")])
        .agent_attributes(2, vec![rack("r3")])
        .allocation_interval(Duration::from_millis(100))
        .start()
        .await
        .expect("mesos-local starts");
    let stop = mesos_tests::output_dir("service-stop");
    // The first instance to take the stop file ends; the others, and the
    // replacement, keep waiting for one that never comes again.
    let command = format!(
        "while ! mv {dir}/stop {dir}/taken.$$ 2>/dev/null; do sleep 0.1; done",
        dir = stop.display()
    );
    let label = "service-replace";
    let mut framework = Framework::new(
        label,
        cluster.master_url(),
        &[
            "--name",
            label,
            "--instances",
            "4",
            "--constraint",
            "rack:UNIQUE",
            "--command",
            &command,
            "--offer-lease",
            "0.5",
            "--refuse",
            "600",
            "--revive-interval",
            "0.5",
        ],
    );
    let mut observer = Observer::new(cluster.master_url(), label, Some("rack"), 1, false, 4);
    framework.start(&[]);

    // Three racks for four instances: three run, the fourth is pending.
    let first = observer
        .until(&mut framework, "three running, one pending", |s, f| {
            s.running() == 3
                && f.current_lines("pending: ")
                    .iter()
                    .any(|l| l.contains("constraint rack:UNIQUE refused agent"))
        })
        .await;
    let pending = framework.current_lines("pending: ");
    assert!(
        pending[0].starts_with("1 instance(s) fit no offer"),
        "{pending:?}"
    );
    let before: BTreeSet<String> = first.live().map(|(id, _)| id.clone()).collect();
    let revives_before = revives(&framework);

    // One instance ends: it is replaced, under a new id.
    std::fs::write(stop.join("stop"), b"").expect("stop file");
    let after = observer
        .until(&mut framework, "the ended instance replaced", |s, _| {
            s.running() == 3
                && s.tasks.values().any(|t| t.state == "TASK_FINISHED")
                && s.live().any(|(id, _)| !before.contains(id))
        })
        .await;
    let ended: Vec<&String> = after
        .tasks
        .iter()
        .filter(|(_, t)| t.state == "TASK_FINISHED")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ended.len(), 1, "{after:?}");
    assert!(before.contains(ended[0]), "{ended:?} was running before");
    let now: BTreeSet<String> = after.live().map(|(id, _)| id.clone()).collect();
    let new: Vec<&String> = now.difference(&before).collect();
    assert_eq!(new.len(), 1, "{now:?} vs {before:?}");
    assert_eq!(
        after.per_place().len(),
        3,
        "one instance per rack: {after:?}"
    );
    assert!(observer.violations.is_empty(), "{:#?}", observer.violations);
    let stdout = framework.all_stdout();
    assert!(
        stdout.contains(&format!("instance {} ended TASK_FINISHED", ended[0])),
        "{stdout}"
    );
    let launches = lines(&stdout, "launching ");
    let ids: BTreeSet<&str> = launches
        .iter()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        ids.len(),
        launches.len(),
        "a task id launched twice: {launches:?}"
    );
    assert!(ids.contains(new[0].as_str()), "{launches:?}");
    assert!(
        revives(&framework) > revives_before,
        "no REVIVE for the replacement"
    );
    let _ = std::fs::remove_dir_all(&stop);
}

/// The REVIVE count of the framework's last status line.
fn revives(framework: &Framework) -> u64 {
    let status = framework.current_lines("status: ");
    let last = status.last().expect("a status line");
    last.split(", ")
        .find_map(|part| part.strip_prefix("revives "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no revive count in {last:?}"))
}

/// Runs the example, SIGKILLs and restarts it as `plan` says, then checks
/// the outcome; tears the framework down at the end.
async fn crash_and_restart(plan: Plan<'_>) {
    let n = plan.instances;
    let instances = n.to_string();
    let mut args = vec![
        "--name",
        plan.label,
        "--instances",
        instances.as_str(),
        "--command",
        "sleep 3600",
        "--failover-timeout",
        "600",
        "--offer-lease",
        "1",
        "--revive-interval",
        "0.5",
    ];
    for constraint in plan.constraints {
        args.extend(["--constraint", constraint]);
    }
    let mut framework = Framework::new(plan.label, plan.master, &args);
    let mut observer = Observer::new(
        plan.master,
        plan.label,
        plan.field,
        plan.max_per,
        plan.balanced,
        n,
    );
    let all_running = move |s: &Snapshot, _: &Framework| s.running() == n && s.live().count() == n;

    framework.start(&[]);
    if let Some(cluster) = plan.rollout_on {
        kills_during_the_rollout(cluster, &mut framework, &mut observer, n).await;
    }
    for round in 0..plan.kills_when_running {
        observer
            .until(&mut framework, "every instance running", all_running)
            .await;
        framework.kill();
        println!("SIGKILL {} with every instance running", round + 1);
        framework.start(&[]);
        // The restarted run reconciles what it restored: all N instances.
        observer
            .until(
                &mut framework,
                "reconciliation after the restart",
                |_, f| !f.current_lines("reconciled ").is_empty(),
            )
            .await;
        let line = framework.current_lines("reconciled ").remove(0);
        assert!(line.starts_with(&format!("{n} instances")), "{line}");
    }

    // The last run: every instance running, suppressed, no offer held.
    let last = observer
        .until(
            &mut framework,
            "running, suppressed and holding no offer",
            |s, f| {
                all_running(s, f)
                    && s.offers == 0
                    && f.current_lines("status: ").last().is_some_and(|l| {
                        l.starts_with(&format!("running {n} of {n},"))
                            && l.contains("suppressed true")
                    })
            },
        )
        .await;
    let stdout = framework.all_stdout();
    check(&plan, &observer, &last, &stdout);
    println!(
        "{} samples; task ids: {:?}",
        observer.samples,
        last.tasks.keys().collect::<Vec<_>>()
    );

    // The store agrees: the framework id, and one launched intent and one
    // RUNNING state per instance.
    framework.kill();
    let store = FileStateStore::open(framework.state_dir()).expect("store opens");
    let stored_id = store.framework_id().await.expect("read").expect("an id");
    assert_eq!(Some(&stored_id.value), observer.framework_ids.iter().next());
    let intents = store.intents().await.expect("intents");
    let ids: BTreeSet<String> = intents
        .iter()
        .map(|i| i.task.task_id.value.clone())
        .collect();
    assert_eq!(ids, last.tasks.keys().cloned().collect(), "stored intents");
    assert!(
        intents.iter().all(|i| i.phase == IntentPhase::Launched),
        "{intents:?}"
    );
    let states = store.task_states().await.expect("states");
    assert_eq!(states.len(), n, "{states:?}");
    drop(store);

    // Remove the framework (its tasks too): the real master is shared.
    framework.start(&["--teardown"]);
    assert!(
        framework.wait_exit().await,
        "teardown:\n{}",
        framework.output()
    );
}

/// Three SIGKILLs, each with the rollout unfinished (fewer than `n`
/// instances running, some pending): with only rack r1 up, once an
/// instance runs there; with r2 brought back, once more run; and at once
/// after the next run has reconciled what it restored. Rack r3 comes back
/// before the last restart, and the rollout can finish.
async fn kills_during_the_rollout(
    cluster: &LocalCluster,
    framework: &mut Framework,
    observer: &mut Observer,
    n: usize,
) {
    let pending = |f: &Framework| !f.current_lines("pending: ").is_empty();
    let one_rack = observer
        .until(framework, "an instance on the only rack up", |s, f| {
            s.running() >= 1 && pending(f)
        })
        .await;
    kill_during_the_rollout(framework, &one_rack, n, 1);
    framework.start(&[]);

    cluster.restart_agent(1).await.expect("agent 1 restarts");
    let before = one_rack.running();
    let two_racks = observer
        .until(framework, "more instances with a second rack", |s, f| {
            s.running() > before && pending(f)
        })
        .await;
    kill_during_the_rollout(framework, &two_racks, n, 2);
    framework.start(&[]);

    let reconciled = observer
        .until(framework, "reconciliation after the restart", |_, f| {
            !f.current_lines("reconciled ").is_empty()
        })
        .await;
    kill_during_the_rollout(framework, &reconciled, n, 3);
    cluster.restart_agent(2).await.expect("agent 2 restarts");
    framework.start(&[]);
}

fn kill_during_the_rollout(framework: &mut Framework, seen: &Snapshot, n: usize, kill: usize) {
    let running = seen.running();
    assert!(running < n, "kill {kill}: the rollout had finished");
    framework.kill();
    println!("SIGKILL {kill} during the rollout ({running} of {n} running)");
}

/// The assertions on the whole history.
fn check(plan: &Plan<'_>, observer: &Observer, last: &Snapshot, stdout: &str) {
    let n = plan.instances;
    // The framework id never changed.
    let subscribed: BTreeSet<String> = lines(stdout, "subscribed as ").into_iter().collect();
    assert_eq!(subscribed.len(), 1, "subscribed as: {subscribed:?}");
    assert_eq!(
        observer.framework_ids, subscribed,
        "frameworks named {} at the master",
        plan.label
    );
    assert!(last.completed_ids.is_empty(), "{:?}", last.completed_ids);

    // Exactly N instances run, and they are every task the master ever
    // listed: none lost (never terminal), none replaced.
    assert_eq!(last.running(), n, "{last:?}");
    let ever: BTreeSet<&String> = observer.seen.keys().collect();
    let running: BTreeSet<&String> = last.live().map(|(id, _)| id).collect();
    assert_eq!(
        ever, running,
        "every task the master listed: {:?}",
        observer.seen
    );
    for (id, states) in &observer.seen {
        let ended: Vec<&String> = states
            .iter()
            .filter(|s| {
                !matches!(
                    s.as_str(),
                    "TASK_STAGING" | "TASK_STARTING" | "TASK_RUNNING"
                )
            })
            .collect();
        assert!(ended.is_empty(), "task {id} was seen {ended:?}");
    }

    // No task id launched twice, and every task the master knows was
    // launched by one of the runs.
    let launches: Vec<String> = lines(stdout, "launching ")
        .into_iter()
        .map(|l| l.split_whitespace().next().unwrap_or_default().to_string())
        .collect();
    let unique: BTreeSet<&String> = launches.iter().collect();
    assert_eq!(
        unique.len(),
        launches.len(),
        "a task id launched twice: {launches:?}"
    );
    assert!(
        ever.iter().all(|id| unique.contains(id)),
        "{launches:?} vs {ever:?}"
    );

    // The constraints held at every sample, and at the end.
    assert!(observer.violations.is_empty(), "{:#?}", observer.violations);
    let per_place = last.per_place();
    assert!(
        per_place.values().all(|c| *c <= plan.max_per),
        "{per_place:?}"
    );
    if plan.balanced {
        assert_eq!(per_place.len(), observer.places.len(), "{per_place:?}");
    }
}
