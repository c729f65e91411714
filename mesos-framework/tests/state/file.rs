//! The file store: the conformance suite, damaged files, the process lock,
//! and crash safety under SIGKILL.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use async_trait::async_trait;
use mesos_framework::state::{
    DecodeError, FileStateStore, IntentPhase, StateError, StateStore, StoreLimits,
};
use mesos_proto::v1::{FrameworkId, TaskState};

use crate::conformance::{status, task, Harness};

/// A directory of its own, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(test: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let dir = std::env::temp_dir().join(format!(
            "mesos-framework-state-{test}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct FileHarness(TempDir);

#[async_trait]
impl Harness for FileHarness {
    async fn open(&self, limits: StoreLimits) -> Box<dyn StateStore> {
        Box::new(FileStateStore::open_with_limits(self.0.path(), limits).unwrap())
    }
}

async fn harness(test: &str) -> Option<FileHarness> {
    Some(FileHarness(TempDir::new(test)))
}

conformance_tests!(harness);

fn corrupt_location(err: StateError) -> (String, DecodeError) {
    match err {
        StateError::Corrupt { location, source } => (location, source),
        other => panic!("expected a Corrupt error, got {other:?}"),
    }
}

#[tokio::test]
async fn damaged_files_are_errors_naming_the_file() {
    let dir = TempDir::new("damaged");
    let store = FileStateStore::open(dir.path()).unwrap();
    store
        .set_framework_id(&FrameworkId { value: "f".into() })
        .await
        .unwrap();
    store.record_intent(&task("i1", "a")).await.unwrap();
    store
        .put_task_state(&status("t1", TaskState::TaskRunning, "a"))
        .await
        .unwrap();
    drop(store);

    // Truncated: half of the task state's record.
    let task_file = dir.path().join("tasks").join("t1");
    let bytes = std::fs::read(&task_file).unwrap();
    std::fs::write(&task_file, &bytes[..bytes.len() / 2]).unwrap();
    // Garbage in place of the intent.
    let intent_file = dir.path().join("intents").join("i1");
    std::fs::write(&intent_file, b"{\"not\": \"a record\"}").unwrap();
    // One flipped bit in the framework id.
    let id_file = dir.path().join("framework_id");
    let mut bytes = std::fs::read(&id_file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&id_file, bytes).unwrap();

    let store = FileStateStore::open(dir.path()).unwrap();
    let (location, source) = corrupt_location(store.task_states().await.unwrap_err());
    assert_eq!(location, task_file.display().to_string());
    assert!(matches!(source, DecodeError::Length { .. }), "{source:?}");
    let (location, source) = corrupt_location(store.intents().await.unwrap_err());
    assert_eq!(location, intent_file.display().to_string());
    assert!(matches!(source, DecodeError::Magic), "{source:?}");
    let err = store.framework_id().await.unwrap_err();
    assert!(err.to_string().contains("framework_id"), "{err}");
    let (_, source) = corrupt_location(err);
    assert!(matches!(source, DecodeError::Checksum { .. }), "{source:?}");

    // A record moved under another task's name is caught too.
    let dir2 = TempDir::new("moved");
    let store = FileStateStore::open(dir2.path()).unwrap();
    store
        .put_task_state(&status("t1", TaskState::TaskRunning, "a"))
        .await
        .unwrap();
    drop(store);
    std::fs::rename(dir2.path().join("tasks/t1"), dir2.path().join("tasks/t9")).unwrap();
    let store = FileStateStore::open(dir2.path()).unwrap();
    let (location, source) = corrupt_location(store.task_states().await.unwrap_err());
    assert!(location.ends_with("t9"), "{location}");
    assert!(
        matches!(&source, DecodeError::KeyMismatch { expected, found } if expected == "t9" && found == "t1"),
        "{source:?}"
    );
}

