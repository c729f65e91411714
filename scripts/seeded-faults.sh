#!/usr/bin/env bash
# The long seeded fault-injection run: many seeds of tests/seeded_faults
# (release build), ending with its summary line
#   seeded faults: <n> seeds, <v> violations, <duration> s (...)
#
# Usage: scripts/seeded-faults.sh [SEEDS] [SEED_BASE]
#   SEEDS      how many seeds (default 500)
#   SEED_BASE  the first seed (default 0)
# Environment: SEED_PARALLEL (seeds at a time, default 2), RUST_LOG.
# Replay one failing seed: SEED=<n> cargo test -p mesos-tests --test seeded_faults -- --nocapture
set -euo pipefail
cd "$(dirname "$0")/.."
export SEEDS="${1:-${SEEDS:-500}}"
export SEED_BASE="${2:-${SEED_BASE:-0}}"
log="$(mktemp -t seeded-faults.XXXXXX.log)"
status=0
cargo test -p mesos-tests --test seeded_faults --release -- --nocapture 2>&1 | tee "$log" || status=$?
echo
grep -E '^seeded faults:' "$log" || echo "seeded faults: no summary (the run failed before the end; see $log)"
grep -E '^SEED=' "$log" | sed 's/^/failed: /' || true
echo "full log: $log"
exit "$status"
