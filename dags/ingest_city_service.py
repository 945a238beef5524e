"""
### Ingest the city service (hệ thống tiếp công dân thành phố)

Reads the city's JSON change feed (receptions, petitions, cases) since the last
`changed_since` watermark, page by page, with retries on transient errors, and lands
each record version once in the raw layer, personal data scrubbed.

*Source*: connection `tcd_city_api` (host, port, schema, password = bearer token) or env
`TCD_CITY_API_URL` / `TCD_CITY_API_TOKEN`.
*Emits*: asset `tcd_raw_city_service`.
"""
from __future__ import annotations

from airflow.sdk import Asset, dag, task

from pipeline.dag_defaults import DEFAULT_ARGS, RAW_CITY_SERVICE, SERIES_START


@dag(
    dag_id="ingest_city_service",
    schedule="0 2 * * *",
    start_date=SERIES_START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["tcd", "ingest", "city"],
    doc_md=__doc__,
)
def ingest_city_service():
    @task
    def prepare_warehouse() -> dict:
        from pipeline import tasks

        return tasks.prepare_warehouse()

    @task(outlets=[Asset(RAW_CITY_SERVICE)])
    def ingest_feed(**context) -> dict:
        from pipeline import tasks

        return tasks.ingest_city_service(run_id=context["run_id"])

    prepare_warehouse() >> ingest_feed()


ingest_city_service()
