//! The service: its instances, and what it does with each event.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use mesos_framework::offers::OfferManagerHandle;
use mesos_framework::placement::{
    AgentProfile, Constraint, NoPlacement, OfferCandidate, Placements, Placer, Strategy, TaskNeeds,
};
use mesos_framework::reconcile::{ReconcileEvent, ReconcilerHandle};
use mesos_framework::state::{FileStateStore, IntentPhase, Recovery, StateError, StateStore};
use mesos_proto::builders::CommandInfoBuilder;
use mesos_proto::resources::Resources;
use mesos_proto::v1::{AgentId, FrameworkId, Offer, TaskId, TaskInfo, TaskState, TaskStatus};
use mesos_scheduler::{Error, SchedulerClient, SchedulerEvent, Subscription};

/// Label keys recording, in each `TaskInfo`, the agent an instance was
/// placed on: after a restart the constraints count it there without
/// waiting for an offer from that agent.
const HOSTNAME_LABEL: &str = "service.hostname";
const ATTRIBUTE_LABEL: &str = "service.attribute.";

/// What to run, how many, and where.
#[derive(Debug, Clone)]
pub struct ServiceSpec {
    pub name: String,
    pub role: String,
    pub instances: usize,
    pub command: String,
    pub cpus: f64,
    pub mem: f64,
    pub constraints: Vec<Constraint>,
    pub strategy: Strategy,
}

/// One instance: launched, or being launched.
#[derive(Debug, Clone)]
struct Instance {
    /// The task as launched (its intent in the store).
    task: TaskInfo,
    /// The agent it runs on, for the constraints.
    agent: AgentProfile,
    /// Its last known state (`None`: no update yet).
    state: Option<TaskState>,
    /// Whether its intent is marked launched: the master took the ACCEPT,
    /// or has sent an update for the task.
    confirmed: bool,
}

/// What the store held at start-up.
#[derive(Debug, Default)]
pub struct Restored {
    pub framework_id: Option<FrameworkId>,
    instances: BTreeMap<String, Instance>,
}

impl Restored {
    /// How many instances may be running.
    pub fn instance_count(&self) -> usize {
        self.instances.len()
    }
}

/// Reads the store: the framework id, and an instance for every launch
/// intent not known to have ended. Intents are kept while their instance
/// lives (the `TaskInfo` says where it runs); dropped ones never launched
/// and are forgotten, as are instances whose end was recorded.
pub async fn restore(store: &FileStateStore) -> Result<Restored, StateError> {
    let plan = Recovery::load(store).await?;
    let states: BTreeMap<String, TaskStatus> = plan
        .known
        .iter()
        .map(|s| (s.task_id.value.clone(), s.clone()))
        .collect();
    let mut instances = BTreeMap::new();
    for intent in store.intents().await? {
        let id = intent.task.task_id.clone();
        let state = states.get(&id.value).map(TaskStatus::state);
        if intent.phase == IntentPhase::Dropped || state.is_some_and(TaskState::is_terminal) {
            store.remove_intent(&id).await?;
            store.remove_task_state(&id).await?;
            continue;
        }
        let agent = placed_on(&intent.task);
        instances.insert(
            id.value.clone(),
            Instance {
                task: intent.task,
                agent,
                state,
                confirmed: intent.phase == IntentPhase::Launched,
            },
        );
    }
    // A state without an intent is not an instance of ours any more (its
    // end was being recorded): forget it; if the master still runs it,
    // reconciliation reports it as untracked and it is killed.
    for id in states.keys().filter(|id| !instances.contains_key(*id)) {
        store.remove_task_state(&id.as_str().into()).await?;
    }
    for (id, instance) in &instances {
        let state = match (instance.state, instance.confirmed) {
            (Some(state), _) => state.as_str_name(),
            (None, true) => "launched",
            (None, false) => "launch unconfirmed",
        };
        println!(
            "restored instance {id} ({state}) on {}",
            instance.agent.agent_id
        );
    }
    Ok(Restored {
        framework_id: plan.framework_id,
        instances,
    })
}

/// `--teardown`: once subscribed, TEARDOWN (the master kills every
/// instance), then forget the framework id and the tasks.
pub async fn teardown(
    store: &FileStateStore,
    client: &SchedulerClient,
    events: &mut Subscription,
) -> Result<(), String> {
    while let Some(event) = events.next().await {
        if let SchedulerEvent::Subscribed { framework_id, .. } = event.map_err(|e| chain(&e))? {
            client.teardown().await.map_err(|e| chain(&e))?;
            for intent in store.intents().await.map_err(|e| chain(&e))? {
                store
                    .remove_intent(&intent.task.task_id)
                    .await
                    .map_err(|e| chain(&e))?;
            }
            for status in store.task_states().await.map_err(|e| chain(&e))? {
                store
                    .remove_task_state(&status.task_id)
                    .await
                    .map_err(|e| chain(&e))?;
            }
            store.clear_framework_id().await.map_err(|e| chain(&e))?;
            println!("tore down framework {}", framework_id.value);
            return Ok(());
        }
    }
    Err("the subscription ended before SUBSCRIBED".to_string())
}

