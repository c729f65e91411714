//! The `service_framework` example run as a child process, and what the
//! master shows of it over `/master/state`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long any one awaited condition may take.
pub const LIMIT: Duration = Duration::from_secs(120);

/// Between two looks at a condition.
const POLL: Duration = Duration::from_millis(50);

/// The example, started and killed as many times as a test wants; each
/// run's output kept in `<dir>/run-<n>.{stdout,stderr}`.
pub struct Framework {
    args: Vec<String>,
    dir: PathBuf,
    runs: usize,
    child: Option<Child>,
}

impl Framework {
    /// `args` after `--master <url>`; the state directory is `<dir>/state`.
    pub fn new(label: &str, master: &str, args: &[&str]) -> Framework {
        let dir = mesos_tests::output_dir(label);
        let mut all = vec![
            "--master".to_string(),
            master.to_string(),
            "--state-dir".to_string(),
            dir.join("state").display().to_string(),
        ];
        all.extend(args.iter().map(|a| a.to_string()));
        Framework {
            args: all,
            dir,
            runs: 0,
            child: None,
        }
    }

    /// The state directory (for opening the store once no run holds it).
    pub fn state_dir(&self) -> PathBuf {
        self.dir.join("state")
    }

    /// Starts a run (with `extra` arguments).
    pub fn start(&mut self, extra: &[&str]) {
        assert!(self.child.is_none(), "a run is still going");
        self.runs += 1;
        let file = |ext: &str| {
            std::fs::File::create(self.dir.join(format!("run-{}.{ext}", self.runs)))
                .expect("output file")
        };
        let child = Command::new(mesos_tests::example_binary("service_framework"))
            .args(&self.args)
            .args(extra)
            .env("RUST_LOG", "info,mesos_framework=debug")
            .stdin(Stdio::null())
            .stdout(file("stdout"))
            .stderr(file("stderr"))
            .spawn()
            .expect("service_framework starts");
        self.child = Some(child);
    }

    /// SIGKILLs the current run and reaps it.
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("a run to kill");
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
    }

    /// Waits for the current run to exit; its success.
    pub async fn wait_exit(&mut self) -> bool {
        let deadline = Instant::now() + LIMIT;
        let child = self.child.as_mut().expect("a run");
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.child = None;
                return status.success();
            }
            assert!(Instant::now() < deadline, "no exit:\n{}", self.output());
            tokio::time::sleep(POLL).await;
        }
    }

    /// The stdout of run `n` (1-based).
    pub fn stdout_of(&self, n: usize) -> String {
        std::fs::read_to_string(self.dir.join(format!("run-{n}.stdout"))).unwrap_or_default()
    }

    /// The stdout of every run so far, in order.
    pub fn all_stdout(&self) -> String {
        (1..=self.runs).map(|n| self.stdout_of(n)).collect()
    }

    /// The current run's stdout and stderr, for failure messages.
    pub fn output(&self) -> String {
        let err = std::fs::read_to_string(self.dir.join(format!("run-{}.stderr", self.runs)))
            .unwrap_or_default();
        let tail: Vec<&str> = err.lines().rev().take(60).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!(
            "--- stdout of run {}:\n{}--- stderr (last lines):\n{}",
            self.runs,
            self.stdout_of(self.runs),
            tail.join("\n")
        )
    }

    /// Fails when the current run has exited.
    pub fn assert_alive(&mut self) {
        if let Some(child) = self.child.as_mut() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("service_framework exited ({status}):\n{}", self.output());
            }
        }
    }

    /// The values after `prefix` on the current run's lines that start
    /// with it.
    pub fn current_lines(&self, prefix: &str) -> Vec<String> {
        lines(&self.stdout_of(self.runs), prefix)
    }
}

impl Drop for Framework {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            eprintln!("service_framework output kept in {}", self.dir.display());
        }
    }
}

/// What follows `prefix` on each line of `text` starting with it.
pub fn lines(text: &str, prefix: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix(prefix))
        .map(|rest| rest.trim().to_string())
        .collect()
}

/// A task as the master shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskView {
    pub state: String,
    /// The value of the constrained field on its agent.
    pub place: String,
}

impl TaskView {
    fn terminal(&self) -> bool {
        matches!(
            self.state.as_str(),
            "TASK_FINISHED"
                | "TASK_FAILED"
                | "TASK_KILLED"
                | "TASK_LOST"
                | "TASK_ERROR"
                | "TASK_DROPPED"
                | "TASK_GONE"
                | "TASK_GONE_BY_OPERATOR"
        )
    }
}

/// One look at the master: the frameworks of this name and their tasks.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    /// Ids of the frameworks of this name (active or not).
    pub framework_ids: Vec<String>,
    /// Ids of completed frameworks of this name.
    pub completed_ids: Vec<String>,
    /// Every task the master lists for them (active, unreachable,
    /// completed), by id; a task id listed twice is in `duplicates`.
    pub tasks: BTreeMap<String, TaskView>,
    pub duplicates: Vec<String>,
    /// Offers outstanding to them.
    pub offers: usize,
}

impl Snapshot {
    /// Tasks not in a terminal state.
    pub fn live(&self) -> impl Iterator<Item = (&String, &TaskView)> {
        self.tasks.iter().filter(|(_, t)| !t.terminal())
    }

    pub fn running(&self) -> usize {
        self.live()
            .filter(|(_, t)| t.state == "TASK_RUNNING")
            .count()
    }

