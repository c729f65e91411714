//! Agent tests: the executor API played by hand (SUBSCRIBE, UPDATE, MESSAGE), the executor environment.

use super::*;

/// The test itself plays a custom executor over the executor API (the
/// launched process only sleeps).
#[tokio::test]
async fn executor_api_by_hand() {
    let mut h = harness(default_containerizer(), Duration::from_secs(60)).await;
    let executor = shell_executor("hand", "sleep 1000");
    h.send(ToAgent::RunTask {
        framework: framework(false),
        task: Arc::new(executor_task("h1", &executor)),
    });

    let client = Client::builder()
        .media_type(MediaType::Json)
        .build()
        .unwrap();
    let url = mesos_http::parse_url(&h.url()).unwrap();
    let unprefixed =
        mesos_http::parse_url(&format!("http://{}/api/v1/executor", h.agent.addr)).unwrap();
    let call = |kind: call::Type, executor: &str| Call {
        executor_id: ExecutorId {
            value: executor.into(),
        },
        framework_id: FrameworkId { value: FW.into() },
        r#type: Some(kind as i32),
        ..Default::default()
    };
    // Unknown executor: 400; not subscribed yet: 403.
    let mut subscribe = call(call::Type::Subscribe, "nope");
    subscribe.subscribe = Some(call::Subscribe::default());
    // The launch is asynchronous: wait for the agent to know the executor.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let err = client
        .subscribe::<Call, Event>(&url, &subscribe)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::BAD_REQUEST), "{err}");
    assert!(
        err.to_string().contains("Executor cannot be found"),
        "{err}"
    );
    let update = |task: &str, state: TaskState| {
        let mut c = call(call::Type::Update, "hand");
        c.update = Some(call::Update {
            status: TaskStatus {
                task_id: TaskId { value: task.into() },
                state: state as i32,
                source: Some(task_status::Source::Executor as i32),
                uuid: Some(Bytes::copy_from_slice(uuid::Uuid::new_v4().as_bytes())),
                ..Default::default()
            },
        });
        c
    };
    let err = client
        .call(&url, &update("h1", TaskState::TaskRunning), None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::FORBIDDEN), "{err}");

    let mut subscribe = call(call::Type::Subscribe, "hand");
    subscribe.subscribe = Some(call::Subscribe::default());
    let subscription = client
        .subscribe::<Call, Event>(&unprefixed, &subscribe)
        .await
        .unwrap();
    let mut events = subscription.events;
    let subscribed = next_event(&mut events).await;
    assert_eq!(subscribed.r#type, Some(event::Type::Subscribed as i32));
    let subscribed = subscribed.subscribed.unwrap();
    assert_eq!(subscribed.executor_info.executor_id.value, "hand");
    assert_eq!(subscribed.executor_info.framework_id.unwrap().value, FW);
    assert_eq!(subscribed.framework_info.name, "agent-tests");
    assert_eq!(subscribed.agent_info.id.unwrap().value, "agent-S0");
    assert_eq!(
        subscribed.agent_info.port,
        Some(i32::from(h.agent.addr.port()))
    );
    let container_id = subscribed.container_id.unwrap().value;
    let launch = next_event(&mut events).await;
    assert_eq!(launch.r#type, Some(event::Type::Launch as i32));
    assert_eq!(launch.launch.unwrap().task.task_id.value, "h1");

    // A later task arrives on the open stream.
    h.send(ToAgent::RunTask {
        framework: framework(false),
        task: Arc::new(executor_task("h2", &executor)),
    });
    let launch = next_event(&mut events).await;
    assert_eq!(launch.launch.unwrap().task.task_id.value, "h2");

    // A task the executor does not know: forwarded as it came, as the
    // real agent does (no container fields; no acknowledgement).
    assert_eq!(
        client
            .call(&url, &update("zzz", TaskState::TaskRunning), None)
            .await
            .unwrap()
            .status,
        http::StatusCode::ACCEPTED
    );
    let forwarded = h.update().await;
    assert_eq!(forwarded.task_id.value, "zzz");
    assert_eq!(forwarded.container_status, None);
    assert_eq!(forwarded.executor_id, None);

    // Validation.
    let mut no_source = update("h1", TaskState::TaskRunning);
    no_source.update.as_mut().unwrap().status.source = None;
    let err = client.call(&url, &no_source, None).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("with invalid source, expecting 'SOURCE_EXECUTOR'"),
        "{err}"
    );
    let mut no_uuid = update("h1", TaskState::TaskRunning);
    no_uuid.update.as_mut().unwrap().status.uuid = None;
    let err = client.call(&url, &no_uuid, None).await.unwrap_err();
    assert!(
        err.to_string().contains("Expecting 'uuid' to be present"),
        "{err}"
    );

    // UPDATE → master. The agent acknowledges it to the executor as soon as
    // its status update manager has it (as the real agent does), without
    // waiting for the scheduler's acknowledgement.
    let running = update("h1", TaskState::TaskRunning);
    let sent_uuid = running.update.as_ref().unwrap().status.uuid.clone();
    assert_eq!(
        client.call(&url, &running, None).await.unwrap().status,
        http::StatusCode::ACCEPTED
    );
    let ack = next_event(&mut events).await;
    assert_eq!(ack.r#type, Some(event::Type::Acknowledged as i32));
    let ack = ack.acknowledged.unwrap();
    assert_eq!(ack.task_id.value, "h1");
    assert_eq!(Some(ack.uuid), sent_uuid);
    let status = h.update().await;
    assert_eq!(status.uuid, sent_uuid);
    assert_eq!(status.source, Some(task_status::Source::Executor as i32));
    assert_eq!(
        status
            .container_status
            .as_ref()
            .unwrap()
            .container_id
            .as_ref()
            .unwrap()
            .value,
        container_id
    );
    // A second update queues behind the unacknowledged head: acknowledged
    // to the executor at once too, forwarded once the scheduler acknowledged
    // the first.
    let again = update("h1", TaskState::TaskRunning);
    let again_uuid = again.update.as_ref().unwrap().status.uuid.clone();
    assert_ne!(again_uuid, sent_uuid);
    client.call(&url, &again, None).await.unwrap();
    let ack = next_event(&mut events).await;
    assert_eq!(
        ack.acknowledged.map(|a| Some(a.uuid)),
        Some(again_uuid.clone())
    );
    h.ack(&status);
    let second = h.update().await;
    assert_eq!(second.uuid, again_uuid);
    h.ack(&second);

    // MESSAGE → master; framework message → MESSAGE event; HEARTBEAT → 202.
    let mut message = call(call::Type::Message, "hand");
    message.message = Some(call::Message {
        data: Bytes::from_static(b"ping"),
    });
    client.call(&url, &message, None).await.unwrap();
    match h.next().await {
        FromAgent::ExecutorMessage {
            executor_id, data, ..
        } => {
            assert_eq!(executor_id.value, "hand");
            assert_eq!(data, Bytes::from_static(b"ping"));
        }
        other => panic!("{other:?}"),
    }
    h.send(ToAgent::FrameworkMessage {
        framework_id: FrameworkId { value: FW.into() },
        executor_id: ExecutorId {
            value: "hand".into(),
        },
        data: Bytes::from_static(b"pong"),
    });
    let message = next_event(&mut events).await;
    assert_eq!(message.message.unwrap().data, Bytes::from_static(b"pong"));
    let heartbeat = call(call::Type::Heartbeat, "whatever");
    assert_eq!(
        client.call(&url, &heartbeat, None).await.unwrap().status,
        http::StatusCode::ACCEPTED
    );

    // KILL reaches the executor.
    h.send(ToAgent::KillTask {
        framework_id: FrameworkId { value: FW.into() },
        task_id: TaskId { value: "h2".into() },
        kill_policy: None,
    });
    let kill = next_event(&mut events).await;
    assert_eq!(kill.kill.unwrap().task_id.value, "h2");

    // Shutdown: SHUTDOWN event, then the process is killed after the grace
    // period (2 s); live tasks fail, the master hears of the exit.
    h.send(ToAgent::ShutdownExecutor {
        framework_id: FrameworkId { value: FW.into() },
        executor_id: ExecutorId {
            value: "hand".into(),
        },
    });
    let shutdown = next_event(&mut events).await;
    assert_eq!(shutdown.r#type, Some(event::Type::Shutdown as i32));
    let mut failed = Vec::new();
    let mut terminated = None;
    while failed.len() < 2 || terminated.is_none() {
        match h.next().await {
            FromAgent::ExecutorTerminated {
                executor_id,
                status,
                ..
            } => {
                assert_eq!(executor_id.value, "hand");
                terminated = Some(status);
            }
            FromAgent::StatusUpdate { status, .. } => {
                assert_eq!(state(&status), TaskState::TaskFailed);
                assert_eq!(
                    status.reason,
                    Some(task_status::Reason::ExecutorTerminated as i32)
                );
                h.ack(&status);
                failed.push(status.task_id.value.clone());
            }
            other => panic!("{other:?}"),
        }
    }
    failed.sort();
    assert_eq!(failed, ["h1", "h2"]);
    assert_eq!(
        terminated,
        Some(Some(rustix::process::Signal::TERM.as_raw()))
    );
    // The stream ended with the executor.
    assert!(tokio::time::timeout(WAIT, events.next())
        .await
        .unwrap()
        .is_none());
}

pub(super) async fn next_event(events: &mut EventStream<Event>) -> Event {
    tokio::time::timeout(WAIT, events.next())
        .await
        .expect("an executor event in time")
        .expect("stream open")
        .expect("decodable event")
}

#[tokio::test]
async fn executor_environment_and_exit_without_subscribing() {
    let mut h = harness(default_containerizer(), Duration::from_secs(60)).await;
    for (id, checkpoint) in [("env-cp", true), ("env-plain", false)] {
        let mut executor = shell_executor(id, "env | sort > \"$MESOS_SANDBOX/env.txt\"; exit 0");
        executor.command.as_mut().unwrap().environment = Some(Environment {
            variables: vec![environment::Variable {
                name: "PROBE_CUSTOM_VAR".into(),
                value: Some("from ExecutorInfo.command".into()),
                ..Default::default()
            }],
        });
        h.send(ToAgent::RunTask {
            framework: framework(checkpoint),
            task: Arc::new(executor_task(&format!("{id}-task"), &executor)),
        });
        // The executor exits without subscribing: FAILURE, then TASK_FAILED.
        match h.next().await {
            FromAgent::ExecutorTerminated {
                executor_id,
                status,
                ..
            } => {
                assert_eq!(executor_id.value, id);
                assert_eq!(status, Some(0));
            }
            other => panic!("{other:?}"),
        }
        let failed = h.update().await;
        assert_eq!(state(&failed), TaskState::TaskFailed);
        assert_eq!(
            failed.reason,
            Some(task_status::Reason::ExecutorTerminated as i32)
        );
        assert_eq!(failed.source, Some(task_status::Source::Agent as i32));
        assert_eq!(failed.message.as_deref(), Some("Executor terminated"));
        assert_eq!(failed.executor_id.as_ref().unwrap().value, id);
        h.ack(&failed);

        let runs = h.dir.path().join(format!(
            "slaves/agent-S0/frameworks/{FW}/executors/{id}/runs"
        ));
        let run = std::fs::read_dir(&runs)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let text = std::fs::read_to_string(run.join("env.txt")).unwrap();
        let env: BTreeMap<&str, &str> = text.lines().filter_map(|l| l.split_once('=')).collect();
        let sandbox = run.display().to_string();
        let port = h.agent.addr.port();
        let mut expected = BTreeMap::from([
            ("LIBPROCESS_IP", "127.0.0.1".to_string()),
            ("LIBPROCESS_PORT", "0".into()),
            ("MESOS_AGENT_ENDPOINT", format!("127.0.0.1:{port}")),
            (
                "MESOS_CHECKPOINT",
                if checkpoint { "1" } else { "0" }.into(),
            ),
            ("MESOS_DIRECTORY", sandbox.clone()),
            ("MESOS_EXECUTOR_ID", id.into()),
            ("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "2secs".into()),
            ("MESOS_FRAMEWORK_ID", FW.into()),
            ("MESOS_HTTP_COMMAND_EXECUTOR", "0".into()),
            ("MESOS_SANDBOX", sandbox.clone()),
            ("MESOS_SLAVE_ID", "agent-S0".into()),
            ("MESOS_SLAVE_PID", format!("slave(1)@127.0.0.1:{port}")),
            ("PATH", crate::agent::env::HOST_PATH.into()),
            ("PROBE_CUSTOM_VAR", "from ExecutorInfo.command".into()),
            ("PWD", sandbox.clone()),
        ]);
        if checkpoint {
            expected.insert("MESOS_RECOVERY_TIMEOUT", "15mins".into());
            expected.insert("MESOS_SUBSCRIPTION_BACKOFF_MAX", "2secs".into());
        }
        let got: BTreeMap<&str, String> = env
            .iter()
            .filter(|(k, _)| !matches!(**k, "SHLVL" | "_" | "OLDPWD"))
            .map(|(k, v)| (*k, v.to_string()))
            .collect();
        assert_eq!(got, expected);
    }
}
