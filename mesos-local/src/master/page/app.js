// The live cluster page of mesos-local's master: follows the operator API's
// SUBSCRIBE stream (RecordIO of JSON events, read with fetch() as it
// arrives), keeps the cluster's state folded from it, and renders it.
// No polling: the page changes when an event arrives. When the stream ends
// (or stays silent past its heartbeats) it resubscribes after a backoff.
"use strict";

const MAX_RECORD_BYTES = 16 * 1024 * 1024; // A SUBSCRIBED snapshot fits.
const MAX_RECENT_TASKS = 200;
const MAX_REMOVED_FRAMEWORKS = 100;
const MAX_SANDBOX_CHARS = 1024 * 1024;
const SANDBOX_READ_BYTES = 64 * 1024;
const SANDBOX_FOLLOW_MS = 1000;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10000;
const TERMINAL_STATES = new Set([
  "TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_ERROR", "TASK_LOST",
  "TASK_DROPPED", "TASK_GONE", "TASK_GONE_BY_OPERATOR",
]);

// ------------------------------------------------------------- RecordIO

// Splits a byte stream into RecordIO records ("<length>\n<bytes>").
class RecordIoParser {
  constructor(maxRecordBytes) {
    this.max = maxRecordBytes;
    this.buffer = new Uint8Array(0);
    this.expected = null;
    this.decoder = new TextDecoder();
  }

  // Adds `chunk` and returns the records it completes; throws on a
  // malformed or oversized record.
  push(chunk) {
    const merged = new Uint8Array(this.buffer.length + chunk.length);
    merged.set(this.buffer);
    merged.set(chunk, this.buffer.length);
    this.buffer = merged;
    const records = [];
    for (;;) {
      if (this.expected === null) {
        const newline = this.buffer.indexOf(10);
        if (newline < 0) {
          if (this.buffer.length > 20) throw new Error("RecordIO: record length too long");
          break;
        }
        const header = this.decoder.decode(this.buffer.subarray(0, newline)).trim();
        if (!/^\d+$/.test(header)) throw new Error(`RecordIO: bad record length ${JSON.stringify(header)}`);
        const length = Number(header);
        if (length > this.max) throw new Error(`RecordIO: a record of ${length} bytes is over the limit`);
        this.expected = length;
        this.buffer = this.buffer.subarray(newline + 1);
      }
      if (this.buffer.length < this.expected) break;
      records.push(this.decoder.decode(this.buffer.subarray(0, this.expected)));
      this.buffer = this.buffer.slice(this.expected);
      this.expected = null;
    }
    return records;
  }
}

// ---------------------------------------------------------------- state

const cluster = {
  agents: new Map(),     // agent id -> mesos.v1.master.Response.GetAgents.Agent
  frameworks: new Map(), // framework id -> { info, active, connected, removed }
  tasks: new Map(),      // "framework/task" -> { task, state, since }
  events: 0,
};

const value = (id) => (id && id.value) || "";
const taskKey = (task) => `${value(task.framework_id)}/${value(task.task_id)}`;

function reset(getState) {
  cluster.agents.clear();
  cluster.frameworks.clear();
  cluster.tasks.clear();
  const agents = (getState.get_agents || {}).agents || [];
  agents.forEach((agent) => cluster.agents.set(value(agent.agent_info.id), agent));
  const frameworks = getState.get_frameworks || {};
  (frameworks.frameworks || []).forEach((f) => addFramework(f, false));
  (frameworks.completed_frameworks || []).forEach((f) => addFramework(f, true));
  forgetOldFrameworks();
  const tasks = getState.get_tasks || {};
  const all = [].concat(tasks.completed_tasks || [], tasks.unreachable_tasks || [], tasks.tasks || []);
  all.forEach(addTask);
}

function addFramework(framework, removed) {
  cluster.frameworks.set(value(framework.framework_info.id), {
    info: framework.framework_info,
    active: Boolean(framework.active),
    connected: Boolean(framework.connected),
    removed,
  });
}

