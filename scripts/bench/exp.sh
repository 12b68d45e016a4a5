#!/usr/bin/env bash
# Experiments: an 8-point sweep with 2 at a time over a 4-stage cmd pipeline whose stages each
# do a fixed amount of work (`sleep $WORK`, the same commands for both tools). The sweep varies
# a param of the last stage only, so each experiment runs that stage and restores the three
# upstream ones. netsec: `exp run --queue -S train.seed=1,…,8` + `exp run --run-all -j 2`;
# DVC 3.67: eight `dvc exp run --queue -S train.seed=N` + `dvc queue start -j 2`, waited for
# with `dvc queue status`. Reports wall time and the overhead beyond the stages' own work
# (8 × WORK / 2), then `exp show` on 100 experiments (netsec: records of 100 runs).
#
# Usage: scripts/bench/exp.sh   (env: POINTS=8, WORK=0.5, NO_DVC=1, NETSEC_BIN=prebuilt binary)
set -euo pipefail
cd "$(dirname "$0")/../.."
repo_root=$PWD
points="${POINTS:-8}"
work_s="${WORK:-0.5}"
tmp="${TMPDIR:-/tmp}"
work="$tmp/netsec-bench-exp"
venv="$tmp/netsec-bench-dvc"
say() { echo "[exp-bench] $*" >&2; }
now() { date +%s.%N; }

if [ -n "${NETSEC_BIN:-}" ]; then
    netsec="$NETSEC_BIN"
else
    say "building netsec (release)"
    cargo build --release --locked --bin netsec >&2
    netsec="${CARGO_TARGET_DIR:-$repo_root/target}/release/netsec"
fi
seeds=$(seq -s, 1 "$points")

setup() { # $1 = dir
    rm -rf "$1" && mkdir -p "$1" && cd "$1"
    git init -q -b main
    printf 'a\nb\n' > raw.txt
    printf 'prep:\n  n: 3\ntrain:\n  seed: 0\n' > params.yaml
    cat > stage.sh <<'SH'
sleep "$WORK"; cat "$1" > "$2"; echo "$3" >> "$2"
SH
    cat > train.sh <<'SH'
sh stage.sh s3.txt model.txt x
printf '{"seed": %s}\n' "$(grep 'seed:' params.yaml | awk '{print $2}')" > metrics.json
SH
}

netsec_run() {
    setup "$work/netsec"
    cat > pipeline.toml <<'TOML'
[stages.s1]
cmd = "sh stage.sh raw.txt s1.txt s1"
deps = ["raw.txt", "stage.sh"]
params = ["params.yaml:prep.n"]
outs = ["s1.txt"]
[stages.s2]
cmd = "sh stage.sh s1.txt s2.txt s2"
deps = ["s1.txt"]
outs = ["s2.txt"]
[stages.s3]
cmd = "sh stage.sh s2.txt s3.txt s3"
deps = ["s2.txt"]
outs = ["s3.txt"]
[stages.train]
cmd = "sh train.sh"
deps = ["s3.txt"]
params = ["params.yaml:train.seed"]
outs = ["model.txt", { path = "metrics.json", metric = true, cache = false }]
TOML
    printf '.netsec/\n' > .gitignore
    WORK=$work_s "$netsec" repro -q
    git add -A && git -c user.name=b -c user.email=b@b commit -qm base
    local t0 t1
    t0=$(now)
    "$netsec" exp run --queue -S "params.yaml:train.seed=$seeds" -q
    WORK=$work_s "$netsec" exp run --run-all -j 2 -q
    t1=$(now)
    python3 -c "import sys; w=float(sys.argv[2])-float(sys.argv[1]); print(f'netsec: {w:.2f} s wall, overhead {w-$points*$work_s/2:.2f} s')" "$t0" "$t1"
    "$netsec" exp show --json | python3 -c "import json,sys; r=json.load(sys.stdin); print('netsec: success', sum(x['status']=='success' for x in r))"
    # exp show on 100 experiments: copies of one record under 100 names.
    local rec; rec=$(ls .netsec/exps/records-v1/*.json | head -1)
    for i in $(seq 1 100); do
        python3 -c "import json,sys; r=json.load(open(sys.argv[1])); r['name']=sys.argv[2]; json.dump(r, open(sys.argv[3],'w'))" "$rec" "copy-$i" ".netsec/exps/records-v1/copy-$i.json"
    done
    hyperfine -N -w 2 -r 10 "$netsec exp show --json" 2>/dev/null | grep -E "Time|Range" | sed 's/^/netsec exp show (108 rows): /'
}

dvc_run() {
    [ -x "$venv/bin/dvc" ] || { say "no DVC venv at $venv (python3 -m venv $venv && $venv/bin/pip install dvc==3.67.1)"; return; }
    setup "$work/dvc"
    cat > dvc.yaml <<'YAML'
stages:
  s1:
    cmd: sh stage.sh raw.txt s1.txt s1
    deps: [raw.txt, stage.sh]
    params: [prep.n]
    outs: [s1.txt]
  s2:
    cmd: sh stage.sh s1.txt s2.txt s2
    deps: [s1.txt]
    outs: [s2.txt]
  s3:
    cmd: sh stage.sh s2.txt s3.txt s3
    deps: [s2.txt]
    outs: [s3.txt]
  train:
    cmd: sh train.sh
    deps: [s3.txt]
    params: [train.seed]
    outs: [model.txt]
    metrics: [{metrics.json: {cache: false}}]
YAML
    "$venv/bin/dvc" init -q
    export WORK=$work_s PATH="$venv/bin:$PATH"
    "$venv/bin/dvc" repro -q
    git add -A && git -c user.name=b -c user.email=b@b commit -qm base
    local t0 t1 i
    t0=$(now)
    for i in $(seq 1 "$points"); do "$venv/bin/dvc" exp run --queue -S "train.seed=$i" -q >/dev/null; done
    "$venv/bin/dvc" queue start -j 2 >/dev/null
    for _ in $(seq 1 1200); do
        st=$("$venv/bin/dvc" queue status 2>/dev/null || true)
        if ! grep -qE "Queued|Running" <<<"$st"; then break; fi
        sleep 0.5
    done
    t1=$(now)
    python3 -c "import sys; w=float(sys.argv[2])-float(sys.argv[1]); print(f'dvc: {w:.2f} s wall, overhead {w-$points*$work_s/2:.2f} s')" "$t0" "$t1"
    "$venv/bin/dvc" queue status 2>/dev/null | tail -n +2 | awk '{print $NF}' | sort | uniq -c | sed 's/^/dvc queue: /'
    unset WORK
}

[ -n "${NO_NETSEC:-}" ] || netsec_run
[ -n "${NO_DVC:-}" ] || dvc_run
