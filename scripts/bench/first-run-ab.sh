#!/usr/bin/env bash
# First run of N trivial stages by several netsec binaries against the shell loop, interleaved
# (issue #18): which binary is cheaper, measured in the same minutes.
#
#   scripts/bench/first-run-ab.sh before=/path/to/netsec-a after=/path/to/netsec-b
#
# Every contender gets a workspace of its own per round (scale_gen.py), all generated before
# the rounds start (see scale.sh: inodes deleted in the last six minutes slow every create);
# then ROUNDS rounds, the order rotating each round. netsec is run through own_cpu.py: besides
# wall time it reports netsec's own user + system CPU apart from its commands', which a shell
# loop does not pay and which is far less noisy than wall time on a shared VM. The last column is
# the CPU time both cores spent idle during the run (/proc/stat), machine-wide.
#
# Env: SIZE (stages, default 10000), VARIANT (file or dir, default file), ROUNDS (default 3),
# JOBS (default: number of cores), SETTLE (seconds to wait after generating, default 400).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SIZE="${SIZE:-10000}"
VARIANT="${VARIANT:-file}"
ROUNDS="${ROUNDS:-3}"
JOBS="${JOBS:-$(nproc)}"
SETTLE="${SETTLE:-400}"
WORK="${TMPDIR:-/tmp}/netsec-bench-first-run-ab"
(( $# > 0 )) || { echo "usage: $0 NAME=NETSEC_BINARY..." >&2; exit 2; }
names=()
declare -A bin
for spec in "$@"; do
  name=${spec%%=*}
  [[ $name != "$spec" && -x ${spec#*=} && $name != loop ]] || { echo "bad contender: $spec" >&2; exit 2; }
  names+=("$name"); bin[$name]=${spec#*=}
done
names+=(loop)

rm -rf "$WORK" && mkdir -p "$WORK/results"
RES="$WORK/results"
for r in $(seq 1 "$ROUNDS"); do
  for who in "${names[@]}"; do
    python3 scripts/bench/scale_gen.py "$SIZE" "$VARIANT" "$WORK/$who-r$r"
    rm -f "$WORK/$who-r$r/dvc.yaml"
  done
done
echo "generated; waiting ${SETTLE} s" >&2
sync && sleep "$SETTLE"

# Jiffies both cores spent idle so far (/proc/stat): the difference over a run is CPU time that
# neither netsec, its commands nor anything else used (a shell loop leaves almost none).
idle_jiffies() { awk '$1 == "cpu" { print $5 }' /proc/stat; }
n=${#names[@]}
for r in $(seq 1 "$ROUNDS"); do
  rot=$(( (r - 1) % n ))
  order=("${names[@]:rot}" "${names[@]:0:rot}")
  for who in "${order[@]}"; do
    d="$WORK/$who-r$r"
    idle0=$(idle_jiffies)
    if [[ $who == loop ]]; then
      /usr/bin/time -f "%e %U %S" -o "$RES/t.txt" sh scripts/bench/shell-loop.sh "$d" "$JOBS" >/dev/null
      echo "$r $(tail -n 1 "$RES/t.txt")" >>"$RES/loop.txt"
    else
      python3 scripts/bench/own_cpu.py "$RES/own.txt" -- "${bin[$who]}" -q -C "$d" repro -j "$JOBS" >/dev/null
      echo "$r $(tail -n 1 "$RES/own.txt")" >>"$RES/$who.txt"
    fi
    echo "$r $(( $(idle_jiffies) - idle0 ))" >>"$RES/$who.idle"
  done
  # All of them did the same work: the same outs, byte for byte.
  for who in "${names[@]:1}"; do
    diff -r -q "$WORK/${names[0]}-r$r/out" "$WORK/$who-r$r/out" >&2
  done
  echo "round $r done" >&2
done

python3 - "$RES" "$SIZE" "$(getconf CLK_TCK)" "${names[@]}" <<'PY'
import statistics, sys
res, size, hz, names = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
rows = {w: [l.split() for l in open(f"{res}/{w}.txt") if l.strip()] for w in names}
idle = {w: statistics.median(int(l.split()[1]) / hz for l in open(f"{res}/{w}.idle") if l.strip()) for w in names}
loop = {int(l[0]): float(l[1]) for l in rows["loop"]}
print(f"| contender | wall, per round (s) | wall / loop, per round | median wall / loop | own CPU per stage (user + sys) | own sys per stage | commands' CPU per stage | cores idle during the run |")
print("|---|---|---|---:|---:|---:|---:|---:|")
for w in names:
    if w == "loop":
        walls = [float(l[1]) for l in rows[w]]
        cpu = statistics.median((float(l[2]) + float(l[3])) / size * 1e6 for l in rows[w])
        print(f"| loop | {', '.join(f'{x:.2f}' for x in walls)} | | | | | {cpu:.0f} µs (all of it) | {idle[w]:.2f} s |")
        continue
    walls = [float(l[1]) for l in rows[w]]
    ratios = [float(l[1]) / loop[int(l[0])] for l in rows[w]]
    own = statistics.median((float(l[2]) + float(l[3])) / size * 1e6 for l in rows[w])
    sys_ = statistics.median(float(l[3]) / size * 1e6 for l in rows[w])
    kids = statistics.median((float(l[4]) + float(l[5])) / size * 1e6 for l in rows[w])
    print(f"| {w} | {', '.join(f'{x:.2f}' for x in walls)} | {', '.join(f'{x:.2f}' for x in ratios)} | {statistics.median(ratios):.2f} | {own:.0f} µs | {sys_:.0f} µs | {kids:.0f} µs | {idle[w]:.2f} s |")
PY
