//! An in-process agent: the v1 executor API on its own HTTP server,
//! executors and command tasks through a containerizer, and the status
//! update manager.
//!
//! Layout: [`Agent`] (this file) is the handle: it owns the HTTP server
//! (stop/restart) and the registry of containers (`kill_all`). The agent's
//! state lives in one task ([`executors::AgentState`]) fed by the master's
//! messages and by [`executors::Input`]s from the executor API
//! ([`http`]), the containers and the built-in command executor.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mesos_proto::v1::{AgentId, AgentInfo, Attribute, Resource};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use mesos_http::server::{CallReader, ServerLimits};

use crate::containerizer::Containerizer;
use crate::protocol::{AgentLink, FromAgent};

pub(crate) mod env;
mod executors;
mod http;
pub(crate) mod launches;
pub(crate) mod operator;
pub(crate) mod sandbox;
mod status_updates;
pub(crate) use status_updates::MAX_PENDING_UPDATES;

#[cfg(test)]
mod tests;

use executors::{AgentState, Identity, Input, Registry};
use launches::LaunchLog;

/// How an agent runs.
#[derive(Clone)]
pub(crate) struct AgentConfig {
    /// 1-based index: the agent's UPID is `slave(index)@ip:port`.
    pub(crate) index: usize,
    /// The agent's id.
    pub(crate) id: AgentId,
    /// Address to listen on.
    pub(crate) ip: IpAddr,
    /// Port of its executor API server (0: ephemeral).
    pub(crate) port: u16,
    /// Hostname reported in AgentInfo and offers.
    pub(crate) hostname: String,
    /// Total resources.
    pub(crate) resources: Vec<Resource>,
    /// Attributes.
    pub(crate) attributes: Vec<Attribute>,
    /// Root of its sandboxes.
    pub(crate) work_dir: PathBuf,
    /// How executors and tasks run.
    pub(crate) containerizer: Arc<dyn Containerizer>,
    /// How often an unacknowledged status update is resent.
    pub(crate) status_update_retry: Duration,
    /// MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD for executors.
    pub(crate) executor_shutdown_grace: Duration,
    /// Limits of its HTTP server.
    pub(crate) limits: ServerLimits,
    /// Bound of each executor stream's queue.
    pub(crate) max_queued_events: usize,
    /// Bound of the updates its status update manager holds unacknowledged
    /// (and of its streams) past which executors' updates are refused.
    pub(crate) max_pending_updates: usize,
    /// `--authenticate_http_executors`.
    pub(crate) authenticate_executors: bool,
    /// Who may call its operator API (HTTP Basic; the cluster's framework
    /// credentials); None: anyone.
    pub(crate) operator_credentials: Option<crate::auth::Credentials>,
    /// The fetcher's settings (its cache is in `<work_dir>/fetch`).
    pub(crate) fetcher: crate::FetcherConfig,
    /// Serve `https://`; executors get the matching variables.
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<AgentTls>,
}

/// An agent's TLS: its server side, and the `LIBPROCESS_SSL_*` variables
/// its executors get.
#[cfg(feature = "tls")]
#[derive(Debug, Clone)]
pub(crate) struct AgentTls {
    pub(crate) server: mesos_http::server::ServerTls,
    pub(crate) executor_env: Vec<(String, String)>,
}

/// The HTTP server of one agent "process" lifetime.
struct Server {
    token: CancellationToken,
    handle: JoinHandle<()>,
}

/// A running agent.
pub(crate) struct Agent {
    link: AgentLink,
    addr: SocketAddr,
    http: Arc<http::HttpContext>,
    input: mpsc::UnboundedSender<Input>,
    registry: Arc<Registry>,
    unacknowledged: Arc<AtomicUsize>,
    launches: Arc<LaunchLog>,
    shutdown: CancellationToken,
    server: Mutex<Option<Server>>,
    /// Serve `https://` with this.
    tls: Option<crate::serve::ServerTls>,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("pid", &self.link.pid)
            .finish_non_exhaustive()
    }
}

