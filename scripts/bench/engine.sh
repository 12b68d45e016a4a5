#!/usr/bin/env bash
# Engine benchmarks for netsec, with reference tools measured in the same run:
#   1. no-op `repro` / `status` on a 5-stage pipeline, vs DVC 3.x on the equivalent dvc.yaml;
#   2. a 1 GiB file hashed cold (no memo, empty cache) incl. cache insert, vs `b3sum`;
#   3. 10,000 small files as a directory out / dep, cold;
#   4. warm no-op `status` with that directory (vs DVC when available).
# Usage: scripts/bench/engine.sh   (env: RUNS=N, BIG_MIB=1024, NFILES=10000, NO_DVC=1, NETSEC_BIN=path)
# Needs hyperfine, b3sum (Debian packages; installed with apt-get when run as root) and python3.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
tmp="${TMPDIR:-/tmp}"
work="$tmp/netsec-bench-engine"
venv="$tmp/netsec-bench-dvc"
runs="${RUNS:-15}"
big_mib="${BIG_MIB:-1024}"
nfiles="${NFILES:-10000}"
results="$work/results"

say() { printf '\n== %s\n' "$*" >&2; }

need() { # need TOOL DEBIAN-PACKAGE
    command -v "$1" >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing $2"
        apt-get install -y "$2" >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y "$2" >/dev/null 2>&1; } || true
    fi
    command -v "$1" >/dev/null 2>&1 || { echo "missing $1 (apt-get install -y $2)" >&2; exit 2; }
}
need hyperfine hyperfine
need b3sum b3sum
[ -x /usr/bin/time ] || need time time

if [ -n "${NETSEC_BIN:-}" ]; then
    netsec="$NETSEC_BIN" # a prebuilt binary (e.g. of a given commit), no build
else
    say "building netsec (release)"
    (cd "$repo" && cargo build --release -p netsec --bin netsec >&2)
    target_dir="${CARGO_TARGET_DIR:-$(cd "$repo" && cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')}"
    netsec="$target_dir/release/netsec"
fi
[ -x "$netsec" ] || { echo "no binary at $netsec" >&2; exit 2; }
echo "netsec: $netsec ($("$netsec" --version 2>/dev/null || echo '?'))" >&2

# DVC in its own venv; a failed install only drops the DVC columns.
dvc=""
if [ -z "${NO_DVC:-}" ]; then
    if [ ! -x "$venv/bin/dvc" ]; then
        say "installing dvc into $venv"
        { python3 -m venv "$venv" && "$venv/bin/pip" install -q dvc; } >&2 || true
    fi
    if [ -x "$venv/bin/dvc" ] && "$venv/bin/dvc" --version >/dev/null 2>&1; then
        dvc="$venv/bin/dvc"
    else
        echo "note: dvc could not be installed; DVC comparisons skipped" >&2
    fi
fi

rm -rf "$work"
mkdir -p "$work" "$results"

# hyperfine wrapper: bench NAME [hyperfine args…] -- writes $results/NAME.json
bench() {
    local name="$1"
    shift
    hyperfine --style basic --export-json "$results/$name.json" "$@" >&2
}

# ---------------------------------------------------------------- 1. five-stage no-op
say "1. five-stage pipeline, nothing to do"
five="$work/five"
mkdir -p "$five"
printf 'a,b\n1,2\n3,4\n' >"$five/raw.csv"
cat >"$five/pipeline.toml" <<'EOF'
[stages.ingest]
cmd = "cp raw.csv ingested.csv"
deps = ["raw.csv"]
outs = ["ingested.csv"]

[stages.validate]
cmd = "cp ingested.csv report.txt"
deps = ["ingested.csv"]
outs = ["report.txt"]

[stages.transform]
cmd = "cp report.txt features.txt"
deps = ["report.txt"]
outs = ["features.txt"]

[stages.train]
cmd = "cp features.txt model.txt"
deps = ["features.txt"]
outs = ["model.txt"]

[stages.evaluate]
cmd = "cat model.txt report.txt > metrics.txt"
deps = ["model.txt", "report.txt"]
outs = ["metrics.txt"]
EOF
(cd "$five" && "$netsec" repro >/dev/null 2>&1)
(cd "$five" && "$netsec" status | grep -q 'Pipeline is up to date.') || { echo "netsec five-stage pipeline is not up to date after repro" >&2; exit 1; }
bench five_netsec_repro -N --warmup 3 --runs "$runs" --command-name "netsec repro (no-op)" "bash -c 'cd $five && exec $netsec repro'"
bench five_netsec_status -N --warmup 3 --runs "$runs" --command-name "netsec status (no-op)" "bash -c 'cd $five && exec $netsec status'"
bench five_netsec_dag -N --warmup 3 --runs "$runs" --command-name "netsec dag" "bash -c 'cd $five && exec $netsec dag'"

