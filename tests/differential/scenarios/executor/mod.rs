//! Executor-API scenarios: a scheduler launches a task whose custom
//! executor is a shell script that only writes its environment to a file
//! and then waits (until told to exit with a code); the test then speaks
//! the executor API itself, raw, to the agent as that executor, so every
//! call, error path and event sequence is scripted on both targets.
//!
//! The agent's executor endpoint is `/<agent pid id>/api/v1/executor` on
//! `MESOS_AGENT_ENDPOINT` (`/slave(1)/api/v1/executor`: on real-mesos the
//! un-prefixed path is the master's), as Mesos's own executor library
//! builds it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mesos_proto::MediaType;
use serde_json::{json, Value};
use tokio::time::Instant;

use super::tasks::{first_offer, scalar};
use super::{merge, Ctx, Framework, EVENT_WAIT};
use crate::http::{EventStream, Request, Response, Target};
use crate::observe::{self, Observations};

mod calls;
mod errors;
mod lifecycle;

/// How long the executor script may take to write its environment.
const ENV_WAIT: Duration = Duration::from_secs(20);

/// What a launch is made of, beyond the defaults.
#[derive(Default)]
pub(crate) struct Setup {
    /// Merged into the FrameworkInfo.
    pub(crate) framework: Value,
    /// Merged into the ExecutorInfo.
    pub(crate) executor: Value,
    /// The executor exits with this code right after writing its
    /// environment (it never subscribes).
    pub(crate) exit_at_once: Option<i32>,
    /// LAUNCH_GROUP of two tasks (`<name>-task`, `<name>-task-2`) instead
    /// of a LAUNCH of one; the executor is of type CUSTOM, with the
    /// framework's id and 16 MB of disk (`executor` is merged after them).
    pub(crate) group: bool,
}

/// A launch accepted: the framework, the ids, the script's directory.
pub(crate) struct Accepted {
    pub(crate) framework: Framework,
    pub(crate) agent_id: Value,
    pub(crate) executor_id: String,
    pub(crate) task_id: String,
    dir: PathBuf,
}

impl Accepted {
    /// Removes the script's directory (a launch that never ran it).
    pub(crate) fn remove_dir(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A framework whose task's custom executor runs and waits for the test
/// to speak for it.
pub(crate) struct Launched {
    pub(crate) framework: Framework,
    /// The agent that runs the executor (`http://MESOS_AGENT_ENDPOINT`).
    pub(crate) agent: Target,
    /// The executor API's path on it.
    pub(crate) path: String,
    pub(crate) executor_id: String,
    pub(crate) task_id: String,
    pub(crate) agent_id: Value,
    /// The environment the executor was given.
    pub(crate) env: BTreeMap<String, String>,
    /// Where the script writes `env` and waits for `exit`.
    dir: PathBuf,
}

impl Drop for Launched {
    fn drop(&mut self) {
        // Ends the script's wait (if still running) and removes its files.
        let _ = std::fs::write(self.dir.join("exit"), "0");
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fresh directory for one launch's files.
pub(crate) fn control_dir(name: &str) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "mesos-rs-differential-{}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        name
    ));
    std::fs::create_dir_all(&dir).expect("control dir");
    dir
}

/// The executor's shell script: writes `env` to `dir/env` (atomically),
/// then waits for `dir/exit` and exits with the code it holds.
fn script(dir: &std::path::Path) -> String {
    let d = dir.display();
    format!(
        "env > '{d}/env.tmp' && mv '{d}/env.tmp' '{d}/env'; \
         while [ ! -e '{d}/exit' ]; do sleep 0.05; done; exit $(cat '{d}/exit')"
    )
}

/// `KEY=value` lines (a value spanning lines is continued).
fn parse_env(text: &str) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    let mut last: Option<String> = None;
    for line in text.lines() {
        match line.split_once('=') {
            Some((key, value))
                if !key.is_empty()
                    && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
            {
                env.insert(key.to_string(), value.to_string());
                last = Some(key.to_string());
            }
            _ => {
                if let Some(value) = last.as_ref().and_then(|k| env.get_mut(k)) {
                    value.push('\n');
                    value.push_str(line);
                }
            }
        }
    }
    env
}

