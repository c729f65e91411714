//! The builders of `mesos_proto::builders`: the Java tutorial's Docker task
//! field for field, every builder, and every validation error.

use std::time::Duration;

use bytes::Bytes;
use mesos_proto::builders::{
    filters, labels, BuildError, CommandInfoBuilder, ContainerInfoBuilder, DockerInfoBuilder,
    DockerNetwork, ExecutorInfoBuilder, FrameworkInfoBuilder, TaskInfoBuilder, UriBuilder,
    VolumeMode,
};
use mesos_proto::resources::{self, Resources};
use mesos_proto::v1::command_info::Uri;
use mesos_proto::v1::container_info::docker_info::{Network, PortMapping};
use mesos_proto::v1::container_info::{DockerInfo, Type as ContainerType};
use mesos_proto::v1::environment::Variable;
use mesos_proto::v1::executor_info::Type as ExecutorType;
use mesos_proto::v1::framework_info::capability::Type as CapabilityType;
use mesos_proto::v1::framework_info::Capability;
use mesos_proto::v1::value::{Scalar, Type as ValueType};
use mesos_proto::v1::{
    AgentId, CommandInfo, ContainerInfo, DurationInfo, Environment, ExecutorInfo, Filters,
    FrameworkInfo, HealthCheck, KillPolicy, Label, Labels, Parameter, Resource, TaskId, TaskInfo,
};

/// An unreserved scalar resource with every field spelled out.
#[allow(deprecated)]
fn hand_scalar(name: &str, value: f64) -> Resource {
    Resource {
        provider_id: None,
        name: name.to_owned(),
        r#type: ValueType::Scalar as i32,
        scalar: Some(Scalar { value }),
        ranges: None,
        set: None,
        role: None,
        allocation_info: None,
        reservation: None,
        reservations: Vec::new(),
        disk: None,
        revocable: None,
        shared: None,
    }
}

/// The tutorial's task, built with the prost structs alone.
#[allow(deprecated)]
fn tutorial_task_by_hand() -> TaskInfo {
    TaskInfo {
        name: "task 1".to_owned(),
        task_id: TaskId {
            value: "1".to_owned(),
        },
        agent_id: AgentId {
            value: "a1".to_owned(),
        },
        resources: vec![hand_scalar("cpus", 1.0), hand_scalar("mem", 128.0)],
        executor: None,
        command: Some(CommandInfo {
            uris: Vec::new(),
            environment: None,
            shell: Some(false),
            value: None,
            arguments: Vec::new(),
            user: None,
        }),
        container: Some(Box::new(ContainerInfo {
            r#type: ContainerType::Docker as i32,
            volumes: Vec::new(),
            hostname: None,
            docker: Some(DockerInfo {
                image: "busybox".to_owned(),
                network: Some(Network::Bridge as i32),
                port_mappings: Vec::new(),
                privileged: None,
                parameters: Vec::new(),
                force_pull_image: None,
                volume_driver: None,
            }),
            mesos: None,
            network_infos: Vec::new(),
            linux_info: None,
            rlimit_info: None,
            tty_info: None,
        })),
        health_check: None,
        check: None,
        kill_policy: None,
        data: None,
        labels: None,
        discovery: None,
        max_completion_time: None,
        limits: Default::default(),
    }
}

fn tutorial_task() -> TaskInfoBuilder {
    TaskInfo::builder("task 1", "1")
        .agent_id("a1")
        .cpus(1.0)
        .mem(128.0)
        .container(DockerInfoBuilder::new("busybox").network(DockerNetwork::Bridge))
        .command(CommandInfoBuilder::entrypoint())
}

#[test]
fn tutorial_docker_task_equals_the_hand_built_one() {
    assert_eq!(tutorial_task().build(), Ok(tutorial_task_by_hand()));
}

