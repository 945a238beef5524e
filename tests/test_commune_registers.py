"""The commune-register connector against real .xlsx files written with openpyxl."""
from __future__ import annotations

import json
import unicodedata

import openpyxl
import pytest
import sqlalchemy as sa

from connectors import commune_registers
from core import pii as pii_mod
from core import settings
from warehouse.schema import raw_batch, raw_file_manifest, raw_record

RECEPTION_HEADERS = ["STT", "Ngày tiếp", "Họ tên và địa chỉ", "Số CCCD/Hộ chiếu", "Phân loại",
                     "Số người cùng nội dung", "Hình thức tiếp", "Người tiếp", "Lần tiếp", "Mã vụ việc", "Ghi chú"]
PETITION_HEADERS = ["STT", "Ngày nhận đơn", "Họ tên và địa chỉ người viết đơn", "Nguồn đơn", "Loại đơn",
                    "Số người đứng tên", "Mã vụ việc"]


def write_register(path, rows, *, nfd=False, petition_rows=(), reception_headers=RECEPTION_HEADERS,
                   legacy=None, merges=(), sheet_names=("Tiếp công dân", "Đơn thư")):
    """A register workbook as a commune writes it. `legacy`: "tcvn3" or "vni" to type every
    text (sheet names, title, headers, values) in that font encoding; `merges`: cell
    ranges ("B5:B7") to merge after writing."""
    from simulators.legacy_encoding import encode  # an implementation independent of the reader's

    def text(v):
        if not isinstance(v, str):
            return v
        v = encode(v, legacy) if legacy else v
        return unicodedata.normalize("NFD", v) if nfd else v

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = text(sheet_names[0])
    ws["A1"] = text("SỔ TIẾP CÔNG DÂN NĂM 2024")
    ws.merge_cells("A1:K1")
    ws["A2"] = text("UBND Phường Trúc Bạch")
    ws.append([])
    ws.append([text(h) for h in reception_headers])
    for r in rows:
        ws.append([text(v) for v in r])
    ws.append([])
    ws.append([text("Tổng cộng"), None, None, None, None, sum(r[5] for r in rows if isinstance(r[5], int))])
    for rng in merges:
        ws.merge_cells(rng)
    ws2 = wb.create_sheet(text(sheet_names[1]))
    ws2.append([text(h) for h in PETITION_HEADERS])
    for r in petition_rows:
        ws2.append([text(v) for v in r])
    wb.save(path)


ROWS = [
    [1, "05/03/2024", "Nguyễn Văn An, thôn 2", "001085012345", "KN", 1, "Thường xuyên", "Cán bộ tiếp công dân", "Lần đầu", "VV-1", ""],
    [2, "06/03/2024", "Lê Thị Bình, tổ 5", "001190000002", "TC", 6, "Định kỳ", "Thủ trưởng", "Lần đầu", "VV-2", ""],
]


@pytest.fixture()
def inbox(tmp_path):
    d = tmp_path / "inbox"
    d.mkdir()
    return d


def _rows(engine):
    with engine.connect() as c:
        return c.execute(sa.select(raw_record)).mappings().all()


def test_lands_rows_without_personal_data(warehouse, inbox):
    write_register(inbox / "00004_truc-bach_2024.xlsx", ROWS, nfd=True,
                   petition_rows=[[1, "07/03/2024", "Phạm Văn Cường", "Bưu chính", "KNPA", 1, "VV-3"]])
    summaries = commune_registers.ingest(warehouse, settings.get(), inbox=inbox)
    assert [s["status"] for s in summaries] == ["loaded"]
    rows = _rows(warehouse)
    assert sorted((r["record_type"], r["source_row"]) for r in rows) == [("petition", 2), ("reception", 5), ("reception", 6)]
    blob = json.dumps([dict(r) for r in rows], default=str, ensure_ascii=False)
    for pii in ("Nguyễn", "001085012345", "001190000002", "Phạm Văn Cường", "thôn 2"):
        assert pii not in unicodedata.normalize("NFC", blob)
    payloads = {r["source_row"]: json.loads(r["payload"]) for r in rows if r["record_type"] == "reception"}
    # TC: a pseudonym scoped to the case (ADR 0005), never the citizen-wide one
    key = pii_mod.pseudonym_key(settings.get())
    assert payloads[5]["citizen_pseudonym"] == pii_mod.pseudonymise("001085012345", key)
    assert payloads[6]["citizen_pseudonym"] == pii_mod.denouncer_pseudonym(
        "001190000002", key, pii_mod.case_scope("00004", "VV-2"))
    assert payloads[6]["citizen_pseudonym"] != pii_mod.pseudonymise("001190000002", key)


def test_second_run_adds_nothing_and_changed_file_is_a_new_batch(warehouse, inbox):
    path = inbox / "00004_truc-bach_2024.xlsx"
    write_register(path, ROWS)
    commune_registers.ingest(warehouse, settings.get(), inbox=inbox)
    assert commune_registers.ingest(warehouse, settings.get(), inbox=inbox) == []
    write_register(path, ROWS[:1])
    again = commune_registers.ingest(warehouse, settings.get(), inbox=inbox)
    assert len(again) == 1 and again[0]["rows"] == 1
    with warehouse.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(raw_file_manifest)).scalar_one() == 2


@pytest.mark.parametrize("name, content, reason", [
    ("00005_a_2024.xlsx", b"this is not a spreadsheet", "không mở được"),
    ("ten-sai.xlsx", None, "Tên tệp"),
    ("00006_b_2024.xlsx", "missing-column", "thiếu cột bắt buộc"),
])
def test_bad_files_are_rejected_with_a_reason_and_others_go_on(warehouse, inbox, name, content, reason):
    write_register(inbox / "00004_truc-bach_2024.xlsx", ROWS)
    bad = inbox / name
    if content == "missing-column":
        write_register(bad, [r[:8] for r in ROWS], reception_headers=RECEPTION_HEADERS[:8])
    elif content is None:
        write_register(bad, ROWS)
    else:
        bad.write_bytes(content)
    summaries = {s["logical_key"]: s for s in commune_registers.ingest(warehouse, settings.get(), inbox=inbox)}
    assert summaries["00004_truc-bach_2024"]["status"] == "loaded"
    assert summaries[bad.stem]["status"] == "rejected"
    assert reason in summaries[bad.stem]["message"]
    with warehouse.connect() as c:
        msg = c.execute(sa.select(raw_batch.c.message).where(raw_batch.c.logical_key == bad.stem)).scalar_one()
    assert reason in msg
    # the rejected version is in the manifest: not retried until the file changes
    assert commune_registers.ingest(warehouse, settings.get(), inbox=inbox) == []
