"""Write a computed report table as the official Excel layout (XlsxWriter).

Driven entirely by the form definition (reports/formdef/): the header tree becomes
merged header cells, the MS row numbers the columns (with the identities the form
prints), then one row per unit and the total row. A second sheet "Thông tin" carries
the run's metadata (generic key/value pairs) so a delivered file can be traced back;
an optional third sheet "Chất lượng dữ liệu" carries what the caller says about the
quality of the data behind the report (summary pairs and tables, see write_xlsx).

A row whose units did not report (reports.formdef.RowStatus, reported=False) has
empty number cells, never zeros; its note says "Chưa báo cáo". Each number column is
written with its definition's ``number_format`` ("#,##0" for counts; e.g. "#,##0.0"
for money in triệu đồng and land in m²).

The 2025 forms (TT 06/2025/TT-TTCP) add, when their definition has the keys: the annex
line under the date line (``annex_line``); instead of a "Ghi chú" column, the numbered
note line under the table (``note_line``, "22. Ghi chú:") followed by the notes — one
line per reason of the columns without data ("Cột (10), (16): …", left empty in the
table) and, when the form has no note column, one line "<row label>: <note>" per row
note — and then the guide printed under the form (``guide``).

Guarantees:
- a table that breaks a check identity is refused (IdentityError) and nothing is
  written;
- values are numbers, never formulas (the file is a record of what was computed, and
  readers such as mail previews do not evaluate formulas);
- the write is atomic (temporary file in the same folder, then rename);
- one layout code, two backends (reports.xlsx): the report workbooks are written with
  XlsxWriter (:func:`render_xlsx`); :class:`TableWriter` and :func:`info_sheet` also
  write openpyxl workbooks (reports.dq_workbook, reports.summary);
- same inputs (incl. meta) → same bytes: timestamps inside the package are fixed from
  ``meta['generated_at']`` (or the period end), so the returned sha256 identifies the
  content.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import os
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd
from openpyxl import Workbook

from core.files import atomic_write_bytes, sha256_bytes
from reports.formdef import (
    TOTAL_ROW_ID,
    UNAVAILABLE,
    FormDef,
    HeaderNode,
    ReportRow,
    RowStatus,
    assert_identities,
    not_reported_rows,
    row_notes,
    unavailable_notes,
)
from reports.publish import recorded_values
from reports.xlsx import (
    CENTER,
    BookWriter,
    SheetWriter,
    XlsxWriterBook,
    alignment,
    cell_font,
    deterministic_bytes,
)

NUMBER_FORMAT = "#,##0"
DEFAULT_NUMBER_WIDTH = 8.5
INFO_SHEET = "Thông tin"
QUALITY_SHEET = "Chất lượng dữ liệu"
DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
DECIMAL_FORMAT = "#,##0.00"
EMPTY_TABLE_TEXT = "Không có"


# Labels for well-known metadata keys on the info sheet; other keys are shown as given.
META_LABELS = {
    "run_id": "Mã lần chạy (run id)",
    "data_cutoff": "Thời điểm chốt số liệu",
    "generated_at": "Thời điểm lập báo cáo",
    "source_batch_count": "Số lô dữ liệu nguồn",
    "source_batches": "Các lô dữ liệu nguồn",
    "record_count": "Số bản ghi được tính",
    "form_version": "Phiên bản biểu mẫu",
    "pipeline_version": "Phiên bản phần mềm",
    "issue_kind": "Loại bản phát hành",
    "units_deadline": "Hạn các đơn vị gửi báo cáo",
}


def as_datetime(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    try:
        return as_datetime(dt.datetime.fromisoformat(str(value)))
    except ValueError:
        return None


def _meta_value(value: Any) -> Any:
    """A metadata value as a cell value: text for anything not a plain number, so the
    sheet reads the same everywhere (no timezone or locale conversions)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, (int, float)) and not (isinstance(value, float) and math.isnan(value)):
        return value
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set)):
        items = sorted(map(str, value)) if isinstance(value, set) else [str(v) for v in value]
        return ", ".join(items)
    if isinstance(value, Mapping):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)


def _naive(value: dt.datetime) -> dt.datetime:
    # Excel has no time zones: aware times are shown in UTC (as as_datetime does).
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None) if value.tzinfo else value


