//! Scheduler conformance suite: the scheduler API as a framework sees it,
//! through `mesos-scheduler` (stream API and `SchedulerDriver`), for both
//! media types.
//!
//! Parametrised by master URL and media type ([`harness::Target`]), every
//! scenario runs twice per media type: against our in-process cluster
//! (`mesos-local`, always), and against a real Apache Mesos 1.11 master when
//! one is named:
//!
//! ```sh
//! MESOS_INTEROP_MASTER=http://127.0.0.1:5050 cargo test -p mesos-tests --test conformance
//! ```
//!
//! Without `MESOS_INTEROP_MASTER` the real-master runs report `SKIPPED` and
//! pass (a failure with `MESOS_RS_REQUIRE_ENV=1`, as in CI). Real-master
//! scenarios share its agent and run one at a time (a global async lock),
//! each with its own framework, torn down at the end; each mesos-local
//! scenario gets a cluster of its own.

mod harness;

mod driver;
mod failover;
mod offers;
mod reconcile;
mod subscribe;
mod tasks;
mod teardown;

/// One `#[tokio::test]` per media type for `scenario` (an
/// `async fn(harness::Target)` in the invoking module).
macro_rules! conformance {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test]
            async fn protobuf() {
                crate::harness::run(stringify!($scenario), mesos_scheduler::MediaType::Protobuf, super::$scenario).await;
            }

            #[tokio::test]
            async fn json() {
                crate::harness::run(stringify!($scenario), mesos_scheduler::MediaType::Json, super::$scenario).await;
            }

            #[tokio::test]
            async fn local_protobuf() {
                crate::harness::run_local(stringify!($scenario), mesos_scheduler::MediaType::Protobuf, super::$scenario).await;
            }

            #[tokio::test]
            async fn local_json() {
                crate::harness::run_local(stringify!($scenario), mesos_scheduler::MediaType::Json, super::$scenario).await;
            }
        }
    )*};
}
pub(crate) use conformance;
