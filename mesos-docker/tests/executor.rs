//! The Docker executor against a fake agent and the real Docker engine:
//! in process (`DockerExecutor` + `ExecutorDriver`) and as the
//! `mesos-docker-executor` binary with an agent's flags and environment.

mod support;

use std::time::{Duration, Instant};

use mesos_docker::docker::EngineApi;
use mesos_docker::testing::{self, ContainerGuard, TempDir, TEST_IMAGE};
use mesos_docker::{Docker, DockerError, DockerExecutor, DockerExecutorConfig, Output};
use mesos_executor::{ExecutorDriver, Status};
use mesos_proto::builders::{CommandInfoBuilder, DockerInfoBuilder, DockerNetwork};
use mesos_proto::v1::executor::call;
use mesos_proto::v1::{TaskInfo, TaskState, TaskStatus};
use support::*;

fn setup() -> bool {
    if !mesos_test_support::environment::docker("") {
        return false;
    }
    testing::ensure_test_image().expect("building the test image");
    true
}

fn docker_task(id: &str, command: CommandInfoBuilder, grace: Option<Duration>) -> TaskInfo {
    let mut builder = TaskInfo::builder(id, id)
        .agent_id(AGENT)
        .cpus(0.5)
        .mem(64.0)
        .command(command)
        .container(DockerInfoBuilder::new(TEST_IMAGE).network(DockerNetwork::Bridge));
    if let Some(grace) = grace {
        builder = builder.kill_grace_period(grace);
    }
    builder.build().unwrap()
}

/// How long the executor waits for its terminal update's acknowledgement
/// in the tests that acknowledge every update: far longer than
/// [`STOP_WAIT`], so a driver that missed the acknowledgement fails them.
const ACKED_TERMINAL_TIMEOUT: Duration = Duration::from_secs(120);

/// How long a driver may take to stop once its terminal update was
/// acknowledged.
const STOP_WAIT: Duration = Duration::from_secs(20);

/// A driver running a `DockerExecutor` for `container` against `agent`.
fn start(
    agent: &FakeAgent,
    container: &str,
    sandbox: &TempDir,
    terminal_ack_timeout: Duration,
    docker: Docker,
) -> (ExecutorDriver, DockerExecutor) {
    let mut config =
        DockerExecutorConfig::new(docker, container, sandbox.path().display().to_string());
    config.output = Output::Files(sandbox.path().to_path_buf());
    config.terminal_ack_timeout = terminal_ack_timeout;
    let executor = DockerExecutor::new(config);
    let handle = executor.handle();
    let driver = ExecutorDriver::new(executor, agent.config()).unwrap();
    assert_eq!(driver.start(), Status::DriverRunning);
    (driver, handle)
}

async fn joined(driver: &ExecutorDriver) -> Status {
    tokio::time::timeout(STOP_WAIT, driver.join())
        .await
        .expect("the driver did not stop after its terminal update was acknowledged")
}

fn state(status: &TaskStatus) -> TaskState {
    status.state()
}

async fn assert_removed(name: &str) {
    assert!(
        matches!(
            Docker::default().inspect(name).await,
            Err(DockerError::NoSuchContainer(_))
        ),
        "container {name} is still there"
    );
}

/// What the in-process tests start from: a fake agent, a sandbox, a unique
/// container name (removed whatever happens) and a driver running a
/// `DockerExecutor`, subscribed. Fields drop in order: driver first, the
/// sandbox last.
struct Scenario {
    driver: ExecutorDriver,
    _executor: DockerExecutor,
    agent: FakeAgent,
    _guard: ContainerGuard,
    container: String,
    sandbox: TempDir,
}

impl Scenario {
    /// `None` (the test is skipped) without a Docker engine.
    async fn start() -> Option<Scenario> {
        Self::with_terminal_ack_timeout(ACKED_TERMINAL_TIMEOUT).await
    }

    async fn with_terminal_ack_timeout(terminal_ack_timeout: Duration) -> Option<Scenario> {
        // As `mesos-docker-executor` does (`DockerExecutorConfig::from_flags`).
        Self::with(Docker::default().with_engine_api(), terminal_ack_timeout).await
    }

    async fn with(docker: Docker, terminal_ack_timeout: Duration) -> Option<Scenario> {
        if !setup() {
            return None;
        }
        let mut agent = FakeAgent::start().await;
        let sandbox = testing::temp_dir("mesos-docker-executor").unwrap();
        let container = testing::unique_name("mesos-rs-test-exec-");
        let guard = ContainerGuard::new([container.clone()]);
        let (driver, executor) = start(&agent, &container, &sandbox, terminal_ack_timeout, docker);
        agent.next(call::Type::Subscribe).await;
        Some(Scenario {
            driver,
            _executor: executor,
            agent,
            _guard: guard,
            container,
            sandbox,
        })
    }

    /// The driver stopped by itself and the container is gone.
    async fn assert_ended(&self) {
        assert_eq!(joined(&self.driver).await, Status::DriverStopped);
        assert_removed(&self.container).await;
    }
}

