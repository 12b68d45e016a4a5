#!/usr/bin/env bash
# Scale benchmark of the phishing pipeline (issue #16): the whole pipeline on 100,000 and
# 1,000,000 rows.
#
# The rows are rows of the bundled CSV drawn at random (seeded), each with two cells re-drawn
# from their column's values, so that most feature vectors are new while the columns keep the
# bundled distribution. For each size: a fresh workspace, one cold `netsec repro --json` under
# `/usr/bin/time -v`; it prints the time of each stage (from the JSON events), the wall time, peak
# RSS, and the sizes of the CSV and of the model. The default drift gate must accept the grouped
# split at every size (a rejection exits 4; the row then shows it).
#
# Env: SIZES (default "100000 1000000"), NETSEC_BIN (benchmark that binary instead of
# building), SEED (default 7).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SIZES="${SIZES:-100000 1000000}"
SEED="${SEED:-7}"
WORK="${TMPDIR:-/tmp}/netsec-bench-model-scale"

# shellcheck source=scripts/bench/netsec-bin.sh
source scripts/bench/netsec-bin.sh
mkdir -p "$WORK"

cat >"$WORK/gen.py" <<'PY'
"""N rows of the bundled CSV drawn with replacement, two cells of each re-drawn (seeded)."""
import csv, random, sys

src, n, seed, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
with open(src, newline="") as f:
    reader = csv.reader(f)
    header = next(reader)
    rows = [r for r in reader]
width = len(header) - 1  # the label (last column) is never re-drawn
values = [sorted({r[j] for r in rows}) for j in range(width)]
rng = random.Random(seed)
with open(out, "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(header)
    for _ in range(n):
        r = list(rows[rng.randrange(len(rows))])
        for j in rng.sample(range(width), 2):
            r[j] = rng.choice(values[j])
        w.writerow(r)
PY

stage() { # seconds of stage $2 in the events file $1
  python3 -c 'import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("event") == "stage" and e["stage"] == sys.argv[2]:
        print("%.1f" % (e.get("duration_ms", 0) / 1000)); break
else: print("-")' "$1" "$2"
}

printf '%-8s %6s %7s %8s %9s %7s %8s %8s %7s %8s %8s %s\n' rows csv_MB ingest validate transform train compare evaluate wall peak_MB model_MB exit
for n in $SIZES; do
  ws="$WORK/ws-$n"
  rm -rf "$ws" && mkdir -p "$ws/data"
  cp "$ROOT/pipeline.toml" "$ROOT/schema.yaml" "$ROOT/.dvcignore" "$ws/"
  python3 "$WORK/gen.py" "$ROOT/data/phisingData.csv" "$n" "$SEED" "$ws/data/phisingData.csv"
  csv_mb=$(du -m "$ws/data/phisingData.csv" | cut -f1)
  set +e
  /usr/bin/time -v "$NETSEC_BIN" -q -C "$ws" repro --json >"$ws/events.jsonl" 2>"$ws/time.txt"
  rc=$?
  set -e
  wall=$(grep 'Elapsed (wall clock)' "$ws/time.txt" | awk '{print $NF}')
  peak=$(($(grep 'Maximum resident set size' "$ws/time.txt" | awk '{print $NF}') / 1024))
  model_mb=$(du -m "$ws/artifacts/train/model.json" 2>/dev/null | cut -f1 || true)
  printf '%-8s %6s %7s %8s %9s %7s %8s %8s %7s %8s %8s %s\n' "$n" "$csv_mb" \
    "$(stage "$ws/events.jsonl" ingest)" "$(stage "$ws/events.jsonl" validate)" \
    "$(stage "$ws/events.jsonl" transform)" "$(stage "$ws/events.jsonl" train)" \
    "$(stage "$ws/events.jsonl" compare)" "$(stage "$ws/events.jsonl" evaluate)" \
    "$wall" "$peak" "${model_mb:--}" "$rc"
  if [[ -f "$ws/artifacts/train/cv.json" ]]; then
    python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print("   chose %s, CV F1 %.4f, threshold %.4f, %d candidates" % (c["model"], c["cv_f1"], c["threshold"], len(c["table"])))' "$ws/artifacts/train/cv.json"
  fi
  if [[ -f "$ws/artifacts/train/model.json" ]]; then
    # Issue #16's memory bound: peak RSS <= 3 x the CSV's size + the model's, in MiB.
    python3 -c 'import os,sys
csv, model, peak = os.path.getsize(sys.argv[1]), os.path.getsize(sys.argv[2]), int(sys.argv[3])
bound = (3 * csv + model) / 2**20
print("   peak %d MiB, bound 3 x %.1f + %.1f = %.1f MiB: %s" % (peak, csv / 2**20, model / 2**20, bound, "within" if peak <= bound else "OVER"))' \
      "$ws/data/phisingData.csv" "$ws/artifacts/train/model.json" "$peak"
  fi
  if [[ -f "$ws/artifacts/validate/report.yaml" ]]; then
    grep -m1 '  reason:' "$ws/artifacts/validate/report.yaml" | sed 's/^ */   validate: /'
  fi
done