if [ -n "$dvc" ]; then
    fived="$work/five-dvc"
    mkdir -p "$fived"
    cp "$five/raw.csv" "$fived/"
    cat >"$fived/dvc.yaml" <<'EOF'
stages:
  ingest:
    cmd: cp raw.csv ingested.csv
    deps: [raw.csv]
    outs: [ingested.csv]
  validate:
    cmd: cp ingested.csv report.txt
    deps: [ingested.csv]
    outs: [report.txt]
  transform:
    cmd: cp report.txt features.txt
    deps: [report.txt]
    outs: [features.txt]
  train:
    cmd: cp features.txt model.txt
    deps: [features.txt]
    outs: [model.txt]
  evaluate:
    cmd: cat model.txt report.txt > metrics.txt
    deps: [model.txt, report.txt]
    outs: [metrics.txt]
EOF
    (cd "$fived" && "$dvc" init --no-scm -q && "$dvc" config core.analytics false && "$dvc" repro -q >/dev/null 2>&1)
    bench five_dvc_repro -N --warmup 1 --runs "$((runs < 8 ? runs : 8))" --command-name "dvc repro (no-op)" "bash -c 'cd $fived && exec $dvc repro -q'"
    bench five_dvc_status -N --warmup 1 --runs "$((runs < 8 ? runs : 8))" --command-name "dvc status (no-op)" "bash -c 'cd $fived && exec $dvc status -q'"
fi

# ---------------------------------------------------------------- 2. one big file, cold
say "2. ${big_mib} MiB file, cold hash + cache insert"
bigd="$work/big"
mkdir -p "$bigd"
head -c "$((big_mib * 1024 * 1024))" /dev/urandom >"$bigd/big.bin"
echo seed >"$bigd/seed.txt"
# A persist out that the command leaves alone: the measured work is hashing + caching big.bin.
cat >"$bigd/pipeline.toml" <<'EOF'
[stages.big]
cmd = "true"
deps = ["seed.txt"]
outs = [{ path = "big.bin", persist = true }]
EOF
# The same file as a dep: hashing only.
bigdep="$work/bigdep"
mkdir -p "$bigdep"
ln "$bigd/big.bin" "$bigdep/big.bin"
cat >"$bigdep/pipeline.toml" <<'EOF'
[stages.read]
cmd = "echo done > read.txt"
deps = ["big.bin"]
outs = ["read.txt"]
EOF
cold="rm -rf .netsec netsec.lock read.txt"
bench big_b3sum -N --warmup 1 --runs 5 --command-name "b3sum (all cores)" "b3sum $bigd/big.bin"
bench big_b3sum_1t -N --warmup 1 --runs 3 --command-name "b3sum --num-threads 1" "b3sum --num-threads 1 $bigd/big.bin"
bench big_netsec_out --warmup 1 --runs 5 --prepare "cd $bigd && $cold" --command-name "netsec repro, ${big_mib} MiB out cold (hash + cache insert)" "cd $bigd && $netsec repro >/dev/null 2>&1"
bench big_netsec_dep --warmup 1 --runs 5 --prepare "cd $bigdep && $cold" --command-name "netsec repro, ${big_mib} MiB dep cold (hash)" "cd $bigdep && $netsec repro >/dev/null 2>&1"
(cd "$bigdep" && "$netsec" repro >/dev/null 2>&1)
bench big_netsec_warm -N --warmup 2 --runs "$runs" --command-name "netsec status, ${big_mib} MiB dep warm (memo hit)" "bash -c 'cd $bigdep && exec $netsec status'"
(cd "$bigd" && rm -rf .netsec netsec.lock && /usr/bin/time -v "$netsec" repro 2>&1 >/dev/null | grep -E 'Maximum resident|Elapsed|Percent of CPU' >"$results/big_time.txt") || true

# ---------------------------------------------------------------- 3. 10,000 small files
say "3. ${nfiles} small files, directory out and dep, cold"
many="$work/many"
mkdir -p "$many"
python3 - "$many/many" "$nfiles" <<'EOF'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, f"d{i % 100:02d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i:05d}.txt"), "w") as f:
        f.write(f"file {i}\n" * (1 + i % 7))
