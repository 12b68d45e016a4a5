#!/usr/bin/env bash
# S3 remote benchmark: `netsec push` / `netsec pull` of 1 GiB in 64 files against the loopback
# S3 server (moto, scripts/services.sh start s3), compared with `aws s3 sync` (PyPI awscli, in
# its own venv) on the same server, in the same run, alternating tools within each round.
#
# Usage:  scripts/bench/remote.sh                       # 3 rounds, ~5-10 min
#         RUNS=1 TOTAL_MIB=256 scripts/bench/remote.sh  # quick
# Env:    RUNS (3), TOTAL_MIB (1024), NFILES (64), JOBS (netsec -j; default its own),
#         NETSEC_BIN (benchmark that binary instead of a release build of the working tree),
#         NETSEC_S3_PART_MIB / NETSEC_S3_MULTIPART_THRESHOLD_MIB / NETSEC_S3_PARTS_IN_FLIGHT
#         (passed through to netsec's S3 client)
# Prints a table of medians (seconds, MB/s) and the aws/netsec ratio (> 1: netsec faster).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo_root=$(pwd)

runs="${RUNS:-3}"
total_mib="${TOTAL_MIB:-1024}"
nfiles="${NFILES:-64}"
jobs=()
[[ -n "${JOBS:-}" ]] && jobs=(-j "$JOBS")
tmp="${TMPDIR:-/tmp}"
work="$tmp/netsec-bench-remote"
say() { echo "[bench-remote] $*" >&2; }
die() { echo "[bench-remote] ERROR: $*" >&2; exit 1; }

# ------------------------------------------------------------------ tools
if [[ -z "${NETSEC_BIN:-}" ]]; then
  say "cargo build --release -p netsec"
  cargo build --release -p netsec >&2
  NETSEC_BIN="${CARGO_TARGET_DIR:-$repo_root/target}/release/netsec"
fi
[[ -x "$NETSEC_BIN" ]] || die "no netsec binary at $NETSEC_BIN"
netsec="$NETSEC_BIN"

eval "$(scripts/services.sh start s3)"

venv="$tmp/netsec-bench-awscli"
if ! [[ -x "$venv/bin/aws" ]]; then
  say "installing awscli (PyPI) into $venv"
  python3 -m venv "$venv" || die "python3 -m venv failed"
  "$venv/bin/pip" install -q --disable-pip-version-check awscli >&2 || die "pip install awscli failed"
fi
aws_version=$("$venv/bin/aws" --version 2>&1 | head -n1)
# path-style addressing for 127.0.0.1, like netsec's default with a custom endpoint
mkdir -p "$work"
cat >"$work/aws-config" <<EOF
[default]
region = $AWS_REGION
s3 =
  addressing_style = path
EOF
awss3() { AWS_CONFIG_FILE="$work/aws-config" "$venv/bin/aws" --endpoint-url "$S3_ENDPOINT" s3 "$@"; }

# ------------------------------------------------------------------ data
per_kib=$((total_mib * 1024 / nfiles))
repo="$work/repo"
mkdir -p "$repo/blob"
have=$(find "$repo/blob" -type f -size "${per_kib}k" 2>/dev/null | wc -l)
if [[ "$have" -ne "$nfiles" ]] || [[ $(find "$repo/blob" -type f | wc -l) -ne "$nfiles" ]]; then
  say "writing $nfiles random files of $per_kib KiB"
  rm -rf "$repo/blob" "$repo/.netsec" "$repo/netsec.lock"
  mkdir -p "$repo/blob"
  for i in $(seq 1 "$nfiles"); do head -c "$((per_kib * 1024))" /dev/urandom >"$repo/blob/f$i.bin"; done
fi
bytes=$((per_kib * 1024 * nfiles))
write_pipeline() {
  cat >"$repo/pipeline.toml" <<EOF
[remotes.bench]
url = "s3://$S3_BUCKET/$1"

[stages.blob]
cmd = "true"
outs = [{ path = "blob", persist = true }]
EOF
}
write_pipeline bench-init
(cd "$repo" && "$netsec" repro >/dev/null 2>&1) || die "netsec repro failed in $repo"

