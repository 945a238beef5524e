"""Another province by configuration alone: Thành phố Đà Nẵng (48), selected with
TCD_CONFIG=config/provinces/48.yaml and nothing else changed. Its sources are generated
(`simulators.generate --province 48`: the city service, a district of each province it
was formed from — Quận Hải Châu of the former Thành phố Đà Nẵng, Thành phố Hội An of the
former Tỉnh Quảng Nam — with two communes each and the 2025 communes that succeed
them), run through the same DAGs with `airflow dags test` as Hà Nội's
(tests/test_end_to_end.py), and every cell of the city's 01/TCD — Quý III 2025 (TT 01/2024
set, across the reform) and Quý IV 2025 (TT 06/2025) — and of its 02/XLD–06/QLKNTC for
Quý IV 2025 is compared with an independent count from the generator's ground truth.

The data run from 01/06/2025 to 15/01/2026 (`--start` filters the records the model draws
from 01/07/2021), so the module stays within a few minutes."""
from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from core import settings
from tests.test_end_to_end import (
    TT06_FORMS,
    compare_tt06,
    expected_days,
    expected_table,
    read_report,
    reporting_rows,
    test_every_injected_defect_has_its_expected_outcome,  # noqa: F401 - collected here on Đà Nẵng's run
    test_no_personal_data_in_any_output,  # noqa: F401 - collected here on Đà Nẵng's run
)
from tests.tt06_truth import PER_DECISION, city_row

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.e2e   # the DAGs with `airflow dags test`, the city service over HTTP

PROVINCE, PROVINCE_CONFIG = "48", ROOT / "config" / "provinces" / "48.yaml"
SEED, START, END = 11, dt.date(2025, 6, 1), dt.date(2026, 1, 15)
DISTRICTS, COMMUNES = ["492", "503"], 2        # Quận Hải Châu (former 48), Thành phố Hội An (former 49)
TT06_WINDOW = "2025-Q4"
WINDOWS = ("2025-Q3", TT06_WINDOW)
CITY_ONLY = {"levels": ["tinh"], "deliver": False}
DAGS = ["ingest_commune_registers", "ingest_district_databases", "ingest_city_service", "ingest_qlkntc_workbooks",
        "consolidate_warehouse"] + [
    f"report_periodic={json.dumps({'period': w, **CITY_ONLY, 'forms': ['01/TCD', *(TT06_FORMS if w == TT06_WINDOW else ())]})}"
    for w in WINDOWS]


@pytest.fixture(scope="module", autouse=True)
def province_config():
    """The whole module — the test process and the DAG runs — on Đà Nẵng's configuration."""
    mp = pytest.MonkeyPatch()
    mp.setenv("TCD_CONFIG", str(PROVINCE_CONFIG))
    yield
    mp.undo()


@pytest.fixture(scope="module")
def small_sources(province_config, tmp_path_factory):
    """Đà Nẵng's generated sources (the name lets the Hà Nội module's tests run on them)."""
    from simulators.generate import generate

    out = tmp_path_factory.mktemp("sources-48")
    manifest = generate(out, seed=SEED, province=PROVINCE, districts=DISTRICTS, communes_per_district=COMMUNES,
                        start=START, end=END)
    assert manifest["province"] == {"code": PROVINCE, "name": "Thành phố Đà Nẵng"}
    return out


@pytest.fixture(scope="module")
def qlkntc_truth(small_sources) -> list[tuple]:
    """The generator's truth of the 06/QLKNTC workbooks it delivered (by END, Quý IV 2025's are in)."""
    con = sqlite3.connect(small_sources / "ground_truth.sqlite")
    rows = con.execute("select * from gt_qlkntc").fetchall()
    con.close()
    assert rows
    return rows


