#!/usr/bin/env bash
# make airflow: `airflow standalone` (API server + UI on :8080, scheduler, dag processor,
# triggerer) on the project's DAGs, with the simulated city service running beside it.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$ROOT"
[ -f simulated_sources/manifest.json ] || python -m simulators.generate --out simulated_sources --seed 42
mkdir -p output/logs
scripts/city_service.sh start
trap 'scripts/city_service.sh stop' EXIT
echo "Airflow UI: http://localhost:8080  — user 'admin', password printed below and stored in"
echo "  $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated"
airflow standalone
