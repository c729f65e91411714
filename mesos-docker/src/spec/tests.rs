//! Unit tests of the `docker run` command line.

use super::*;
use mesos_proto::builders::{
    CommandInfoBuilder, ContainerInfoBuilder, DockerInfoBuilder, DockerNetwork, VolumeMode,
};
use mesos_proto::v1::container_info::docker_info::Network;
use mesos_proto::v1::container_info::DockerInfo;
use mesos_proto::v1::volume::Mode;
use mesos_proto::v1::{NetworkInfo, Volume};

const SANDBOX: &str = "/var/lib/mesos/slaves/S0/sandbox";
const MAPPED: &str = DEFAULT_MAPPED_DIRECTORY;

fn base_env() -> Vec<String> {
    vec![
        "-e".into(),
        "MESOS_CONTAINER_NAME=mesos-c1".into(),
        "-e".into(),
        format!("MESOS_SANDBOX={MAPPED}"),
    ]
}

fn spec(task: &TaskInfo) -> Result<RunSpec, SpecError> {
    RunSpec::from_task(task, "mesos-c1", SANDBOX, MAPPED, &BTreeMap::new())
}

fn task_with(
    command: CommandInfoBuilder,
    container: impl mesos_proto::builders::IntoMessage<ContainerInfo>,
) -> TaskInfo {
    TaskInfo::builder("t", "t1")
        .agent_id("S0")
        .cpus(1.0)
        .mem(128.0)
        .ports(&[(31000, 31009)])
        .command(command)
        .container(container)
        .build()
        .unwrap()
}

/// A task whose ContainerInfo is set raw (to bypass builder validation).
fn raw_task(container: ContainerInfo) -> TaskInfo {
    let mut task = task_with(
        CommandInfoBuilder::entrypoint(),
        DockerInfoBuilder::new("busybox"),
    );
    task.container = Some(Box::new(container));
    task
}

