"""
### Report 01/TCD (Biểu 01/TCD — kết quả tiếp công dân)

Writes the city's consolidated 01/TCD workbook (TT 02/2021/TT-TTCP) from the published
warehouse: one row per subordinate unit (districts until 30/06/2025, communes from
01/07/2025), the city's own row and the total row. The form's check identities are
verified before the file is written; a report that breaks one is not written.

**Schedule**: on the 15th of March, June, September and December (the day after each
quarter's 14th cut-off), for the quarter just closed.

**Params** (trigger with config):
- `period`: `latest` (default: the latest complete quarter before the run date),
  or `2026-Q3`, `2026-H1` (6 tháng), `2026-M9` (9 tháng), `2026-Y` (năm);
- `date_from` / `date_to` (`YYYY-MM-DD`): a custom range instead, e.g. 2021-07-01 … 2025-02-28.

**Tasks**: `resolve_period` → `assess_data_quality` (completeness and timeliness of
every unit's submissions, outliers against each unit's history, the period's
data-quality workbook, Data Docs) → `build_report`. A unit that did not submit for the
window is shown as "Chưa báo cáo", never as zero.

**Output**: `output/reports/01-TCD/<period>/01-TCD_<unit>_<from>-<to>.xlsx` with sheets
"01-TCD", "Thông tin" and "Chất lượng dữ liệu" (run id, data cut-off, quarantine in the
window, units not reported, checksums of the source batches read), and beside it
`….nguon.csv`, the source rows behind every cell (`python -m reports.lineage`). Listed
in the warehouse table `rpt_report` with its checksum and the batches it read. The
data-quality workbook goes to `output/data_quality/<period>/`.
"""
from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task
from airflow.timetables.trigger import CronTriggerTimetable

from pipeline.dag_defaults import DEFAULT_ARGS, TIMEZONE


@dag(
    dag_id="report_01_tcd",
    schedule=CronTriggerTimetable("0 6 15 3,6,9,12 *", timezone=TIMEZONE),
    start_date=pendulum.datetime(2021, 7, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["tcd", "report"],
    doc_md=__doc__,
    params={
        "period": Param("latest", type="string",
                        description="latest | YYYY-Q1..Q4 | YYYY-H1 | YYYY-M9 | YYYY-Y"),
        "date_from": Param(None, type=["null", "string"], format="date",
                           description="custom range start (YYYY-MM-DD)"),
        "date_to": Param(None, type=["null", "string"], format="date",
                         description="custom range end (YYYY-MM-DD)"),
    },
)
def report_01_tcd():
    @task
    def resolve_period(**context) -> dict:
        from pipeline import tasks

        params = context["params"]
        # The run's own date decides "latest" (logical_date is None for API-triggered runs).
        when = context.get("logical_date") or context["dag_run"].run_after
        today = pendulum.instance(when).in_timezone(TIMEZONE).date().isoformat()
        return tasks.resolve_period(params.get("period"), params.get("date_from"),
                                    params.get("date_to"), today=today)

    @task
    def assess_data_quality(period: dict, **context) -> dict:
        from pipeline import dq

        dq.assess(period, run_id=context["run_id"])
        return period

    @task
    def build_report(period: dict, **context) -> dict:
        from pipeline import tasks

        return tasks.build_report_01_tcd(period, run_id=context["run_id"])

    build_report(assess_data_quality(resolve_period()))


report_01_tcd()
