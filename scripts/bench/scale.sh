#!/usr/bin/env bash
# Scale benchmark (issue #18), rerunnable: overhead of netsec itself as pipelines grow.
#
# Generates cmd pipelines of 1,000 and 10,000 trivial stages in chains of ten, in two variants:
#   file: stage k of a chain runs `echo i > out/cC_sK.txt` and reads the file of stage k-1;
#   dir:  stage k writes a directory `out/cC/sK/` (one file) and reads the directory of k-1.
# For each: the first `netsec repro` against the same commands run by a shell loop at the same
# parallelism (each chain a sequence of `sh -c CMD`, chains spread over JOBS processes by
# xargs), FIRST_ROUNDS rounds, each contender in a workspace generated for it before the rounds
# start (no deletes during the rounds: on ext4 every create walks past recently deleted inodes),
# the order alternating each round, each run timed (netsec's by own_cpu.py, which also reports
# its own CPU apart from its commands', the loop's with /usr/bin/time); then no-op `status`,
# `repro` and `dag --json` with hyperfine on the first round's netsec workspace. On the 1,000-stage file variant, the same no-op `dvc status` / `dvc repro`
# (DVC 3.67 in a venv; its outs are produced by the shell loop and recorded with
# `dvc commit -f`, since its own first run takes tens of minutes).
#
# Env: SIZES (default "1000 10000"), VARIANTS (default "file dir"), FIRST_ROUNDS (rounds of
# first run against the loop, default 3), SETTLE (seconds to wait after generating their
# workspaces, default 60; at least 370 s after this script deleted a previous run's workspaces,
# see below), RUNS (hyperfine runs of the netsec no-op commands, default 10),
# DVC_RUNS (default 3), JOBS (default: number of cores), NO_DVC=1 (skip DVC), NETSEC_BIN
# (benchmark that binary instead of building the working tree).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SIZES="${SIZES:-1000 10000}"
VARIANTS="${VARIANTS:-file dir}"
RUNS="${RUNS:-10}"
FIRST_ROUNDS="${FIRST_ROUNDS:-3}"
SETTLE="${SETTLE:-60}"
DVC_RUNS="${DVC_RUNS:-3}"
JOBS="${JOBS:-$(nproc)}"
WORK="${TMPDIR:-/tmp}/netsec-bench-scale"
DVC_VENV="${TMPDIR:-/tmp}/netsec-bench-dvc"

if ! command -v hyperfine >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >&2
  else
    echo "hyperfine is needed (apt-get install hyperfine)" >&2; exit 1
  fi
fi
# shellcheck source=scripts/bench/netsec-bin.sh
source scripts/bench/netsec-bin.sh
DVC=""
if [[ -z "${NO_DVC:-}" ]]; then
  if [[ ! -x "$DVC_VENV/bin/dvc" ]]; then
    python3 -m venv "$DVC_VENV" >&2 && "$DVC_VENV/bin/pip" install -q 'dvc==3.67.*' >&2 || true
  fi
  if [[ -x "$DVC_VENV/bin/dvc" ]]; then DVC="$DVC_VENV/bin/dvc"; else echo "note: DVC unavailable, its columns are skipped" >&2; fi
fi

# ext4 without a journal (this machine's root, and common on VMs) does not reuse an inode
# deleted less than 60 s ago, or less than 360 s ago while its inode-table block is dirty, which
# it is while files are being created: every create scans past them. netsec creates three inodes
# per stage (the out, its cache object, its run-cache entry) where the loop creates one, so it
# pays three times as much: runs started a minute after deleting the previous workspaces measured
# 1.7-2.1x the loop, against 1.36-1.59x in rounds after a 400 s pause (README.md in this
# directory). So the first-run rounds start at least 370 s after our own deletes; deletes by
# anything else in the last six minutes skew them the same way.
deleted_at=0
if [[ -e "$WORK" ]]; then rm -rf "$WORK" && deleted_at=$(date +%s); fi
mkdir -p "$WORK/results"
RES="$WORK/results"
settle() {
  local wait=$SETTLE
  if (( deleted_at > 0 )); then
    local left=$(( deleted_at + 370 - $(date +%s) ))
    (( left > wait )) && wait=$left
  fi
  sync && sleep "$wait"
}

# gen N VARIANT DIR: pipeline.toml, dvc.yaml, seed.txt, and chains.txt (scale_gen.py).
gen() { python3 "$ROOT/scripts/bench/scale_gen.py" "$@"; }

# The shell-loop reference: every chain's commands in order, JOBS chains at a time.
LOOP="$ROOT/scripts/bench/shell-loop.sh"

