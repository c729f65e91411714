//! The example programs, run as a user would: on the embedded cluster
//! (`local`), and against a real Mesos master when `MESOS_INTEROP_MASTER`
//! names one.

use std::time::Duration;

use mesos_tests::{example_binary, interop_master, output_dir, run_with_timeout};

const LIMIT: Duration = Duration::from_secs(120);

fn run_example(name: &str, args: &[&str]) {
    let program = example_binary(name);
    let (status, output) = run_with_timeout(&program, args, LIMIT);
    let status = status
        .unwrap_or_else(|| panic!("{name} {args:?} did not finish within {LIMIT:?}:\n{output}"));
    assert!(
        status.success(),
        "{name} {args:?} failed ({status}):\n{output}"
    );
}

#[test]
fn test_framework_runs_on_the_embedded_cluster() {
    run_example("test_framework", &["local", "3"]);
}

#[test]
fn test_framework_runs_against_real_mesos() {
    let Some(master) = interop_master("test_framework_runs_against_real_mesos") else {
        return;
    };
    run_example("test_framework", &[&master, "3"]);
}

#[test]
fn stream_scheduler_runs_on_the_embedded_cluster() {
    run_example("stream_scheduler", &["local", "3"]);
}

#[test]
fn stream_scheduler_runs_against_real_mesos() {
    let Some(master) = interop_master("stream_scheduler_runs_against_real_mesos") else {
        return;
    };
    run_example("stream_scheduler", &[&master, "3"]);
}

