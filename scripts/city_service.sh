#!/usr/bin/env bash
# start|stop the simulated city JSON service on localhost (pid in output/city_service.pid).
set -euo pipefail
. "$(dirname "$0")/env.sh"
PIDFILE="$ROOT/output/city_service.pid"
case "${1:-start}" in
  start)
    if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then exit 0; fi
    mkdir -p "$ROOT/output/logs"
    nohup python -m simulators.city_server --db "$ROOT/simulated_sources/city_service/city.sqlite" \
      --host 127.0.0.1 --port "$TCD_CITY_API_PORT" >"$ROOT/output/logs/city_service.log" 2>&1 &
    echo $! > "$PIDFILE"
    for _ in $(seq 1 60); do
      if python - <<PY 2>/dev/null; then exit 0; fi
import httpx, sys
sys.exit(0 if httpx.get("http://127.0.0.1:$TCD_CITY_API_PORT/api/v1/health", timeout=1).status_code == 200 else 1)
PY
      sleep 0.5
    done
    echo "city service did not start; see output/logs/city_service.log" >&2; exit 1 ;;
  stop)
    if [ -f "$PIDFILE" ]; then kill "$(cat "$PIDFILE")" 2>/dev/null || true; rm -f "$PIDFILE"; fi ;;
esac
