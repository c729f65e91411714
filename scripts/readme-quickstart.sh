#!/usr/bin/env bash
# Builds the README's "A framework in 20 lines" as a user would: a new crate
# whose [dependencies] are the README's block (the workspace's crates taken
# by path instead of from crates.io) and whose main.rs is the README's code.
# Usage: scripts/readme-quickstart.sh   (uses $CARGO_TARGET_DIR if set)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$root" "$work" <<'PY'
import pathlib, re, sys
root, work = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
readme = (root / "README.md").read_text()
section = readme.split("## A framework in 20 lines", 1)[1]
toml = re.search(r"```toml\n(.*?)```", section, re.S).group(1)
code = re.search(r"```rust[^\n]*\n(.*?)```", section, re.S).group(1)
if "[dependencies]" not in toml:
    sys.exit("README: no [dependencies] block in the quickstart")
crates = [p.parent.name for p in root.glob("mesos-*/Cargo.toml")]
def by_path(line):
    name = line.split("=", 1)[0].strip()
    if name in crates:
        rest = line.split("=", 1)[1].strip()
        features = re.search(r"features\s*=\s*(\[[^\]]*\])", rest)
        extra = f", features = {features.group(1)}" if features else ""
        return f'{name} = {{ path = "{root / name}"{extra} }}'
    return line
deps = "\n".join(by_path(l) for l in toml.strip().splitlines())
(work / "src").mkdir()
(work / "Cargo.toml").write_text(
    '[package]\nname = "readme-quickstart"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n'
    + deps + "\n\n[workspace]\n")
(work / "src" / "main.rs").write_text(code)
PY
cp "$root/Cargo.lock" "$work/Cargo.lock"
cd "$work"
# Without debug information: the build only has to succeed.
CARGO_PROFILE_DEV_DEBUG=false cargo build --quiet
echo "README quickstart: built ($(grep -c '' src/main.rs) lines, deps: $(grep -E '^(mesos|tokio)' Cargo.toml | cut -d' ' -f1 | tr '\n' ' '))"
