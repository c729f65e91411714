//! Destroying a container while its image is being pulled abandons the pull
//! at once (its `docker pull` process is killed) and leaves nothing behind.
//!
//! There is no registry here, so a real pull fails immediately; the pull is
//! made to hang with a stand-in `docker` CLI (a shell script) whose `pull`
//! sleeps, the one fault path the real engine cannot produce on demand.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use mesos_docker::containerizer::{DockerContainerizer, LaunchError, LaunchState};
use mesos_docker::docker::Docker;
use mesos_proto::builders::DockerInfoBuilder;
use mesos_proto::v1::TaskInfo;

/// `image inspect` says the image is missing; `pull` records its pid and
/// hangs; `docker rm -f` (the clean-up) is recorded; anything else answers
/// "no such container".
const FAKE_DOCKER: &str = r#"#!/bin/sh
dir=$(dirname "$0")
case "$1" in
  image) echo "Error: No such image: $4" >&2; exit 1 ;;
  pull) echo $$ > "$dir/pull.pid"; exec sleep 60 ;;
  rm) echo "$@" >> "$dir/rm.log"; exit 0 ;;
  *) echo "Error: No such container: x" >&2; exit 1 ;;
esac
"#;

fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // A zombie (state Z) is dead for our purpose.
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

async fn wait_until(deadline: Duration, mut check: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + deadline;
    while Instant::now() < until {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    check()
}

#[tokio::test]
async fn destroy_during_pull_kills_the_pull_and_leaves_nothing() {
    let dir = std::env::temp_dir().join(format!("mesos-docker-mid-pull-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cli = dir.join("docker");
    std::fs::write(&cli, FAKE_DOCKER).unwrap();
    std::fs::set_permissions(&cli, std::fs::Permissions::from_mode(0o755)).unwrap();

    let containerizer = DockerContainerizer::new(Docker::new(&cli));
    let task = TaskInfo::builder("t", "t1")
        .agent_id("a1")
        .cpus(0.1)
        .mem(32.0)
        .container(DockerInfoBuilder::new("registry.invalid/never:1"))
        .command(mesos_proto::builders::CommandInfoBuilder::entrypoint())
        .build()
        .unwrap();
    let sandbox = dir.join("sandbox");
    std::fs::create_dir_all(&sandbox).unwrap();

    let launcher = containerizer.clone();
    let launch = tokio::spawn(async move {
        launcher
            .launch("c1", &task, sandbox, &BTreeMap::new())
            .await
    });
    let pid_file = dir.join("pull.pid");
    assert!(
        wait_until(Duration::from_secs(10), || pid_file.exists()).await,
        "the pull started"
    );
    assert_eq!(containerizer.state("c1"), Some(LaunchState::Pulling));
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(alive(pid));

    let started = Instant::now();
    containerizer
        .destroy("c1", Duration::from_secs(1))
        .await
        .unwrap();
    let result = tokio::time::timeout(Duration::from_secs(5), launch)
        .await
        .expect("the launch ends promptly")
        .unwrap();
    assert!(
        matches!(result, Err(LaunchError::Destroyed(ref id)) if id == "c1"),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        wait_until(Duration::from_secs(5), || !alive(pid)).await,
        "the docker pull process was killed"
    );
    assert_eq!(
        containerizer.state("c1"),
        None,
        "the container is forgotten"
    );
    let removed = std::fs::read_to_string(dir.join("rm.log")).unwrap_or_default();
    assert!(
        removed.contains("mesos-c1"),
        "a container of that name is removed: {removed:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!Path::new(&dir).exists());
}