// When (ms since the epoch) `status` was sent, else now.
const statusTime = (status) => (status && status.timestamp ? status.timestamp * 1000 : Date.now());

// `since`: when the task reached its state (its latest status' time);
// `seen`: when this page learnt it.
function addTask(task) {
  const statuses = task.statuses || [];
  const since = statusTime(statuses[statuses.length - 1]);
  cluster.tasks.set(taskKey(task), { task, state: task.state || "TASK_STAGING", since, seen: Date.now() });
  forgetOldTasks();
}

function updateTask(update) {
  const status = update.status || {};
  const key = `${value(update.framework_id)}/${value(status.task_id)}`;
  const entry = cluster.tasks.get(key);
  if (!entry) return;
  const state = update.state || status.state;
  if (state && state !== entry.state) {
    entry.state = state;
    entry.since = statusTime(status);
    entry.seen = Date.now();
  }
  if (TERMINAL_STATES.has(entry.state)) {
    // Most recently ended last: a Map iterates in insertion order.
    cluster.tasks.delete(key);
    cluster.tasks.set(key, entry);
    forgetOldTasks();
  }
}

// Keeps at most MAX_RECENT_TASKS ended tasks (the oldest ended go first).
function forgetOldTasks() {
  let ended = 0;
  for (const entry of cluster.tasks.values()) if (TERMINAL_STATES.has(entry.state)) ended += 1;
  for (const [key, entry] of cluster.tasks) {
    if (ended <= MAX_RECENT_TASKS) break;
    if (TERMINAL_STATES.has(entry.state)) {
      cluster.tasks.delete(key);
      ended -= 1;
    }
  }
}

// Keeps at most MAX_REMOVED_FRAMEWORKS removed frameworks (the first
// known go first).
function forgetOldFrameworks() {
  let removed = [...cluster.frameworks.values()].filter((f) => f.removed).length;
  for (const [id, framework] of cluster.frameworks) {
    if (removed <= MAX_REMOVED_FRAMEWORKS) break;
    if (framework.removed) {
      cluster.frameworks.delete(id);
      removed -= 1;
    }
  }
}

// Applies one operator event; returns the heartbeat interval of SUBSCRIBED.
function apply(event) {
  cluster.events += 1;
  switch (event.type) {
    case "SUBSCRIBED":
      reset(event.subscribed.get_state || {});
      return event.subscribed.heartbeat_interval_seconds;
    case "TASK_ADDED":
      addTask(event.task_added.task);
      break;
    case "TASK_UPDATED":
      updateTask(event.task_updated);
      break;
    case "AGENT_ADDED":
      cluster.agents.set(value(event.agent_added.agent.agent_info.id), event.agent_added.agent);
      break;
    case "AGENT_REMOVED":
      cluster.agents.delete(value(event.agent_removed.agent_id));
      break;
    case "FRAMEWORK_ADDED":
      addFramework(event.framework_added.framework, false);
      break;
    case "FRAMEWORK_UPDATED":
      addFramework(event.framework_updated.framework, false);
      break;
    case "FRAMEWORK_REMOVED": {
      const id = value(event.framework_removed.framework_info.id);
      const known = cluster.frameworks.get(id);
      if (known) known.removed = true;
      forgetOldFrameworks();
      break;
    }
    default: // HEARTBEAT and events the page does not show.
      break;
  }
  return undefined;
}

// --------------------------------------------------------------- render

function el(tag, text, attributes) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  Object.entries(attributes || {}).forEach(([name, v]) => node.setAttribute(name, v));
  return node;
}

function scalars(resources) {
  const sums = {};
  (resources || []).forEach((r) => {
    if (r.type === "SCALAR" && r.scalar) sums[r.name] = (sums[r.name] || 0) + r.scalar.value;
  });
  return sums;
}

const round = (n) => Math.round(n * 100) / 100;

