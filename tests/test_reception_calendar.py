"""The head's published reception calendar (lịch tiếp công dân): Biểu 01/TCD columns 10
and 16 of TT 06/2025 from source to report.

- each source kind lands its optional calendar (register sheet, district table, city
  resource), and a source without it loads as before;
- bad values are quarantined with a rule code and a reason: an unreadable date, an
  unknown receiver, a day outside the unit's validity; a day listed twice counts once;
- the form on hand-computed data placed by reports.levels (the code path the pipeline
  uses): days in person / delegated, a district row counts the district head's days
  only, a month the calendar does not cover leaves the row's cells empty with a note,
  and the total; lineage traces every counted day to its calendar row.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from connectors import city_service, commune_registers, district_db
from core import settings
from core.periods import custom
from reports.formdef import check_contributions, check_identities, load_form, row_notes
from tests.test_commune_registers import ROWS, write_register
from transforms.consolidate import consolidate
from warehouse.schema import dq_quarantine, fact_reception, fact_reception_calendar, raw_record

D = dt.date
FORM = load_form("reports/forms/tcd01_tt06_2025.yaml")


def _raw(engine, record_type="calendar"):
    with engine.connect() as c:
        return c.execute(sa.select(raw_record).where(raw_record.c.record_type == record_type)).mappings().all()


def _facts(engine):
    with engine.connect() as c:
        return pd.read_sql(sa.select(fact_reception_calendar), c)


def _quarantine(engine):
    with engine.connect() as c:
        return c.execute(sa.select(dq_quarantine).where(dq_quarantine.c.record_type == "calendar")).mappings().all()


# ------------------------------------------------------------------ commune registers

def add_calendar_sheet(path, rows, title="Lịch tiếp công dân"):
    wb = openpyxl.load_workbook(path)
    ws = wb.create_sheet(title)
    ws.append(["LỊCH TIẾP CÔNG DÂN CỦA CHỦ TỊCH UBND NĂM 2024"])
    ws.append(["STT", "Ngày", "Người tiếp", "Ghi chú"])
    for r in rows:
        ws.append(r)
    wb.save(path)


@pytest.fixture()
def inbox(tmp_path):
    d = tmp_path / "inbox"
    d.mkdir()
    return d


@pytest.mark.integration   # the committed GX suites (consolidation)
def test_register_with_and_without_the_calendar_sheet(warehouse, inbox):
    without = inbox / "00004_truc-bach_2024.xlsx"
    write_register(without, ROWS)
    with_cal = inbox / "00001_phuc-xa_2024.xlsx"
    write_register(with_cal, ROWS)
    add_calendar_sheet(with_cal, [[1, "04/03/2024", "Trực tiếp", None], [2, dt.datetime(2024, 3, 11), "Ủy quyền", None],
                                  [3, "18/03/2024", "Trực tiếp", "họp"]])
    batches = {b["logical_key"]: b for b in commune_registers.ingest(warehouse, settings.get(), inbox=inbox)}
    assert {k: b["status"] for k, b in batches.items()} == {without.stem: "loaded", with_cal.stem: "loaded"}
    assert batches[without.stem]["rows"] == 2 and batches[with_cal.stem]["rows"] == 5
    raw = _raw(warehouse)
    assert {r["source_name"] for r in raw} == {"00001"}
    assert sorted((r["source_file"], r["source_row"]) for r in raw) == [
        (f"{with_cal.name}#Lịch tiếp công dân", n) for n in (3, 4, 5)]
    assert json.loads(raw[0]["payload"])["nguoi_tiep"] == "Trực tiếp"
    consolidate(warehouse, "commune_register", settings.get())
    facts = _facts(warehouse).sort_values("announced_date")
    assert list(facts["announced_date"].astype(str)) == ["2024-03-04", "2024-03-11", "2024-03-18"]
    assert list(facts["receiver"]) == ["thu_truong", "uy_quyen", "thu_truong"]
    assert set(facts["unit_key"]) == {"legacy:00001"} and facts["raw_id"].notna().all()
    with warehouse.connect() as c:       # the receptions of both books are published as before
        assert c.execute(sa.select(sa.func.count()).select_from(fact_reception)).scalar_one() == 4


@pytest.mark.integration   # the committed GX suites (consolidation)
def test_register_calendar_bad_values_are_quarantined(warehouse, inbox):
    book = inbox / "00001_phuc-xa_2024.xlsx"
    write_register(book, ROWS)
    add_calendar_sheet(book, [
        [1, "04/03/2024", "Trực tiếp", None],
        [2, "31/02/2024", "Trực tiếp", None],          # no such day
        [3, "05/03/2024", "Cán bộ tiếp công dân", None],  # staff do not hold the head's days
        [4, "04/03/2024", "Trực tiếp", None],          # listed twice: one day
        [5, "06/03/2023", "Ủy quyền", None],           # not the book's year
    ])
    commune_registers.ingest(warehouse, settings.get(), inbox=inbox)
    consolidate(warehouse, "commune_register", settings.get())
    q = {r["source_row"]: r for r in _quarantine(warehouse)}
    assert q[4]["reason_code"] == "DATE_INVALID"
    assert q[5]["reason_code"] == "CODE_NOT_IN_DOMAIN" and "Người tiếp" in q[5]["reason"] \
        and "truc tiep" in q[5]["reason"]
    assert q[6]["reason_code"] == "DUPLICATE" and "chỉ tính một lần" in q[6]["reason"]
    assert q[7]["reason_code"] == "DATE_OUTSIDE_FILE_YEAR"
    assert set(q) == {4, 5, 6, 7}
    assert list(_facts(warehouse)["announced_date"].astype(str)) == ["2024-03-04"]


# ------------------------------------------------------------------ district databases

def _district_db(path, calendar_rows=None):
    """A district database of the contract with one reception, and the optional
    calendar table when `calendar_rows` is given."""
    from simulators.district_db import SCHEMA

    con = sqlite3.connect(path)
    con.executescript(SCHEMA)
    if calendar_rows is not None:
        con.execute("CREATE TABLE lich_tiep_cong_dan (id INTEGER PRIMARY KEY, ma_don_vi TEXT, ngay TEXT, "
                    "hinh_thuc TEXT, ngay_cap_nhat TIMESTAMP)")
        con.executemany("INSERT INTO lich_tiep_cong_dan VALUES (?,?,?,?,?)", calendar_rows)
    con.commit()
    con.close()
    return f"sqlite:///{path}"


@pytest.mark.integration   # the committed GX suites (consolidation)
def test_district_with_and_without_the_calendar_table(warehouse, tmp_path):
    without = _district_db(tmp_path / "002.sqlite")
    assert district_db.ingest_district(warehouse, "002", without, settings.get()) == []     # empty tables, no calendar: nothing
    url = _district_db(tmp_path / "001.sqlite", [
        (1, "001", "2024-12-06", "THU_TRUONG", "2024-11-25 09:00:00"),
        (2, "001", "2024-12-20", "UY_QUYEN", "2024-11-25 09:00:00"),
    ])
    batches = district_db.ingest_district(warehouse, "001", url, settings.get())
    assert [(b["logical_key"], b["rows"], b["status"]) for b in batches] == [("lich_tiep_cong_dan", 2, "loaded")]
    assert district_db.ingest_district(warehouse, "001", url, settings.get()) == []        # incremental: nothing new
    con = sqlite3.connect(tmp_path / "001.sqlite")
    con.execute("INSERT INTO lich_tiep_cong_dan VALUES (3, '001', '2025-01-03', 'THU_TRUONG', '2024-12-20 09:00:00')")
    con.execute("UPDATE lich_tiep_cong_dan SET hinh_thuc='THU_TRUONG', ngay_cap_nhat='2024-12-01 08:00:00' WHERE id=2")
    con.commit()
    con.close()
    again = district_db.ingest_district(warehouse, "001", url, settings.get())
    assert [(b["logical_key"], b["rows"]) for b in again] == [("lich_tiep_cong_dan", 2)]
    consolidate(warehouse, "district_db", settings.get())
    facts = _facts(warehouse).sort_values("announced_date")      # the latest version of each day
    assert list(zip(facts["announced_date"].astype(str), facts["receiver"])) == [
        ("2024-12-06", "thu_truong"), ("2024-12-20", "thu_truong"), ("2025-01-03", "thu_truong")]
    assert set(facts["unit_key"]) == {"legacy:001"}


@pytest.mark.integration   # the committed GX suites (consolidation)
def test_district_calendar_day_outside_the_units_validity_is_quarantined(warehouse, tmp_path):
    url = _district_db(tmp_path / "001.sqlite", [
        (1, "001", "2025-06-20", "THU_TRUONG", "2024-12-20 09:00:00"),
        (2, "001", "2025-07-04", "THU_TRUONG", "2024-12-20 09:00:00"),   # the district ended on 30/06/2025
        (3, "001", "2025-06-27", "PHO_CHU_TICH", "2024-12-20 09:00:00"),  # not a receiver value
    ])
    district_db.ingest_district(warehouse, "001", url, settings.get())
    consolidate(warehouse, "district_db", settings.get())
    q = {r["record_id"]: r for r in _quarantine(warehouse)}
    assert q["2"]["reason_code"] == "UNIT_NOT_VALID_ON_DATE" and "04/07/2025" in q["2"]["reason"]
    assert q["3"]["reason_code"] == "CODE_NOT_IN_DOMAIN" and "hinh_thuc" in q["3"]["reason"]
    assert list(_facts(warehouse)["record_id"]) == ["1"]


# ------------------------------------------------------------------ the city service

@pytest.mark.integration   # the city service over HTTP
def test_city_with_and_without_the_calendar_resource(warehouse, small_sources, tmp_path):
    import os

    from simulators.city_server import serve_in_thread

    token = os.environ["TCD_CITY_API_TOKEN"]
    store = tmp_path / "city.sqlite"
    shutil.copy(small_sources / "city_service" / "city.sqlite", store)
    con = sqlite3.connect(store)
    days = con.execute("SELECT COUNT(*) FROM reception_calendar").fetchone()[0]
    url, stop = serve_in_thread(store, token, port=0)
    try:
        batches = city_service.ingest(warehouse, settings.get(), base_url=url, token=token, resources=["reception-calendar"])
    finally:
        stop()
    assert [(b["logical_key"], b["status"], b["rows"]) for b in batches] == [("reception-calendar", "loaded", days)]
    assert days >= 12                            # the province head: at least one day a month
    consolidate(warehouse, "city_service", settings.get())
    facts = _facts(warehouse)
    assert len(facts) == days and set(facts["unit_key"]) == {"province:01"}
    assert set(facts["receiver"]) == {"thu_truong", "uy_quyen"}

    # A service without calendars answers 404 for the resource: nothing, no batch.
    con.execute("DROP TABLE reception_calendar")
    con.commit()
    con.close()
    url, stop = serve_in_thread(store, token, port=0)
    try:
        assert httpx_get(url, token, "reception-calendar") == 404
        assert city_service.ingest(warehouse, settings.get(), base_url=url, token=token, resources=["reception-calendar"]) == []
    finally:
        stop()


def httpx_get(url, token, resource):
    import httpx

    return httpx.get(f"{url}/api/v1/{resource}", headers={"Authorization": f"Bearer {token}"}).status_code


@pytest.mark.integration   # the committed GX suites (consolidation)
def test_city_calendar_bad_values_are_quarantined(warehouse):
    import httpx

    items = [
        {"id": "L1", "version": 1, "updated_at": "2024-11-25T09:00:00+07:00", "status": "official",
         "unit_code": "01", "announced_on": "2025-01-09", "receiver": "head"},
        {"id": "L2", "version": 1, "updated_at": "2024-11-25T09:00:00+07:00", "status": "official",
         "unit_code": "01", "announced_on": "2025-13-09", "receiver": "head"},
        {"id": "L3", "version": 1, "updated_at": "2024-11-25T09:00:00+07:00", "status": "official",
         "unit_code": "01", "announced_on": "2025-01-23", "receiver": "staff"},
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": items, "total_pages": 1, "total_items": 3})

    client = httpx.Client(transport=httpx.MockTransport(handler), base_url="http://city")
    batch = city_service.Batch("city_service", "city", "reception-calendar", "mock")
    found, _ = city_service._read_resource(client, "reception-calendar", None, 500, city_service.AccessPolicy(),
                                          batch, set(), b"k" * 32)
    with warehouse.begin() as c:
        batch.write(c)
    consolidate(warehouse, "city_service", settings.get())
    q = {r["record_id"]: r["reason_code"] for r in _quarantine(warehouse)}
    assert q == {"L2": "DATE_INVALID", "L3": "CODE_NOT_IN_DOMAIN"}
    assert list(_facts(warehouse)["record_id"]) == ["L1"]


# ------------------------------------------------------------------ the form, through reports.levels

def _units():
    from warehouse.units import unit_frame

    return unit_frame(settings.get())


def cal(key, unit, on, receiver, raw_id):
    return {"calendar_key": key, "unit_code": unit.split(":")[1], "unit_key": unit, "announced_date": on,
            "receiver": receiver, "source_kind": "district_db", "source_name": "x", "record_id": key,
            "raw_id": raw_id, "batch_id": "b1", "source_file": "lich_tiep_cong_dan", "source_row": None}


def reception(key, unit, on, mode, receiver):
    r = {c.name: None for c in fact_reception.columns}
    r.update({"reception_key": key, "unit_code": unit.split(":")[1], "unit_key": unit, "received_date": on,
              "mode": mode, "receiver": receiver, "sitting_key": f"{unit}:{on}" if mode != "thuong_xuyen" else None,
              "people": 1, "is_group": False, "petition_kind": "KN", "case_key": f"{key}-case", "visit": "lan_dau",
              "source_kind": "district_db", "source_name": "x", "record_id": key, "raw_id": int(key[1:]),
              "batch_id": "b1"})
    return r


# District 001 (Ba Đình) and its commune 00004 (Trúc Bạch), 2025-Q1 (15/12/2024–14/03/2025:
# months 12/2024, 1, 2, 3/2025). The district's calendar covers every month; the commune's
# lacks February 2025.
WINDOW = custom(D(2024, 12, 15), D(2025, 3, 14))
DISTRICT, COMMUNE = "legacy:001", "legacy:00004"
CALENDAR = pd.DataFrame([
    cal("k01", DISTRICT, D(2024, 12, 6), "thu_truong", 1),      # before the window: covers 12/2024 only
    cal("k02", DISTRICT, D(2024, 12, 20), "uy_quyen", 2),
    cal("k03", DISTRICT, D(2025, 1, 3), "thu_truong", 3),
    cal("k04", DISTRICT, D(2025, 1, 17), "thu_truong", 4),
    cal("k05", DISTRICT, D(2025, 1, 17), "thu_truong", 5),      # listed twice: one day
    cal("k06", DISTRICT, D(2025, 2, 7), "thu_truong", 6),
    cal("k07", DISTRICT, D(2025, 2, 21), "uy_quyen", 7),
    cal("k08", DISTRICT, D(2025, 3, 7), "thu_truong", 8),
    cal("k09", DISTRICT, D(2025, 3, 21), "thu_truong", 9),      # after the window: covers 3/2025
    cal("k10", COMMUNE, D(2024, 12, 17), "thu_truong", 10),
    cal("k11", COMMUNE, D(2025, 1, 7), "uy_quyen", 11),
    cal("k12", COMMUNE, D(2025, 3, 4), "thu_truong", 12),
])
RECEPTIONS = pd.DataFrame([
    reception("r1", DISTRICT, D(2025, 1, 3), "dinh_ky", "thu_truong"),
    reception("r2", COMMUNE, D(2025, 1, 7), "dinh_ky", "uy_quyen"),
    reception("r3", COMMUNE, D(2025, 2, 11), "thuong_xuyen", "can_bo"),
])


def _report(tmp_path, scope_kind, calendar=CALENDAR):
    """scope_report as the pipeline calls it; the district's other communes sent nothing
    (not reported: their cells are empty anyway)."""
    from reports import levels
    from reports.formdef import RowStatus

    units = _units()
    scope = levels.scope_for(units, DISTRICT, scope_kind)
    rows, placed = levels.build_rows(scope, WINDOW, FORM.select(RECEPTIONS, WINDOW), units, preselected=True)
    status = {r.row_id: RowStatus(False, 1, 1) for r in rows
              if r.kind != "total" and r.row_id not in (DISTRICT, COMMUNE)}
    path = tmp_path / f"{scope_kind}.xlsx"
    return levels.scope_report("01/TCD", scope, WINDOW, placed, units, path, form=FORM, lineage=True, rows=rows,
                               row_status=status,
                               source_frames=None if calendar is None else {"fact_reception_calendar": calendar})


def test_district_report_days_in_person_and_delegated(tmp_path):
    """The district's consolidated report: its communes' rows and its own row. The
    district row counts the district head's days (in person 4: 3/1, 17/1 listed twice,
    7/2, 7/3; delegated 2: 20/12, 21/2); the commune misses 02/2025, so its cells are
    empty with a note, and so is the total."""
    rep = _report(tmp_path, "consolidated")
    t = rep.table
    own = t.loc[DISTRICT]
    assert (own[10], own[16]) == (4, 2)
    assert own[11] == 1 and own[17] == 0                    # the receptions as before
    assert pd.isna(t.loc[COMMUNE, 10]) and pd.isna(t.loc[COMMUNE, 16])
    assert t.loc[COMMUNE, 17] == 1
    assert pd.isna(t.loc["total", 10]) and pd.isna(t.loc["total", 16])
    assert t.loc["total", 1] == 3
    notes = dict(row_notes(FORM, t))
    assert "Cột (10), (16): Phường Trúc Bạch chưa gửi lịch tiếp công dân của tháng 02/2025" in notes["Phường Trúc Bạch"]
    assert "Cột (10), (16): không cộng được vì có dòng để trống" in notes["Tổng cộng"]
    assert check_identities(FORM, t) == []
    # The workbook shows the empty cells as empty and the notes on line 22.
    ws = openpyxl.load_workbook(rep.path).worksheets[0]
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert any("chưa gửi lịch tiếp công dân của tháng 02/2025" in x for x in texts)
    # Lineage: each counted day traced to its calendar row; the commune's days, behind an
    # empty cell, are not listed.
    from reports.lineage import cell_sources

    days = cell_sources(rep.lineage_path, DISTRICT, 10, form=FORM)
    assert days.attrs["accounted"] == 4
    assert sorted(days["record_id"]) == ["k03", "k04", "k05", "k06", "k08"]
    assert sorted(cell_sources(rep.lineage_path, DISTRICT, 16, form=FORM)["record_id"]) == ["k02", "k07"]
    behind_empty = cell_sources(rep.lineage_path, COMMUNE, 16, form=FORM)   # nothing behind an empty cell
    assert behind_empty.attrs["accounted"] == 0 and behind_empty.empty


def test_commune_covered_gives_the_total(tmp_path):
    """With the commune's February sent, every row is available: the total is the sum
    of the district head's and the commune head's days."""
    full = pd.concat([CALENDAR, pd.DataFrame([cal("k13", COMMUNE, D(2025, 2, 18), "thu_truong", 13)])],
                     ignore_index=True)
    t = _report(tmp_path, "consolidated", full).table
    assert (t.loc[COMMUNE, 10], t.loc[COMMUNE, 16]) == (3, 1)      # 17/12, 18/2, 4/3 in person; 7/1 delegated
    assert (t.loc["total", 10], t.loc["total", 16]) == (4 + 3, 2 + 1)
    assert not any("lịch tiếp" in n for _, n in row_notes(FORM, t))


def test_city_report_district_row_is_the_district_heads_days(tmp_path):
    """In the city's report the district row gathers its communes' receptions (11–21)
    but "Số ngày tiếp" is the district head's own (rows: own_unit)."""
    from reports import levels

    units = _units()
    scope = levels.scope_for(units, "province:01", "consolidated")
    full = pd.concat([CALENDAR, pd.DataFrame([cal("k13", COMMUNE, D(2025, 2, 18), "thu_truong", 13)])],
                     ignore_index=True)
    rows, placed = levels.build_rows(scope, WINDOW, FORM.select(RECEPTIONS, WINDOW), units, preselected=True)
    inputs = levels.source_inputs(FORM, scope, WINDOW, rows, {"fact_reception_calendar": full}, units)
    days = inputs["lich_tiep"].records
    assert set(days.loc[days["row_id"] == DISTRICT, "unit_key"]) == {DISTRICT}    # no commune day on it
    from reports.formdef import compute

    t = compute(FORM, levels.count_per_unit(FORM, placed), rows, period=WINDOW, sources=inputs)
    assert (t.loc[DISTRICT, 10], t.loc[DISTRICT, 16]) == (4, 2)
    assert t.loc[DISTRICT, 11] + t.loc[DISTRICT, 17] == 2                           # district + commune
    # The city itself sent no calendar here: its own row is empty with a note.
    assert pd.isna(t.loc["province:01", 10])
    assert "Thành phố Hà Nội chưa gửi lịch tiếp công dân của tháng 12/2024, 01/2025, 02/2025, 03/2025" in \
        t.loc["province:01", "note"]


