//! Differential suite: mesos-local against recorded observations of a real
//! Apache Mesos 1.11 master.
//!
//! Each scenario is a script of raw HTTP exchanges with a master (any
//! method, headers and body bytes: see [`http`]) that produces normalised
//! observations ([`observe`]): status codes, content types, the headers that
//! matter (`Allow`, whether `Mesos-Stream-Id` is there), error messages with
//! ids and parser details removed, event type sequences, the fields present
//! in each event, task state/source/reason sequences.
//!
//! The executor API's scenarios (`scenarios/executor/`) launch a task whose
//! custom executor is a shell script that only writes its environment to a
//! file and waits; the test then speaks the executor API itself, raw, to the
//! agent as that executor (framework id + executor id from the
//! environment), so every call, error answer and event sequence is scripted
//! the same on both targets. Their observations normalise only what is
//! run-specific, explicitly (`Launched::normalise`): the framework, agent
//! and container ids, the agent's work directory and port, the script's
//! own directory. Protobuf events are observed through our JSON mapping,
//! which writes the fields that have explicit proto2 defaults (as Mesos's
//! JSON writer does): for protobuf scenarios a field list shows those
//! whether or not they were on the wire.
//!
//! The task group scenarios (`scenarios/task_group.rs`) run our own
//! executor instead: the `test_executor` example, built on
//! `mesos-executor` and run by the agent by absolute path, gets a
//! LAUNCH_GROUP of two tasks and reports what it saw to a file; each
//! task's updates, the executor's FAILURE and the executor's own view are
//! compared.
//!
//! The operator API's scenarios (`scenarios/operator.rs`,
//! `scenarios/agent_operator.rs`) call `POST /api/v1` on the master and
//! `/slave(1)/api/v1` on the agent while a framework runs a task, and
//! follow the master's SUBSCRIBE stream as the task and the framework come
//! and go. Answers are observed through our JSON mapping of the operator
//! protos (the fields a client decodes), restricted to the scenario's own
//! framework, since the real master keeps those of earlier scenarios.
//!
//! The pipelining scenario (`scenarios/pipelining.rs`) writes three calls
//! at once on one raw connection and reads their answers: the real master
//! answers pipelined calls one by one, in order, an error among them. A
//! second one sends 24 calls through the SDK's own pipelined call path
//! (`mesos_http::ClientBuilder::pipelining`): each caller gets its own
//! answer.
//!
//! The observations of the real master are checked in, one JSON file per
//! scenario under `tests/differential/goldens/`. Every run compares
//! mesos-local (a fresh in-process cluster per scenario) with them; when
//! `MESOS_INTEROP_MASTER` names a real master, the real master is compared
//! with them too, so drift on either side shows. Regenerate the goldens
//! (after checking what changed with `git diff`) with one command, against
//! a fresh real master from `../shared/tools/real-mesos/start.sh`:
//!
//! ```sh
//! MESOS_INTEROP_MASTER=http://127.0.0.1:5050 DIFFERENTIAL_RECORD=1 \
//!     cargo test -p mesos-tests --test differential
//! ```
//!
//! (In record mode the mesos-local half does not compare.) The scenarios
//! need no special real-mesos settings (CI's defaults work);
//! `MESOS_ALLOCATION_INTERVAL=100ms` in `start.sh`'s environment makes a
//! local run quicker. Without
//! `MESOS_INTEROP_MASTER` the real-master half reports `SKIPPED` (a failure
//! with `MESOS_RS_REQUIRE_ENV=1`, as in CI).

mod http;
mod observe;
mod scenarios;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use mesos_proto::MediaType;
use serde_json::{json, Value};

pub(crate) use scenarios::Ctx;

/// Upper bound of one scenario.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(90);

/// Set to `1` to write the real master's observations as the goldens.
const RECORD_VAR: &str = "DIFFERENTIAL_RECORD";

/// Real-master scenarios share its agent (offers): one at a time.
static REAL_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A scenario's body.
pub(crate) type Body = fn(Ctx) -> Pin<Box<dyn Future<Output = observe::Observations> + Send>>;

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("differential/goldens")
        .join(format!("{name}.json"))
}

fn recording() -> bool {
    std::env::var(RECORD_VAR).is_ok_and(|v| v.trim() == "1")
}