#[test]
fn tutorial_task_from_resources_and_offer_agent_id() {
    let agent = AgentId { value: "a1".into() };
    let task = TaskInfoBuilder::new("task 1", TaskId { value: "1".into() })
        .agent_id(&agent)
        .resources(Resources::new().with_cpus(1.0).with_mem(128.0))
        .container(ContainerInfoBuilder::docker(
            DockerInfoBuilder::new("busybox").network(DockerNetwork::Bridge),
        ))
        .command(CommandInfoBuilder::entrypoint().build())
        .build();
    assert_eq!(task, Ok(tutorial_task_by_hand()));
}

// ---------------------------------------------------------------- TaskInfo

#[test]
fn task_with_every_option() {
    let health = HealthCheck {
        delay_seconds: Some(1.0),
        ..HealthCheck::default()
    };
    let task = tutorial_task()
        .disk(10.0)
        .ports(&[(31000, 31001)])
        .resource(resources::scalar("gpus", 1.0))
        .label("team", "web")
        .labels([("tier", "front")])
        .health_check(health.clone())
        .kill_grace_period(Duration::from_millis(1500))
        .data(Bytes::from_static(b"payload"))
        .build()
        .unwrap();
    let names: Vec<&str> = task.resources.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["cpus", "mem", "disk", "ports", "gpus"]);
    assert_eq!(
        task.labels,
        Some(Labels {
            labels: vec![
                Label {
                    key: "team".into(),
                    value: Some("web".into())
                },
                Label {
                    key: "tier".into(),
                    value: Some("front".into())
                },
            ]
        })
    );
    assert_eq!(task.health_check.as_deref(), Some(&health));
    assert_eq!(
        task.kill_policy,
        Some(KillPolicy {
            grace_period: Some(DurationInfo {
                nanoseconds: 1_500_000_000
            })
        })
    );
    assert_eq!(task.data, Some(Bytes::from_static(b"payload")));
}

#[test]
fn named_resource_setters_replace_earlier_values() {
    let task = tutorial_task()
        .cpus(2.0)
        .ports(&[(1, 2)])
        .ports(&[(5, 6)])
        .build()
        .unwrap();
    let resources = Resources::from(task.resources);
    assert_eq!(resources.cpus(), Some(2.0));
    assert_eq!(resources.ports(), vec![(5, 6)]);
}

#[test]
fn task_with_an_executor() {
    let task = TaskInfo::builder("t", "t1")
        .agent_id("a1")
        .cpus(0.5)
        .executor(ExecutorInfoBuilder::new("e1").command(CommandInfoBuilder::shell("./run")))
        .build()
        .unwrap();
    assert_eq!(task.command, None);
    assert_eq!(
        task.executor.map(|e| e.executor_id.value),
        Some("e1".to_owned())
    );
}

#[test]
fn task_name_is_required() {
    let error = tutorial_task_named("", "1").build().unwrap_err();
    assert_eq!(
        error,
        BuildError::Missing {
            message: "TaskInfo",
            field: "name"
        }
    );
    assert_eq!(error.to_string(), "TaskInfo.name is required");
}

fn tutorial_task_named(name: &str, id: &str) -> TaskInfoBuilder {
    TaskInfo::builder(name, id)
        .agent_id("a1")
        .cpus(1.0)
        .command(CommandInfoBuilder::shell("true"))
}

#[test]
fn task_id_is_required_and_checked() {
    let error = tutorial_task_named("t", "").build().unwrap_err();
    assert_eq!(error.to_string(), "TaskInfo.task_id is required");
    for bad in ["..", "a/b", "a\nb", &"x".repeat(256)] {
        let error = tutorial_task_named("t", bad).build().unwrap_err();
        assert!(
            matches!(
                error,
                BuildError::Invalid {
                    message: "TaskInfo",
                    field: "task_id",
                    ..
                }
            ),
            "{bad:?}: {error}"
        );
    }
}

