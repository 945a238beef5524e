"""Units that did not report (empty, never zero), the "Chất lượng dữ liệu" sheet, and
the generic data-quality workbook. Pure pandas in, xlsx out."""
from __future__ import annotations

import datetime as dt
import hashlib

import openpyxl
import pandas as pd
import pytest
from test_tcd01 import FORM_PATH, Q3, RECORDS, ROWS, frame, receptions, units

from core import settings
from reports.dq_workbook import write_table_workbook
from reports.formdef import IdentityError, RowStatus, check_identities, compute, load_form
from reports.levels import city_report
from reports.render import QUALITY_SHEET, write_xlsx

UNIT = "UBND Thành phố Hà Nội"
META = {"run_id": "r-quality", "generated_at": "2026-09-15T01:02:03"}
# A: reported, with records; B: did not report (its only record removed); CITY:
# reported, partly (2 of 3 units missing).
STATUS = {"B": RowStatus(reported=False, expected=1, missing=1),
          "CITY": RowStatus(reported=True, expected=3, missing=2, note="xem lại")}


@pytest.fixture(scope="module")
def form():
    return load_form(FORM_PATH)


def recs_without_b() -> pd.DataFrame:
    df = receptions()
    return df[df["row_id"] != "B"]


@pytest.fixture(scope="module")
def table(form):
    return compute(form, recs_without_b(), ROWS, STATUS)


def _rows_by_label(ws) -> tuple[int, dict[str, int]]:
    ms_row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "MS")
    labels = {ws.cell(r, 1).value: r for r in range(ms_row + 1, ws.max_row + 1) if ws.cell(r, 1).value}
    return ms_row, labels


def _pairs(ws) -> dict:
    return {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, ws.max_row + 1)}


# ------------------------------------------------------------------ rows not reported

def test_not_reported_row_is_empty_not_zero(form, table):
    full = compute(form, recs_without_b(), ROWS)      # what the table would say without statuses
    assert full.loc["B", 4] == 0                       # … a zero that is not true
    assert all(pd.isna(table.loc["B", ms]) for ms in form.number_columns)
    assert table.loc["B", 30] == "Chưa báo cáo; Ghi chú thử"   # the row's own note is kept
    assert str(table[4].dtype) == "Int64"
    # A and CITY keep their numbers; the total adds up the rows that reported.
    for ms in form.number_columns:
        assert table.loc["A", ms] == full.loc["A", ms]
        assert table.loc["total", ms] == full.loc["A", ms] + full.loc["CITY", ms]
    assert table.loc["CITY", 30] == "Thiếu số liệu của 2/3 đơn vị; xem lại"
    assert table.loc["total", 30] == "Chưa gồm số liệu của 3 đơn vị chưa báo cáo"   # 1 (B) + 2 (CITY)
    assert table.loc["A", 30] == ""


def test_identities_skip_rows_not_reported(form, table):
    assert check_identities(form, table) == []
    assert check_identities(form, table, STATUS) == []
    # The statuses and the table must agree.
    v = check_identities(form, table, {})
    assert any("Phường Ngọc Hà" in x and "không được ghi là chưa báo cáo" in x for x in v)
    v = check_identities(form, table, {**STATUS, "A": RowStatus(False, 1, 1)})
    assert any("Phường Ba Đình" in x and "chưa báo cáo nhưng dòng có số liệu" in x for x in v)
    # A total that still counts the missing row is wrong.
    t = table.copy()
    t.loc["total", 4] = t.loc["total", 4] + 1
    assert any("cột 4" in x and "tổng các dòng" in x for x in check_identities(form, t))
    # Identities are still checked on the rows that reported.
    t = table.copy()
    t.loc["A", 1] = t.loc["A", 1] + 1
    t.loc["total", 1] = t.loc["total", 1] + 1
    assert any("Phường Ba Đình" in x and "1 = 4 + 13 + 22" in x for x in check_identities(form, t))
    # A half-empty row is not "not reported": it is broken.
    t = table.copy()
    t.loc["A", 5] = pd.NA
    assert any("Phường Ba Đình" in x and "cột 5" in x for x in check_identities(form, t))


def test_records_of_a_row_not_reported_are_a_contradiction(form):
    with pytest.raises(ValueError, match="not reported have records"):
        compute(form, receptions(), ROWS, STATUS)
    with pytest.raises(ValueError, match="not data rows"):
        compute(form, recs_without_b(), ROWS, {"nowhere": RowStatus(False, 1, 1)})
    with pytest.raises(ValueError, match="missing"):
        RowStatus(True, expected=1, missing=2)


