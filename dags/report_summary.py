"""
### Multi-year summary (báo cáo tổng hợp nhiều năm) for the Party Committee

One workbook over a multi-year range, by default 01/07/2021 to the last cut-off (the
end of the latest complete quarter window): headline figures by year and in total,
by level, change against the previous year, native Excel charts, the heads' reception
duty against the legal minimum (Luật Tiếp công dân 2013, Điều 12–15), petitions that
skipped levels (vượt cấp), and a narrative paragraph in Vietnamese; plus the city's
consolidated 01/TCD over the range in two views — as recorded (the official series:
districts until 30/06/2025) and remapped to today's communes (estimates marked).

**Schedule**: none — on demand, with params `date_from` / `date_to` (`YYYY-MM-DD`).

**Output**: `output/reports/<from>_<to>/tinh/<city>/…` with the manifest, delivered to
the recipients of `config/recipients.yaml` who take `summary` reports.
"""
from __future__ import annotations

from airflow.sdk import Param, dag, task

from pipeline.dag_defaults import DEFAULT_ARGS, SERIES_START


@dag(
    dag_id="report_summary",
    schedule=None,
    start_date=SERIES_START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["tcd", "report"],
    doc_md=__doc__,
    params={
        "date_from": Param(None, type=["null", "string"], format="date",
                           description=f"start (YYYY-MM-DD); empty = {SERIES_START:%Y-%m-%d}"),
        "date_to": Param(None, type=["null", "string"], format="date",
                         description="end (YYYY-MM-DD); empty = the last cut-off"),
        "deliver": Param(True, type="boolean", description="e-mail the workbooks to their recipients"),
    },
)
def report_summary():
    @task
    def resolve_range(**context) -> dict:
        from pipeline import reporting

        params = context["params"]
        return reporting.summary_range(params.get("date_from"), params.get("date_to"),
                                       run_after=context["dag_run"].run_after)

    @task
    def build_summary(period: dict, **context) -> dict:
        from pipeline import reporting

        return reporting.build_summary(period, run_id=context["run_id"])

    @task
    def deliver_summary(result: dict, **context) -> dict:
        from pipeline import reporting

        if not context["params"].get("deliver", True):
            return {"skipped": "deliver=false"}
        return reporting.deliver(result["period"], run_id=context["run_id"])

    deliver_summary(build_summary(resolve_range()))


report_summary()
