#!/usr/bin/env bash
# Load benchmark of the prediction server (issue 5 bars):
#   1. wrk, 30 s, 16 connections, POST of the 12-row sample CSV → req/s, p99, errors
#      (targets: ≥ 5,000 req/s, p99 ≤ 10 ms, 0 errors);
#   2. one 100k-row CSV upload timed with curl (target ≤ 1 s).
# Release build, loopback only, stops the server by itself. Needs `wrk` and `curl`
# (apt-get install -y wrk curl). Knobs: DURATION=30s CONNS=16 THREADS=2 PORT=18731
# MODEL_DIR=<dir holding bundle.json> (default: final_model/; if it has no bundle, the pipeline is
# run with `netsec repro` in a temporary copy of the repository, leaving the work tree untouched).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
DURATION=${DURATION:-30s}
CONNS=${CONNS:-16}
THREADS=${THREADS:-2}
PORT=${PORT:-18731}
MODEL_DIR=${MODEL_DIR:-$ROOT/final_model}
ADDR=127.0.0.1:$PORT

for tool in wrk curl; do
  command -v "$tool" >/dev/null || { echo "error: \`$tool\` is not installed (apt-get install -y $tool)" >&2; exit 2; }
done

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== building (release)" >&2
cargo build --release -q -p netsec-serve --example serve --manifest-path "$ROOT/Cargo.toml"
SERVE_BIN=$CARGO_TARGET_DIR/release/examples/serve

if [ ! -f "$MODEL_DIR/bundle.json" ]; then
  echo "== no $MODEL_DIR/bundle.json: training one with \`netsec repro\` in a temporary copy" >&2
  cargo build --release -q -p netsec --bin netsec --manifest-path "$ROOT/Cargo.toml"
  mkdir -p "$WORK/repo"
  cp -r "$ROOT/pipeline.toml" "$ROOT/schema.yaml" "$ROOT/data" "$WORK/repo/"
  [ -f "$ROOT/.dvcignore" ] && cp "$ROOT/.dvcignore" "$WORK/repo/"
  (cd "$WORK/repo" && "$CARGO_TARGET_DIR/release/netsec" -q repro)
  MODEL_DIR=$WORK/repo/final_model
fi

echo "== starting the server on $ADDR" >&2
"$SERVE_BIN" --addr "$ADDR" --root "$ROOT" --model-dir "$MODEL_DIR" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  curl -fsS "http://$ADDR/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://$ADDR/health" | grep -q '"model_loaded":true' || {
  echo "error: the server has no model loaded" >&2; cat "$WORK/server.log" >&2; exit 1; }

# Sanity: the sample predicts 12 rows.
ROWS=$(curl -fsS -H 'content-type: text/csv' --data-binary @"$ROOT/data/sample-predict-input.csv" \
  "http://$ADDR/predict" | grep -o '"prediction"' | wc -l)
[ "$ROWS" -eq 12 ] || { echo "error: expected 12 predictions, got $ROWS" >&2; exit 1; }

cat >"$WORK/post.lua" <<LUA
local f = assert(io.open("$ROOT/data/sample-predict-input.csv", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "text/csv"
LUA

echo "== wrk -t$THREADS -c$CONNS -d$DURATION POST /predict (12 rows)" >&2
wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$WORK/post.lua" "http://$ADDR/predict" | tee "$WORK/wrk.txt"
RPS=$(awk '/^Requests\/sec:/ {print $2}' "$WORK/wrk.txt")
P99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk.txt")
NON2XX=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$WORK/wrk.txt")
SOCKERR=$(awk '/Socket errors:/ {print}' "$WORK/wrk.txt")

echo "== 100k-row upload" >&2
# (through a file, not a pipe into `head`: with pipefail the writer's SIGPIPE would fail the run)
{
  head -1 "$ROOT/data/phisingData.csv"
  for _ in $(seq 1 10); do tail -n +2 "$ROOT/data/phisingData.csv"; done
} >"$WORK/110k.csv"
head -100001 "$WORK/110k.csv" >"$WORK/100k.csv"
LINES=$(($(wc -l <"$WORK/100k.csv") - 1))
SIZE=$(wc -c <"$WORK/100k.csv")
best=
for i in 1 2 3; do
  t=$(curl -sS -o "$WORK/100k.json" -w '%{http_code} %{time_total}' -H 'content-type: text/csv' \
    --data-binary @"$WORK/100k.csv" "http://$ADDR/predict")
  code=${t% *}; secs=${t#* }
  [ "$code" = 200 ] || { echo "error: 100k upload answered HTTP $code" >&2; head -c 500 "$WORK/100k.json" >&2; exit 1; }
  echo "   run $i: ${secs} s" >&2
  if [ -z "$best" ] || awk "BEGIN{exit !($secs < $best)}"; then best=$secs; fi
done
GOT=$(grep -o '"prediction"' "$WORK/100k.json" | wc -l)
[ "$GOT" -eq "$LINES" ] || { echo "error: $GOT predictions for $LINES rows" >&2; exit 1; }
# The same upload answered as CSV (no JSON encoding).
tcsv=$(curl -sS -o /dev/null -w '%{time_total}' -H 'content-type: text/csv' -H 'accept: text/csv' \
  --data-binary @"$WORK/100k.csv" "http://$ADDR/predict")

echo
echo "summary"
echo "  wrk 12-row POST /predict: ${RPS} req/s, p99 ${P99}, non-2xx ${NON2XX:-0}${SOCKERR:+, $SOCKERR}"
echo "  100k-row upload ($LINES rows, $SIZE bytes): best ${best} s (JSON), ${tcsv} s (CSV)"
echo "  targets: >= 5000 req/s, p99 <= 10ms, 0 errors; 100k rows <= 1 s"
