#!/usr/bin/env bash
# CI entry for cap-lint: builds `cargo-cap-lint` and runs it on this workspace.
# Exits non-zero on any finding (or a file it could not analyse); the
# workspace's cap-lint.toml says which ambient calls are allowed, and why.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet -p cap-lint --bin cargo-cap-lint
bin="${CARGO_TARGET_DIR:-target}/debug/cargo-cap-lint"

echo "== cargo cap-lint (syntactic tier, whole workspace)"
"$bin" cap-lint --deny-missing-modules

echo "== cargo cap-lint --deps (the dependency tree against [deps.*] in cap-lint.toml)"
# The table goes to a file (CI's log keeps the summary line and any violation).
"$bin" cap-lint --deps > "${CARGO_TARGET_DIR:-target}/cap-lint-deps.txt"
