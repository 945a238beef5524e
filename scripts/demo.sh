#!/usr/bin/env bash
# make demo: simulated sources → Airflow DAGs (ingest, consolidate, report) → Excel reports.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$ROOT"
END="${TCD_DEMO_END:-$(TZ=Asia/Ho_Chi_Minh date +%F)}"   # "today" in Hà Nội
SEED="${TCD_DEMO_SEED:-42}"
START_TS=$(date +%s)

mkdir -p output/logs

echo "== 1/5 simulated source systems (seed $SEED, 01/07/2021 – $END)"
# Same seed and end give the same data: regenerate only when they change.
if [ -f simulated_sources/manifest.json ] && python - "$SEED" "$END" <<'PY'; then echo "   up to date: simulated_sources"; else
import json, sys
m = json.load(open("simulated_sources/manifest.json"))
sys.exit(0 if (str(m.get("seed")), str(m.get("end"))) == (sys.argv[1], sys.argv[2]) else 1)
PY
  rm -rf simulated_sources
  python -m simulators.generate --out simulated_sources --seed "$SEED" --end "$END"
fi

echo "== 2/5 Airflow metadata database ($AIRFLOW_HOME)"
airflow db migrate >"$ROOT/output/logs/airflow_db_migrate.log" 2>&1 || {
  tail -20 "$ROOT/output/logs/airflow_db_migrate.log"; exit 1; }

echo "== 3/5 running the DAGs through Airflow (airflow dags test)"
scripts/city_service.sh start
scripts/mail_sink.sh start
trap 'scripts/city_service.sh stop; scripts/mail_sink.sh stop' EXIT
# The latest quarter: every form for every unit at every level, e-mailed to the
# recipients of config/recipients.yaml (received by the local mail sink). 2023-Q1 (the
# quarter with an outlier) for the city level. The multi-year summary with the city's
# 01/TCD in both views, to the last cut-off and over the published range.
# The latest report that carries the narrative (TT 06/2025: Quý I, 6 tháng, 9 tháng, năm):
# the city's six tables and its Mẫu số 02 document.
# Periods from END, not from the clock: the same END gives the same reports on any day.
LATEST=$(python -c "import datetime as d; from core import periods; print(periods.latest_complete(d.date.fromisoformat('$END')).key)")
SUMMARY_TO=$(python -c "import datetime as d; from core import periods; print(periods.latest_complete(d.date.fromisoformat('$END')).end)")
NARRATIVE=$(python -c "import datetime as d; from core import periods; day = d.date.fromisoformat('$END'); print(max((periods.latest_complete(day, k) for k in ('Q1', 'H1', 'M9', 'Y')), key=lambda p: (p.end, p.end - p.start)).key)")
python -m pipeline.run_dags \
  ingest_commune_registers ingest_district_databases ingest_city_service ingest_qlkntc_workbooks \
  consolidate_warehouse \
  "report_periodic={\"period\": \"$LATEST\"}" \
  "report_periodic={\"period\": \"$NARRATIVE\", \"levels\": [\"tinh\"]}" \
  'report_periodic={"period": "2023-Q1", "levels": ["tinh"]}' \
  "report_summary={\"date_to\": \"$SUMMARY_TO\"}" \
  'report_summary={"date_from": "2021-07-01", "date_to": "2025-02-28"}'

echo "== 4/5 opening every workbook of the latest quarter, and the narrative report, with LibreOffice"
python -m reports.verify "$LATEST" "$NARRATIVE" "2021-07-01..2025-02-28" --pdf-levels tinh

echo "== 5/5 outputs"
python -m pipeline.outputs
echo "demo finished in $(( $(date +%s) - START_TS )) s"
