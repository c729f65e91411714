//! Which master leads, as one master sees it, and what a master that does
//! not lead answers (as a Mesos 1.11 master: `307 Temporary Redirect` to the
//! leader, `503 No leader elected` while none is known).
//!
//! A master is told its [`Leadership`] by whoever runs the election: the
//! cluster itself (masters without ZooKeeper: the lowest live index leads),
//! or [`zookeeper::contend`] (masters contending through ZooKeeper, each
//! with its own [`MasterContender`] and [`MasterDetector`]).

use std::sync::Arc;
use std::time::Duration;

use http::{Response, StatusCode};
use mesos_http::server::{self, Body};
use mesos_proto::v1::MasterInfo;
use mesos_zookeeper::{DetectorOptions, MasterContender, MasterDetector, ZkError, ZkUrl};

use tokio::sync::mpsc;

use super::{agents, ids, Core, Standby};

/// How long a newly elected master waits for its agents' reports.
const REREGISTER_TIMEOUT: Duration = Duration::from_secs(5);

impl Core {
    /// Takes note of who leads. A master that is elected registers the
    /// agents and takes their messages; a leader that loses its leadership
    /// stops, as a Mesos master aborts.
    pub(crate) fn set_leadership(self: &Arc<Self>, new: Leadership) {
        let old = self.leadership.send_replace(new.clone());
        match (old.is_leading(), new.is_leading()) {
            (false, true) => self.take_over(),
            (true, false) => {
                tracing::error!(
                    "this master lost its leadership; it stops, as a Mesos master does"
                );
                self.stop();
            }
            _ if old != new => tracing::info!(leadership = ?new, "the leading master changed"),
            _ => {}
        }
    }

    /// Elected: the agents re-register (each reports what it runs, see
    /// [`agents::reregister`]), then their messages come here.
    fn take_over(self: &Arc<Self>) {
        let standby = self
            .standby
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        let Some(Standby {
            agents,
            route,
            to_me,
        }) = standby
        else {
            return;
        };
        let core = Arc::clone(self);
        self.runtime.spawn(async move {
            let (reply, mut reports) = mpsc::unbounded_channel();
            for link in &agents {
                let _ = link.tx.send(crate::protocol::ToAgent::Reregister {
                    reply: reply.clone(),
                });
            }
            drop(reply);
            let mut received = std::collections::HashMap::new();
            let deadline = tokio::time::Instant::now() + REREGISTER_TIMEOUT;
            while received.len() < agents.len() {
                tokio::select! {
                    _ = core.shutdown.cancelled() => return,
                    report = tokio::time::timeout_at(deadline, reports.recv()) => match report {
                        Ok(Some(report)) => {
                            received.insert(report.agent_id.value.clone(), report);
                        }
                        Ok(None) | Err(_) => break,
                    },
                }
            }
            let now = ids::now_secs();
            let count = agents.len();
            core.run(|state, fx| {
                for link in agents {
                    let id = link
                        .info
                        .id
                        .as_ref()
                        .map(|id| id.value.clone())
                        .unwrap_or_default();
                    let report = received.remove(&id);
                    agents::reregister(state, fx, link, report, now);
                }
            });
            *route
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(to_me);
            core.recovered
                .store(true, std::sync::atomic::Ordering::Release);
            tracing::info!(
                agents = count,
                "elected the leading master; agents re-registered"
            );
        });
    }
}

/// Who leads, as one master knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Leadership {
    /// This master leads.
    Leading,
    /// Another master leads, at `host:port` (its HTTP API), or no leader is
    /// known (`None`).
    Following(Option<String>),
}

impl Leadership {
    pub(crate) fn is_leading(&self) -> bool {
        matches!(self, Leadership::Leading)
    }
}

/// Whether a request for `path` (without trailing `/`) is answered by the
/// leader only: the scheduler API and the state endpoints, as Mesos
/// redirects them.
pub(crate) fn leader_only(path: &str) -> bool {
    matches!(
        path,
        "/api/v1/scheduler"
            | "/master/api/v1/scheduler"
            | "/api/v1"
            | "/master/api/v1"
            | "/master/state"
            | "/state"
            | "/master/state.json"
            | "/state.json"
    )
}