#[test]
fn agent_id_is_required() {
    let error = TaskInfo::builder("t", "1")
        .cpus(1.0)
        .command(CommandInfoBuilder::shell("true"))
        .build()
        .unwrap_err();
    assert_eq!(error.to_string(), "TaskInfo.agent_id is required");
    let error = tutorial_task_named("t", "1")
        .agent_id("")
        .build()
        .unwrap_err();
    assert_eq!(error.field(), "agent_id");
}

#[test]
fn resources_are_required_and_checked() {
    let error = TaskInfo::builder("t", "1")
        .agent_id("a1")
        .command(CommandInfoBuilder::shell("true"))
        .build()
        .unwrap_err();
    assert_eq!(error.to_string(), "TaskInfo.resources is required");

    for bad in [-1.0, f64::NAN, f64::INFINITY] {
        let error = tutorial_task_named("t", "1").mem(bad).build().unwrap_err();
        assert_eq!(error.message(), "TaskInfo");
        assert_eq!(error.field(), "resources", "{bad}: {error}");
    }
    let error = tutorial_task_named("t", "1")
        .ports(&[(10, 5)])
        .build()
        .unwrap_err();
    assert!(
        error.to_string().contains("ends before it begins"),
        "{error}"
    );
}

#[test]
fn exactly_one_of_command_and_executor() {
    let neither = TaskInfo::builder("t", "1")
        .agent_id("a1")
        .cpus(1.0)
        .build()
        .unwrap_err();
    assert_eq!(
        neither,
        BuildError::ExactlyOne {
            message: "TaskInfo",
            first: "command",
            second: "executor",
            both: false
        }
    );
    assert_eq!(
        neither.to_string(),
        "TaskInfo needs exactly one of `command` and `executor` \
         (Mesos requires one and rejects both); neither is set"
    );
    let both = tutorial_task_named("t", "1")
        .executor(ExecutorInfoBuilder::new("e").command(CommandInfoBuilder::shell("x")))
        .build()
        .unwrap_err();
    assert!(both.to_string().ends_with("both are set"), "{both}");
}

#[test]
fn nested_errors_surface_from_the_task() {
    let error = tutorial_task()
        .container(DockerInfoBuilder::new(""))
        .build()
        .unwrap_err();
    assert_eq!(error.to_string(), "DockerInfo.image is required");
    let error = tutorial_task()
        .command(CommandInfoBuilder::shell(""))
        .build()
        .unwrap_err();
    assert_eq!(error.to_string(), "CommandInfo.value is required");
    let error = TaskInfo::builder("t", "1")
        .agent_id("a")
        .cpus(1.0)
        .executor(ExecutorInfoBuilder::new("e"))
        .build()
        .unwrap_err();
    assert_eq!(error.to_string(), "ExecutorInfo.command is required");
}

#[test]
fn task_labels_and_grace_period_are_checked() {
    let error = tutorial_task().label("", "v").build().unwrap_err();
    assert_eq!(error.field(), "labels");
    let error = tutorial_task()
        .kill_grace_period(Duration::MAX)
        .build()
        .unwrap_err();
    assert_eq!(error.field(), "kill_policy");
}

// ------------------------------------------------------------- CommandInfo

#[test]
fn shell_command() {
    let command = CommandInfoBuilder::shell("echo $HOME")
        .env("A", "1")
        .env("B", "2")
        .env("A", "3")
        .user("nobody")
        .build()
        .unwrap();
    assert_eq!(
        command,
        CommandInfo {
            uris: Vec::new(),
            environment: Some(Environment {
                variables: vec![
                    Variable {
                        name: "B".into(),
                        r#type: None,
                        value: Some("2".into()),
                        secret: None
                    },
                    Variable {
                        name: "A".into(),
                        r#type: None,
                        value: Some("3".into()),
                        secret: None
                    },
                ]
            }),
            shell: Some(true),
            value: Some("echo $HOME".into()),
            arguments: Vec::new(),
            user: Some("nobody".into()),
        }
    );
}