now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A t
for r in $(seq 1 "$runs"); do
  tag="r$r-$$"
  say "round $r/$runs"
  # netsec push to a fresh prefix (objects only: the snapshot copies are timed separately below)
  write_pipeline "bench-netsec-$tag"
  a=$(now)
  (cd "$repo" && "$netsec" push --no-snapshot "${jobs[@]}" >/dev/null 2>"$work/push.err") || { cat "$work/push.err" >&2; die "netsec push failed"; }
  b=$(now)
  t[netsec_push]+="$(secs "$a" "$b") "
  # aws s3 sync up, to a fresh prefix
  a=$(now)
  awss3 sync "$repo/blob" "s3://$S3_BUCKET/bench-aws-$tag/" --only-show-errors >&2
  b=$(now)
  t[aws_push]+="$(secs "$a" "$b") "
  # netsec pull into an empty cache and workspace (download, verify blake3, check out)
  rm -rf "$repo/.netsec/cache" "$repo/blob"
  a=$(now)
  (cd "$repo" && "$netsec" pull "${jobs[@]}" >/dev/null 2>"$work/pull.err") || { cat "$work/pull.err" >&2; die "netsec pull failed"; }
  b=$(now)
  t[netsec_pull]+="$(secs "$a" "$b") "
  [[ $(find "$repo/blob" -type f | wc -l) -eq "$nfiles" ]] || die "netsec pull restored $(find "$repo/blob" -type f | wc -l) of $nfiles files"
  # aws s3 sync down into an empty directory
  rm -rf "$work/down"
  a=$(now)
  awss3 sync "s3://$S3_BUCKET/bench-aws-$tag/" "$work/down" --only-show-errors >&2
  b=$(now)
  t[aws_pull]+="$(secs "$a" "$b") "
  cmp -s "$work/down/f1.bin" "$repo/blob/f1.bin" || die "aws download differs from the source"
  if [[ "$r" -eq 1 ]]; then
    # a full push: objects already there, plus the timestamped snapshot (server-side copies)
    a=$(now)
    (cd "$repo" && "$netsec" push "${jobs[@]}" >/dev/null 2>"$work/push.err") || { cat "$work/push.err" >&2; die "netsec push (snapshot) failed"; }
    b=$(now)
    t[netsec_snapshot]="$(secs "$a" "$b")"
  fi
  # free the server's memory (moto keeps objects in RAM / spill files)
  awss3 rm --recursive "s3://$S3_BUCKET/bench-netsec-$tag/" --only-show-errors >&2 || true
  awss3 rm --recursive "s3://$S3_BUCKET/bench-aws-$tag/" --only-show-errors >&2 || true
  rm -rf "$work/down"
done

med() { tr ' ' '\n' <<<"${t[$1]}" | grep -v '^$' | median; }
mbps() { awk -v s="$1" -v b="$bytes" 'BEGIN { printf "%.0f", b / 1e6 / s }'; }
ratio() { awk -v a="$1" -v n="$2" 'BEGIN { printf "%.2f", a / n }'; }
np=$(med netsec_push); ap=$(med aws_push); nl=$(med netsec_pull); al=$(med aws_pull)
echo
echo "S3 remote: $nfiles files, $((bytes / 1024 / 1024)) MiB, moto on 127.0.0.1, $runs round(s); $aws_version"
echo
echo "| transfer | netsec (s) | netsec MB/s | aws s3 sync (s) | aws MB/s | aws / netsec |"
echo "|---|---|---|---|---|---|"
echo "| push (upload) | $np | $(mbps "$np") | $ap | $(mbps "$ap") | $(ratio "$ap" "$np") |"
echo "| pull (download) | $nl | $(mbps "$nl") | $al | $(mbps "$al") | $(ratio "$al" "$nl") |"
echo
echo "netsec push with snapshot, objects already present (HEAD each + $nfiles server-side copies + manifest): ${t[netsec_snapshot]} s"
echo "raw times: ${t[*]@K}" | tr -s ' ' >&2
