#!/usr/bin/env bash
# make airflow: `airflow standalone` (API server + UI on :8080, scheduler, dag processor,
# triggerer) on the project's DAGs, with the simulated city service running beside it.
# Ctrl-C stops everything: standalone first (it stops its components), then whatever of
# its process group is left (executor workers, log servers).
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$ROOT"
[ -f simulated_sources/manifest.json ] || python -m simulators.generate --out simulated_sources --seed 42
mkdir -p output/logs
scripts/city_service.sh start

setsid airflow standalone &
AIRFLOW_PID=$!
stop_all() {
  trap - EXIT INT TERM
  kill -TERM "$AIRFLOW_PID" 2>/dev/null || true
  for _ in $(seq 1 30); do kill -0 "$AIRFLOW_PID" 2>/dev/null || break; sleep 1; done
  kill -TERM -- "-$AIRFLOW_PID" 2>/dev/null || true
  sleep 3
  kill -KILL -- "-$AIRFLOW_PID" 2>/dev/null || true
  scripts/city_service.sh stop
}
trap stop_all EXIT INT TERM

echo "Airflow UI: http://localhost:8080 — user 'admin'; the password is printed by Airflow and"
echo "  stored in $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated. DAGs start paused."
wait "$AIRFLOW_PID"
