"""The report workbooks are written with XlsxWriter (reports.xlsx.XlsxWriterBook) through
the same layout code that writes openpyxl workbooks (reports.xlsx.OpenpyxlBook, the
writer of every report before): the values the renderer hands to publishing are those a
reader finds in the file, the bytes are stable, and the layout read back is openpyxl's
— cell for cell, fonts, alignments, borders, number formats, merged ranges, panes,
print titles, page set-up, document properties — but for the column widths (stored to
1/7 of a character) and the row heights (stored to the pixel, 0.75 pt).
Pure pandas in, xlsx out."""
from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import zipfile

import numpy as np
import openpyxl
import pytest
from test_forms import META, ROWS, SOURCES, UNIT_NAME, WINDOW, definition, placed

from reports import publish
from reports.formdef import ReportRow, RowStatus, compute
from reports.render import QUALITY_SHEET, as_datetime, build_workbook, render_xlsx
from reports.xlsx import OpenpyxlBook, XlsxWriterBook, cell_font

# C did not report (its records removed): its number cells stay empty.
STATUS = {"C": RowStatus(reported=False, expected=1, missing=1)}
# Text from the data that must stay text: a leading "=", Excel's escapes, a control character.
ODD_LABEL = "=SUM(A1) _x0041_ x005F_ a\rb"
ODD_ROWS = [ReportRow(r.row_id, ODD_LABEL, r.unit_code, r.kind) if r.row_id == "B" else r for r in ROWS]
META_PRELIMINARY = {**META, "issue_kind": "preliminary", "units_deadline": "15/08/2024",
                    "data_cutoff": "2024-08-01T00:00:00"}


def quality(batch: str) -> dict:
    """The "Chất lượng dữ liệu" sheet's content; `batch`: the second batch's id."""
    return {"summary": [("Số bản ghi", 1234), ("Thời điểm chốt số liệu", dt.datetime(2024, 8, 1, 8, 30)),
                        ("Ngày bắt đầu", dt.date(2024, 3, 1)), ("Tỷ lệ", 0.125), ("Ghi chú", None)],
            "tables": [{"title": "Các lô dữ liệu nguồn đã đọc",
                        "columns": ["Mã lô", "Nguồn", "Số bản ghi", "Lúc nhận"],
                        "rows": [["B1", "city_service", 1200, dt.datetime(2024, 8, 1, 8, 30)],
                                 [batch, "district_db", 3, None]]},
                       {"title": "Bản ghi bị loại", "columns": ["Mã", "Lý do", "Số"], "rows": []}]}


# A form of each circular: TT 02/2021, TT 01/2024, TT 06/2025 (no note column: the
# notes go under the table) and a TT 06/2025 form with a second input's columns left empty.
FORMS = [("01/TCD", "TT02_2021"), ("02/XLD", "TT01_2024"), ("02/XLD", "TT06_2025"), ("01/TCD", "TT06_2025")]


def _table(code: str, version: str, rows=ODD_ROWS):
    form = definition(code, version)
    recs = placed(form, SOURCES[form.source], WINDOW)
    recs = recs[recs["row_id"] != "C"]
    return form, compute(form, recs, rows, STATUS, period=WINDOW)


def _render(form, table, path):
    return render_xlsx(form, table, ODD_ROWS, WINDOW, UNIT_NAME, path, META_PRELIMINARY, row_status=STATUS,
                       quality=quality("=B2"))


@pytest.mark.parametrize("code,version", FORMS)
def test_recorded_values_are_what_a_reader_finds_and_bytes_are_stable(code, version, tmp_path):
    form, table = _table(code, version)
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    rendered = _render(form, table, a)
    assert rendered.sha256 == hashlib.sha256(a.read_bytes()).hexdigest()
    wb = openpyxl.load_workbook(a)
    assert rendered.values == publish.sheet_values(wb) == publish.workbook_values(a)
    assert wb.sheetnames == [form.code.replace("/", "-"), "Thông tin", QUALITY_SHEET]
    assert list(rendered.values) == [form.code.replace("/", "-")]
    ws = wb.worksheets[0]
    cells = {(c.row, c.column): c for row in ws.iter_rows() for c in row if c.value is not None}
    # The preliminary line, the odd label kept as text (never a formula), the row of C empty.
    assert any(str(c.value).startswith("BẢN SƠ BỘ") for c in cells.values())
    odd = [c for c in cells.values() if c.column == 1 and str(c.value).startswith("=SUM")]
    assert len(odd) == 1 and odd[0].data_type == "s"
    assert odd[0].value == "=SUM(A1) _x0041_  a_x000D_b"      # as openpyxl reads XlsxWriter's escapes
    assert not any(c.data_type == "f" for s in wb.worksheets for row in s.iter_rows() for c in row)
    c_row = next(c.row for c in cells.values() if c.column == 1 and c.value == "Xã Sóc Sơn")
    for i, col in enumerate(form.columns, start=2):
        if col.kind == "number":
            assert ws.cell(c_row, i).value is None and ws.cell(c_row, i).border.top.style == "thin"
    # Rendered again: the same bytes; the package is dated from meta['generated_at'].
    assert _render(form, table, b).sha256 == rendered.sha256 and a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as z:
        core = z.read("docProps/core.xml").decode()
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    stamp = as_datetime(META_PRELIMINARY["generated_at"]).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f">{stamp}</dcterms:created>" in core and f">{stamp}</dcterms:modified>" in core
    assert wb.properties.creator == "tcd-reporting" and wb.properties.title == f"{form.code_label} – {WINDOW.label}"


