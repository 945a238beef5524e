"""The input workbook of biểu 06/QLKNTC (Thông tư 06/2025/TT-TTCP): one per unit and
period, generated here, filled in by the unit, read back by connectors.qlkntc_workbooks.

No source system holds the figures of 06/QLKNTC (documents issued, training,
responsibility inspections and their follow-up; shared/domain/forms-2025.md §3.6, §4.5),
so each reporting unit types its 17 numbers into a workbook made for it and for the
period. This module owns the layout — every cell address the connector reads back is a
constant here — so the template and its reader cannot drift apart. (It lives beside the
connector rather than in reports/: it is the instrument of a source, not a report; the
printed report of 06/QLKNTC is reports/forms/qlkntc06_tt06_2025.yaml.)

The workbook (``QLKNTC_<unit code>_<period key>.xlsx``):

- sheet ``06-QLKNTC``: the identification block (unit code, unit name, period, window
  dates: filled in and locked), the official heading as printed (code alone, title,
  "Số liệu tính từ ngày … đến ngày …" for the window, the annex line), the header band
  with its merged cells exactly as printed (tt06-2025-forms.json ``header_cells``), the
  MS row, **one data row** for the unit whose 17 cells are the only unlocked cells of
  the workbook, each with data validation (whole number ≥ 0, Vietnamese error message;
  column 8 also ≤ column 6, the check printed in the guide), then the note line and the
  guide, verbatim;
- sheet ``Bảo vệ người tố cáo`` (template version 2 on; optional to fill): the figures
  Mẫu số 02 II.5 asks for and no form carries (forms-2025.md §4.6, §5) — people
  protected (người tố cáo, thân nhân), of whom denouncers and relatives, and people
  under each of the two kinds of measure the outline names — five unlocked cells with
  the same data validation (whole number ≥ 0; the parts ≤ the total), then how to fill
  it. All five left empty means the unit does not report these figures (stored NULL,
  never 0); see :data:`PROTECTION_ITEMS` for the identities and why there is no
  "sum of kinds ≤ total" check;
- sheet ``_dinh_danh`` (very hidden, locked): the identification the connector trusts —
  form, template version, unit code and name, level, period key, window dates, the data
  sheet and row — with a checksum over them, so an edited identification is seen.

Sheet protection and the locked structure carry no password: they guide the person
filling the form (only the yellow cells can be typed in) and are not a security
boundary; the connector re-checks everything on reading (docs/data-contracts.md §5).

    python -m connectors.qlkntc_template --period 2025-Q4 --level xa --out DIR
    python -m connectors.qlkntc_template --period 2025-Q4 --unit 00004 --out DIR
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.writer.excel import ExcelWriter

from core import periods, settings
from core.levels import LEVELS
from core.periods import Period
from core.settings import Settings
from warehouse import deployment, units

FORM_CODE = "06/QLKNTC"
# Bump when a cell address, a header text or the identification keys change: the
# connector accepts the versions it knows (connectors.qlkntc_workbooks.KNOWN_VERSIONS).
TEMPLATE_VERSION = "QLKNTC-TT06-2025-v2"
# v1 (the first template, still accepted): the 17 columns only, no protection block.
# v2: the same data sheet and identification, plus the sheet PROTECTION_SHEET.
TEMPLATE_VERSION_V1 = "QLKNTC-TT06-2025-v1"
DATA_SHEET = "06-QLKNTC"            # Excel forbids "/" in sheet names
ID_SHEET = "_dinh_danh"
PROTECTION_SHEET = "Bảo vệ người tố cáo"

# ---------------------------------------------------------------- the form as printed
# Verbatim from shared/domain/tt06-2025-forms.json (form "06/QLKNTC"); no-break spaces
# of the circular read as spaces. tests/test_qlkntc.py checks them against the form
# definition reports/forms/qlkntc06_tt06_2025.yaml.
TITLE = "TỔNG HỢP CÔNG TÁC QUẢN LÝ NHÀ NƯỚC VỀ TIẾP CÔNG DÂN, GIẢI QUYẾT KHIẾU NẠI, TỐ CÁO"
ANNEX_LINE = "(Kèm theo Báo cáo số:…......... ngày……tháng…….năm……của………..)"
NOTE_LINE = "18. Ghi chú:"
GUIDE = (
    "Hướng dẫn cách ghi biểu",
    "- Cột (6): Tổng số cuộc thanh tra trách nhiệm thực hiện pháp luật về TCD, KN, TC thực hiện trong kỳ báo "
    "cáo, gồm các cuộc triển khai từ kỳ trước chưa ban hành kết luận và các cuộc triển khai trong kỳ",
    "- Cột (7): Tổng số đơn vị được thanh tra trách nhiệm (theo quyết định của các cuộc thanh tra thống kê tại "
    "Cột (6))",
    "- Cột (8): Tổng số kết luận thanh tra ban hành trong kỳ báo cáo; Cột (8) <= Cột (6)",
    "- Từ Cột (9) đến Cột (12) là số liệu tổng hợp từ các kết luận thanh tra thống kê tại Cột (8)",
    "- Cột (13): Tổng số kết luận thanh tra trách nhiệm phải thực hiện trong kỳ, gồm kết luận ban hành từ các "
    "kỳ trước chưa thực hiện xong và kết luận ban hành trong kỳ báo cáo phải thực hiện",
    "- Từ Cột (14) đến Cột (17) là số liệu tổng hợp từ kết quả thực hiện các kết luận thanh tra thống kê tại "
    "Cột (13)",
    "- Nội dung ghi chú viết vào dòng 18 (nếu có)",
)
UNIT_HEADER = "Đơn vị"
MS_LABEL = "MS"
G_DOCS = "Ban hành văn bản quản lý, chỉ đạo (Bộ, ngành, tỉnh, TP) về công tác TCD KN, TC"
G_TRAIN = "Tập huấn, tuyên truyền, giáo dục pháp luật về TCD, KN, TC"
G_INSP = "Thanh tra trách nhiệm"
G_RESULT = "Kết quả thực hiện kết luận, quyết định xử lý về thanh tra trách nhiệm"
# (MS label as printed, header path from the top row down) of the 17 data columns.
COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("1", (G_DOCS, "Số văn bản ban hành mới")),
    ("2", (G_DOCS, "Số văn bản được sửa đổi, bổ sung")),
    ("3", (G_DOCS, "Số văn bản hủy bỏ")),
    ("4", (G_TRAIN, "Số lớp")),
    ("5", (G_TRAIN, "Số người")),
    ("6", (G_INSP, "Thực hiện pháp luật về TCD, KN, TC", "Số cuộc")),
    ("7", (G_INSP, "Thực hiện pháp luật về TCD, KN, TC", "Số đơn vị")),
    ("8", (G_INSP, "Số cuộc đã ban hành kết luận")),
    ("9", (G_INSP, "Kiến nghị xử lý", "Hành chính", "Tổ chức")),
    ("10", (G_INSP, "Kiến nghị xử lý", "Hành chính", "Cá nhân")),
    ("11", (G_INSP, "Kiến nghị xử lý", "Chuyển cơ quan điều tra", "Tổ chức")),
    ("12", (G_INSP, "Kiến nghị xử lý", "Chuyển cơ quan điều tra", "Cá nhân")),
    ("13", (G_RESULT, "Tổng số KLTT thực hiện")),
    ("14", (G_RESULT, "Đã xử lý hành chính", "Tổ chức")),
    ("15", (G_RESULT, "Đã xử lý hành chính", "Cá nhân")),
    ("16", (G_RESULT, "Đã khởi tố", "Vụ")),
    ("17", (G_RESULT, "Đã khởi tố", "Đối tượng")),
)
HEADER_ROWS = 4
# (text, row within the header band, row span, first column, last column); column 0 is
# "Đơn vị", 1–17 the data columns — tt06-2025-forms.json ``header_cells``.
HEADER_CELLS: tuple[tuple[str, int, int, int, int], ...] = (
    (UNIT_HEADER, 0, 4, 0, 0),
    (G_DOCS, 0, 1, 1, 3), (G_TRAIN, 0, 1, 4, 5), (G_INSP, 0, 1, 6, 12), (G_RESULT, 0, 1, 13, 17),
    ("Số văn bản ban hành mới", 1, 3, 1, 1), ("Số văn bản được sửa đổi, bổ sung", 1, 3, 2, 2),
    ("Số văn bản hủy bỏ", 1, 3, 3, 3), ("Số lớp", 1, 3, 4, 4), ("Số người", 1, 3, 5, 5),
    ("Thực hiện pháp luật về TCD, KN, TC", 1, 1, 6, 7), ("Số cuộc đã ban hành kết luận", 1, 3, 8, 8),
    ("Kiến nghị xử lý", 1, 1, 9, 12), ("Tổng số KLTT thực hiện", 1, 3, 13, 13),
    ("Đã xử lý hành chính", 1, 1, 14, 15), ("Đã khởi tố", 1, 1, 16, 17),
    ("Số cuộc", 2, 2, 6, 6), ("Số đơn vị", 2, 2, 7, 7), ("Hành chính", 2, 1, 9, 10),
    ("Chuyển cơ quan điều tra", 2, 1, 11, 12), ("Tổ chức", 2, 2, 14, 14), ("Cá nhân", 2, 2, 15, 15),
    ("Vụ", 2, 2, 16, 16), ("Đối tượng", 2, 2, 17, 17),
    ("Tổ chức", 3, 1, 9, 9), ("Cá nhân", 3, 1, 10, 10), ("Tổ chức", 3, 1, 11, 11), ("Cá nhân", 3, 1, 12, 12),
)
N_COLUMNS = len(COLUMNS)
CHECK_LHS, CHECK_RHS = 8, 6          # the printed check: Cột (8) <= Cột (6)

# ---------------------------------------------------------------- protection of denouncers
# Mẫu số 02 II.5 "Bảo vệ người tố cáo (nếu có)", verbatim: "Tổng số người được bảo vệ
# (người tố cáo, thân nhân của người tố cáo); trong đó: số người được áp dụng biện pháp
# bảo vệ vị trí công tác, việc làm; số người được áp dụng biện pháp bảo vệ tính mạng, sức
# khỏe, tài sản, danh dự, nhân phẩm." Luật Tố cáo 2018 Điều 47: the people protected are
# the denouncer and his or her relatives (thân nhân); the scope of protection is (a) the
# secrecy of the denouncer's information, (b) position and job, (c) life, health,
# property, honour and dignity. The block asks for the kinds the outline names, (b) and
# (c), and splits the total into denouncers and relatives (the outline's parenthesis).
# Readings (docs/data-contracts.md §5):
# - (1) = (2) + (3): every person protected is a denouncer or a denouncer's relative; one
#   who is both (a relative of another denouncer who also denounced) counts once, as a
#   denouncer. A real identity, checked.
# - (4) <= (1) and (5) <= (1): the people under a kind of measure are among the people
#   protected. Checked.
# - No (4) + (5) <= (1): one person can be under both kinds of measure (a denouncer kept
#   in his or her job and protected in health), so the kinds overlap; and (1) may exceed
#   (4) + (5): a person protected only by keeping the information secret (kind (a)) is
#   in (1) and in neither kind.
# (label as printed on the sheet, fact_qlkntc column) of the five rows, in order.
PROTECTION_ITEMS: tuple[tuple[str, str], ...] = (
    ("Tổng số người được bảo vệ (người tố cáo, thân nhân của người tố cáo)", "protected_persons"),
    ("Trong đó: người tố cáo", "protected_denouncers"),
    ("Trong đó: thân nhân của người tố cáo", "protected_relatives"),
    ("Số người được áp dụng biện pháp bảo vệ vị trí công tác, việc làm", "protected_job"),
    ("Số người được áp dụng biện pháp bảo vệ tính mạng, sức khỏe, tài sản, danh dự, nhân phẩm",
     "protected_life"),
)
N_PROTECTION = len(PROTECTION_ITEMS)
PROTECTION_TITLE = "BẢO VỆ NGƯỜI TỐ CÁO"
PROTECTION_SUBTITLE = ("Số liệu cho mục II.5 \"Bảo vệ người tố cáo (nếu có)\" của Mẫu số 02 (Thông tư số "
                       "06/2025/TT-TTCP); không thuộc biểu 06/QLKNTC, gửi kèm trong cùng tệp.")
PROTECTION_HEADER = ("STT", "Chỉ tiêu", "Số người")
PROTECTION_HEADER_ROW = 6
PROTECTION_FIRST_ROW = 7              # rows 7–11: items (1)–(5); input cells C7:C11
PROTECTION_VALUE_COL = 3
PROTECTION_TOTAL_ITEM = 1             # (2)–(5) are each <= (1)

# ---------------------------------------------------------------- cell addresses
# Identification block (visible, locked): labels in A/D, values in B/E.
UNIT_CODE_CELL, UNIT_NAME_CELL = "B1", "E1"
PERIOD_KEY_CELL, PERIOD_LABEL_CELL = "B2", "E2"
WINDOW_START_CELL, WINDOW_END_CELL = "B3", "E3"
UNIT_LINE_ROW = 5                     # "Đơn vị báo cáo: …" (left) and the code (right)
TITLE_ROW, DATE_ROW, ANNEX_ROW = 6, 7, 8
HEADER_TOP = 10                       # first row of the 4-row header band
MS_ROW = HEADER_TOP + HEADER_ROWS     # 14
DATA_ROW = MS_ROW + 1                 # 15: the unit's one row
FIRST_DATA_COL = 2                    # column B = MS 1; column R = MS 17
LAST_COL = FIRST_DATA_COL + N_COLUMNS - 1
NOTE_ROW = DATA_ROW + 2
GUIDE_ROW = NOTE_ROW + 1
# Very hidden identification sheet: key in A, value in B, one per row in this order.
ID_KEYS = ("mau", "phien_ban_mau", "ma_don_vi", "ten_don_vi", "cap", "ky_bao_cao", "tu_ngay", "den_ngay",
           "trang_so_lieu", "dong_so_lieu", "ma_kiem_tra")

INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
LOCKED_FILL = PatternFill("solid", fgColor="EDEDED")
_THIN = Side(style="thin", color="000000")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
FONT = "Times New Roman"
ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def data_cell(ms: int) -> str:
    """Address of the input cell of column `ms` (1–17)."""
    if not 1 <= ms <= N_COLUMNS:
        raise ValueError(f"06/QLKNTC has columns 1–{N_COLUMNS}, not {ms}")
    return f"{get_column_letter(FIRST_DATA_COL + ms - 1)}{DATA_ROW}"


def protection_cell(item: int) -> str:
    """Address (on PROTECTION_SHEET) of the input cell of item `item` (1–5)."""
    if not 1 <= item <= N_PROTECTION:
        raise ValueError(f"the protection block has items 1–{N_PROTECTION}, not {item}")
    return f"{get_column_letter(PROTECTION_VALUE_COL)}{PROTECTION_FIRST_ROW + item - 1}"


def protection_label(item: int) -> str:
    """"(4) «Số người được áp dụng …»": the item as the STT column prints it, then its text."""
    return f"({item}) «{PROTECTION_ITEMS[item - 1][0]}»"


def date_line(start: dt.date, end: dt.date) -> str:
    return f"Số liệu tính từ ngày {start:%d/%m/%Y} đến ngày {end:%d/%m/%Y}"


def file_name(unit_code: str, period_key: str) -> str:
    return f"QLKNTC_{unit_code}_{period_key}.xlsx"


def id_checksum(values: dict[str, str]) -> str:
    """Checksum of the identification values: an edited hidden sheet no longer matches.
    Not a signature (no secret): it catches edits, not forgeries."""
    text = "\x1f".join(str(values[k]) for k in ID_KEYS if k != "ma_kiem_tra")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


@dataclass(frozen=True)
class TemplateUnit:
    code: str
    name: str
    level: str           # tinh | huyen | xa


def check_period(period: Period, applies_from: dt.date) -> None:
    """06/QLKNTC exists for the periodic windows ending on or after TT 06/2025 took effect
    (`applies_from`: ``sources.qlkntc_workbooks.applies_from_window_end``)."""
    if period.kind == "custom":
        raise ValueError(f"biểu 06/QLKNTC chỉ lập cho kỳ báo cáo định kỳ, không cho khoảng ngày tùy chọn {period}")
    if period.end < applies_from:
        raise ValueError(f"kỳ {period} kết thúc trước {applies_from:%d/%m/%Y}: chưa áp dụng biểu 06/QLKNTC "
                         "(Thông tư 06/2025/TT-TTCP)")


def identification(unit: TemplateUnit, period: Period, version: str = TEMPLATE_VERSION) -> dict[str, str]:
    values = {"mau": FORM_CODE, "phien_ban_mau": version, "ma_don_vi": unit.code, "ten_don_vi": unit.name,
              "cap": unit.level, "ky_bao_cao": period.key, "tu_ngay": period.start.isoformat(),
              "den_ngay": period.end.isoformat(), "trang_so_lieu": DATA_SHEET, "dong_so_lieu": str(DATA_ROW)}
    values["ma_kiem_tra"] = id_checksum(values)
    return values


# ---------------------------------------------------------------- building
def _font(bold=False, italic=False, size=11) -> Font:
    return Font(name=FONT, bold=bold, italic=italic, size=size)


def build_workbook(unit: TemplateUnit, period: Period, applies_from: dt.date, *, protection: bool = True) -> Workbook:
    """The empty template of `unit` for `period` (an openpyxl Workbook); with
    `protection` False, the first template (version 1, no protection block).
    `applies_from`: see :func:`check_period`."""
    return set_unit(build_base(period, applies_from, protection=protection), unit, period)


def set_unit(wb: Workbook, unit: TemplateUnit, period: Period) -> Workbook:
    """Write the unit's cells (identification, heading, the data row's label) into a
    workbook of :func:`build_base` for the same period, and empty its input cells: one
    base serves every unit of a period (building the layout is most of the cost)."""
    ws = wb[DATA_SHEET]
    ws[UNIT_CODE_CELL] = unit.code
    ws[UNIT_NAME_CELL] = unit.name
    ws.cell(UNIT_LINE_ROW, 1, f"Đơn vị báo cáo: {unit.name}")
    ws.cell(DATA_ROW, 1, unit.name)
    for ms in range(1, N_COLUMNS + 1):
        ws[data_cell(ms)] = None
    version = TEMPLATE_VERSION_V1
    if PROTECTION_SHEET in wb.sheetnames:
        version = TEMPLATE_VERSION
        bv = wb[PROTECTION_SHEET]
        bv.cell(3, 1, f"Đơn vị báo cáo: {unit.name} (mã {unit.code})")
        for item in range(1, N_PROTECTION + 1):
            bv[protection_cell(item)] = None
    ids = wb[ID_SHEET]
    for i, v in enumerate(identification(unit, period, version).values(), start=1):
        ids.cell(i, 2, v)
    return wb


def build_base(period: Period, applies_from: dt.date, *, protection: bool = True) -> Workbook:
    """The template of `period` without a unit (see :func:`set_unit`); with
    `protection` False, the first template (no protection block). `applies_from`: see
    :func:`check_period`."""
    check_period(period, applies_from)
    wb = Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    last = get_column_letter(LAST_COL)

    # Identification block: what the connector compares with the hidden sheet.
    for label_cell, label, value_cell, value in (
            ("A1", "Mã đơn vị", UNIT_CODE_CELL, None), ("D1", "Tên đơn vị", UNIT_NAME_CELL, None),
            ("A2", "Kỳ báo cáo", PERIOD_KEY_CELL, period.key), ("D2", "", PERIOD_LABEL_CELL, period.label),
            ("A3", "Từ ngày", WINDOW_START_CELL, period.start), ("D3", "Đến ngày", WINDOW_END_CELL, period.end)):
        if label:
            ws[label_cell] = label
            ws[label_cell].font = _font(bold=True)
        c = ws[value_cell]
        c.value = value
        c.font = _font()
        c.fill = LOCKED_FILL
        if isinstance(value, dt.date):
            c.number_format = "dd/mm/yyyy"
            c.alignment = Alignment(horizontal="left")
        elif value_cell == UNIT_CODE_CELL:
            c.number_format = "@"       # a code, not a number: keep the leading zeros
    ws.merge_cells(f"{UNIT_NAME_CELL}:J1")
    ws.merge_cells(f"{PERIOD_LABEL_CELL}:J2")

    # Official heading (forms-2025.md §1.3): the code alone, right-aligned; the title,
    # centred; the window; the annex line.
    ws.cell(UNIT_LINE_ROW, 1).font = _font(bold=True)
    code = ws.cell(UNIT_LINE_ROW, LAST_COL - 2, FORM_CODE)
    code.font = _font(bold=True)
    code.alignment = Alignment(horizontal="right")
    ws.merge_cells(start_row=UNIT_LINE_ROW, start_column=LAST_COL - 2, end_row=UNIT_LINE_ROW, end_column=LAST_COL)
    for row, text, font in ((TITLE_ROW, TITLE, _font(bold=True, size=13)),
                            (DATE_ROW, date_line(period.start, period.end), _font(italic=True)),
                            (ANNEX_ROW, ANNEX_LINE, _font(italic=True))):
        c = ws.cell(row, 1, text)
        c.font = font
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.merge_cells(f"A{row}:{last}{row}")
    ws.row_dimensions[TITLE_ROW].height = 33

    # Header band, MS row, the data row.
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for r in range(HEADER_TOP, DATA_ROW + 1):
        for col in range(1, LAST_COL + 1):
            ws.cell(r, col).border = BORDER
    for text, row, span, c0, c1 in HEADER_CELLS:
        r0, col0 = HEADER_TOP + row, 1 + c0
        c = ws.cell(r0, col0, text)
        c.font = _font(bold=True, size=10)
        c.alignment = centre
        if span > 1 or c1 > c0:
            ws.merge_cells(start_row=r0, start_column=col0, end_row=r0 + span - 1, end_column=1 + c1)
    ms = ws.cell(MS_ROW, 1, MS_LABEL)
    ms.font, ms.alignment = _font(bold=True, size=10), centre
    for i, (label, _) in enumerate(COLUMNS):
        c = ws.cell(MS_ROW, FIRST_DATA_COL + i, label)
        c.font, c.alignment = _font(bold=True, size=10), centre
    name = ws.cell(DATA_ROW, 1)
    name.font = _font()
    name.alignment = Alignment(vertical="center", wrap_text=True)
    for i in range(N_COLUMNS):
        c = ws.cell(DATA_ROW, FIRST_DATA_COL + i)
        c.protection = Protection(locked=False)       # the only cells a unit can type in
        c.fill = INPUT_FILL
        c.number_format = "0"
        c.font = _font()
        c.alignment = Alignment(horizontal="right")
    _validations(ws)
    for h, row in ((36, HEADER_TOP), (30, HEADER_TOP + 1), (30, HEADER_TOP + 2), (24, HEADER_TOP + 3)):
        ws.row_dimensions[row].height = h
    ws.row_dimensions[DATA_ROW].height = 30

    # Note line and the guide, verbatim, then how to fill this file (not part of the form).
    ws.cell(NOTE_ROW, 1, NOTE_LINE).font = _font(bold=True)
    for i, line in enumerate(GUIDE):
        c = ws.cell(GUIDE_ROW + i, 1, line)
        c.font = _font(bold=(i == 0), italic=(i == 0))
    howto = GUIDE_ROW + len(GUIDE) + 1
    for i, line in enumerate((
            "Cách nhập số liệu vào tệp này (không thuộc biểu mẫu):",
            f"- Chỉ nhập vào 17 ô màu vàng ở dòng {DATA_ROW}, mỗi ô một số nguyên từ 0 trở lên; cột không có "
            "số liệu trong kỳ ghi 0, không để trống.",
            "- Không nhập chữ, số lẻ, số âm hay công thức; không sửa tên tệp, tên trang, mã đơn vị, kỳ báo cáo "
            "và các ngày của kỳ.",
            "- Nội dung ghi chú (dòng 18) và lời giải thích ghi vào báo cáo bằng văn bản gửi kèm, không ghi "
            "vào tệp này.",
            "- Gửi lại tệp đã sửa với cùng tên tệp: bản gửi sau thay thế toàn bộ bản gửi trước.",
            *((f"- Trang \"{PROTECTION_SHEET}\" (không bắt buộc): số liệu bảo vệ người tố cáo cho Mẫu số 02, "
               "mục II.5; cách nhập ghi trên trang đó.",) if protection else ()))):
        ws.cell(howto + i, 1, line).font = _font(bold=(i == 0), italic=True, size=10)

    ws.column_dimensions["A"].width = 30
    for col in range(FIRST_DATA_COL, LAST_COL + 1):
        ws.column_dimensions[get_column_letter(col)].width = 11
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_area = f"A{UNIT_LINE_ROW}:{last}{GUIDE_ROW + len(GUIDE) - 1}"
    ws.protection.sheet = True
    ws.sheet_view.selection[0].activeCell = data_cell(1)
    ws.sheet_view.selection[0].sqref = data_cell(1)

    if protection:
        _protection_sheet(wb.create_sheet(PROTECTION_SHEET), period)
    ids = wb.create_sheet(ID_SHEET)
    for i, k in enumerate(ID_KEYS, start=1):
        ids.cell(i, 1, k)
        ids.cell(i, 2).number_format = "@"
    ids.sheet_state = "veryHidden"       # not even listed by Excel's "Unhide"
    ids.protection.sheet = True
    wb.security = WorkbookProtection(lockStructure=True)   # no adding, renaming, unhiding sheets
    wb.active = 0
    return wb


def _validations(ws) -> None:
    common = dict(allow_blank=True, showErrorMessage=True, errorStyle="stop", showInputMessage=True,
                  errorTitle="Số liệu không hợp lệ", promptTitle="Biểu 06/QLKNTC")
    whole = DataValidation(
        type="whole", operator="greaterThanOrEqual", formula1="0",
        error="Chỉ nhập số nguyên từ 0 trở lên (ví dụ 0, 1, 25); không nhập chữ, số lẻ thập phân hay số âm.",
        prompt="Nhập số nguyên từ 0 trở lên; không có số liệu thì ghi 0.", **common)
    rhs = data_cell(CHECK_RHS)
    check = DataValidation(
        type="whole", operator="between", formula1="0", formula2=f"${rhs[0]}${rhs[1:]}",
        error=f"Cột ({CHECK_LHS}) là số nguyên từ 0 trở lên và không lớn hơn Cột ({CHECK_RHS}) "
              f"(Cột ({CHECK_LHS}) <= Cột ({CHECK_RHS})); nhập Cột ({CHECK_RHS}) trước.",
        prompt=f"Số cuộc đã ban hành kết luận: số nguyên, không lớn hơn Cột ({CHECK_RHS}).", **common)
    for ms in range(1, N_COLUMNS + 1):
        (check if ms == CHECK_LHS else whole).add(data_cell(ms))
    ws.add_data_validation(whole)
    ws.add_data_validation(check)


def _protection_sheet(ws, period: Period) -> None:
    """The optional block "Bảo vệ người tố cáo": five unlocked cells, the rest locked."""
    for row, text, font in ((1, PROTECTION_TITLE, _font(bold=True, size=13)),
                            (2, PROTECTION_SUBTITLE, _font(italic=True)),
                            (4, date_line(period.start, period.end), _font(italic=True))):
        c = ws.cell(row, 1, text)
        c.font = font
        c.alignment = Alignment(horizontal="center" if row != 2 else "left", vertical="center", wrap_text=True)
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=PROTECTION_VALUE_COL)
    ws.cell(3, 1).font = _font(bold=True)
    ws.row_dimensions[2].height = 33
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for col, text in enumerate(PROTECTION_HEADER, start=1):
        c = ws.cell(PROTECTION_HEADER_ROW, col, text)
        c.font, c.alignment, c.border = _font(bold=True, size=10), centre, BORDER
    for item, (label, _) in enumerate(PROTECTION_ITEMS, start=1):
        r = PROTECTION_FIRST_ROW + item - 1
        stt = ws.cell(r, 1, f"({item})")
        stt.font, stt.alignment, stt.border = _font(), centre, BORDER
        text = ws.cell(r, 2, label)
        text.font, text.border = _font(bold=(item == PROTECTION_TOTAL_ITEM)), BORDER
        text.alignment = Alignment(vertical="center", wrap_text=True, indent=0 if item == 1 else 1)
        c = ws.cell(r, PROTECTION_VALUE_COL)
        c.protection = Protection(locked=False)
        c.fill, c.number_format, c.font, c.border = INPUT_FILL, "0", _font(), BORDER
        c.alignment = Alignment(horizontal="right", vertical="center")
        ws.row_dimensions[r].height = 30
    total = protection_cell(PROTECTION_TOTAL_ITEM)
    common = dict(allow_blank=True, showErrorMessage=True, errorStyle="stop", showInputMessage=True,
                  errorTitle="Số liệu không hợp lệ", promptTitle="Bảo vệ người tố cáo")
    whole = DataValidation(
        type="whole", operator="greaterThanOrEqual", formula1="0",
        error="Chỉ nhập số nguyên từ 0 trở lên (số người); không nhập chữ, số lẻ thập phân hay số âm.",
        prompt="Số người được bảo vệ: số nguyên từ 0 trở lên.", **common)
    part = DataValidation(
        type="whole", operator="between", formula1="0", formula2=f"${total[0]}${total[1:]}",
        error=f"Chỉ nhập số nguyên từ 0 trở lên và không lớn hơn dòng ({PROTECTION_TOTAL_ITEM}) (tổng số người "
              f"được bảo vệ); nhập dòng ({PROTECTION_TOTAL_ITEM}) trước.",
        prompt=f"Số người, không lớn hơn dòng ({PROTECTION_TOTAL_ITEM}).", **common)
    whole.add(total)
    for item in range(2, N_PROTECTION + 1):
        part.add(protection_cell(item))
    ws.add_data_validation(whole)
    ws.add_data_validation(part)
    howto = PROTECTION_FIRST_ROW + N_PROTECTION + 1
    for i, line in enumerate((
            "Cách nhập số liệu (không thuộc biểu mẫu):",
            "- Phần này không bắt buộc. Đơn vị báo cáo số liệu bảo vệ người tố cáo thì nhập đủ 5 ô màu vàng, "
            "mỗi ô một số nguyên từ 0 trở lên (không có thì ghi 0); để trống cả 5 ô nghĩa là đơn vị không báo "
            "cáo số liệu này trong kỳ. Không để trống một vài ô.",
            "- Dòng (1) = dòng (2) + dòng (3): mỗi người được bảo vệ là người tố cáo hoặc thân nhân của người tố "
            "cáo (Luật Tố cáo năm 2018, Điều 47); người vừa tố cáo vừa là thân nhân của người tố cáo khác chỉ "
            "tính một lần, ở dòng (2).",
            "- Dòng (4) và dòng (5) mỗi dòng không lớn hơn dòng (1). Một người có thể được áp dụng cả hai biện "
            "pháp nên dòng (4) + dòng (5) có thể lớn hơn dòng (1); người chỉ được bảo vệ bí mật thông tin được "
            "tính ở dòng (1), không tính ở dòng (4), (5).",
            "- Chỉ ghi số người; không ghi họ tên, địa chỉ hay thông tin cá nhân của người được bảo vệ.")):
        c = ws.cell(howto + i, 1, line)
        c.font = _font(bold=(i == 0), italic=True, size=10)
        c.alignment = Alignment(wrap_text=True, vertical="top")
        ws.merge_cells(start_row=howto + i, start_column=1, end_row=howto + i, end_column=PROTECTION_VALUE_COL)
        ws.row_dimensions[howto + i].height = 15 if i == 0 else 45
    ws.column_dimensions["A"].width = 8
    ws.column_dimensions["B"].width = 70
    ws.column_dimensions["C"].width = 14
    ws.page_setup.orientation = "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.protection.sheet = True
    ws.sheet_view.selection[0].activeCell = protection_cell(1)
    ws.sheet_view.selection[0].sqref = protection_cell(1)


class _FixedTimeZip(zipfile.ZipFile):
    """A ZipFile whose entries all carry one timestamp, so the same workbook is the same
    bytes (openpyxl's own save stamps the wall clock into the archive)."""

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if isinstance(zinfo_or_arcname, str):
            zi = zipfile.ZipInfo(zinfo_or_arcname, date_time=ZIP_TIME)
            zi.compress_type = self.compression
            zi.external_attr = 0o644 << 16
            zinfo_or_arcname = zi
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        with open(filename, "rb") as fh:
            self.writestr(arcname or str(filename), fh.read())


def save(wb: Workbook, path: Path, stamp: dt.datetime) -> Path:
    """Write `wb` to `path` with `stamp` as its created/modified property: the same
    content and stamp give the same bytes."""
    wb.properties.creator = wb.properties.lastModifiedBy = "Hệ thống báo cáo tiếp công dân"
    wb.properties.title = f"Biểu {FORM_CODE}"
    wb.properties.created = wb.properties.modified = stamp.replace(tzinfo=None, microsecond=0)
    buf = io.BytesIO()
    with _FixedTimeZip(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).write_data()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return path


def write_template(out_dir: Path, unit: TemplateUnit, period: Period, applies_from: dt.date, *,
                   protection: bool = True) -> Path:
    """Write the template of `unit` for `period` into `out_dir`; returns its path."""
    stamp = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time(7, 0))
    return save(build_workbook(unit, period, applies_from, protection=protection),
                Path(out_dir) / file_name(unit.code, period.key), stamp)