def table_cell(value: Any) -> tuple[Any, str | None]:
    """A value of a generic table as (cell value, number format): dates and times as
    real dates (dd/mm/yyyy, dd/mm/yyyy hh:mm), integers with thousands separators,
    missing values empty, booleans "có"/"không", anything else as text."""
    if value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value))):
        return None, None          # None, NaN, NaT, pd.NA
    if isinstance(value, pd.Timestamp):
        return _naive(value.to_pydatetime()), DATETIME_FORMAT
    if isinstance(value, dt.datetime):
        return _naive(value), DATETIME_FORMAT
    if isinstance(value, dt.date):
        return value, DATE_FORMAT
    if isinstance(value, (bool, np.bool_)):
        return ("có" if value else "không"), None
    if isinstance(value, (int, np.integer)):
        return int(value), NUMBER_FORMAT
    if isinstance(value, (float, np.floating)):
        if math.isinf(value):
            return str(value), None
        return float(value), (NUMBER_FORMAT if float(value).is_integer() else DECIMAL_FORMAT)
    if isinstance(value, (list, tuple, set, Mapping)):
        return _meta_value(value), None
    return str(value), None


def _display_width(value: Any, number_format: str | None) -> float:
    """About how many characters `value` takes when shown with `number_format`."""
    if value is None:
        return 0
    if number_format == DATETIME_FORMAT:
        return 16
    if number_format == DATE_FORMAT:
        return 10
    if number_format == NUMBER_FORMAT:
        return len(f"{value:,.0f}")
    if number_format == DECIMAL_FORMAT:
        return len(f"{value:,.2f}")
    return max((len(line) for line in str(value).splitlines()), default=0)


class TableWriter:
    """Writes bordered tables (bold header, typed cells) on a sheet and remembers how
    wide each column's content is, so that :meth:`fit_widths` can size the columns.
    Shared by the "Chất lượng dữ liệu" sheet and reports.dq_workbook; `sheet` is a
    reports.xlsx.SheetWriter of either backend."""

    def __init__(self, sheet: SheetWriter, *, min_width: float = 8, max_width: float = 60, font_size: float = 11):
        self.sheet = sheet
        self.min_width, self.max_width, self.font_size = min_width, max_width, font_size
        self.widths: dict[int, float] = {}

    def _note_width(self, col: int, chars: float) -> None:
        self.widths[col] = max(self.widths.get(col, 0), chars)

    def title(self, row: int, text: str, *, size: float = 12, col: int = 1) -> int:
        """A bold line of text (not counted in column widths); returns the next row."""
        self.sheet.cell(row, col, text, font=cell_font(size, bold=True))
        return row + 1

    def header(self, row: int, labels: list[str], *, col: int = 1) -> int:
        hfont = cell_font(self.font_size, bold=True)
        for j, label in enumerate(labels):
            self.sheet.cell(row, col + j, label, font=hfont, align=CENTER, border=True)
            # Headers may wrap onto two lines; no word is split.
            text = str(label)
            longest = max((len(w) for w in text.split()), default=0)
            self._note_width(col + j, max(longest, math.ceil(len(text) / 2)) + 1)
        return row + 1

    def data_row(self, row: int, values: list[Any], *, col: int = 1, bold: bool = False) -> int:
        for j, v in enumerate(values):
            value, fmt = table_cell(v)
            numeric = fmt in (NUMBER_FORMAT, DECIMAL_FORMAT)
            dated = fmt in (DATE_FORMAT, DATETIME_FORMAT)
            align = alignment(horizontal="right" if numeric else ("center" if dated else "left"),
                              vertical="top", wrap_text=not (numeric or dated))
            self.sheet.cell(row, col + j, value, font=cell_font(self.font_size, bold=bold), align=align, border=True,
                            number_format=fmt)
            self._note_width(col + j, _display_width(value, fmt) + 2)
        return row + 1

    def empty_row(self, row: int, ncols: int, *, col: int = 1, text: str = EMPTY_TABLE_TEXT) -> int:
        self.sheet.cell(row, col, text, font=cell_font(self.font_size, italic=True), align=CENTER, border=True,
                        merge_to=(row, col + max(ncols, 1) - 1))
        return row + 1

    def table(self, row: int, labels: list[str], rows: list[list[Any]], *, col: int = 1) -> tuple[int, int]:
        """Header and rows (or the "Không có" line); returns (header row, next row)."""
        h = row
        row = self.header(row, labels, col=col)
        if not rows:
            return h, self.empty_row(row, len(labels), col=col)
        for values in rows:
            row = self.data_row(row, list(values), col=col)
        return h, row

    def fit_widths(self, fixed: Mapping[int, float] | None = None) -> None:
        fixed = dict(fixed or {})
        for c in sorted(set(self.widths) | set(fixed)):
            w = fixed.get(c, min(self.max_width, max(self.min_width, self.widths.get(c, 0) * 1.1 + 1)))
            self.sheet.column_width(c, round(w, 1))


