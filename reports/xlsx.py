"""Cells and files of the workbooks the reports write, through one small sheet-writing
interface with two backends, so that one layout code writes both:

- :class:`BookWriter` / :class:`SheetWriter`: a sheet is written cell by cell
  (:meth:`SheetWriter.cell`: value, font, alignment, thin border, number format, merged
  range) with its column widths, row heights, frozen panes, print title rows, page
  set-up and auto filter; the book adds sheets, its document properties, and gives its
  bytes with the timestamps fixed (equal content → equal bytes);
- :class:`XlsxWriterBook`: XlsxWriter, several times faster; the report workbooks
  (reports.render.render_xlsx). It records the values as a reader reads them back
  (:attr:`XlsxWriterBook.values`), so the caller need not read the file;
- :class:`OpenpyxlBook`: openpyxl, for the workbooks that need what only openpyxl does
  here (the native charts of the summary workbook) or that stay as they were (the
  data-quality workbook). Its cells go through :func:`put_cell` (fonts and
  alignments shared, a cell styled by lookup), its zip through
  :func:`deterministic_bytes` (fixed times).

Fonts and alignments are given as openpyxl ``Font`` / ``Alignment`` objects
(:func:`cell_font`, :func:`alignment`); the XlsxWriter backend translates them.
"""
from __future__ import annotations

import abc
import copy
import datetime as dt
import decimal
import functools
import io
import numbers
import re
import weakref
import zipfile
from typing import Any

import numpy as np
import xlsxwriter
from openpyxl import Workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.styles.numbers import is_date_format, is_timedelta_format
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel, to_excel
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.writer.excel import ExcelWriter

from core import memo

FONT_NAME = "Times New Roman"

_thin = Side(style="thin")
BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


@functools.lru_cache(maxsize=None)
def cell_font(size: float = 12, bold: bool = False, italic: bool = False, underline: str | None = None) -> Font:
    """The font of a cell; one shared object per kind (never modified), so that styling
    a cell with it is a lookup (see _assign)."""
    return Font(name=FONT_NAME, size=size, bold=bold, italic=italic, underline=underline)


@functools.lru_cache(maxsize=None)
def alignment(**kwargs: Any) -> Alignment:
    """An Alignment, one shared object per kind (never modified), as cell_font."""
    return Alignment(**kwargs)


# Per workbook: (style before, attribute, value) → style after. openpyxl hashes the
# whole Font / Alignment / Border object on every assignment to find its index in the
# workbook's style tables, which was most of the time spent writing a report; the same
# assignment from the same style always gives the same result, and the first one
# registers the value where it always did, so the bytes written do not change.
_STYLE_STEPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _assign(cell, attr: str, value: Any) -> None:
    """``setattr(cell, attr, value)`` for a style attribute, remembered per workbook."""
    steps = _STYLE_STEPS.setdefault(cell.parent.parent, {})
    key = (tuple(cell._style) if cell._style is not None else None, attr, id(value))
    done = steps.get(key)
    if done is None:
        setattr(cell, attr, value)
        # `value` is kept with the result, so that its id is not reused while it counts.
        steps[key] = (copy.copy(cell._style), value)
    else:
        cell._style = copy.copy(done[0])


def put_cell(ws, row: int, col: int, value: Any, *, font: Font | None = None,
         align: Alignment | None = None, border: bool = False, number_format: str | None = None,
         merge_to: tuple[int, int] | None = None):
    cell = ws.cell(row=row, column=col, value=value)
    font = font or cell_font()
    _assign(cell, "font", font)
    if align:
        _assign(cell, "alignment", align)
    if number_format:
        _assign(cell, "number_format", number_format)
    if merge_to and merge_to != (row, col):
        r2, c2 = merge_to
        # Style every cell of the range: Excel draws a merged range's borders from
        # its member cells, and a member left unstyled shows a gap.
        for rr in range(row, r2 + 1):
            for cc in range(col, c2 + 1):
                if (rr, cc) != (row, col):
                    m = ws.cell(row=rr, column=cc)
                    _assign(m, "font", font)
                    if border:
                        _assign(m, "border", BORDER)
        _merge(ws, row, col, r2, c2)
    if border:
        _assign(cell, "border", BORDER)
    return cell


# Per workbook: (shape, top-left style, bottom-right style) → the style of every cell of
# the range after openpyxl merged it. Merging restyles the range's edges and every cell
# of it one assignment at a time (MergedCellRange.format); the outcome depends on
# nothing else, so a range like one merged before is laid out from the first result.
_MERGES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _style_key(cell) -> tuple | None:
    return tuple(cell._style) if cell is not None and cell._style is not None else None


