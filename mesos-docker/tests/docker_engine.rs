//! Against the real Docker engine, with the locally built test image (no
//! registry): the run mapping as Docker applies it, exit codes, stop with
//! grace, destroy, orphan recovery and the error paths.
//!
//! Every test reports `SKIPPED` and passes when `docker version` fails (a
//! failure with `MESOS_RS_REQUIRE_ENV=1`, as in CI). Containers and
//! directories are removed by guards, even when an assertion fails.

use std::collections::{BTreeMap, HashSet};
use std::process::Stdio;
use std::time::{Duration, Instant};

use mesos_docker::testing::{self, ContainerGuard, TempDir, TEST_IMAGE};
use mesos_docker::{
    container_name, recover_orphans_with_prefix, Docker, DockerContainerizer, DockerError,
    LaunchState, RunSpec, SpecError,
};
use mesos_proto::builders::{CommandInfoBuilder, DockerInfoBuilder, DockerNetwork};
use mesos_proto::v1::TaskInfo;

/// The image, or `None` (after printing the skip line) without Docker.
fn setup() -> Option<&'static str> {
    if !mesos_test_support::environment::docker("") {
        return None;
    }
    testing::ensure_test_image().expect("building the test image");
    Some(TEST_IMAGE)
}

fn task(command: CommandInfoBuilder, docker: DockerInfoBuilder) -> TaskInfo {
    TaskInfo::builder("t", "t1")
        .agent_id("S0")
        .cpus(1.0)
        .mem(128.0)
        .ports(&[(31000, 31009)])
        .command(command)
        .container(docker)
        .build()
        .expect("task")
}

fn spec_for(task: &TaskInfo, name: &str, sandbox: &TempDir) -> RunSpec {
    RunSpec::from_task(
        task,
        name,
        &sandbox.path().display().to_string(),
        "/mnt/mesos/sandbox",
        &BTreeMap::new(),
    )
    .expect("run spec")
}

async fn wait_code(docker: &Docker, name: &str) -> i32 {
    tokio::time::timeout(Duration::from_secs(60), docker.wait(name))
        .await
        .expect("docker wait timed out")
        .expect("docker wait")
}

#[tokio::test]
async fn env_sandbox_mount_and_resources_are_applied() {
    let Some(image) = setup() else { return };
    let docker = Docker::default();
    let sandbox = testing::temp_dir("mesos-docker-sandbox").unwrap();
    let name = testing::unique_name("mesos-rs-test-env-");
    let _guard = ContainerGuard::new([name.clone()]);
    let task = task(
        CommandInfoBuilder::shell("env > $MESOS_SANDBOX/env.txt; echo to-stdout")
            .env("GREETING", "hello world"),
        DockerInfoBuilder::new(image).network(DockerNetwork::Bridge),
    );
    let spec = spec_for(&task, &name, &sandbox);
    let id = docker.run_detached(&spec).await.expect("docker run -d");
    assert!(!id.is_empty());
    assert_eq!(wait_code(&docker, &name).await, 0);

    let env =
        std::fs::read_to_string(sandbox.path().join("env.txt")).expect("env.txt in the sandbox");
    for line in [
        "GREETING=hello world".to_string(),
        "MESOS_SANDBOX=/mnt/mesos/sandbox".to_string(),
        format!("MESOS_CONTAINER_NAME={name}"),
    ] {
        assert!(
            env.lines().any(|l| l == line),
            "{line:?} missing from:\n{env}"
        );
    }
    let state = docker.inspect(&name).await.expect("inspect");
    assert_eq!(state.name, name);
    assert_eq!(state.cpu_shares, Some(1024));
    assert_eq!(state.memory, Some(134_217_728));
    assert_eq!(state.exit_code, Some(0));
    assert!(!state.running && state.started());
    let (stdout, _) = docker.logs(&name).await.expect("logs");
    assert_eq!(stdout.trim(), "to-stdout");
}

