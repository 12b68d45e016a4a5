#!/usr/bin/env bash
# What verifying cache objects costs on restore and upload (engine hardening): `checkout` of a
# 1 GiB out and of a 10,000-file directory out, and `push` of both to a fresh directory remote,
# for two netsec binaries measured in the same run (before/after a change), with hyperfine.
# Usage: scripts/bench/verify.sh OLD_BINARY NEW_BINARY   (env: RUNS=N, BIG_MIB=1024, NFILES=10000)
# Needs hyperfine (Debian package; installed with apt-get when run as root).
set -euo pipefail

old="${1:?usage: verify.sh OLD_BINARY NEW_BINARY}"
new="${2:?usage: verify.sh OLD_BINARY NEW_BINARY}"
runs="${RUNS:-10}"
big_mib="${BIG_MIB:-1024}"
nfiles="${NFILES:-10000}"
work="${TMPDIR:-/tmp}/netsec-bench-verify"

if ! command -v hyperfine >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get install -y hyperfine >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y hyperfine >/dev/null 2>&1; }
    fi
    command -v hyperfine >/dev/null 2>&1 || { echo "missing hyperfine (apt-get install -y hyperfine)" >&2; exit 2; }
fi

# One workspace per binary (their memo and cache formats may differ), same content.
setup() { # setup DIR BINARY
    rm -rf "$1" && mkdir -p "$1/many" && cd "$1"
    head -c "$((big_mib * 1024 * 1024))" /dev/urandom > big.src
    python3 - "$nfiles" <<'PY'
import os, sys
for i in range(int(sys.argv[1])):
    with open(f"many/f{i:05d}.txt", "w") as f:
        f.write(f"file {i}\n" * 8)
PY
    mv many many.src
    cat > pipeline.toml <<'TOML'
[stages.big]
cmd = "cp big.src big.bin"
deps = ["big.src"]
outs = ["big.bin"]

[stages.many]
cmd = "cp -r many.src many"
deps = ["many.src"]
outs = ["many"]
TOML
    "$2" repro >/dev/null 2>&1
    cd - >/dev/null
}

for side in old new; do
    bin=$([ "$side" = old ] && echo "$old" || echo "$new")
    setup "$work/$side" "$bin"
done

cd "$work"
hyperfine --warmup 1 --runs "$runs" --export-markdown "$work/checkout-big.md" \
    --prepare 'rm -f old/big.bin new/big.bin' \
    -n old "cd old && $old checkout big" -n new "cd new && $new checkout big"
hyperfine --warmup 1 --runs "$runs" --export-markdown "$work/checkout-many.md" \
    --prepare 'rm -rf old/many new/many' \
    -n old "cd old && $old checkout many" -n new "cd new && $new checkout many"
hyperfine --warmup 1 --runs "$runs" --export-markdown "$work/push.md" \
    --prepare 'rm -rf old/remote new/remote' \
    -n old "cd old && $old push -r ./remote --no-snapshot" \
    -n new "cd new && $new push -r ./remote --no-snapshot"
cat "$work"/checkout-big.md "$work"/checkout-many.md "$work"/push.md