for n in $SIZES; do
  for v in $VARIANTS; do
    tag="$v-$n"
    for r in $(seq 1 "$FIRST_ROUNDS"); do
      gen "$n" "$v" "$WORK/$tag-r$r" && rm -f "$WORK/$tag-r$r/dvc.yaml"
      gen "$n" "$v" "$WORK/$tag-loop-r$r"
    done
    # Written back, and past the window of the inodes deleted above.
    settle
    echo "== $tag: first repro vs the shell loop, $FIRST_ROUNDS rounds" >&2
    : >"$RES/first-$tag.txt"
    : >"$RES/own-$tag.txt"
    for r in $(seq 1 "$FIRST_ROUNDS"); do
      order="netsec loop"; (( r % 2 == 0 )) && order="loop netsec"
      for who in $order; do
        if [[ $who == netsec ]]; then
          # Wall time, and netsec's own CPU apart from its commands' (own_cpu.py).
          python3 "$ROOT/scripts/bench/own_cpu.py" "$RES/own-$tag.txt" -- \
            "$NETSEC_BIN" -q -C "$WORK/$tag-r$r" repro -j "$JOBS"
          tn=$(tail -n 1 "$RES/own-$tag.txt" | cut -d' ' -f1)
        else
          /usr/bin/time -f "%e" -o "$RES/t.txt" sh "$LOOP" "$WORK/$tag-loop-r$r" "$JOBS"
          tl=$(tail -n 1 "$RES/t.txt")
        fi
      done
      echo "$tn $tl $(cut -d' ' -f1 /proc/loadavg)" >>"$RES/first-$tag.txt"
      echo "   round $r: netsec $tn s, loop $tl s" >&2
      # Both did the same work: the same outs, byte for byte.
      diff -r -q "$WORK/$tag-r$r/out" "$WORK/$tag-loop-r$r/out" >&2
    done
    d="$WORK/$tag-r1"
    "$NETSEC_BIN" -q -C "$d" status >&2
    echo "== $tag: no-op status / repro / dag --json" >&2
    hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$RES/noop-$tag.json" \
      "$NETSEC_BIN -q -C $d status" "$NETSEC_BIN -q -C $d repro" "$NETSEC_BIN -C $d dag --json" >&2
  done
done

if [[ -n "$DVC" && " $SIZES " == *" 1000 "* ]]; then
  d="$WORK/dvc-1000"
  gen 1000 file "$d"
  rm -f "$d/pipeline.toml"
  echo "== DVC $("$DVC" --version), 1,000 stages: outs by the shell loop, then dvc commit -f" >&2
  (cd "$d" && git init -q && "$DVC" init -q && sh "$LOOP" "$d" "$JOBS" \
    && "$DVC" commit -f -q >&2 && "$DVC" status >&2)
  hyperfine --runs "$DVC_RUNS" --export-json "$RES/dvc-1000.json" \
    "cd $d && $DVC status" "cd $d && $DVC repro" >&2
fi

python3 - "$RES" "$SIZES" "$VARIANTS" <<'PY'
import json, os, statistics, sys
res, sizes, variants = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
def med(path, i=0):
    r = json.load(open(path))["results"][i]
    return statistics.median(r["times"]) * 1000
dvc = os.path.join(res, "dvc-1000.json")
print("| stages | variant | first repro | shell loop | first/loop (rounds) | netsec's own CPU per stage | no-op status | no-op repro | dag --json |")
print("|---:|---|---:|---:|---|---:|---:|---:|---:|")
for n in sizes:
    for v in variants:
        t = f"{v}-{n}"
        rounds = [list(map(float, l.split()[:2])) for l in open(os.path.join(res, f"first-{t}.txt")) if l.strip()]
        first = statistics.median(a for a, _ in rounds) * 1000
        loop = statistics.median(b for _, b in rounds) * 1000
        ratios = ", ".join(f"{a / b:.2f}" for a, b in rounds)
        # netsec's own user + system CPU (all its threads, not its commands), per stage.
        own = [l.split() for l in open(os.path.join(res, f"own-{t}.txt")) if l.strip()]
        per = statistics.median((float(o[1]) + float(o[2])) / int(n) * 1e6 for o in own)
        s, r, g = (med(os.path.join(res, f"noop-{t}.json"), i) for i in range(3))
        print(f"| {int(n):,} | {v} | {first:.0f} ms | {loop:.0f} ms | {first/loop:.2f} ({ratios}) | {per:.0f} µs | {s:.1f} ms | {r:.1f} ms | {g:.1f} ms |")
if os.path.exists(dvc):
    ds, dr = med(dvc, 0), med(dvc, 1)
    s, r = med(os.path.join(res, "noop-file-1000.json"), 0), med(os.path.join(res, "noop-file-1000.json"), 1)
    print()
    print("| 1,000 stages (file) | netsec | DVC | DVC / netsec |")
    print("|---|---:|---:|---:|")
    print(f"| no-op status | {s:.1f} ms | {ds:.0f} ms | {ds/s:.0f}× |")
    print(f"| no-op repro | {r:.1f} ms | {dr:.0f} ms | {dr/r:.0f}× |")
PY
