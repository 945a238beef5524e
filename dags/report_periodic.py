"""
### Periodic reports (báo cáo định kỳ): every form, every unit, every level

Produces the official report set of Thông tư 02/2021/TT-TTCP (and the XLD forms of
TT 01/2024/TT-TTCP from 20/01/2024; versions and switch dates in `config/pipeline.yaml`
`forms:`): 01/TCD, 02/TCD, 01/XLD–04/XLD, 01/KQGQ–04/KQGQ — for each unit in force in
the window at each level (its own records), each district with its communes and the city
with its districts (to 30/06/2025) or communes (from 01/07/2025) as consolidated reports,
units that did not report shown as "Chưa báo cáo", never 0.

**Schedule**: `CronDataIntervalTimetable("0 0 15 3,6,9,12 *")` in Asia/Ho_Chi_Minh:
the data interval *is* the reporting window (15th to 14th), and the run starts on the
15th, the day after the cut-off. The run for 15/09 reports Quý III and 9 tháng; for
15/06 Quý II and 6 tháng; for 15/12 Quý IV and Năm. A manual run without params reports
the last complete window.

**Params** (on demand): `period` (`2026-Q3`, `2026-H1`, `2026-M9`, `2026-Y`, `latest`)
or `date_from`/`date_to` for a custom range; `levels` (subset of tinh, huyen, xa);
`forms` (subset of form codes); `units` (subset of unit codes); `deliver` (send e-mails, default true).

**Tasks**: `resolve_periods` → `assess_data_quality` (per period: completeness,
timeliness, outliers, data-quality workbook) → `build_reports` (mapped per period ×
level: compute, check identities, write, publish to the folder tree with a manifest;
a re-issue with changed numbers becomes `_v2`, the old file stays) →
`deliver_reports` (per period: e-mail to the recipients of `config/recipients.yaml`
through the SMTP connection; each version is sent once).

**Output**: `output/reports/<period>/<level>/<unit>/<form>_<unit>_<from>-<to>.xlsx`, each
with a `.nguon.csv` lineage file; `output/reports/<period>/manifest.json|csv`.
"""
from __future__ import annotations

import pendulum
from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

from pipeline.dag_defaults import DEFAULT_ARGS, TIMEZONE

LEVELS = ["tinh", "huyen", "xa"]


@dag(
    dag_id="report_periodic",
    schedule=CronDataIntervalTimetable("0 0 15 3,6,9,12 *", timezone=TIMEZONE),
    start_date=pendulum.datetime(2021, 6, 15, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["tcd", "report"],
    doc_md=__doc__,
    params={
        "period": Param(None, type=["null", "string"],
                        description="empty = the run's data interval; latest | YYYY-Q1..Q4 | YYYY-H1 | YYYY-M9 | YYYY-Y"),
        "date_from": Param(None, type=["null", "string"], format="date",
                           description="custom range start (YYYY-MM-DD)"),
        "date_to": Param(None, type=["null", "string"], format="date",
                         description="custom range end (YYYY-MM-DD)"),
        "levels": Param(LEVELS, type="array", items={"type": "string", "enum": LEVELS},
                        description="levels to report (tinh = city, huyen = district, xa = commune)"),
        "forms": Param(None, type=["null", "array"],
                       description="form codes to report (empty = every configured form)"),
        "units": Param(None, type=["null", "array"],
                       description="unit codes to report (empty = every unit in force in the window)"),
        "deliver": Param(True, type="boolean", description="e-mail the reports to their recipients"),
    },
)
def report_periodic():
    @task
    def resolve_periods(**context) -> list[dict]:
        from pipeline import reporting

        params = context["params"]
        return reporting.resolve_periods(
            params.get("period"), params.get("date_from"), params.get("date_to"),
            data_interval_start=context.get("data_interval_start"),
            data_interval_end=context.get("data_interval_end"),
            run_after=context["dag_run"].run_after)

    @task
    def assess_data_quality(period: dict, **context) -> dict:
        from pipeline import dq

        dq.assess(period, run_id=context["run_id"])
        return period

    @task(map_index_template="{{ report_batch }}")
    def build_reports(period: dict, level: str, **context) -> dict:
        from airflow.sdk import get_current_context

        from pipeline import reporting

        # label of the mapped task instance in the UI (map_index_template)
        get_current_context()["report_batch"] = f"{period['key']} {level}"
        params = context["params"]
        if level not in (params.get("levels") or LEVELS):
            return {"period": period["key"], "level": level, "skipped": "not requested"}
        return reporting.build_reports(period, level, run_id=context["run_id"], forms=params.get("forms"),
                                       units=params.get("units"))

    @task
    def deliver_reports(period: dict, **context) -> dict:
        from pipeline import reporting

        if not context["params"].get("deliver", True):
            return {"period": period["key"], "skipped": "deliver=false"}
        return reporting.deliver(period["key"], run_id=context["run_id"])

    periods = resolve_periods()
    assessed = assess_data_quality.expand(period=periods)
    built = build_reports.expand(period=assessed, level=LEVELS)
    delivered = deliver_reports.expand(period=periods)
    built >> delivered


report_periodic()