#[tokio::test]
async fn launch_runs_the_container_and_reports_starting_running_finished() {
    let Some(s) = Scenario::start().await else {
        return;
    };
    launch_and_finish(s).await;
}

#[tokio::test]
async fn without_the_engine_socket_the_cli_runs_the_launch_alike() {
    let missing = EngineApi::new("/nonexistent/mesos-rs/docker.sock");
    let docker = Docker::default().with_engine(missing);
    let Some(s) = Scenario::with(docker, ACKED_TERMINAL_TIMEOUT).await else {
        return;
    };
    launch_and_finish(s).await;
}

/// STARTING, RUNNING with the inspect output and the IP address, FINISHED;
/// the container's output in the sandbox, nothing left.
async fn launch_and_finish(mut s: Scenario) {
    s.agent.launch(docker_task(
        "task-ok",
        CommandInfoBuilder::shell("echo hello from $MESOS_CONTAINER_NAME; sleep 1"),
        None,
    ));
    let starting = s.agent.update().await;
    assert_eq!(state(&starting), TaskState::TaskStarting);
    assert_eq!(starting.task_id.value, "task-ok");
    let running = s.agent.update().await;
    assert_eq!(state(&running), TaskState::TaskRunning, "{running:?}");
    let network = &running
        .container_status
        .as_ref()
        .expect("container status")
        .network_infos;
    let ip = network[0].ip_addresses[0].ip_address.as_deref().unwrap();
    assert!(ip.parse::<std::net::Ipv4Addr>().is_ok(), "{ip}");
    let data = running.data.as_ref().expect("inspect output as data");
    let inspect: serde_json::Value = serde_json::from_slice(data).unwrap();
    assert_eq!(inspect[0]["Name"], format!("/{}", s.container));
    let finished = s.agent.update().await;
    assert_eq!(state(&finished), TaskState::TaskFinished, "{finished:?}");
    assert_eq!(
        finished.message.as_deref(),
        Some("Container exited with status 0")
    );

    // Every update acknowledged: the executor stops by itself.
    s.assert_ended().await;
    let stdout = std::fs::read_to_string(s.sandbox.path().join("stdout")).unwrap();
    assert_eq!(stdout.trim(), format!("hello from {}", s.container));
}

#[tokio::test]
async fn non_zero_exit_is_task_failed_and_a_second_task_is_refused() {
    let Some(mut s) = Scenario::start().await else {
        return;
    };

    s.agent.launch(docker_task(
        "task-3",
        CommandInfoBuilder::shell("sleep 1; exit 3"),
        None,
    ));
    assert_eq!(state(&s.agent.update().await), TaskState::TaskStarting);
    s.agent.launch(docker_task(
        "task-other",
        CommandInfoBuilder::shell("true"),
        None,
    ));
    let mut seen = Vec::new();
    while seen.len() < 3 {
        seen.push(s.agent.update().await);
    }
    let other = seen
        .iter()
        .find(|s| s.task_id.value == "task-other")
        .expect("refusal");
    assert_eq!(state(other), TaskState::TaskFailed);
    assert_eq!(
        other.message.as_deref(),
        Some("Attempted to run multiple tasks using a \"docker\" executor")
    );
    let ours: Vec<&TaskStatus> = seen
        .iter()
        .filter(|s| s.task_id.value == "task-3")
        .collect();
    assert_eq!(state(ours[0]), TaskState::TaskRunning);
    assert_eq!(state(ours[1]), TaskState::TaskFailed);
    assert_eq!(
        ours[1].message.as_deref(),
        Some("Container exited with status 3")
    );
    s.assert_ended().await;
}