def test_reported_row_without_records_shows_zero(form):
    status = {"B": RowStatus(reported=True, expected=1, missing=0)}
    t = compute(form, recs_without_b(), ROWS, status)
    assert str(t[4].dtype) == "int64"                 # nothing missing: today's table
    assert all(t.loc["B", ms] == 0 for ms in form.number_columns)
    assert t.loc["B", 30] == "Ghi chú thử" and t.loc["total", 30] == ""


def test_not_reported_row_in_the_workbook(form, table, tmp_path):
    out = tmp_path / "r.xlsx"
    sha = write_xlsx(form, table, ROWS, Q3, UNIT, out, META, row_status=STATUS)
    assert sha == hashlib.sha256(out.read_bytes()).hexdigest()
    wb = openpyxl.load_workbook(out)
    ws = wb["01-TCD"]
    _, rows = _rows_by_label(ws)
    b, a, city, total = (rows["Phường Ngọc Hà"], rows["Phường Ba Đình"],
                         rows["UBND Thành phố Hà Nội (cấp thành phố)"], rows["Tổng cộng"])
    for col in range(2, 31):                           # MS 1..29: empty, bordered, not 0
        cell = ws.cell(b, col)
        assert cell.value is None and cell.border.top.style == "thin", cell.coordinate
        assert isinstance(ws.cell(a, col).value, int)
    assert ws.cell(b, 31).value == "Chưa báo cáo; Ghi chú thử"
    assert ws.cell(city, 31).value == "Thiếu số liệu của 2/3 đơn vị; xem lại"
    assert ws.cell(total, 31).value == "Chưa gồm số liệu của 3 đơn vị chưa báo cáo"
    for col in range(2, 31):
        assert ws.cell(total, col).value == ws.cell(a, col).value + ws.cell(city, col).value
    info = _pairs(wb["Thông tin"])
    assert info["Số dòng đơn vị chưa báo cáo"] == 1 and info["Số đơn vị chưa báo cáo"] == 3
    assert "dòng đã báo cáo" in info["Kiểm tra đẳng thức"]


def test_writer_refuses_statuses_that_do_not_match(form, table, tmp_path):
    out = tmp_path / "r.xlsx"
    with pytest.raises(IdentityError):
        write_xlsx(form, table, ROWS, Q3, UNIT, out, META, row_status={})
    assert not out.exists()


def test_without_statuses_the_info_sheet_says_zero(form, tmp_path):
    out = tmp_path / "r.xlsx"
    write_xlsx(form, compute(form, receptions(), ROWS), ROWS, Q3, UNIT, out, META)
    info = _pairs(openpyxl.load_workbook(out)["Thông tin"])
    assert info["Số dòng đơn vị chưa báo cáo"] == 0 and "Số đơn vị chưa báo cáo" not in info


# ------------------------------------------------------------------ "Chất lượng dữ liệu"

DELIVERED = dt.datetime(2026, 9, 14, 23, 5, 0)
QUALITY = {
    "summary": [("Mã lần chạy (run id)", "r-quality"),
                ("Thời điểm chốt số liệu", dt.datetime(2026, 9, 15, 0, 0)),
                ("Số bản ghi được tính", 14),
                ("Số dòng bị cách ly trong kỳ", 3),
                ("Đơn vị chưa báo cáo", "Phường Ngọc Hà"),
                ("Ngày bắt đầu", dt.date(2026, 6, 15))],
    "tables": [
        {"title": "Dòng bị cách ly theo lý do", "columns": ["Lý do", "Số dòng"],
         "rows": [["Thiếu ngày tiếp", 2], ["Mã đơn vị không hợp lệ", 1]]},
        {"title": "Các lô dữ liệu nguồn đã đọc",
         "columns": ["Mã lô", "Loại nguồn", "Tên nguồn", "Tệp / tài nguyên", "Mã kiểm tra SHA-256",
                     "Số dòng", "Thời điểm giao"],
         "rows": [["B1", "city_service", "Cổng dịch vụ", "/receptions", "ab" * 32, 1234, DELIVERED],
                  ["B2", "commune_register", "00004", "so_tiep_2026.xlsx", "cd" * 32, 12,
                   pd.Timestamp("2026-09-01 08:30")]]},
        {"title": "Giá trị bất thường", "columns": ["Đơn vị", "Chỉ tiêu", "Giá trị"], "rows": []},
    ],
}


