//! The master's `SUBSCRIBE` as a `Stream`: subscribe (following the
//! leader), read events, watch heartbeats, and subscribe again with backoff
//! when the stream is lost.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::stream::{BoxStream, Stream, StreamExt};
use mesos_http::{Backoff, EventStream};
use mesos_proto::v1::master::{call, event, Call, Event};
use tokio::time::Instant;

use crate::leader::LeaderWatch;
use crate::{Error, MasterClient};

impl MasterClient {
    /// `SUBSCRIBE`: the master's event stream: first `SUBSCRIBED` with a
    /// snapshot of the cluster (`GET_STATE`), then `TASK_ADDED`,
    /// `TASK_UPDATED`, `AGENT_ADDED`, `AGENT_REMOVED`, `FRAMEWORK_ADDED`,
    /// `FRAMEWORK_UPDATED`, `FRAMEWORK_REMOVED` and `HEARTBEAT` as they
    /// happen. Fold them into a [`ClusterState`](crate::ClusterState) for a
    /// live view of the cluster.
    ///
    /// Nothing happens until the stream is polled. It subscribes to the
    /// leading master (as every call does: redirects followed, masters
    /// tried in turn, or the ZooKeeper leader). When the subscription is
    /// lost — the stream closes or breaks, or no event (heartbeats included)
    /// arrives for [`heartbeat_multiplier`](crate::ClientBuilder::heartbeat_multiplier)
    /// heartbeat intervals, or (with a `zk://` URL) ZooKeeper names another
    /// leading master — it yields `Err(`[`Error::Disconnected`]`)`, backs
    /// off ([`backoff`](crate::ClientBuilder::backoff); not for a new
    /// leader) and subscribes again; the next `SUBSCRIBED` carries a fresh snapshot, which replaces
    /// the cluster state (events missed meanwhile are in it).
    ///
    /// Errors for which [`Error::is_retryable`] holds (a lost subscription,
    /// an unreachable master, `503` while no master leads) are reported and
    /// the stream goes on; after any other error (`401`, `403`, a refused
    /// redirect, ...) it ends.
    ///
    /// ```no_run
    /// use futures::StreamExt;
    /// use mesos_operator::{ClusterState, MasterClient};
    ///
    /// # async fn run() -> Result<(), mesos_operator::Error> {
    /// let master = MasterClient::from_url("http://127.0.0.1:5050")?;
    /// let mut events = master.subscribe();
    /// let mut state = ClusterState::new();
    /// while let Some(event) = events.next().await {
    ///     match event {
    ///         Ok(event) => {
    ///             if let Some(change) = state.apply(&event) {
    ///                 println!("{change}");
    ///             }
    ///         }
    ///         Err(e) if e.is_retryable() => eprintln!("{e}; resubscribing"),
    ///         Err(e) => return Err(e),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn subscribe(&self) -> MasterEvents {
        let shared = &self.shared;
        let connection = Connection {
            client: self.clone(),
            backoff: Backoff::new(shared.backoff_initial, shared.backoff_max)
                .stable_after(shared.default_heartbeat),
            heartbeat_timeout: shared
                .default_heartbeat
                .saturating_mul(shared.heartbeat_multiplier),
            since: None,
            leader: None,
            state: State::Connecting {
                delay: Duration::ZERO,
            },
        };
        let inner = futures::stream::unfold(connection, |mut connection| async move {
            let item = connection.next_item().await?;
            Some((item, connection))
        })
        .boxed();
        MasterEvents { inner }
    }
}

/// The event stream of [`MasterClient::subscribe`]. Dropping it closes the
/// connection.
pub struct MasterEvents {
    inner: BoxStream<'static, Result<Event, Error>>,
}

impl fmt::Debug for MasterEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterEvents").finish_non_exhaustive()
    }
}

impl Stream for MasterEvents {
    type Item = Result<Event, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}

enum State {
    /// Not subscribed; the next SUBSCRIBE goes out after `delay`.
    Connecting { delay: Duration },
    /// Reading the events of an open subscription.
    Streaming { events: EventStream<Event> },
    /// Ended for good.
    Done,
}

