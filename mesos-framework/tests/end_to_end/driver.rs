//! The same pieces from a `Scheduler` run by the `SchedulerDriver`: a
//! restarted framework's reconciler, fed from the callbacks, learns its
//! tasks' states and hears about a task the master never knew; its offer
//! manager, with nothing pending, suppresses offers and declines what
//! arrived before.

use std::time::Duration;

use mesos_framework::offers::{roles_of, OfferConfig, OfferManager, OfferManagerHandle};
use mesos_framework::reconcile::{ReconcileEvent, Reconciler, ReconcilerConfig, ReconcilerHandle};
use mesos_scheduler::proto::v1::{
    FrameworkId, MasterInfo, Offer, OfferId, TaskId, TaskState, TaskStatus,
};
use mesos_scheduler::{async_trait, Scheduler, SchedulerDriver};
use tokio::sync::mpsc;

use crate::reconcile::launch_then_vanish;
use crate::support::{config, eventually, framework, WAIT};

struct App {
    reconciler: ReconcilerHandle,
    offers: OfferManagerHandle,
    news: mpsc::UnboundedSender<ReconcileEvent>,
}

impl App {
    fn start(&self, driver: &SchedulerDriver) {
        self.reconciler
            .start(driver.client().clone())
            .expect("in a runtime");
        self.offers
            .start(driver.client().clone())
            .expect("in a runtime");
        self.subscribed();
    }

    fn subscribed(&self) {
        self.offers.subscribed();
        for news in self.reconciler.subscribed() {
            let _ = self.news.send(news);
        }
    }
}

#[async_trait]
impl Scheduler for App {
    async fn registered(
        &mut self,
        driver: &SchedulerDriver,
        _: &FrameworkId,
        _: Option<&MasterInfo>,
    ) {
        self.start(driver);
    }

    async fn reregistered(&mut self, _: &SchedulerDriver, _: Option<&MasterInfo>) {
        self.subscribed();
    }

    async fn disconnected(&mut self, _: &SchedulerDriver) {
        self.reconciler.disconnected();
        self.offers.disconnected();
    }

    async fn resource_offers(&mut self, _: &SchedulerDriver, offers: Vec<Offer>) {
        self.offers.offers(&offers);
    }

    async fn offer_rescinded(&mut self, _: &SchedulerDriver, offer_id: OfferId) {
        self.offers.rescinded(&offer_id);
    }

    async fn status_update(&mut self, _: &SchedulerDriver, status: TaskStatus) {
        for news in self.reconciler.update(&status) {
            let _ = self.news.send(news);
        }
    }
}

pub async fn restarted_driver_reconciles(master: &str) {
    let name = "recon-driver";
    let launched = launch_then_vanish(master, name, 2, false).await;
    let reconciler = ReconcilerHandle::new(
        Reconciler::new(
            ReconcilerConfig::default().backoff(Duration::from_secs(5), Duration::from_secs(10)),
        )
        .unwrap(),
    );
    for task in &launched.tasks {
        reconciler.track(task.clone(), Some(launched.agent_id.clone()));
    }
    let ghost = TaskId::from(format!("{name}-never-launched"));
    reconciler.track(ghost.clone(), Some(launched.agent_id.clone()));
    let info = framework(name, Some(&launched.framework_id), false);
    let offers = OfferManagerHandle::new(
        OfferManager::new(
            OfferConfig::default().lease(Duration::from_millis(200)),
            roles_of(&info),
        )
        .unwrap(),
    );
    let (news_tx, mut news) = mpsc::unbounded_channel();
    let app = App {
        reconciler: reconciler.clone(),
        offers: offers.clone(),
        news: news_tx,
    };
    let driver = SchedulerDriver::new(app, config(master, info)).unwrap();
    driver.start();

    let mut heard = Vec::new();
    let completed = tokio::time::timeout(WAIT, async {
        while let Some(event) = news.recv().await {
            if let ReconcileEvent::Completed { tasks, .. } = event {
                return tasks;
            }
            heard.push(event);
        }
        panic!("the application went away");
    })
    .await
    .expect("the explicit run completes");
    assert_eq!(completed, 3);
    assert!(
        matches!(&heard[..], [ReconcileEvent::Unknown(s)] if s.task_id == ghost && s.state() == TaskState::TaskLost),
        "{heard:?}"
    );
    assert_eq!(
        driver.client().framework_id(),
        Some(launched.framework_id.clone())
    );

    // Nothing pending: SUPPRESS; what arrived before goes back at the lease.
    eventually("SUPPRESS and no offer held", WAIT, || {
        let c = offers.counters();
        (c.suppresses == 1 && c.held == 0 && c.declined + c.rescinded == c.received).then_some(())
    })
    .await;
    assert!(offers.with(|m| m.is_suppressed("*")));
    driver.stop(false).await;
}
