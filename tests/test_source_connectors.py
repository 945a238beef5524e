"""District-database and city-service connectors against the real simulated systems:
SQLite database files and an HTTP server on localhost."""
from __future__ import annotations

import shutil
import sqlite3
import time

import httpx
import pytest
import sqlalchemy as sa

from connectors import city_service, district_db
from core import settings
from warehouse.schema import raw_record, raw_watermark


def _count(engine, **where):
    q = sa.select(sa.func.count()).select_from(raw_record)
    for k, v in where.items():
        q = q.where(raw_record.c[k] == v)
    with engine.connect() as c:
        return c.execute(q).scalar_one()


@pytest.mark.integration   # small_sources: generated with the whole city service
def test_district_incremental_by_watermark(warehouse, small_sources, tmp_path):
    db = tmp_path / "001.sqlite"
    shutil.copy(small_sources / "district_db" / "001.sqlite", db)
    url = f"sqlite:///{db}"
    first = district_db.ingest_district(warehouse, "001", url, settings.get())
    src = sqlite3.connect(db)
    n_src = sum(src.execute(f"select count(*) from {t}").fetchone()[0]
                for t in {**district_db.TABLES, **district_db.OPTIONAL_TABLES})
    assert sum(b["rows"] for b in first) == n_src == _count(warehouse, source_kind="district_db")
    assert district_db.ingest_district(warehouse, "001", url, settings.get()) == []        # nothing new: no rows, no batch

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
    again = district_db.ingest_district(warehouse, "001", url, settings.get())
    assert sum(b["rows"] for b in again) == 2
    assert district_db.ingest_district(warehouse, "001", url, settings.get()) == []


FAST_DB = district_db.AccessPolicy(lock_timeout_seconds=0.2, retry_attempts=2, retry_max_wait_seconds=0)
# The service runs in a thread of the test process, so a 1,000-record page can take most
# of a second while the client works: the timeout must stay well above that, and the
# "timeout" fault (FaultyCity.delay) well above the timeout.
FAST_CITY = city_service.AccessPolicy(timeout_seconds=2.0, retry_attempts=2, retry_max_wait_seconds=0)


def test_district_missing_database_or_table_is_recorded_not_raised(warehouse, tmp_path):
    nope = f"sqlite:///{tmp_path / 'nope.sqlite'}"
    missing = district_db.ingest_district(warehouse, "002", nope, settings.get(), policy=FAST_DB)
    assert [(b["logical_key"], b["status"], b["reason_code"]) for b in missing] == [
        (t, "failed", "SOURCE_UNREACHABLE") for t in district_db.TABLES]
    assert all("không tìm thấy tệp cơ sở dữ liệu huyện 002 (nope.sqlite)" in b["message"] for b in missing)
    empty = tmp_path / "003.sqlite"
    sqlite3.connect(empty).execute("create table other (x)").connection.commit()
    no_tables = district_db.ingest_district(warehouse, "003", f"sqlite:///{empty}", settings.get(), policy=FAST_DB)
    assert [(b["status"], b["reason_code"]) for b in no_tables] == [("rejected", "SOURCE_STRUCTURE")] * 3
    assert "không có bảng 'tiep_cong_dan'" in no_tables[0]["message"]
    assert _count(warehouse) == 0
    with warehouse.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(raw_watermark)).scalar_one() == 0


@pytest.mark.integration   # the city service over HTTP
def test_city_feed_lands_every_version_once(warehouse, small_sources, city_server):
    url, token = city_server
    batches = city_service.ingest(warehouse, settings.get(), base_url=url, token=token)
    store = sqlite3.connect(small_sources / "city_service" / "city.sqlite")
    versions = sum(store.execute(f"select count(*) from {t}").fetchone()[0]
                   for t in ("receptions", "petitions", "cases", "reception_calendar"))
    assert {b["logical_key"] for b in batches} == {"receptions", "petitions", "cases", "reception-calendar"}
    assert sum(b["rows"] for b in batches) == _count(warehouse, source_kind="city_service") > 0
    assert _count(warehouse, source_kind="city_service") == versions   # every version, once
    assert city_service.ingest(warehouse, settings.get(), base_url=url, token=token) == []   # watermark: nothing new


