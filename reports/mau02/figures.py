"""Each figure of the narrative: its value read from the total row of the tables, its
comparison with the previous period and the same period of the previous year (column for
column on the 2025 forms, through :data:`~reports.mau02.catalogue.OLD_EQUIVALENTS` on the
older ones), the reason of an empty cell, and the sentence written with the numbers the
Vietnamese way.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from reports.formdef import TOTAL_ROW_ID
from reports.mau02.catalogue import (
    FORM_COLUMNS,
    KNOWN_GAPS,
    MINUS,
    NA_TEXT,
    OLD_EQUIVALENTS,
    PROTECTION_CODE,
    PROTECTION_FIELDS,
    PROTECTION_SOURCE,
    TT06_VERSION,
)
from reports.mau02.outline import Fig
from reports.mau02.records import Figure
from reports.narrative import format_vn

_NO_PROTECTION_TABLE = "không có số liệu bảo vệ người tố cáo từ " + PROTECTION_SOURCE
_TABLE_COLUMNS = {**FORM_COLUMNS, PROTECTION_CODE: len(PROTECTION_FIELDS)}
# Old form codes a comparison dict may hold (keys of the TT 01/2024 set).
_OLD_ONLY_CODES = {"02/TCD", "01/XLD", "03/XLD", "04/XLD", "01/KQGQ", "02/KQGQ", "03/KQGQ", "04/KQGQ"}


def _no_table(code: str) -> str:
    return _NO_PROTECTION_TABLE if code == PROTECTION_CODE else f"chưa có biểu {code}"


def _plain(value: Any) -> int | float | None:
    """A table cell as a Python number; None for an empty cell (NA, None, NaN)."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else round(float(value), 6)
    raise TypeError(f"not a number cell: {value!r}")


def _decimals(value: float, most: int = 3) -> int:
    for d in range(most + 1):
        if abs(round(value, d) - value) < 1e-9:
            return d
    return most


def format_value(value: int | float) -> str:
    """A figure the Vietnamese way: 1234 → "1.234", 12.5 → "12,5"; decimal amounts (tiền,
    đất) keep up to three decimals, without trailing zeros."""
    if isinstance(value, int):
        return format_vn(value)
    v = round(float(value), 3)
    return format_vn(v, _decimals(v))


def _format_share(value: float) -> str:
    return f"{format_vn(value, 1)}%"


def _change(cur: int | float, old: int | float, unit: str, share: bool, which: str) -> str:
    """"tăng 12 lượt (+1,0%) so với kỳ trước" / "giảm 2,5 điểm phần trăm so với …"."""
    where = f"so với {which}"
    if share:
        diff = round(cur - old, 6)
        if format_vn(abs(diff), 1) in ("0,0", "0"):
            return f"không thay đổi {where}"
        word = "tăng" if diff > 0 else "giảm"
        return f"{word} {format_vn(abs(diff), 1)} điểm phần trăm {where}"
    diff = cur - old
    diff = round(diff, 6) if isinstance(diff, float) else diff
    if diff == 0:
        return f"không thay đổi {where}"
    word = "tăng" if diff > 0 else "giảm"
    amount = f"{format_value(abs(diff))} {unit}"
    if old == 0:
        return f"{word} {amount} {where} ({which} bằng 0)"
    pct = diff / old * 100
    sign = "+" if diff > 0 else MINUS
    return f"{word} {amount} ({sign}{format_vn(abs(pct), 1)}%) {where}"


def _lower_first(text: str) -> str:
    text = " ".join(str(text).split()).rstrip(".")
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def ms_columns(table: pd.DataFrame) -> set[int]:
    """The MS-number columns of a table (the others are label, kind, note)."""
    return {int(c) for c in table.columns if isinstance(c, (int, np.integer)) and not isinstance(c, bool)}


def is_tt06(code: str, table: pd.DataFrame) -> bool:
    """Whether a table is on the 2025 form `code`: its ``attrs`` say so (version /
    regime), else it has exactly the form's MS columns 1..n."""
    tag = table.attrs.get("version") or table.attrs.get("regime")
    if tag:
        return str(tag) == TT06_VERSION
    n = _TABLE_COLUMNS.get(code)
    return n is not None and ms_columns(table) == set(range(1, n + 1))


def _total(table: pd.DataFrame, ms: int) -> int | float | None:
    """The total row's cell of column `ms`; None when empty or when the table lacks the
    column or the total row (a comparison table of an old form may be partial)."""
    if ms not in table.columns or TOTAL_ROW_ID not in table.index:
        return None
    return _plain(table.at[TOTAL_ROW_ID, ms])


def _terms(spec: Fig) -> tuple[int, ...]:
    return spec.ms if isinstance(spec.ms, tuple) else (spec.ms,)


def _combine(spec: Fig, values: list[int | float]) -> int | float | None:
    """The figure from its cells: the cell, their sum, or a percentage (None when the
    denominator is 0)."""
    if spec.kind == "share":
        num, den = values
        return None if den == 0 else round(num / den * 100, 6)
    total = sum(values)
    return round(total, 6) if isinstance(total, float) else total