@pytest.fixture(scope="module")
def pipeline_run(small_sources, tmp_path_factory):
    from simulators.city_server import serve_in_thread

    token = os.environ["TCD_CITY_API_TOKEN"]
    url, stop = serve_in_thread(small_sources / "city_service" / "city.sqlite", token, port=0)
    home = tmp_path_factory.mktemp("e2e-48")
    host, port = url.removeprefix("http://").split(":")
    env = dict(os.environ)
    env.update({
        "TCD_CONFIG": str(PROVINCE_CONFIG),
        "AIRFLOW_HOME": str(home / "airflow"), "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "TCD_HOME": str(home), "TCD_TASK_RETRIES": "0",
        "TCD_WAREHOUSE_URL": f"sqlite:///{home / 'output' / 'warehouse' / 'warehouse.sqlite'}",
        "TCD_COMMUNE_INBOX": str(small_sources / "commune_inbox"),
        "TCD_DISTRICT_DB_DIR": str(small_sources / "district_db"),
        "AIRFLOW_CONN_TCD_CITY_API": json.dumps({"conn_type": "http", "host": host, "port": int(port),
                                                 "schema": "http", "password": token}),
        "PYTHONPATH": str(ROOT), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    })
    (home / "output" / "warehouse").mkdir(parents=True)
    try:
        subprocess.run(["airflow", "db", "migrate"], env=env, check=True, capture_output=True)
        proc = subprocess.run([sys.executable, "-m", "pipeline.run_dags", *DAGS], env=env, cwd=home,
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    finally:
        stop()
    return home, env


def city_report(home: Path, period: str, form: str) -> Path:
    from core import periods
    from core.regimes import regime_for

    p = periods.parse(period)
    tag = regime_for(p, settings.get().regimes).file_tag
    name = f"{tag + '_' if tag else ''}{form.replace('/', '-')}_{PROVINCE}_{p.start:%Y%m%d}-{p.end:%Y%m%d}.xlsx"
    return home / "output" / "reports" / p.key / "tinh" / PROVINCE / name


def test_the_sources_cover_both_former_provinces(small_sources):
    """The legacy units of both provinces Đà Nẵng was formed from, and its 2025 communes,
    each delivered records; the province's own service holds its records."""
    con = sqlite3.connect(small_sources / "ground_truth.sqlite")
    units = dict(con.execute("select unit_key, count(*) from gt_reception group by unit_key").fetchall())
    con.close()
    assert {"legacy:492", "legacy:503", f"province:{PROVINCE}"} <= set(units)
    assert any(k.startswith("2025:") for k in units) and any(k.startswith("legacy:2") for k in units)
    assert {db.stem for db in (small_sources / "district_db").glob("*.sqlite")} == set(DISTRICTS)


@pytest.mark.parametrize("period", WINDOWS)
def test_every_cell_of_01_tcd_matches_ground_truth(pipeline_run, small_sources, period):
    """The city's 01/TCD: every row that reported equals the independent count, the
    rows that did not are empty with "Chưa báo cáo", the total is the sum of the rows;
    Quý III 2025 has the district rows of both former provinces."""
    from core import periods

    home, _ = pipeline_run
    p = periods.parse(period)
    tt06 = period == TT06_WINDOW
    got = read_report(city_report(home, period, "01/TCD"))
    want = expected_table(small_sources / "ground_truth.sqlite", p.start, p.end, tt06=tt06)
    columns = [ms for ms in range(1, 22) if ms not in (10, 16)] if tt06 else list(range(1, 30))
    reported = reporting_rows(small_sources, p.start, p.end)
    assert city_row() in want and set(want) <= reported
    if not tt06:
        assert {"Quận Hải Châu", "Thành phố Hội An"} <= set(want), "the districts of both former provinces"
    days = expected_days(small_sources / "ground_truth.sqlite", p.start, p.end) if tt06 else {}
    total, not_reported = defaultdict(int), 0
    for label, cells in got.items():
        if label == "Tổng cộng":
            continue
        if label not in reported:
            assert all(cells[ms] is None for ms in columns) and "Chưa báo cáo" in cells["text"], label
            not_reported += 1
            continue
        expected = want.pop(label, {})
        for ms in columns:
            assert cells[ms] == expected.get(ms, 0), f"{label}, cột {ms}"
            total[ms] += cells[ms]
        if tt06:
            d = days.get(label)
            assert (cells[10], cells[16]) == (d if d is not None else (None, None)), label
    assert want == {}, f"rows missing from the report: {list(want)}"
    assert not_reported > 0, "most of the city's units have no data in this set"
    assert all(got["Tổng cộng"][ms] == total[ms] for ms in columns)


@pytest.mark.parametrize("form", TT06_FORMS)
def test_every_cell_of_the_tt06_forms_matches_ground_truth(pipeline_run, small_sources, qlkntc_truth, form):
    """Quý IV 2025, the city's consolidated 02/XLD–06/QLKNTC, every cell of every row
    that reported, as the independent count of tests/tt06_truth.py."""
    home, _ = pipeline_run
    assert city_report(home, TT06_WINDOW, form).exists()
    assert compare_tt06(home, small_sources, qlkntc_truth, form, PER_DECISION) == []
