"""
### Official issue of the periodic reports (bản chính thức), after the units' deadline

Under Thông tư 06/2025/TT-TTCP (Điều 7.2) communes send their reports to the province
by the 17th of the period's last month and the province sends its own to Thanh tra
Chính phủ by the 20th. `report_periodic` runs on the 15th, the day after the cut-off,
and issues *preliminary* reports for units to check. This DAG runs on the 18th, the
day after the units' deadline, and triggers `report_periodic` once for every window
that ended on the 14th (the quarter, and 6 tháng / 9 tháng / năm where one ends then)
with `issue=official`: every report is re-issued with what arrived — a new version
through the usual re-issue mechanism, the changed cells listed in the manifest — and
delivered to the province's recipients.

**Schedule**: `CronTriggerTimetable("0 6 18 3,6,9,12 *")` in Asia/Ho_Chi_Minh (the
day after the TT 06/2025 units' deadline; a test checks it against the configured
regime).

**Params**: `period` (a period key, e.g. `2026-Q3`; empty = the windows that ended on
the 14th of the run's month); `deliver` (default true).
"""
from __future__ import annotations

import pendulum
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import CronTriggerTimetable, Param, dag, task

from pipeline.dag_defaults import DEFAULT_ARGS, TIMEZONE


@dag(
    dag_id="report_periodic_official",
    schedule=CronTriggerTimetable("0 6 18 3,6,9,12 *", timezone=TIMEZONE),
    start_date=pendulum.datetime(2025, 12, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["tcd", "report"],
    doc_md=__doc__,
    params={
        "period": Param(None, type=["null", "string"],
                        description="empty = the windows that ended on the 14th of this month; or YYYY-Q1..Q4, YYYY-H1 …"),
        "deliver": Param(True, type="boolean", description="e-mail the official reports to their recipients"),
    },
)
def report_periodic_official():
    @task
    def official_runs(**context) -> list[dict]:
        from pipeline import reporting

        params = context["params"]
        return reporting.official_issue_confs(params.get("period"), run_after=context["dag_run"].run_after,
                                              deliver=params.get("deliver", True))

    TriggerDagRunOperator.partial(
        task_id="issue_official", trigger_dag_id="report_periodic", wait_for_completion=True,
        poke_interval=30, allowed_states=["success"], failed_states=["failed"],
    ).expand(conf=official_runs())


report_periodic_official()