def _estimate_lines(text: str, width_chars: float) -> int:
    # Times New Roman 11 bold: about one character per unit of column width, less a
    # margin; words do not split, so count by words.
    usable = max(width_chars - 1.0, 3.0)
    lines, current = 1, 0.0
    for word in str(text).split():
        w = len(word) * 1.1
        if current and current + 1 + w > usable:
            lines += 1
            current = w
        else:
            current = current + (1 if current else 0) + w
        while current > usable:  # a word longer than the column wraps by characters
            lines += 1
            current -= usable
    return lines


def _header_layout(form: FormDef) -> list[tuple[HeaderNode, int, int, int, int]]:
    """(node, level, depth-span, first column, last column) for every header node;
    columns counted from 0 over the MS columns."""
    depth = form.header_depth
    out = []
    counter = [0]

    def walk(node: HeaderNode, level: int):
        if node.is_leaf:
            c = counter[0]
            counter[0] += 1
            out.append((node, level, depth - level, c, c))
            return c, c
        first = last = None
        for ch in node.children:
            a, b = walk(ch, level + node.row_span)
            first = a if first is None else first
            last = b
        out.append((node, level, node.row_span, first, last))
        return first, last

    for n in form.header:
        walk(n, 0)
    return out


def _validate(form: FormDef, table: pd.DataFrame, rows: list[ReportRow] | None) -> None:
    missing = [c for c in ["label", "kind", *form.ms_numbers] if c not in table.columns]
    if missing:
        raise ValueError(f"table lacks columns {missing}; build it with reports.formdef.compute")
    if rows is not None:
        ids = [r.row_id for r in rows]
        if ids and rows[-1].kind != "total":
            ids.append(TOTAL_ROW_ID)
        if ids != [str(i) for i in table.index]:
            raise ValueError("rows do not match the table's rows (same ids, same order)")