/// The agent a task was placed on, from its `TaskInfo` and labels.
fn placed_on(task: &TaskInfo) -> AgentProfile {
    let labels = task
        .labels
        .as_ref()
        .map(|l| l.labels.as_slice())
        .unwrap_or_default();
    let hostname = labels
        .iter()
        .find(|l| l.key == HOSTNAME_LABEL)
        .and_then(|l| l.value.clone())
        .unwrap_or_default();
    let mut agent = AgentProfile::new(task.agent_id.value.clone(), hostname);
    for label in labels {
        if let Some(name) = label.key.strip_prefix(ATTRIBUTE_LABEL) {
            agent = agent.with_text(name, label.value.clone().unwrap_or_default());
        }
    }
    agent
}

/// The framework's state and its reactions to events.
pub struct Service<'a> {
    spec: ServiceSpec,
    needs: TaskNeeds,
    placer: Placer,
    store: &'a FileStateStore,
    client: SchedulerClient,
    reconciler: ReconcilerHandle,
    offers: OfferManagerHandle,
    framework_id: Option<FrameworkId>,
    instances: BTreeMap<String, Instance>,
    /// Task ids launched by this process (a counter in each id).
    launched: u64,
    last_pending_report: String,
    last_status: String,
}

impl<'a> Service<'a> {
    pub fn new(
        spec: ServiceSpec,
        store: &'a FileStateStore,
        client: SchedulerClient,
        reconciler: ReconcilerHandle,
        offers: OfferManagerHandle,
        restored: Restored,
    ) -> Self {
        // Every restored instance is reconciled after each SUBSCRIBED.
        for instance in restored.instances.values() {
            reconciler.track(
                instance.task.task_id.clone(),
                Some(instance.task.agent_id.clone()),
            );
        }
        let needs = TaskNeeds::new(
            spec.name.clone(),
            Resources::new().with_cpus(spec.cpus).with_mem(spec.mem),
        )
        .constraints(spec.constraints.clone())
        .role(spec.role.clone());
        let service = Service {
            placer: Placer::new(spec.strategy),
            needs,
            spec,
            store,
            client,
            reconciler,
            offers,
            framework_id: restored.framework_id,
            instances: restored.instances,
            launched: 0,
            last_pending_report: String::new(),
            last_status: String::new(),
        };
        service
            .offers
            .set_pending(&service.spec.role, service.missing());
        service
    }

    /// Instances to launch: wanted minus those running or being launched.
    fn missing(&self) -> usize {
        self.spec.instances.saturating_sub(self.instances.len())
    }

    /// One event of the subscription. An error (the store failing) ends
    /// the program: a framework that cannot record must not launch.
    pub async fn handle(&mut self, event: SchedulerEvent) -> Result<(), String> {
        let news = self.reconciler.observe(&event);
        self.offers.observe(&event);
        match event {
            SchedulerEvent::Subscribed { framework_id, .. } => {
                if self.framework_id.as_ref() != Some(&framework_id) {
                    self.store
                        .set_framework_id(&framework_id)
                        .await
                        .map_err(chain)?;
                    self.framework_id = Some(framework_id.clone());
                }
                println!("subscribed as {}", framework_id.value);
            }
            SchedulerEvent::Offers(offers) => self.place(&offers).await?,
            SchedulerEvent::Update(status) => {
                let unknown = news.iter().any(
                    |n| matches!(n, ReconcileEvent::Unknown(s) if s.task_id == status.task_id),
                );
                self.on_update(status, unknown).await?;
            }
            SchedulerEvent::Error(message) => return Err(format!("the master: {message}")),
            SchedulerEvent::Disconnected { reason } => {
                tracing::warn!(%reason, "disconnected; resubscribing");
            }
            _ => {}
        }
        for news in news {
            match news {
                ReconcileEvent::Untracked(status) => {
                    println!(
                        "killing {}: not an instance of this service",
                        status.task_id.value
                    );
                    if let Err(e) = self
                        .client
                        .kill(status.task_id, status.agent_id, None)
                        .await
                    {
                        tracing::warn!(error = %chain(&e), "KILL failed");
                    }
                }
                ReconcileEvent::Completed { tasks, rounds } => {
                    println!("reconciled {tasks} instances in {rounds} rounds");
                }
                _ => {}
            }
        }
        self.offers.set_pending(&self.spec.role, self.missing());
        self.print_status();
        Ok(())
    }