/// Whether `path` is the redirect endpoint (`/redirect`, `/master/redirect`)
/// or below it.
pub(crate) fn is_redirect_endpoint(path: &str) -> bool {
    ["/redirect", "/master/redirect"].iter().any(|base| {
        path.strip_prefix(base)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// What a master answers when the request must go to the leader at
/// `leader` (`host:port`; `None`: no leader known), as Mesos's
/// `Master::Http::redirect`: `503 No leader elected` without a leader;
/// `/redirect` and `/master/redirect` go to the leader's base URL, paths
/// below them are `404` (no redirect loops); anything else keeps its path
/// and query. The `Location` is protocol-relative (`//host:port/path`), as
/// the real master sends it; `host` is the leader's IP (mesos-local masters
/// all advertise the host name `localhost`, which may resolve to another
/// address than the one they listen on).
pub(crate) fn redirect(leader: Option<&str>, path_and_query: &str) -> Response<Body> {
    let Some(leader) = leader else {
        return server::text_response(StatusCode::SERVICE_UNAVAILABLE, "No leader elected");
    };
    let path = path_and_query
        .split_once('?')
        .map_or(path_and_query, |(path, _)| path)
        .trim_end_matches('/');
    let location = if path == "/redirect" || path == "/master/redirect" {
        format!("//{leader}")
    } else if is_redirect_endpoint(path) {
        return server::text_response(StatusCode::NOT_FOUND, "404 Not Found.");
    } else {
        format!("//{leader}{path_and_query}")
    };
    tracing::debug!(%location, "redirecting to the leading master");
    let mut response = server::empty_response(StatusCode::TEMPORARY_REDIRECT);
    match http::HeaderValue::try_from(location) {
        Ok(value) => {
            response.headers_mut().insert(http::header::LOCATION, value);
            response
        }
        // The path came from a parsed request URI, so this cannot happen;
        // answer as the master does when it cannot name the leader.
        Err(_) => server::text_response(StatusCode::INTERNAL_SERVER_ERROR, "invalid location"),
    }
}

/// Masters contending through ZooKeeper.
pub(crate) mod zookeeper {
    use std::sync::Mutex;

    use mesos_zookeeper::SessionHandle;
    use tokio::task::JoinHandle;

    use super::*;

    /// The ZooKeeper session of a master's current candidacy: `None` while
    /// it has none (lost and not yet replaced, or withdrawn).
    pub(crate) type CandidacySession = Arc<Mutex<Option<SessionHandle>>>;

    /// Joins `url`'s group as `info` (the znode a Mesos master writes);
    /// returns once the candidacy is written, then follows the group in
    /// the background: `core` leads while its znode is the leader's. The
    /// candidacy is withdrawn when the master shuts down. A master whose
    /// session is lost while leading stops; while following, it contends
    /// again with a new session (its new znode last in line), as a Mesos
    /// master does (`Master::lostCandidacy`).
    pub(crate) async fn contend(
        core: Arc<Core>,
        url: ZkUrl,
        info: MasterInfo,
        options: DetectorOptions,
    ) -> Result<CandidacySession, ZkError> {
        let contender = MasterContender::contend(&url, &info, &options).await?;
        let detector = MasterDetector::start(url.clone(), options.clone())?;
        let session = Arc::new(Mutex::new(Some(contender.session())));
        let candidacy = Candidacy {
            core,
            url,
            info,
            options,
            session: Arc::clone(&session),
        };
        tokio::spawn(candidacy.follow(contender, detector));
        Ok(session)
    }

    /// What a master needs to contend again.
    struct Candidacy {
        core: Arc<Core>,
        url: ZkUrl,
        info: MasterInfo,
        options: DetectorOptions,
        session: CandidacySession,
    }

    impl Candidacy {
        async fn follow(self, contender: MasterContender, detector: MasterDetector) {
            let mut leaders = detector.subscribe();
            // The detector watches while it lives: it stays with the task.
            let _detector = detector;
            let mut contender = Some(contender);
            let mut rejoining: Option<JoinHandle<Option<MasterContender>>> = None;
            loop {
                let leadership = match leaders.borrow_and_update().as_ref() {
                    Some(leader)
                        if contender
                            .as_ref()
                            .is_some_and(|c| leader.membership == *c.membership()) =>
                    {
                        Leadership::Leading
                    }
                    Some(leader) => Leadership::Following(leader.endpoint()),
                    None => Leadership::Following(None),
                };
                self.core.set_leadership(leadership);
                tokio::select! {
                    _ = self.core.shutdown.cancelled() => break,
                    _ = lost(contender.as_ref()) => {
                        contender = None;
                        self.set_session(None);
                        if self.core.leadership.borrow().is_leading() {
                            tracing::error!("the master's ZooKeeper session is lost while leading");
                            self.core.set_leadership(Leadership::Following(None));
                            return;
                        }
                        tracing::warn!("the master's ZooKeeper session is lost while following; contending again");
                        rejoining = Some(tokio::spawn(rejoin(
                            Arc::clone(&self.core),
                            self.url.clone(),
                            self.info.clone(),
                            self.options.clone(),
                        )));
                    }
                    joined = finished(&mut rejoining) => {
                        rejoining = None;
                        if let Some(new) = joined {
                            self.set_session(Some(new.session()));
                            contender = Some(new);
                        }
                    }
                    changed = leaders.changed() => {
                        if changed.is_err() {
                            tracing::error!("the master's ZooKeeper detector stopped");
                            self.core.set_leadership(Leadership::Following(None));
                            return;
                        }
                    }
                }
            }
            self.set_session(None);
            if let Some(rejoining) = rejoining {
                rejoining.abort();
            }
            let Some(contender) = contender else {
                return;
            };
            // Withdraw at once rather than waiting for the session to
            // expire, so that another master is elected without delay.
            match tokio::time::timeout(WITHDRAW_TIMEOUT, contender.withdraw()).await {
                Ok(Ok(())) => tracing::info!("withdrew the master's candidacy"),
                Ok(Err(e)) => tracing::warn!(error = %e, "withdrawing the candidacy failed"),
                Err(_) => tracing::warn!("withdrawing the candidacy timed out"),
            }
        }

        fn set_session(&self, session: Option<SessionHandle>) {
            *self
                .session
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = session;
        }
    }

    /// Resolves when `contender`'s session is lost; never without one.
    async fn lost(contender: Option<&MasterContender>) {
        match contender {
            Some(contender) => contender.session_lost().await,
            None => std::future::pending().await,
        }
    }

    /// The outcome of the re-contention in progress; never without one.
    async fn finished(
        rejoining: &mut Option<JoinHandle<Option<MasterContender>>>,
    ) -> Option<MasterContender> {
        match rejoining {
            Some(handle) => handle.await.ok().flatten(),
            None => std::future::pending().await,
        }
    }

    /// Joins the group again with a new session, retrying with doubling
    /// delays (`options`' retry bounds) until it succeeds or the master
    /// stops (`None`).
    async fn rejoin(
        core: Arc<Core>,
        url: ZkUrl,
        info: MasterInfo,
        options: DetectorOptions,
    ) -> Option<MasterContender> {
        let mut delay = options.retry_initial;
        loop {
            tokio::select! {
                _ = core.shutdown.cancelled() => return None,
                joined = MasterContender::contend(&url, &info, &options) => match joined {
                    Ok(contender) => {
                        tracing::info!(znode = %contender.membership().name, "contending again");
                        return Some(contender);
                    }
                    Err(e) => tracing::warn!(error = %mesos_http::error_chain(&e), ?delay, "contending again failed; retrying"),
                },
            }
            tokio::select! {
                _ = core.shutdown.cancelled() => return None,
                _ = tokio::time::sleep(delay) => {}
            }
            delay = (delay * 2).min(options.retry_max);
        }
    }

    /// How long a stopping master waits for ZooKeeper to delete its znode
    /// (after that its session is closed, and ZooKeeper deletes it then).
    const WITHDRAW_TIMEOUT: Duration = Duration::from_secs(5);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(response: &Response<Body>) -> Option<&str> {
        response
            .headers()
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    #[test]
    fn redirects_keep_path_and_query() {
        let r = redirect(Some("127.0.0.1:5050"), "/master/state?jsonp=x");
        assert_eq!(r.status(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(location(&r), Some("//127.0.0.1:5050/master/state?jsonp=x"));
    }

    #[test]
    fn the_redirect_endpoint_goes_to_the_base_url_and_below_it_is_404() {
        let r = redirect(Some("127.0.0.1:5050"), "/master/redirect");
        assert_eq!(r.status(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(location(&r), Some("//127.0.0.1:5050"));
        let r = redirect(Some("127.0.0.1:5050"), "/redirect/x");
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn no_leader_is_503() {
        let r = redirect(None, "/api/v1/scheduler");
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(location(&r).is_none());
    }

    #[test]
    fn only_scheduler_and_state_are_leader_only() {
        assert!(leader_only("/api/v1/scheduler"));
        assert!(leader_only("/master/state"));
        assert!(!leader_only("/health"));
        assert!(!leader_only("/version"));
    }
}
