//! What every scenario shares: the target (master URL + media type), the
//! global lock that serialises scenarios on the shared agent, and a
//! [`Framework`] wrapper around the stream API that waits for conditions with
//! deadlines, acknowledges status updates and keeps a log of them.

use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use mesos_proto::builders::{filters, CommandInfoBuilder, FrameworkInfoBuilder};
use mesos_proto::v1::{
    task_status, AgentId, FrameworkId, FrameworkInfo, Offer, TaskId, TaskInfo, TaskState,
    TaskStatus,
};
use mesos_proto::Resources;
use mesos_scheduler::{subscribe, MediaType, SchedulerClient, SchedulerConfig, SchedulerEvent};
use mesos_scheduler::{Error, Subscription};
use tokio::time::Instant;

/// Scenarios share one agent: run them one at a time (across the test
/// threads of this binary; a tokio mutex does not care which runtime waits).
static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Upper bound of one scenario.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(60);

/// How long offers we do not use are refused for.
pub const SHORT_REFUSE: Duration = Duration::from_secs(1);

/// Resources each task asks for (small, so leftovers of earlier scenarios
/// never starve the next one).
pub const TASK_CPUS: f64 = 0.1;
/// Memory of each task, in MB.
pub const TASK_MEM: f64 = 32.0;

/// Where a scenario runs: which master, in which media type.
#[derive(Debug, Clone)]
pub struct Target {
    /// The master URL (`http://host:port`).
    pub master: String,
    /// The media type of calls and events.
    pub media: MediaType,
    /// The scenario's name (for framework names and task ids).
    pub scenario: String,
}

impl Target {
    /// A framework name unique to this scenario and media type.
    pub fn framework_name(&self, suffix: &str) -> String {
        format!("conformance-{}-{:?}{suffix}", self.scenario, self.media)
    }

    /// A task id unique to this scenario and media type.
    pub fn task_id(&self, suffix: &str) -> TaskId {
        TaskId::from(format!("{}-{:?}-{suffix}", self.scenario, self.media))
    }

    /// A scheduler configuration for `framework` on this target.
    pub fn config(&self, framework: FrameworkInfo) -> SchedulerConfig {
        SchedulerConfig::new([self.master.as_str()], framework)
            .expect("scheduler config")
            .media_type(self.media)
            .backoff(Duration::from_millis(200), Duration::from_secs(2))
    }
}

