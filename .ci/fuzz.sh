#!/usr/bin/env bash
# Fuzz smoke: runs tests/robustness.rs in release (with its ignored 64 MiB test), then builds every cargo-fuzz target (fuzz/, its own workspace) on nightly with the
# address sanitizer and runs each for a bounded time; any crash (a failed oracle assert, a
# panic, a sanitizer report, a timeout, an out-of-memory) fails the run. The crashing input is
# left in fuzz/artifacts/<target>/; turn it into a test in tests/fuzz_regressions.rs.
#
#   FUZZ_SECONDS=N  seconds per target (default 30)
#   FUZZ_TARGETS="a b"  run only these targets
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SECONDS_PER_TARGET=${FUZZ_SECONDS:-30}

# Every target, in the order they run. Each checks an oracle (see fuzz/src/<target>.rs).
TARGETS=(
    frame_header
    mask_differential
    utf8_differential
    connection_recv
    pair
    handshake_request
    handshake_response
    # deflate                (the permessage-deflate work adds its target here)
)

# Toolchain: nightly (for -Zsanitizer) with a minimal profile, and cargo-fuzz.
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# Long inputs one byte at a time (the 64 MiB case takes minutes in a debug build).
echo "::: robustness (release, including the 64 MiB byte-at-a-time test)"
cargo test --release --test robustness -- --include-ignored

# A target in fuzz/Cargo.toml but not listed above would silently never run.
listed=" ${TARGETS[*]} "
for t in $(cd fuzz && cargo +nightly fuzz list); do
    if [[ "$listed" != *" $t "* ]]; then
        echo "fuzz.sh: target '$t' is not in TARGETS" >&2
        exit 1
    fi
done

if [ -n "${FUZZ_TARGETS:-}" ]; then
    read -r -a TARGETS <<<"$FUZZ_TARGETS"
fi

cargo +nightly fuzz build --sanitizer address

status=0
summary=()
for t in "${TARGETS[@]}"; do
    corpus="fuzz/corpus/$t"
    mkdir -p "$corpus"
    log="fuzz/artifacts/$t.log"
    mkdir -p fuzz/artifacts
    echo "::: fuzz $t for ${SECONDS_PER_TARGET}s"
    # The working corpus first (new inputs go there), the committed seeds second.
    if cargo +nightly fuzz run --sanitizer address "$t" "$corpus" "fuzz/seeds/$t" -- \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 >"$log" 2>&1; then
        result=ok
    else
        result=CRASH
        status=1
        grep -E -A15 "panicked|ERROR: |SUMMARY" "$log" | head -60 >&2 || tail -40 "$log" >&2
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    summary+=("$(printf '%-20s %-5s %10s execs %8s/s' "$t" "$result" "${execs:-?}" "${rate:-?}")")
done

echo "::: fuzz summary (${SECONDS_PER_TARGET}s per target)"
printf '%s\n' "${summary[@]}"
exit $status
