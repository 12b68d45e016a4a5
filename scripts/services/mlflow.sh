# shellcheck shell=bash
# MLflow tracking server (PyPI mlflow), sourced by scripts/services.sh.
# Env: MLFLOW_PORT (5000), MLFLOW_VERSION. Exports MLFLOW_TRACKING_URI.

MLFLOW_PORT="${MLFLOW_PORT:-5000}"
MLFLOW_VERSION="${MLFLOW_VERSION:-3.17.2}"
MLFLOW_VENV="$SVC_DIR/venv-mlflow"
MLFLOW_DATA="$SVC_DIR/mlflow-$MLFLOW_PORT"
MLFLOW_PIDF="$MLFLOW_DATA/server.pid"
MLFLOW_LOG="$MLFLOW_DATA/server.log"
MLFLOW_URL="http://127.0.0.1:$MLFLOW_PORT"

mlflow_running() { [[ -f "$MLFLOW_PIDF" ]] && kill -0 "$(cat "$MLFLOW_PIDF")" 2>/dev/null; }
mlflow_ready() {
  curl -sf --max-time 2 "$MLFLOW_URL/health" >/dev/null 2>&1 &&
    curl -sf --max-time 5 "$MLFLOW_URL/api/2.0/mlflow/experiments/get-by-name?experiment_name=Default" >/dev/null 2>&1
}
mlflow_env() { echo "export MLFLOW_TRACKING_URI='$MLFLOW_URL'"; }
mlflow_install() {
  command -v python3 >/dev/null || die "python3 not found (apt-get install -y python3 python3-venv)"
  if ! "$MLFLOW_VENV/bin/mlflow" --version >/dev/null 2>&1; then
    log "installing mlflow==$MLFLOW_VERSION into $MLFLOW_VENV (takes 3-5 min, ~850 MB)"
    python3 -m venv "$MLFLOW_VENV" || die "python3 -m venv failed (apt-get install -y python3-venv)"
    "$MLFLOW_VENV/bin/pip" install -q --disable-pip-version-check "mlflow==$MLFLOW_VERSION" >&2 ||
      die "pip install mlflow==$MLFLOW_VERSION failed"
  fi
}

mlflow_start() {
  command -v curl >/dev/null || die "curl not found (apt-get install -y curl)"
  command -v setsid >/dev/null || die "setsid not found (util-linux)"
  mkdir -p "$MLFLOW_DATA/artifacts"
  mlflow_install
  if mlflow_running; then
    if mlflow_ready; then log "mlflow already running (pid $(cat "$MLFLOW_PIDF"))"; mlflow_env; return 0; fi
    log "mlflow pid $(cat "$MLFLOW_PIDF") alive but not ready; restarting"
    stop_group "$(cat "$MLFLOW_PIDF")"
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$MLFLOW_PORT") 2>/dev/null; then
    die "port $MLFLOW_PORT on 127.0.0.1 is already in use by another process; set MLFLOW_PORT"
  fi
  log "starting mlflow on $MLFLOW_URL (sqlite $MLFLOW_DATA/mlflow.db, artifacts $MLFLOW_DATA/artifacts)"
  # --workers 1: small machines; telemetry off: no outbound network; job execution off: mlflow 3.x
  # would otherwise spawn a job runner and several consumer processes the tests never use.
  (
    cd "$MLFLOW_DATA"
    MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false \
      setsid nohup "$MLFLOW_VENV/bin/mlflow" server --host 127.0.0.1 --port "$MLFLOW_PORT" --workers 1 \
      --backend-store-uri "sqlite:///$MLFLOW_DATA/mlflow.db" \
      --artifacts-destination "$MLFLOW_DATA/artifacts" >>"$MLFLOW_LOG" 2>&1 </dev/null &
    echo $! >"$MLFLOW_PIDF"
  )
  # The first start runs the database migrations (10-30 s on 2 cores).
  for _ in $(seq 1 240); do
    if mlflow_ready; then log "mlflow ready at $MLFLOW_URL (pid $(cat "$MLFLOW_PIDF"))"; mlflow_env; return 0; fi
    mlflow_running || { tail -n 40 "$MLFLOW_LOG" >&2 || true; die "mlflow exited during startup (log: $MLFLOW_LOG)"; }
    sleep 0.5
  done
  tail -n 40 "$MLFLOW_LOG" >&2 || true
  die "mlflow not ready within 120 s (log: $MLFLOW_LOG)"
}

mlflow_stop() {
  if mlflow_running; then
    local pid
    pid=$(cat "$MLFLOW_PIDF")
    stop_group "$pid"
    log "mlflow stopped (pid $pid)"
  else
    log "mlflow not running"
  fi
  rm -f "$MLFLOW_PIDF"
}

mlflow_status() {
  if mlflow_running && mlflow_ready; then
    log "mlflow running (pid $(cat "$MLFLOW_PIDF")) at $MLFLOW_URL"
    mlflow_env
    return 0
  fi
  log "mlflow not running"
  return 1
}

