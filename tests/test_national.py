"""A national deployment (config/national.yaml): two provinces — Thành phố Hà Nội (01) and
Thành phố Đà Nẵng (48, formed from the former Đà Nẵng and Quảng Nam) — in one warehouse,
read from their own sources (each province's folder under one root, each province's own
city service over HTTP under /<code>), consolidated in partitions by province and year,
and reported with the national level (toàn quốc) above them.

Checked for Biểu 01/TCD of Quý III 2025 (TT 01/2024 set, across the reform) and Quý IV
2025 (TT 06/2025): the national report's rows are the two provinces, each equal cell for
cell to the total row of that province's own consolidated report, and to an independent
count from that province's ground truth; the national total is their sum. The sources
are generated without defects, so every record of the truth must be counted once.

Runs the task functions the DAGs call (pipeline.tasks, pipeline.dq, pipeline.reporting)
in this process; the DAG wiring itself is tests/test_dags.py's."""
from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import settings

pytestmark = pytest.mark.integration     # GX suites, an HTTP server, a few thousand records

ROOT = Path(__file__).resolve().parent.parent
PROVINCES = ("01", "48")
SEED, START, END = 5, dt.date(2025, 6, 1), dt.date(2026, 1, 15)
WINDOWS = {"2025-Q3": False, "2025-Q4": True}        # period → TT 06/2025 form


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    """Generated sources of both provinces, the national configuration (these two
    provinces), and the whole pipeline run on them: (home, sources)."""
    from simulators.city_server import serve_in_thread
    from simulators.generate import generate_provinces
    from simulators.sizes import plan

    home = tmp_path_factory.mktemp("national")
    sources = home / "sources"
    run = plan("sample", None, ",".join(PROVINCES), "01")
    generate_provinces(sources, run.provinces, seed=SEED, start=START, end=END, districts=run.districts,
                       communes_per_district=run.communes_per_district, workers=1, defects=False)
    config = home / "national.yaml"
    config.write_text(f"extends: {ROOT / 'config' / 'national.yaml'}\n"
                      f"national:\n  provinces: {list(PROVINCES)}\n", encoding="utf-8")
    token = "national-test-token"
    mp = pytest.MonkeyPatch()
    for name, value in {
        "TCD_CONFIG": str(config), "TCD_WAREHOUSE_URL": f"sqlite:///{home / 'warehouse.sqlite'}",
        "TCD_PATH_REPORTS": str(home / "reports"), "TCD_PATH_DATA_QUALITY": str(home / "data_quality"),
        "TCD_PATH_LOGS": str(home / "logs"), "TCD_COMMUNE_INBOX": str(sources),
        "TCD_DISTRICT_DB_DIR": str(sources), "TCD_CITY_API_TOKEN": token,
        "TCD_PSEUDONYM_KEY": "national-test-key-0123456789abcdef",
    }.items():
        mp.setenv(name, value)
    mp.delenv("AIRFLOW_CONN_TCD_CITY_API", raising=False)
    url, stop = serve_in_thread(sources, token, port=0)
    mp.setenv("TCD_CITY_API_URL", url)         # one address: each province's service under /<code>
    try:
        from pipeline import dq, reporting, tasks

        tasks.prepare_warehouse()
        tasks.ingest_commune_registers()
        for code in tasks.list_district_codes():
            tasks.ingest_district(code)
        assert tasks.list_city_services() == list(PROVINCES)
        for code in tasks.list_city_services():
            assert tasks.ingest_city_service(code)["rejected"] == [], code
        tasks.ingest_qlkntc_workbooks()
        for kind in ("commune_register", "district_db", "city_service", "qlkntc_workbook"):
            tasks.consolidate(kind)
        # the mapped tasks of report_periodic: the national level once, the provinces' one each
        batches = reporting.report_batches(["quoc_gia", "tinh"])
        assert batches == [{"level": "quoc_gia", "province": None}] + [
            {"level": "tinh", "province": code} for code in PROVINCES]
        for key, tt06 in WINDOWS.items():
            period = reporting.resolve_periods(key)[0]
            dq.assess(period)
            for b in batches:
                out = reporting.build_reports(period, b["level"], forms=["01/TCD"], issue_kind="official",
                                              province=b["province"])
                # the national report; a province's own and consolidated reports
                assert out["issued"] == (1 if b["level"] == "quoc_gia" else 2) and not out["withheld"], out
        yield home, sources
    finally:
        stop()
        mp.undo()


