"""DAG policy: every DAG file imports cleanly, one DAG per file named after its dag_id,
with an owner, allowed tags, retries, a failure callback and documentation."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.dag_defaults import ALLOWED_TAGS

DAGS_DIR = Path(__file__).resolve().parent.parent / "dags"


@pytest.fixture(scope="session")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_expected_dags_present(dagbag):
    assert {"ingest_commune_registers", "ingest_district_databases", "ingest_city_service",
            "consolidate_warehouse", "report_01_tcd"} <= set(dagbag.dag_ids)


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
