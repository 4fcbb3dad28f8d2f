#!/usr/bin/env bash
# Runs every benchmark of the perf crate (unmasking, receive, send, server handshake; ws-proto
# side by side with tungstenite, fastwebsockets, tokio-websockets, memcpy and an XOR pass) and
# prints the table with ratios and targets (see benches/README.md).
#
#   perf/run.sh                      # about 10 minutes on 2 cores
#   MEASUREMENT_TIME=0.5 perf/run.sh # quicker, noisier
#   perf/run.sh receive              # only benchmark ids matching a filter
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
measure=${MEASUREMENT_TIME:-2}
warm_up=${WARM_UP_TIME:-0.5}
cargo bench --bench mask --bench receive --bench send --bench handshake_vs_peers -- \
    --warm-up-time "$warm_up" --measurement-time "$measure" "$@" >&2
python3 table.py
