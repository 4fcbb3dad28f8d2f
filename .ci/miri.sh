#!/usr/bin/env bash
# Miri over the crate's only unsafe code, frame::mask's run-time CPU feature dispatch, and the
# safe code it runs: once as the default build (Miri's CPU reports no AVX, so the portable path
# runs) and once with AVX2 and AVX-512F enabled at compile time (so the target-feature
# functions are called). Installs nightly with Miri if missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^miri'; then
    rustup toolchain install nightly --profile minimal --component miri,rust-src
fi
cargo +nightly miri setup
cargo +nightly miri test --lib frame::mask
CARGO_TARGET_DIR=target/miri-avx RUSTFLAGS="-C target-feature=+avx2,+avx512f" \
    cargo +nightly miri test --lib frame::mask