@pytest.mark.integration   # the city service over HTTP
def test_city_wrong_token_is_recorded_with_a_reason(warehouse, city_server):
    url, _ = city_server
    batches = city_service.ingest(warehouse, settings.get(), base_url=url, token="wrong", policy=FAST_CITY)
    assert [(b["logical_key"], b["status"], b["reason_code"]) for b in batches] == [
        (r, "failed", "SOURCE_UNREACHABLE") for r in ("receptions", "petitions", "cases", "reception-calendar")]
    assert all("từ chối mã truy cập" in b["message"] and "HTTP 401" in b["message"] for b in batches)
    assert _count(warehouse) == 0


def test_city_transient_errors_are_retried():
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] < 3:
            return httpx.Response(503, json={"error": "busy"})
        return httpx.Response(200, json={"items": [], "total_pages": 0})

    policy = city_service.AccessPolicy(timeout_seconds=1, retry_attempts=3, retry_max_wait_seconds=0)
    with httpx.Client(transport=httpx.MockTransport(handler), base_url="http://city") as client:
        assert list(city_service.fetch(client, "receptions", None, 10, policy)) == []
    assert calls["n"] == 3


def test_city_pages_are_read_one_ahead_in_order_and_none_is_left_running():
    asked: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        asked.append(page)
        return httpx.Response(200, json={"items": [{"page": page}], "total_pages": 3})

    with httpx.Client(transport=httpx.MockTransport(handler), base_url="http://city") as client:
        pages = city_service.fetch_pages(client, "receptions", None, 1, FAST_CITY)
        assert next(pages)["items"] == [{"page": 1}]
        deadline = time.monotonic() + 5
        while len(asked) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert asked == [1, 2]          # page 2 asked for while the caller still works on page 1
        assert [body["items"][0]["page"] for body in pages] == [2, 3]
        assert asked == [1, 2, 3]       # the last page announces no fourth: none asked for
        asked.clear()
        early = city_service.fetch_pages(client, "receptions", None, 1, FAST_CITY)
        next(early)
        early.close()                   # a caller that stops: the request ahead is finished or cancelled
        settled = list(asked)
        time.sleep(0.1)
        assert asked == settled and settled[0] == 1 and set(settled) <= {1, 2}


def test_city_invalid_json_is_a_clear_error():
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=b"<html>oops"))
    with httpx.Client(transport=transport, base_url="http://city") as client:
        with pytest.raises(city_service.CityServiceError, match="không phải JSON hợp lệ") as err:
            list(city_service.fetch(client, "receptions", None, 10, FAST_CITY))
    assert (err.value.status, err.value.code) == ("rejected", "SOURCE_STRUCTURE")


# ------------------------------------------------------------------ fault injection
class FaultyCity:
    """A real HTTP server on localhost in front of the simulated city service (which
    tests may not change): it forwards each request and breaks the answers of the
    resources named in `faults` — {resource: fault}:

    ``http500`` every request answers 500; ``timeout`` answers after `delay` seconds;
    ``bad_json`` a truncated JSON body; ``no_items`` the page's list renamed; ``missing_fields``
    page 1 loses unit_code from one item and id / version / updated_at from three others;
    ``repeat_page`` page 1 is served again as page 2 and every later page one place on
    (total_pages + 1: nothing is lost); ``lost_page`` page 1 is served again as page 2
    and the real page 2 never comes.
    """

    def __init__(self, upstream: str, faults: dict[str, str], delay: float = 5.0):
        import http.server
        import threading

        self.upstream, self.faults, self.delay, self.hits = upstream, faults, delay, {}
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                try:
                    owner._handle(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass        # the client gave up (timeout): nothing to answer

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="faulty-city")
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def _upstream(self, path: str, params: dict, auth: str) -> dict:
        r = httpx.get(f"{self.upstream}{path}", params=params, headers={"Authorization": auth}, timeout=10)
        r.raise_for_status()
        return r.json()

    def _handle(self, h) -> None:
        import json
        import time
        from urllib.parse import parse_qsl, urlsplit

        u = urlsplit(h.path)
        params = dict(parse_qsl(u.query))
        resource = u.path.rsplit("/", 1)[-1]
        fault = self.faults.get(resource)
        self.hits[resource] = self.hits.get(resource, 0) + 1
        page = int(params.get("page", 1))

        def send(status: int, body: bytes) -> None:
            h.send_response(status)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)

        if fault == "http500":
            return send(500, b'{"error": "internal_error"}')
        if fault == "timeout":
            time.sleep(self.delay)
            return send(200, b'{"items": [], "total_pages": 0}')
        if fault == "bad_json":
            return send(200, b'{"resource": "' + resource.encode() + b'", "items": [{"id": "TCD-01')
        if fault in ("repeat_page", "lost_page") and page >= 2:
            params["page"] = str(page - 1)
        body = self._upstream(u.path, params, h.headers.get("Authorization", ""))
        if fault == "repeat_page":
            body["total_pages"] += 1
        elif fault == "no_items":
            body["records"] = body.pop("items")
        elif fault == "missing_fields" and page == 1:
            items = body["items"]
            items[0].pop("unit_code")
            for item, f in zip(items[1:4], ("id", "version", "updated_at")):
                item.pop(f)
        send(200, json.dumps(body).encode())