def test_no_calendar_data_at_all(tmp_path):
    t = _report(tmp_path, "own", calendar=None).table
    assert pd.isna(t.loc[DISTRICT, 10]) and pd.isna(t.loc["total", 16])
    assert "chưa có dữ liệu lịch tiếp công dân" in t.loc["total", "note"]
    assert t.loc[DISTRICT, 11] == 1


def test_lineage_accounts_for_the_days(tmp_path):
    from reports import levels
    from reports.formdef import contributions, source_contributions

    units = _units()
    scope = levels.scope_for(units, DISTRICT, "own")
    rows, placed = levels.build_rows(scope, WINDOW, FORM.select(RECEPTIONS, WINDOW), units, preselected=True)
    inputs = levels.source_inputs(FORM, scope, WINDOW, rows, {"fact_reception_calendar": CALENDAR}, units)
    from reports.formdef import compute

    counted = levels.count_per_unit(FORM, placed)
    t = compute(FORM, counted, rows, period=WINDOW, sources=inputs)
    parts = [(counted, contributions(FORM, counted, rows, WINDOW)),
             *source_contributions(FORM, inputs, rows, WINDOW)]
    contrib = pd.concat([p[1] for p in parts], ignore_index=True)
    assert check_contributions(FORM, t, contrib) == []
    broken = t.copy()
    broken.loc[DISTRICT, 10] = 5
    assert any("cột 10" in p for p in check_contributions(FORM, broken, contrib))
