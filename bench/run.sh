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

run() {
    local label=$1; shift
    local out; out=$(mktemp)
    for _ in $(seq "$runs"); do "$bin" "$@" | tee -a "$out"; done
    printf '%s: median tasks/s %s\n' "$label" \
        "$(python3 -c 'import json,sys; [print(json.loads(l)["tasks_per_second"]) for l in open(sys.argv[1])]' "$out" | median)"
    rm -f "$out"
}

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB"
run "mesos-rs e2e, 10 agents, fake containerizer, 10000 tasks" e2e --agents 10 --tasks 10000 --containerizer fake
run "pymesos  e2e, 10 agents, fake containerizer, 10000 tasks" pymesos --agents 10 --tasks 10000
run "mesos-rs e2e, 2 agents, real processes, 1000 tasks" e2e --agents 2 --tasks 1000 --containerizer process
"$bin" memory --tasks 100000
cargo bench -p mesos-proto --bench codec
