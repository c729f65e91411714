#!/usr/bin/env bash
# Every published crate builds lint-free (clippy -D warnings) with no
# default features, with each of its features alone and with all of them
# (what `cargo hack --each-feature` does, without installing it); its unit
# tests pass with no default features (with all features they run in the
# workspace's test command, whose feature unification turns on every
# feature the test crates use); and the scheduler and executor without
# default features pull no TLS stack (nor does the operator client).
# (With the workspace's line-tables-only debug profile the extra test
# binaries cost about a GB of disk: see the disk figures .ci/run prints.)
# Usage: scripts/check-features.sh   (uses $CARGO_TARGET_DIR if set)
set -euo pipefail
cd "$(dirname "$0")/.."

crates_and_features=$(cargo metadata --format-version 1 --no-deps | python3 -c '
import json, sys
m = json.load(sys.stdin)
for p in m["packages"]:
    if p.get("publish") is None:
        features = sorted(f for f in p["features"] if f != "default")
        print(p["name"], " ".join(features))
')

while read -r crate features; do
    for set in "" $features ALL; do
        case "$set" in
            "") flags=(--no-default-features) ; label="no default features" ;;
            ALL) flags=(--all-features) ; label="all features" ;;
            *) flags=(--no-default-features --features "$set") ; label="feature $set" ;;
        esac
        case "$set" in
            "")
                printf '==> %s, %s: clippy, unit tests\n' "$crate" "$label"
                cargo clippy -q -p "$crate" "${flags[@]}" --lib --bins -- -D warnings
                cargo test -q -p "$crate" "${flags[@]}" --lib --bins >/dev/null ;;
            *)
                printf '==> %s, %s: clippy\n' "$crate" "$label"
                cargo clippy -q -p "$crate" "${flags[@]}" --lib --bins -- -D warnings ;;
        esac
    done
done <<< "$crates_and_features"

for crate in mesos-scheduler mesos-executor mesos-operator; do
    tree=$(cargo tree -p "$crate" --no-default-features -e normal --prefix none)
    if grep -qE '^(rustls|ring|hyper-rustls) ' <<< "$tree"; then
        echo "error: $crate --no-default-features pulls a TLS stack:" >&2
        grep -E '^(rustls|ring|hyper-rustls) ' <<< "$tree" | sort -u >&2
        exit 1
    fi
    echo "$crate --no-default-features: no rustls/ring"
done