def build_workbook(form: FormDef, table: pd.DataFrame, period, unit_name: str,
                   meta: Mapping[str, Any] | None = None, *, header_block: bool = True,
                   row_status: Mapping[str, RowStatus] | None = None,
                   quality: Mapping[str, Any] | None = None, book: BookWriter | None = None) -> BookWriter:
    """The workbook for a checked table (no identity check here; see write_xlsx), written
    into `book` (default: a new reports.xlsx.XlsxWriterBook), which is returned."""
    meta = dict(meta or {})
    book = XlsxWriterBook() if book is None else book
    ws = book.add_sheet(form.code.replace("/", "-")[:31])
    ncols = 1 + len(form.columns)
    last = ncols
    widths = {1: form.unit_width}
    for i, c in enumerate(form.columns, start=2):
        widths[i] = c.width or (24 if c.kind == "text" else DEFAULT_NUMBER_WIDTH)
    for i, w in widths.items():
        ws.column_width(i, w)

    r = 1
    # Form code, top right (the forms carry it above the title).
    code_from = max(2, last - 3)
    ws.cell(r, code_from, form.code_label, font=cell_font(12, bold=True),
            align=alignment(horizontal="right", vertical="center"), merge_to=(r, last))
    r += 1
    if header_block:
        left_to = min(3, last)
        right_from = max(left_to + 1, last - 13)
        ws.cell(r, 1, unit_name.upper(), font=cell_font(12, bold=True), align=CENTER, merge_to=(r, left_to))
        ws.cell(r, right_from, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", font=cell_font(12, bold=True),
                align=CENTER, merge_to=(r, last))
        r += 1
        ws.cell(r, right_from, "Độc lập - Tự do - Hạnh phúc", font=cell_font(12, bold=True, underline="single"),
                align=CENTER, merge_to=(r, last))
        r += 2
    ws.cell(r, 1, form.title, font=cell_font(14, bold=True), align=CENTER, merge_to=(r, last))
    ws.row_height(r, 24)
    r += 1
    ws.cell(r, 1, form.format_date_line(period.start, period.end), font=cell_font(12, italic=True),
            align=CENTER, merge_to=(r, last))
    r += 1
    if form.annex_line:
        # TT 06/2025: each table is an annex of a numbered report; the blanks stay for
        # whoever signs the report to fill in.
        ws.cell(r, 1, form.annex_line, font=cell_font(12, italic=True), align=CENTER, merge_to=(r, last))
        r += 1
    if meta.get("issue_kind") == "preliminary":
        # On the form itself, not only on the info sheet: a preliminary table must never
        # be sent on as the unit's report by mistake.
        ws.cell(r, 1, preliminary_text(meta.get("units_deadline")), font=cell_font(12, bold=True),
                align=CENTER, merge_to=(r, last))
        r += 1
    r += 1

    # Header tree.
    depth = form.header_depth
    h0 = r
    hfont = cell_font(11, bold=True)
    ws.cell(h0, 1, form.unit_header, font=hfont, align=CENTER, border=True, merge_to=(h0 + depth - 1, 1))
    lines_per_row = [1] * depth
    for node, level, span, c0, c1 in _header_layout(form):
        top, left, right = h0 + level, 2 + c0, 2 + c1
        ws.cell(top, left, node.text, font=hfont, align=CENTER, border=True, merge_to=(top + span - 1, right))
        width = sum(widths[i] for i in range(left, right + 1))
        need = _estimate_lines(node.text, width)
        # Spread the lines a merged-down leaf needs over the rows it spans.
        per_row = math.ceil(need / span)
        for lv in range(level, level + span):
            lines_per_row[lv] = max(lines_per_row[lv], per_row)
    for i, n in enumerate(lines_per_row):
        ws.row_height(h0 + i, max(18, 15 * n + 3))
    r = h0 + depth

    # MS row: column numbers, with the identities the form prints.
    ws.cell(r, 1, form.ms_label, font=cell_font(11, bold=True), align=CENTER, border=True)
    for i, c in enumerate(form.columns, start=2):
        value = c.ms if c.ms_text == str(c.ms) else c.ms_text
        ws.cell(r, i, value, font=cell_font(10, bold=True, italic=True), align=CENTER, border=True)
    ms_row = r
    ws.row_height(r, max(18, 13 * max(_estimate_lines(c.ms_text, widths[i])
                                      for i, c in enumerate(form.columns, start=2)) + 3))
    r += 1

    # Data rows, total last (bold).
    first_data = r
    text_cols = [(i, c.ms) for i, c in enumerate(form.columns, start=2) if c.kind == "text"]
    # Each row as a plain dict (iterrows builds a Series per row; a report set writes
    # thousands of small tables).
    for line in table.to_dict("records"):
        bold = line["kind"] == "total"
        # Rows keep their text readable: grow the height for wrapped labels and notes.
        lines = max([_estimate_lines(str(line["label"]), widths[1])]
                    + [_estimate_lines(str(line[ms] or ""), widths[i]) for i, ms in text_cols])
        if lines > 1:
            ws.row_height(r, 15 * lines + 3)
        ws.cell(r, 1, str(line["label"]), font=cell_font(12, bold=bold),
                align=alignment(horizontal="center" if bold else "left", vertical="center", wrap_text=True),
                border=True)
        for i, c in enumerate(form.columns, start=2):
            v = line[c.ms]
            if c.kind == UNAVAILABLE:
                # No source carries it yet: empty, never 0; the reason is under the table.
                ws.cell(r, i, None, font=cell_font(12, bold=bold), border=True,
                        align=alignment(horizontal="center", vertical="center"))
            elif c.kind == "number":
                # A unit that did not report: the cell stays empty, never 0. Decimal
                # columns (money, land) keep their value and show the column's format.
                ws.cell(r, i, None if pd.isna(v) else (float(v) if c.decimal else int(v)),
                        font=cell_font(12, bold=bold), border=True, number_format=c.number_format,
                        align=alignment(horizontal="center", vertical="center"))
            else:
                ws.cell(r, i, (str(v) if v is not None and str(v) != "" else None), font=cell_font(11, bold=bold),
                        border=True, align=alignment(horizontal="left", vertical="center", wrap_text=True))
        r += 1
    _notes_under_table(ws, form, table, r + 1, last, sum(widths.values()))

    ws.freeze(first_data, 2)
    ws.print_title_rows(h0, ms_row)
    ws.page("landscape", "A3")

    _info_sheet(book, form, table, period, unit_name, meta, row_status)
    if quality is not None:
        quality_sheet(book, quality)
    book.set_properties(creator="tcd-reporting", title=f"{form.code_label} – {period.label}")
    return book