    /// A status update: record it, then acknowledge it (a crash between
    /// the two gets the update again); an instance that ended, or that the
    /// master does not know, is forgotten and will be replaced.
    async fn on_update(&mut self, status: TaskStatus, unknown: bool) -> Result<(), String> {
        let id = status.task_id.value.clone();
        let state = status.state();
        if let Some(instance) = self.instances.get_mut(&id) {
            if state.is_terminal() || unknown {
                println!(
                    "instance {id} ended {}: {} (a replacement gets a new task id)",
                    state.as_str_name(),
                    status.message()
                );
                self.instances.remove(&id);
                self.reconciler.forget(&status.task_id);
                self.store
                    .remove_task_state(&status.task_id)
                    .await
                    .map_err(chain)?;
                self.store
                    .remove_intent(&status.task_id)
                    .await
                    .map_err(chain)?;
            } else {
                self.store.put_task_state(&status).await.map_err(chain)?;
                if !instance.confirmed {
                    // The master knows the task: its launch happened.
                    self.store
                        .mark_launched(&status.task_id)
                        .await
                        .map_err(chain)?;
                    instance.confirmed = true;
                }
                if instance.state != Some(state) {
                    println!(
                        "instance {id} {} on {}",
                        state.as_str_name(),
                        instance.agent.agent_id
                    );
                }
                instance.state = Some(state);
            }
        } else if status.uuid.is_some() && !state.is_terminal() {
            // A task of this framework that is no instance (the
            // reconciler reports those among its answers as untracked).
            println!("killing {id}: not an instance of this service");
            if let Err(e) = self
                .client
                .kill(status.task_id.clone(), status.agent_id.clone(), None)
                .await
            {
                tracing::warn!(error = %chain(&e), "KILL failed");
            }
        }
        if status.uuid.is_some() {
            if let Err(e) = self.client.acknowledge(&status).await {
                // The agent sends the update again until acknowledged.
                tracing::warn!(task_id = %id, error = %chain(&e), "acknowledgement failed");
            }
        }
        Ok(())
    }

    /// Places the missing instances on `offers`; offers left unused stay
    /// with the offer manager, which declines them when their lease ends.
    async fn place(&mut self, offers: &[Offer]) -> Result<(), String> {
        let mut missing = self.missing();
        if missing == 0 {
            return Ok(());
        }
        let mut candidates: Vec<OfferCandidate> =
            offers.iter().map(OfferCandidate::of_offer).collect();
        let mut placed: Placements = self.instances.values().map(|i| i.agent.clone()).collect();
        let mut launches: BTreeMap<usize, Vec<TaskInfo>> = BTreeMap::new();
        while missing > 0 {
            match self.placer.place(&self.needs, &candidates, &placed) {
                Ok(choice) => {
                    let candidate = &mut candidates[choice.index];
                    candidate.resources -= &choice.resources;
                    placed.add(candidate.agent.clone());
                    let task = self.task(&candidate.agent, choice.resources)?;
                    launches.entry(choice.index).or_default().push(task);
                    missing -= 1;
                }
                Err(report) => {
                    self.report_pending(&report, missing);
                    break;
                }
            }
        }
        for (index, tasks) in launches {
            let offer = &offers[index];
            // The offer is ours to answer (not declined or rescinded since).
            if self.offers.take(&offer.id) {
                self.launch(offer, tasks).await?;
            }
        }
        Ok(())
    }

