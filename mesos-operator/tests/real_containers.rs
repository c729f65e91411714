//! The agent's container calls against a real Mesos 1.11 agent
//! (`MESOS_INTEROP_MASTER`): each reaches the agent in both media types and
//! comes back as the agent's typed refusal for a container it does not
//! have (launching containers needs the agent's I/O switchboard and
//! launcher helpers, which the real-mesos tool does not ship).

use std::time::Duration;

use futures::StreamExt;

use mesos_operator::agent::calls_containers::{stdin, stdin_eof};
use mesos_operator::proto::scheduler::event;
use mesos_operator::proto::{CommandInfo, ContainerId, TaskId, TaskInfo, TaskState};
use mesos_operator::{AgentClient, ClientBuilder, ContainerLaunch, Error, MediaType};
use mesos_test_support::environment::interop_master;
use mesos_test_support::scheduler::{scalar, RawScheduler};

async fn agent(url: &str, media: MediaType) -> AgentClient {
    let master = ClientBuilder::new([url])
        .media_type(media)
        .request_timeout(Duration::from_secs(30))
        .master()
        .unwrap();
    let agents = master.get_agents().await.unwrap();
    master.agent_client(&agents.agents[0]).unwrap()
}

fn unknown() -> ContainerId {
    ContainerId {
        value: "no-such-container".into(),
        parent: None,
    }
}

fn assert_refused(what: &str, error: Error) {
    let status = error
        .status()
        .unwrap_or_else(|| panic!("{what}: {error:?}"));
    assert!(
        status.is_client_error() || status.is_server_error(),
        "{what}: {error}"
    );
    assert!(error.to_string().contains(what), "{what}: {error}");
    eprintln!("{what}: {error}");
}

#[tokio::test]
async fn container_calls_on_an_unknown_container_are_refused_with_the_agents_message() {
    let Some(url) = interop_master("") else {
        return;
    };
    for media in [MediaType::Protobuf, MediaType::Json] {
        let agent = agent(&url, media).await;
        assert_refused(
            "WAIT_CONTAINER",
            agent.wait_container(unknown()).await.unwrap_err(),
        );
        assert_refused(
            "KILL_CONTAINER",
            agent.kill_container(unknown(), None).await.unwrap_err(),
        );
        // A top-level container is refused before the call goes out: a
        // Mesos 1.11 agent aborts on it.
        let error = agent.remove_container(unknown()).await.unwrap_err();
        assert!(matches!(error, Error::InvalidArgument { .. }), "{error:?}");
        let nested = ContainerId {
            value: "no-such-child".into(),
            parent: Some(Box::new(unknown())),
        };
        assert_refused(
            "REMOVE_CONTAINER",
            agent.remove_container(nested.clone()).await.unwrap_err(),
        );
        assert_refused(
            "WAIT_NESTED_CONTAINER",
            agent.wait_nested_container(nested).await.unwrap_err(),
        );
        assert_refused(
            "ATTACH_CONTAINER_OUTPUT",
            agent.attach_container_output(unknown()).await.unwrap_err(),
        );
        let child = ContainerId {
            value: format!("session-{}", std::process::id()),
            parent: Some(Box::new(unknown())),
        };
        let session = agent
            .launch_nested_container_session(child, ContainerLaunch::default())
            .await;
        assert_refused(
            "LAUNCH_NESTED_CONTAINER_SESSION",
            session.map(|_| ()).unwrap_err(),
        );
        // The agent refuses an unknown container before reading the input,
        // which never ends here: the refusal must not wait for it.
        let input = futures::stream::pending();
        let input = tokio::time::timeout(
            Duration::from_secs(30),
            agent.attach_container_input(unknown(), input),
        )
        .await
        .expect("the refusal ends the call, though the input never does");
        assert_refused("ATTACH_CONTAINER_INPUT", input.unwrap_err());
    }
}

/// A running task's container is known to the agent, so the agent reads
/// the opening record and asks its containerizer to attach; without an I/O
/// switchboard (the real-mesos tool has none) that is refused, and the
/// refusal must come back typed while the input is still open.
#[tokio::test]
async fn attaching_input_to_a_container_without_io_switchboard_is_a_typed_refusal() {
    let Some(url) = interop_master("") else {
        return;
    };
    let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
    let mut scheduler = RawScheduler::subscribe(&url, &user, "attach-input test").await;
    let task_id = TaskId {
        value: format!("attach-input-{}", std::process::id()),
    };
    let mut launched = false;
    let running = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(event) = scheduler.next_event().await {
            match event.r#type() {
                event::Type::Offers if !launched => {
                    let Some(offer) = event.offers.and_then(|o| o.offers.into_iter().next()) else {
                        continue;
                    };
                    let task = TaskInfo {
                        name: "attach-input".into(),
                        task_id: task_id.clone(),
                        agent_id: offer.agent_id.clone(),
                        resources: vec![scalar("cpus", 0.1), scalar("mem", 32.0)],
                        command: Some(CommandInfo {
                            value: Some("sleep 120".into()),
                            ..Default::default()
                        }),
                        ..Default::default()
                    };
                    scheduler.launch(&offer, vec![task]).await;
                    launched = true;
                }
                event::Type::Update => {
                    let status = event.update.expect("update").status;
                    scheduler.acknowledge(&status).await;
                    match status.state() {
                        TaskState::TaskRunning => return true,
                        TaskState::TaskStarting | TaskState::TaskStaging => {}
                        other => panic!("the task ended: {other:?} {:?}", status.message),
                    }
                }
                _ => {}
            }
        }
        false
    })
    .await
    .expect("TASK_RUNNING within 60 s");
    assert!(running, "the master closed the subscription");

    let framework_id = scheduler.framework_id().cloned();
    let mut results = Vec::new();
    for media in [MediaType::Protobuf, MediaType::Json] {
        let agent = agent(&url, media).await;
        let containers = agent.get_containers(false, false).await.unwrap().containers;
        let container = containers
            .into_iter()
            .find(|c| c.framework_id == framework_id)
            .expect("the task's container")
            .container_id;
        let input = futures::stream::iter([stdin("hello\n"), stdin_eof()])
            .chain(futures::stream::pending());
        let attach = agent.attach_container_input(container, input);
        results.push(tokio::time::timeout(Duration::from_secs(30), attach).await);
    }
    scheduler.teardown().await;
    for result in results {
        let result = result.expect("the refusal ends the call, though the input never does");
        assert_refused("ATTACH_CONTAINER_INPUT", result.unwrap_err());
    }
}
