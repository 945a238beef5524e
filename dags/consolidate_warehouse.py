"""
### Consolidate the warehouse (hợp nhất dữ liệu)

Triggered whenever any raw source asset is updated. For each kind of source (the
commune registers, the district databases, the city service, the 06/QLKNTC input
workbooks → `fact_qlkntc`), a write–audit–publish rebuild of the canonical `fact_*`
tables from the raw layer:

1. audit new batches with the batch suite (critical rules reject a batch whole:
   `dq_batch_audit`);
2. latest versions of accepted batches, mapped to the canonical model, official
   records only, units resolved with the record date;
3. the canonical suite: rows breaking an *error* rule are quarantined with their
   lineage and reason (`dq_quarantine`), *warnings* are kept and flagged (`dq_flag`);
   duplicates collapsed;
4. the warehouse suite on exactly what is to be published (keys, referential
   integrity, no duplicates): a failure blocks publication, the previous state stays;
5. publish. Every validation lands in `dq_validation`; Data Docs are updated under
   `output/data_quality/data_docs/`.

Suites: `expectations/gx/` (GX 1.x file context), rules and their severity and
Vietnamese instructions: `expectations/rules.yaml`. Each source kind is rebuilt one
year at a time (the year of the record's date): a year whose current records and suites
did not change since its last publication is skipped, so a day of new data rebuilds only
the years it touches, and memory is bounded by one year. Idempotent.

*Emits*: asset `tcd_warehouse_published`.
"""
from __future__ import annotations

from airflow.sdk import Asset, dag, task

from pipeline.dag_defaults import (
    DEFAULT_ARGS,
    RAW_CITY_SERVICE,
    RAW_COMMUNE_REGISTERS,
    RAW_DISTRICT_DATABASES,
    RAW_QLKNTC_WORKBOOKS,
    SERIES_START,
    WAREHOUSE_PUBLISHED,
)

SOURCE_KINDS = ["commune_register", "district_db", "city_service", "qlkntc_workbook"]


@dag(
    dag_id="consolidate_warehouse",
    schedule=(Asset(RAW_COMMUNE_REGISTERS) | Asset(RAW_DISTRICT_DATABASES) | Asset(RAW_CITY_SERVICE)
              | Asset(RAW_QLKNTC_WORKBOOKS)),
    start_date=SERIES_START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["tcd", "consolidate"],
    doc_md=__doc__,
)
def consolidate_warehouse():
    @task
    def prepare_warehouse() -> dict:
        from pipeline import tasks

        return tasks.prepare_warehouse()

    @task(max_active_tis_per_dagrun=1)
    def consolidate(source_kind: str, **context) -> dict:
        # One at a time: each rebuild is a single write transaction on the warehouse.
        from pipeline import tasks

        return tasks.consolidate(source_kind, run_id=context["run_id"])

    @task(outlets=[Asset(WAREHOUSE_PUBLISHED)])
    def published(results: list[dict]) -> dict:
        return {r["source_kind"]: ("unchanged" if r["skipped"] else "published") for r in results}

    prepare_warehouse() >> (results := consolidate.expand(source_kind=SOURCE_KINDS))
    published(results)


consolidate_warehouse()