function fillTable(id, rows) {
  const body = document.querySelector(`#${id} tbody`);
  body.replaceChildren(...rows);
  document.getElementById(`${id}-count`).textContent = String(rows.length);
}

function render() {
  const active = [...cluster.tasks.values()].filter((e) => !TERMINAL_STATES.has(e.state));
  const used = new Map();
  const taskCount = new Map();
  active.forEach(({ task }) => {
    const agent = value(task.agent_id);
    const sums = used.get(agent) || {};
    Object.entries(scalars(task.resources)).forEach(([name, n]) => { sums[name] = (sums[name] || 0) + n; });
    used.set(agent, sums);
    taskCount.set(agent, (taskCount.get(agent) || 0) + 1);
  });
  fillTable("agents", [...cluster.agents.entries()].map(([id, agent]) => {
    const total = scalars(agent.total_resources || agent.agent_info.resources);
    const inUse = used.get(id) || {};
    const cell = (name) => el("td", `${round(inUse[name] || 0)} / ${round(total[name] || 0)}`, { "data-resource": name });
    const row = el("tr", null, { "data-agent-id": id });
    row.append(el("td", id, { class: "id" }), el("td", `${agent.agent_info.hostname}:${agent.agent_info.port || 5051}`),
      cell("cpus"), cell("mem"), cell("disk"), el("td", taskCount.get(id) || 0));
    return row;
  }));
  fillTable("frameworks", [...cluster.frameworks.entries()].map(([id, f]) => {
    const state = f.removed ? "removed" : f.active ? "active" : "inactive";
    const tasks = active.filter((e) => value(e.task.framework_id) === id).length;
    const roles = (f.info.roles || []).concat(f.info.role ? [f.info.role] : []);
    const row = el("tr", null, { "data-framework-id": id, "data-state": state });
    row.append(el("td", id, { class: "id" }), el("td", f.info.name), el("td", f.info.user),
      el("td", roles.join(", ")), el("td", state), el("td", tasks));
    return row;
  }));
  const ended = [...cluster.tasks.values()].filter((e) => TERMINAL_STATES.has(e.state)).reverse();
  fillTable("active-tasks", active.map(taskRow));
  fillTable("recent-tasks", ended.map(taskRow));
  document.body.dataset.events = String(cluster.events);
}

function taskRow(entry) {
  const { task } = entry;
  const framework = cluster.frameworks.get(value(task.framework_id));
  const row = el("tr", null, {
    "data-task-id": value(task.task_id), "data-state": entry.state, "data-seen": String(entry.seen),
  });
  const sandbox = el("td");
  ["stdout", "stderr"].forEach((file) => {
    const button = el("button", file, { type: "button", "data-file": file });
    button.addEventListener("click", () => openSandbox(task, file));
    sandbox.append(button, " ");
  });
  row.append(el("td", value(task.task_id), { class: "id" }), el("td", task.name),
    el("td", framework ? framework.info.name : value(task.framework_id)), el("td", value(task.agent_id), { class: "id" }),
    el("td", entry.state.replace(/^TASK_/, ""), { class: "state", "data-state": entry.state }),
    el("td", new Date(entry.since).toLocaleTimeString()), sandbox);
  return row;
}

let renderQueued = false;
function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  queueMicrotask(() => { renderQueued = false; render(); });
}

// ------------------------------------------------------------ subscribe

function setConnection(state, text) {
  const node = document.getElementById("connection");
  node.dataset.state = state;
  node.textContent = text;
}

