"""District-database and city-service connectors against the real simulated systems:
SQLite database files and an HTTP server on localhost."""
from __future__ import annotations

import shutil
import sqlite3

import httpx
import pytest
import sqlalchemy as sa

from connectors import city_service, district_db
from warehouse.schema import raw_record, raw_watermark


def _count(engine, **where):
    q = sa.select(sa.func.count()).select_from(raw_record)
    for k, v in where.items():
        q = q.where(raw_record.c[k] == v)
    with engine.connect() as c:
        return c.execute(q).scalar_one()


def test_district_incremental_by_watermark(warehouse, small_sources, tmp_path):
    db = tmp_path / "001.sqlite"
    shutil.copy(small_sources / "district_db" / "001.sqlite", db)
    url = f"sqlite:///{db}"
    first = district_db.ingest_district(warehouse, "001", url)
    src = sqlite3.connect(db)
    n_src = sum(src.execute(f"select count(*) from {t}").fetchone()[0] for t in district_db.TABLES)
    assert sum(b["rows"] for b in first) == n_src == _count(warehouse, source_kind="district_db")
    assert district_db.ingest_district(warehouse, "001", url) == []        # nothing new: no rows, no batch

    with warehouse.connect() as c:
        wm = c.execute(sa.select(raw_watermark.c.watermark).where(
            raw_watermark.c.stream == "tiep_cong_dan")).scalar_one()
    # A record deleted later, and a new record stamped at exactly the watermark second.
    victim = src.execute("select id from tiep_cong_dan where trang_thai='CHINH_THUC' limit 1").fetchone()[0]
    src.execute("update tiep_cong_dan set trang_thai='DA_XOA', ngay_cap_nhat='2099-01-01 00:00:00' where id=?", (victim,))
    cols = [r[1] for r in src.execute("pragma table_info(tiep_cong_dan)")]
    row = dict(zip(cols, src.execute("select * from tiep_cong_dan where id=?", (victim,)).fetchone()))
    row.update(id=10_000_000, trang_thai="CHINH_THUC", ngay_cap_nhat=wm[:19])
    src.execute(f"insert into tiep_cong_dan ({','.join(cols)}) values ({','.join('?' * len(cols))})",
                [row[c] for c in cols])
    src.commit()
    src.close()
    again = district_db.ingest_district(warehouse, "001", url)
    assert sum(b["rows"] for b in again) == 2
    assert district_db.ingest_district(warehouse, "001", url) == []


def test_district_missing_database_or_table_is_a_clear_error(warehouse, tmp_path):
    with pytest.raises(FileNotFoundError, match="district database for 002"):
        district_db.ingest_district(warehouse, "002", f"sqlite:///{tmp_path / 'nope.sqlite'}")
    empty = tmp_path / "003.sqlite"
    sqlite3.connect(empty).execute("create table other (x)").connection.commit()
    with pytest.raises(sa.exc.NoSuchTableError):
        district_db.ingest_district(warehouse, "003", f"sqlite:///{empty}")


def test_city_feed_lands_every_version_once(warehouse, small_sources, city_server):
    url, token = city_server
    batches = city_service.ingest(warehouse, base_url=url, token=token)
    store = sqlite3.connect(small_sources / "city_service" / "city.sqlite")
    versions = sum(store.execute(f"select count(*) from {t}").fetchone()[0]
                   for t in ("receptions", "petitions", "cases"))
    assert {b["logical_key"] for b in batches} == {"receptions", "petitions", "cases"}
    assert sum(b["rows"] for b in batches) == _count(warehouse, source_kind="city_service") > 0
    assert _count(warehouse, source_kind="city_service") == versions   # every version, once
    assert city_service.ingest(warehouse, base_url=url, token=token) == []   # watermark: nothing new


def test_city_wrong_token_is_refused_with_a_reason(warehouse, city_server):
    url, _ = city_server
    with pytest.raises(city_service.CityServiceError, match="refused the token"):
        city_service.ingest(warehouse, base_url=url, token="wrong")


def test_city_transient_errors_are_retried(monkeypatch):
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] < 3:
            return httpx.Response(503, json={"error": "busy"})
        return httpx.Response(200, json={"items": [], "total_pages": 0})

    monkeypatch.setattr(city_service._get_page.retry, "wait", lambda *_: 0)
    with httpx.Client(transport=httpx.MockTransport(handler), base_url="http://city") as client:
        assert list(city_service.fetch(client, "receptions", None, 10)) == []
    assert calls["n"] == 3


def test_city_invalid_json_is_a_clear_error():
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=b"<html>oops"))
    with httpx.Client(transport=transport, base_url="http://city") as client:
        with pytest.raises(city_service.CityServiceError, match="invalid JSON"):
            list(city_service.fetch(client, "receptions", None, 10))
