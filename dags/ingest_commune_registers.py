"""
### Ingest commune registers (sổ tiếp công dân cấp xã)

Lands every new or changed `.xlsx` register from the commune inbox in the raw layer
(`raw_batch`, `raw_record`, `raw_file_manifest`), personal data scrubbed. A file
already landed with the same checksum is skipped; an unreadable file is recorded as a
rejected batch with the reason (see the task's return value and `raw_batch.message`),
and the other files go on.

*Source*: connection `tcd_commune_inbox` (extra `path`) or env `TCD_COMMUNE_INBOX`.
*Emits*: asset `tcd_raw_commune_registers`, which triggers `consolidate_warehouse`.
"""
from __future__ import annotations

from airflow.sdk import Asset, dag, task

from pipeline.dag_defaults import DEFAULT_ARGS, RAW_COMMUNE_REGISTERS, SERIES_START


@dag(
    dag_id="ingest_commune_registers",
    schedule="0 1 * * *",
    start_date=SERIES_START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["tcd", "ingest", "commune"],
    doc_md=__doc__,
)
def ingest_commune_registers():
    @task
    def prepare_warehouse() -> dict:
        from pipeline import tasks

        return tasks.prepare_warehouse()

    @task(outlets=[Asset(RAW_COMMUNE_REGISTERS)])
    def ingest_inbox(**context) -> dict:
        from pipeline import tasks

        return tasks.ingest_commune_registers(run_id=context["run_id"])

    prepare_warehouse() >> ingest_inbox()


ingest_commune_registers()