def _workbook(home: Path, period_key: str, level: str, code: str, tt06: bool) -> Path:
    from core import periods

    p = periods.parse(period_key)
    tag = "TT06-2025_" if tt06 else ""
    path = home / "reports" / p.key / level / code / f"{tag}01-TCD_{code}_{p.start:%Y%m%d}-{p.end:%Y%m%d}.xlsx"
    assert path.is_file(), f"not issued: {path}"
    return path


def _truth_total(sources: Path, code: str, period_key: str, tt06: bool) -> dict[int, int]:
    """The province's 01/TCD total from its ground truth, counted independently
    (tests.test_end_to_end.expected_table, on the province's own configuration)."""
    from core import periods
    from tests.test_end_to_end import expected_table

    p = periods.parse(period_key)
    mp = pytest.MonkeyPatch()
    mp.setenv("TCD_CONFIG", str(ROOT / "config" / ("pipeline.yaml" if code == "01" else f"provinces/{code}.yaml")))
    try:
        table = expected_table(sources / code / "ground_truth.sqlite", p.start, p.end, tt06=tt06)
    finally:
        mp.undo()
    total: dict[int, int] = defaultdict(int)
    for cells in table.values():          # the forms add up per recording unit
        for ms, v in cells.items():
            total[ms] += v
    return dict(total)


def test_partitions_are_per_province_and_year(national):
    from warehouse.schema import wh_partition

    home, _ = national
    eng = sa.create_engine(os.environ["TCD_WAREHOUSE_URL"])
    with eng.connect() as conn:
        keys = {r.partition_key for r in conn.execute(sa.select(wh_partition.c.partition_key))}
    provinces = {k.split("-")[0] for k in keys}
    assert provinces == set(PROVINCES), keys
    assert {"01-2025", "48-2025"} <= keys


@pytest.mark.parametrize("period_key", list(WINDOWS))
def test_the_national_report_has_the_provinces_as_rows_and_their_totals(national, period_key):
    from tests.test_end_to_end import read_report

    home, sources = national
    tt06 = WINDOWS[period_key]
    nat = read_report(_workbook(home, period_key, "quoc_gia", "VN", tt06))
    names = {"01": "Thành phố Hà Nội", "48": "Thành phố Đà Nẵng"}
    assert list(nat) == [names[c] for c in PROVINCES] + ["Tổng cộng"]
    # (TT 06/2025 columns 10 and 16 are the heads' announced days: not in the records' truth)
    columns = [ms for ms in range(1, 22) if ms not in (10, 16)] if tt06 else list(range(1, 30))
    for code in PROVINCES:
        own = read_report(_workbook(home, period_key, "tinh", code, tt06))
        row = nat[names[code]]
        assert {ms: row[ms] for ms in columns} == {ms: own["Tổng cộng"][ms] for ms in columns}, code
        truth = _truth_total(sources, code, period_key, tt06)
        assert truth.get(1, 0) > 0, f"{code}: the window holds receptions"
        assert {ms: row[ms] or 0 for ms in columns} == {ms: truth.get(ms, 0) for ms in columns}, code
    for ms in columns:
        assert (nat["Tổng cộng"][ms] or 0) == sum(nat[names[c]][ms] or 0 for c in PROVINCES), ms


def test_the_national_report_is_issued_by_the_government_inspectorate(national):
    import openpyxl

    home, _ = national
    ws = openpyxl.load_workbook(_workbook(home, "2025-Q4", "quoc_gia", "VN", True)).worksheets[0]
    top = " ".join(str(c) for row in ws.iter_rows(max_row=6, values_only=True) for c in row if c)
    assert "THANH TRA CHÍNH PHỦ" in top.upper()
    assert "UBND" not in top


def test_every_province_has_its_own_report_set(national):
    home, _ = national
    for code in PROVINCES:
        assert _workbook(home, "2025-Q4", "tinh", code, True).is_file()
    assert not (home / "reports" / "2025-Q4" / "quoc_gia" / "01").exists()
    assert settings.get().national is not None