EOF
echo seed >"$many/seed.txt"
cat >"$many/pipeline.toml" <<'EOF'
[stages.many]
cmd = "true"
deps = ["seed.txt"]
outs = [{ path = "many/", persist = true }]
EOF
manydep="$work/manydep"
mkdir -p "$manydep"
cp -al "$many/many" "$manydep/many"
cat >"$manydep/pipeline.toml" <<'EOF'
[stages.count]
cmd = "find many -type f | wc -l > count.txt"
deps = ["many/"]
outs = ["count.txt"]
EOF
bench many_netsec_out --warmup 1 --runs 5 --prepare "cd $many && $cold" --command-name "netsec repro, ${nfiles} files out cold (hash + cache insert)" "cd $many && $netsec repro >/dev/null 2>&1"
bench many_netsec_dep --warmup 1 --runs 5 --prepare "cd $manydep && $cold count.txt" --command-name "netsec repro, ${nfiles} files dep cold (hash)" "cd $manydep && $netsec repro >/dev/null 2>&1"
bench many_b3sum -N --warmup 1 --runs 5 --command-name "b3sum of ${nfiles} files" "bash -c 'cd $manydep && find many -type f -print0 | xargs -0 b3sum >/dev/null'"
(cd "$many" && rm -rf .netsec netsec.lock && /usr/bin/time -v "$netsec" repro 2>&1 >/dev/null | grep -E 'Maximum resident|Elapsed|Percent of CPU' >"$results/many_time.txt") || true

# ---------------------------------------------------------------- 4. warm status, 10,000 files
say "4. warm no-op status with ${nfiles} files"
(cd "$manydep" && "$netsec" repro >/dev/null 2>&1)
(cd "$manydep" && "$netsec" status | grep -q 'Pipeline is up to date.') || { echo "manydep not up to date after repro" >&2; exit 1; }
bench many_netsec_status -N --warmup 2 --runs "$runs" --command-name "netsec status, ${nfiles} files warm" "bash -c 'cd $manydep && exec $netsec status'"
if [ -n "$dvc" ]; then
    manydvc="$work/many-dvc"
    mkdir -p "$manydvc"
    cp -al "$many/many" "$manydvc/many"
    cat >"$manydvc/dvc.yaml" <<'EOF'
stages:
  count:
    cmd: find many -type f | wc -l > count.txt
    deps: [many]
    outs: [count.txt]
EOF
    (cd "$manydvc" && "$dvc" init --no-scm -q && "$dvc" config core.analytics false && "$dvc" repro -q >/dev/null 2>&1)
    bench many_dvc_status -N --warmup 1 --runs 5 --command-name "dvc status, ${nfiles} files warm" "bash -c 'cd $manydvc && exec $dvc status -q'"
fi

# ---------------------------------------------------------------- table
say "results"
python3 - "$results" "$big_mib" "$nfiles" <<'EOF'
import json, os, sys
res = sys.argv[1]
big = f"{int(sys.argv[2]) / 1024:g} GiB" if int(sys.argv[2]) >= 1024 else f"{sys.argv[2]} MiB"
many = f"{int(sys.argv[3]):,} files"

def med(name):
    p = os.path.join(res, name + ".json")
    if not os.path.exists(p):
        return None
    return json.load(open(p))["results"][0]["median"]

def ms(v):
    return "n/a" if v is None else f"{v * 1000:.1f} ms"

rows = [
    ("no-op repro, 5 stages", "five_netsec_repro", "dvc repro", "five_dvc_repro", "<= 20 ms"),
    ("no-op status, 5 stages", "five_netsec_status", "dvc status", "five_dvc_status", "<= 20 ms"),
    ("dag (ASCII), 5 stages", "five_netsec_dag", None, None, "< 50 ms"),
    (f"{big} out cold: hash + cache insert", "big_netsec_out", "b3sum", "big_b3sum", "ratio <= 1.5"),
    (f"{big} dep cold: hash", "big_netsec_dep", "b3sum", "big_b3sum", "ratio <= 1.5"),
    (f"{big} dep warm status (memo)", "big_netsec_warm", "b3sum 1 thread", "big_b3sum_1t", "~0 s (ratio: vs 1-thread hash)"),
    (f"{many} out cold: hash + insert", "many_netsec_out", "b3sum (xargs)", "many_b3sum", "<= 1 s"),
    (f"{many} dep cold: hash", "many_netsec_dep", "b3sum (xargs)", "many_b3sum", "<= 1 s"),
    (f"{many} warm no-op status", "many_netsec_status", "dvc status", "many_dvc_status", "10-20 ms"),
]
print(f"| {'scenario':38} | {'netsec':>10} | {'reference':16} | {'ref':>10} | {'netsec/ref':>10} | target |")
print(f"|{'-'*40}|{'-'*12}|{'-'*18}|{'-'*12}|{'-'*12}|--------|")
for label, ours, refname, ref, target in rows:
    a, b = med(ours), (med(ref) if ref else None)
    ratio = f"{a / b:.3f}" if a is not None and b else "n/a"
    print(f"| {label:38} | {ms(a):>10} | {refname or '-':16} | {ms(b):>10} | {ratio:>10} | {target} |")
for f in ("big_time.txt", "many_time.txt"):
    p = os.path.join(res, f)
    if os.path.exists(p):
        print(f"\n/usr/bin/time -v, {f[:-9]} cold repro:")
        print("".join("  " + l.strip() + "\n" for l in open(p)), end="")
print("\nmedian wall-clock from hyperfine; raw JSON in", res)
EOF