#[tokio::test]
async fn exit_codes_and_the_image_entrypoint() {
    let Some(image) = setup() else { return };
    let docker = Docker::default();
    let sandbox = testing::temp_dir("mesos-docker-sandbox").unwrap();
    let mut guard = ContainerGuard::default();
    for (command, expected) in [("exit 0", 0), ("exit 3", 3)] {
        let name = testing::unique_name("mesos-rs-test-exit-");
        guard.add(name.clone());
        let spec = spec_for(
            &task(
                CommandInfoBuilder::shell(command),
                DockerInfoBuilder::new(image),
            ),
            &name,
            &sandbox,
        );
        docker.run_detached(&spec).await.unwrap();
        assert_eq!(wait_code(&docker, &name).await, expected, "{command}");
        assert_eq!(
            docker.inspect(&name).await.unwrap().exit_code,
            Some(expected)
        );
    }

    // shell=false without a value: the image's own entrypoint runs,
    // attached, with the output in the sandbox files.
    let name = testing::unique_name("mesos-rs-test-entry-");
    guard.add(name.clone());
    let spec = spec_for(
        &task(
            CommandInfoBuilder::entrypoint(),
            DockerInfoBuilder::new(image),
        ),
        &name,
        &sandbox,
    );
    assert_eq!(spec.entrypoint, None);
    let out = std::fs::File::create(sandbox.path().join("stdout")).unwrap();
    let err = std::fs::File::create(sandbox.path().join("stderr")).unwrap();
    let mut child = docker
        .spawn_run(&spec, Stdio::from(out), Stdio::from(err))
        .expect("attached docker run");
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("attached run timed out")
        .unwrap();
    assert!(status.success(), "{status}");
    let stdout = std::fs::read_to_string(sandbox.path().join("stdout")).unwrap();
    assert_eq!(stdout.trim(), "entrypoint");

    // shell=false with a value: appended to the image entrypoint
    // (`/bin/sh -c "echo entrypoint; sleep 2" <value> <args>` sets $0, $1).
    let name = testing::unique_name("mesos-rs-test-args-");
    guard.add(name.clone());
    let mut with_args = task(
        CommandInfoBuilder::entrypoint(),
        DockerInfoBuilder::new(image),
    );
    let command = with_args.command.as_mut().unwrap();
    command.value = Some("zero".into());
    command.arguments = vec!["one".into()];
    let spec = spec_for(&with_args, &name, &sandbox);
    assert_eq!(
        &spec.args()[spec.args().len() - 3..],
        [image, "zero", "one"]
    );
    docker.run_detached(&spec).await.unwrap();
    assert_eq!(wait_code(&docker, &name).await, 0);
}

#[tokio::test]
async fn stop_honours_the_grace_period() {
    let Some(image) = setup() else { return };
    let docker = Docker::default();
    let sandbox = testing::temp_dir("mesos-docker-sandbox").unwrap();
    let trapping = testing::unique_name("mesos-rs-test-trap-");
    let ignoring = testing::unique_name("mesos-rs-test-sleep-");
    let _guard = ContainerGuard::new([trapping.clone(), ignoring.clone()]);

    // Handles TERM: exits 0 at once although the grace period is 20 s.
    let spec = spec_for(
        &task(
            CommandInfoBuilder::shell(
                "trap 'echo got TERM; exit 0' TERM; echo ready; while true; do sleep 0.1; done",
            ),
            DockerInfoBuilder::new(image),
        ),
        &trapping,
        &sandbox,
    );
    docker.run_detached(&spec).await.unwrap();
    wait_for_log(&docker, &trapping, "ready").await;
    let started = Instant::now();
    docker
        .stop(&trapping, Duration::from_secs(20))
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(docker.inspect(&trapping).await.unwrap().exit_code, Some(0));
    assert!(docker.logs(&trapping).await.unwrap().0.contains("got TERM"));

    // PID 1 without a handler ignores TERM: killed after the grace period.
    let spec = spec_for(
        &task(
            CommandInfoBuilder::shell("exec sleep 60"),
            DockerInfoBuilder::new(image),
        ),
        &ignoring,
        &sandbox,
    );
    docker.run_detached(&spec).await.unwrap();
    let started = Instant::now();
    docker
        .stop(&ignoring, Duration::from_secs(2))
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_secs(2), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
    assert_eq!(
        docker.inspect(&ignoring).await.unwrap().exit_code,
        Some(137)
    );
}