/// Runs `scenario` against the interop master in `media`, holding the global
/// lock, within [`SCENARIO_TIMEOUT`]; skips without a master
/// (fails instead with `MESOS_RS_REQUIRE_ENV=1`).
pub async fn run<F, Fut>(scenario: &str, media: MediaType, body: F)
where
    F: FnOnce(Target) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(master) = mesos_tests::interop_master(&format!("conformance {scenario} {media:?}"))
    else {
        return;
    };
    init_tracing();
    let _serialised = LOCK.lock().await;
    let started = Instant::now();
    let target = Target {
        master,
        media,
        scenario: scenario.to_string(),
    };
    tokio::time::timeout(SCENARIO_TIMEOUT, body(target))
        .await
        .unwrap_or_else(|_| {
            panic!("{scenario} ({media:?}) did not finish within {SCENARIO_TIMEOUT:?}")
        });
    eprintln!(
        "conformance {scenario} {media:?}: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Runs `body` against a fresh in-process cluster (`mesos-local`, one agent
/// with the resources of real-mesos's default agent, real processes).
pub async fn run_local<F, Fut>(scenario: &str, media: MediaType, body: F)
where
    F: FnOnce(Target) -> Fut,
    Fut: Future<Output = ()>,
{
    init_tracing();
    let cluster = mesos_local::LocalCluster::builder()
        .start()
        .await
        .unwrap_or_else(|e| panic!("mesos-local starts: {}", mesos_http::error_chain(&e)));
    let started = Instant::now();
    let target = Target {
        master: cluster.master_url().to_string(),
        media,
        scenario: scenario.to_string(),
    };
    tokio::time::timeout(SCENARIO_TIMEOUT, body(target))
        .await
        .unwrap_or_else(|_| {
            panic!(
                "{scenario} ({media:?}) on mesos-local did not finish within {SCENARIO_TIMEOUT:?}"
            )
        });
    eprintln!(
        "conformance {scenario} {media:?} on mesos-local: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

fn init_tracing() {
    mesos_test_support::init_tracing();
}

/// The sum of the scalar resource `name` in `offer`.
pub fn scalar(offer: &Offer, name: &str) -> f64 {
    offer
        .resources
        .iter()
        .filter(|r| r.name == name)
        .filter_map(|r| r.scalar.as_ref())
        .map(|s| s.value)
        .sum()
}

/// Whether `offer` can hold one of our small tasks.
pub fn fits_task(offer: &Offer) -> bool {
    scalar(offer, "cpus") >= TASK_CPUS && scalar(offer, "mem") >= TASK_MEM
}

/// The offer's resources as [`Resources`].
pub fn resources(offer: &Offer) -> Resources {
    offer.resources.iter().cloned().collect()
}

/// A small command task on `offer`'s agent.
pub fn command_task(name: &str, task_id: &TaskId, offer: &Offer, shell: &str) -> TaskInfo {
    TaskInfo::builder(name, task_id)
        .agent_id(&offer.agent_id)
        .cpus(TASK_CPUS)
        .mem(TASK_MEM)
        .command(CommandInfoBuilder::shell(shell))
        .build()
        .expect("valid TaskInfo")
}

/// The "rank" of a task state in the normal life cycle of a command task.
pub fn lifecycle_rank(state: TaskState) -> u8 {
    match state {
        TaskState::TaskStaging => 0,
        TaskState::TaskStarting => 1,
        TaskState::TaskRunning => 2,
        TaskState::TaskKilling => 3,
        _ if state.is_terminal() => 4,
        _ => 5,
    }
}

/// What happens with offers the scenario is not waiting for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OfferPolicy {
    /// Decline them at once, refusing the resources for this long.
    Decline(Duration),
    /// Keep them (in [`Framework::held`]) for the scenario to answer.
    Hold,
}

/// A subscribed framework on the stream API.
#[derive(Debug)]
pub struct Framework {
    /// The call client.
    pub client: SchedulerClient,
    /// The event stream.
    pub events: Subscription,
    /// The id the master assigned (or accepted).
    pub framework_id: FrameworkId,
    /// The heartbeat interval of SUBSCRIBED.
    pub heartbeat_interval: Option<Duration>,
    /// Every status update received, in order.
    pub updates: Vec<TaskStatus>,
    /// Offers kept under [`OfferPolicy::Hold`].
    pub held: Vec<Offer>,
    /// What to do with offers nobody waits for.
    pub offer_policy: OfferPolicy,
}

impl Framework {
    /// Subscribes a new framework named for `target` (`customize` may add a
    /// failover timeout, capabilities, an id...), and waits for SUBSCRIBED,
    /// which must be the first event.
    pub async fn subscribe(
        target: &Target,
        customize: impl FnOnce(FrameworkInfoBuilder) -> FrameworkInfoBuilder,
    ) -> Framework {
        let info = customize(FrameworkInfo::builder("root", target.framework_name("")))
            .build()
            .expect("valid FrameworkInfo");
        let wanted_id = info.id.clone();
        let (client, mut events) = subscribe(target.config(info)).expect("subscribe");
        assert!(!client.is_subscribed(), "no session before SUBSCRIBED");
        let first = tokio::time::timeout(Duration::from_secs(15), events.next())
            .await
            .expect("SUBSCRIBED within 15 s")
            .expect("the stream yields SUBSCRIBED")
            .expect("the master accepts the subscription");
        let SchedulerEvent::Subscribed {
            framework_id,
            heartbeat_interval,
            resubscribed,
            ..
        } = first
        else {
            panic!("the first event must be SUBSCRIBED, got {first:?}");
        };
        assert!(
            !framework_id.value.is_empty(),
            "SUBSCRIBED carries a framework id"
        );
        assert!(
            !resubscribed,
            "first SUBSCRIBED of a connection is not a resubscription"
        );
        if let Some(wanted) = wanted_id {
            assert_eq!(framework_id, wanted, "failover keeps the framework id");
        }
        assert_eq!(client.framework_id().as_ref(), Some(&framework_id));
        assert!(client.is_subscribed());
        Framework {
            client,
            events,
            framework_id,
            heartbeat_interval,
            updates: Vec::new(),
            held: Vec::new(),
            offer_policy: OfferPolicy::Decline(SHORT_REFUSE),
        }
    }

    /// The next event before `deadline`: `Err(())` at the deadline, `Ok(None)`
    /// when the stream ended. Panics on a stream error.
    async fn next_before(&mut self, deadline: Instant) -> Result<Option<SchedulerEvent>, ()> {
        match tokio::time::timeout_at(deadline, self.events.next()).await {
            Err(_) => Err(()),
            Ok(None) => Ok(None),
            Ok(Some(Err(e))) => panic!("the subscription failed: {}", chain(&e)),
            Ok(Some(Ok(event))) => Ok(Some(event)),
        }
    }

    /// Handles an event nobody asked for: records and acknowledges updates,
    /// answers offers per the policy; anything alarming panics.
    async fn background(&mut self, event: SchedulerEvent) {
        match event {
            SchedulerEvent::Offers(offers) => match self.offer_policy {
                OfferPolicy::Decline(refuse) => self.decline(offers, refuse).await,
                OfferPolicy::Hold => self.held.extend(offers),
            },
            SchedulerEvent::Rescind(id) => self.held.retain(|o| o.id != id),
            SchedulerEvent::Heartbeat | SchedulerEvent::Update(_) => {}
            SchedulerEvent::Disconnected { reason } => {
                panic!("unexpected disconnection from the master: {reason}")
            }
            SchedulerEvent::Error(message) => panic!("the master sent ERROR: {message}"),
            other => tracing::info!(event = ?other, "ignored event"),
        }
    }

    /// Records and acknowledges a status update (before anyone looks at it).
    async fn on_update(&mut self, status: &TaskStatus) {
        self.updates.push(status.clone());
        if status.uuid.is_some() {
            self.client
                .acknowledge(status)
                .await
                .unwrap_or_else(|e| panic!("ACKNOWLEDGE of {status:?} refused: {}", chain(&e)));
        }
    }

    /// Waits up to `within` for an event that `matcher` maps to `Some`;
    /// other events get the background treatment.
    pub async fn wait_for<T>(
        &mut self,
        within: Duration,
        what: &str,
        mut matcher: impl FnMut(&SchedulerEvent) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + within;
        loop {
            let event = match self.next_before(deadline).await {
                Err(()) => panic!(
                    "timed out after {within:?} waiting for {what}; updates so far: {:?}",
                    self.states()
                ),
                Ok(None) => panic!("the event stream ended while waiting for {what}"),
                Ok(Some(event)) => event,
            };
            if let SchedulerEvent::Update(status) = &event {
                self.on_update(status).await;
            }
            if let Some(found) = matcher(&event) {
                return found;
            }
            self.background(event).await;
        }
    }

    /// Asserts that for `window` no event satisfies `forbidden` (other events
    /// get the background treatment).
    pub async fn assert_quiet(
        &mut self,
        window: Duration,
        what: &str,
        mut forbidden: impl FnMut(&SchedulerEvent) -> bool,
    ) {
        let deadline = Instant::now() + window;
        loop {
            let event = match self.next_before(deadline).await {
                Err(()) => return,
                Ok(None) => panic!("the event stream ended while checking that no {what} arrives"),
                Ok(Some(event)) => event,
            };
            if let SchedulerEvent::Update(status) = &event {
                self.on_update(status).await;
            }
            assert!(
                !forbidden(&event),
                "{what} arrived within {window:?}: {event:?}"
            );
            self.background(event).await;
        }
    }

    /// Waits for an OFFERS event with an offer that fits a task; returns that
    /// offer and declines the others of the event.
    pub async fn wait_offer_fitting_task(&mut self) -> Offer {
        let mut offers = self
            .wait_for(
                Duration::from_secs(15),
                "an offer fitting a task",
                |e| match e {
                    SchedulerEvent::Offers(offers) if offers.iter().any(fits_task) => {
                        Some(offers.clone())
                    }
                    _ => None,
                },
            )
            .await;
        let index = offers.iter().position(fits_task).expect("a fitting offer");
        let offer = offers.remove(index);
        self.decline(offers, SHORT_REFUSE).await;
        offer
    }

    /// Declines `offers` (if any), refusing them for `refuse`.
    pub async fn decline(&self, offers: Vec<Offer>, refuse: Duration) {
        if offers.is_empty() {
            return;
        }
        let ids = offers.into_iter().map(|o| o.id).collect();
        self.client
            .decline(ids, Some(filters(refuse)))
            .await
            .unwrap_or_else(|e| panic!("DECLINE refused: {}", chain(&e)));
    }

    /// Launches `task` on `offer` (the rest of the offer refused briefly).
    pub async fn launch(&self, offer: &Offer, task: TaskInfo) {
        self.client
            .launch_tasks(
                vec![offer.id.clone()],
                vec![task],
                Some(filters(SHORT_REFUSE)),
            )
            .await
            .unwrap_or_else(|e| panic!("ACCEPT (LAUNCH) refused: {}", chain(&e)));
    }

    /// Waits for an update of `task` in `state`; returns it.
    pub async fn wait_task_state(
        &mut self,
        task: &TaskId,
        state: TaskState,
        within: Duration,
    ) -> TaskStatus {
        let what = format!("{} in {}", task.value, state.as_str_name());
        self.wait_for(within, &what, |e| match e {
            SchedulerEvent::Update(s) if &s.task_id == task => {
                if s.state() == state {
                    Some(s.clone())
                } else if s.state().is_terminal() {
                    panic!(
                        "{} ended in {:?} while waiting for {state:?}: {s:?}",
                        task.value,
                        s.state()
                    )
                } else {
                    None
                }
            }
            _ => None,
        })
        .await
    }

    /// Launches a long `sleep 1000` task on the next fitting offer and waits
    /// for TASK_RUNNING; returns the task id and its agent.
    pub async fn launch_sleeper(&mut self, target: &Target, suffix: &str) -> (TaskId, AgentId) {
        let offer = self.wait_offer_fitting_task().await;
        let task_id = target.task_id(suffix);
        self.launch(
            &offer,
            command_task("sleeper", &task_id, &offer, "sleep 1000"),
        )
        .await;
        let running = self
            .wait_task_state(&task_id, TaskState::TaskRunning, Duration::from_secs(20))
            .await;
        assert_eq!(
            running.agent_id.as_ref(),
            Some(&offer.agent_id),
            "{running:?}"
        );
        (task_id, offer.agent_id)
    }

    /// The task states received so far, for messages.
    pub fn states(&self) -> Vec<(String, &'static str)> {
        self.updates
            .iter()
            .map(|s| (s.task_id.value.clone(), s.state().as_str_name()))
            .collect()
    }

    /// The updates received for `task`, in order.
    pub fn updates_of(&self, task: &TaskId) -> Vec<&TaskStatus> {
        self.updates.iter().filter(|s| &s.task_id == task).collect()
    }

    /// TEARDOWN: the master accepts it (`202`), and the event stream then
    /// ends within 10 s; returns the events seen in between.
    pub async fn teardown_events(mut self) -> Vec<SchedulerEvent> {
        self.client
            .teardown()
            .await
            .unwrap_or_else(|e| panic!("TEARDOWN refused: {}", chain(&e)));
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut after = Vec::new();
        loop {
            match self.next_before(deadline).await {
                Err(()) => panic!(
                    "the event stream did not end within 10 s of TEARDOWN; events: {after:?}"
                ),
                Ok(None) => break,
                Ok(Some(event)) => after.push(event),
            }
        }
        assert!(
            !self.client.is_subscribed(),
            "no session after the framework is gone"
        );
        after
    }

    /// [`teardown_events`](Self::teardown_events), for the end of scenarios
    /// that test something else: besides events already in flight, nothing
    /// may follow TEARDOWN (no `Disconnected`, no resubscription).
    pub async fn teardown(self) {
        let after = self.teardown_events().await;
        let unexpected: Vec<_> = after.iter().filter(|e| !in_flight(e)).collect();
        assert!(
            unexpected.is_empty(),
            "after TEARDOWN the stream should just end, got {after:?}"
        );
    }
}

/// Events the master may have sent before it processed TEARDOWN.
pub fn in_flight(event: &SchedulerEvent) -> bool {
    matches!(
        event,
        SchedulerEvent::Heartbeat
            | SchedulerEvent::Offers(_)
            | SchedulerEvent::Rescind(_)
            | SchedulerEvent::Update(_)
    )
}

/// An explicit reconciliation answer: generated by the master, no uuid,
/// reason REASON_RECONCILIATION.
pub fn assert_reconciliation_answer(status: &TaskStatus, state: TaskState) {
    assert_eq!(status.state(), state, "{status:?}");
    assert_eq!(
        status.reason(),
        task_status::Reason::Reconciliation,
        "{status:?}"
    );
    assert_eq!(status.source(), task_status::Source::Master, "{status:?}");
    assert!(
        status.uuid.is_none(),
        "reconciliation answers carry no uuid: {status:?}"
    );
}

/// An error with its sources, for messages.
pub fn chain(e: &Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
