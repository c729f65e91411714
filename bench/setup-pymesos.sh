#!/usr/bin/env bash
# Installs pymesos (a widely used pure-Python client of the Mesos v1 HTTP
# scheduler API) for the side-by-side benchmark and the pymesos interop test.
# Its dependency http-parser ships a C extension that no longer builds on
# Python >= 3.11 (longintrepr.h moved); its pure-Python parser is used
# instead, so it is installed from its source package with the extension
# switched off. Idempotent.
set -euo pipefail
python=${PYTHON:-python3}
if "$python" -c 'import pymesos' 2>/dev/null; then
    exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" -m pip download --quiet --no-deps --no-binary :all: -d "$work" 'http-parser==0.9.0'
tar -xzf "$work"/http-parser-0.9.0.tar.gz -C "$work"
sed -i 's/^    run_setup(not IS_PYPY)$/    run_setup(False)/' "$work"/http-parser-0.9.0/setup.py
"$python" -m pip install --quiet "$work"/http-parser-0.9.0
"$python" -m pip install --quiet pymesos
"$python" -c 'import pymesos' 
