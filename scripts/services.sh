#!/usr/bin/env bash
# Start/stop the external services the netsec tests talk to, on loopback only.
#
# Usage:  scripts/services.sh start|stop|status [SERVICE...]   (default: mlflow)
#         one file per service in scripts/services/<name>.sh defining <name>_start|_stop|_status
# Env:    NETSEC_SVC_DIR (default ${TMPDIR:-/tmp}/netsec-services)  venvs + server data live here
#         plus each service's own (see its file)
# stdout: `export NAME=...` lines (eval-able); progress goes to stderr.
set -euo pipefail

action="${1:-start}"
shift || true
services=("$@")
((${#services[@]})) || services=(mlflow)
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

SVC_DIR="${NETSEC_SVC_DIR:-${TMPDIR:-/tmp}/netsec-services}"
log() { echo "[services] $*" >&2; }
die() { echo "[services] ERROR: $*" >&2; exit 1; }

# The server runs in its own session (setsid) and spawns workers: stop the whole process group.
stop_group() {
  local pid=$1
  kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 -- "-$pid" 2>/dev/null || kill -9 "$pid" 2>/dev/null || true
}

for service in "${services[@]}"; do
  [[ -f "$here/services/$service.sh" ]] ||
    die "unknown service '$service' (known: $(cd "$here/services" && ls *.sh | sed 's/\.sh$//' | tr '\n' ' '))"
  # shellcheck source=/dev/null
  source "$here/services/$service.sh"
  case "$action" in
    start | stop | status) "${service}_$action" ;;
    *) die "unknown action '$action' (start|stop|status)" ;;
  esac
done
