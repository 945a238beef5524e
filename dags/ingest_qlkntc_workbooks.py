"""
### Ingest the 06/QLKNTC input workbooks (tệp nhập liệu biểu 06/QLKNTC)

State-management work on citizen reception and complaints (documents issued, training,
responsibility inspections and their follow-up: form 06/QLKNTC of Thông tư
06/2025/TT-TTCP) has no source system. Each unit fills in the input workbook generated
for it and the period (`python -m connectors.qlkntc_template --period 2026-Q3 --level xa
--out DIR`) and drops it in the commune inbox beside the registers
(`QLKNTC_<unit code>_<period>.xlsx`, any sub-folder). This DAG lands every new or
corrected workbook in the raw layer with lineage; a workbook of the wrong unit or
window, an altered template or a missing sheet is rejected with a Vietnamese reason
(`raw_batch.message`), and the other workbooks go on. Contract: docs/data-contracts.md §5.

*Source*: connection `tcd_commune_inbox` (extra `path`) or env `TCD_COMMUNE_INBOX`.
*Emits*: asset `tcd_raw_qlkntc_workbooks`, which triggers `consolidate_warehouse`.
"""
from __future__ import annotations

from airflow.sdk import Asset, dag, task

from core import settings
from pipeline.dag_defaults import DEFAULT_ARGS, RAW_QLKNTC_WORKBOOKS, start_date


@dag(
    dag_id="ingest_qlkntc_workbooks",
    schedule="15 1 * * *",
    # the form exists from TT 06/2025 (config sources.qlkntc_workbooks.applies_from_window_end)
    start_date=start_date(settings.get().sources.qlkntc_workbooks.applies_from_window_end),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["tcd", "ingest", "commune"],
    doc_md=__doc__,
)
def ingest_qlkntc_workbooks():
    @task
    def prepare_warehouse() -> dict:
        from pipeline import tasks

        return tasks.prepare_warehouse()

    @task(outlets=[Asset(RAW_QLKNTC_WORKBOOKS)])
    def ingest_workbooks(**context) -> dict:
        from pipeline import tasks

        return tasks.ingest_qlkntc_workbooks(run_id=context["run_id"])

    prepare_warehouse() >> ingest_workbooks()


ingest_qlkntc_workbooks()