    /// Launches `tasks` on `offer`: each intent recorded first, then one
    /// ACCEPT, then the intents marked launched.
    async fn launch(&mut self, offer: &Offer, tasks: Vec<TaskInfo>) -> Result<(), String> {
        for task in &tasks {
            self.store.record_intent(task).await.map_err(chain)?;
            self.reconciler
                .track(task.task_id.clone(), Some(task.agent_id.clone()));
            let agent = placed_on(task);
            println!(
                "launching {} on {} ({})",
                task.task_id.value, agent.agent_id, agent.hostname
            );
            self.instances.insert(
                task.task_id.value.clone(),
                Instance {
                    task: task.clone(),
                    agent,
                    state: None,
                    confirmed: false,
                },
            );
        }
        let ids: Vec<_> = tasks.iter().map(|t| t.task_id.clone()).collect();
        let result = self
            .client
            .launch_tasks(vec![offer.id.clone()], tasks, None)
            .await;
        if result.is_err() {
            // The master may never have seen this ACCEPT: the offer would
            // stay outstanding (its resources offered to no one else) until
            // answered. A DECLINE of an offer already used is ignored.
            if let Err(e) = self.client.decline(vec![offer.id.clone()], None).await {
                tracing::warn!(error = %chain(&e), "DECLINE after a failed ACCEPT failed");
            }
        }
        match result {
            Ok(()) => {
                for id in &ids {
                    self.store.mark_launched(id).await.map_err(chain)?;
                    if let Some(instance) = self.instances.get_mut(&id.value) {
                        instance.confirmed = true;
                    }
                }
            }
            Err(e) if not_sent_or_refused(&e) => {
                // Certainly not launched: the instances are missing again.
                let error = chain(&e);
                for id in &ids {
                    println!(
                        "launch of {} refused ({error}): the instance is missing again",
                        id.value
                    );
                    self.store.mark_dropped(id).await.map_err(chain)?;
                    self.store.remove_intent(id).await.map_err(chain)?;
                    self.reconciler.forget(id);
                    self.instances.remove(&id.value);
                }
            }
            Err(e) => {
                // Unknown: the intents stay pending and the instances
                // count. Their first update settles them, or the master's
                // answer to this RECONCILE (TASK_LOST if it never got the
                // ACCEPT: the reconciler reports them unknown); failing
                // that, the explicit reconciliation after the next
                // SUBSCRIBED.
                tracing::warn!(error = %chain(&e), "launch outcome unknown; reconciling");
                let asked = tasks_of(&ids, offer);
                if let Err(e) = self.client.reconcile(asked).await {
                    tracing::warn!(error = %chain(&e), "RECONCILE failed");
                }
            }
        }
        Ok(())
    }

    /// A new instance's task on `agent`, with a task id never used before.
    fn task(&mut self, agent: &AgentProfile, resources: Resources) -> Result<TaskInfo, String> {
        self.launched += 1;
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        let id = format!(
            "{}.{stamp}.{}.{}",
            self.spec.name,
            std::process::id(),
            self.launched
        );
        let mut labels = vec![(HOSTNAME_LABEL.to_string(), agent.hostname.clone())];
        for attribute in &agent.attributes {
            if let Some(value) = agent.attribute(&attribute.name) {
                labels.push((format!("{ATTRIBUTE_LABEL}{}", attribute.name), value));
            }
        }
        TaskInfo::builder(id.as_str(), id.as_str())
            .agent_id(agent.agent_id.as_str())
            .resources(resources)
            .command(CommandInfoBuilder::shell(self.spec.command.as_str()))
            .labels(labels)
            .build()
            .map_err(|e| e.to_string())
    }

    /// Prints why the next of `unplaced` instances fits no offer, when the
    /// reasons change.
    fn report_pending(&mut self, report: &NoPlacement, unplaced: usize) {
        let reasons: Vec<String> = report
            .offers
            .iter()
            .flat_map(|v| {
                v.reasons
                    .iter()
                    .map(move |r| format!("{}: {r}", v.agent_id))
            })
            .collect();
        let key = reasons.join("; ");
        if key != self.last_pending_report {
            println!("pending: {unplaced} instance(s) fit no offer: {key}");
            self.last_pending_report = key;
        }
    }

    /// Prints the counts when they change.
    pub fn print_status(&mut self) {
        let running = self
            .instances
            .values()
            .filter(|i| i.state == Some(TaskState::TaskRunning))
            .count();
        let counters = self.offers.counters();
        let suppressed = self.offers.with(|m| m.is_suppressed(&self.spec.role));
        let status = format!(
            "status: running {running} of {}, launching {}, missing {}, suppressed {suppressed}, offers held {}, declined {}, revives {}, suppresses {}",
            self.spec.instances,
            self.instances.len() - running,
            self.missing(),
            counters.held,
            counters.declined,
            counters.revives,
            counters.suppresses,
        );
        if status != self.last_status {
            println!("{status}");
            self.last_status = status;
        }
    }
}

/// The (task id, agent id) pairs of `ids`, all launched on `offer`.
fn tasks_of(ids: &[TaskId], offer: &Offer) -> Vec<(TaskId, Option<AgentId>)> {
    ids.iter()
        .map(|id| (id.clone(), Some(offer.agent_id.clone())))
        .collect()
}

/// Whether a failed ACCEPT certainly launched nothing: never sent (not
/// subscribed), or refused by the master with a 4xx answer.
fn not_sent_or_refused(error: &Error) -> bool {
    match error {
        Error::NotSubscribed => true,
        _ => error
            .transport()
            .and_then(mesos_http::Error::status)
            .is_some_and(|s| s.is_client_error()),
    }
}

/// An error with its causes, as one line.
fn chain<E: std::error::Error>(error: E) -> String {
    mesos_http::error_chain(&error)
}