def _merge(ws, row: int, col: int, r2: int, c2: int) -> None:
    """``ws.merge_cells(...)`` of a range whose top-left cell exists, remembered per
    workbook (same cells, same styles, same bytes written)."""
    merges = _MERGES.setdefault(ws.parent, {})
    end = ws._cells.get((r2, c2))
    key = (r2 - row, c2 - col, _style_key(ws._cells[(row, col)]), _style_key(end) if end is not None else "absent")
    done = merges.get(key)
    if done is None:
        ws.merge_cells(start_row=row, start_column=col, end_row=r2, end_column=c2)
        merges[key] = [(r - row, c - col, copy.copy(ws._cells[(r, c)]._style))
                       for r in range(row, r2 + 1) for c in range(col, c2 + 1)]
        return
    # What ws.merge_cells does, its styling taken from `done`: the range recorded (its
    # top-left cell kept), the other cells replaced by MergedCells.
    ws.merged_cells.ranges.add(CellRange(min_col=col, min_row=row, max_col=c2, max_row=r2))
    for dr, dc, style in done:
        if (dr, dc) == (0, 0):
            cell = ws._cells[(row, col)]
        else:
            cell = ws._cells[(row + dr, col + dc)] = MergedCell(ws, row + dr, col + dc)
        cell._style = copy.copy(style)


_CORE_STAMP = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


class _FixedTimeArchive:
    """The zip archive openpyxl's writer fills, with every entry dated 1980-01-01 and the
    core properties' times set to the stamp: equal content → equal bytes, in one pass
    (instead of saving, then re-packing the saved file)."""

    def __init__(self, stamp: dt.datetime):
        self.buffer = io.BytesIO()
        self._zip = zipfile.ZipFile(self.buffer, "w", zipfile.ZIP_DEFLATED)
        self._iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()

    def writestr(self, name: str, data: bytes | str) -> None:
        data = data.encode("utf-8") if isinstance(data, str) else data
        if name == "docProps/core.xml":
            data = _CORE_STAMP.sub(lambda m: m.group(1) + self._iso + m.group(3), data)
        zi = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        zi.compress_type = zipfile.ZIP_DEFLATED
        zi.external_attr = 0o644 << 16
        self._zip.writestr(zi, data)

    def write(self, filename: str, arcname: str) -> None:
        with open(filename, "rb") as fh:
            self.writestr(arcname, fh.read())

    def namelist(self) -> list[str]:
        return self._zip.namelist()

    def close(self) -> None:
        self._zip.close()


def deterministic_bytes(wb: Workbook, stamp: dt.datetime) -> bytes:
    """The workbook's bytes with its timestamps fixed, so equal content → equal bytes
    (openpyxl stamps the save time into docProps/core.xml and every zip entry)."""
    wb.properties.created = stamp
    wb.properties.modified = stamp
    archive = _FixedTimeArchive(stamp)
    ExcelWriter(wb, archive).save()
    return archive.buffer.getvalue()


# ------------------------------------------------------------------ the sheet-writing interface

PAPER_SIZES = {"A3": 8, "A4": 9}          # Excel's paper codes (openpyxl PAPERSIZE_A3, _A4)
# openpyxl's page margins (inches), written on every sheet it saves: XlsxWriter's
# defaults are narrower, and the printed page would change with the backend.
PAGE_MARGINS = {"left": 0.75, "right": 0.75, "top": 1.0, "bottom": 1.0}
HEADER_FOOTER_MARGIN = 0.5
# The number format openpyxl gives a date or time written without one.
DEFAULT_DATE_FORMATS = ((dt.datetime, "yyyy-mm-dd h:mm:ss"), (dt.date, "yyyy-mm-dd"), (dt.time, "h:mm:ss"),
                        (dt.timedelta, "[hh]:mm:ss"))


