//! The subscription as a `Stream`: connect, subscribe, read events, watch
//! heartbeats, and reconnect with backoff, as an explicit state machine.

use std::fmt;
use std::pin::Pin;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

use futures::stream::{BoxStream, Stream, StreamExt};
use http::Uri;
use mesos_http::Backoff;
use mesos_proto::v1::scheduler::{Call, Event};
use mesos_proto::v1::FrameworkInfo;
use tracing::Instrument;

use crate::client::{Session, Shared};
use crate::masters::Masters;
use crate::{calls, telemetry, Error, SchedulerClient, SchedulerConfig, SchedulerEvent};

/// How long a connection with a `zk://` master waits before asking the
/// detected leader again after it answered `307` (it learns that it leads
/// a moment after ZooKeeper tells the framework).
const DETECTED_LEADER_RETRY: Duration = Duration::from_millis(100);

/// Opens a scheduler subscription: the lower-level alternative to the
/// [`SchedulerDriver`](crate::SchedulerDriver).
///
/// Returns a [`SchedulerClient`] for making calls and the [`Subscription`]
/// stream of events. Nothing happens until the stream is polled: it
/// connects, SUBSCRIBEs (following redirects to the leading master, trying
/// each configured master in turn), yields events, and when the connection
/// is lost (stream closed or broken, or no event for `heartbeat_multiplier`
/// heartbeat intervals) yields [`SchedulerEvent::Disconnected`], backs off
/// (jittered, exponential) and resubscribes with the framework id, so tasks
/// survive within the framework's failover timeout. With a `zk://` master
/// (feature `zookeeper`) it subscribes to the leader ZooKeeper names, ends
/// the subscription as soon as another master leads (yielding
/// `Disconnected`, then resubscribing to it), and waits while none does;
/// there it follows no `307`: a detected leader that redirects has not
/// learnt yet that it leads, and is asked again after 100 ms, as many
/// times as redirects are followed in a row otherwise, then after the
/// backoff.
///
/// The stream ends after an [`SchedulerEvent::Error`] from the master, or
/// with an `Err` when the master refuses the subscription for good (`400`,
/// `401`, `403`). The stream API never acknowledges status updates: call
/// [`SchedulerClient::acknowledge`].
///
/// ```no_run
/// use futures::StreamExt;
/// use mesos_proto::v1::FrameworkInfo;
/// use mesos_scheduler::{subscribe, SchedulerConfig, SchedulerEvent};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let framework = FrameworkInfo::builder("root", "stream-example").build()?;
/// let (client, mut events) = subscribe(SchedulerConfig::new(["http://127.0.0.1:5050"], framework)?)?;
/// while let Some(event) = events.next().await {
///     match event? {
///         SchedulerEvent::Offers(offers) => {
///             let ids = offers.iter().map(|o| o.id.clone()).collect();
///             client.decline(ids, None).await?;
///         }
///         SchedulerEvent::Update(status) => client.acknowledge(&status).await?,
///         _ => {}
///     }
/// }
/// # Ok(()) }
/// ```
pub fn subscribe(config: SchedulerConfig) -> Result<(SchedulerClient, Subscription), Error> {
    let mut builder = mesos_http::Client::builder()
        .media_type(config.media)
        .request_timeout(config.request_timeout)
        .max_record_len(config.max_record_len)
        .pipelining(config.pipeline_depth);
    if let Some(credentials) = &config.credentials {
        builder = builder.credentials(credentials.clone());
    }
    #[cfg(feature = "tls")]
    if let Some(tls) = &config.tls {
        builder = builder.tls(tls.clone());
    }
    let http = builder
        .build()
        .map_err(|e| Error::Config(mesos_http::error_chain(&e)))?;
    let shared = Arc::new(Shared {
        http,
        session: RwLock::new(None),
        torn_down: AtomicBool::new(false),
        pending_acks: Default::default(),
        held_offers: Default::default(),
        span: RwLock::new(tracing::Span::none()),
    });
    let connection = Connection::new(config, shared.clone(), tracing::Span::current());
    let stream = futures::stream::unfold(connection, |mut connection| async move {
        // In the current subscription's span; a new SUBSCRIBE opens its own.
        let span = connection.shared.span();
        let item = connection.next_event().instrument(span).await?;
        Some((item, connection))
    })
    .boxed();
    Ok((SchedulerClient { shared }, Subscription { inner: stream }))
}

