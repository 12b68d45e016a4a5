#!/usr/bin/env bash
# Reproduce the pipeline the way CI does (.github/workflows/reproduce.yml calls this; so does
# tests/ci_script.rs, against a local-directory remote).
#
#   1. with a remote: `netsec pull` what the lock records (a first run, with nothing pushed yet,
#      only warns), then `netsec repro --pull`, which also consults the remote run-cache;
#      without one: `netsec repro`.
#   2. check that nothing is left stale, collect metrics, the validation report and the HTML
#      report into $NETSEC_OUT (uploaded as a workflow artifact), and print the metrics.
#   3. with NETSEC_PUSH=true and a remote: `netsec push --run-cache` (objects, run-cache and
#      a timestamped snapshot of every out and of the promoted model).
#
# Env: NETSEC_BIN     netsec binary (default: target/release/netsec, else `netsec` on PATH)
#      NETSEC_REMOTE  remote name from pipeline.toml or a URL (s3://bucket/prefix, /dir); empty: none
#      NETSEC_PUSH    `true` to push after a successful run (the workflow sets it on main)
#      NETSEC_OUT     directory for the collected results (default: ci-out)
# Exit: netsec's own code of the first failing step (1 stage failed, 4 data rejected, 5 remote…).
set -euo pipefail

bin="${NETSEC_BIN:-}"
if [[ -z "$bin" ]]; then
  if [[ -x target/release/netsec ]]; then bin=target/release/netsec; else bin=netsec; fi
fi
out="${NETSEC_OUT:-ci-out}"
remote="${NETSEC_REMOTE:-}"
push="${NETSEC_PUSH:-false}"

step() { echo "::group::$*" >&2 || true; }
endstep() { echo "::endgroup::" >&2 || true; }
warn() { echo "::warning::$*" >&2; }

remote_args=()
[[ -n "$remote" ]] && remote_args=(--remote "$remote")

if [[ -n "$remote" ]]; then
  step "netsec pull"
  # Exit 5 also covers "not on the remote yet" (first run, new stage): the repro below rebuilds
  # what is missing, and a real remote problem (credentials, bucket) fails the push on main.
  if ! "$bin" pull "${remote_args[@]}"; then
    warn "netsec pull did not complete; stages without remote results will be rebuilt"
  fi
  endstep
  step "netsec repro --pull"
  "$bin" repro --pull "${remote_args[@]}"
  endstep
else
  step "netsec repro"
  "$bin" repro
  endstep
fi

step "results"
"$bin" status
"$bin" metrics show
"$bin" report
mkdir -p "$out"
for f in artifacts/evaluate/metrics.json artifacts/evaluate/promotion.json \
  artifacts/validate/report.yaml artifacts/compare/metrics.json netsec.lock; do
  if [[ -f "$f" ]]; then
    dest="$out/$(echo "$f" | tr '/' '_')"
    cp "$f" "$dest"
  fi
done
cp artifacts/report/index.html "$out/report.html"
if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
  {
    echo '### netsec metrics'
    echo '```'
    "$bin" metrics show
    echo '```'
  } >>"$GITHUB_STEP_SUMMARY"
fi
endstep

if [[ "$push" == "true" ]]; then
  if [[ -n "$remote" ]]; then
    step "netsec push"
    "$bin" push --run-cache "${remote_args[@]}"
    "$bin" snapshots "${remote_args[@]}"
    endstep
  else
    warn "NETSEC_PUSH=true but no NETSEC_REMOTE is configured: nothing pushed"
  fi
fi
echo "reproduce: done; results in $out/" >&2
