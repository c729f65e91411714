//! A long-running service framework built from `mesos-framework`'s pieces:
//! it keeps `--instances` copies of a command task running, placed under
//! Marathon-style constraints, and survives `kill -9` of itself.
//!
//! - **placement** (`Placer`, `--constraint`): each instance goes to an
//!   offer that fits its resources and every constraint, counting the
//!   instances already running or being launched; when none fits, the
//!   reasons are printed (`pending: ...`);
//! - **durable state** (`FileStateStore` in `--state-dir`): the framework
//!   id, a launch intent written *before* each ACCEPT (the `TaskInfo`,
//!   kept while the instance lives) and each instance's last state;
//! - **failover**: a restart SUBSCRIBEs with the stored framework id
//!   (`--failover-timeout`), so the master hands the running instances back
//!   instead of killing them;
//! - **reconciliation** (`ReconcilerHandle`): after every SUBSCRIBED, the
//!   master is asked about every instance the store knows, including
//!   launches whose ACCEPT may not have reached it; the ones it does not
//!   know are replaced;
//! - **offer discipline** (`OfferManagerHandle`): offers not used within
//!   `--offer-lease` are declined for `--refuse`; the role is SUPPRESSed
//!   while every instance runs and REVIVEd when one must be replaced;
//! - an instance that ends is replaced under a **new** task id: a task id
//!   is launched at most once.
//!
//! ```sh
//! # three agents on an in-process cluster, one instance per rack:
//! cargo run -p mesos-examples --example service_framework -- \
//!     --master local --state-dir /tmp/svc --instances 3 --constraint rack:UNIQUE
//! # a real cluster (or zk://host:2181/mesos), one instance per host:
//! cargo run -p mesos-examples --example service_framework -- \
//!     --master http://127.0.0.1:5050 --state-dir /tmp/svc --instances 2
//! # remove the service (kills its instances, forgets its state):
//! cargo run -p mesos-examples --example service_framework -- \
//!     --master http://127.0.0.1:5050 --state-dir /tmp/svc --teardown
//! ```
//!
//! It prints one line per fact on stdout: `subscribed as <framework id>`,
//! `launching <task> on <agent> (<hostname>)`, `instance <task> <STATE>`,
//! `instance <task> ended <STATE>: ...`, `pending: <why no offer fits>` and
//! a `status: ...` line whenever the counts change. Logs go to stderr
//! (`RUST_LOG`). Ctrl-C exits and leaves the instances running: a restart
//! within the failover timeout takes them over. The docs/ guide
//! "Writing a service framework" walks through this program.

mod service;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use futures::StreamExt;
use mesos_framework::offers::{OfferConfig, OfferManager, OfferManagerHandle};
use mesos_framework::placement::{Constraint, Strategy};
use mesos_framework::reconcile::{Reconciler, ReconcilerConfig, ReconcilerHandle};
use mesos_framework::state::FileStateStore;
use mesos_local::LocalCluster;
use mesos_proto::v1::{value, Attribute, FrameworkInfo};
use mesos_scheduler::{subscribe, SchedulerConfig};

use service::{Service, ServiceSpec};

/// Keeps N instances of a command task running on Mesos, under placement
/// constraints, across crashes of this program.
#[derive(Debug, Parser)]
#[command(name = "service_framework")]
struct Cli {
    /// The master: `http(s)://host:port`, `zk://host:port/path`, or
    /// `local` for an in-process cluster (its agents carry a `rack`
    /// attribute, r1, r2, ...).
    #[arg(long, default_value = "local")]
    master: String,
    /// Agents of the `local` cluster.
    #[arg(long, default_value_t = 3)]
    local_agents: usize,
    /// The directory of the durable state (one framework per directory).
    #[arg(long)]
    state_dir: PathBuf,
    /// How many instances to keep running.
    #[arg(long, default_value_t = 3)]
    instances: usize,
    /// A placement constraint, `field:OPERATOR[:value]` as in Marathon
    /// (`hostname:UNIQUE`, `rack:GROUP_BY:3`, `rack:MAX_PER:2`); repeatable.
    #[arg(long = "constraint", default_value = "hostname:UNIQUE")]
    constraints: Vec<Constraint>,
    /// The shell command each instance runs (it should not end).
    #[arg(long, default_value = "sleep 3600")]
    command: String,
    /// CPUs per instance.
    #[arg(long, default_value_t = 0.1)]
    cpus: f64,
    /// Memory per instance, in MB.
    #[arg(long, default_value_t = 32.0)]
    mem: f64,
    /// Spread instances over agents (`spread`) or fill agents up
    /// (`bin-pack`).
    #[arg(long, default_value = "spread", value_parser = strategy)]
    strategy: Strategy,
    /// The framework's name; task ids start with it.
    #[arg(long, default_value = "service")]
    name: String,
    /// The role offers come for.
    #[arg(long, default_value = "*")]
    role: String,
    /// How long the master keeps the instances of a disconnected framework
    /// for it (seconds).
    #[arg(long, default_value = "604800", value_parser = seconds)]
    failover_timeout: Duration,
    /// How long an unused offer is held before it is declined (seconds).
    #[arg(long, default_value = "5", value_parser = seconds)]
    offer_lease: Duration,
    /// For how long declined offers are refused (seconds).
    #[arg(long, default_value = "120", value_parser = seconds)]
    refuse: Duration,
    /// The shortest time between two REVIVEs (seconds).
    #[arg(long, default_value = "5", value_parser = seconds)]
    revive_interval: Duration,
    /// Remove the service: kill its instances (TEARDOWN) and forget the
    /// stored framework id and tasks.
    #[arg(long)]
    teardown: bool,
}

