//! A framework written against the stream API (`mesos_scheduler::subscribe`)
//! instead of the `Scheduler` trait: runs N command tasks (no executor: the
//! agent's command executor runs them), acknowledges every update itself,
//! and exits 0 once all finished (1 on any failure).
//!
//! ```sh
//! cargo run -p mesos-examples --example stream_scheduler -- local 3
//! cargo run -p mesos-examples --example stream_scheduler -- http://127.0.0.1:5050 3
//! ```

use std::process::ExitCode;
use std::time::Duration;

use futures::StreamExt;
use mesos_proto::builders::{filters, CommandInfoBuilder};
use mesos_proto::resources::Resources;
use mesos_proto::v1::{FrameworkInfo, TaskInfo, TaskState};
use mesos_scheduler::{subscribe, SchedulerConfig, SchedulerEvent};

async fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let total: usize = match args.get(1) {
        Some(n) => n
            .parse()
            .map_err(|_| format!("invalid number of tasks {n:?}"))?,
        None => 3,
    };
    let master = mesos_examples::master_from_arg(args.first().map(String::as_str), 1).await?;
    let framework = FrameworkInfo::builder("root", "Stream Scheduler (Rust)")
        .build()
        .map_err(|e| e.to_string())?;
    let config =
        SchedulerConfig::new([master.url.as_str()], framework).map_err(|e| e.to_string())?;
    let (client, mut events) = subscribe(config).map_err(|e| e.to_string())?;

    let wanted = Resources::new().with_cpus(0.1).with_mem(32.0);
    let (mut launched, mut finished) = (0, 0);
    while let Some(event) = events.next().await {
        match event.map_err(|e| mesos_http::error_chain(&e))? {
            SchedulerEvent::Subscribed { framework_id, .. } => {
                tracing::info!(framework_id = %framework_id.value, "subscribed");
            }
            SchedulerEvent::Offers(offers) => {
                for offer in offers {
                    let mut remaining = Resources::from(offer.resources.clone());
                    let mut tasks = Vec::new();
                    while launched < total {
                        let Some(share) = remaining.find(&wanted) else {
                            break;
                        };
                        remaining -= &share;
                        let id = format!("stream-task-{launched}");
                        launched += 1;
                        let command = CommandInfoBuilder::shell(format!("echo hello from {id}"));
                        let task = TaskInfo::builder(id.as_str(), id.as_str())
                            .agent_id(&offer.agent_id)
                            .resources(share)
                            .command(command)
                            .build()
                            .map_err(|e| e.to_string())?;
                        tasks.push(task);
                    }
                    let answer = if tasks.is_empty() {
                        client
                            .decline(vec![offer.id], Some(filters(Duration::from_secs(5))))
                            .await
                    } else {
                        client.launch_tasks(vec![offer.id], tasks, None).await
                    };
                    answer.map_err(|e| mesos_http::error_chain(&e))?;
                }
            }
            SchedulerEvent::Update(status) => {
                let state = status.state();
                tracing::info!(task_id = %status.task_id.value, state = state.as_str_name(), "update");
                client
                    .acknowledge(&status)
                    .await
                    .map_err(|e| mesos_http::error_chain(&e))?;
                match state {
                    TaskState::TaskFinished => {
                        finished += 1;
                        if finished == total {
                            client
                                .teardown()
                                .await
                                .map_err(|e| mesos_http::error_chain(&e))?;
                            return Ok(());
                        }
                    }
                    TaskState::TaskFailed
                    | TaskState::TaskLost
                    | TaskState::TaskKilled
                    | TaskState::TaskError
                    | TaskState::TaskDropped => {
                        let _ = client.teardown().await;
                        return Err(format!(
                            "task {} ended {}: {}",
                            status.task_id.value,
                            state.as_str_name(),
                            status.message()
                        ));
                    }
                    _ => {}
                }
            }
            SchedulerEvent::Error(message) => return Err(message),
            SchedulerEvent::Disconnected { reason } => tracing::warn!(%reason, "disconnected"),
            _ => {}
        }
    }
    Err("the subscription ended".to_string())
}

#[tokio::main]
async fn main() -> ExitCode {
    mesos_examples::init_logging();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("stream_scheduler: {message}");
            ExitCode::FAILURE
        }
    }
}
