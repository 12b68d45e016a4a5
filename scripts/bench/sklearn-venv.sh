#!/usr/bin/env bash
# Sourced by the model benchmarks (model.sh, model-families.sh): the scikit-learn venv they
# compare against, $VENV (default ${TMPDIR:-/tmp}/netsec-bench-sklearn), created with
# scikit-learn, numpy and pandas from PyPI when missing. Sets PY to its python.
VENV="${VENV:-${TMPDIR:-/tmp}/netsec-bench-sklearn}"
if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c 'import sklearn, pandas' 2>/dev/null; then
  echo "== creating $VENV (scikit-learn, numpy, pandas)" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q scikit-learn numpy pandas >&2
fi
PY="$VENV/bin/python"
