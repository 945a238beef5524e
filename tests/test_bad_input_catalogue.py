"""A catalogue of malformed input, each with its expected, recorded outcome.

Registers: every case is fed through the real connector and consolidation next to a
valid workbook: the defect is rejected (with the rule code and a message naming the
file) or quarantined with a reason naming what to fix, or read correctly; the valid rows
are all counted once.

District databases and the city service: every case is fed through the real connector
(SQLite files; the simulated HTTP service behind a fault-injecting proxy) and asserted at
the raw layer: the batch row of the broken table/resource (status, rule code, a message
naming it), nothing partial landed, its watermark unmoved; the other tables, resources
and districts landed in full; the connector returned normally.
"""
from __future__ import annotations

import resource
import shutil
import sqlite3
import time
from typing import NamedTuple

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from connectors import city_service, commune_registers, district_db
from core import settings
from simulators.legacy_encoding import encode
from tests.test_commune_registers import PETITION_HEADERS, RECEPTION_HEADERS, ROWS, write_register
from tests.test_source_connectors import FAST_CITY, FAST_DB, FaultyCity
from transforms.consolidate import consolidate
from warehouse.schema import dq_quarantine, fact_reception, raw_batch, raw_file_manifest, raw_record, raw_watermark

GOOD = "00004_truc-bach_2024"          # a valid workbook beside every defect: 2 receptions


def row(day="05/03/2024", people=1, **kw):
    r = [9, day, "Đỗ Văn Cường, xóm 3", "001085099999", "KNPA", people, "Thường xuyên",
         "Cán bộ tiếp công dân", "Lần đầu", "VV-9", ""]
    for i, v in kw.items():
        r[int(i[1:])] = v
    return r


def _empty(path):
    openpyxl.Workbook().save(path)


def _truncated(path):
    write_register(path, ROWS)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


class Case(NamedTuple):
    stem: str                       # file name without .xlsx
    write: object                   # path -> None
    status: str                     # raw_batch.status
    reason: str | None              # fragment of raw_batch.message
    published: int                  # receptions counted from this file
    codes: list                     # dq_quarantine reason codes from this file
    batch_code: str | None = None   # raw_batch.reason_code
    people: int | None = None       # people counted from this file, when it matters


def _merged(rows, merges):
    return lambda p: write_register(p, rows, merges=merges)


def _typed_in(encoding, *, template_unicode=False):
    """The same two receptions typed in a legacy font: the whole workbook (sheet names,
    title, headers, values), or only the values in a Unicode template."""
    rows = [row(x4="Khiếu nại"), row(day="06/03/2024", x9="VV-10", x6="Đột xuất", x7="Thủ trưởng",
                                      x8="Nhiều lần", x10="Công dân đến lần thứ hai")]
    if template_unicode:
        rows = [[encode(v, encoding) if isinstance(v, str) else v for v in r] for r in rows]
        return lambda p: write_register(p, rows)
    return lambda p: write_register(p, rows, legacy=encoding)


