#!/usr/bin/env bash
# Autobahn|Testsuite in both roles, gated on strict results:
#   server role: wstest -m fuzzingclient  against examples/echo_server
#   client role: wstest -m fuzzingserver  driven by examples/autobahn_client
# Fails unless every case is OK or INFORMATIONAL and each section ran the number of cases
# autobahn/expected.json lists (autobahn/check.py). Reports: build/autobahn/{server,client}/.
#
# Environment (all optional):
#   AUTOBAHN_CASES   cases to run (wstest patterns), default: $CASES below
#   AUTOBAHN_HOME    the Python 3 testsuite port, default ../shared/autobahn
#   AUTOBAHN_VENV    its venv, default build/autobahn-venv (set up here, idempotently)
#   AUTOBAHN_MODES   "server client" (default), or one of them
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# The cases both roles run; 12.* and 13.* are permessage-deflate (the examples are built with
# the deflate feature and negotiate it when the peer offers or accepts it).
CASES="1.* 2.* 3.* 4.* 5.* 6.* 7.* 9.* 10.* 12.* 13.*"
CASES="${AUTOBAHN_CASES:-$CASES}"
MODES="${AUTOBAHN_MODES:-server client}"
CHECK_ARGS=()
[ -z "${AUTOBAHN_CASES:-}" ] || CHECK_ARGS+=(--no-counts)   # a subset: no per-section counts

AUTOBAHN_HOME="${AUTOBAHN_HOME:-$ROOT/../shared/autobahn}"
export AUTOBAHN_VENV="${AUTOBAHN_VENV:-$ROOT/build/autobahn-venv}"
OUT="$ROOT/build/autobahn"
export AUTOBAHN_AGENT=ws-proto
export AUTOBAHN_STRICT=0          # autobahn/check.py decides
export AUTOBAHN_EXCLUDE=""        # run exactly $CASES (the wrappers exclude 9.* by default)
export AUTOBAHN_TIMEOUT="${AUTOBAHN_TIMEOUT:-2400}"   # 12.*/13.*: ~15 min per role

say() { echo "[autobahn.sh] $*"; }
free_port() {
    "$AUTOBAHN_VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

t0=$SECONDS
[ -d "$AUTOBAHN_HOME" ] || { say "no testsuite at $AUTOBAHN_HOME"; exit 1; }
mkdir -p "$OUT"
"$AUTOBAHN_HOME/setup.sh" >"$ROOT/build/autobahn-setup.log" 2>&1 || {
    cat "$ROOT/build/autobahn-setup.log"; say "setup failed"; exit 1; }
say "testsuite ready ($((SECONDS - t0))s); cases: $CASES"

t1=$SECONDS
cargo build --release --features deflate --example echo_server --example autobahn_client
BIN="$(cargo metadata --format-version 1 --no-deps | "$AUTOBAHN_VENV/bin/python" -c \
    'import json, sys; print(json.load(sys.stdin)["target_directory"])')/release/examples"
say "examples built ($((SECONDS - t1))s)"

# Both roles run at once: each wstest keeps about half a core busy, and sections 12/13 take
# most of the time, so on 2 cores this halves the wall time.
run_mode() {
    local mode=$1 t=$SECONDS port report
    port="$(free_port)"
    mkdir -p "$OUT/$mode"
    export AUTOBAHN_REPORTS="$OUT/$mode"
    if [ "$mode" = server ]; then
        # shellcheck disable=SC2086 # CASES is a list of patterns
        AUTOBAHN_SERVER_CMD="'$BIN/echo_server' 127.0.0.1:$port" \
            "$AUTOBAHN_HOME/run_server_suite.sh" "$port" $CASES >"$OUT/$mode/run.log" 2>&1 || true
        report="$OUT/$mode/servers"
    else
        # shellcheck disable=SC2086
        AUTOBAHN_CLIENT_CMD="'$BIN/autobahn_client'" \
            "$AUTOBAHN_HOME/run_client_suite.sh" "$port" $CASES >"$OUT/$mode/run.log" 2>&1 || true
        report="$OUT/$mode/clients"
    fi
    say "$mode role: wstest finished in $((SECONDS - t))s (log: build/autobahn/$mode/run.log)"
    if ! "$AUTOBAHN_VENV/bin/python" autobahn/check.py "${CHECK_ARGS[@]}" --mode "$mode" \
        --autobahn-home "$AUTOBAHN_HOME" "$report" >"$OUT/$mode/check.log" 2>&1; then
        tail -n 20 "$OUT/$mode/run.log" >>"$OUT/$mode/check.log"
        return 1
    fi
}

pids=()
for mode in $MODES; do
    run_mode "$mode" &
    pids+=("$!")
    sleep 2   # distinct free ports
done
status=0
for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || status=1
done
for mode in $MODES; do
    cat "$OUT/$mode/check.log"
done
say "total $((SECONDS - t0))s"
exit $status