@pytest.mark.integration   # small_sources: generated with the whole city service
def test_district_impossible_date_lands_as_stored(warehouse, small_sources, tmp_path):
    """A value SQLAlchemy cannot convert (a DATE column holding '2023-02-31') lands as it is,
    to be quarantined by the mapping (DATE_INVALID); it does not stop the table."""
    import json

    db = tmp_path / "001.sqlite"
    shutil.copy(small_sources / "district_db" / "001.sqlite", db)
    src = sqlite3.connect(db)
    victim = src.execute("select id from tiep_cong_dan limit 1").fetchone()[0]
    src.execute("update tiep_cong_dan set ngay_tiep='2023-02-31' where id=?", (victim,))
    src.commit()
    n = src.execute("select count(*) from tiep_cong_dan").fetchone()[0]
    src.close()
    batches = {b["logical_key"]: b for b in district_db.ingest_district(warehouse, "001", f"sqlite:///{db}", settings.get())}
    assert batches["tiep_cong_dan"]["status"] == "loaded" and batches["tiep_cong_dan"]["rows"] == n
    with warehouse.connect() as c:
        payload = c.execute(sa.select(raw_record.c.payload).where(raw_record.c.record_id == str(victim),
                                                                  raw_record.c.source_file == "tiep_cong_dan")
                            ).scalar_one()
    assert json.loads(payload)["ngay_tiep"] == "2023-02-31"


# ------------------------------------------------------------------ processing and decisions
PROGRESS = ("processed_date", "accepted_date", "resolved_date", "resolution_round", "outcome", "on_time",
            "recover_money", "recover_land", "return_org_money", "return_org_land", "return_person_money",
            "return_person_land", "orgs_restored", "persons_restored", "sanction_people", "sanction_officials",
            "prosecuted_cases", "prosecuted_people", "prosecuted_officials",
            # execution of the decision (02/KQGQ, 04/KQGQ)
            "executed_date", "collected_money", "collected_land", "returned_org_money", "returned_org_land",
            "returned_person_money", "returned_person_land", "sanctioned_people", "sanctioned_officials",
            "prosecuted_done_cases", "prosecuted_done_people", "prosecuted_done_officials")
DECISION_NUMBERS = PROGRESS[6:19]
EXECUTED = dict(zip(PROGRESS[20:], PROGRESS[6:12] + PROGRESS[14:19]))   # done field → ordered field


@pytest.fixture(scope="module")
def decisions_warehouse(tmp_path_factory):
    """A year of district 001, its first three communes and the city, generated, landed
    by the three connectors (the city over HTTP) and consolidated."""
    import datetime as dt
    import os

    from connectors import commune_registers
    from simulators.city_server import serve_in_thread
    from simulators.generate import generate
    from transforms.consolidate import consolidate
    from warehouse import db, units

    root = tmp_path_factory.mktemp("decisions")
    src = root / "sources"
    generate(src, seed=42, start=dt.date(2021, 7, 1), end=dt.date(2022, 6, 30), districts=["001"],
             communes_per_district=3, workers=1)
    eng = db.engine(f"sqlite:///{root / 'warehouse.sqlite'}")
    units.load_dim_unit(eng, settings.get())
    commune_registers.ingest(eng, settings.get(), inbox=src / "commune_inbox")
    district_db.ingest_district(eng, "001", f"sqlite:///{src / 'district_db' / '001.sqlite'}", settings.get())
    token = os.environ["TCD_CITY_API_TOKEN"]
    url, stop = serve_in_thread(src / "city_service" / "city.sqlite", token, port=0)
    try:
        city_service.ingest(eng, settings.get(), base_url=url, token=token)
    finally:
        stop()
    for kind in ("commune_register", "district_db", "city_service"):
        consolidate(eng, kind, settings.get())
    return eng, src


