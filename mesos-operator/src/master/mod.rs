//! [`MasterClient`]: one method per call of the master operator API
//! (`mesos.v1.master.Call.Type` at Mesos 1.11.0, 39 calls).
//!
//! The methods are grouped by topic: [`calls_info`] (health, flags,
//! version, metrics, logging, files, the master itself), [`calls_state`]
//! (state, agents, frameworks, executors, tasks, operations, roles,
//! weights), [`calls_resources`] (reservations and volumes),
//! [`calls_admin`] (maintenance, draining, quota, teardown, gone agents);
//! `SUBSCRIBE` is [`MasterClient::subscribe`].

use std::sync::Arc;

use mesos_proto::v1::master::response::get_agents;
use mesos_proto::v1::master::{call, Call, Response};

use crate::builder::Shared;
use crate::calls;
use crate::leader::Endpoints;
use crate::{AgentClient, ClientBuilder, Error};

pub mod calls_admin;
pub mod calls_info;
pub mod calls_resources;
pub mod calls_state;

/// A client of the master operator API (`POST <master>/api/v1`): cheap to
/// clone, `Send + Sync`.
///
/// Every call goes to the leading master: a non-leading master's `307` is
/// followed (and the leader remembered for the next calls); with several
/// masters configured, the next is tried when one cannot be connected to;
/// with a `zk://` URL (feature `zookeeper`) the leader is the one
/// ZooKeeper names.
///
/// Each method names its call (`GET_STATE`, ...) and returns its typed
/// answer, or `()` for calls the master answers with an empty `200`/`202`.
///
/// ```no_run
/// # async fn run() -> Result<(), mesos_operator::Error> {
/// let master = mesos_operator::MasterClient::from_url("http://127.0.0.1:5050")?;
/// let state = master.get_state().await?;
/// let tasks = state.get_tasks.map(|t| t.tasks.len()).unwrap_or(0);
/// println!("{tasks} active tasks");
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct MasterClient {
    pub(crate) shared: Arc<Shared>,
    pub(crate) endpoints: Arc<Endpoints>,
}

impl MasterClient {
    pub(crate) fn new(shared: Arc<Shared>, endpoints: Endpoints) -> Self {
        MasterClient {
            shared,
            endpoints: Arc::new(endpoints),
        }
    }

    /// A builder for a client of the masters at `urls` (see
    /// [`ClientBuilder::new`]).
    pub fn builder<I, S>(urls: I) -> ClientBuilder
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        ClientBuilder::new(urls)
    }

    /// A client of the master at `url` with the default settings
    /// (protobuf, no credentials).
    pub fn from_url(url: &str) -> Result<Self, Error> {
        ClientBuilder::new([url]).master()
    }

    /// The operator API URL of the master that answered last (the leader,
    /// once a call has gone through), without user-info.
    pub fn leader_url(&self) -> Option<String> {
        self.endpoints.current().map(|u| mesos_http::redact_url(&u))
    }

    /// A client of the operator API of `agent` (as listed by
    /// [`get_agents`](Self::get_agents)), with this client's scheme
    /// (its masters'), settings and credentials:
    /// `<scheme>://<hostname>:<port>/<process id>/api/v1`, the process id
    /// taken from the agent's libprocess PID (`slave(1)@ip:port`), which
    /// reaches the agent also where it shares a port with others (as in
    /// `mesos-local`).
    pub fn agent_client(&self, agent: &get_agents::Agent) -> Result<AgentClient, Error> {
        let scheme = self.endpoints.scheme();
        let info = &agent.agent_info;
        let port = info.port.unwrap_or(5051);
        let process = agent
            .pid
            .as_deref()
            .and_then(|pid| pid.split_once('@'))
            .map(|(id, _)| id)
            .filter(|id| !id.is_empty() && !id.contains('/'));
        let base = match process {
            Some(id) => format!("{scheme}://{}:{port}/{id}", info.hostname),
            None => format!("{scheme}://{}:{port}", info.hostname),
        };
        let url = crate::builder::api_url(&base)?;
        Ok(AgentClient::new(
            self.shared.clone(),
            Endpoints::single(url),
        ))
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

/// The master operator API.
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

/// A call of type `kind` with no payload (fill it in with struct update
/// syntax).
fn call(kind: call::Type) -> Call {
    Call {
        r#type: Some(kind as i32),
        ..Default::default()
    }
}
