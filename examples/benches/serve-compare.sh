#!/usr/bin/env bash
# Runs the serve_load benchmark against the other servers (on demand, not in
# CI). Installs nginx from Debian and static-web-server with cargo when they
# are missing: `cargo install` compiles it from source, which takes a while
# (10-20 minutes on 2 cores). Must run as root (nginx on a loopback port with
# a temporary configuration). Knobs: AMBIT_LOAD_CONNS (16), AMBIT_LOAD_SECS (2),
# AMBIT_LOAD_ROUNDS (9), AMBIT_BENCH_CPUS (split: servers on CPU 0, the load
# generator on CPU 1; free: no placement).
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
    apt-get install -y nginx
fi
if ! command -v static-web-server >/dev/null; then
    cargo install --locked static-web-server
fi
PATH="$PATH:/usr/sbin" cargo bench -p ambit-examples --bench serve_load