@dataclass
class Side:
    """One comparison period's tables."""

    name: str                                   # "kỳ trước" | "cùng kỳ năm trước"
    tables: Mapping[str, pd.DataFrame] | None

    def has_old_forms(self) -> bool:
        if not self.tables:
            return False
        return any(code in _OLD_ONLY_CODES or (code in FORM_COLUMNS and not is_tt06(code, t))
                   for code, t in self.tables.items())

    def value(self, spec: Fig) -> tuple[int | float | None, str | None, str | None]:
        """(value, why not, source)."""
        if self.tables is None:
            return None, "chưa có số liệu", None
        table = self.tables.get(spec.form)
        terms = _terms(spec)
        if table is not None and is_tt06(spec.form, table):
            cells = [_total(table, ms) for ms in terms]
            source = f"{spec.form} cột {_terms_text(spec)}"
            if any(c is None for c in cells):
                return None, "chưa có số liệu", source
            value = _combine(spec, cells)
            if value is None:
                return None, "mẫu số của tỷ lệ bằng 0", source
            return value, None, source
        if not self.has_old_forms():
            return None, _no_table(spec.form), None
        # The comparison period is on the older forms: only columns with the same meaning.
        mapping = OLD_EQUIVALENTS.get(spec.form, {})
        if not all(ms in mapping for ms in terms):
            return None, _NO_EQUIVALENT, None
        old_codes = {mapping[ms][0] for ms in terms}
        if len(old_codes) != 1:
            return None, _NO_EQUIVALENT, None
        old_code = old_codes.pop()
        old = self.tables.get(old_code)
        if old is None or is_tt06(old_code, old):
            return None, f"chưa có biểu {old_code} (mẫu cũ)", None
        cells = []
        parts = []
        for ms in terms:
            olds = mapping[ms][1]
            vals = [_total(old, m) for m in olds]
            if any(v is None for v in vals):
                return None, "chưa có số liệu", None
            cells.append(sum(vals))
            parts.append("+".join(str(m) for m in olds))
        joiner = "/" if spec.kind == "share" else "+"
        source = f"{old_code} cột {joiner.join(parts)} (biểu trước Thông tư số 06/2025/TT-TTCP)"
        value = _combine(spec, cells)
        if value is None:
            return None, "mẫu số của tỷ lệ bằng 0", source
        return value, None, source


_NO_EQUIVALENT = "kỳ đó báo cáo theo biểu trước Thông tư số 06/2025/TT-TTCP, không có chỉ tiêu tương đương"


def _terms_text(spec: Fig) -> str:
    terms = _terms(spec)
    return "/".join(map(str, terms)) if spec.kind == "share" else "+".join(map(str, terms))


class Reasons:
    def __init__(self, notes: Mapping[str, str] | None):
        self.notes = dict(notes or {})

    def __call__(self, form: str, ms: int) -> str:
        for key in (f"{form}:{ms}", form):
            if self.notes.get(key):
                return _lower_first(self.notes[key])
        for key in (f"{form}:{ms}", form):
            if key in KNOWN_GAPS:
                return KNOWN_GAPS[key]
        return f"biểu {form} để trống cột ({ms})"


def figure(spec: Fig, heading: str, group: str, tables: Mapping[str, pd.DataFrame], prev: Side,
           last: Side, reasons: Reasons) -> Figure:
    table = tables.get(spec.form)
    terms = _terms(spec)
    value: int | float | None = None
    na: str | None = None
    zero_den: str | None = None
    if table is None:
        na = _no_table(spec.form)
    else:
        cells = [_total(table, ms) for ms in terms]
        missing = [ms for ms, c in zip(terms, cells) if c is None]
        if missing:
            na = reasons(spec.form, missing[0])
        else:
            value = _combine(spec, cells)
            if value is None:
                zero_den = f"cột {terms[1]} Biểu {spec.form} bằng 0"
    pv, pnote, psrc = prev.value(spec)
    lv, lnote, lsrc = last.value(spec)
    share = spec.kind == "share"
    if zero_den:
        # Not an empty cell: the ratio has no value, and saying "chưa có số liệu" would
        # suggest data is missing.
        text = f"{spec.label}: không tính được ({zero_den})."
        na = zero_den
    elif value is None:
        text = f"{spec.label}: {NA_TEXT} ({na})."
    else:
        shown = _format_share(value) if share else f"{format_value(value)} {spec.unit}"
        parts = [f"{spec.label}: {shown}"]
        for side, v, note in ((prev, pv, pnote), (last, lv, lnote)):
            if side.tables is None:
                continue            # no such comparison for this report (said once, under the title)
            if v is None:
                parts.append(f"chưa so sánh được với {side.name} ({note})")
            else:
                parts.append(_change(value, v, spec.unit, share, side.name))
        text = "; ".join(parts) + "."
    return Figure(heading=heading, text_label=spec.label, form=spec.form,
                  ms=spec.ms, value=value, previous=pv, same_period_last_year=lv,
                  kind=spec.kind, unit=spec.unit, group=group, text=f"{spec.bullet} {text}", na_reason=na,
                  previous_note=pnote, last_year_note=lnote, previous_source=psrc,
                  last_year_source=lsrc)
