"""
### Ingest district databases (phần mềm quản lý đơn thư cấp huyện)

One mapped task per district database: rows modified since the last watermark of each
table (`tiep_cong_dan`, `don_thu`, `vu_viec`) are landed in the raw layer with their
version, personal data scrubbed. A district whose database cannot be read fails its own
task (and alerts); the others are landed and the asset is still emitted.

*Sources*: connections `tcd_district_<code>` (extra `url`, any SQLAlchemy URL) for the
codes listed in env `TCD_DISTRICT_CODES`, and/or `<code>.sqlite` files in
`TCD_DISTRICT_DB_DIR`. The district level ended on 30/06/2025.
*Emits*: asset `tcd_raw_district_databases`.
"""
from __future__ import annotations

from airflow.sdk import Asset, dag, task

from pipeline.dag_defaults import DEFAULT_ARGS, RAW_DISTRICT_DATABASES, SERIES_START


@dag(
    dag_id="ingest_district_databases",
    schedule="30 1 * * *",
    start_date=SERIES_START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["tcd", "ingest", "district"],
    doc_md=__doc__,
)
def ingest_district_databases():
    @task
    def prepare_warehouse() -> dict:
        from pipeline import tasks

        return tasks.prepare_warehouse()

    @task
    def list_districts() -> list[str]:
        from pipeline import tasks

        return tasks.list_district_codes()

    @task(max_active_tis_per_dagrun=2)
    def ingest_district(district_code: str, **context) -> dict:
        from pipeline import tasks

        return tasks.ingest_district(district_code, run_id=context["run_id"])

    @task(outlets=[Asset(RAW_DISTRICT_DATABASES)], trigger_rule="all_done")
    def announce(results: list[dict] | None = None) -> dict:
        # Runs even when some districts failed: the others' data is landed and usable.
        results = [r for r in (results or []) if r]
        return {"districts_landed": len(results), "rows": sum(r["rows"] for r in results)}

    ready = prepare_warehouse()
    codes = list_districts()
    ready >> codes
    announce(ingest_district.expand(district_code=codes))


ingest_district_databases()
