//! Scheduler conformance suite: the scheduler API as a framework sees it,
//! through `mesos-scheduler` (stream API and `SchedulerDriver`), for both
//! media types.
//!
//! Parametrised by master URL and media type ([`harness::Target`]); today it
//! runs against a real Apache Mesos 1.11 master:
//!
//! ```sh
//! MESOS_INTEROP_MASTER=http://127.0.0.1:5050 cargo test -p mesos-tests --test conformance
//! ```
//!
//! Without `MESOS_INTEROP_MASTER` every scenario prints that it was skipped
//! and passes. Scenarios share the master's agent(s) and run one at a time
//! (a global async lock), each with its own framework, torn down at the end.

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
        }
    )*};
    (ignore = $reason:literal; $scenario:ident) => {
        mod $scenario {
            #[tokio::test]
            #[ignore = $reason]
            async fn protobuf() {
                crate::harness::run(stringify!($scenario), mesos_scheduler::MediaType::Protobuf, super::$scenario).await;
            }

            #[tokio::test]
            #[ignore = $reason]
            async fn json() {
                crate::harness::run(stringify!($scenario), mesos_scheduler::MediaType::Json, super::$scenario).await;
            }
        }
    };
}
pub(crate) use conformance;
