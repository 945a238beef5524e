"""The summary workbook: the sheets Tổng hợp, Theo cấp, Biểu đồ (native charts on the
cells of Tổng hợp), Trách nhiệm tiếp công dân, Vượt cấp, Nhận định and Thông tin, written
atomically with deterministic bytes (:func:`build_summary`).
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference, Series
from openpyxl.chart.data_source import StrRef
from openpyxl.chart.series import SeriesLabel
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter, quote_sheetname

from core import regimes
from core.dates import vn_date
from core.levels import LEVEL_NAMES, LEVELS
from reports.narrative import format_vn
from reports.render import META_LABELS, NUMBER_FORMAT, as_datetime, info_sheet, save_workbook
from reports.summary.data import SummaryData, cell_number
from reports.summary.rules import (
    CHANGE_FORMAT,
    CHANGE_RATE_FORMAT,
    DATE_FORMAT,
    HEAD_DUTY,
    INDICATORS,
    RATE_FORMAT,
    SHEET_CHARTS,
    SHEET_DUTY,
    SHEET_INFO,
    SHEET_LEVELS,
    SHEET_SKIPPED,
    SHEET_TEXT,
    SHEET_TOTALS,
    SKIPPED_RULE,
    STATUS_SHORT,
    TITLE,
)
from reports.summary.tables import SummaryTables, compute_summary
from reports.xlsx import OpenpyxlBook, cell_font, put_cell


@dataclass
class SummaryResult:
    path: Path
    sha256: str
    tables: SummaryTables


_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
_RIGHT = Alignment(horizontal="right", vertical="center")


def _put(ws, row: int, col: int, value: Any, *, size: float = 12, bold: bool = False, italic: bool = False,
         align: Alignment | None = None, border: bool = False, fmt: str | None = None,
         merge_to: tuple[int, int] | None = None, underline: str | None = None):
    """reports.xlsx.put_cell with the font given by its parts."""
    return put_cell(ws, row, col, value, font=cell_font(size, bold, italic, underline), align=align,
                    border=border, number_format=fmt, merge_to=merge_to)


def _page(ws, orientation: str = "landscape") -> None:
    ws.page_setup.orientation = orientation
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _heading(ws, t: SummaryTables, last_col: int, title: str) -> int:
    """The official header block and title; returns the next free row."""
    left_to = min(3, last_col)
    right_from = max(left_to + 1, last_col - 5)
    _put(ws, 1, 1, f"UBND {t.province['name'].upper()}", bold=True, align=_CENTER, merge_to=(1, left_to))
    _put(ws, 1, right_from, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, align=_CENTER,
         merge_to=(1, last_col))
    _put(ws, 2, right_from, "Độc lập - Tự do - Hạnh phúc", bold=True, underline="single", align=_CENTER,
         merge_to=(2, last_col))
    _put(ws, 4, 1, title, size=14, bold=True, align=_CENTER, merge_to=(4, last_col))
    ws.row_dimensions[4].height = 36
    _put(ws, 5, 1, f"Số liệu tính từ ngày {vn_date(t.date_from)} đến ngày {vn_date(t.date_to)}",
         italic=True, align=_CENTER, merge_to=(5, last_col))
    return 7


def _indicator_block(ws, top: int, t: SummaryTables, sections: list[tuple[str, pd.DataFrame, pd.DataFrame]],
                     with_change: bool = True) -> tuple[int, dict[tuple[int, str], int], tuple[int, int], int]:
    """Header (3 rows) and, per section, its title row and indicator rows.

    Returns (next row, {(section index, indicator key): row}, (first, last) column of
    the year windows, header row holding the window labels)."""
    n = len(t.windows)
    c_year0 = 4
    c_total = c_year0 + n
    c_change0 = c_total + 1
    pairs = t.windows[1:] if with_change else []
    last = c_total + 2 * len(pairs)
    h = top
    hb = dict(size=11, bold=True, align=_CENTER, border=True)
    _put(ws, h, 1, "STT", merge_to=(h + 2, 1), **hb)
    _put(ws, h, 2, "Chỉ tiêu", merge_to=(h + 2, 2), **hb)
    _put(ws, h, 3, "Đơn vị tính", merge_to=(h + 2, 3), **hb)
    for j, w in enumerate(t.windows):
        _put(ws, h, c_year0 + j, w.label, merge_to=(h + 2, c_year0 + j), **hb)
    _put(ws, h, c_total, f"Tổng cộng ({t.date_from:%d/%m/%Y}–{t.date_to:%d/%m/%Y})", merge_to=(h + 2, c_total), **hb)
    if pairs:
        _put(ws, h, c_change0, "Tăng (+), giảm (-) so với năm trước", merge_to=(h, last), **hb)
        for j, (prev, cur) in enumerate(zip(t.windows, t.windows[1:])):
            c = c_change0 + 2 * j
            _put(ws, h + 1, c, f"{cur.year} so với {prev.year}", merge_to=(h + 1, c + 1), **hb)
            _put(ws, h + 2, c, "Số lượng", **hb)
            _put(ws, h + 2, c + 1, "Tỷ lệ (%)", **hb)
    ws.row_dimensions[h].height = 32
    ws.row_dimensions[h + 1].height = 30
    r = h + 3
    rows: dict[tuple[int, str], int] = {}
    for si, (title, table, change) in enumerate(sections):
        _put(ws, r, 1, title, bold=True, align=_LEFT, border=True, merge_to=(r, last))
        r += 1
        group, gi, ii = None, 0, 0
        for ind in INDICATORS:
            if ind.group != group:
                group, gi, ii = ind.group, gi + 1, 0
                _put(ws, r, 1, str(gi), bold=True, align=_CENTER, border=True)
                _put(ws, r, 2, group, bold=True, align=_LEFT, border=True, merge_to=(r, last))
                r += 1
            ii += 1
            fmt = RATE_FORMAT if ind.is_rate else NUMBER_FORMAT
            _put(ws, r, 1, f"{gi}.{ii}", align=_CENTER, border=True)
            _put(ws, r, 2, ind.label, align=_LEFT, border=True)
            _put(ws, r, 3, ind.unit, align=_CENTER, border=True)
            for j, w in enumerate([*t.windows, t.total]):
                _put(ws, r, c_year0 + j, cell_number(table.at[ind.key, w.key]), align=_RIGHT, border=True, fmt=fmt,
                     bold=w.key == "total")
            for j, (_, cur) in enumerate(zip(t.windows, t.windows[1:])):
                if not pairs:
                    break
                c = c_change0 + 2 * j
                a, p = change.at[ind.key, (cur.key, "abs")], change.at[ind.key, (cur.key, "pct")]
                _put(ws, r, c, cell_number(a), align=_RIGHT, border=True,
                     fmt=CHANGE_RATE_FORMAT if ind.is_rate else CHANGE_FORMAT)
                _put(ws, r, c + 1, cell_number(p), align=_RIGHT, border=True, fmt=CHANGE_RATE_FORMAT)
            rows[(si, ind.key)] = r
            r += 1
    widths = {1: 6, 2: 46, 3: 9}
    for c in range(c_year0, last + 1):
        widths[c] = 13 if c <= c_total else 10
    widths[c_total] = 15
    for c, wdt in widths.items():
        ws.column_dimensions[get_column_letter(c)].width = wdt
    return r, rows, (c_year0, c_year0 + n - 1), h


def _note(ws, row: int, last_col: int, text: str) -> int:
    _put(ws, row, 1, text, size=11, italic=True, align=Alignment(wrap_text=True, vertical="top"),
         merge_to=(row, last_col))
    ws.row_dimensions[row].height = 15 * max(1, math.ceil(len(text) / (last_col * 11))) + 4
    return row + 1


def _last_col(t: SummaryTables) -> int:
    return 3 + len(t.windows) + 1 + 2 * (len(t.windows) - 1)


def _totals_sheet(wb: Workbook, t: SummaryTables, switch_text: str):
    ws = wb.active
    ws.title = SHEET_TOTALS
    last = _last_col(t)
    r = _heading(ws, t, last, TITLE)
    name = t.province["name"]
    sections = [(f"I. TOÀN {t.subject.upper()} (CẤP TỈNH, CẤP HUYỆN, CẤP XÃ)", t.whole, t.changes["whole"]),
                (f"II. CẤP TỈNH (UBND {name.upper()})", t.own, t.changes["own"])]
    r, rows, year_cols, label_row = _indicator_block(ws, r, t, sections)
    r += 1
    r = _note(ws, r, last, _window_note(t, switch_text))
    ws.freeze_panes = f"D{label_row + 3}"
    ws.print_title_rows = f"{label_row}:{label_row + 2}"
    _page(ws)
    return ws, rows, year_cols, label_row


def _window_note(t: SummaryTables, switch_text: str) -> str:
    """The note under a table; `switch_text`: :func:`regime_switch_text` of the range."""
    partial = [w.label for w in t.windows if w.partial]
    text = ("Ghi chú: số liệu theo năm dương lịch, tính theo ngày tiếp, ngày nhận đơn và ngày giải quyết "
            "ghi trong hồ sơ.")
    if partial:
        text += (" Năm không đủ 12 tháng ghi rõ khoảng thời gian (" + "; ".join(partial)
                 + "), nên mức tăng, giảm so với năm trước của các năm này không so sánh được trọn năm.")
    text += (" Tình trạng giải quyết xác định tại ngày cuối của từng cột; tỷ lệ giải quyết = đã giải quyết ÷ "
             "phải giải quyết × 100; mức tăng, giảm của tỷ lệ tính bằng điểm phần trăm.")
    if switch_text:
        text += " " + switch_text
    return text


def regime_switch_text(date_from: dt.date, date_to: dt.date, entries: regimes.Entries) -> str:
    """Where the range crosses a change of reporting regime (chế độ báo cáo), in words;
    "" when it does not. The summary's indicators are recomputed from the records with
    one definition, so the series stays comparable across the switch — the official
    forms on either side are not added together. `entries`: the configured regimes."""
    switches = regimes.switches_within(date_from, date_to, entries)
    if not switches:
        return ""
    return ("Dãy số liệu đi qua ngày thay đổi chế độ báo cáo: "
            + "; ".join(f"{r.circular} có hiệu lực từ {vn_date(r.in_force_from)}" for r in switches)
            + ". Các chỉ tiêu ở đây được tính lại từ hồ sơ theo cùng một định nghĩa cho cả khoảng thời gian, "
              "không cộng các cột của các biểu mẫu khác nhau, nên so sánh được qua các năm; biểu mẫu chính thức "
              "của mỗi kỳ theo chế độ báo cáo áp dụng cho kỳ đó (ngày cuối của kỳ).")


def _levels_sheet(wb: Workbook, t: SummaryTables, switch_text: str) -> None:
    ws = wb.create_sheet(SHEET_LEVELS)
    last = _last_col(t)
    r = _heading(ws, t, last, TITLE + " THEO CẤP")
    numerals = ("I", "II", "III")
    sections = []
    for i, lv in enumerate(LEVELS):
        first, end = t.spans.get(lv, (t.date_from, None))
        title = f"{numerals[i]}. {LEVEL_NAMES[lv].upper()}"
        if lv == "tinh":
            title += f" (UBND {t.province['name'].upper()})"
        if end is not None:
            title += f" (ĐẾN NGÀY {vn_date(end)})"
        sections.append((title, t.levels[lv], t.changes[lv]))
    r, _, _, label_row = _indicator_block(ws, r, t, sections)
    r += 1
    ended = [(lv, e) for lv, (_, e) in t.spans.items() if e is not None and e < t.date_to]
    text = _window_note(t, switch_text)
    for lv, e in ended:
        text += (f" {LEVEL_NAMES[lv].capitalize()} chấm dứt hoạt động sau ngày {vn_date(e)}: các cột sau "
                 "thời điểm này để trống (không phải bằng 0); đơn cấp này còn tồn đọng sau ngày đó chỉ được tính "
                 "trong số liệu toàn " + t.subject.lower() + ".")
    _note(ws, r, last, text)
    ws.freeze_panes = f"D{label_row + 3}"
    ws.print_title_rows = f"{label_row}:{label_row + 2}"
    _page(ws)


def _series(ws, row: int, cols: tuple[int, int]) -> Series:
    values = Reference(ws, min_col=cols[0], max_col=cols[1], min_row=row, max_row=row)
    s = Series(values)
    s.tx = SeriesLabel(strRef=StrRef(f"{quote_sheetname(ws.title)}!$B${row}"))
    return s


def _charts_sheet(wb: Workbook, t: SummaryTables, data_ws, rows: dict, year_cols: tuple[int, int],
                  label_row: int) -> None:
    ws = wb.create_sheet(SHEET_CHARTS)
    _put(ws, 1, 1, f"BIỂU ĐỒ KẾT QUẢ CÔNG TÁC TIẾP CÔNG DÂN, TIẾP NHẬN VÀ GIẢI QUYẾT ĐƠN TOÀN {t.subject.upper()}",
         size=13, bold=True)
    _put(ws, 2, 1, f"Số liệu lấy từ trang \"{SHEET_TOTALS}\" (mục I), từ ngày {vn_date(t.date_from)} đến ngày "
                   f"{vn_date(t.date_to)}; năm không đủ 12 tháng ghi rõ khoảng thời gian.", size=11, italic=True)
    cats = Reference(data_ws, min_col=year_cols[0], max_col=year_cols[1], min_row=label_row, max_row=label_row)

    def bar(title: str, y_title: str, keys: list[str], stacked: bool = False) -> BarChart:
        ch = BarChart()
        ch.type = "col"
        ch.title = title
        ch.y_axis.title = y_title
        ch.x_axis.title = "Năm"
        if stacked:
            ch.grouping = "stacked"
            ch.overlap = 100
        for k in keys:
            ch.series.append(_series(data_ws, rows[(0, k)], year_cols))
        ch.set_categories(cats)
        ch.height, ch.width = 8.5, 17
        # openpyxl hides axes by default (delete=True); a chart for print needs them.
        ch.x_axis.delete = False
        ch.y_axis.delete = False
        return ch

    ws.add_chart(bar("Số lượt tiếp và số người được tiếp theo năm", "lượt / người",
                     ["tong_luot", "tong_nguoi"]), "A4")
    ws.add_chart(bar("Đơn tiếp nhận theo loại và theo năm", "đơn", ["don_kn", "don_tc", "don_knpa"],
                     stacked=True), "A23")
    line = LineChart()
    line.title = "Tỷ lệ giải quyết đơn thuộc thẩm quyền theo năm (%)"
    line.y_axis.title = "%"
    line.x_axis.title = "Năm"
    line.series.append(_series(data_ws, rows[(0, "gq_tyle")], year_cols))
    line.set_categories(cats)
    line.height, line.width = 8.5, 17
    line.x_axis.delete = False
    line.y_axis.delete = False
    ws.add_chart(line, "A42")
    _page(ws, "portrait")


def _duty_sheet(wb: Workbook, t: SummaryTables) -> None:
    ws = wb.create_sheet(SHEET_DUTY)
    headers = ["STT", "Mã đơn vị", "Đơn vị", "Cấp", "Trực thuộc", "Từ ngày", "Đến ngày", "Mức tối thiểu",
               "Số tuần/tháng đánh giá", "Số ngày tối thiểu", "Số ngày Chủ tịch trực tiếp tiếp",
               "Số ngày còn thiếu", "Số tuần/tháng không đạt", "Tỷ lệ thực hiện so với quy định (%)",
               "Số ngày ủy quyền tiếp (không tính)", "Kết quả"]
    last = len(headers)
    r = _heading(ws, t, last, "KẾT QUẢ THỰC HIỆN TRÁCH NHIỆM TIẾP CÔNG DÂN CỦA NGƯỜI ĐỨNG ĐẦU")
    rules = "; ".join(f"{LEVEL_NAMES[lv]}: {rule.wording} ({rule.legal_basis})" for lv, rule in HEAD_DUTY.items())
    r = _note(ws, r, last, f"Mức tối thiểu theo quy định: {rules}.")
    r = _note(ws, r, last, (
        "Cách tính: số ngày Chủ tịch UBND trực tiếp tiếp công dân = số ngày khác nhau có lượt tiếp định kỳ hoặc "
        "đột xuất do thủ trưởng trực tiếp tiếp. Ngày do người được ủy quyền tiếp KHÔNG được tính, vì luật quy định "
        "Chủ tịch UBND trực tiếp tiếp công dân; số ngày này chỉ ghi để tham khảo. Đánh giá theo từng tuần (thứ Hai "
        "đến Chủ nhật) đối với cấp xã, từng tháng dương lịch đối với cấp huyện, cấp tỉnh, nằm trọn trong thời gian "
        "đơn vị hoạt động trong kỳ báo cáo; số ngày tiếp vượt mức của tuần (tháng) này không bù cho tuần (tháng) "
        "khác. Đơn vị không có bản ghi tiếp công dân nào trong kỳ ghi \"Chưa có số liệu\" và không đánh giá."))
    r += 1
    _put(ws, r, 1, "1. Tổng hợp theo cấp", bold=True)
    r += 1
    # The level label spans the narrow first columns (STT, Mã đơn vị, Đơn vị).
    sub = ["Số đơn vị", "Số đơn vị được đánh giá", "Không đạt", "Đạt", "Chưa có số liệu", "Không đánh giá"]
    _put(ws, r, 1, "Cấp", size=11, bold=True, align=_CENTER, border=True, merge_to=(r, 3))
    for j, h in enumerate(sub, start=4):
        _put(ws, r, j, h, size=11, bold=True, align=_CENTER, border=True)
    ws.row_dimensions[r].height = 32
    r += 1
    for row in t.duty_levels.itertuples():
        _put(ws, r, 1, LEVEL_NAMES[row.level].capitalize(), align=_LEFT, border=True, merge_to=(r, 3))
        vals = [row.units, row.assessed, row.short, row.ok, row.no_data, row.not_assessed]
        for j, v in enumerate(vals, start=4):
            _put(ws, r, j, v, align=_RIGHT, border=True, fmt=NUMBER_FORMAT, bold=j == 6)
        r += 1
    r += 1
    _put(ws, r, 1, "2. Chi tiết theo đơn vị (đơn vị không đạt xếp trước)", bold=True)
    r += 1
    h0 = r
    for j, h in enumerate(headers, start=1):
        _put(ws, r, j, h, size=11, bold=True, align=_CENTER, border=True)
    ws.row_dimensions[r].height = 48
    r += 1
    for i, row in enumerate(t.duty.itertuples(), start=1):
        rule = HEAD_DUTY[row.level]
        vals = [i, row.unit_code, row.name, LEVEL_NAMES[row.level].capitalize(), row.parent_name, row.span_from,
                row.span_to, rule.short, row.periods, row.required_days, row.head_days, cell_number(row.shortfall),
                cell_number(row.periods_short), cell_number(row.compliance), row.deputy_days, row.status]
        for j, v in enumerate(vals, start=1):
            if isinstance(v, dt.date):
                _put(ws, r, j, v, align=_CENTER, border=True, fmt=DATE_FORMAT, size=11)
            elif isinstance(v, (int, float)) and not isinstance(v, bool) and j != 2:
                _put(ws, r, j, v, align=_RIGHT, border=True, fmt=RATE_FORMAT if j == 14 else NUMBER_FORMAT,
                     size=11)
            else:
                _put(ws, r, j, v, align=_LEFT if j in (3, 5) else _CENTER, border=True, size=11,
                     bold=(j == last and v == STATUS_SHORT))
        r += 1
    for c, wdt in zip(range(1, last + 1), (6, 9, 30, 10, 24, 11, 11, 14, 11, 10, 12, 10, 11, 11, 12, 14)):
        ws.column_dimensions[get_column_letter(c)].width = wdt
    ws.freeze_panes = f"D{h0 + 1}"
    ws.auto_filter.ref = f"A{h0}:{get_column_letter(last)}{max(r - 1, h0)}"
    _page(ws)


def _skipped_sheet(wb: Workbook, t: SummaryTables) -> None:
    ws = wb.create_sheet(SHEET_SKIPPED)
    last = 8
    r = _heading(ws, t, last, "TÌNH HÌNH CÔNG DÂN KHIẾU NẠI, TỐ CÁO, KIẾN NGHỊ, PHẢN ÁNH VƯỢT CẤP")
    r = _note(ws, r, last, "Tiêu chí xác định: " + SKIPPED_RULE)
    r += 1
    _put(ws, r, 1, "1. Số lượt tiếp có dấu hiệu vượt cấp theo năm và theo cấp tiếp", bold=True)
    r += 1
    heads = ["Năm", "Cấp huyện tiếp (lượt)", "Cấp tỉnh tiếp (lượt)", "Tổng số (lượt)", "Khiếu nại",
             "Tố cáo", "Kiến nghị, phản ánh"]
    for j, h in enumerate(heads, start=1):
        _put(ws, r, j, h, size=11, bold=True, align=_CENTER, border=True)
    ws.row_dimensions[r].height = 32
    r += 1
    for row in t.skipped_years.itertuples():
        bold = row.window == "total"
        vals = [row.label, row.huyen, row.tinh, row.total, row.KN, row.TC, row.KNPA]
        for j, v in enumerate(vals, start=1):
            _put(ws, r, j, cell_number(v) if j > 1 else v, align=_RIGHT if j > 1 else _LEFT, border=True,
                 fmt=NUMBER_FORMAT if j > 1 else None, bold=bold)
        r += 1
    r = _note(ws, r, last, "Ô để trống: cấp huyện không còn hoạt động trong khoảng thời gian đó (không phải bằng 0).")
    r += 1
    _put(ws, r, 1, "2. Theo đơn vị tiếp công dân", bold=True)
    r += 1
    heads = ["STT", "Mã đơn vị", "Đơn vị tiếp", "Cấp", "Số lượt vượt cấp", "Tổng số lượt tiếp của đơn vị",
             "Tỷ lệ (%)"]
    for j, h in enumerate(heads, start=1):
        _put(ws, r, j, h, size=11, bold=True, align=_CENTER, border=True)
    ws.row_dimensions[r].height = 32
    r += 1
    if t.skipped_units.empty:
        _put(ws, r, 1, "Không có", italic=True, align=_CENTER, border=True, merge_to=(r, len(heads)))
        r += 1
    for i, row in enumerate(t.skipped_units.itertuples(), start=1):
        vals = [i, row.unit_code, row.name, LEVEL_NAMES.get(row.level, row.level).capitalize(), row.skipped,
                row.receptions, cell_number(row.share)]
        for j, v in enumerate(vals, start=1):
            fmt = RATE_FORMAT if j == 7 else (NUMBER_FORMAT if j in (1, 5, 6) else None)
            _put(ws, r, j, v, align=_RIGHT if fmt else _LEFT, border=True, fmt=fmt)
        r += 1
    for c, wdt in zip(range(1, last + 1), (22, 14, 34, 12, 14, 14, 12, 10)):
        ws.column_dimensions[get_column_letter(c)].width = wdt
    _page(ws)


def _text_sheet(wb: Workbook, t: SummaryTables) -> None:
    ws = wb.create_sheet(SHEET_TEXT)
    ws.column_dimensions["A"].width = 62       # one A4 portrait page wide in Times 13 (checked in LibreOffice)
    _put(ws, 1, 1, "NHẬN ĐỊNH, ĐÁNH GIÁ", size=14, bold=True, align=_CENTER)
    _put(ws, 2, 1, f"(Số liệu từ ngày {vn_date(t.date_from)} đến ngày {vn_date(t.date_to)})", italic=True,
         align=_CENTER)
    for i, text in enumerate(t.paragraphs, start=4):
        _put(ws, i, 1, text, size=13, align=Alignment(wrap_text=True, vertical="top", horizontal="justify"))
        ws.row_dimensions[i].height = 18 * math.ceil(len(text) / 58) + 6
    _page(ws, "portrait")


def _info_items(t: SummaryTables, data: SummaryData, meta: Mapping[str, Any], entries: regimes.Entries,
                switch_text: str) -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = [
        ("Báo cáo", TITLE.capitalize()),
        ("Đơn vị", f"UBND {t.province['name']} (mã {t.province['unit_code']})"),
        ("Từ ngày", vn_date(t.date_from)),
        ("Đến ngày", vn_date(t.date_to)),
        ("Các cột năm", "; ".join(f"{w.label} ({vn_date(w.start)}–{vn_date(w.end)})" for w in t.windows)),
    ]
    for k, v in (meta or {}).items():
        items.append((META_LABELS.get(str(k), str(k)), "" if v is None else str(v)))
    for name, c in sorted((data.source_counts or {}).items()):
        items.append((f"Nguồn: {name}", f"{format_vn(c.get('read', 0))} bản ghi được đọc "
                                        f"(trong kho: {format_vn(c.get('warehouse', 0))})"))
    items.append(("Phạm vi dữ liệu", "Chỉ các bản ghi đã công bố trong kho (bảng fact_*: bản ghi chính thức, đã "
                                     "chuẩn hóa, khử trùng lặp) thuộc các đơn vị của tỉnh/thành phố, có ngày đến hết "
                                     "ngày cuối kỳ; bản ghi trước kỳ chỉ dùng cho đơn kỳ trước chuyển sang và vụ việc "
                                     "mở trước kỳ."))
    for ind in INDICATORS:
        items.append((f"{ind.label} ({ind.unit})", ind.definition))
    items.append(("Lãnh đạo tiếp định kỳ, đột xuất",
                  "Hình thức tiếp định kỳ hoặc đột xuất, người tiếp là thủ trưởng hoặc người được ủy quyền "
                  "(01/TCD cột 13 + 22), như số liệu lãnh đạo tiếp định kỳ được công bố."))
    items.append(("Đơn đang giải quyết",
                  "Xác định theo ngày thụ lý (accepted_date). Số đơn phải giải quyết chưa có ngày thụ lý và chưa "
                  f"giải quyết: {format_vn(t.notes.get('petitions_without_accepted_date', 0))} (tính là chưa giải "
                  "quyết). Ngày giải quyết: của đơn; nếu đơn không ghi thì lấy ngày giải quyết của vụ việc "
                  "(fact_case) cùng mã vụ việc."))
    items.append(("Theo cấp", "Cấp của đơn vị ghi nhận bản ghi (theo dim_unit, hiệu lực tại ngày của bản ghi). "
                              + "; ".join(f"{LEVEL_NAMES[lv].capitalize()}: từ {vn_date(s)}"
                                          + (f" đến {vn_date(e)}" if e else "")
                                          for lv, (s, e) in sorted(t.spans.items(), key=lambda x: LEVELS.index(x[0])))
                              + "."))
    items.append(("Trách nhiệm tiếp công dân", "; ".join(
        f"{LEVEL_NAMES[lv]}: {rule.wording} ({rule.legal_basis})" for lv, rule in HEAD_DUTY.items())
        + ". Chỉ tính ngày Chủ tịch UBND trực tiếp tiếp (không tính ủy quyền)."))
    items.append(("Vượt cấp", SKIPPED_RULE))
    items.append(("Chế độ báo cáo", "; ".join(
        f"{r.circular}: kỳ có ngày cuối từ {vn_date(r.in_force_from)}"
        for r in regimes.overlapping(t.date_from, t.date_to, entries)) + (f". {switch_text}" if switch_text else "")))
    items.append(("Dữ liệu cá nhân", "Báo cáo không chứa họ tên, số định danh, địa chỉ, số điện thoại hay mã giả "
                                     "danh của công dân."))
    return items


def build_summary(data: SummaryData, path: str | Path, entries: regimes.Entries,
                  meta: Mapping[str, Any] | None = None) -> SummaryResult:
    """Compute and write the summary workbook (atomically, deterministic bytes: the
    package timestamps come from ``meta['generated_at']`` or the range end).
    `entries`: the configured reporting regimes (``settings.regimes``), named where the
    range crosses a change of forms."""
    meta = dict(meta or {})
    t = compute_summary(data)
    switch_text = regime_switch_text(t.date_from, t.date_to, entries)
    wb = Workbook()
    data_ws, rows, year_cols, label_row = _totals_sheet(wb, t, switch_text)
    _levels_sheet(wb, t, switch_text)
    _charts_sheet(wb, t, data_ws, rows, year_cols, label_row)
    _duty_sheet(wb, t)
    _skipped_sheet(wb, t)
    _text_sheet(wb, t)
    info_sheet(OpenpyxlBook(wb), _info_items(t, data, meta, entries, switch_text), title="THÔNG TIN BÁO CÁO TỔNG HỢP",
               name=SHEET_INFO)
    wb.properties.creator = "tcd-reporting"
    wb.properties.title = f"{TITLE.capitalize()} – từ {vn_date(t.date_from)} đến {vn_date(t.date_to)}"
    stamp = as_datetime(meta.get("generated_at")) or dt.datetime.combine(t.date_to, dt.time())
    path = Path(path)
    digest = save_workbook(wb, path, stamp)
    return SummaryResult(path, digest, t)