class SheetWriter(abc.ABC):
    """One sheet of a :class:`BookWriter`. Rows and columns count from 1."""

    name: str

    @abc.abstractmethod
    def cell(self, row: int, col: int, value: Any, *, font: Font | None = None, align: Alignment | None = None,
             border: bool = False, number_format: str | None = None,
             merge_to: tuple[int, int] | None = None) -> None:
        """Write `value` (text, number, bool, date/datetime/time, or None for an empty
        styled cell) in the font (default :func:`cell_font`), alignment, thin border and
        number format given; with `merge_to` (last row, last column), merge the range
        from here, every member cell in the font and border (Excel draws a merged
        range's border from its member cells). Text is always text, never a formula."""

    @abc.abstractmethod
    def column_width(self, col: int, width: float) -> None:
        """The column's width, in characters (Excel's column width)."""

    @abc.abstractmethod
    def row_height(self, row: int, height: float) -> None:
        """The row's height, in points."""

    @abc.abstractmethod
    def freeze(self, row: int, col: int) -> None:
        """Freeze the rows above and the columns left of (row, col)."""

    @abc.abstractmethod
    def print_title_rows(self, first: int, last: int) -> None:
        """Rows printed at the top of every page."""

    @abc.abstractmethod
    def page(self, orientation: str = "landscape", paper: str = "A4", fit_width: int = 1,
             fit_height: int = 0) -> None:
        """Page set-up: orientation ("landscape", "portrait"), paper ("A3", "A4"), and
        printed `fit_width` pages wide by `fit_height` pages tall (0: as many as needed)."""

    @abc.abstractmethod
    def auto_filter(self, first_row: int, first_col: int, last_row: int, last_col: int) -> None:
        """An auto filter over the range (its first row the header)."""


class BookWriter(abc.ABC):
    """A workbook written through :class:`SheetWriter` sheets."""

    @abc.abstractmethod
    def add_sheet(self, name: str) -> SheetWriter:
        """A new sheet after the others."""

    @abc.abstractmethod
    def set_properties(self, *, creator: str, title: str | None = None) -> None:
        """The document properties (author, title)."""

    @abc.abstractmethod
    def to_bytes(self, stamp: dt.datetime) -> bytes:
        """The workbook's bytes, its timestamps (created, modified, zip entries) fixed
        from `stamp`: equal content → equal bytes."""


# ------------------------------------------------------------------ openpyxl backend

class OpenpyxlSheet(SheetWriter):
    """A sheet of an openpyxl workbook (:attr:`ws`), written as :func:`put_cell` does."""

    def __init__(self, ws):
        self.ws = ws

    @property
    def name(self) -> str:
        return self.ws.title

    def cell(self, row, col, value, *, font=None, align=None, border=False, number_format=None, merge_to=None):
        put_cell(self.ws, row, col, value, font=font, align=align, border=border, number_format=number_format,
                 merge_to=merge_to)

    def column_width(self, col, width):
        self.ws.column_dimensions[get_column_letter(col)].width = width

    def row_height(self, row, height):
        self.ws.row_dimensions[row].height = height

    def freeze(self, row, col):
        self.ws.freeze_panes = self.ws.cell(row=row, column=col)

    def print_title_rows(self, first, last):
        self.ws.print_title_rows = f"{first}:{last}"

    def page(self, orientation="landscape", paper="A4", fit_width=1, fit_height=0):
        ws = self.ws
        ws.page_setup.orientation = orientation
        ws.page_setup.paperSize = str(PAPER_SIZES[paper])
        ws.page_setup.fitToWidth = fit_width
        ws.page_setup.fitToHeight = fit_height
        ws.sheet_properties.pageSetUpPr.fitToPage = True

    def auto_filter(self, first_row, first_col, last_row, last_col):
        self.ws.auto_filter.ref = (f"{get_column_letter(first_col)}{first_row}:"
                                   f"{get_column_letter(last_col)}{last_row}")


class OpenpyxlBook(BookWriter):
    """An openpyxl workbook (:attr:`wb`): a new one without sheets, or `wb` as it is
    (to add sheets to a workbook written with openpyxl directly)."""

    def __init__(self, wb: Workbook | None = None):
        if wb is None:
            wb = Workbook()
            wb.remove(wb.active)
        self.wb = wb

    def add_sheet(self, name):
        return OpenpyxlSheet(self.wb.create_sheet(name))

    def set_properties(self, *, creator, title=None):
        self.wb.properties.creator = creator
        if title is not None:
            self.wb.properties.title = title

    def to_bytes(self, stamp):
        return deterministic_bytes(self.wb, stamp)


# ------------------------------------------------------------------ XlsxWriter backend

_HORIZONTAL = {"general": "general", "left": "left", "center": "center", "right": "right", "fill": "fill",
               "justify": "justify", "centerContinuous": "center_across", "distributed": "distributed"}
_VERTICAL = {"top": "top", "center": "vcenter", "bottom": "bottom", "justify": "vjustify",
             "distributed": "vdistributed"}