#[tokio::test]
async fn kill_stops_the_container_with_the_grace_period_and_reports_killed() {
    let Some(mut s) = Scenario::start().await else {
        return;
    };

    // PID 1 ignores TERM: only the SIGKILL after the grace period ends it.
    s.agent.launch(docker_task(
        "task-kill",
        CommandInfoBuilder::shell("exec sleep 120"),
        Some(Duration::from_secs(2)),
    ));
    assert_eq!(state(&s.agent.update().await), TaskState::TaskStarting);
    assert_eq!(state(&s.agent.update().await), TaskState::TaskRunning);
    let started = Instant::now();
    s.agent.kill("task-kill", None);
    // The framework has TASK_KILLING_STATE.
    assert_eq!(state(&s.agent.update().await), TaskState::TaskKilling);
    let killed = s.agent.update().await;
    let elapsed = started.elapsed();
    assert_eq!(state(&killed), TaskState::TaskKilled, "{killed:?}");
    assert!(
        elapsed >= Duration::from_secs(2),
        "grace period not honoured: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
    s.assert_ended().await;
}

#[tokio::test]
async fn a_withheld_terminal_acknowledgement_delays_the_stop_until_its_timeout() {
    let timeout = Duration::from_secs(2);
    let Some(mut s) = Scenario::with_terminal_ack_timeout(timeout).await else {
        return;
    };

    s.agent.launch(docker_task(
        "task-unacked",
        CommandInfoBuilder::shell("true"),
        None,
    ));
    assert_eq!(state(&s.agent.update().await), TaskState::TaskStarting);
    assert_eq!(state(&s.agent.update().await), TaskState::TaskRunning);
    let terminal = s.agent.update_unacknowledged().await;
    let sent = Instant::now();
    assert_eq!(state(&terminal), TaskState::TaskFinished);
    assert_eq!(
        tokio::time::timeout(WAIT, s.driver.join()).await.unwrap(),
        Status::DriverStopped
    );
    let waited = sent.elapsed();
    assert!(
        waited >= timeout,
        "stopped {waited:?} after an unacknowledged terminal update (timeout {timeout:?})"
    );
    assert_removed(&s.container).await;
}

#[tokio::test]
async fn shutdown_kills_the_task_then_stops() {
    let Some(mut s) = Scenario::start().await else {
        return;
    };

    s.agent.launch(docker_task(
        "task-shutdown",
        CommandInfoBuilder::shell("trap 'exit 0' TERM; while true; do sleep 0.1; done"),
        None,
    ));
    assert_eq!(state(&s.agent.update().await), TaskState::TaskStarting);
    assert_eq!(state(&s.agent.update().await), TaskState::TaskRunning);
    s.agent.shutdown();
    assert_eq!(state(&s.agent.update().await), TaskState::TaskKilling);
    assert_eq!(state(&s.agent.update().await), TaskState::TaskKilled);
    s.assert_ended().await;
}

#[tokio::test]
async fn an_image_that_cannot_be_pulled_fails_the_task_with_its_name() {
    let Some(mut s) = Scenario::start().await else {
        return;
    };

    let mut task = docker_task("task-noimage", CommandInfoBuilder::entrypoint(), None);
    let image = "mesos-rs-test/missing:1";
    task.container
        .as_mut()
        .unwrap()
        .docker
        .as_mut()
        .unwrap()
        .image = image.into();
    s.agent.launch(task);
    assert_eq!(state(&s.agent.update().await), TaskState::TaskStarting);
    let failed = s.agent.update().await;
    assert_eq!(state(&failed), TaskState::TaskFailed);
    let message = failed.message.unwrap_or_default();
    assert!(
        message.contains(&format!(
            "image {image} not present locally and could not be pulled"
        )),
        "{message}"
    );
    assert_eq!(joined(&s.driver).await, Status::DriverStopped);
}

/// The binary, as an agent starts it: flags (with unknown logging flags)
/// and the executor environment.
#[tokio::test]
async fn the_binary_runs_a_task_with_the_agents_flags() {
    if !setup() {
        return;
    }
    let mut agent = FakeAgent::start().await;
    let sandbox = testing::temp_dir("mesos-docker-executor").unwrap();
    let container = testing::unique_name("mesos-rs-test-bin-");
    let _guard = ContainerGuard::new([container.clone()]);
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_mesos-docker-executor"))
        .args([
            format!("--container={container}"),
            "--docker=docker".into(),
            "--docker_socket=/var/run/docker.sock".into(),
            "--help=false".into(),
            "--initialize_driver_logging=true".into(),
            "--logbufsecs=0".into(),
            "--logging_level=INFO".into(),
            "--mapped_directory=/mnt/mesos/sandbox".into(),
            "--quiet=false".into(),
            format!("--sandbox_directory={}", sandbox.path().display()),
            "--stop_timeout=0ns".into(),
            r#"--task_environment={"FROM_AGENT":"yes"}"#.into(),
        ])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("MESOS_FRAMEWORK_ID", FRAMEWORK)
        .env("MESOS_EXECUTOR_ID", EXECUTOR)
        .env("MESOS_SLAVE_ID", AGENT)
        .env("MESOS_SLAVE_PID", agent.pid())
        .env("MESOS_DIRECTORY", sandbox.path())
        .env("MESOS_CHECKPOINT", "0")
        .env("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "5secs")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawning mesos-docker-executor");
    agent.next(call::Type::Subscribe).await;
    agent.launch(docker_task(
        "task-bin",
        CommandInfoBuilder::shell("echo FROM_AGENT=$FROM_AGENT"),
        None,
    ));
    let states: Vec<TaskState> = vec![
        state(&agent.update().await),
        state(&agent.update().await),
        state(&agent.update().await),
    ];
    assert_eq!(
        states,
        [
            TaskState::TaskStarting,
            TaskState::TaskRunning,
            TaskState::TaskFinished
        ]
    );
    let output = tokio::time::timeout(WAIT, child.wait_with_output())
        .await
        .expect("the executor did not exit")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{}\n{stderr}", output.status);
    // The container's output went to the executor's stdout (the sandbox
    // file under a real agent).
    assert!(stdout.contains("FROM_AGENT=yes"), "{stdout}");
    assert!(
        stderr.contains("ignoring unknown flag --logbufsecs=0"),
        "{stderr}"
    );
    assert_removed(&container).await;
}
