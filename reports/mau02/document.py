"""The Word document: styles, paragraphs and placeholders, the heading block of an
administrative document and its closing (Nơi nhận, signature), fixed core properties and
zip timestamps; and :func:`build_mau02`, which writes the document and its figure record
(``<stem>.so-lieu.json``).
"""
from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import Mapping

import pandas as pd
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor

from core.dates import vn_date
from reports.formdef import TOTAL_ROW_ID
from reports.mau02.catalogue import FORM_CODES, FORM_COLUMNS, PLACEHOLDER_PREFIX, PROTECTION_CODE
from reports.mau02.figures import Reasons, Side, figure, is_tt06, ms_columns
from reports.mau02.outline import CONTENT, OUTLINE, Fig, Head, Hold, Text, heading_level, heading_parts
from reports.mau02.records import Figure, Mau02Result, Placeholder, figures_path

FONT = "Times New Roman"
BODY_PT = 14
HEADER_PT = 13


def _set_fonts(rpr, name: str = FONT) -> None:
    """Every script slot of the rPr's rFonts to `name`, theme fonts removed (a theme
    attribute wins over the explicit name)."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        if fonts.get(qn(attr)) is not None:
            del fonts.attrib[qn(attr)]
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), name)


def _setup_styles(doc) -> None:
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr_default = defaults.find(qn("w:rPrDefault"))
        if rpr_default is not None:
            rpr = rpr_default.find(qn("w:rPr"))
            if rpr is None:
                rpr = OxmlElement("w:rPr")
                rpr_default.append(rpr)
            _set_fonts(rpr)
    normal = doc.styles["Normal"]
    _set_fonts(normal.element.get_or_add_rPr())
    normal.font.size = Pt(BODY_PT)
    normal.font.color.rgb = RGBColor(0, 0, 0)
    pf = normal.paragraph_format
    pf.space_before = Pt(0)
    pf.space_after = Pt(6)
    pf.line_spacing = 1.15
    for level in (1, 2, 3):
        style = doc.styles[f"Heading {level}"]
        _set_fonts(style.element.get_or_add_rPr())
        style.font.size = Pt(BODY_PT)
        style.font.bold = True
        style.font.italic = False
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.paragraph_format.space_before = Pt(6)
        style.paragraph_format.space_after = Pt(6)
        style.paragraph_format.first_line_indent = Cm(1)
        style.paragraph_format.keep_with_next = True
        style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY


def _para(container, text: str = "", *, bold=False, italic=False, underline=False, size=None,
          align=None, indent: float | None = 1.0, space_after: float | None = None, style=None):
    p = container.add_paragraph(style=style)
    if text:
        run = p.add_run(text)
        run.bold, run.italic, run.underline = bold or None, italic or None, underline or None
        if size:
            run.font.size = Pt(size)
    pf = p.paragraph_format
    pf.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY if align is None else align
    if indent is not None:
        pf.first_line_indent = Cm(indent)
    if space_after is not None:
        pf.space_after = Pt(space_after)
    return p


def _placeholder_para(container, text: str, *, indent: float | None = 1.0, align=None, bold=False,
                      size=None):
    """A bracketed, highlighted, italic paragraph: visibly not part of the final text."""
    p = _para(container, indent=indent, align=align)
    run = p.add_run(text)
    run.italic = True
    run.bold = bold or None
    run.font.highlight_color = WD_COLOR_INDEX.YELLOW
    if size:
        run.font.size = Pt(size)
    return p


_PPR_AFTER_PBDR = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap",
                   "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi",
                   "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
                   "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
                   "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr",
                   "w:pPrChange")


def _bottom_rule(paragraph, left_cm: float, right_cm: float) -> None:
    """A short horizontal line under a centred line (the rule under the issuer's name)."""
    p = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(k), v)
    p.append(bottom)
    ppr = paragraph._p.get_or_add_pPr()
    # Word rejects pPr children out of schema order: pBdr goes before spacing, ind, jc.
    ppr.insert_element_before(p, *_PPR_AFTER_PBDR)
    paragraph.paragraph_format.left_indent = Cm(left_cm)
    paragraph.paragraph_format.right_indent = Cm(right_cm)


