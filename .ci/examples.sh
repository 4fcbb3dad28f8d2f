#!/usr/bin/env bash
# Runs every example against a real peer: the chat in two headless Chromium pages and against
# Python `websockets`; the tokio echo server with the Rust and Python clients; the heartbeat
# client against a live and a silent server; the hyper and wss servers (examples/integrations)
# against Python `websockets` (trusting the generated certificate); the no-allocator server
# loop (examples/embedded) linked for thumbv7em-none-eabihf and its host twin tested.
# Installs what it needs (idempotently) under build/ and target/. Owned by the adapters work.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
BUILD=$ROOT/build
LOGS=$ROOT/target/examples-logs
mkdir -p "$BUILD" "$LOGS"
export CARGO_TERM_COLOR=never

# ---- install ---------------------------------------------------------------------------
need_apt=()
command -v chromium >/dev/null || need_apt+=(chromium)
command -v node >/dev/null || need_apt+=(nodejs)
command -v npm >/dev/null || need_apt+=(npm)
command -v python3 >/dev/null || need_apt+=(python3 python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_apt[@]}"
fi
NODE_DIR=$BUILD/examples-node
if [ ! -d "$NODE_DIR/node_modules/playwright-core" ]; then
    mkdir -p "$NODE_DIR"
    [ -f "$NODE_DIR/package.json" ] || echo '{"private":true}' > "$NODE_DIR/package.json"
    (cd "$NODE_DIR" && npm install --no-audit --no-fund playwright-core@1)
fi
VENV=$BUILD/examples-venv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import websockets' 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q 'websockets>=13'
fi
PY=$VENV/bin/python
rustup target add thumbv7em-none-eabihf >/dev/null 2>&1 || true

# ---- helpers ---------------------------------------------------------------------------
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
# start NAME COMMAND...: runs COMMAND in the background, waits for the URL it prints, sets URL.
start() {
    local name=$1; shift
    local log=$LOGS/$name.log
    "$@" >"$log" 2>&1 &
    PIDS+=($!)
    URL=
    for _ in $(seq 200); do
        URL=$(grep -o -m1 -E '(wss?|http)://[^ ]+' "$log" || true)
        [ -n "$URL" ] && return 0
        sleep 0.1
    done
    echo "$name did not start:"; cat "$log"; return 1
}
stop_last() { kill "${PIDS[-1]}" 2>/dev/null || true; }
t0=$SECONDS
say() { echo "[examples +$((SECONDS - t0))s] $*"; }

# ---- build -----------------------------------------------------------------------------
say "build examples"
cargo build -q --features tokio --examples
EX=$ROOT/target/debug/examples

# ---- chat ------------------------------------------------------------------------------
say "chat: Python client (admission rules, broadcast)"
CHAT_ADDR=127.0.0.1:0 start chat "$EX/chat"
CHAT=$URL
"$PY" tests/examples/ws_client.py chat "${CHAT/http:/ws:}chat?token=x"
say "chat: two headless Chromium pages"
cp tests/examples/chat_browser.mjs "$NODE_DIR/"
(cd "$NODE_DIR" && node chat_browser.mjs "$CHAT")
stop_last

# ---- tokio echo ------------------------------------------------------------------------
say "tokio echo server with the Rust client and Python websockets"
start echo "$EX/tokio_echo_server" 127.0.0.1:0
ECHO=$URL
out=$("$EX/tokio_echo_client" "$ECHO" hello "ünïcödé" "$(printf 'x%.0s' {1..5000})")
echo "$out" | head -2
echo "$out" | grep -q '^closed: 1000$'
"$PY" tests/examples/ws_client.py echo "$ECHO"

# ---- heartbeat -------------------------------------------------------------------------
say "heartbeat against a live server"
out=$("$EX/heartbeat" "$ECHO" --interval-ms 200 --timeout-ms 500 --for-ms 1500)
echo "$out" | tail -1
pongs=$(echo "$out" | grep -c '^heartbeat: pong')
[ "$pongs" -ge 4 ] || { echo "only $pongs pongs"; exit 1; }
echo "$out" | grep -q 'peer alive'
stop_last
say "heartbeat against a silent server"
start silent "$PY" tests/examples/silent_server.py --linger 20
set +e
out=$("$EX/heartbeat" "$URL" --interval-ms 200 --timeout-ms 500)
code=$?
set -e
echo "$out" | tail -1
[ "$code" -eq 2 ] || { echo "heartbeat exited $code, expected 2 (dead peer)"; exit 1; }
echo "$out" | grep -q 'peer dead'
stop_last

# ---- hyper and wss (examples/integrations) ---------------------------------------------
if [ -f examples/integrations/Cargo.toml ]; then
    say "build examples/integrations (hyper, tokio-rustls, rcgen)"
    INTEG_TARGET=$ROOT/target/integrations
    cargo build -q --manifest-path examples/integrations/Cargo.toml --target-dir "$INTEG_TARGET" --bins
    say "hyper server doing the upgrade, Python websockets client"
    start hyper "$INTEG_TARGET/debug/hyper_server" 127.0.0.1:0
    "$PY" tests/examples/ws_client.py echo "${URL}ws"
    curl -fsS "${URL/ws:/http:}" | grep -q 'ws-proto behind hyper'
    stop_last
    say "wss server (rcgen certificate), Python websockets client trusting it"
    CERT=$LOGS/wss-cert.pem
    rm -f "$CERT"
    start wss "$INTEG_TARGET/debug/wss_server" 127.0.0.1:0 "$CERT"
    "$PY" tests/examples/ws_client.py echo "$URL" --cafile "$CERT"
    stop_last
fi

# ---- embedded (examples/embedded) ------------------------------------------------------
if [ -f examples/embedded/Cargo.toml ]; then
    say "embedded: link the firmware for thumbv7em-none-eabihf (no global allocator exists)"
    EMB_TARGET=$ROOT/target/embedded
    cargo build -q --release --manifest-path examples/embedded/Cargo.toml \
        --target-dir "$EMB_TARGET" --target thumbv7em-none-eabihf --bin firmware
    fw=$EMB_TARGET/thumbv7em-none-eabihf/release/firmware
    if command -v size >/dev/null; then size "$fw"; fi
    say "embedded: host twin (same loop over TCP and over the firmware's script)"
    cargo test -q --manifest-path examples/embedded/Cargo.toml --target-dir "$EMB_TARGET"
    cargo run -q --manifest-path examples/embedded/Cargo.toml --target-dir "$EMB_TARGET" \
        --bin firmware
fi

say "all examples passed"
