#!/usr/bin/env bash
# Templating benchmark (issue #13), rerunnable: the cost of expanding and interpolating a
# 1,000-member `matrix` stage, against the same 1,000 stages written out in pipeline.toml.
#
# Two workspaces, identical stages (`gen/A-B-C` for A, B, C in 0..9, each `echo` into its own
# file under out/, deps seed.txt, one `${train.scale}` param, tracked):
#   matrix:  one `[stages.gen]` with `matrix = { a = [0..9], b = [0..9], c = [0..9] }` and
#            `${item.a}`… in cmd and outs, `${train.scale}` in cmd (tracked automatically);
#   written: the same 1,000 stages spelt out as `gen_A-B-C` (`@` is reserved for members),
#            the param listed in `params`.
# For each: `netsec dag --json` (parse, expand, validate, graph) and, after one first `repro`,
# a no-op `netsec repro` and `netsec status`, with hyperfine (release build). Target: parse
# and no-op repro of the matrix under 150 ms each.
#
# Env: RUNS (hyperfine runs, default 10), JOBS (first repro's -j, default: cores),
# NETSEC_BIN (benchmark that binary instead of building the working tree).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
RUNS="${RUNS:-10}"
JOBS="${JOBS:-$(nproc)}"
WORK="${TMPDIR:-/tmp}/netsec-bench-templating"

if ! command -v hyperfine >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >&2
  else
    echo "hyperfine is needed (apt-get install hyperfine)" >&2; exit 1
  fi
fi
# shellcheck source=scripts/bench/netsec-bin.sh
source scripts/bench/netsec-bin.sh

rm -rf "$WORK" && mkdir -p "$WORK/results"
RES="$WORK/results"

python3 - "$WORK" <<'PY'
import os, sys
work = sys.argv[1]
head = '[params]\ntrain = { scale = 2, other = 1 }\n\n'
for v in ("matrix", "written"):
    d = os.path.join(work, v)
    os.makedirs(os.path.join(d, "out"), exist_ok=True)
    open(os.path.join(d, "seed.txt"), "w").write("seed\n")
digits = "[" + ", ".join(str(i) for i in range(10)) + "]"
open(os.path.join(work, "matrix", "pipeline.toml"), "w").write(
    head
    + "[stages.gen]\n"
    + f"matrix = {{ a = {digits}, b = {digits}, c = {digits} }}\n"
    + 'cmd = "echo ${item.a} ${item.b} ${item.c} x${train.scale} > out/${item.a}-${item.b}-${item.c}.txt"\n'
    + 'deps = ["seed.txt"]\n'
    + 'outs = ["out/${item.a}-${item.b}-${item.c}.txt"]\n'
)
stages = []
for a in range(10):
    for b in range(10):
        for c in range(10):
            stages.append(
                f'[stages."gen_{a}-{b}-{c}"]\n'
                f'cmd = "echo {a} {b} {c} x2 > out/{a}-{b}-{c}.txt"\n'
                'deps = ["seed.txt"]\n'
                'params = ["train.scale"]\n'
                f'outs = ["out/{a}-{b}-{c}.txt"]\n'
            )
open(os.path.join(work, "written", "pipeline.toml"), "w").write(head + "\n".join(stages))
PY

for v in matrix written; do
  d="$WORK/$v"
  echo "== $v: first repro (one run)" >&2
  /usr/bin/time -f "%e %M" -o "$RES/first-$v.txt" "$NETSEC_BIN" -q -C "$d" repro -j "$JOBS"
  "$NETSEC_BIN" -q -C "$d" status >&2
  echo "== $v: dag --json, no-op repro, no-op status" >&2
  hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$RES/noop-$v.json" \
    "$NETSEC_BIN -C $d dag --json" "$NETSEC_BIN -q -C $d repro" "$NETSEC_BIN -q -C $d status" >&2
done
# Peak RSS of one parse of the matrix.
/usr/bin/time -f "%M" -o "$RES/rss-dag-matrix.txt" "$NETSEC_BIN" -C "$WORK/matrix" dag --json >/dev/null

python3 - "$RES" <<'PY'
import json, os, statistics, sys
res = sys.argv[1]
def times(v, i):
    r = json.load(open(os.path.join(res, f"noop-{v}.json")))["results"][i]["times"]
    return statistics.median(r) * 1000, statistics.mean(r) * 1000, max(r) * 1000
print("| 1,000 stages | first repro | dag --json (median / mean / max) | no-op repro | no-op status |")
print("|---|---:|---:|---:|---:|")
for v in ("matrix", "written"):
    first = float(open(os.path.join(res, f"first-{v}.txt")).read().split()[0]) * 1000
    cells = []
    for i in range(3):
        md, mn, mx = times(v, i)
        cells.append(f"{md:.1f} / {mn:.1f} / {mx:.1f} ms")
    print(f"| {v} | {first:.0f} ms | " + " | ".join(cells) + " |")
rss = open(os.path.join(res, "rss-dag-matrix.txt")).read().split()[-1]
print(f"\nPeak RSS of `dag --json` on the matrix: {int(rss) / 1024:.1f} MiB")
PY
