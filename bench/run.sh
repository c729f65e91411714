#!/usr/bin/env bash
# Runs every benchmark: the criterion micro-benchmarks (decode/encode) and the
# end-to-end runs on mesos-local (ours and pymesos's, same workload, same
# cluster configuration), RUNS times each, printing every JSON result line and
# the median tasks/s per configuration. Results go to BENCHMARKS.md by hand,
# with this command.
#
#   bench/run.sh            # RUNS=3 by default
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
bench/setup-pymesos.sh
cargo build --release -p mesos-bench
bin=target/release/mesos-bench

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# run_field FIELD LABEL ARGS...: runs "$bin" ARGS... $runs times and prints
# the median of the JSON field FIELD.
run_field() {
    local field=$1 label=$2; shift 2
    local out; out=$(mktemp)
    for _ in $(seq "$runs"); do "$bin" "$@" | tee -a "$out"; done
    local unit=$field
    [[ $field == *_per_second ]] && unit=${field%_per_second}/s
    printf '%s: median %s %s\n' "$label" "$unit" \
        "$(python3 -c 'import json,sys; [print(json.loads(l)[sys.argv[2]]) for l in open(sys.argv[1])]' "$out" "$field" | median)"
    rm -f "$out"
}

run() { run_field tasks_per_second "$@"; }

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB"
run "mesos-rs e2e, 10 agents, fake containerizer, 10000 tasks" e2e --agents 10 --tasks 10000 --containerizer fake
run "pymesos  e2e, 10 agents, fake containerizer, 10000 tasks" pymesos --agents 10 --tasks 10000
run "mesos-rs e2e, 2 agents, real processes, 1000 tasks" e2e --agents 2 --tasks 1000 --containerizer process
run_field updates_per_second "mesos-rs executor, 1 agent, real processes, 20000 updates over 100 tasks" executor-updates --updates 20000 --tasks 100
"$bin" memory --tasks 100000
cargo bench -p mesos-proto --bench codec
