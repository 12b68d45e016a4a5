#!/usr/bin/env bash
# Hostile-client figures for `netsec serve` and a hung S3 endpoint (issue 15, items 1-3 and 5):
#   1. peak RSS growth of the server per request shape (VmHWM reset before each request);
#   2. the malformed-request corpus (tests/fuzz/http) replayed: 5xx count, unanswered, crashes;
#   3. connections: 1,000 idle connections held open, /health time meanwhile, connections the
#      server still holds after the header timeout; 260 silent connections under a 256-fd limit
#      (503s, /health still answering);
#   4. `netsec push` to a black-hole endpoint (accepts TCP, never answers): time to fail, exit code.
# Release build, loopback only, everything started here is stopped here. Needs curl, python3.
# Knobs: PORT=18741 MODEL_DIR=<dir holding bundle.json> (default: final_model/, else trained with
# `netsec repro` in a temporary copy of the repository), NETSEC_BIN=<netsec binary> (skips the
# release build).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
PORT=${PORT:-18741}
MODEL_DIR=${MODEL_DIR:-$ROOT/final_model}
ADDR=127.0.0.1:$PORT
for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "error: \`$tool\` is not installed" >&2; exit 2; }
done

WORK=$(mktemp -d)
SERVER_PID=
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}
cleanup() { stop_server; rm -rf "$WORK"; }
trap cleanup EXIT

if [ -n "${NETSEC_BIN:-}" ]; then
  NETSEC=$NETSEC_BIN
  BUILD="binary $NETSEC_BIN"
else
  BUILD="release build"
  echo "== building (release)" >&2
  cargo build --release -q -p netsec --bin netsec --manifest-path "$ROOT/Cargo.toml"
  NETSEC=$CARGO_TARGET_DIR/release/netsec
fi

mkdir -p "$WORK/repo"
cp "$ROOT/pipeline.toml" "$ROOT/schema.yaml" "$WORK/repo/"
cp -r "$ROOT/data" "$WORK/repo/"
[ -f "$ROOT/params.yaml" ] && cp "$ROOT/params.yaml" "$WORK/repo/"
[ -f "$ROOT/.dvcignore" ] && cp "$ROOT/.dvcignore" "$WORK/repo/"
if [ ! -f "$MODEL_DIR/bundle.json" ]; then
  echo "== no $MODEL_DIR/bundle.json: training one with \`netsec repro\` in a temporary copy" >&2
  (cd "$WORK/repo" && "$NETSEC" -q repro)
else
  mkdir -p "$WORK/repo/final_model" && cp "$MODEL_DIR/bundle.json" "$WORK/repo/final_model/"
fi

# start_server NOFILE ARGS...: `netsec serve` under a soft open-file limit.
start_server() {
  local nofile=$1; shift
  (cd "$WORK/repo" && ulimit -n "$nofile" && exec "$NETSEC" serve --addr "$ADDR" "$@") \
    >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    curl -fsS "http://$ADDR/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "error: the server did not start" >&2; cat "$WORK/server.log" >&2; exit 1
}

python3 - "$WORK" "$ROOT/data/sample-predict-input.csv" <<'PY'
import json, sys
work, sample = sys.argv[1], sys.argv[2]
header, *rows = open(sample).read().strip().split("\n")
names = header.split(",")
limit = 10 * 1024 * 1024
def fill(prefix, items, sep, suffix, size, max_items=None):
    out, n = [prefix], 0
    total = len(prefix) + len(suffix)
    while True:
        for it in items:
            if total + len(it) + len(sep) > size or (max_items and n == max_items):
                return (out[0] + sep.join(out[1:]) + suffix).encode()
            out.append(it); total += len(it) + len(sep); n += 1
