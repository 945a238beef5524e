"""Generic workbooks of data-quality tables (quarantine, flags, completeness, outliers…).

``write_table_workbook(path, title_lines, sheets, meta)`` writes one sheet per
``(sheet name, DataFrame, {column: Vietnamese label})``: the title lines at the top
(bold Times New Roman, the first at 14 pt, the others at 12 pt), a blank line, then a
bordered table whose columns are those of the mapping, in its order, under their
labels; the panes are frozen below the header, the header has an auto filter, the
column widths fit their content (capped), dates show as dd/mm/yyyy, datetimes as
dd/mm/yyyy hh:mm, integers as #,##0. A DataFrame without rows gives the header and a
line "Không có" merged across. A last sheet "Thông tin" lists `meta`.

Written with openpyxl (reports.xlsx.OpenpyxlBook) through the same sheet-writing
interface as the reports (reports/render.py, whose helpers this reuses): the write is atomic
and the same inputs give the same bytes (the package's timestamps come from
``meta['generated_at']``, else ``meta['data_cutoff']``, else a fixed date); the sha256
of the file is returned.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from typing import Any, Mapping, Sequence

import pandas as pd

from reports.render import INFO_SHEET, META_LABELS, TableWriter, _meta_value, as_datetime, info_sheet, save_workbook
from reports.xlsx import OpenpyxlBook

FIXED_STAMP = dt.datetime(2000, 1, 1)
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(name: str, taken: set[str]) -> str:
    base = _BAD_SHEET_CHARS.sub("-", str(name)).strip("'") or "Bảng"
    base = base[:31]
    candidate, i = base, 2
    while candidate.casefold() in taken:
        suffix = f" ({i})"
        candidate = base[: 31 - len(suffix)] + suffix
        i += 1
    taken.add(candidate.casefold())
    return candidate


def _records(df: pd.DataFrame, columns: list[str]) -> list[list[Any]]:
    """Row values of `df[columns]` as Python objects (dates stay dates, NaN/NA → None)."""
    sub = df[columns]
    out = []
    for values in sub.itertuples(index=False, name=None):
        row = []
        for v in values:
            if isinstance(v, pd.Timestamp):
                v = v.to_pydatetime()
            row.append(v)
        out.append(row)
    return out


def write_table_workbook(path: str | os.PathLike, title_lines: list[str],
                         sheets: Sequence[tuple[str, pd.DataFrame, Mapping[str, str]]],
                         meta: Mapping[str, Any] | None = None) -> str:
    """Write the workbook (see the module docstring); return its sha256 (hex).

    `sheets`: ``(sheet name, frame, {frame column: label})``; columns not in the
    mapping are left out, a mapped column missing from the frame is an error. Sheet
    names are made valid for Excel (31 characters, no ``[]:*?/\\``) and unique.
    """
    meta = dict(meta or {})
    if not sheets:
        raise ValueError("a workbook needs at least one sheet")
    book = OpenpyxlBook()
    taken = {INFO_SHEET.casefold()}
    for name, frame, labels in sheets:
        labels = dict(labels)
        if not labels:
            raise ValueError(f"sheet {name!r}: no columns to show")
        missing = [c for c in labels if c not in frame.columns]
        if missing:
            raise KeyError(f"sheet {name!r}: the frame lacks columns {missing}")
        ws = book.add_sheet(_sheet_name(name, taken))
        tw = TableWriter(ws, min_width=8, max_width=60)
        r = 1
        for i, line in enumerate(title_lines):
            r = tw.title(r, str(line), size=14 if i == 0 else 12)
        if title_lines:
            r += 1
        columns = list(labels)
        header_row, next_row = tw.table(r, [str(labels[c]) for c in columns], _records(frame, columns))
        ws.freeze(header_row + 1, 1)
        ws.auto_filter(header_row, 1, max(next_row - 1, header_row + 1), len(columns))
        ws.print_title_rows(header_row, header_row)
        tw.fit_widths()
        ws.page("landscape", "A4")
    items = [(META_LABELS.get(str(k), str(k)), _meta_value(v)) for k, v in meta.items()]
    info_sheet(book, items, title="THÔNG TIN")
    book.set_properties(creator="tcd-reporting", title=str(title_lines[0]) if title_lines else None)
    stamp = as_datetime(meta.get("generated_at")) or as_datetime(meta.get("data_cutoff")) or FIXED_STAMP
    return save_workbook(book, path, stamp)
