"""Cells and files of the workbooks the reports write (openpyxl), fast and
deterministic: fonts and alignments shared, a cell styled by lookup (:func:`put_cell`),
the zip written with fixed times (:func:`deterministic_bytes`: equal content → equal
bytes).
"""
from __future__ import annotations

import copy
import datetime as dt
import functools
import io
import re
import weakref
import zipfile
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.writer.excel import ExcelWriter

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