/// The event stream of [`subscribe`]. Dropping it closes the connection (the
/// framework stays registered until its failover timeout).
pub struct Subscription {
    inner: BoxStream<'static, Result<SchedulerEvent, Error>>,
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription").finish_non_exhaustive()
    }
}

impl Stream for Subscription {
    type Item = Result<SchedulerEvent, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}

/// Where the connection is.
enum State {
    /// Not subscribed; the next SUBSCRIBE goes out after `delay`.
    /// `redirects` counts the redirects followed in a row.
    Connecting { delay: Duration, redirects: u32 },
    /// A SUBSCRIBE was answered; reading its events. `since` is set at the
    /// SUBSCRIBED event (calls are possible from then on).
    Streaming {
        events: mesos_http::EventStream<Event>,
        stream_id: String,
        since: Option<Instant>,
    },
    /// The subscription ended for good.
    Done,
}

struct Connection {
    framework: FrameworkInfo,
    masters: Masters,
    url: Uri,
    shared: Arc<Shared>,
    backoff: Backoff,
    max_redirects: u32,
    heartbeat_multiplier: u32,
    heartbeat_timeout: Duration,
    subscribed_before: bool,
    /// The connection was lost: the next SUBSCRIBE is a reconnection.
    reconnecting: bool,
    /// The span current where [`subscribe`] was called: the parent of each
    /// subscription's span.
    parent: tracing::Span,
    state: State,
}

impl Connection {
    fn new(config: SchedulerConfig, shared: Arc<Shared>, parent: tracing::Span) -> Self {
        let masters = config.masters();
        Connection {
            framework: config.framework,
            url: masters.first(),
            masters,
            shared,
            backoff: Backoff::new(config.backoff_initial, config.backoff_max)
                .stable_after(config.default_heartbeat),
            max_redirects: config.max_redirects,
            heartbeat_multiplier: config.heartbeat_multiplier,
            heartbeat_timeout: config
                .default_heartbeat
                .saturating_mul(config.heartbeat_multiplier),
            subscribed_before: false,
            reconnecting: false,
            parent,
            state: State::Connecting {
                delay: Duration::ZERO,
                redirects: 0,
            },
        }
    }

    /// Runs the state machine until it has something to yield.
    async fn next_event(&mut self) -> Option<Result<SchedulerEvent, Error>> {
        loop {
            match &mut self.state {
                State::Done => return None,
                State::Connecting { delay, redirects } => {
                    let (delay, redirects) = (*delay, *redirects);
                    if !delay.is_zero() {
                        // With ZooKeeper, a new leader cuts the backoff short.
                        tokio::select! {
                            _ = tokio::time::sleep(delay) => {}
                            _ = self.masters.leader_lost() => {}
                        }
                    }
                    if redirects == 0 || !self.masters.follows_redirects() {
                        // With ZooKeeper: wait for a leader and go to it.
                        match self.masters.leader().await {
                            Ok(Some(leader)) => self.url = leader,
                            Ok(None) => {}
                            Err(e) => {
                                self.state = State::Done;
                                return Some(Err(e));
                            }
                        }
                    }
                    let span = self.shared.new_span(
                        &self.parent,
                        self.framework.id.as_ref().map(|id| &*id.value),
                        &self.url,
                    );
                    if let Err(e) = self.connect(redirects).instrument(span).await {
                        self.state = State::Done;
                        return Some(Err(e));
                    }
                }
                State::Streaming {
                    events,
                    stream_id,
                    since,
                } => {
                    let next = tokio::select! {
                        next = tokio::time::timeout(self.heartbeat_timeout, events.next()) => next,
                        reason = self.masters.leader_lost() => {
                            let subscribed_at = *since;
                            if let Some(lost) = self.lose(reason, subscribed_at, false) {
                                return Some(Ok(lost));
                            }
                            continue;
                        }
                    };
                    let (stream_id, subscribed_at) = (stream_id.clone(), *since);
                    match next {
                        Err(_) => {
                            telemetry::heartbeat_missed();
                            let reason = format!(
                                "no event from the master for {:?} ({} heartbeat intervals)",
                                self.heartbeat_timeout, self.heartbeat_multiplier
                            );
                            if let Some(lost) = self.lose(reason, subscribed_at, true) {
                                return Some(Ok(lost));
                            }
                        }
                        Ok(None) => {
                            let reason = "the master closed the event stream".to_string();
                            if let Some(lost) = self.lose(reason, subscribed_at, true) {
                                return Some(Ok(lost));
                            }
                        }
                        Ok(Some(Err(e @ mesos_http::Error::Decode { .. }))) => {
                            tracing::warn!(error = %e, "skipping an undecodable event");
                        }
                        Ok(Some(Err(e))) => {
                            let reason = mesos_http::error_chain(&e);
                            if let Some(lost) = self.lose(reason, subscribed_at, true) {
                                return Some(Ok(lost));
                            }
                        }
                        Ok(Some(Ok(event))) => {
                            if let Some(item) = self.on_event(event, stream_id) {
                                if let Ok(SchedulerEvent::Subscribed { .. }) = &item {
                                    let client = SchedulerClient {
                                        shared: self.shared.clone(),
                                    };
                                    client.resend_pending_acks().await;
                                }
                                return Some(item);
                            }
                        }
                    }
                }
            }
        }
    }