ISSUE_KIND_TEXT = {"preliminary": "Bản sơ bộ", "official": "Bản chính thức"}


def preliminary_text(units_deadline: str | None) -> str:
    """The line a preliminary issue (bản sơ bộ) carries under its title."""
    due = f" (ngày {units_deadline})" if units_deadline else ""
    return (f"BẢN SƠ BỘ – lập trước hạn các đơn vị gửi báo cáo{due}, số liệu có thể còn thay đổi; "
            "bản chính thức được phát hành sau hạn này.")


def note_lines(form: FormDef, table: pd.DataFrame) -> list[str]:
    """What goes on the Ghi chú line(s) under the table: the reasons of the columns
    without data, then — when the form has no note column — "<row label>: <note>" for
    every row note (a unit that did not report, a row short of units, the total that
    leaves some out)."""
    lines = unavailable_notes(form)
    if not form.has_note_column:
        lines += [f"{label}: {note}" for label, note in row_notes(form, table)]
    return lines


def _notes_under_table(ws: SheetWriter, form: FormDef, table: pd.DataFrame, r: int, last: int, width: float) -> int:
    """The note line, its notes and the guide under the table, from row `r` (one row
    left empty above it, so the table stays one block); returns the next free row."""
    notes = note_lines(form, table)
    if not (form.note_line or form.guide or notes):
        return r
    lines = [(form.note_line or "Ghi chú:", cell_font(12, bold=True))]
    lines += [(n, cell_font(12)) for n in notes]
    # The guide's heading ("Hướng dẫn cách ghi biểu") stands out from its dash lines.
    lines += [(g, cell_font(11, italic=True, bold=not g.startswith("-"))) for g in form.guide]
    left = alignment(horizontal="left", vertical="top", wrap_text=True)
    for text, font in lines:
        ws.cell(r, 1, text, font=font, align=left, merge_to=(r, last))
        n = _estimate_lines(text, width)
        if n > 1:
            ws.row_height(r, 16 * n + 2)
        r += 1
    return r


def _info_sheet(book: BookWriter, form: FormDef, table: pd.DataFrame, period, unit_name: str,
                meta: dict[str, Any], row_status: Mapping[str, RowStatus] | None = None) -> None:
    n_rows = int((table["kind"] != "total").sum())
    # The checked row status names the rows that did not report (check_identities
    # verified that they are the empty ones); without it, look at the cells.
    rows_shown = set(map(str, table.index))
    not_reported = ([k for k, st in row_status.items() if not st.reported and str(k) in rows_shown]
                    if row_status is not None else not_reported_rows(form, table))
    scope = " đã báo cáo" if not_reported else ""
    items: list[tuple[str, Any]] = [
        ("Biểu mẫu", f"{form.code_label} – {form.title}"),
        ("Phiên bản định nghĩa biểu", f"{form.version} ({form.circular})" if form.circular else form.version),
        ("Đơn vị báo cáo", unit_name),
        ("Kỳ báo cáo", period.label),
        ("Từ ngày", period.start.strftime("%d/%m/%Y")),
        ("Đến ngày", period.end.strftime("%d/%m/%Y")),
        ("Số dòng đơn vị", n_rows),
        ("Số dòng đơn vị chưa báo cáo", len(not_reported)),
        ("Kiểm tra đẳng thức", f"Đạt: {len(form.verified_checks)} đẳng thức trên mọi dòng{scope}"
                               + (f"; dòng tổng cộng = tổng các dòng{scope}" if form.total_is_sum_of_rows else "")),
    ]
    # An identity over a column without data would pass or fail by accident: say which
    # were left out, and why.
    for chk, cols in form.unchecked_checks:
        reasons = "; ".join(dict.fromkeys(" ".join(form.column(m).reason.split()) for m in cols))
        items.append(("Đẳng thức không kiểm tra",
                      f"«{chk.text}»: không kiểm tra vì cột {', '.join(map(str, cols))} chưa có nguồn số liệu "
                      f"(để trống) — {reasons}"))
    items += [("Cột chưa có số liệu", line) for line in unavailable_notes(form)]
    if row_status:
        missing_units = sum(st.units_missing for st in row_status.values() if st.units_missing)
        items.append(("Số đơn vị chưa báo cáo", missing_units))
    items += [(META_LABELS.get(str(k), str(k)),
               ISSUE_KIND_TEXT.get(str(v), v) if k == "issue_kind" else _meta_value(v)) for k, v in meta.items()]
    if form.semantics:
        items.append(("Cách tính", " ".join(form.semantics.split())))
    info_sheet(book, items)


