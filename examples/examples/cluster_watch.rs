//! Follows a Mesos master's operator `SUBSCRIBE` stream and prints agent,
//! framework and task changes live, from the cluster state folded with
//! `mesos_operator::ClusterState`. Follows the leader (`307` redirects,
//! several masters tried in turn, or a `zk://` URL) and subscribes again
//! after a lost stream. Ctrl-C stops it.
//!
//! ```sh
//! cargo run -p mesos-examples --example cluster_watch -- http://127.0.0.1:5050
//! cargo run -p mesos-examples --example cluster_watch -- http://m1:5050 http://m2:5050
//! cargo run -p mesos-examples --example cluster_watch -- zk://zk1:2181/mesos
//! ```
//! `--json` uses JSON instead of protobuf on the wire.

use std::process::ExitCode;

use futures::StreamExt;
use mesos_operator::{Change, ClientBuilder, ClusterState, MediaType};

async fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let mut masters: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if masters.is_empty() {
        masters.push("http://127.0.0.1:5050");
    }
    let media = if json {
        MediaType::Json
    } else {
        MediaType::Protobuf
    };
    let master = ClientBuilder::new(&masters)
        .media_type(media)
        .master()
        .map_err(|e| mesos_http::error_chain(&e))?;
    let mut events = master.subscribe();
    let mut state = ClusterState::new();
    println!("watching {}", masters.join(", "));
    loop {
        let event = tokio::select! {
            event = events.next() => event,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        match event {
            None => return Err("the subscription ended".into()),
            Some(Ok(event)) => {
                if let Some(change) = state.apply(&event) {
                    print_change(&change, &state);
                }
            }
            Some(Err(error)) if error.is_retryable() => {
                println!("! {} (subscribing again)", mesos_http::error_chain(&error));
            }
            Some(Err(error)) => return Err(mesos_http::error_chain(&error)),
        }
    }
}

fn print_change(change: &Change, state: &ClusterState) {
    match change {
        Change::Snapshot { .. } => {
            println!("= {change}");
            for agent in state.agents().values() {
                let cpus: f64 = agent
                    .total_resources
                    .iter()
                    .filter(|r| r.name == "cpus")
                    .filter_map(|r| r.scalar.map(|s| s.value))
                    .sum();
                println!(
                    "  agent {} ({}) cpus {cpus}{}",
                    agent
                        .agent_info
                        .id
                        .as_ref()
                        .map(|id| id.value.as_str())
                        .unwrap_or("?"),
                    agent.agent_info.hostname,
                    if agent.active { "" } else { " inactive" }
                );
            }
            for framework in state.frameworks().values() {
                println!("  framework {}", framework.framework_info.name);
            }
            for (key, task) in state.tasks() {
                println!("  task {key}: {}", task.state().as_str_name());
            }
        }
        Change::TaskAdded { key, .. } | Change::TaskUpdated { key, .. } => {
            let agent = state
                .task(key)
                .and_then(|t| state.agents().get(&t.agent_id.value))
                .map(|a| a.agent_info.hostname.as_str())
                .unwrap_or("?");
            println!("* {change} on {agent}");
        }
        _ => println!("* {change}"),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cluster_watch: {error}");
            ExitCode::FAILURE
        }
    }
}