def units_for(period: Period, cfg: Settings, level: str | None = None,
              codes: list[str] | None = None) -> list[TemplateUnit]:
    """The reporting units of `period`: those in force on the window's last day, of
    `level` (default: every level of ``sources.qlkntc_workbooks.levels``) or with the
    given codes. A unit's workbook covers the whole window under the unit in force at
    its end (a 2025 commune's Năm 2025 workbook includes its area's figures since 15/12/2024)."""
    levels = [level] if level else list(cfg.sources.qlkntc_workbooks.levels)
    df = units.units_valid_on(deployment.unit_frame(cfg), period.end)
    df = df[df["level"].isin(levels)]
    if codes:
        missing = sorted(set(codes) - set(df["unit_code"]))
        if missing:
            raise ValueError(f"không có đơn vị mã {', '.join(missing)} (cấp {', '.join(levels)}) "
                             f"vào ngày {period.end:%d/%m/%Y}")
        df = df[df["unit_code"].isin(codes)]
    return [TemplateUnit(r.unit_code, r.name, r.level) for r in df.sort_values(["level", "unit_code"]).itertuples()]


def generate(period: Period | str, out_dir: Path | str, cfg: Settings, *, level: str | None = None,
             codes: list[str] | None = None) -> list[Path]:
    """Write the templates of every unit of `level` (or the given unit codes) for
    `period` (a Period or a key such as "2025-Q4") into `out_dir`."""
    p = periods.parse(period) if isinstance(period, str) else period
    base = build_base(p, cfg.sources.qlkntc_workbooks.applies_from_window_end)
    stamp = dt.datetime.combine(p.end + dt.timedelta(days=1), dt.time(7, 0))
    return [save(set_unit(base, u, p), Path(out_dir) / file_name(u.code, p.key), stamp)
            for u in units_for(p, cfg, level, codes)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m connectors.qlkntc_template",
                                 description="Tạo tệp mẫu nhập số liệu biểu 06/QLKNTC cho các đơn vị của một kỳ.")
    ap.add_argument("--period", required=True, help="kỳ báo cáo: 2025-Q4, 2026-H1, 2026-M9, 2026-Y, …")
    ap.add_argument("--level", choices=LEVELS, help="cấp đơn vị (mặc định: các cấp trong cấu hình)")
    ap.add_argument("--unit", action="append", help="mã đơn vị (lặp lại để chọn nhiều đơn vị)")
    ap.add_argument("--out", required=True, help="thư mục ghi các tệp mẫu")
    a = ap.parse_args(argv)
    try:
        paths = generate(a.period, a.out, settings.get(), level=a.level, codes=a.unit)
    except ValueError as exc:
        print(f"lỗi: {exc}", file=sys.stderr)
        return 2
    print(f"đã tạo {len(paths)} tệp mẫu trong {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
