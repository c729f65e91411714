//! [`AgentClient`]: one method per call of the agent operator API
//! (`mesos.v1.agent.Call.Type` at Mesos 1.11.0, 32 calls).
//!
//! The methods are grouped by topic: [`calls_info`] (health, flags,
//! version, metrics, logging, sandbox files, the agent itself),
//! [`calls_state`] (state, containers, frameworks, executors, tasks,
//! operations, resource providers), [`calls_containers`] (standalone and
//! nested containers, attaching to their output), [`calls_providers`]
//! (resource provider configurations, image pruning).

use std::sync::Arc;

use mesos_proto::v1::agent::{call, Call, Response};

use crate::builder::Shared;
use crate::calls;
use crate::leader::Endpoints;
use crate::{ClientBuilder, Error};

pub mod calls_containers;
pub mod calls_info;
pub mod calls_providers;
pub mod calls_state;

/// A client of an agent's operator API (`POST <agent>/api/v1`): cheap to
/// clone, `Send + Sync`.
///
/// Build one from the agent's URL, or from its master with
/// [`MasterClient::agent_client`](crate::MasterClient::agent_client) and
/// an agent of [`get_agents`](crate::MasterClient::get_agents).
///
/// ```no_run
/// # async fn run() -> Result<(), mesos_operator::Error> {
/// let agent = mesos_operator::AgentClient::from_url("http://localhost:5051")?;
/// for container in agent.get_containers(false, false).await?.containers {
///     println!("{}", container.container_id.value);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct AgentClient {
    pub(crate) shared: Arc<Shared>,
    pub(crate) endpoints: Arc<Endpoints>,
}

impl AgentClient {
    pub(crate) fn new(shared: Arc<Shared>, endpoints: Endpoints) -> Self {
        AgentClient {
            shared,
            endpoints: Arc::new(endpoints),
        }
    }

    /// A builder for a client of the agent at `url` (see
    /// [`ClientBuilder::new`]).
    pub fn builder(url: &str) -> ClientBuilder {
        ClientBuilder::new([url])
    }

    /// A client of the agent at `url` with the default settings.
    pub fn from_url(url: &str) -> Result<Self, Error> {
        ClientBuilder::new([url]).agent()
    }

    async fn query<R>(
        &self,
        call: Call,
        pick: impl FnOnce(Response) -> Option<R>,
    ) -> Result<R, Error> {
        calls::query::<Api, R>(&self.shared, &self.endpoints, call, pick).await
    }

    async fn execute(&self, call: Call) -> Result<(), Error> {
        calls::execute::<Api>(&self.shared, &self.endpoints, call).await
    }
}

/// The agent operator API.
struct Api;

impl calls::Api for Api {
    type Call = Call;
    type Response = Response;
    fn call_name(call: &Call) -> &'static str {
        call.r#type().as_str_name()
    }
    fn response_name(response: &Response) -> &'static str {
        response.r#type().as_str_name()
    }
}

/// A call of type `kind` with no payload.
fn call(kind: call::Type) -> Call {
    Call {
        r#type: Some(kind as i32),
        ..Default::default()
    }
}