CASES = {
    "renamed date column": Case("00001_phuc-xa_2024", lambda p: write_register(
        p, ROWS, reception_headers=["STT", "Ngày"] + RECEPTION_HEADERS[2:]),
        "rejected", "Không tìm thấy dòng tiêu đề", 0, [], "COLUMNS_MISSING"),
    "missing required column": Case("00001_phuc-xa_2024", lambda p: write_register(
        p, [r[:8] for r in ROWS], reception_headers=RECEPTION_HEADERS[:8]),
        "rejected", "thiếu cột bắt buộc", 0, [], "COLUMNS_MISSING"),
    "header repeated inside the data": Case("00001_phuc-xa_2024", lambda p: write_register(
        p, [row(), RECEPTION_HEADERS, row(day="06/03/2024", x9="VV-10")]), "loaded", None, 2, []),
    "formula without a computed value": Case("00001_phuc-xa_2024", lambda p: write_register(
        p, [row(people="=1+1"), row(day="06/03/2024", x9="VV-10")]), "loaded", None, 1, ["NUMBER_INVALID"]),
    "dates as text in several formats": Case("00001_phuc-xa_2024", lambda p: write_register(
        p, [row(day="05/03/2024"), row(day="6-3-2024", x9="VV-10"), row(day="07.03.2024", x9="VV-11")]),
        "loaded", None, 3, []),
    "impossible date": Case("00001_phuc-xa_2024", lambda p: write_register(
        p, [row(day="31/02/2024"), row(day="06/03/2024", x9="VV-10")]), "loaded", None, 1, ["DATE_INVALID"]),
    "negative count": Case("00001_phuc-xa_2024", lambda p: write_register(
        p, [row(people=-2), row(day="06/03/2024", x9="VV-10")]), "loaded", None, 1, ["PEOPLE_OUT_OF_RANGE"]),
    "absurd count with a thousands separator": Case("00001_phuc-xa_2024", lambda p: write_register(
        p, [row(people="1.200"), row(day="06/03/2024", x9="VV-10")]), "loaded", None, 1, ["PEOPLE_OUT_OF_RANGE"]),
    "duplicated row": Case("00001_phuc-xa_2024", lambda p: write_register(
        p, [row(), row()]), "loaded", None, 1, ["DUPLICATE"]),
    "decomposed Unicode": Case("00001_phuc-xa_2024", lambda p: write_register(
        p, [row(), row(day="06/03/2024", x9="VV-10")], nfd=True), "loaded", None, 2, []),
    "unknown unit code": Case("99999_khong-ro_2024", lambda p: write_register(p, [row()]),
                              "loaded", None, 0, ["UNIT_NOT_VALID_ON_DATE"]),
    "legacy code dated after the reform": Case("00001_phuc-xa_2025", lambda p: write_register(
        p, [row(day="05/08/2025")]), "loaded", None, 0, ["UNIT_NOT_VALID_ON_DATE"]),
    "empty workbook": Case("00001_phuc-xa_2024", _empty, "rejected", "không có trang", 0, [], "SHEET_MISSING"),
    "truncated .xlsx": Case("00001_phuc-xa_2024", _truncated, "rejected", "không mở được", 0, [],
                            "FILE_NOT_READABLE"),
    "not a spreadsheet": Case("00001_phuc-xa_2024", lambda p: p.write_text("<html>", encoding="utf-8"),
                              "rejected", "không mở được", 0, [], "FILE_NOT_READABLE"),
    "file name not per convention": Case("phuc-xa-2024", lambda p: write_register(p, ROWS),
                                         "rejected", "Tên tệp 'phuc-xa-2024.xlsx'", 0, [], "FILE_NAME_INVALID"),
    # Merged cells in the data rows (docs/data-contracts.md §1): a value merged down
    # several rows belongs to each of them, except a count, which belongs to the first.
    "date merged down several rows": Case("00001_phuc-xa_2024", _merged(
        [row(), row(day=None, x9="VV-10"), row(day=None, x9="VV-11")], ["B5:B7"]),
        "loaded", "ô gộp", 3, []),
    "one reception merged over two rows (a group, one citizen a row)": Case("00001_phuc-xa_2024", _merged(
        [row(people=6), [None, None, "Trần Văn Bốn, xóm 3", "001085088888"] + [None] * 7,
         row(day="06/03/2024", x9="VV-10")],
        [f"{c}5:{c}6" for c in "ABEFGHIJ"]),
        "loaded", "chỉ tính ở dòng đầu", 2, ["REQUIRED_MISSING"], None, 6 + 1),
    "section heading merged across the row": Case("00001_phuc-xa_2024", _merged(
        [row(), ["Tháng 3/2024"] + [None] * 10, row(day="06/03/2024", x9="VV-10")], ["A6:K6"]),
        "loaded", "tiêu đề nhóm", 2, []),
    "cells merged across columns of a record": Case("00001_phuc-xa_2024", _merged(
        [row(), row(day="06/03/2024", x9="VV-10")], ["G5:H5"]),
        "loaded", None, 1, ["REQUIRED_MISSING"]),
    # Legacy font encodings: converted, recorded, counted.
    "typed in TCVN3 (.VnTime)": Case("00001_phuc-xa_2024", _typed_in("tcvn3"), "loaded", "TCVN3", 2, []),
    "typed in VNI (VNI-Times)": Case("00001_phuc-xa_2024", _typed_in("vni"), "loaded", "VNI", 2, []),
    "values typed in TCVN3 in a Unicode template": Case(
        "00001_phuc-xa_2024", _typed_in("tcvn3", template_unicode=True), "loaded", "TCVN3", 2, []),
    "values typed in VNI in a Unicode template": Case(
        "00001_phuc-xa_2024", _typed_in("vni", template_unicode=True), "loaded", "VNI", 2, []),
}