objs = [json.dumps(dict(zip(names, map(int, r.split(","))))) for r in rows]
shapes = {
    "distinct-keys-12000.json": ("[" + ",".join('{"k%d":1}' % i for i in range(12000)) + "]").encode(),
    "a1-10MiB.json": fill("[", ['{"a":1}'], ",", "]", limit),
    "empty-rows-10MiB.json": fill("[", ["{}"], ",", "]", limit),
    "valid-rows-10MiB.json": fill("[", objs, ",", "]", limit),
    "valid-100k-rows.csv": fill(header + "\n", rows, "\n", "\n", limit, 100000),
    "valid-10MiB.csv": fill(header + "\n", rows, "\n", "\n", limit),
    "cell-5MB.json": ('[{"URL_Length":"' + "9" * (5 * 1024 * 1024) + '"}]').encode(),
}
for name, data in shapes.items():
    open(f"{work}/{name}", "wb").write(data)
PY

start_server 4096
PID=$SERVER_PID
curl -fsS -o /dev/null -H 'content-type: text/csv' --data-binary @"$ROOT/data/sample-predict-input.csv" "http://$ADDR/predict"
kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }
echo "== peak RSS growth per request shape (body limit 10 MiB; target < 40 MiB)" >&2
RSS_LINES=()
for f in distinct-keys-12000.json a1-10MiB.json empty-rows-10MiB.json valid-rows-10MiB.json \
         valid-100k-rows.csv valid-10MiB.csv cell-5MB.json; do
  case $f in *.json) ct=application/json ;; *) ct=text/csv ;; esac
  for q in "" "?form=compact"; do
    [ -n "$q" ] && [ "$f" != valid-100k-rows.csv ] && continue
    echo 5 >"/proc/$PID/clear_refs"
    before=$(kb "$PID" VmRSS)
    out=$(curl -sS -o "$WORK/reply" -w '%{http_code} %{size_download} %{time_total}' \
      -H "content-type: $ct" --data-binary @"$WORK/$f" "http://$ADDR/predict$q")
    peak=$(kb "$PID" VmHWM)
    read -r code size secs <<<"$out"
    line=$(printf '  %-28s %-14s HTTP %s  +%5.1f MiB peak  reply %9s B  %5.2f s' \
      "$f" "${q:-(objects)}" "$code" "$(awk "BEGIN{print ($peak-$before)/1024}")" "$size" "$secs")
    echo "$line" >&2; RSS_LINES+=("$line")
  done
done
BASE_RSS=$(kb "$PID" VmRSS)

echo "== malformed-request corpus" >&2
CORPUS=$(python3 - "$ADDR" "$ROOT/tests/fuzz/http" <<'PY'
import os, socket, sys, time
host, port = sys.argv[1].split(":"); d = sys.argv[2]
cases = sorted(f for f in os.listdir(d) if f.endswith(".http"))
fivexx, unanswered, statuses = [], 0, {}
for name in cases:
    data = open(os.path.join(d, name), "rb").read()
    s = socket.create_connection((host, int(port))); s.settimeout(15)
    try:
        s.sendall(data)
    except OSError:
        pass
    reply = b""
    try:
        while True:
            b = s.recv(65536)
            if not b: break
            reply += b
    except OSError:
        pass
    s.close()
    line = reply.split(b"\r\n", 1)[0].split()
    code = int(line[1]) if len(line) > 1 and line[0].startswith(b"HTTP/") and line[1].isdigit() else None
    if code is None: unanswered += 1
    else: statuses[code] = statuses.get(code, 0) + 1
    if code and code >= 500: fivexx.append(f"{name}:{code}")
print(f"{len(cases)} cases, 5xx {len(fivexx)} {' '.join(fivexx)}, closed without a reply {unanswered}, statuses {dict(sorted(statuses.items()))}")
PY
)
echo "  $CORPUS" >&2
ALIVE=$(kill -0 "$PID" 2>/dev/null && echo yes || echo NO)

