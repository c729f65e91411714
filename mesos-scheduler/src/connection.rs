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

use crate::client::{Session, Shared};
use crate::{calls, Error, SchedulerClient, SchedulerConfig, SchedulerEvent};

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
/// survive within the framework's failover timeout.
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
        .max_record_len(config.max_record_len);
    if let Some(credentials) = &config.credentials {
        builder = builder.credentials(credentials.clone());
    }
    let http = builder.build().map_err(|e| Error::Config(e.to_string()))?;
    let shared = Arc::new(Shared {
        http,
        session: RwLock::new(None),
        torn_down: AtomicBool::new(false),
        pending_acks: Default::default(),
    });
    let connection = Connection::new(config, shared.clone());
    let stream = futures::stream::unfold(connection, |mut connection| async move {
        let item = connection.next_event().await?;
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
    masters: Vec<Uri>,
    master_index: usize,
    url: Uri,
    shared: Arc<Shared>,
    backoff: Backoff,
    max_redirects: u32,
    heartbeat_multiplier: u32,
    heartbeat_timeout: Duration,
    subscribed_before: bool,
    state: State,
}

impl Connection {
    fn new(config: SchedulerConfig, shared: Arc<Shared>) -> Self {
        let url = config.masters[0].clone();
        Connection {
            framework: config.framework,
            url,
            masters: config.masters,
            master_index: 0,
            shared,
            backoff: Backoff::new(config.backoff_initial, config.backoff_max)
                .stable_after(config.default_heartbeat),
            max_redirects: config.max_redirects,
            heartbeat_multiplier: config.heartbeat_multiplier,
            heartbeat_timeout: config
                .default_heartbeat
                .saturating_mul(config.heartbeat_multiplier),
            subscribed_before: false,
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
                        tokio::time::sleep(delay).await;
                    }
                    if let Err(e) = self.connect(redirects).await {
                        self.state = State::Done;
                        return Some(Err(e));
                    }
                }
                State::Streaming {
                    events,
                    stream_id,
                    since,
                } => {
                    let next = tokio::time::timeout(self.heartbeat_timeout, events.next()).await;
                    let (stream_id, subscribed_at) = (stream_id.clone(), *since);
                    match next {
                        Err(_) => {
                            let reason = format!(
                                "no event from the master for {:?} ({} heartbeat intervals)",
                                self.heartbeat_timeout, self.heartbeat_multiplier
                            );
                            if let Some(lost) = self.lose(reason, subscribed_at) {
                                return Some(Ok(lost));
                            }
                        }
                        Ok(None) => {
                            let reason = "the master closed the event stream".to_string();
                            if let Some(lost) = self.lose(reason, subscribed_at) {
                                return Some(Ok(lost));
                            }
                        }
                        Ok(Some(Err(e @ mesos_http::Error::Decode { .. }))) => {
                            tracing::warn!(error = %e, "skipping an undecodable event");
                        }
                        Ok(Some(Err(e))) => {
                            let reason = mesos_http::error_chain(&e);
                            if let Some(lost) = self.lose(reason, subscribed_at) {
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
        tracing::debug!(master = %mesos_http::RedactedUrl(&self.url), framework_id = ?self.framework.id, "subscribing");
        match self
            .shared
            .http
            .subscribe::<Call, Event>(&self.url, &call)
            .await
        {
            Ok(sub) => {
                let Some(stream_id) = sub.stream_id else {
                    tracing::warn!(master = %mesos_http::RedactedUrl(&self.url), "SUBSCRIBE answered without Mesos-Stream-Id");
                    self.retry_later(true);
                    return Ok(());
                };
                self.state = State::Streaming {
                    events: sub.events,
                    stream_id,
                    since: None,
                };
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
                tracing::warn!(master = %mesos_http::RedactedUrl(&self.url), error = %mesos_http::error_chain(&e), "subscribe failed; will retry");
                self.retry_later(true);
                Ok(())
            }
            Err(e) => Err(Error::Subscribe(e)),
        }
    }

    /// Backs off; with `next_master`, moves on to the next configured master.
    fn retry_later(&mut self, next_master: bool) {
        if next_master {
            self.master_index = (self.master_index + 1) % self.masters.len();
            self.url = self.masters[self.master_index].clone();
        }
        self.state = State::Connecting {
            delay: self.backoff.next_delay(),
            redirects: 0,
        };
    }

    /// The stream is gone: forget the session and reconnect. Yields
    /// `Disconnected` only if the framework was subscribed on it (`since`
    /// SUBSCRIBED arrived); the backoff starts over only if that session
    /// was healthy (see [`Backoff::session_ended`]).
    fn lose(&mut self, reason: String, since: Option<Instant>) -> Option<SchedulerEvent> {
        self.shared.set_session(None);
        if self.shared.is_torn_down() {
            tracing::info!(master = %mesos_http::RedactedUrl(&self.url), "framework torn down; subscription ended");
            self.state = State::Done;
            return None;
        }
        tracing::warn!(master = %mesos_http::RedactedUrl(&self.url), %reason, "connection to the master lost");
        if let Some(since) = since {
            self.backoff.session_ended(since.elapsed());
        }
        self.retry_later(false);
        since.map(|_| SchedulerEvent::Disconnected { reason })
    }

    fn on_event(
        &mut self,
        event: Event,
        stream_id: String,
    ) -> Option<Result<SchedulerEvent, Error>> {
        let kind = event.r#type();
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
                tracing::info!(framework_id = %framework_id.value, master = %mesos_http::RedactedUrl(&self.url), "subscribed");
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