struct Connection {
    client: MasterClient,
    backoff: Backoff,
    heartbeat_timeout: Duration,
    /// When the current subscription opened.
    since: Option<Instant>,
    /// With ZooKeeper: the leader the subscription went to.
    leader: Option<LeaderWatch>,
    state: State,
}

const SUBSCRIBE: &str = "SUBSCRIBE";

impl Connection {
    async fn next_item(&mut self) -> Option<Result<Event, Error>> {
        loop {
            match &mut self.state {
                State::Done => return None,
                State::Connecting { delay } => {
                    let delay = *delay;
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    match self.connect().await {
                        Ok(events) => {
                            self.since = Some(Instant::now());
                            self.state = State::Streaming { events };
                        }
                        Err(error) if error.is_retryable() => {
                            tracing::warn!(error = %mesos_http::error_chain(&error), "operator SUBSCRIBE failed; will retry");
                            self.state = State::Connecting {
                                delay: self.backoff.next_delay(),
                            };
                            return Some(Err(error));
                        }
                        Err(error) => {
                            self.state = State::Done;
                            return Some(Err(error));
                        }
                    }
                }
                State::Streaming { events } => {
                    let watch = async {
                        match &mut self.leader {
                            Some(leader) => leader.moved().await,
                            None => std::future::pending().await,
                        }
                    };
                    let next = tokio::select! {
                        next = tokio::time::timeout(self.heartbeat_timeout, events.next()) => next,
                        reason = watch => return Some(Err(self.lose(reason, false))),
                    };
                    match next {
                        Err(_) => {
                            let reason = format!(
                                "no event from the master for {:?}",
                                self.heartbeat_timeout
                            );
                            return Some(Err(self.lose(reason, true)));
                        }
                        Ok(None) => {
                            let reason = "the master closed the stream".into();
                            return Some(Err(self.lose(reason, true)));
                        }
                        Ok(Some(Err(e @ mesos_http::Error::Decode { .. }))) => {
                            tracing::warn!(error = %mesos_http::error_chain(&e), "skipping an undecodable event");
                        }
                        Ok(Some(Err(e))) => {
                            return Some(Err(self.lose(mesos_http::error_chain(&e), true)));
                        }
                        Ok(Some(Ok(event))) => {
                            self.on_event(&event);
                            return Some(Ok(event));
                        }
                    }
                }
            }
        }
    }

    async fn connect(&mut self) -> Result<EventStream<Event>, Error> {
        let subscribe = Call {
            r#type: Some(call::Type::Subscribe as i32),
            ..Default::default()
        };
        let client = &self.client;
        let shared = &client.shared;
        let (url, subscription) = client
            .endpoints
            .exchange(shared, SUBSCRIBE, |url| {
                let (http, subscribe) = (&shared.http, &subscribe);
                async move { http.subscribe::<Call, Event>(&url, subscribe).await }
            })
            .await?;
        tracing::info!(master = %mesos_http::RedactedUrl(&url), "operator subscription open");
        self.leader = client.endpoints.leader_watch();
        Ok(subscription.events)
    }

    fn on_event(&mut self, event: &Event) {
        if event.r#type() != event::Type::Subscribed {
            return;
        }
        let interval = event
            .subscribed
            .as_ref()
            .and_then(|s| s.heartbeat_interval_seconds)
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .filter(|d| !d.is_zero());
        if let Some(interval) = interval {
            self.heartbeat_timeout =
                interval.saturating_mul(self.client.shared.heartbeat_multiplier);
            self.backoff.set_stable_after(interval);
        }
    }

    /// The subscription is gone: subscribe again, after a backoff delay
    /// if `back_off` (not when ZooKeeper named a new leader: that one is
    /// tried at once).
    fn lose(&mut self, reason: String, back_off: bool) -> Error {
        tracing::warn!(%reason, "operator subscription lost");
        if let Some(since) = self.since.take() {
            self.backoff.session_ended(since.elapsed());
        }
        self.leader = None;
        let delay = if back_off {
            self.backoff.next_delay()
        } else {
            Duration::ZERO
        };
        self.state = State::Connecting { delay };
        Error::Disconnected { reason }
    }
}
