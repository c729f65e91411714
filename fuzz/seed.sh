#!/usr/bin/env bash
# Regenerates the seed corpora in fuzz/seeds/<target>/ from the recorded
# Mesos 1.11 samples (../shared/mesos-samples next to the repository, or
# $MESOS_SAMPLES) plus a few hand-written inputs. Needs python3.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
samples="${MESOS_SAMPLES:-$here/../../shared/mesos-samples}"
[ -d "$samples" ] || { echo "no samples at $samples (set MESOS_SAMPLES)" >&2; exit 1; }
rm -rf "$here/seeds"
python3 - "$samples" "$here/seeds" <<'PY'
import json, os, sys

samples, out = sys.argv[1], sys.argv[2]

def put(target, name, data):
    os.makedirs(os.path.join(out, target), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data)

def read(name, mode="rb"):
    with open(os.path.join(samples, name), mode) as f:
        return f.read()

def records(stream):
    """Splits a RecordIO stream into its records."""
    result = []
    while stream:
        head, stream = stream.split(b"\n", 1)
        n = int(head)
        result.append(stream[:n])
        stream = stream[n:]
    return result

def jsonl(name):
    # One event or call per line, compacted.
    return [json.dumps(json.loads(l), separators=(",", ":"))
            for l in read(name, "r").splitlines() if l.strip()]

# recordio: byte 0 = max record length / 4 (255: no limit), byte 1 = chunking seed.
json_stream = read("subscribe-stream.recordio")
pb_stream = read("subscribe-stream-protobuf.recordio")
put("recordio", "json-unbounded-bytewise", b"\xff\x00" + json_stream)
put("recordio", "json-max768-chunks16", b"\xc0\x02" + json_stream)
put("recordio", "json-max64-too-large", b"\x10\x03" + json_stream)
put("recordio", "protobuf-unbounded-chunks3", b"\xff\x01" + pb_stream)
put("recordio", "protobuf-max400-chunks200", b"\x64\x07" + pb_stream)
put("recordio", "empty-records", b"\x01\x00" + b"0\n0\n1\nx0\n")
put("recordio", "leading-zeros", b"\x01\x02" + b"002\n{}")
put("recordio", "truncated", b"\xff\x00" + b"20\n{\"type\":")

# scheduler_event / scheduler_event_convert: single events, JSON and protobuf.
events = []
for name in ["launch-scheduler-events.jsonl", "command-task-scheduler-events.jsonl",
             "executor-exits-without-subscribing-events.jsonl"]:
    events += jsonl(name)
events += [r.decode() for r in records(json_stream)]
seen = set()
for i, event in enumerate(events):
    if event in seen:
        continue
    seen.add(event)
    kind = json.loads(event).get("type", "none").lower()
    for target in ["scheduler_event", "scheduler_event_convert"]:
        put(target, "json-%02d-%s" % (i, kind), event)
for i, record in enumerate(records(pb_stream)):
    for target in ["scheduler_event", "scheduler_event_convert"]:
        put(target, "protobuf-%02d" % i, record)
huge = '{"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"f"},"heartbeat_interval_seconds":1e300}}'
put("scheduler_event_convert", "json-huge-heartbeat", huge)

# executor_event
for i, event in enumerate(jsonl("executor-events.jsonl")):
    kind = json.loads(event).get("type", "none").lower()
    put("executor_event", "json-%02d-%s" % (i, kind), event)
put("executor_event", "json-kill", '{"type":"KILL","kill":{"task_id":{"value":"t1"},"kill_policy":{"grace_period":{"nanoseconds":5000000000}}}}')
put("executor_event", "json-shutdown", '{"type":"SHUTDOWN"}')
put("executor_event", "json-message", '{"type":"MESSAGE","message":{"data":"aGVsbG8="}}')
put("executor_event", "json-error", '{"type":"ERROR","error":{"message":"boom"}}')

# server_call: line 1 Content-Type, line 2 Accept (empty: none), then the body.
for i, call in enumerate(jsonl("launch-scheduler-calls.jsonl")):
    kind = json.loads(call).get("type", "none").lower()
    put("server_call", "scheduler-json-%02d-%s" % (i, kind), "application/json\n\n" + call)