/// Seconds, decimal (`0.5`), up to 30 days.
fn seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(0.0..=30.0 * 86_400.0).contains(&value) {
        return Err(format!("{text:?} is not between 0 and 30 days"));
    }
    Duration::try_from_secs_f64(value).map_err(|e| e.to_string())
}

fn strategy(text: &str) -> Result<Strategy, String> {
    match text {
        "spread" => Ok(Strategy::Spread),
        "bin-pack" | "binpack" => Ok(Strategy::BinPack),
        other => Err(format!("{other:?}: expecting spread or bin-pack")),
    }
}

/// A text attribute `name:value`.
fn text_attribute(name: &str, text: String) -> Attribute {
    Attribute {
        name: name.to_string(),
        r#type: value::Type::Text as i32,
        text: Some(value::Text { value: text }),
        ..Default::default()
    }
}

/// The master URL, and the in-process cluster when `local` was asked for
/// (kept alive by the caller).
async fn master(cli: &Cli) -> Result<(String, Option<LocalCluster>), String> {
    if cli.master != "local" {
        return Ok((cli.master.clone(), None));
    }
    let mut builder = LocalCluster::builder().agents(cli.local_agents);
    for index in 0..cli.local_agents {
        let rack = text_attribute("rack", format!("r{}", index + 1));
        builder = builder.agent_attributes(index, vec![rack]);
    }
    let cluster = builder
        .start()
        .await
        .map_err(|e| mesos_http::error_chain(&e))?;
    Ok((cluster.master_url().to_string(), Some(cluster)))
}

async fn run(cli: Cli) -> Result<(), String> {
    let store = FileStateStore::open(&cli.state_dir).map_err(|e| mesos_http::error_chain(&e))?;
    let (url, _cluster) = master(&cli).await?;

    // 1. What the previous run left: the framework id and every instance
    //    that may be running (including launches of unknown outcome).
    let restored = service::restore(&store)
        .await
        .map_err(|e| mesos_http::error_chain(&e))?;
    tracing::info!(
        framework_id = restored.framework_id.as_ref().map(|id| id.value.as_str()),
        instances = restored.instance_count(),
        "state loaded"
    );

    if cli.teardown && restored.framework_id.is_none() {
        return Err("no framework id stored: nothing to tear down".to_string());
    }

    // 2. SUBSCRIBE with the stored id (failover), and a failover timeout
    //    long enough to restart in: the master keeps the instances for it.
    let mut framework = FrameworkInfo::builder(mesos_examples::user(), cli.name.as_str())
        .role(cli.role.as_str())
        .failover_timeout(cli.failover_timeout)
        .checkpoint(true);
    if let Some(id) = restored.framework_id.clone() {
        framework = framework.id(id);
    }
    let framework = framework.build().map_err(|e| e.to_string())?;
    let config = SchedulerConfig::new([url.as_str()], framework).map_err(|e| e.to_string())?;
    let (client, mut events) = subscribe(config).map_err(|e| mesos_http::error_chain(&e))?;

    if cli.teardown {
        return service::teardown(&store, &client, &mut events).await;
    }

    // 3. The reconciler asks about every restored instance after each
    //    SUBSCRIBED; the offer manager declines, suppresses and revives.
    let reconciler = ReconcilerHandle::new(
        Reconciler::new(ReconcilerConfig::default()).map_err(|e| e.to_string())?,
    );
    let offer_config = OfferConfig::default()
        .lease(cli.offer_lease)
        .refuse(cli.refuse)
        .revive_interval(cli.revive_interval);
    let offers = OfferManagerHandle::new(
        OfferManager::new(offer_config, [cli.role.clone()]).map_err(|e| e.to_string())?,
    );
    reconciler
        .start(client.clone())
        .map_err(|e| e.to_string())?;
    offers.start(client.clone()).map_err(|e| e.to_string())?;

    let spec = ServiceSpec {
        name: cli.name.clone(),
        role: cli.role.clone(),
        instances: cli.instances,
        command: cli.command.clone(),
        cpus: cli.cpus,
        mem: cli.mem,
        constraints: cli.constraints.clone(),
        strategy: cli.strategy,
    };
    let mut service = Service::new(spec, &store, client, reconciler, offers, restored);

    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    // The offer manager suppresses and declines on its own time: the
    // status line is refreshed twice a second as well as after each event.
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            _ = tick.tick() => service.print_status(),
            event = events.next() => match event {
                Some(Ok(event)) => service.handle(event).await?,
                Some(Err(e)) => return Err(mesos_http::error_chain(&e)),
                None => return Err("the subscription ended".to_string()),
            },
            _ = &mut interrupted => {
                println!("interrupted: exiting, the instances keep running");
                return Ok(());
            }
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    mesos_examples::init_logging();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("service_framework: {message}");
            ExitCode::FAILURE
        }
    }
}