def _no_borders(table) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.insert_element_before(borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook",
                                 "w:tblCaption", "w:tblDescription", "w:tblPrChange")


def _two_columns(doc, left_mm: float, right_mm: float):
    table = doc.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _no_borders(table)
    for cell, width in zip(table.rows[0].cells, (left_mm, right_mm)):
        cell.width = Mm(width)
    for col, width in zip(table.columns, (left_mm, right_mm)):
        col.width = Mm(width)
    return table.rows[0].cells


def _cell_line(cell, text: str, *, first=False, bold=False, italic=False, underline=False,
               size=HEADER_PT, align=WD_ALIGN_PARAGRAPH.CENTER):
    p = cell.paragraphs[0] if first else cell.add_paragraph()
    run = p.add_run(text)
    run.bold, run.italic, run.underline = bold or None, italic or None, underline or None
    run.font.size = Pt(size)
    pf = p.paragraph_format
    pf.alignment = align
    pf.space_after = Pt(0)
    pf.first_line_indent = Cm(0)
    pf.line_spacing = 1.0
    return p


def _page_number_header(section) -> None:
    """Page number centred at the top, from page 2 (Nghị định 30/2020)."""
    section.different_first_page_header_footer = True
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    # A simple field: Word and LibreOffice compute the number when they lay the page out.
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    rpr = OxmlElement("w:rPr")
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), str(HEADER_PT * 2))
    rpr.append(size)
    text = OxmlElement("w:t")
    text.text = "2"
    run.append(rpr)
    run.append(text)
    field.append(run)
    p._p.append(field)


def _subject_label(period) -> str:
    """"Quý I năm 2026", "6 tháng đầu năm 2026", "năm 2025": the period label as it runs
    on after "… tố cáo"; a label opening with a common word ("Năm", "Từ") is lowercased."""
    label = str(period.label)
    first = label.split(" ", 1)[0]
    return label[0].lower() + label[1:] if first in ("Năm", "Từ") else label


def _issuer_lines(issuer_name: str) -> list[str]:
    return [ln.strip().upper() for ln in str(issuer_name).splitlines() if ln.strip()]


