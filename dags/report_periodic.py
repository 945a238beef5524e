"""
### Periodic reports (báo cáo định kỳ): every form, every unit, every level

Produces the report set of the reporting regime (chế độ báo cáo) that governs the
window — the circular in force on the window's last day (`config/pipeline.yaml`
`regimes:`): Thông tư 02/2021/TT-TTCP (01/TCD, 02/TCD, 01/XLD–04/XLD, 01/KQGQ–04/KQGQ),
with the XLD forms of TT 01/2024/TT-TTCP for windows ending from 20/01/2024, and
Thông tư 06/2025/TT-TTCP (01/TCD, 02/XLD, 03/GQKN, 04/GQTC, 05/KQTH) for windows
ending from 30/09/2025 — for each unit in force in the window at each level (its own
records), each district with its communes and the city with its districts (to
30/06/2025) or communes (from 01/07/2025) as consolidated reports, units that did not
report shown as "Chưa báo cáo", never 0.

**Preliminary and official issues**: a run before the units' deadline of the regime
(TT 06/2025 Điều 7.2: the 17th of the period's last month) issues *preliminary*
reports (bản sơ bộ, marked so in the workbook, sent only to recipients who check
them); `report_periodic_official` triggers this DAG after the deadline with
`issue=official`: a new version of every report, delivered to the province's
recipients.

**Schedule**: `CronDataIntervalTimetable("0 0 15 3,6,9,12 *")` in Asia/Ho_Chi_Minh:
the data interval *is* the reporting window (15th to 14th), and the run starts on the
15th, the day after the cut-off. The run for 15/09 reports Quý III and 9 tháng; for
15/06 Quý II and 6 tháng; for 15/12 Quý IV and Năm. A manual run without params reports
the last complete window.

**Params** (on demand): `period` (`2026-Q3`, `2026-H1`, `2026-M9`, `2026-Y`, `latest`)
or `date_from`/`date_to` for a custom range; `levels` (subset of quoc_gia, tinh, huyen, xa; quoc_gia — toàn quốc, the provinces as its
rows — in a national deployment only);
`forms` (subset of form codes); `units` (subset of unit codes); `deliver` (send e-mails, default true);
`issue` (`auto` — preliminary before the units' deadline, else official —, `preliminary`, `official`);
`narrative` (null: Mẫu số 02 when the regime asks for it; true: also for this window — the
annual chuyên đề over `date_from`/`date_to`, compared with the same range a year earlier;
false: none).

**Tasks**: `resolve_periods` → `assess_data_quality` (per period: completeness,
timeliness, outliers, data-quality workbook) → `build_reports` (mapped per period ×
batch of `report_batches`: a level, or in a national deployment the national level and
each other level per province, so the workers share the country: compute, check identities, write, publish to the folder tree with a manifest;
a re-issue with changed numbers becomes `_v2`, the old file stays) →
`build_narratives` (mapped per period × level: for the periods whose regime asks for it — TT 06/2025:
Quý I, 6 tháng, 9 tháng, năm — the Mẫu số 02 narrative of every official report as a Word
document, every figure from the same tables, compared with the previous quarter and the
same period of the previous year) →
`deliver_reports` (per period: e-mail to the recipients of `config/recipients.yaml`
through the SMTP connection; each version is sent once).

**Output**: `output/reports/<period>/<level>/<unit>/[<regime tag>_]<form>_<unit>_<from>-<to>.xlsx`
(regime tag `TT06-2025` for the TT 06/2025 forms), each
with a `.nguon.csv` lineage file; `output/reports/<period>/manifest.json|csv`.
"""
from __future__ import annotations

import pendulum
from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

from core.levels import REPORT_LEVELS as _LEVELS
from pipeline.dag_defaults import DEFAULT_ARGS, TIMEZONE

# Param values are JSON: a list. quoc_gia (toàn quốc) issues reports only in a national
# deployment (config/national.yaml); elsewhere its mapped task returns at once.
LEVELS = list(_LEVELS)


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
                        description="levels to report (quoc_gia = the country, in a national deployment; "
                                    "tinh = city, huyen = district, xa = commune)"),
        "forms": Param(None, type=["null", "array"],
                       description="form codes to report (empty = every configured form)"),
        "units": Param(None, type=["null", "array"],
                       description="unit codes to report (empty = every unit in force in the window)"),
        "deliver": Param(True, type="boolean", description="e-mail the reports to their recipients"),
        "narrative": Param(None, type=["null", "boolean"],
                           description="Mẫu số 02: null = when the regime asks for it (Quý I, 6 tháng, 9 tháng, "
                                       "năm); true = also for this window (a chuyên đề over date_from/date_to); "
                                       "false = none"),
        "issue": Param("auto", type="string", enum=["auto", "preliminary", "official"],
                       description="auto = preliminary before the units' deadline, official after it"),
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

    @task
    def report_batches(**context) -> list[dict]:
        from pipeline import reporting

        # per level; in a national deployment per level and province (the national level once)
        return reporting.report_batches(context["params"].get("levels") or LEVELS)

    @task(map_index_template="{{ report_batch }}")
    def build_reports(period: dict, batch: dict, **context) -> dict:
        from airflow.sdk import get_current_context

        from pipeline import reporting

        level, province = batch["level"], batch.get("province")
        # label of the mapped task instance in the UI (map_index_template)
        get_current_context()["report_batch"] = " ".join(x for x in (period["key"], level, province) if x)
        params = context["params"]
        issue = params.get("issue") or "auto"
        return reporting.build_reports(period, level, run_id=context["run_id"], forms=params.get("forms"),
                                       units=params.get("units"), issue_kind=None if issue == "auto" else issue,
                                       province=province)

    @task(map_index_template="{{ report_batch }}")
    def build_narratives(period: dict, level: str, **context) -> dict:
        from airflow.sdk import get_current_context

        from pipeline import reporting

        get_current_context()["report_batch"] = f"{period['key']} {level}"
        params = context["params"]
        if level not in (params.get("levels") or LEVELS):
            return {"period": period["key"], "level": level, "skipped": "not requested"}
        if params.get("forms"):
            return {"period": period["key"], "level": level, "skipped": "a subset of forms was requested"}
        if params.get("narrative") is False:
            return {"period": period["key"], "level": level, "skipped": "narrative: false"}
        issue = params.get("issue") or "auto"
        return reporting.build_narratives(period, level, run_id=context["run_id"], units=params.get("units"),
                                          issue_kind=None if issue == "auto" else issue,
                                          on_request=bool(params.get("narrative")))

    @task
    def deliver_reports(period: dict, **context) -> dict:
        from pipeline import reporting

        if not context["params"].get("deliver", True):
            return {"period": period["key"], "skipped": "deliver=false"}
        return reporting.deliver(period["key"], run_id=context["run_id"])

    periods = resolve_periods()
    assessed = assess_data_quality.expand(period=periods)
    built = build_reports.expand(period=assessed, batch=report_batches())
    narratives = build_narratives.expand(period=assessed, level=LEVELS)
    delivered = deliver_reports.expand(period=periods)
    [built, narratives] >> delivered


report_periodic()