fn init_tracing() {
    mesos_test_support::init_tracing();
}

async fn observe(name: &str, base: &str, media: Option<MediaType>, body: Body) -> Value {
    let ctx = Ctx::new(base, media.unwrap_or(MediaType::Json), name);
    let observations = tokio::time::timeout(SCENARIO_TIMEOUT, body(ctx))
        .await
        .unwrap_or_else(|_| panic!("{name} did not finish within {SCENARIO_TIMEOUT:?}"));
    json!({ "scenario": name, "observations": observations.into_value() })
}

fn compare(name: &str, target: &str, observed: &Value) {
    let path = golden_path(name);
    let golden = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{name}: no golden at {} ({e}); record it against a real master (see the suite's docs)",
            path.display()
        )
    });
    let golden: Value = serde_json::from_str(&golden)
        .unwrap_or_else(|e| panic!("{name}: golden {} is not JSON: {e}", path.display()));
    if &golden != observed {
        panic!(
            "{name}: {target} differs from the real Mesos 1.11 golden {}\n--- golden\n{}\n--- {target}\n{}",
            path.display(),
            pretty(&golden),
            pretty(observed)
        );
    }
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// Runs scenario `name` on a fresh mesos-local cluster and compares it with
/// its golden.
pub(crate) async fn run_local(name: &str, media: Option<MediaType>, body: Body) {
    init_tracing();
    if recording() {
        eprintln!("{name} on mesos-local: not compared ({RECORD_VAR}=1 records the goldens)");
        return;
    }
    let cluster = mesos_local::LocalCluster::builder()
        .start()
        .await
        .unwrap_or_else(|e| panic!("mesos-local starts: {}", mesos_http::error_chain(&e)));
    let observed = observe(name, cluster.master_url(), media, body).await;
    compare(name, "mesos-local", &observed);
}

/// Runs scenario `name` against the real master (if any): records its
/// golden with `DIFFERENTIAL_RECORD=1`, compares with it otherwise.
pub(crate) async fn run_real(name: &str, media: Option<MediaType>, body: Body) {
    init_tracing();
    let Some(master) = mesos_tests::interop_master(&format!("differential {name} (real master)"))
    else {
        return;
    };
    let _serialised = REAL_LOCK.lock().await;
    let observed = observe(name, &master, media, body).await;
    if recording() {
        let path = golden_path(name);
        std::fs::create_dir_all(path.parent().expect("goldens dir")).expect("goldens dir");
        std::fs::write(&path, format!("{}\n", pretty(&observed)))
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        eprintln!("recorded {}", path.display());
        return;
    }
    compare(name, "the real master", &observed);
}

/// Declares scenarios: each gets a `local` and a `real` test (and one pair
/// per media type when declared with `both`).
#[macro_export]
macro_rules! scenarios {
    ($($kind:ident $name:ident),* $(,)?) => {
        $( $crate::scenarios!(@one $kind $name); )*
    };
    (@one json $name:ident) => {
        mod $name {
            #[tokio::test]
            async fn local() {
                $crate::run_local(stringify!($name), None, |c| Box::pin(super::$name(c))).await;
            }
            #[tokio::test]
            async fn real() {
                $crate::run_real(stringify!($name), None, |c| Box::pin(super::$name(c))).await;
            }
        }
    };
    (@one both $name:ident) => {
        mod $name {
            use mesos_proto::MediaType;
            #[tokio::test]
            async fn local_json() {
                $crate::run_local(concat!(stringify!($name), "-json"), Some(MediaType::Json), |c| Box::pin(super::$name(c))).await;
            }
            #[tokio::test]
            async fn real_json() {
                $crate::run_real(concat!(stringify!($name), "-json"), Some(MediaType::Json), |c| Box::pin(super::$name(c))).await;
            }
            #[tokio::test]
            async fn local_protobuf() {
                $crate::run_local(concat!(stringify!($name), "-protobuf"), Some(MediaType::Protobuf), |c| Box::pin(super::$name(c))).await;
            }
            #[tokio::test]
            async fn real_protobuf() {
                $crate::run_real(concat!(stringify!($name), "-protobuf"), Some(MediaType::Protobuf), |c| Box::pin(super::$name(c))).await;
            }
        }
    };
}