// One subscription: resolves when the stream ends; throws on an error.
async function followOnce(onSubscribed) {
  const abort = new AbortController();
  let watchdog = null;
  const watch = (seconds) => {
    clearTimeout(watchdog);
    if (seconds > 0) watchdog = setTimeout(() => abort.abort(new Error("no heartbeat")), seconds * 3000);
  };
  try {
    const response = await fetch("/api/v1", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ type: "SUBSCRIBE" }),
      signal: abort.signal,
      cache: "no-store",
    });
    if (!response.ok) throw new Error(`SUBSCRIBE answered ${response.status} ${await response.text()}`);
    const parser = new RecordIoParser(MAX_RECORD_BYTES);
    const reader = response.body.getReader();
    let heartbeat = 0;
    for (;;) {
      const { done, value: chunk } = await reader.read();
      if (done) return;
      watch(heartbeat);
      for (const record of parser.push(chunk)) {
        const interval = apply(JSON.parse(record));
        if (interval !== undefined) {
          heartbeat = interval;
          watch(heartbeat);
          onSubscribed();
        }
      }
      scheduleRender();
    }
  } finally {
    clearTimeout(watchdog);
    abort.abort();
  }
}

async function follow() {
  let attempt = 0;
  for (;;) {
    let reason = "the stream ended";
    try {
      await followOnce(() => {
        attempt = 0;
        setConnection("live", "live");
      });
    } catch (error) {
      reason = error && error.message ? error.message : String(error);
    }
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempt) * (0.5 + Math.random() / 2);
    attempt = Math.min(attempt + 1, 10);
    setConnection("reconnecting", `reconnecting in ${(delay / 1000).toFixed(1)} s (${reason})`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

// -------------------------------------------------------------- sandbox

let sandbox = null; // { task, file, offset, timer, decoder }

function sandboxPath(task, file) {
  // A command task's executor has the task's id.
  const executor = value(task.executor_id) || value(task.task_id);
  return `/frameworks/${value(task.framework_id)}/executors/${executor}/runs/latest/${file}`;
}

function base64Bytes(text) {
  const binary = atob(text || "");
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function openSandbox(task, file) {
  closeSandbox();
  sandbox = { task, file, offset: 0, timer: null, decoder: new TextDecoder() };
  document.getElementById("sandbox-title").textContent = `${value(task.task_id)}: ${file}`;
  document.getElementById("sandbox-output").textContent = "";
  document.getElementById("sandbox-status").textContent = "reading…";
  document.getElementById("sandbox").hidden = false;
  readSandbox(sandbox);
}

function closeSandbox() {
  if (sandbox) clearTimeout(sandbox.timer);
  sandbox = null;
  document.getElementById("sandbox").hidden = true;
}

// Reads what the file gained since the last read, then again after a
// while as long as the viewer is open (as `tail -f` does) and the file
// can be read.
async function readSandbox(view) {
  const { task, file } = view;
  let status;
  let again = false;
  try {
    const response = await fetch(`/cluster/agents/${encodeURIComponent(value(task.agent_id))}/api/v1`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({
        type: "READ_FILE",
        read_file: { path: sandboxPath(task, file), offset: view.offset, length: SANDBOX_READ_BYTES },
      }),
      cache: "no-store",
    });
    if (sandbox !== view) return;
    if (response.status === 404) {
      status = "the sandbox is gone (its executor ended) or the file does not exist";
    } else if (!response.ok) {
      status = `READ_FILE answered ${response.status} ${await response.text()}`;
    } else {
      const answer = (await response.json()).read_file || {};
      const bytes = base64Bytes(answer.data);
      view.offset += bytes.length;
      const output = document.getElementById("sandbox-output");
      let text = output.textContent + view.decoder.decode(bytes, { stream: true });
      if (text.length > MAX_SANDBOX_CHARS) text = text.slice(text.length - MAX_SANDBOX_CHARS);
      if (bytes.length > 0) output.textContent = text;
      status = `${view.offset} of ${answer.size || 0} bytes`;
      again = true;
    }
  } catch (error) {
    status = `reading failed: ${error.message}`;
  }
  if (sandbox !== view) return;
  document.getElementById("sandbox-status").textContent = status;
  if (again) view.timer = setTimeout(() => readSandbox(view), SANDBOX_FOLLOW_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("sandbox-close").addEventListener("click", closeSandbox);
  render();
  follow();
});
