//! `mesos-docker-executor`: a drop-in for Mesos 1.11's Docker executor.
//!
//! Started by a Mesos agent (Docker containerizer) with `--container=...
//! --docker=... --docker_socket=... --sandbox_directory=...
//! --mapped_directory=... --stop_timeout=... --task_environment=...` and the
//! executor environment (`MESOS_FRAMEWORK_ID`, `MESOS_EXECUTOR_ID`, the
//! agent endpoint, ...). Logs go to stderr, filtered by `RUST_LOG` (default
//! `info`). Exits 0 when the driver stopped normally, 1 otherwise.

use std::time::Duration;

use mesos_docker::{DockerExecutor, DockerExecutorConfig, Flags, FlagsError};
use mesos_executor::{ExecutorConfig, ExecutorDriver, Status};

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();

    let flags = match Flags::parse(std::env::args().skip(1)) {
        Ok(flags) => flags,
        Err(FlagsError::Help) => {
            println!("{}", Flags::usage());
            return;
        }
        Err(FlagsError::Version) => {
            println!("{}", FlagsError::Version);
            return;
        }
        Err(e) => {
            eprintln!("mesos-docker-executor: {e}\n\n{}", Flags::usage());
            std::process::exit(1);
        }
    };
    for warning in &flags.warnings {
        tracing::warn!("{warning}");
    }
    let config = match ExecutorConfig::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("mesos-docker-executor: {e}");
            std::process::exit(1);
        }
    };
    let sandbox = flags
        .sandbox_directory
        .clone()
        .or_else(|| config.directory().map(|d| d.display().to_string()))
        .or_else(|| config.sandbox().map(|d| d.display().to_string()));
    let Some(sandbox) = sandbox else {
        eprintln!("mesos-docker-executor: missing required flag --sandbox_directory (and no MESOS_DIRECTORY)");
        std::process::exit(1);
    };
    let executor = DockerExecutor::new(DockerExecutorConfig::from_flags(
        &flags,
        sandbox,
        config.shutdown_grace_period(),
    ));
    let handle = executor.handle();
    let driver = match ExecutorDriver::new(executor, config) {
        Ok(driver) => driver,
        Err(e) => {
            eprintln!("mesos-docker-executor: {e}");
            std::process::exit(1);
        }
    };
    let status = driver.run().await;
    handle.cleanup(Duration::from_secs(5)).await;
    tracing::info!(status = status.as_str_name(), "driver ended");
    if let Some(failure) = driver.failure() {
        tracing::error!(error = %failure, "executor driver failure");
    }
    std::process::exit(if status == Status::DriverStopped {
        0
    } else {
        1
    });
}