@pytest.mark.integration   # decisions_warehouse: the city service over HTTP
def test_processing_and_decisions_land_from_every_source_as_the_truth_holds(decisions_warehouse):
    eng, src = decisions_warehouse
    gt = sqlite3.connect(src / "ground_truth.sqlite")
    gt.row_factory = sqlite3.Row
    truth = {}
    for r in gt.execute("SELECT * FROM gt_petition"):
        truth[(r["source_kind"], r["record_id"])] = dict(r)
    gt.close()
    with eng.connect() as c:
        facts = c.execute(sa.text(
            "SELECT f.*, r.source_file, r.source_row FROM fact_petition f JOIN raw_record r ON r.raw_id = f.raw_id")
        ).mappings().all()
    by_source = {}
    for f in facts:
        rid = f"{f['source_file']}:{f['source_row']}" if f["source_kind"] == "commune_register" else f["record_id"]
        t = truth.pop((f["source_kind"], rid))
        got = [f[c] for c in PROGRESS] + [f["resolution_status"]]
        want = [t[c] for c in PROGRESS] + [t["resolution"]]
        got = [v.isoformat() if hasattr(v, "isoformat") else v for v in got]
        got[PROGRESS.index("on_time")] = None if f["on_time"] is None else int(f["on_time"])
        assert got == want, (f["source_kind"], rid)
        s = by_source.setdefault(f["source_kind"], {"rows": 0, "processed": 0, "accepted": 0, "decided": 0,
                                                     "amounts": 0, "to_execute": 0, "executed": 0})
        s["rows"] += 1
        s["processed"] += f["processed_date"] is not None
        s["accepted"] += f["accepted_date"] is not None
        s["decided"] += f["outcome"] is not None
        s["amounts"] += any(f[c] for c in DECISION_NUMBERS)
        if f["collected_money"] is not None:            # a decision that orders something
            assert all(0 <= f[d] <= f[o] for d, o in EXECUTED.items()), (f["source_kind"], rid)
            s["to_execute"] += 1
            s["executed"] += f["executed_date"] is not None
    assert truth == {}, "every petition of the truth is published"
    assert set(by_source) == {"commune_register", "district_db", "city_service"}
    for kind, s in by_source.items():
        assert s["processed"] > s["rows"] / 2 and s["accepted"] and s["decided"], (kind, s)
    assert by_source["district_db"]["amounts"] and by_source["city_service"]["amounts"]
    for kind in ("district_db", "city_service"):
        s = by_source[kind]
        assert s["to_execute"] > s["executed"] > 0, (kind, s)


@pytest.mark.integration   # decisions_warehouse: the city service over HTTP
def test_a_database_without_the_new_columns_still_loads(warehouse, decisions_warehouse, tmp_path):
    """The processing columns are optional: an older don_thu without them lands, and
    its petitions have no processing or decision fields."""
    from transforms.consolidate import consolidate

    _, src = decisions_warehouse
    db = tmp_path / "001.sqlite"
    shutil.copy(src / "district_db" / "001.sqlite", db)
    con = sqlite3.connect(db)
    for col in district_db.OPTIONAL["don_thu"]:
        con.execute(f"ALTER TABLE don_thu DROP COLUMN {col}")
    con.commit()
    n = con.execute("SELECT COUNT(*) FROM don_thu").fetchone()[0]
    con.close()
    batches = {b["logical_key"]: b for b in district_db.ingest_district(warehouse, "001", f"sqlite:///{db}", settings.get())}
    assert batches["don_thu"]["status"] == "loaded" and batches["don_thu"]["rows"] == n
    consolidate(warehouse, "district_db", settings.get())
    with warehouse.connect() as c:
        counts = c.execute(sa.text("SELECT COUNT(*), COUNT(processed_date), COUNT(outcome), COUNT(resolved_date), "
                                   "COUNT(executed_date), COUNT(collected_money) FROM fact_petition")).one()
    assert counts[0] > 300 and tuple(counts[1:]) == (0, 0, 0, 0, 0)