#[tokio::test]
async fn an_oversized_file_is_reported_not_loaded() {
    let dir = TempDir::new("oversized");
    let store =
        FileStateStore::open_with_limits(dir.path(), StoreLimits::default().max_entry_bytes(1024))
            .unwrap();
    drop(store);
    std::fs::write(dir.path().join("tasks").join("huge"), vec![0u8; 1_000_000]).unwrap();
    let store =
        FileStateStore::open_with_limits(dir.path(), StoreLimits::default().max_entry_bytes(1024))
            .unwrap();
    assert!(matches!(
        store.task_states().await,
        Err(StateError::EntryTooLarge {
            len: 1025,
            max: 1024,
            ..
        })
    ));
}

#[tokio::test]
async fn one_process_at_a_time_and_leftovers_are_cleaned() {
    let dir = TempDir::new("lock");
    let store = FileStateStore::open(dir.path()).unwrap();
    assert!(matches!(
        FileStateStore::open(dir.path()),
        Err(StateError::Locked { .. })
    ));
    drop(store);
    // What a write killed before its rename leaves, and a stray file.
    std::fs::write(dir.path().join("tasks").join(".tmp-1-1"), b"partial").unwrap();
    std::fs::write(dir.path().join(".tmp-1-2"), b"partial").unwrap();
    std::fs::write(dir.path().join("tasks").join("not%zz-an-entry"), b"?").unwrap();
    let store = FileStateStore::open(dir.path()).unwrap();
    assert_eq!(store.task_states().await.unwrap(), vec![]);
    assert!(!dir.path().join("tasks").join(".tmp-1-1").exists());
    assert!(!dir.path().join(".tmp-1-2").exists());
    // Too many entries for the limits: refused at open.
    for id in ["a", "b", "c"] {
        store
            .put_task_state(&status(id, TaskState::TaskRunning, "x"))
            .await
            .unwrap();
    }
    drop(store);
    assert!(matches!(
        FileStateStore::open_with_limits(dir.path(), StoreLimits::default().max_tasks(2)),
        Err(StateError::TooManyEntries {
            kind: "tasks",
            max: 2
        })
    ));
}

/// The environment variable that makes [`crash_child`] write.
const CRASH_DIR_VAR: &str = "MESOS_FRAMEWORK_STATE_CRASH_DIR";
/// How many operations a child does at most (it is killed long before).
const CHILD_OPS: u64 = 3000;
const PROGRESS: &str = "STATE-DONE ";

/// The operation number `i` of the child's stream: mostly replacing the
/// state of one of 7 tasks (with payloads of 8–72 KiB, so that writes take
/// a while), every fifth a new intent.
fn child_op(i: u64) -> Op {
    if i % 5 == 4 {
        Op::Intent(format!("i{i}"))
    } else {
        Op::State(format!("t{}", i % 7))
    }
}

enum Op {
    State(String),
    Intent(String),
}

