#!/usr/bin/env python3
"""Checks that the declared MSRV is honest.

The workspace's `rust-version` must be at least the highest `rust-version`
that any normal (non-dev, non-build) dependency in the lockfile declares, for
every crate that is published (`publish` not false). Reads `cargo metadata
--locked` (all features), prints the dependencies that set the floor, exits 1
when the declared version is below it.
"""
import json
import subprocess
import sys


def version(text):
    parts = [int(p) for p in (text or "0").split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def main():
    metadata = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked", "--all-features"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    packages = {p["id"]: p for p in metadata["packages"]}
    nodes = {n["id"]: n for n in metadata["resolve"]["nodes"]}
    published = [
        i for i in metadata["workspace_members"] if packages[i].get("publish") is None
    ]
    declared = max(version(packages[i].get("rust_version")) for i in published)
    lowest = min(version(packages[i].get("rust_version")) for i in published)
    if lowest != declared:
        print("error: the published crates declare different rust-versions", file=sys.stderr)
        return 1

    seen, stack = set(), list(published)
    while stack:
        for dep in nodes[stack.pop()]["deps"]:
            normal = any(kind["kind"] is None for kind in dep["dep_kinds"])
            if normal and dep["pkg"] not in seen:
                seen.add(dep["pkg"])
                stack.append(dep["pkg"])
    floor = max((version(packages[i].get("rust_version")), i) for i in seen)[0]
    setters = sorted(
        f'{packages[i]["name"]} {packages[i]["version"]}'
        for i in seen
        if version(packages[i].get("rust_version")) == floor
    )
    show = lambda v: ".".join(str(x) for x in v)
    print(f"declared rust-version {show(declared)}; normal dependencies need {show(floor)} ({', '.join(setters)})")
    if declared < floor:
        print(
            f"error: rust-version {show(declared)} is below what the dependencies need; "
            f"raise it to {show(floor)} or constrain the lockfile",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