def test_quality_sheet(form, table, tmp_path):
    out = tmp_path / "q.xlsx"
    sha = write_xlsx(form, table, ROWS, Q3, UNIT, out, META, row_status=STATUS, quality=QUALITY)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["01-TCD", "Thông tin", QUALITY_SHEET]
    ws = wb[QUALITY_SHEET]
    cells = {(c.row, c.column): c for row in ws.iter_rows() for c in row if c.value is not None}
    for c in cells.values():
        assert c.font.name == "Times New Roman", c.coordinate
    pairs = _pairs(ws)
    assert pairs["Mã lần chạy (run id)"] == "r-quality" and pairs["Số bản ghi được tính"] == 14
    cutoff_row = next(r for (r, col), c in cells.items() if c.value == "Thời điểm chốt số liệu")
    assert ws.cell(cutoff_row, 2).value == dt.datetime(2026, 9, 15)
    assert ws.cell(cutoff_row, 2).number_format == "dd/mm/yyyy hh:mm"
    start_row = next(r for (r, col), c in cells.items() if c.value == "Ngày bắt đầu")
    assert ws.cell(start_row, 2).number_format == "dd/mm/yyyy"

    head = next(r for (r, col), c in cells.items() if c.value == "Mã lô")
    assert [ws.cell(head, j).value for j in range(1, 8)] == QUALITY["tables"][1]["columns"]
    assert all(ws.cell(head, j).font.b and ws.cell(head, j).border.bottom.style == "thin" for j in range(1, 8))
    assert ws.cell(head - 1, 1).value == "Các lô dữ liệu nguồn đã đọc" and ws.cell(head - 1, 1).font.b
    assert [ws.cell(head + 1, j).value for j in range(1, 8)] == ["B1", "city_service", "Cổng dịch vụ",
                                                                 "/receptions", "ab" * 32, 1234, DELIVERED]
    assert ws.cell(head + 1, 7).number_format == "dd/mm/yyyy hh:mm"
    assert ws.cell(head + 1, 6).number_format == "#,##0"
    assert ws.cell(head + 2, 7).value == dt.datetime(2026, 9, 1, 8, 30)
    assert all(ws.cell(head + 1, j).border.left.style == "thin" for j in range(1, 8))
    # The checksum column is wide enough for the checksum (capped at 60).
    assert ws.column_dimensions["E"].width >= 60
    # An empty table says so.
    empty_head = next(r for (r, col), c in cells.items() if c.value == "Chỉ tiêu")
    assert ws.cell(empty_head + 1, 1).value == "Không có"
    assert f"A{empty_head + 1}:C{empty_head + 1}" in {str(m) for m in ws.merged_cells.ranges}

    # Deterministic: same inputs, same bytes.
    again = tmp_path / "q2.xlsx"
    assert write_xlsx(form, table, ROWS, Q3, UNIT, again, META, row_status=STATUS, quality=QUALITY) == sha
    assert again.read_bytes() == out.read_bytes()


def test_quality_is_validated(form, table, tmp_path):
    bad = {"tables": [{"title": "x", "columns": ["a", "b"], "rows": [[1]]}]}
    with pytest.raises(ValueError, match="1 values for 2 columns"):
        write_xlsx(form, table, ROWS, Q3, UNIT, tmp_path / "x.xlsx", META, row_status=STATUS, quality=bad)
    assert not (tmp_path / "x.xlsx").exists()


def test_city_report_with_statuses_and_quality(form, tmp_path):
    # Q3 2026 rows: 2025:00004, 2025:00008, province:01. 2025:00008 sends nothing.
    recs = frame([r for r in RECORDS if r["unit_key"] != "2025:00008"])
    out = tmp_path / "city.xlsx"
    res = city_report("01/TCD", Q3, recs, units(), out, META, province_code=settings.get().province.code, form=form,
                      row_status={"2025:00008": RowStatus(False, 1, 1)}, quality=QUALITY)
    assert pd.isna(res.table.loc["2025:00008", 1]) and res.table.loc["total", 1] == 14
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["01-TCD", "Thông tin", QUALITY_SHEET]
    ws = wb["01-TCD"]
    _, rows = _rows_by_label(ws)
    assert ws.cell(rows["Phường Ngọc Hà"], 2).value is None
    assert ws.cell(rows["Phường Ngọc Hà"], 31).value == "Chưa báo cáo"
    assert ws.cell(rows["Tổng cộng"], 31).value == "Chưa gồm số liệu của 1 đơn vị chưa báo cáo"
    with pytest.raises(ValueError, match="not reported have records"):
        city_report("01/TCD", Q3, frame(RECORDS), units(), tmp_path / "no.xlsx", META, province_code=settings.get().province.code, form=form,
                    row_status={"2025:00008": RowStatus(False, 1, 1)})
    assert not (tmp_path / "no.xlsx").exists()


# ------------------------------------------------------------------ generic DQ workbook