@pytest.mark.integration   # the committed GX suites (consolidation)
@pytest.mark.parametrize("case", list(CASES))
def test_defect_outcome(warehouse, tmp_path, case):
    c = CASES[case]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_register(inbox / f"{GOOD}.xlsx", ROWS)
    c.write(inbox / f"{c.stem}.xlsx")
    summaries = commune_registers.ingest(warehouse, settings.get(), inbox=inbox)
    consolidate(warehouse, "commune_register", settings.get())
    with warehouse.connect() as conn:
        batch = conn.execute(sa.select(raw_batch.c.status, raw_batch.c.message, raw_batch.c.reason_code,
                                       raw_batch.c.delivered_at)
                             .where(raw_batch.c.logical_key == c.stem)).one()
        facts = pd.read_sql(sa.select(fact_reception.c.raw_id, fact_reception.c.people, raw_batch.c.logical_key)
                            .join(raw_batch, raw_batch.c.batch_id == fact_reception.c.batch_id), conn)
        quarantined = pd.read_sql(sa.select(dq_quarantine.c.reason_code, dq_quarantine.c.reason,
                                            dq_quarantine.c.source_file, dq_quarantine.c.source_row), conn)
    assert {s["logical_key"]: s["status"] for s in summaries}[GOOD] == "loaded"
    assert batch.status == c.status
    assert batch.reason_code == c.batch_code
    assert batch.delivered_at is not None
    if c.reason:
        assert c.reason in batch.message
    if c.status == "rejected":
        assert f"'{c.stem}.xlsx'" in batch.message        # the message names the file
    assert (facts["logical_key"] == GOOD).sum() == 2                    # the valid neighbour, all counted
    assert (facts["logical_key"] == c.stem).sum() == c.published
    if c.people is not None:
        assert facts.loc[facts["logical_key"] == c.stem, "people"].sum() == c.people
    mine = quarantined[quarantined["source_file"].str.startswith(c.stem)]
    assert sorted(mine["reason_code"]) == sorted(c.codes)
    assert mine["source_row"].notna().all() and (mine["reason"].str.len() > 10).all()
    assert not mine["reason"].str.contains("Đỗ Văn Cường|001085099999|Trần Văn Bốn|001085088888").any()
    assert not (batch.message or "").count("001085")                    # messages carry no PII


def test_register_records_the_file_modification_time(warehouse, tmp_path):
    import datetime as dt
    import os

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = inbox / f"{GOOD}.xlsx"
    write_register(path, ROWS)
    stamp = dt.datetime(2024, 4, 2, 3, 4, 5, tzinfo=dt.UTC)
    os.utime(path, (stamp.timestamp(), stamp.timestamp()))
    commune_registers.ingest(warehouse, settings.get(), inbox=inbox)
    with warehouse.connect() as conn:
        assert conn.execute(sa.select(raw_batch.c.delivered_at)).scalar_one() == stamp.replace(tzinfo=None)
        assert conn.execute(sa.select(raw_file_manifest.c.delivered_at)).scalar_one() == stamp.replace(tzinfo=None)


def _big_register(path, n):
    """A register of `n` receptions, written in openpyxl's streaming mode."""
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Tiếp công dân")
    ws.append(["SỔ TIẾP CÔNG DÂN NĂM 2024"])
    ws.append(RECEPTION_HEADERS)
    modes = [("Thường xuyên", "Cán bộ tiếp công dân"), ("Định kỳ", "Thủ trưởng"), ("Đột xuất", "Ủy quyền")]
    for i in range(n):
        mode, receiver = modes[i % 3]
        ws.append([i + 1, f"{1 + i % 28:02d}/{1 + i // 28 % 12:02d}/2024", "Nguyễn Văn An, thôn 2",
                   f"0010850{i:05d}", ("KN", "TC", "KNPA")[i % 3], 1 + i % 7, mode, receiver,
                   "Lần đầu", f"VV-{i}", ""])
    ws2 = wb.create_sheet("Đơn thư")
    ws2.append(PETITION_HEADERS)
    wb.save(path)


@pytest.mark.integration   # full-size data: a 200,000-row register
def test_register_of_200000_rows_loads_in_one_batch(warehouse, tmp_path, capsys):
    n = 200_000
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    t0 = time.perf_counter()
    _big_register(inbox / "00004_truc-bach_2024.xlsx", n)
    written = time.perf_counter() - t0
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    summaries = commune_registers.ingest(warehouse, settings.get(), inbox=inbox)
    took = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with capsys.disabled():      # shown in the test output, not asserted
        print(f"\n200,000-row register: written in {written:.1f} s; ingested in {took:.1f} s "
              f"({n / took:,.0f} rows/s), process peak RSS {peak / 1024:.0f} MiB (+{(peak - rss0) / 1024:.0f} MiB)")
    assert [(s["status"], s["rows"]) for s in summaries] == [("loaded", n)]
    with warehouse.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(raw_record)
                            .where(raw_record.c.record_type == "reception")).scalar_one() == n