/// Not a test of its own: the child process of
/// [`sigkill_mid_write_loses_no_completed_write`] (does nothing unless
/// `MESOS_FRAMEWORK_STATE_CRASH_DIR` is set). It reports each completed
/// write on stdout.
#[tokio::test]
async fn crash_child() {
    let Ok(dir) = std::env::var(CRASH_DIR_VAR) else {
        return;
    };
    let store =
        FileStateStore::open_with_limits(&dir, StoreLimits::default().max_entry_bytes(1 << 20))
            .unwrap();
    for i in 0..CHILD_OPS {
        match child_op(i) {
            Op::State(id) => {
                let mut s = status(&id, TaskState::TaskRunning, "a");
                s.message = Some(i.to_string());
                s.data = Some(vec![(i % 251) as u8; 8192 + (i as usize * 7919) % 65536].into());
                store.put_task_state(&s).await.unwrap();
            }
            Op::Intent(id) => {
                let mut t = task(&id, "a");
                t.data = Some(vec![(i % 13) as u8; 8192 + (i as usize * 104_729) % 65536].into());
                store.record_intent(&t).await.unwrap();
            }
        }
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{PROGRESS}{i}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn sigkill_mid_write_loses_no_completed_write() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut leftovers = 0;
    for seed in 0..8u64 {
        let dir = TempDir::new(&format!("crash-{seed}"));
        // Kill after 2..=61 completed writes, spread by the seed.
        let kill_after = 2 + (seed * 37 + 11) % 60;
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "file::crash_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CRASH_DIR_VAR, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (lines, progress) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(at) = line.find(PROGRESS) {
                    if let Ok(i) = line[at + PROGRESS.len()..].trim().parse::<u64>() {
                        if lines.send(i).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        let mut completed = Vec::new();
        while completed.len() < kill_after as usize {
            match progress.recv_timeout(Duration::from_secs(60)) {
                Ok(i) => completed.push(i),
                Err(e) => {
                    let _ = child.kill();
                    let output = child.wait_with_output().unwrap();
                    panic!(
                        "seed {seed}: the child stopped reporting after {} writes ({e}): {}",
                        completed.len(),
                        String::from_utf8_lossy(&output.stderr)
                    );
                }
            }
        }
        child.kill().unwrap(); // SIGKILL
        let exit = child.wait().unwrap();
        reader.join().unwrap();
        // Writes reported before the kill landed count as completed too.
        completed.extend(progress.try_iter());
        assert!(
            !exit.success(),
            "seed {seed}: the child finished before the kill"
        );
        let last_done = *completed.last().unwrap();
        assert_eq!(completed, (0..=last_done).collect::<Vec<_>>());
        let in_flight = last_done + 1;

        leftovers += count_temp_files(dir.path());
        let store = FileStateStore::open_with_limits(
            dir.path(),
            StoreLimits::default().max_entry_bytes(1 << 20),
        )
        .unwrap();
        let (states, intents) = runtime.block_on(async {
            (
                store
                    .task_states()
                    .await
                    .expect("no damaged entry after a SIGKILL"),
                store
                    .intents()
                    .await
                    .expect("no damaged entry after a SIGKILL"),
            )
        });
        assert_eq!(
            count_temp_files(dir.path()),
            0,
            "open removes interrupted writes"
        );
        // Each task holds its last completed write, or the one in flight.
        for k in 0..7u64 {
            let id = format!("t{k}");
            let last = (0..=last_done)
                .rev()
                .find(|&i| matches!(child_op(i), Op::State(ref t) if *t == id));
            let stored = states
                .iter()
                .find(|s| s.task_id.value == id)
                .map(|s| s.message.as_deref().unwrap().parse::<u64>().unwrap());
            let in_flight_here = matches!(child_op(in_flight), Op::State(ref t) if *t == id);
            match (last, stored) {
                (Some(last), Some(stored)) => assert!(
                    stored == last || (in_flight_here && stored == in_flight),
                    "seed {seed}: {id} holds write {stored}, its last completed is {last}"
                ),
                (None, None) => {}
                (None, Some(stored)) => {
                    assert!(in_flight_here && stored == in_flight, "seed {seed}: {id}")
                }
                (Some(last), None) => panic!("seed {seed}: completed write {last} of {id} is lost"),
            }
        }
        // Every completed intent is there, pending; nothing beyond the one in flight.
        let mut expected: Vec<String> = (0..=last_done)
            .filter_map(|i| match child_op(i) {
                Op::Intent(id) => Some(id),
                Op::State(_) => None,
            })
            .collect();
        let got: Vec<String> = intents
            .iter()
            .map(|i| i.task.task_id.value.clone())
            .collect();
        if let Op::Intent(id) = child_op(in_flight) {
            if got.contains(&id) {
                expected.push(id);
            }
        }
        expected.sort();
        assert_eq!(got, expected, "seed {seed}");
        assert!(intents.iter().all(|i| i.phase == IntentPhase::Pending));
    }
    // Informative: how many kills landed between a write and its rename.
    eprintln!("temporary files left by the 8 kills: {leftovers}");
}

fn count_temp_files(dir: &Path) -> usize {
    ["", "tasks", "intents"]
        .iter()
        .flat_map(|sub| std::fs::read_dir(dir.join(sub)).unwrap())
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".tmp-")
        })
        .count()
}