def info_sheet(book: BookWriter, items: list[tuple[str, Any]], *, title: str = "THÔNG TIN BÁO CÁO",
               name: str = INFO_SHEET) -> SheetWriter:
    """A sheet of label/value pairs (the "Thông tin" sheet of every workbook), added to
    `book` (a reports.xlsx.BookWriter of either backend)."""
    ws = book.add_sheet(name)
    ws.column_width(1, 34)
    ws.column_width(2, 90)
    ws.cell(1, 1, title, font=cell_font(13, bold=True), merge_to=(1, 2))
    top = alignment(vertical="top", wrap_text=True)
    for i, (k, v) in enumerate(items, start=3):
        ws.cell(i, 1, k, font=cell_font(12, bold=True), align=top, border=True)
        ws.cell(i, 2, v, font=cell_font(12), align=alignment(horizontal="left", vertical="top", wrap_text=True),
                border=True)
        if isinstance(v, str) and len(v) > 85:
            ws.row_height(i, 16 * math.ceil(len(v) / 85) + 2)
    ws.page("landscape", "A4")
    return ws


def _check_quality(quality: Mapping[str, Any]) -> None:
    if not isinstance(quality, Mapping):
        raise TypeError("quality must be a mapping {'summary': [...], 'tables': [...]}")
    unknown = set(quality) - {"summary", "tables", "title"}
    if unknown:
        raise ValueError(f"quality has unknown keys {sorted(unknown)}")
    for item in quality.get("summary") or []:
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise ValueError(f"quality summary items are (label, value) pairs, not {item!r}")
    for t in quality.get("tables") or []:
        if not isinstance(t, Mapping) or "columns" not in t:
            raise ValueError("each quality table needs `columns` (and `title`, `rows`)")
        n = len(t["columns"])
        for r in t.get("rows") or []:
            if len(r) != n:
                raise ValueError(f"quality table {t.get('title')!r}: row {list(r)!r} has {len(r)} values "
                                 f"for {n} columns")


