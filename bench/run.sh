#!/usr/bin/env bash
# Runs every benchmark: the end-to-end runs on mesos-local (ours and
# pymesos's, same workload, same cluster configuration), the executor's
# update throughput, memory at 100,000 tasks, and the criterion
# micro-benchmarks (decode/encode). End-to-end runs repeat RUNS times; every
# JSON result line is printed, then the median of each reported figure.
# Results go to BENCHMARKS.md by hand, with this command.
#
#   bench/run.sh            # RUNS=3 by default
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
bench/setup-pymesos.sh
cargo build --release -p mesos-bench
cargo build --release -p mesos-docker --bin mesos-docker-executor  # for `mesos-bench docker`
bin=${CARGO_TARGET_DIR:-target}/release/mesos-bench

# repeat FIELDS LABEL ARGS...: runs "$bin" ARGS... $runs times and prints the
# median of each JSON field named in FIELDS (comma-separated).
repeat() {
    local fields=$1 label=$2; shift 2
    local out; out=$(mktemp)
    for _ in $(seq "$runs"); do "$bin" "$@" | tee -a "$out"; done
    python3 - "$out" "$fields" "$label" <<'PY'
import json, statistics, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
medians = {f: statistics.median(l[f] for l in lines) for f in sys.argv[2].split(',')}
print(f"{sys.argv[3]}: medians of {len(lines)} runs: " +
      ", ".join(f"{f} {v:.6g}" for f, v in medians.items()))
PY
    rm -f "$out"
}

e2e=tasks_per_second,client_cpu_us_per_task,p50_offer_to_running_ms,p99_offer_to_running_ms,cluster_cpu_seconds
echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB"
repeat "$e2e" "mesos-rs e2e, 10 agents, fake containerizer, 10000 tasks" e2e --agents 10 --tasks 10000 --containerizer fake
repeat "$e2e" "pymesos  e2e, 10 agents, fake containerizer, 10000 tasks" pymesos --agents 10 --tasks 10000
repeat "$e2e" "mesos-rs e2e over JSON (pymesos's media type), 10000 tasks" e2e --agents 10 --tasks 10000 --media json
MESOS_BENCH_PIPELINE_DEPTH=0 repeat "$e2e" "mesos-rs e2e without pipelined calls (each call a connection of its own), 10000 tasks" e2e --agents 10 --tasks 10000 --containerizer fake
repeat "$e2e" "mesos-rs e2e, 2 agents, real processes, 1000 tasks" e2e --agents 2 --tasks 1000 --containerizer process
(unset MESOS_INTEROP_MASTER  # mesos-local's agent here
 repeat updates_per_second "mesos-rs executor, 1 agent, real processes, 20000 updates over 100 tasks" executor-updates --updates 20000 --tasks 100)
if [ -n "${MESOS_INTEROP_MASTER:-}" ]; then  # a real Mesos 1.11 master and agent (../shared/tools/real-mesos)
    repeat updates_per_second "mesos-rs executor on the real agent at $MESOS_INTEROP_MASTER" executor-updates --updates 20000 --tasks 100
    # The e2e workload on the real agent (real processes: 500 tasks, see BENCHMARKS.md for the cluster's settings).
    real=$e2e,cluster_cpu_ms_per_task,cluster_children_cpu_ms_per_task
    repeat "$real" "mesos-rs e2e on the real master at $MESOS_INTEROP_MASTER, 500 tasks" e2e --master "$MESOS_INTEROP_MASTER" --tasks 500
    repeat "$real" "pymesos  e2e on the real master at $MESOS_INTEROP_MASTER, 500 tasks" pymesos --master "$MESOS_INTEROP_MASTER" --tasks 500
fi
# Docker: launch→RUNNING / →exit through mesos-local's Docker containerizer and mesos-docker-executor vs bare `docker run`.
repeat bare_running_ms,mesos_local_running_ms,executor_running_ms,mesos_local_running_ratio,executor_running_ratio,bare_exit_ms,mesos_local_exit_ms,executor_exit_ms \
    "Docker, 20 launches each (medians of the launches)" docker --launches 20
"$bin" memory --tasks 100000
"$bin" memory --tasks 100000 --keep state
"$bin" pymesos --tasks 100000
cargo bench -p mesos-proto --bench codec
# Scale curves (BENCHMARKS.md, "Scale curves"): agents 10 → 10,000 and tasks
# 1k → 100k, one JSON line per point and run, then the SVG plots. The event
# queue bound is raised so that a framework slowed by a busy machine is not
# dropped at 100,000 tasks (see there).
mkdir -p bench/plots
MESOS_BENCH_MAX_QUEUED_EVENTS=1000000 "$bin" scale --runs "$runs" | tee bench/plots/scale.jsonl
python3 bench/plot.py bench/plots/scale.jsonl
