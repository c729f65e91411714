//! The reconciler and the offer manager end to end over real HTTP: on
//! `mesos-local` always, and the reconciler on a real Mesos 1.11 master
//! when `MESOS_INTEROP_MASTER` names one (skipped otherwise, a failure with
//! `MESOS_RS_REQUIRE_ENV=1`).

mod driver;
mod offers;
mod reconcile;
mod support;

use std::time::Duration;

use mesos_local::LocalCluster;

/// The real-master tests share its one agent: one at a time.
static REAL_MASTER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn local_cluster() -> LocalCluster {
    mesos_test_support::init_tracing();
    LocalCluster::builder()
        .allocation_interval(Duration::from_millis(100))
        .start()
        .await
        .expect("mesos-local starts")
}

/// Without PARTITION_AWARE the master answers TASK_LOST for both ghosts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_framework_reconciles_its_tasks_on_mesos_local() {
    let cluster = local_cluster().await;
    reconcile::restart_and_reconcile(cluster.master_url(), "recon-local", false, false).await;
}

/// With PARTITION_AWARE: TASK_GONE (agent known) and TASK_UNKNOWN (none).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_partition_aware_framework_reconciles_on_mesos_local() {
    let cluster = local_cluster().await;
    reconcile::restart_and_reconcile(cluster.master_url(), "recon-local-pa", true, false).await;
}

/// A reconciliation answer lost on the way: the task is asked again, alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_is_asked_again_after_the_backoff() {
    let cluster = local_cluster().await;
    reconcile::restart_and_reconcile(cluster.master_url(), "recon-dropped", false, true).await;
}

/// The reconciler and the offer manager fed from a `Scheduler`'s callbacks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_driver_reconciles_and_suppresses_on_mesos_local() {
    let cluster = local_cluster().await;
    driver::restarted_driver_reconciles(cluster.master_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offer_manager_declines_suppresses_and_revives_on_mesos_local() {
    mesos_test_support::init_tracing();
    let cluster = LocalCluster::builder()
        .allocation_interval(Duration::from_millis(50))
        .start()
        .await
        .expect("mesos-local starts");
    offers::leases_suppression_and_revival(cluster.master_url(), "").await;
}

/// The same against the real master (its allocation interval sets the
/// pace: seconds with Mesos's default of 1 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offer_manager_declines_suppresses_and_revives_on_real_mesos() {
    let Some(master) = mesos_test_support::environment::interop_master("") else {
        return;
    };
    mesos_test_support::init_tracing();
    let _one_at_a_time = REAL_MASTER.lock().await;
    offers::leases_suppression_and_revival(&master, &format!("-{}", std::process::id())).await;
}

/// The same failover against the real master, both capabilities.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_framework_reconciles_its_tasks_on_real_mesos() {
    let Some(master) = mesos_test_support::environment::interop_master("") else {
        return;
    };
    mesos_test_support::init_tracing();
    let _one_at_a_time = REAL_MASTER.lock().await;
    let run = format!("{}", std::process::id());
    reconcile::restart_and_reconcile(&master, &format!("recon-real-{run}"), false, false).await;
    reconcile::restart_and_reconcile(&master, &format!("recon-real-pa-{run}"), true, false).await;
}