_UNDERLINE = {"single": 1, "double": 2, "singleAccounting": 33, "doubleAccounting": 34}
# XlsxWriter's shared strings escape control characters as _xHHHH_, and an existing
# _xHHHH_ by escaping its underscore (_x005F_xHHHH_); openpyxl reads the text back with
# every "x005F_" removed and nothing else unescaped. Text is recorded as it reads back.
_ESCAPED = re.compile("(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")
MAX_TEXT = 32767                     # UTF-16 code units in a cell (Excel; XlsxWriter truncates)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _number(value: Any) -> int | float:
    return int(value) if isinstance(value, numbers.Integral) else float(value)


def _number_read_back(value: int | float, number_format: str | None) -> Any:
    """A number as openpyxl reads it from XlsxWriter's file: written with 16
    significant digits, an int when it has no point or exponent, a date when its
    format is a date format."""
    text = f"{value:.16G}"
    read = float(text) if ("." in text or "E" in text) else int(text)
    if number_format and is_date_format(number_format):
        return from_excel(read, timedelta=is_timedelta_format(number_format))
    return read


@functools.lru_cache(maxsize=65536)
def _text_read_back(value: str) -> str:
    # Cached: the same header, guide and label texts are written in every workbook of a set.
    return _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", _ESCAPED.sub(r"_x005F\1", value)).replace("x005F_", "")


def _format_properties(font: Font, align: Alignment | None, border: bool, number_format: str | None) -> dict:
    """XlsxWriter's format properties of a cell style. The font's and alignment's are
    made once per object (core.memo.by_identity): openpyxl hashes a whole style object
    on every lookup by value, which cost as much as writing the cell."""
    props = dict(memo.by_identity(font, _font_properties))
    if align is not None:
        props.update(memo.by_identity(align, _alignment_properties))
    if border:
        props["border"] = 1
    if number_format:
        props["num_format"] = number_format
    return props


def _font_properties(font: Font) -> tuple:
    if font.color is not None or font.strike or font.vertAlign or font.outline or font.shadow:
        raise ValueError(f"font {font!r}: only name, size, bold, italic and underline are written")
    size = float(font.sz if font.sz is not None else 11)
    props: dict[str, Any] = {"font_name": font.name or FONT_NAME, "font_size": int(size) if size.is_integer() else size}
    if font.b:
        props["bold"] = True
    if font.i:
        props["italic"] = True
    if font.u:
        props["underline"] = _UNDERLINE[font.u]
    return tuple(props.items())


def _alignment_properties(align: Alignment) -> tuple:
    props: dict[str, Any] = {}
    if align.horizontal:
        props["align"] = _HORIZONTAL[align.horizontal]
    if align.vertical:
        props["valign"] = _VERTICAL[align.vertical]
    if align.wrap_text:
        props["text_wrap"] = True
    if align.shrink_to_fit:
        props["shrink"] = True
    if align.indent:
        props["indent"] = int(align.indent)
    if align.textRotation:
        props["rotation"] = int(align.textRotation)
    return tuple(props.items())