#[test]
fn argv_command_includes_argv0() {
    let command = CommandInfoBuilder::argv("/bin/ls", ["-l", "/tmp"])
        .build()
        .unwrap();
    assert_eq!(command.shell, Some(false));
    assert_eq!(command.value.as_deref(), Some("/bin/ls"));
    assert_eq!(command.arguments, ["/bin/ls", "-l", "/tmp"]);
}

#[test]
fn entrypoint_command_with_docker_arguments() {
    let command = CommandInfoBuilder::entrypoint()
        .arg("--verbose")
        .args(["a", "b"])
        .build()
        .unwrap();
    assert_eq!(command.shell, Some(false));
    assert_eq!(command.value, None);
    assert_eq!(command.arguments, ["--verbose", "a", "b"]);
}

#[test]
fn command_uris() {
    let command = CommandInfoBuilder::shell("./app")
        .uri("https://example.com/app.tgz")
        .uri(
            UriBuilder::new("https://example.com/app")
                .executable(true)
                .extract(false)
                .cache(true)
                .output_file("app"),
        )
        .build()
        .unwrap();
    assert_eq!(
        command.uris,
        vec![
            Uri {
                value: "https://example.com/app.tgz".into(),
                executable: None,
                extract: None,
                cache: None,
                output_file: None
            },
            Uri {
                value: "https://example.com/app".into(),
                executable: Some(true),
                extract: Some(false),
                cache: Some(true),
                output_file: Some("app".into())
            },
        ]
    );
}

#[test]
fn command_errors() {
    let cases: Vec<(CommandInfoBuilder, &str)> = vec![
        (
            CommandInfoBuilder::shell(""),
            "CommandInfo.value is required",
        ),
        (
            CommandInfoBuilder::argv("", ["x"]),
            "CommandInfo.value is required",
        ),
        (
            CommandInfoBuilder::shell("echo").arg("x"),
            "CommandInfo.arguments is invalid: Mesos ignores arguments of a shell command: \
             put them in the command line",
        ),
        (
            CommandInfoBuilder::shell("echo").env("", "x"),
            "CommandInfo.environment is invalid: a variable name is empty",
        ),
        (
            CommandInfoBuilder::shell("echo").user(""),
            "CommandInfo.user is invalid: it is set but empty",
        ),
        (
            CommandInfoBuilder::shell("echo").uri(""),
            "CommandInfo.URI.value is required",
        ),
        (
            CommandInfoBuilder::shell("echo").uri(UriBuilder::new("u").output_file("")),
            "CommandInfo.URI.output_file is invalid: it is set but empty",
        ),
    ];
    for (builder, expected) in cases {
        assert_eq!(builder.build().unwrap_err().to_string(), expected);
    }
}

// -------------------------------------------------- ContainerInfo, Docker

#[test]
fn docker_with_every_option() {
    let docker = DockerInfoBuilder::new("nginx")
        .network(DockerNetwork::Bridge)
        .port_mapping(31000, 80)
        .port_mapping_with_protocol(31001, 53, "udp")
        .privileged(true)
        .parameter("memory-swap", "-1")
        .force_pull_image(true)
        .build()
        .unwrap();
    #[allow(deprecated)]
    let expected = DockerInfo {
        image: "nginx".into(),
        network: Some(Network::Bridge as i32),
        port_mappings: vec![
            PortMapping {
                host_port: 31000,
                container_port: 80,
                protocol: None,
            },
            PortMapping {
                host_port: 31001,
                container_port: 53,
                protocol: Some("udp".into()),
            },
        ],
        privileged: Some(true),
        parameters: vec![Parameter {
            key: "memory-swap".into(),
            value: "-1".into(),
        }],
        force_pull_image: Some(true),
        volume_driver: None,
    };
    assert_eq!(docker, expected);
}

