"""DAG policy: every DAG file imports cleanly, one DAG per file named after its dag_id,
with an owner, allowed tags, retries, a failure callback and documentation."""
from __future__ import annotations

from pathlib import Path

import pytest

from core import settings
from pipeline.dag_defaults import ALLOWED_TAGS

pytestmark = pytest.mark.integration   # Airflow's DagBag (its import runs `file`), the DAG files in subprocesses

DAGS_DIR = Path(__file__).resolve().parent.parent / "dags"


@pytest.fixture(scope="session")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_expected_dags_present(dagbag):
    assert {"ingest_commune_registers", "ingest_district_databases", "ingest_city_service",
            "consolidate_warehouse", "report_periodic", "report_summary"} <= set(dagbag.dag_ids)


def test_one_dag_per_file_named_after_dag_id(dagbag):
    files = sorted(p.stem for p in DAGS_DIR.glob("*.py"))
    assert files == sorted(dagbag.dag_ids)
    for dag_id, dag in dagbag.dags.items():
        assert Path(dag.fileloc).stem == dag_id


@pytest.mark.parametrize("attr", ["owner", "retries", "on_failure_callback"])
def test_every_task_has_policy_defaults(dagbag, attr):
    for dag in dagbag.dags.values():
        for t in dag.tasks:
            value = getattr(t, attr)
            assert value, f"{dag.dag_id}.{t.task_id} has no {attr}"
            if attr == "owner":
                assert value != "airflow", f"{dag.dag_id}.{t.task_id} has the default owner"


def test_tags_and_docs(dagbag):
    for dag in dagbag.dags.values():
        assert dag.tags, f"{dag.dag_id} has no tags"
        assert set(dag.tags) <= ALLOWED_TAGS, f"{dag.dag_id} has tags outside {sorted(ALLOWED_TAGS)}"
        assert dag.doc_md and len(dag.doc_md) > 100, f"{dag.dag_id} lacks doc_md"


def test_dag_files_do_no_work_at_parse_time(dagbag):
    """Parsing (after Airflow itself is imported) is cheap: no pandas, GX, DB or network."""
    import subprocess
    import sys

    for path in DAGS_DIR.glob("*.py"):
        code = ("import sys, runpy, airflow.sdk; before = set(sys.modules); "
                f"runpy.run_path({str(path)!r}); new = set(sys.modules) - before; "
                "heavy = sorted(m for m in new if m.split('.')[0] in "
                "{'pandas', 'great_expectations', 'openpyxl', 'httpx', 'python_calamine', 'warehouse', 'connectors', 'transforms'}); "
                "print(','.join(heavy))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "", f"{path.name} imports {out.stdout.strip()} at parse time"


def test_periodic_report_timetable_data_interval_is_the_reporting_window(dagbag):
    """The report runs on the 15th, the day after the cut-off, and its data interval is
    the quarter's 15th–14th window; the cumulative window closing on the same day comes
    with it (15/09: Quý III and 9 tháng)."""
    import pendulum
    from airflow.serialization.decoders import decode_timetable
    from airflow.serialization.encoders import encode_timetable
    from airflow.timetables.base import TimeRestriction

    from pipeline import reporting

    tz = "Asia/Ho_Chi_Minh"
    # what the scheduler runs: the DAG's timetable as serialised and read back
    timetable = decode_timetable(encode_timetable(dagbag.dags["report_periodic"].timetable))
    info = timetable.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(earliest=pendulum.datetime(2026, 6, 1, tz=tz), latest=None, catchup=True))
    start = pendulum.instance(info.data_interval.start).in_timezone(tz)
    end = pendulum.instance(info.data_interval.end).in_timezone(tz)
    run_after = pendulum.instance(info.run_after).in_timezone(tz)
    assert (start.date().isoformat(), end.date().isoformat()) == ("2026-06-15", "2026-09-15")
    assert run_after.date().isoformat() == "2026-09-15"
    windows = reporting.resolve_periods(data_interval_start=info.data_interval.start,
                                        data_interval_end=info.data_interval.end, run_after=info.run_after)
    assert [(w["key"], w["start"], w["end"]) for w in windows] == [
        ("2026-Q3", "2026-06-15", "2026-09-14"), ("2026-M9", "2025-12-15", "2026-09-14")]
    # the next run: Quý IV and the year
    nxt = timetable.next_dagrun_info(last_automated_data_interval=info.data_interval,
                                     restriction=TimeRestriction(earliest=None, latest=None, catchup=True))
    keys = [w["key"] for w in reporting.resolve_periods(data_interval_start=nxt.data_interval.start,
                                                        data_interval_end=nxt.data_interval.end)]
    assert keys == ["2026-Q4", "2026-Y"]
    # params win over the interval
    assert [w["key"] for w in reporting.resolve_periods(
        "2024-H1", data_interval_start=info.data_interval.start,
        data_interval_end=info.data_interval.end)] == ["2024-H1"]


def test_official_issue_runs_the_day_after_the_units_deadline(dagbag):
    """report_periodic_official runs on the day after the units' deadline of the regime
    in force (TT 06/2025: the 17th → the 18th) and triggers report_periodic once per
    window that ended on the 14th, with issue=official; the run on the 15th is
    preliminary, a run after the 17th official."""
    import datetime as dt

    import pendulum
    from airflow.serialization.decoders import decode_timetable
    from airflow.serialization.encoders import encode_timetable
    from airflow.timetables.base import TimeRestriction

    from core import periods, regimes
    from pipeline import reporting

    tz = "Asia/Ho_Chi_Minh"
    timetable = decode_timetable(encode_timetable(dagbag.dags["report_periodic_official"].timetable))
    info = timetable.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(earliest=pendulum.datetime(2026, 7, 1, tz=tz), latest=None, catchup=True))
    run_day = pendulum.instance(info.run_after).in_timezone(tz).date()
    q3 = periods.period("Q3", 2026)
    assert run_day == regimes.regime_for(q3, settings.get().regimes).deadline(q3, "units") + dt.timedelta(days=1) == dt.date(2026, 9, 18)
    confs = reporting.official_issue_confs(run_after=info.run_after)
    assert confs == [{"period": "2026-Q3", "issue": "official", "deliver": True},
                     {"period": "2026-M9", "issue": "official", "deliver": True}]
    assert reporting.official_issue_confs("2025-Y", today="2026-01-05", deliver=False) == \
        [{"period": "2025-Y", "issue": "official", "deliver": False}]
    trigger = dagbag.dags["report_periodic_official"].get_task("issue_official")
    assert trigger.partial_kwargs["trigger_dag_id"] == "report_periodic"
    assert dagbag.dags["report_periodic"].params["issue"] == "auto"
    utc = dt.UTC
    assert reporting.issue_kind_for(q3, dt.datetime(2026, 9, 15, 1, tzinfo=utc)) == "preliminary"
    assert reporting.issue_kind_for(q3, dt.datetime(2026, 9, 17, 16, 59, tzinfo=utc)) == "preliminary"   # 23:59 Hà Nội
    assert reporting.issue_kind_for(q3, dt.datetime(2026, 9, 17, 17, 0, tzinfo=utc)) == "official"      # 18/09 00:00