    /// Live tasks per value of the constrained field.
    pub fn per_place(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for (_, task) in self.live() {
            *counts.entry(task.place.clone()).or_default() += 1;
        }
        counts
    }
}

/// Samples the master and keeps the history the assertions need.
pub struct Observer {
    master: String,
    name: String,
    /// The agent attribute the constraint is on (`None`: the hostname).
    field: Option<String>,
    /// Every value the field has on the cluster's agents.
    pub places: BTreeSet<String>,
    /// Every task id ever seen, with every state it was seen in.
    pub seen: BTreeMap<String, BTreeSet<String>>,
    /// Every framework id ever seen for this name.
    pub framework_ids: BTreeSet<String>,
    /// Broken invariants, as found.
    pub violations: Vec<String>,
    /// The per-place limit (MAX_PER or 1 for UNIQUE) and whether places
    /// must be balanced (GROUP_BY) once all `instances` are listed.
    max_per: usize,
    balanced: bool,
    instances: usize,
    pub samples: usize,
    pub last: Snapshot,
}

impl Observer {
    pub fn new(
        master: &str,
        name: &str,
        field: Option<&str>,
        max_per: usize,
        balanced: bool,
        instances: usize,
    ) -> Self {
        Observer {
            master: master.trim_end_matches('/').to_string(),
            name: name.to_string(),
            field: field.map(str::to_string),
            places: BTreeSet::new(),
            seen: BTreeMap::new(),
            framework_ids: BTreeSet::new(),
            violations: Vec::new(),
            max_per,
            balanced,
            instances,
            samples: 0,
            last: Snapshot::default(),
        }
    }

    /// One look at `/master/state`, recorded and checked.
    pub async fn sample(&mut self) -> Snapshot {
        let state = mesos_test_support::get_json(&format!("{}/master/state", self.master)).await;
        let mut agents = BTreeMap::new();
        for agent in state["slaves"].as_array().into_iter().flatten() {
            let place = match &self.field {
                Some(name) => agent["attributes"][name.as_str()].to_string(),
                None => agent["hostname"].to_string(),
            };
            self.places.insert(place.clone());
            agents.insert(agent["id"].as_str().unwrap_or_default().to_string(), place);
        }
        let mut snapshot = Snapshot::default();
        let mine = |f: &&Value| f["name"].as_str() == Some(self.name.as_str());
        for framework in state["frameworks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(mine)
        {
            snapshot
                .framework_ids
                .push(framework["id"].as_str().unwrap_or_default().to_string());
            snapshot.offers += framework["offers"].as_array().map_or(0, Vec::len);
            for list in ["tasks", "unreachable_tasks", "completed_tasks"] {
                for task in framework[list].as_array().into_iter().flatten() {
                    let id = task["id"].as_str().unwrap_or_default().to_string();
                    let agent = task["slave_id"].as_str().unwrap_or_default();
                    let view = TaskView {
                        state: task["state"].as_str().unwrap_or_default().to_string(),
                        place: agents.get(agent).cloned().unwrap_or_default(),
                    };
                    if snapshot.tasks.insert(id.clone(), view).is_some() {
                        snapshot.duplicates.push(id);
                    }
                }
            }
        }
        for framework in state["completed_frameworks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(mine)
        {
            snapshot
                .completed_ids
                .push(framework["id"].as_str().unwrap_or_default().to_string());
        }
        self.record(&snapshot);
        self.last = snapshot.clone();
        snapshot
    }

    fn record(&mut self, snapshot: &Snapshot) {
        self.samples += 1;
        self.framework_ids
            .extend(snapshot.framework_ids.iter().cloned());
        for (id, task) in &snapshot.tasks {
            self.seen
                .entry(id.clone())
                .or_default()
                .insert(task.state.clone());
        }
        for id in &snapshot.duplicates {
            self.violations.push(format!(
                "sample {}: task id {id} listed twice",
                self.samples
            ));
        }
        let counts = snapshot.per_place();
        for (place, count) in &counts {
            if *count > self.max_per {
                self.violations.push(format!(
                    "sample {}: {count} live instances on {place} (at most {})",
                    self.samples, self.max_per
                ));
            }
        }
        // GROUP_BY balance is judged once the master lists all the tasks
        // the framework placed: its ACCEPTs (one per offer) reach the
        // master one after the other, so a partial view may be lopsided.
        if self.balanced && snapshot.live().count() == self.instances {
            let all: Vec<usize> = self
                .places
                .iter()
                .map(|p| counts.get(p).copied().unwrap_or(0))
                .collect();
            let (min, max) = (all.iter().min(), all.iter().max());
            if let (Some(min), Some(max)) = (min, max) {
                if max - min > 1 {
                    self.violations.push(format!(
                        "sample {}: unbalanced placement {counts:?}",
                        self.samples
                    ));
                }
            }
        }
    }

    /// Samples until `done` holds of a snapshot (each sample checked);
    /// fails after [`LIMIT`] or when the framework exits.
    pub async fn until(
        &mut self,
        framework: &mut Framework,
        what: &str,
        done: impl Fn(&Snapshot, &Framework) -> bool,
    ) -> Snapshot {
        let deadline = Instant::now() + LIMIT;
        loop {
            framework.assert_alive();
            let snapshot = self.sample().await;
            if done(&snapshot, framework) {
                return snapshot;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: not within {LIMIT:?}; last {snapshot:?}\n{}",
                framework.output()
            );
            tokio::time::sleep(POLL).await;
        }
    }
}