def _member_cells(ws) -> set[tuple[int, int]]:
    return {(r, c) for m in ws.merged_cells.ranges for r in range(m.min_row, m.max_row + 1)
            for c in range(m.min_col, m.max_col + 1) if (r, c) != (m.min_row, m.min_col)}


def _layout(path) -> dict:
    """What a reader sees of the layout, per sheet."""
    wb = openpyxl.load_workbook(path)
    out: dict = {"sheets": wb.sheetnames,
                 "properties": (wb.properties.creator, wb.properties.title, wb.properties.created,
                                wb.properties.modified)}
    for ws in wb.worksheets:
        members = _member_cells(ws)
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                borders = tuple(getattr(c.border, side).style for side in ("left", "right", "top", "bottom"))
                if (c.row, c.column) in members:
                    # A merged range's member cells: the range's font and borders.
                    cells[(c.row, c.column)] = ("member", c.font.name, c.font.sz, borders)
                elif c.value is not None or c.has_style:
                    f, al = c.font, c.alignment
                    cells[(c.row, c.column)] = (c.value, c.data_type, f.name, f.sz, bool(f.b), bool(f.i), f.u,
                                                al.horizontal, al.vertical, bool(al.wrap_text), borders,
                                                c.number_format)
        ps, pm = ws.page_setup, ws.page_margins
        out[ws.title] = {
            "cells": cells,
            "merged": sorted(str(m) for m in ws.merged_cells.ranges),
            "widths": {c: d.width for d in ws.column_dimensions.values() if d.customWidth
                       for c in range(d.min, d.max + 1)},
            "heights": {r: d.height for r, d in ws.row_dimensions.items() if d.height is not None},
            "panes": (ws.freeze_panes, ws.print_title_rows),
            # fitToWidth 1 is the default: XlsxWriter leaves it out.
            "page": (ps.orientation, str(ps.paperSize), ps.fitToWidth or 1, ps.fitToHeight,
                     ws.sheet_properties.pageSetUpPr.fitToPage),
            "margins": (pm.left, pm.right, pm.top, pm.bottom, pm.header, pm.footer),
        }
    return out


@pytest.mark.parametrize("code,version", FORMS)
def test_the_layout_is_the_openpyxl_layout(code, version, tmp_path):
    # Plain text only: openpyxl writes text starting with "=" as a formula.
    form, table = _table(code, version, ROWS)
    stamp = as_datetime(META_PRELIMINARY["generated_at"])
    layouts = []
    for book in (OpenpyxlBook(), XlsxWriterBook()):
        build_workbook(form, table, WINDOW, UNIT_NAME, META_PRELIMINARY, row_status=STATUS, quality=quality("B2"),
                       book=book)
        path = tmp_path / f"{type(book).__name__}.xlsx"
        path.write_bytes(book.to_bytes(stamp))
        layouts.append(_layout(path))
    old, new = layouts
    assert new["sheets"] == old["sheets"] and new["properties"] == old["properties"]
    for name in old["sheets"]:
        o, n = old[name], new[name]
        assert n["merged"] == o["merged"], name
        assert n["cells"] == o["cells"], name
        assert (n["panes"], n["page"], n["margins"]) == (o["panes"], o["page"], o["margins"]), name
        assert o["page"][1] == ("8" if name == old["sheets"][0] else "9")            # A3, then A4
        # Widths to 1/7 of a character (XlsxWriter stores whole pixels), never wider.
        assert n["widths"].keys() == o["widths"].keys(), name
        assert all(0 <= o["widths"][c] - n["widths"][c] < 1 / 7 for c in o["widths"]), name
        # Heights to the pixel (0.75 pt): the nearest.
        assert n["heights"].keys() == o["heights"].keys(), name
        assert all(abs(o["heights"][r] - n["heights"][r]) <= 0.375 for r in o["heights"]), name


def test_xlsxwriter_cells_read_back_as_recorded(tmp_path):
    """Every kind of value the backend writes, recorded as openpyxl reads it back."""
    book = XlsxWriterBook()
    ws = book.add_sheet("S")
    values = ["text", "=1+1", "a\r\nb", "_x0041_", "x005F_y", " padded ", "\x01", "", None, True, np.bool_(False),
              0, -0.0, 3.0, 57.900000000000006, 12345678901234567, np.int64(7), np.float64(0.5), decimal.Decimal("1.25"),
              dt.datetime(2024, 8, 1, 8, 30, 0, 123456), dt.date(2024, 3, 1), dt.time(8, 30)]
    for i, v in enumerate(values, start=1):
        ws.cell(i, 1, v, border=True)
        ws.cell(i, 2, v, number_format="dd/mm/yyyy" if isinstance(v, dt.date) else "#,##0.00")
    ws.cell(1, 3, "merged", font=cell_font(12, bold=True), border=True, merge_to=(3, 4))
    path = tmp_path / "s.xlsx"
    path.write_bytes(book.to_bytes(dt.datetime(2024, 8, 1)))
    read = publish.sheet_values(openpyxl.load_workbook(path), skip_sheets=())
    assert publish.recorded_values(book.values, skip_sheets=()) == read
    assert read["S"][(2, 1)] == "=1+1" and read["S"][(4, 1)] == "_x0041_" and read["S"][(5, 1)] == "y"
    assert (8, 1) not in read["S"] and (9, 1) not in read["S"]
    assert (2, 3) not in read["S"] and read["S"][(1, 3)] == "merged"
    with pytest.raises(TypeError, match="cannot write"):
        ws.cell(1, 5, object())
    with pytest.raises(ValueError, match="more than a cell holds"):      # XlsxWriter would cut it
        ws.cell(1, 5, "😀" * 16384)