impl Agent {
    /// Starts the agent's executor API server and its message loop.
    pub(crate) async fn start(
        config: AgentConfig,
        to_master: mpsc::UnboundedSender<FromAgent>,
        shutdown: CancellationToken,
    ) -> std::io::Result<Agent> {
        let listener = TcpListener::bind(SocketAddr::new(config.ip, config.port)).await?;
        let addr = listener.local_addr()?;
        let pid = format!("slave({})@{}", config.index, addr);
        let info = AgentInfo {
            hostname: config.hostname.clone(),
            port: Some(i32::from(addr.port())),
            resources: config.resources.clone(),
            attributes: config.attributes.clone(),
            id: Some(config.id.clone()),
            domain: None,
        };
        let (to_agent, from_master) = mpsc::unbounded_channel();
        let (input, inputs) = mpsc::unbounded_channel();
        let registry = Arc::new(Registry::default());
        let unacknowledged = Arc::new(AtomicUsize::new(0));
        let launches = Arc::new(LaunchLog::default());
        let tokens = Arc::new(crate::auth::ExecutorTokens::new(
            config.authenticate_executors,
        ));
        let state = AgentState::new(
            Identity {
                info: info.clone(),
                agent_id: config.id.clone(),
                pid: pid.clone(),
                ip: addr.ip(),
                port: addr.port(),
                work_dir: config.work_dir.clone(),
                containerizer: config.containerizer.clone(),
                executor_shutdown_grace: config.executor_shutdown_grace,
                max_queued_events: config.max_queued_events,
                max_pending_updates: config.max_pending_updates,
                tokens: tokens.clone(),
                fetcher: Arc::new(crate::fetcher::Fetcher::new(
                    config.fetcher.clone(),
                    &config.work_dir,
                )),
                #[cfg(feature = "tls")]
                tls_env: config
                    .tls
                    .as_ref()
                    .map(|tls| tls.executor_env.clone())
                    .unwrap_or_default(),
                #[cfg(not(feature = "tls"))]
                tls_env: Vec::new(),
            },
            to_master,
            input.clone(),
            registry.clone(),
            config.status_update_retry,
            unacknowledged.clone(),
            launches.clone(),
        );
        // The agent's own token: dropping the handle ends its task.
        let shutdown = shutdown.child_token();
        tokio::spawn(state.run(from_master, inputs, shutdown.clone()));
        let http = Arc::new(http::HttpContext {
            prefixed_path: format!("/slave({})/api/v1/executor", config.index),
            operator_path: format!("/slave({})/api/v1", config.index),
            operator_credentials: config.operator_credentials.clone(),
            input: input.clone(),
            reader: CallReader::new(config.limits.clone()),
            tokens,
        });
        let agent = Agent {
            link: AgentLink {
                info,
                pid,
                tx: to_agent,
            },
            addr,
            http,
            input,
            registry,
            unacknowledged,
            launches,
            shutdown,
            server: Mutex::new(None),
            #[cfg(feature = "tls")]
            tls: config.tls.map(|tls| tls.server),
            #[cfg(not(feature = "tls"))]
            tls: None,
        };
        agent.serve(listener);
        tracing::info!(
            agent_id = config.id.value,
            pid = agent.link.pid,
            "agent started"
        );
        Ok(agent)
    }

    // Without the `tls` feature the TLS settings are an uninhabited `Copy` type.
    #[cfg_attr(not(feature = "tls"), allow(clippy::clone_on_copy))]
    fn serve(&self, listener: TcpListener) {
        let token = self.shutdown.child_token();
        let http = self.http.clone();
        let handler = move |request, _peer| {
            let http = http.clone();
            async move { http::handle(http, request).await }
        };
        let limits = self.http.reader.limits().clone();
        let handle = tokio::spawn(crate::serve::serve(
            listener,
            handler,
            token.clone(),
            limits,
            self.tls.clone(),
        ));
        let previous = self
            .server
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(Server { token, handle });
        if let Some(previous) = previous {
            previous.token.cancel();
        }
    }

    /// How the master reaches it.
    pub(crate) fn link(&self) -> AgentLink {
        self.link.clone()
    }

    /// Simulates the agent process going down: its HTTP server stops and
    /// executor connections are cut; executors keep running. Status updates
    /// are held (and resent on restart).
    pub(crate) async fn stop(&self) {
        let server = self.server.lock().unwrap_or_else(|e| e.into_inner()).take();
        let (done, stopped) = oneshot::channel();
        if self
            .input
            .send(Input::SetStopped {
                stopped: true,
                done,
            })
            .is_ok()
        {
            let _ = stopped.await;
        }
        if let Some(server) = server {
            server.token.cancel();
            let _ = server.handle.await;
        }
        tracing::info!(pid = self.link.pid, "agent stopped");
    }

    /// Brings the agent back on the same port; executors may resubscribe.
    pub(crate) async fn restart(&self) -> std::io::Result<()> {
        if self
            .server
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
        {
            return Ok(());
        }
        let mut attempt = 0;
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                // The old socket may linger for a moment.
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && attempt < 50 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => return Err(e),
            }
        };
        self.serve(listener);
        let (done, restarted) = oneshot::channel();
        if self
            .input
            .send(Input::SetStopped {
                stopped: false,
                done,
            })
            .is_ok()
        {
            let _ = restarted.await;
        }
        tracing::info!(pid = self.link.pid, "agent restarted");
        Ok(())
    }

    /// How many status updates the agent holds that the framework has not
    /// acknowledged yet (in flight or queued), as of its last step.
    pub(crate) fn unacknowledged_updates(&self) -> usize {
        self.unacknowledged.load(Ordering::Relaxed)
    }

    /// Adds how many times the master sent this agent each task to `into`
    /// (see [`launches`]).
    pub(crate) fn task_launches(&self, into: &mut BTreeMap<(String, String), usize>) {
        self.launches.add_to(into);
    }

    /// Kills every process the agent started, at once (used on drop).
    pub(crate) fn kill_all(&self) {
        self.registry.kill_all();
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(server) = self.server.lock().unwrap_or_else(|e| e.into_inner()).take() {
            server.token.cancel();
        }
        self.shutdown.cancel();
        self.kill_all();
    }
}
