//! A minimal v1 scheduler made of raw calls, for the suites that run our
//! executors under a real Mesos agent: no driver, no retries, every failure
//! a panic, so that what the master and agent do is all that is tested.

use futures::StreamExt;
use http::Uri;
use mesos_http::{parse_url, Client, EventStream, MediaType};
use mesos_proto::v1::scheduler::{call, event, Call, Event};
use mesos_proto::v1::{
    framework_info, offer, resource, value, Filters, FrameworkId, FrameworkInfo, Offer, Resource,
    TaskInfo, TaskStatus,
};

/// One framework subscribed (JSON) to a master's `/api/v1/scheduler`.
///
/// # Panics
/// Every method panics when the master refuses a call or the connection
/// fails: the calling test cannot go on.
#[derive(Debug)]
pub struct RawScheduler {
    client: Client,
    url: Uri,
    stream_id: String,
    events: EventStream<Event>,
    framework_id: Option<FrameworkId>,
}

impl RawScheduler {
    /// SUBSCRIBEs to `master` (`http://host:port`) as the framework `name`
    /// of `user`, in role `*` with the MULTI_ROLE capability.
    pub async fn subscribe(master: &str, user: &str, name: &str) -> RawScheduler {
        let client = Client::builder()
            .media_type(MediaType::Json)
            .build()
            .unwrap();
        let url = parse_url(&format!(
            "{}/api/v1/scheduler",
            master.trim_end_matches('/')
        ))
        .unwrap();
        let subscribe = Call {
            r#type: Some(call::Type::Subscribe as i32),
            subscribe: Some(call::Subscribe {
                framework_info: FrameworkInfo {
                    user: user.into(),
                    name: name.into(),
                    roles: vec!["*".into()],
                    capabilities: vec![framework_info::Capability {
                        r#type: Some(framework_info::capability::Type::MultiRole as i32),
                    }],
                    ..Default::default()
                },
                ..Default::default()
            }),
            ..Default::default()
        };
        let subscription = client
            .subscribe::<_, Event>(&url, &subscribe)
            .await
            .unwrap();
        RawScheduler {
            client,
            url,
            stream_id: subscription.stream_id.expect("Mesos-Stream-Id"),
            events: subscription.events,
            framework_id: None,
        }
    }

    /// The next event (the framework ID of SUBSCRIBED is kept), or `None`
    /// when the master closes the stream.
    pub async fn next_event(&mut self) -> Option<Event> {
        let event = self.events.next().await?.expect("scheduler event");
        if event.r#type() == event::Type::Subscribed {
            self.framework_id = event.subscribed.as_ref().map(|s| s.framework_id.clone());
        }
        Some(event)
    }

    /// The framework ID, once SUBSCRIBED has been read.
    pub fn framework_id(&self) -> Option<&FrameworkId> {
        self.framework_id.as_ref()
    }

    /// A call of type `kind` from this framework, to fill in and [`send`](Self::send).
    ///
    /// # Panics
    /// Before SUBSCRIBED has been read.
    pub fn call(&self, kind: call::Type) -> Call {
        Call {
            framework_id: Some(self.framework_id.clone().expect("SUBSCRIBED first")),
            r#type: Some(kind as i32),
            ..Default::default()
        }
    }

    /// Sends `call` on the subscription.
    pub async fn send(&self, call: &Call) {
        self.client
            .call(&self.url, call, Some(&self.stream_id))
            .await
            .unwrap();
    }

    /// ACCEPTs `offer` with one LAUNCH of `tasks` (refusing the rest of the
    /// offer for a second only).
    pub async fn launch(&self, offer: &Offer, tasks: Vec<TaskInfo>) {
        let mut accept = self.call(call::Type::Accept);
        accept.accept = Some(call::Accept {
            offer_ids: vec![offer.id.clone()],
            operations: vec![offer::Operation {
                r#type: Some(offer::operation::Type::Launch as i32),
                launch: Some(offer::operation::Launch { task_infos: tasks }),
                ..Default::default()
            }],
            filters: Some(Filters {
                refuse_seconds: Some(1.0),
            }),
        });
        self.send(&accept).await;
    }

    /// ACKNOWLEDGEs `status` when it asks for it (carries a UUID).
    pub async fn acknowledge(&self, status: &TaskStatus) {
        let Some(uuid) = status.uuid.clone() else {
            return;
        };
        let mut ack = self.call(call::Type::Acknowledge);
        ack.acknowledge = Some(call::Acknowledge {
            agent_id: status.agent_id.clone().expect("agent id"),
            task_id: status.task_id.clone(),
            uuid,
        });
        self.send(&ack).await;
    }

    /// TEARDOWN of the framework, if it subscribed; errors are ignored (the
    /// test's own outcome matters more).
    pub async fn teardown(&self) {
        if self.framework_id.is_some() {
            let teardown = self.call(call::Type::Teardown);
            let _ = self
                .client
                .call(&self.url, &teardown, Some(&self.stream_id))
                .await;
        }
    }
}

/// An unreserved scalar resource `name` of `value`, allocated to role `*`
/// (as a MULTI_ROLE framework must say).
pub fn scalar(name: &str, value: f64) -> Resource {
    Resource {
        name: name.into(),
        r#type: value::Type::Scalar as i32,
        scalar: Some(value::Scalar { value }),
        allocation_info: Some(resource::AllocationInfo {
            role: Some("*".into()),
        }),
        ..Default::default()
    }
}