    /// One SUBSCRIBE attempt; sets the next state. `Err` only when the master
    /// refused the framework for good.
    async fn connect(&mut self, redirects: u32) -> Result<(), Error> {
        let call: Call = calls::subscribe(self.framework.clone());
        let (shared, url) = (self.shared.clone(), self.url.clone());
        let span = shared.span();
        tracing::debug!("subscribing");
        telemetry::subscribe_attempt();
        if std::mem::take(&mut self.reconnecting) {
            telemetry::reconnect();
        }
        let timing = telemetry::call(&span, "SUBSCRIBE");
        let request = shared
            .http
            .subscribe::<Call, Event>(&url, &call)
            .instrument(timing.span().clone());
        // With ZooKeeper, a new leader ends a SUBSCRIBE still waiting on the
        // old one (which may never answer) at once.
        let answer = tokio::select! {
            answer = request => answer,
            reason = self.masters.leader_lost() => {
                timing.finish("abandoned");
                tracing::info!(%reason, "abandoning SUBSCRIBE");
                self.state = State::Connecting {
                    delay: Duration::ZERO,
                    redirects: 0,
                };
                return Ok(());
            }
        };
        timing.finish_with(&answer);
        match answer {
            Ok(sub) => {
                let Some(stream_id) = sub.stream_id else {
                    tracing::warn!("SUBSCRIBE answered without Mesos-Stream-Id");
                    self.retry_later(true);
                    return Ok(());
                };
                span.record("stream_id", stream_id.as_str());
                self.state = State::Streaming {
                    events: sub.events,
                    stream_id,
                    since: None,
                };
                Ok(())
            }
            Err(e) if e.redirect_location().is_some() && !self.masters.follows_redirects() => {
                // Like a followed redirect, a few quick retries, then the
                // backoff; the leader is looked up again each time.
                tracing::info!(
                    "the detected leader redirects elsewhere (it may not know yet that it leads); \
                     asking it again"
                );
                if redirects < self.max_redirects {
                    self.state = State::Connecting {
                        delay: DETECTED_LEADER_RETRY,
                        redirects: redirects + 1,
                    };
                } else {
                    self.retry_later(false);
                }
                Ok(())
            }
            Err(e) if e.redirect_location().is_some() => {
                let location = e.redirect_location().unwrap_or_default();
                match mesos_http::resolve_location(&self.url, location) {
                    Ok(leader) => {
                        tracing::info!(from = %mesos_http::RedactedUrl(&self.url), to = %mesos_http::RedactedUrl(&leader), "following the leading master");
                        self.url = leader;
                        if redirects < self.max_redirects {
                            self.state = State::Connecting {
                                delay: Duration::ZERO,
                                redirects: redirects + 1,
                            };
                        } else {
                            self.retry_later(false);
                        }
                    }
                    Err(bad) => {
                        tracing::warn!(error = %bad, "unusable redirect");
                        self.retry_later(true);
                    }
                }
                Ok(())
            }
            Err(e) if e.is_retryable() => {
                tracing::warn!(error = %mesos_http::error_chain(&e), "subscribe failed; will retry");
                self.retry_later(true);
                Ok(())
            }
            Err(e) => Err(Error::Subscribe(e)),
        }
    }

