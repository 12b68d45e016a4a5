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
# Then a POINTS-point experiment sweep (`exp run --queue -S train.seed=1,…`, each experiment one
# `sleep SWEEP_SLEEP` stage after a shared upstream stage) run by `exp run --run-all -j SWEEP_JOBS`
# locally and with `--executor slurm`, one wall time each (issue #14's sweep figure).
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
POINTS="${POINTS:-6}"
SWEEP_SLEEP="${SWEEP_SLEEP:-2}"
SWEEP_JOBS="${SWEEP_JOBS:-2}"
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

# The sweep: one git repo, a shared `prep` stage and a `fit` stage reading `train.seed`.
sweep() { # $1 = executor
  local dir="$WORK/sweep-$1"
  rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"
  git init -q && git config user.email bench@localhost && git config user.name bench
  cat >pipeline.toml <<TOML
[executor]
kind = "local"
poll = "$POLL_FAST"

[params.train]
seed = 0

[stages.prep]
cmd = "echo prepared > prep.txt"
outs = ["prep.txt"]

[stages.fit]
cmd = "sleep $SWEEP_SLEEP; echo \${train.seed} > fit.txt"
deps = ["prep.txt"]
outs = ["fit.txt"]
TOML
  "$NETSEC_BIN" repro -q >/dev/null 2>&1
  git add -A >/dev/null && git commit -qm base
  local points
  points=$(seq -s, 1 "$POINTS")
  "$NETSEC_BIN" exp run --queue -S "train.seed=$points" >/dev/null 2>&1
  local t0 t1 ok
  t0=$(date +%s.%N)
  "$NETSEC_BIN" exp run --run-all -j "$SWEEP_JOBS" --executor "$1" >/dev/null 2>&1 || true
  t1=$(date +%s.%N)
  ok=$("$NETSEC_BIN" exp show --json | python3 -c "import json,sys; print(sum(r.get('status')=='success' for r in json.load(sys.stdin)))")
  python3 -c "print(f'sweep of $POINTS, -j $SWEEP_JOBS, executor $1: {$t1-$t0:.2f} s wall, $ok succeeded (stage work {$POINTS*$SWEEP_SLEEP/$SWEEP_JOBS:.1f} s at $SWEEP_JOBS at a time)')"
  cd "$WORK"
}
sweep local
sweep slurm
