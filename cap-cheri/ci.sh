#!/usr/bin/env bash
# The Miri step for cap-cheri: run the software capability model's tests under
# Miri with strict provenance, when a nightly toolchain with Miri is present.
# Exit 0 when skipped (and say why), non-zero when Miri finds a failure.
# `cargo test -p cap-cheri` runs the same tests natively in every CI run.
set -euo pipefail
cd "$(dirname "$0")/.."

# First, not Miri: the purecap (hardware) backend cannot be built without a
# CHERI toolchain; type-checking it against an ordinary aarch64 target catches
# Rust-level mistakes (`cargo check` does not assemble the Morello
# instructions). Skipped, saying so, when that target's std is not installed.
echo "== cap-cheri purecap backend: type check (aarch64 stand-in, cfg(ambit_cheri_purecap))"
if rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu; then
    RUSTFLAGS="--cfg ambit_cheri_purecap" \
        cargo check -p cap-cheri --target aarch64-unknown-linux-gnu --target-dir target/cheri-purecap-check
else
    echo "skipped: aarch64-unknown-linux-gnu std not installed (rustup target add aarch64-unknown-linux-gnu)"
fi

# Under Miri, tests/vectors.rs checks an evenly spread sample of 150 lines
# of each vector file (900 of the 50,000 reference cases; natively all), and
# the property tests run fewer cases. Measured on two cores shared with
# eight other builds: 3m24s of CPU time (13m52s wall) for this whole script
# including building Miri's sysroot and the dependencies; about 1m30s of CPU
# when those are already built. The tests themselves take ~80 s under Miri.
echo "== cap-cheri under Miri (-Zmiri-strict-provenance)"
if ! why=$(RUSTUP_AUTO_INSTALL=0 cargo +nightly miri --version 2>&1); then
    echo "skipped Miri: 'cargo +nightly miri --version' failed:"
    printf '  %s\n' "$why" | head -n 3
    echo "(install with: rustup toolchain install nightly --component miri rust-src)"
    exit 0
fi
echo "using $why"
MIRIFLAGS="${MIRIFLAGS:+$MIRIFLAGS }-Zmiri-strict-provenance" \
    cargo +nightly miri test -p cap-cheri
