#!/usr/bin/env bash
# CI steps for cap-cheri beyond `cargo test` (which runs its tests natively):
#
# 1. The Miri step: the software capability model's tests under Miri with
#    strict provenance, when a nightly toolchain with Miri is present;
#    otherwise it prints that it skipped Miri and why.
# 2. A type check of the purecap (hardware) backend against an aarch64
#    stand-in target, when that target's std is installed; otherwise skipped.
#
# Exit status: 0 when everything that ran passed (skips included), non-zero
# when Miri or the type check failed.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cap-cheri under Miri (-Zmiri-strict-provenance)"
if why=$(cargo +nightly miri --version 2>&1); then
    echo "using $why"
    MIRIFLAGS="${MIRIFLAGS:+$MIRIFLAGS }-Zmiri-strict-provenance" \
        cargo +nightly miri test -p cap-cheri
else
    echo "skipped Miri: 'cargo +nightly miri --version' failed:"
    printf '%s\n' "$why" | head -n 2 | sed 's/^/  /'
    echo "  (to run it: rustup toolchain install nightly --component miri rust-src)"
fi

# The purecap backend cannot be built without a CHERI toolchain; type-checking
# it against an ordinary aarch64 target catches Rust-level mistakes (inline
# assembly is not assembled by `cargo check`).
echo "== cap-cheri purecap backend: type check (aarch64 stand-in, cfg(ambit_cheri_purecap))"
if rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu; then
    RUSTFLAGS="--cfg ambit_cheri_purecap" \
        cargo check -p cap-cheri --target aarch64-unknown-linux-gnu --target-dir target/cheri-purecap-check
else
    echo "skipped: aarch64-unknown-linux-gnu std not installed (rustup target add aarch64-unknown-linux-gnu)"
fi