#[test]
fn docker_errors() {
    let cases: Vec<(DockerInfoBuilder, &str)> = vec![
        (DockerInfoBuilder::new(""), "DockerInfo.image is required"),
        (
            DockerInfoBuilder::new("x").port_mapping(1, 2),
            "DockerInfo.port_mappings is invalid: port mappings need the BRIDGE or USER network, \
             not HOST",
        ),
        (
            DockerInfoBuilder::new("x")
                .network(DockerNetwork::None)
                .port_mapping(1, 2),
            "DockerInfo.port_mappings is invalid: port mappings need the BRIDGE or USER network, \
             not NONE",
        ),
        (
            DockerInfoBuilder::new("x")
                .network(DockerNetwork::Bridge)
                .port_mapping(1, 0),
            "DockerInfo.port_mappings is invalid: container port 0 is not a port",
        ),
        (
            DockerInfoBuilder::new("x")
                .network(DockerNetwork::Bridge)
                .port_mapping_with_protocol(1, 2, "TCP"),
            "DockerInfo.port_mappings is invalid: protocol `TCP` is not one of tcp, udp, sctp",
        ),
        (
            DockerInfoBuilder::new("x").parameter("--env", "A=1"),
            "DockerInfo.parameters is invalid: key `--env` must be a non-empty option name \
             without leading dashes",
        ),
    ];
    for (builder, expected) in cases {
        assert_eq!(builder.build().unwrap_err().to_string(), expected);
    }
    // USER networks may map ports.
    assert!(DockerInfoBuilder::new("x")
        .network(DockerNetwork::User)
        .port_mapping(1, 2)
        .build()
        .is_ok());
}

