#!/usr/bin/env bash
# Throughput and tail latency of GET / under (1) gunicorn with the real
# gunicorn.conf.py and (2) Flask's threaded development server, driven by the
# same wrk load on loopback. Prints requests/s, p99 and the gunicorn/dev ratio.
# Not part of the test suite; needs wrk and Debian's python3-flask, gunicorn,
# python3-prometheus-client.
#
# Knobs (env): WRK_THREADS (4) WRK_CONNECTIONS (32) WRK_DURATION (20s)
#              GUNICORN_WORKERS (2) GUNICORN_THREADS (4) PYTHON (/usr/bin/python3)
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3}
WRK_THREADS=${WRK_THREADS:-4}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-32}
WRK_DURATION=${WRK_DURATION:-20s}
export GUNICORN_WORKERS=${GUNICORN_WORKERS:-2}
export GUNICORN_THREADS=${GUNICORN_THREADS:-4}

command -v wrk >/dev/null || { echo "wrk not found (apt-get install wrk)" >&2; exit 1; }

WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# Fake configuration so the app is fully configured; nothing here is a real secret.
export SECRET_KEY=bench-fake-secret API_BASE_URL=http://api.example.invalid DB_PASSWORD=bench-fake-password
export LOG_LEVEL=${LOG_LEVEL:-INFO} APP_VERSION=bench
unset PROMETHEUS_MULTIPROC_DIR REVEAL_SECRETS

free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_serving() {  # url
    for _ in $(seq 300); do
        if "$PYTHON" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "$1" 2>/dev/null; then
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || { echo "server died" >&2; return 1; }
        sleep 0.1
    done
    echo "server did not start" >&2
    return 1
}

stop_server() {
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" || true
    SERVER_PID=""
}

run_wrk() {  # name url -> prints "name rps p99"
    local out="$WORK/$1.wrk"
    wrk --latency -t "$WRK_THREADS" -c "$WRK_CONNECTIONS" -d "$WRK_DURATION" "$2" >"$out"
    local rps p99 errors
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    p99=$(awk '$1 == "99%" {print $2}' "$out")
    errors=$(awk '/Non-2xx|Socket errors/ {print}' "$out" | tr '\n' ' ')
    echo "$1 $rps $p99 ${errors:-none}" >>"$WORK/results"
    cat "$out" >&2
}

echo "machine: $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
echo "load: wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d$WRK_DURATION --latency GET /"
echo "gunicorn: ${GUNICORN_WORKERS} workers x ${GUNICORN_THREADS} threads (gthread); dev: flask run --with-threads"
echo

# 1. gunicorn, real config, multiprocess metrics as in production.
PORT_G=$(free_port)
ADMIN_PORT=$(free_port) PROMETHEUS_MULTIPROC_DIR="$WORK/multiproc" "$PYTHON" -m gunicorn -c gunicorn.conf.py \
    --bind "127.0.0.1:$PORT_G" >"$WORK/gunicorn.log" 2>&1 &
SERVER_PID=$!
wait_serving "http://127.0.0.1:$PORT_G/"
run_wrk gunicorn "http://127.0.0.1:$PORT_G/"
stop_server

# 2. Flask development server (threaded), same app factory.
PORT_D=$(free_port)
"$PYTHON" -m flask --app app run --host 127.0.0.1 --port "$PORT_D" --with-threads \
    >"$WORK/dev.log" 2>&1 &
SERVER_PID=$!
wait_serving "http://127.0.0.1:$PORT_D/"
run_wrk flask-dev "http://127.0.0.1:$PORT_D/"
stop_server

echo
awk '
    function ms(v) {  # wrk latency "1.23ms" / "850.00us" / "1.02s" -> milliseconds
        if (v ~ /us$/) return v / 1000
        if (v ~ /ms$/) return v + 0
        if (v ~ /s$/) return v * 1000
        return v
    }
    { name[NR] = $1; rps[NR] = $2; p99[NR] = $3; err[NR] = ""; for (i = 4; i <= NF; i++) err[NR] = err[NR] " " $i }
    END {
        printf "%-10s %12s %12s  %s\n", "server", "requests/s", "p99 (ms)", "errors"
        for (i = 1; i <= NR; i++) printf "%-10s %12.1f %12.2f %s\n", name[i], rps[i], ms(p99[i]), err[i]
        if (NR == 2 && rps[2] > 0)
            printf "\ngunicorn/dev throughput ratio: %.2fx   p99 ratio (dev/gunicorn): %.2fx\n", rps[1] / rps[2], ms(p99[2]) / ms(p99[1])
    }' "$WORK/results"
