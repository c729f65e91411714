//! Acknowledging status updates the way a busy framework does: concurrently,
//! at most [`MAX_ACKS_IN_FLIGHT`] HTTP calls at a time (unbounded, a burst of
//! updates would open thousands of connections at once).

use std::sync::Arc;

use mesos_proto::v1::TaskStatus;
use mesos_scheduler::SchedulerClient;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Acknowledgements in flight at most.
pub const MAX_ACKS_IN_FLIGHT: usize = 256;

/// Sends acknowledgements in the background, bounded; the first failure is
/// reported by the next call.
pub struct Acknowledger {
    client: SchedulerClient,
    in_flight: Arc<Semaphore>,
    calls: JoinSet<Result<(), mesos_scheduler::Error>>,
}

impl Acknowledger {
    pub fn new(client: SchedulerClient) -> Acknowledger {
        Acknowledger {
            client,
            in_flight: Arc::new(Semaphore::new(MAX_ACKS_IN_FLIGHT)),
            calls: JoinSet::new(),
        }
    }

    /// Starts acknowledging `status` (waiting for a free slot first).
    pub async fn acknowledge(&mut self, status: TaskStatus) -> Result<(), String> {
        let permit = self
            .in_flight
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| e.to_string())?;
        let client = self.client.clone();
        self.calls.spawn(async move {
            let result = client.acknowledge(&status).await;
            drop(permit);
            result
        });
        while let Some(done) = self.calls.try_join_next() {
            check(done)?;
        }
        Ok(())
    }

    /// Waits for every acknowledgement started.
    pub async fn finish(mut self) -> Result<(), String> {
        while let Some(done) = self.calls.join_next().await {
            check(done)?;
        }
        Ok(())
    }
}

fn check(
    done: Result<Result<(), mesos_scheduler::Error>, tokio::task::JoinError>,
) -> Result<(), String> {
    done.map_err(|e| e.to_string())?
        .map_err(|e| mesos_http::error_chain(&e))
}
