#!/usr/bin/env bash
# Smoke test of the benchmarks in perf/ (their own workspace, so the peers stay out of the main
# build): builds them and runs each benchmark once in criterion's test mode, which also runs
# their checks that every implementation sees the whole corpus. Measuring is perf/run.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../perf"
cargo bench --bench mask --bench receive --bench send --bench handshake_vs_peers -- --test