def _dq_frames():
    quarantine = pd.DataFrame({
        "batch_id": ["B1", "B1", "B2"],
        "source_row": [12, 40, 7],
        "reason": ["Thiếu ngày tiếp", "Mã đơn vị '9999' không phải mã đơn vị hành chính", "Số người âm"],
        "detected_at": pd.to_datetime(["2026-09-15 01:02:03", "2026-09-15 01:02:04", "2026-09-16 10:00:00"]),
        "received_date": [dt.date(2026, 7, 1), None, dt.date(2026, 8, 2)],
        "people": pd.array([1200, None, 3], dtype="Int64"),
        "citizen_pseudonym": ["p1", "p2", "p3"],     # not mapped: not written
    })
    labels = {"batch_id": "Mã lô", "source_row": "Dòng", "reason": "Lý do",
              "detected_at": "Thời điểm phát hiện", "received_date": "Ngày tiếp", "people": "Số người"}
    return quarantine, labels


def test_dq_workbook_reads_back(tmp_path):
    q, labels = _dq_frames()
    out = tmp_path / "dq.xlsx"
    title = ["BÁO CÁO CHẤT LƯỢNG DỮ LIỆU", "Kỳ: Quý III năm 2026"]
    meta = {"run_id": "r1", "generated_at": "2026-09-15T02:00:00", "Ghi chú": "thử"}
    sheets = [("Cách ly", q, labels), ("Bất thường", q.iloc[0:0], {"batch_id": "Mã lô", "reason": "Lý do"})]
    sha = write_table_workbook(out, title, sheets, meta)
    assert sha == hashlib.sha256(out.read_bytes()).hexdigest()
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Cách ly", "Bất thường", "Thông tin"]
    ws = wb["Cách ly"]
    assert ws["A1"].value == title[0] and ws["A1"].font.b and ws["A1"].font.sz == 14
    assert ws["A2"].value == title[1] and ws["A2"].font.b and ws["A2"].font.sz == 12
    h = 4
    assert [ws.cell(h, j).value for j in range(1, 7)] == list(labels.values())
    assert ws.cell(h, 7).value is None                     # unmapped (personal) column left out
    assert all(ws.cell(h, j).font.b and ws.cell(h, j).border.top.style == "thin" for j in range(1, 7))
    assert ws.freeze_panes == f"A{h + 1}" and ws.auto_filter.ref == f"A{h}:F{h + 3}"
    assert [ws.cell(h + 1, j).value for j in range(1, 7)] == [
        "B1", 12, "Thiếu ngày tiếp", dt.datetime(2026, 9, 15, 1, 2, 3), dt.datetime(2026, 7, 1), 1200]
    assert ws.cell(h + 1, 2).number_format == "#,##0" and ws.cell(h + 1, 6).number_format == "#,##0"
    assert ws.cell(h + 1, 4).number_format == "dd/mm/yyyy hh:mm"
    assert ws.cell(h + 1, 5).number_format == "dd/mm/yyyy"
    assert ws.cell(h + 2, 5).value is None and ws.cell(h + 2, 6).value is None
    assert ws.cell(h + 2, 1).border.left.style == "thin"
    # Widths follow the content, capped.
    assert ws.column_dimensions["C"].width > ws.column_dimensions["A"].width
    assert ws.column_dimensions["C"].width <= 60
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for c in row:
                if c.value is not None:
                    assert c.font.name == "Times New Roman", (sheet.title, c.coordinate)
    empty = wb["Bất thường"]
    assert [empty.cell(h, j).value for j in (1, 2)] == ["Mã lô", "Lý do"]
    assert empty.cell(h + 1, 1).value == "Không có"
    assert f"A{h + 1}:B{h + 1}" in {str(m) for m in empty.merged_cells.ranges}
    info = _pairs(wb["Thông tin"])
    assert info["Mã lần chạy (run id)"] == "r1" and info["Ghi chú"] == "thử"

    # Same inputs, same bytes; rewriting leaves no temporary file.
    again = tmp_path / "dq2.xlsx"
    assert write_table_workbook(again, title, sheets, meta) == sha
    assert again.read_bytes() == out.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dq.xlsx", "dq2.xlsx"]


def test_dq_workbook_sheet_names_and_errors(tmp_path):
    q, labels = _dq_frames()
    out = tmp_path / "dq.xlsx"
    write_table_workbook(out, [], [("Lô: 1/2 [x]", q, labels), ("Lô: 1/2 [x]", q, labels),
                                   ("Thông tin", q, labels)], {})
    names = openpyxl.load_workbook(out).sheetnames
    assert names == ["Lô- 1-2 -x-", "Lô- 1-2 -x- (2)", "Thông tin (2)", "Thông tin"]
    with pytest.raises(KeyError, match="lacks columns"):
        write_table_workbook(tmp_path / "bad.xlsx", [], [("x", q, {"nope": "Không"})], {})
    assert not (tmp_path / "bad.xlsx").exists()
    # Without a title the table starts on the first row.
    ws = openpyxl.load_workbook(out).worksheets[0]
    assert ws["A1"].value == "Mã lô" and ws.freeze_panes == "A2"