# ----------------------------------------------------------------- district databases
def _break_lock(db):
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("BEGIN EXCLUSIVE")
    return con


DISTRICT_CASES = {
    # name: (how to break the copy, tables expected broken, status, rule code, message fragment)
    "missing table": (lambda db: sqlite3.connect(db).execute("drop table don_thu").connection.commit(),
                      ["don_thu"], "rejected", "SOURCE_STRUCTURE", "không có bảng 'don_thu'"),
    "missing column": (lambda db: sqlite3.connect(db).execute(
        "alter table tiep_cong_dan drop column loai").connection.commit(),
        ["tiep_cong_dan"], "rejected", "SOURCE_STRUCTURE", "thiếu cột: loai"),
    "locked by another connection": (_break_lock, list(district_db.TABLES), "failed", "SOURCE_UNREACHABLE",
                                     "đang bị khóa"),
    "unreadable file": (lambda db: db.write_bytes(b"this is not a database" * 100), list(district_db.TABLES),
                        "failed", "SOURCE_UNREACHABLE", "bị hỏng"),
    "file missing": (lambda db: db.unlink(), list(district_db.TABLES), "failed", "SOURCE_UNREACHABLE",
                     "không tìm thấy tệp"),
}


def _raw_counts(engine, source_name):
    with engine.connect() as conn:
        rows = conn.execute(sa.select(raw_record.c.source_file, sa.func.count())
                            .where(raw_record.c.source_kind == "district_db", raw_record.c.source_name == source_name)
                            .group_by(raw_record.c.source_file)).all()
    return dict(rows)


def _source_counts(db):
    con = sqlite3.connect(db)
    try:
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in district_db.TABLES}
    finally:
        con.close()


@pytest.mark.integration   # small_sources: generated with the whole city service
@pytest.mark.parametrize("case", list(DISTRICT_CASES))
def test_district_defect_outcome(warehouse, small_sources, tmp_path, case):
    breaker, broken, status, code, fragment = DISTRICT_CASES[case]
    good, bad = tmp_path / "001.sqlite", tmp_path / "002.sqlite"
    shutil.copy(small_sources / "district_db" / "001.sqlite", good)
    shutil.copy(small_sources / "district_db" / "001.sqlite", bad)
    expected = _source_counts(bad)
    holder = breaker(bad)
    t0 = time.perf_counter()
    results = {code_: district_db.ingest_district(warehouse, code_, f"sqlite:///{db}", settings.get(), policy=FAST_DB)
               for code_, db in (("002", bad), ("001", good))}        # returns normally, the bad one first
    assert time.perf_counter() - t0 < 60
    by_table = {b["logical_key"]: b for b in results["002"]}
    for t in district_db.TABLES:
        if t in broken:
            b = by_table[t]
            assert (b["status"], b["reason_code"], b["rows"]) == (status, code, 0)
            assert fragment in b["message"] and "002" in b["message"]
            assert f"'{t}'" in b["message"]                               # names the table
        else:
            assert by_table[t]["status"] == "loaded" and by_table[t]["rows"] == expected[t]
    landed = _raw_counts(warehouse, "002")
    assert {t: landed.get(t, 0) for t in district_db.TABLES} == {
        t: 0 if t in broken else expected[t] for t in district_db.TABLES}
    # The other district, in full (its optional calendar table too: tests/test_reception_calendar.py).
    other = _raw_counts(warehouse, "001")
    assert {t: n for t, n in other.items() if t in district_db.TABLES} == expected
    assert other.get("lich_tiep_cong_dan", 0) > 0
    with warehouse.connect() as conn:
        marks = {r.stream for r in conn.execute(sa.select(raw_watermark.c.stream)
                                                .where(raw_watermark.c.source_name == "002"))}
        statuses = dict(conn.execute(sa.select(raw_batch.c.logical_key, raw_batch.c.status)
                                     .where(raw_batch.c.source_name == "002")).all())
    assert marks & set(district_db.TABLES) == set(district_db.TABLES) - set(broken)   # broken tables' marks stay
    assert all(statuses[t] == status for t in broken)
    if case == "locked by another connection":
        holder.rollback()
        holder.close()
        again = district_db.ingest_district(warehouse, "002", f"sqlite:///{bad}", settings.get(), policy=FAST_DB)
        assert {b["logical_key"]: (b["status"], b["rows"]) for b in again
                if b["logical_key"] in district_db.TABLES} == {
            t: ("loaded", expected[t]) for t in district_db.TABLES}          # nothing was lost


