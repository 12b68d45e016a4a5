#!/usr/bin/env bash
# Peak RSS and wall time of each phishing-pipeline stage run alone (issue #16), for one or more
# binaries, interleaved stage by stage so that every binary sees the same machine load.
#
# Each binary needs its own workspace in which a full `repro` has already run (e.g. one made by
# `SIZES=1000000 scripts/bench/model-scale.sh` with that binary): a stage is rerun there with
# `netsec repro -f -s STAGE` under `/usr/bin/time -v`, so it reads its inputs as that binary
# wrote them.
#
# Usage: scripts/bench/stage-rss.sh NAME=BINARY:WORKSPACE [NAME=BINARY:WORKSPACE ...]
# Env: STAGES (default "ingest validate transform compare train evaluate").
set -euo pipefail
STAGES="${STAGES:-ingest validate transform compare train evaluate}"
[[ $# -ge 1 ]] || { echo "usage: $0 NAME=BINARY:WORKSPACE ..." >&2; exit 2; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-10s %-12s %9s %8s %s\n' stage binary peak_MB wall_s exit
for stage in $STAGES; do
  for spec in "$@"; do
    name="${spec%%=*}"; rest="${spec#*=}"; bin="${rest%%:*}"; ws="${rest#*:}"
    out=$(mktemp)
    set +e
    /usr/bin/time -v "$bin" -q -C "$ws" repro -f -s "$stage" >/dev/null 2>"$out"
    rc=$?
    set -e
    peak=$(($(grep 'Maximum resident set size' "$out" | awk '{print $NF}') / 1024))
    wall=$(grep 'Elapsed (wall clock)' "$out" | awk '{print $NF}')
    secs=$(awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }' <<<"$wall")
    printf '%-10s %-12s %9s %8s %s\n' "$stage" "$name" "$peak" "$secs" "$rc"
    rm -f "$out"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
