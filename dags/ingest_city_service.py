"""
### Ingest the city service (hệ thống tiếp công dân thành phố)

Reads the city's JSON change feed (receptions, petitions, cases) since the last
`changed_since` watermark, page by page, with retries on transient errors, and lands
each record version once in the raw layer, personal data scrubbed. One mapped task per
province served: one in a province deployment, each province's own service in a national
one (config/national.yaml), so a service that is down stops only its own task.

*Source*: connection `tcd_city_api` (host, port, schema, password = bearer token) or env
`TCD_CITY_API_URL` / `TCD_CITY_API_TOKEN`; nationally `tcd_city_api_<code>` first.
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

    @task
    def list_services() -> list[str]:
        from pipeline import tasks

        return tasks.list_city_services()

    @task(max_active_tis_per_dagrun=2)
    def ingest_feed(province_code: str, **context) -> dict:
        from pipeline import tasks

        return tasks.ingest_city_service(province_code, run_id=context["run_id"])

    @task(outlets=[Asset(RAW_CITY_SERVICE)], trigger_rule="all_done")
    def announce(results: list[dict] | None = None) -> dict:
        # Runs even when a province's service failed: the others' data is landed.
        results = [r for r in (results or []) if r]
        return {"services_read": len(results), "rows": sum(r["rows"] for r in results)}

    ready = prepare_warehouse()
    codes = list_services()
    ready >> codes
    announce(ingest_feed.expand(province_code=codes))


ingest_city_service()
