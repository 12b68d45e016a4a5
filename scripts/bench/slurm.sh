#!/usr/bin/env bash
# Slurm executor benchmark (issue #14), rerunnable: what a stage pays for running as a job.
#
# A chain of STAGES cmd stages, each `sleep SLEEP` then one small out, so stages cannot overlap
# and every stage's submission, start, completion and commit are on the critical path. The same
# pipeline is run with `repro -f --executor local` and `repro -f --executor slurm` (hyperfine,
# RUNS each); per-stage overhead = (slurm mean - local mean) / STAGES, i.e. submission to commit
# beyond the stage's own run and beyond what netsec costs locally. Run at the default `poll`
# (2s) and at POLL_FAST.
#
# Needs the one-node cluster: `eval "$(scripts/services.sh start slurm)"` (exports SLURM_CONF).
# Env: STAGES (default 5), SLEEP (1), RUNS (5), POLL_FAST (500ms), NETSEC_BIN (else a release
# build of the working tree).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
STAGES="${STAGES:-5}"
SLEEP="${SLEEP:-1}"
RUNS="${RUNS:-5}"
POLL_FAST="${POLL_FAST:-500ms}"
WORK="${TMPDIR:-/tmp}/netsec-bench-slurm"

[[ -n "${SLURM_CONF:-}" ]] || { echo "SLURM_CONF unset: eval \"\$(scripts/services.sh start slurm)\"" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }
if [[ -z "${NETSEC_BIN:-}" ]]; then
  cargo build --release --bin netsec >&2
  NETSEC_BIN="$ROOT/target/release/netsec"
fi

rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"
write_pipeline() { # $1 = poll
  {
    printf '[executor]\nkind = "local"\npoll = "%s"\n' "$1"
    prev=""
    for i in $(seq 1 "$STAGES"); do
      printf '\n[stages.s%d]\ncmd = "sleep %s; echo %d > s%d.txt"\nouts = ["s%d.txt"]\n' "$i" "$SLEEP" "$i" "$i" "$i"
      [[ -n "$prev" ]] && printf 'deps = ["%s"]\n' "$prev"
      prev="s$i.txt"
    done
  } >pipeline.toml
}

echo "netsec $("$NETSEC_BIN" --version | awk '{print $2}'), $(sinfo -V), $(nproc) CPUs, chain of $STAGES stages of sleep $SLEEP" >&2
for poll in 2s "$POLL_FAST"; do
  write_pipeline "$poll"
  "$NETSEC_BIN" repro -q >/dev/null 2>&1
  hyperfine --runs "$RUNS" --warmup 1 --export-json "$WORK/poll-$poll.json" \
    -n local "$NETSEC_BIN repro -q -f -j 1 --executor local" \
    -n "slurm poll $poll" "$NETSEC_BIN repro -q -f -j 1 --executor slurm" >&2
  python3 - "$WORK/poll-$poll.json" "$STAGES" "$poll" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
n = int(sys.argv[2]); local = r["local"]; slurm = [v for k, v in r.items() if k != "local"][0]
per = (slurm["mean"] - local["mean"]) / n
print(f"poll {sys.argv[3]}: local {local['mean']:.2f} s ± {local['stddev']:.2f}, slurm {slurm['mean']:.2f} s ± {slurm['stddev']:.2f}; overhead per stage {per:.2f} s")
PY
done
