"""A catalogue of malformed register input, each with its expected, recorded outcome
(a start on the data-quality issue's defect list). Every case is fed through the real
connector and consolidation next to a valid workbook: the defect is rejected or
quarantined with a reason naming what to fix, and the valid rows are all counted once."""
from __future__ import annotations

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from connectors import commune_registers
from tests.test_commune_registers import RECEPTION_HEADERS, ROWS, write_register
from transforms.consolidate import consolidate
from warehouse.schema import dq_quarantine, fact_reception, raw_batch

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


# name: (file stem, how to write it, expected batch status, reason fragment,
#        receptions published from this file, quarantine reason codes from this file)
CASES = {
    "renamed date column": ("00001_phuc-xa_2024", lambda p: write_register(
        p, ROWS, reception_headers=["STT", "Ngày"] + RECEPTION_HEADERS[2:]),
        "rejected", "Không tìm thấy dòng tiêu đề", 0, []),
    "missing required column": ("00001_phuc-xa_2024", lambda p: write_register(
        p, [r[:8] for r in ROWS], reception_headers=RECEPTION_HEADERS[:8]),
        "rejected", "thiếu cột bắt buộc", 0, []),
    "header repeated inside the data": ("00001_phuc-xa_2024", lambda p: write_register(
        p, [row(), RECEPTION_HEADERS, row(day="06/03/2024", x9="VV-10")]), "loaded", None, 2, []),
    "formula without a computed value": ("00001_phuc-xa_2024", lambda p: write_register(
        p, [row(people="=1+1"), row(day="06/03/2024", x9="VV-10")]), "loaded", None, 1, ["INVALID_VALUE"]),
    "dates as text in several formats": ("00001_phuc-xa_2024", lambda p: write_register(
        p, [row(day="05/03/2024"), row(day="6-3-2024", x9="VV-10"), row(day="07.03.2024", x9="VV-11")]),
        "loaded", None, 3, []),
    "impossible date": ("00001_phuc-xa_2024", lambda p: write_register(
        p, [row(day="31/02/2024"), row(day="06/03/2024", x9="VV-10")]), "loaded", None, 1, ["INVALID_VALUE"]),
    "negative count": ("00001_phuc-xa_2024", lambda p: write_register(
        p, [row(people=-2), row(day="06/03/2024", x9="VV-10")]), "loaded", None, 1, ["INVALID_VALUE"]),
    "absurd count with a thousands separator": ("00001_phuc-xa_2024", lambda p: write_register(
        p, [row(people="1.200"), row(day="06/03/2024", x9="VV-10")]), "loaded", None, 1, ["INVALID_VALUE"]),
    "duplicated row": ("00001_phuc-xa_2024", lambda p: write_register(
        p, [row(), row()]), "loaded", None, 1, ["DUPLICATE"]),
    "decomposed Unicode": ("00001_phuc-xa_2024", lambda p: write_register(
        p, [row(), row(day="06/03/2024", x9="VV-10")], nfd=True), "loaded", None, 2, []),
    "unknown unit code": ("99999_khong-ro_2024", lambda p: write_register(p, [row()]),
                          "loaded", None, 0, ["UNKNOWN_UNIT"]),
    "legacy code dated after the reform": ("00001_phuc-xa_2025", lambda p: write_register(
        p, [row(day="05/08/2025")]), "loaded", None, 0, ["UNKNOWN_UNIT"]),
    "empty workbook": ("00001_phuc-xa_2024", _empty, "rejected", "không có trang", 0, []),
    "truncated .xlsx": ("00001_phuc-xa_2024", _truncated, "rejected", "không mở được", 0, []),
    "not a spreadsheet": ("00001_phuc-xa_2024", lambda p: p.write_text("<html>", encoding="utf-8"),
                          "rejected", "không mở được", 0, []),
}


@pytest.mark.parametrize("case", list(CASES))
def test_defect_outcome(warehouse, tmp_path, case):
    stem, write, status, reason, published, codes = CASES[case]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_register(inbox / f"{GOOD}.xlsx", ROWS)
    write(inbox / f"{stem}.xlsx")
    commune_registers.ingest(warehouse, inbox=inbox)
    consolidate(warehouse, "commune_register")
    with warehouse.connect() as c:
        batch = c.execute(sa.select(raw_batch.c.status, raw_batch.c.message)
                          .where(raw_batch.c.logical_key == stem)).one()
        facts = pd.read_sql(sa.select(fact_reception.c.raw_id, fact_reception.c.batch_id,
                                      raw_batch.c.logical_key)
                            .join(raw_batch, raw_batch.c.batch_id == fact_reception.c.batch_id), c)
        quarantined = pd.read_sql(sa.select(dq_quarantine.c.reason_code, dq_quarantine.c.reason,
                                            dq_quarantine.c.source_file, dq_quarantine.c.source_row), c)
    assert batch.status == status
    if reason:
        assert reason in batch.message      # the batch row (raw_batch) names the file
    assert (facts["logical_key"] == GOOD).sum() == 2                    # the valid neighbour, all counted
    assert (facts["logical_key"] == stem).sum() == published
    mine = quarantined[quarantined["source_file"].str.startswith(stem)]
    assert sorted(mine["reason_code"]) == sorted(codes)
    assert mine["source_row"].notna().all() and (mine["reason"].str.len() > 10).all()
    assert not mine["reason"].str.contains("Đỗ Văn Cường|001085099999").any()   # reasons carry no PII
