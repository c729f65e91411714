//! The operator client against a real Mesos 1.11 master and agent
//! (`MESOS_INTEROP_MASTER`, e.g. from `tools/real-mesos/start.sh`): every
//! `GET_*` call the standalone master and agent answer, in both media
//! types, and RESERVE/UNRESERVE seen through GET_AGENTS.

use std::time::Duration;

use mesos_operator::proto::master::response::get_agents;
use mesos_operator::proto::{resource, value, AgentId, Resource};
use mesos_operator::{AgentClient, ClientBuilder, MasterClient, MediaType};
use mesos_test_support::environment::interop_master;

fn master_client(master: &str, media: MediaType) -> MasterClient {
    ClientBuilder::new([master])
        .media_type(media)
        .request_timeout(Duration::from_secs(30))
        .master()
        .expect("client")
}

/// The first registered agent and a client of its operator API.
async fn first_agent(master: &MasterClient) -> (get_agents::Agent, AgentClient) {
    let agents = master.get_agents().await.expect("GET_AGENTS");
    let agent = agents
        .agents
        .into_iter()
        .next()
        .expect("a registered agent");
    let client = master.agent_client(&agent).expect("agent client");
    (agent, client)
}

#[tokio::test]
async fn master_get_calls_answer_in_both_media_types() {
    let Some(url) = interop_master("") else {
        return;
    };
    for media in [MediaType::Protobuf, MediaType::Json] {
        let master = master_client(&url, media);
        assert!(master.get_health().await.unwrap().healthy, "{media:?}");
        let version = master.get_version().await.unwrap();
        assert_eq!(version.version_info.version, "1.11.0", "{media:?}");
        let flags = master.get_flags().await.unwrap();
        assert!(
            flags.flags.iter().any(|f| f.name == "work_dir"),
            "{media:?}: {:?}",
            flags.flags.iter().map(|f| &f.name).collect::<Vec<_>>()
        );
        let metrics = master
            .get_metrics(Some(Duration::from_secs(5)))
            .await
            .unwrap();
        assert!(
            metrics.metrics.iter().any(|m| m.name == "master/elected"),
            "{media:?}"
        );
        master.get_logging_level().await.unwrap();

        let state = master.get_state().await.unwrap();
        let agents = state.get_agents.expect("GET_STATE agents");
        assert!(
            !agents.agents.is_empty(),
            "{media:?}: no agent in GET_STATE"
        );
        assert!(state.get_frameworks.is_some() && state.get_tasks.is_some());
        assert!(state.get_executors.is_some());

        let agents = master.get_agents().await.unwrap();
        let agent = &agents.agents[0];
        assert!(agent.active, "{media:?}");
        assert_eq!(agent.agent_info.hostname, "localhost");
        assert!(
            agent.total_resources.iter().any(|r| r.name == "cpus"),
            "{media:?}"
        );
        master.get_frameworks().await.unwrap();
        master.get_executors().await.unwrap();
        master.get_tasks().await.unwrap();
        master.get_roles().await.unwrap();
        master.get_weights().await.unwrap();
        master.get_operations().await.unwrap();
        master.get_maintenance_status().await.unwrap();
        master.get_maintenance_schedule().await.unwrap();
        master.get_quota().await.unwrap();
        let leader = master.get_master().await.unwrap();
        let info = leader.master_info.expect("master_info");
        assert_eq!(
            info.port,
            url.rsplit(':').next().unwrap().parse::<u32>().unwrap()
        );

        // The file browser answers for what it has attached only.
        let missing = master.list_files("/no/such/path").await.unwrap_err();
        assert_eq!(missing.status().map(|s| s.as_u16()), Some(404), "{missing}");
    }
}

