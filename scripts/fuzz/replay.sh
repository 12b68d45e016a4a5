#!/usr/bin/env bash
# Replays the fuzz corpora of tests/fuzz/ (pipeline.toml, netsec.lock, schema.yaml, CSV) through
# the netsec binary, each case in a fresh temporary repository with a timeout, plus the large
# cases `scripts/fuzz/gen_corpus.py --big` generates and special files (/dev/zero, a FIFO).
#
#   scripts/fuzz/replay.sh [NETSEC_BIN]     # default: $NETSEC_BIN, else target/debug/netsec
#
# Prints counts: cases, panics (exit 101 or "panicked" on stderr), timeouts, and errors without a
# location (exit 3 with no `file:line` on stderr, for pipeline and schema cases; a schema error
# without its line). Exits 1 if any case panicked or timed out.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

bin=${1:-${NETSEC_BIN:-${CARGO_TARGET_DIR:-target}/debug/netsec}}
[[ $bin = /* ]] || bin=$root/$bin
if [[ ! -x $bin ]]; then
  echo "replay: no netsec binary at $bin (build it, or pass its path)" >&2
  exit 2
fi
per_case=${FUZZ_TIMEOUT:-10}

work=$(mktemp -d "${TMPDIR:-/tmp}/netsec-fuzz.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

# The template repository: every kind's `valid` case.
tpl=$work/template
mkdir -p "$tpl/data"
cp tests/fuzz/pipeline/valid.toml "$tpl/pipeline.toml"
cp tests/fuzz/schema/valid.yaml "$tpl/schema.yaml"
cp tests/fuzz/csv/valid.csv "$tpl/data/phisingData.csv"
printf 'hi\n' >"$tpl/in.txt"
printf 'hi\n' >"$tpl/out.txt"

python3 scripts/fuzz/gen_corpus.py --big "$work/big"

cases=0 panics=0 timeouts=0 unlocated=0
declare -a bad=()
declare -A exits=()

# run KIND NAME CMD...: runs one netsec command in the current case repository.
run() {
  local kind=$1 name=$2
  shift 2
  local code=0
  NO_COLOR=1 timeout -k 2 "$per_case" "$bin" "$@" >"$ws.out" 2>"$ws.err" </dev/null || code=$?
  exits[$code]=$(( ${exits[$code]:-0} + 1 ))
  if ((code == 124 || code == 137)); then
    timeouts=$((timeouts + 1))
    bad+=("timeout  $kind/$name: netsec $*")
  elif ((code == 101)) || grep -q 'panicked' "$ws.err"; then
    panics=$((panics + 1))
    bad+=("panic    $kind/$name: netsec $* (exit $code): $(grep -m1 panicked "$ws.err" | cut -c1-200)")
  fi
  case $kind in
    pipeline)
      if ((code == 3)) && ! grep -Eq 'pipeline\.toml:[0-9]+' "$ws.err"; then
        unlocated=$((unlocated + 1))
        bad+=("no-loc   $kind/$name: $(head -c 200 "$ws.err" | tr '\n' ' ')")
      fi
      ;;
    schema)
      if { ((code == 3)) && ! grep -Eq '(schema\.yaml|pipeline\.toml):[0-9]+' "$ws.err"; } ||
        { grep -q 'invalid schema' "$ws.err" && ! grep -Eq 'invalid schema `[^`]*` line [0-9]+' "$ws.err"; }; then
        unlocated=$((unlocated + 1))
        bad+=("no-loc   $kind/$name: $(head -c 200 "$ws.err" | tr '\n' ' ')")
      fi
      ;;
  esac
}

# one KIND NAME FILE: a fresh repository with FILE in KIND's place, and the commands for KIND.
one() {
  local kind=$1 name=$2 file=$3
  cases=$((cases + 1))
  ws=$work/case-$cases
  cp -a "$tpl" "$ws"
  local dest
  case $kind in
    pipeline) dest=pipeline.toml ;;
    lock) dest=netsec.lock ;;
    schema) dest=schema.yaml ;;
    csv) dest=data/phisingData.csv ;;
  esac
  rm -f "$ws/$dest"
  case $file in
    @devzero) ln -s /dev/zero "$ws/$dest" ;;
    @fifo) mkfifo "$ws/$dest" ;;
    *) cp "$file" "$ws/$dest" ;;
  esac
  pushd "$ws" >/dev/null
  case $kind in
    pipeline) run "$kind" "$name" status ;;
    lock)
      run "$kind" "$name" status
      run "$kind" "$name" checkout
      ;;
    schema | csv) run "$kind" "$name" repro ingest ;;
  esac
  popd >/dev/null
  rm -rf "$ws" "$ws.out" "$ws.err"
}

started=$SECONDS
for kind in pipeline lock schema csv; do
  for f in tests/fuzz/"$kind"/* "$work/big/$kind"/*; do
    [[ -f $f ]] || continue
    n=${f##*/}
    one "$kind" "${n%.*}" "$f"
  done
done
for kind in schema csv; do
  one "$kind" dev-zero @devzero
  one "$kind" fifo @fifo
done

echo "fuzz replay: $cases cases, $panics panics, $timeouts timeouts, $unlocated errors without a location ($((SECONDS - started)) s, $bin)"
summary=""
for c in $(printf '%s\n' "${!exits[@]}" | sort -n); do summary+=" exit $c: ${exits[$c]};"; done
echo "  runs by exit code:${summary%;}"
for line in "${bad[@]}"; do echo "  $line"; done
((panics == 0 && timeouts == 0))
