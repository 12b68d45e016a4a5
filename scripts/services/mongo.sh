# shellcheck shell=bash
# MongoDB wire-protocol server for the tests, sourced by scripts/services.sh.
#
# Server: nx-27017 (PyPI, pure Python over SQLite). A real mongod cannot be installed from the
# package registries alone (Debian 12 has no package; wrappers download mongod at first use).
# It has no authentication, and an Int64 that fits in 32 bits comes back as Int32: the netsec
# source reads any integer width, so neither matters to it.
# Env: MONGO_PORT (27017), NX27017_VERSION (0.8.1). Exports MONGODB_URI, NETSEC_MONGO_PID.

MONGO_PORT="${MONGO_PORT:-27017}"
NX27017_VERSION="${NX27017_VERSION:-0.8.1}"
MONGO_VENV="$SVC_DIR/venv-mongo"
MONGO_DATA="$SVC_DIR/mongo-$MONGO_PORT"
MONGO_PIDF="$MONGO_DATA/server.pid"
MONGO_LOG="$MONGO_DATA/server.log"
MONGO_URI="mongodb://127.0.0.1:$MONGO_PORT/?directConnection=true"

mongo_running() { [[ -f "$MONGO_PIDF" ]] && kill -0 "$(cat "$MONGO_PIDF")" 2>/dev/null; }
# Ready when a ping round-trips (pymongo comes with nx-27017).
mongo_ready() {
  "$MONGO_VENV/bin/python" - "$MONGO_URI" >/dev/null 2>&1 <<'PY'
import sys, pymongo
c = pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=1000, connectTimeoutMS=1000)
c.admin.command("ping")
PY
}
mongo_env() {
  echo "export MONGODB_URI='$MONGO_URI'"
  echo "export NETSEC_MONGO_PID=$(cat "$MONGO_PIDF" 2>/dev/null || true)"
}
mongo_install() {
  command -v python3 >/dev/null || die "python3 not found (apt-get install -y python3 python3-venv)"
  if ! "$MONGO_VENV/bin/python" -c 'import nx_27017, pymongo' >/dev/null 2>&1; then
    log "installing nx-27017==$NX27017_VERSION into $MONGO_VENV (~10 s, 40 MB)"
    python3 -m venv "$MONGO_VENV" || die "python3 -m venv failed (apt-get install -y python3-venv)"
    "$MONGO_VENV/bin/pip" install -q --disable-pip-version-check "nx-27017==$NX27017_VERSION" >&2 ||
      die "pip install nx-27017==$NX27017_VERSION failed"
  fi
}

mongo_start() {
  mkdir -p "$MONGO_DATA/db"
  mongo_install
  if mongo_running; then
    if mongo_ready; then log "mongo already running (pid $(cat "$MONGO_PIDF"))"; mongo_env; return 0; fi
    log "mongo pid $(cat "$MONGO_PIDF") alive but not answering; restarting"
    stop_group "$(cat "$MONGO_PIDF")"
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$MONGO_PORT") 2>/dev/null; then
    die "port $MONGO_PORT on 127.0.0.1 is already in use by another process; set MONGO_PORT"
  fi
  log "starting nx-27017 on 127.0.0.1:$MONGO_PORT (data $MONGO_DATA/db, log $MONGO_LOG)"
  # Loopback only; one SQLite file per database under the data dir. Own session, so that
  # stop_group ends the server and anything it spawned.
  setsid nohup "$MONGO_VENV/bin/nx-27017" --host 127.0.0.1 -p "$MONGO_PORT" --data-dir "$MONGO_DATA/db" \
    --log-file "$MONGO_LOG" --pid-file "$MONGO_DATA/nx.pid" >>"$MONGO_LOG" 2>&1 </dev/null &
  echo $! >"$MONGO_PIDF"
  for _ in $(seq 1 60); do
    if mongo_ready; then log "mongo ready at $MONGO_URI (pid $(cat "$MONGO_PIDF"))"; mongo_env; return 0; fi
    mongo_running || { tail -n 30 "$MONGO_LOG" >&2 || true; die "nx-27017 exited during startup (log: $MONGO_LOG)"; }
    sleep 0.5
  done
  tail -n 30 "$MONGO_LOG" >&2 || true
  die "nx-27017 did not answer a ping within 30 s (log: $MONGO_LOG)"
}

mongo_stop() {
  if mongo_running; then
    local pid
    pid=$(cat "$MONGO_PIDF")
    stop_group "$pid"
    log "mongo stopped (pid $pid)"
  else
    log "mongo not running"
  fi
  rm -f "$MONGO_PIDF"
}

mongo_status() {
  if mongo_running && mongo_ready; then
    log "mongo running (pid $(cat "$MONGO_PIDF")) at $MONGO_URI"
    mongo_env
    return 0
  fi
  log "mongo not running"
  return 1
}