class XlsxWriterSheet(SheetWriter):
    """A sheet of an :class:`XlsxWriterBook` (:attr:`ws`, an XlsxWriter worksheet)."""

    def __init__(self, book: XlsxWriterBook, ws, values: dict[tuple[int, int], Any]):
        self.book, self.ws, self.values = book, ws, values

    @property
    def name(self) -> str:
        return self.ws.name

    def cell(self, row, col, value, *, font=None, align=None, border=False, number_format=None, merge_to=None):
        ws, r, c = self.ws, row - 1, col - 1
        if isinstance(value, (dt.datetime, dt.date, dt.time, dt.timedelta)):
            if number_format is None:
                number_format = next(f for t, f in DEFAULT_DATE_FORMATS if isinstance(value, t))
            value = to_excel(value)
        # Typed writes only: worksheet.write() would turn text starting with "=" into a formula.
        if value is None or (isinstance(value, str) and value == ""):
            write, value, read = ws.write_blank, None, None
        elif isinstance(value, str):
            if len(value) > MAX_TEXT // 2 and _utf16_len(value) > MAX_TEXT:
                raise ValueError(f"{self.name}!{get_column_letter(col)}{row}: {_utf16_len(value)} characters, "
                                 f"more than a cell holds ({MAX_TEXT})")
            write, read = ws.write_string, _text_read_back(value)
        elif isinstance(value, (bool, np.bool_)):
            write, value = ws.write_boolean, bool(value)
            read = value
        elif isinstance(value, (numbers.Real, decimal.Decimal)):
            write, value = ws.write_number, _number(value)
            read = _number_read_back(value, number_format)
        else:
            raise TypeError(f"{self.name}!{get_column_letter(col)}{row}: cannot write {type(value).__name__}")
        fmt = self.book.cell_format(font or cell_font(), align, border, number_format)
        if merge_to and merge_to != (row, col):
            # A bordered range: every member cell blank in the same format (XlsxWriter
            # pads the range), since Excel draws a merged range's borders from its
            # members. Otherwise the members stay unwritten (a blank cell without a format
            # is not stored): what they would hold is never shown, and the guide lines
            # under a table span hundreds of them.
            ws.merge_range(r, c, merge_to[0] - 1, merge_to[1] - 1, None, fmt if border else None)
        write(r, c, value, fmt)
        if read is None:
            self.values.pop((row, col), None)
        else:
            self.values[(row, col)] = read

    def column_width(self, col, width):
        # In pixels (7 per character of Times/Calibri 11's maximum digit width), so that
        # the stored width is the one asked for (to 1/7 of a character): set_column()
        # would add Excel's cell padding to it.
        self.ws.set_column_pixels(col - 1, col - 1, int(width * 7))

    def row_height(self, row, height):
        self.ws.set_row(row - 1, height)

    def freeze(self, row, col):
        self.ws.freeze_panes(row - 1, col - 1)

    def print_title_rows(self, first, last):
        self.ws.repeat_rows(first - 1, last - 1)

    def page(self, orientation="landscape", paper="A4", fit_width=1, fit_height=0):
        ws = self.ws
        if orientation == "landscape":
            ws.set_landscape()
        elif orientation == "portrait":
            ws.set_portrait()
        else:
            raise ValueError(f"orientation {orientation!r}: landscape or portrait")
        ws.set_paper(PAPER_SIZES[paper])
        ws.fit_to_pages(fit_width, fit_height)
        ws.set_margins(**PAGE_MARGINS)
        ws.set_header("", {"margin": HEADER_FOOTER_MARGIN})
        ws.set_footer("", {"margin": HEADER_FOOTER_MARGIN})

    def auto_filter(self, first_row, first_col, last_row, last_col):
        self.ws.autofilter(first_row - 1, first_col - 1, last_row - 1, last_col - 1)


class XlsxWriterBook(BookWriter):
    """A workbook written with XlsxWriter, in memory. One cell format per distinct
    (font, alignment, border, number format).

    :attr:`values`: ``{sheet name: {(row, column): value}}`` of the non-empty cells
    written, each as openpyxl reads it back from the file (reports.publish.recorded_values
    turns them into the compared values); a merged range has its value in its first cell
    only."""

    def __init__(self):
        self._buffer = io.BytesIO()
        # Only typed writes are used; the options guard against worksheet.write() anyway.
        self.wb = xlsxwriter.Workbook(self._buffer, {"in_memory": True, "strings_to_formulas": False,
                                                     "strings_to_urls": False})
        self._formats: dict[tuple, tuple] = {}
        self._properties: dict[str, Any] = {}
        self._bytes: bytes | None = None
        self.values: dict[str, dict[tuple[int, int], Any]] = {}

    def add_sheet(self, name):
        ws = self.wb.add_worksheet(name)
        return XlsxWriterSheet(self, ws, self.values.setdefault(name, {}))

    def cell_format(self, font: Font, align: Alignment | None, border: bool, number_format: str | None):
        """The workbook's format for these (created once; looked up by the identity of
        the shared font and alignment objects, which the cache keeps alive)."""
        key = (id(font), id(align), border, number_format)
        done = self._formats.get(key)
        if done is None:
            done = self._formats[key] = (self.wb.add_format(_format_properties(font, align, border, number_format)),
                                         font, align)
        return done[0]

    def set_properties(self, *, creator, title=None):
        self._properties = {"author": creator, **({"title": title} if title is not None else {})}

    def to_bytes(self, stamp):
        """Closes the workbook: nothing can be written after."""
        if self._bytes is None:
            self._stamp = stamp
            self.wb.set_properties({**self._properties, "created": stamp})
            self.wb.close()
            self._bytes = self._buffer.getvalue()
        elif stamp != self._stamp:
            raise ValueError("the workbook was closed with another stamp")
        return self._bytes
