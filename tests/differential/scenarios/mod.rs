//! The scenarios, and what they share: [`Ctx`] (the target, the media type,
//! subscribing a framework and sending its calls).

use std::time::Duration;

use mesos_proto::MediaType;
use serde_json::{json, Value};

use crate::http::{Request, Response, Target};

mod agent_operator;
mod calls;
mod executor;
mod negotiation;
mod operator;
mod pipelining;
mod subscribe;
mod task_group;
mod tasks;

/// How long an expected event may take (the master allocates about once a
/// second).
pub(crate) const EVENT_WAIT: Duration = Duration::from_secs(10);

/// What a scenario runs with.
pub(crate) struct Ctx {
    pub(crate) target: Target,
    /// The media type of the scenario's calls (JSON for JSON-only ones).
    pub(crate) media: MediaType,
    /// The scenario's name (framework names, task ids).
    pub(crate) name: String,
}

/// A subscribed framework: its stream and ids.
pub(crate) struct Framework {
    pub(crate) subscription: Response,
    pub(crate) framework_id: String,
    pub(crate) stream_id: String,
}

impl Framework {
    /// The event stream.
    pub(crate) fn events(&mut self) -> &mut crate::http::EventStream {
        self.subscription
            .events
            .as_mut()
            .expect("a subscription has events")
    }
}

impl Ctx {
    pub(crate) fn new(base: &str, media: MediaType, name: &str) -> Ctx {
        Ctx {
            target: Target::new(base),
            media,
            name: name.to_string(),
        }
    }

    /// Sends a request.
    pub(crate) async fn send(&self, request: Request) -> Response {
        self.target.send(request).await
    }

    /// Sends `call` (JSON) in the scenario's media type.
    pub(crate) async fn call(&self, call: Value) -> Response {
        self.send(Request::call(self.media, call)).await
    }

    /// `GET /master/state`, as JSON; panics unless the master answers it.
    pub(crate) async fn master_state(&self) -> Value {
        let state = self
            .send(Request {
                method: http::Method::GET,
                path: "/master/state".into(),
                headers: vec![],
                body: Default::default(),
            })
            .await;
        assert_eq!(state.status, 200, "/master/state: {}", state.text());
        serde_json::from_slice(&state.body).expect("state is JSON")
    }

    /// A FrameworkInfo for this scenario with `extra` fields merged in.
    pub(crate) fn framework_info(&self, extra: Value) -> Value {
        let mut info = json!({
            "user": "root",
            "name": format!("differential-{}", self.name),
        });
        merge(&mut info, extra);
        info
    }

    /// A SUBSCRIBE call for `framework_info`.
    pub(crate) fn subscribe_call(&self, framework_info: Value) -> Value {
        json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": framework_info}})
    }

    /// Subscribes a framework (FrameworkInfo with `extra` merged in) and
    /// waits for SUBSCRIBED.
    pub(crate) async fn subscribe(&self, extra: Value) -> Framework {
        let call = self.subscribe_call(self.framework_info(extra));
        let mut subscription = self.call(call).await;
        assert_eq!(
            subscription.status,
            200,
            "SUBSCRIBE: {}",
            subscription.text()
        );
        let stream_id = subscription
            .header("mesos-stream-id")
            .expect("Mesos-Stream-Id");
        let events = subscription.events.as_mut().expect("events");
        let subscribed = events
            .wait_for("SUBSCRIBED", EVENT_WAIT)
            .await
            .expect("SUBSCRIBED");
        let framework_id = subscribed["subscribed"]["framework_id"]["value"]
            .as_str()
            .expect("framework id")
            .to_string();
        Framework {
            subscription,
            framework_id,
            stream_id,
        }
    }

    /// Sends a call of `kind` for `framework` (its id and stream id), with
    /// `fields` merged into the call.
    pub(crate) async fn framework_call(
        &self,
        framework: &Framework,
        kind: &str,
        fields: Value,
    ) -> Response {
        let mut call = json!({"type": kind, "framework_id": {"value": framework.framework_id}});
        merge(&mut call, fields);
        self.send(
            Request::call(self.media, call).header("Mesos-Stream-Id", Some(&framework.stream_id)),
        )
        .await
    }

    /// Acknowledges the update `status` (a TaskStatus in JSON) if it has a
    /// uuid; panics unless the master accepts it.
    pub(crate) async fn acknowledge(&self, framework: &Framework, status: &Value) {
        let Some(uuid) = status["uuid"].as_str() else {
            return;
        };
        let ack = json!({"acknowledge": {
            "agent_id": status["agent_id"],
            "task_id": status["task_id"],
            "uuid": uuid,
        }});
        let answer = self.framework_call(framework, "ACKNOWLEDGE", ack).await;
        assert_eq!(answer.status, 202, "ACKNOWLEDGE: {}", answer.text());
    }

    /// TEARDOWN; panics unless the master accepts it.
    pub(crate) async fn teardown(&self, framework: &Framework) {
        let response = self.framework_call(framework, "TEARDOWN", json!({})).await;
        assert!(
            response.status == 202 || response.status == 200,
            "TEARDOWN: {} {}",
            response.status,
            response.text()
        );
    }
}

/// Merges the fields of `extra` (an object) into `base` (an object),
/// recursively for objects.
pub(crate) fn merge(base: &mut Value, extra: Value) {
    let (Value::Object(base), Value::Object(extra)) = (base, extra) else {
        return;
    };
    for (key, value) in extra {
        match (base.get_mut(&key), value) {
            (Some(existing @ Value::Object(_)), value @ Value::Object(_)) => merge(existing, value),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}
