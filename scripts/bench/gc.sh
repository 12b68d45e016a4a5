#!/usr/bin/env bash
# `gc -A` on a long history: a git repository with COMMITS commits (default 200), each
# recording a new version of a 50-file directory out (10,000 objects in all), plus EXTRA
# workspace runs never committed (their objects are garbage). Times `netsec gc -A -f` against
# `dvc gc -A -f` on the same history, in the same run, each starting from the same full cache
# (restored before every timed run). Also checks the outcome: after netsec's gc, every
# commit's outs can still be checked out, and the garbage is gone.
#
# Usage: scripts/bench/gc.sh   (env: COMMITS=200, FILES=50, EXTRA=20, RUNS=5, NO_DVC=1,
#                               NETSEC_BIN=path to a prebuilt binary)
# Needs hyperfine (Debian package; installed with apt-get when run as root), git, python3.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo_root=$PWD

commits="${COMMITS:-200}"
files="${FILES:-50}"
extra="${EXTRA:-20}"
runs="${RUNS:-5}"
tmp="${TMPDIR:-/tmp}"
work="$tmp/netsec-bench-gc"
venv="$tmp/netsec-bench-dvc"
say() { echo "[gc-bench] $*" >&2; }
mkdir -p "$work" && rm -f "$work/netsec.json" "$work/dvc.json"

if ! command -v hyperfine >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get install -y -qq hyperfine >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq hyperfine >/dev/null 2>&1; }
    fi
    command -v hyperfine >/dev/null 2>&1 || { echo "missing hyperfine (apt-get install -y hyperfine)" >&2; exit 2; }
fi

if [ -n "${NETSEC_BIN:-}" ]; then
    netsec="$NETSEC_BIN"
else
    say "building netsec (release)"
    cargo build --release --locked --bin netsec >&2
    netsec="${CARGO_TARGET_DIR:-$repo_root/target}/release/netsec"
fi

dvc=""
if [ -z "${NO_DVC:-}" ]; then
    if [ ! -x "$venv/bin/dvc" ]; then
        say "installing dvc into $venv"
        { python3 -m venv "$venv" && "$venv/bin/pip" install -q 'dvc==3.67.*'; } >&2 || true
    fi
    if [ -x "$venv/bin/dvc" ] && "$venv/bin/dvc" --version >/dev/null 2>&1; then
        dvc="$venv/bin/dvc"
    else
        echo "note: dvc could not be installed; the DVC column is skipped" >&2
    fi
fi

git_q() { git -c user.name=bench -c user.email=bench@localhost -c commit.gpgsign=false "$@"; }

# gen.sh writes FILES files whose content depends on seed.txt: every seed is a new version.
write_gen() {
    cat >"$1/gen.sh" <<EOF
rm -rf out && mkdir out
s=\$(cat seed.txt)
for j in \$(seq 1 $files); do echo "version \$s file \$j" > out/f\$j.txt; done
EOF
}

# history DIR TOOL: COMMITS committed versions, then EXTRA uncommitted ones.
history() {
    local dir=$1 tool=$2
    rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"
    git_q init -q -b main
    write_gen "$dir"
    echo 0 >seed.txt
    if [ "$tool" = netsec ]; then
        cat >pipeline.toml <<'EOF'
[stages.make]
cmd = "sh gen.sh"
deps = ["gen.sh", "seed.txt"]
outs = ["out/"]
EOF
        printf '/.netsec/\n' >.gitignore
        run() { "$netsec" repro -q >/dev/null; }
    else
        cat >dvc.yaml <<'EOF'
stages:
  make:
    cmd: sh gen.sh
    deps: [gen.sh, seed.txt]
    outs: [out]
EOF
        "$dvc" init -q && "$dvc" config core.analytics false
        run() { "$dvc" repro -q >/dev/null; }
    fi
    for i in $(seq 1 "$commits"); do
        echo "$i" >seed.txt
        run
        git_q add -A && git_q commit -q -m "v$i"
    done
    for k in $(seq 1 "$extra"); do
        echo "extra $k" >seed.txt
        run
    done
    git_q checkout -q -- seed.txt
    run
    cd - >/dev/null
}

count() { find "$1" -type f | wc -l; }

say "netsec history: $commits commits x $files files + $extra uncommitted runs"
start=$(date +%s)
history "$work/netsec" netsec
say "  built in $(($(date +%s) - start)) s"
cp -a "$work/netsec/.netsec/cache" "$work/netsec-cache.full"
if [ -n "$dvc" ]; then
    say "dvc history (dvc repro per commit: several minutes)"
    start=$(date +%s)
    history "$work/dvc" dvc
    say "  built in $(($(date +%s) - start)) s"
    cp -a "$work/dvc/.dvc/cache" "$work/dvc-cache.full"
fi

cmds=(--prepare "rm -rf $work/netsec/.netsec/cache && cp -a $work/netsec-cache.full $work/netsec/.netsec/cache"
    -n "netsec gc -A -f" "cd $work/netsec && $netsec gc -A -f --run-cache-keep 1 -q")
hyperfine --style basic --runs "$runs" --export-json "$work/netsec.json" "${cmds[@]}" >&2
if [ -n "$dvc" ]; then
    hyperfine --style basic --runs "$runs" --export-json "$work/dvc.json" \
        --prepare "rm -rf $work/dvc/.dvc/cache && cp -a $work/dvc-cache.full $work/dvc/.dvc/cache" \
        -n "dvc gc -A -f" "cd $work/dvc && $dvc gc -A -f -q" >&2
fi

# The outcome after one more gc of each: what is left, and netsec can still check out every commit.
(cd "$work/netsec" && rm -rf .netsec/cache && cp -a "$work/netsec-cache.full" .netsec/cache && "$netsec" gc -A -f --run-cache-keep 1 -q)
echo "netsec objects: before $(count "$work/netsec-cache.full") after $(count "$work/netsec/.netsec/cache")"
if [ -n "$dvc" ]; then
    (cd "$work/dvc" && rm -rf .dvc/cache && cp -a "$work/dvc-cache.full" .dvc/cache && "$dvc" gc -A -f -q)
    echo "dvc objects:    before $(count "$work/dvc-cache.full") after $(count "$work/dvc/.dvc/cache")"
fi
(
    cd "$work/netsec"
    for rev in HEAD~$((commits - 1)) HEAD~$((commits / 2)) HEAD; do
        git_q checkout -q "$rev" -- netsec.lock seed.txt
        "$netsec" checkout -q --force >/dev/null
        want=$(git show "$rev:seed.txt")
        grep -q "version $want file 1\$" out/f1.txt || { echo "checkout of $rev after gc: wrong content" >&2; exit 1; }
    done
    git_q checkout -q HEAD -- netsec.lock seed.txt
)
echo "checkout of the oldest, middle and newest commit after gc: ok"
python3 - "$work" <<'PY'
import json, sys, pathlib
w = pathlib.Path(sys.argv[1])
def mean_ms(name):
    p = w / f"{name}.json"
    return json.loads(p.read_text())["results"][0]["mean"] * 1000 if p.exists() else None
n, d = mean_ms("netsec"), mean_ms("dvc")
if d:
    print(f"netsec gc -A: {n:.1f} ms, dvc gc -A: {d:.1f} ms, ratio {d / n:.1f}x (target >= 20x)")
else:
    print(f"netsec gc -A: {n:.1f} ms")
PY