def _write_heading_block(doc, issuer_name: str, place: str, period) -> None:
    left, right = _two_columns(doc, 62, 103)
    lines = _issuer_lines(issuer_name) or ["ỦY BAN NHÂN DÂN"]
    # A superior body's line (if given) is regular, the issuer's own name bold (NĐ 30/2020).
    for i, line in enumerate(lines):
        _cell_line(left, line, first=(i == 0), bold=(i == len(lines) - 1))
    _bottom_rule(_cell_line(left, ""), 1.8, 1.8)
    _cell_line(left, "Số: …/BC-UBND", size=BODY_PT)
    _cell_line(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", first=True, bold=True)
    _cell_line(right, "Độc lập - Tự do - Hạnh phúc", bold=True, underline=True, size=BODY_PT)
    _cell_line(right, "")
    _cell_line(right, f"{place}, ngày … tháng … năm …", italic=True, size=BODY_PT)
    _para(doc, "", indent=0, space_after=6)
    _para(doc, "BÁO CÁO", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, indent=0, space_after=0)
    _para(doc, f"Công tác tiếp công dân, giải quyết khiếu nại, tố cáo {_subject_label(period)}",
          bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, indent=0, space_after=0)
    _para(doc, f"(Số liệu tính từ ngày {vn_date(period.start)} đến ngày {vn_date(period.end)})",
          italic=True, align=WD_ALIGN_PARAGRAPH.CENTER, indent=0, space_after=12)


ATTACHED_LINE = "Kèm theo báo cáo này: Biểu số " + ", ".join(FORM_CODES)


def _write_closing(doc) -> list[Placeholder]:
    _para(doc, ATTACHED_LINE + ".", italic=True)
    _para(doc, "", indent=0, space_after=0)
    left, right = _two_columns(doc, 80, 85)
    _cell_line(left, "Nơi nhận:", first=True, bold=True, italic=True, size=12, align=WD_ALIGN_PARAGRAPH.LEFT)
    held = []
    for text in ("- [Cơ quan nhận báo cáo];", "- [Cơ quan, đơn vị khác (nếu có)];", "- Lưu: VT, [đơn vị soạn thảo]."):
        p = _cell_line(left, "", size=11, align=WD_ALIGN_PARAGRAPH.LEFT)
        run = p.add_run(text)
        run.font.size = Pt(11)
        if "[" in text:
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW
            held.append(Placeholder("Nơi nhận", text))
    for i, (text, bold) in enumerate((("[QUYỀN HẠN, CHỨC VỤ CỦA NGƯỜI KÝ]", True),
                                       ("[Chữ ký của người có thẩm quyền, dấu của cơ quan]", False),
                                       ("[Họ và tên]", True))):
        if i == 2:
            for _ in range(3):
                _cell_line(right, "")
        p = _cell_line(right, "", first=(i == 0), size=BODY_PT)
        run = p.add_run(text)
        run.bold = bold or None
        run.italic = (not bold) or None
        run.font.size = Pt(BODY_PT)
        run.font.highlight_color = WD_COLOR_INDEX.YELLOW
        held.append(Placeholder("Chữ ký", text))
    return held


def _total_note(table: pd.DataFrame | None) -> str:
    """The total row's note (units that did not report), when the table has one."""
    if table is None or "note" not in table.columns or TOTAL_ROW_ID not in table.index:
        return ""
    note = table.at[TOTAL_ROW_ID, "note"]
    return "" if note is None or (pd.api.types.is_scalar(note) and pd.isna(note)) else str(note).strip()


def _deterministic_zip(data: bytes, when: dt.date) -> bytes:
    """The package with every entry stamped `when` (zip entries otherwise carry the
    time of writing, so two runs would differ)."""
    stamp = (max(when.year, 1980), when.month, when.day, 0, 0, 0)
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


def _set_core_properties(doc, period, issuer_name: str) -> None:
    stamp = dt.datetime(period.end.year, period.end.month, period.end.day)
    cp = doc.core_properties
    cp.title = f"Báo cáo công tác tiếp công dân, giải quyết khiếu nại, tố cáo {_subject_label(period)}"
    cp.subject = "Mẫu số 02 - Thông tư số 06/2025/TT-TTCP"
    cp.author = " ".join(_issuer_lines(issuer_name))
    cp.last_modified_by = ""
    cp.keywords = f"tiếp công dân; khiếu nại; tố cáo; {period.key}"
    cp.comments = ""
    cp.category = "Báo cáo"
    cp.revision = 1
    cp.created = stamp
    cp.modified = stamp
    cp.last_printed = stamp


def build_mau02(path: str | Path, *, issuer_name: str, place: str, period,
                tables: Mapping[str, pd.DataFrame],
                previous: Mapping[str, pd.DataFrame] | None,
                last_year: Mapping[str, pd.DataFrame] | None,
                notes: Mapping[str, str] | None = None, comparison_note: str | None = None) -> Mau02Result:
    """Write the Mẫu số 02 narrative of `period` to `path` (.docx) and its figure record
    to ``<stem>.so-lieu.json``.

    `tables` maps form codes ("01/TCD" … "06/QLKNTC") to computed tables (index with the
    "total" row, MS-number columns), and :data:`PROTECTION_CODE` to the table of
    :func:`protection_table` (II.5; absent: its figures say there is no such data); `previous` / `last_year` are the same for the
    previous period and the same period of the previous year (None: not available; the
    tables of a period on the older forms are keyed by their old codes — "01/TCD",
    "01/XLD", "01/KQGQ" … — and compared where a column has an equivalent). `notes`
    gives the reason of empty cells: "<form>:<ms>" or "<form>" → reason
    (:func:`na_reasons`). A comparison given as None is left out of every figure (no
    such comparison for this report); `comparison_note`, printed under the title, says
    which comparisons the document makes and why one is missing.
    """
    path = Path(path)
    tables = dict(tables or {})
    unknown = sorted(set(tables) - set(FORM_CODES) - {PROTECTION_CODE})
    if unknown:
        raise ValueError(f"mau02: unknown form code(s) {unknown}; expected some of {FORM_CODES}")
    for code, table in tables.items():
        if TOTAL_ROW_ID not in table.index:
            raise ValueError(f"mau02: table {code} has no {TOTAL_ROW_ID!r} row")
        if not is_tt06(code, table):
            # An old form's table under a 2025 code (01/TCD, 02/XLD exist in both sets)
            # would put figures under the wrong headings.
            raise ValueError(f"mau02: table {code} is not on the 2025 form: MS columns "
                             f"{sorted(ms_columns(table))}, expected 1..{FORM_COLUMNS[code]}")
    prev = Side("kỳ trước", previous)
    last = Side("cùng kỳ năm trước", last_year)
    reasons = Reasons(notes)
    if PROTECTION_CODE in tables and tables[PROTECTION_CODE].attrs.get("na_reason"):
        reasons.notes.setdefault(PROTECTION_CODE, tables[PROTECTION_CODE].attrs["na_reason"])

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    section.header_distance, section.footer_distance = Mm(10), Mm(10)
    _setup_styles(doc)
    _page_number_header(section)
    _set_core_properties(doc, period, issuer_name)
    _write_heading_block(doc, issuer_name, place, period)

    if comparison_note:
        # Which periods the figures are compared with, and why one is missing (e.g. a
        # cumulative report has no previous period of its own kind): said once here
        # rather than on every line.
        _para(doc, comparison_note, italic=True)
    if prev.has_old_forms() or last.has_old_forms():
        _para(doc, "Ghi chú: số liệu của kỳ so sánh báo cáo theo các biểu trước Thông tư số "
                   "06/2025/TT-TTCP chỉ được so sánh với những chỉ tiêu có cùng nội dung; chỉ tiêu "
                   "không có nội dung tương đương được ghi rõ là chưa so sánh được.", italic=True)

    figures: list[Figure] = []
    placeholders: list[Placeholder] = []
    heading = ""
    group = ""
    block_forms: list[str] = []
    noted: set[str] = set()

    def flush_notes():
        # Units that did not report: the total leaves them out, so say so under the
        # figures that use it (once per table).
        for code in block_forms:
            note = _total_note(tables.get(code))
            if note and code not in noted:
                noted.add(code)
                what = "bảo vệ người tố cáo" if code == PROTECTION_CODE else f"Biểu {code}"
                _para(doc, f"(Số liệu {what}: {note}.)", italic=True)
        block_forms.clear()

    for item in CONTENT:
        if isinstance(item, Head):
            flush_notes()
            text = OUTLINE[item.index]
            heading = heading_parts(text)[0]
            group = ""
            doc.add_paragraph(heading, style=f"Heading {heading_level(text)}")
        elif isinstance(item, Fig):
            fig = figure(item, heading, group, tables, prev, last, reasons)
            figures.append(fig)
            if item.form not in block_forms:
                block_forms.append(item.form)
            p = _para(doc, fig.text, indent=1.0)
            if item.bullet == "+":
                p.paragraph_format.left_indent = Cm(0.5)
        elif isinstance(item, Text):
            _para(doc, item.text)
            if item.text.endswith(":"):
                group = item.text
        elif isinstance(item, Hold):
            text = f"{PLACEHOLDER_PREFIX}{item.text}]"
            _placeholder_para(doc, text)
            placeholders.append(Placeholder(heading, text))
    flush_notes()
    placeholders.extend(_write_closing(doc))

    buffer = io.BytesIO()
    doc.save(buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_deterministic_zip(buffer.getvalue(), period.end))

    record = {
        "mau": "Mẫu số 02",
        "circular": "Thông tư số 06/2025/TT-TTCP",
        "issuer": issuer_name,
        "period": {"key": period.key, "label": period.label, "start": period.start.isoformat(),
                   "end": period.end.isoformat()},
        "document": path.name,
        "comparison": {"previous": "given" if previous is not None else "none",
                       "same_period_last_year": "given" if last_year is not None else "none"},
        "figures": [_jsonable(asdict(f)) for f in figures],
        "placeholders": [asdict(p) for p in placeholders],
    }
    out_json = figures_path(path)
    out_json.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return Mau02Result(path=path, figures_path=out_json, figures=figures, placeholders=placeholders)


def _jsonable(d: dict) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}
