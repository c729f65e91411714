//! Agent tests: real executors, `kill_all`, the fake containerizer.

use super::*;

/// The `test_executor` example, built once.
fn test_executor() -> PathBuf {
    mesos_test_support::example_binary("test_executor")
}

fn test_executor_info(id: &str) -> ExecutorInfo {
    let path = test_executor().display().to_string();
    ExecutorInfo {
        executor_id: ExecutorId { value: id.into() },
        command: Some(CommandInfo {
            shell: Some(false),
            value: Some(path.clone()),
            arguments: vec![path],
            environment: Some(Environment {
                variables: vec![environment::Variable {
                    name: "RUST_LOG".into(),
                    value: Some("debug".into()),
                    ..Default::default()
                }],
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// RUNNING and FINISHED of one task (acknowledged), from the executor.
async fn runs_and_finishes(h: &mut Harness, task: &str) {
    let running = h.update().await;
    assert_eq!(running.task_id.value, task);
    assert_eq!(state(&running), TaskState::TaskRunning, "{running:?}");
    assert_eq!(running.source, Some(task_status::Source::Executor as i32));
    assert!(running
        .container_status
        .as_ref()
        .unwrap()
        .executor_pid
        .is_some());
    h.ack(&running);
    let finished = h.update().await;
    assert_eq!(state(&finished), TaskState::TaskFinished, "{finished:?}");
    assert_eq!(finished.message.as_deref(), Some("test executor: finished"));
    h.ack(&finished);
}

#[tokio::test]
async fn real_test_executor_runs_tasks_echoes_and_survives_agent_restart() {
    let mut h = harness(default_containerizer(), Duration::from_secs(60)).await;
    let executor = test_executor_info("rust-test-executor");
    h.send(ToAgent::RunTask {
        framework: framework(true),
        task: Arc::new(executor_task("r1", &executor)),
    });
    runs_and_finishes(&mut h, "r1").await;

    h.send(ToAgent::FrameworkMessage {
        framework_id: FrameworkId { value: FW.into() },
        executor_id: ExecutorId {
            value: "rust-test-executor".into(),
        },
        data: Bytes::from_static(b"echo me"),
    });
    match h.next().await {
        FromAgent::ExecutorMessage {
            executor_id, data, ..
        } => {
            assert_eq!(executor_id.value, "rust-test-executor");
            assert_eq!(data, Bytes::from_static(b"echo me"));
        }
        other => panic!("{other:?}"),
    }

    // The agent goes down: the executor (checkpointing) keeps running and
    // reconnects once the agent is back; a task sent meanwhile waits.
    let pids_before = h.agent.registry.pids();
    assert_eq!(pids_before.len(), 1);
    h.agent.stop().await;
    assert!(
        std::net::TcpStream::connect(h.agent.addr).is_err(),
        "server still listening"
    );
    h.send(ToAgent::RunTask {
        framework: framework(true),
        task: Arc::new(executor_task("r2", &executor)),
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        process_alive(pids_before[0]),
        "executor died with the agent"
    );
    h.agent.restart().await.unwrap();
    runs_and_finishes(&mut h, "r2").await;
    assert_eq!(
        h.agent.registry.pids(),
        pids_before,
        "the same executor process"
    );

    // Shutdown: the executor exits by itself on SHUTDOWN.
    h.send(ToAgent::ShutdownExecutor {
        framework_id: FrameworkId { value: FW.into() },
        executor_id: ExecutorId {
            value: "rust-test-executor".into(),
        },
    });
    match h.next().await {
        FromAgent::ExecutorTerminated { status, .. } => assert_eq!(status, Some(0)),
        other => panic!("{other:?}"),
    }
    assert!(!process_alive(pids_before[0]));
}

#[tokio::test]
async fn kill_all_leaves_no_process_behind() {
    let mut h = harness(default_containerizer(), Duration::from_secs(60)).await;
    for i in 0..3 {
        h.send(ToAgent::RunTask {
            framework: framework(false),
            task: Arc::new(command_task(
                &format!("k{i}"),
                "sleep 100 & echo $! > \"$MESOS_SANDBOX/child.pid\"; wait",
            )),
        });
    }
    let executor = shell_executor(
        "kexec",
        "sleep 100 & echo $! > \"$MESOS_SANDBOX/child.pid\"; wait",
    );
    h.send(ToAgent::RunTask {
        framework: framework(false),
        task: Arc::new(executor_task("k-exec-task", &executor)),
    });
    // 3 × STARTING + RUNNING.
    for _ in 0..6 {
        let status = h.update().await;
        h.ack(&status);
    }
    let mut pids = Vec::new();
    for _ in 0..100 {
        pids = h.agent.registry.pids();
        let children = child_pids(&h);
        if pids.len() == 4 && children.len() == 4 {
            pids.extend(children);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(pids.len(), 8, "{pids:?}");
    assert!(pids.iter().all(|p| process_alive(*p)));
    h.agent.kill_all();
    for _ in 0..100 {
        if pids.iter().all(|p| !process_alive(*p)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let alive: Vec<u32> = pids.iter().copied().filter(|p| process_alive(*p)).collect();
    assert!(alive.is_empty(), "still alive: {alive:?}");
}

fn child_pids(h: &Harness) -> Vec<u32> {
    let mut pids = Vec::new();
    let executors = h
        .dir
        .path()
        .join(format!("slaves/agent-S0/frameworks/{FW}/executors"));
    for executor in std::fs::read_dir(executors).into_iter().flatten().flatten() {
        for run in std::fs::read_dir(executor.path().join("runs"))
            .into_iter()
            .flatten()
            .flatten()
        {
            if let Ok(text) = std::fs::read_to_string(run.path().join("child.pid")) {
                if let Ok(pid) = text.trim().parse() {
                    pids.push(pid);
                }
            }
        }
    }
    pids
}

#[tokio::test]
async fn fake_containerizer_lifecycles() {
    let fake = FakeContainerizer::new()
        .command_tasks(TaskBehavior::Finish {
            after: Duration::from_millis(50),
        })
        .executor_tasks(TaskBehavior::RunUntilKilled);
    let mut h = harness(Arc::new(fake), Duration::from_secs(60)).await;
    h.send(ToAgent::RunTask {
        framework: framework(false),
        task: Arc::new(command_task("f1", "ignored")),
    });
    let states: Vec<TaskState> = h.until_terminal().await.iter().map(state).collect();
    assert_eq!(
        states,
        [
            TaskState::TaskStarting,
            TaskState::TaskRunning,
            TaskState::TaskFinished
        ]
    );

    let executor = shell_executor("emulated", "ignored");
    h.send(ToAgent::RunTask {
        framework: framework(false),
        task: Arc::new(executor_task("f2", &executor)),
    });
    let running = h.update().await;
    assert_eq!(state(&running), TaskState::TaskRunning);
    assert_eq!(running.source, Some(task_status::Source::Executor as i32));
    h.ack(&running);
    h.send(ToAgent::FrameworkMessage {
        framework_id: FrameworkId { value: FW.into() },
        executor_id: ExecutorId {
            value: "emulated".into(),
        },
        data: Bytes::from_static(b"hello"),
    });
    assert!(
        matches!(h.next().await, FromAgent::ExecutorMessage { data, .. } if data == Bytes::from_static(b"hello"))
    );
    h.send(ToAgent::KillTask {
        framework_id: FrameworkId { value: FW.into() },
        task_id: TaskId { value: "f2".into() },
        kill_policy: None,
    });
    let killed = h.update().await;
    assert_eq!(state(&killed), TaskState::TaskKilled);
    h.ack(&killed);
    h.send(ToAgent::ShutdownExecutor {
        framework_id: FrameworkId { value: FW.into() },
        executor_id: ExecutorId {
            value: "emulated".into(),
        },
    });
    match h.next().await {
        FromAgent::ExecutorTerminated { status, .. } => {
            assert_eq!(status, Some(rustix::process::Signal::KILL.as_raw()))
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn fake_containerizer_scale() {
    const TASKS: usize = 10_000;
    let fake = Arc::new(FakeContainerizer::new());
    let mut h = harness(fake.clone(), Duration::from_secs(60)).await;
    let started = std::time::Instant::now();
    for i in 0..TASKS {
        h.send(ToAgent::RunTask {
            framework: framework(false),
            task: Arc::new(command_task(&format!("s{i}"), "true")),
        });
    }
    let mut finished = 0;
    while finished < TASKS {
        let status = h.update().await;
        h.ack(&status);
        if state(&status) == TaskState::TaskFinished {
            finished += 1;
        }
    }
    assert_eq!(fake.launches(), TASKS);
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");
    eprintln!("{TASKS} fake command tasks in {elapsed:?}");
}