#[test]
fn container_with_volumes_hostname_and_user_network() {
    let container = ContainerInfoBuilder::docker(
        DockerInfoBuilder::new("postgres").network(DockerNetwork::User),
    )
    .network("backend")
    .hostname("db")
    .volume("/data", "/srv/data", VolumeMode::Rw)
    .volume("/etc/conf", "conf", VolumeMode::Ro)
    .build()
    .unwrap();
    assert_eq!(container.r#type, ContainerType::Docker as i32);
    assert_eq!(container.hostname.as_deref(), Some("db"));
    assert_eq!(container.network_infos.len(), 1);
    assert_eq!(container.network_infos[0].name.as_deref(), Some("backend"));
    assert_eq!(container.volumes[1].mode, VolumeMode::Ro as i32);
    assert_eq!(container.volumes[1].host_path.as_deref(), Some("conf"));
}

#[test]
fn mesos_containers() {
    let plain = ContainerInfoBuilder::mesos().build().unwrap();
    assert_eq!(plain.r#type, ContainerType::Mesos as i32);
    assert_eq!(plain.mesos.and_then(|m| m.image), None);
    let with_image = ContainerInfoBuilder::mesos_with_docker_image("alpine")
        .network("cni-net")
        .build()
        .unwrap();
    let image = with_image.mesos.and_then(|m| m.image).unwrap();
    assert_eq!(image.docker.map(|d| d.name), Some("alpine".to_owned()));
    assert_eq!(with_image.docker, None);
}

#[test]
fn container_errors() {
    let user = || DockerInfoBuilder::new("x").network(DockerNetwork::User);
    let cases: Vec<(ContainerInfoBuilder, &str)> =
        vec![
        (
            ContainerInfoBuilder::docker(user()),
            "ContainerInfo.network_infos is invalid: the USER Docker network needs a network \
             name: call `.network(name)`",
        ),
        (
            ContainerInfoBuilder::docker(user()).network("a").network("b"),
            "ContainerInfo.network_infos is invalid: a Docker container joins at most one \
             user-defined network",
        ),
        (
            ContainerInfoBuilder::docker(DockerInfoBuilder::new("x")).network("a"),
            "ContainerInfo.network_infos is invalid: a network name needs the USER Docker network",
        ),
        (
            ContainerInfoBuilder::mesos().network(""),
            "ContainerInfo.network_infos is invalid: a network name is empty",
        ),
        (
            ContainerInfoBuilder::mesos().hostname(""),
            "ContainerInfo.hostname is invalid: it is set but empty",
        ),
        (
            ContainerInfoBuilder::mesos().volume("", "/x", VolumeMode::Ro),
            "Volume.container_path is required",
        ),
        (
            ContainerInfoBuilder::mesos().volume("/x", "", VolumeMode::Ro),
            "Volume.host_path is required",
        ),
        (
            ContainerInfoBuilder::mesos_with_docker_image(""),
            "Image.Docker.name is required",
        ),
        (
            ContainerInfoBuilder::docker(DockerInfoBuilder::new("")),
            "DockerInfo.image is required",
        ),
    ];
    for (builder, expected) in cases {
        assert_eq!(builder.build().unwrap_err().to_string(), expected);
    }
}

// ------------------------------------------------------------ ExecutorInfo

#[test]
fn custom_executor_with_every_option() {
    let executor = ExecutorInfo::builder("e1")
        .name("exec")
        .framework_id("f1")
        .command(CommandInfoBuilder::shell("./exec"))
        .container(ContainerInfoBuilder::mesos())
        .cpus(0.1)
        .mem(32.0)
        .disk(1.0)
        .resource(resources::scalar("gpus", 1.0))
        .resources(Resources::new().with_ports(&[(1, 1)]))
        .label("k", "v")
        .data(vec![1u8, 2])
        .shutdown_grace_period(Duration::from_secs(3))
        .build()
        .unwrap();
    assert_eq!(executor.r#type, Some(ExecutorType::Custom as i32));
    assert_eq!(executor.name.as_deref(), Some("exec"));
    assert_eq!(
        executor.framework_id.map(|f| f.value),
        Some("f1".to_owned())
    );
    assert_eq!(executor.resources.len(), 5);
    assert_eq!(
        executor.shutdown_grace_period,
        Some(DurationInfo {
            nanoseconds: 3_000_000_000
        })
    );
    assert_eq!(executor.data, Some(Bytes::from_static(&[1, 2])));
    assert!(executor.container.is_some());
    assert!(executor.labels.is_some());
}

#[test]
fn default_executor() {
    let executor = ExecutorInfoBuilder::new("e")
        .executor_type(ExecutorType::Default)
        .build()
        .unwrap();
    assert_eq!(executor.r#type, Some(ExecutorType::Default as i32));
    assert_eq!(executor.command, None);
}

#[test]
fn executor_errors() {
    let cases: Vec<(ExecutorInfoBuilder, &str)> =
        vec![
        (ExecutorInfoBuilder::new(""), "ExecutorInfo.executor_id is required"),
        (ExecutorInfoBuilder::new("e"), "ExecutorInfo.command is required"),
        (
            ExecutorInfoBuilder::new("e").executor_type(ExecutorType::Custom),
            "ExecutorInfo.command is required",
        ),
        (
            ExecutorInfoBuilder::new("e")
                .executor_type(ExecutorType::Default)
                .command(CommandInfoBuilder::shell("x")),
            "ExecutorInfo.command is invalid: the DEFAULT executor is Mesos's own and takes no \
             command",
        ),
        (
            ExecutorInfoBuilder::new("e")
                .command(CommandInfoBuilder::shell("x"))
                .cpus(-0.5),
            "ExecutorInfo.resources is invalid: invalid resource `cpus`: scalar -0.5 is negative",
        ),
        (
            ExecutorInfoBuilder::new("e")
                .command(CommandInfoBuilder::shell("x"))
                .name(""),
            "ExecutorInfo.name is invalid: it is set but empty",
        ),
        (
            ExecutorInfoBuilder::new("e")
                .command(CommandInfoBuilder::shell("x"))
                .framework_id(""),
            "ExecutorInfo.framework_id is required",
        ),
    ];
    for (builder, expected) in cases {
        assert_eq!(builder.build().unwrap_err().to_string(), expected);
    }
}

// ----------------------------------------------------------- FrameworkInfo

#[test]
fn framework_with_every_option() {
    let info = FrameworkInfo::builder("root", "fw")
        .id("f-1")
        .roles(["a", "b/c"])
        .capability(CapabilityType::PartitionAware)
        .capabilities([CapabilityType::PartitionAware, CapabilityType::GpuResources])
        .failover_timeout(Duration::from_millis(2500))
        .checkpoint(true)
        .hostname("sched.local")
        .principal("fw-principal")
        .webui_url("http://sched.local:8080")
        .label("k", "v")
        .build()
        .unwrap();
    #[allow(deprecated)]
    let expected = FrameworkInfo {
        user: "root".into(),
        name: "fw".into(),
        id: Some("f-1".into()),
        failover_timeout: Some(2.5),
        checkpoint: Some(true),
        role: None,
        roles: vec!["a".into(), "b/c".into()],
        hostname: Some("sched.local".into()),
        principal: Some("fw-principal".into()),
        webui_url: Some("http://sched.local:8080".into()),
        capabilities: [
            CapabilityType::PartitionAware,
            CapabilityType::GpuResources,
            CapabilityType::MultiRole,
        ]
        .into_iter()
        .map(|kind| Capability {
            r#type: Some(kind as i32),
        })
        .collect(),
        labels: Some(labels([("k", "v")])),
        offer_filters: Default::default(),
    };
    assert_eq!(info, expected);
}

#[test]
fn framework_without_roles_has_no_multi_role() {
    let info = FrameworkInfoBuilder::new("u", "n").build().unwrap();
    assert!(info.roles.is_empty());
    assert!(info.capabilities.is_empty());
    let info = FrameworkInfoBuilder::new("u", "n")
        .role("r")
        .capability(CapabilityType::MultiRole)
        .build()
        .unwrap();
    assert_eq!(info.capabilities.len(), 1);
}

#[test]
fn framework_errors() {
    let cases: Vec<(FrameworkInfoBuilder, &str)> = vec![
        (
            FrameworkInfoBuilder::new("", "n"),
            "FrameworkInfo.user is required",
        ),
        (
            FrameworkInfoBuilder::new("u", ""),
            "FrameworkInfo.name is required",
        ),
        (
            FrameworkInfoBuilder::new("u", "n").id("a/b"),
            "FrameworkInfo.id is invalid: `a/b` contains `/`, `\\` or a control character",
        ),
        (
            FrameworkInfoBuilder::new("u", "n").role("-x"),
            "FrameworkInfo.roles is invalid: role `-x` has a component starting with `-`",
        ),
        (
            FrameworkInfoBuilder::new("u", "n").roles(["a", "a"]),
            "FrameworkInfo.roles is invalid: role `a` is given twice",
        ),
        (
            FrameworkInfoBuilder::new("u", "n").principal(""),
            "FrameworkInfo.principal is invalid: it is set but empty",
        ),
        (
            FrameworkInfoBuilder::new("u", "n").hostname(""),
            "FrameworkInfo.hostname is invalid: it is set but empty",
        ),
        (
            FrameworkInfoBuilder::new("u", "n").webui_url(""),
            "FrameworkInfo.webui_url is invalid: it is set but empty",
        ),
        (
            FrameworkInfoBuilder::new("u", "n").label("", "v"),
            "FrameworkInfo.labels is invalid: a label key is empty",
        ),
    ];
    for (builder, expected) in cases {
        assert_eq!(builder.build().unwrap_err().to_string(), expected);
    }
}

// ------------------------------------------------------------------ Filters

#[test]
fn filters_from_durations_and_seconds() {
    assert_eq!(
        filters(Duration::from_millis(500)),
        Filters {
            refuse_seconds: Some(0.5)
        }
    );
    assert_eq!(Filters::refuse(Duration::ZERO).refuse_seconds, Some(0.0));
    assert_eq!(
        Filters::refuse_secs(60.0).map(|f| f.refuse_seconds),
        Ok(Some(60.0))
    );
    for bad in [-0.1, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let error = Filters::refuse_secs(bad).unwrap_err();
        assert_eq!(error.message(), "Filters");
        assert_eq!(error.field(), "refuse_seconds");
    }
}
