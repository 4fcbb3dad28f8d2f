#!/usr/bin/env bash
# Live interop with real peers on 127.0.0.1 (tests/interop.rs, run with --ignored):
#   server role (examples/echo_server.rs): Python websockets, Python websocket-client,
#     Node ws, headless Chromium (Debian's chromium driven by playwright-core);
#   client role: Python websockets and Node ws servers.
# Twice: as built by default, then with the deflate feature (permessage-deflate agreed with
# every peer that supports it).
# Installs the peers idempotently: apt (chromium, nodejs, npm, python3-venv) when missing,
# pip into build/interop-venv (interop/requirements.txt), npm into interop/node_modules
# (interop/package-lock.json).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { echo "[interop.sh] $*"; }
t0=$SECONDS

# --- system packages ----------------------------------------------------------------------
missing=()
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- Python peers ---------------------------------------------------------------------------
VENV="$ROOT/build/interop-venv"
stamp="$VENV/.requirements.sha256"
want="$(sha256sum interop/requirements.txt | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "creating $VENV"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r interop/requirements.txt
    echo "$want" >"$stamp"
fi

# --- Node peers -----------------------------------------------------------------------------
stamp="interop/node_modules/.package-lock.sha256"
want="$(cat interop/package.json interop/package-lock.json | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing Node packages into interop/node_modules"
    # playwright-core drives the system chromium; nothing is downloaded besides the packages.
    (cd interop && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
fi
say "peers ready ($((SECONDS - t0))s): $("$VENV/bin/python" -c 'import websockets, websocket; print("websockets", websockets.__version__, "websocket-client", websocket.__version__)'), node $(node --version), $("${CHROMIUM:-/usr/bin/chromium}" --version 2>/dev/null | head -1)"

# --- the tests ------------------------------------------------------------------------------
t1=$SECONDS
export INTEROP_PYTHON="$VENV/bin/python" INTEROP_NODE=node CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
cargo test --test interop -- --ignored
# Again with permessage-deflate negotiated in both roles (the peers check it was agreed).
cargo test --features deflate --test interop -- --ignored
say "tests $((SECONDS - t1))s, total $((SECONDS - t0))s"
