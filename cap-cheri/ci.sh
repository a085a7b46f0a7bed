#!/usr/bin/env bash
# The Miri step for cap-cheri: run the software capability model's tests under
# Miri with strict provenance, when a nightly toolchain with Miri is present.
# Exit 0 when skipped (and say why), non-zero when Miri finds a failure.
# `cargo test -p cap-cheri` runs the same tests natively in every CI run.
set -euo pipefail
cd "$(dirname "$0")/.."

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
