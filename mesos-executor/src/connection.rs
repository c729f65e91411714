//! One subscription attempt: SUBSCRIBE, then check that the first event is
//! the agent's executor SUBSCRIBED.

use futures::StreamExt;
use http::StatusCode;
use mesos_http::{Client, EventStream};
use mesos_proto::v1::executor::{call, event, Call, Event};

use tracing::Instrument;

use crate::{telemetry, Error, ExecutorConfig};

/// Why an attempt failed: worth retrying (agent restarting, routes not up
/// yet), or not (wrong endpoint, refused credentials, bad request).
#[derive(Debug)]
pub(crate) enum AttemptError {
    Retry(Error),
    Fatal(Error),
    /// The agent answered SUBSCRIBE with SHUTDOWN instead of SUBSCRIBED (as
    /// a real agent does when the executor's only task was killed before
    /// it subscribed): the executor is to shut down.
    Shutdown,
}

/// An open subscription whose SUBSCRIBED has been read.
pub(crate) struct Subscribed {
    pub(crate) info: event::Subscribed,
    pub(crate) events: EventStream<Event>,
}

/// A call of this executor (ids filled in).
pub(crate) fn call(config: &ExecutorConfig, kind: call::Type) -> Call {
    Call {
        executor_id: config.executor_id().clone(),
        framework_id: config.framework_id().clone(),
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

/// SUBSCRIBE with `payload` and wait (at most the request timeout) for the
/// first event, which must be a well-formed executor SUBSCRIBED for us.
pub(crate) async fn subscribe(
    client: &Client,
    config: &ExecutorConfig,
    payload: call::Subscribe,
) -> Result<Subscribed, AttemptError> {
    let url = config.agent_url();
    let endpoint = mesos_http::redact_url(url);
    let mut subscribe = call(config, call::Type::Subscribe);
    subscribe.subscribe = Some(payload);
    telemetry::subscribe_attempt();
    let timing = telemetry::call(&tracing::Span::current(), "SUBSCRIBE");
    let answer = client
        .subscribe::<Call, Event>(url, &subscribe)
        .instrument(timing.span().clone())
        .await;
    timing.finish_with(&answer);
    let subscription = answer.map_err(|e| {
        // 404: the agent's HTTP routes are not set up yet; 503: the
        // agent is still recovering. Mesos's library retries both.
        let retry = e.is_retryable()
            || matches!(
                e.status(),
                Some(StatusCode::NOT_FOUND | StatusCode::SERVICE_UNAVAILABLE)
            );
        if retry {
            AttemptError::Retry(Error::Subscribe(e))
        } else {
            AttemptError::Fatal(Error::Subscribe(e))
        }
    })?;
    let mut events = subscription.events;
    let first = tokio::time::timeout(config.request_timeout(), events.next()).await;
    let wrong = |reason: String| {
        AttemptError::Fatal(Error::WrongStream {
            endpoint: endpoint.clone(),
            reason,
        })
    };
    let event = match first {
        Err(_) => {
            return Err(wrong(format!(
                "no event within {:?} of the SUBSCRIBE response",
                config.request_timeout()
            )))
        }
        Ok(None) => {
            // The agent accepted and closed at once (e.g. it is restarting).
            return Err(AttemptError::Retry(Error::ClosedBeforeSubscribed {
                endpoint,
            }));
        }
        Ok(Some(Err(e @ mesos_http::Error::Decode { .. }))) => {
            return Err(wrong(format!(
                "the first event is not an executor event ({})",
                mesos_http::error_chain(&e)
            )))
        }
        Ok(Some(Err(e))) => return Err(AttemptError::Retry(Error::Subscribe(e))),
        Ok(Some(Ok(event))) => event,
    };
    if event.r#type == Some(event::Type::Shutdown as i32) {
        return Err(AttemptError::Shutdown);
    }
    let info = check_subscribed(config, event).map_err(wrong)?;
    telemetry::event_received("SUBSCRIBED");
    Ok(Subscribed { info, events })
}

/// The first event must be SUBSCRIBED carrying executor, framework and
/// agent info for this executor: an operator-API SUBSCRIBED (same type
/// name, other payload) decodes with all of them empty.
fn check_subscribed(config: &ExecutorConfig, event: Event) -> Result<event::Subscribed, String> {
    if event.r#type != Some(event::Type::Subscribed as i32) {
        return Err(format!(
            "the first event is {:?}, expected SUBSCRIBED",
            event::Type::try_from(event.r#type.unwrap_or_default())
                .map(|t| t.as_str_name())
                .unwrap_or("an unknown type")
        ));
    }
    let Some(subscribed) = event.subscribed else {
        return Err("SUBSCRIBED without its payload".into());
    };
    let mut missing = Vec::new();
    if subscribed.executor_info.executor_id.value.is_empty() {
        missing.push("executor_info.executor_id");
    }
    if subscribed.framework_info.user.is_empty() && subscribed.framework_info.name.is_empty() {
        missing.push("framework_info");
    }
    if subscribed.agent_info.hostname.is_empty() {
        missing.push("agent_info.hostname");
    }
    if !missing.is_empty() {
        return Err(format!(
            "SUBSCRIBED lacks {} (an operator API stream?)",
            missing.join(", ")
        ));
    }
    if subscribed.executor_info.executor_id != *config.executor_id() {
        return Err(format!(
            "SUBSCRIBED is for executor {:?}, we are {:?}",
            subscribed.executor_info.executor_id.value,
            config.executor_id().value
        ));
    }
    Ok(subscribed)
}