put("server_call", "scheduler-json-accept-protobuf",
    "application/json; charset=utf-8\napplication/x-protobuf, */*\n" + jsonl("launch-scheduler-calls.jsonl")[0])
executor_calls = [
    '{"type":"SUBSCRIBE","framework_id":{"value":"f1"},"executor_id":{"value":"e1"},"subscribe":{"unacknowledged_tasks":[],"unacknowledged_updates":[]}}',
    '{"type":"UPDATE","framework_id":{"value":"f1"},"executor_id":{"value":"e1"},"update":{"status":{"task_id":{"value":"t1"},"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR","uuid":"ZtjCfdu3R2WouH89jhjw5w==","timestamp":1.7e9}}}',
    '{"type":"MESSAGE","framework_id":{"value":"f1"},"executor_id":{"value":"e1"},"message":{"data":"aGVsbG8="}}',
    '{"type":"HEARTBEAT","framework_id":{"value":"f1"},"executor_id":{"value":"e1"}}',
]
for i, call in enumerate(executor_calls):
    kind = json.loads(call)["type"].lower()
    put("server_call", "executor-json-%02d-%s" % (i, kind), "application/json\napplication/json\n" + call)
put("server_call", "protobuf-empty", "application/x-protobuf\n\n")
put("server_call", "unsupported", "text/plain\n\nhello")
put("server_call", "not-acceptable", "application/json\ntext/html\n{}")

# resources: "A|B", two --resources strings (or the JSON form).
state = json.loads(read("agent-state.json", "r"))
agent = state["flags"]["resources"]
put("resources", "agent-flag", agent)
put("resources", "agent-flag-minus-task", agent + "|cpus:1;mem:128;ports:[31000-31000]")
put("resources", "agent-json", json.dumps(state["unreserved_resources_full"]) + "|cpus:0.5")
put("resources", "roles-sets", "cpus(web):2;mem(*):512;disks:{a,b,c}|cpus(web):1.5;disks:{b}")
put("resources", "ranges", "ports:[1-5,10-20,30]|ports:[3-12]")
put("resources", "fixed-point", "cpus:0.1;cpus:0.2|cpus:0.3")

# duration
for text in ["2500ms", "5secs", "1.5mins", "15mins", "0ns", "10us", "2hrs",
             "1days", "3weeks", " 0.25mins ", "999999999999999999999weeks"]:
    put("duration", text.strip().replace(".", "_") or "blank", text)

# docker_flags: argv (one per line), an empty line, then NAME=VALUE lines.
argv = [
    "--cgroups_enable_cfs=false", "--container=mesos-0f3c", "--docker=docker",
    "--docker_socket=/var/run/docker.sock", "--help=false",
    "--initialize_driver_logging=true", "--launcher_dir=/usr/libexec/mesos",
    "--logbufsecs=0", "--logging_level=INFO", "--mapped_directory=/mnt/mesos/sandbox",
    "--quiet=false", "--sandbox_directory=/var/lib/mesos/slaves/S0/sandbox",
    "--stop_timeout=0ns", '--task_environment={"PORT":"31000","N":3}',
    '--default_container_dns={"docker":[{"network_mode":"BRIDGE","dns":{"nameservers":["1.1.1.1"]}}]}',
]
env = read("executor-env-shell.txt", "r")
put("docker_flags", "agent-argv-env", "\n".join(argv) + "\n\n" + env)
put("docker_flags", "agent-argv-nul", "\0".join(argv))
put("docker_flags", "separate-values", "--container\nmesos-1\n--stop_timeout\n10secs\n--no-cgroups_enable_cfs\n--cgroups_enable_cfs\nfalse\n\nMESOS_FRAMEWORK_ID=f\nMESOS_EXECUTOR_ID=e\nMESOS_AGENT_ENDPOINT=127.0.0.1:5051\nMESOS_CHECKPOINT=1\nMESOS_RECOVERY_TIMEOUT=15mins\nMESOS_SUBSCRIPTION_BACKOFF_MAX=2secs\n")
put("docker_flags", "help", "--help")
PY
for d in "$here"/seeds/*/; do echo "$(basename "$d"): $(ls "$d" | wc -l) files, $(du -sh "$d" | cut -f1)"; done
