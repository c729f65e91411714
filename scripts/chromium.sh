#!/usr/bin/env bash
# Headless Chromium for the cluster page's browser test (Debian's `chromium`
# package, installed with apt when missing).
#
#   scripts/chromium.sh install   # installs it if missing; prints the browser's path as its last line
#   scripts/chromium.sh path      # prints the browser's path, or exits 1 when it is not installed
#
# The test (mesos-local/tests/cluster_page) runs `install` itself when no
# browser is found; CI may run it first so that the test never skips.
# Settings (environment):
#   CHROMIUM_LOG  where apt's output goes (default /tmp/mesos-rs-chromium-apt.log)
set -euo pipefail

CHROMIUM_LOG="${CHROMIUM_LOG:-/tmp/mesos-rs-chromium-apt.log}"
# Debian's /usr/bin/chromium is a wrapper script; the browser itself:
binary=/usr/lib/chromium/chromium

log() { printf 'chromium.sh: %s\n' "$*" >&2; }

path() {
    if [ -x "$binary" ]; then
        echo "$binary"
        return 0
    fi
    return 1
}

install_chromium() {
    if path >/dev/null; then
        path
        return
    fi
    if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
        log "chromium is missing and installing it needs root (or sudo)"
        exit 1
    fi
    local apt=(apt-get)
    [ "$(id -u)" -eq 0 ] || apt=(sudo -n apt-get)
    log "installing Debian's chromium package (apt output: $CHROMIUM_LOG)"
    export DEBIAN_FRONTEND=noninteractive
    if ! "${apt[@]}" install -y --no-install-recommends chromium >"$CHROMIUM_LOG" 2>&1; then
        "${apt[@]}" update >>"$CHROMIUM_LOG" 2>&1
        "${apt[@]}" install -y --no-install-recommends chromium >>"$CHROMIUM_LOG" 2>&1 || {
            log "apt-get install chromium failed; see $CHROMIUM_LOG"
            tail -n 20 "$CHROMIUM_LOG" >&2
            exit 1
        }
    fi
    if ! path >/dev/null; then
        log "chromium is installed but $binary is missing"
        exit 1
    fi
    log "$("$binary" --version 2>/dev/null || echo chromium) installed"
    path
}

case "${1:-install}" in
    install) install_chromium ;;
    path) path || { log "not installed"; exit 1; } ;;
    *)
        log "usage: $0 [install|path]"
        exit 2
        ;;
esac