async fn wait_for_log(docker: &Docker, name: &str, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok((out, _)) = docker.logs(name).await {
            if out.contains(text) {
                return;
            }
        }
        assert!(Instant::now() < deadline, "{name} never printed {text:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn containerizer_launch_then_destroy_mid_run_leaves_nothing() {
    let Some(image) = setup() else { return };
    let containerizer = DockerContainerizer::new(Docker::default());
    let sandbox = testing::temp_dir("mesos-docker-sandbox").unwrap();
    let id = testing::unique_name("rs-test-destroy-");
    let name = container_name(&id);
    let _guard = ContainerGuard::new([name.clone()]);
    let task = task(
        CommandInfoBuilder::shell("echo started; exec sleep 60"),
        DockerInfoBuilder::new(image).network(DockerNetwork::Bridge),
    );
    let state = containerizer
        .launch(&id, &task, sandbox.path(), &BTreeMap::new())
        .await
        .expect("launch");
    assert!(state.running);
    assert!(
        state.ip_address.is_some(),
        "bridge containers get an address"
    );
    assert_eq!(containerizer.state(&id), Some(LaunchState::Running));
    assert!(matches!(
        containerizer
            .launch(&id, &task, sandbox.path(), &BTreeMap::new())
            .await,
        Err(mesos_docker::LaunchError::Duplicate(_))
    ));

    containerizer
        .destroy(&id, Duration::from_secs(1))
        .await
        .expect("destroy");
    assert_eq!(containerizer.state(&id), None);
    let left = Docker::default().ps_all_with_prefix(&name).await.unwrap();
    assert!(left.is_empty(), "{left:?}");
    // The logs followed into the sandbox.
    let stdout = std::fs::read_to_string(sandbox.path().join("stdout")).unwrap_or_default();
    assert!(stdout.contains("started"), "{stdout:?}");
    // Destroying again is fine.
    containerizer
        .destroy(&id, Duration::from_secs(1))
        .await
        .unwrap();
}

#[tokio::test]
async fn orphans_with_the_mesos_prefix_are_removed() {
    let Some(image) = setup() else { return };
    let docker = Docker::default();
    let sandbox = testing::temp_dir("mesos-docker-sandbox").unwrap();
    // Scoped to this test's names so that containers of other users of
    // this engine are never touched.
    let scope = testing::unique_name("mesos-orphan-");
    let orphan = format!("{scope}-lost");
    let known = format!("{scope}-known");
    let foreign = testing::unique_name("rs-test-foreign-");
    let _guard = ContainerGuard::new([orphan.clone(), known.clone(), foreign.clone()]);
    for name in [&orphan, &known, &foreign] {
        let spec = spec_for(
            &task(
                CommandInfoBuilder::shell("exec sleep 60"),
                DockerInfoBuilder::new(image),
            ),
            name,
            &sandbox,
        );
        docker.run_detached(&spec).await.unwrap();
    }
    let known_ids: HashSet<String> = [known.trim_start_matches("mesos-").to_string()].into();
    let removed = recover_orphans_with_prefix(&docker, &scope, &known_ids)
        .await
        .expect("recovery");
    assert_eq!(removed, vec![orphan.clone()]);
    assert!(matches!(
        docker.inspect(&orphan).await,
        Err(DockerError::NoSuchContainer(_))
    ));
    assert!(docker.inspect(&known).await.unwrap().running);
    assert!(docker.inspect(&foreign).await.unwrap().running);
    // A scope without the `mesos-` prefix never removes anything.
    let none = recover_orphans_with_prefix(&docker, "rs-test-", &HashSet::new())
        .await
        .unwrap();
    assert!(none.is_empty());
    assert!(docker.inspect(&foreign).await.unwrap().running);
}

#[tokio::test]
async fn missing_image_is_a_clear_error() {
    if setup().is_none() {
        return;
    }
    let docker = Docker::default();
    let image = "mesos-rs-test/does-not-exist:nope";
    assert!(!docker.image_exists(image).await.unwrap());
    let error = docker.ensure_image(image, false).await.unwrap_err();
    let text = error.to_string();
    assert!(
        matches!(error, DockerError::ImageUnavailable { .. }),
        "{text}"
    );
    assert!(
        text.starts_with(&format!(
            "image {image} not present locally and could not be pulled: "
        )),
        "{text}"
    );
    // The local test image needs no pull.
    docker.ensure_image(TEST_IMAGE, false).await.unwrap();
    // Missing containers are typed too.
    assert!(matches!(
        docker.inspect("mesos-rs-test-no-such-container").await,
        Err(DockerError::NoSuchContainer(_))
    ));
    assert!(matches!(
        docker.rm("mesos-rs-test-no-such-container", false).await,
        Err(DockerError::NoSuchContainer(_))
    ));
    // `docker rm -f` of a missing container succeeds (Docker 20.10).
    docker
        .rm("mesos-rs-test-no-such-container", true)
        .await
        .unwrap();
    // A CLI that does not exist.
    assert!(matches!(
        Docker::new("/nonexistent/docker").version().await,
        Err(DockerError::Spawn { .. })
    ));
}

#[test]
fn invalid_network_and_port_mappings_are_spec_errors() {
    let sandbox = testing::temp_dir("mesos-docker-sandbox").unwrap();
    let outside = task(
        CommandInfoBuilder::entrypoint(),
        DockerInfoBuilder::new(TEST_IMAGE)
            .network(DockerNetwork::Bridge)
            .port_mapping(8080, 80),
    );
    let run = |task: &TaskInfo| {
        RunSpec::from_task(
            task,
            "mesos-x",
            &sandbox.path().display().to_string(),
            "/mnt/mesos/sandbox",
            &BTreeMap::new(),
        )
    };
    assert!(matches!(
        run(&outside),
        Err(SpecError::InvalidPortMapping(_))
    ));
    let mut host = task(
        CommandInfoBuilder::entrypoint(),
        DockerInfoBuilder::new(TEST_IMAGE),
    );
    host.container
        .as_mut()
        .unwrap()
        .docker
        .as_mut()
        .unwrap()
        .port_mappings = outside
        .container
        .as_ref()
        .unwrap()
        .docker
        .as_ref()
        .unwrap()
        .port_mappings
        .clone();
    assert!(matches!(run(&host), Err(SpecError::InvalidNetwork(_))));
    let mut user = task(
        CommandInfoBuilder::entrypoint(),
        DockerInfoBuilder::new(TEST_IMAGE),
    );
    user.container
        .as_mut()
        .unwrap()
        .docker
        .as_mut()
        .unwrap()
        .network = Some(DockerNetwork::User as i32);
    let error = run(&user).unwrap_err();
    assert!(matches!(error, SpecError::InvalidNetwork(_)), "{error}");
    assert!(error.to_string().contains("network name"), "{error}");
}

#[tokio::test]
async fn the_local_image_keeps_running_when_asked_and_stops_on_term() {
    let Some(image) = setup() else { return };
    let docker = Docker::default();
    let sandbox = testing::temp_dir("mesos-docker-sandbox").unwrap();
    let name = testing::unique_name("mesos-rs-test-alive-");
    let _guard = ContainerGuard::new([name.clone()]);
    let spec = spec_for(
        &task(
            CommandInfoBuilder::entrypoint().env(mesos_docker::image::KEEP_RUNNING_ENV, "1"),
            DockerInfoBuilder::new(image),
        ),
        &name,
        &sandbox,
    );
    docker.run_detached(&spec).await.unwrap();
    wait_for_log(&docker, &name, "alive").await;
    // Still running after the 2 s the plain entrypoint lives.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(docker.inspect(&name).await.unwrap().running);
    let started = Instant::now();
    docker.stop(&name, Duration::from_secs(20)).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(docker.inspect(&name).await.unwrap().exit_code, Some(0));
    let (out, _) = docker.logs(&name).await.unwrap();
    assert!(out.starts_with("entrypoint\nalive\n"), "{out}");
    assert!(out.trim_end().ends_with("stopping"), "{out}");
}