/// Waits (bounded) for the script's environment file.
async fn wait_for_env(dir: &std::path::Path) -> BTreeMap<String, String> {
    let deadline = Instant::now() + ENV_WAIT;
    loop {
        if let Ok(text) = std::fs::read_to_string(dir.join("env")) {
            return parse_env(&text);
        }
        assert!(
            Instant::now() < deadline,
            "the executor did not write its environment within {ENV_WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A (version 4) uuid's bytes in the JSON mapping (base64), unique in
/// this process.
pub(crate) fn new_uuid() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&nanos.to_be_bytes());
    bytes[8..].copy_from_slice(&NEXT.fetch_add(1, Ordering::Relaxed).to_be_bytes());
    // Version 4, RFC 4122 variant: the real agent refuses a uuid of an
    // unknown version.
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    base64(&bytes)
}

/// Standard base64 with padding.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

impl Ctx {
    /// Subscribes a framework and accepts its first offer with a launch of
    /// the waiting custom executor (and its task or task group).
    pub(crate) async fn accept_launch(&self, setup: Setup) -> Accepted {
        let mut framework = self.subscribe(setup.framework).await;
        let offer = first_offer(&mut framework).await;
        let dir = control_dir(&self.name);
        if let Some(code) = setup.exit_at_once {
            std::fs::write(dir.join("exit"), code.to_string()).expect("exit file");
        }
        let executor_id = format!("{}-executor", self.name);
        let task_id = format!("{}-task", self.name);
        let mut executor = json!({
            "executor_id": {"value": executor_id},
            "command": {
                "value": script(&dir),
                "shell": true,
                "environment": {"variables": [
                    {"name": "DIFFERENTIAL_VARIABLE", "value": "a value"},
                ]},
            },
            "resources": [scalar("cpus", 0.1), scalar("mem", 32.0)],
        });
        merge(&mut executor, setup.executor.clone());
        let task = |id: &str| {
            json!({
                "name": "differential",
                "task_id": {"value": id},
                "agent_id": offer["agent_id"],
                "resources": [scalar("cpus", 0.1), scalar("mem", 32.0)],
            })
        };
        let operation = if setup.group {
            // A task group's executor needs a type, its framework's id and
            // some disk (the master fills in none of them).
            executor["type"] = json!("CUSTOM");
            executor["framework_id"] = json!({"value": framework.framework_id});
            executor["resources"]
                .as_array_mut()
                .expect("executor resources")
                .push(scalar("disk", 16.0));
            merge(&mut executor, setup.executor.clone());
            // `null` in `executor` removes a field.
            if let Some(fields) = executor.as_object_mut() {
                fields.retain(|_, v| !v.is_null());
            }
            json!({"type": "LAUNCH_GROUP", "launch_group": {
                "executor": executor,
                "task_group": {"tasks": [task(&task_id), task(&format!("{task_id}-2"))]},
            }})
        } else {
            let mut task = task(&task_id);
            task["executor"] = executor;
            json!({"type": "LAUNCH", "launch": {"task_infos": [task]}})
        };
        let accept = json!({"accept": {
            "offer_ids": [offer["id"]],
            "operations": [operation],
            "filters": {"refuse_seconds": 1.0},
        }});
        let answer = self.framework_call(&framework, "ACCEPT", accept).await;
        assert_eq!(answer.status, 202, "ACCEPT: {}", answer.text());
        Accepted {
            framework,
            agent_id: offer["agent_id"].clone(),
            executor_id,
            task_id,
            dir,
        }
    }

    /// [`Ctx::accept_launch`], then waits for the executor's environment.
    pub(crate) async fn launch_executor(&self, setup: Setup) -> Launched {
        let Accepted {
            framework,
            agent_id,
            executor_id,
            task_id,
            dir,
        } = self.accept_launch(setup).await;
        let env = wait_for_env(&dir).await;
        let endpoint = env
            .get("MESOS_AGENT_ENDPOINT")
            .expect("MESOS_AGENT_ENDPOINT")
            .clone();
        let pid = env.get("MESOS_SLAVE_PID").expect("MESOS_SLAVE_PID");
        let path = format!("/{}/api/v1/executor", pid.split('@').next().unwrap_or(""));
        Launched {
            framework,
            agent: Target::new(&format!("http://{endpoint}")),
            path,
            executor_id,
            task_id,
            agent_id,
            env,
            dir,
        }
    }

    /// The executor API of the (first) agent, found in `/master/state`
    /// (its pid), for calls that need no executor: `(target, path)`.
    pub(crate) async fn agent_endpoint(&self) -> (Target, String) {
        let state = self.master_state().await;
        let pid = state["slaves"][0]["pid"].as_str().expect("an agent's pid");
        let (id, address) = pid.split_once('@').expect("pid id@address");
        (
            Target::new(&format!("http://{address}")),
            format!("/{id}/api/v1/executor"),
        )
    }
}

impl Launched {
    /// The framework id.
    pub(crate) fn framework_id(&self) -> &str {
        &self.framework.framework_id
    }

    /// An executor call of `kind` for this executor, with `fields` merged.
    pub(crate) fn call_json(&self, kind: &str, fields: Value) -> Value {
        let mut call = json!({
            "type": kind,
            "framework_id": {"value": self.framework_id()},
            "executor_id": {"value": self.executor_id},
        });
        merge(&mut call, fields);
        call
    }

    /// Sends `request` to the executor API (its path set).
    pub(crate) async fn send(&self, request: Request) -> Response {
        self.agent.send(request.to(&self.path)).await
    }

    /// Sends executor call `kind` with `fields`, in `media`.
    pub(crate) async fn call(&self, media: MediaType, kind: &str, fields: Value) -> Response {
        let call = self.call_json(kind, fields);
        self.send(Request::executor_call(&self.path, media, call))
            .await
    }

    /// SUBSCRIBE (with `fields` merged into `subscribe`), in `media`.
    pub(crate) async fn subscribe(&self, media: MediaType, fields: Value) -> Response {
        let mut subscribe = json!({"subscribe": {}});
        merge(&mut subscribe["subscribe"], fields);
        self.call(media, "SUBSCRIBE", subscribe).await
    }

    /// SUBSCRIBE in JSON; panics unless it streams.
    pub(crate) async fn subscribed(&self) -> Response {
        let answer = self.subscribe(MediaType::Json, json!({})).await;
        assert_eq!(answer.status, 200, "executor SUBSCRIBE: {}", answer.text());
        answer
    }

    /// SUBSCRIBE in JSON, its events recorded up to LAUNCH; returns the
    /// subscription.
    pub(crate) async fn running(&self, o: &mut Observations) -> Response {
        let mut subscription = self.subscribed().await;
        let events = subscription.events.as_mut().expect("events");
        events_until(o, "executor event", events, "LAUNCH").await;
        subscription
    }

    /// A TaskStatus of this executor's task.
    pub(crate) fn status(&self, state: &str) -> Value {
        self.status_of(&self.task_id, state)
    }

    /// A TaskStatus of task `task_id`.
    pub(crate) fn status_of(&self, task_id: &str, state: &str) -> Value {
        json!({
            "task_id": {"value": task_id},
            "state": state,
            "source": "SOURCE_EXECUTOR",
            "uuid": new_uuid(),
        })
    }

    /// UPDATE with `status`, in JSON.
    pub(crate) async fn update(&self, status: Value) -> Response {
        self.call(
            MediaType::Json,
            "UPDATE",
            json!({"update": {"status": status}}),
        )
        .await
    }

    /// Makes the executor script exit with `code`.
    pub(crate) fn exit(&self, code: i32) {
        std::fs::write(self.dir.join("exit"), code.to_string()).expect("exit file");
    }

    /// The scheduler's next event of `kind`.
    pub(crate) async fn scheduler_event(&mut self, kind: &str) -> Value {
        self.framework
            .events()
            .wait_for(kind, EVENT_WAIT)
            .await
            .unwrap_or_else(|| panic!("scheduler stream ended before {kind}"))
    }

    /// The scheduler's next UPDATE, acknowledged (if it has a uuid);
    /// returns it.
    pub(crate) async fn scheduler_update(&mut self, ctx: &Ctx) -> Value {
        let update = self.scheduler_event("UPDATE").await;
        let status = &update["update"]["status"];
        if let Some(uuid) = status["uuid"].as_str() {
            let ack = json!({"acknowledge": {
                "agent_id": status["agent_id"],
                "task_id": status["task_id"],
                "uuid": uuid,
            }});
            let answer = ctx
                .framework_call(&self.framework, "ACKNOWLEDGE", ack)
                .await;
            assert_eq!(answer.status, 202, "ACKNOWLEDGE: {}", answer.text());
        }
        update
    }

    /// The values in `value` with what is run-specific replaced: the
    /// framework, agent, executor and container ids, the sandbox, the
    /// agent's address and the control directory.
    pub(crate) fn normalise(&self, value: &Value, container_id: Option<&str>) -> Value {
        let mut replacements: Vec<(String, &str)> = vec![
            (self.dir.display().to_string(), "<control dir>"),
            (self.framework_id().to_string(), "<framework_id>"),
        ];
        if let Some(agent) = self.agent_id["value"].as_str() {
            replacements.push((agent.to_string(), "<agent_id>"));
        }
        if let Some(container) = container_id {
            replacements.push((container.to_string(), "<container_id>"));
        }
        if let Some(sandbox) = self.env.get("MESOS_DIRECTORY") {
            // `<work_dir>/slaves/<agent_id>/frameworks/...`: the work dir
            // is the run's.
            if let Some(at) = sandbox.find("/slaves/") {
                replacements.push((sandbox[..at].to_string(), "<work_dir>"));
            }
        }
        if let Some(endpoint) = self.env.get("MESOS_AGENT_ENDPOINT") {
            if let Some((_, port)) = endpoint.rsplit_once(':') {
                replacements.push((format!(":{port}"), ":<port>"));
            }
        }
        replace_strings(value, &replacements)
    }
}

fn replace_strings(value: &Value, replacements: &[(String, &str)]) -> Value {
    match value {
        Value::String(s) => {
            let mut s = s.clone();
            for (from, to) in replacements {
                if !from.is_empty() {
                    s = s.replace(from.as_str(), to);
                }
            }
            Value::String(s)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| replace_strings(v, replacements))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), replace_strings(v, replacements)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The next event of `stream` within [`EVENT_WAIT`], skipping
/// HEARTBEATs: `None` if the stream ended.
pub(crate) async fn next_event(stream: &mut EventStream) -> Option<Value> {
    let deadline = Instant::now() + EVENT_WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match stream.next(left).await {
            Ok(Some(event)) if event["type"] == "HEARTBEAT" => continue,
            Ok(event) => return event,
            Err(e) => panic!("executor stream: {e}"),
        }
    }
}

/// Records the executor stream's events (type and fields) until `last`
/// (inclusive) or the end of the stream.
pub(crate) async fn events_until(
    o: &mut Observations,
    step: &str,
    stream: &mut EventStream,
    last: &str,
) -> Vec<Value> {
    let mut seen = Vec::new();
    while let Some(event) = next_event(stream).await {
        o.push(step, observe::event(&event));
        let done = event["type"] == last;
        seen.push(event);
        if done {
            return seen;
        }
    }
    o.push(step, json!({"stream ended": true}));
    seen
}