# ----------------------------------------------------------------------- city service
CITY_CASES = {
    # fault on 'receptions': (status, rule code, message fragment)
    "HTTP 500 after the retries": ("http500", "failed", "SOURCE_UNREACHABLE", "trả lỗi HTTP 500"),
    "timeout": ("timeout", "failed", "SOURCE_UNREACHABLE", "hết thời gian chờ"),
    "invalid JSON": ("bad_json", "rejected", "SOURCE_STRUCTURE", "không phải JSON hợp lệ"),
    "page without its items": ("no_items", "rejected", "SOURCE_STRUCTURE", "không có danh sách 'items'"),
    "page lost to a repeated page": ("lost_page", "rejected", "SOURCE_STRUCTURE", "lỗi phân trang"),
    "records missing required fields": ("missing_fields", "loaded", None,
                                        "3 bản ghi của 'receptions' thiếu id, version hoặc updated_at"),
    "page repeated": ("repeat_page", "loaded", None, "trả lặp 1000 bản ghi"),
}


# The broken resource first, so that what follows it is seen to go on (cases, the
# largest, is left out to keep the test short: it is read exactly like petitions).
RESOURCES = ["receptions", "petitions"]


def _city_versions(small_sources):
    store = sqlite3.connect(small_sources / "city_service" / "city.sqlite")
    try:
        return {t: store.execute(f"select count(*) from {t}").fetchone()[0]
                for t in ("receptions", "petitions", "cases")}
    finally:
        store.close()


def _city_landed(engine):
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(raw_record.c.source_file, sa.func.count())
                                 .where(raw_record.c.source_kind == "city_service")
                                 .group_by(raw_record.c.source_file)).all())


@pytest.mark.integration   # the city service over HTTP, behind a faulty proxy
@pytest.mark.parametrize("case", list(CITY_CASES))
def test_city_defect_outcome(warehouse, small_sources, city_server, case):
    fault, status, code, fragment = CITY_CASES[case]
    url, token = city_server
    versions = _city_versions(small_sources)
    with FaultyCity(url, {"receptions": fault}) as proxy:
        batches = city_service.ingest(warehouse, settings.get(), base_url=proxy.url, token=token, policy=FAST_CITY,
                                      page_size=1000, resources=RESOURCES)   # returns normally
    by_resource = {b["logical_key"]: b for b in batches}
    rec = by_resource["receptions"]
    assert (rec["status"], rec["reason_code"]) == (status, code)
    assert fragment in rec["message"] and "'receptions'" in rec["message"]
    landed = _city_landed(warehouse)
    for other in RESOURCES[1:]:                                           # the other resources, in full
        assert by_resource[other]["status"] == "loaded" and landed[other] == versions[other]
    with warehouse.connect() as conn:
        marks = {r.stream for r in conn.execute(sa.select(raw_watermark.c.stream))}
        ids = pd.read_sql(sa.select(raw_record.c.record_id, raw_record.c.record_version)
                          .where(raw_record.c.source_file == "receptions"), conn)
    assert not ids.duplicated().any()                                     # each version landed once
    if status == "loaded":
        assert "receptions" in marks
        expected = versions["receptions"] - (3 if fault == "missing_fields" else 0)
        assert rec["rows"] == landed["receptions"] == expected
        if fault == "missing_fields":
            assert "thiếu trường bắt buộc (status, unit_code): đã nạp" in rec["message"]
        return
    # nothing partial: no receptions landed, the watermark did not move
    assert rec["rows"] == 0 and landed.get("receptions", 0) == 0 and "receptions" not in marks
    if status == "failed":
        assert proxy.hits["receptions"] == FAST_CITY.retry_attempts     # retried, then recorded
    # the next run, with the service repaired, lands everything: nothing was lost
    again = {b["logical_key"]: b for b in city_service.ingest(warehouse, settings.get(), base_url=url, token=token,
                                                               policy=FAST_CITY, page_size=1000,
                                                               resources=RESOURCES)}
    assert set(again) == {"receptions"} and again["receptions"]["rows"] == versions["receptions"]
