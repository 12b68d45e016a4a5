#!/usr/bin/env bash
# Experiments on the phishing pipeline: an 8-point sweep over the `train` params (4 seeds × one
# model family, forest or boosting) queued with `exp run --queue` and run with `--run-all -j 2`
# on the bundled data, in a fresh copy of the repository whose base commit has no lock and an
# empty cache: the first experiment to need ingest/validate/transform computes them, the others
# wait for it (one computation per fingerprint) and restore them. Reports the wall time of the
# sweep, per stage how many experiments ran it and how many restored it (from the experiment
# records), and `exp show` of the 8 with test F1.
#
# Usage: scripts/bench/exp_train.sh   (env: NETSEC_BIN=prebuilt binary, JOBS=2)
set -euo pipefail
cd "$(dirname "$0")/../.."
repo_root=$PWD
jobs="${JOBS:-2}"
work="${TMPDIR:-/tmp}/netsec-bench-exp-train"
say() { echo "[exp-train-bench] $*" >&2; }

if [ -n "${NETSEC_BIN:-}" ]; then
    netsec="$NETSEC_BIN"
else
    say "building netsec (release)"
    cargo build --release --locked --bin netsec >&2
    netsec="${CARGO_TARGET_DIR:-$repo_root/target}/release/netsec"
fi

rm -rf "$work" && mkdir -p "$work/data"
cp pipeline.toml schema.yaml "$work/"
cp data/phisingData.csv "$work/data/"
cd "$work"
printf '.netsec/\n/artifacts/\n/final_model/\n' > .gitignore
git init -q -b main
git add -A && git -c user.name=b -c user.email=b@b commit -qm base
say "$("$netsec" --version) in $work; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

"$netsec" exp run --queue -q -S 'train.seed=1,2,3,4' -S 'train.models=["forest"],["boosting"]'
/usr/bin/time -v -o time.txt "$netsec" exp run --run-all -j "$jobs" -q
echo "sweep: $(grep -c . <(ls .netsec/exps/records-v1/)) experiments, --run-all -j $jobs:" \
    "$(grep 'Elapsed (wall' time.txt | awk '{print $NF}') wall," \
    "largest peak RSS (runner or a child) $(grep 'Maximum resident' time.txt | awk '{print $NF}') KiB"

# Per stage: experiments that ran it, restored it (run-cache or waited for another's run),
# or found it up to date.
python3 - .netsec/exps/records-v1 <<'PY'
import collections, json, os, sys
d = sys.argv[1]
recs = [json.load(open(os.path.join(d, f))) for f in sorted(os.listdir(d)) if f.endswith(".json")]
count = collections.defaultdict(collections.Counter)
for r in recs:
    for stage, outcome in r["stages"].items():
        count[stage][outcome] += 1
print("status:", dict(collections.Counter(r["status"] for r in recs)))
print(f"{'stage':<10} " + " ".join(f"{o:>9}" for o in ("ran", "restored", "skipped")))
for stage in ("ingest", "validate", "transform", "train", "compare", "evaluate"):
    c = count[stage]
    print(f"{stage:<10} " + " ".join(f"{c[o]:>9}" for o in ("ran", "restored", "skipped")))
PY
# Each experiment's run log (`repro`'s output): who computed which stage, in how long.
for name in $(ls .netsec/exps/records-v1/ | sed 's/\.json$//'); do
    "$netsec" queue logs "$name" 2>/dev/null | sed -n "s/^ *Finished \`\(.*\)\` in \(.*\)$/$name \1 \2/p"
done > stage-times.txt
python3 - stage-times.txt <<'PY'
import collections, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    name, stage, t = line.split()
    runs[stage].append((name, float(t.rstrip("s"))))
for stage in ("ingest", "validate", "transform", "train", "compare", "evaluate"):
    r = runs.get(stage, [])
    who = ", ".join(n for n, _ in r) if len(r) <= 2 else f"{len(r)} experiments"
    print(f"{stage:<10} computed {len(r)}x, {sum(t for _, t in r):7.2f} s in all ({who})")
PY

# `exp show` of the 8, best test F1 first (from `--json`, so the long metric keys fit).
m=artifacts/evaluate/metrics.json
"$netsec" exp show --json --param train.seed --param train.models --metric "$m:test.f1" \
    --metric "$m:test.roc_auc" --sort-by "$m:test.f1" --sort-order desc | python3 /dev/fd/3 3<<'PY'
import json, sys
m = "artifacts/evaluate/metrics.json:"
print(f"{'experiment':<15} {'train.models':<13} {'seed':>4} {'test F1':>8} {'ROC-AUC':>8} {'duration':>9}")
for r in json.load(sys.stdin):
    if r["kind"] != "experiment":
        continue
    p, x = r["params"], r["metrics"]
    f1, auc = x.get(m + "test.f1", float("nan")), x.get(m + "test.roc_auc", float("nan"))
    print(f"{r['name']:<15} {json.dumps(p.get('train.models')):<13} {p.get('train.seed')!s:>4} "
          f"{f1:>8.4f} {auc:>8.4f} {(r['duration_ms'] or 0) / 1000:>8.1f}s")
PY
