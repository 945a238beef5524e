"""The published table (domain reference §7) reproduced by the pipeline from the full
demo data of the city service: ingestion over HTTP, consolidation, the 01/TCD report
for 01/07/2021 – 28/02/2025. A naive sum of the raw feed must not give the figures."""
from __future__ import annotations

import json
import os

import openpyxl
import pytest
import sqlalchemy as sa

from core import connections, settings
from warehouse import units as wh_units

pytestmark = pytest.mark.integration   # the full city data set, served over HTTP


@pytest.fixture(scope="module")
def city_full(tmp_path_factory):
    from simulators.core import FIXED_END
    from simulators.generate import generate

    out = tmp_path_factory.mktemp("city_full")
    generate(out, seed=42, only=["city"], end=FIXED_END)   # the demo's defaults, to a fixed end
    return out


def test_published_table_is_reproduced(city_full, tmp_path, monkeypatch):
    from connectors import city_service
    from core import settings
    from pipeline import dq, reporting, tasks
    from reports import publish
    from simulators.city_server import serve_in_thread
    from transforms.consolidate import consolidate
    from warehouse import db
    from warehouse.schema import raw_record

    monkeypatch.setenv("TCD_WAREHOUSE_URL", f"sqlite:///{tmp_path / 'wh.sqlite'}")
    monkeypatch.setenv("TCD_PATH_REPORTS", str(tmp_path / "reports"))
    monkeypatch.setenv("TCD_PATH_DATA_QUALITY", str(tmp_path / "data_quality"))
    tasks.prepare_warehouse()
    eng = db.engine(connections.warehouse_url(settings.get()))
    token = os.environ["TCD_CITY_API_TOKEN"]
    url, stop = serve_in_thread(city_full / "city_service" / "city.sqlite", token, port=0)
    try:
        city_service.ingest(eng, settings.get(), base_url=url, token=token)
    finally:
        stop()
    consolidate(eng, "city_service", settings.get())
    # The DAG's path (report_periodic): assess, build and issue, then read the published tree.
    period = reporting.resolve_periods(date_from="2021-07-01", date_to="2025-02-28")[0]
    dq.assess(period)
    reporting.build_reports(period, "tinh", forms=["01/TCD"], scope_kinds=("consolidated",))
    path = publish.issued_path(period["key"], "01/TCD", "tinh", settings.config()["province"]["code"],
                                root=settings.path_setting("reports"))

    ws = openpyxl.load_workbook(path).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    ms = next(r for r in rows if r[0] == "MS")
    col = {int(str(v).split("=")[0]): j for j, v in enumerate(ms) if j and v is not None}
    city = next(r for r in rows if r[0] and str(r[0]).startswith("UBND Thành phố Hà Nội"))
    assert (city[col[4]], city[col[5]], city[col[8]], city[col[9]]) == (8656, 14015, 280, 1527)
    assert city[col[13]] + city[col[22]] == 702
    assert city[col[14]] + city[col[23]] == 1754
    assert city[col[17]] + city[col[26]] == 47

    # Summing the raw feed naively (drafts, deleted, superseded versions, double entries)
    # does not give the published figures: the rules above are doing real work.
    with eng.connect() as c:
        payloads = [json.loads(p) for (p,) in c.execute(sa.select(raw_record.c.payload).where(
            raw_record.c.record_type == "reception"))]
    regular = [p for p in payloads if p["mode"] == "regular"
               and "2021-07-01" <= p["received_on"] <= "2025-02-28"]
    assert (len(regular), sum(p["people"] for p in regular)) != (8656, 14015)
    assert len(regular) > 8656


def test_summary_narrative_reproduces_the_published_figures(city_full, tmp_path, monkeypatch):
    """The multi-year summary over the same range says the published figures, in the
    sentences where they belong: regular reception (8.656 lượt, 14.015 công dân, of which
    280 đoàn with 1.527 công dân) and the leaders' periodic reception (702 lượt, 1.754
    công dân, 47 đoàn)."""
    from connectors import city_service
    from pipeline import tasks
    from reports import summary
    from simulators.city_server import serve_in_thread
    from transforms.consolidate import consolidate
    from warehouse import db

    monkeypatch.setenv("TCD_WAREHOUSE_URL", f"sqlite:///{tmp_path / 'wh.sqlite'}")
    tasks.prepare_warehouse()
    eng = db.engine(connections.warehouse_url(settings.get()))
    token = os.environ["TCD_CITY_API_TOKEN"]
    url, stop = serve_in_thread(city_full / "city_service" / "city.sqlite", token, port=0)
    try:
        city_service.ingest(eng, settings.get(), base_url=url, token=token)
    finally:
        stop()
    consolidate(eng, "city_service", settings.get())

    data = summary.summary_frames(eng, "2021-07-01", "2025-02-28", wh_units.unit_frame(settings.get()))
    result = summary.build_summary(data, tmp_path / "tong-hop.xlsx", settings.get().regimes, {"run_id": "calibration"})
    first = result.tables.paragraphs[0]
    sentence = first.split(". ")[0]
    regular, leaders = sentence.split("; ")
    assert regular.startswith("Từ ngày 01/07/2021 đến ngày 28/02/2025, Thành phố đã tiếp thường xuyên")
    assert "tiếp thường xuyên 8.656 lượt với 14.015 công dân" in regular
    assert "trong đó có 280 đoàn đông người với 1.527 công dân" in regular
    assert leaders.startswith("lãnh đạo UBND Thành phố tiếp định kỳ")
    assert "702 lượt với 1.754 công dân, 47 đoàn đông người" in leaders
    # The workbook carries the same text and numbers, never a pseudonym.
    wb = openpyxl.load_workbook(result.path)
    assert first in [r[0] for r in wb["Nhận định"].iter_rows(values_only=True)]
    assert len(wb["Biểu đồ"]._charts) >= 2
    pseudonyms = set(data.receptions["citizen_pseudonym"].dropna())
    assert pseudonyms
    cells = {str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v}
    assert not pseudonyms & cells