/// `cluster_watch` follows a real master's operator SUBSCRIBE: the agent in
/// its snapshot, then the tasks `stream_scheduler` runs meanwhile, from
/// added to finished; Ctrl-C (SIGINT) ends it with success.
#[test]
fn cluster_watch_prints_the_tasks_of_real_mesos_live() {
    let Some(master) = interop_master("cluster_watch_prints_the_tasks_of_real_mesos_live") else {
        return;
    };
    let mut watch = Running::start("cluster_watch", &[&master], &[]);
    let snapshot = watch.wait_for_line("= snapshot: ", LIMIT);
    assert!(!snapshot.contains(" 0 agents"), "{snapshot}");
    watch.wait_for_line("  agent ", LIMIT);
    run_example("stream_scheduler", &[&master, "2"]);
    // Other tests run frameworks on the same real master meanwhile: the
    // watch must show one framework whose tasks are exactly this run's
    // two, each added and then finished.
    let deadline = std::time::Instant::now() + LIMIT;
    while !two_tasks_added_and_finished(&watch.stdout()) {
        assert!(
            std::time::Instant::now() < deadline,
            "cluster_watch did not print both tasks of one framework finishing:\n{}",
            watch.output()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    watch.signal("INT");
    let status = watch.wait(LIMIT);
    assert!(status.success(), "{status}:\n{}", watch.output());
}

/// Whether `stdout` of `cluster_watch` shows a framework whose added tasks
/// are exactly `stream-task-0` and `stream-task-1`, both finished (lines
/// `* task <id> (framework <fw>) added: ...` and `... -> TASK_FINISHED`).
fn two_tasks_added_and_finished(stdout: &str) -> bool {
    use std::collections::{BTreeMap, BTreeSet};
    let key = |line: &str| -> Option<(String, String)> {
        let rest = line.strip_prefix("* task ")?;
        let (task, rest) = rest.split_once(" (framework ")?;
        let (framework, _) = rest.split_once(')')?;
        Some((framework.to_string(), task.to_string()))
    };
    let mut added: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut finished: BTreeSet<(String, String)> = BTreeSet::new();
    for line in stdout.lines() {
        let Some((framework, task)) = key(line) else {
            continue;
        };
        if line.contains(" added: ") {
            added
                .entry(framework.clone())
                .or_default()
                .insert(task.clone());
        }
        if line.contains("-> TASK_FINISHED") {
            finished.insert((framework, task));
        }
    }
    let wanted: BTreeSet<String> = ["stream-task-0", "stream-task-1"]
        .into_iter()
        .map(String::from)
        .collect();
    added.iter().any(|(framework, tasks)| {
        *tasks == wanted
            && tasks
                .iter()
                .all(|t| finished.contains(&(framework.clone(), t.clone())))
    })
}

// ------------------------------------------------------------------ Docker

/// Whether a Docker engine answers; reports the skip otherwise (a failure
/// with `MESOS_RS_REQUIRE_ENV=1`).
fn docker_available(test: &str) -> bool {
    mesos_test_support::environment::docker(test)
}

/// Container names starting with `prefix` (`docker ps`, with `-a` when
/// `all`).
fn containers(prefix: &str, all: bool) -> Vec<String> {
    let mut command = std::process::Command::new("docker");
    command.arg("ps");
    if all {
        command.arg("-a");
    }
    let output = command
        .args(["--format", "{{.Names}}"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("docker ps");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|name| name.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

/// An example running in the background, its output in files; killed (and
/// its containers removed) if the test fails.
struct Running {
    child: std::process::Child,
    dir: std::path::PathBuf,
    prefix: Option<String>,
}

impl Running {
    fn start(name: &str, args: &[&str], envs: &[(&str, &str)]) -> Running {
        let program = example_binary(name);
        let dir = output_dir(name);
        let child = std::process::Command::new(program)
            .args(args)
            .envs(envs.iter().copied())
            .stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create(dir.join("stdout")).expect("stdout file"))
            .stderr(std::fs::File::create(dir.join("stderr")).expect("stderr file"))
            .spawn()
            .unwrap_or_else(|e| panic!("{name} starts: {e}"));
        Running {
            child,
            dir,
            prefix: None,
        }
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(self.dir.join("stdout")).unwrap_or_default()
    }

    fn output(&self) -> String {
        format!(
            "{}{}",
            self.stdout(),
            std::fs::read_to_string(self.dir.join("stderr")).unwrap_or_default()
        )
    }

    /// Waits until stdout has a line starting with `start`; returns it.
    fn wait_for_line(&mut self, start: &str, timeout: Duration) -> String {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(line) = self.stdout().lines().find(|l| l.starts_with(start)) {
                return line.to_string();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "exited ({status}) before printing {start:?}:\n{}",
                    self.output()
                );
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no {start:?} within {timeout:?}:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The embedded cluster's container name prefix, from the example's
    /// "docker containers: <prefix>*" line.
    fn docker_prefix(&mut self) -> String {
        let line = self.wait_for_line("docker containers: ", LIMIT);
        let prefix = line
            .trim_start_matches("docker containers: ")
            .trim_end_matches('*')
            .to_string();
        assert!(prefix.starts_with("mesos-"), "{line}");
        self.prefix = Some(prefix.clone());
        prefix
    }

    fn wait(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "did not exit within {timeout:?}:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal}");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if let Some(prefix) = &self.prefix {
            let names = containers(prefix, true);
            if !names.is_empty() {
                let _ = std::process::Command::new("docker")
                    .args(["rm", "-f", "-v"])
                    .args(&names)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .status();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const DOCKER_IMAGE: &str = "mesos-rs-test:busybox";

#[test]
fn docker_framework_runs_two_containers_then_exits_when_asked() {
    if !docker_available("docker_framework_runs_two_containers_then_exits_when_asked") {
        return;
    }
    let mut example = Running::start(
        "docker_framework",
        &["local", DOCKER_IMAGE, "2"],
        &[("DOCKER_FRAMEWORK_EXIT_WHEN_RUNNING", "1")],
    );
    let prefix = example.docker_prefix();
    let status = example.wait(LIMIT);
    let output = example.output();
    assert!(status.success(), "failed ({status}):\n{output}");
    assert!(output.contains("Running tasks: 2, pending: 0"), "{output}");
    // What `docker ps` showed while both tasks were RUNNING.
    let line = output
        .lines()
        .find(|l| l.starts_with("containers running: "))
        .unwrap_or_else(|| panic!("no docker ps report:\n{output}"));
    let running: Vec<&str> = line
        .trim_start_matches("containers running: ")
        .split_whitespace()
        .collect();
    assert_eq!(running.len(), 2, "{line}");
    assert!(running.iter().all(|n| n.starts_with(&prefix)), "{line}");
    assert_eq!(containers(&prefix, true), Vec::<String>::new(), "{output}");
}

fn docker_framework_stops_cleanly_on(signal: &str) {
    let test = format!("docker_framework_stops_cleanly_on_{signal}");
    if !docker_available(&test) {
        return;
    }
    let mut example = Running::start("docker_framework", &["local", DOCKER_IMAGE, "2"], &[]);
    let prefix = example.docker_prefix();
    example.wait_for_line("Running tasks: 2, pending: 0", LIMIT);
    // Both containers really run on the engine.
    let running = containers(&prefix, false);
    assert_eq!(running.len(), 2, "{running:?}\n{}", example.output());
    // And keep running (the image's entrypoint loops with KEEP_RUNNING).
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(containers(&prefix, false), running, "{}", example.output());
    example.signal(signal);
    let status = example.wait(Duration::from_secs(60));
    let output = example.output();
    assert!(status.success(), "failed ({status}):\n{output}");
    assert!(output.contains("interrupted; stopping"), "{output}");
    assert_eq!(containers(&prefix, true), Vec::<String>::new(), "{output}");
}

#[test]
fn docker_framework_stops_cleanly_on_sigint() {
    docker_framework_stops_cleanly_on("INT");
}

#[test]
fn docker_framework_stops_cleanly_on_sigterm() {
    docker_framework_stops_cleanly_on("TERM");
}

#[test]
fn command_framework_runs_on_the_embedded_cluster() {
    if !docker_available("command_framework_runs_on_the_embedded_cluster (Docker task)") {
        let (status, output) = run_with_timeout(
            &example_binary("command_framework"),
            &["local", "--no-docker"],
            LIMIT,
        );
        assert!(status.is_some_and(|s| s.success()), "{output}");
        assert!(output.contains("shell-task finished"), "{output}");
        assert!(output.contains("fetched-task finished"), "{output}");
        return;
    }
    let mut example = Running::start("command_framework", &["local"], &[]);
    let status = example.wait(LIMIT);
    let output = example.output();
    assert!(status.success(), "failed ({status}):\n{output}");
    assert!(output.contains("shell-task finished"), "{output}");
    assert!(output.contains("docker-task finished"), "{output}");
    assert!(output.contains("fetched-task finished"), "{output}");
    assert!(
        output.contains("Container exited with status 0"),
        "{output}"
    );
}

#[test]
fn command_framework_runs_against_real_mesos() {
    let Some(master) = interop_master("command_framework_runs_against_real_mesos") else {
        return;
    };
    // The real agent of shared/tools/real-mesos has no Docker containerizer
    // and no `mesos-fetcher` (every fetch fails there).
    run_example("command_framework", &[&master, "--no-docker", "--no-fetch"]);
}
