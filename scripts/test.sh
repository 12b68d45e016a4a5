#!/usr/bin/env bash
# Runs every test of the workspace: engine unit tests, the CLI freshness suite (real binary in
# temporary repositories), the ML stage tests and the end-to-end pipeline test on the bundled CSV.
# Installs the few system tools the tests use when they are missing (Debian/Ubuntu, as root).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v dot >/dev/null 2>&1 || need+=(graphviz)
if ((${#need[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "[test] installing ${need[*]}" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
  else
    echo "[test] note: ${need[*]} not installed; the tests that render graphs will be skipped" >&2
  fi
fi

exec cargo test --workspace --locked "$@"