def quality_sheet(book: BookWriter, quality: Mapping[str, Any]) -> SheetWriter:
    """The "Chất lượng dữ liệu" sheet, added last to `book` (build_workbook adds it
    after "Thông tin").

    ``quality = {"summary": [(label, value), …], "tables": [{"title": str,
    "columns": [str, …], "rows": [[…], …]}, …]}`` (optionally ``"title"`` for the sheet
    heading). Values may be numbers, text, dates and datetimes (shown dd/mm/yyyy and
    dd/mm/yyyy hh:mm; aware datetimes in UTC), None (empty). A table without rows
    shows "Không có".
    """
    _check_quality(quality)
    ws = book.add_sheet(QUALITY_SHEET)
    tw = TableWriter(ws, min_width=10, max_width=60)
    r = tw.title(1, str(quality.get("title") or "CHẤT LƯỢNG DỮ LIỆU CỦA BÁO CÁO"), size=13) + 1
    summary = [list(x) for x in quality.get("summary") or []]
    fixed: dict[int, float] = {}
    if summary:
        top = alignment(vertical="top", wrap_text=True)
        for label, value in summary:
            ws.cell(r, 1, str(label), font=cell_font(12, bold=True), align=top, border=True)
            cell_value, fmt = table_cell(value)
            ws.cell(r, 2, cell_value, font=cell_font(12), border=True, number_format=fmt,
                    align=alignment(horizontal="left", vertical="top", wrap_text=True))
            tw._note_width(1, len(str(label)) + 2)
            r += 1
        r += 1
    for t in quality.get("tables") or []:
        if t.get("title"):
            r = tw.title(r, str(t["title"]), size=12)
        _, r = tw.table(r, [str(c) for c in t["columns"]], [list(x) for x in t.get("rows") or []])
        r += 1
    # The summary's labels need room; its values wrap in column B.
    if summary:
        fixed[1] = min(60, max(tw.widths.get(1, 0) * 1.1 + 1, 30))
        fixed[2] = max(min(60, tw.widths.get(2, 0) * 1.1 + 1), 40)
    tw.fit_widths(fixed)
    ws.page("landscape", "A4")
    return ws


def write_xlsx(form: FormDef, table: pd.DataFrame, rows: list[ReportRow] | None, period,
               unit_name: str, path: str | os.PathLike, meta: Mapping[str, Any] | None = None,
               *, header_block: bool = True, row_status: Mapping[str, RowStatus] | None = None,
               quality: Mapping[str, Any] | None = None) -> str:
    """Check, render and atomically write the report; return the file's sha256 (hex).

    `table` comes from :func:`reports.formdef.compute`; `rows` are the rows it was
    computed for (checked against the table; None to skip). `unit_name` is the issuing
    body as printed top left (upper case), e.g. "UBND Thành phố Hà Nội", "Thanh tra
    Chính phủ" for the national report. `meta` is shown on the
    "Thông tin" sheet (run_id, data_cutoff, generated_at, source_batch_count, …).
    `row_status` is what the table was computed with (its not-reported rows must be
    the table's empty rows; the info sheet counts them). `quality`, when given, becomes
    the "Chất lượng dữ liệu" sheet after "Thông tin" (see :func:`quality_sheet`).
    Raises IdentityError, writing nothing, when a check identity fails.
    """
    return render_xlsx(form, table, rows, period, unit_name, path, meta, header_block=header_block,
                       row_status=row_status, quality=quality).sha256


@dataclass(frozen=True)
class Rendered:
    """A written report workbook: its sha256 (hex), and the values of its compared
    cells as reports.publish.sheet_values reads them from the file (recorded while
    writing: reports.publish.recorded_values), so that issuing it need not read it back."""

    sha256: str
    values: dict


def render_xlsx(form: FormDef, table: pd.DataFrame, rows: list[ReportRow] | None, period,
                unit_name: str, path: str | os.PathLike, meta: Mapping[str, Any] | None = None,
                *, header_block: bool = True, row_status: Mapping[str, RowStatus] | None = None,
                quality: Mapping[str, Any] | None = None) -> Rendered:
    """:func:`write_xlsx`, returning the file's sha256 and its compared cell values."""
    _validate(form, table, rows)
    assert_identities(form, table, row_status)
    if quality is not None:
        _check_quality(quality)
    book = build_workbook(form, table, period, unit_name, meta, header_block=header_block,
                          row_status=row_status, quality=quality, book=XlsxWriterBook())
    stamp = as_datetime((meta or {}).get("generated_at")) or dt.datetime.combine(period.end, dt.time())
    sha256 = save_workbook(book, path, stamp)
    # The values as the writer recorded them (as a reader reads them back from the file).
    return Rendered(sha256, recorded_values(book.values))


def save_workbook(wb: Workbook | BookWriter, path: str | os.PathLike, stamp: dt.datetime) -> str:
    """Write `wb` (an openpyxl workbook or a reports.xlsx.BookWriter) atomically with
    deterministic bytes (timestamps fixed to `stamp`); return the sha256 (hex) of the file."""
    data = wb.to_bytes(stamp) if isinstance(wb, BookWriter) else deterministic_bytes(wb, stamp)
    atomic_write_bytes(path, data)
    return sha256_bytes(data)