echo "== 1,000 idle connections (header/idle timeout 10 s)" >&2
IDLE=$(python3 - "$ADDR" "$PID" <<'PY'
import os, socket, subprocess, sys, time
host, port = sys.argv[1].split(":"); pid = sys.argv[2]
def fds(): return len(os.listdir(f"/proc/{pid}/fd"))
base = fds()
conns = [socket.create_connection((host, int(port))) for _ in range(1000)]
time.sleep(0.5)
held = fds() - base
times = []
for _ in range(5):
    t = time.time()
    r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", f"http://{host}:{port}/health"], capture_output=True, text=True)
    times.append((time.time() - t) * 1000)
    code = r.stdout
time.sleep(11)
after = fds() - base
for c in conns: c.close()
print(f"held {held} of 1000 at once; /health {code} in {min(times):.1f}-{max(times):.1f} ms meanwhile; held after 11 s: {after}")
PY
)
echo "  $IDLE" >&2
stop_server

echo "== 260 silent connections under a 256-fd limit (cap 192)" >&2
start_server 256 --header-timeout 10s
PID=$SERVER_PID
FDCAP=$(python3 - "$ADDR" <<'PY'
import socket, subprocess, sys, time
host, port = sys.argv[1].split(":")
conns = [socket.create_connection((host, int(port))) for _ in range(260)]
refused = 0
for c in conns:
    c.settimeout(0.3)
    try:
        if c.recv(64).startswith(b"HTTP/1.1 503"): refused += 1
    except OSError:
        pass
r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", f"http://{host}:{port}/health"], capture_output=True, text=True)
during = r.stdout
for c in conns: c.close()
time.sleep(0.5)
r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", f"http://{host}:{port}/health"], capture_output=True, text=True)
print(f"503 to {refused} of 260 at once; /health during: {during}; /health after they close: {r.stdout} s")
PY
)
echo "  $FDCAP" >&2
EMFILE=$(grep -c "Too many open files" "$WORK/server.log" || true)
stop_server

echo "== push to a black-hole endpoint" >&2
python3 -c '
import socket, time, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1024)
print(s.getsockname()[1], flush=True)
time.sleep(600)' >"$WORK/hole.port" &
HOLE_PID=$!
for _ in $(seq 1 50); do [ -s "$WORK/hole.port" ] && break; sleep 0.1; done
HOLE_PORT=$(cat "$WORK/hole.port")
mkdir -p "$WORK/push"
cat >"$WORK/push/pipeline.toml" <<TOML
[remotes.origin]
url = "s3://bench-bucket/hostile"
endpoint = "http://127.0.0.1:$HOLE_PORT"

[stages.make]
cmd = "head -c 20000000 /dev/urandom > blob.bin"
outs = ["blob.bin"]
TOML
(cd "$WORK/push" && "$NETSEC" -q repro)
start=$(date +%s.%N)
set +e
(cd "$WORK/push" && env AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 \
  "$NETSEC" push) >"$WORK/push.out" 2>&1
PUSH_RC=$?
set -e
end=$(date +%s.%N)
kill "$HOLE_PID" 2>/dev/null || true; wait "$HOLE_PID" 2>/dev/null || true
PUSH_SECS=$(awk "BEGIN{printf \"%.1f\", $end-$start}")
DONE_LINES=$(grep -c "Done" "$WORK/push.out" || true)

echo
echo "summary ($(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), $BUILD, loopback)"
echo "  peak RSS growth per request (server RSS at rest after them: $((BASE_RSS / 1024)) MiB):"
printf '%s\n' "${RSS_LINES[@]}"
echo "  malformed corpus: $CORPUS; server alive after: $ALIVE"
echo "  idle connections: $IDLE"
echo "  fd limit 256: $FDCAP; 'Too many open files' in the log: $EMFILE"
echo "  black-hole push: exit $PUSH_RC after $PUSH_SECS s; 'Done' lines: $DONE_LINES"
echo "  targets: 0 crashes, 0 5xx; peak < 40 MiB (4x body limit); /health < 100 ms with 1,000 idle; push fails < 60 s"