#[tokio::test]
async fn agent_get_calls_answer_in_both_media_types() {
    let Some(url) = interop_master("") else {
        return;
    };
    for media in [MediaType::Protobuf, MediaType::Json] {
        let master = master_client(&url, media);
        let (listed, agent) = first_agent(&master).await;
        assert!(agent.get_health().await.unwrap().healthy, "{media:?}");
        assert_eq!(
            agent.get_version().await.unwrap().version_info.version,
            "1.11.0"
        );
        let flags = agent.get_flags().await.unwrap();
        assert!(
            flags.flags.iter().any(|f| f.name == "work_dir"),
            "{media:?}"
        );
        let metrics = agent.get_metrics(None).await.unwrap();
        assert!(!metrics.metrics.is_empty(), "{media:?}");
        agent.get_logging_level().await.unwrap();
        let me = agent.get_agent().await.unwrap();
        assert_eq!(
            me.agent_info.expect("agent_info").id,
            listed.agent_info.id,
            "{media:?}"
        );
        let state = agent.get_state().await.unwrap();
        assert!(state.get_tasks.is_some() && state.get_frameworks.is_some());
        agent.get_containers(true, true).await.unwrap();
        agent.get_frameworks().await.unwrap();
        agent.get_executors().await.unwrap();
        agent.get_tasks().await.unwrap();
        agent.get_operations().await.unwrap();
        agent.get_resource_providers().await.unwrap();
    }
}

#[tokio::test]
async fn a_refused_call_carries_the_masters_status_and_message() {
    let Some(url) = interop_master("") else {
        return;
    };
    let master = master_client(&url, MediaType::Json);
    let error = master
        .mark_agent_gone(AgentId {
            value: "no-such-agent".into(),
        })
        .await
        .unwrap_err();
    let status = error.status().expect("an HTTP status");
    assert!(status.is_client_error(), "{error}");
    assert!(error.to_string().contains("MARK_AGENT_GONE"), "{error}");
    assert!(!error.is_retryable());
}

fn reserved_cpus(amount: f64, role: &str) -> Resource {
    Resource {
        name: "cpus".into(),
        r#type: value::Type::Scalar as i32,
        scalar: Some(value::Scalar { value: amount }),
        reservations: vec![resource::ReservationInfo {
            r#type: Some(resource::reservation_info::Type::Dynamic as i32),
            role: Some(role.into()),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn reserved_for(agent: &get_agents::Agent, role: &str) -> f64 {
    agent
        .total_resources
        .iter()
        .filter(|r| r.name == "cpus")
        .filter(|r| {
            r.reservations
                .iter()
                .any(|x| x.role.as_deref() == Some(role))
        })
        .filter_map(|r| r.scalar.map(|s| s.value))
        .sum()
}

/// Polls GET_AGENTS until the agent's reservation for `role` is `want`,
/// for at most 30 s.
async fn wait_for_reservation(master: &MasterClient, agent_id: &AgentId, role: &str, want: f64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let agents = master.get_agents().await.unwrap();
        let agent = agents
            .agents
            .iter()
            .find(|a| a.agent_info.id.as_ref() == Some(agent_id))
            .expect("the agent");
        let got = reserved_for(agent, role);
        if (got - want).abs() < 1e-9 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "reservation for {role}: {got}, want {want}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn reserve_then_unreserve_shows_in_get_agents() {
    let Some(url) = interop_master("") else {
        return;
    };
    for (media, role) in [
        (MediaType::Protobuf, "operator-pb"),
        (MediaType::Json, "operator-json"),
    ] {
        let master = master_client(&url, media);
        let (agent, _) = first_agent(&master).await;
        let agent_id = agent.agent_info.id.clone().expect("agent id");
        assert_eq!(reserved_for(&agent, role), 0.0);

        master
            .reserve_resources(agent_id.clone(), vec![reserved_cpus(0.25, role)])
            .await
            .unwrap();
        wait_for_reservation(&master, &agent_id, role, 0.25).await;
        let roles = master.get_roles().await.unwrap();
        assert!(
            roles.roles.iter().any(|r| r.name == role),
            "{media:?}: {role} not in GET_ROLES"
        );

        master
            .unreserve_resources(agent_id.clone(), vec![reserved_cpus(0.25, role)])
            .await
            .unwrap();
        wait_for_reservation(&master, &agent_id, role, 0.0).await;
    }
}
