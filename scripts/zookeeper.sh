#!/usr/bin/env bash
# A throw-away standalone ZooKeeper for tests (the Debian `zookeeper` package,
# installed with apt when missing; it runs on the machine's JRE).
#
#   scripts/zookeeper.sh start   # prints 127.0.0.1:PORT as its last line once the server answers
#   scripts/zookeeper.sh stop    # stops the server `start` started (by its saved PID) and removes its files
#   scripts/zookeeper.sh status  # prints the address and exits 0 when it is running and answers
#
# Settings (environment):
#   ZK_DIR      state directory (default /tmp/mesos-rs-zookeeper): zoo.cfg, data/, zookeeper.pid,
#               zookeeper.addr, zookeeper.log
#   ZK_PORT     client port (default: a free loopback port picked at start)
#   ZK_TIMEOUT  seconds to wait for the server to answer (default 60)
#
# The server answers the `ruok` four-letter word (whitelisted in zoo.cfg, as
# 3.5+ requires); `start` waits for `imok`, never for a fixed time.
set -euo pipefail

ZK_DIR="${ZK_DIR:-/tmp/mesos-rs-zookeeper}"
ZK_TIMEOUT="${ZK_TIMEOUT:-60}"
pid_file="$ZK_DIR/zookeeper.pid"
addr_file="$ZK_DIR/zookeeper.addr"
jar=/usr/share/java/zookeeper.jar

log() { printf 'zookeeper.sh: %s\n' "$*" >&2; }

install_zookeeper() {
    if [ -f "$jar" ] && command -v java >/dev/null 2>&1; then
        return
    fi
    log "installing Debian's zookeeper package (and a JRE if missing)"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends zookeeper >"$ZK_DIR/apt.log" 2>&1; then
        apt-get update >>"$ZK_DIR/apt.log" 2>&1
        apt-get install -y --no-install-recommends zookeeper >>"$ZK_DIR/apt.log" 2>&1 || {
            log "apt-get install zookeeper failed; see $ZK_DIR/apt.log"
            tail -n 20 "$ZK_DIR/apt.log" >&2
            exit 1
        }
    fi
    if [ ! -f "$jar" ] || ! command -v java >/dev/null 2>&1; then
        log "zookeeper is installed but $jar or java is missing"
        exit 1
    fi
}

# A free TCP port on 127.0.0.1 (the kernel picks it; the socket is closed before ZooKeeper binds it).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# `ruok` over a plain TCP connection; succeeds when the server says `imok`.
answers() {
    local port=$1
    python3 - "$port" <<'EOF'
import socket, sys
try:
    with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2) as s:
        s.sendall(b"ruok")
        reply = s.recv(16)
    sys.exit(0 if reply == b"imok" else 1)
except OSError:
    sys.exit(1)
EOF
}

running_pid() {
    [ -f "$pid_file" ] || return 1
    local pid
    pid=$(cat "$pid_file")
    # Ours only: the saved PID must still be a java process running our zoo.cfg.
    if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$ZK_DIR/zoo.cfg"; then
        echo "$pid"
        return 0
    fi
    return 1
}

start() {
    mkdir -p "$ZK_DIR"
    if pid=$(running_pid) && answers "$(cut -d: -f2 "$addr_file")"; then
        log "already running (pid $pid)"
        cat "$addr_file"
        return
    fi
    install_zookeeper
    local port=${ZK_PORT:-$(free_port)}
    rm -rf "$ZK_DIR/data"
    mkdir -p "$ZK_DIR/data"
    cat >"$ZK_DIR/zoo.cfg" <<EOF
tickTime=500
minSessionTimeout=1000
maxSessionTimeout=60000
initLimit=10
syncLimit=5
dataDir=$ZK_DIR/data
clientPort=$port
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=*
EOF
    # Debian's jar carries its dependencies' class path in its manifest.
    setsid java -Xmx256m -Dzookeeper.log.dir="$ZK_DIR" \
        -cp "/etc/zookeeper/conf:$jar" \
        org.apache.zookeeper.server.ZooKeeperServerMain "$ZK_DIR/zoo.cfg" \
        >"$ZK_DIR/zookeeper.log" 2>&1 </dev/null &
    echo $! >"$pid_file"
    echo "127.0.0.1:$port" >"$addr_file"
    local deadline=$((SECONDS + ZK_TIMEOUT))
    until answers "$port"; do
        if ! running_pid >/dev/null; then
            log "ZooKeeper exited; last lines of $ZK_DIR/zookeeper.log:"
            tail -n 30 "$ZK_DIR/zookeeper.log" >&2
            exit 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "ZooKeeper did not answer ruok within ${ZK_TIMEOUT}s"
            stop
            exit 1
        fi
        sleep 0.2
    done
    log "ZooKeeper answers on 127.0.0.1:$port (pid $(cat "$pid_file"))"
    cat "$addr_file"
}

stop() {
    if pid=$(running_pid); then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        log "stopped (pid $pid)"
    fi
    rm -rf "$ZK_DIR/data" "$pid_file" "$addr_file"
}

status() {
    if pid=$(running_pid) && answers "$(cut -d: -f2 "$addr_file")"; then
        cat "$addr_file"
    else
        log "not running"
        exit 1
    fi
}

case "${1:-start}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *)
        log "usage: $0 [start|stop|status]"
        exit 2
        ;;
esac