    /// Backs off; with `next_master`, moves on to the next configured master
    /// (with ZooKeeper, the leader is looked up again anyway).
    fn retry_later(&mut self, next_master: bool) {
        if next_master {
            if let Some(next) = self.masters.rotate() {
                self.url = next;
            }
        }
        self.state = State::Connecting {
            delay: self.backoff.next_delay(),
            redirects: 0,
        };
    }

    /// The stream is gone: forget the session and reconnect, after a
    /// backoff delay if `back_off` (not when ZooKeeper named another
    /// leader: that one is tried at once). Yields `Disconnected` only if
    /// the framework was subscribed on it (`since` SUBSCRIBED arrived); the
    /// backoff starts over only if that session was healthy (see
    /// [`Backoff::session_ended`]).
    fn lose(
        &mut self,
        reason: String,
        since: Option<Instant>,
        back_off: bool,
    ) -> Option<SchedulerEvent> {
        self.shared.set_session(None);
        if self.shared.is_torn_down() {
            tracing::info!("framework torn down; subscription ended");
            self.state = State::Done;
            return None;
        }
        tracing::warn!(%reason, "connection to the master lost");
        self.reconnecting = true;
        if let Some(since) = since {
            self.backoff.session_ended(since.elapsed());
        }
        if back_off {
            self.retry_later(false);
        } else {
            self.state = State::Connecting {
                delay: Duration::ZERO,
                redirects: 0,
            };
        }
        since.map(|_| SchedulerEvent::Disconnected { reason })
    }

    fn on_event(
        &mut self,
        event: Event,
        stream_id: String,
    ) -> Option<Result<SchedulerEvent, Error>> {
        let kind = event.r#type();
        telemetry::event_received(kind.as_str_name());
        let Some(event) = SchedulerEvent::from_wire(event, self.subscribed_before) else {
            tracing::warn!(
                event = kind.as_str_name(),
                "ignoring an event without its payload"
            );
            return None;
        };
        match &event {
            SchedulerEvent::Subscribed {
                framework_id,
                heartbeat_interval,
                ..
            } => {
                if self.framework.id.is_none() {
                    // Known from now on: the next subscriptions' spans
                    // carry it from the start.
                    self.shared
                        .span()
                        .record("framework_id", framework_id.value.as_str());
                }
                self.framework.id = Some(framework_id.clone());
                if let Some(interval) = heartbeat_interval {
                    self.heartbeat_timeout = interval.saturating_mul(self.heartbeat_multiplier);
                    self.backoff.set_stable_after(*interval);
                }
                self.shared.set_session(Some(Session {
                    url: self.url.clone(),
                    stream_id,
                    framework_id: framework_id.clone(),
                }));
                self.subscribed_before = true;
                if let State::Streaming { since, .. } = &mut self.state {
                    *since = Some(Instant::now());
                }
                tracing::info!("subscribed");
            }
            SchedulerEvent::Offers(offers) => {
                self.shared
                    .held_offers
                    .received(offers.iter().map(|o| &o.id));
            }
            SchedulerEvent::Rescind(offer_id) => {
                self.shared.held_offers.released([offer_id]);
            }
            SchedulerEvent::Update(status) => {
                self.shared
                    .pending_acks
                    .update_arrived(&status.task_id, status.uuid.as_ref());
            }
            SchedulerEvent::Error(message) => {
                tracing::error!(%message, "the master reported an error; ending the subscription");
                self.shared.set_session(None);
                self.state = State::Done;
            }
            _ => {}
        }
        Some(Ok(event))
    }
}
