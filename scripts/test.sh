#!/usr/bin/env bash
# Runs every test of the workspace: engine unit tests, the CLI freshness suite (real binary in
# temporary repositories), the ML stage tests and the end-to-end pipeline test on the bundled CSV.
# Installs the few system tools the tests use when they are missing (Debian/Ubuntu, as root),
# and starts the servers the integration tests talk to, on 127.0.0.1 (scripts/services.sh: MLflow,
# nx-27017 for the MongoDB wire protocol, moto for S3 with SigV4 checked, a one-node Slurm
# cluster for `--executor slurm`), installing them on
# the first run while cargo builds the tests. NETSEC_REQUIRE_SERVICES=1 makes a missing service a
# test failure, never a silent skip.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v dot >/dev/null 2>&1 || need+=(graphviz)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || need+=(chromium)
command -v python3 >/dev/null 2>&1 && python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3 python3-venv)
if ((${#need[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "[test] installing ${need[*]}" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
  else
    echo "[test] note: ${need[*]} not installed; the tests that render graphs will be skipped" >&2
  fi
fi

# Services install/start (minutes on a fresh machine) overlaps the test build.
svc_env=$(mktemp)
trap 'rm -f "$svc_env"' EXIT
scripts/services.sh start mlflow mongo s3 slurm >"$svc_env" &
svc_pid=$!
if ! cargo test --workspace --locked --no-run; then
  wait "$svc_pid" || true
  exit 101
fi
wait "$svc_pid" || { echo "[test] ERROR: starting the test services failed (see above)" >&2; exit 1; }
eval "$(cat "$svc_env")"
export NETSEC_REQUIRE_SERVICES=1

# The engine alone, so serde_json is built without the `preserve_order` feature that bson
# switches on for the workspace: its golden lock must equal the one the full binary writes
# (tests/cli/golden.rs).
NETSEC_EXPECT_SORTED_MAP=1 cargo test -p netsec-engine --locked --test golden_lock

cargo test --workspace --locked "$@"