fn docker_container(docker: DockerInfo) -> ContainerInfo {
    ContainerInfo {
        r#type: ContainerType::Docker as i32,
        docker: Some(docker),
        ..Default::default()
    }
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn tutorial_task_exact_argv() {
    let task = task_with(
        CommandInfoBuilder::entrypoint(),
        DockerInfoBuilder::new("mesos-rs-test:busybox").network(DockerNetwork::Bridge),
    );
    let spec = spec(&task).unwrap();
    let mut expected = args(&["run", "--cpu-shares=1024", "--memory=134217728"]);
    expected.extend(base_env());
    expected.extend(args(&[
        "-v",
        &format!("{SANDBOX}:{MAPPED}"),
        "--net=bridge",
        "--name=mesos-c1",
        "mesos-rs-test:busybox",
    ]));
    assert_eq!(spec.args(), expected);
    assert_eq!(
        spec.entrypoint, None,
        "shell=false keeps the image entrypoint"
    );
}

#[test]
fn default_network_is_host_and_small_resources_are_raised() {
    let task = TaskInfo::builder("t", "t1")
        .agent_id("S0")
        .cpus(0.001)
        .mem(1.0)
        .command(CommandInfoBuilder::entrypoint())
        .container(DockerInfoBuilder::new("busybox"))
        .build()
        .unwrap();
    let spec = spec(&task).unwrap();
    assert_eq!(spec.network, "host");
    assert_eq!(spec.cpu_shares, Some(MIN_CPU_SHARES));
    assert_eq!(spec.memory, Some(MIN_MEMORY_BYTES));
    assert!(spec.args().contains(&"--net=host".to_string()));
    let half = TaskInfo::builder("t", "t1")
        .agent_id("S0")
        .cpus(0.5)
        .mem(64.0)
        .command(CommandInfoBuilder::entrypoint())
        .container(DockerInfoBuilder::new("busybox"))
        .build()
        .unwrap();
    let spec = self::spec(&half).unwrap();
    assert_eq!(spec.cpu_shares, Some(512));
    assert_eq!(spec.memory, Some(64 * 1024 * 1024));
}

#[test]
fn environment_agent_wins_then_mesos_variables() {
    let task = task_with(
        CommandInfoBuilder::entrypoint()
            .env("A", "from-command")
            .env("B", "b")
            .env("MESOS_SANDBOX", "ignored"),
        DockerInfoBuilder::new("busybox").network(DockerNetwork::Bridge),
    );
    let agent: BTreeMap<String, String> = [("A".to_string(), "from-agent".to_string())].into();
    let spec = RunSpec::from_task(&task, "mesos-c1", SANDBOX, MAPPED, &agent).unwrap();
    let argv = spec.args();
    let env: Vec<&str> = argv
        .windows(2)
        .filter(|w| w[0] == "-e")
        .map(|w| w[1].as_str())
        .collect();
    assert_eq!(
        env,
        [
            "A=from-agent",
            "B=b",
            "MESOS_CONTAINER_NAME=mesos-c1",
            &format!("MESOS_SANDBOX={MAPPED}"),
        ]
    );
}

#[test]
fn allocation_role_comes_from_the_first_resource() {
    let mut task = task_with(
        CommandInfoBuilder::entrypoint(),
        DockerInfoBuilder::new("busybox"),
    );
    for resource in &mut task.resources {
        resource.allocation_info = Some(mesos_proto::v1::resource::AllocationInfo {
            role: Some("web".into()),
        });
    }
    let spec = spec(&task).unwrap();
    assert_eq!(spec.env["MESOS_ALLOCATION_ROLE"], "web");
}

#[test]
fn volumes_absolute_relative_and_modes() {
    let container = ContainerInfoBuilder::docker(
        DockerInfoBuilder::new("busybox").network(DockerNetwork::Bridge),
    )
    .volume("/data", "/srv/data", VolumeMode::Ro)
    .volume("cache", "/var/cache/app", VolumeMode::Rw)
    .volume("/logs", "logs", VolumeMode::Rw);
    let task = task_with(CommandInfoBuilder::entrypoint(), container);
    let spec = spec(&task).unwrap();
    assert_eq!(
        spec.volumes,
        [
            "/srv/data:/data:ro".to_string(),
            format!("/var/cache/app:{MAPPED}/cache:rw"),
            format!("{SANDBOX}/logs:/logs:rw"),
            format!("{SANDBOX}:{MAPPED}"),
        ]
    );
    let argv = spec.args();
    let volumes: Vec<&str> = argv
        .windows(2)
        .filter(|w| w[0] == "-v")
        .map(|w| w[1].as_str())
        .collect();
    assert_eq!(volumes.len(), 4);
    assert_eq!(volumes[0], "/srv/data:/data:ro");
}

#[test]
fn invalid_volumes_are_refused() {
    let mut container = ContainerInfoBuilder::docker(DockerInfoBuilder::new("busybox"))
        .volume("/data", "/srv", VolumeMode::Rw)
        .build()
        .unwrap();
    container.volumes[0].mode = 7;
    let error = spec(&raw_task(container.clone())).unwrap_err();
    assert!(
        matches!(&error, SpecError::InvalidVolume { reason, .. } if reason.contains("mode")),
        "{error}"
    );
    container.volumes[0] = Volume {
        mode: Mode::Rw as i32,
        container_path: "rel".into(),
        host_path: Some("also-rel".into()),
        image: None,
        source: None,
    };
    assert!(matches!(
        spec(&raw_task(container.clone())),
        Err(SpecError::InvalidVolume { .. })
    ));
    container.volumes[0].host_path = None;
    assert!(matches!(
        spec(&raw_task(container)),
        Err(SpecError::InvalidVolume { .. })
    ));
}

#[test]
fn parameters_privileged_and_port_mappings() {
    let task = task_with(
        CommandInfoBuilder::entrypoint(),
        DockerInfoBuilder::new("nginx")
            .network(DockerNetwork::Bridge)
            .privileged(true)
            .port_mapping(31000, 80)
            .port_mapping_with_protocol(31005, 53, "udp")
            .parameter("memory-swap", "-1")
            .parameter("label", "team=a"),
    );
    let argv = spec(&task).unwrap().args();
    assert_eq!(argv[1], "--privileged");
    let p: Vec<&str> = argv
        .windows(2)
        .filter(|w| w[0] == "-p")
        .map(|w| w[1].as_str())
        .collect();
    assert_eq!(p, ["31000:80", "31005:53/udp"]);
    let tail = &argv[argv.len() - 4..];
    assert_eq!(
        tail,
        [
            "--name=mesos-c1",
            "--memory-swap=-1",
            "--label=team=a",
            "nginx"
        ]
    );
}

#[test]
fn port_outside_the_task_ports_is_refused() {
    let task = task_with(
        CommandInfoBuilder::entrypoint(),
        DockerInfoBuilder::new("nginx")
            .network(DockerNetwork::Bridge)
            .port_mapping(8080, 80),
    );
    let error = spec(&task).unwrap_err();
    assert!(
        matches!(&error, SpecError::InvalidPortMapping(m) if m.contains("8080")),
        "{error}"
    );
    let mut no_ports = task.clone();
    no_ports.resources.retain(|r| r.name != "ports");
    assert!(matches!(
        spec(&no_ports),
        Err(SpecError::InvalidPortMapping(_))
    ));
}

#[test]
fn network_modes_and_their_errors() {
    let mut docker = DockerInfoBuilder::new("busybox").build().unwrap();
    docker.network = Some(Network::User as i32);
    let error = spec(&raw_task(docker_container(docker.clone()))).unwrap_err();
    assert!(matches!(error, SpecError::InvalidNetwork(_)), "{error}");

    let mut user = docker_container(docker.clone());
    user.network_infos.push(NetworkInfo {
        name: Some("backend".into()),
        ..Default::default()
    });
    user.hostname = Some("db".into());
    let spec_user = spec(&raw_task(user)).unwrap();
    assert!(spec_user.args().contains(&"--net=backend".into()));
    assert!(spec_user.args().contains(&"--hostname=db".into()));

    for mode in [Network::Host, Network::None] {
        docker.network = Some(mode as i32);
        docker.port_mappings = vec![mesos_proto::v1::container_info::docker_info::PortMapping {
            host_port: 31000,
            container_port: 80,
            protocol: None,
        }];
        let error = spec(&raw_task(docker_container(docker.clone()))).unwrap_err();
        assert!(
            matches!(&error, SpecError::InvalidNetwork(m) if m.contains("BRIDGE or USER")),
            "{error}"
        );
    }
    docker.port_mappings.clear();
    docker.network = Some(Network::Host as i32);
    let mut host = docker_container(docker.clone());
    host.hostname = Some("x".into());
    assert!(matches!(
        spec(&raw_task(host)),
        Err(SpecError::InvalidNetwork(_))
    ));
    docker.network = Some(42);
    assert!(matches!(
        spec(&raw_task(docker_container(docker))),
        Err(SpecError::InvalidNetwork(_))
    ));
}

#[test]
fn missing_image_and_container() {
    let mut docker = DockerInfoBuilder::new("busybox").build().unwrap();
    docker.image = String::new();
    assert_eq!(
        spec(&raw_task(docker_container(docker))),
        Err(SpecError::MissingImage)
    );
    let mut task = raw_task(ContainerInfo::default());
    assert_eq!(spec(&task), Err(SpecError::NoDockerInfo));
    task.container = None;
    assert_eq!(spec(&task), Err(SpecError::NoContainer));
}

#[test]
fn shell_command_overrides_the_entrypoint() {
    let task = task_with(
        CommandInfoBuilder::shell("echo hi && sleep 1"),
        DockerInfoBuilder::new("busybox").network(DockerNetwork::Bridge),
    );
    let argv = spec(&task).unwrap().args();
    let n = argv.len();
    assert_eq!(
        &argv[n - 5..],
        [
            "--entrypoint=/bin/sh",
            "--name=mesos-c1",
            "busybox",
            "-c",
            "echo hi && sleep 1"
        ]
    );
    let mut no_value = task.clone();
    no_value.command.as_mut().unwrap().value = None;
    assert!(matches!(spec(&no_value), Err(SpecError::InvalidCommand(_))));
}

#[test]
fn non_shell_command_appends_value_and_arguments() {
    let mut task = task_with(
        CommandInfoBuilder::entrypoint(),
        DockerInfoBuilder::new("busybox").network(DockerNetwork::Bridge),
    );
    let command = task.command.as_mut().unwrap();
    command.value = Some("echo".into());
    command.arguments = vec!["a".into(), "b c".into()];
    let argv = spec(&task).unwrap().args();
    assert!(!argv.iter().any(|a| a.starts_with("--entrypoint")));
    assert_eq!(&argv[argv.len() - 4..], ["busybox", "echo", "a", "b c"]);
}

#[test]
fn limits_cfs_and_default_dns() {
    let mut task = task_with(
        CommandInfoBuilder::entrypoint(),
        DockerInfoBuilder::new("busybox").network(DockerNetwork::Bridge),
    );
    let dns: ContainerDns = serde_json::from_str(
        r#"{"docker":[{"network_mode":"BRIDGE","dns":{"nameservers":["8.8.8.8"],"search":["example.com"],"options":["ndots:2"]}}]}"#,
    )
    .unwrap();
    let env = BTreeMap::new();
    let ctx = RunContext {
        container_name: "mesos-c1",
        sandbox_dir: SANDBOX,
        mapped_dir: MAPPED,
        env: &env,
        enable_cfs_quota: true,
        default_dns: Some(&dns),
    };
    let spec = RunSpec::from_task_in(&task, &ctx).unwrap();
    assert_eq!(spec.cpu_quota, Some(100_000));
    let argv = spec.args();
    for wanted in [
        "--dns=8.8.8.8",
        "--dns-search=example.com",
        "--dns-opt=ndots:2",
    ] {
        assert!(argv.contains(&wanted.to_string()), "{argv:?}");
    }
    task.limits
        .insert("cpus".into(), mesos_proto::v1::value::Scalar { value: 2.0 });
    task.limits.insert(
        "mem".into(),
        mesos_proto::v1::value::Scalar { value: 256.0 },
    );
    let limited = RunSpec::from_task_in(&task, &ctx).unwrap();
    assert_eq!(limited.cpu_quota, Some(200_000));
    assert_eq!(limited.memory, Some(256 * 1024 * 1024));
    assert_eq!(limited.memory_reservation, Some(128 * 1024 * 1024));
}
