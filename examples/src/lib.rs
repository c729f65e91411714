//! Runnable example frameworks and executors for the Rust Mesos SDK, and the
//! little they share.
//!
//! | example | what it shows |
//! | --- | --- |
//! | `docker_framework` | the Mesos + Docker tutorial's framework: keeps N Docker containers running, relaunching what ends; Ctrl-C tears down |
//! | `command_framework` | command tasks without an executor: a shell command and a Docker container |
//! | `test_framework` + `test_executor` | ports of Mesos's test framework and executor: N tasks on a custom executor (`--task-seconds S`: each runs S seconds) |
//! | `service_framework` | keeps N instances of a command task running under placement constraints, with durable state, failover, reconciliation and offer discipline (`mesos-framework`); survives `kill -9` of itself (see docs/writing-a-service-framework.md) |
//! | `stream_scheduler` | the same kind of job (command tasks) written against the stream API |
//! | `test_executor` | an executor: LAUNCH → TASK_RUNNING → TASK_FINISHED (after the seconds in the task's `data`, if any), the same for every task of a LAUNCH_GROUP, echoes framework messages |
//!
//! Every framework takes the master as its first argument: a URL
//! (`http://host:5050`) for a real cluster, or `local` (the default, Mesos's
//! own word for it) to start an in-process cluster ([`mesos_local`]) and run
//! there:
//!
//! ```sh
//! cargo run -p mesos-examples --example docker_framework -- local mesos-rs-test:busybox 2
//! cargo run -p mesos-examples --example test_framework -- local 5
//! cargo run -p mesos-examples --example test_framework -- http://127.0.0.1:5050 5
//! ```

use mesos_local::LocalCluster;

/// Where a framework runs: a real master, or a cluster this process started.
#[derive(Debug)]
pub struct Master {
    /// The master URL to give the scheduler.
    pub url: String,
    /// The embedded cluster, when `local` was asked for (kept alive here;
    /// dropping it stops the cluster and everything it started).
    pub cluster: Option<LocalCluster>,
}

/// Resolves the master argument: `local` (or nothing) starts an in-process
/// cluster with `agents` agents; anything else is taken as a master URL
/// (`http(s)://host:port`, or `zk://host:port,.../path` to detect the leading
/// master through ZooKeeper, or `file:///path` holding either).
pub async fn master_from_arg(arg: Option<&str>, agents: usize) -> Result<Master, String> {
    match arg.unwrap_or("local") {
        "local" => {
            let cluster = LocalCluster::builder()
                .agents(agents)
                .start()
                .await
                .map_err(|e| mesos_http::error_chain(&e))?;
            tracing::info!(master = %cluster.master_url(), "started an in-process cluster");
            Ok(Master {
                url: cluster.master_url().to_string(),
                cluster: Some(cluster),
            })
        }
        url => Ok(Master {
            url: url.to_string(),
            cluster: None,
        }),
    }
}

/// The longest task run time `test_framework --task-seconds` accepts (and
/// `test_executor` honours): one day.
pub const MAX_TASK_SECONDS: u64 = 86_400;

/// Parses a task run time in seconds, as `test_framework --task-seconds`
/// takes it and puts it in each task's `data` for `test_executor`: a
/// non-negative decimal number of seconds (`3`, `0.5`) up to
/// [`MAX_TASK_SECONDS`].
pub fn parse_task_seconds(text: &str) -> Result<std::time::Duration, String> {
    let seconds: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(0.0..=MAX_TASK_SECONDS as f64).contains(&seconds) {
        return Err(format!(
            "{text:?} is not between 0 and {MAX_TASK_SECONDS} seconds"
        ));
    }
    std::time::Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"))
}

/// The user frameworks run their tasks as: `$USER`, else `root`.
pub fn user() -> String {
    std::env::var("USER").unwrap_or_else(|_| "root".to_string())
}

/// The exit code of a driver-based framework, as Mesos's examples compute
/// it (`driver.run() == DRIVER_STOPPED ? 0 : 1`); anything else is reported
/// on stderr under the program's `name`.
pub fn exit_code(
    name: &str,
    outcome: Result<mesos_proto::v1::Status, String>,
) -> std::process::ExitCode {
    match outcome {
        Ok(mesos_proto::v1::Status::DriverStopped) => std::process::ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!("{name}: the driver ended {}", status.as_str_name());
            std::process::ExitCode::FAILURE
        }
        Err(message) => {
            eprintln!("{name}: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Answers an offer: launches `tasks` on it, or declines it when there are
/// none, with `filters` either way. A failed call is logged, not fatal: the
/// master re-offers what was not taken.
pub async fn launch_or_decline(
    driver: &mesos_scheduler::SchedulerDriver,
    offer_id: mesos_proto::v1::OfferId,
    tasks: Vec<mesos_proto::v1::TaskInfo>,
    filters: Option<mesos_proto::v1::Filters>,
) {
    let result = if tasks.is_empty() {
        driver.decline_offer(offer_id, filters).await
    } else {
        driver.launch_tasks(vec![offer_id], tasks, filters).await
    };
    if let Err(e) = result {
        tracing::warn!(error = %mesos_http::error_chain(&e), "offer answer failed");
    }
}

/// Installs a `tracing` subscriber writing to stderr, filtered by `RUST_LOG`
/// (default `info`). Examples call it first.
pub fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
}

/// The README's code, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// The executor guide's code, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/writing-an-executor.md")]
pub struct ExecutorGuideDoctests;

/// The porting guide's code, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/porting-a-scheduler.md")]
pub struct PortingGuideDoctests;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn task_seconds_are_non_negative_decimal_seconds_up_to_a_day() {
        assert_eq!(parse_task_seconds("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_task_seconds(" 0.5\n"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_task_seconds("0"), Ok(Duration::ZERO));
        assert_eq!(
            parse_task_seconds("86400"),
            Ok(Duration::from_secs(MAX_TASK_SECONDS))
        );
        for bad in ["", "x", "-1", "86401", "NaN", "inf", "1e300"] {
            assert!(parse_task_seconds(bad).is_err(), "{bad:?}");
        }
    }
}
